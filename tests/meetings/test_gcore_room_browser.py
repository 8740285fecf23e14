"""The Gcore room page in headless Chromium: the bridge is made only after the iframe has loaded, it
calls "join" when the room says readyToJoin (the URL skips Gcore's name screen), and readyToJoin is
not taken for being in the room. Gcore's hosts cannot be reached from here: the browser's requests to
the meet domain are answered by a stand-in room page and bridge script that log what the page does."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from meetings.models import JoinSession

from ..browser import conftest as browser_fixtures
from ..factories import GcoreMeetingFactory, InvitationFactory, ProviderAccountFactory

pytestmark = pytest.mark.browser
# tests/browser's Chromium, with its check that the Content-Security-Policy blocked nothing.
browser, csp_violations, page = browser_fixtures.browser, browser_fixtures.csp_violations, browser_fixtures.page
DOMAIN = "acme.gvideo.co"

# The stand-in bridge logs the iframe's load (its listener comes before the page's), its own making and
# every method called, and lets the test fire events.
ROOM_PAGE = "<!doctype html><title>room</title><p>Gcore room</p>"
BRIDGE_SCRIPT = """
window.bridgeLog = [];
document.getElementById("provider-room").addEventListener("load", function () { bridgeLog.push("iframe loaded"); });
window.MeetIframeBridge = {default: function (options) {
  var handlers = {};
  bridgeLog.push("bridge made for " + options.roomId + " on " + options.element.id);
  this.on = function (name, callback) { (handlers[name] = handlers[name] || []).push(callback); };
  this.method = function (call) {
    bridgeLog.push("method " + call.name + " " + JSON.stringify(call.data));
    if (call.callback) call.callback({});
  };
  window.fire = function (name, data) { (handlers[name] || []).forEach(function (h) { h(data); }); };
}};
"""


def serve_gcore(page, *, bridge_status=200):
    def answer(route):
        if urlsplit(route.request.url).path == "/meetBridgeApi.js":
            route.fulfill(status=bridge_status, content_type="text/javascript",
                          body=BRIDGE_SCRIPT if bridge_status == 200 else "")
        else:
            route.fulfill(status=200, content_type="text/html", body=ROOM_PAGE)

    page.context.route(f"https://{DOMAIN}/**", answer)


@pytest.fixture
def guest(acme):
    account = ProviderAccountFactory(organization=acme, meet_domain=DOMAIN)
    meeting = GcoreMeetingFactory(organization=acme, provider_account=account)
    return InvitationFactory(meeting=meeting, display_name="Eve", role="participant")


def join(page, live_server, guest) -> dict:
    """Joins through the pre-join page; the query of the room URL the iframe then opened."""
    link = f"{live_server.url}/j/{guest.token}"
    page.goto(link)
    with page.expect_request(lambda r: r.url.startswith(f"https://{DOMAIN}/call/")) as room_request:
        page.click("#join-button")
    page.wait_for_url(f"{link}/room/")
    return parse_qs(urlsplit(room_request.value.url).query)


def relayed(request) -> bool:
    return request.url.endswith("/room/bridge")


def test_the_bridge_is_made_after_the_room_loaded_and_joins_when_the_room_is_ready(page, live_server, guest):
    serve_gcore(page)
    query = join(page, live_server, guest)
    page.wait_for_function("() => window.bridgeLog && window.bridgeLog.length >= 2")  # a function: CSP forbids eval
    session = JoinSession.objects.get(invitation=guest)
    room = f"serv0{guest.meeting.ical_uid.split('@')[0].replace('-', '')}"

    assert page.evaluate("bridgeLog") == ["iframe loaded", f"bridge made for {room} on provider-room"]
    assert query["nameScreenDisabled"] == ["true"] and query["roomId"] == [room] and query["token"]

    # The connection drops; readyToJoin then says only that the room can be joined: the page calls
    # "join" (once) and does not tell the portal the person is back.
    with page.expect_request_finished(relayed):
        page.evaluate(f"fire('connectionFailed', {{peerId: {json.dumps(guest.peer_id)}}})")
    assert not JoinSession.objects.get(pk=session.pk).connected
    page.evaluate("fire('readyToJoin'); fire('readyToJoin')")
    page.wait_for_function("() => window.bridgeLog.length === 3")
    assert page.evaluate("bridgeLog")[2] == 'method join {"constraints":{"video":true,"audio":true}}'
    assert not JoinSession.objects.get(pk=session.pk).connected

    # Gcore's "join" event is the person in the room.
    with page.expect_request_finished(relayed) as report:
        page.evaluate(f"fire('join', {{peerId: {json.dumps(guest.peer_id)}, displayName: 'Eve'}})")
    assert json.loads(report.value.post_data) == {"event": "join", "peerId": guest.peer_id}
    assert JoinSession.objects.get(pk=session.pk).connected


def test_without_the_bridge_script_gcores_name_screen_stays(page, live_server, guest):
    serve_gcore(page, bridge_status=404)

    query = join(page, live_server, guest)

    assert "nameScreenDisabled" not in query and query["roomId"] and query["token"]
    assert page.evaluate("typeof window.MeetIframeBridge") == "undefined"
