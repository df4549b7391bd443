"""CircuitBreaker state machine, trip conditions, modes, sync and async, with a fake clock."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator

import pytest

from recoup.errors.taxonomy import Category
from recoup.policies.breaker import CircuitBreaker
from recoup.policies.deadline import deadline_scope
from recoup.policies.errors import BulkheadFullError, CircuitOpenError, DeadlineExceeded
from recoup.policies.events import EventKind, PolicyEvent, subscribe
from recoup.policies.trip import AdaptiveFailureRatio, ConsecutiveFailures, FailureRatio, SlowCallRatio
from recoup.testing import FakeClock


class Boom(ConnectionError):
    pass


@pytest.fixture
def events() -> Iterator[list[PolicyEvent]]:
    seen: list[PolicyEvent] = []
    unsubscribe = subscribe(seen.append)
    yield seen
    unsubscribe()


def fail() -> None:
    raise Boom("down")


def ok() -> str:
    return "ok"


def fail_n(breaker: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        with pytest.raises(Boom):
            breaker.call(fail)


def transitions(events: list[PolicyEvent]) -> list[tuple[str, str]]:
    return [(e.data["from_state"], e.data["to_state"]) for e in events if e.kind is EventKind.STATE_CHANGED]


def test_opens_after_consecutive_failures_and_recovers_through_half_open(events: list[PolicyEvent]) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("db", trip=ConsecutiveFailures(3), reset_timeout=10.0, clock=clock)
    fail_n(breaker, 2)
    assert breaker.call(ok) == "ok"  # a success resets the count
    fail_n(breaker, 2)
    assert breaker.state == "closed"
    fail_n(breaker, 1)
    assert breaker.state == "open"

    clock.advance(4.0)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(ok)
    assert info.value.retry_after == pytest.approx(6.0)
    assert info.value.state == "open"

    clock.advance(6.0)
    assert breaker.call(ok) == "ok"  # the probe
    assert breaker.state == "closed"
    assert transitions(events) == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    opened = next(e for e in events if e.kind is EventKind.STATE_CHANGED)
    assert opened.policy == "breaker" and opened.name == "db"
    assert opened.data["reason"] == "3 consecutive failures"
    rejected = [e for e in events if e.kind is EventKind.REJECTED]
    assert len(rejected) == 1 and rejected[0].data["retry_after"] == pytest.approx(6.0)
    assert breaker.metrics()["rejections"] == 1 and breaker.metrics()["opens"] == 1


def test_decorator_keeps_signature_and_fast_path_trips() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("svc", trip=ConsecutiveFailures(2), clock=clock)
    calls: list[int] = []

    @breaker
    def get(key: int, *, scale: float = 1.0) -> float:
        """Doc."""
        calls.append(key)
        if key < 0:
            raise Boom("down")
        return key * scale

    assert get(2, scale=2.0) == 4.0
    assert get.__name__ == "get" and get.__doc__ == "Doc."
    assert list(inspect.signature(get).parameters) == ["key", "scale"]
    for _ in range(2):
        with pytest.raises(Boom):
            get(-1)
    with pytest.raises(CircuitOpenError):
        get(1)
    assert calls == [2, -1, -1]


def test_half_open_probe_limit_and_success_ratio(events: list[PolicyEvent]) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(
        "api", trip=ConsecutiveFailures(1), reset_timeout=5.0, half_open_probes=3, close_ratio=0.6, clock=clock
    )
    fail_n(breaker, 1)
    clock.advance(5.0)
    # three probes in flight at once (nested context managers), the fourth is rejected
    with breaker, breaker, breaker:
        assert breaker.state == "half_open"
        with pytest.raises(CircuitOpenError) as info:
            breaker.call(ok)
        assert info.value.state == "half_open"
    # 3 successes >= ceil(0.6 * 3) = 2: closed (it closed after the second success already)
    assert breaker.state == "closed"


def test_half_open_reopens_when_ratio_cannot_be_met_with_growing_timeout() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(
        "api",
        trip=ConsecutiveFailures(1),
        reset_timeout=10.0,
        backoff_factor=2.0,
        max_reset_timeout=30.0,
        half_open_probes=2,
        close_ratio=1.0,
        clock=clock,
    )
    fail_n(breaker, 1)
    for expected in (20.0, 30.0, 30.0):  # 10 -> 20 -> 40 capped at 30
        clock.advance(1000.0)
        fail_n(breaker, 1)  # a failing probe re-opens at once (2/2 successes can't happen any more)
        with pytest.raises(CircuitOpenError) as info:
            breaker.call(ok)
        assert info.value.retry_after == pytest.approx(expected)
    clock.advance(30.0)
    breaker.call(ok)
    assert breaker.state == "half_open"  # 1 of 2 needed successes
    breaker.call(ok)
    assert breaker.state == "closed"
    assert breaker.metrics()["reopens"] == 0
    fail_n(breaker, 1)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(ok)
    assert info.value.retry_after == pytest.approx(10.0)  # backoff reset after closing


def test_failure_ratio_over_count_window() -> None:
    breaker = CircuitBreaker("r", trip=FailureRatio(0.5, window=10, min_calls=6), clock=FakeClock())
    for _ in range(3):
        breaker.call(ok)
    fail_n(breaker, 2)
    assert breaker.state == "closed"  # 2/5, below min_calls
    fail_n(breaker, 1)  # 3/6
    assert breaker.state == "open"


def test_failure_ratio_over_time_window_uses_the_clock() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("t", trip=FailureRatio(0.5, period=10.0, min_calls=4), clock=clock)
    fail_n(breaker, 3)
    clock.advance(30.0)  # those failures age out
    breaker.call(ok)
    breaker.call(ok)
    fail_n(breaker, 1)
    assert breaker.state == "closed"  # 1/3
    fail_n(breaker, 1)  # 2/4
    assert breaker.state == "open"


def test_slow_call_ratio_trips_on_slow_successes_and_slow_probe_reopens() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(
        "slow", trip=SlowCallRatio(0.5, slow_after=1.0, window=4, min_calls=4), reset_timeout=1.0, clock=clock
    )

    def slow() -> str:
        clock.advance(2.0)
        return "late"

    breaker.call(ok)
    breaker.call(slow)
    breaker.call(ok)
    assert breaker.state == "closed"
    assert breaker.call(slow) == "late"  # 2/4 slow
    assert breaker.state == "open"
    clock.advance(1.0)
    breaker.call(slow)  # the probe succeeds, but slowly: counts as a failed probe
    assert breaker.state == "open"


def test_adaptive_condition_through_the_breaker() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("ad", trip=AdaptiveFailureRatio(window=10, warmup=3, floor=0.3), clock=clock)
    for i in range(60):  # 10% failures: the baseline
        if i % 10 == 0:
            fail_n(breaker, 1)
        else:
            breaker.call(ok)
    assert breaker.state == "closed"
    for _ in range(6):
        if breaker.state == "open":
            break
        fail_n(breaker, 1)
    assert breaker.state == "open"


def test_combined_conditions_any_of() -> None:
    breaker = CircuitBreaker(
        "combo", trip=ConsecutiveFailures(3) | FailureRatio(0.5, window=100, min_calls=100), clock=FakeClock()
    )
    fail_n(breaker, 3)
    assert breaker.state == "open"
    listed = CircuitBreaker("list", trip=[ConsecutiveFailures(50), FailureRatio(0.5, window=4, min_calls=4)])
    listed.call(ok)
    listed.call(ok)
    fail_n(listed, 2)
    assert listed.state == "open"


def test_what_counts_as_a_failure() -> None:
    breaker = CircuitBreaker("cls", trip=ConsecutiveFailures(2), clock=FakeClock())

    def bad_input() -> None:
        raise ValueError("not a number")

    def full() -> None:
        raise BulkheadFullError("b", 1, 0)

    for fn in (bad_input, full, bad_input, full):
        with pytest.raises((ValueError, BulkheadFullError)):
            breaker.call(fn)
    assert breaker.state == "closed" and breaker.metrics()["failures"] == 0

    excluding = CircuitBreaker("ex", trip=ConsecutiveFailures(2), exclude=KeyError, clock=FakeClock())
    fail_n(excluding, 1)

    def missing() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError):
        excluding.call(missing)  # ignored: neither resets nor counts
    fail_n(excluding, 1)
    assert excluding.state == "open"

    by_type = CircuitBreaker("ty", trip=ConsecutiveFailures(1), failure_on=(ValueError,))
    fail_n(by_type, 1)
    assert by_type.state == "closed"
    with pytest.raises(ValueError):
        by_type.call(bad_input)
    assert by_type.state == "open"

    by_pred = CircuitBreaker("pr", trip=ConsecutiveFailures(1), failure_on=lambda e: "fatal" in str(e))
    fail_n(by_pred, 1)
    assert by_pred.state == "closed"

    by_cat = CircuitBreaker("ca", trip=ConsecutiveFailures(1), failure_on={Category.VALIDATION})
    with pytest.raises(ValueError):
        by_cat.call(bad_input)
    assert by_cat.state == "open"


def test_expired_deadline_is_rejected_without_counting() -> None:
    clock = FakeClock(start=100.0)
    breaker = CircuitBreaker("dl", trip=ConsecutiveFailures(1), clock=clock)
    ran: list[int] = []

    @breaker
    def work() -> None:
        ran.append(1)

    with deadline_scope(50.0), pytest.raises(DeadlineExceeded):
        work()
    assert ran == [] and breaker.state == "closed" and breaker.metrics()["failures"] == 0
    with deadline_scope(200.0):
        work()
    assert ran == [1]


def test_forced_open_forced_closed_disabled_and_reset(events: list[PolicyEvent]) -> None:
    breaker = CircuitBreaker("m", trip=ConsecutiveFailures(1), clock=FakeClock())
    breaker.force_open()
    assert breaker.state == "forced_open"
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(ok)
    assert info.value.state == "forced_open" and info.value.retry_after is None

    breaker.force_closed()
    fail_n(breaker, 5)
    assert breaker.state == "forced_closed"

    breaker.disable()
    fail_n(breaker, 5)
    assert breaker.state == "disabled" and breaker.mode == "disabled"

    breaker.reset()
    assert breaker.state == "closed"
    fail_n(breaker, 1)
    assert breaker.state == "open"
    assert transitions(events) == [
        ("closed", "forced_open"),
        ("forced_open", "forced_closed"),
        ("forced_closed", "disabled"),
        ("disabled", "closed"),
        ("closed", "open"),
    ]


def test_metrics_only_records_and_emits_but_never_rejects(events: list[PolicyEvent]) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("shadow", trip=ConsecutiveFailures(2), reset_timeout=5.0, mode="metrics_only", clock=clock)
    fail_n(breaker, 2)
    assert breaker.state == "open" and breaker.mode == "metrics_only"
    assert breaker.call(ok) == "ok"  # would have been rejected
    clock.advance(5.0)
    assert breaker.call(ok) == "ok"  # the shadow probe
    assert breaker.state == "closed"
    assert transitions(events)[-3:] == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    assert not [e for e in events if e.kind is EventKind.REJECTED]


def test_late_result_from_an_earlier_state_is_ignored() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("late", trip=ConsecutiveFailures(1), reset_timeout=1.0, half_open_probes=2, clock=clock)
    fail_n(breaker, 1)
    clock.advance(1.0)
    with breaker:  # probe A is admitted and still running when ...
        fail_n(breaker, 1)  # ... probe B fails and re-opens the circuit
        assert breaker.state == "open"
    # A's success belongs to the earlier half-open period: it must not close the circuit
    assert breaker.state == "open"


def test_late_closed_state_failure_does_not_count_after_opening() -> None:
    breaker = CircuitBreaker("late2", trip=ConsecutiveFailures(1), clock=FakeClock())
    with pytest.raises(Boom), breaker:  # admitted while closed ...
        fail_n(breaker, 1)  # ... another call opens the breaker meanwhile
        raise Boom("late")
    assert breaker.metrics()["opens"] == 1 and breaker.state == "open"


def test_async_decorator_and_context_manager(events: list[PolicyEvent]) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("aio", trip=ConsecutiveFailures(2), reset_timeout=3.0, clock=clock)

    @breaker
    async def fetch(x: int) -> int:
        await asyncio.sleep(0)
        if x < 0:
            raise Boom("down")
        return x + 1

    async def scenario() -> None:
        assert await fetch(1) == 2
        for _ in range(2):
            with pytest.raises(Boom):
                await fetch(-1)
        with pytest.raises(CircuitOpenError):
            await fetch(1)
        with pytest.raises(CircuitOpenError):
            async with breaker:
                pass
        clock.advance(3.0)
        async with breaker:
            await asyncio.sleep(0)
        assert await breaker.acall(fetch, 5) == 6

    assert inspect.iscoroutinefunction(fetch)
    asyncio.run(scenario())
    assert breaker.state == "closed"
    assert transitions(events) == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_wrap_async_is_the_policy_protocol() -> None:
    from recoup.policies.base import Policy

    breaker = CircuitBreaker("p", trip=ConsecutiveFailures(1))
    assert isinstance(breaker, Policy)

    async def boom() -> None:
        raise Boom("x")

    wrapped = breaker.wrap_async(boom)

    async def scenario() -> None:
        with pytest.raises(Boom):
            await wrapped()
        with pytest.raises(CircuitOpenError):
            await wrapped()

    asyncio.run(scenario())


def test_cancellation_of_a_probe_frees_its_slot() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("cx", trip=ConsecutiveFailures(1), reset_timeout=1.0, clock=clock)
    fail_n(breaker, 1)
    clock.advance(1.0)

    async def hang() -> None:
        await asyncio.sleep(3600)

    async def scenario() -> None:
        task = asyncio.ensure_future(breaker.acall(hang))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await breaker.acall(asyncio.sleep, 0) is None  # the slot is free again

    asyncio.run(scenario())
    assert breaker.state == "closed"


def test_breakers_sharing_a_memory_store_share_state() -> None:
    from recoup.policies.state import MemoryBreakerStore

    store = MemoryBreakerStore()
    a = CircuitBreaker("same", trip=ConsecutiveFailures(1), store=store)
    b = CircuitBreaker("same", trip=ConsecutiveFailures(1), store=store)
    fail_n(a, 1)
    with pytest.raises(CircuitOpenError):
        b.call(ok)


def test_invalid_arguments() -> None:
    bad: list[Callable[[], object]] = [
        lambda: CircuitBreaker("x", half_open_probes=0),
        lambda: CircuitBreaker("x", close_ratio=0),
        lambda: CircuitBreaker("x", backoff_factor=0.5),
        lambda: CircuitBreaker("x", mode="sideways"),
    ]
    for make in bad:
        with pytest.raises(ValueError):
            make()


def test_decorated_window_and_slow_call_conditions_use_the_inline_path() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(
        "inline",
        trip=[FailureRatio(0.5, window=4, min_calls=4), SlowCallRatio(0.5, slow_after=1.0, window=4, min_calls=4)],
        clock=clock,
    )

    @breaker
    def work(fail: bool = False, seconds: float = 0.0) -> str:
        clock.advance(seconds)
        if fail:
            raise Boom("x")
        return "ok"

    assert work() == "ok"
    assert work(seconds=5.0) == "ok"
    with pytest.raises(Boom):
        work(fail=True)
    assert breaker.state == "closed"
    assert work(seconds=5.0) == "ok"  # 2 of 4 slow
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        work()


def test_rejection_while_probes_are_in_flight_hints_a_wait() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(
        "probe-wait", trip=ConsecutiveFailures(1), reset_timeout=2.0, half_open_probes=1, clock=clock
    )
    with pytest.raises(ConnectionError), breaker:
        raise ConnectionError("down")
    clock.advance(2.0)
    with breaker:  # the single probe is in flight while we try again
        with pytest.raises(CircuitOpenError) as info, breaker:
            pass
        assert info.value.state == "half_open" and info.value.retry_after == 0.5
    explicit = CircuitBreaker("probe-wait-2", probe_wait=0.1, reset_timeout=2.0)
    assert explicit.name == "probe-wait-2"
    with pytest.raises(ValueError, match="probe_wait"):
        CircuitBreaker("bad", probe_wait=-1)


def test_half_open_timeout_reopens_when_probes_never_report(events: list[PolicyEvent]) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(
        "api", trip=ConsecutiveFailures(1), reset_timeout=5.0, half_open_probes=2, half_open_timeout=3.0, clock=clock
    )
    fail_n(breaker, 1)
    clock.advance(5.0)
    # two probes take the slots and never report (their outcome was lost): ticketed, never exited
    breaker._enter()
    breaker._enter()
    clock.advance(2.9)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(ok)
    assert info.value.state == "half_open"
    clock.advance(0.1)  # the verdict is now overdue
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(ok)
    assert info.value.state == "open" and info.value.retry_after == pytest.approx(5.0)
    assert transitions(events)[-1] == ("half_open", "open")
    clock.advance(5.0)
    assert breaker.call(ok) == "ok" and breaker.call(ok) == "ok"  # fresh probes: the lost ones hold no slot
    assert breaker.state == "closed"


def test_without_half_open_timeout_lost_probes_hold_their_slots() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("api", trip=ConsecutiveFailures(1), reset_timeout=1.0, clock=clock)
    fail_n(breaker, 1)
    clock.advance(1.0)
    breaker._enter()
    clock.advance(1000.0)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(ok)
    assert info.value.state == "half_open"  # the documented default: wait for the verdict indefinitely


def test_invalid_half_open_timeout_is_named() -> None:
    with pytest.raises(ValueError, match="half_open_timeout"):
        CircuitBreaker("api", half_open_timeout=0)
