"""Recordings and attendance from SignalWire's room sessions (it sends no video webhooks).

A room has one session per time people were in it; each session lists its members (name, join and
leave times) and its recordings. A sitting's report is made of the sessions that started in its
joining window. Members are matched to invitations by the peer id the portal put in their token's
`meta`, else by their name.
"""

from datetime import datetime

from ..base import ProviderRecording, ProviderStay, SittingReport

CONTENT_TYPES = {"mp4": "video/mp4", "webm": "video/webm"}


def parse_time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def recordings(client, room_name: str) -> list[ProviderRecording]:
    found = []
    for session in client.room_sessions(room_name):
        for recording in client.session_recordings(session["id"]):
            fmt = str(recording.get("format") or "mp4").lower()
            found.append(ProviderRecording(
                provider_id=str(recording["id"]),
                ready=recording.get("status") == "completed" and bool(recording.get("uri")),
                started_at=parse_time(recording.get("started_at") or recording.get("created_at"))
                or parse_time(session.get("start_time")),
                duration_seconds=float(recording.get("duration") or 0),
                download_url=recording.get("uri") or "",
                content_type=CONTENT_TYPES.get(fmt, "video/mp4"),
            ))
    return found


def sitting(client, room_name: str, start: datetime, end: datetime, *, peers_by_name: dict) -> SittingReport:
    stays, active, first, last = [], 0, None, None
    for session in client.room_sessions(room_name):
        began = parse_time(session.get("start_time"))
        if began is None or not (start <= began <= end):
            continue
        finished = parse_time(session.get("end_time")) or end
        active += max(0, int((min(finished, end) - began).total_seconds()))
        for member in client.session_members(session["id"]):
            joined, left = parse_time(member.get("join_time")), parse_time(member.get("leave_time"))
            if joined is None:
                continue
            left = left or finished
            stays.append(ProviderStay(peer_id=_peer_id(member, peers_by_name), joined_at=joined, left_at=left))
            first = joined if first is None else min(first, joined)
            last = left if last is None else max(last, left)
    return SittingReport(participants=len({s.peer_id for s in stays}), active_seconds=active, first_join=first,
                         last_leave=last, stays=stays)


def _peer_id(member: dict, peers_by_name: dict) -> str:
    meta = member.get("meta") if isinstance(member.get("meta"), dict) else {}
    if isinstance(meta.get("peer_id"), str) and meta["peer_id"]:
        return meta["peer_id"][:100]
    name = member.get("name")
    return peers_by_name.get(name) or f"signalwire:{member.get('id') or name}"[:100]
