"""Run the planned operations concurrently through a recoup pipeline and record what happened to each.

The upstream runs in its own process and the client is aiohttp on the event loop (`Fixture`), so an
operation's latency is recoup's and the loopback's, not our fixture's fight for the GIL; each operation
also records where its recovery time went (attempts, recoup's waits) and a probe samples the loop's lag.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from recoup.assess.faults import (
    TIMEOUT_FAULTS,
    AiohttpGet,
    FaultContext,
    HttpGet,
    RefusingPort,
    StallingPeer,
    ThreadedUrllibGet,
    real_work,
    refuse_connection,
    scratch_dir,
)
from recoup.assess.fixtures import LocalHTTPServer, UpstreamProcess
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
    #: Within the recovery (first failure → end): seconds inside attempts, the failed ones among them, and
    #: the waits recoup decided: backoff after failures, and waiting out the breaker's refusals.
    attempt_seconds: float = 0.0
    failed_attempt_seconds: float = 0.0
    backoff_seconds: float = 0.0
    admission_seconds: float = 0.0
    #: How long those waits really lasted (the excess over backoff + admission is event-loop lag).
    waited_seconds: float = 0.0

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
    #: How the upstream was served and reached (see `Fixture`), for the report.
    fixture: dict[str, str] = field(default_factory=dict)
    #: Event-loop lag samples (ms): how late a 10 ms sleep woke up, sampled throughout the run.
    loop_lag_ms: list[float] = field(default_factory=list)


Upstream = Literal["process", "thread"]
Client = Literal["auto", "aiohttp", "urllib"]


@dataclass(frozen=True)
class Fixture:
    """How the load phase's upstream is served and reached.

    `upstream`: "process" (an asyncio server in its own process: it never competes with our event loop for
    the GIL) or "thread" (a `ThreadingHTTPServer` in this process, the old fixture, kept for comparison).
    `client`: "aiohttp" (on the event loop), "urllib" (blocking calls in a thread pool), or "auto" (aiohttp
    when installed, otherwise urllib; the report says which)."""

    upstream: Upstream = "process"
    client: Client = "auto"

    def validate(self) -> None:
        if self.upstream not in ("process", "thread"):
            raise ValueError(f"fixture upstream must be 'process' or 'thread', got {self.upstream!r}")
        if self.client not in ("auto", "aiohttp", "urllib"):
            raise ValueError(f"fixture client must be 'auto', 'aiohttp' or 'urllib', got {self.client!r}")
        if self.client == "aiohttp" and not aiohttp_available():
            raise ValueError("fixture client 'aiohttp' needs aiohttp (pip install 'recoup[load]')")


def aiohttp_available() -> bool:
    """Whether aiohttp can be imported here (the `load` extra); imported only when it is about to be used."""
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return False
    return True


class _AttemptLog:
    """Per-operation counters the attempt function updates (one instance per operation)."""

    __slots__ = (
        "attempts",
        "failures",
        "first_error_category",
        "first_failure",
        "first_injected_attempt",
        "outage_failures",
        "spans",
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
        #: (start, end, failed) of every attempt, monotonic seconds.
        self.spans: list[tuple[float, float, bool]] = []

    def time_in_attempts(self, since: float | None) -> tuple[float, float]:
        """Seconds inside attempts that began after `since` (the first failure): all of them, failed ones."""
        if since is None:
            return 0.0, 0.0
        later = [(end - start, failed) for start, end, failed in self.spans if start > since]
        return sum(d for d, _f in later), sum(d for d, failed in later if failed)


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
        started = time.monotonic()
        ok = False
        try:
            await one_attempt()
            ok = True
        finally:  # a timeout's cancellation lands here too
            log.spans.append((started, time.monotonic(), not ok))

    async def one_attempt() -> None:
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
    first_failure = _earliest(log.first_failure, seen.first_rejection)
    in_attempts, in_failed = log.time_in_attempts(first_failure)
    return OperationOutcome(
        plan=plan,
        succeeded=succeeded,
        attempts=log.attempts,
        started=started,
        finished=time.monotonic(),
        first_failure=first_failure,
        first_error_category=log.first_error_category,
        final_error=final_error,
        outage_failures=log.outage_failures,
        final_error_type=final_error_type,
        breaker_rejections=seen.rejections,
        timeouts=log.timeouts,
        first_injected_attempt=log.first_injected_attempt,
        attempt_seconds=in_attempts,
        failed_attempt_seconds=in_failed,
        backoff_seconds=seen.backoff_wait,
        admission_seconds=seen.admission_wait,
        waited_seconds=seen.slept,
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


@contextlib.asynccontextmanager
async def _upstream(fixture: Fixture, concurrency: int) -> AsyncIterator[tuple[str, HttpGet, dict[str, str]]]:
    """The live upstream's base URL, the client that reaches it, and how the report describes both."""
    use_aiohttp = fixture.client == "aiohttp" or (fixture.client == "auto" and aiohttp_available())
    async with contextlib.AsyncExitStack() as stack:
        if fixture.upstream == "process":
            proc = stack.enter_context(UpstreamProcess())
            base_url, upstream = proc.base_url, f"asyncio server in its own process (pid {proc.pid})"
        else:
            server = stack.enter_context(LocalHTTPServer())
            base_url, upstream = server.base_url, "ThreadingHTTPServer in this process"
        http: HttpGet
        note = ""
        if use_aiohttp:
            import aiohttp

            session = await stack.enter_async_context(
                aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=concurrency + 8, limit_per_host=0),
                    timeout=aiohttp.ClientTimeout(total=5),
                )
            )
            http = AiohttpGet(base_url, session)
        else:
            http = ThreadedUrllibGet(base_url)
            if fixture.client == "auto":
                note = "aiohttp is not installed (pip install 'recoup[load]'): the threaded urllib fallback ran"
        described = {"upstream": upstream, "client": http.name}
        if note:
            described["note"] = note
        yield base_url, http, described


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the objects alive before the load (the imported server, its app, the fixtures) out of the cyclic
    collector's full passes during the load: they are not garbage, and rescanning ~150k of them stopped every
    thread for 70-160 ms at a time, time that recovery figures would otherwise blame on recoup."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


