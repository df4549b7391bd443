"""The recoup pipeline the assessment puts under test: retry, breaker and bulkhead, as a user would wire them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from recoup.assess.plan import AssessConfig
from recoup.policies.backoff import Backoff
from recoup.policies.breaker import CircuitBreaker
from recoup.policies.bulkhead import Bulkhead
from recoup.policies.pipeline import Pipeline
from recoup.policies.retry import Retry
from recoup.policies.trip import FailureRatio

AsyncCall = Callable[[Callable[[], Awaitable[None]]], Awaitable[None]]


def build_pipeline(config: AssessConfig) -> AsyncCall:
    """Retry (classification-driven: transient categories only) around a breaker around a bulkhead."""
    retry = Retry(
        attempts=config.attempts,
        backoff=Backoff.exponential(initial=0.002, multiplier=2.0, cap=0.05, jitter="full", seed=config.seed),
    )
    # Trip on a failure *ratio* well above the injected fault rate, so the breaker sheds a real outage
    # but does not turn the planned background faults into rejections of healthy calls.
    breaker = CircuitBreaker(
        "assess-upstream", trip=FailureRatio(0.8, window=100, min_calls=50), reset_timeout=0.2, half_open_probes=5
    )
    bulkhead = Bulkhead(max_concurrent=config.concurrency, max_queue=config.ops, name="assess-upstream")
    pipeline = Pipeline(retry, breaker, bulkhead)

    async def run(attempt: Callable[[], Awaitable[None]]) -> None:
        await attempt()

    return pipeline.wrap_async(run)
