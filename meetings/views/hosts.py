"""Pages for hosts: dashboard, rooms, scheduling, a meeting's page with its invitees, invitations."""

import zoneinfo
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Membership
from accounts.tenancy import get_scoped_or_404, organization_view
from portal import security
from portal.site import absolute_reverse

from .. import links, selectors
from ..forms import (
    CsvForm,
    InviteForm,
    InviteMembersForm,
    MeetingForm,
    OccurrenceForm,
    OpenLinkForm,
    PasteForm,
    RoleChangeForm,
    RoomForm,
    TransferForm,
)
from ..models import Invitation, Meeting, MeetingSync, Occurrence, Role, Room, Visibility
from ..providers import get_provider
from ..recurrence import choices_of, describe
from ..services import attendance, scheduling
from ..services import invitations as invitation_services
from ..services import recordings as recording_services

INVITEES_PER_PAGE = 50
OCCURRENCES_SHOWN = 12
HOST = Membership.Role.HOST


def _errors(error) -> str:
    return " ".join(getattr(error, "messages", None) or [str(error)])


def _managed_meeting(request, meeting_code) -> Meeting:
    """A meeting of this organization that the person may manage; anything else is 404."""
    meeting = get_scoped_or_404(Meeting.objects.select_related("room", "owner"), request.organization,
                                code=meeting_code)
    if not scheduling.may_manage(request.user, meeting, request.membership):
        raise Http404(_("No such meeting."))
    return meeting


def _confirm(request, meeting_code, *, title, button, text):
    """Ask before a destructive action; "Keep it" leads back to the meeting's page."""
    return render(request, "meetings/confirm.html", {
        "title": title, "button": button, "text": text,
        "back": reverse("meeting_detail", args=[request.organization.slug, meeting_code])})


def _to_meeting_page(meeting, anchor=""):
    return redirect(reverse("meeting_detail", args=[meeting.organization.slug, meeting.code]) + anchor)


# --- Dashboard -----------------------------------------------------------------------------------

@organization_view()
def dashboard(request):
    everything = request.GET.get("show") == "all" and request.membership.has_role(Membership.Role.ADMIN)
    meetings = selectors.meetings_for(organization=request.organization, user=request.user,
                                      membership=request.membership, everything=everything)
    now = timezone.now()
    past = Paginator(selectors.past_occurrences(meetings, now), 20).get_page(request.GET.get("page"))
    return render(request, "meetings/dashboard.html", {
        "upcoming": selectors.upcoming_occurrences(meetings, now)[:30],
        "past": past, "everything": everything, "can_schedule": request.membership.has_role(HOST),
    })


# --- Rooms ---------------------------------------------------------------------------------------

