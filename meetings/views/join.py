"""Pages for people with a link: the pre-join page, joining, the room, leaving.

GET never changes anything (mail clients open links to preview them). Joining is a POST; the browser
then holds the join session's secret in a cookie, and the room page trusts only that cookie.
"""

import json
import logging
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.i18n import activate_for
from portal import ratelimit, security

from ..forms import GuestJoinForm
from ..models import JoinSession, Recording, Role, Visibility
from ..presence import can_publish
from ..providers import get_provider
from ..providers.base import ProviderError
from ..services import joining
from ..services.joining import JoinDenied

logger = logging.getLogger(__name__)

ROOM_PAGE_WINDOW_SECONDS = 600  # settings.ROOM_PAGE_LOADS_PER_STAY counts the room page's loads over this

SESSION_ENDED_STATUS = {
    JoinSession.EndReason.REPLACED: (409, _("You joined from somewhere else"),
                                     _("This link was used to join from another tab or device, so this one left "
                                       "the meeting. Only one place at a time can use a personal link.")),
    JoinSession.EndReason.REMOVED: (401, _("You were removed from this meeting"),
                                    _("A moderator removed you, or the host withdrew your link.")),
    JoinSession.EndReason.ENDED: (423, _("The meeting has ended"), _("The host ended the meeting for everyone.")),
}
LEFT = (200, _("You left the meeting"), "")


def _cookie_name(link) -> str:
    return f"join_{link.code}"


def _zone(link):
    name = (link.invitation.timezone if link.invitation else "") or link.meeting.timezone
    return zoneinfo.ZoneInfo(name)


def _denied(request, denial: JoinDenied):
    link = denial.link
    if link:
        activate_for(request, link.meeting.organization)
    starts_at = timezone.localtime(denial.starts_at, _zone(link)) if denial.starts_at and link else None
    return render(request, "meetings/join/denied.html", {
        "denial": denial, "meeting": link.meeting if link else None, "starts_at": starts_at,
        "zone_name": _zone(link).key if link else "", "recordings": _recordings_for_invitee(link),
        "token": request.resolver_match.kwargs.get("token", ""),
    }, status=denial.status)


def _recordings_for_invitee(link) -> list:
    """After a meeting, its invitees' links lead to the recordings the host shows them; not the links of
    people withdrawn or removed by a moderator."""
    invitation = link.invitation if link is not None and not link.revoked_at else None
    if invitation is None or invitation.revoked_at or invitation.removed_at:
        return []
    return list(link.meeting.recordings.filter(status=Recording.Status.READY).exclude(visibility=Visibility.HOSTS))


def _too_many(request, retry_after: int = 60, message: str = "", meeting=None):
    response = render(request, "meetings/join/denied.html", {
        "denial": {"title": _("Too many attempts"), "message": message or _("Wait a minute, then try again."),
                   "code": "rate_limited"}, "meeting": meeting},
        status=429)
    response["Retry-After"] = str(retry_after)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def join_page(request, token):
    reading = request.method != "POST"  # the pre-join page still shows while the cache is down
    if not ratelimit.allow("join-ip", ratelimit.client_ip(request), limit=settings.JOIN_RATE_PER_IP * 4,
                           window_seconds=60, fail_open=reading):
        return _too_many(request)
    if request.method == "POST" and not (
            ratelimit.allow("join-ip-post", ratelimit.client_ip(request), limit=settings.JOIN_RATE_PER_IP,
                            window_seconds=60)
            and ratelimit.allow("join-link", token[:64], limit=settings.JOIN_RATE_PER_LINK, window_seconds=60)):
        return _too_many(request)
    now = timezone.now()
    try:
        link = joining.find_link(token)
        activate_for(request, link.meeting.organization)  # a guest's language, failing their own: the host's
        admission = joining.check(link, now)
    except JoinDenied as denial:
        return _denied(request, denial)
    guest_form = GuestJoinForm(request.POST or None) if link.invitation is None else None
    if request.method == "POST" and (guest_form is None or guest_form.is_valid()):
        try:
            session, secret = joining.join(admission, now, guest_name=guest_form.cleaned_data["display_name"]
                                           if guest_form else "")
        except JoinDenied as denial:
            return _denied(request, denial)
        response = redirect("join_room", token)
        if request.POST.get("muted"):
            response["Location"] += "?muted=1"  # the room starts with the microphone off
        response.set_cookie(_cookie_name(link), secret, max_age=24 * 3600, path=f"/j/{token}/", httponly=True,
                            samesite="Lax", secure=request.is_secure())
        return response
    meeting_zone = zoneinfo.ZoneInfo(link.meeting.timezone)
    own_zone = _zone(link)
    return render(request, "meetings/join/prejoin.html", {
        "link": link, "invitation": link.invitation, "meeting": link.meeting, "guest_form": guest_form,
        "occurrence": admission.occurrence, "zone": meeting_zone, "token": token,
        "starts": timezone.localtime(admission.occurrence.start, meeting_zone),
        "ends": timezone.localtime(admission.occurrence.end, meeting_zone),
        # The invitee's own zone, when it is not the meeting's: both times are shown.
        "own_zone": own_zone if own_zone.key != meeting_zone.key else None,
        "own_starts": timezone.localtime(admission.occurrence.start, own_zone),
        "own_ends": timezone.localtime(admission.occurrence.end, own_zone),
        # By name only: display_name falls back to the email address, which a forwarded link must not show.
        "invited_by": getattr(link.invitation and link.invitation.invited_by, "full_name", ""),
    })


