"""Retry budget: reserve, ratio of recent calls, sliding window, thread safety, sharing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from recoup.policies.budget import RetryBudget
from recoup.testing import FakeClock


def drain(budget: RetryBudget) -> int:
    n = 0
    while budget.try_withdraw():
        n += 1
        assert n < 100_000
    return n


def test_reserve_is_min_per_second_times_window(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.0, min_per_second=2.0, window=5.0, clock=clock)
    assert drain(budget) == 10
    assert not budget.try_withdraw()


def test_deposits_add_ratio_of_calls(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.1, min_per_second=0.0, window=10.0, clock=clock)
    assert not budget.try_withdraw()
    for _ in range(100):
        budget.record_call()
    assert drain(budget) == 10


def test_window_slides_and_refills(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.0, min_per_second=1.0, window=4.0, clock=clock)
    assert drain(budget) == 4
    clock.advance(4.5)
    assert drain(budget) == 4


def test_old_deposits_expire(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.5, min_per_second=0.0, window=10.0, clock=clock)
    for _ in range(10):
        budget.record_call()
    assert budget.balance() == pytest.approx(5.0)
    clock.advance(11.0)
    assert budget.balance() == pytest.approx(0.0)


def test_deposits_after_a_long_gap_count_proportionally(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=1.0, min_per_second=0.0, window=10.0, clock=clock)
    clock.advance(100.0)
    for _ in range(100):
        budget.record_call()
    # 100 calls spread over 100 s: about 10 of them fall in the last 10 s window.
    assert budget.balance() == pytest.approx(10.0)


def test_thread_safe_withdrawals_never_exceed_budget(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.0, min_per_second=50.0, window=10.0, clock=clock)

    def worker(_: int) -> int:
        return sum(1 for _ in range(200) if budget.try_withdraw())

    with ThreadPoolExecutor(max_workers=8) as pool:
        granted = sum(pool.map(worker, range(8)))
    assert granted == 500


def test_deposits_from_threads_are_not_lost(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=1.0, min_per_second=0.0, window=10.0, clock=clock)

    def worker(_: int) -> None:
        for _ in range(1000):
            budget.record_call()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(worker, range(8)))
    assert budget.balance() == pytest.approx(8000.0)


def test_invalid_configuration_rejected() -> None:
    with pytest.raises(ValueError):
        RetryBudget(ratio=-1)
    with pytest.raises(ValueError):
        RetryBudget(window=0)
    assert "ratio=0.2" in repr(RetryBudget())
