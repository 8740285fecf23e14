"""The schedule form as a host fills it in: room defaults applied, hidden repeat fields ignored, a
start typed as "now" accepted, meet now, invitees in the same step, and a series' rule changed."""

import zoneinfo
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from meetings.models import Invitation, Meeting, Occurrence, Room

from ..factories import MeetingFactory, MembershipFactory, RoomFactory, UserFactory
from .test_scheduling import form

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture
def host(acme):
    return MembershipFactory(organization=acme, role="host", user=UserFactory(email="hana@acme.test",
                                                                              full_name="Hana Host")).user


@pytest.fixture
def as_host(client, host):
    client.force_login(host)
    return client


@pytest.fixture
def own_room(acme, host):
    return RoomFactory(organization=acme, owner=host, name="Hana's room")


@pytest.fixture
def board_room(acme, alice):
    return RoomFactory(organization=acme, owner=alice.user, name="Board room", waiting_room=True, chat_enabled=False)


def local(moment):
    return moment.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


# --- Room defaults ---------------------------------------------------------------------------------

def test_the_form_carries_every_rooms_defaults_for_the_browser(as_host, own_room, board_room):
    page = as_host.get("/o/acme/meetings/new/").content.decode()

    assert 'id="room-defaults"' in page
    assert f'"{board_room.code}": {{"kind": "call", "waiting_room": true' in page
    assert f'name="settings_from" value="{own_room.code}"' in page


def test_a_room_with_a_waiting_room_gives_the_meeting_one_when_the_host_left_it_alone(as_host, own_room, board_room):
    # The form showed the host's own room's settings (no waiting room, chat on); the host picked the
    # board room without touching the settings, as a browser without schedule.js would send it.
    data = form(board_room, settings_from=own_room.code)
    data.pop("waiting_room", None)

    as_host.post("/o/acme/meetings/new/", data)

    meeting = Meeting.objects.get()
    assert meeting.room == board_room
    assert (meeting.waiting_room, meeting.chat_enabled) == (True, False)


def test_a_setting_the_host_changed_wins_over_the_rooms_default(as_host, own_room, board_room):
    # schedule.js filled the board room's settings (settings_from follows), then the host unticked
    # the waiting room: that choice stands.
    data = form(board_room, settings_from=board_room.code)
    data.pop("waiting_room", None)

    as_host.post("/o/acme/meetings/new/", data)

    assert Meeting.objects.get().waiting_room is False


def test_another_organizations_room_counts_for_nothing_as_the_shown_room(as_host, own_room, board_room):
    stranger = RoomFactory(name="Elsewhere", chat_enabled=False)  # another organization's room
    data = form(board_room, settings_from=stranger.code)
    data.pop("waiting_room", None)

    as_host.post("/o/acme/meetings/new/", data)

    meeting = Meeting.objects.get()
    assert (meeting.waiting_room, meeting.chat_enabled) == (False, True)  # as sent


# --- Repeat fields and times -----------------------------------------------------------------------

def test_repeat_fields_are_ignored_when_the_meeting_does_not_repeat(as_host, own_room):
    response = as_host.post("/o/acme/meetings/new/", form(own_room, frequency="", count="lots",
                                                          weekdays=["XX"], until="not a date"))

    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert (meeting.rrule, meeting.occurrences.count()) == ("", 1)


def test_a_series_ending_in_the_far_future_is_a_form_error_in_any_zone(as_host, own_room):
    response = as_host.post("/o/acme/meetings/new/", form(own_room, frequency="daily", count="",
                                                          until="9999-12-31", timezone="America/New_York"))

    assert response.status_code == 200 and "Give an end date before 2200." in response.content.decode()
    assert not Meeting.objects.exists()


def test_a_duration_sets_the_end(as_host, own_room):
    data = form(own_room, duration="30")
    data.pop("end")

    as_host.post("/o/acme/meetings/new/", data)

    meeting = Meeting.objects.get()
    assert meeting.end - meeting.start == timedelta(minutes=30)


def test_editing_offers_the_duration_so_a_new_start_moves_the_end_along(as_host, own_room):
    as_host.post("/o/acme/meetings/new/", form(own_room))  # 45 minutes
    meeting = Meeting.objects.get()
    page = as_host.get(f"/o/acme/meetings/{meeting.code}/edit/").content.decode()
    assert '<option value="45" selected>' in page and 'name="end" value=' not in page

    later = meeting.start + timedelta(hours=2)
    data = form(own_room, start=local(later), duration="45")
    data.pop("end")
    as_host.post(f"/o/acme/meetings/{meeting.code}/edit/", data)

    meeting.refresh_from_db()
    assert (meeting.start, meeting.end) == (later, later + timedelta(minutes=45))


