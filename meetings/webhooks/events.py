"""The events an organization's systems can hear of, and the one way they are emitted.

    emit(organization, "meeting.scheduled", meeting_data(meeting))

records a delivery for each enabled endpoint of the organization that subscribed to the type, inside
the caller's transaction, and queues its sending through the outbox after commit: a change that rolls
back sends nothing. Payloads use public codes only, never integer keys, join links or secrets.
"""

import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from .models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)
# Every change of an organization's endpoints forgets its entry; the short expiry bounds a stale
# entry written by a read that raced such a change.
_CACHE_SECONDS = 60


def _cache_key(organization_id: int) -> str:
    return f"webhooks:subscribed:{organization_id}"


def _cache_is_shared() -> bool:
    """Only a cache every process shares (Redis) may answer: a per-process one would keep a worker
    from seeing an endpoint added in a web process."""
    return "locmem" not in settings.CACHES["default"]["BACKEND"].lower()


def forget_subscriptions(organization_id: int) -> None:
    """Endpoints changed: the next emit reads them again (called on save, delete and disable)."""
    if not _cache_is_shared():
        return
    try:
        cache.delete(_cache_key(organization_id))
    except Exception as error:  # noqa: BLE001 - the cache is down: emits read the database meanwhile
        logger.warning("could not forget the webhook subscriptions of organization %s: %s", organization_id,
                       error.__class__.__name__)


def _subscribed(organization_id: int) -> set[str]:
    """The event types any enabled endpoint of the organization wants, from the shared cache: most
    organizations have none, and the join path must not pay a query for that."""
    key, shared = _cache_key(organization_id), _cache_is_shared()
    known = None
    if shared:
        try:
            known = cache.get(key)
        except Exception:  # noqa: BLE001 - the cache is down: read the database
            known = None
    if known is not None:
        return set(known)
    types = set()
    for events in WebhookEndpoint.objects.filter(organization_id=organization_id, enabled=True).values_list(
            "events", flat=True):
        types.update(events)
    if shared:
        try:
            cache.set(key, sorted(types), _CACHE_SECONDS)
        except Exception as error:  # noqa: BLE001
            logger.warning("could not cache webhook subscriptions: %s", error.__class__.__name__)
    return types


def wants(organization_id: int, event_type: str) -> bool:
    """Whether any endpoint of the organization may want this event (no database query when cached)."""
    return event_type in _subscribed(organization_id)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def body_for(event_id: str, event_type: str, organization, data: dict, created_at) -> str:
    return json.dumps({"id": event_id, "type": event_type, "created_at": _iso(created_at),
                       "organization": organization.slug, "data": data}, cls=DjangoJSONEncoder,
                      ensure_ascii=False, separators=(",", ":"))


def emit(organization, event_type: str, data) -> list[WebhookDelivery]:
    """Record and queue this event for every enabled endpoint of the organization that wants it.
    `data` may be a function making the dict, so callers on busy paths pay nothing when nobody listens."""
    from portal import outbox

    from .tasks import deliver_webhook

    assert event_type in EVENT_TYPES, event_type
    organization_id = getattr(organization, "pk", organization)
    if event_type not in _subscribed(organization_id):
        return []
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(organization_id=organization_id, enabled=True)
                 if event_type in endpoint.events]
    if not endpoints:
        return []
    organization = endpoints[0].organization
    if callable(data):
        data = data()
    now = timezone.now()
    deliveries = []
    for endpoint in endpoints:
        delivery = WebhookDelivery(organization_id=organization_id, endpoint=endpoint, event_type=event_type)
        delivery.body = body_for(delivery.event_id, event_type, organization, data, now)
        deliveries.append(delivery)
    WebhookDelivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        outbox.enqueue(deliver_webhook, delivery.pk)
    return deliveries


# --- What each event says ------------------------------------------------------------------------

def meeting_data(meeting, occurrence=None) -> dict:
    data = {"meeting": {
        "code": meeting.code, "title": meeting.title, "kind": meeting.kind, "status": meeting.status,
        "timezone": meeting.timezone, "start": _iso(meeting.start), "end": _iso(meeting.end),
        "recurrence": meeting.rrule or None, "room": meeting.room.code, "provider": meeting.provider,
        "host": meeting.owner.email,
    }}
    if occurrence is not None:
        data["occurrence"] = occurrence_data(occurrence)
    return data


def occurrence_data(occurrence) -> dict:
    return {"code": occurrence.code, "title": occurrence.title, "status": occurrence.status,
            "start": _iso(occurrence.start), "end": _iso(occurrence.end)}


def invitation_data(invitation) -> dict:
    return {"code": invitation.code, "email": invitation.email or None, "display_name": invitation.display_name,
            "role": invitation.role, "peer_id": invitation.peer_id}


def participant_data(meeting, invitation, *, occurrence=None, at=None, reason: str = "",
                     peer_id: str = "") -> dict:
    data = meeting_data(meeting, occurrence)
    data["participant"] = invitation_data(invitation) if invitation is not None else {
        "code": None, "email": None, "display_name": None, "role": None, "peer_id": peer_id}
    data["at"] = _iso(at)
    if reason:
        data["reason"] = reason
    return data


def recording_data(recording) -> dict:
    data = meeting_data(recording.meeting, recording.occurrence)
    data["recording"] = {"code": recording.code, "provider": recording.provider,
                         "duration_seconds": recording.duration_seconds, "size": recording.size,
                         "content_type": recording.content_type, "visibility": recording.visibility,
                         "started_at": _iso(recording.started_at), "finished_at": _iso(recording.finished_at)}
    return data
