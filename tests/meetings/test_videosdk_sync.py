"""VideoSDK's attendance and recordings come home from its sessions and recordings lists, paged by
pageInfo: each participant's timelog becomes their stays, each recording is placed at its session's
start. Running the sync again, or on two real Celery workers at once, changes nothing, and the
workers together stay within the API key's rate limit."""

from collections import Counter
from datetime import timedelta

import pytest
from celery.result import AsyncResult
from django.utils import timezone

from meetings.models import OccurrenceUsage, Presence, Recording
from meetings.providers import get_provider
from meetings.providers.videosdk import api as videosdk_api_module
from meetings.services import attendance
from meetings.tasks import sync_meeting_task

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory
from ..workers import celery_workers

KEY = "0d4f6e9e-sync-videosdk-key"
SECRET = "a1b2" * 16


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def account_for(organization, **extra):
    return ProviderAccountFactory(organization=organization, name=extra.pop("name", "VideoSDK"), provider="videosdk",
                                  jwt_secret="", api_key=KEY, api_secret=SECRET, **extra)


def past_meeting(account, start, hours=1):
    meeting = MeetingFactory(organization=account.organization, provider="videosdk", provider_account=account,
                             start=start, end=start + timedelta(hours=hours))
    get_provider("videosdk", account).ensure_room(meeting)
    return meeting


def room_of(meeting) -> str:
    return meeting.provider_rooms.get().provider_room_id


def session(number, meeting, start, minutes, people):
    """A finished VideoSDK session; people: [(peer id, name, [(from minute, to minute), ...])]."""
    return {"id": f"6214975{number:05d}", "roomId": room_of(meeting), "start": iso(start),
            "end": iso(start + timedelta(minutes=minutes)), "status": "ended",
            "participants": [{"participantId": peer, "name": name,
                              "timelog": [{"start": iso(start + timedelta(minutes=a)),
                                           "end": iso(start + timedelta(minutes=b))} for a, b in stays]}
                             for peer, name, stays in people],
            "links": {"get_room": f"https://api.videosdk.live/v2/rooms/{room_of(meeting)}"}}


def recording(number, meeting, session_id, minutes, *, url=True):
    return {"id": f"rec{number:05d}", "roomId": room_of(meeting), "sessionId": session_id,
            "file": {"fileUrl": f"https://cdn.videosdk.live/encoded/videos/rec{number}.mp4" if url else None,
                     "size": 1000, "meta": {"duration": minutes * 60.5, "resolution": {"width": 1280, "height": 720}}},
            "createdAt": iso(timezone.now())}


@pytest.fixture
def api(videosdk_api, settings):
    settings.VIDEOSDK_API_BASE_URL = videosdk_api.url
    settings.VIDEOSDK_BACKOFF_SECONDS = 0.05
    videosdk_api.reset(api_key=KEY, secret=SECRET)
    return videosdk_api


def test_sessions_and_recordings_sync_through_every_page_and_a_second_run_changes_nothing(acme, api, monkeypatch):
    monkeypatch.setattr(videosdk_api_module, "PAGE_SIZE", 2)
    account = account_for(acme)
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=3)
    meeting = past_meeting(account, start)
    ada = InvitationFactory(meeting=meeting, display_name="Ada")
    bo = InvitationFactory(meeting=meeting, display_name="Bo")
    sessions = [session(1, meeting, start + timedelta(minutes=2), 55,
                        [(ada.peer_id, "Ada", [(0, 20), (25, 50)]), (bo.peer_id, "Bo", [(5, 20)]),
                         ("stranger-1", "Someone", [(1, 2)])]),
                session(2, meeting, start - timedelta(days=3), 5, [(ada.peer_id, "Ada", [(0, 5)])]),
                *[session(10 + n, meeting, start - timedelta(days=10 + n), 1, []) for n in range(3)]]
    api.set(sessions=sessions, recordings=[recording(1, meeting, sessions[0]["id"], 50),
                                           recording(2, meeting, sessions[0]["id"], 2, url=False),
                                           recording(3, meeting, "unknown-session", 1)])

    first = sync_meeting_task.apply(args=[meeting.pk], kwargs={"everything": True}).get()
    rows_after_first = sorted(Presence.objects.values_list("peer_id", "joined_at", "left_at"))
    second = sync_meeting_task.apply(args=[meeting.pk], kwargs={"everything": True}).get()

    assert (first["videos"], first["created"], first["sittings"], first["sessions"]) == (3, 3, 1, 4)
    assert (second["created"], second["sessions"]) == (0, 4)
    assert sorted(Presence.objects.values_list("peer_id", "joined_at", "left_at")) == rows_after_first
    recordings = {r.provider_recording_id: r for r in Recording.objects.filter(meeting=meeting)}
    assert recordings["rec00001"].status == "ready" and recordings["rec00001"].duration_seconds == 50 * 60.5
    assert recordings["rec00001"].download_url == "https://cdn.videosdk.live/encoded/videos/rec1.mp4"
    assert recordings["rec00001"].started_at == start + timedelta(minutes=2)  # its session's start
    assert recordings["rec00001"].occurrence == meeting.occurrences.get()
    assert recordings["rec00002"].status == "uploading"  # no file yet
    usage = OccurrenceUsage.objects.get(occurrence__meeting=meeting)
    assert (usage.participants, usage.active_seconds) == (3, 55 * 60)  # the older sessions are other days'
    rows = {row.name: (row.sessions, row.minutes) for row in attendance.attendance(meeting)}
    assert rows["Ada"] == (2, 45) and rows["Bo"] == (1, 15)
    session_pages = [r for r in api.requests("/v2/sessions/", "GET")]
    assert [r["query"]["page"] for r in session_pages[:3]] == ["1", "2", "3"]  # pageInfo.lastPage is 3
    assert all(r["query"]["roomId"] == room_of(meeting) and r["query"]["perPage"] == "2" for r in session_pages)
    assert len(api.requests("/v2/recordings", "GET")) == 2 * 2  # two pages, two syncs

    api.set(recordings=[recording(1, meeting, sessions[0]["id"], 50)])  # deleted at VideoSDK: deleted here
    assert sync_meeting_task.apply(args=[meeting.pk]).get()["removed"] == 2
    assert list(Recording.objects.values_list("provider_recording_id", flat=True)) == ["rec00001"]


