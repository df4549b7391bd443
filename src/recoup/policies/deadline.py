"""The current call's deadline, carried in a contextvar so retry and breakers can respect it.

Sync code cannot be interrupted safely, so a sync timeout sets a deadline here: retry will not
schedule a wait that ends past it, and policies reject work that starts after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("recoup_deadline", default=None)


def current_deadline() -> float | None:
    """The absolute monotonic time (in the policy's clock) by which the current call must end."""
    return _deadline.get()


def remaining(now: float) -> float | None:
    """Seconds left before the deadline at monotonic time `now`; None when there is no deadline."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - now


@contextmanager
def deadline_scope(deadline: float) -> Iterator[None]:
    """Run a block under `deadline`; a nested scope can only shorten, never extend, the outer one."""
    outer = _deadline.get()
    effective = deadline if outer is None else min(outer, deadline)
    token = _deadline.set(effective)
    try:
        yield
    finally:
        _deadline.reset(token)
