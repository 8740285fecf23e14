"""The per-caller rate limit: API_REQUESTS_PER_MINUTE for each API key (or signed-in person),
counted on the shared cache so every web process counts together. Beyond it: 429 with Retry-After.
Without the cache, reads go on and writes answer 503 (they cannot be counted)."""

from django.conf import settings
from rest_framework import throttling

from portal import ratelimit


class PerCaller(throttling.BaseThrottle):
    def allow_request(self, request, view):
        caller = getattr(request, "caller", None)
        if caller is None:
            return True
        limit = ratelimit.Limit("api", caller.identity, settings.API_REQUESTS_PER_MINUTE, 60)
        attempt = ratelimit.Attempt(limit, fail_open=request.method in ("GET", "HEAD", "OPTIONS"))
        self.retry_after = attempt.retry_after
        return attempt.allowed

    def wait(self):
        return self.retry_after
