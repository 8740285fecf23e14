"""The meetings part of /api/v1/: rooms, meetings and their occurrences, invitations and join links,
attendance, recordings and usage. Each view reaches rows only through the caller's organization
(another organization's code answers 404, as does a meeting the caller may not manage) and does
its work through the same services as the portal's pages."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import ApiKey, Membership, User
from accounts.tenancy import get_scoped_or_404
from portal.api.errors import ApiError, from_django
from portal.api.idempotency import idempotent
from portal.api.pagination import paged
from portal.api.views import ApiView
from portal.site import absolute_reverse

from ..models import Invitation, Meeting, Occurrence, Recording, Room
from ..recurrence import build_rrule
from ..services import attendance, scheduling
from ..services import invitations as invitation_services
from ..services import recordings as recording_services
from . import serializers as s

READ, WRITE, LINKS = ApiKey.Scope.READ, ApiKey.Scope.WRITE, ApiKey.Scope.LINKS


def _valid(serializer_class, request, **kwargs):
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _no_body(request) -> None:
    """An action that takes nothing: a body (or a malformed one) is a client bug, refused before acting."""
    if request.data not in ({}, None, b"", ""):
        raise serializers.ValidationError("This action takes no body.")


def _rooms(caller):
    rooms = Room.objects.of(caller.organization).select_related("owner")
    return rooms if caller.is_admin else rooms.filter(Q(owner=caller.user) | Q(co_hosts=caller.user)).distinct()


def _meetings(caller):
    meetings = Meeting.objects.of(caller.organization).select_related("room", "owner")
    if not caller.is_admin:
        meetings = meetings.filter(Q(owner=caller.user) | Q(co_hosts=caller.user)).distinct()
    return meetings.annotate(occurrence_count=Count("occurrences", distinct=True))


def _meeting(caller, code) -> Meeting:
    return get_scoped_or_404(_meetings(caller), caller.organization, code=code)


def _occurrence(caller, code) -> Occurrence:
    occurrence = Occurrence.objects.select_related("meeting").filter(
        code=code, meeting__in=_meetings(caller)).first()
    if occurrence is None:
        raise Http404("No such occurrence.")
    return occurrence


def _invitation(caller, code) -> Invitation:
    invitation = Invitation.objects.of(caller.organization).select_related("meeting").filter(
        code=code, meeting__in=_meetings(caller)).first()
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


def _host(caller, email) -> User:
    """The owner named by email: a host (or above) of the caller's organization."""
    if not email:
        return caller.user
    membership = Membership.objects.of(caller.organization).select_related("user").filter(
        user__email__iexact=email).first()
    if membership is None or not membership.has_role(Membership.Role.HOST):
        raise serializers.ValidationError({"owner": ["The owner must be a host, admin or owner of the organization."]})
    if membership.user != caller.user and not caller.is_admin:
        raise serializers.ValidationError({"owner": ["Only admins schedule meetings for someone else."]})
    return membership.user


def _service(call, *args, **kwargs):
    """Run a service; what it refuses becomes a 400 in the API's error shape."""
    try:
        return call(*args, **kwargs)
    except ValidationError as error:
        raise from_django(error) from None


def _time_filter(request, name):
    raw = request.query_params.get(name)
    if raw is None:
        return None
    field = s.AwareDateTimeField()
    try:
        return field.to_internal_value(raw)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({name: error.detail}) from None


# --- Rooms -----------------------------------------------------------------------------------------

class RoomList(ApiView):
    @extend_schema(responses=paged(s.RoomSerializer), summary="Rooms the caller manages", operation_id="rooms_list")
    def get(self, request):
        return self.page(_rooms(request.caller), s.RoomSerializer)

    @extend_schema(request=s.RoomInput, responses={201: s.RoomSerializer}, summary="Create a room")
    @idempotent
    def post(self, request):
        data = _valid(s.RoomInput, request)
        room = _service(scheduling.room_create, organization=request.caller.organization, owner=request.caller.user,
                        name=data["name"], **data.get("settings", {}))
        return Response(s.RoomSerializer(room).data, status=status.HTTP_201_CREATED)


class RoomDetail(ApiView):
    @extend_schema(responses=s.RoomSerializer, summary="One room")
    def get(self, request, code):
        return Response(s.RoomSerializer(get_scoped_or_404(_rooms(request.caller), request.caller.organization,
                                                           code=code)).data)

    @extend_schema(request=s.RoomChange, responses=s.RoomSerializer, summary="Change a room's name or defaults")
    def patch(self, request, code):
        room = get_scoped_or_404(_rooms(request.caller), request.caller.organization, code=code)
        data = _valid(s.RoomChange, request)
        changes = {**data.get("settings", {}), **({"name": data["name"]} if "name" in data else {})}
        _service(scheduling.room_update, room=room, **changes)
        return Response(s.RoomSerializer(room).data)