@organization_view(minimum_role=HOST)
def room_list(request):
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = scheduling.room_create(organization=request.organization, owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Room “%(name)s” was created.") % {"name": room.name})
            return redirect("room_list", request.organization.slug)
    rooms = Room.objects.of(request.organization).select_related("owner")
    return render(request, "meetings/room_list.html", {"rooms": rooms, "form": form})


@organization_view(minimum_role=HOST)
def room_edit(request, room_code):
    room = get_scoped_or_404(Room, request.organization, code=room_code)
    if not scheduling.may_manage(request.user, room, request.membership):
        raise Http404("No such room.")
    form = RoomForm(request.POST or None, instance=room)
    transfer = TransferForm(organization=request.organization)
    if request.method == "POST" and form.is_valid():
        problems = get_provider(form.cleaned_data["provider"]).limit_problems(
            kind=form.cleaned_data["kind"], max_broadcasters=form.cleaned_data["max_broadcasters"],
            max_watchers=form.cleaned_data["max_watchers"])
        if problems:
            form.add_error(None, problems)
        else:
            form.save()
            messages.success(request, _("The room's defaults were saved. Meetings already scheduled keep theirs."))
            return redirect("room_list", request.organization.slug)
    return render(request, "meetings/room_form.html", {"room": room, "form": form, "transfer": transfer})


# --- Scheduling ----------------------------------------------------------------------------------

def _viewer_timezone(request) -> str:
    return request.user.timezone or request.organization.timezone


NEW_ROOM_DEFAULTS = {"max_broadcasters": 8, "max_watchers": 20}


def _own_room(request) -> Room | None:
    return Room.objects.of(request.organization).filter(owner=request.user).first()


def _create_own_room(request) -> Room:
    """Made when a first meeting is saved, never when the form is only shown."""
    return scheduling.room_create(organization=request.organization, owner=request.user,
                                  name=_("%(name)s's room") % {"name": request.user.display_name[:100]},
                                  **NEW_ROOM_DEFAULTS)


def _room_defaults(request) -> dict:
    """Each room's settings by code, for schedule.js to fill the settings fields when a room is picked."""
    defaults = {room.code: room.settings_dict() for room in Room.objects.of(request.organization)}
    return {"": Room(**NEW_ROOM_DEFAULTS).settings_dict(), **defaults}  # "": the host's first room, made on saving


def _schedule_page(request, form, **context):
    return render(request, "meetings/meeting_form.html", {
        "form": form, "room_defaults": _room_defaults(request), **context})


class _InviteesRefused(Exception):
    """Raised inside the scheduling transaction so a refused invitee list leaves no meeting behind."""

    def __init__(self, report):
        self.report = report


def _host_invitation(meeting, user):
    invitation, _token = invitation_services.invitation_create(
        meeting=meeting, email=user.email, role=Role.HOST,
        display_name=invitation_services.fitted_name(user.display_name), send_email=False)
    return invitation


@organization_view(minimum_role=HOST)
def meeting_new(request):
    own_room = _own_room(request)
    if request.method == "POST":
        form = MeetingForm(request.POST, organization=request.organization, new_room_allowed=own_room is None)
    else:
        form_room = own_room or Room(**NEW_ROOM_DEFAULTS)
        start = (timezone.now() + timedelta(hours=1)).astimezone(zoneinfo.ZoneInfo(_viewer_timezone(request)))
        start = start.replace(minute=0, second=0, microsecond=0)
        form = MeetingForm(organization=request.organization, initial={
            "room": form_room.code if form_room.pk else "", "settings_from": form_room.code if form_room.pk else "",
            "timezone": _viewer_timezone(request), "count": 10, "duration": 60,
            "start": start.replace(tzinfo=None), **form_room.settings_dict()}, new_room_allowed=own_room is None)
    report = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # a refused meeting or invitee list leaves nothing behind
                meeting = scheduling.meeting_schedule(
                    organization=request.organization, room=data["room"] or own_room or _create_own_room(request),
                    owner=request.user, title=data["title"],
                    description=data["description"], start=data["start"], end=data["end"],
                    timezone_name=data["timezone"], rrule=form.rrule(), **form.settings())
                _host_invitation(meeting, request.user)
                invited = 0
                if data.get("invitees"):
                    report, imported = invitation_services.invitations_import(
                        meeting=meeting, rows=data["invitees"], invited_by=request.user)
                    if not imported:
                        raise _InviteesRefused(report)
                    invited = len(report)
        except ValidationError as error:
            _attach(form, error)
        except _InviteesRefused as refused:
            report = refused.report
            form.add_error("invitees", _("Nobody was invited and nothing was scheduled: fix the refused rows."))
        else:
            count = meeting.occurrences.count()
            scheduled = (ngettext("“%(title)s” is scheduled.", "“%(title)s” is scheduled (%(count)d occurrences).",
                                  count) % {"title": meeting.title, "count": count})
            if invited:
                scheduled += " " + ngettext("%(count)d person was invited; their invitation email is on its way.",
                                            "%(count)d people were invited; their invitation emails are on their way.",
                                            invited) % {"count": invited}
            messages.success(request, scheduled)
            return _to_meeting_page(meeting)
    return _schedule_page(request, form, new=True, report=report)


@organization_view(minimum_role=HOST)
def meet_now(request):
    """A meeting from now for an hour, in the room picked on the schedule form or the host's own,
    and straight to the host's join link."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    code = request.POST.get("room", "")
    well_formed = code and "\x00" not in code and len(code) <= Room._meta.get_field("code").max_length
    room = Room.objects.of(request.organization).filter(code=code).first() if well_formed else None
    title = request.POST.get("title", "").strip() or _("%(name)s's meeting") % {
        "name": request.user.display_name[:150]}
    try:
        with transaction.atomic():
            meeting = scheduling.meeting_start_now(
                organization=request.organization, room=room or _own_room(request) or _create_own_room(request),
                owner=request.user, title=title, timezone_name=_viewer_timezone(request))
            own = _host_invitation(meeting, request.user)
    except ValidationError as error:
        messages.error(request, _("The meeting could not start: %(problem)s") % {"problem": _errors(error)})
        return redirect("organization_home", request.organization.slug)
    return redirect("join", links.invitation_token(own))


def _attach(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.error_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error)


def _length(meeting, zone) -> dict:
    """A duration the form offers, so a new start moves the end along; else the end itself."""
    minutes = meeting.duration.total_seconds() / 60
    if minutes in {value for value, _label in MeetingForm.DURATIONS}:
        return {"duration": int(minutes)}
    return {"duration": None, "end": meeting.end.astimezone(zone).replace(tzinfo=None)}


@organization_view(minimum_role=HOST)
def meeting_edit(request, meeting_code):
    meeting = _managed_meeting(request, meeting_code)
    zone = zoneinfo.ZoneInfo(meeting.timezone)
    if request.method == "POST":
        form = MeetingForm(request.POST, organization=request.organization, invitees=False)
    else:
        form = MeetingForm(organization=request.organization, invitees=False, initial={
            "room": meeting.room.code, "title": meeting.title, "description": meeting.description,
            "start": meeting.start.astimezone(zone).replace(tzinfo=None), **_length(meeting, zone),
            "timezone": meeting.timezone, **choices_of(meeting.rrule, meeting.timezone), **meeting.settings_dict()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            scheduling.meeting_update(meeting=meeting, room=data["room"], title=data["title"],
                                      description=data["description"], start=data["start"], end=data["end"],
                                      timezone=data["timezone"], rrule=form.rrule(), **form.settings())
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, _("The meeting was updated and invitees were sent the change."))
            return _to_meeting_page(meeting)
    return _schedule_page(request, form, meeting=meeting, transfer=TransferForm(organization=request.organization))


@organization_view(minimum_role=HOST)
def meeting_transfer(request, meeting_code):
    meeting = _managed_meeting(request, meeting_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = TransferForm(request.POST, organization=request.organization)
    if form.is_valid():
        scheduling.ownership_transfer(meeting_or_room=meeting, new_owner=form.cleaned_data["new_owner"],
                                      organization=request.organization)
        messages.success(request, _("%(email)s now owns this meeting.") % {
            "email": form.cleaned_data["new_owner"].email})
    else:
        messages.error(request, _("Choose a host of the organization as the new owner."))
    return _to_meeting_page(meeting)


@organization_view(minimum_role=HOST)
def meeting_cancel(request, meeting_code):
    meeting = _managed_meeting(request, meeting_code)
    if request.method == "POST":
        scheduling.meeting_cancel(meeting=meeting)
        messages.success(request, _("The meeting was cancelled and invitees were told."))
        return _to_meeting_page(meeting)
    return _confirm(request, meeting.code, title=_("Cancel “%(title)s”?") % {"title": meeting.title},
                    button=_("Cancel the meeting"),
                    text=_("Every invitee gets a cancellation. Anyone in the room is disconnected."))


def _meeting_part(request, meeting_code, relation: str, code: str):
    """An occurrence or invitation of a meeting the person manages; anything else is 404."""
    part = getattr(_managed_meeting(request, meeting_code), relation).filter(code=code).first()
    if part is None:
        raise Http404("Not found.")
    return part


def _managed_occurrence(request, meeting_code, occurrence_code) -> Occurrence:
    return _meeting_part(request, meeting_code, "occurrences", occurrence_code)


@organization_view(minimum_role=HOST)
def occurrence_edit(request, meeting_code, occurrence_code):
    occurrence = _managed_occurrence(request, meeting_code, occurrence_code)
    meeting = occurrence.meeting
    zone = zoneinfo.ZoneInfo(meeting.timezone)
    form = OccurrenceForm(request.POST or None, timezone_name=meeting.timezone, initial={
        "title": occurrence.title, "start": occurrence.start.astimezone(zone).replace(tzinfo=None),
        "end": occurrence.end.astimezone(zone).replace(tzinfo=None)})
    if request.method == "POST" and form.is_valid():
        try:
            scheduling.occurrence_update(occurrence=occurrence, **form.cleaned_data)
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, _("This occurrence was changed; the rest of the series is as it was."))
            return _to_meeting_page(meeting)
    return render(request, "meetings/occurrence_form.html", {"form": form, "occurrence": occurrence,
                                                             "meeting": meeting})


@organization_view(minimum_role=HOST)
def occurrence_cancel(request, meeting_code, occurrence_code):
    occurrence = _managed_occurrence(request, meeting_code, occurrence_code)
    if request.method == "POST":
        scheduling.occurrence_cancel(occurrence=occurrence)
        messages.success(request, _("That occurrence was cancelled and invitees were told."))
        return _to_meeting_page(occurrence.meeting)
    return _confirm(request, occurrence.meeting.code,
                    title=_("Cancel the occurrence of %(start)s?") % {
                        "start": formats.date_format(timezone.localtime(occurrence.start), "DATETIME_FORMAT")},
                    button=_("Cancel this occurrence"),
                    text=_("Only this occurrence is cancelled; the series goes on."))


@organization_view(minimum_role=HOST)
def occurrence_end(request, meeting_code, occurrence_code):
    occurrence = _managed_occurrence(request, meeting_code, occurrence_code)
    if occurrence.status not in (Occurrence.Status.SCHEDULED, Occurrence.Status.LIVE):
        messages.error(request, _("That sitting is not open, so there is nothing to end."))
        return _to_meeting_page(occurrence.meeting)
    if request.method == "POST":
        scheduling.occurrence_end(occurrence=occurrence)
        messages.success(request, _("The sitting was ended for everyone. You can reopen it until %(end)s.")
                         % {"end": formats.date_format(timezone.localtime(occurrence.end), "TIME_FORMAT")})
        return _to_meeting_page(occurrence.meeting)
    return _confirm(request, meeting_code, title=_("End this sitting for everyone?"), button=_("End for everyone"),
                    text=_("Everyone in the room is disconnected now, and nobody can join with their link "
                           "afterwards. If you end it by mistake, you can reopen it from the meeting's page "
                           "until its scheduled end, %(end)s.")
                    % {"end": formats.date_format(timezone.localtime(occurrence.end), "DATETIME_FORMAT")})


@organization_view(minimum_role=HOST)
def occurrence_reopen(request, meeting_code, occurrence_code):
    occurrence = _managed_occurrence(request, meeting_code, occurrence_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        scheduling.occurrence_reopen(occurrence=occurrence)
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, _("The sitting is open again: everyone's link works until its end."))
    return _to_meeting_page(occurrence.meeting)


# --- A meeting's page ----------------------------------------------------------------------------

@organization_view(minimum_role=HOST)
def meeting_detail(request, meeting_code):
    return _meeting_page(request, _managed_meeting(request, meeting_code))


def _meeting_page(request, meeting: Meeting, forms: dict | None = None):
    """The meeting's page; `forms` carries forms with errors (and an import report) back to it."""
    forms = forms or {}
    role = invitation_services.default_role(meeting)
    page = Paginator(selectors.invitees(meeting), INVITEES_PER_PAGE).get_page(request.GET.get("page"))
    for invitation in page.object_list:
        invitation.state = selectors.invitee_state_in_words(invitation)
    own = meeting.invitations.filter(user=request.user, role=Role.HOST, revoked_at__isnull=True).first()
    open_link = (meeting.links.filter(invitation__isnull=True, revoked_at__isnull=True).first()
                 if meeting.kind == "webinar" else None)
    now = timezone.now()
    occurrences = list(meeting.occurrences.filter(end__gt=now - timedelta(days=1))[:OCCURRENCES_SHOWN])
    for occurrence in occurrences:
        occurrence.reopenable = occurrence.status == Occurrence.Status.ENDED and occurrence.end > now
    # Joining, editing and inviting make sense only while a sitting is still to come or under way.
    open_statuses = [Occurrence.Status.SCHEDULED, Occurrence.Status.LIVE]
    still_open = meeting.status != Meeting.Status.CANCELLED and (
        any(o.status in open_statuses and o.end > now for o in occurrences)
        or (len(occurrences) == OCCURRENCES_SHOWN  # more sittings than shown: ask the database
            and meeting.occurrences.filter(end__gt=now, status__in=open_statuses).exists()))
    return render(request, "meetings/meeting_detail.html", {
        "meeting": meeting, "recurrence": describe(meeting.rrule), "page": page,
        "occurrences": occurrences, "still_open": still_open,
        "any_reopenable": any(occurrence.reopenable for occurrence in occurrences),
        "invite_form": forms.get("invite") or InviteForm(initial={"role": role}, kind=meeting.kind),
        "paste_form": forms.get("paste") or PasteForm(initial={"role": role}, kind=meeting.kind),
        "csv_form": forms.get("csv") or CsvForm(),
        "report": forms.get("report"),
        "open_link": open_link,
        "open_link_form": forms.get("open_link") or OpenLinkForm(most=invitation_services.open_link_most(meeting)),
        "recordings": _with_share_urls(request, meeting.recordings.filter(status="ready")),
        "visibility_choices": Visibility.choices,
        "attendance": attendance.attendance(meeting), "hosted": meeting.provider != "builtin",
        "provider_name": get_provider(meeting.provider).name,
        "sync": MeetingSync.objects.filter(meeting=meeting).first() if meeting.provider != "builtin" else None,
        "role_form": RoleChangeForm(kind=meeting.kind),
        "host_join_url": reverse("join", args=[links.invitation_token(own)]) if own else None,
        "new_link": request.session.pop("new_link", None),
        "new_open_link": request.session.pop("new_open_link", None),
    })


def _with_share_urls(request, recordings) -> list:
    recordings = list(recordings)
    for recording in recordings:
        allow_stream(request, recording)
        if recording.visibility == Visibility.LINK:
            recording.share_url = absolute_reverse("recording_shared", recording.code,
                                                   recording_services.share_token(recording))
    return recordings


def allow_stream(request, recording) -> None:
    """A provider's HLS stream plays from the provider's host: let this page's policy reach it."""
    if recording.hls_url:
        origin = security.origin_of(recording.hls_url)
        security.allow(request, "connect-src", origin)
        security.allow(request, "media-src", origin)


def _remember_link(request, invitation, token) -> None:
    """Show the host the plain link once, right after issuing it."""
    request.session["new_link"] = {"name": invitation.display_name,
                                   "url": absolute_reverse("join", token)}


@organization_view(minimum_role=HOST)
def invite(request, meeting_code):
    meeting = _managed_meeting(request, meeting_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = InviteForm(request.POST, kind=meeting.kind)
    if form.is_valid():
        try:
            invitation, token = invitation_services.invitation_create(meeting=meeting, invited_by=request.user,
                                                                      **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _remember_link(request, invitation, token)
            messages.success(request, _("%(email)s was invited; the invitation email is on its way.")
                             % {"email": invitation.email})
            return _to_meeting_page(meeting, "#invitees")
    return _meeting_page(request, meeting, {"invite": form})


def _import(request, meeting, rows, form) -> tuple[list, bool]:
    try:
        report, imported = invitation_services.invitations_import(meeting=meeting, rows=rows, invited_by=request.user)
    except ValidationError as error:
        form.add_error(None, error)
        return [], False
    if imported:
        messages.success(request, ngettext("%(count)d person was invited; the invitation email is on its way.",
                                           "%(count)d people were invited; their invitation emails are on their way.",
                                           len(report)) % {"count": len(report)})
    return report, imported


def _run_import(request, meeting, rows, form_name, form):
    report, imported = _import(request, meeting, rows, form)
    if imported:
        return _to_meeting_page(meeting, "#invitees")
    return _meeting_page(request, meeting, {form_name: form, "report": report})


@organization_view(minimum_role=HOST)
def invite_members(request, meeting_code):
    """A page of its own: listing every member would make the meeting's page slow in a large organization."""
    meeting = _managed_meeting(request, meeting_code)
    form = InviteMembersForm(request.POST or None, organization=request.organization, kind=meeting.kind,
                             initial={"role": invitation_services.default_role(meeting)})
    if request.method != "POST" or not form.is_valid():
        return render(request, "meetings/invite_members.html", {"meeting": meeting, "form": form})
    rows = [invitation_services.ImportRow(line=n, email=user.email, name=user.display_name,
                                          role=form.cleaned_data["role"], language=form.cleaned_data["language"])
            for n, user in enumerate(form.cleaned_data["members"], start=1)]
    report, imported = _import(request, meeting, rows, form)
    if imported:
        return _to_meeting_page(meeting, "#invitees")
    return render(request, "meetings/invite_members.html", {"meeting": meeting, "form": form, "report": report})


@organization_view(minimum_role=HOST)
def invite_paste(request, meeting_code):
    meeting = _managed_meeting(request, meeting_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = PasteForm(request.POST, kind=meeting.kind)
    if not form.is_valid():
        return _meeting_page(request, meeting, {"paste": form})
    rows = invitation_services.parse_pasted(form.cleaned_data["addresses"], form.cleaned_data["role"],
                                            form.cleaned_data["language"])
    return _run_import(request, meeting, rows, "paste", form)


@organization_view(minimum_role=HOST)
def invite_csv(request, meeting_code):
    meeting = _managed_meeting(request, meeting_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = CsvForm(request.POST, request.FILES)
    if not form.is_valid():
        return _meeting_page(request, meeting, {"csv": form})
    try:
        rows = invitation_services.parse_csv(form.cleaned_data["file"].read())
    except ValidationError as error:
        form.add_error("file", error)
        return _meeting_page(request, meeting, {"csv": form})
    return _run_import(request, meeting, rows, "csv", form)


def _managed_invitation(request, meeting_code, invitation_code) -> Invitation:
    return _meeting_part(request, meeting_code, "invitations", invitation_code)


@organization_view(minimum_role=HOST)
def invitation_role(request, meeting_code, invitation_code):
    invitation = _managed_invitation(request, meeting_code, invitation_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RoleChangeForm(request.POST, kind=invitation.meeting.kind)
    if form.is_valid():
        try:
            invitation_services.invitation_change_role(invitation=invitation, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, f"{invitation.display_name}: {_errors(error)}")
        else:
            messages.success(request, _("%(name)s's role is now: %(role)s.")
                             % {"name": invitation.display_name, "role": invitation.get_role_display()})
    else:
        problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
        messages.error(request, f"{invitation.display_name}: {problems}")
    return _to_meeting_page(invitation.meeting, "#invitees")


@organization_view(minimum_role=HOST)
def invitation_revoke(request, meeting_code, invitation_code):
    invitation = _managed_invitation(request, meeting_code, invitation_code)
    if request.method == "POST":
        invitation_services.invitation_revoke(invitation=invitation)
        messages.success(request, _("%(name)s's link no longer works.") % {"name": invitation.display_name})
        return _to_meeting_page(invitation.meeting, "#invitees")
    return _confirm(request, meeting_code, title=_("Withdraw %(name)s's link?") % {"name": invitation.display_name},
                    button=_("Withdraw the link"),
                    text=_("The link stops working at once and anyone using it leaves the room. "
                           "You can issue a new link later."))


@organization_view(minimum_role=HOST)
def invitation_remove(request, meeting_code, invitation_code):
    invitation = _managed_invitation(request, meeting_code, invitation_code)
    if request.method == "POST":
        invitation_services.invitation_remove_from_room(invitation=invitation)
        messages.success(request, _("%(name)s was taken out of the room; their link stays closed until you let "
                                    "them back in.") % {"name": invitation.display_name})
        return _to_meeting_page(invitation.meeting, "#invitees")
    return _confirm(request, meeting_code,
                    title=_("Remove %(name)s from the room?") % {"name": invitation.display_name},
                    button=_("Remove from the room"),
                    text=_("They are disconnected now and cannot come back in with their link "
                           "until you let them back in."))


@organization_view(minimum_role=HOST)
def invitation_readmit(request, meeting_code, invitation_code):
    invitation = _managed_invitation(request, meeting_code, invitation_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    invitation_services.invitation_readmit(invitation=invitation)
    messages.success(request, _("%(name)s can join again with their link.") % {"name": invitation.display_name})
    return _to_meeting_page(invitation.meeting, "#invitees")


@organization_view(minimum_role=HOST)
def invitation_reissue(request, meeting_code, invitation_code):
    invitation = _managed_invitation(request, meeting_code, invitation_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    token = invitation_services.invitation_reissue(invitation=invitation)
    _remember_link(request, invitation, token)
    messages.success(request, _("%(name)s has a new link; the old one no longer works.")
                     % {"name": invitation.display_name})
    return _to_meeting_page(invitation.meeting, "#invitees")


@organization_view(minimum_role=HOST)
def invitation_resend(request, meeting_code, invitation_code):
    invitation = _managed_invitation(request, meeting_code, invitation_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not invitation.email or invitation.revoked_at:
        raise PermissionDenied(_("This invitation has no email address or was withdrawn."))
    invitation_services.invitation_resend(invitation=invitation)
    messages.success(request, _("The invitation to %(email)s is being sent again.") % {"email": invitation.email})
    return _to_meeting_page(invitation.meeting, "#invitees")


@organization_view(minimum_role=HOST)
def open_link(request, meeting_code):
    meeting = _managed_meeting(request, meeting_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if request.POST.get("action") == "revoke":
        invitation_services.open_link_revoke(meeting=meeting)
        messages.success(request, _("The open viewer link no longer works."))
        return _to_meeting_page(meeting)
    form = OpenLinkForm(request.POST, most=invitation_services.open_link_most(meeting))
    if form.is_valid():
        try:
            token = invitation_services.open_link_create(meeting=meeting, capacity=form.cleaned_data["capacity"])
        except ValidationError as error:
            form.add_error("capacity", error)
        else:
            request.session["new_open_link"] = absolute_reverse("join", token)
            messages.success(request, _("A new open viewer link was made; any earlier one stopped working."))
            return _to_meeting_page(meeting, "#open-link")
    return _meeting_page(request, meeting, {"open_link": form})
