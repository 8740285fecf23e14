"""The outbox's own rules, in one process: work that can never finish is given up and shown, and a
run that was overtaken cannot record a failure over the run that overtook it."""

from datetime import timedelta

from django.utils import timezone

from meetings.tasks import send_meeting_email
from portal import outbox
from portal.models import PendingTask

from .factories import InvitationFactory


def open_row(**fields) -> PendingTask:
    return PendingTask.objects.create(task=fields.pop("task", send_meeting_email.name), args=[0, "invitation", None],
                                      lease_seconds=60, due_at=timezone.now() - timedelta(seconds=1), **fields)


def test_work_whose_task_no_longer_exists_is_given_up_with_a_reason(db, caplog):
    row = open_row(task="meetings.tasks.renamed_long_ago")

    outbox.sweep()

    row.refresh_from_db()
    assert row.failed_at is not None and "no such task" in row.last_error
    assert "gave up" in caplog.text


def test_work_sent_too_often_without_finishing_is_given_up(db, settings):
    settings.OUTBOX_MAX_DISPATCHES = 3
    row = open_row(dispatches=3)

    outbox.sweep()

    row.refresh_from_db()
    assert row.failed_at is not None and "sent 3 times without finishing" in row.last_error


def test_an_overtaken_run_records_no_failure_over_the_run_that_overtook_it(db):
    invitation = InvitationFactory()
    later_start = timezone.now()
    row = open_row(started_at=later_start, worker="w2@host")

    outbox._failed(row.pk, later_start - timedelta(minutes=3), RuntimeError("the first run, long dead"),
                   max_attempts=1, on_failure=None, args=[invitation.pk, "invitation", None], kwargs={})

    row.refresh_from_db()
    assert (row.attempts, row.failed_at, row.worker) == (0, None, "w2@host")


def test_a_run_that_fails_records_its_attempt_and_waits_out_a_backoff(db, settings):
    settings.OUTBOX_RETRY_SECONDS = 10
    started = timezone.now()
    row = open_row(started_at=started)

    outbox._failed(row.pk, started, RuntimeError("mail server down"), max_attempts=5, on_failure=None,
                   args=[0, "invitation", None], kwargs={})

    row.refresh_from_db()
    assert row.attempts == 1 and "mail server down" in row.last_error and row.started_at is None
    assert row.due_at > timezone.now() + timedelta(seconds=8)


def test_work_asked_for_again_while_open_joins_the_open_record(db):
    from meetings.tasks import sync_meeting_task

    first = outbox.enqueue(sync_meeting_task, 1, everything=True, key="sync:1:1")
    again = outbox.enqueue(sync_meeting_task, 1, everything=True, key="sync:1:1")

    assert first.pk == again.pk and PendingTask.objects.count() == 1
