"""A local server that follows Gcore's API contracts (seed 004 and providers.md), run as its own
process. Streaming API: APIKey auth, the current paged videos search and the legacy one, video
metadata (durations in milliseconds), peer statistics over a from/to window, error bodies, and a
4-requests-per-second limit answered with 429. Meet server API: closePeer, closeRoom, numberPeers
and durationOfBroadcast on rooms the test declares. Tests load data and inject failures through
/_control (reset with /_control/reset), and read its request log at /_control/log. POST
/_control/videos {"room", "count", "first_id"} adds `count` recordings of a room with every field the
contract lists (a bench's 10,000 without sending them), and POST /_control/counts answers how many
requests, and video lookups, came so far without the whole log.

    python tests/gcore_api_server.py --control-token SECRET     # prints "LISTENING <port>"
"""

import secrets
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import contract_server


class State(contract_server.State):
    per_second = 4

    def reset(self, api_token=""):
        super().reset()
        self.api_token = api_token
        self.videos: list[dict] = []
        self.video_index: dict[str, dict] = {}
        self.peers: dict[str, list] = {}
        self.legacy_only = False
        self.rooms: dict[str, list] = {}
        self.retry_after = None

    def update(self, **values):
        super().update(**values)
        if "videos" in values:
            self.video_index = {str(v["id"]): v for v in self.videos}

    def add_videos(self, room: str, count: int, first_id: int = 1):
        """`count` recordings of `room`, an hour apart and an hour long each, as GET /streaming/videos/{id}
        answers them (providers.md's field list; durations in milliseconds)."""
        for number in range(first_id, first_id + count):
            started = datetime.fromtimestamp(1_700_000_000 + number * 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            cdn = f"https://demo-public.gvideo.io/videos/2675_{number:012d}"
            video = {"id": number, "name": room, "slug": f"{room}-{number}", "status": "ready",
                     "duration": 3_600_000, "hls_url": f"{cdn}/master.m3u8", "dash_url": f"{cdn}/master.mpd",
                     "iframe_url": f"https://player.gvideo.co/videos/2675_{number:012d}",
                     "converted_videos": [{"mp4_url": f"{cdn}/qid{q}v1_h264_{h}p.mp4", "width": w, "height": h,
                                           "size": 90_000_000 * q, "status": "complete"}
                                          for q, (w, h) in enumerate(((640, 360), (1280, 720), (1920, 1080)), 1)],
                     "origin_url": f"https://s-ed1.cloud.gcore.lu/2675-origin/{number}.mp4",
                     "recording_started_at": started, "created_at": started, "updated_at": started}
            self.videos.append(video)
            self.video_index[str(number)] = video


class Handler(contract_server.Handler):
    state: State

    def do_POST(self):
        path = urlsplit(self.path).path
        if path.startswith("/rooms/"):
            return self.meet_server("POST", path, self._body() or {})
        if path in ("/_control", "/_control/reset", "/_control/videos", "/_control/counts"):
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

    def control(self, path: str, body: dict) -> dict:
        state = self.state
        if path == "/_control/videos":
            with state.lock:
                state.add_videos(body["room"], int(body["count"]), int(body.get("first_id", 1)))
                return {"videos": len(state.videos)}
        if path == "/_control/counts":
            with state.lock:
                looked_up = sum(1 for e in state.log if e.get("path", "").startswith("/streaming/videos/")
                                and e["path"] != "/streaming/videos/search")
                return {"requests": len(state.log), "video_lookups": looked_up}
        return super().control(path, body)

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
            video = state.video_index.get(path.rsplit("/", 1)[1])
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