@require_POST
def join_opened(request, token):
    try:
        joining.mark_opened(joining.find_link(token))
    except JoinDenied:
        pass
    return HttpResponse(status=204)


def current_session(request, token):
    """(link, session) for this browser, or a response that says why there is none."""
    try:
        link = joining.find_link(token)
    except JoinDenied as denial:
        return None, _denied(request, denial)
    activate_for(request, link.meeting.organization)
    session = joining.session_for_secret(request.COOKIES.get(_cookie_name(link), ""))
    if session is None or not joining.session_belongs_to(session, link):
        return None, redirect("join", token)
    return (link, session), None


def _ended(request, session, token):
    status, title, message = SESSION_ENDED_STATUS.get(session.end_reason, LEFT)
    return render(request, "meetings/join/ended.html", {
        "title": title, "message": message, "token": token, "reason": session.end_reason,
        "meeting": session.occurrence.meeting}, status=status)


def join_room(request, token):
    found, problem = current_session(request, token)
    if problem:
        return problem
    link, session = found
    if session.ended_at:
        return _ended(request, session, token)
    meeting, invitation = session.occurrence.meeting, session.invitation
    # Each load mints a provider token (and may call the provider): a page reloading in a loop stops here.
    # A page to read: with the cache down it goes on uncounted.
    loads = ratelimit.Attempt(ratelimit.Limit("room-page", str(session.pk), settings.ROOM_PAGE_LOADS_PER_STAY,
                                              ROOM_PAGE_WINDOW_SECONDS), fail_open=True)
    if not loads.allowed:
        wait = ratelimit.wait_text(loads.retry_after)
        return _too_many(request, loads.retry_after, meeting=meeting, message=_(
            "This room page was loaded too many times in a short while. Wait %(wait)s, then reload it; "
            "your link stays valid.") % {"wait": wait})
    try:
        ticket = get_provider(meeting.provider, meeting.provider_account).join(
            meeting=meeting, occurrence=session.occurrence, invitation=invitation, session=session)
    except ProviderError as error:
        logger.warning("meeting %s cannot be joined: %s", meeting.code, error)
        return render(request, "meetings/join/denied.html", {"denial": {
            "title": _("The meeting's video cannot start"),
            "message": getattr(error, "page_message", "") or  # a provider's own words for the person
                       _("The video provider of this meeting is not set up correctly. Tell the host; "
                         "your link stays valid."), "code": "provider_unavailable"}, "meeting": meeting}, status=503)
    if ticket.kind == "iframe":
        provider_origin = security.origin_of(ticket.url)
        security.allow(request, "frame-src", provider_origin)
        security.allow_devices_for(request, provider_origin)
        if ticket.options.get("bridge"):
            security.allow(request, "script-src", security.origin_of(ticket.options["bridge"]))
    if ticket.sdk == "builtin" and settings.ROOM_SOCKET_PORT:
        security.allow(request, "connect-src", _room_socket_origin(request))
    if ticket.kind == "sdk" and ticket.options.get("host"):
        security.allow(request, "connect-src", _socket_origin(ticket.options["host"]))
    if ticket.kind == "sdk":
        security.allow(request, "connect-src", *ticket.options.get("connect", ()))  # the SDK's own hosts
    if ticket.kind == "sdk" and ticket.options.get("frame"):
        # The room page frames a document of a separate origin (options["frame"], another site than the
        # portal) that runs the provider's script away from the person's portal session.
        frame_origin = security.origin_of(ticket.options["frame"])
        security.allow(request, "frame-src", frame_origin)
        security.allow_devices_for(request, frame_origin)
    return render(request, _room_template(ticket), {
        "meeting": meeting, "occurrence": session.occurrence, "invitation": invitation, "session": session,
        "ticket": ticket, "token": token, "bridge_events": ",".join(sorted(joining.BRIDGE_EVENTS)),
        "send_video": invitation.role != Role.INTERPRETER, "socket_port": settings.ROOM_SOCKET_PORT or "",
        "can_publish": can_publish(invitation, meeting.kind),
        "can_record": meeting.recording_allowed and invitation.is_moderating,
        "join_muted": request.GET.get("muted") == "1", "room_strings": ROOM_STRINGS,
    })


