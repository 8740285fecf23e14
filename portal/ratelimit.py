"""Fixed-window rate limits on the shared cache (Redis in production, so all web processes count together)."""

import time

from django.core.cache import cache


def allow(scope: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt; False once `limit` attempts were counted in the current window."""
    bucket = f"ratelimit:{scope}:{key}:{int(time.time() // window_seconds)}"
    cache.add(bucket, 0, timeout=window_seconds + 1)
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # evicted between add and incr
        cache.set(bucket, 1, timeout=window_seconds + 1)
        return True


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")
