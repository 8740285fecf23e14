"""The SignalWire room page in headless Chromium with the real @signalwire/js (the pinned npm package
the portal serves): the SDK reads its socket host from the room token the portal minted, connects,
and sends that token in its first message. The contract server stands in for SignalWire's socket
and records what arrived; the browser's own network events are checked too."""

import json
import re

import pytest

from meetings.models import ProviderRoom

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory

pytestmark = pytest.mark.browser
PROJECT = "5f0c7c50-7b3a-4a3e-9d1e-3f1b2a9c0d11"
TOKEN = "PTbrowser-api-token"


def test_the_room_page_connects_with_the_token_minted_for_this_person(page, live_server, acme, signalwire_api,
                                                                       settings):
    settings.SIGNALWIRE_BASE_URL = signalwire_api.url
    socket_host = signalwire_api.url.replace("http://", "ws://")
    signalwire_api.reset(project_id=PROJECT, api_token=TOKEN, channel_host=socket_host)
    account = ProviderAccountFactory(organization=acme, provider="signalwire", jwt_secret="", join_mode="video",
                                     space_host="acme.signalwire.com", project_id=PROJECT, api_token=TOKEN)
    meeting = MeetingFactory(organization=acme, provider="signalwire", provider_account=account, title="SW check")
    ada = InvitationFactory(meeting=meeting, display_name="Ada", role="moderator")
    sockets, sent_frames, requests = [], [], []
    page.on("websocket", lambda ws: (sockets.append(ws.url), ws.on("framesent", lambda p: sent_frames.append(p))))
    page.on("request", lambda request: requests.append(request.url))

    page.goto(f"{live_server.url}/j/{ada.token}")
    with page.expect_websocket() as opened:
        page.click("#join-button")
    opened.value.wait_for_event("close")  # the stand-in closes after the SDK's first message
    page.wait_for_url(re.compile(r".*/room/$"))
    minted = page.get_attribute("#signalwire-room", "data-token")

    assert sockets and sockets[0].rstrip("/") == socket_host
    arrived = signalwire_api.state()["sockets"][0]  # the SDK retries after the close; the first counts
    connect = json.loads(arrived["message"])
    assert connect["method"] == "signalwire.connect"
    assert connect["params"]["authentication"]["jwt_token"] == minted
    assert any(json.loads(frame)["params"]["authentication"]["jwt_token"] == minted for frame in sent_frames
               if isinstance(frame, str) and "signalwire.connect" in frame)
    body = signalwire_api.requests("/api/video/room_tokens", "POST")[-1]["body"]
    assert body["meta"] == {"peer_id": ada.peer_id} and "room.member.remove" in body["permissions"]
    assert ProviderRoom.objects.filter(meeting=meeting).count() == 1
    # The SDK came from the portal, and nothing the browser fetched carried the account's credentials.
    assert any(url.endswith("/static/vendor/signalwire/index.umd.js") for url in requests)
    assert not [url for url in requests if TOKEN in url or "signalwire.com" in url]
    assert TOKEN not in page.content()
