"""A host schedules a recurring meeting and invites people; an invitee joins from the emailed link."""

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.formats import date_format

from meetings.models import Invitation, JoinSession, Meeting

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.browser
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@pytest.fixture
def host(acme):
    user = UserFactory(email="hugo@acme.test", full_name="Hugo Host", password="hugo's passphrase")
    return MembershipFactory(organization=acme, role="host", user=user).user


def link_in_email(address: str) -> str:
    [message] = [m for m in mail.outbox if m.to == [address]]
    return re.search(r"http://\S+/j/[A-Za-z0-9_-]{43}", message.body).group(0)


def on_live_server(url: str, live_server) -> str:
    return live_server.url + url[url.index("/j/"):]


def test_host_schedules_invites_and_an_invitee_joins_from_the_email(new_context, page, live_server, host, screenshot):
    # The host signs in with a password (Acme has no identity provider).
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Work email or organization short name").fill("acme")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Email").fill("hugo@acme.test")
    page.get_by_label("Password").fill("hugo's passphrase")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/o/acme/")

    # Schedules a weekly meeting starting in ten minutes, three sittings.
    page.get_by_role("link", name="Schedule a meeting").click()
    start = (timezone.now() + timedelta(minutes=10)).astimezone(BERLIN)
    page.get_by_label("Title").fill("Design review")
    page.fill("input[name=start]", start.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("select[name=duration]", "60")
    page.select_option("select[name=frequency]", "weekly")
    page.check(f"input[name=weekdays][value={WEEKDAY_CODES[start.weekday()]}]")
    page.fill("input[name=count]", "3")
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_selector("text=is scheduled (3 occurrences)")
    meeting = Meeting.objects.get(title="Design review")
    assert meeting.rrule == f"FREQ=WEEKLY;BYDAY={WEEKDAY_CODES[start.weekday()]};COUNT=3"

    # Invites three people with different roles: one by email, one pasted, one by CSV.
    page.click("summary:has-text('One person by email')")
    page.fill("#invite input[name=email]", "mona@example.net")
    page.fill("#invite input[name=display_name]", "Mona Moderator")
    page.select_option("#invite form[action$='/invite/'] select[name=role]", "moderator")
    page.click("#invite form[action$='/invite/'] button")
    page.wait_for_selector("text=mona@example.net was invited")
    page.click("summary:has-text('Paste a list of addresses')")
    page.fill("textarea[name=addresses]", "Pia Participant <pia@example.net>")
    page.select_option("form[action$='/invite/paste/'] select[name=role]", "participant")
    page.click("form[action$='/invite/paste/'] button")
    page.wait_for_selector("text=1 person was invited")
    page.click("summary:has-text('Upload a CSV')")
    page.set_input_files("input[name=file]", files=[{
        "name": "people.csv", "mimeType": "text/csv",
        "buffer": b"email,name,role,language\nivan@example.net,Ivan Interpreter,interpreter,de\n"}])
    page.click("form[action$='/invite/csv/'] button")
    page.wait_for_selector("text=1 person was invited")
    roles = dict(Invitation.objects.filter(meeting=meeting).values_list("email", "role"))
    assert roles == {"hugo@acme.test": "host", "mona@example.net": "moderator", "pia@example.net": "participant",
                     "ivan@example.net": "interpreter"}
    screenshot("meeting-page")

    # Pia opens the link from her email in her own browser, sees the pre-join page, and joins.
    pia_link = on_live_server(link_in_email("pia@example.net"), live_server)
    pia = new_context().new_page()
    response = pia.goto(pia_link)
    assert response.status == 200
    assert pia.inner_text("#join-name") == "Pia Participant" and pia.inner_text("#join-role") == "Participant"
    pia.wait_for_selector("text=Camera and microphone work.")
    screenshot_of(pia, "pre-join")
    pia.click("#join-button")
    pia.wait_for_url(f"{pia_link}/room/")
    pia.wait_for_selector("h1:has-text('Design review')")  # the room itself is tested on ASGI servers
    screenshot_of(pia, "room")
    assert JoinSession.objects.get(invitation__email="pia@example.net").ended_at is None

    # The host withdraws Ivan's link; Ivan's emailed link then shows the withdrawn page with 401.
    page.goto(f"{live_server.url}/o/acme/meetings/{meeting.code}/")
    page.click("tr[data-invitee='ivan@example.net'] >> text=Withdraw")
    page.get_by_role("button", name="Withdraw the link").click()
    ivan = new_context().new_page()
    withdrawn = ivan.goto(on_live_server(link_in_email("ivan@example.net"), live_server))
    assert withdrawn.status == 401
    assert ivan.inner_text("h1") == "This link was withdrawn"

    # Pia sees herself in the room on the host's page.
    page.goto(f"{live_server.url}/o/acme/meetings/{meeting.code}/")
    assert page.inner_text("tr[data-invitee='pia@example.net'] .state") == "In the room"


def screenshot_of(page, name):
    from .conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_an_early_link_shows_when_the_meeting_starts_with_425(new_context, live_server, acme):
    start = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    invitation = InvitationFactory(meeting=MeetingFactory(organization=acme, title="Tomorrow's talk",
                                                          start=start, end=start + timedelta(hours=1)))
    page = new_context(timezone_id="Asia/Tokyo").new_page()

    response = page.goto(f"{live_server.url}/j/{invitation.token}")

    assert response.status == 425
    assert page.inner_text("h1") == "The meeting has not started yet"
    when = page.inner_text(".when")
    assert date_format(start.astimezone(zoneinfo.ZoneInfo(invitation.timezone)), "DATETIME_FORMAT") in when
    assert "Asia/Tokyo" in when  # the browser's own zone is added by the page's script
