"""A local server that follows Gcore's API contracts (seed 004 and providers.md), run as its own
process. Streaming API: APIKey auth, the current paged videos search and the legacy one, video
metadata (durations in milliseconds), peer statistics over a from/to window, error bodies, and a
4-requests-per-second limit answered with 429. Meet server API: closePeer, closeRoom, numberPeers
and durationOfBroadcast on rooms the test declares. Tests load data and inject failures through
/_control, and read its request log.

    python tests/gcore_api_server.py --control-token SECRET     # prints "LISTENING <port>"
"""

import argparse
import json
import secrets
import threading
import time
from collections import deque
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class State:
    def __init__(self, control_token):
        self.control_token = control_token
        self.lock = threading.Lock()
        self.api_token = ""
        self.videos: list[dict] = []
        self.peers: dict[str, list] = {}
        self.legacy_only = False
        self.fail_next = 0
        self.throttle_next = 0
        self.rooms: dict[str, list] = {}
        self.retry_after = None
        self.recent: deque = deque()
        self.log: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    state: State
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _json(self, status, body, headers=None):
        raw = json.dumps(body).encode()
        if getattr(self, "entry", None) is not None:
            self.entry["status"] = status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        if urlsplit(self.path).path.startswith("/rooms/"):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            return self.meet_server("POST", urlsplit(self.path).path, body)
        if urlsplit(self.path).path != "/_control" or not secrets.compare_digest(
                self.headers.get("X-Control-Token", ""), self.state.control_token):
            return self._json(403, {"error": "forbidden"})
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        with self.state.lock:
            for name, value in body.items():
                setattr(self.state, name, deque(value) if name == "recent" else value)
        self._json(200, {"ok": True})

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/_control/log":
            return self._json(200, self.state.log)
        if url.path.startswith("/rooms/"):
            return self.meet_server("GET", url.path, {})
        now = time.time()
        state = self.state
        with state.lock:
            self.entry = {"at": now, "path": url.path, "query": query,
                          "authorization": self.headers.get("Authorization", "")}
            state.log.append(self.entry)
            while state.recent and state.recent[0] <= now - 1:
                state.recent.popleft()
            limited = len(state.recent) >= 4 or state.throttle_next > 0
            state.throttle_next = max(0, state.throttle_next - 1)
            state.recent.append(now)
            failing = not limited and state.fail_next > 0
            if failing:
                state.fail_next -= 1
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--control-token", required=True)
    args = parser.parse_args()
    state = State(args.control_token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("BoundHandler", (Handler,), {"state": state}))
    print(f"LISTENING {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
