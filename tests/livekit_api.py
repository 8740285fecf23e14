"""Start and drive the LiveKit stand-in (tests/livekit_api_server.py), and sign webhooks as LiveKit does."""

import base64
import hashlib
import json
import secrets

import pytest
import requests
from livekit import api as lk

from .processes import start_listening


class LiveKitApi:
    def __init__(self):
        self.control_token = secrets.token_urlsafe(16)
        self.process, port = start_listening("livekit_api_server.py", f"--control-token={self.control_token}")
        self.url = f"http://127.0.0.1:{port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def _post(self, path, body):
        requests.post(self.url + path, json=body, headers={"X-Control-Token": self.control_token},
                      timeout=5).raise_for_status()

    def reset(self, **state):
        self._post("/_control/reset", state)

    def set(self, **state):
        self._post("/_control", state)

    def state(self) -> dict:
        return requests.get(f"{self.url}/_control/log", headers={"X-Control-Token": self.control_token},
                            timeout=5).json()

    def requests(self, method: str | None = None) -> list[dict]:
        return [r for r in self.state()["requests"] if method is None or r["method"] == method]

    def busiest_second(self) -> int:
        times = sorted(entry["at"] for entry in self.state()["requests"])
        return max((sum(1 for t in times if start <= t < start + 1) for start in times), default=0)


@pytest.fixture(scope="session")
def livekit_api():
    """A local stand-in for a LiveKit server's RoomService and signalling socket."""
    api = LiveKitApi()
    yield api
    api.stop()


def signed_webhook(event: dict, api_key: str, api_secret: str, *, body: str | None = None) -> tuple[str, str]:
    """(body, Authorization header value) as LiveKit sends them: a raw JWT (no Bearer) signed with the
    key's secret whose sha256 claim is the base64 SHA-256 of the body."""
    raw = body if body is not None else json.dumps(event)
    digest = base64.b64encode(hashlib.sha256(raw.encode()).digest()).decode()
    token = lk.AccessToken(api_key, api_secret).with_sha256(digest).to_jwt()
    return raw, token
