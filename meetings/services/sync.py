"""Bringing a hosted provider's data home: a meeting's recordings, and each sitting's statistics (the
room summary and every participant's sessions).

Running a sync twice, or in two workers at once, changes nothing the second time: recordings are keyed
by the provider's id and statistics sessions by (meeting, peer, join time), with unique constraints
settling races; a recording that the provider no longer has is removed here too. Statistics of a
sitting are read again until a read comes long enough after it that nothing more will arrive.
"""

from datetime import datetime, timedelta
from itertools import islice

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Invitation, Meeting, MeetingSync, Occurrence, OccurrenceUsage, Presence, Recording
from ..providers import get_provider
from ..webhooks import events as webhook_events

# Statistics arrive every 30 seconds; a read this long after a sitting's window sees all of them.
STATISTICS_SETTLE = timedelta(hours=1)
# Past sittings the beat keeps an eye on: recordings can still be processed, or deleted, there.
WATCHED_FOR = timedelta(days=30)
RESYNC_EVERY = timedelta(hours=24)


def _upsert(model, lookup: dict, values: dict) -> bool:
    """update_or_create that survives another worker creating the same row at the same moment."""
    try:
        with transaction.atomic():
            return model.objects.update_or_create(**lookup, defaults=values)[1]
    except IntegrityError:
        model.objects.filter(**lookup).update(**values)
        return False


def sync_recordings(meeting: Meeting) -> dict:
    """Upsert the provider's recordings of this meeting on their ids; remove the ones it no longer has.

    The provider's recordings arrive as an iterable (Gcore's reads its API page by page) and are saved a
    batch at a time: one read of the batch's rows, one insert of the new ones, one update of the changed
    ones. Only the ids seen are kept across batches (the removal needs them), so a meeting of thousands
    of recordings syncs in flat memory."""
    seen: set[str] = set()
    created = 0
    recordings = iter(_provider(meeting).fetch_recordings(meeting=meeting))
    while batch := list(islice(recordings, BATCH)):
        created += _save_batch(meeting, batch, seen)
    return {"videos": len(seen), "created": created, "removed": _remove_unseen(meeting, seen)}


# Recordings saved per statement; one batch of the provider's answers is all a sync holds at once.
BATCH = 100
SYNCED_FIELDS = ("organization_id", "status", "duration_seconds", "hls_url", "download_url", "content_type",
                 "started_at", "occurrence_id")


def _save_batch(meeting: Meeting, batch: list, seen: set[str]) -> int:
    """Save one batch of the provider's recordings; how many rows were new. A row another worker
    created meanwhile is updated instead (the batch then goes row by row)."""
    found = {recording.provider_id: recording for recording in batch}  # a repeated id: the last answer
    seen.update(found)
    existing = {row.provider_recording_id: row for row in Recording.objects.filter(
        meeting=meeting, provider=meeting.provider, provider_recording_id__in=list(found))}
    sittings = _sittings_near(meeting, [r.started_at for r in found.values() if r.started_at])
    new, changed, now_ready = [], [], []
    for provider_id, recording in found.items():
        values = {
            "organization_id": meeting.organization_id,
            "status": Recording.Status.READY if recording.ready else Recording.Status.UPLOADING,
            "duration_seconds": recording.duration_seconds, "hls_url": recording.hls_url,
            "download_url": recording.download_url, "content_type": recording.content_type,
        }
        if recording.started_at:
            sitting = _sitting_at(sittings, recording.started_at)
            values.update(started_at=recording.started_at, occurrence_id=sitting.pk if sitting else None)
        row = existing.get(provider_id)
        if row is None:
            new.append((Recording(meeting=meeting, provider=meeting.provider, provider_recording_id=provider_id,
                                  **values), values))
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
        if recording.ready and (row is None or row.status != Recording.Status.READY):
            now_ready.append(provider_id)
    created = len(new)
    try:
        with transaction.atomic():
            Recording.objects.bulk_create([row for row, _ in new])
    except IntegrityError:  # another sync of this meeting created some of them meanwhile
        created = sum(_upsert(Recording, {"meeting": meeting, "provider": meeting.provider,
                                          "provider_recording_id": row.provider_recording_id}, values)
                      for row, values in new)
    Recording.objects.bulk_update(changed, SYNCED_FIELDS)
    _emit_ready(meeting, now_ready)
    return created


def _sittings_near(meeting: Meeting, moments: list[datetime]) -> list[Occurrence]:
    """The meeting's sittings whose joining window may hold one of these moments, in order of start
    (one query for a batch instead of services.attendance.occurrence_at for each recording)."""
    if not moments:
        return []
    before = timedelta(minutes=settings.JOIN_OPENS_MINUTES_BEFORE)
    after = timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER)
    return list(meeting.occurrences.filter(start__lte=max(moments) + before, end__gte=min(moments) - after)
                .exclude(status=Occurrence.Status.CANCELLED).order_by("start"))


def _sitting_at(sittings: list[Occurrence], moment: datetime) -> Occurrence | None:
    """The first sitting whose joining window holds this moment (as occurrence_at decides)."""
    before = timedelta(minutes=settings.JOIN_OPENS_MINUTES_BEFORE)
    after = timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER)
    return next((s for s in sittings if s.start <= moment + before and s.end >= moment - after), None)


