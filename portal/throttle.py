"""At most N calls per second to an outside API, across every process of the portal.

A sliding one-second window in Redis (one sorted set of call times per key, checked and written by
one Lua script, on Redis's own clock), so no second ever holds more than N calls, even when several
Celery workers call at once. Without Redis (the embedded setup, one worker) a lock in the process
does the same.
"""

import threading
import time
import uuid
from collections import deque

import redis
from django.conf import settings

WINDOW_MS = 1000
_SCRIPT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now_ms - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now_ms, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + tonumber(ARGV[2]) - now_ms + 1
"""
_client = None
_local: dict[str, deque] = {}
_local_lock = threading.Lock()


def _redis():
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def acquire(key: str, per_second: int, *, window_ms: int = WINDOW_MS) -> None:
    """Wait until one more call under `key` keeps every window of `window_ms` within `per_second` calls."""
    while True:
        if settings.REDIS_URL:
            wait_ms = _try_redis(key, per_second, window_ms)
        else:
            wait_ms = _try_local(key, per_second, window_ms)
        if wait_ms <= 0:
            return
        time.sleep(wait_ms / 1000)


def _try_redis(key: str, per_second: int, window_ms: int) -> int:
    return int(_redis().eval(_SCRIPT, 1, f"throttle:{key}", per_second, window_ms, uuid.uuid4().hex))


def _try_local(key: str, per_second: int, window_ms: int) -> int:
    with _local_lock:
        calls = _local.setdefault(key, deque())
        now = time.monotonic() * 1000
        while calls and calls[0] <= now - window_ms:
            calls.popleft()
        if len(calls) < per_second:
            calls.append(now)
            return 0
        return int(calls[0] + window_ms - now) + 1
