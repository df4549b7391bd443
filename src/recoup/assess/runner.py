"""Run the planned operations concurrently through a recoup pipeline and record what happened to each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from recoup.assess.faults import (
    TIMEOUT_FAULTS,
    FaultContext,
    RefusingPort,
    StallingPeer,
    real_work,
    refuse_connection,
    scratch_dir,
)
from recoup.assess.fixtures import LocalHTTPServer
from recoup.assess.outage import Outage
from recoup.assess.plan import AssessConfig, OperationPlan, make_plan
from recoup.assess.recovery_pipeline import BREAKER_NAME, OperationWatch, build_pipeline, watch
from recoup.errors.classifier import classify
from recoup.policies import events
from recoup.policies.errors import DeadlineExceeded
from recoup.policies.state import BreakerStore


@dataclass
class OperationOutcome:
    """What happened to one operation, measured on the monotonic clock (seconds)."""

    plan: OperationPlan
    succeeded: bool
    attempts: int
    started: float
    finished: float
    first_failure: float | None
    first_error_category: str | None
    final_error: str | None
    outage_failures: int = 0
    final_error_type: str | None = None
    breaker_rejections: int = 0
    timeouts: int = 0
    #: The attempt (1-based) that first met the injected fault's own error (None: never met).
    first_injected_attempt: int | None = None

    @property
    def recoverable(self) -> bool:
        """A transient fault was planned, or the outage or the breaker's load shedding hit it."""
        if self.plan.permanent:
            return False
        return self.plan.recoverable or self.outage_failures > 0 or self.breaker_rejections > 0

    @property
    def recovery_time(self) -> float | None:
        """From the first failure to success: how long recovery took (None if it never failed or never won)."""
        if not self.succeeded or self.first_failure is None:
            return None
        return self.finished - self.first_failure


@dataclass
class RunResult:
    """Every operation's outcome and every policy event; `started_monotonic`/`started_wall` are the same
    instant on the two clocks (outcomes use the first, events the second), for timelines."""

    config: AssessConfig
    outcomes: list[OperationOutcome]
    wall_seconds: float
    events: list[events.PolicyEvent] = field(default_factory=list)
    started_monotonic: float = 0.0
    started_wall: float = 0.0
    breaker_store: str = "memory"


class _AttemptLog:
    """Per-operation counters the attempt function updates (one instance per operation)."""

    __slots__ = (
        "attempts",
        "failures",
        "first_error_category",
        "first_failure",
        "first_injected_attempt",
        "outage_failures",
        "stage",
        "timeouts",
    )

    def __init__(self) -> None:
        self.attempts = 0
        self.failures = 0
        self.outage_failures = 0
        self.timeouts = 0
        self.first_failure: float | None = None
        self.first_error_category: str | None = None
        self.first_injected_attempt: int | None = None
        #: What the running attempt is doing ("fault", "outage", "work"), for a timeout that ends it from outside.
        self.stage = "work"


def _earliest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


_log = logging.getLogger("recoup.assess")

#: Told about every error an attempt meets (the server phase turns each into an `ErrorEvent`).
ErrorHook = Callable[[BaseException], None]


async def _run_operation(
    plan: OperationPlan,
    ctx: FaultContext,
    call: Callable[..., object],
    outage: Outage,
    on_error: ErrorHook | None = None,
) -> OperationOutcome:
    log = _AttemptLog()

    def failed(exc: BaseException, *, injected: bool) -> None:
        if on_error is not None:
            on_error(exc)
        log.failures += 1
        if log.first_failure is None:
            log.first_failure = time.monotonic()
        if injected and log.first_error_category is None:
            log.first_error_category = classify(exc).category.value
            log.first_injected_attempt = log.attempts

    def timed_out(exc: DeadlineExceeded) -> None:
        log.timeouts += 1
        if log.stage == "outage":
            log.outage_failures += 1
        # Only the hung upstream's timeout is the injected error; another fault cut short by the timeout (a slow
        # loaded peer) met a real timeout, not its own cause.
        failed(exc, injected=log.stage == "fault" and plan.fault in TIMEOUT_FAULTS)

    async def attempt() -> None:
        log.attempts += 1
        fault = plan.fault
        if fault is not None and (not fault.transient or log.failures < plan.clears_after):
            log.stage = "fault"
            try:
                await fault.provoke(ctx)
            except Exception as exc:
                failed(exc, injected=True)
                raise
            raise RuntimeError(f"fault {fault.name!r} was meant to fail but did not")
        if outage.active():
            log.stage = "outage"
            try:
                await refuse_connection(ctx)
            except Exception as exc:
                log.outage_failures += 1
                failed(exc, injected=False)
                raise
        log.stage = "work"
        await real_work(ctx)

    outage.operation_started(plan.index)
    seen = OperationWatch(on_timeout=timed_out)
    watch.set(seen)  # each operation runs in its own task, hence its own context
    started = time.monotonic()
    final_error: str | None = None
    final_error_type: str | None = None
    try:
        await call(attempt)  # type: ignore[misc]
        succeeded = True
    except Exception as exc:
        succeeded = False
        final_error = f"{type(exc).__name__}: {exc}"
        final_error_type = type(exc).__name__
    return OperationOutcome(
        plan=plan,
        succeeded=succeeded,
        attempts=log.attempts,
        started=started,
        finished=time.monotonic(),
        first_failure=_earliest(log.first_failure, seen.first_rejection),
        first_error_category=log.first_error_category,
        final_error=final_error,
        outage_failures=log.outage_failures,
        final_error_type=final_error_type,
        breaker_rejections=seen.rejections,
        timeouts=log.timeouts,
        first_injected_attempt=log.first_injected_attempt,
    )


