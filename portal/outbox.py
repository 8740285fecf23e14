"""The outbox: background work recorded in PostgreSQL with the change that needs it, so that neither a
lost broker message nor a killed worker loses it.

    outbox.enqueue(send_meeting_email, invitation.pk, "invitation", None)   # inside the transaction

writes a PendingTask row and, once the transaction commits, sends the Celery task with the row's id.
The task runs through `pending_task`, which marks the row started (and by which worker), done, or
failed with a backoff before the next try; after `max_attempts` it gives up, calls the task's
`on_failure` so the person who asked sees it, and logs an error for the operators.

Nothing relies on the message arriving: `sweep` (beat, every OUTBOX_SWEEP_SECONDS) sends again every
row whose due time passed (never dispatched, lost with Redis, held by a dead worker, or waiting out
a backoff), and a worker that starts first takes back what it held when it died. A message that does
arrive twice finds its row done and does nothing; `exclusive` tasks (emails) also hold a row lock
while they run, so two deliveries never both send. Delivery is at least once: a worker killed in the
few milliseconds between doing the work and committing its record does it again on the next run.
A row sent OUTBOX_MAX_DISPATCHES times without finishing (its worker keeps dying on it) is given up.
"""

import logging
from contextlib import nullcontext
from datetime import timedelta
from functools import wraps

from celery import current_app, current_task
from celery.exceptions import NotRegistered
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from .models import PendingTask

logger = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(minutes=10)


def _lease(seconds: int | None) -> int:
    return seconds or settings.OUTBOX_LEASE_SECONDS


def enqueue(task, *args, key: str = "", lease_seconds: int | None = None, not_before=None,
            **kwargs) -> PendingTask:
    """Record `task(*args, **kwargs)` in the current transaction and send it after commit. With a `key`,
    work of that key still open is returned instead of recording it twice. With `not_before` (a later
    moment, e.g. a retry's backoff) nothing is sent now: the sweep sends it once that moment passed."""
    lease = _lease(lease_seconds)
    due = not_before or timezone.now() + timedelta(seconds=lease)
    for _ in range(2):
        if key and (open_row := _open(key=key).first()):
            return open_row
        try:
            with transaction.atomic():
                row = PendingTask.objects.create(task=task.name, args=list(args), kwargs=kwargs, key=key,
                                                 lease_seconds=lease, due_at=due)
            break
        except IntegrityError:  # the same key was recorded meanwhile: join it (or record anew if it ended)
            continue
    if not_before is None:
        transaction.on_commit(lambda: dispatch(row.pk), robust=True)
    return row


DISPATCH_BATCH = 100


def _open(**lookup):
    return PendingTask.objects.filter(done_at__isnull=True, failed_at__isnull=True, **lookup)


def enqueue_many(task, argument_lists: list[list], lease_seconds: int | None = None) -> list[PendingTask]:
    lease = _lease(lease_seconds)
    due = timezone.now() + timedelta(seconds=lease)
    rows = PendingTask.objects.bulk_create([PendingTask(task=task.name, args=list(args), lease_seconds=lease,
                                                        due_at=due) for args in argument_lists])
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: _dispatch_all(ids), robust=True)
    return rows


class BrokerDown(Exception):
    pass


def dispatch(pending_id: int) -> bool:
    """Send the task of an open row to the broker. A broker that is down is no error here: the row
    stays due and the sweep sends it once the broker is back."""
    try:
        return _dispatch(pending_id)
    except BrokerDown:
        return False


def _dispatch_all(ids) -> int:
    """Send many rows, DISPATCH_BATCH at a time: one read and one update per batch (per lease), so
    queueing 5,000 invitation emails costs a few statements per hundred, not two per email."""
    ids, sent = list(ids), 0
    for first in range(0, len(ids), DISPATCH_BATCH):
        rows = list(_open(pk__in=ids[first:first + DISPATCH_BATCH]).order_by("pk"))
        done = []
        try:
            for row in rows:
                if _send(row):
                    done.append(row)
        except BrokerDown:
            _mark_sent(done)
            return sent + len(done)  # the rest stay due; do not wait on a missing broker once per row
        _mark_sent(done)
        sent += len(done)
    return sent


def _dispatch(pending_id: int) -> bool:
    row = _open(pk=pending_id).first()
    if row is None or not _send(row):
        return False
    _mark_sent([row])
    return True


def _send(row: PendingTask) -> bool:
    """Hand one row's task to the broker; False when the row is given up instead."""
    if row.dispatches >= settings.OUTBOX_MAX_DISPATCHES:
        # Sent this often without finishing: its worker keeps dying on it, or nobody can run it.
        _give_up(row, f"sent {row.dispatches} times without finishing")
        return False
    try:
        task = current_app.tasks[row.task]
    except NotRegistered:
        _give_up(row, "no such task (renamed or removed by an upgrade?)")
        return False
    try:
        # ignore_result: the row records the outcome; waiting on a result backend that is down would
        # otherwise hold the request (its client retries for about 20 s).
        task.apply_async(args=row.args, kwargs={**row.kwargs, "pending_id": row.pk}, ignore_result=True)
    except Exception as error:  # noqa: BLE001 - kombu and redis raise many kinds when the broker is down
        logger.warning("task %s (pending %s) not sent, the sweep sends it later: %s", row.task, row.pk,
                       error.__class__.__name__)
        raise BrokerDown from error
    return True


