"""What the contract servers (tests/*_api_server.py) share: a state with its control token, request log
and per-second limit, a request handler with the JSON plumbing, the /_control endpoints and the
WebSocket handshake, and `serve`, their main.

The servers run as scripts from tests/ (tests/processes.py `start_listening`), so they import this
module as `contract_server`; it needs nothing beyond the standard library.

Control (every call needs the X-Control-Token given on the command line, 403 otherwise):
GET /_control/log answers `State.snapshot()`; POST /_control/reset calls `State.reset(**body)`;
POST /_control sets the body's names on the state; a server adds endpoints in `Handler.control`.
"""

import argparse
import base64
import hashlib
import json
import secrets
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WS_CLOSE_NORMAL = b"\x88\x02\x03\xe8"  # a close frame, status 1000


class State:
    """A server's state: reset() sets what a test may change, under `lock`."""

    per_second = 50  # requests a second before answering 429

    def __init__(self, control_token: str):
        self.control_token = control_token
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.throttle_next = 0  # the next n requests are throttled
        self.fail_next = 0  # the next n requests (not throttled) fail
        self.recent: deque = deque()  # when the requests of the last second came
        self.log: list[dict] = []

    def update(self, **values):
        for name, value in values.items():
            setattr(self, name, deque(value) if name == "recent" else value)

    def snapshot(self) -> dict:
        return {"requests": self.log}

    def admit(self, entry: dict) -> tuple[bool, bool]:
        """Log a request (entry["at"] is when it came) and say whether to throttle it (past per_second
        within a second, or injected) and whether to fail it (injected, when not throttled)."""
        now = entry["at"]
        with self.lock:
            self.log.append(entry)
            while self.recent and self.recent[0] <= now - 1:
                self.recent.popleft()
            limited = len(self.recent) >= self.per_second or self.throttle_next > 0
            self.throttle_next = max(0, self.throttle_next - 1)
            failing = not limited and self.fail_next > 0
            if failing:
                self.fail_next -= 1
            self.recent.append(now)
        return limited, failing


class Handler(BaseHTTPRequestHandler):
    state: State
    protocol_version = "HTTP/1.1"
    entry: dict | None = None  # the log entry of the request being answered; its status is recorded

    def log_message(self, *args):
        pass

    def _send(self, status: int, raw: bytes, content_type: str | None, headers: dict | None = None):
        if self.entry is not None:
            self.entry["status"] = status
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def _json(self, status: int, body=None, headers: dict | None = None):
        """Answer `body` as JSON; None answers an empty body."""
        if body is None:
            return self._send(status, b"", None, headers)
        return self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _body(self):
        """The request's JSON body ({} when empty), or None when it is not JSON."""
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return None

    # --- control ---------------------------------------------------------------------------------
    def _control(self, method: str, path: str):
        self.entry = None
        if not secrets.compare_digest(self.headers.get("X-Control-Token", ""), self.state.control_token):
            return self._json(403, {"error": "forbidden"})
        if path == "/_control/log":
            with self.state.lock:
                return self._json(200, self.state.snapshot())
        return self._json(200, self.control(path, self._body() or {}))

    def control(self, path: str, body: dict) -> dict:
        """A POST to /_control…: reset, or set names on the state. A server overrides this for more."""
        with self.state.lock:
            if path == "/_control/reset":
                self.state.reset(**body)
            else:
                self.state.update(**body)
        return {"ok": True}

    # --- WebSocket: the handshake, and closing at once -------------------------------------------
    def _accept_websocket(self):
        # RFC 6455's handshake digest, not a security use of SHA-1.
        accept = base64.b64encode(hashlib.sha1(  # noqa: S324
            (self.headers["Sec-WebSocket-Key"] + WS_GUID).encode()).digest())
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.end_headers()
        self.wfile.flush()

    def _close_websocket(self):
        self.wfile.write(WS_CLOSE_NORMAL)
        self.wfile.flush()
        self.close_connection = True


def serve(state_class: type[State], handler_class: type[Handler], *, also=None):
    """A server's main: `--control-token SECRET`, a threading HTTP server on a free loopback port,
    `also(state, handler, server)` for what else it runs, then "LISTENING <port>" and serve."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--control-token", required=True)
    args = parser.parse_args()
    state = state_class(args.control_token)
    handler = type("BoundHandler", (handler_class,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if also is not None:
        also(state, handler, server)
    print(f"LISTENING {server.server_port}", flush=True)
    server.serve_forever()