# Every text the built-in room's script shows (static/room.js), translated here and handed over with
# json_script. "{name}"-style placeholders are filled in by the script.
ROOM_STRINGS = {
    "connected": _("connected"),
    "reconnecting": _("reconnecting…"),
    "connecting": _("connecting…"),
    "you": _("(you)"),
    "you_short": _("you"),
    "muted": _("muted"),
    "camera_off_badge": _("camera off"),
    "screen": _("screen"),
    "reconnecting_person": _("reconnecting"),
    "mute": _("Mute"),
    "unmute": _("Unmute"),
    "camera_off": _("Camera off"),
    "camera_on": _("Camera on"),
    "share": _("Share screen"),
    "stop_sharing": _("Stop sharing"),
    "raise_hand": _("Raise hand"),
    "lower_hand": _("Lower hand"),
    "record": _("Record"),
    "stop_recording": _("Stop recording"),
    "speaker_view": _("Speaker view"),
    "grid_view": _("Grid view"),
    "pin": _("Pin {name}"),
    "unpin": _("Unpin {name}"),
    "remove": _("Remove"),
    "admit": _("Admit"),
    "deny": _("Deny"),
    "let_back_in": _("Let back in"),
    "waiting": _("Waiting"),
    "removed": _("Removed"),
    "role_of": _("Role of {name}"),
    "language_prompt": _("Language code (en, de, fr, …)"),
    "confirm_remove": _("Remove {name} from the meeting? They cannot come back unless a moderator lets them."),
    "confirm_end": _("End the meeting for everyone? Everybody leaves the room now. A host can reopen the "
                     "sitting from the meeting's page until its scheduled end."),
    "no_devices": _("No camera or microphone ({error}). Others can still see and hear each other."),
    "click_to_hear": _("Click anywhere to hear the others."),
    "switch_failed": _("Could not switch device: {error}"),
    "share_failed": _("Screen sharing did not start: {error}"),
    "forced_mute": _("A moderator muted you."),
    "forced_camera_off": _("A moderator turned your camera off."),
    "forced_lower_hand": _("A moderator lowered your hand."),
    "recording_failed": _("Recording did not start: {error}"),
    "recording_saved": _("The recording is saved on the meeting's page."),
    "camera_n": _("Camera {n}"),
    "microphone_n": _("Microphone {n}"),
    "roles": dict(Role.choices),
    # The hosted providers' room scripts (static/room_<provider>.js)
    "not_connected": _("not connected"),
    "mute_microphone": _("Mute microphone"),
    "unmute_microphone": _("Unmute microphone"),
    "turn_camera_off": _("Turn camera off"),
    "turn_camera_on": _("Turn camera on"),
    "action_failed": _("That did not work ({error})."),
    "portal_refused": _("The portal refused."),
    "video_failed": _("The video could not start ({error}). Try again, or tell the host."),
    "video_problem": _("The video reported a problem ({error})."),
    "not_admitted": _("A moderator did not let you in. You can try again from your link."),
    "recording_toggle_failed": _("Recording did not start or stop ({error})."),
    "jitsi_recording_link": _("Jitsi made a recording link; find it in the Jitsi room."),
    "jitsi_api_missing": _("The Jitsi server's IFrame API did not load. Try again, or tell the host."),
}


