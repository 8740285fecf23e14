"""SignalWire's attendance and recordings come home by polling (it sends no video webhooks): room
sessions with their members and recordings, every list followed through links.next. Running the sync
again, or on two real Celery workers at once, changes nothing, and the workers together stay within
the credential's rate limit."""

from collections import Counter
from datetime import timedelta

import pytest
from celery.result import AsyncResult
from django.utils import timezone

from meetings.models import OccurrenceUsage, Presence, Recording
from meetings.providers.signalwire.provider import room_name
from meetings.services import attendance
from meetings.tasks import sync_meeting_task

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory
from ..workers import celery_workers

PROJECT = "5f0c7c50-7b3a-4a3e-9d1e-3f1b2a9c0d11"
TOKEN = "PTsync-token"


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def account_for(organization, **extra):
    return ProviderAccountFactory(organization=organization, name=extra.pop("name", "SignalWire"),
                                  provider="signalwire", jwt_secret="", join_mode="video",
                                  space_host="acme.signalwire.com", project_id=PROJECT, api_token=TOKEN, **extra)


def past_meeting(account, start, hours=1, **settings):
    return MeetingFactory(organization=account.organization, provider="signalwire", provider_account=account,
                          start=start, end=start + timedelta(hours=hours), **settings)


def room_session(number, meeting, start, minutes):
    return {"id": f"rs-{number}", "name": room_name(meeting), "room_id": f"room-{meeting.pk}", "status": "completed",
            "start_time": iso(start), "end_time": iso(start + timedelta(minutes=minutes)), "duration": minutes * 60}


def member(number, start, begin, end, *, peer=None, name="Someone"):
    row = {"id": f"m-{number}", "name": name, "join_time": iso(start + timedelta(minutes=begin)),
           "leave_time": iso(start + timedelta(minutes=end)), "duration": (end - begin) * 60}
    if peer:
        row["meta"] = {"peer_id": peer}
    return row


def recording(number, start, minutes, status="completed"):
    return {"id": f"rec-{number}", "status": status, "duration": minutes * 60, "size_in_bytes": 1000,
            "format": "mp4", "uri": f"https://files.signalwire.example/{number}.mp4" if status == "completed" else None,
            "started_at": iso(start), "created_at": iso(start)}


@pytest.fixture
def api(signalwire_api, settings):
    settings.SIGNALWIRE_BASE_URL = signalwire_api.url
    settings.SIGNALWIRE_BACKOFF_SECONDS = 0.05
    signalwire_api.reset(project_id=PROJECT, api_token=TOKEN)
    return signalwire_api


def test_sessions_members_and_recordings_sync_through_every_page_and_a_second_run_changes_nothing(acme, api):
    account = account_for(acme)
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=3)
    meeting = past_meeting(account, start)
    ada = InvitationFactory(meeting=meeting, display_name="Ada")
    InvitationFactory(meeting=meeting, display_name="Bo")  # matched by name: no peer id in its meta
    crowd = [member(n, start, 1, 30, name=f"Guest {n}") for n in range(230)]  # three pages of 100
    api.set(sessions=[room_session(1, meeting, start, 55), room_session(9, meeting, start - timedelta(days=3), 5)],
            members={"rs-1": [member("a", start, 0, 50, peer=ada.peer_id), member("b", start, 5, 20, name="Bo"),
                              *crowd]},
            recordings={"rs-1": [recording(1, start, 50), recording(2, start + timedelta(minutes=51), 2,
                                                                    status="processing")]})

    first = sync_meeting_task.apply(args=[meeting.pk], kwargs={"everything": True}).get()
    rows_after_first = sorted(Presence.objects.values_list("peer_id", "joined_at", "left_at"))
    second = sync_meeting_task.apply(args=[meeting.pk], kwargs={"everything": True}).get()

    assert (first["videos"], first["created"], first["sittings"], first["sessions"]) == (2, 2, 1, 232)
    assert (second["created"], second["sessions"]) == (0, 232)
    assert sorted(Presence.objects.values_list("peer_id", "joined_at", "left_at")) == rows_after_first
    recordings = {r.provider_recording_id: r for r in Recording.objects.filter(meeting=meeting)}
    assert recordings["rec-1"].status == "ready" and recordings["rec-1"].duration_seconds == 3000
    assert recordings["rec-1"].download_url == "https://files.signalwire.example/1.mp4"
    assert recordings["rec-2"].status == "uploading"
    usage = OccurrenceUsage.objects.get(occurrence__meeting=meeting)
    assert (usage.participants, usage.active_seconds) == (232, 55 * 60)  # the older session is another sitting's
    rows = {row.name: (row.sessions, row.minutes) for row in attendance.attendance(meeting)}
    assert rows["Ada"] == (1, 50) and rows["Bo"] == (1, 15)  # by the token's peer id, else by name
    member_pages = api.requests("/api/video/room_sessions/rs-1/members", "GET")
    assert len(member_pages) == 2 * 3 and "page_token" in member_pages[1]["query"]

    api.set(recordings={"rs-1": [recording(1, start, 50)]})  # deleted at SignalWire: deleted here
    assert sync_meeting_task.apply(args=[meeting.pk]).get()["removed"] == 1
    assert list(Recording.objects.values_list("provider_recording_id", flat=True)) == ["rec-1"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_syncing_twice_at_once_through_429s_duplicate_nothing_and_share_one_limit(acme, api, tmp_path):
    # Two portal accounts with one SignalWire credential: one limit between them.
    first_account, second_account = account_for(acme), account_for(acme, name="SignalWire (events team)")
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=5)
    meetings = [past_meeting(account, start) for account in (first_account, second_account, first_account)]
    people = [InvitationFactory(meeting=m, display_name=f"P{n}") for n, m in enumerate(meetings)]
    api.set(per_second=5, throttle_next=3, retry_after="1",
            sessions=[room_session(n, m, start, 40) for n, m in enumerate(meetings)],
            members={f"rs-{n}": [member(n, start, 0, 30, peer=people[n].peer_id)] for n in range(3)},
            recordings={f"rs-{n}": [recording(n, start, 30)] for n in range(3)})

    with celery_workers(2, tmp_path, SIGNALWIRE_BASE_URL=api.url, SIGNALWIRE_BACKOFF_SECONDS="0.05",
                        SIGNALWIRE_REQUESTS_PER_SECOND="5", OUTBOUND_ALLOW_PRIVATE_ADDRESSES="true"):
        queued = [sync_meeting_task.delay(m.pk, everything=True).id for m in meetings * 2]
        results = [AsyncResult(task_id).get(timeout=120) for task_id in queued]

    assert [r["videos"] for r in results] == [1] * 6
    assert Counter(Recording.objects.values_list("provider_recording_id", flat=True)) == {
        "rec-0": 1, "rec-1": 1, "rec-2": 1}
    assert Presence.objects.filter(source="statistics").count() == 3
    assert OccurrenceUsage.objects.filter(occurrence__meeting__in=meetings).count() == 3
    statuses = Counter(r["status"] for r in api.requests())
    assert statuses[429] == 3  # only the injected ones: the shared limiter kept the workers under the limit
    assert api.busiest_second() <= 5
