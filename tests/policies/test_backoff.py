"""Backoff schedules, jitter bounds (AWS definitions), Retry-After, and seeded determinism."""

from __future__ import annotations

import pytest

from recoup.policies.backoff import Backoff, default_backoff


class Throttled(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__("429 Too Many Requests")
        self.retry_after = retry_after


def test_constant_schedule() -> None:
    b = Backoff.constant(0.5)
    assert [b.delay(n) for n in range(1, 6)] == [0.5] * 5


def test_zero_constant_is_zero() -> None:
    b = Backoff.constant(0.0)
    assert b.delay(1) == 0.0
    assert b.delay(7, 0.0, ConnectionError()) == 0.0


def test_linear_schedule_with_cap() -> None:
    b = Backoff.linear(1.0, 0.5, cap=2.0)
    assert [b.delay(n) for n in range(1, 6)] == [1.0, 1.5, 2.0, 2.0, 2.0]


def test_linear_increment_defaults_to_initial() -> None:
    b = Backoff.linear(0.2)
    assert b.delay(3) == pytest.approx(0.6)


def test_exponential_schedule_with_cap() -> None:
    b = Backoff.exponential(0.1, 2.0, cap=1.0, jitter="none")
    assert [b.delay(n) for n in range(1, 7)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_exponential_huge_attempt_does_not_overflow() -> None:
    b = Backoff.exponential(0.1, 10.0, cap=30.0, jitter="none")
    assert b.delay(100_000) == 30.0


def test_full_jitter_within_zero_and_base() -> None:
    b = Backoff.exponential(1.0, 2.0, cap=8.0, jitter="full", seed=1)
    for attempt in range(1, 10):
        ceiling = min(8.0, 2.0 ** (attempt - 1))
        for _ in range(50):
            assert 0.0 <= b.delay(attempt) <= ceiling


def test_equal_jitter_at_least_half() -> None:
    b = Backoff.exponential(1.0, 2.0, cap=8.0, jitter="equal", seed=2)
    for attempt in range(1, 10):
        ceiling = min(8.0, 2.0 ** (attempt - 1))
        for _ in range(50):
            assert ceiling / 2 <= b.delay(attempt) <= ceiling


def test_decorrelated_jitter_grows_from_previous_and_respects_cap() -> None:
    b = Backoff.exponential(0.5, jitter="decorrelated", cap=4.0, seed=3)
    prev: float | None = None
    for attempt in range(1, 30):
        d = b.delay(attempt, prev)
        low = 0.5
        high = min(4.0, max(low, prev if prev is not None else low) * 3)
        assert low <= d <= high
        prev = d


def test_seed_makes_schedules_reproducible() -> None:
    a = Backoff.exponential(jitter="full", seed=42)
    b = Backoff.exponential(jitter="full", seed=42)
    assert [a.delay(n) for n in range(1, 8)] == [b.delay(n) for n in range(1, 8)]


def test_retry_after_wins_when_longer() -> None:
    b = Backoff.constant(0.1)
    assert b.delay(1, None, Throttled(3.0)) == 3.0


def test_backoff_wins_when_longer_than_retry_after() -> None:
    b = Backoff.constant(5.0)
    assert b.delay(1, None, Throttled(1.0)) == 5.0


def test_retry_after_capped_by_max_retry_after() -> None:
    b = Backoff.constant(0.1, max_retry_after=2.0)
    assert b.delay(1, None, Throttled(3600.0)) == 2.0


def test_retry_after_can_be_ignored() -> None:
    b = Backoff.constant(0.1, honor_retry_after=False)
    assert b.delay(1, None, Throttled(3.0)) == 0.1


def test_invalid_configuration_rejected() -> None:
    with pytest.raises(ValueError):
        Backoff("fibonacci")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Backoff(jitter="some")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Backoff(initial=-1)
    with pytest.raises(ValueError):
        Backoff(multiplier=0.5)


def test_default_backoff_is_exponential_full_jitter_capped() -> None:
    b = default_backoff()
    assert (b.kind, b.jitter, b.cap) == ("exponential", "full", 5.0)
    assert all(0 <= b.delay(n) <= 5.0 for n in range(1, 20))
    assert "exponential" in repr(b)


def test_exact_retry_after_replaces_the_schedule_even_when_shorter() -> None:
    b = Backoff.exponential(0.5, jitter="none", retry_after_exact=True)
    assert b.delay(4, None, Throttled(0.0)) == 0.0  # "Retry-After: 0" means now, not after our 4 s guess
    assert b.delay(1, None, Throttled(2.0)) == 2.0
    assert b.delay(4) == 4.0  # no hint: the schedule as usual
    default = Backoff.exponential(0.5, jitter="none")
    assert default.delay(4, None, Throttled(0.0)) == 4.0  # the default only lets a hint lengthen the wait


def test_exact_retry_after_spreads_callers_by_the_first_step() -> None:
    b = Backoff.exponential(0.01, jitter="full", retry_after_exact=True, seed=5)
    waits = [b.delay(3, None, Throttled(0.5)) for _ in range(50)]
    assert all(0.5 <= w <= 0.51 for w in waits) and len(set(waits)) > 40
    capped = Backoff.exponential(0.01, jitter="none", retry_after_exact=True, max_retry_after=1.0)
    assert capped.delay(1, None, Throttled(90.0)) == 1.0


def test_admission_wait_is_the_hint_plus_jitter_and_never_zero() -> None:
    b = Backoff.exponential(0.02, jitter="equal", seed=1)
    waits = [b.admission_wait(0.3) for _ in range(50)]
    assert all(0.3 <= w <= 0.32 for w in waits)
    assert Backoff.constant(0.0).admission_wait(0.0) == 0.001  # a zero hint cannot become a busy loop
    assert Backoff.constant(0.5).admission_wait(0.25) == 0.25  # jitter "none": exactly the hint