def _remove_unseen(meeting: Meeting, seen: set[str]) -> int:
    """Delete the meeting's provider recordings the provider no longer listed, reading its rows as a
    stream and deleting in batches."""
    rows = (meeting.recordings.filter(provider=meeting.provider).exclude(provider_recording_id="")
            .values_list("pk", "provider_recording_id").iterator(chunk_size=2000))
    gone = [pk for pk, provider_id in rows if provider_id not in seen]
    removed = 0
    for first in range(0, len(gone), 1000):
        removed += Recording.objects.filter(pk__in=gone[first:first + 1000]).delete()[0]
    return removed


def _emit_ready(meeting: Meeting, provider_ids: list[str]) -> None:
    """recording.ready once per recording: when the provider first says it is ready. Two syncs racing
    may both see it not ready yet; the receiver tells them apart by the recording's code."""
    if provider_ids and webhook_events.wants(meeting.organization_id, "recording.ready"):
        for recording in Recording.objects.select_related("meeting__room", "meeting__owner", "occurrence").filter(
                meeting=meeting, provider=meeting.provider, provider_recording_id__in=provider_ids):
            webhook_events.emit(meeting.organization_id, "recording.ready", webhook_events.recording_data(recording))


def _provider(meeting: Meeting):
    return get_provider(meeting.provider, meeting.provider_account)


def _window(occurrence: Occurrence) -> tuple[datetime, datetime]:
    return (occurrence.start - timedelta(minutes=settings.JOIN_OPENS_MINUTES_BEFORE),
            occurrence.end + timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER))


def sittings_to_read(meeting: Meeting, *, now: datetime, everything: bool = False):
    """Sittings whose window is over and whose statistics are not final yet (all past ones when
    `everything`)."""
    over = meeting.occurrences.exclude(status=Occurrence.Status.CANCELLED).filter(
        end__lte=now - timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER))
    return over if everything else over.filter(Q(usage__isnull=True) | Q(usage__final=False))


def sync_statistics(meeting: Meeting, *, now: datetime | None = None, everything: bool = False) -> dict:
    """Each due sitting's room summary and participants' sessions, read over that sitting's window
    (the room id is the same for every sitting of a series, so windows keep them apart)."""
    now = now or timezone.now()
    provider = _provider(meeting)
    peers = dict(Invitation.objects.filter(meeting=meeting).values_list("peer_id", "pk"))
    sittings, sessions = 0, 0
    for occurrence in sittings_to_read(meeting, now=now, everything=everything):
        start, end = _window(occurrence)
        report = provider.fetch_sitting(meeting=meeting, start=start, end=end)
        rows = [Presence(organization_id=meeting.organization_id, meeting=meeting, occurrence=occurrence,
                         invitation_id=peers.get(stay.peer_id), peer_id=stay.peer_id,
                         source=Presence.Source.STATISTICS, joined_at=stay.joined_at, left_at=stay.left_at)
                for stay in report.stays]
        Presence.objects.bulk_create(rows, update_conflicts=True,
                                     unique_fields=["meeting", "source", "peer_id", "joined_at"],
                                     update_fields=["left_at", "occurrence", "invitation"])
        _upsert(OccurrenceUsage, {"occurrence": occurrence}, {
            "participants": report.participants, "active_seconds": report.active_seconds,
            "first_join": report.first_join, "last_leave": report.last_leave,
            "synced_at": now, "final": now >= end + STATISTICS_SETTLE})
        sittings += 1
        sessions += len(rows)
    return {"sittings": sittings, "sessions": sessions}


def sync_meeting(meeting: Meeting, *, everything: bool = False) -> dict:
    return {**sync_recordings(meeting), **sync_statistics(meeting, everything=everything)}


def meetings_due(now: datetime | None = None):
    """Hosted meetings the beat should sync: a recent sitting whose statistics are not final, or no
    successful sync for a day while recordings may still change at the provider."""
    now = now or timezone.now()
    over = now - timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER)
    recent = Q(occurrences__end__lte=over, occurrences__end__gte=now - WATCHED_FOR) & ~Q(
        occurrences__status=Occurrence.Status.CANCELLED)
    unsettled = Q(occurrences__usage__isnull=True) | Q(occurrences__usage__final=False)
    stale = Q(sync__isnull=True) | Q(sync__last_success_at__isnull=True) | Q(
        sync__last_success_at__lt=now - RESYNC_EVERY)
    return (Meeting.objects.exclude(provider="builtin").filter(provider_account__enabled=True)
            .filter(recent & (unsettled | stale)).distinct())


def request_sync(meeting: Meeting) -> None:
    """Ask a worker to sync this meeting now (the page's and the admin's "Sync now")."""
    from ..tasks import request_sync_task

    with transaction.atomic():  # the request and the work behind it are saved together
        MeetingSync.objects.update_or_create(meeting=meeting, defaults={"requested_at": timezone.now()})
        request_sync_task(meeting.pk, everything=True)