#: How often the lag probe wakes up (seconds).
LAG_PROBE_INTERVAL = 0.01


async def _probe_loop_lag(samples: list[float]) -> None:
    """Sleep `LAG_PROBE_INTERVAL` again and again and record how late each wake-up was (ms) until cancelled:
    the delay every timer and every I/O callback on this loop suffered at that moment."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(LAG_PROBE_INTERVAL)
        samples.append(max(0.0, (time.monotonic() - before - LAG_PROBE_INTERVAL) * 1000))


async def run_assessment(
    config: AssessConfig,
    on_done: Callable[[OperationOutcome], None],
    on_error: ErrorHook | None = None,
    redis_url: str | None = None,
    fixture: Fixture | None = None,
) -> RunResult:
    """Execute every planned operation with at most `config.concurrency` in flight; `on_error` (if any) hears
    about every error an attempt meets, on the event loop's thread. `redis_url`: share the breaker's state
    through that Redis (as several workers of one service would) instead of process memory. `fixture`: how
    the upstream is served and reached (default: its own process, aiohttp when installed)."""
    config.validate()
    fixture = fixture or Fixture()
    fixture.validate()
    plans = make_plan(config)
    collected: list[events.PolicyEvent] = []
    unsubscribe = events.subscribe(collected.append)
    folder = scratch_dir()
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=min(config.concurrency, 64), thread_name_prefix="recoup-assess")
    loop.set_default_executor(executor)
    lag: list[float] = []
    try:
        async with contextlib.AsyncExitStack() as stack:
            store, store_name = stack.enter_context(_breaker_store(redis_url))  # first: a bad --redis fails fast
            base_url, http, described = await stack.enter_async_context(_upstream(fixture, config.concurrency))
            refusing = stack.enter_context(RefusingPort())
            stall = stack.enter_context(StallingPeer())
            ctx = FaultContext(
                base_url=base_url, closed_port=refusing.port, scratch_dir=folder, stall_port=stall.port, http=http
            )
            pipeline, _breaker = build_pipeline(config, store)
            outage = Outage(config.outage_seconds, int(config.ops * config.outage_at))
            gate = asyncio.Semaphore(config.concurrency)

            async def bounded(plan: OperationPlan) -> OperationOutcome:
                async with gate:
                    outcome = await _run_operation(plan, ctx, pipeline, outage, on_error)
                on_done(outcome)
                return outcome

            probe = asyncio.create_task(_probe_loop_lag(lag))
            with _frozen_heap():
                started_wall = time.time()
                started = time.monotonic()
                try:
                    outcomes = await asyncio.gather(*(bounded(plan) for plan in plans))
                finally:
                    probe.cancel()
                wall = time.monotonic() - started
            with contextlib.suppress(asyncio.CancelledError):
                await probe
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
        fixture=described,
        loop_lag_ms=lag,
    )
