"""What LiveKit's webhooks say besides joins and leaves, applied once each: a finished room ends its
sitting and closes the stays left open, a finished recording is brought home. The generic
provider_callback stores the events; LiveKitProvider.apply_events calls apply_pending."""

import logging

from django.db import transaction

from ...models import Occurrence, Presence, ProviderEvent
from ...services import attendance, scheduling, sync
from ..base import ProviderError
from . import webhooks

logger = logging.getLogger(__name__)


def apply_pending(provider) -> int:
    """Apply the finished rooms and recordings this account's webhooks stored and nobody applied yet
    (each once: the rows are locked and marked in the same transaction)."""
    account, applied = provider.account, 0
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
