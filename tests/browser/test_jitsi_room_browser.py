"""Jitsi: the portal's room page (http://localhost:<port>, live_server) framing the frame document of
JITSI_FRAME_ORIGIN (http://127.0.0.1:<same port>: another origin and another site, so the session
cookie for localhost is never sent to it), which loads the API script from a local stand-in of the
Jitsi domain (tests/jitsi_standin: no npm package ships Jitsi's external_api.js, so the stand-in
serves a minimal implementation of the documented IFrame API constructor). The browser's own network
events show the room request carrying the minted JWT (sent to the frame by postMessage, in no
address the portal serves); the frame cannot read the portal and ignores other windows; the Jitsi
room inside it gets the camera and microphone; the page relays the person's state to the portal,
leaves when Jitsi is ready to close and hangs up when the portal removes the person."""

import json
import re
import threading
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from meetings.models import JoinSession
from meetings.providers.jitsi.provider import room_name
from meetings.services import joining

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory
from ..jitsi_standin import JitsiStandIn

pytestmark = pytest.mark.browser
SECRET = "jitsi-browser-secret-" + "y" * 24


@pytest.fixture(scope="module")
def stand_in():
    server = JitsiStandIn()
    yield server
    server.stop()


def frame_origin_of(live_server) -> str:
    """The live server answers on localhost and 127.0.0.1 alike: the portal is the one, the frame the other."""
    assert urlsplit(live_server.url).hostname == "localhost"
    return live_server.url.replace("://localhost:", "://127.0.0.1:")


@pytest.fixture
def jitsi(stand_in, settings, acme, live_server):
    settings.JITSI_BASE_URL = stand_in.url
    settings.SITE_URL = live_server.url
    settings.JITSI_FRAME_ORIGIN = frame_origin_of(live_server)
    stand_in.reset()
    account = ProviderAccountFactory(organization=acme, provider="jitsi", name="Jitsi", meet_domain="meet.example.org",
                                     api_key="portal-app", api_secret=SECRET, jwt_secret="", jwt_algorithm="HS256")
    meeting = MeetingFactory(organization=acme, provider="jitsi", provider_account=account, title="Jitsi check")
    return stand_in, meeting


def bridge_event(name):
    return lambda request: request.url.endswith("/room/bridge") and json.loads(request.post_data or "{}") == {
        "event": name}


def bridge_answer(name):
    return lambda response: bridge_event(name)(response.request)


def enter_room(page, live_server, stand_in, meeting, person):
    room = room_name(meeting)
    page.goto(f"{live_server.url}/j/{person.token}")
    with page.expect_response(bridge_answer("join")) as joined, \
            page.expect_request(lambda r: r.url.startswith(f"{stand_in.url}/{room}?")) as room_request:
        page.click("#join-button")
    page.wait_for_url(re.compile(r".*/room/$"))
    return room_request.value, joined.value


def jitsi_frame(page, live_server):
    return next(f for f in page.frames if f.url.startswith(f"{frame_origin_of(live_server)}/jitsi-frame/"))


def test_the_room_request_carries_the_minted_token_and_the_page_relays_the_persons_state(page, live_server, jitsi):
    stand_in, meeting = jitsi
    ada = InvitationFactory(meeting=meeting, display_name="Ada", role="host")
    requests = []
    page.on("request", lambda request: requests.append(request))

    room_request, joined = enter_room(page, live_server, stand_in, meeting, ada)

    url = urlsplit(room_request.url)
    assert url.path == f"/{room_name(meeting)}"
    minted = parse_qs(url.query)["jwt"][0]
    claims = jwt.decode(minted, SECRET, algorithms=["HS256"], audience="jitsi", leeway=0)
    assert (claims["room"], claims["sub"], claims["iss"]) == (room_name(meeting), "meet.example.org", "portal-app")
    assert claims["context"]["user"]["id"] == ada.peer_id and claims["context"]["user"]["affiliation"] == "owner"
    # Asked by the frame of JITSI_FRAME_ORIGIN, whose address names the domain and room, nothing secret.
    frame_address = urlsplit(room_request.frame.parent_frame.url)
    assert f"{frame_address.scheme}://{frame_address.netloc}" == frame_origin_of(live_server)
    assert parse_qs(frame_address.query) == {"domain": [urlsplit(stand_in.url).netloc], "room": [room_name(meeting)]}
    assert stand_in.arrived(f"/{room_name(meeting)}")[0]["query"]["jwt"] == [minted]
    # The API script came from the Jitsi domain with no referrer; the frame document was asked for
    # with no cookie and no referrer (the room page's address holds the join link).
    assert [r["referer"] for r in stand_in.arrived("/external_api.js")] == [""]
    frame_request = next(r for r in requests if r.url == room_request.frame.parent_frame.url)
    assert not {"cookie", "referer"} & set(frame_request.all_headers())
    # The JWT travelled in no address the portal serves, and the room page dropped it once sent.
    assert not [r.url for r in requests if minted in r.url and not r.url.startswith(stand_in.url)]
    assert ada.token not in room_request.frame.parent_frame.url
    assert minted not in page.content()

    assert joined.status == 200  # answered: the portal has applied it
    session = JoinSession.objects.get(invitation=ada)
    assert session.connected is True


