"""Schedules decide exactly which calls / instants may fire."""

from __future__ import annotations

import pytest

from recoup.chaos.schedule import AfterCalls, Always, CallBursts, During, EveryNth, FirstCalls, Schedule, TimeBursts


def firing_calls(schedule: Schedule, calls: int = 12, elapsed: float = 0.0) -> list[int]:
    return [n for n in range(1, calls + 1) if schedule.fires(n, elapsed)]


def test_call_count_schedules() -> None:
    assert firing_calls(Always(), 3) == [1, 2, 3]
    assert firing_calls(FirstCalls(3)) == [1, 2, 3]
    assert firing_calls(FirstCalls(0)) == []
    assert firing_calls(AfterCalls(9)) == [10, 11, 12]
    assert firing_calls(EveryNth(4)) == [4, 8, 12]
    assert firing_calls(EveryNth(4, offset=1)) == [1, 5, 9]
    assert firing_calls(CallBursts(on=2, off=3)) == [1, 2, 6, 7, 11, 12]
    assert firing_calls(CallBursts(on=2, off=1, skip=4)) == [5, 6, 8, 9, 11, 12]


def test_time_schedules() -> None:
    window = During(5.0, 10.0)
    assert [t for t in (0.0, 4.99, 5.0, 9.99, 10.0) if window.fires(1, t)] == [5.0, 9.99]
    bursts = TimeBursts(period=60.0, duration=10.0, offset=30.0)
    assert [t for t in (0.0, 29.9, 30.0, 39.9, 40.0, 90.0, 99.9, 100.0) if bursts.fires(1, t)] == [30.0, 39.9, 90.0,
                                                                                                   99.9]


def test_combinators() -> None:
    assert firing_calls(AfterCalls(4) & EveryNth(2)) == [6, 8, 10, 12]
    assert firing_calls(FirstCalls(1) | EveryNth(5)) == [1, 5, 10]
    assert firing_calls(~FirstCalls(10)) == [11, 12]
    two_windows = During(0, 1) | During(10, 11)
    assert [t for t in (0.5, 5.0, 10.5) if two_windows.fires(1, t)] == [0.5, 10.5]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: EveryNth(0), "EveryNth.n must be an integer >= 1, got 0"),
        (lambda: FirstCalls(-1), "FirstCalls.n must be an integer >= 0, got -1"),
        (lambda: CallBursts(on=0, off=1), "CallBursts.on must be an integer >= 1"),
        (lambda: During(5, 5), r"During.end \(5\) must be after During.start \(5\)"),
        (lambda: During(-1, 5), "During.start must be a number >= 0, got -1"),
        (lambda: TimeBursts(period=10, duration=11), r"TimeBursts.duration \(11\) must be > 0 and <= period"),
        (lambda: AfterCalls(2.5), "AfterCalls.n must be an integer >= 0, got 2.5"),  # type: ignore[arg-type]
    ],
)
def test_bad_schedules_name_the_field(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]
