"""The shared limiter counts a call from when it finished, and holds its slot while it is in flight,
so a call that leaves late cannot arrive together with the next ones."""

import time
import uuid

import pytest

from portal import throttle


def after_ms(ms: float) -> None:
    """Let a few milliseconds of the clock pass (the windows below are one millisecond long)."""
    deadline = time.monotonic() + ms / 1000
    while time.monotonic() < deadline:
        pass


@pytest.fixture(params=["redis", "one process"])
def backend(request, settings):
    if request.param == "one process":
        settings.REDIS_URL = ""
    return f"test:{uuid.uuid4().hex}"


def test_a_slot_is_held_while_its_call_is_in_flight_and_counts_from_its_end(backend):
    key = backend
    assert throttle._take(key, "slow", 1, 1) == 0  # a call leaves and takes long

    after_ms(5)
    assert throttle._take(key, "next", 1, 1) > 0  # its one-millisecond window is long over, yet it holds

    throttle._finish(key, "slow")
    after_ms(5)
    assert throttle._take(key, "next", 1, 1) == 0


def test_no_more_than_n_calls_within_a_window(backend):
    key = backend
    for _ in range(4):
        with throttle.slot(key, 4, window_ms=60_000):
            pass
    assert throttle._take(key, "e", 4, 60_000) > 0
