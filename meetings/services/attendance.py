"""Attendance: who was in a meeting's room, when, and for how long.

The built-in provider knows it first-hand (join sessions). A hosted provider tells it twice: join and
leave events while the meeting runs, and statistics afterwards (sampled every 30 seconds). Both are
kept as Presence rows; here they are merged into one history per person (per invitation, or per
peer id the portal did not issue), so a stay that both sources saw counts once.
"""

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from ..models import Invitation, JoinSession, Meeting, Occurrence, Presence, Recording
from ..webhooks import events as webhook_events

# Stays closer than this are one stay: statistics are sampled every 30 s and the provider's clock
# and ours differ, so the same stay seen by both sources starts and ends a little apart.
MERGE_GAP = timedelta(seconds=60)


def merge(stays: list[tuple[datetime, datetime]], gap: timedelta = MERGE_GAP) -> list[tuple[datetime, datetime]]:
    """The union of possibly overlapping stays, as disjoint stays in time order."""
    merged: list[list[datetime]] = []
    for start, end in sorted(stays):
        if merged and start <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


# --- Join and leave events ------------------------------------------------------------------------

def record_join(*, meeting: Meeting, peer_id: str, at: datetime) -> None:
    """A provider said this peer connected; a repeated join while still there changes nothing."""
    if Presence.objects.filter(meeting=meeting, source=Presence.Source.EVENTS, peer_id=peer_id,
                               left_at__isnull=True).exists():
        return
    invitation = Invitation.objects.filter(meeting=meeting, peer_id=peer_id).first()
    stay, created = Presence.objects.get_or_create(
        meeting=meeting, source=Presence.Source.EVENTS, peer_id=peer_id, joined_at=at,
        defaults={"organization_id": meeting.organization_id, "invitation": invitation,
                  "occurrence": occurrence_at(meeting, at)})
    if created:
        _emit_presence("participant.joined", meeting, stay, at)


def record_leave(*, meeting: Meeting, peer_id: str, at: datetime) -> None:
    """A provider said this peer's connection closed; a leave while gone (a repeat, or one that came
    before any join) changes nothing. Events are applied in order of arrival, so the open stay is the
    one this leave ends, even when clocks put its start a moment after `at`."""
    open_stay = (Presence.objects.filter(meeting=meeting, source=Presence.Source.EVENTS, peer_id=peer_id,
                                         left_at__isnull=True).order_by("-joined_at").first())
    if open_stay is not None:
        left_at = max(at, open_stay.joined_at)
        if Presence.objects.filter(pk=open_stay.pk, left_at__isnull=True).update(left_at=left_at):
            _emit_presence("participant.left", meeting, open_stay, left_at)


def _emit_presence(event_type: str, meeting: Meeting, stay: Presence, at: datetime) -> None:
    """A hosted provider saw someone connect or go ("source": "provider"; the portal's own join flow
    says "portal")."""
    webhook_events.emit(meeting.organization_id, event_type, lambda: {
        **webhook_events.participant_data(meeting, stay.invitation, occurrence=stay.occurrence, at=at,
                                          peer_id=stay.peer_id),
        "source": "provider"})


def occurrence_at(meeting: Meeting, moment: datetime) -> Occurrence | None:
    """The sitting whose joining window holds this moment."""
    before = timedelta(minutes=settings.JOIN_OPENS_MINUTES_BEFORE)
    after = timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER)
    return (meeting.occurrences.filter(start__lte=moment + before, end__gte=moment - after)
            .exclude(status=Occurrence.Status.CANCELLED).order_by("start").first())


# --- The report -----------------------------------------------------------------------------------

@dataclass
class AttendanceRow:
    name: str
    role: str
    email: str
    sessions: int
    first_join: datetime
    last_leave: datetime | None  # None while still in the room
    seconds: float

    @property
    def minutes(self) -> int:
        return round(self.seconds / 60)


Stays = dict[tuple[int, str], list[tuple[datetime, datetime]]]


def _stays_by_person(meetings, now, *, builtin: bool = True, hosted: bool = True) -> tuple[Stays, set]:
    """(meeting id, person key) -> stays, and the keys of people in the room now. Built-in meetings
    know stays from their join sessions, hosted ones from Presence rows. The person key is the
    invitation id, or the provider's peer id when the portal did not issue it. An open stay ends now,
    or when its sitting closed if its leave was lost."""
    stays: Stays = defaultdict(list)
    present = set()
    after = timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER)
    sessions = (JoinSession.objects.filter(occurrence__meeting__in=meetings.filter(provider="builtin"), admitted=True)
                .values_list("occurrence__meeting_id", "invitation_id", "started_at", "ended_at") if builtin else [])
    for meeting_id, invitation_id, started, ended in sessions:
        key = (meeting_id, str(invitation_id))
        stays[key].append((started, ended or now))
        if ended is None:
            present.add(key)
    presences = (Presence.objects.filter(meeting__in=meetings.exclude(provider="builtin")).values_list(
        "meeting_id", "invitation_id", "peer_id", "joined_at", "left_at", "occurrence__end") if hosted else [])
    for meeting_id, invitation_id, peer_id, joined, left, sitting_end in presences:
        key = (meeting_id, str(invitation_id) if invitation_id else peer_id)
        if left is None:
            closes = sitting_end + after if sitting_end else now
            left = min(now, closes)
            if closes > now:
                present.add(key)
        stays[key].append((joined, max(joined, left)))
    return stays, present


