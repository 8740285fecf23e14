"""Two and three people in a built-in room, in headless Chromium with fake camera and microphone.

The same scenario runs on one server process with the in-memory channel layer, and on two server
processes joined through Redis (channels-redis) with each browser on a different process.
"""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from meetings.models import Invitation, JoinSession, Recording

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory, UserFactory
from .servers import start_production_pair, start_servers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REMOTE_VIDEO = """(name) => {
  const tile = [...document.querySelectorAll('.tile')].find(t => t.querySelector('.label').textContent === name);
  return tile && tile.querySelector('video');
}"""


@pytest.fixture(params=["one process, in-memory layer", "two processes, Redis layer"])
def servers(request, tmp_path, settings):
    if request.param.startswith("one"):
        running = start_servers(tmp_path, 1, redis_url=None)
        running = running * 2
    else:
        running = start_servers(tmp_path, 2, redis_url=settings.REDIS_URL)
    yield running
    for server in {id(s): s for s in running}.values():
        server.stop()


@pytest.fixture
def meeting(acme):
    host = MembershipFactory(organization=acme, role="host", user=UserFactory(email="hana@acme.test")).user
    return MeetingFactory(organization=acme, owner=host, title="Mesh check", waiting_room=True,
                          recording_allowed=True, start=timezone.now() + timedelta(minutes=5))


def open_link(new_context, server, invitation, token=None):
    page = new_context().new_page()
    page.console_lines = []  # what room.js warned about, for a failure's message
    page.on("console", lambda message: page.console_lines.append(f"{message.type}: {message.text}"))
    page.failed_requests = []  # a room page that asks for what is not there wastes every server's time
    page.on("response", lambda response: page.failed_requests.append(response.url)
            if response.status == 404 else None)
    page.set_default_timeout(30_000)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{server.url}/j/{token or invitation.token}")
    page.click("#join-button")
    page.wait_for_url(re.compile(r".*/room/$"))
    page.wait_for_selector("#connection:has-text('connected')")
    return page


def wait_for_video_from(page, name):
    """The named person's video plays here: it has a size and its frames advance."""
    try:
        _wait_for_video_from(page, name)
    except PlaywrightTimeoutError:
        # Say what the page saw, so a failure on a loaded machine can be told from a broken room.
        state = page.evaluate("() => [...document.querySelectorAll('.tile')].map(t => t.textContent.trim()"
                              " + ' [' + (t.dataset.connection || 'no peer connection') + ']')"
                              " .concat([document.getElementById('connection').textContent,"
                              " document.getElementById('room-message').textContent])")
        raise AssertionError(f"no video from {name}; the page showed {state}; its console said "
                             f"{page.console_lines[-20:]}") from None


def _wait_for_video_from(page, name):
    # Functions with arguments, not expression strings: the page's Content-Security-Policy forbids
    # the eval Playwright would need for those.
    page.wait_for_function(f"(name) => {{ const v = ({REMOTE_VIDEO})(name); "
                           "return v && v.videoWidth > 0 && v.currentTime > 0.3; }", arg=name)
    start = page.evaluate(f"(name) => ({REMOTE_VIDEO})(name).currentTime", name)
    page.wait_for_function(f"([name, start]) => ({REMOTE_VIDEO})(name).currentTime > start + 0.5",
                           arg=[name, start])


def host_admits_guest(new_context, meeting, host_server, guest_server):
    """Hana (host) and Pete (participant) open their links; Pete waits until Hana lets him in."""
    hana = InvitationFactory(meeting=meeting, display_name="Hana", role="host")
    pete = InvitationFactory(meeting=meeting, display_name="Pete", role="participant")
    host = open_link(new_context, host_server, hana)
    guest = open_link(new_context, guest_server, pete)
    guest.wait_for_selector("#waiting:visible")
    host.click("[data-waiting] button[data-action=admit]")
    guest.wait_for_selector("#waiting", state="hidden")
    return (hana, host), (pete, guest)


def say(page, text):
    page.fill("#chat-input", text)
    page.click("#chat-form button")


