"""Token-bucket rate limiter with a fake clock: refill, burst, reject vs block, deadline, async."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Iterator

import pytest

from recoup.policies.deadline import deadline_scope
from recoup.policies.errors import RateLimitedError
from recoup.policies.events import EventKind, PolicyEvent, subscribe
from recoup.policies.ratelimit import RateLimiter
from recoup.policies.state import bucket_take
from recoup.testing import FakeClock


@pytest.fixture
def events() -> Iterator[list[PolicyEvent]]:
    seen: list[PolicyEvent] = []
    unsubscribe = subscribe(seen.append)
    yield seen
    unsubscribe()


def test_bucket_step_is_pure() -> None:
    assert bucket_take(5.0, 0.0, 1.0, 5.0, 1.0, 0.0) == (4.0, 0.0, 0.0)
    level, last, wait = bucket_take(0.0, 0.0, 2.0, 5.0, 1.0, 0.25)
    assert (level, last, wait) == (0.5, 0.25, pytest.approx(0.25))
    assert bucket_take(1.0, 0.0, 1.0, 5.0, 6.0, 0.0)[2] == float("inf")  # more than a burst: never


def test_burst_then_refill_at_rate(events: list[PolicyEvent]) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=3, name="api", clock=clock)
    assert [limiter.try_acquire() for _ in range(4)] == [True, True, True, False]
    clock.advance(0.5)  # one token back
    assert limiter.try_acquire() and not limiter.try_acquire()
    clock.advance(100.0)  # capped at burst
    assert sum(limiter.try_acquire() for _ in range(10)) == 3


def test_policy_rejects_with_retry_after(events: list[PolicyEvent]) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=4.0, burst=1, name="api", clock=clock)

    @limiter
    def call(x: int) -> int:
        return x

    assert call(1) == 1
    assert list(inspect.signature(call).parameters) == ["x"]
    with pytest.raises(RateLimitedError) as info:
        call(2)
    assert info.value.retry_after == pytest.approx(0.25)
    rejected = [e for e in events if e.kind is EventKind.REJECTED]
    assert len(rejected) == 1 and rejected[0].policy == "ratelimiter" and rejected[0].name == "api"


def test_blocking_policy_waits_through_the_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10.0, burst=1, block=True, clock=clock)
    wrapped = limiter.wrap(lambda: "done")
    assert [wrapped() for _ in range(3)] == ["done"] * 3
    assert clock.slept == pytest.approx(0.2)


def test_blocking_respects_max_wait_and_deadline() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, burst=1, block=True, max_wait=0.5, clock=clock)
    limiter.call(lambda: None)
    with pytest.raises(RateLimitedError) as info:
        limiter.call(lambda: None)
    assert info.value.retry_after == pytest.approx(1.0) and clock.slept == 0.0
    patient = RateLimiter(rate=1.0, burst=1, block=True, clock=clock)
    patient.acquire()
    with deadline_scope(clock.monotonic() + 0.3), pytest.raises(RateLimitedError):
        patient.acquire()
    patient.acquire()  # no deadline: waits the full second
    assert clock.slept == pytest.approx(1.0)


def test_more_tokens_than_burst_can_never_be_granted() -> None:
    limiter = RateLimiter(rate=1.0, burst=2, clock=FakeClock())
    assert not limiter.try_acquire(3)
    with pytest.raises(RateLimitedError) as info:
        limiter.acquire(3, max_wait=100.0)
    assert info.value.retry_after is None


def test_async_reject_and_block() -> None:
    clock = FakeClock()
    rejecting = RateLimiter(rate=1.0, burst=1, clock=clock)
    blocking = RateLimiter(rate=2.0, burst=1, block=True, clock=clock)

    @rejecting
    async def a() -> str:
        return "a"

    async def b() -> str:
        return "b"

    wrapped_b = blocking.wrap_async(b)

    async def scenario() -> None:
        assert await a() == "a"
        with pytest.raises(RateLimitedError):
            await a()
        assert [await wrapped_b() for _ in range(3)] == ["b", "b", "b"]
        assert await blocking.acall(b) == "b"
        await blocking.aacquire()

    asyncio.run(scenario())
    assert clock.slept == pytest.approx(2.0)  # 4 waits of 0.5 s


def test_threads_never_get_more_than_the_bucket_allows() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, burst=100, clock=clock)
    granted = [0] * 8

    def worker(i: int) -> None:
        for _ in range(50):
            if limiter.try_acquire():
                granted[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert sum(granted) == 100


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=0)
    with pytest.raises(ValueError):
        RateLimiter(rate=1, burst=0)
