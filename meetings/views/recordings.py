"""Recording uploads from a moderator's room page, and playback for the meeting's managers."""

import json

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Membership
from accounts.tenancy import organization_view

from ..models import Recording
from ..services import recordings as recording_services
from ..services import scheduling
from .join import current_session


def _moderator_session(request, token):
    found, problem = current_session(request, token)
    if problem or found[1].ended_at:
        raise PermissionDenied("Join the meeting first.")
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
    data = request.read(settings.MAX_RECORDING_CHUNK_BYTES + 1)
    if len(data) > settings.MAX_RECORDING_CHUNK_BYTES:
        return _error("The chunk is too large.", 413)
    try:
        recording_services.store_chunk(recording=recording, index=index, data=data)
    except ValidationError as error:
        return _error(error, 409)
    return HttpResponse(status=204)


@require_GET
def recording_status(request, token, recording_code):
    recording = _own_recording(request, token, recording_code)
    return JsonResponse({"status": recording.status, "received": recording_services.received_chunks(recording)})


@require_POST
def recording_finish(request, token, recording_code):
    recording = _own_recording(request, token, recording_code)
    try:
        body = json.loads(request.body or b"{}")
        recording_services.recording_finish(recording=recording, chunk_count=int(body.get("chunks", 0)),
                                            duration_seconds=float(body.get("duration", 0)))
    except (ValueError, TypeError):
        return _error("Send the number of chunks and the duration.")
    except ValidationError as error:
        return _error(error, 409)
    return JsonResponse({"status": "ready"})


@organization_view(minimum_role=Membership.Role.HOST)
def recording_file(request, meeting_code, recording_code):
    recording = Recording.objects.of(request.organization).select_related("meeting").filter(
        code=recording_code, meeting__code=meeting_code, status=Recording.Status.READY).first()
    if recording is None or not scheduling.may_manage(request.user, recording.meeting, request.membership):
        raise Http404("No such recording.")
    return FileResponse(recording.file.open("rb"), content_type=recording.content_type,
                        as_attachment="download" in request.GET,
                        filename=f"{recording.meeting.title} {recording.started_at:%Y-%m-%d %H%M}.webm")
