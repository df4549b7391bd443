"""recoup.testing: the fake clock and the global no-waits switch."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from recoup.clock import SYSTEM_CLOCK, Clock, SystemClock
from recoup.testing import FakeClock, no_waits


def test_fake_clock_implements_clock() -> None:
    assert isinstance(FakeClock(), Clock)


def test_fake_clock_time_moves_only_when_told() -> None:
    clock = FakeClock(start=5.0, wall_start=1000.0)
    assert clock.monotonic() == 5.0
    assert clock.wall() == 1000.0
    clock.advance(2.5)
    assert clock.monotonic() == 7.5
    assert clock.wall() == 1002.5
    assert clock.sleeps == []
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_sleep_and_asleep_advance_and_record() -> None:
    clock = FakeClock()
    clock.sleep(1.5)
    clock.sleep(0)
    asyncio.run(clock.asleep(2.0))
    assert clock.sleeps == [1.5, 0, 2.0]
    assert clock.monotonic() == 3.5
    assert clock.slept == 3.5
    assert "sleeps=3" in repr(clock)


def test_asleep_yields_to_other_tasks() -> None:
    clock = FakeClock()
    order: list[str] = []

    async def sleeper() -> None:
        await clock.asleep(10)
        order.append("sleeper")

    async def other() -> None:
        order.append("other")

    async def main() -> None:
        await asyncio.gather(sleeper(), other())

    asyncio.run(main())
    assert order == ["other", "sleeper"]


def test_sleeps_from_threads_are_all_counted() -> None:
    clock = FakeClock()

    def worker(_: int) -> None:
        for _ in range(500):
            clock.sleep(0.5)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(worker, range(8)))
    assert len(clock.sleeps) == 4000
    assert clock.monotonic() == 2000.0


def test_no_waits_context_manager_turns_real_waits_off(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    assert SystemClock.waits_enabled
    with no_waits():
        assert not SystemClock.waits_enabled
        SYSTEM_CLOCK.sleep(30.0)
        asyncio.run(SYSTEM_CLOCK.asleep(30.0))
    assert SystemClock.waits_enabled
    SYSTEM_CLOCK.sleep(0.25)
    assert slept == [0.25]


def test_no_waits_as_a_function_and_nesting() -> None:
    switch = no_waits()
    try:
        assert not SystemClock.waits_enabled
        with no_waits():
            assert not SystemClock.waits_enabled
        assert not SystemClock.waits_enabled  # the inner one restores the outer state
    finally:
        switch.restore()
    assert SystemClock.waits_enabled
