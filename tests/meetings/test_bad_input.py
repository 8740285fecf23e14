"""Careless or hostile values in the host's forms get a clear message and write nothing; titles and
names stay single lines, and a long profile name never breaks scheduling."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from meetings.models import Invitation, Meeting, Room
from meetings.services import scheduling

from ..factories import MeetingFactory, MembershipFactory, RoomFactory, UserFactory
from .test_invitations import csv_upload, url
from .test_scheduling import form


def test_opening_the_new_meeting_form_writes_nothing(as_alice, acme):
    response = as_alice.get("/o/acme/meetings/new/")

    assert response.status_code == 200 and b"My own room" in response.content
    assert not Room.objects.exists()


def test_a_first_meeting_without_a_room_gets_the_hosts_own_room(as_alice, alice):
    response = as_alice.post("/o/acme/meetings/new/", form(Room(code="")) | {"room": ""})

    assert response.status_code == 302
    assert Meeting.objects.get().room == Room.objects.get(owner=alice.user)


def test_a_refused_first_meeting_leaves_no_room_behind(as_alice):
    as_alice.post("/o/acme/meetings/new/", form(Room(code=""), max_broadcasters=500) | {"room": ""})

    assert not Room.objects.exists() and not Meeting.objects.exists()


def test_a_person_with_a_very_long_profile_name_schedules_a_meeting(client, acme):
    host = MembershipFactory(organization=acme, role="host", user=UserFactory(email="long@acme.test",
                                                                              full_name="N" * 150)).user
    client.force_login(host)

    assert client.get("/o/acme/meetings/new/").status_code == 200
    response = client.post("/o/acme/meetings/new/", form(Room(code="")) | {"room": ""})

    assert response.status_code == 302
    assert len(Invitation.objects.get(user=host).display_name) <= 120


@pytest.mark.parametrize("title", ["Board\r\nBcc: everyone@example.net", "Tab\there", "x" * 201])
def test_a_title_must_be_one_short_line(as_alice, alice, acme, title):
    room = RoomFactory(organization=acme, owner=alice.user)

    response = as_alice.post("/o/acme/meetings/new/", form(room, title=title))

    assert response.status_code == 200 and b'class="error"' in response.content
    assert not Meeting.objects.exists()
    with pytest.raises(ValidationError):
        scheduling.meeting_schedule(organization=acme, room=room, owner=alice.user, title=title,
                                    start=timezone.now() + timedelta(days=1),
                                    end=timezone.now() + timedelta(days=1, hours=1), timezone_name="UTC")


def test_a_meeting_title_with_a_line_break_cannot_be_set_on_one_occurrence(as_alice, alice, acme):
    meeting = MeetingFactory(organization=acme, owner=alice.user, title="Board")
    occurrence = meeting.occurrences.first()

    with pytest.raises(ValidationError):
        scheduling.occurrence_update(occurrence=occurrence, start=occurrence.start, end=occurrence.end,
                                     title="Board\nSubject: spoofed")
    occurrence.refresh_from_db()
    assert occurrence.title_override == ""


def test_names_longer_than_an_invitation_holds_are_reported_per_row(as_alice, alice, acme):
    meeting = MeetingFactory(organization=acme, owner=alice.user)
    text = "email,name,role\nok@example.net,Fine,participant\nlong@example.net," + "L" * 121 + ",participant\n"

    response = as_alice.post(url(meeting, "invite/csv/"), {"file": csv_upload(text)})

    assert response.status_code == 200 and b"at most 120 characters" in response.content
    assert not Invitation.objects.filter(meeting=meeting, email__in=["ok@example.net", "long@example.net"]).exists()


def test_a_pasted_name_with_a_line_break_or_over_long_address_is_refused(as_alice, alice, acme):
    meeting = MeetingFactory(organization=acme, owner=alice.user)
    local = "a" * 250

    response = as_alice.post(url(meeting, "invite/paste/"), {
        "addresses": f"{local}@example.net\nok@example.net", "role": "participant"})

    assert response.status_code == 200 and b"at most 254 characters" in response.content
    assert not Invitation.objects.filter(meeting=meeting, email="ok@example.net").exists()
    assert mail.outbox == []


@pytest.mark.parametrize("overrides", [
    {"start": "9999-12-31T20:00", "end": "9999-12-31T21:00", "timezone": "Etc/GMT+12"},
    {"max_watchers": "99999999999999999999"},
    {"max_broadcasters": "100001"},
])
def test_dates_and_limits_beyond_what_can_be_stored_are_refused(as_alice, alice, acme, overrides):
    room = RoomFactory(organization=acme, owner=alice.user)

    response = as_alice.post("/o/acme/meetings/new/", form(room, **overrides))

    assert response.status_code == 200 and b'class="error"' in response.content
    assert not Meeting.objects.exists()
    assert as_alice.get("/o/acme/").status_code == 200
