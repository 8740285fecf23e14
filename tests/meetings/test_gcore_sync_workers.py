"""The Gcore sync on two real Celery workers and Redis, against the Streaming API contract server:
every meeting synced twice at once, through 429s and 5xx, loses nothing and duplicates nothing, and
the two workers together never send more than 4 requests in any second."""

from collections import Counter
from datetime import timedelta

import pytest
from celery.result import AsyncResult
from django.utils import timezone

from meetings.models import OccurrenceUsage, Presence, Recording
from meetings.providers.gcore.provider import room_id
from meetings.services import attendance
from meetings.tasks import sync_meeting_task

from ..factories import GcoreMeetingFactory, InvitationFactory, ProviderAccountFactory
from ..workers import celery_workers

TOKEN = "workers-token"
HOUR_MS = 3_600_000


def video(number, room, started, hours):
    return {"id": number, "name": room, "slug": f"v{number}", "status": "ready", "duration": int(hours * HOUR_MS),
            "hls_url": f"https://cdn.example/{number}/master.m3u8", "recording_started_at": started.isoformat(),
            "converted_videos": [{"mp4_url": f"https://cdn.example/{number}/720.mp4", "width": 1280}]}


def session(peer, start, begin_minutes, end_minutes):
    joined, left = int(start.timestamp()) + begin_minutes * 60, int(start.timestamp()) + end_minutes * 60
    return {"person_id": peer, "join_time": joined, "leave_time": left, "duration": left - joined}


@pytest.mark.django_db(transaction=True)
def test_two_workers_syncing_every_meeting_twice_at_once_lose_and_duplicate_nothing(acme, gcore_api, tmp_path):
    gcore_api.reset(TOKEN)
    account = ProviderAccountFactory(organization=acme, api_token=TOKEN)
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=7)

    def meeting(begins=start, hours=5, **kwargs):
        return GcoreMeetingFactory(organization=acme, provider_account=account, start=begins,
                                   end=begins + timedelta(hours=hours), **kwargs)

    marathon = meeting()  # five hours: the provider splits its recording at four
    series = meeting(rrule="FREQ=DAILY;COUNT=2", begins=start - timedelta(days=1), hours=1)
    quiet = meeting()  # nobody came: no statistics, no recording
    ada, bo = InvitationFactory(meeting=marathon, display_name="Ada"), InvitationFactory(meeting=marathon,
                                                                                       display_name="Bo")
    cy = InvitationFactory(meeting=series, display_name="Cy")
    day_one, day_two = series.occurrences.order_by("start")
    gcore_api.set(
        videos=[video(11, room_id(marathon), start, 4), video(12, room_id(marathon), start + timedelta(hours=4), 1),
                video(21, room_id(series), day_two.start, 0.5), video(99, "serv0notours", start, 1)],
        peers={room_id(marathon): [session(ada.peer_id, start, 0, 290), session(bo.peer_id, start, 10, 60),
                                   session(bo.peer_id, start, 120, 180)],
               room_id(series): [session(cy.peer_id, day_one.start, 0, 45), session(cy.peer_id, day_two.start, 5, 25)]},
        throttle_next=2, retry_after=1, fail_next=3)

    with celery_workers(2, tmp_path, GCORE_API_BASE_URL=gcore_api.url, GCORE_BACKOFF_SECONDS="0.05",
                        OUTBOUND_ALLOW_PRIVATE_ADDRESSES="true"):
        queued = [sync_meeting_task.delay(m.pk, everything=True).id for m in (marathon, series, quiet) * 2]
        results = [AsyncResult(task_id).get(timeout=120) for task_id in queued]

    assert [r["sittings"] for r in results] == [1, 2, 1] * 2
    assert Counter(Recording.objects.values_list("provider_recording_id", flat=True)) == {"11": 1, "12": 1, "21": 1}
    assert [r.duration_seconds for r in marathon.recordings.order_by("started_at")] == [4 * 3600, 3600]
    assert series.recordings.get().occurrence == day_two
    assert Presence.objects.filter(source="statistics").count() == 5
    assert OccurrenceUsage.objects.filter(occurrence__meeting__in=[marathon, series, quiet]).count() == 4
    assert [(row.name, row.sessions, row.minutes) for row in attendance.attendance(marathon)] == [
        ("Ada", 1, 290), ("Bo", 2, 110)]
    assert [(row.name, row.sessions, row.minutes) for row in attendance.attendance(series)] == [("Cy", 2, 65)]
    log = gcore_api.log()
    # 404s are the quiet meeting's statistics ("no data"), twice each; the rest were retried through.
    assert Counter(entry["status"] for entry in log if entry["status"] >= 400) == {404: 4, 429: 2, 502: 3}
    assert gcore_api.busiest_second() <= 4


@pytest.mark.django_db(transaction=True)
def test_two_accounts_sharing_one_api_token_share_its_rate_limit(acme, gcore_api, tmp_path):
    gcore_api.reset(TOKEN)
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=7)
    accounts = [ProviderAccountFactory(organization=acme, api_token=TOKEN, name=f"Gcore {n}") for n in range(2)]
    meetings = [GcoreMeetingFactory(organization=acme, provider_account=account, start=start,
                                    end=start + timedelta(hours=1)) for account in accounts for _ in range(3)]
    gcore_api.set(videos=[video(300 + n, room_id(m), start, 1) for n, m in enumerate(meetings)])

    with celery_workers(2, tmp_path, GCORE_API_BASE_URL=gcore_api.url, GCORE_BACKOFF_SECONDS="0.05",
                        OUTBOUND_ALLOW_PRIVATE_ADDRESSES="true"):
        queued = [sync_meeting_task.delay(m.pk, everything=True).id for m in meetings]
        for task_id in queued:
            AsyncResult(task_id).get(timeout=120)

    assert Recording.objects.count() == len(meetings)
    assert not [entry for entry in gcore_api.log() if entry["status"] == 429]
    assert gcore_api.busiest_second() <= 4
