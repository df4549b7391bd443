"""Pipeline: outermost-first composition, built once, sync and async, with recoup's own policies."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

import pytest

import recoup
from recoup.errors.taxonomy import Category
from recoup.policies.backoff import Backoff
from recoup.policies.base import Policy
from recoup.policies.errors import DeadlineExceeded
from recoup.policies.fallback import Fallback
from recoup.policies.pipeline import Pipeline
from recoup.policies.retry import Retry
from recoup.policies.timeout import Timeout
from recoup.testing import FakeClock

P = ParamSpec("P")
R = TypeVar("R")


class Recorder:
    """A policy that logs enter/exit around each call and counts how often it was asked to wrap."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.wraps = 0

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        self.wraps += 1

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            self.log.append(f"{self.name}>")
            try:
                return fn(*args, **kwargs)
            finally:
                self.log.append(f"<{self.name}")

        return wrapper

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        self.wraps += 1

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            self.log.append(f"{self.name}>")
            try:
                return await fn(*args, **kwargs)
            finally:
                self.log.append(f"<{self.name}")

        return wrapper


class PlainAsync(Recorder):
    """A policy whose async wrapper is a plain function returning an awaitable (not a coroutine function)."""

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Awaitable[R]:
            self.log.append(f"{self.name}>")
            return fn(*args, **kwargs)

        return wrapper


def test_policies_apply_outermost_first() -> None:
    log: list[str] = []
    pipeline = Pipeline(Recorder("a", log), Recorder("b", log), Recorder("c", log))
    assert pipeline.call(lambda: log.append("call") or 1) == 1
    assert log == ["a>", "b>", "c>", "call", "<c", "<b", "<a"]


def test_async_policies_apply_outermost_first() -> None:
    log: list[str] = []
    pipeline = Pipeline(Recorder("a", log), Recorder("b", log))

    async def fn() -> int:
        log.append("call")
        return 2

    assert asyncio.run(pipeline.acall(fn)) == 2
    assert log == ["a>", "b>", "call", "<b", "<a"]


def test_wrapped_callable_is_built_once() -> None:
    log: list[str] = []
    a, b = Recorder("a", log), Recorder("b", log)
    fn = Pipeline(a, b).wrap(lambda x: x)
    for i in range(5):
        assert fn(i) == i
    assert (a.wraps, b.wraps) == (1, 1)


def test_decorator_detects_sync_and_async_and_keeps_signature() -> None:
    log: list[str] = []
    pipeline = Pipeline(PlainAsync("p", log), Recorder("a", log))

    @pipeline
    def add(a: int, b: int = 1) -> int:
        return a + b

    @pipeline
    async def aadd(a: int, b: int = 1) -> int:
        return a + b

    assert add(1) == 2
    assert inspect.iscoroutinefunction(aadd)  # even though PlainAsync's wrapper is a plain function
    assert asyncio.run(aadd(2, 3)) == 5
    assert inspect.signature(add) == inspect.signature(add.__wrapped__)  # type: ignore[attr-defined]
    assert inspect.signature(aadd).parameters.keys() == {"a", "b"}


def test_empty_pipeline_is_identity() -> None:
    def fn() -> int:
        return 3

    assert Pipeline().wrap(fn) is fn
    assert len(Pipeline()) == 0


def test_pipeline_is_a_policy_and_nests() -> None:
    log: list[str] = []
    inner = Pipeline(Recorder("b", log))
    outer = Pipeline(Recorder("a", log), inner)
    assert isinstance(inner, Policy)
    outer.call(lambda: None)
    assert log == ["a>", "b>", "<b", "<a"]


def test_rejects_objects_that_are_not_policies() -> None:
    with pytest.raises(TypeError):
        Pipeline(object())  # type: ignore[arg-type]


