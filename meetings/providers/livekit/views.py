"""The room page's moderation requests to LiveKit.

Moderation from the room page goes through the portal: the page posts who and what, the portal
checks that this browser's stay is a moderator's in that meeting, changes its own state where it
has one (removal, role) and calls LiveKit's RoomService."""

import json
import logging

from django.http import JsonResponse
from django.views.decorators.http import require_POST

from ...models import Invitation
from ...services import invitations, moderation
from ...views.join import current_session
from ..base import ProviderError

logger = logging.getLogger(__name__)
KEY = "livekit"


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
