import zoneinfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from . import i18n


class UserTimezoneMiddleware:
    """Show times in the viewer's zone: their own setting, else their current organization's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = getattr(request.user, "timezone", "") or request.session.get("organization_timezone") or "UTC"
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class LanguageMiddleware:
    """Activate the request's language (see language_for) and say which one the response speaks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The REST API is for programs: it answers in English whatever the caller's headers say.
        api = request.path_info.startswith("/api/")
        language = settings.LANGUAGE_CODE if api else i18n.language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", translation.get_language())
            patch_vary_headers(response, ["Accept-Language", "Cookie"])
            return response
        finally:
            translation.deactivate()
