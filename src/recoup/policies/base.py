"""The one interface every policy offers so `Pipeline` can compose them, Polly-v8 style.

A policy *decides* (pure state + a clock); `wrap`/`wrap_async` are thin executors around the
decision logic, so sync and asyncio share one implementation of every rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, Protocol, TypeVar, runtime_checkable

P = ParamSpec("P")
R = TypeVar("R")


@runtime_checkable
class Policy(Protocol):
    """Something that can wrap a sync callable and an async callable with the same behaviour."""

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]: ...

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]: ...
