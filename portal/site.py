"""The portal's own address. SITE_URL is the one source of truth for every link that leaves a request:
emails, .ics files, calendar feeds, API answers, links shown to copy and URLs registered with providers.
A request's Host header is not used: behind a proxy, or on another port, it names the wrong address."""

from django.conf import settings
from django.urls import reverse


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def absolute_reverse(viewname: str, *args, **kwargs) -> str:
    return absolute_url(reverse(viewname, args=args or None, kwargs=kwargs or None))
