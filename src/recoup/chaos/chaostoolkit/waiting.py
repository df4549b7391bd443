"""Polling until recoup reaches a state, for probes that wait (an alert firing, alerts clearing).

A fixed pause in an experiment is either too short on a slow machine or wastes time on a fast one;
polling returns as soon as the state is reached. The clock is injectable so tests need not sleep."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from recoup.chaos.chaostoolkit.transport import ActivityError
from recoup.clock import SYSTEM_CLOCK, Clock

T = TypeVar("T")

#: How much of the last observed value a timeout message quotes.
_QUOTE_LIMIT = 500


def _check(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ActivityError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def poll(measure: Callable[[], T], done: Callable[[T], bool], timeout: float, interval: float,
         clock: Clock | None, waiting_for: str) -> T:
    """Call ``measure`` every ``interval`` seconds until ``done`` accepts its value, and return that value;
    `ActivityError` ("``waiting_for`` after N s; last seen: ...") when ``timeout`` passes first."""
    timeout, interval = _check(timeout, "timeout"), _check(interval, "interval")
    clock = clock or SYSTEM_CLOCK
    deadline = clock.monotonic() + timeout
    while True:
        value = measure()
        if done(value):
            return value
        left = deadline - clock.monotonic()
        if left <= 0:
            seen = json.dumps(value, default=str)[:_QUOTE_LIMIT]
            raise ActivityError(f"{waiting_for} after {timeout:g} s; last seen: {seen}")
        clock.sleep(min(interval, left))
