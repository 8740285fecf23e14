"""Calls to a provider's API under its rate limit, retried the same way for every provider.

Each attempt holds a slot of the credential's limit (portal.throttle, shared by all workers). An
attempt that meets a network failure, a 5xx or a 429 is tried again: after Retry-After when a 429
gives one, otherwise after exponential backoff with jitter (capped at 30 s). Any other answer is
the caller's to read. After the last attempt GaveUp says what went wrong, so a task can retry
later and lose nothing.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests

from . import http, throttle

T = TypeVar("T")
LONGEST_WAIT_SECONDS = 30


@dataclass(frozen=True)
class Limits:
    throttle_key: str  # one per provider credential: portal accounts sharing a credential share its slots
    per_second: int
    backoff_seconds: float
    attempts: int
    window_ms: int = throttle.WINDOW_MS


class TryAgain(Exception):
    """Raised by an attempt that may succeed later; `retry_after` is the provider's Retry-After."""

    def __init__(self, problem: str, retry_after: str = ""):
        super().__init__(problem)
        self.problem, self.retry_after = problem, retry_after


class GaveUp(Exception):
    """Every attempt failed; the message is the last problem, safe to show to an admin."""


def call(limits: Limits, attempt: Callable[[], T]) -> T:
    problem = ""
    for number in range(limits.attempts):
        try:
            with throttle.slot(limits.throttle_key, limits.per_second, window_ms=limits.window_ms):
                return attempt()
        except TryAgain as again:
            problem = again.problem
            if again.retry_after.isdigit():
                time.sleep(min(int(again.retry_after), LONGEST_WAIT_SECONDS))
                continue
        if number + 1 < limits.attempts:
            backoff = min(LONGEST_WAIT_SECONDS, limits.backoff_seconds * 2 ** number)
            time.sleep(backoff * random.uniform(0.5, 1.0))
    raise GaveUp(problem)


def http_request(limits: Limits, method: str, url: str, *, describe: Callable[[requests.Response], str],
                 **kwargs) -> requests.Response:
    """The provider's first answer that is neither a 429 nor a 5xx; `describe` says what a failed
    answer's body means, for GaveUp's message."""

    def attempt() -> requests.Response:
        try:
            response = http.request(method, url, retries=False, **kwargs)
        except http.OutboundError as error:
            raise TryAgain(str(error)) from None
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = response.headers.get("Retry-After", "") if status == 429 else ""
            raise TryAgain(f"HTTP {status}: {describe(response)}", retry_after)
        return response

    return call(limits, attempt)
