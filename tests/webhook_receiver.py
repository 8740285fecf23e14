"""A real HTTP receiver of the portal's outgoing webhooks, for tests. It checks every delivery's
signature the way the README tells integrators to (stdlib hmac and hashlib only, written from the
documented scheme, not from the portal's code) and records what came."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLAY_WINDOW_SECONDS = 5 * 60  # documented in the README


def verify(secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    """The README's check: `Portal-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > REPLAY_WINDOW_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class Receiver:
    """Serves on 127.0.0.1 in a thread. Each path is one endpoint (`url(name)`); `secrets[name]` is the
    secret it verifies with; `answers[name]` lists statuses to answer in turn (then 200)."""

    def __init__(self):
        self.secrets: dict[str, str] = {}
        self.answers: dict[str, list[int]] = {}
        self.received: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                name = self.path.strip("/")
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                secret = receiver.secrets.get(name, "")
                header = self.headers.get("Portal-Signature", "")
                with receiver.lock:
                    pending = receiver.answers.get(name) or []
                    status = pending.pop(0) if pending else 200
                    receiver.received.append({
                        "endpoint": name, "body": body, "header": header, "status": status,
                        "verified": bool(secret) and verify(secret, header, body),
                        "event": json.loads(body) if body else None,
                        "event_id_header": self.headers.get("Portal-Event-Id"),
                    })
                reply = json.dumps({"ok": status < 300, "note": "from the test receiver"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def of(self, name: str) -> list[dict]:
        with self.lock:
            return [entry for entry in self.received if entry["endpoint"] == name]

    def types(self, name: str) -> list[str]:
        return [entry["event"]["type"] for entry in self.of(name)]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