def test_a_429_in_the_middle_of_paging_is_waited_out(acme, api, monkeypatch):
    monkeypatch.setattr(videosdk_api_module, "PAGE_SIZE", 1)
    account = account_for(acme)
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2)
    meeting = past_meeting(account, start)
    api.set(sessions=[session(n, meeting, start + timedelta(minutes=n), 3, []) for n in range(3)])
    provider = get_provider("videosdk", account)
    provider.client().sessions(room_of(meeting))  # page 1 of 3
    api.set(throttle_next=1, retry_after="1")

    report = get_provider("videosdk", account).fetch_sitting(meeting=meeting, start=start - timedelta(minutes=30),
                                                             end=start + timedelta(hours=2))
    assert report.active_seconds == 3 * 180
    assert [r["status"] for r in api.requests("/v2/sessions/", "GET")][3:] == [429, 200, 200, 200]


def test_a_meeting_never_joined_has_nothing_to_sync(acme, api):
    account = account_for(acme)
    meeting = MeetingFactory(organization=acme, provider="videosdk", provider_account=account,
                             start=timezone.now() - timedelta(hours=3), end=timezone.now() - timedelta(hours=2))
    result = sync_meeting_task.apply(args=[meeting.pk], kwargs={"everything": True}).get()
    assert (result["videos"], result["sessions"]) == (0, 0)
    assert not api.requests(method="GET")


@pytest.mark.django_db(transaction=True)
def test_two_workers_syncing_twice_at_once_through_429s_duplicate_nothing_and_share_one_limit(acme, api, tmp_path):
    # Two portal accounts with one VideoSDK API key: one limit between them.
    first_account, second_account = account_for(acme), account_for(acme, name="VideoSDK (events team)")
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=5)
    meetings = [past_meeting(account, start) for account in (first_account, second_account, first_account)]
    people = [InvitationFactory(meeting=m, display_name=f"P{n}") for n, m in enumerate(meetings)]
    sessions = [session(n, m, start, 40, [(people[n].peer_id, f"P{n}", [(0, 30)])]) for n, m in enumerate(meetings)]
    api.set(per_second=5, throttle_next=3, retry_after="1", sessions=sessions,
            recordings=[recording(n, m, sessions[n]["id"], 30) for n, m in enumerate(meetings)])

    with celery_workers(2, tmp_path, VIDEOSDK_API_BASE_URL=api.url, VIDEOSDK_BACKOFF_SECONDS="0.05",
                        VIDEOSDK_REQUESTS_PER_SECOND="5", OUTBOUND_ALLOW_PRIVATE_ADDRESSES="true"):
        queued = [sync_meeting_task.delay(m.pk, everything=True).id for m in meetings * 2]
        results = [AsyncResult(task_id).get(timeout=120) for task_id in queued]

    assert [r["videos"] for r in results] == [1] * 6
    assert Counter(Recording.objects.values_list("provider_recording_id", flat=True)) == {
        "rec00000": 1, "rec00001": 1, "rec00002": 1}
    assert Presence.objects.filter(source="statistics").count() == 3
    assert OccurrenceUsage.objects.filter(occurrence__meeting__in=meetings).count() == 3
    statuses = Counter(r["status"] for r in api.requests())
    assert statuses[429] == 3  # only the injected ones: the shared limiter kept the workers under the limit
    assert api.busiest_second() <= 5
