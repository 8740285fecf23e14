"""A role change (the meeting page's or a moderator's room page) reaches a person already in the
LiveKit room at once: RoomService UpdateParticipant with the new role's permission, after the change
commits. The provider interface has no hook for role changes, so this listens to the invitation."""

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from ...models import Invitation
from ..base import ProviderError

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Invitation, dispatch_uid="livekit-role-change")
def role_changed(sender, instance, update_fields=None, **kwargs):
    if not update_fields or "role" not in update_fields:
        return
    meeting = instance.meeting
    if meeting.provider != "livekit" or meeting.provider_account_id is None:
        return

    def update():
        from .provider import LiveKitProvider

        if not instance.sessions.filter(ended_at__isnull=True, started_at__lte=timezone.now()).exists():
            return
        try:
            LiveKitProvider(meeting.provider_account).update_permissions(meeting=meeting, invitation=instance)
        except ProviderError as error:  # their next join carries the new rights anyway
            logger.warning("LiveKit permissions of an invitee of meeting %s not updated: %s", meeting.code, error)

    transaction.on_commit(update)
