"""The Jitsi frame document, served only on JITSI_FRAME_ORIGIN's host (frame.py).

The room page (templates/meetings/join/room_jitsi.html, the portal's origin) frames
`JITSI_FRAME_ORIGIN/jitsi-frame/?domain=<domain>&room=<room>` with
sandbox="allow-scripts allow-same-origin allow-popups allow-forms": the frame keeps its own origin,
so the Jitsi frame inside it may use the camera and microphone, and that origin is another site than
the portal's, so the Jitsi domain's script never sees the portal's cookies, DOM or same-origin
requests. This document carries no secret and reads no session: the room page sends it the
person's JWT by postMessage (to JITSI_FRAME_ORIGIN only) once it says it is ready, and it accepts
messages only from its parent in the portal's origin (SITE_URL's).

Its policy runs two scripts: https://<domain>/external_api.js and the portal's jitsi_frame.js, which
the frame origin serves itself (its host answers that one static address besides this document), so
the frame makes no request to the portal's origin at all. It frames only the Jitsi domain, connects
nowhere, and may be framed only by the portal.
"""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from portal.validators import public_hostname_problem

from ...models import ProviderAccount
from .frame import frame_origin, not_here, on_frame_host, origin_of, portal_origin, script_url
from .provider import ROOM_NAME

DEVICES = ("camera", "microphone", "display-capture", "fullscreen", "autoplay", "screen-wake-lock")


def _refused(status: int, text: str) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def api_base(domain: str) -> str:
    """https://<domain> for a bare public host name; with the test-only JITSI_BASE_URL, only that
    stand-in's host. "" for anything else."""
    if settings.JITSI_BASE_URL:
        stand_in = origin_of(settings.JITSI_BASE_URL.rstrip("/"))
        return stand_in if domain and stand_in.split("://", 1)[1] == domain else ""
    return "" if public_hostname_problem(domain) else f"https://{domain}"


def frame_policy(*, portal: str, script: str, base: str) -> str:
    return "; ".join([
        "default-src 'none'",
        f"script-src {script} {base}/external_api.js",
        f"frame-src {base}",
        "style-src 'none'", "img-src 'none'", "connect-src 'none'", "object-src 'none'",
        "base-uri 'none'", "form-action 'none'",
        f"frame-ancestors {portal}",
    ])


@require_safe
@xframe_options_exempt  # X-Frame-Options cannot name another origin; frame-ancestors names the portal
def jitsi_frame(request):
    origin = frame_origin()
    if not origin or not on_frame_host(request):
        return not_here()  # never on the portal's own host
    domain, room = request.GET.get("domain", ""), request.GET.get("room", "")
    base = api_base(domain)
    if not base or not ROOM_NAME.fullmatch(room):
        return _refused(400, "Give the Jitsi domain (a public host name) and the portal's room name.")
    if not settings.JITSI_BASE_URL and not ProviderAccount.objects.filter(
            provider="jitsi", enabled=True, meet_domain=domain).exists():
        # Otherwise anyone could run any domain's script on the operator's frame origin. (With the
        # test-only JITSI_BASE_URL, api_base already allows nothing but that stand-in.)
        return _refused(404, "No Jitsi account of this portal uses that domain.")
    portal, script = portal_origin(), script_url(origin)
    response = render(request, "meetings/join/jitsi_frame.html", {
        "domain": domain, "room": room, "base": base, "script": script, "portal": portal,
        "no_ssl": base.startswith("http:"),
    })
    response["Content-Security-Policy"] = frame_policy(portal=portal, script=script, base=base)
    response["Permissions-Policy"] = ", ".join(f'{feature}=(self "{base}")' for feature in DEVICES)
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response
