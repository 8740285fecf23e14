"""Hosted providers' callbacks about people: the access check (may this peer connect now?) and join
and leave events. Both are keyed by the provider's room id and the invitation's peer id."""

import hmac
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import links
from ..models import Invitation, JoinSession, Meeting, Occurrence
from ..providers import get_provider
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
    if not peer_id:
        # The seed: "send 401 for requests with empty peerId" keeps out people the portal did not register.
        return AccessDecision(401, "no peer id: only invited people may join")
    meeting = meeting_for_room(account, room_id)
    if meeting is None:
        return AccessDecision(404, "unknown room")
    invitation = Invitation.objects.filter(meeting=meeting, peer_id=peer_id).first()
    if invitation is None:
        return AccessDecision(403, "unknown peer")
    if invitation.revoked_at or invitation.removed_at:
        return AccessDecision(401, "link withdrawn or person removed")
    given = access_token.encode()  # as bytes: compare_digest refuses str with non-ASCII characters
    session = next((s for s in invitation.sessions.select_related("occurrence").order_by("-started_at")[:20]
                    if hmac.compare_digest(links.access_token(s).encode(), given)), None)
    if session is None:
        return AccessDecision(403, "invalid access token")
    occurrence = session.occurrence
    if meeting.status == Meeting.Status.CANCELLED or occurrence.status in (Occurrence.Status.ENDED,
                                                                        Occurrence.Status.CANCELLED):
        return AccessDecision(423, "the meeting has ended")
    if now > occurrence.end + timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER):
        # The seed: "send 423 for all requests after the event is over", at once, not only once beat
        # has closed the sitting.
        return AccessDecision(423, "the meeting has ended")
    if invitation.valid_until is not None and now > invitation.valid_until:
        return AccessDecision(423, "this link has expired")
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


JOINED, LEFT = "joined", "left"  # ParsedEvent kinds


def meeting_for_room(account, room_id: str) -> Meeting | None:
    """The account's meeting that a provider's room id names (its provider knows how to read it)."""
    return get_provider(account.provider, account).meeting_for_room(room_id)


def _session_for(meeting: Meeting | None, peer_id: str) -> JoinSession | None:
    if meeting is None:
        return None
    return (JoinSession.objects.filter(invitation__meeting=meeting, invitation__peer_id=peer_id,
                                       ended_at__isnull=True).order_by("-started_at").first())


def room_is_ours(account, room_id: str) -> bool:
    return meeting_for_room(account, room_id) is not None


def apply_event(event) -> None:
    """Apply the stored events of this event's peer not applied yet (apply_peer_events)."""
    apply_peer_events(event.account, event.room_id, event.peer_id)


def apply_peer_events(account, room_id: str, peer_id: str, *, meetings: dict | None = None) -> None:
    """Apply the stored events of one peer not applied yet, in the order they arrived, each once. A
    join while present or a leave while gone changes nothing, so a repeated delivery is harmless. An
    event that commits only after a later one of the same peer was applied (two deliveries racing)
    is stale: the later one already said where the person is. `meetings` keeps the room lookups of
    a batch."""
    from ..models import ProviderEvent

    peer_events = ProviderEvent.objects.filter(account_id=account.pk, room_id=room_id, peer_id=peer_id)
    with transaction.atomic():
        # Locking the peer's events makes deliveries about the same person apply one at a time.
        events = list(peer_events.select_for_update().order_by("pk").only("pk", "kind", "applied", "received_at"))
        pending = [e for e in events if not e.applied]
        if not pending:
            return
        newest_applied = max((e.pk for e in events if e.applied), default=0)
        meetings = {} if meetings is None else meetings
        if (account.pk, room_id) not in meetings:
            meetings[account.pk, room_id] = meeting_for_room(account, room_id)
        meeting = meetings[account.pk, room_id]
        for arrived in pending:
            if arrived.pk > newest_applied:
                _apply(arrived, meeting, peer_id)
        peer_events.filter(pk__in=[e.pk for e in pending]).update(applied=True)


def _apply(event, meeting: Meeting | None, peer_id: str) -> None:
    """A join or leave opens or closes the person's stay and moves their live join session."""
    if meeting is not None:
        record = attendance.record_join if event.kind == JOINED else attendance.record_leave
        record(meeting=meeting, peer_id=peer_id, at=event.received_at)
    session = _session_for(meeting, peer_id)
    if session is None:
        return
    live = JoinSession.objects.filter(pk=session.pk, ended_at__isnull=True)
    if event.kind == JOINED:
        live.update(connected=True, disconnected_at=None)
    else:
        # The leave time is when the connection closed; beat ends the stay if it does not come back.
        live.filter(connected=True).update(connected=False, disconnected_at=event.received_at)
