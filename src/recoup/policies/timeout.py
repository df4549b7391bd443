"""Timeout: bound how long a call may take.

Async calls are cancelled (``asyncio.timeout``) and raise `DeadlineExceeded`. A sync call
CANNOT be interrupted (Python offers no safe way to stop a running thread), so for sync code the
timeout sets a deadline (`recoup.policies.deadline.deadline_scope`) that retries and breakers inside
respect — retry never schedules a wait ending past it — and raises `DeadlineExceeded` after the
call returns late, discarding its result (an exception raised by a late call propagates as it
is: it says more than "too late" does). Either way the deadline is also visible to nested
policies, so ``Pipeline(Timeout(2), Retry(...))`` bounds the whole retry loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.policies import events as _events
from recoup.policies.base import Decorates
from recoup.policies.deadline import deadline_scope
from recoup.policies.errors import DeadlineExceeded
from recoup.policies.events import EventKind, PolicyEvent

P = ParamSpec("P")
R = TypeVar("R")


class Timeout(Decorates):
    """At most `seconds` per call: cancels async calls; flags late sync calls (see module docstring)."""

    __slots__ = ("clock", "name", "seconds")

    def __init__(self, seconds: float, *, name: str = "timeout", clock: Clock = SYSTEM_CLOCK) -> None:
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self.seconds = float(seconds)
        self.name = name
        self.clock = clock

    def _timed_out(self, elapsed: float) -> DeadlineExceeded:
        if _events._subscribers:
            _events.emit(
                PolicyEvent(
                    EventKind.TIMED_OUT,
                    "timeout",
                    self.name,
                    self.clock.wall(),
                    {"timeout": self.seconds, "elapsed": elapsed},
                )
            )
        return DeadlineExceeded(self.name, self.seconds)

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Run `fn` under a deadline; raise `DeadlineExceeded` if it returns after it (no interruption)."""
        seconds = self.seconds
        monotonic = self.clock.monotonic

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            start = monotonic()
            deadline = start + seconds
            with deadline_scope(deadline):
                result = fn(*args, **kwargs)
            end = monotonic()
            if end > deadline:
                raise self._timed_out(end - start)
            return result

        return wrapper

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Run `fn` under a deadline and cancel it when the deadline passes."""
        return self._wrap_coroutine(fn)

    def _wrap_coroutine(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        seconds = self.seconds
        monotonic = self.clock.monotonic

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            start = monotonic()
            scope = asyncio.timeout(seconds)
            try:
                with deadline_scope(start + seconds):
                    async with scope:
                        return await fn(*args, **kwargs)
            except TimeoutError:
                if scope.expired():
                    raise self._timed_out(monotonic() - start) from None
                raise

        return wrapper

    def __repr__(self) -> str:
        return f"Timeout({self.seconds}, name={self.name!r})"