def test_people_see_and_hear_each_other_chat_are_moderated_and_recorded(new_context, servers, meeting, screenshot):
    one, two = servers
    (hana, host), (pete, guest) = host_admits_guest(new_context, meeting, one, two)
    wendy = InvitationFactory(meeting=meeting, display_name="Wendy", role="participant")

    wait_for_video_from(host, "Pete")
    wait_for_video_from(guest, "Hana")
    say(host, "hello from Hana")
    guest.wait_for_selector("#chat-log >> text=hello from Hana")
    assert host.failed_requests == [] and guest.failed_requests == []
    say(guest, "hi Hana")
    host.wait_for_selector("#chat-log >> text=hi Hana")
    screenshot_page(host, "room-host")

    host.click("#people li[data-peer] >> text=Mute")
    guest.wait_for_selector("#toggle-mic:has-text('Unmute')")
    guest.wait_for_selector("#room-message:has-text('A moderator muted you.')")
    host.wait_for_selector("#people li:has-text('Pete') small:has-text('muted')")

    # Record a few seconds of the room, then stop: the upload completes and the recording is whole.
    with host.expect_request(re.compile(r"/chunks/2$")):
        host.click("#toggle-record")
    host.click("#toggle-record")
    host.wait_for_selector("#room-message:has-text('The recording is saved')")

    # A third person waits until a moderator lets her in.
    third = open_link(new_context, two, wendy)
    third.wait_for_selector("#waiting:visible")
    host.wait_for_selector("[data-waiting]:has-text('Wendy')")
    host.click("[data-waiting]:has-text('Wendy') button[data-action=admit]")
    third.wait_for_selector("#waiting", state="hidden")
    wait_for_video_from(third, "Hana")

    # The moderator removes Pete: his page shows why, and his link answers 401 until he is let back.
    host.click("#people li:has-text('Pete') button[data-action=remove]")
    guest.wait_for_selector("h1:has-text('You were removed from this meeting')")
    assert guest.goto(f"{two.url}/j/{pete.token}").status == 401
    assert Invitation.objects.get(pk=pete.pk).removed_at is not None

    host.click("#end-all")
    host.wait_for_selector("h1:has-text('The meeting has ended')")
    third.wait_for_selector("h1:has-text('The meeting has ended')")

    sessions = {s.invitation.display_name: s for s in JoinSession.objects.select_related("invitation")}
    assert {name: s.end_reason for name, s in sessions.items()} == {"Hana": "ended", "Pete": "removed",
                                                                  "Wendy": "ended"}
    assert sessions["Pete"].ended_at < sessions["Wendy"].ended_at
    assert all(s.started_at < s.ended_at for s in sessions.values())
    assert sessions["Hana"].started_at < sessions["Pete"].started_at < sessions["Wendy"].started_at

    recording = Recording.objects.get(meeting=meeting)
    assert recording.status == "ready" and recording.size > 10_000 and recording.duration_seconds > 1
    owner = new_context()
    owner.add_cookies([{"name": "sessionid", "value": session_cookie_for(meeting.owner), "url": one.url}])
    page = owner.new_page()
    page.goto(f"{one.url}/o/acme/meetings/{meeting.code}/")
    duration = page.evaluate("""async () => {
        const v = document.querySelector('#recordings video');
        v.muted = true;
        if (v.readyState < 1) await new Promise(r => v.addEventListener('loadedmetadata', r, {once: true}));
        if (!isFinite(v.duration)) {  // MediaRecorder files learn their length once read to the end
            v.currentTime = 1e9;
            await new Promise(r => v.addEventListener('durationchange', r, {once: true}));
        }
        v.currentTime = 0;
        await v.play();
        await new Promise(r => v.addEventListener('timeupdate', r, {once: true}));
        return v.duration;
    }""")
    assert duration > 1


def test_a_second_tab_takes_over_and_the_first_says_so(new_context, servers, meeting):
    one, two = servers
    meeting.waiting_room = False
    meeting.save()
    pete = InvitationFactory(meeting=meeting, display_name="Pete")

    first = open_link(new_context, one, pete)
    open_link(new_context, two, pete)

    first.wait_for_selector("h1:has-text('You joined from somewhere else')")


def session_cookie_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def screenshot_page(page, name):
    from .conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_dropped_connection_recovers_without_a_new_join(new_context, servers, meeting):
    one, two = servers
    meeting.waiting_room = False
    meeting.save()
    hana = InvitationFactory(meeting=meeting, display_name="Hana", role="host")
    pete = InvitationFactory(meeting=meeting, display_name="Pete")
    host = open_link(new_context, one, hana)
    guest = open_link(new_context, two, pete)
    wait_for_video_from(guest, "Hana")

    two.stop()  # as in a deploy: the web process goes away, then a new one serves the same address
    guest.wait_for_selector("#connection:has-text('reconnecting')")
    two.start()
    guest.wait_for_selector("#connection:has-text('connected')")  # the page came back by itself

    wait_for_video_from(guest, "Hana")
    wait_for_video_from(host, "Pete")
    session = JoinSession.objects.get(invitation=pete)  # still the one session: no new join
    assert session.ended_at is None and session.connected and session.disconnected_at is None
    assert JoinSession.objects.filter(invitation=pete).count() == 1


def test_pages_on_gunicorn_and_room_sockets_on_uvicorn_hold_a_call(new_context, meeting, tmp_path, settings):
    """The production shape: pages from the WSGI server send the browser to the socket server's origin,
    and what a page does on one process reaches the room's sockets on the other through Redis. (Media
    between the browsers is the other scenarios' business: the servers only carry its signals.)"""
    pages, sockets = start_production_pair(tmp_path, settings.REDIS_URL)
    try:
        (_, host), (pete, guest) = host_admits_guest(new_context, meeting, pages, pages)
        host.wait_for_selector("#people li:has-text('Pete')")
        say(guest, "hello over the socket server")
        host.wait_for_selector("#chat-log >> text=hello over the socket server")

        # Pete joins again from another tab: the join (a page, on gunicorn) ends his first stay, whose
        # page (a socket, on uvicorn) says why, and Hana's list shows one Pete.
        again = open_link(new_context, pages, pete)
        guest.wait_for_selector("h1:has-text('You joined from somewhere else')")
        again.wait_for_selector("#waiting:visible")
        host.wait_for_selector("[data-waiting]:has-text('Pete')")
        assert host.locator("#people li:has-text('Pete')").count() == 0
        assert host.failed_requests == [] and guest.failed_requests == []
    finally:
        pages.stop()
        sockets.stop()
