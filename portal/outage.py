"""When PostgreSQL or Redis is down: a clear 503 page instead of a 500, and /readyz for the operator.

Any request that needs a dependency which is down ends in an exception; Django hands it to
`server_error` (settings: handler500), which answers 503 with Retry-After for a dependency's
failure and the ordinary 500 for anything else. Writes run in transactions, so an outage in the
middle of one leaves nothing half-written.
"""

import logging
import sys

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext_lazy as _
from django.views import defaults

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30
# The outage page's words for each dependency dependency_of names.
DEPENDENCY_LABELS = {"database": _("database"), "cache": _("cache"), "message broker": _("message broker")}


class DependencyDown(Exception):
    """A dependency the request cannot go on without is unreachable; `name` says which."""

    def __init__(self, name: str):
        super().__init__(f"{name} is unreachable")
        self.name = name


CACHE_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def dependency_of(error: BaseException | None) -> str | None:
    """Which dependency an exception says is down, or None for any other failure."""
    if isinstance(error, DependencyDown):
        return error.name
    if isinstance(error, (OperationalError, InterfaceError)):
        return "database"
    if isinstance(error, DatabaseError) and "connection" in str(error).lower():
        return "database"
    if isinstance(error, CACHE_ERRORS):
        return "cache"
    if isinstance(error, kombu.exceptions.OperationalError):
        return "message broker"
    return None


def outage_response(name: str) -> HttpResponse:
    # Rendered without the request: its context processors would ask the database that may be down.
    page = loader.get_template("outage.html").render({
        "dependency": name, "dependency_label": DEPENDENCY_LABELS.get(name, name), "retry_after": RETRY_AFTER_SECONDS})
    response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request, *args, **kwargs):
    """handler500: 503 with Retry-After when a dependency is down, the usual 500 otherwise."""
    name = dependency_of(sys.exc_info()[1])
    if name is None:
        return defaults.server_error(request, *args, **kwargs)
    logger.warning("answered 503: the %s is unreachable", name)
    return outage_response(name)


def readiness() -> dict[str, str]:
    """Each dependency the web process needs, "ok" or why not."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as error:
        checks["database"] = f"down: {error.__class__.__name__}"
        connection.close_if_unusable_or_obsolete()
    try:
        cache.get("readyz")
        checks["cache"] = "ok"
    except CACHE_ERRORS as error:
        checks["cache"] = f"down: {error.__class__.__name__}"
    if settings.REDIS_URL:
        checks["message broker"] = checks["cache"]  # the same Redis carries Celery's queue
    return checks


class HealthMiddleware:
    """/healthz (is the process alive) and /readyz (can it serve: database, cache, broker), answered
    before sessions or users are loaded, so both work while the database is down."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return HttpResponse("ok", content_type="text/plain")
        if request.path == "/readyz":
            checks = readiness()
            ready = all(state == "ok" for state in checks.values())
            return JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)
        return self.get_response(request)
