"""Response headers that keep pages to what they need: Content-Security-Policy, Permissions-Policy and
no-store caching for pages that carry secrets.

Every page gets a strict policy: scripts, styles and connections only from the portal itself, no
frames, and no framing by other sites. A page that embeds a provider widens exactly the directives
it needs with ``allow(request, directive, source)``, so the policy of that page names that
provider's origin and nothing else. Scripts never run inline (the templates load static files only).
form-action is left open: signing in and out are form posts that the portal redirects to the
organization's identity provider, and browsers check those redirects against it.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponseBadRequest

BASE_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "media-src": ["'self'", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "worker-src": ["'self'", "blob:"],
    "frame-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
# Devices the portal's own room pages use; a provider's frame gets them only where a page allows it.
PERMISSIONS = ("camera", "microphone", "display-capture", "fullscreen", "autoplay", "screen-wake-lock")
DENIED_FEATURES = ("geolocation", "payment", "usb", "serial", "bluetooth", "midi", "hid", "browsing-topics")

# Routes whose address or body carries a secret (join links, feeds, set-password, credentials):
# never stored by a browser or a proxy. Any route with a `token` parameter is included as well.
NO_STORE_ROUTES = {
    "calendar_settings", "password_reset_confirm", "provider_accounts", "provider_account",
    "provider_account_new", "provider_account_check", "provider_account_generate_key", "meeting_detail",
    "membership_invite", "api_key_list",
}
SECRET_PARAMETERS = {"token", "uidb64"}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def allow(request, directive: str, *sources: str) -> None:
    """Widen this response's policy: `sources` are origins like https://meet.example.com."""
    extra = request.__dict__.setdefault("csp_extra", {})
    extra.setdefault(directive, []).extend(s for s in sources if s)


def allow_devices_for(request, origin: str) -> None:
    """Let an embedded provider frame from `origin` use the camera, microphone and screen."""
    request.__dict__.setdefault("permission_origins", []).append(origin)


def content_security_policy(request) -> str:
    policy = {directive: list(sources) for directive, sources in BASE_POLICY.items()}
    for directive, sources in getattr(request, "csp_extra", {}).items():
        current = [s for s in policy.get(directive, []) if s != "'none'"]
        policy[directive] = current + [s for s in sources if s not in current]
    return "; ".join(f"{directive} {' '.join(sources)}" for directive, sources in policy.items())


def permissions_policy(request) -> str:
    origins = " ".join(f'"{o}"' for o in getattr(request, "permission_origins", []))
    allowed = [f"{feature}=(self{' ' + origins if origins else ''})" for feature in PERMISSIONS]
    return ", ".join(allowed + [f"{feature}=()" for feature in DENIED_FEATURES])


def _carries_secret(request) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return request.path.startswith(("/j/", "/calendar/", "/r/", "/password/set/", "/invites/"))
    return match.url_name in NO_STORE_ROUTES or bool(SECRET_PARAMETERS & set(match.kwargs))


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy(request))
        response.setdefault("Permissions-Policy", permissions_policy(request))
        response.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin")
        if _carries_secret(request):
            response["Cache-Control"] = "no-store, private"
            response["Pragma"] = "no-cache"
        return response


def _has_nul(request) -> bool:
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if any("\x00" in value for name, value in request.META.items() if name.startswith("HTTP_") and
           isinstance(value, str)):
        return True
    return any("\x00" in value for values in request.GET.lists() for value in values[1])


class RefuseNulMiddleware:
    """A NUL byte in an address is never meant: PostgreSQL cannot store it and no code or token has one,
    so refuse it before any view runs (400, not a 500 from the database)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            return HttpResponseBadRequest("The address or a header contains a NUL character.",
                                          content_type="text/plain")
        return self.get_response(request)
