"""Rooms and meetings: schedule, edit the whole series or one occurrence, cancel, hand over."""

import zoneinfo
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from portal import outbox
from portal.validators import validate_single_line

from .. import realtime
from ..models import Meeting, Occurrence, ProviderAccount, Room
from ..providers import get_provider, provider_label
from ..recurrence import occurrence_starts
from ..webhooks import events as webhook_events
from . import joining

MIN_DURATION = timedelta(minutes=5)
MAX_DURATION = timedelta(hours=24)
MAX_AHEAD = timedelta(days=5 * 366)
# A host who types "now" lands a few minutes in the past by the time the form is sent.
PAST_START_GRACE = timedelta(minutes=15)


def may_manage(user, meeting_or_room, membership: Membership) -> bool:
    """Owners, co-hosts and the organization's admins manage a room or meeting."""
    if membership.has_role(Membership.Role.ADMIN) or meeting_or_room.owner_id == user.pk:
        return True
    return meeting_or_room.co_hosts.filter(pk=user.pk).exists()


def _provider_account(organization, provider: str):
    """The account a hosted provider's meetings sign with: the organization's default one for it."""
    if provider == "builtin":
        return None
    account = (ProviderAccount.objects.of(organization).filter(provider=provider, enabled=True)
               .order_by("-is_default", "name").first())
    if account is None:
        raise ValidationError({"provider": _(
            "The organization has no %(provider)s account yet: an admin adds one first, or choose the built-in "
            "provider.") % {"provider": provider_label(provider)}})
    return account


TITLE_LENGTH = Meeting._meta.get_field("title").max_length


def _check_settings(settings: dict) -> None:
    problems = get_provider(settings.get("provider", "builtin")).limit_problems(
        kind=settings.get("kind", "call"), max_broadcasters=settings.get("max_broadcasters", 0),
        max_watchers=settings.get("max_watchers", 0))
    if problems:
        raise ValidationError(problems)


def _check_times(start, end, *, new: bool) -> None:
    if end <= start:
        raise ValidationError({"end": _("The meeting must end after it starts.")})
    if not MIN_DURATION <= end - start <= MAX_DURATION:
        raise ValidationError({"end": _("A meeting lasts between 5 minutes and 24 hours.")})
    if start > timezone.now() + MAX_AHEAD:
        raise ValidationError({"start": _("A meeting starts within the next five years.")})
    if new and start < timezone.now() - PAST_START_GRACE:
        raise ValidationError({"start": _("A new meeting cannot start in the past (more than 15 minutes ago). "
                                          "To meet right away, use “Meet now”.")})


def _check_line(field: str, value: str, max_length: int) -> None:
    """Titles and names end up in email subjects and calendar lines: one line, within the column."""
    if not value.strip():
        raise ValidationError({field: _("This cannot be empty.")})
    if len(value) > max_length:
        raise ValidationError({field: _("At most %(count)d characters.") % {"count": max_length}})
    try:
        validate_single_line(value)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None


def room_create(*, organization, owner, name: str, **settings) -> Room:
    _check_line("name", name, Room._meta.get_field("name").max_length)
    _check_settings(settings)
    return Room.objects.create(organization=organization, owner=owner, name=name, **settings)


def room_update(*, room: Room, **changes) -> Room:
    """Change a room's name or the defaults new meetings start from (scheduled ones keep theirs)."""
    if "name" in changes:
        _check_line("name", changes["name"], Room._meta.get_field("name").max_length)
    _check_settings({**room.settings_dict(), **changes})
    for name, value in changes.items():
        setattr(room, name, value)
    room.save()
    return room


def _materialise(meeting: Meeting) -> None:
    """Create the occurrences of a new meeting."""
    Occurrence.objects.bulk_create([
        Occurrence(meeting=meeting, start=start, end=start + meeting.duration, original_start=start)
        for start in occurrence_starts(rrule=meeting.rrule, start=meeting.start, tz=meeting.timezone)
    ])


def _replan(meeting: Meeting, *, after) -> None:
    """Re-plan the future after the series' times or rule changed.

    Untouched future occurrences are made anew from the rule. One edited on its own keeps its
    times and takes over the new rule's sitting on the same day (its RECURRENCE-ID moves with it);
    when the new rule has no sitting that day, it is cancelled rather than left orphaned.
    """
    meeting.occurrences.filter(start__gt=after, modified=False, status=Occurrence.Status.SCHEDULED,
                               sessions__isnull=True).delete()
    zone = zoneinfo.ZoneInfo(meeting.timezone)
    new_starts = [s for s in occurrence_starts(rrule=meeting.rrule, start=meeting.start, tz=meeting.timezone)
                  if s > after]
    slot_by_day = {start.astimezone(zone).date(): start for start in new_starts}
    taken = set()
    for kept in meeting.occurrences.filter(original_start__gt=after):
        slot = slot_by_day.get(kept.original_start.astimezone(zone).date())
        if slot is None or slot in taken:
            kept.status = Occurrence.Status.CANCELLED
        else:
            kept.original_start = slot
            taken.add(slot)
        kept.save(update_fields=["status", "original_start"])
    Occurrence.objects.bulk_create([
        Occurrence(meeting=meeting, start=start, end=start + meeting.duration, original_start=start)
        for start in new_starts if start not in taken
    ])