def test_a_start_typed_as_now_is_accepted_and_the_meeting_can_be_joined_at_once(as_host, own_room):
    start = timezone.now() - timedelta(minutes=10)
    response = as_host.post("/o/acme/meetings/new/", form(own_room, start=local(start),
                                                          end=local(start + timedelta(hours=1))))

    meeting = Meeting.objects.get()
    page = as_host.get(response["Location"]).content.decode()
    join_url = page.split('href="/j/', 1)[1].split('"', 1)[0]
    joined = as_host.post(f"/j/{join_url}")
    assert joined.status_code == 302 and joined["Location"] == f"/j/{join_url}/room/"
    assert meeting.occurrences.get().sessions.count() == 1


def test_a_start_further_in_the_past_is_refused_with_a_clear_message(as_host, own_room):
    start = timezone.now() - timedelta(minutes=20)
    response = as_host.post("/o/acme/meetings/new/", form(own_room, start=local(start),
                                                          end=local(start + timedelta(hours=1))))

    assert response.status_code == 200
    assert "cannot start in the past (more than 15 minutes ago)" in response.content.decode()
    assert not Meeting.objects.exists()


# --- Meet now --------------------------------------------------------------------------------------

def test_meet_now_starts_an_hour_in_the_host_room_and_goes_to_the_host_join_link(as_host, host, own_room):
    before = timezone.now()

    response = as_host.post("/o/acme/meet-now/")

    meeting = Meeting.objects.get()
    invitation = meeting.invitations.get()
    assert (meeting.room, meeting.owner, invitation.role) == (own_room, host, "host")
    assert before - timedelta(minutes=1) <= meeting.start <= timezone.now()
    assert meeting.end - meeting.start == timedelta(hours=1)
    assert response.status_code == 302 and response["Location"].startswith("/j/")
    assert as_host.get(response["Location"]).status_code == 200  # the pre-join page, not "too early"


def test_meet_now_from_the_form_uses_the_picked_room_and_title(as_host, own_room, board_room):
    as_host.post("/o/acme/meet-now/", {"room": board_room.code, "title": "Quick call"})

    meeting = Meeting.objects.get()
    assert (meeting.room, meeting.title, meeting.waiting_room) == (board_room, "Quick call", True)


def test_meet_now_makes_a_first_room_and_ignores_a_foreign_one(as_host, host):
    stranger = RoomFactory(name="Elsewhere")

    as_host.post("/o/acme/meet-now/", {"room": stranger.code})

    meeting = Meeting.objects.get()
    assert meeting.room.owner == host and meeting.room.organization.slug == "acme"


@pytest.mark.parametrize("title", ["a\x00b", "x" * 201, "two\nlines"])
def test_meet_now_with_a_bad_title_says_why_and_starts_nothing(as_host, own_room, title):
    response = as_host.post("/o/acme/meet-now/", {"room": own_room.code, "title": title}, follow=True)

    assert response.status_code == 200
    assert "The meeting could not start" in response.content.decode()
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("code", ["ab\x00cd", "x" * 500])
def test_meet_now_with_a_malformed_room_code_falls_back_to_the_hosts_room(as_host, own_room, code):
    response = as_host.post("/o/acme/meet-now/", {"room": code})

    assert response.status_code == 302 and response["Location"].startswith("/j/")
    assert Meeting.objects.get().room == own_room


def test_meet_now_needs_a_post_and_a_host(as_host, client, bob):
    assert as_host.get("/o/acme/meet-now/").status_code == 405
    client.force_login(bob.user)
    assert client.post("/o/acme/meet-now/").status_code == 403
    assert not Meeting.objects.exists()


def test_the_dashboard_offers_meet_now_as_a_form(as_host, own_room):
    page = as_host.get("/o/acme/").content.decode()

    assert 'action="/o/acme/meet-now/"' in page and "csrfmiddlewaretoken" in page


# --- Invitees while scheduling ---------------------------------------------------------------------

