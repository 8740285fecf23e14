"""The built-in room as a meeting app, and its pre-join page, in headless Chromium with fake camera and
microphone: three people on desktop and phone, what each role sees, shortcuts, leaving, joining muted."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory, UserFactory
from .conftest import ARTIFACTS, assert_accessible
from .servers import start_servers
from .test_builtin_room_browser import wait_for_video_from

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"viewport": {"width": 1200, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

# Counts, across the pages of one tab, the camera and microphone tracks handed out and those stopped.
COUNT_TRACKS = """(() => {
  const bump = (key, n) => sessionStorage.setItem(key, String(Number(sessionStorage.getItem(key) || 0) + n));
  const stop = MediaStreamTrack.prototype.stop;
  MediaStreamTrack.prototype.stop = function () {
    if (this.readyState === 'live') bump('tracks-stopped', 1);
    return stop.call(this);
  };
  const getUserMedia = MediaDevices.prototype.getUserMedia;
  MediaDevices.prototype.getUserMedia = function (constraints) {
    return getUserMedia.call(this, constraints).then(s => { bump('tracks-started', s.getTracks().length); return s; });
  };
})();"""

# Against the window's set size: a phone widens its layout viewport (innerWidth) to what sticks out.
NO_PAGE_SCROLL = ("([width, height]) => document.scrollingElement.scrollHeight <= height"
                  " && document.scrollingElement.scrollWidth <= width")


def fits_without_scrolling(page) -> bool:
    return page.evaluate(NO_PAGE_SCROLL, [page.viewport_size["width"], page.viewport_size["height"]])


@pytest.fixture
def server(tmp_path):
    running = start_servers(tmp_path, 1, redis_url=None)[0]
    yield running
    running.stop()


@pytest.fixture
def host(acme):
    return MembershipFactory(organization=acme, role="host", user=UserFactory(email="hana@acme.test")).user


def open_room(new_context, server, invitation, device=DESKTOP):
    page = new_context(**device).new_page()
    page.console_lines = []
    page.on("console", lambda message: page.console_lines.append(f"{message.type}: {message.text}"))
    page.add_init_script(COUNT_TRACKS)
    page.set_default_timeout(30_000)
    page.goto(f"{server.url}/j/{invitation.token}")
    page.click("#join-button")
    page.wait_for_url(re.compile(r".*/room/"))
    page.wait_for_selector("#connection:has-text('connected')")
    return page


def boxes(page, selector):
    return page.evaluate("(s) => [...document.querySelectorAll(s)].map(e => e.getBoundingClientRect().toJSON())",
                         selector)


def assert_fits_the_window(page, tile_count):
    page.wait_for_function("(n) => document.querySelectorAll('#tiles .tile').length === n", arg=tile_count)
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")  # settled
    assert fits_without_scrolling(page), "the room page scrolls"
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    controls = boxes(page, "#controls")[0]
    assert controls["bottom"] <= height and controls["right"] <= width  # the bar is on screen
    for tile in boxes(page, "#tiles .tile"):
        assert tile["width"] > 60 and tile["height"] > 40
        assert tile["left"] >= 0 and tile["right"] <= width and tile["top"] >= 0
        assert tile["bottom"] <= controls["top"], "a tile hides behind the control bar"
    for control in ["#toggle-mic", "#toggle-camera", "#show-people", "#leave"]:
        box = page.locator(control).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= height, f"{control} is off screen"


def save(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_three_people_on_desktop_and_phone(new_context, server, acme, host):
    meeting = MeetingFactory(organization=acme, owner=host, title="Weekly sync", recording_allowed=True,
                             start=timezone.now() + timedelta(minutes=5))
    hana_link = InvitationFactory(meeting=meeting, display_name="Hana", role="host")
    pete_link = InvitationFactory(meeting=meeting, display_name="Pete", role="participant")
    pia_link = InvitationFactory(meeting=meeting, display_name="Pia", role="participant")

    hana = open_room(new_context, server, hana_link)
    pete = open_room(new_context, server, pete_link)
    pia = open_room(new_context, server, pia_link, device=PHONE)
    wait_for_video_from(hana, "Pete")
    wait_for_video_from(hana, "Pia")

    for page in (hana, pete, pia):
        assert_fits_the_window(page, 3)
        assert page.locator(".topbar").count() == 0 and page.get_by_text("Sign out").count() == 0
    # Only who may record sees Record; a participant does not.
    assert hana.locator("#toggle-record").is_visible()
    assert pete.locator("#toggle-record").count() == 0 and pia.locator("#toggle-record").count() == 0
    # Moderation lives in the moderator's people panel only.
    assert hana.locator("#panel #end-all").is_visible() and pete.locator("#end-all").count() == 0
    save(hana, "room-three-desktop")
    assert_accessible(hana, "the room, desktop")

    # On the phone the panel is a sheet over the stage, opened from the bar and closed again.
    assert pia.locator("#panel").is_hidden()
    save(pia, "room-three-phone")
    assert_accessible(pia, "the room, phone")
    pia.tap("#show-people")
    sheet = pia.locator("#panel").bounding_box()
    assert sheet["width"] >= 370 and sheet["y"] > 100 and sheet["y"] + sheet["height"] <= 844
    for name in ("Hana", "Pete", "Pia"):
        assert pia.locator(f"#people li:has-text('{name}')").is_visible()
    assert fits_without_scrolling(pia)
    save(pia, "room-three-phone-people")
    assert_accessible(pia, "the room, phone, people open")
    pia.tap("#panel-close")
    assert pia.locator("#panel").is_hidden()
    hana.fill("#chat-input", "welcome Pia")
    hana.click("#chat-form button")
    pia.wait_for_selector("#show-chat[data-unread='1']")  # the chat button says a message is waiting
    pia.tap("#show-chat")
    pia.wait_for_selector("#chat-log >> text=welcome Pia")
    assert pia.get_attribute("#show-chat", "data-unread") is None
    pia.fill("#chat-input", "from the phone")
    pia.tap("#chat-form button")
    hana.wait_for_selector("#chat-log >> text=from the phone")

    # Keyboard shortcuts, announced on the buttons and in a help dialog.
    assert pete.get_attribute("#toggle-mic", "aria-keyshortcuts") == "M"
    pete.keyboard.press("m")
    pete.wait_for_selector("#toggle-mic[aria-pressed=true]:has-text('Unmute')")
    hana.wait_for_selector("#people li:has-text('Pete') small:has-text('muted')")
    pete.keyboard.press("h")
    pete.wait_for_selector("#toggle-hand[aria-pressed=true]:has-text('Lower hand')")
    hana.wait_for_selector("#people li:has-text('Pete') small:has-text('✋')")
    pete.keyboard.press("v")
    pete.wait_for_selector("#toggle-camera[aria-pressed=true]:has-text('Camera on')")
    # With the camera off the others see Pete's initial where his picture was, not a black tile.
    petes_tile = hana.locator("#tiles .tile", has=hana.locator(".label", has_text="Pete"))
    petes_tile.locator(".avatar:has-text('P')").wait_for()
    assert petes_tile.locator("video").is_hidden()
    save(hana, "room-camera-off")
    pete.keyboard.press("v")
    petes_tile.locator(".avatar").wait_for(state="hidden")
    assert petes_tile.locator("video").is_visible()
    pete.keyboard.press("v")
    pete.keyboard.press("Escape")
    pete.wait_for_selector("#panel", state="hidden")
    pete.keyboard.press("c")
    pete.wait_for_selector("#chat-input:focus")
    pete.keyboard.press("Escape")
    pete.wait_for_selector("#panel", state="hidden")
    pete.keyboard.press("p")
    pete.wait_for_selector("#people-section:visible")
    pete.keyboard.press("g")
    pete.wait_for_selector("#stage[data-view=speaker] .tile.featured")
    # One big tile above a strip of the others (the tiles glide there: wait for them to settle).
    pete.wait_for_function("""() => {
      const width = (e) => e.getBoundingClientRect().width;
      const others = [...document.querySelectorAll('.tile:not(.featured)')];
      return others.length === 2 && others.every(o => width(document.querySelector('.tile.featured')) > 2 * width(o));
    }""")
    assert_fits_the_window(pete, 3)
    save(pete, "room-speaker-view")
    pete.keyboard.press("?")
    pete.wait_for_selector("#shortcuts-help[open] >> text=Mute or unmute your microphone")
    pete.keyboard.press("Escape")
    pete.wait_for_selector("#shortcuts-help", state="hidden")

    # Leaving stops the camera and microphone, then says what happened and what next.
    pete.click("#leave")
    pete.wait_for_selector("h1:has-text('You left the meeting')")
    started, stopped = pete.evaluate("() => [sessionStorage.getItem('tracks-started'),"
                                     " sessionStorage.getItem('tracks-stopped')]")
    assert int(started) >= 4 and stopped == started, "a camera or microphone track was left running"
    assert pete.get_by_text("close this tab").is_visible()
    assert pete.get_attribute("a:has-text('Join again')", "href") == f"/j/{pete_link.token}"
    save(pete, "room-left")
    assert_accessible(pete, "the page after leaving")
    hana.wait_for_function("() => document.querySelectorAll('#tiles .tile').length === 2")

    # Ending for everyone asks first, saying what it does; saying no keeps the meeting going.
    questions = []
    hana.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    hana.click("#end-all")
    assert "Everybody leaves the room now" in questions[0]
    hana.keyboard.press("p")  # the room still answers: the meeting goes on
    hana.wait_for_selector("#panel", state="hidden")
    assert hana.locator("#connection:has-text('connected')").is_visible()


def test_a_webinar_viewer_gets_no_media_controls_and_no_tile(new_context, server, acme, host):
    meeting = MeetingFactory(organization=acme, owner=host, title="Town hall", kind="webinar",
                             recording_allowed=True, start=timezone.now() + timedelta(minutes=5))
    hana = open_room(new_context, server, InvitationFactory(meeting=meeting, display_name="Hana", role="host"))
    vic = open_room(new_context, server, InvitationFactory(meeting=meeting, display_name="Vic", role="viewer"))

    wait_for_video_from(vic, "Hana")
    hana.wait_for_selector("#people li:has-text('Vic')")
    for control in ("#toggle-mic", "#toggle-camera", "#toggle-screen", "#show-devices", "#toggle-record"):
        assert vic.locator(control).count() == 0, f"a viewer sees {control}"
    assert vic.locator("#tiles .tile").count() == 1 and vic.locator(".tile .label:has-text('Vic')").count() == 0
    assert vic.locator("#leave").is_visible() and vic.locator("#show-people").is_visible()
    assert hana.locator("#tiles .tile").count() == 1  # the viewer has no tile for others either
    assert_accessible(vic, "the webinar room, viewer")


def test_prejoin_meter_inviter_times_and_joining_muted(new_context, server, acme, host):
    meeting = MeetingFactory(organization=acme, owner=host, title="Design review", timezone="Europe/Berlin",
                             start=timezone.now() + timedelta(minutes=5))
    ana = InvitationFactory(meeting=meeting, display_name="Ana Lima", role="participant", invited_by=host)
    ana.timezone = "America/New_York"
    ana.save()

    page = new_context(**DESKTOP).new_page()
    page.add_init_script(COUNT_TRACKS)
    page.goto(f"{server.url}/j/{ana.token}")
    assert page.inner_text("#join-name") == "Ana Lima"
    assert page.inner_text("#invited-by") == f"Invited by {host.display_name}"
    meeting_time = page.locator(".when time").first
    own_time = page.locator("#own-time time").first
    assert "meeting time, Europe/Berlin" in page.inner_text(".when")
    assert "your time, America/New_York" in page.inner_text("#own-time")
    start = meeting.occurrences.first().start
    for time in (meeting_time, own_time):
        assert datetime.fromisoformat(time.get_attribute("datetime")) == start
    assert meeting_time.get_attribute("datetime") != own_time.get_attribute("datetime")  # each in its zone

    # The fake microphone plays a tone: the meter moves with it.
    page.wait_for_selector("#preview-status:has-text('work')")
    page.wait_for_function("() => document.getElementById('mic-level').value > 0.05")
    page.wait_for_function("() => document.getElementById('mic-level').value < 0.05")
    save(page, "prejoin")
    assert_accessible(page, "the pre-join page")

    phone = new_context(**PHONE).new_page()
    phone.goto(f"{server.url}/j/{ana.token}")
    phone.wait_for_selector("#preview-status:has-text('work')")
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= phone.viewport_size["width"]  # nothing sticks out
    save(phone, "prejoin-phone")
    phone.context.close()  # its camera would go on running

    page.check("#join-muted")
    page.click("#join-button")
    page.wait_for_url(re.compile(r".*/room/\?muted=1$"))
    page.wait_for_selector("#toggle-mic[aria-pressed=true]:has-text('Unmute')")
    page.wait_for_selector("#people li:has-text('Ana Lima') small:has-text('muted')")  # the server knows too
    page.click("#toggle-mic")
    page.wait_for_selector("#people li:has-text('Ana Lima') small:not(:has-text('muted'))")


def test_a_moderator_on_a_phone_sees_who_waits_and_admits_them_from_the_sheet(new_context, server, acme, host):
    meeting = MeetingFactory(organization=acme, owner=host, title="Clinic", waiting_room=True,
                             start=timezone.now() + timedelta(minutes=5))
    hana = open_room(new_context, server, InvitationFactory(meeting=meeting, display_name="Hana", role="host"),
                     device=PHONE)
    pete = open_room(new_context, server, InvitationFactory(meeting=meeting, display_name="Pete"))

    pete.wait_for_selector("#waiting:visible")
    assert fits_without_scrolling(pete)
    assert_accessible(pete, "the room while waiting")
    hana.wait_for_selector("#show-people[data-unread='1']")
    hana.tap("#show-people")
    hana.tap("#panel [data-waiting]:has-text('Pete') button[data-action=admit]")
    pete.wait_for_selector("#waiting", state="hidden")
    hana.wait_for_selector("#show-people:not([data-unread])")
    assert_fits_the_window(hana, 2)
