"""The LiveKit room page in headless Chromium with the real livekit-client (the pinned npm package the
portal serves): the SDK opens its signalling socket on the account's server (http:// turned into
ws://) carrying the access token the portal minted for this person. The stand-in records the query
it arrived with and closes; the browser's own network events are checked too, and the page's CSP
(the `page` fixture fails on any violation) allows exactly that socket origin."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from meetings.providers.livekit.tokens import LIFETIME

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory
from ..livekit_api import livekit_api  # noqa: F401  (the session fixture)

pytestmark = pytest.mark.browser
KEY = "APIbrowser"
SECRET = "browser-secret-" + "b" * 32


def test_the_room_page_connects_to_livekit_with_the_token_minted_for_this_person(page, live_server, acme,
                                                                                 livekit_api, settings):  # noqa: F811
    livekit_api.reset(api_key=KEY, api_secret=SECRET)
    account = ProviderAccountFactory(organization=acme, provider="livekit", jwt_secret="", name="LiveKit",
                                     server_url=livekit_api.url, api_key=KEY, api_secret=SECRET)
    meeting = MeetingFactory(organization=acme, provider="livekit", provider_account=account, title="LK check")
    ada = InvitationFactory(meeting=meeting, display_name="Ada", role="moderator")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    socket_origin = livekit_api.url.replace("http://", "ws://")

    page.goto(f"{live_server.url}/j/{ada.token}")
    with page.expect_websocket(lambda ws: ws.url.startswith(socket_origin)) as opened:
        page.click("#join-button")
    socket = opened.value
    page.wait_for_url(re.compile(r".*/room/$"))
    minted = page.get_attribute("#livekit-room", "data-token")

    url = urlsplit(socket.url)
    assert url.path.rstrip("/").endswith(("/rtc", "/rtc/v1"))
    assert parse_qs(url.query)["access_token"] == [minted]
    arrived = livekit_api.state()["sockets"][0]
    assert arrived["access_token"] == minted and "access_token" in arrived["query_keys"]
    claims = jwt.decode(minted, SECRET, algorithms=["HS256"], issuer=KEY)
    assert claims["sub"] == ada.peer_id and claims["video"]["roomAdmin"] is True
    assert abs(claims["exp"] - (time.time() + LIFETIME.total_seconds())) <= 30  # minutes, not the whole stay
    assert claims["video"]["room"] == livekit_api.requests("CreateRoom")[-1]["body"]["name"]
    # The SDK came from the portal, and the secret went nowhere near the browser.
    assert any(u.endswith("/static/vendor/livekit/livekit-client.umd.js") for u in requests)
    assert SECRET not in page.content() and not [u for u in requests if SECRET in u]
