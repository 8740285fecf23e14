"""Applying the joins and leaves hosted providers' callbacks stored (views/callbacks.py), off the
request path and many at a time.

A delivery stores its events (applied=False) and, after commit, asks for them to be applied:
schedule_apply sends the worker one task per account at a time (a Redis key says one is queued, and
the task clears it before it reads what is pending, so an event stored after that read sends the
next task). Nothing depends on that message arriving: beat's sweep (meetings.tasks.
apply_provider_events without an account) applies whatever is still pending after a few seconds,
when the broker was down or a worker stopped. Each peer's events are applied in the order they
arrived, each once (provider_access.apply_peer_events)."""

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Min
from django.utils import timezone

from ..models import ProviderAccount, ProviderEvent
from .provider_access import JOINED, LEFT, apply_peer_events

logger = logging.getLogger(__name__)
BATCH = 500  # peers per round
QUEUED_FOR = 30  # seconds a queued task stands for its account; after that a delivery sends another
SWEEP_AFTER = timedelta(seconds=10)  # what the sweep takes: pending this long, a message did not do it


def _queued_key(account_id: int) -> str:
    return f"provider-events:queued:{account_id}"


def schedule_apply(account_id: int) -> None:
    """Have the worker apply the account's pending joins and leaves soon: one task per account at a
    time. A failure here loses nothing (the events are stored; the sweep applies them)."""
    from ..tasks import apply_provider_events

    key = _queued_key(account_id)
    try:
        if cache.add(key, 1, timeout=QUEUED_FOR):
            apply_provider_events.delay(account_id)
    except Exception as error:  # noqa: BLE001 - Redis or the broker away: the sweep applies them
        logger.warning("joins and leaves of account %s left to the sweep: %s", account_id, error)
        try:
            cache.delete(key)
        except Exception:  # noqa: BLE001, S110 - the key expires by itself
            pass


def clear_queued(account_id: int) -> None:
    """The account's task is running: a delivery from now on queues the next one."""
    cache.delete(_queued_key(account_id))


def apply_pending(account_id: int | None = None, *, older_than: timedelta | None = None) -> int:
    """Apply the pending joins and leaves of one account (or of all), peer by peer, in the order
    their first pending event arrived. Returns how many peers were brought up to date."""
    done = 0
    while True:
        pending = ProviderEvent.objects.filter(applied=False, kind__in=(JOINED, LEFT))
        if account_id is not None:
            pending = pending.filter(account_id=account_id)
        if older_than is not None:
            pending = pending.filter(received_at__lte=timezone.now() - older_than)
        peers = list(pending.values_list("account_id", "room_id", "peer_id").annotate(first=Min("pk"))
                     .order_by("first")[:BATCH])
        if not peers:
            return done
        accounts = ProviderAccount.objects.select_related("organization").in_bulk({peer[0] for peer in peers})
        meetings, failed = {}, 0
        for account_pk, room_id, peer_id, _first in peers:
            try:
                apply_peer_events(accounts[account_pk], room_id, peer_id, meetings=meetings)
            except Exception:  # one peer's bad events must not hold up everyone else's
                failed += 1
                logger.exception("The events of peer %s in room %s of account %s could not be applied",
                                 peer_id, room_id, account_pk)
        done += len(peers) - failed
        if failed or len(peers) < BATCH:  # what failed stays pending for the next sweep
            return done
