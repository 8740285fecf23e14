"""Rate limits on the shared cache (Redis in production, so all web processes count together), and the
client address they key on.

A limit's window opens with its first attempt and lasts `window_seconds`; once `limit` attempts were
counted in it, further attempts are refused until it closes. With Redis, all of an attempt's limits
are counted in one round trip (a Lua script); without it (the embedded setup) on the local cache.
"""

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import ngettext

from .outage import CACHE_ERRORS, DependencyDown

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    scope: str
    key: str
    limit: int
    window_seconds: int


# One round trip for every limit of an attempt: count each (a window opens with its first count) and
# answer its count and the milliseconds until its window closes.
_COUNT = """
local answer = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local left = redis.call('PTTL', key)
  if count == 1 or left < 0 then
    left = tonumber(ARGV[i])
    redis.call('PEXPIRE', key, left)
  end
  answer[#answer + 1] = count
  answer[#answer + 1] = left
end
return answer
"""
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
end
return 0
"""
_client = None


def _redis():
    global _client
    if _client is None:
        # Bounded: a cache that went silent must fail the attempt (503 or fail-open), not hang it.
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
    return _client


def _counter(limit: Limit) -> str:
    # Hashed: any input makes a valid key, and no email address or link token is kept in the cache.
    return f"ratelimit:{limit.scope}:{hashlib.sha256(limit.key.encode()).hexdigest()[:32]}"


def _count_all(limits, now: float) -> list[tuple[str, int, int]]:
    """Count one attempt against each limit: (its counter, attempts in its window, seconds until it closes)."""
    counters = [_counter(limit) for limit in limits]
    if settings.REDIS_URL:
        answer = _redis().eval(_COUNT, len(counters), *counters, *[limit.window_seconds * 1000 for limit in limits])
        return [(counter, int(answer[2 * i]), max(1, math.ceil(int(answer[2 * i + 1]) / 1000)))
                for i, counter in enumerate(counters)]
    return [_count_in_cache(counter, limit, now) for counter, limit in zip(counters, limits, strict=True)]


def _count_in_cache(counter: str, limit: Limit, now: float) -> tuple[str, int, int]:
    """Without Redis (the embedded setup, one process): the same count on Django's local cache."""
    closes = now + limit.window_seconds
    if cache.add(counter, 0, timeout=limit.window_seconds):
        cache.set(f"{counter}:closes", closes, timeout=limit.window_seconds)
    else:
        closes = cache.get(f"{counter}:closes", closes)
    try:
        count = cache.incr(counter)
    except ValueError:  # the window closed between add and incr
        cache.set(counter, 1, timeout=limit.window_seconds)
        count = 1
    return counter, count, max(1, math.ceil(closes - now))


class Attempt:
    """One attempt, counted against every limit given. `retry_after` is 0 when all of them allow it,
    otherwise the seconds until the last full window closes. Counting before the attempt runs means
    concurrent requests cannot all slip under a limit; an attempt that succeeds gives its count back."""

    def __init__(self, *limits: Limit, fail_open: bool = False):
        now = time.time()
        try:
            counted = [(limit, *counts) for limit, counts in zip(limits, _count_all(limits, now), strict=True)]
        except CACHE_ERRORS:
            # The cache is down. Reading a page goes on unlimited (fail_open); anything that writes or
            # signs in stops with a 503 until it is back, since it cannot be counted.
            if not fail_open:
                raise DependencyDown("cache") from None
            logger.warning("rate limits not counted: the cache is unreachable")
            counted = []
        self._counters = [counter for _, counter, _, _ in counted]
        self.retry_after = max((left for limit, _, count, left in counted if count > limit.limit), default=0)

    @property
    def allowed(self) -> bool:
        return self.retry_after == 0

    def succeeded(self) -> None:
        if not self._counters:
            return
        try:
            if settings.REDIS_URL:
                _redis().eval(_GIVE_BACK, len(self._counters), *self._counters)
                return
            for counter in self._counters:
                try:
                    cache.decr(counter)
                except ValueError:  # its window already closed
                    pass
        except CACHE_ERRORS:  # gone since the attempt was counted: the count just stays
            return


def allow(scope: str, key: str, *, limit: int, window_seconds: int, fail_open: bool = False) -> bool:
    """Count one attempt; False once `limit` attempts were counted in the current window."""
    return Attempt(Limit(scope, key, limit, window_seconds), fail_open=fail_open).allowed


def sign_in_limits(step: str, request, account: str) -> list[Limit]:
    """The limits on failed attempts at a sign-in step: per account, and per client address (shared by
    the password and set-password steps, so trying both does not double the budget)."""
    window = settings.SIGN_IN_WINDOW_SECONDS
    return [Limit(f"{step}-account", account.strip().lower(), settings.SIGN_IN_FAILURES_PER_ACCOUNT, window),
            Limit("sign-in-address", client_ip(request), settings.SIGN_IN_FAILURES_PER_ADDRESS, window)]


def sign_in_lookup_limit(request) -> Limit:
    """The limit on the email-entry step, per client address: each answer tells whose identity provider
    claims a domain, so every lookup counts."""
    return Limit("sign-in-lookup-address", client_ip(request), settings.SIGN_IN_LOOKUPS_PER_ADDRESS,
                 settings.SIGN_IN_WINDOW_SECONDS)


def wait_text(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def refused(request, retry_after: int):
    """The page for a refused attempt: 429, how long to wait, and the same in Retry-After."""
    response = render(request, "accounts/too_many_attempts.html", {"wait": wait_text(retry_after)}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def client_ip(request) -> str:
    """The client's address. Everything that keys on it uses this.

    With no trusted proxy (TRUSTED_PROXY_COUNT=0) it is the connecting address, and X-Forwarded-For is
    ignored: any client can send one. Behind N proxies that each append the address they saw, it is the
    Nth entry from the right; with fewer entries, or one that is not an address, it is the connecting
    address (the nearest proxy's), so a garbled header cannot give a client a fresh bucket."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(forwarded) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-proxies].strip()))
    except ValueError:
        return remote
