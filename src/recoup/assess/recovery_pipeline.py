"""The recoup pipeline the assessment puts under test, wired as a user would: retry, breaker, bulkhead, timeout.

Two pass-through layers watch it for the report, per operation (each operation runs in its own task, so
its own context): `CountRejections` between retry and breaker counts the breaker's refusals, and
`SeeTimeouts` just outside the per-attempt `Timeout` reports each attempt the timeout ended. Retry's
`before_wait` hook adds up the waits recoup decided (backoff after a failure, or a breaker refusal's
`retry_after`), so the report can say how much of a recovery was recoup waiting on purpose, and its clock
(`TimedWaits`) how long those waits really lasted (the overshoot is event-loop lag, not recoup's choice).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from recoup.assess.plan import AssessConfig
from recoup.clock import SYSTEM_CLOCK
from recoup.policies.backoff import Backoff
from recoup.policies.breaker import CircuitBreaker
from recoup.policies.bulkhead import Bulkhead
from recoup.policies.errors import CircuitOpenError, DeadlineExceeded
from recoup.policies.pipeline import Pipeline
from recoup.policies.retry import Retry, RetryState
from recoup.policies.state import BreakerStore
from recoup.policies.timeout import Timeout
from recoup.policies.trip import ConsecutiveFailures, FailureRatio

AsyncCall = Callable[[Callable[[], Awaitable[None]]], Awaitable[None]]
P = ParamSpec("P")
R = TypeVar("R")

BREAKER_NAME = "assess-upstream"


@dataclass
class OperationWatch:
    """What the watching layers saw of one operation; the runner sets a fresh one per operation."""

    rejections: int = 0
    first_rejection: float | None = None
    on_timeout: Callable[[DeadlineExceeded], None] | None = field(default=None, repr=False)
    #: Seconds of backoff Retry scheduled after failed attempts (its decision, before any event-loop lag).
    backoff_wait: float = 0.0
    #: Seconds Retry scheduled to wait out admission refusals (the breaker's `retry_after`), no attempt spent.
    admission_wait: float = 0.0
    #: Seconds Retry's waits actually lasted (scheduled + how late the event loop woke it up).
    slept: float = 0.0


class TimedWaits:
    """The system clock, except that each async wait adds how long it really lasted to the operation's watch."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        SYSTEM_CLOCK.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        started = time.monotonic()
        try:
            await SYSTEM_CLOCK.asleep(seconds)
        finally:
            seen = watch.get()
            if seen is not None:
                seen.slept += time.monotonic() - started


def record_wait(state: RetryState) -> None:
    """Retry's `before_wait` hook: add the wait it just decided to this operation's watch."""
    seen = watch.get()
    if seen is None:
        return
    if state.admission_wait:
        seen.admission_wait += state.next_delay
    else:
        seen.backoff_wait += state.next_delay


watch: ContextVar[OperationWatch | None] = ContextVar("recoup_assess_watch", default=None)


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
                seen = watch.get()
                if seen is not None:
                    seen.rejections += 1
                    if seen.first_rejection is None:
                        seen.first_rejection = time.monotonic()
                raise

        return counted


class SeeTimeouts:
    """A pass-through policy just outside the per-attempt Timeout: tells the operation when one fired."""

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        return fn

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def seen(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except DeadlineExceeded as exc:
                current = watch.get()
                if current is not None and current.on_timeout is not None:
                    current.on_timeout(exc)
                raise

        return seen


@dataclass(frozen=True)
class PipelineSettings:
    """The pipeline's knobs, each sized to this upstream (a loopback server), with the reason beside it."""

    #: Per attempt: well above a healthy attempt's latency at concurrency 100 on 2 shared cores (p99 ≈ 0.1 s
    #: without telemetry, 0.2-0.3 s with the telemetry server embedded in the process), so only the hung
    #: upstream meets it; each of its attempts therefore lasts this long by design.
    attempt_timeout: float = 0.5
    #: The breaker sheds a real outage, not the planned background faults (30% of operations): a failure ratio
    #: well above theirs, or a run of failures they practically never make (0.35**20 ≈ 1e-9) but an outage
    #: makes within milliseconds however slowly the machine runs (a count window may not fill in a short outage).
    trip_ratio: float = 0.8
    trip_window: int = 100
    trip_min_calls: int = 50
    trip_consecutive: int = 20
    reset_timeout: float = 0.2
    half_open_probes: int = 10
    #: The upstream is back once half the probes succeed: during an outage none do, while the planned
    #: background faults (retried ones included) fail well under half of them.
    close_ratio: float = 0.5
    #: A probe cannot honestly take longer than its attempt timeout; past twice that its outcome was lost.
    half_open_timeout: float = 1.0


def build_pipeline(
    config: AssessConfig, store: BreakerStore | None = None, settings: PipelineSettings | None = None
) -> tuple[AsyncCall, CircuitBreaker]:
    """Retry (transient categories) → breaker → bulkhead → per-attempt timeout, and the breaker itself.

    `store`: where the breaker's state lives (None: in this process's memory; a `RedisBreakerStore`
    shares it through Redis, as several workers of one service would).
    """
    s = settings or PipelineSettings()
    # A small first step with equal jitter: the faults here clear within a few milliseconds, and a
    # server's Retry-After (0 for the injected 503 and 429) replaces our own guess. A breaker's refusal
    # is waited out without spending an attempt (Retry's default max_rejected_wait, 30 s).
    retry = Retry(
        attempts=config.attempts,
        backoff=Backoff.exponential(
            initial=0.005, multiplier=2.0, cap=0.2, jitter="equal", seed=config.seed, retry_after_exact=True
        ),
        before_wait=record_wait,
        clock=TimedWaits(),
    )
    breaker = CircuitBreaker(
        BREAKER_NAME,
        trip=FailureRatio(s.trip_ratio, window=s.trip_window, min_calls=s.trip_min_calls)
        | ConsecutiveFailures(s.trip_consecutive),
        reset_timeout=s.reset_timeout,
        # Probes meet the planned background faults too, so close on a success *ratio*, not perfection.
        half_open_probes=s.half_open_probes,
        close_ratio=s.close_ratio,
        half_open_timeout=s.half_open_timeout,
        store=store,
    )
    bulkhead = Bulkhead(max_concurrent=config.concurrency, max_queue=config.ops, name=BREAKER_NAME)
    pipeline = Pipeline(
        retry, CountRejections(), breaker, bulkhead, SeeTimeouts(), Timeout(s.attempt_timeout, name="assess-attempt")
    )

    async def run(attempt: Callable[[], Awaitable[None]]) -> None:
        await attempt()

    return pipeline.wrap_async(run), breaker
