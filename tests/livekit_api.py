"""Start and drive the LiveKit stand-in (tests/livekit_api_server.py), and sign webhooks as LiveKit does."""

import base64
import hashlib
import json

import pytest
from livekit import api as lk

from .processes import ContractServerProcess


class LiveKitApi(ContractServerProcess):
    script = "livekit_api_server.py"

    def requests(self, method: str | None = None) -> list[dict]:
        """The RoomService requests, or those of one Twirp method ("CreateRoom")."""
        return super().requests(method=method)


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
