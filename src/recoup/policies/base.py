"""The one interface every policy offers so `Pipeline` can compose them, Polly-v8 style.

A policy *decides* (pure state + a clock); `wrap`/`wrap_async` are thin executors around the
decision logic, so sync and asyncio share one implementation of every rule.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, Protocol, TypeVar, overload, runtime_checkable

P = ParamSpec("P")
R = TypeVar("R")


@runtime_checkable
class Policy(Protocol):
    """Something that can wrap a sync callable and an async callable with the same behaviour."""

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]: ...

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]: ...


def is_async_callable(fn: object) -> bool:
    """True for coroutine functions, partials of them, and objects with an ``async def __call__``."""
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)  # noqa: B004 - we want the method itself, not callability
    return inspect.iscoroutinefunction(call)


class Decorates:
    """``@policy``, ``.call`` and ``.acall`` for sync and async functions, from the policy's `wrap`/`wrap_async`.

    A coroutine function stays a coroutine function (so `inspect` and frameworks still see it as one).
    """

    __slots__ = ()

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        raise NotImplementedError

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        raise NotImplementedError

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``fn(*args, **kwargs)`` under this policy."""
        return self.wrap(fn)(*args, **kwargs)

    async def acall(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Await ``fn(*args, **kwargs)`` under this policy."""
        return await self.wrap_async(fn)(*args, **kwargs)

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]: ...

    @overload
    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]: ...

    def __call__(self, fn: Callable[P, Any]) -> Callable[P, Any]:
        if not is_async_callable(fn):
            return self.wrap(fn)
        inner = self.wrap_async(fn)
        if inspect.iscoroutinefunction(inner):
            return inner

        @functools.wraps(fn)
        async def coroutine(*args: P.args, **kwargs: P.kwargs) -> Any:
            return await inner(*args, **kwargs)

        return coroutine
