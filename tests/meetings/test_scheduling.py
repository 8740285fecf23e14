"""Hosts schedule one-off and recurring meetings, edit a series or one occurrence, cancel, hand over."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from meetings.models import Meeting, Occurrence

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory, RoomFactory, UserFactory

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture
def host(acme):
    return MembershipFactory(organization=acme, role="host", user=UserFactory(email="hana@acme.test",
                                                                              full_name="Hana Host"))


@pytest.fixture
def as_host(client, host):
    client.force_login(host.user)
    return client


def next_monday_at(hour):
    today = timezone.now().astimezone(BERLIN).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime(monday.year, monday.month, monday.day, hour, 0)


def form(room, **overrides):
    start = next_monday_at(9)
    end = start + timedelta(minutes=45)
    data = {"room": room.code, "title": "Team sync", "description": "Weekly", "timezone": "Europe/Berlin",
            "start": start.strftime("%Y-%m-%dT%H:%M"), "end": end.strftime("%Y-%m-%dT%H:%M"),
            "kind": "call", "raise_hand": "on", "chat_enabled": "on", "max_broadcasters": 8, "max_watchers": 20,
            "region": "serv0", "interface_language": "", "provider": "builtin", "frequency": "", "count": ""}
    data.update(overrides)
    return data


def test_a_host_schedules_a_one_off_meeting_and_becomes_its_host_invitee(as_host, host, acme):
    room = RoomFactory(organization=acme, owner=host.user)

    response = as_host.post("/o/acme/meetings/new/", form(room))

    meeting = Meeting.objects.get(title="Team sync")
    assert response["Location"] == f"/o/acme/meetings/{meeting.code}/"
    assert meeting.start == next_monday_at(9).replace(tzinfo=BERLIN)
    assert meeting.occurrences.count() == 1
    assert meeting.invitations.get().role == "host"
    page = as_host.get(response["Location"])
    assert b"Join as host" in page.content


def test_a_weekly_series_on_chosen_weekdays_keeps_its_local_time_across_daylight_saving(as_host, host, acme):
    room = RoomFactory(organization=acme, owner=host.user)

    # Summer time starts in Berlin on 30 March 2031, in the middle of these six sittings.
    as_host.post("/o/acme/meetings/new/", form(room, start="2031-03-17T09:00", end="2031-03-17T09:45",
                                               frequency="weekly", weekdays=["MO", "WE"], count=6))

    meeting = Meeting.objects.get()
    starts = [o.start.astimezone(BERLIN) for o in meeting.occurrences.all()]
    assert meeting.rrule == "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6"
    assert [s.day for s in starts] == [17, 19, 24, 26, 31, 2]
    assert {s.strftime("%a %H:%M") for s in starts} == {"Mon 09:00", "Wed 09:00"}
    assert len({s.utcoffset() for s in starts}) == 2  # both winter and summer time, same wall clock


def test_a_monthly_series_can_end_on_a_date(as_host, host, acme):
    room = RoomFactory(organization=acme, owner=host.user)

    as_host.post("/o/acme/meetings/new/", form(room, start="2031-01-15T09:00", end="2031-01-15T10:00",
                                               frequency="monthly", until="2031-04-15"))

    meeting = Meeting.objects.get()
    assert meeting.rrule == "FREQ=MONTHLY;UNTIL=20310415T215959Z"
    assert [o.start.astimezone(BERLIN).strftime("%m-%d %H:%M") for o in meeting.occurrences.all()] == [
        "01-15 09:00", "02-15 09:00", "03-15 09:00", "04-15 09:00"]


@pytest.mark.parametrize("overrides, message", [
    ({"end": "2020-01-01T00:00"}, b"must end after it starts"),
    ({"start": "2020-01-01T09:00", "end": "2020-01-01T10:00"}, b"cannot start in the past"),
    ({"frequency": "weekly", "count": "5"}, b"Choose the weekdays"),
    ({"frequency": "daily"}, b"Say when the series ends"),
    ({"max_broadcasters": 50}, b"use a hosted provider"),
])
def test_invalid_schedules_are_refused_and_what_was_typed_stays(as_host, host, acme, overrides, message):
    room = RoomFactory(organization=acme, owner=host.user)

    response = as_host.post("/o/acme/meetings/new/", form(room, title="Kept title", **overrides))

    assert response.status_code == 200 and message in response.content
    assert b'value="Kept title"' in response.content
    assert not Meeting.objects.exists()


def test_too_long_a_meeting_is_refused(as_host, host, acme):
    room = RoomFactory(organization=acme, owner=host.user)
    start = next_monday_at(9)

    too_late = (start + timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M")
    response = as_host.post("/o/acme/meetings/new/", form(room, end=too_late))

    assert b"between 5 minutes and 24 hours" in response.content


def test_members_cannot_schedule(client, bob):
    client.force_login(bob.user)

    assert client.get("/o/acme/meetings/new/").status_code == 403


def test_editing_the_series_moves_future_occurrences_but_not_one_edited_on_its_own(as_host, host, acme,
                                                                                django_capture_on_commit_callbacks):
    room = RoomFactory(organization=acme, owner=host.user)
    as_host.post("/o/acme/meetings/new/", form(room, frequency="weekly", weekdays=["MO"], count=4))
    meeting = Meeting.objects.get()
    guest = InvitationFactory(meeting=meeting, email="guest@example.net")
    first, second, *_ = meeting.occurrences.all()
    moved = second.start.astimezone(BERLIN) + timedelta(hours=2)
    as_host.post(f"/o/acme/meetings/{meeting.code}/occurrences/{second.code}/edit/", {
        "title": "Special session", "start": moved.strftime("%Y-%m-%dT%H:%M"),
        "end": (moved + timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M")})

    with django_capture_on_commit_callbacks(execute=True):
        as_host.post(f"/o/acme/meetings/{meeting.code}/edit/", form(
            room, title="Team sync (new time)", start=next_monday_at(10).strftime("%Y-%m-%dT%H:%M"),
            end=(next_monday_at(10) + timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M"),
            frequency="weekly", weekdays=["MO"], count=4))

    meeting.refresh_from_db()
    by_slot = {o.original_start: o for o in meeting.occurrences.all()}
    times = sorted(o.start.astimezone(BERLIN).strftime("%H:%M") for o in by_slot.values())
    assert times == ["10:00", "10:00", "10:00", "11:00"]
    special = Occurrence.objects.get(pk=second.pk)
    assert (special.title, special.start.astimezone(BERLIN).hour) == ("Special session", 11)
    assert meeting.ical_sequence == 2
    assert [m.subject for m in mail.outbox if m.to == [guest.email]] == ["Updated: Team sync (new time)"]


def test_cancelling_one_occurrence_keeps_the_series(as_host, host, acme, django_capture_on_commit_callbacks):
    room = RoomFactory(organization=acme, owner=host.user)
    as_host.post("/o/acme/meetings/new/", form(room, frequency="daily", count=3))
    meeting = Meeting.objects.get()
    InvitationFactory(meeting=meeting)
    second = meeting.occurrences.all()[1]
    confirm = as_host.get(f"/o/acme/meetings/{meeting.code}/occurrences/{second.code}/cancel/")
    assert b"Cancel this occurrence" in confirm.content

    with django_capture_on_commit_callbacks(execute=True):
        as_host.post(f"/o/acme/meetings/{meeting.code}/occurrences/{second.code}/cancel/")

    assert [o.status for o in meeting.occurrences.all()] == ["scheduled", "cancelled", "scheduled"]
    assert mail.outbox[-1].subject.startswith("Cancelled: Team sync")


def test_cancelling_a_meeting_asks_first_then_tells_every_invitee(as_host, host, acme,
                                                                  django_capture_on_commit_callbacks):
    meeting = MeetingFactory(organization=acme, owner=host.user)
    guests = [InvitationFactory(meeting=meeting) for _ in range(2)]
    assert b"Cancel the meeting" in as_host.get(f"/o/acme/meetings/{meeting.code}/cancel/").content
    assert Meeting.objects.get(pk=meeting.pk).status == "scheduled"

    with django_capture_on_commit_callbacks(execute=True):
        as_host.post(f"/o/acme/meetings/{meeting.code}/cancel/")

    assert Meeting.objects.get(pk=meeting.pk).status == "cancelled"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(g.email for g in guests)
    assert all(m.subject == f"Cancelled: {meeting.title}" for m in mail.outbox)


def test_an_admin_hands_over_the_meetings_of_someone_who_left(client, alice, acme):
    leaver = MembershipFactory(organization=acme, role="host")
    meeting = MeetingFactory(organization=acme, owner=leaver.user)
    guest = InvitationFactory(meeting=meeting)
    leaver.delete()
    client.force_login(alice.user)

    client.post(f"/o/acme/meetings/{meeting.code}/transfer/", {"new_owner": alice.user.pk})

    assert Meeting.objects.get(pk=meeting.pk).owner == alice.user
    assert client.get(f"/j/{guest.token}").status_code == 200  # the meeting keeps working


def test_other_hosts_do_not_see_a_meeting_they_do_not_manage(client, acme, host):
    meeting = MeetingFactory(organization=acme, owner=UserFactory())
    client.force_login(host.user)

    assert client.get(f"/o/acme/meetings/{meeting.code}/").status_code == 404


def test_the_dashboard_shows_times_in_the_viewers_zone(client, acme, host):
    start = datetime(2031, 3, 3, 9, 0, tzinfo=BERLIN)
    MeetingFactory(organization=acme, owner=host.user, title="Berlin standup", start=start,
                   end=start + timedelta(hours=1))
    client.force_login(host.user)

    berlin_view = client.get("/o/acme/").content.decode()
    host.user.timezone = "Asia/Tokyo"
    host.user.save()
    tokyo_view = client.get("/o/acme/").content.decode()

    assert "Mon 3 Mar 2031, 09:00" in berlin_view and "times shown in Europe/Berlin" in berlin_view
    assert "Mon 3 Mar 2031, 17:00" in tokyo_view and "times shown in Asia/Tokyo" in tokyo_view


def test_the_pre_join_page_shows_the_time_in_the_invitees_zone(client, acme):
    start = timezone.now().astimezone(BERLIN).replace(second=0, microsecond=0) + timedelta(minutes=10)
    meeting = MeetingFactory(organization=acme, start=start, end=start + timedelta(hours=1))
    guest = InvitationFactory(meeting=meeting)
    guest.timezone = "Asia/Tokyo"
    guest.save()

    page = client.get(f"/j/{guest.token}").content.decode()

    tokyo = start.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert f"{tokyo:%H:%M}" in page and "your time, Asia/Tokyo" in page


def test_an_empty_dashboard_says_what_to_do(client, host):
    client.force_login(host.user)

    page = client.get("/o/acme/")

    assert b"No upcoming meetings" in page.content and b"Schedule a meeting" in page.content
