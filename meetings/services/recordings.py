"""Recordings: those made in the browser (uploaded in numbered chunks, shown only once whole), and
who may watch any recording.

Chunks land in a folder of their own; a repeated chunk replaces the earlier copy, so an interrupted
upload resumes by sending what the server lacks. Finishing checks every chunk is there and joins
them into one file; an upload that stalls is discarded by a beat task.

While uploading, a recording's `size` is the bytes of the chunks received so far, so the limits per
recording and per organization (ready and uploading recordings) are sums over rows.
"""

import hmac
import math
import shutil
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q, Sum
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization

from .. import links
from ..models import Invitation, JoinSession, Recording, Visibility
from ..webhooks import events as webhook_events


class UploadRefused(ValidationError):
    """An upload the limits do not take; `status` is the HTTP answer: 400 malformed, 413 too large."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _parts_dir(recording: Recording) -> Path:
    return Path(settings.MEDIA_ROOT) / "recordings" / "parts" / recording.code


def recording_start(*, session: JoinSession) -> Recording:
    meeting = session.occurrence.meeting
    if not meeting.recording_allowed:
        raise PermissionDenied("Recording is not allowed in this meeting.")
    if not session.invitation.is_moderating or session.ended_at:
        raise PermissionDenied("Only a moderator in the room can record.")
    return Recording.objects.create(organization_id=meeting.organization_id, meeting=meeting,
                                    occurrence=session.occurrence, recorded_by=session.invitation)


def check_chunk_index(index: int) -> None:
    if not 0 <= index < settings.MAX_RECORDING_CHUNKS:
        raise UploadRefused(f"A chunk's index runs from 0 to {settings.MAX_RECORDING_CHUNKS - 1}.")


def store_chunk(*, recording: Recording, index: int, data: bytes) -> None:
    check_chunk_index(index)
    if not data:
        raise UploadRefused("The chunk is empty.")
    with transaction.atomic():
        # One chunk at a time per organization, so two uploads cannot both take its last free bytes.
        Organization.objects.select_for_update().only("pk").get(pk=recording.organization_id)
        recording = Recording.objects.select_for_update().get(pk=recording.pk)
        if recording.status != Recording.Status.UPLOADING:
            raise ValidationError("This recording is no longer being uploaded.")
        folder = _parts_dir(recording)
        part = folder / f"{index:06d}.part"
        size = max(0, recording.size - (part.stat().st_size if part.exists() else 0)) + len(data)
        if size > settings.MAX_RECORDING_BYTES:
            raise UploadRefused(f"The recording reached its limit of {_bytes(settings.MAX_RECORDING_BYTES)}.", 413)
        others = (Recording.objects.filter(organization_id=recording.organization_id,
                                           status__in=[Recording.Status.READY, Recording.Status.UPLOADING])
                  .exclude(pk=recording.pk).aggregate(total=Sum("size"))["total"] or 0)
        if others + size > settings.MAX_ORGANIZATION_RECORDING_BYTES:
            raise UploadRefused("The organization's recordings fill its storage of "
                                f"{_bytes(settings.MAX_ORGANIZATION_RECORDING_BYTES)}.", 413)
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f"{index:06d}.tmp"
        temporary.write_bytes(data)
        temporary.replace(part)  # a chunk is either whole or absent
        Recording.objects.filter(pk=recording.pk).update(size=size, last_chunk_at=timezone.now())


def _bytes(count: int) -> str:
    return f"{count} bytes" if count < 1024 else f"{filesizeformat(count)} ({count} bytes)"


def received_chunks(recording: Recording) -> list[int]:
    folder = _parts_dir(recording)
    return sorted(int(p.stem) for p in folder.glob("*.part")) if folder.exists() else []


def recording_finish(*, recording: Recording, chunk_count: int, duration_seconds: float) -> Recording:
    if not 1 <= chunk_count <= settings.MAX_RECORDING_CHUNKS:
        raise UploadRefused(f"A recording has 1 to {settings.MAX_RECORDING_CHUNKS} chunks.")
    if not math.isfinite(duration_seconds):
        raise UploadRefused("The duration must be a number of seconds.")
    if recording.status != Recording.Status.UPLOADING:
        raise ValidationError("This recording is no longer being uploaded.")
    received = set(received_chunks(recording))
    missing = [index for index in range(chunk_count) if index not in received]
    if missing:
        raise ValidationError(f"Chunks still missing: {missing[:20]}")
    folder = _parts_dir(recording)
    joined = folder / "joined.webm"
    with joined.open("wb") as out:
        for index in range(chunk_count):
            with (folder / f"{index:06d}.part").open("rb") as part:
                shutil.copyfileobj(part, out)
    with joined.open("rb") as handle:
        recording.file.save(f"{recording.code}.webm", File(handle), save=False)
    recording.size = joined.stat().st_size
    recording.duration_seconds = max(0.0, duration_seconds)
    recording.status = Recording.Status.READY
    recording.finished_at = timezone.now()
    recording.save()
    webhook_events.emit(recording.organization_id, "recording.ready", lambda: webhook_events.recording_data(recording))
    shutil.rmtree(folder, ignore_errors=True)
    return recording


def discard_stalled(*, older_than) -> int:
    cutoff = timezone.now() - older_than
    stalled = Recording.objects.filter(status=Recording.Status.UPLOADING, started_at__lt=cutoff).exclude(
        last_chunk_at__gte=cutoff)
    count = 0
    for recording in stalled:
        shutil.rmtree(_parts_dir(recording), ignore_errors=True)
        recording.status = Recording.Status.DISCARDED
        recording.save(update_fields=["status"])
        count += 1
    return count


# --- Who may watch --------------------------------------------------------------------------------

MEDIA_LINK_MAX_AGE = 6 * 3600  # a watch page's file address works this long


def share_token(recording: Recording) -> str:
    """The secret of a recording's "anyone with the link" address; a new generation revokes it."""
    return links.derive_token(f"recording:{recording.code}:{recording.share_generation}")


