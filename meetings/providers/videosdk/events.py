"""What VideoSDK's webhooks say besides joins and leaves, applied once each: a finished session or a
stopped recording asks for a sync of its meeting, so a worker brings the recordings and the
session's attendance home without waiting for beat. A finished session also closes the stays its
leave webhooks did not (everyone has left VideoSDK's room then). The generic provider_callback
stores the events; VideoSDKProvider.apply_events calls apply_pending."""

from django.db import transaction

from ...models import Presence, ProviderEvent
from ...services import attendance, sync
from .webhooks import ROOM_EVENTS

SESSION_ENDED = "session-ended"
SYNCING = (SESSION_ENDED, "recording-stopped")


def apply_pending(provider) -> int:
    """The account's session and recording events nobody applied yet, each once (locked and marked
    in one transaction); the meetings of those that end something get a sync."""
    account = provider.account
    with transaction.atomic():
        pending = list(ProviderEvent.objects.select_for_update(skip_locked=True).filter(
            account=account, applied=False, kind__in=ROOM_EVENTS).order_by("pk"))
        meetings = {}
        for event in pending:
            meeting = provider.meeting_for_room(event.room_id) if event.kind in SYNCING else None
            if meeting is None:
                continue
            meetings[meeting.pk] = meeting
            if event.kind == SESSION_ENDED:
                for peer_id in set(Presence.objects.filter(meeting=meeting, source=Presence.Source.EVENTS,
                                                           left_at__isnull=True).values_list("peer_id", flat=True)):
                    attendance.record_leave(meeting=meeting, peer_id=peer_id, at=event.received_at)
        ProviderEvent.objects.filter(pk__in=[e.pk for e in pending]).update(applied=True)
        for meeting in meetings.values():
            sync.request_sync(meeting)
    return len(pending)
