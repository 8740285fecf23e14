"""A local server that follows Gcore's API contracts (seed 004 and providers.md), run as its own
process. Streaming API: APIKey auth, the current paged videos search and the legacy one, video
metadata (durations in milliseconds), peer statistics over a from/to window, error bodies, and a
4-requests-per-second limit answered with 429. Meet server API: closePeer, closeRoom, numberPeers
and durationOfBroadcast on rooms the test declares. Tests load data and inject failures through
/_control (reset with /_control/reset), and read its request log at /_control/log.

    python tests/gcore_api_server.py --control-token SECRET     # prints "LISTENING <port>"
"""

import secrets
import time
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import contract_server


class State(contract_server.State):
    per_second = 4

    def reset(self, api_token=""):
        super().reset()
        self.api_token = api_token
        self.videos: list[dict] = []
        self.peers: dict[str, list] = {}
        self.legacy_only = False
        self.rooms: dict[str, list] = {}
        self.retry_after = None


class Handler(contract_server.Handler):
    state: State

    def do_POST(self):
        path = urlsplit(self.path).path
        if path.startswith("/rooms/"):
            return self.meet_server("POST", path, self._body() or {})
        if path in ("/_control", "/_control/reset"):
            return self._control("POST", path)
        return self._json(403, {"error": "forbidden"})

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/_control/log":
            return self._control("GET", url.path)
        if url.path.startswith("/rooms/"):
            return self.meet_server("GET", url.path, {})
        state = self.state
        self.entry = {"at": time.time(), "path": url.path, "query": query,
                      "authorization": self.headers.get("Authorization", "")}
        limited, failing = state.admit(self.entry)
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "apikey" or not secrets.compare_digest(token, state.api_token):
            return self._json(401, {"error": "Invalid API token"})
        if limited:
            headers = {"Retry-After": str(state.retry_after)} if state.retry_after else {}
            return self._json(429, {"error": "Too many requests, try later"}, headers)
        if failing:
            return self._json(502, {"error": "Bad gateway"})
        return self.route(url.path, query)

    def meet_server(self, method, path, body):
        """The Meet server API of one region: rooms and who is in them (state.rooms)."""
        state = self.state
        with state.lock:
            self.entry = {"at": time.time(), "method": method, "path": path, "body": body,
                          "authorization": self.headers.get("Authorization", "")}
            state.log.append(self.entry)
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "apikey" or not secrets.compare_digest(token, state.api_token):
            return self._json(403, {"error": "Invalid token"})
        if state.fail_next > 0:
            state.fail_next -= 1
            return self._json(500, {"error": "Server connection error"})
        _, _, room, action = path.split("/", 3)
        peers = state.rooms.get(room)
        if peers is None:  # the seed: a room that does not exist answers 400
            return self._json(400, {"error": "room not found"})
        if action == "closePeer" and method == "POST":
            if body.get("peerId") not in peers:
                return self._json(400, {"error": "peerId not found"})
            peers.remove(body["peerId"])
            return self._json(200, {"result": "ok"})
        if action == "closeRoom":
            del state.rooms[room]
            return self._json(200, {"result": "ok"})
        if action == "numberPeers":
            return self._json(200, len(peers))
        if action == "durationOfBroadcast":
            return self._json(200, 60)
        return self._json(404, {"error": "Not found"})

    def route(self, path, query):
        state = self.state
        if path == "/streaming/videos":
            if state.legacy_only:
                return self._json(404, {"error": "Not found"})
            found = [v for v in state.videos if query.get("search", "") in (v["name"], str(v["id"]), v.get("slug"))]
            page, per_page = int(query.get("page", 1)), int(query.get("per_page", 25))
            return self._json(200, found[(page - 1) * per_page: page * per_page])
        if path == "/streaming/videos/search":
            return self._json(200, [v for v in state.videos if query.get("q", "") in v["name"]])
        if path.startswith("/streaming/videos/"):
            video = next((v for v in state.videos if str(v["id"]) == path.rsplit("/", 1)[1]), None)
            return self._json(200, video) if video else self._json(404, {"error": "Not found"})
        if path in ("/streaming/statistics/peers/summary", "/streaming/statistics/peers"):
            try:
                start, end = _timestamp(query["from"]), _timestamp(query["to"])
                room = query["room_id"]
            except (KeyError, ValueError):
                return self._json(400, {"error": "room_id, from and to are required"})
            sessions = [p for p in state.peers.get(room, []) if start <= p["join_time"] <= end]
            if not sessions:
                return self._json(404, {"error": "No data"})
            if path.endswith("/peers"):
                return self._json(200, {"data": sessions, "errors": []})
            first, last = min(p["join_time"] for p in sessions), max(p["leave_time"] for p in sessions)
            return self._json(200, {"data": {"participants": len({p["person_id"] for p in sessions}),
                                             "start_time": first, "end_time": last, "duration": last - first},
                                    "errors": []})
        return self._json(404, {"error": "Not found"})


def _timestamp(text: str) -> float:
    """The seed's from/to, e.g. 2021-06-21T00:00:00.0Z, as UNIX seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    contract_server.serve(State, Handler)