def test_invitees_listed_while_scheduling_are_invited_and_emailed(as_host, own_room,
                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_host.post("/o/acme/meetings/new/", form(own_room, invitees=(
            "Ada Lovelace <ada@example.com>\n\nbob@example.com, moderator\n"
            "Zoë Ünal <zoe@example.com>, interpreter, de\n")))

    meeting = Meeting.objects.get()
    assert response.status_code == 302
    invited = {i.email: (i.display_name, i.role, i.language) for i in meeting.invitations.exclude(role="host")}
    assert invited == {"ada@example.com": ("Ada Lovelace", "participant", ""),
                       "bob@example.com": ("bob", "moderator", ""),
                       "zoe@example.com": ("Zoë Ünal", "interpreter", "de")}
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "bob@example.com", "zoe@example.com"]
    assert "3 people were invited" in as_host.get(response["Location"]).content.decode()


def test_one_bad_invitee_row_schedules_nothing_and_reports_each_row(as_host, host, acme):
    response = as_host.post("/o/acme/meetings/new/", form(Room(code=""), title="Kept title", invitees=(
        "ada@example.com\nnot-an-address\nada@example.com\nbob@example.com, viewer\n"
        "carl@example.com, interpreter")) | {"room": ""})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nobody was invited and nothing was scheduled" in page
    assert "not a valid email address" in page and "also on line 1" in page
    assert "is not a role in this meeting" in page and "An interpreter needs the language" in page
    assert 'value="Kept title"' in page and "not-an-address" in page  # what was typed stays
    assert not Meeting.objects.exists() and not Invitation.objects.exists()
    assert not Room.objects.exists()  # nor the host's first room


@pytest.mark.parametrize("text", ["a\x00b@example.com", "x" * 200_001])
def test_malformed_invitee_text_is_a_form_error(as_host, own_room, text):
    response = as_host.post("/o/acme/meetings/new/", form(own_room, invitees=text))

    assert response.status_code == 200
    assert not Meeting.objects.exists()


# --- Changing a series' rule -----------------------------------------------------------------------

def test_editing_a_series_rule_replans_the_future_and_keeps_the_past(as_host, host, acme,
                                                                     django_capture_on_commit_callbacks):
    start = (timezone.now() - timedelta(days=7)).replace(second=0, microsecond=0)
    meeting = MeetingFactory(organization=acme, owner=host, room=RoomFactory(organization=acme, owner=host),
                             start=start, end=start + timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=4")
    held, _this_week, next_week, last = meeting.occurrences.all()
    Occurrence.objects.filter(pk=held.pk).update(status=Occurrence.Status.ENDED)
    Occurrence.objects.filter(pk=next_week.pk).update(status=Occurrence.Status.CANCELLED)
    page = as_host.get(f"/o/acme/meetings/{meeting.code}/edit/").content.decode()
    assert '<option value="weekly" selected>' in page and 'name="count" value="4"' in page

    with django_capture_on_commit_callbacks(execute=True):
        as_host.post(f"/o/acme/meetings/{meeting.code}/edit/", form(
            meeting.room, title=meeting.title, start=local(start), end=local(start + timedelta(hours=1)),
            frequency="daily", count="10"))

    meeting.refresh_from_db()
    assert meeting.rrule == "FREQ=DAILY;COUNT=10"
    assert Occurrence.objects.get(pk=held.pk).status == "ended"  # the sitting already held stays
    assert not Occurrence.objects.filter(pk=last.pk).exists()  # an untouched future one made way
    # The cancelled one has no day in the new rule (it ends after 10 days): it stays cancelled.
    assert Occurrence.objects.get(pk=next_week.pk).status == "cancelled"
    future = meeting.occurrences.filter(start__gt=timezone.now(), status="scheduled")
    days = [(o.start - start).days for o in future]
    assert days == list(range(days[0], 10)) and days[0] <= 8
    assert all((o.end - o.start) == timedelta(hours=1) for o in future)


def test_a_one_off_meeting_can_become_a_series_when_edited(as_host, own_room):
    as_host.post("/o/acme/meetings/new/", form(own_room))
    meeting = Meeting.objects.get()

    as_host.post(f"/o/acme/meetings/{meeting.code}/edit/", form(
        own_room, start=local(meeting.start), end=local(meeting.end), frequency="weekly", weekdays=["MO", "TU"],
        count="4"))

    meeting.refresh_from_db()
    assert meeting.rrule == "FREQ=WEEKLY;BYDAY=MO,TU;COUNT=4"
    assert meeting.occurrences.count() == 4
