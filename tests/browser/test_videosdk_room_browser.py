"""The VideoSDK room page in headless Chromium with the real @videosdk.live/js-sdk (the pinned npm
package the portal serves).

Where the SDK connects (read from videosdk.js 1.1.1): join() first POSTs
https://<signalingBaseUrl>/infra/v1/meetings/init-config with the token as the bare Authorization
header and {"roomId"} as the body; signalingBaseUrl is an initMeeting option that defaults to
api.videosdk.live (nothing in the token names a host). The answer names the signalling host, and
the SDK then opens a socket.io WebSocket to wss://<that host>/socket.io/ with the token in the
`secret` query parameter. The portal passes VIDEOSDK_SIGNALING_HOST as signalingBaseUrl when it is
set, so here both calls go, over real HTTPS, to the contract server, which checks the token with
the account's secret; nothing is intercepted or stubbed. The stand-in speaks no socket.io beyond
accepting the connection (VideoSDK's media servers are not reachable from here), so the meeting
never reaches "meeting-joined"."""

import re

import jwt
import pytest

from meetings.models import ProviderRoom

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory
from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser
KEY = "0d4f6e9e-browser-videosdk-key"
SECRET = "5f1e" * 16


def test_the_sdk_sends_the_minted_token_to_the_configured_host_and_opens_its_socket_with_it(
        new_context, live_server, acme, videosdk_api, settings):
    settings.VIDEOSDK_API_BASE_URL = videosdk_api.url
    settings.VIDEOSDK_SIGNALING_HOST = videosdk_api.signaling_host
    videosdk_api.reset(api_key=KEY, secret=SECRET)
    account = ProviderAccountFactory(organization=acme, provider="videosdk", name="VideoSDK", jwt_secret="",
                                     api_key=KEY, api_secret=SECRET)
    meeting = MeetingFactory(organization=acme, provider="videosdk", provider_account=account, title="VideoSDK check")
    ada = InvitationFactory(meeting=meeting, display_name="Ada", role="moderator")
    page = new_context(ignore_https_errors=True, viewport={"width": 1200, "height": 800}).new_page()
    page.set_default_timeout(20_000)
    requests, sockets = [], []
    page.on("request", lambda request: requests.append(request))
    page.on("websocket", lambda ws: sockets.append(ws.url))

    page.goto(f"{live_server.url}/j/{ada.token}")
    with page.expect_websocket(lambda ws: "/socket.io/" in ws.url) as opened:
        page.click("#join-button")
    opened.value.wait_for_event("close")  # the stand-in closes after the handshake
    page.wait_for_url(re.compile(r".*/room/$"))
    minted = page.get_attribute("#videosdk-room", "data-token")
    room = ProviderRoom.objects.get(meeting=meeting).provider_room_id

    # The SDK's first call to VideoSDK's side: init-config, with the minted token and this room.
    init = next(r for r in requests if r.url.endswith("/infra/v1/meetings/init-config") and r.method == "POST")
    assert init.url == f"https://{videosdk_api.signaling_host}/infra/v1/meetings/init-config"
    assert init.headers["authorization"] == minted
    assert init.post_data_json == {"roomId": room}
    arrived = videosdk_api.state()["inits"]
    assert len(arrived) == 1 and arrived[0]["token"] == minted and arrived[0]["problem"] == ""
    claims = jwt.decode(minted, SECRET, algorithms=["HS256"])
    assert (claims["roomId"], claims["participantId"], claims["roles"], claims["permissions"]) == (
        room, ada.peer_id, ["rtc"], ["allow_join", "allow_mod"])
    # Then its signalling socket, on the host init-config named, carrying the same token.
    socket = videosdk_api.state()["sockets"][0]
    assert sockets[0].startswith(f"wss://{videosdk_api.signaling_host}/socket.io/?")
    assert (socket["query"]["secret"], socket["query"]["roomId"], socket["query"]["peerId"]) == (
        minted, room, ada.peer_id)
    assert socket["query"]["transport"] == "websocket"
    # The SDK came from the portal; the browser reached nothing of VideoSDK's real hosts, and nothing it
    # fetched or showed carried the account's secret.
    urls = [r.url for r in requests]
    assert any(url.endswith("/static/vendor/videosdk/videosdk.js") for url in urls)
    assert not [url for url in urls if "videosdk.live" in url]
    assert not [url for url in urls if SECRET in url] and SECRET not in page.content()
    assert page.inner_text("#connection") == "connecting…"  # no media server here: never "connected"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "videosdk-room-connecting.png"), full_page=True)


def test_a_join_videosdk_refuses_shows_its_reason_and_opens_no_socket(new_context, live_server, acme, videosdk_api,
                                                                      settings):
    settings.VIDEOSDK_API_BASE_URL = videosdk_api.url
    settings.VIDEOSDK_SIGNALING_HOST = videosdk_api.signaling_host
    videosdk_api.reset(api_key=KEY, secret=SECRET)
    account = ProviderAccountFactory(organization=acme, provider="videosdk", name="VideoSDK", jwt_secret="",
                                     api_key=KEY, api_secret=SECRET)
    meeting = MeetingFactory(organization=acme, provider="videosdk", provider_account=account, title="Refused",
                             waiting_room=True)
    bo = InvitationFactory(meeting=meeting, display_name="Bo")
    page = new_context(ignore_https_errors=True, viewport={"width": 1200, "height": 800}).new_page()
    page.set_default_timeout(20_000)

    videosdk_api.set(refuse_init="This API key is disabled")  # VideoSDK's side turns the token down
    page.goto(f"{live_server.url}/j/{bo.token}")
    page.click("#join-button")
    page.wait_for_url(re.compile(r".*/room/$"))
    page.wait_for_selector("#room-message:not([hidden])")

    assert "This API key is disabled" in page.inner_text("#room-message")
    assert page.inner_text("#connection") != "connected"
    assert page.is_visible("#waiting") is False  # not left waiting for a moderator who will never see them
    refused = videosdk_api.state()["inits"]
    assert refused and refused[-1]["claims"] is None and refused[-1]["token"] == page.get_attribute(
        "#videosdk-room", "data-token")
    assert jwt.decode(refused[-1]["token"], SECRET, algorithms=["HS256"])["permissions"] == ["ask_join"]
    assert not videosdk_api.state()["sockets"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "videosdk-room-refused.png"), full_page=True)
