"""Timeout: async cancellation, the sync deadline (no interruption), events, nesting with retry."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

from recoup.policies.backoff import Backoff
from recoup.policies.deadline import current_deadline
from recoup.policies.errors import DeadlineExceeded
from recoup.policies.events import EventKind, PolicyEvent
from recoup.policies.retry import Retry
from recoup.policies.timeout import Timeout
from recoup.testing import FakeClock


def test_sync_call_within_time_returns(clock: FakeClock) -> None:
    def fn(x: int) -> int:
        clock.advance(0.5)
        return x * 2

    assert Timeout(1.0, clock=clock).wrap(fn)(4) == 8


def test_sync_call_sees_the_deadline(clock: FakeClock) -> None:
    clock.advance(10.0)
    seen: list[float | None] = []
    Timeout(2.0, clock=clock).call(lambda: seen.append(current_deadline()))
    assert seen == [12.0]
    assert current_deadline() is None


def test_sync_late_call_raises_deadline_exceeded(clock: FakeClock, policy_events: list[PolicyEvent]) -> None:
    def slow() -> str:
        clock.advance(3.0)
        return "late"

    with pytest.raises(DeadlineExceeded) as info:
        Timeout(2.0, name="db", clock=clock).call(slow)
    assert isinstance(info.value, TimeoutError)
    assert info.value.timeout == 2.0
    assert info.value.name == "db"
    assert [e.kind for e in policy_events] == [EventKind.TIMED_OUT]
    assert policy_events[0].data == {"timeout": 2.0, "elapsed": 3.0}


def test_sync_error_of_a_late_call_propagates_unchanged(clock: FakeClock) -> None:
    def slow_failure() -> None:
        clock.advance(3.0)
        raise ConnectionResetError("reset")

    with pytest.raises(ConnectionResetError):
        Timeout(2.0, clock=clock).call(slow_failure)


def test_timeout_outside_retry_bounds_the_whole_retry_loop(clock: FakeClock) -> None:
    calls = 0

    def always_fails() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionResetError("reset")

    inner = Retry(attempts=100, backoff=Backoff.constant(1.0), clock=clock).wrap(always_fails)
    with pytest.raises(ConnectionResetError) as info:
        Timeout(3.5, clock=clock).call(inner)
    assert clock.sleeps == [1.0, 1.0, 1.0]
    assert calls == 4
    assert "gave up (deadline)" in info.value.__notes__[0]


def test_nested_timeouts_only_shorten(clock: FakeClock) -> None:
    seen: list[float | None] = []
    inner = Timeout(10.0, clock=clock).wrap(lambda: seen.append(current_deadline()))
    Timeout(2.0, clock=clock).call(inner)
    assert seen == [2.0]


def test_async_call_is_cancelled_at_the_deadline(policy_events: list[PolicyEvent]) -> None:
    cancelled: list[bool] = []

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with pytest.raises(DeadlineExceeded):
        asyncio.run(Timeout(0.0, name="hang").acall(hangs))
    assert cancelled == [True]
    assert [e.kind for e in policy_events] == [EventKind.TIMED_OUT]


def test_async_fast_call_returns_and_sees_deadline(clock: FakeClock) -> None:
    async def fn(x: int) -> tuple[int, float | None]:
        await asyncio.sleep(0)
        return x, current_deadline()

    assert asyncio.run(Timeout(5.0, clock=clock).acall(fn, 1)) == (1, 5.0)


def test_async_inner_timeout_error_is_not_ours() -> None:
    async def fn() -> None:
        raise TimeoutError("socket read timed out")

    with pytest.raises(TimeoutError) as info:
        asyncio.run(Timeout(60.0).acall(fn))
    assert not isinstance(info.value, DeadlineExceeded)


def test_decorator_detects_async_and_keeps_signature() -> None:
    async def afn(a: int, b: str = "x") -> str:
        return b * a

    def fn(a: int, b: str = "x") -> str:
        return b * a

    timeout = Timeout(1.0)
    wrapped_async = timeout(afn)
    wrapped = timeout(fn)
    assert inspect.iscoroutinefunction(wrapped_async)
    assert not inspect.iscoroutinefunction(wrapped)
    assert inspect.signature(wrapped_async) == inspect.signature(afn)
    assert inspect.signature(wrapped) == inspect.signature(fn)
    assert wrapped(2, "y") == "yy"
    assert asyncio.run(wrapped_async(2)) == "xx"
    assert asyncio.run(_await(timeout.wrap_async(afn)(1))) == "x"


async def _await(value: Any) -> Any:
    return await value


def test_invalid_seconds_rejected() -> None:
    with pytest.raises(ValueError):
        Timeout(-1)
    assert repr(Timeout(1.5, name="t")) == "Timeout(1.5, name='t')"