def meeting_schedule(*, organization, room: Room, owner, title: str, start, end, timezone_name: str,
                     description: str = "", rrule: str = "", **settings) -> Meeting:
    _check_line("title", title, TITLE_LENGTH)
    _check_times(start, end, new=True)
    merged = {**room.settings_dict(), **settings}
    _check_settings(merged)
    merged["provider_account"] = _provider_account(organization, merged["provider"])
    with transaction.atomic():
        meeting = Meeting.objects.create(
            organization=organization, room=room, owner=owner, title=title, description=description,
            start=start, end=end, timezone=timezone_name, rrule=rrule, **merged)
        _materialise(meeting)
        webhook_events.emit(organization, "meeting.scheduled", lambda: webhook_events.meeting_data(meeting))
    # The provider's room is made on the first join (Provider.ensure_room), so scheduling never waits
    # on a provider, and a provider can still be switched until the meeting starts.
    return meeting


MEET_NOW_LENGTH = timedelta(hours=1)


def meeting_start_now(*, organization, room: Room, owner, title: str, timezone_name: str) -> Meeting:
    """A one-off meeting in the room from this minute for an hour, with the room's settings."""
    start = timezone.now().replace(second=0, microsecond=0)
    return meeting_schedule(organization=organization, room=room, owner=owner, title=title, start=start,
                            end=start + MEET_NOW_LENGTH, timezone_name=timezone_name)


def _notify_invitees(meeting: Meeting, kind: str, occurrence: Occurrence | None = None) -> None:
    from ..tasks import send_meeting_email

    invitation_ids = list(meeting.invitations.filter(revoked_at__isnull=True, source="invited")
                          .exclude(email="").values_list("pk", flat=True))
    occurrence_id = occurrence.pk if occurrence else None
    outbox.enqueue_many(send_meeting_email, [[pk, kind, occurrence_id] for pk in invitation_ids])


def meeting_update(*, meeting: Meeting, **changes) -> Meeting:
    """Edit the whole series. Changed times or rule re-plan the future occurrences not edited on their own."""
    times_changed = any(changes.get(name, getattr(meeting, name)) != getattr(meeting, name)
                        for name in ("start", "end", "rrule", "timezone"))
    start, end = changes.get("start", meeting.start), changes.get("end", meeting.end)
    if "title" in changes:
        _check_line("title", changes["title"], TITLE_LENGTH)
    _check_times(start, end, new=False)
    settings = {name: changes.get(name, getattr(meeting, name)) for name in Meeting.SETTING_FIELDS}
    _check_settings(settings)
    if "provider" in changes and changes["provider"] != meeting.provider:
        if meeting.occurrences.filter(start__lte=timezone.now()).exists() or meeting.occurrences.exclude(
                status=Occurrence.Status.SCHEDULED).exclude(status=Occurrence.Status.CANCELLED).exists():
            raise ValidationError({"provider": _("The meeting has already started, so its video provider can no "
                                                 "longer change; schedule a new meeting for another provider.")})
    if "provider" in changes:
        changes["provider_account"] = _provider_account(meeting.organization, settings["provider"])
    with transaction.atomic():
        for name, value in changes.items():
            setattr(meeting, name, value)
        meeting.ical_sequence += 1
        meeting.save()
        if times_changed:
            _replan(meeting, after=timezone.now())
        meeting.occurrences.filter(modified=False, status=Occurrence.Status.SCHEDULED).update(title_override="")
        _notify_invitees(meeting, "update")
        webhook_events.emit(meeting.organization_id, "meeting.updated", lambda: webhook_events.meeting_data(meeting))
    return meeting


def occurrence_update(*, occurrence: Occurrence, start, end, title: str = "") -> Occurrence:
    """Edit one occurrence; the series keeps its rule."""
    if occurrence.status in (Occurrence.Status.ENDED, Occurrence.Status.CANCELLED):
        raise ValidationError(_("This occurrence has ended or was cancelled and can no longer be changed."))
    if title:
        _check_line("title", title, TITLE_LENGTH)
    _check_times(start, end, new=start != occurrence.start)
    with transaction.atomic():
        occurrence.start, occurrence.end, occurrence.modified = start, end, True
        occurrence.title_override = title if title != occurrence.meeting.title else ""
        occurrence.save()
        meeting = occurrence.meeting
        meeting.ical_sequence += 1
        meeting.save(update_fields=["ical_sequence", "updated_at"])
        _notify_invitees(meeting, "update", occurrence)
        webhook_events.emit(meeting.organization_id, "meeting.updated",
                            lambda: webhook_events.meeting_data(meeting, occurrence))
    return occurrence