# --- Meetings --------------------------------------------------------------------------------------

class MeetingList(ApiView):
    ordering = ("start", "pk")

    @extend_schema(
        summary="Meetings the caller manages", operation_id="meetings_list",
        parameters=[
            OpenApiParameter("starts_after", str, description="Only meetings with a sitting ending after this "
                                                              "time (ISO 8601 with offset)."),
            OpenApiParameter("starts_before", str, description="Only meetings with a sitting starting before "
                                                               "this time."),
            OpenApiParameter("status", str, enum=Meeting.Status.values),
            OpenApiParameter("host", str, description="The owner's or a co-host's email."),
        ],
        responses=paged(s.MeetingSerializer))
    def get(self, request):
        meetings = _meetings(request.caller)
        after, before = _time_filter(request, "starts_after"), _time_filter(request, "starts_before")
        if after or before:
            sittings = Occurrence.objects.all()
            if after:
                sittings = sittings.filter(end__gt=after)
            if before:
                sittings = sittings.filter(start__lt=before)
            meetings = meetings.filter(pk__in=sittings.values("meeting_id"))
        if (wanted := request.query_params.get("status")) is not None:
            if wanted not in Meeting.Status.values:
                raise serializers.ValidationError({"status": [f"Choose one of: {', '.join(Meeting.Status.values)}."]})
            meetings = meetings.filter(status=wanted)
        if (host := request.query_params.get("host")) is not None:
            meetings = meetings.filter(Q(owner__email__iexact=host) | Q(co_hosts__email__iexact=host)).distinct()
        return self.page(meetings, s.MeetingSerializer)

    @extend_schema(request=s.MeetingInput, responses={201: s.MeetingSerializer},
                   summary="Schedule a meeting or a recurring series")
    @idempotent
    def post(self, request):
        caller = request.caller
        data = _valid(s.MeetingInput, request)
        owner = _host(caller, data.get("owner"))
        zone = data.get("timezone") or caller.organization.timezone
        rrule = ""
        if recurrence := data.get("recurrence"):
            rrule = build_rrule(frequency=recurrence["frequency"], weekdays=recurrence.get("weekdays") or [],
                                count=recurrence.get("count"), until=recurrence.get("until"), tz=zone)
        with transaction.atomic():
            if data.get("room"):
                room = get_scoped_or_404(Room, caller.organization, code=data["room"])
            else:
                room = (Room.objects.of(caller.organization).filter(owner=owner).first()
                        or scheduling.room_create(organization=caller.organization, owner=owner,
                                                  name=f"{owner.display_name[:100]}'s room", max_broadcasters=8,
                                                  max_watchers=20))
            meeting = _service(scheduling.meeting_schedule, organization=caller.organization, room=room, owner=owner,
                               title=data["title"], description=data.get("description", ""), start=data["start"],
                               end=data["end"], timezone_name=zone, rrule=rrule, **data.get("settings", {}))
            invitation_services.invitation_create(
                meeting=meeting, email=owner.email, role="host", send_email=False,
                display_name=invitation_services.fitted_name(owner.display_name))
        return Response(s.MeetingSerializer(_meeting(caller, meeting.code)).data, status=status.HTTP_201_CREATED)


class MeetingDetail(ApiView):
    @extend_schema(responses=s.MeetingSerializer, summary="One meeting")
    def get(self, request, code):
        return Response(s.MeetingSerializer(_meeting(request.caller, code)).data)

    @extend_schema(request=s.MeetingChange, responses=s.MeetingSerializer,
                   summary="Change a meeting (the whole series)")
    def patch(self, request, code):
        meeting = _meeting(request.caller, code)
        if meeting.status == Meeting.Status.CANCELLED:
            raise ApiError("The meeting was cancelled; it can no longer change.", code="meeting_cancelled")
        data = _valid(s.MeetingChange, request)
        changes = {**data.pop("settings", {}), **data}
        _service(scheduling.meeting_update, meeting=meeting, **changes)
        return Response(s.MeetingSerializer(_meeting(request.caller, code)).data)


class MeetingCancel(ApiView):
    @extend_schema(request=None, responses=s.MeetingSerializer,
                   summary="Cancel a meeting: every sitting not over yet, and tell the invitees")
    @idempotent
    def post(self, request, code):
        _no_body(request)
        meeting = _meeting(request.caller, code)
        if meeting.status != Meeting.Status.CANCELLED:
            scheduling.meeting_cancel(meeting=meeting)
        return Response(s.MeetingSerializer(_meeting(request.caller, code)).data)