def attendance(meeting: Meeting, now: datetime | None = None) -> list[AttendanceRow]:
    """One row per person who was in the room, in order of first arrival."""
    now = now or timezone.now()
    builtin = meeting.provider == "builtin"
    stays, present = _stays_by_person(Meeting.objects.filter(pk=meeting.pk), now, builtin=builtin, hosted=not builtin)
    ids = [int(key) for _, key in stays if key.isdigit()]
    invitations = meeting.invitations.in_bulk(ids) if ids else {}
    rows = []
    for (meeting_id, key), person_stays in stays.items():
        merged = merge(person_stays)
        invitation = invitations.get(int(key)) if key.isdigit() else None
        rows.append(AttendanceRow(
            name=invitation.display_name if invitation else f"Unknown participant {key[:12]}",
            role=invitation.get_role_display() if invitation else "—",
            email=invitation.email if invitation else "",
            sessions=len(merged), first_join=merged[0][0],
            last_leave=None if (meeting_id, key) in present else merged[-1][1],
            seconds=sum((end - start).total_seconds() for start, end in merged)))
    return sorted(rows, key=lambda row: (row.first_join, row.name))


# --- Organization usage ---------------------------------------------------------------------------

@dataclass
class MonthUsage:
    month: datetime  # first day of the month, in the organization's zone
    meetings: int = 0
    participant_minutes: float = 0
    recording_hours: float = 0
    # provider key -> meetings and participant minutes of that provider's rooms
    by_provider: dict[str, "ProviderUsage"] = field(default_factory=dict)

    def of_provider(self, key: str) -> "ProviderUsage":
        return self.by_provider.setdefault(key, ProviderUsage(provider=key))


@dataclass
class ProviderUsage:
    provider: str
    meetings: int = 0
    participant_minutes: float = 0


def _sittings_held(organization, since: datetime) -> dict:
    """When each sitting was actually held: its first arrival, with its meeting's provider.

    A sitting counts where people met, not where it was scheduled: one ended (or held early) before
    its scheduled start counts in the month it happened, and one nobody joined was not held at all,
    even once its scheduled start has passed. Cancelled sittings never count."""
    first: dict = {}
    cancelled = Q(occurrence__status=Occurrence.Status.CANCELLED) | Q(
        occurrence__meeting__status=Meeting.Status.CANCELLED)
    sessions = (JoinSession.objects.filter(occurrence__meeting__organization=organization, admitted=True,
                                           started_at__gte=since).exclude(cancelled)
                .values("occurrence_id", "occurrence__meeting__provider").annotate(first=Min("started_at")))
    for row in sessions:
        first[row["occurrence_id"]] = (row["first"], row["occurrence__meeting__provider"])
    presences = (Presence.objects.of(organization).filter(joined_at__gte=since)
                 .exclude(occurrence__status=Occurrence.Status.CANCELLED)
                 .exclude(meeting__status=Meeting.Status.CANCELLED)
                 .values("occurrence_id", "meeting_id", "meeting__provider").annotate(first=Min("joined_at")))
    for row in presences:
        key = row["occurrence_id"] or ("meeting", row["meeting_id"])  # statistics not tied to a sitting
        if key not in first or row["first"] < first[key][0]:
            first[key] = (row["first"], row["meeting__provider"])
    return first


def monthly_usage(organization, *, months: int = 12, now: datetime | None = None) -> list[MonthUsage]:
    """Meetings held, participant minutes and recording hours per month, the last `months` months,
    oldest first, in the organization's timezone. A meeting counts once someone was in it, in the
    month they first were (see _sittings_held)."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(organization.timezone or "UTC")
    local_now = now.astimezone(zone)
    first = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [first]
    for _ in range(months - 1):
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    by_month = {(s.year, s.month): MonthUsage(month=s) for s in starts}

    def bucket(moment):
        local = moment.astimezone(zone)
        return by_month.get((local.year, local.month))

    since = starts[0]
    for held_at, provider in _sittings_held(organization, since).values():
        if held_at <= now and (month := bucket(held_at)):
            month.meetings += 1
            month.of_provider(provider).meetings += 1
    meetings = Meeting.objects.of(organization).filter(
        Q(occurrences__start__gte=since - timedelta(days=1)) | Q(occurrences__end__gte=since)).distinct()
    providers = dict(meetings.values_list("id", "provider"))
    for (meeting_id, _person), stays in _stays_by_person(meetings, now)[0].items():
        for start, end in merge(stays):
            if start >= since and (month := bucket(start)):
                minutes = (end - start).total_seconds() / 60
                month.participant_minutes += minutes
                month.of_provider(providers[meeting_id]).participant_minutes += minutes
    recordings = Recording.objects.of(organization).filter(status=Recording.Status.READY, started_at__gte=since)
    for started, seconds in recordings.values_list("started_at", "duration_seconds"):
        if month := bucket(started):
            month.recording_hours += seconds / 3600
    return list(by_month.values())
