"""Injectable time, so every time-dependent policy can be tested without sleeping."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Monotonic time for decisions, wall time for records, and the two ways to wait."""

    def monotonic(self) -> float: ...

    def wall(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock. Waits can be switched off globally (see `recoup.testing.no_waits`)."""

    __slots__ = ()

    waits_enabled: bool = True

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0 and SystemClock.waits_enabled:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        if seconds > 0 and SystemClock.waits_enabled:
            await asyncio.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()
