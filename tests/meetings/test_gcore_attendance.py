"""Gcore statistics sync and attendance: events and statistics merge into one history per person."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership
from meetings.models import MeetingSync, OccurrenceUsage, Presence
from meetings.providers.gcore.provider import room_id
from meetings.services import attendance
from meetings.services.sync import meetings_due
from meetings.tasks import sync_hosted_meetings, sync_meeting_task

from ..factories import GcoreMeetingFactory, InvitationFactory, MeetingFactory, ProviderAccountFactory, UserFactory

TOKEN = "stats-token"


@pytest.fixture
def account(acme, gcore_api, settings):
    settings.GCORE_API_BASE_URL = gcore_api.url
    settings.GCORE_BACKOFF_SECONDS = 0.05
    gcore_api.reset(TOKEN)
    return ProviderAccountFactory(organization=acme, api_token=TOKEN)


def past_meeting(account, *, ended_ago=timedelta(hours=2), **kwargs):
    start = timezone.now().replace(second=0, microsecond=0) - ended_ago - timedelta(hours=1)
    return GcoreMeetingFactory(organization=account.organization, provider_account=account,
                               owner=account_owner(account), start=start, end=start + timedelta(hours=1), **kwargs)


def account_owner(account):
    return Membership.objects.filter(organization=account.organization).first().user


def stat(peer, start, begin_minutes, end_minutes):
    joined, left = start.timestamp() + begin_minutes * 60, start.timestamp() + end_minutes * 60
    return {"person_id": peer, "join_time": int(joined), "leave_time": int(left), "duration": int(left - joined)}


@pytest.fixture
def meeting(account):
    meeting = past_meeting(account)
    eve = InvitationFactory(meeting=meeting, display_name="Eve", role="participant")
    finn = InvitationFactory(meeting=meeting, display_name="Finn", role="moderator")
    start = meeting.start
    # Eve's two stays, as the join and leave events saw them ...
    for joined, left in ((0.2, 20), (40, 60)):
        attendance.record_join(meeting=meeting, peer_id=eve.peer_id, at=start + timedelta(minutes=joined))
        attendance.record_leave(meeting=meeting, peer_id=eve.peer_id, at=start + timedelta(minutes=left))
    # ... and as the statistics did, 30 s apart; Finn's events were lost; one peer the portal never issued.
    meeting.stats = [stat(eve.peer_id, start, 0.5, 20.5), stat(eve.peer_id, start, 40, 60),
                     stat(finn.peer_id, start, 5, 35), stat("3f1c-guid-of-someone", start, 10, 15)]
    return meeting


def table(meeting):
    return [(row.name, row.role, row.sessions, row.minutes) for row in attendance.attendance(meeting)]


def test_events_and_statistics_merge_into_one_history_per_person_without_double_counting(meeting, gcore_api):
    gcore_api.set(peers={room_id(meeting): meeting.stats})

    result = sync_meeting_task.apply(args=[meeting.pk]).get()

    assert result["sittings"] == 1 and result["sessions"] == 4
    assert table(meeting) == [("Eve", "Participant", 2, 40), ("Finn", "Moderator", 1, 30),
                              ("Unknown participant 3f1c-guid-of", "—", 1, 5)]
    [eve, *_] = attendance.attendance(meeting)
    assert eve.first_join == meeting.start + timedelta(seconds=12)
    assert eve.last_leave == meeting.start + timedelta(minutes=60)
    usage = OccurrenceUsage.objects.get(occurrence__meeting=meeting)
    assert (usage.participants, usage.active_seconds, usage.final) == (3, 3600 - 30, True)


def test_running_the_sync_again_changes_nothing(meeting, gcore_api):
    gcore_api.set(peers={room_id(meeting): meeting.stats})
    sync_meeting_task.apply(args=[meeting.pk], kwargs={"everything": True})
    before = (list(Presence.objects.order_by("pk").values()), table(meeting))

    sync_meeting_task.apply(args=[meeting.pk], kwargs={"everything": True})

    assert (list(Presence.objects.order_by("pk").values()), table(meeting)) == before


def test_each_sitting_of_a_series_is_read_over_its_own_window(account, gcore_api):
    meeting = past_meeting(account, ended_ago=timedelta(days=1, hours=2), rrule="FREQ=DAILY;COUNT=2")
    first, second = meeting.occurrences.order_by("start")
    eve = InvitationFactory(meeting=meeting, display_name="Eve")
    stats = [stat(eve.peer_id, first.start, 0, 60), stat(eve.peer_id, second.start, 0, 10),
             stat("guest", second.start, 0, 10)]
    gcore_api.set(peers={room_id(meeting): stats})

    sync_meeting_task.apply(args=[meeting.pk])

    assert (first.usage.participants, second.usage.participants) == (1, 2)
    assert table(meeting)[0] == ("Eve", "Participant", 2, 70)
    assert Presence.objects.get(peer_id="guest").occurrence == second


def test_the_beat_syncs_ended_meetings_until_their_statistics_are_final(account, gcore_api,
                                                                       django_capture_on_commit_callbacks):
    settled = past_meeting(account)  # its window closed 1.5 h ago: the first read is final
    recent = past_meeting(account, ended_ago=timedelta(minutes=45))  # closed 15 min ago: read again later
    upcoming = GcoreMeetingFactory(organization=account.organization, provider_account=account)
    assert set(meetings_due()) == {settled, recent}

    with django_capture_on_commit_callbacks(execute=True):  # each sync is sent once its record commits
        assert sync_hosted_meetings.apply().get() == 2

    assert list(meetings_due()) == [recent]
    assert not OccurrenceUsage.objects.get(occurrence__meeting=recent).final
    assert MeetingSync.objects.get(meeting=settled).last_success_at is not None
    assert upcoming in meetings_due(timezone.now() + timedelta(hours=2))  # due once it is over
    assert settled in meetings_due(timezone.now() + timedelta(hours=25))  # a day on: recordings may change


def test_the_host_syncs_now_and_sees_the_attendance_table_and_its_csv(meeting, gcore_api, client,
                                                                      django_capture_on_commit_callbacks):
    gcore_api.set(peers={room_id(meeting): meeting.stats})
    client.force_login(meeting.owner)
    page = client.get(f"/o/acme/meetings/{meeting.code}/").content.decode()
    assert "Not synced yet" in page

    with django_capture_on_commit_callbacks(execute=True):  # the worker's turn comes after the commit
        client.post(f"/o/acme/meetings/{meeting.code}/sync/")

    page = client.get(f"/o/acme/meetings/{meeting.code}/").content.decode()
    assert "Syncing with Gcore Meet" in page and "Last synced" in page
    assert page.index("Eve") < page.index("Finn") < page.index("Unknown participant")
    exported = client.get(f"/o/acme/meetings/{meeting.code}/attendance.csv")
    assert exported["Content-Type"].startswith("text/csv")
    assert exported["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0] == ["Person", "Email", "Role", "Sessions", "First join (UTC)", "Last leave (UTC)", "Minutes"]
    assert rows[1][0] == "Eve" and rows[1][3:] == ["2", f"{meeting.start + timedelta(seconds=12):%Y-%m-%d %H:%M:%S}",
                                                   f"{meeting.start + timedelta(hours=1):%Y-%m-%d %H:%M:%S}", "40"]


def test_a_failed_sync_is_shown_and_keeps_what_was_there(meeting, gcore_api, client):
    gcore_api.set(peers={room_id(meeting): meeting.stats})
    sync_meeting_task.apply(args=[meeting.pk], kwargs={"everything": True})
    gcore_api.set(fail_next=1000)

    assert sync_meeting_task.apply(args=[meeting.pk], kwargs={"everything": True}, retries=8).failed()

    client.force_login(meeting.owner)
    page = client.get(f"/o/acme/meetings/{meeting.code}/").content.decode()
    assert "did not answer" in page and "Eve" in page
    assert len(table(meeting)) == 3


def test_an_operator_syncs_from_admin_and_sees_where_the_sync_stands(meeting, gcore_api, client,
                                                                      django_capture_on_commit_callbacks):
    gcore_api.set(peers={room_id(meeting): meeting.stats})
    builtin = MeetingFactory(organization=meeting.organization)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/meetings/meeting/", {"action": "sync_now",
                                                            "_selected_action": [meeting.pk, builtin.pk]}, follow=True)

    assert "Sync queued for 1 meeting(s); 1 on the built-in provider have nothing to sync." in response.content.decode()
    assert len(table(meeting)) == 3
    page = client.get(f"/admin/meetings/meeting/{meeting.pk}/change/").content.decode()
    assert "Provider sync" in page and "&quot;sessions&quot;: 4" in page
