"""Gcore's recordings and statistics (Streaming API), mapped to the portal's provider-neutral reports."""

from collections.abc import Iterator
from datetime import UTC, datetime

from ..base import ProviderRecording, ProviderStay, SittingReport
from .streaming import StreamingClient

READY_STATUSES = {"ready", "viewable"}


def moment(value) -> datetime | None:
    """Gcore's times: UNIX seconds, or ISO 8601."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _download_url(video: dict) -> str:
    """The original MP4: the seed's origin_host + origin_resource where Gcore gives them, else the
    largest converted MP4, else origin_url (the current API's fields)."""
    host, resource = video.get("origin_host"), video.get("origin_resource")
    if isinstance(host, str) and host and isinstance(resource, str) and resource:
        host = host.removeprefix("https://").removeprefix("http://").strip("/")
        return f"https://{host}/{resource.lstrip('/')}"
    ready = [c for c in video.get("converted_videos") or [] if c.get("mp4_url")]
    if ready:
        return max(ready, key=lambda c: c.get("width") or 0)["mp4_url"]
    return video.get("origin_url") or ""


def recordings(account, room: str) -> Iterator[ProviderRecording]:
    """The room's videos (a session over four hours arrives as several), one at a time. The search's
    pages are read first, keeping only the ids, so the listing is as quick as before and a video
    deleted meanwhile cannot shift another out of it; then each video's metadata when it is its turn,
    so a room of thousands of recordings costs its ids and one video, not every video's answer."""
    client = StreamingClient(account)
    ids = dict.fromkeys(listed["id"] for page in client.video_pages(room) for listed in page)
    for video_id in ids:
        video = client.video(video_id)
        if video is None:  # deleted between the search and now
            continue
        yield ProviderRecording(
            provider_id=str(video["id"]), ready=video.get("status") in READY_STATUSES,
            started_at=moment(video.get("recording_started_at")) or moment(video.get("created_at")),
            duration_seconds=(video.get("duration") or 0) / 1000,  # the API gives milliseconds
            hls_url=video.get("hls_url") or "", download_url=_download_url(video))


def sitting(account, room: str, start: datetime, end: datetime) -> SittingReport:
    client = StreamingClient(account)
    summary = client.room_summary(room, start, end) or {}
    stays = []
    for item in client.room_peers(room, start, end):
        joined, left = moment(item.get("join_time")), moment(item.get("leave_time"))
        if item.get("person_id") and joined is not None:
            stays.append(ProviderStay(peer_id=str(item["person_id"]), joined_at=joined, left_at=left or joined))
    return SittingReport(participants=summary.get("participants") or 0, active_seconds=summary.get("duration") or 0,
                         first_join=moment(summary.get("start_time")), last_leave=moment(summary.get("end_time")),
                         stays=stays)