class BreakerStoreError(RuntimeError):
    """The breaker store asked for (Redis) cannot be used; the message says why and how to fix it."""


@contextlib.contextmanager
def _breaker_store(redis_url: str | None) -> Iterator[tuple[BreakerStore | None, str]]:
    """The breaker's store and how the report names it: process memory, or Redis under a key prefix unique
    to this run (deleted afterwards). Redis must answer before the run starts, or this says so."""
    if redis_url is None:
        yield None, "memory"
        return
    try:
        from recoup.policies.redis_store import RedisBreakerStore
    except ImportError as exc:
        raise BreakerStoreError(f"--redis needs the redis extra (pip install recoup[redis]): {exc}") from exc
    prefix = f"recoup-assess-{secrets.token_hex(6)}"
    store = RedisBreakerStore(redis_url, prefix=prefix, ttl=3600)
    try:
        store.client.ping()
    except Exception as exc:
        raise BreakerStoreError(f"--redis {_safe_url(redis_url)}: Redis did not answer PING ({exc})") from exc
    try:
        yield store, f"redis ({_safe_url(redis_url)}, key prefix {prefix})"
    finally:
        try:
            store.delete(BREAKER_NAME)
        except Exception as exc:  # cleanup must not hide the run's own outcome; say what was left behind
            _log.warning("could not delete %s from Redis (it expires within an hour): %s", store.key(BREAKER_NAME), exc)
        store.client.close()


def _safe_url(url: str) -> str:
    """The URL without its password, for the report."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


async def run_assessment(
    config: AssessConfig,
    on_done: Callable[[OperationOutcome], None],
    on_error: ErrorHook | None = None,
    redis_url: str | None = None,
) -> RunResult:
    """Execute every planned operation with at most `config.concurrency` in flight; `on_error` (if any) hears
    about every error an attempt meets, on the event loop's thread. `redis_url`: share the breaker's state
    through that Redis (as several workers of one service would) instead of process memory."""
    config.validate()
    plans = make_plan(config)
    collected: list[events.PolicyEvent] = []
    unsubscribe = events.subscribe(collected.append)
    folder = scratch_dir()
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=min(config.concurrency, 64), thread_name_prefix="recoup-assess")
    loop.set_default_executor(executor)
    try:
        with (
            LocalHTTPServer() as server,
            RefusingPort() as refusing,
            StallingPeer() as stall,
            _breaker_store(redis_url) as (store, store_name),
        ):
            ctx = FaultContext(
                base_url=server.base_url, closed_port=refusing.port, scratch_dir=folder, stall_port=stall.port
            )
            pipeline, _breaker = build_pipeline(config, store)
            outage = Outage(config.outage_seconds, int(config.ops * config.outage_at))
            gate = asyncio.Semaphore(config.concurrency)

            async def bounded(plan: OperationPlan) -> OperationOutcome:
                async with gate:
                    outcome = await _run_operation(plan, ctx, pipeline, outage, on_error)
                on_done(outcome)
                return outcome

            started_wall = time.time()
            started = time.monotonic()
            outcomes = await asyncio.gather(*(bounded(plan) for plan in plans))
            wall = time.monotonic() - started
    finally:
        unsubscribe()
        executor.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(folder, ignore_errors=True)
    return RunResult(
        config=config,
        outcomes=list(outcomes),
        wall_seconds=wall,
        events=collected,
        started_monotonic=started,
        started_wall=started_wall,
        breaker_store=store_name,
    )
