"""Bulkhead: concurrency cap, bounded FIFO queue, timeouts, resize; threads and tasks."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Iterator

import pytest

from recoup.policies.bulkhead import Bulkhead
from recoup.policies.deadline import deadline_scope
from recoup.policies.errors import BulkheadFullError, DeadlineExceeded
from recoup.policies.events import EventKind, PolicyEvent, subscribe
from recoup.testing import FakeClock


@pytest.fixture
def events() -> Iterator[list[PolicyEvent]]:
    seen: list[PolicyEvent] = []
    unsubscribe = subscribe(seen.append)
    yield seen
    unsubscribe()


def wait_until(predicate: object, timeout: float = 10.0) -> None:
    """Poll a condition another thread makes true (synchronisation only; nothing asserts on speed)."""
    assert callable(predicate)
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.001)


def test_rejects_beyond_capacity_without_queue(events: list[PolicyEvent]) -> None:
    bulkhead = Bulkhead(2, name="db")
    with bulkhead, bulkhead:
        assert bulkhead.in_flight == 2
        with pytest.raises(BulkheadFullError) as info:
            bulkhead.call(lambda: None)
        assert info.value.max_concurrent == 2 and info.value.max_queue == 0
    assert bulkhead.in_flight == 0
    rejected = [e for e in events if e.kind is EventKind.REJECTED]
    assert len(rejected) == 1 and rejected[0].policy == "bulkhead" and rejected[0].data["in_flight"] == 2


def test_decorator_keeps_signature_and_releases_on_error() -> None:
    bulkhead = Bulkhead(1)

    @bulkhead
    def work(x: int, *, y: int = 0) -> int:
        if x < 0:
            raise ValueError("neg")
        return x + y

    assert work(1, y=2) == 3
    assert list(inspect.signature(work).parameters) == ["x", "y"]
    with pytest.raises(ValueError):
        work(-1)
    assert bulkhead.in_flight == 0


def test_threads_queue_in_fifo_order_and_are_handed_slots() -> None:
    bulkhead = Bulkhead(1, max_queue=3)
    gate = threading.Event()
    order: list[int] = []

    def holder() -> None:
        with bulkhead:
            gate.wait(10.0)

    def queued(i: int) -> None:
        with bulkhead:
            order.append(i)

    first = threading.Thread(target=holder)
    first.start()
    wait_until(lambda: bulkhead.in_flight == 1)
    waiters = []
    for i in range(3):
        t = threading.Thread(target=queued, args=(i,))
        t.start()
        waiters.append(t)
        wait_until(lambda n=i + 1: bulkhead.queued == n)
    with pytest.raises(BulkheadFullError):  # 1 running + 3 queued: full
        bulkhead.acquire()
    gate.set()
    for t in [first, *waiters]:
        t.join(10.0)
    assert order == [0, 1, 2]
    assert bulkhead.in_flight == 0 and bulkhead.queued == 0


def test_queue_timeout_rejects_a_waiting_thread() -> None:
    bulkhead = Bulkhead(1, max_queue=1, queue_timeout=0.01)
    with bulkhead:
        with pytest.raises(BulkheadFullError):
            bulkhead.acquire()
        assert bulkhead.queued == 0
    assert bulkhead.in_flight == 0


def test_expired_deadline_is_not_queued() -> None:
    clock = FakeClock(start=10.0)
    bulkhead = Bulkhead(1, max_queue=5, clock=clock)
    with bulkhead, deadline_scope(5.0):
        with pytest.raises(DeadlineExceeded):
            bulkhead.acquire()
        assert bulkhead.queued == 0

        async def queue_async() -> None:
            with pytest.raises(DeadlineExceeded):
                await bulkhead.aacquire()

        asyncio.run(queue_async())
        assert bulkhead.queued == 0
    assert bulkhead.in_flight == 0
    with deadline_scope(5.0):
        bulkhead.acquire()  # a free slot is taken even past the deadline: only waiting is bounded by it
    bulkhead.release()


def test_many_threads_never_exceed_the_limit() -> None:
    bulkhead = Bulkhead(3, max_queue=100)
    lock = threading.Lock()
    current = peak = 0
    done = 0

    @bulkhead
    def work() -> None:
        nonlocal current, peak
        with lock:
            current += 1
            peak = max(peak, current)
        time.sleep(0.0005)
        with lock:
            current -= 1

    def worker() -> None:
        nonlocal done
        for _ in range(20):
            work()
        with lock:
            done += 1

    pool = [threading.Thread(target=worker) for _ in range(12)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(30.0)
    assert done == 12 and peak <= 3 and peak >= 1
    assert bulkhead.in_flight == 0 and bulkhead.queued == 0


def test_resize_admits_queued_callers_and_sheds_load() -> None:
    bulkhead = Bulkhead(1, max_queue=2)
    gate = threading.Event()
    entered: list[int] = []

    def hold(i: int) -> None:
        with bulkhead:
            entered.append(i)
            gate.wait(10.0)

    pool = [threading.Thread(target=hold, args=(i,)) for i in range(3)]
    for t in pool:
        t.start()
        wait_until(lambda: bulkhead.in_flight + bulkhead.queued == len([p for p in pool if p.is_alive()]))
    wait_until(lambda: bulkhead.queued == 2)
    bulkhead.max_concurrent = 3  # raising hands both waiters a slot at once
    wait_until(lambda: len(entered) == 3)
    assert bulkhead.in_flight == 3 and bulkhead.queued == 0
    bulkhead.resize(1, max_queue=0)  # lowering: running calls finish, nobody new gets in
    with pytest.raises(BulkheadFullError):
        bulkhead.acquire()
    gate.set()
    for t in pool:
        t.join(10.0)
    assert bulkhead.in_flight == 0
    bulkhead.call(lambda: None)


def test_tasks_share_the_same_counts_and_queue() -> None:
    bulkhead = Bulkhead(2, max_queue=2, name="aio")
    current = peak = 0

    @bulkhead
    async def work() -> int:
        nonlocal current, peak
        current += 1
        peak = max(peak, current)
        await asyncio.sleep(0.001)
        current -= 1
        return 1

    async def scenario() -> tuple[int, int]:
        results = await asyncio.gather(*(work() for _ in range(6)), return_exceptions=True)
        ok = sum(1 for r in results if r == 1)
        full = sum(1 for r in results if isinstance(r, BulkheadFullError))
        return ok, full

    ok, full = asyncio.run(scenario())
    assert (ok, full) == (4, 2)  # 2 run, 2 queue, 2 rejected
    assert peak == 2 and bulkhead.in_flight == 0 and bulkhead.queued == 0


def test_async_queue_timeout_and_cancellation() -> None:
    bulkhead = Bulkhead(1, max_queue=2, queue_timeout=0.01)

    async def scenario() -> None:
        async with bulkhead:
            with pytest.raises(BulkheadFullError):
                await bulkhead.aacquire()  # times out in the queue
            waiter = asyncio.ensure_future(bulkhead.aacquire())
            await asyncio.sleep(0)
            assert bulkhead.queued == 1
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            assert bulkhead.queued == 0
        assert bulkhead.in_flight == 0
        assert await bulkhead.acall(asyncio.sleep, 0, "x") == "x"

    asyncio.run(scenario())


def test_async_waiter_is_woken_by_a_thread_release() -> None:
    bulkhead = Bulkhead(1, max_queue=1)
    bulkhead.acquire()  # held by "another thread"

    async def scenario() -> None:
        waiter = asyncio.ensure_future(bulkhead.aacquire())
        await asyncio.sleep(0)
        threading.Thread(target=bulkhead.release).start()
        await asyncio.wait_for(waiter, 10.0)
        assert bulkhead.in_flight == 1
        bulkhead.release()

    asyncio.run(scenario())
    assert bulkhead.in_flight == 0


def test_wrap_async_policy_protocol() -> None:
    from recoup.policies.base import Policy

    bulkhead = Bulkhead(1)
    assert isinstance(bulkhead, Policy)

    async def f(x: int) -> int:
        return x * 2

    assert asyncio.run(bulkhead.wrap_async(f)(4)) == 8
