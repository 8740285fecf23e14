"""iCalendar attachments and feeds, read back with the icalendar library."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from meetings import links
from meetings.models import Invitation
from meetings.services import scheduling
from meetings.tasks import send_meeting_email, send_reminders

from ..factories import InvitationFactory, MeetingFactory, UserFactory


def attached_calendar(message) -> Calendar:
    [(name, content, mimetype)] = [a for a in message.attachments if a[0] == "invite.ics"]
    assert mimetype.startswith("text/calendar")
    return Calendar.from_ical(content)


def events(calendar):
    return [c for c in calendar.walk("VEVENT")]


@pytest.fixture
def series(acme):
    owner = UserFactory(email="owner@acme.test", full_name="Olga Owner")
    meeting = MeetingFactory(organization=acme, owner=owner, title="Weekly sync", description="Agenda in the doc",
                             rrule="FREQ=WEEKLY;COUNT=4")
    guest = InvitationFactory(meeting=meeting, email="guest@example.net", display_name="Gina Guest", role="moderator")
    return meeting, guest


def test_the_invitation_carries_a_request_with_the_personal_link(series):
    meeting, guest = series
    send_meeting_email(guest.pk, "invitation", None)

    calendar = attached_calendar(mail.outbox[0])
    [event] = events(calendar)
    join_url = f"http://127.0.0.1:8000/j/{guest.token}"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == meeting.ical_uid and int(event["SEQUENCE"]) == 0
    assert str(event["ORGANIZER"]) == "mailto:owner@acme.test" and event["ORGANIZER"].params["CN"] == "Olga Owner"
    assert str(event["ATTENDEE"]) == "mailto:guest@example.net"
    assert event["ATTENDEE"].params["CN"] == "Gina Guest" and event["ATTENDEE"].params["ROLE"] == "CHAIR"
    assert str(event["URL"]) == join_url and join_url in str(event["DESCRIPTION"])
    assert "Agenda in the doc" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART") == meeting.start and event.decoded("DTEND") == meeting.end
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=4"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_changes_raise_the_sequence_and_mark_moved_and_cancelled_occurrences(series):
    meeting, guest = series
    first, second, third, _ = meeting.occurrences.all()
    moved_start = second.start + timedelta(hours=1)
    scheduling.occurrence_update(occurrence=second, start=moved_start, end=second.end + timedelta(hours=1),
                                 title="Moved sync")
    scheduling.occurrence_cancel(occurrence=third)
    meeting.refresh_from_db()

    send_meeting_email(guest.pk, "update", None)

    master, moved = events(attached_calendar(mail.outbox[-1]))
    assert int(master["SEQUENCE"]) == 2 == meeting.ical_sequence
    assert [d.dt for d in master["EXDATE"].dts] == [third.original_start]
    assert str(moved["UID"]) == meeting.ical_uid and moved.decoded("RECURRENCE-ID") == second.original_start
    assert moved.decoded("DTSTART") == moved_start and str(moved["SUMMARY"]) == "Moved sync"


def test_cancellations_send_a_cancel_for_the_meeting_or_one_occurrence(series):
    meeting, guest = series
    third = meeting.occurrences.all()[2]

    send_meeting_email(guest.pk, "cancel", third.pk)
    one = events(attached_calendar(mail.outbox[-1]))[0]
    send_meeting_email(guest.pk, "cancel", None)
    whole_calendar = attached_calendar(mail.outbox[-1])

    assert one.decoded("RECURRENCE-ID") == third.original_start and str(one["STATUS"]) == "CANCELLED"
    assert str(whole_calendar["METHOD"]) == "CANCEL"
    [whole] = events(whole_calendar)
    assert "RECURRENCE-ID" not in whole and str(whole["UID"]) == meeting.ical_uid


def test_the_email_says_when_in_the_invitees_zone_in_text_and_html(series):
    meeting, guest = series
    Invitation.objects.filter(pk=guest.pk).update(timezone="America/Sao_Paulo")

    send_meeting_email(guest.pk, "invitation", None)

    message = mail.outbox[0]
    local = timezone.localtime(meeting.start, __import__("zoneinfo").ZoneInfo("America/Sao_Paulo"))
    assert f"{local:%H:%M}" in message.body and "(America/Sao_Paulo)" in message.body
    html = message.alternatives[0][0]
    assert f"{local:%H:%M}" in html and guest.token in html


def test_reminders_go_once_per_occurrence(acme, django_capture_on_commit_callbacks):
    meeting = MeetingFactory(organization=acme, start=timezone.now() + timedelta(minutes=30))
    InvitationFactory(meeting=meeting)

    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders() == 1
        assert send_reminders() == 0
    assert len(mail.outbox) == 1 and mail.outbox[-1].subject == f"Starting soon: {meeting.title}"


def test_a_personal_feed_lists_upcoming_meetings_and_can_be_revoked(client, acme, bob):
    meeting = MeetingFactory(organization=acme, title="Feed me")
    InvitationFactory(meeting=meeting, email=bob.user.email)
    client.force_login(bob.user)
    client.post("/account/calendar/")
    page = client.get("/account/calendar/").content.decode()
    feed_path = page.split('aria-label="Calendar feed address"')[0].rsplit(settings.SITE_URL, 1)[1].split('"')[0]

    feed = Calendar.from_ical(client.get(feed_path).content)
    client.post("/account/calendar/")

    [event] = events(feed)
    assert str(event["SUMMARY"]) == "Feed me" and "/j/" in str(event["URL"])
    assert client.get(feed_path).status_code == 404
    assert client.get(f"/calendar/{links.derive_token('nope')}.ics").status_code == 404


def test_every_link_names_the_sites_address_not_the_requests_host(client, acme, bob, settings,
                                                                   django_capture_on_commit_callbacks):
    """Behind a proxy or on another port the Host header is wrong; SITE_URL is the one source."""
    settings.SITE_URL = "https://meet.example.org"
    meeting = MeetingFactory(organization=acme, title="Addressed")
    client.force_login(bob.user)
    client.post("/account/calendar/", HTTP_HOST="127.0.0.1:8130")
    page = client.get("/account/calendar/", HTTP_HOST="127.0.0.1:8130").content.decode()
    assert 'value="https://meet.example.org/calendar/' in page and "8130" not in page

    with django_capture_on_commit_callbacks(execute=True):
        InvitationFactory(meeting=meeting, email="guest@example.net")
        send_meeting_email(Invitation.objects.get(email="guest@example.net").pk, "invitation", None)
    [message] = [m for m in mail.outbox if m.to == ["guest@example.net"]]
    assert "https://meet.example.org/j/" in message.body
    ics = Calendar.from_ical(message.attachments[0][1])
    assert str(events(ics)[0]["URL"]).startswith("https://meet.example.org/j/")
