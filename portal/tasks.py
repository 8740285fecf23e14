"""Background upkeep: the outbox's periodic sweep, a starting worker taking back its work, and
forgetting old Idempotency-Key answers."""

import logging

from celery import shared_task
from celery.signals import worker_ready

from . import outbox

logger = logging.getLogger(__name__)


@shared_task
def sweep_pending_tasks() -> int:
    """Beat, every OUTBOX_SWEEP_SECONDS: send again whatever is due and not done."""
    return outbox.sweep()


@shared_task
def forget_old_idempotency_keys() -> int:
    from .api import idempotency

    return idempotency.forget_old()


@worker_ready.connect
def take_back_held_work(sender=None, **kwargs):
    hostname = getattr(sender, "hostname", "") or getattr(getattr(sender, "controller", None), "hostname", "")
    try:
        outbox.recover(hostname)
    except Exception as error:  # noqa: BLE001 - the database may be down at start; the sweep catches up
        logger.warning("could not take back held work at start: %s", error.__class__.__name__)
