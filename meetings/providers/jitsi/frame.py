"""The separate origin that runs each organization's Jitsi script: JITSI_FRAME_ORIGIN.

The room page (the portal's origin, guarded by the join link and the join session's cookie) frames
`JITSI_FRAME_ORIGIN/jitsi-frame/?domain=<domain>&room=<room>`, a static document with no secret and
no session, and hands it the person's JWT by postMessage once it says it is ready. The frame is not
an opaque origin (an opaque origin, and every frame inside it, gets no camera or microphone), yet
the Jitsi domain's script never runs in the portal's origin: the frame origin is another site, so
no portal cookie is ever sent with its requests and it cannot read the portal's pages. A site is what
browsers reckon: a registrable domain by the Public Suffix List (portal.example.co.uk and
frames.example.co.uk are one site; a.github.io and b.github.io are two).

That host serves exactly two addresses: the frame document and its one static script. Every other
address (the portal's pages, its other static files) answers 404 there, and the frame document
answers 404 on the portal's own host.
"""

import functools
import ipaddress
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.http.request import split_domain_port
from django.templatetags.static import static
from publicsuffixlist import PublicSuffixList

FRAME_PATH = "/jitsi-frame/"
SCRIPT = "jitsi_frame.js"
MISSING = ("Jitsi rooms cannot open on this portal: the operator must set JITSI_FRAME_ORIGIN (a separate origin "
           "that serves the Jitsi frame, see the README's Jitsi section).")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def portal_origin() -> str:
    return origin_of(settings.SITE_URL)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list the package bundles: nothing is fetched


def site_of(host: str) -> str:
    """A host's site as browsers reckon it: its registrable domain (one label under a public suffix, the
    list's private section included), or the host itself for an IP address, a single name or a suffix."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        return _public_suffixes().privatesuffix(host) or host


def frame_origin_problem(value: str) -> str:
    """Why JITSI_FRAME_ORIGIN cannot serve the frame, or "" when it can."""
    if not value:
        return MISSING
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "JITSI_FRAME_ORIGIN is not an address: give an origin such as https://jitsi-frames.example.net."
    host = (parts.hostname or "").lower()
    if (parts.scheme not in ("http", "https") or not host or parts.username or parts.password or parts.query
            or parts.fragment or parts.path not in ("", "/") or port == 0):
        return ("JITSI_FRAME_ORIGIN must be a bare origin (scheme, host and optional port, no path), such as "
                "https://jitsi-frames.example.net.")
    if parts.scheme != "https" and not _loopback(host):
        return "JITSI_FRAME_ORIGIN must be https (browsers give camera and microphone only to secure origins)."
    portal = (urlsplit(settings.SITE_URL).hostname or "").lower()
    if host == portal or host.endswith("." + portal) or portal.endswith("." + host):
        return ("JITSI_FRAME_ORIGIN must be another site than the portal's SITE_URL (not its host, a subdomain "
                "or a parent of it), so the Jitsi domain's script never runs in the portal's origin or site.")
    if portal and site_of(host) == site_of(portal):
        return (f"JITSI_FRAME_ORIGIN must be another site than the portal's SITE_URL: {host} and {portal} are one "
                f"site, {site_of(host)}, so the Jitsi domain's script would run in the portal's site. Give a host "
                "under another registrable domain, such as https://jitsi-frames.example.net.")
    return ""


def _setting() -> str:
    return (settings.JITSI_FRAME_ORIGIN or "").strip().rstrip("/")


def setting_problem() -> str:
    """Why the configured JITSI_FRAME_ORIGIN cannot serve the frame, or "" when it can."""
    return frame_origin_problem(_setting())


def frame_origin() -> str:
    """JITSI_FRAME_ORIGIN as an origin, or "" when it is unset or unusable (setting_problem says why)."""
    value = _setting()
    return "" if frame_origin_problem(value) else origin_of(value)


def script_path() -> str:
    """The frame's one script, served by the frame origin itself (see views.py)."""
    return urlsplit(static(SCRIPT)).path


def script_url(origin: str) -> str:
    url = static(SCRIPT)
    return url if urlsplit(url).scheme else origin + script_path()


def frame_url(origin: str, *, domain: str, room: str) -> str:
    return f"{origin}{FRAME_PATH}?{urlencode({'domain': domain, 'room': room})}"


def on_frame_host(request) -> bool:
    origin = frame_origin()
    if not origin:
        return False
    try:
        host, _ = split_domain_port(request.get_host())
    except DisallowedHost:
        return False  # answered 400 further on
    return host == (urlsplit(origin).hostname or "")


def not_here() -> HttpResponse:
    response = HttpResponse("Not found.", status=404, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


class FrameHostMiddleware:
    """On JITSI_FRAME_ORIGIN's host, only the frame document and its script are answered (before any
    session, static file or view): the portal's pages are never served from the origin that runs
    organizations' scripts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if on_frame_host(request) and request.path not in (FRAME_PATH, script_path()):
            return not_here()
        return self.get_response(request)