def _mark_sent(rows: list[PendingTask]) -> None:
    """Only once sent: a row that could not be sent stays due for the next sweep."""
    now = timezone.now()
    for lease in {row.lease_seconds for row in rows}:
        _open(pk__in=[row.pk for row in rows if row.lease_seconds == lease]).update(
            dispatches=F("dispatches") + 1, due_at=now + timedelta(seconds=lease))


def _give_up(row: PendingTask, reason: str) -> None:
    _open(pk=row.pk).update(failed_at=timezone.now(), last_error=reason[:300])
    logger.error("gave up on %s%s (pending %s): %s", row.task, row.args, row.pk, reason)


def sweep(limit: int = 500) -> int:
    """Send again every open row whose due time passed (oldest first); returns how many were sent."""
    due = list(_open(due_at__lte=timezone.now()).order_by("due_at").values_list("pk", flat=True)[:limit])
    return _dispatch_all(due)


def recover(worker: str) -> int:
    """A worker starting up takes back the work it had started when it died (the broker would keep
    those messages unacknowledged until its visibility timeout)."""
    count = _open(worker=worker).update(due_at=timezone.now(), worker="", started_at=None)
    if count:
        logger.warning("worker %s took back %s task(s) it held when it stopped", worker, count)
    return sweep()


def _worker_name() -> str:
    request = getattr(current_task, "request", None)
    return getattr(request, "hostname", "") or ""


def _backoff(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(seconds=settings.OUTBOX_RETRY_SECONDS * 2 ** (attempts - 1)))


def _failed(pending_id: int, started_at, error: Exception, *, max_attempts: int, on_failure, args,
            kwargs) -> None:
    """Record a failed run of this row, if it is still this run's (a later delivery may have taken it
    over after the lease, or finished it). A broken connection gets one fresh try."""
    text = f"{error.__class__.__name__}: {error}"[:300]
    for attempt in range(2):
        try:
            _record_failure(pending_id, started_at, text, error, max_attempts, on_failure, args, kwargs)
            return
        except DatabaseError:
            if attempt:
                logger.error("could not record the failure of pending task %s (it is sent again after its "
                             "lease): %s", pending_id, text)
                return
            connection.close()  # the failure may have left this connection broken


def _record_failure(pending_id, started_at, text, error, max_attempts, on_failure, args, kwargs) -> None:
    with transaction.atomic():
        row = _open(pk=pending_id, started_at=started_at).select_for_update().first()
        if row is None:
            return  # done or taken over meanwhile
        row.attempts += 1
        final = row.attempts >= max_attempts
        row.last_error, row.started_at, row.worker = text, None, ""
        if final:
            row.failed_at = timezone.now()
        else:
            row.due_at = timezone.now() + _backoff(row.attempts)
        row.save(update_fields=["attempts", "last_error", "started_at", "worker", "failed_at", "due_at"])
        if on_failure is not None:
            on_failure(*args, error=error, attempt=row.attempts, final=final, **kwargs)
    if final:
        logger.error("gave up on %s%s after %s attempts: %s", row.task, row.args, row.attempts, text)
    else:
        logger.warning("%s%s failed (attempt %s), again in %s s: %s", row.task, row.args, row.attempts,
                       int(_backoff(row.attempts).total_seconds()), text)


def pending_task(*, exclusive: bool = False, max_attempts: int = 8, on_failure=None):
    """Make a Celery task function run its outbox row. Called without `pending_id` (by beat, or
    directly), it just runs. `on_failure(*args, error=, attempt=, final=)` hears every failed attempt,
    so the person who asked can see it. An exclusive task runs inside a transaction holding its row's
    lock, so a second delivery does nothing while the first runs or after it succeeded (a kill in the
    few milliseconds between the work and its commit can still repeat it: at least once)."""

    def decorate(function):
        @wraps(function)
        def run(*args, pending_id: int | None = None, **kwargs):
            if pending_id is None:
                return function(*args, **kwargs)
            lease = _open(pk=pending_id).values_list("lease_seconds", flat=True).first()
            if lease is None:  # done or given up: a second delivery does nothing
                return None
            started_at = timezone.now()
            # Claimed only if no other delivery holds the row (never wait on its lock), and visibly, so a
            # worker that dies here is known by name when it starts again.
            with transaction.atomic():
                claimable = _open(pk=pending_id).select_for_update(skip_locked=True).values("pk")
                claimed = PendingTask.objects.filter(pk__in=claimable).update(
                    worker=_worker_name(), started_at=started_at, due_at=started_at + timedelta(seconds=lease))
            if not claimed:
                return None
            try:
                with transaction.atomic() if exclusive else nullcontext():
                    if exclusive and _open(pk=pending_id, started_at=started_at).select_for_update(
                            skip_locked=True).values_list("pk", flat=True).first() is None:
                        return None  # taken over meanwhile
                    result = function(*args, **kwargs)
                    # For an exclusive task this commits together with what it did.
                    _open(pk=pending_id).update(done_at=timezone.now(), last_error="")
                return result
            except Exception as error:  # noqa: BLE001 - every failure is retried through the row
                _failed(pending_id, started_at, error, max_attempts=max_attempts, on_failure=on_failure,
                        args=args, kwargs=kwargs)
                return None

        return run

    return decorate
