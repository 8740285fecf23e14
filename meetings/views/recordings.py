"""Recording uploads from a moderator's room page; watching a recording as its hosts, invitees,
organization or anyone with its secret link may, as the host chose."""

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Membership
from accounts.tenancy import organization_view

from ..models import Recording, Visibility
from ..services import joining, scheduling
from ..services import recordings as recording_services
from .hosts import allow_stream
from .join import current_session


def _moderator_session(request, token):
    found, problem = current_session(request, token)
    if problem or found[1].ended_at:
        raise PermissionDenied(_("Join the meeting first."))
    return found[1]


def _own_recording(request, token, recording_code) -> Recording:
    session = _moderator_session(request, token)
    recording = Recording.objects.filter(code=recording_code, occurrence_id=session.occurrence_id,
                                         recorded_by_id=session.invitation_id).first()
    if recording is None:
        raise Http404("No such recording.")
    return recording


def _error(error, status=400):
    return JsonResponse({"error": " ".join(getattr(error, "messages", [str(error)]))}, status=status)


@require_POST
def recording_start(request, token):
    try:
        recording = recording_services.recording_start(session=_moderator_session(request, token))
    except PermissionDenied as error:
        return _error(error, 403)
    return JsonResponse({"recording": recording.code}, status=201)


@require_POST
def recording_chunk(request, token, recording_code, index):
    recording = _own_recording(request, token, recording_code)
    try:
        recording_services.check_chunk_index(index)  # before reading a body that would be refused
        data = request.read(settings.MAX_RECORDING_CHUNK_BYTES + 1)
        if len(data) > settings.MAX_RECORDING_CHUNK_BYTES:
            return _error(_("The chunk is too large."), 413)
        recording_services.store_chunk(recording=recording, index=index, data=data)
    except recording_services.UploadRefused as error:
        return _error(error, error.status)
    except ValidationError as error:
        return _error(error, 409)
    return HttpResponse(status=204)


@require_GET
def recording_status(request, token, recording_code):
    recording = _own_recording(request, token, recording_code)
    return JsonResponse({"status": recording.status, "received": recording_services.received_chunks(recording)})


def _finish_body(request) -> tuple[int, float]:
    """The chunk count and the duration a finish call sends: {"chunks": int, "duration": seconds}."""
    body = json.loads(request.body or b"{}")
    if not isinstance(body, dict) or type(body.get("chunks")) is not int:
        raise recording_services.UploadRefused(_("Send the number of chunks and the duration."))
    duration = body.get("duration", 0)
    if isinstance(duration, bool) or not isinstance(duration, (int, float)):
        raise recording_services.UploadRefused(_("The duration must be a number of seconds."))
    return body["chunks"], float(duration)


@require_POST
def recording_finish(request, token, recording_code):
    recording = _own_recording(request, token, recording_code)
    try:
        chunk_count, duration = _finish_body(request)
        recording_services.recording_finish(recording=recording, chunk_count=chunk_count, duration_seconds=duration)
    except (ValueError, RecursionError, OverflowError):
        return _error(_("Send the number of chunks and the duration as JSON."))
    except recording_services.UploadRefused as error:
        return _error(error, error.status)
    except ValidationError as error:
        return _error(error, 409)
    return JsonResponse({"status": "ready"})


@organization_view(minimum_role=Membership.Role.HOST)
def recording_file(request, meeting_code, recording_code):
    recording = _managed_recording(request, meeting_code, recording_code)
    if recording.status != Recording.Status.READY or not recording.file:
        raise Http404("No such recording.")
    return _file_response(recording, download="download" in request.GET)


def _managed_recording(request, meeting_code, recording_code) -> Recording:
    """A recording of a meeting this person may manage; anything else is 404."""
    recording = Recording.objects.of(request.organization).select_related("meeting").filter(
        code=recording_code, meeting__code=meeting_code).first()
    if recording is None or not scheduling.may_manage(request.user, recording.meeting, request.membership):
        raise Http404("No such recording.")
    return recording


def _file_response(recording, *, download: bool):
    return FileResponse(recording.file.open("rb"), content_type=recording.content_type, as_attachment=download,
                        filename=f"{recording.meeting.title} {recording.started_at:%Y-%m-%d %H%M}.webm")


# --- Watching, and who may ------------------------------------------------------------------------

def _ready(**lookup) -> Recording:
    recording = Recording.objects.select_related("meeting", "organization").filter(
        status=Recording.Status.READY, **lookup).first()
    if recording is None:
        raise Http404("No such recording.")
    return recording


def _watch(request, recording, *, back=None):
    """The watch page: a file recording through a time-limited address, a provider's through HLS."""
    play_url = recording_services.media_url(recording) if recording.file else ""
    allow_stream(request, recording)
    return render(request, "meetings/recording_watch.html", {
        "recording": recording, "play_url": play_url, "back": back,
        "download_url": (play_url + "&download=1") if recording.file else recording.download_url})


@organization_view()
def recording_watch(request, recording_code):
    recording = _ready(organization=request.organization, code=recording_code)
    if not recording_services.may_watch(recording, user=request.user, membership=request.membership):
        raise Http404("No such recording.")
    return _watch(request, recording)


@require_GET
def recording_shared(request, recording_code, token):
    recording = _ready(code=recording_code)
    if not recording_services.share_token_matches(recording, token):
        raise Http404("No such recording.")
    return _watch(request, recording)


@require_GET
def invitee_recording(request, token, recording_code):
    try:
        link = joining.find_link(token)
    except joining.JoinDenied:
        raise Http404("No such recording.") from None
    recording = _ready(code=recording_code)
    if link.revoked_at or link.invitation is None or not recording_services.invitee_may_watch(recording,
                                                                                              link.invitation):
        raise Http404("No such recording.")
    return _watch(request, recording, back=reverse("join", args=[token]))


@require_GET
def recording_media(request, recording_code):
    recording = _ready(code=recording_code)
    if not recording.file or not recording_services.media_signature_valid(recording_code, request.GET.get("s", "")):
        raise Http404("No such recording.")
    return _file_response(recording, download="download" in request.GET)


@organization_view(minimum_role=Membership.Role.HOST)
def recording_visibility(request, meeting_code, recording_code):
    recording = _managed_recording(request, meeting_code, recording_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    visibility = request.POST.get("visibility", "")
    if visibility not in Visibility.values:
        messages.error(request, _("Choose who may watch the recording."))
    else:
        recording_services.set_visibility(recording=recording, visibility=visibility,
                                          new_link="new_link" in request.POST)
        audience = Visibility(visibility).label.lower()
        if "new_link" in request.POST:
            messages.success(request, _("The recording is now visible to %(audience)s; the previous secret link "
                                        "no longer works.") % {"audience": audience})
        else:
            messages.success(request, _("The recording is now visible to %(audience)s.") % {"audience": audience})
    return redirect(reverse("meeting_detail", args=[request.organization.slug, meeting_code]) + "#recordings")
