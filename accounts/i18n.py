"""Which language a page speaks, decided in one place.

Order: the person's own setting (User.language); the switcher's choice (Django's language cookie);
the browser's Accept-Language; the organization's default locale (the organization of the page, or
the one the person last worked in); English.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponseBadRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

ORGANIZATION_LOCALE_SESSION_KEY = "organization_locale"


def supported(code) -> str | None:
    """The portal's language for a code such as "de", "de-AT" or "fr_CH", else None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(str(code).replace("_", "-").lower())
    except LookupError:
        return None


def language_for(request, organization=None) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and supported(user.language):
        return supported(user.language)
    chosen = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if chosen:
        return chosen
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code != "*" and supported(code):
            return supported(code)
    if organization is not None:
        organization_locale = organization.default_locale
    else:
        session = getattr(request, "session", None)
        organization_locale = session.get(ORGANIZATION_LOCALE_SESSION_KEY) if session is not None else None
    return supported(organization_locale) or settings.LANGUAGE_CODE


def language_of(user=None, organization=None) -> str:
    """The language to write to someone outside a request (emails, .ics files): their own setting,
    else the organization's locale, else English. Use it as ``translation.override(language_of(...))``."""
    own = getattr(user, "language", "") if user is not None else ""
    return (supported(own) or supported(getattr(organization, "default_locale", None))
            or settings.LANGUAGE_CODE)


def activate_for(request, organization) -> None:
    """Speak the language of a page that belongs to ``organization`` (an org page, a join link).

    The middleware decided before the view knew its organization; this refines that decision.
    """
    language = language_for(request, organization)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        if request.session.get(ORGANIZATION_LOCALE_SESSION_KEY) != organization.default_locale:
            request.session[ORGANIZATION_LOCALE_SESSION_KEY] = organization.default_locale


@require_POST
def set_language(request):
    """The language switcher: Django's cookie, and for a signed-in person their saved setting too."""
    language = supported(request.POST.get("language"))
    if language is None or language != request.POST.get("language"):
        return HttpResponseBadRequest(_("Unknown language."))
    response = django_set_language(request)
    if request.user.is_authenticated and request.user.language != language:
        get_user_model().objects.filter(pk=request.user.pk).update(language=language)
    return response
