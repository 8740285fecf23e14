"""Hosted providers' callbacks about people: the access check (may this peer connect now?) and join
and leave events. Both are keyed by the provider's room id and the invitation's peer id."""

import hmac
from dataclasses import dataclass

from django.utils import timezone

from .. import links
from ..models import Invitation, JoinSession, Meeting, Occurrence
from ..providers.gcore import meeting_uid_of
from . import attendance
from .joining import opens_before


@dataclass(frozen=True)
class AccessDecision:
    status: int
    reason: str


ALLOWED = AccessDecision(200, "allowed")


def access_check(*, account, access_token: str, room_id: str, peer_id: str, now=None) -> AccessDecision:
    """The Gcore access-check contract: 200, 401, 403, 404, 409, 423 or 425 (400 is the caller's)."""
    now = now or timezone.now()
    uid = meeting_uid_of(room_id)
    meeting = Meeting.objects.of(account.organization).filter(ical_uid=uid).first() if uid else None
    if meeting is None:
        return AccessDecision(404, "unknown room")
    invitation = Invitation.objects.filter(meeting=meeting, peer_id=peer_id).first()
    if invitation is None:
        return AccessDecision(403, "unknown peer")
    if invitation.revoked_at or invitation.removed_at:
        return AccessDecision(401, "link withdrawn or person removed")
    session = next((s for s in invitation.sessions.select_related("occurrence").order_by("-started_at")[:20]
                    if hmac.compare_digest(links.access_token(s), access_token)), None)
    if session is None:
        return AccessDecision(403, "invalid access token")
    occurrence = session.occurrence
    if meeting.status == Meeting.Status.CANCELLED or occurrence.status in (Occurrence.Status.ENDED,
                                                                        Occurrence.Status.CANCELLED):
        return AccessDecision(423, "the meeting has ended")
    if session.ended_at:
        if session.end_reason == JoinSession.EndReason.REMOVED:
            return AccessDecision(401, "removed")
        if session.end_reason == JoinSession.EndReason.ENDED:
            return AccessDecision(423, "the meeting has ended")
        return AccessDecision(403, "this join was replaced or has ended")
    if now < occurrence.start - opens_before():
        return AccessDecision(425, "not started yet")
    if not session.provider_admitted:
        JoinSession.objects.filter(pk=session.pk).update(provider_admitted=True)
        replaced = invitation.sessions.filter(end_reason=JoinSession.EndReason.REPLACED, provider_admitted=True,
                                              ended_at__gte=session.started_at)
        if replaced.exists():
            # The contract's 409: admit this connection; the provider ends the earlier one.
            return AccessDecision(409, "another connection with this peer id is replaced")
    return ALLOWED


JOINED, LEFT = "joined", "left"
EVENT_KINDS = {"connected": JOINED, "joinPeer": JOINED, "disconnected": LEFT, "closePeer": LEFT}


def _session_for(account, room_id: str, peer_id: str) -> JoinSession | None:
    uid = meeting_uid_of(room_id)
    if uid is None:
        return None
    return (JoinSession.objects.filter(invitation__meeting__ical_uid=uid, invitation__peer_id=peer_id,
                                       invitation__organization=account.organization, ended_at__isnull=True)
            .order_by("-started_at").first())


def room_is_ours(account, room_id: str) -> bool:
    uid = meeting_uid_of(room_id)
    return bool(uid) and Meeting.objects.of(account.organization).filter(ical_uid=uid).exists()


def apply_event(event) -> None:
    """A join or leave opens or closes the person's stay and moves their live join session; repeating
    one changes nothing more."""
    if event.applied:
        return
    uid = meeting_uid_of(event.room_id)
    meeting = Meeting.objects.of(event.account.organization).filter(ical_uid=uid).first() if uid else None
    if meeting is not None:
        record = attendance.record_join if event.kind == JOINED else attendance.record_leave
        record(meeting=meeting, peer_id=event.peer_id, at=event.received_at)
    session = _session_for(event.account, event.room_id, event.peer_id)
    if session is not None:
        if event.kind == JOINED:
            JoinSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(connected=True,
                                                                                   disconnected_at=None)
        else:
            # The leave time is when the connection closed; beat ends the stay if it does not come back.
            JoinSession.objects.filter(pk=session.pk, ended_at__isnull=True, connected=True).update(
                connected=False, disconnected_at=event.received_at)
    type(event).objects.filter(pk=event.pk).update(applied=True)
