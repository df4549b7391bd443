"""Bulkhead: cap how many calls run at once, queue a bounded number more, reject the rest.

One counting implementation (a `_thread` lock, an in-flight counter and a FIFO of waiters) serves
threads and asyncio tasks; only the way a queued caller waits differs (a parked lock for a thread,
a future for a task). A released slot is handed straight to the oldest waiter under the lock, so
a newcomer can never overtake the queue, and a waiter that times out or is cancelled after being
handed a slot gives it back.
"""

from __future__ import annotations

import _thread
import asyncio
import functools
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.policies.base import Decorates
from recoup.policies.deadline import _deadline
from recoup.policies.errors import BulkheadFullError, DeadlineExceeded
from recoup.policies.events import EventKind, PolicyEvent, emit, has_subscribers

P = ParamSpec("P")
R = TypeVar("R")


class _Waiter:
    """A queued caller. `granted` is set under the bulkhead lock when a slot is handed over."""

    __slots__ = ("granted", "wake")

    def __init__(self, wake: Callable[[], None]) -> None:
        self.granted = False
        self.wake = wake


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Bulkhead(Decorates):
    """At most `max_concurrent` calls at once and `max_queue` waiting (for up to `queue_timeout` s)."""

    def __init__(
        self,
        max_concurrent: int,
        max_queue: int = 0,
        queue_timeout: float | None = None,
        *,
        name: str = "bulkhead",
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if max_concurrent < 0 or max_queue < 0:
            raise ValueError("max_concurrent and max_queue must be >= 0")
        self.name = name
        self.queue_timeout = queue_timeout
        self._max = max_concurrent
        self._max_queue = max_queue
        self._clock = clock
        self._lock = _thread.allocate_lock()
        self._in_flight = 0
        self._waiters: deque[_Waiter] = deque()

    # --- counting (shared by threads and tasks) ---------------------------------------------------

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def queued(self) -> int:
        return len(self._waiters)

    @property
    def max_concurrent(self) -> int:
        return self._max

    @max_concurrent.setter
    def max_concurrent(self, value: int) -> None:
        self.resize(value)

    @property
    def max_queue(self) -> int:
        return self._max_queue

    def resize(self, max_concurrent: int, max_queue: int | None = None) -> None:
        """Change the limits at run time (load shedding). Lowering lets running calls finish; raising
        admits queued callers at once."""
        if max_concurrent < 0 or (max_queue is not None and max_queue < 0):
            raise ValueError("limits must be >= 0")
        woken: list[_Waiter] = []
        with self._lock:
            self._max = max_concurrent
            if max_queue is not None:
                self._max_queue = max_queue
            while self._waiters and self._in_flight < self._max:
                waiter = self._waiters.popleft()
                waiter.granted = True
                self._in_flight += 1
                woken.append(waiter)
        for waiter in woken:
            self._wake(waiter)

    def _try_enter(self, waiter_factory: Callable[[], _Waiter] | None) -> _Waiter | None:
        """Take a slot (None), or queue a waiter (returned), or raise `BulkheadFullError`."""
        with self._lock:
            if self._in_flight < self._max and not self._waiters:
                self._in_flight += 1
                return None
            if waiter_factory is not None and len(self._waiters) < self._max_queue:
                waiter = waiter_factory()
                self._waiters.append(waiter)
                return waiter
        self._reject()
        raise AssertionError("unreachable")  # pragma: no cover

    def _reject(self) -> None:
        if has_subscribers():
            data = {
                "max_concurrent": self._max,
                "max_queue": self._max_queue,
                "in_flight": self._in_flight,
                "queued": len(self._waiters),
            }
            emit(PolicyEvent(EventKind.REJECTED, "bulkhead", self.name, self._clock.wall(), data))
        raise BulkheadFullError(self.name, self._max, self._max_queue)

    def _abandon(self, waiter: _Waiter) -> bool:
        """A waiter stopped waiting. True if it owns a slot anyway (granted in the meantime)."""
        with self._lock:
            if waiter.granted:
                return True
            self._waiters.remove(waiter)
            return False

    def release(self) -> None:
        """Free a slot: hand it to the oldest waiter if the limit allows, else count it down."""
        with self._lock:
            if self._waiters and self._in_flight <= self._max:
                waiter = self._waiters.popleft()
                waiter.granted = True
            else:
                self._in_flight -= 1
                return
        self._wake(waiter)

    def _wake(self, waiter: _Waiter) -> None:
        try:
            waiter.wake()
        except RuntimeError:  # its event loop is gone: pass the slot on instead of losing it
            self.release()

    def _wait_timeout(self) -> float | None:
        timeout = self.queue_timeout
        deadline = _deadline.get()
        if deadline is not None:
            left = deadline - self._clock.monotonic()
            if left <= 0:
                raise DeadlineExceeded(self.name, 0.0)
            timeout = left if timeout is None else min(timeout, left)
        return timeout

    # --- waiting: threads -------------------------------------------------------------------------

    def acquire(self) -> None:
        """Take a slot, waiting in the queue if allowed; raise `BulkheadFullError` otherwise."""
        parked: _thread.LockType | None = None
        timeout: float | None = None

        def factory() -> _Waiter:
            nonlocal parked, timeout
            timeout = self._wait_timeout()  # before queueing: an expired deadline must not take a place
            parked = _thread.allocate_lock()
            parked.acquire()
            return _Waiter(parked.release)

        waiter = self._try_enter(factory if self._max_queue else None)
        if waiter is None:
            return
        assert parked is not None
        try:
            parked.acquire(True, -1 if timeout is None else max(timeout, 0.0))
        except BaseException:
            if self._abandon(waiter):
                self.release()
            raise
        if not self._abandon(waiter):
            self._reject()

    # --- waiting: tasks ---------------------------------------------------------------------------

    async def aacquire(self) -> None:
        """`acquire` for asyncio tasks: queued tasks wait on a future, never block the loop."""
        fut: asyncio.Future[None] | None = None
        timeout: float | None = None

        def factory() -> _Waiter:
            nonlocal fut, timeout
            timeout = self._wait_timeout()
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            return _Waiter(lambda: loop.call_soon_threadsafe(_resolve, fut))  # type: ignore[arg-type]

        waiter = self._try_enter(factory if self._max_queue else None)
        if waiter is None:
            return
        assert fut is not None
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            if not self._abandon(waiter):
                self._reject()
        except BaseException:
            if self._abandon(waiter):
                self.release()
            raise

    # --- executors --------------------------------------------------------------------------------

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        self.acquire()
        try:
            return fn(*args, **kwargs)
        finally:
            self.release()

    async def acall(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        await self.aacquire()
        try:
            return await fn(*args, **kwargs)
        finally:
            self.release()

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        """`Policy.wrap`. The uncontended path is one lock round trip in and one out."""
        lock = self._lock
        acquire = self.acquire
        release = self.release

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            lock.acquire()
            if self._in_flight < self._max and not self._waiters:
                self._in_flight += 1
                lock.release()
            else:
                lock.release()
                acquire()
            try:
                return fn(*args, **kwargs)
            finally:
                release()

        return wrapper

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """`Policy.wrap_async`: the same uncontended path as `wrap`, without an extra coroutine."""
        return self._async_wrapper(fn)

    def _async_wrapper(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        lock = self._lock
        aacquire = self.aacquire
        release = self.release

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            lock.acquire()
            if self._in_flight < self._max and not self._waiters:
                self._in_flight += 1
                lock.release()
            else:
                lock.release()
                await aacquire()
            try:
                return await fn(*args, **kwargs)
            finally:
                release()

        return wrapper

    def __enter__(self) -> Bulkhead:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    async def __aenter__(self) -> Bulkhead:
        await self.aacquire()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return (
            f"Bulkhead({self.name!r}, in_flight={self._in_flight}/{self._max}, "
            f"queued={len(self._waiters)}/{self._max_queue})"
        )


__all__ = ["Bulkhead"]
