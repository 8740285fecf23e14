"""Bringing a hosted provider's data home: recordings of a meeting, upserted on the provider's id.

Running a sync twice, or in two workers at once, changes nothing the second time: rows are keyed by
the provider's id (a unique constraint settles a race), and a recording that the provider no longer
has is removed here too.
"""

from django.db import IntegrityError, transaction

from ..models import Meeting, Recording
from ..providers.gcore import room_id
from ..providers.gcore_streaming import StreamingClient

READY_STATUSES = {"ready", "viewable"}


def _download_url(video: dict) -> str:
    ready = [c for c in video.get("converted_videos") or [] if c.get("mp4_url")]
    if ready:
        return max(ready, key=lambda c: c.get("width") or 0)["mp4_url"]
    return video.get("origin_url") or ""


def sync_recordings(meeting: Meeting) -> dict:
    """Upsert the provider's videos of this meeting (a long session arrives as several videos)."""
    client = StreamingClient(meeting.provider_account)
    seen, created = set(), 0
    for found in client.videos_for_room(room_id(meeting)):
        video = client.video(found["id"])
        if video is None:  # deleted between the search and now
            continue
        seen.add(str(video["id"]))
        values = {
            "organization_id": meeting.organization_id, "meeting": meeting,
            "status": Recording.Status.READY if video.get("status") in READY_STATUSES else Recording.Status.UPLOADING,
            "duration_seconds": (video.get("duration") or 0) / 1000,  # the API gives milliseconds
            "hls_url": video.get("hls_url") or "", "download_url": _download_url(video),
            "content_type": "application/vnd.apple.mpegurl",
        }
        try:
            with transaction.atomic():
                _, was_created = Recording.objects.update_or_create(
                    provider=meeting.provider, provider_recording_id=str(video["id"]), defaults=values)
        except IntegrityError:  # another worker created it a moment ago
            Recording.objects.filter(provider=meeting.provider, provider_recording_id=str(video["id"])).update(
                **{k: v for k, v in values.items() if k != "meeting"})
            was_created = False
        created += was_created
    gone = meeting.recordings.filter(provider=meeting.provider).exclude(provider_recording_id="").exclude(
        provider_recording_id__in=seen)
    removed, _ = gone.delete()
    return {"videos": len(seen), "created": created, "removed": removed}
