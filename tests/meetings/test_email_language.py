"""Emails speak the recipient's language (their own setting, else their organization's locale), carry the
organization's name and a clear button, and give the time in the recipient's zone and the meeting's."""

import zoneinfo

import pytest
from django.core import mail
from django.utils import timezone

from meetings.models import Invitation
from meetings.tasks import send_meeting_email

from ..factories import InvitationFactory, MeetingFactory


@pytest.fixture
def meeting(alice):
    return MeetingFactory(organization=alice.organization, owner=alice.user, title="Roadmap",
                          timezone="Europe/Berlin")


def invite(meeting, email, zone="America/New_York"):
    guest = InvitationFactory(meeting=meeting, email=email)
    Invitation.objects.filter(pk=guest.pk).update(timezone=zone)
    send_meeting_email(guest.pk, "invitation", None)
    [message] = [m for m in mail.outbox if m.to == [email]]
    return message, message.alternatives[0][0]


def test_an_invitation_is_branded_and_gives_both_zones(meeting):
    message, html = invite(meeting, "nina@example.net")
    start = meeting.occurrences.get().start
    in_new_york = timezone.localtime(start, zoneinfo.ZoneInfo("America/New_York"))
    in_berlin = timezone.localtime(start, zoneinfo.ZoneInfo("Europe/Berlin"))

    assert message.subject == "Invitation: Roadmap"
    assert ">Acme</td>" in html and ">Join the meeting</a>" in html and 'lang="en"' in html
    for body in (message.body, html):
        assert f"{in_new_york:%H:%M}" in body and "(America/New_York)" in body
        assert f"{in_berlin:%H:%M}" in body
        assert "in the meeting's time zone (Europe/Berlin)" in body.replace("&#x27;", "'")


def test_one_zone_only_when_the_invitee_shares_the_meetings(meeting):
    message, _html = invite(meeting, "bernd@example.net", zone="Europe/Berlin")

    assert "(Europe/Berlin)" in message.body and "meeting's time zone" not in message.body


def test_an_organization_in_german_gets_german_emails_and_calendar_text(meeting, acme):
    acme.default_locale = "de"
    acme.save(update_fields=["default_locale"])

    message, html = invite(meeting, "greta@example.net")
    ics = message.attachments[0][1]
    ics = ics.decode() if isinstance(ics, bytes) else ics

    assert message.subject == "Einladung: Roadmap"
    assert 'lang="de"' in html and "Join the meeting" not in html
    assert "Your role" not in message.body and "Roadmap" in message.body
    assert "Join:" not in ics.replace("\r\n ", "") and "/j/" in ics