def _end_live_sessions(occurrences) -> None:
    from ..models import JoinSession

    live = JoinSession.objects.filter(occurrence__in=occurrences, ended_at__isnull=True)
    for occurrence_id in set(live.values_list("occurrence_id", flat=True)):
        realtime.send_after_commit(realtime.room_group(occurrence_id), {"type": "ended", "reason": "ended"})
    leaving = list(live.values_list("pk", flat=True))
    now = timezone.now()
    live.update(ended_at=now, end_reason=JoinSession.EndReason.ENDED, connected=False)
    joining.sessions_left(leaving)


def occurrence_cancel(*, occurrence: Occurrence) -> None:
    with transaction.atomic():
        occurrence.status = Occurrence.Status.CANCELLED
        occurrence.save(update_fields=["status"])
        _end_live_sessions([occurrence])
        joining.tell_hosted_provider(occurrence.meeting, "close")
        meeting = occurrence.meeting
        meeting.ical_sequence += 1
        meeting.save(update_fields=["ical_sequence", "updated_at"])
        _notify_invitees(meeting, "cancel", occurrence)
        webhook_events.emit(meeting.organization_id, "meeting.cancelled",
                            lambda: webhook_events.meeting_data(meeting, occurrence))


def meeting_cancel(*, meeting: Meeting) -> None:
    with transaction.atomic():
        meeting.status = Meeting.Status.CANCELLED
        meeting.ical_sequence += 1
        meeting.save(update_fields=["status", "ical_sequence", "updated_at"])
        upcoming = meeting.occurrences.exclude(status__in=[Occurrence.Status.ENDED, Occurrence.Status.CANCELLED])
        _end_live_sessions(upcoming)
        upcoming.update(status=Occurrence.Status.CANCELLED)
        _notify_invitees(meeting, "cancel")
        webhook_events.emit(meeting.organization_id, "meeting.cancelled", lambda: webhook_events.meeting_data(meeting))


def occurrence_end(*, occurrence: Occurrence) -> None:
    """A host ends a sitting for everyone."""
    with transaction.atomic():
        occurrence.status = Occurrence.Status.ENDED
        occurrence.save(update_fields=["status"])
        _end_live_sessions([occurrence])
        joining.tell_hosted_provider(occurrence.meeting, "close")
        _emit_ended([occurrence])


def occurrence_reopen(*, occurrence: Occurrence) -> None:
    """Undo "end for everyone" while the sitting's time has not run out: its links work again."""
    with transaction.atomic():
        occurrence = Occurrence.objects.select_for_update().select_related("meeting").get(pk=occurrence.pk)
        if occurrence.status != Occurrence.Status.ENDED:
            raise ValidationError(_("Only an ended sitting can be reopened."))
        if occurrence.meeting.status == Meeting.Status.CANCELLED:
            raise ValidationError(_("The meeting was cancelled; it cannot be reopened."))
        if occurrence.end <= timezone.now():
            raise ValidationError(_("Its time is over; schedule a new meeting instead."))
        occurrence.status = Occurrence.Status.SCHEDULED
        occurrence.save(update_fields=["status"])
        meeting = occurrence.meeting
        webhook_events.emit(meeting.organization_id, "meeting.reopened",
                            lambda: webhook_events.meeting_data(meeting, occurrence))


def _emit_ended(occurrences) -> None:
    for occurrence in occurrences:
        meeting = occurrence.meeting
        webhook_events.emit(meeting.organization_id, "meeting.ended", lambda meeting=meeting, occurrence=occurrence:
                            webhook_events.meeting_data(meeting, occurrence))


def ownership_transfer(*, meeting_or_room, new_owner, organization) -> None:
    """Hand a meeting or room to another host of the organization (also for an owner who left)."""
    membership = Membership.objects.of(organization).filter(user=new_owner).first()
    if membership is None or not membership.has_role(Membership.Role.HOST):
        raise PermissionDenied(_("The new owner must be a host, admin or owner of the organization."))
    meeting_or_room.owner = new_owner
    meeting_or_room.save(update_fields=["owner"])


def close_finished_occurrences(*, grace: timedelta) -> int:
    """Mark sittings whose time (plus grace) is over as ended; beat runs this."""
    open_statuses = [Occurrence.Status.SCHEDULED, Occurrence.Status.LIVE]
    with transaction.atomic():
        finished = list(Occurrence.objects.select_for_update(of=("self",)).select_related("meeting").filter(
            end__lt=timezone.now() - grace, status__in=open_statuses))
        _end_live_sessions(finished)
        count = Occurrence.objects.filter(pk__in=[o.pk for o in finished], status__in=open_statuses).update(
            status=Occurrence.Status.ENDED)
        for occurrence in finished:
            occurrence.status = Occurrence.Status.ENDED
        _emit_ended(finished)
    return count
