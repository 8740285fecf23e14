"""LiveKit's own endpoints: its webhooks (the generic provider_callback, then what only LiveKit
sends: a finished room and a finished recording) and the room page's moderation requests.

Moderation from the room page goes through the portal: the page posts who and what, the portal
checks that this browser's stay is a moderator's in that meeting, changes its own state where it
has one (removal, role) and calls LiveKit's RoomService."""

import json
import logging

from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ...models import Invitation, Occurrence, Presence, ProviderAccount, ProviderEvent
from ...services import attendance, invitations, moderation, scheduling, sync
from ...views.callbacks import provider_callback
from ...views.join import current_session
from ..base import ProviderError
from . import webhooks

logger = logging.getLogger(__name__)
KEY = "livekit"


@csrf_exempt  # LiveKit's servers call it; the signed Authorization token authenticates each call
@require_POST
def livekit_event(request, account_code):
    response = provider_callback(request, provider_key=KEY, account_code=account_code)
    if response.status_code == 200:
        account = ProviderAccount.objects.filter(code=account_code, provider=KEY, enabled=True).first()
        if account is not None:
            apply_pending(account)
    return response


def apply_pending(account) -> int:
    """Apply the finished rooms and recordings this account's webhooks stored and nobody applied yet
    (each once: the rows are locked and marked in the same transaction)."""
    from .provider import LiveKitProvider

    provider, applied = LiveKitProvider(account), 0
    with transaction.atomic():
        pending = list(ProviderEvent.objects.select_for_update(skip_locked=True).filter(
            account=account, applied=False, kind__in=(webhooks.FINISHED, webhooks.RECORDING)).order_by("pk"))
        meetings = {}
        for event in pending:
            meeting = provider.meeting_for_room(event.room_id)
            if meeting is not None and event.kind == webhooks.FINISHED:
                _finish_sitting(meeting, event)
            elif meeting is not None:
                meetings[meeting.pk] = meeting
        ProviderEvent.objects.filter(pk__in=[e.pk for e in pending]).update(applied=True)
        applied = len(pending)
    for meeting in meetings.values():
        try:
            sync.sync_recordings(meeting)
        except ProviderError as error:  # kept: the next sync reads the stored event again
            logger.warning("LiveKit recordings of meeting %s not brought home yet: %s", meeting.code, error)
    return applied


def _finish_sitting(meeting, event) -> None:
    """LiveKit closed the room: the sitting it held is over (its timeouts outlast the sitting's
    window, so it closes early only when a host ended it or deleted the room)."""
    created = webhooks._moment(event.payload.get("createdAt"), 1) or event.received_at
    occurrence = attendance.occurrence_at(meeting, created)
    if occurrence is not None and occurrence.status in (Occurrence.Status.SCHEDULED, Occurrence.Status.LIVE):
        scheduling.occurrence_end(occurrence=occurrence)
    for peer_id in set(Presence.objects.filter(meeting=meeting, source=Presence.Source.EVENTS,
                                               left_at__isnull=True).values_list("peer_id", flat=True)):
        attendance.record_leave(meeting=meeting, peer_id=peer_id, at=event.received_at)


# --- moderation from the room page ----------------------------------------------------------------

@require_POST
def livekit_moderate(request, token):
    """{action: "mute" | "remove" | "role", identity: <peer id>, role?: <new role>} from a moderator's
    room page."""
    found, problem = current_session(request, token)
    if problem:
        return JsonResponse({"error": "This join link has no live stay here."}, status=404)
    session = found[1]
    meeting = session.occurrence.meeting
    if session.ended_at or not session.invitation.is_moderating or meeting.provider != KEY:
        return JsonResponse({"error": "Only a moderator in the room can do this."}, status=403)
    try:
        body = json.loads(request.body)
        action, identity = body["action"], body["identity"]
        if not isinstance(action, str) or not isinstance(identity, str):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        return JsonResponse({"error": "send {action, identity}"}, status=400)
    if "\x00" in identity or len(identity) > 100:
        return JsonResponse({"error": "identity is not a peer id"}, status=400)
    target = Invitation.objects.filter(meeting=meeting, peer_id=identity).first()
    if target is None:
        return JsonResponse({"error": "nobody with that identity is invited"}, status=404)
    actor = session.invitation
    if action == "remove" and (refusal := moderation.removal_refusal(actor, target)):
        return JsonResponse({"error": refusal}, status=403)
    if action == "role" and (refusal := moderation.role_change_refusal(actor, target, str(body.get("role")),
                                                                       meeting.kind)):
        return JsonResponse({"error": refusal}, status=403)
    provider = _provider(meeting)
    try:
        if action == "mute":
            return JsonResponse({"muted": provider.mute_microphone(meeting=meeting, invitation=target)})
        if action == "remove":
            invitations.invitation_remove_from_room(invitation=target)
            return JsonResponse({"removed": True})
        if action == "role":
            role = body.get("role")
            if not isinstance(role, str):
                return JsonResponse({"error": "send the new role"}, status=400)
            try:
                invitations.invitation_change_role(invitation=target, role=role, language=str(body.get("language")
                                                                                               or ""))
            except Exception as error:  # ValidationError: a role the meeting does not have
                return JsonResponse({"error": "; ".join(getattr(error, "messages", [str(error)]))}, status=400)
            return JsonResponse({"role": target.role})
    except ProviderError as error:
        logger.warning("LiveKit moderation in meeting %s failed: %s", meeting.code, error)
        return JsonResponse({"error": "LiveKit did not carry it out; try again."}, status=502)
    return JsonResponse({"error": "action must be mute, remove or role"}, status=400)


def _provider(meeting):
    from .provider import LiveKitProvider

    return LiveKitProvider(meeting.provider_account)
