"""Pipeline: compose policies into one, outermost first (Polly v8's resilience pipeline).

``Pipeline(Timeout(5), Retry(), CircuitBreaker("db"), Bulkhead(10))`` means: the timeout bounds
everything, each retry attempt passes through the breaker, and the breaker guards the bulkhead.
Any object implementing `recoup.policies.base.Policy` composes, including another Pipeline.

Wrapping happens once, at decoration time, as nested `wrap` calls, so a wrapped call costs the
sum of its policies and nothing for the pipeline itself. `call`/`acall` wrap on every call (the
price of not caching user functions, which would keep them alive); wrap once on hot paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from recoup.policies.base import Decorates, Policy

P = ParamSpec("P")
R = TypeVar("R")


class Pipeline(Decorates):
    """Policies applied outermost first; itself a `Policy`."""

    __slots__ = ("policies",)

    def __init__(self, *policies: Policy) -> None:
        for policy in policies:
            if not (callable(getattr(policy, "wrap", None)) and callable(getattr(policy, "wrap_async", None))):
                raise TypeError(f"{policy!r} does not implement the Policy protocol (wrap and wrap_async)")
        self.policies: tuple[Policy, ...] = policies

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        """`fn` wrapped by every policy, the first one outermost."""
        wrapped = fn
        for policy in reversed(self.policies):
            wrapped = policy.wrap(wrapped)
        return wrapped

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Async `fn` wrapped by every policy, the first one outermost."""
        wrapped = fn
        for policy in reversed(self.policies):
            wrapped = policy.wrap_async(wrapped)
        return wrapped

    def __len__(self) -> int:
        return len(self.policies)

    def __repr__(self) -> str:
        return f"Pipeline({', '.join(repr(p) for p in self.policies)})"
