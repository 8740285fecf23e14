"""Who is in a built-in room, as its pages see it.

A page gets the whole picture once, when its socket connects ("presence"). After that the room is
told only what changed, in one message built once by whoever made the change and forwarded as is by
every socket: "peers" (people in the room, new or changed), "waiting" (people in the waiting room,
for moderators), "gone" (stays that ended) and "removed" (the removed list, for moderators). A join
or a leave therefore costs each socket one forwarded message, not a query and a list of everyone.
"""

from collections.abc import Iterable

from . import realtime
from .models import WATCHER_ROLES, Invitation, JoinSession, Kind, Occurrence

MODERATORS_ONLY = {"waiting", "removed"}


def can_publish(invitation: Invitation, kind: str) -> bool:
    return not (kind == Kind.WEBINAR and invitation.role in WATCHER_ROLES)


def peer_info(session: JoinSession, kind: str) -> dict:
    invitation = session.invitation
    return {"peer": session.code, "name": invitation.display_name, "role": invitation.get_role_display(),
            "role_key": invitation.role,
            "moderator": invitation.is_moderating, "can_publish": can_publish(invitation, kind),
            "audio": session.audio_on, "video": session.video_on, "screen": session.screen_on,
            "hand": session.hand_raised, "connected": session.connected}


def waiting_info(session: JoinSession) -> dict:
    return {"peer": session.code, "name": session.invitation.display_name}


def removed_list(meeting_id: int) -> list[dict]:
    return [{"invitation": code, "name": name} for code, name in Invitation.objects.filter(
        meeting_id=meeting_id, removed_at__isnull=False).order_by("removed_at").values_list("code", "display_name")]


def snapshot(occurrence_id: int, *, meeting_id: int, kind: str, moderator: bool) -> dict:
    live = list(JoinSession.objects.filter(occurrence_id=occurrence_id, ended_at__isnull=True)
                .select_related("invitation").order_by("started_at"))
    message = {"type": "presence", "peers": [peer_info(s, kind) for s in live if s.admitted]}
    if moderator:
        message["waiting"] = [waiting_info(s) for s in live if not s.admitted]
        message["removed"] = removed_list(meeting_id)
    return message


def changes(sessions: Iterable[JoinSession], kind: str) -> list[dict]:
    """The messages that tell a room how these stays stand now."""
    peers, waiting, gone = [], [], []
    for session in sessions:
        if session.ended_at:
            gone.append(session.code)
        elif session.admitted:
            peers.append(peer_info(session, kind))
        else:
            waiting.append(waiting_info(session))
    return ([{"type": "peers", "peers": peers}] if peers else []) + \
        ([{"type": "waiting", "waiting": waiting}] if waiting else []) + \
        ([{"type": "gone", "peers": gone}] if gone else [])


def announce(session_ids: Iterable[int]) -> None:
    """After commit, tell each of these stays' rooms how they stand now (one query in all)."""
    session_ids = list(session_ids)
    if session_ids:
        realtime.on_commit(lambda: _announce_now(session_ids))


def _announce_now(session_ids: list[int]) -> None:
    by_room: dict[int, list[JoinSession]] = {}
    for session in JoinSession.objects.filter(pk__in=session_ids).select_related(
            "invitation", "occurrence__meeting").order_by("started_at"):
        by_room.setdefault(session.occurrence_id, []).append(session)
    for occurrence_id, sessions in by_room.items():
        for message in changes(sessions, sessions[0].occurrence.meeting.kind):
            realtime.send(realtime.room_group(occurrence_id), message)


def announce_removed(meeting_id: int) -> None:
    """After commit, give the moderators in the meeting's live rooms the removed list as it is now."""
    realtime.on_commit(lambda: _announce_removed_now(meeting_id))


def _announce_removed_now(meeting_id: int) -> None:
    rooms = list(Occurrence.objects.filter(meeting_id=meeting_id, status=Occurrence.Status.LIVE)
                 .values_list("pk", flat=True))
    if rooms:
        message = {"type": "removed", "removed": removed_list(meeting_id)}
        for occurrence_id in rooms:
            realtime.send(realtime.room_group(occurrence_id), message)
