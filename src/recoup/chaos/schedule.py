"""When a chaos rule may fire: by call count (first N, after N, every Nth, bursts) or by time on the injectable
clock (windows, periodic bursts). Schedules are pure functions of (call number, seconds since the rule was
armed), so a test with a `FakeClock` and a seeded RNG knows exactly which calls fail.

Combine them with ``&`` (both), ``|`` (either) and ``~`` (not): ``AfterCalls(10) & EveryNth(3)``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AfterCalls",
    "Always",
    "CallBursts",
    "During",
    "EveryNth",
    "FirstCalls",
    "Schedule",
    "TimeBursts",
]


def _positive_int(name: str, value: int, *, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")


class Schedule:
    """Decides whether call number `call` (1-based, counted per rule) at `elapsed` seconds may fire."""

    def fires(self, call: int, elapsed: float) -> bool:
        raise NotImplementedError

    def __and__(self, other: Schedule) -> Schedule:
        return _Both(self, other)

    def __or__(self, other: Schedule) -> Schedule:
        return _Either(self, other)

    def __invert__(self) -> Schedule:
        return _Not(self)


@dataclass(frozen=True)
class Always(Schedule):
    """Every call (the rate still applies)."""

    def fires(self, call: int, elapsed: float) -> bool:
        return True


@dataclass(frozen=True)
class FirstCalls(Schedule):
    """Only the first `n` calls: a dependency that is down at start-up, then recovers."""

    n: int

    def __post_init__(self) -> None:
        _positive_int("FirstCalls.n", self.n, minimum=0)

    def fires(self, call: int, elapsed: float) -> bool:
        return call <= self.n


@dataclass(frozen=True)
class AfterCalls(Schedule):
    """Every call after the first `n`: healthy at first, then failing."""

    n: int

    def __post_init__(self) -> None:
        _positive_int("AfterCalls.n", self.n, minimum=0)

    def fires(self, call: int, elapsed: float) -> bool:
        return call > self.n


@dataclass(frozen=True)
class EveryNth(Schedule):
    """Calls n, 2n, 3n, ... (shifted by `offset`: with offset 1, calls 1, n+1, 2n+1, ...)."""

    n: int
    offset: int = 0

    def __post_init__(self) -> None:
        _positive_int("EveryNth.n", self.n)
        _positive_int("EveryNth.offset", self.offset, minimum=0)

    def fires(self, call: int, elapsed: float) -> bool:
        return (call - self.offset) % self.n == 0 and call >= max(1, self.offset)


@dataclass(frozen=True)
class CallBursts(Schedule):
    """Repeating cycles of `on` failing calls then `off` healthy ones, starting after `skip` calls."""

    on: int
    off: int
    skip: int = 0

    def __post_init__(self) -> None:
        _positive_int("CallBursts.on", self.on)
        _positive_int("CallBursts.off", self.off, minimum=0)
        _positive_int("CallBursts.skip", self.skip, minimum=0)

    def fires(self, call: int, elapsed: float) -> bool:
        if call <= self.skip:
            return False
        return (call - self.skip - 1) % (self.on + self.off) < self.on


@dataclass(frozen=True)
class During(Schedule):
    """Within ``start <= elapsed < end`` seconds of the rule being armed (several windows: combine with |)."""

    start: float
    end: float

    def __post_init__(self) -> None:
        _non_negative("During.start", self.start)
        _non_negative("During.end", self.end)
        if self.end <= self.start:
            raise ValueError(f"During.end ({self.end!r}) must be after During.start ({self.start!r})")

    def fires(self, call: int, elapsed: float) -> bool:
        return self.start <= elapsed < self.end


@dataclass(frozen=True)
class TimeBursts(Schedule):
    """Outages of `duration` seconds every `period` seconds, the first starting at `offset`."""

    period: float
    duration: float
    offset: float = 0.0

    def __post_init__(self) -> None:
        _non_negative("TimeBursts.period", self.period)
        _non_negative("TimeBursts.duration", self.duration)
        _non_negative("TimeBursts.offset", self.offset)
        if not 0 < self.duration <= self.period:
            raise ValueError(
                f"TimeBursts.duration ({self.duration!r}) must be > 0 and <= period ({self.period!r})"
            )

    def fires(self, call: int, elapsed: float) -> bool:
        if elapsed < self.offset:
            return False
        return (elapsed - self.offset) % self.period < self.duration


@dataclass(frozen=True)
class _Both(Schedule):
    left: Schedule
    right: Schedule

    def fires(self, call: int, elapsed: float) -> bool:
        return self.left.fires(call, elapsed) and self.right.fires(call, elapsed)


@dataclass(frozen=True)
class _Either(Schedule):
    left: Schedule
    right: Schedule

    def fires(self, call: int, elapsed: float) -> bool:
        return self.left.fires(call, elapsed) or self.right.fires(call, elapsed)


@dataclass(frozen=True)
class _Not(Schedule):
    inner: Schedule

    def fires(self, call: int, elapsed: float) -> bool:
        return not self.inner.fires(call, elapsed)
