from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal import outbox

from .emails import build_message
from .models import Invitation, Occurrence, ReminderSent
from .providers.base import ProviderError
from .services.scheduling import close_finished_occurrences

EMAIL_MAX_ATTEMPTS = 6


def _email_failed(invitation_id: int, kind: str, occurrence_id: int | None, *, error, attempt: int,
                  final: bool) -> None:
    """Every failed attempt shows on the invitee's row; the last one as failed."""
    Invitation.objects.filter(pk=invitation_id).update(
        email_status=Invitation.EmailStatus.FAILED if final else Invitation.EmailStatus.QUEUED,
        email_error=f"{'Gave up after attempt' if final else 'Attempt'} {attempt}: "
                    f"{error.__class__.__name__}: {error}"[:300])


@shared_task(acks_late=True)
@outbox.pending_task(exclusive=True, max_attempts=EMAIL_MAX_ATTEMPTS, on_failure=_email_failed)
def send_meeting_email(invitation_id: int, kind: str, occurrence_id: int | None) -> None:
    """Send one invitee one email, at most once (the outbox row is locked while it is sent and marked
    done in the same transaction); a failure is retried with backoff and shown on the invitee's row."""
    invitation = (Invitation.objects.select_related("meeting", "meeting__owner", "meeting__organization")
                  .filter(pk=invitation_id).first())
    if invitation is None or not invitation.email:
        return
    occurrence = Occurrence.objects.filter(pk=occurrence_id).first() if occurrence_id else None
    build_message(invitation, kind, occurrence).send()
    Invitation.objects.filter(pk=invitation_id).update(
        email_status=Invitation.EmailStatus.SENT, email_error="", email_sent_at=timezone.now())


@shared_task
def send_reminders() -> int:
    """Remind invitees of sittings that start within REMINDER_MINUTES_BEFORE; each reminder once."""
    now = timezone.now()
    soon = Occurrence.objects.filter(
        start__gt=now, start__lte=now + timedelta(minutes=settings.REMINDER_MINUTES_BEFORE),
        status=Occurrence.Status.SCHEDULED, meeting__status="scheduled")
    sent = 0
    for occurrence in soon:
        invitations = occurrence.meeting.invitations.filter(
            revoked_at__isnull=True, source=Invitation.Source.INVITED).exclude(email="")
        for invitation in invitations:
            try:
                with transaction.atomic():  # the reminder is recorded together with its email
                    ReminderSent.objects.create(invitation=invitation, occurrence=occurrence)
                    outbox.enqueue(send_meeting_email, invitation.pk, "reminder", occurrence.pk)
            except IntegrityError:
                continue  # already reminded
            sent += 1
    return sent


@shared_task
def end_finished_occurrences() -> int:
    return close_finished_occurrences(grace=timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER))


@shared_task
def end_abandoned_sessions() -> int:
    """A built-in room page that dropped, or whose socket went silent, and did not come back within
    the grace has left, at the moment it dropped."""
    from .services.joining import end_abandoned_sessions as end_abandoned

    return end_abandoned(grace=timedelta(seconds=settings.ROOM_RECONNECT_GRACE_SECONDS))


@shared_task
def discard_stalled_recordings() -> int:
    from .services.recordings import discard_stalled

    return discard_stalled(older_than=timedelta(hours=1))


def _sync_failed(meeting_id: int, everything: bool = False, *, error, attempt: int, final: bool) -> None:
    """The meeting page shows a failed sync, and whether it is tried again."""
    from .models import MeetingSync

    note = "Gave up after attempt" if final else "Attempt"
    MeetingSync.objects.update_or_create(meeting_id=meeting_id, defaults={
        "last_error": f"{note} {attempt}: {error.__class__.__name__}: {error}"[:300]})


@shared_task(acks_late=True)
@outbox.pending_task(max_attempts=8, on_failure=_sync_failed)
def sync_meeting_task(meeting_id: int, everything: bool = False) -> dict:
    """Recordings and statistics of one hosted meeting. Idempotent, so a retry or a second worker
    is harmless; an outage is retried with backoff (the outbox) and the next run catches up."""
    from .models import Meeting, MeetingSync
    from .services.sync import sync_meeting

    meeting = Meeting.objects.select_related("provider_account").filter(pk=meeting_id).first()
    if meeting is None or meeting.provider_account is None or meeting.provider == "builtin":
        return {}
    started = timezone.now()
    try:
        result = sync_meeting(meeting, everything=everything)
    except ProviderError as error:
        MeetingSync.objects.update_or_create(meeting=meeting, defaults={
            "last_run_at": started, "last_error": str(error)[:300]})
        if error.permanent:
            return {"error": str(error)}
        raise
    MeetingSync.objects.update_or_create(meeting=meeting, defaults={
        "last_run_at": started, "last_success_at": started, "last_error": "", "result": result})
    return result


@shared_task
def sync_hosted_meetings() -> int:
    """Beat: queue a sync of every hosted meeting that has something new to bring home."""
    from .services.sync import meetings_due

    due = list(meetings_due().values_list("pk", flat=True))
    for meeting_id in due:
        request_sync_task(meeting_id)
    return len(due)


def request_sync_task(meeting_id: int, everything: bool = False):
    """Record a sync of one meeting (joined with one still open) and send it after commit."""
    return outbox.enqueue(sync_meeting_task, meeting_id, everything=everything,
                          key=f"sync:{meeting_id}:{int(everything)}", lease_seconds=settings.SYNC_LEASE_SECONDS)


@shared_task(acks_late=True)
@outbox.pending_task(max_attempts=6)
def tell_provider(meeting_id: int, action: str, invitation_id: int | None = None) -> bool:
    """Carry a moderator's decision into a hosted provider's room: remove one person, or close it.
    The portal's own state already changed (their access check now refuses them); this ends what
    is still connected."""
    from .models import Invitation, Meeting
    from .providers import get_provider

    meeting = Meeting.objects.select_related("provider_account").filter(pk=meeting_id).first()
    if meeting is None or meeting.provider_account is None:
        return False
    provider = get_provider(meeting.provider, meeting.provider_account)
    if action == "remove":
        invitation = Invitation.objects.filter(pk=invitation_id, meeting=meeting).first()
        return bool(invitation) and provider.remove_participant(meeting=meeting, invitation=invitation)
    return provider.end_room(meeting=meeting, occurrence=None)


# Outgoing webhooks' tasks, registered with the app's other tasks.
from .webhooks.tasks import deliver_webhook, send_endpoint_disabled_email  # noqa: E402,F401


@shared_task
def apply_provider_events(account_id: int | None = None) -> int:
    """Apply stored joins and leaves: one account's, queued by a delivery (provider_events.
    schedule_apply), or, from beat without an account, every account's still pending after a few
    seconds (a lost message, a stopped worker). Returns how many peers were brought up to date."""
    from .services import provider_events

    if account_id is not None:
        provider_events.clear_queued(account_id)
        return provider_events.apply_pending(account_id)
    return provider_events.apply_pending(older_than=provider_events.SWEEP_AFTER)