def _room_template(ticket) -> str:
    if ticket.kind == "iframe":
        return "meetings/join/room_iframe.html"
    return "meetings/join/room.html" if ticket.sdk == "builtin" else f"meetings/join/room_{ticket.sdk}.html"


def _room_socket_origin(request) -> str:
    """The built-in room's socket server: this page's host (ALLOWED_HOSTS checked it) on its own port."""
    hostname = urlsplit(f"//{request.get_host()}").hostname
    hostname = f"[{hostname}]" if ":" in hostname else hostname
    return f"{'wss' if request.is_secure() else 'ws'}://{hostname}:{settings.ROOM_SOCKET_PORT}"


def _socket_origin(host: str) -> str:
    """The WebSocket origin a provider SDK connects to, from the host its token names."""
    return host.rstrip("/") if host.startswith(("ws://", "wss://")) else f"wss://{host.rstrip('/')}"


@require_POST
def join_room_token(request, token):
    """A fresh token for the room page's provider SDK, refreshed server-side (the refresh token
    never reaches the browser)."""
    found, problem = current_session(request, token)
    if problem:
        return JsonResponse({"error": _("This join link has no live stay here.")}, status=404)
    session = found[1]
    if session.ended_at:
        return JsonResponse({"error": _("You are no longer in the meeting.")}, status=410)
    # Each token costs calls against the organization's provider limit: a page asks a few times an hour.
    if not ratelimit.allow("room-token", str(session.pk), limit=30, window_seconds=600):
        return JsonResponse({"error": _("Too many token requests; wait a few minutes.")}, status=429,
                            headers={"Retry-After": "600"})
    meeting = session.occurrence.meeting
    try:
        fresh = get_provider(meeting.provider, meeting.provider_account).refresh_client_token(session=session)
    except ProviderError as error:
        logger.warning("no fresh room token for meeting %s: %s", meeting.code, error)
        status = 409 if error.permanent else 503
        return JsonResponse({"error": _("The video provider gave no new token; rejoin from your link.")},
                            status=status)
    return JsonResponse({"token": fresh.token, "expires_at": fresh.expires_at.isoformat()})


def _people(session) -> list[dict]:
    live = (JoinSession.objects.filter(occurrence=session.occurrence, ended_at__isnull=True)
            .select_related("invitation").order_by("started_at"))
    return [{"name": s.invitation.display_name, "role": s.invitation.get_role_display(), "admitted": s.admitted,
             "me": s.pk == session.pk} for s in live]


def join_room_state(request, token):
    found, problem = current_session(request, token)
    if problem:
        return JsonResponse({"state": "gone"}, status=404)
    _, session = found
    if session.ended_at:
        status, title, message = SESSION_ENDED_STATUS.get(session.end_reason, LEFT)
        return JsonResponse({"state": "ended", "reason": session.end_reason, "title": title, "message": message})
    return JsonResponse({"state": "in_room" if session.admitted else "waiting", "people": _people(session)})


@require_POST
def join_room_bridge(request, token):
    """The embedded provider room's bridge events, relayed by the room page (same origin, CSRF)."""
    found, problem = current_session(request, token)
    if problem:
        return JsonResponse({"state": "gone"}, status=404)
    try:
        body = json.loads(request.body)
        event, peer_id = str(body["event"]), str(body.get("peerId") or "")
    except (ValueError, KeyError, TypeError, RecursionError):
        return JsonResponse({"error": "send {event, peerId}"}, status=400)
    if len(event) > 50 or len(peer_id) > 100:
        return JsonResponse({"error": "event or peerId is too long"}, status=400)
    applied = joining.apply_bridge_event(found[1], event, peer_id)
    return JsonResponse({"applied": applied})


@require_POST
def join_leave(request, token):
    found, problem = current_session(request, token)
    if problem:
        return problem
    link, session = found
    joining.leave(session)
    response = render(request, "meetings/join/ended.html", {
        "title": _("You left the meeting"), "message": "",
        "token": token, "reason": "left", "meeting": session.occurrence.meeting})
    response.delete_cookie(_cookie_name(link), path=f"/j/{token}/")
    return response

