"""Many threads and tasks on one breaker: counts stay consistent, it opens once, no lock is held
across the protected call."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import pytest

from recoup.policies.breaker import CircuitBreaker
from recoup.policies.errors import CircuitOpenError
from recoup.policies.events import EventKind, PolicyEvent, subscribe
from recoup.policies.trip import ConsecutiveFailures, FailureRatio, TripCondition
from recoup.testing import FakeClock


@pytest.fixture
def events() -> Iterator[list[PolicyEvent]]:
    seen: list[PolicyEvent] = []
    unsubscribe = subscribe(seen.append)
    yield seen
    unsubscribe()


def opened(events: list[PolicyEvent]) -> int:
    return sum(1 for e in events if e.kind is EventKind.STATE_CHANGED and e.data["to_state"] == "open")


@pytest.mark.parametrize(
    "trip",
    [ConsecutiveFailures(50), FailureRatio(0.5, window=64, min_calls=64)],
    ids=["consecutive", "count-window"],
)
def test_threads_hammering_a_failing_dependency_open_it_once(events: list[PolicyEvent], trip: TripCondition) -> None:
    breaker = CircuitBreaker("hammer", trip=trip, reset_timeout=3600.0, clock=FakeClock())
    threads, per_thread = 16, 300
    start = threading.Barrier(threads)
    ran = [0] * threads
    rejected = [0] * threads

    @breaker
    def flaky() -> None:
        raise ConnectionError("down")

    def worker(i: int) -> None:
        start.wait()
        for _ in range(per_thread):
            try:
                flaky()
            except ConnectionError:
                ran[i] += 1
            except CircuitOpenError:
                rejected[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    metrics = breaker.metrics()
    assert sum(ran) + sum(rejected) == threads * per_thread
    assert metrics["failures"] == sum(ran)  # every failure counted, none lost
    assert metrics["rejections"] == sum(rejected)
    assert sum(ran) >= 50
    assert metrics["opens"] == 1 and opened(events) == 1
    assert breaker.state == "open"


def test_mixed_successes_and_failures_from_threads_stay_consistent() -> None:
    breaker = CircuitBreaker("mixed", trip=ConsecutiveFailures(10_000), clock=FakeClock())
    threads, per_thread = 8, 500

    @breaker
    def call(fail: bool) -> None:
        if fail:
            raise ConnectionError("x")

    def worker(i: int) -> None:
        for j in range(per_thread):
            with contextlib.suppress(ConnectionError):
                call(j % 2 == 0)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert breaker.metrics()["failures"] == threads * per_thread // 2
    assert breaker.state == "closed"


@pytest.mark.parametrize(
    "trip", [ConsecutiveFailures(3), FailureRatio(0.5, window=10, min_calls=100)], ids=["fast", "locked"]
)
def test_no_lock_is_held_during_the_call(trip: TripCondition) -> None:
    breaker = CircuitBreaker("blocking", trip=trip, clock=FakeClock())
    entered, release = threading.Event(), threading.Event()

    def slow() -> str:
        entered.set()
        assert release.wait(10.0)
        return "slow"

    result: list[str] = []
    holder = threading.Thread(target=lambda: result.append(breaker.call(slow)))
    holder.start()
    assert entered.wait(10.0)

    # while `slow` is blocked inside the breaker, another thread uses it freely
    done = threading.Event()

    def other() -> None:
        for _ in range(5):
            breaker.call(lambda: None)
        with contextlib.suppress(ConnectionError):
            breaker.call(lambda: (_ for _ in ()).throw(ConnectionError("x")))
        _ = breaker.state, breaker.metrics()
        done.set()

    threading.Thread(target=other).start()
    assert done.wait(10.0), "the breaker's lock was held across the protected call"
    release.set()
    holder.join(10.0)
    assert result == ["slow"]


def test_half_open_admits_exactly_the_probe_limit_under_threads() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("probes", trip=ConsecutiveFailures(1), reset_timeout=1.0, half_open_probes=3, clock=clock)
    with pytest.raises(ConnectionError):
        breaker.call(lambda: (_ for _ in ()).throw(ConnectionError("x")))
    clock.advance(1.0)
    release = threading.Event()
    admitted, rejected = [], []
    lock = threading.Lock()
    start = threading.Barrier(10)

    def probe() -> None:
        start.wait()
        try:
            with breaker:
                with lock:
                    admitted.append(1)
                release.wait(10.0)
        except CircuitOpenError:
            with lock:
                rejected.append(1)

    pool = [threading.Thread(target=probe) for _ in range(10)]
    for t in pool:
        t.start()
    # everyone has either entered or been rejected before we let the probes finish
    for _ in range(1000):
        with lock:
            if len(admitted) + len(rejected) == 10:
                break
        threading.Event().wait(0.005)
    release.set()
    for t in pool:
        t.join()
    assert len(admitted) == 3 and len(rejected) == 7
    assert breaker.state == "closed"


def test_tasks_hammering_a_breaker_open_it_once(events: list[PolicyEvent]) -> None:
    breaker = CircuitBreaker("tasks", trip=ConsecutiveFailures(20), reset_timeout=3600.0, clock=FakeClock())

    @breaker
    async def flaky() -> None:
        await asyncio.sleep(0)
        raise ConnectionError("down")

    async def worker() -> tuple[int, int]:
        ran = rejected = 0
        for _ in range(20):
            try:
                await flaky()
            except ConnectionError:
                ran += 1
            except CircuitOpenError:
                rejected += 1
        return ran, rejected

    async def scenario() -> list[tuple[int, int]]:
        return await asyncio.gather(*(worker() for _ in range(50)))

    results = asyncio.run(scenario())
    ran = sum(r for r, _ in results)
    assert ran + sum(j for _, j in results) == 1000
    assert breaker.metrics()["failures"] == ran
    assert opened(events) == 1
