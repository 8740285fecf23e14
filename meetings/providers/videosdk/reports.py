"""Recordings and attendance from VideoSDK's sessions and recordings lists.

A room has one session per time people were in it (`start`, `end`, `status`); each session lists its
participants by the participantId the portal put in their token (the invitation's peer id), with a
`timelog` of their stays. A sitting's report is made of the sessions that started in its joining
window. A recording names its session; it is placed at that session's start (its own `createdAt`
when the session is not listed), its duration is `file.meta.duration` in seconds.
"""

from datetime import datetime

from ..base import ProviderRecording, ProviderStay, SittingReport

CONTENT_TYPES = {"mp4": "video/mp4", "webm": "video/webm", "m3u8": "application/vnd.apple.mpegurl"}


def parse_time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _number(value) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else 0.0


def recordings(client, room_id: str, sessions: list[dict]) -> list[ProviderRecording]:
    session_starts = {s.get("id"): parse_time(s.get("start")) for s in sessions}
    found = []
    for recording in client.recordings(room_id):
        if not recording.get("id"):
            continue
        file = recording.get("file") if isinstance(recording.get("file"), dict) else {}
        meta = file.get("meta") if isinstance(file.get("meta"), dict) else {}
        url = file.get("fileUrl") if isinstance(file.get("fileUrl"), str) else ""
        extension = url.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower() if "." in url else "mp4"
        found.append(ProviderRecording(
            provider_id=str(recording["id"])[:100],
            ready=bool(url),
            started_at=session_starts.get(recording.get("sessionId")) or parse_time(recording.get("createdAt")),
            duration_seconds=_number(meta.get("duration")),
            hls_url=url if extension == "m3u8" else "",
            download_url=url if extension != "m3u8" else "",
            content_type=CONTENT_TYPES.get(extension, "video/mp4"),
        ))
    return found


def sitting(sessions: list[dict], start: datetime, end: datetime) -> SittingReport:
    stays, active, first, last = [], 0, None, None
    for session in sessions:
        began = parse_time(session.get("start"))
        if began is None or not (start <= began <= end):
            continue
        finished = parse_time(session.get("end")) or end
        active += max(0, int((min(finished, end) - began).total_seconds()))
        for participant in session.get("participants") or []:
            peer_id = participant.get("participantId") if isinstance(participant, dict) else None
            if not isinstance(peer_id, str) or not peer_id:
                continue
            for entry in participant.get("timelog") or []:
                joined = parse_time(entry.get("start")) if isinstance(entry, dict) else None
                if joined is None:
                    continue
                left = parse_time(entry.get("end")) or finished
                stays.append(ProviderStay(peer_id=peer_id[:100], joined_at=joined, left_at=left))
                first = joined if first is None else min(first, joined)
                last = left if last is None else max(last, left)
    return SittingReport(participants=len({s.peer_id for s in stays}), active_seconds=active, first_join=first,
                         last_leave=last, stays=stays)