class MeetingEnd(ApiView):
    @extend_schema(request=None, responses=paged(s.OccurrenceSerializer),
                   summary="End the sittings that are live now, for everyone in them")
    @idempotent
    def post(self, request, code):
        _no_body(request)
        meeting = _meeting(request.caller, code)
        live = list(meeting.occurrences.filter(status=Occurrence.Status.LIVE))
        if not live:
            raise ApiError("No sitting of this meeting is live.", code="not_live")
        for occurrence in live:
            scheduling.occurrence_end(occurrence=occurrence)
        return Response(s.OccurrenceSerializer(live, many=True).data)


class OccurrenceList(ApiView):
    ordering = ("start", "pk")

    @extend_schema(responses=paged(s.OccurrenceSerializer), operation_id="meetings_occurrences_list",
                   summary="A meeting's sittings")
    def get(self, request, code):
        meeting = _meeting(request.caller, code)
        return self.page(meeting.occurrences.select_related("meeting"), s.OccurrenceSerializer)


class OccurrenceDetail(ApiView):
    @extend_schema(responses=s.OccurrenceSerializer, summary="One sitting")
    def get(self, request, code):
        return Response(s.OccurrenceSerializer(_occurrence(request.caller, code)).data)

    @extend_schema(request=s.OccurrenceChange, responses=s.OccurrenceSerializer,
                   summary="Move or retitle one sitting of a series")
    def patch(self, request, code):
        occurrence = _occurrence(request.caller, code)
        if occurrence.status != Occurrence.Status.SCHEDULED:
            raise ApiError(f"This sitting is {occurrence.status}; only scheduled ones change.", code="not_scheduled")
        data = _valid(s.OccurrenceChange, request)
        _service(scheduling.occurrence_update, occurrence=occurrence, start=data.get("start", occurrence.start),
                 end=data.get("end", occurrence.end), title=data.get("title", occurrence.title_override))
        return Response(s.OccurrenceSerializer(_occurrence(request.caller, code)).data)


class OccurrenceCancel(ApiView):
    @extend_schema(request=None, responses=s.OccurrenceSerializer, summary="Cancel one sitting")
    @idempotent
    def post(self, request, code):
        _no_body(request)
        occurrence = _occurrence(request.caller, code)
        if occurrence.status == Occurrence.Status.ENDED:
            raise ApiError("This sitting is over; it cannot be cancelled.", code="already_ended")
        if occurrence.status != Occurrence.Status.CANCELLED:
            scheduling.occurrence_cancel(occurrence=occurrence)
        return Response(s.OccurrenceSerializer(_occurrence(request.caller, code)).data)


# --- Invitations and links -------------------------------------------------------------------------

def _link(token: str) -> str:
    return absolute_reverse("join", token)


class InvitationList(ApiView):
    ordering = ("created_at", "pk")

    @extend_schema(responses=paged(s.InvitationSerializer), operation_id="meetings_invitations_list",
                   summary="A meeting's invitations")
    def get(self, request, code):
        meeting = _meeting(request.caller, code)
        return self.page(meeting.invitations.select_related("meeting"), s.InvitationSerializer)

    @extend_schema(request=s.InvitationsInput, responses={200: s.InvitationsResult},
                   summary="Invite people in one call, with a result per row")
    @idempotent
    def post(self, request, code):
        caller = request.caller
        meeting = _meeting(caller, code)
        if meeting.status == Meeting.Status.CANCELLED:
            raise ApiError("The meeting was cancelled; nobody more can be invited.", code="meeting_cancelled")
        data = _valid(s.InvitationsInput, request)
        with_links = LINKS in caller.scopes
        results = []
        for number, raw in enumerate(data["invitations"]):
            row = s.InvitationRow(data=raw)
            if not row.is_valid():
                results.append({"row": number, "status": "refused", "errors": row.errors})
                continue
            values = row.validated_data
            try:
                with transaction.atomic():
                    invitation, token = invitation_services.invitation_create(
                        meeting=meeting, email=values["email"], display_name=values.get("name", ""),
                        role=values.get("role", ""), language=values.get("language", ""), invited_by=caller.user,
                        send_email=data["send_email"])
            except ValidationError as error:  # this row only; the others go on
                results.append({"row": number, "status": "refused",
                                "errors": from_django(error).detail})
                continue
            result = {"row": number, "status": "created", "invitation": s.InvitationSerializer(invitation).data}
            if with_links:
                result["link"] = _link(token)
            results.append(result)
        created = sum(1 for result in results if result["status"] == "created")
        return Response({"created": created, "refused": len(results) - created, "results": results})