def share_token_matches(recording: Recording, token: str) -> bool:
    return recording.visibility == Visibility.LINK and hmac.compare_digest(share_token(recording), token)


def may_watch(recording: Recording, *, user, membership) -> bool:
    """A signed-in person of the recording's organization: its hosts always; its invitees, or the
    whole organization, when the host opened it that far."""
    from .scheduling import may_manage

    if membership is None or membership.organization_id != recording.organization_id:
        return False
    if may_manage(user, recording.meeting, membership):
        return True
    if recording.visibility in (Visibility.ORGANIZATION, Visibility.LINK):
        return True
    return recording.visibility == Visibility.INVITEES and recording.meeting.invitations.filter(
        Q(user=user) | Q(email__iexact=user.email), revoked_at__isnull=True, removed_at__isnull=True).exists()


def invitee_may_watch(recording: Recording, invitation: Invitation) -> bool:
    """Someone holding a working personal link of the meeting: not withdrawn, not removed by a moderator."""
    return (recording.meeting_id == invitation.meeting_id and invitation.revoked_at is None
            and invitation.removed_at is None and recording.visibility != Visibility.HOSTS)


def set_visibility(*, recording: Recording, visibility: str, new_link: bool = False) -> None:
    recording.visibility = Visibility(visibility)
    if new_link:
        recording.share_generation += 1
    recording.save(update_fields=["visibility", "share_generation"])


def media_url(recording: Recording) -> str:
    """A time-limited address of a recording's file, for a page that already checked access."""
    signature = signing.TimestampSigner(salt="recording-media").sign(recording.code).split(":", 1)[1]
    return reverse("recording_media", args=[recording.code]) + f"?s={signature}"


def media_signature_valid(recording_code: str, signature: str) -> bool:
    try:
        signing.TimestampSigner(salt="recording-media").unsign(f"{recording_code}:{signature}",
                                                                max_age=MEDIA_LINK_MAX_AGE)
    except signing.BadSignature:
        return False
    return True
