"""Recordings sync from Gcore's Streaming API: upsert on the provider's id, deletions follow."""

from collections import Counter
from datetime import timedelta

import pytest

from accounts.models import Membership
from meetings.models import Recording
from meetings.providers.gcore.provider import room_id
from meetings.tasks import sync_meeting_task

from ..factories import GcoreMeetingFactory, ProviderAccountFactory

TOKEN = "sync-token"


@pytest.fixture
def meeting(acme, gcore_api, settings):
    settings.GCORE_API_BASE_URL = gcore_api.url
    settings.GCORE_BACKOFF_SECONDS = 0.05
    gcore_api.reset(TOKEN)
    account = ProviderAccountFactory(organization=acme, api_token=TOKEN)
    return GcoreMeetingFactory(organization=acme, provider_account=account)


def video(room, number, *, hours=1.0, status="ready"):
    return {"id": 500 + number, "name": room, "slug": f"rec-{number}", "status": status,
            "duration": int(hours * 3_600_000), "hls_url": f"https://cdn.example/{number}/master.m3u8",
            "converted_videos": [{"mp4_url": f"https://cdn.example/{number}/360.mp4", "width": 640},
                                 {"mp4_url": f"https://cdn.example/{number}/1080.mp4", "width": 1920}]}


def test_a_long_session_split_by_the_provider_becomes_several_recordings(meeting, gcore_api):
    room = room_id(meeting)
    gcore_api.set(videos=[video(room, 1, hours=4), video(room, 2, hours=1.5), video("serv0someoneelse", 3)])

    result = sync_meeting_task.apply(args=[meeting.pk]).get()

    assert (result["videos"], result["created"], result["removed"]) == (2, 2, 0)
    recordings = {r.provider_recording_id: r for r in Recording.objects.filter(meeting=meeting)}
    assert set(recordings) == {"501", "502"}
    assert recordings["501"].duration_seconds == 4 * 3600 and recordings["502"].duration_seconds == 5400
    assert recordings["501"].download_url == "https://cdn.example/1/1080.mp4"
    assert recordings["501"].hls_url == "https://cdn.example/1/master.m3u8" and recordings["501"].status == "ready"


def test_running_the_sync_again_changes_nothing_and_deletions_follow(meeting, gcore_api):
    room = room_id(meeting)
    gcore_api.set(videos=[video(room, 1), video(room, 2, status="pending")])
    sync_meeting_task.apply(args=[meeting.pk])
    before = list(Recording.objects.order_by("pk").values())

    again = sync_meeting_task.apply(args=[meeting.pk]).get()
    assert again["created"] == 0 and list(Recording.objects.order_by("pk").values()) == before

    gcore_api.set(videos=[video(room, 2)])
    assert sync_meeting_task.apply(args=[meeting.pk]).get()["removed"] == 1
    assert list(Recording.objects.values_list("provider_recording_id", "status")) == [("502", "ready")]


def test_an_outage_raises_for_a_later_retry_and_loses_nothing(meeting, gcore_api):
    room = room_id(meeting)
    gcore_api.set(videos=[video(room, 1)])
    sync_meeting_task.apply(args=[meeting.pk])
    gcore_api.set(fail_next=1000)

    outcome = sync_meeting_task.apply(args=[meeting.pk], retries=8)  # the last allowed attempt

    assert outcome.failed()
    assert list(Recording.objects.values_list("provider_recording_id", flat=True)) == ["501"]


def test_synced_recordings_show_on_the_meeting_page(meeting, gcore_api, client):
    gcore_api.set(videos=[video(room_id(meeting), 1)])
    sync_meeting_task.apply(args=[meeting.pk])
    client.force_login(meeting.owner)
    Membership.objects.create(organization=meeting.organization, user=meeting.owner, role="host")

    page = client.get(f"/o/acme/meetings/{meeting.code}/").content.decode()

    assert "https://cdn.example/1/master.m3u8" in page and "https://cdn.example/1/1080.mp4" in page


def test_downloads_use_the_seeds_origin_host_and_resource_where_gcore_gives_them(meeting, gcore_api):
    room = room_id(meeting)
    original = {**video(room, 1), "origin_host": "s-ed1.cloud.gcore.lu",
                "origin_resource": "9208-mediaplatform10835/videos/UaX2pjxen2guUw3.mp4"}
    half = {**video(room, 2), "origin_host": "s-ed1.cloud.gcore.lu", "origin_resource": ""}
    legacy = {**video(room, 3), "converted_videos": [], "origin_url": "https://cdn.example/3/original.mp4"}
    gcore_api.set(videos=[original, half, legacy])

    sync_meeting_task.apply(args=[meeting.pk])

    downloads = dict(Recording.objects.values_list("provider_recording_id", "download_url"))
    assert downloads == {
        "501": "https://s-ed1.cloud.gcore.lu/9208-mediaplatform10835/videos/UaX2pjxen2guUw3.mp4",
        "502": "https://cdn.example/2/1080.mp4",  # one of the two is not enough
        "503": "https://cdn.example/3/original.mp4"}


def test_a_room_of_several_pages_syncs_every_recording_to_its_sitting_and_a_rerun_follows_the_provider(
        meeting, gcore_api, settings):
    """More recordings than one page of Gcore's search (and one batch of the sync): all arrive, each
    with its sitting; once Gcore has processed them and deleted one, the next sync shows exactly that."""
    settings.GCORE_REQUESTS_PER_SECOND = 1000
    room = room_id(meeting)
    sitting = meeting.occurrences.get()
    during, week_before = meeting.start + timedelta(minutes=5), meeting.start - timedelta(days=7)
    videos = [{**video(room, n, status="pending" if n % 2 else "ready"),
               "recording_started_at": (during if n == 1 else week_before + timedelta(hours=n)).isoformat()}
              for n in range(1, 131)]
    gcore_api.set(videos=videos, per_second=1000)

    first = sync_meeting_task.apply(args=[meeting.pk]).get()

    assert (first["videos"], first["created"], first["removed"]) == (130, 130, 0)
    rows = {r.provider_recording_id: r for r in Recording.objects.filter(meeting=meeting)}
    assert len(rows) == 130 and rows["501"].occurrence == sitting
    assert [r for r in rows.values() if r.occurrence is not None] == [rows["501"]]
    assert Counter(r.status for r in rows.values()) == {"uploading": 65, "ready": 65}

    gcore_api.set(videos=[{**v, "status": "ready"} for v in videos if v["id"] != 600])
    again = sync_meeting_task.apply(args=[meeting.pk]).get()

    assert (again["videos"], again["created"], again["removed"]) == (129, 0, 1)
    assert set(Recording.objects.values_list("status", flat=True)) == {"ready"}
    assert "600" not in set(Recording.objects.values_list("provider_recording_id", flat=True))
    assert Recording.objects.get(provider_recording_id="501").occurrence == sitting