def test_fallback_around_retry(clock: FakeClock) -> None:
    calls = 0

    def down() -> str:
        nonlocal calls
        calls += 1
        raise ConnectionResetError("down")

    pipeline = recoup.Pipeline(
        Fallback(per_category={Category.NETWORK: "stale"}),
        Retry(attempts=3, backoff=Backoff.constant(1.0), clock=clock),
    )
    assert pipeline.call(down) == "stale"
    assert calls == 3
    assert clock.sleeps == [1.0, 1.0]


def test_timeout_around_retry_sync(clock: FakeClock) -> None:
    def down() -> None:
        clock.advance(0.5)
        raise ConnectionResetError("down")

    pipeline = Pipeline(Timeout(4.0, clock=clock), Retry(attempts=10, backoff=Backoff.constant(1.0), clock=clock))
    with pytest.raises(ConnectionResetError):
        pipeline.call(down)
    # attempts end at 0.5, 2.0, 3.5; a 1 s wait after 3.5 would pass the 4 s deadline
    assert clock.sleeps == [1.0, 1.0]


def test_timeout_per_attempt_inside_retry_async() -> None:
    clock = FakeClock()
    attempts = 0

    async def first_hangs() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            await asyncio.Event().wait()
        return "ok"

    pipeline = Pipeline(
        Retry(attempts=3, on=DeadlineExceeded, backoff=Backoff.constant(0.0), clock=clock),
        Timeout(0.0, clock=clock),
    )
    # Timeout(0) cancels even a call that would finish at once only if it yields; the second
    # attempt does not yield, so it completes.
    assert asyncio.run(pipeline.acall(first_hangs)) == "ok"
    assert attempts == 2


def test_concurrent_threads_through_a_pipeline() -> None:
    clock = FakeClock()
    pipeline = Pipeline(Fallback(value=-1), Retry(attempts=3, backoff=Backoff.constant(0.0), clock=clock))
    counts: dict[int, int] = {}

    @pipeline
    def work(key: int) -> int:
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= key % 4:
            raise ConnectionResetError(str(key))
        return key

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(100)))
    assert results == [k if k % 4 < 3 else -1 for k in range(100)]


def _with_breaker_and_bulkhead() -> tuple[Any, Any]:
    breaker = pytest.importorskip("recoup.policies.breaker")
    bulkhead = pytest.importorskip("recoup.policies.bulkhead")
    return breaker, bulkhead


def test_retry_breaker_bulkhead_sync(clock: FakeClock) -> None:
    breaker_mod, bulkhead_mod = _with_breaker_and_bulkhead()
    breaker = breaker_mod.CircuitBreaker("pipeline-sync", clock=clock)
    pipeline = Pipeline(
        Retry(attempts=3, backoff=Backoff.constant(0.5), clock=clock),
        breaker,
        bulkhead_mod.Bulkhead(max_concurrent=2, clock=clock),
    )
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionResetError("reset")
        return "ok"

    assert pipeline.call(flaky) == "ok"
    assert calls == 3
    assert clock.sleeps == [0.5, 0.5]
    assert breaker.state == "closed"


def test_retry_breaker_bulkhead_async(clock: FakeClock) -> None:
    breaker_mod, bulkhead_mod = _with_breaker_and_bulkhead()
    pipeline = Pipeline(
        Retry(attempts=3, backoff=Backoff.constant(0.0), clock=clock),
        breaker_mod.CircuitBreaker("pipeline-async", clock=clock),
        bulkhead_mod.Bulkhead(max_concurrent=4, max_queue=10, clock=clock),
    )
    counts: dict[int, int] = {}

    @pipeline
    async def work(key: int) -> int:
        counts[key] = counts.get(key, 0) + 1
        await asyncio.sleep(0)
        if counts[key] == 1 and key % 2:
            raise ConnectionResetError(str(key))
        return key

    async def main() -> list[int]:
        return list(await asyncio.gather(*(work(k) for k in range(10))))

    assert asyncio.run(main()) == list(range(10))