def test_the_frame_is_another_origin_that_cannot_read_the_portal(page, live_server, jitsi):
    stand_in, meeting = jitsi
    bo = InvitationFactory(meeting=meeting, display_name="Bo")
    enter_room(page, live_server, stand_in, meeting, bo)
    frame = jitsi_frame(page, live_server)

    assert frame.evaluate("self.origin") == frame_origin_of(live_server) != page.evaluate("self.origin")
    assert frame.evaluate("document.cookie") == "" and frame.evaluate("document.referrer") == ""
    assert frame.evaluate("() => { try { return parent.document.title; } catch (e) { return e.name; } }") == \
        "SecurityError"
    assert frame.evaluate("() => { try { return parent.location.href; } catch (e) { return e.name; } }") == \
        "SecurityError"
    assert page.get_attribute("#jitsi-frame", "sandbox") == "allow-scripts allow-same-origin allow-popups allow-forms"
    assert page.get_attribute("#jitsi-frame", "data-jwt") is None


def test_even_past_its_policy_the_frame_gets_no_portal_session(new_context, live_server, jitsi):
    """connect-src 'none' already stops the frame's fetch; with the policy bypassed, the browser still
    sends no portal cookie (another site) and CORS keeps the answer from the frame."""
    stand_in, meeting = jitsi
    cy = InvitationFactory(meeting=meeting, display_name="Cy")
    page = new_context(bypass_csp=True).new_page()
    page.set_default_timeout(15_000)
    enter_room(page, live_server, stand_in, meeting, cy)
    state = f"{live_server.url}/j/{cy.token}/room/state"
    assert page.evaluate("url => fetch(url).then(r => r.json()).then(s => s.state)", state) == "in_room"

    frame = jitsi_frame(page, live_server)
    assert frame.evaluate("url => fetch(url, {credentials: 'include'}).then(r => r.text(), e => e.name)",
                          state) == "TypeError"  # CORS: the frame reads nothing
    with page.expect_response(lambda r: r.url == state and r.frame == frame) as answer:  # not the page's own
        opaque = frame.evaluate("url => fetch(url, {credentials: 'include', mode: 'no-cors'})"
                                ".then(r => [r.type, r.status])", state)
    assert opaque == ["opaque", 0]
    assert answer.value.status == 404 and "cookie" not in answer.value.request.all_headers()  # no session


