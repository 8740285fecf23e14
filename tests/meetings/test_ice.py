"""ICE servers for room pages: configured ones, plus short-lived TURN credentials from a shared secret."""

import base64
import hashlib
import hmac
import time

from meetings.ice import ice_servers_for


def test_no_ice_servers_by_default(settings):
    settings.ICE_SERVERS, settings.TURN_SHARED_SECRET = [], ""

    assert ice_servers_for("peer") == []


def test_turn_credentials_expire_and_verify_with_the_shared_secret(settings):
    settings.ICE_SERVERS = [{"urls": "stun:stun.example.net:3478"}]
    settings.TURN_URLS = ["turn:turn.example.net:3478"]
    settings.TURN_SHARED_SECRET = "s3cret"
    settings.TURN_CREDENTIAL_SECONDS = 600

    stun, turn = ice_servers_for("abc123")

    expiry, peer = turn["username"].split(":")
    assert stun == {"urls": "stun:stun.example.net:3478"} and peer == "abc123"
    assert 0 < int(expiry) - time.time() <= 600
    expected = base64.b64encode(hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected and turn["urls"] == ["turn:turn.example.net:3478"]
