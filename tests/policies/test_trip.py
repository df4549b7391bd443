"""Trip conditions on their own: pure state in, reason out."""

from __future__ import annotations

import json
import random

import pytest

from recoup.policies.trip import (
    AdaptiveFailureRatio,
    AnyOf,
    ConsecutiveFailures,
    FailureRatio,
    SlowCallRatio,
    flatten,
)


def test_consecutive_failures_resets_on_success() -> None:
    cond = ConsecutiveFailures(3)
    st = cond.initial()
    assert cond.record(st, True, 0, 0) is None
    assert cond.record(st, True, 0, 0) is None
    assert cond.pending(st)
    assert cond.record(st, False, 0, 0) is None
    assert not cond.pending(st)
    assert cond.record(st, True, 0, 0) is None
    assert cond.record(st, True, 0, 0) is None
    reason = cond.record(st, True, 0, 0)
    assert reason == "3 consecutive failures"


def test_failure_ratio_count_window_needs_min_calls() -> None:
    cond = FailureRatio(0.5, window=10, min_calls=4)
    st = cond.initial()
    assert cond.record(st, True, 0, 0) is None  # 1/1 but below min_calls
    assert cond.record(st, True, 0, 0) is None
    assert cond.record(st, False, 0, 0) is None
    reason = cond.record(st, False, 0, 0)  # 2/4 = 0.5
    assert reason is not None and "0.50" in reason


def test_failure_ratio_count_window_slides() -> None:
    cond = FailureRatio(0.5, window=4, min_calls=4)
    st = cond.initial()
    for failed in (True, False, False, False):
        assert cond.record(st, failed, 0, 0) is None
    # the early failure slides out; three more successes keep the ratio at 0
    for _ in range(3):
        assert cond.record(st, False, 0, 0) is None
    assert st["b"] == 0
    assert cond.record(st, True, 0, 0) is None  # 1/4
    assert cond.record(st, True, 0, 0) is not None  # 2/4


def test_failure_ratio_time_window_forgets_old_buckets() -> None:
    cond = FailureRatio(0.5, period=10.0, buckets=5, min_calls=3)
    st = cond.initial()
    assert cond.record(st, True, 0, now=0.0) is None
    assert cond.record(st, True, 0, now=1.0) is None
    # 20 s later the old failures are outside the period: 1 failure, 1 call -> below min_calls
    assert cond.record(st, True, 0, now=21.0) is None
    assert cond.record(st, False, 0, now=22.0) is None
    assert cond.record(st, False, 0, now=23.0) is None  # 1/3
    assert cond.record(st, True, 0, now=24.0) is not None  # 2/4


def test_failure_ratio_time_window_minimum_throughput() -> None:
    cond = FailureRatio(0.1, period=60.0, min_calls=20)
    st = cond.initial()
    for i in range(19):
        assert cond.record(st, True, 0, now=float(i)) is None
    assert cond.record(st, True, 0, now=19.0) is not None


def test_slow_call_ratio_counts_slow_successes() -> None:
    cond = SlowCallRatio(0.5, slow_after=2.0, window=4, min_calls=4)
    assert cond.needs_duration and not cond.needs_now
    st = cond.initial()
    assert cond.record(st, False, 0.1, 0) is None
    assert cond.record(st, False, 3.0, 0) is None
    assert cond.record(st, False, 0.1, 0) is None
    reason = cond.record(st, False, 2.5, 0)
    assert reason is not None and "slow-call ratio" in reason


def test_slow_call_ratio_time_window() -> None:
    cond = SlowCallRatio(1.0, slow_after=1.0, period=5.0, min_calls=2)
    assert cond.needs_now
    st = cond.initial()
    assert cond.record(st, False, 5.0, now=0.0) is None
    assert cond.record(st, False, 5.0, now=100.0) is None  # first one has expired
    assert cond.record(st, False, 5.0, now=101.0) is not None


def test_adaptive_learns_baseline_then_trips_on_departure() -> None:
    rng = random.Random(7)
    cond = AdaptiveFailureRatio(k=3.0, floor=0.2, window=20, warmup=5)
    st = cond.initial()
    # a service that normally fails ~5% of calls: never trips
    for _ in range(400):
        assert cond.record(st, rng.random() < 0.05, 0, 0) is None
    limit = cond.threshold(st)
    assert limit is not None and 0.2 <= limit < 0.5
    assert 0.0 < st["mu"] < 0.15
    # now it fails 60% of calls: trips within about one window
    reason = None
    for i in range(40):
        reason = cond.record(st, i % 5 < 3, 0, 0)
        if reason:
            break
    assert reason is not None and "adaptive" in reason


def test_adaptive_accepts_a_high_but_steady_baseline() -> None:
    """A dependency that always fails ~30% is its own normal: a fixed 0.25 ratio would trip, this does not."""
    rng = random.Random(3)
    cond = AdaptiveFailureRatio(k=5.0, floor=0.2, window=50, warmup=4, alpha=0.1)
    st = cond.initial()
    for _ in range(3000):
        assert cond.record(st, rng.random() < 0.3, 0, 0) is None
    assert 0.25 < st["mu"] < 0.35


def test_adaptive_warmup_never_trips() -> None:
    cond = AdaptiveFailureRatio(window=10, warmup=3)
    st = cond.initial()
    for _ in range(29):  # fewer than 3 complete blocks
        assert cond.record(st, True, 0, 0) is None
    assert cond.threshold(st) is None


def test_adaptive_keeps_baseline_across_close() -> None:
    cond = AdaptiveFailureRatio(window=10, warmup=1)
    st = cond.initial()
    for i in range(30):
        cond.record(st, i % 10 == 0, 0, 0)
    fresh = cond.on_close(st)
    assert fresh["mu"] == st["mu"] and fresh["blocks"] == st["blocks"] and fresh["n"] == 0


def test_states_are_json_serialisable() -> None:
    for cond in (
        ConsecutiveFailures(2),
        FailureRatio(0.5, window=5),
        FailureRatio(0.5, period=5.0),
        SlowCallRatio(0.5, 1.0, window=3),
        AdaptiveFailureRatio(),
    ):
        st = cond.initial()
        cond.record(st, True, 2.0, 1.0)
        assert json.loads(json.dumps(st)) == st


def test_combinators_flatten() -> None:
    a, b, c = ConsecutiveFailures(1), FailureRatio(0.5), SlowCallRatio()
    combined = a | b | c
    assert isinstance(combined, AnyOf)
    assert flatten(combined) == (a, b, c)
    assert flatten([a, b | c]) == (a, b, c)
    assert flatten(a) == (a,)
    with pytest.raises(ValueError):
        flatten([])


def test_invalid_configuration_is_rejected() -> None:
    with pytest.raises(ValueError):
        FailureRatio(0.5, window=10, period=1.0)
    with pytest.raises(ValueError):
        FailureRatio(1.5)
    with pytest.raises(ValueError):
        ConsecutiveFailures(0)
