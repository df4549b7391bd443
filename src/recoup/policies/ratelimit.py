"""Rate limiter: a token bucket (`rate` tokens per second, at most `burst` saved up).

The bucket step is pure (`state.bucket_take`, mirrored by a Lua script for Redis), so a limiter is
the same whether its bucket lives in this process (`MemoryBucketStore`, the default) or is shared by
every process using its name (`redis_store.RedisBucketStore`). As a policy it rejects with
`RateLimitedError` (carrying `retry_after`), or with ``block=True`` waits for a token through the
injected clock, up to `max_wait` and the current deadline.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import math
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, overload

from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.policies.deadline import _deadline
from recoup.policies.errors import RateLimitedError
from recoup.policies.events import EventKind, PolicyEvent, emit, has_subscribers
from recoup.policies.state import MemoryBucketStore, TokenBucketStore

P = ParamSpec("P")
R = TypeVar("R")


class RateLimiter:
    """Token bucket: `rate` per second, bursts of up to `burst` (default: max(1, rate))."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        name: str = "ratelimiter",
        block: bool = False,
        max_wait: float | None = None,
        store: TokenBucketStore | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.name = name
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else max(1.0, self.rate)
        if self.burst <= 0:
            raise ValueError("burst must be > 0")
        self.block = block
        self.max_wait = max_wait
        self._store: TokenBucketStore = store if store is not None else MemoryBucketStore()
        self._shared = bool(getattr(self._store, "shared", False))
        self._clock = clock
        # Shared buckets need a time base every host agrees on.
        self._now = clock.wall if self._shared else clock.monotonic

    def _take(self, tokens: float) -> float:
        return self._store.take(self.name, self.rate, self.burst, tokens, self._now())

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take `tokens` now if the bucket has them; never waits."""
        return self._take(tokens) == 0.0

    def _limit(self, timeout: float | None) -> float | None:
        """Seconds we may wait: the smaller of `timeout` and what is left of the current deadline."""
        deadline = _deadline.get()
        if deadline is not None:
            left = deadline - self._clock.monotonic()
            timeout = left if timeout is None else min(timeout, left)
        return timeout

    def _refuse(self, wait: float) -> RateLimitedError:
        retry_after = None if math.isinf(wait) else wait
        if has_subscribers():
            data = {"retry_after": retry_after, "rate": self.rate, "burst": self.burst}
            emit(PolicyEvent(EventKind.REJECTED, "ratelimiter", self.name, self._clock.wall(), data))
        return RateLimitedError(self.name, retry_after)

    def acquire(self, tokens: float = 1.0, max_wait: float | None = None) -> None:
        """Take `tokens`, sleeping (through the clock) until they are there, for at most `max_wait` s.

        Raises `RateLimitedError` when the wait would exceed `max_wait` or the current deadline.
        """
        start = self._clock.monotonic()
        limit = self._limit(max_wait)
        while True:
            wait = self._take(tokens)
            if wait == 0.0:
                return
            if math.isinf(wait) or (limit is not None and self._clock.monotonic() - start + wait > limit):
                raise self._refuse(wait)
            self._clock.sleep(wait)

    async def aacquire(self, tokens: float = 1.0, max_wait: float | None = None) -> None:
        """`acquire` for asyncio: waits with ``clock.asleep``; a shared store's round trip runs off-loop."""
        start = self._clock.monotonic()
        limit = self._limit(max_wait)
        while True:
            wait = await asyncio.to_thread(self._take, tokens) if self._shared else self._take(tokens)
            if wait == 0.0:
                return
            if math.isinf(wait) or (limit is not None and self._clock.monotonic() - start + wait > limit):
                raise self._refuse(wait)
            await self._clock.asleep(wait)

    def _admit(self) -> None:
        if self.block:
            self.acquire(1.0, self.max_wait)
            return
        wait = self._take(1.0)
        if wait != 0.0:
            raise self._refuse(wait)

    async def _aadmit(self) -> None:
        if self.block:
            await self.aacquire(1.0, self.max_wait)
            return
        wait = await asyncio.to_thread(self._take, 1.0) if self._shared else self._take(1.0)
        if wait != 0.0:
            raise self._refuse(wait)

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        self._admit()
        return fn(*args, **kwargs)

    async def acall(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        await self._aadmit()
        return await fn(*args, **kwargs)

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        """`Policy.wrap`."""
        admit = self._admit

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            admit()
            return fn(*args, **kwargs)

        return wrapper

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """`Policy.wrap_async`."""
        aadmit = self._aadmit

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            await aadmit()
            return await fn(*args, **kwargs)

        return wrapper

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]: ...

    @overload
    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]: ...

    def __call__(self, fn: Callable[P, Any]) -> Callable[P, Any]:
        """Decorator for sync or async functions."""
        if inspect.iscoroutinefunction(fn):
            aadmit = self._aadmit

            @functools.wraps(fn)
            async def awrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                await aadmit()
                return await fn(*args, **kwargs)

            return awrapper
        return self.wrap(fn)

    def __repr__(self) -> str:
        return f"RateLimiter({self.name!r}, rate={self.rate:g}/s, burst={self.burst:g})"


__all__ = ["RateLimiter"]
