"""The recoup pipeline the assessment puts under test: retry, breaker and bulkhead, as a user would wire them."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from recoup.assess.plan import AssessConfig
from recoup.policies.backoff import Backoff
from recoup.policies.breaker import CircuitBreaker
from recoup.policies.bulkhead import Bulkhead
from recoup.policies.errors import CircuitOpenError
from recoup.policies.pipeline import Pipeline
from recoup.policies.retry import Retry
from recoup.policies.trip import FailureRatio

AsyncCall = Callable[[Callable[[], Awaitable[None]]], Awaitable[None]]
P = ParamSpec("P")
R = TypeVar("R")

#: Per operation: [rejections by the breaker, monotonic time of the first]; the runner sets a fresh one.
rejections: ContextVar[list[float] | None] = ContextVar("recoup_assess_rejections", default=None)


class CountRejections:
    """A pass-through policy between retry and breaker that counts the breaker's rejections per operation."""

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        return fn

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def counted(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except CircuitOpenError:
                counter = rejections.get()
                if counter is not None:
                    counter[0] += 1
                    if counter[1] == 0.0:
                        counter[1] = time.monotonic()
                raise

        return counted


def build_pipeline(config: AssessConfig) -> AsyncCall:
    """Retry (classification-driven: transient categories only) around a breaker around a bulkhead."""
    # Equal jitter never waits less than half the schedule, so the retry horizon (about 0.75 s at 8
    # attempts) outlasts a short outage plus the breaker's reset timeout.
    retry = Retry(
        attempts=config.attempts,
        backoff=Backoff.exponential(initial=0.01, multiplier=2.0, cap=0.3, jitter="equal", seed=config.seed),
    )
    # Trip on a failure *ratio* well above the injected fault rate, so the breaker sheds a real outage
    # but does not turn the planned background faults into rejections of healthy calls.
    breaker = CircuitBreaker(
        "assess-upstream",
        trip=FailureRatio(0.8, window=100, min_calls=50),
        reset_timeout=0.2,
        # Probes meet the planned background faults too, so close on a success *ratio*, not perfection.
        half_open_probes=10,
        close_ratio=0.6,
    )
    bulkhead = Bulkhead(max_concurrent=config.concurrency, max_queue=config.ops, name="assess-upstream")
    pipeline = Pipeline(retry, CountRejections(), breaker, bulkhead)

    async def run(attempt: Callable[[], Awaitable[None]]) -> None:
        await attempt()

    return pipeline.wrap_async(run)