def test_the_frame_takes_the_jwt_only_from_the_room_page(page, live_server, jitsi):
    stand_in, meeting = jitsi
    di = InvitationFactory(meeting=meeting, display_name="Di")
    page.route("**/static/room_jitsi.js", lambda route: route.fulfill(
        status=200, content_type="application/javascript", body="// the test drives the frame itself"))
    page.goto(f"{live_server.url}/j/{di.token}")
    page.click("#join-button")
    page.wait_for_url(re.compile(r".*/room/$"))
    with page.expect_request(re.compile(r".*/static/jitsi_frame\.js$")):
        page.evaluate("() => { const f = document.getElementById('jitsi-frame'); f.src = f.dataset.src; }")
    frame = jitsi_frame(page, live_server)
    frame.wait_for_function("() => document.readyState === 'complete'")

    # The frame's own window (where the Jitsi domain's script runs too) cannot start it.
    assert frame.evaluate("""() => new Promise(resolve => {
        addEventListener("message", e => {
            if (e.data === "probe") resolve(document.querySelectorAll("iframe").length); });
        postMessage({command: "start", jwt: "forged-in-the-frame"}, "*");
        postMessage("probe", "*");
    })""") == 0
    with page.expect_request(lambda r: r.url.startswith(f"{stand_in.url}/{room_name(meeting)}?")) as started:
        page.evaluate("""() => { const f = document.getElementById('jitsi-frame');
            f.contentWindow.postMessage({command: "start", jwt: "from-the-room-page", name: "Di", audioOnly: false},
                                        f.dataset.frameOrigin); }""")
    assert parse_qs(urlsplit(started.value.url).query)["jwt"] == ["from-the-room-page"]

    # Once started, neither the Jitsi room (another origin, a child window) nor the frame's own window
    # can command it; the room page can.
    frame.evaluate("""() => { window.commands = [];
        JitsiMeetExternalAPI.prototype.executeCommand = function (name) { window.commands.push(name); };
        window.probed = new Promise(resolve => addEventListener("message", e => {
            if (e.data === "probe-from-jitsi") resolve(window.commands.slice()); }));
        postMessage({command: "hangup"}, "*"); }""")
    jitsi_room = frame.child_frames[0]
    jitsi_room.wait_for_selector("#standin-room")  # past its first about:blank
    jitsi_room.evaluate("""() => { parent.postMessage({command: "hangup"}, "*");
        parent.postMessage({command: "start", jwt: "forged-by-jitsi"}, "*");
        parent.postMessage("probe-from-jitsi", "*"); }""")
    assert frame.evaluate("window.probed") == []
    assert len(frame.query_selector_all("iframe")) == 1
    page.evaluate("""() => { const f = document.getElementById('jitsi-frame');
        f.contentWindow.postMessage({command: "hangup"}, f.dataset.frameOrigin); }""")
    frame.wait_for_function("() => window.commands.length > 0")
    assert frame.evaluate("window.commands") == ["hangup"]


def test_ready_to_close_leaves_the_portal_stay(page, live_server, jitsi):
    stand_in, meeting = jitsi
    ed = InvitationFactory(meeting=meeting, display_name="Ed")
    enter_room(page, live_server, stand_in, meeting, ed)

    with page.expect_request(bridge_event("disconnected")), \
            page.expect_request(lambda r: r.url.endswith(f"/j/{ed.token}/leave") and r.method == "POST"):
        page.frame_locator("#jitsi-frame").frame_locator("iframe").locator("#standin-hangup").click()
    page.wait_for_selector("text=You left the meeting")
    assert JoinSession.objects.get(invitation=ed).ended_at is not None


def test_removing_a_person_hangs_up_their_jitsi_room(page, live_server, jitsi):
    stand_in, meeting = jitsi
    fi = InvitationFactory(meeting=meeting, display_name="Fi")
    enter_room(page, live_server, stand_in, meeting, fi)

    # In a thread of its own: its after-commit room refresh must not run inside Playwright's event loop.
    remover = threading.Thread(target=joining.remove_from_room, args=(JoinSession.objects.get(invitation=fi),))
    remover.start()
    remover.join()
    with page.expect_request(lambda r: r.url == f"{stand_in.url}/report?command=hangup", timeout=15_000):
        pass  # the page follows the portal's state every 5 s, then tells Jitsi to hang up
    page.wait_for_selector("text=You were removed from this meeting")


def test_the_jitsi_room_can_use_the_camera_and_microphone(page, live_server, jitsi):
    stand_in, meeting = jitsi
    gu = InvitationFactory(meeting=meeting, display_name="Gu")
    with page.expect_request(lambda r: r.url.startswith(f"{stand_in.url}/report?media=")) as report:
        enter_room(page, live_server, stand_in, meeting, gu)
    assert parse_qs(urlsplit(report.value.url).query) == {"media": ["ok"], "tracks": ["audio,video"]}
