"""A local stand-in for a self-hosted Jitsi Meet domain, for the browser tests.

No npm package ships Jitsi's real external_api.js (`@jitsi/react-sdk` loads it from the domain at run
time; `lib-jitsi-meet` on npm holds the low-level library only), so external_api.js here is a
STAND-IN: it implements the documented IFrame API constructor minimally (`new JitsiMeetExternalAPI(
domain, {roomName, jwt, parentNode, noSSL, ...})` makes an iframe of `<domain>/<roomName>?jwt=...`,
`on()`, `executeCommand()`, `dispose()`), and the room page it frames answers with a few of Jitsi's
events. Every request is recorded, so tests see what arrived: the room name and the JWT.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
ROOM_PAGE = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Jitsi stand-in room</title></head>
<body><p id="standin-room">Stand-in of a Jitsi room</p>
<button id="standin-hangup" type="button">Hang up</button>
<script src="/standin_room.js"></script></body></html>
"""


class JitsiStandIn:
    def __init__(self):
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                with stand_in._lock:
                    stand_in.requests.append({"path": parts.path, "query": parse_qs(parts.query),
                                              "referer": self.headers.get("Referer", "")})
                if parts.path in ("/external_api.js", "/standin_room.js"):
                    self._send(200, "application/javascript", (HERE / parts.path.lstrip("/")).read_bytes())
                elif parts.path == "/report":
                    self._send(204, "text/plain", b"")
                elif parts.path.count("/") == 1 and len(parts.path) > 1:
                    self._send(200, "text/html; charset=utf-8", ROOM_PAGE)
                else:
                    self._send(404, "text/plain", b"not here")

            def _send(self, status, content_type, body):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self):
        with self._lock:
            self.requests.clear()

    def arrived(self, path: str) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["path"] == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