class InvitationDetail(ApiView):
    scopes_by_method = {"DELETE": WRITE, "PATCH": WRITE}

    @extend_schema(responses=s.InvitationSerializer, summary="One invitation")
    def get(self, request, code):
        return Response(s.InvitationSerializer(_invitation(request.caller, code)).data)

    @extend_schema(request=s.RoleChange, responses=s.InvitationSerializer, summary="Change an invitee's role")
    def patch(self, request, code):
        invitation = _invitation(request.caller, code)
        data = _valid(s.RoleChange, request)
        _service(invitation_services.invitation_change_role, invitation=invitation, role=data["role"],
                 language=data.get("language", ""))
        return Response(s.InvitationSerializer(_invitation(request.caller, code)).data)

    @extend_schema(responses={204: None}, summary="Withdraw an invitation: its link stops working at once")
    def delete(self, request, code):
        invitation_services.invitation_revoke(invitation=_invitation(request.caller, code))
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationLink(ApiView):
    scope = (WRITE, LINKS)

    @extend_schema(request=s.Reissue, responses=s.LinkSerializer,
                   summary="Issue the invitee a new link (the old one stops working) and return it once")
    @idempotent
    def post(self, request, code):
        invitation = _invitation(request.caller, code)
        data = _valid(s.Reissue, request)
        token = invitation_services.invitation_reissue(invitation=invitation, send_email=data["send_email"])
        return Response({"link": _link(token)})


class OpenLink(ApiView):
    scopes_by_method = {"POST": (WRITE, LINKS), "DELETE": WRITE}

    @extend_schema(request=s.OpenLinkInput, responses=s.LinkSerializer,
                   summary="A webinar's open viewer link (a new one revokes the previous), returned once")
    @idempotent
    def post(self, request, code):
        meeting = _meeting(request.caller, code)
        data = _valid(s.OpenLinkInput, request)
        token = _service(invitation_services.open_link_create, meeting=meeting, capacity=data["capacity"])
        return Response({"link": _link(token)})

    @extend_schema(responses={204: None}, summary="Revoke the webinar's open viewer link")
    def delete(self, request, code):
        invitation_services.open_link_revoke(meeting=_meeting(request.caller, code))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Attendance, recordings, usage ---------------------------------------------------------------

class Attendance(ApiView):
    @extend_schema(responses=s.AttendanceSerializer(many=True), summary="Who attended, for how long")
    def get(self, request, code):
        rows = attendance.attendance(_meeting(request.caller, code))
        return Response(s.AttendanceSerializer(rows, many=True).data)


class RecordingList(ApiView):
    @extend_schema(responses=paged(s.RecordingSerializer), operation_id="meetings_recordings_list",
                   summary="A meeting's recordings")
    def get(self, request, code):
        meeting = _meeting(request.caller, code)
        self.ordering = ("-started_at", "-pk")
        return self.page(meeting.recordings.select_related("meeting", "occurrence"), s.RecordingSerializer)


def _recording(caller, code) -> Recording:
    recording = Recording.objects.of(caller.organization).select_related("meeting", "occurrence").filter(
        code=code, meeting__in=_meetings(caller)).first()
    if recording is None:
        raise Http404("No such recording.")
    return recording


class RecordingDetail(ApiView):
    @extend_schema(responses=s.RecordingSerializer, summary="One recording")
    def get(self, request, code):
        return Response(s.RecordingSerializer(_recording(request.caller, code)).data)

    @extend_schema(request=s.VisibilityChange, responses=s.RecordingSerializer, summary="Who may watch it")
    def patch(self, request, code):
        recording = _recording(request.caller, code)
        data = _valid(s.VisibilityChange, request)
        recording_services.set_visibility(recording=recording, visibility=data["visibility"],
                                          new_link=data["new_link"])
        return Response(s.RecordingSerializer(recording).data)


class Usage(ApiView):
    @extend_schema(parameters=[OpenApiParameter("months", int, description="1 to 36; 12 by default.")],
                   responses=s.UsageSerializer(many=True), summary="The organization's usage per month")
    def get(self, request):
        if not request.caller.is_admin:
            raise ApiError("Usage is for the organization's admins.", code="permission_denied", status_code=403)
        raw = request.query_params.get("months", "12")
        if not re.fullmatch(r"[0-9]{1,2}", raw) or not 1 <= int(raw) <= 36:
            raise serializers.ValidationError({"months": ["Give a whole number from 1 to 36."]})
        rows = attendance.monthly_usage(request.caller.organization, months=int(raw))
        return Response(s.UsageSerializer(rows, many=True).data)
