"""In Chromium: the schedule form a host fills in a minute. Essentials first, the rest under "More
options", repeat details only for a repeat, a picked room's settings filled in, invitees in the same
step, and "Meet now" from the dashboard straight to the host's join link."""

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from meetings.models import Meeting, Room

from ..factories import MeetingFactory, MembershipFactory, RoomFactory, UserFactory
from .conftest import ARTIFACTS, assert_accessible

pytestmark = pytest.mark.browser

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

DESKTOP = {"viewport": {"width": 1200, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def signed_in(context, live_server, user):
    client = Client()
    client.force_login(user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def host(acme):
    user = MembershipFactory(organization=acme, role="host",
                             user=UserFactory(email="hana@acme.test", full_name="Hana Host")).user
    RoomFactory(organization=acme, owner=user, name="Hana's room")
    RoomFactory(organization=acme, owner=user, name="The board room", waiting_room=True, chat_enabled=False)
    return user


def field(page, label):
    """A form control by its label as shown, with or without Django's trailing colon."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}:?\s*$"))


def weekday_boxes(page):
    return [field(page, day) for day in WEEKDAY_NAMES]


@pytest.mark.parametrize("device, shot", [(DESKTOP, "schedule-form"), (PHONE, "schedule-form-phone")])
def test_the_form_shows_essentials_first_and_repeat_details_only_for_a_repeat(new_context, live_server, host,
                                                                              device, shot):
    page = signed_in(new_context(**device), live_server, host)
    page.goto(f"{live_server.url}/o/acme/meetings/new/")

    for label in ("Title", "Starts", "Duration", "Time zone", "Room", "Kind", "Repeats", "Invite people"):
        expect(field(page, label)).to_be_visible()
    expect(field(page, "Time zone")).to_have_value("Europe/Berlin")
    # Everything else waits under "More options".
    for label in ("Description", "Provider", "Waiting room", "Chat"):
        expect(field(page, label)).to_be_hidden()
    expect(field(page, "Ends after (occurrences)")).to_be_hidden()
    for box in weekday_boxes(page):
        expect(box).to_be_hidden()

    field(page, "Repeats").select_option("monthly")
    expect(field(page, "Ends after (occurrences)")).to_be_visible()
    expect(field(page, "Mon")).to_be_hidden()  # weekdays are for weekly only
    field(page, "Repeats").select_option("weekly")
    days = page.locator("fieldset.weekdays").bounding_box()
    boxes = [box.bounding_box() for box in weekday_boxes(page)]
    assert all(days["x"] <= box["x"] and box["x"] + box["width"] <= days["x"] + days["width"] for box in boxes), \
        "a weekday box left its group"
    rows = sorted({round(box["y"]) for box in boxes})
    assert len(rows) == 1 if page.viewport_size["width"] >= 1000 else len(rows) <= 3, "one row, wrapped on a phone"
    # Wrapping keeps the days in reading order, left to right, row after row.
    assert [(round(b["y"]), b["x"]) for b in boxes] == sorted((round(b["y"]), b["x"]) for b in boxes)

    # "Other" as the duration opens "More options" at the end field.
    field(page, "Duration").select_option("")
    expect(field(page, "Or ends at")).to_be_focused()
    expect(field(page, "Waiting room")).to_be_visible()
    expect(field(page, "Region")).to_be_hidden()  # a Gcore option, not for the built-in provider
    field(page, "Repeats").select_option("weekly")
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    assert_accessible(page, f"the schedule form ({shot})")


def test_picking_a_room_fills_in_its_settings_and_the_meeting_keeps_them(new_context, live_server, host):
    page = signed_in(new_context(**DESKTOP), live_server, host)
    page.goto(f"{live_server.url}/o/acme/meetings/new/")
    page.get_by_text("More options").click()
    expect(field(page, "Waiting room")).not_to_be_checked()
    expect(field(page, "Chat")).to_be_checked()

    field(page, "Room").select_option(label="The board room")
    expect(field(page, "Waiting room")).to_be_checked()
    expect(field(page, "Chat")).not_to_be_checked()
    field(page, "Title").fill("Board meeting")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_text("“Board meeting” is scheduled.")).to_be_visible()

    meeting = Meeting.objects.get(title="Board meeting")
    assert (meeting.room.name, meeting.waiting_room, meeting.chat_enabled) == ("The board room", True, False)


def test_invitees_are_checked_row_by_row_and_invited_with_the_meeting(new_context, live_server, host):
    page = signed_in(new_context(**DESKTOP), live_server, host)
    page.goto(f"{live_server.url}/o/acme/meetings/new/")
    field(page, "Title").fill("Planning")
    invitees = field(page, "Invite people")
    invitees.fill("Ada Lovelace <ada@example.com>\nbob@example, moderator")
    page.get_by_role("button", name="Schedule", exact=True).click()

    report = page.locator("#import-report")
    expect(report).to_contain_text("not a valid email address")
    expect(page.get_by_text("Nobody was invited and nothing was scheduled")).to_be_visible()
    expect(field(page, "Title")).to_have_value("Planning")
    assert not Meeting.objects.filter(title="Planning").exists()
    assert_accessible(page, "the schedule form with a refused invitee row")
    page.screenshot(path=str(ARTIFACTS / "schedule-form-invitee-report.png"), full_page=True)

    invitees.fill("Ada Lovelace <ada@example.com>\nbob@example.com, moderator")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_text("2 people were invited")).to_be_visible()
    meeting = Meeting.objects.get(title="Planning")
    assert set(meeting.invitations.values_list("email", "role")) == {
        ("hana@acme.test", "host"), ("ada@example.com", "participant"), ("bob@example.com", "moderator")}


def test_meet_now_on_the_dashboard_takes_the_host_into_a_meeting_starting_now(new_context, live_server, host):
    page = signed_in(new_context(**DESKTOP), live_server, host)
    page.goto(f"{live_server.url}/o/acme/")
    expect(page.get_by_role("link", name="Schedule a meeting")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard-meet-now.png"))
    assert_accessible(page, "the dashboard with Meet now")

    page.get_by_role("button", name="Meet now").click()

    expect(page).to_have_url(re.compile(r"/j/[^/]+$"))
    expect(page.get_by_role("button", name="Join")).to_be_enabled()
    meeting = Meeting.objects.get()
    assert meeting.title == "Hana Host's meeting" and meeting.room.name == "Hana's room"


def test_editing_a_series_shows_its_rule_and_can_change_it(new_context, live_server, host):
    start = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    meeting = MeetingFactory(organization=host.memberships.get().organization, owner=host,
                             room=Room.objects.get(name="Hana's room"), start=start, end=start + timedelta(minutes=30),
                             rrule=f"FREQ=WEEKLY;BYDAY={WEEKDAY_CODES[start.astimezone(BERLIN).weekday()]};COUNT=4")
    page = signed_in(new_context(**DESKTOP), live_server, host)
    page.goto(f"{live_server.url}/o/acme/meetings/{meeting.code}/edit/")

    expect(field(page, "Repeats")).to_have_value("weekly")
    expect(field(page, WEEKDAY_NAMES[start.astimezone(BERLIN).weekday()])).to_be_checked()
    expect(field(page, "Ends after (occurrences)")).to_have_value("4")
    expect(field(page, "Duration")).to_have_value("30")
    page.screenshot(path=str(ARTIFACTS / "schedule-form-edit.png"), full_page=True)
    assert_accessible(page, "the edit form of a series")

    field(page, "Repeats").select_option("daily")
    expect(field(page, "Mon")).to_be_hidden()
    field(page, "Ends after (occurrences)").fill("3")
    page.get_by_role("button", name="Save and notify invitees").click()
    expect(page.get_by_text("The meeting was updated")).to_be_visible()

    meeting.refresh_from_db()
    assert meeting.rrule == "FREQ=DAILY;COUNT=3"
    assert [o.start - start for o in meeting.occurrences.all()] == [timedelta(days=n) for n in range(3)]
