"""At most N calls per second to an outside API, across every process of the portal.

The provider counts calls as they arrive, and a call can arrive well after it was allowed (a busy
worker, a slow connection). So a call holds its slot while it is in flight, and once it is done the
slot counts from the moment it finished, which is no earlier than its arrival. A new call is allowed
only while fewer than N slots are in flight or finished within the window: then no N+1 calls can
arrive within one window, however late any of them left.

The slots live in Redis (one sorted set per key, written by Lua scripts on Redis's own clock), so
several Celery workers share them. Without Redis (the embedded setup, one worker) a lock in the
process does the same.
"""

import threading
import time
import uuid
from contextlib import contextmanager

import redis
from django.conf import settings

WINDOW_MS = 1000
# An in-flight slot counts as taken for at most this long, so a worker that died frees it.
HOLD_MS = 60_000
POLL_MS = 50

_NOW = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
"""
_TAKE = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now_ms - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[4]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + tonumber(ARGV[2]))
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + tonumber(ARGV[2]) - now_ms + 1
"""
_FINISH = _NOW + """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now_ms, ARGV[1])
end
return 0
"""
_client = None
_local: dict[str, dict[str, float]] = {}
_local_lock = threading.Lock()


def _redis():
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


@contextmanager
def slot(key: str, per_second: int, *, window_ms: int = WINDOW_MS):
    """Wait for a free slot under `key`, hold it for the call made inside, and let it count from
    the moment the call finished."""
    member = uuid.uuid4().hex
    while True:
        wait_ms = _take(key, member, per_second, window_ms)
        if wait_ms <= 0:
            break
        time.sleep(min(wait_ms, POLL_MS) / 1000)
    try:
        yield
    finally:
        _finish(key, member)


def _take(key, member, per_second, window_ms) -> int:
    if settings.REDIS_URL:
        return int(_redis().eval(_TAKE, 1, f"throttle:{key}", per_second, window_ms, member, HOLD_MS))
    with _local_lock:
        slots = _local.setdefault(key, {})
        now = time.monotonic() * 1000
        for stale in [m for m, at in slots.items() if at <= now - window_ms]:
            del slots[stale]
        if len(slots) < per_second:
            slots[member] = now + HOLD_MS
            return 0
        return int(min(slots.values()) + window_ms - now) + 1


def _finish(key, member) -> None:
    if settings.REDIS_URL:
        _redis().eval(_FINISH, 1, f"throttle:{key}", member)
        return
    with _local_lock:
        slots = _local.get(key, {})
        if member in slots:
            slots[member] = time.monotonic() * 1000
