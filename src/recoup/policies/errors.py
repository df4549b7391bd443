"""Exceptions raised by recoup's own policies. Each carries what a caller needs to react."""

from __future__ import annotations


class RecoupError(Exception):
    """Base of every error raised by a recoup policy (never of the errors it passes through)."""


class CircuitOpenError(RecoupError):
    """The breaker refused the call. `retry_after` is when it will next admit a probe (seconds)."""

    def __init__(self, name: str, retry_after: float | None = None, state: str = "open") -> None:
        self.name = name
        self.retry_after = retry_after
        self.state = state
        hint = f"; next probe in {retry_after:.3f}s" if retry_after is not None else ""
        super().__init__(f"circuit breaker {name!r} is {state}, call rejected{hint}")


class BulkheadFullError(RecoupError):
    """The bulkhead's concurrent slots and its queue are both full."""

    def __init__(self, name: str, max_concurrent: int, max_queue: int) -> None:
        self.name = name
        self.max_concurrent = max_concurrent
        self.max_queue = max_queue
        super().__init__(
            f"bulkhead {name!r} is full ({max_concurrent} running, {max_queue} queued), call rejected"
        )


class RateLimitedError(RecoupError):
    """The rate limiter has no token for this call. `retry_after` is when one will be free (seconds)."""

    def __init__(self, name: str, retry_after: float | None = None) -> None:
        self.name = name
        self.retry_after = retry_after
        hint = f"; next token in {retry_after:.3f}s" if retry_after is not None else ""
        super().__init__(f"rate limiter {name!r} has no token{hint}")


class DeadlineExceeded(RecoupError, TimeoutError):
    """The call's deadline (from `recoup.policies.timeout`) passed before it finished."""

    def __init__(self, name: str, timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        super().__init__(f"{name!r} exceeded its deadline of {timeout:.3f}s")
