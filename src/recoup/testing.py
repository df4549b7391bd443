"""Test helpers: a fake clock that never really waits, and a switch that turns real waits off.

``FakeClock`` implements `recoup.clock.Clock`: `sleep`/`asleep` advance its time instantly and
record each wait in ``sleeps``, so retry/breaker/timeout tests are exact and take no time.
``no_waits()`` makes `recoup.clock.SystemClock` skip every wait, for suites that exercise code
using the default clock; use it as a context manager, or call it and later ``.restore()``.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from recoup.clock import SystemClock

__all__ = ["FakeClock", "no_waits"]


class FakeClock:
    """Deterministic time. Thread-safe; `asleep` yields to the event loop once, like a real wait."""

    def __init__(self, start: float = 0.0, wall_start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._wall_offset = float(wall_start) - float(start)
        self._lock = threading.Lock()
        #: Every wait requested through `sleep`/`asleep`, in order.
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def advance(self, seconds: float) -> None:
        """Move time forward (never back) without recording a sleep."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if seconds > 0:
                self._now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)

    @property
    def slept(self) -> float:
        """Total seconds waited through this clock."""
        return sum(self.sleeps)

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now}, sleeps={len(self.sleeps)})"


class no_waits:
    """Turn off every real wait of `SystemClock` (globally) until `restore()` or the end of a `with`."""

    __slots__ = ("_previous",)

    def __init__(self) -> None:
        self._previous = SystemClock.waits_enabled
        SystemClock.waits_enabled = False

    def restore(self) -> None:
        SystemClock.waits_enabled = self._previous

    def __enter__(self) -> no_waits:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()
