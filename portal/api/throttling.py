"""The API's rate limits, counted on the shared cache so every web process counts together; beyond
one, 429 with Retry-After:
- API_REQUESTS_PER_MINUTE per API key (or signed-in person in one organization), refused requests
  included;
- API_FAILED_AUTHENTICATIONS_PER_MINUTE per client address for requests with no valid key.
Without the cache, reads go on and writes answer 503 (they cannot be counted)."""

from django.conf import settings
from rest_framework import throttling

from portal import ratelimit

READS = ("GET", "HEAD", "OPTIONS")


class Counted(throttling.BaseThrottle):
    def __init__(self, limit: ratelimit.Limit):
        self.limit, self.retry_after = limit, 0

    def allow_request(self, request, view):
        attempt = ratelimit.Attempt(self.limit, fail_open=request.method in READS)
        self.retry_after = attempt.retry_after
        return attempt.allowed

    def wait(self):
        return self.retry_after


def for_caller(request) -> Counted:
    return Counted(ratelimit.Limit("api", request.caller.identity, settings.API_REQUESTS_PER_MINUTE, 60))


def for_failed_authentication(request) -> Counted:
    return Counted(ratelimit.Limit("api-unauthenticated", ratelimit.client_ip(request),
                                   settings.API_FAILED_AUTHENTICATIONS_PER_MINUTE, 60))
