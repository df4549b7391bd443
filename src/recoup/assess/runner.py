"""Run the planned operations concurrently through a recoup pipeline and record what happened to each."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from recoup.assess.faults import FaultContext, real_work, refuse_connection, scratch_dir
from recoup.assess.fixtures import LocalHTTPServer, closed_port
from recoup.assess.outage import Outage
from recoup.assess.plan import AssessConfig, OperationPlan, make_plan
from recoup.assess.recovery_pipeline import build_pipeline, rejections
from recoup.errors.classifier import classify
from recoup.policies import events


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
    config: AssessConfig
    outcomes: list[OperationOutcome]
    wall_seconds: float
    events: list[events.PolicyEvent] = field(default_factory=list)


class _AttemptLog:
    """Per-operation counters the attempt function updates (one instance per operation)."""

    __slots__ = ("attempts", "failures", "first_error_category", "first_failure", "outage_failures")

    def __init__(self) -> None:
        self.attempts = 0
        self.failures = 0
        self.outage_failures = 0
        self.first_failure: float | None = None
        self.first_error_category: str | None = None


def _earliest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


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

    async def attempt() -> None:
        log.attempts += 1
        fault = plan.fault
        if fault is not None and (not fault.transient or log.failures < plan.clears_after):
            try:
                await fault.provoke(ctx)
            except Exception as exc:
                failed(exc, injected=True)
                raise
            raise RuntimeError(f"fault {fault.name!r} was meant to fail but did not")
        if outage.active():
            try:
                await refuse_connection(ctx)
            except Exception as exc:
                log.outage_failures += 1
                failed(exc, injected=False)
                raise
        await real_work(ctx)

    outage.operation_started(plan.index)
    rejected = [0.0, 0.0]
    rejections.set(rejected)  # each operation runs in its own task, hence its own context
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
        first_failure=_earliest(log.first_failure, rejected[1] or None),
        first_error_category=log.first_error_category,
        final_error=final_error,
        outage_failures=log.outage_failures,
        final_error_type=final_error_type,
        breaker_rejections=int(rejected[0]),
    )


async def run_assessment(
    config: AssessConfig, on_done: Callable[[OperationOutcome], None], on_error: ErrorHook | None = None
) -> RunResult:
    """Execute every planned operation with at most `config.concurrency` in flight; `on_error` (if any) hears
    about every error an attempt meets, on the event loop's thread."""
    config.validate()
    plans = make_plan(config)
    collected: list[events.PolicyEvent] = []
    unsubscribe = events.subscribe(collected.append)
    folder = scratch_dir()
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=min(config.concurrency, 64), thread_name_prefix="recoup-assess")
    loop.set_default_executor(executor)
    try:
        with LocalHTTPServer() as server:
            ctx = FaultContext(base_url=server.base_url, closed_port=closed_port(), scratch_dir=folder)
            pipeline = build_pipeline(config)
            outage = Outage(config.outage_seconds, int(config.ops * config.outage_at))
            gate = asyncio.Semaphore(config.concurrency)

            async def bounded(plan: OperationPlan) -> OperationOutcome:
                async with gate:
                    outcome = await _run_operation(plan, ctx, pipeline, outage, on_error)
                on_done(outcome)
                return outcome

            started = time.monotonic()
            outcomes = await asyncio.gather(*(bounded(plan) for plan in plans))
            wall = time.monotonic() - started
    finally:
        unsubscribe()
        executor.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(folder, ignore_errors=True)
    return RunResult(config=config, outcomes=list(outcomes), wall_seconds=wall, events=collected)
