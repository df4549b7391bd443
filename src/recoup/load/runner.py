"""The asyncio load runner: start operations on a schedule (open model) or from N looping users (closed).

Coordinated omission: a tester that waits for each answer before sending the next stops asking exactly
when the target stalls, so the stall hides in a handful of samples. In the open model every operation
has an intended start on the schedule and its latency counts from there, so time spent queued behind a
stall (or behind a lagging generator) is in the numbers. ``max_in_flight`` bounds memory; starts skipped
because of it are counted as ``dropped``, never silently lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.load.http import HttpStatusError, HttpTarget
from recoup.load.profiles import ClosedModel, OpenModel, arrival_times
from recoup.load.result import MICROS, IntervalStats, LoadResult

__all__ = ["LoadError", "Operation", "Progress", "note_recoverable_fault", "run_load", "run_load_async"]

#: An operation: an async callable that raises on failure. It may return an int HTTP status to count.
Operation = Callable[[], Awaitable[object]]

_FAULT_NOTE: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar("recoup_load_fault", default=None)


class LoadError(ValueError):
    """Settings a run cannot start with."""


def note_recoverable_fault() -> None:
    """Call inside an operation that met a recoverable fault (e.g. from a retry hook).

    The run's ``recovery`` metric is then the success ratio of exactly these operations.
    Outside a load operation this does nothing.
    """
    note = _FAULT_NOTE.get()
    if note is not None:
        note[0] = True


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot for live displays, taken every ``progress_interval`` seconds."""

    elapsed: float
    duration: float
    started: int
    completed: int
    errors: int
    dropped: int
    in_flight: int
    rate: float  # completions per second over the last snapshot period
    p99: float  # seconds, over everything completed so far


class _Recorder:
    """Folds outcomes into the result and the per-interval series (raw latencies kept one interval long)."""

    def __init__(self, result: LoadResult, t0: float) -> None:
        self.result, self.t0 = result, t0
        self.open_slices: dict[int, tuple[list[int], list[int]]] = {}  # index -> (latencies, [errors])
        self._status_categories: dict[int, str] = {}

    def outcome(self, intended: float, end: float, error: BaseException | None, status: int | None,
                faulted: bool) -> None:
        result = self.result
        micros = max(round((end - intended) * MICROS), 0)
        result.histogram.record(min(micros, result.histogram.highest))
        if status is not None:
            result.status_codes[status] = result.status_codes.get(status, 0) + 1
        if error is None:
            result.ok += 1
        else:
            result.errors += 1
            category = self.category(error)
            result.error_categories[category] = result.error_categories.get(category, 0) + 1
        if faulted:
            result.faulted += 1
            if error is None:
                result.faulted_ok += 1
        index = max(int((end - self.t0) / result.interval), 0)
        slot = self.open_slices.get(index)
        if slot is None:
            slot = self.open_slices[index] = ([], [0])
        slot[0].append(micros)
        if error is not None:
            slot[1][0] += 1

    def category(self, error: BaseException) -> str:
        """recoup's category for the failure (the classifier's fast path, cached per type / HTTP status)."""
        if isinstance(error, HttpStatusError):
            found = self._status_categories.get(error.status)
            if found is None:
                found = self._status_categories[error.status] = _classify(error)
            return found
        if isinstance(error, TimeoutError):
            return "timeout"
        return _classify(error)  # the classifier caches its verdict per exception type itself

    def close_slices(self, before: int | None = None) -> None:
        """Turn finished intervals into `IntervalStats` (all of them when ``before`` is None)."""
        for index in sorted(self.open_slices):
            if before is not None and index >= before:
                break
            latencies, errors = self.open_slices.pop(index)
            latencies.sort()
            n = len(latencies)
            self.result.intervals.append(IntervalStats(
                start=index * self.result.interval,
                completed=n,
                errors=errors[0],
                p50=latencies[_rank(50, n)] / MICROS,
                p99=latencies[_rank(99, n)] / MICROS,
                max=latencies[-1] / MICROS,
            ))


def _rank(percent: float, n: int) -> int:
    return max(math.ceil(percent * n / 100 - 1e-9) - 1, 0)  # nearest rank; 0.99*100 must not round up


def _classify(error: BaseException) -> str:
    from recoup.errors.classifier import category_of

    return category_of(error)[0].value


async def run_load_async(
    target: Operation | HttpTarget,
    model: OpenModel | ClosedModel,
    *,
    max_in_flight: int = 1000,
    op_timeout: float | None = None,
    drain_timeout: float | None = None,
    late_after: float = 0.010,
    interval: float = 1.0,
    clock: Clock = SYSTEM_CLOCK,
    on_progress: Callable[[Progress], None] | None = None,
    progress_interval: float = 0.25,
    name: str | None = None,
) -> LoadResult:
    """Run ``target`` under ``model`` and measure it.

    ``op_timeout``: per-operation limit (s; None: none). ``drain_timeout``: how long to wait for operations
    still running when the schedule ends (default: ``op_timeout``, else 30 s); those still running then are
    cancelled and counted as ``unfinished`` errors, their latency so far recorded.
    """
    if isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int) or max_in_flight < 1:
        raise LoadError(f"max_in_flight must be an integer >= 1, got {max_in_flight!r}")
    for label, value in (("op_timeout", op_timeout), ("drain_timeout", drain_timeout)):
        if value is not None and (not math.isfinite(value) or value <= 0):
            raise LoadError(f"{label} must be a number of seconds > 0 or None, got {value!r}")
    if not math.isfinite(interval) or interval <= 0:
        raise LoadError(f"interval must be a number of seconds > 0, got {interval!r}")
    if isinstance(model, ClosedModel) and model.vus > max_in_flight:
        raise LoadError(f"vus ({model.vus}) exceeds max_in_flight ({max_in_flight})")
    if isinstance(model, OpenModel):
        mode = "constant" if len(model.stages) == 1 and model.stages[0].target == model.start_rate else "ramp"
        planned = model.duration
    else:
        mode, planned = "closed", model.duration
    import recoup.errors.classifier  # noqa: F401  # loaded now, not at the first failure mid-run

    label = name or (target.url if isinstance(target, HttpTarget) else _callable_name(target))
    result = LoadResult(target=label, mode=mode, profile=model.describe(), planned_duration=planned,
                        interval=interval, max_in_flight=max_in_flight)
    async with _opened(target, max_in_flight, op_timeout) as op:
        run = _Run(op, result, clock, max_in_flight, op_timeout, late_after)
        ticker = None
        if on_progress is not None:
            ticker = asyncio.create_task(run.tick(on_progress, progress_interval, planned))
        drain_limit = drain_timeout if drain_timeout is not None else (op_timeout or 30.0)
        try:
            if isinstance(model, OpenModel):
                await run.open_model(model)
            else:
                await run.closed_model(model, drain_limit)
            await run.drain(drain_limit)
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            if run.tasks:  # only after an interruption: nothing may outlive the client it uses
                for task in run.tasks:
                    task.cancel()
                await asyncio.gather(*run.tasks, return_exceptions=True)
        run.finish()
        if on_progress is not None:
            on_progress(run.snapshot(planned))
    return result


def run_load(
    target: Operation | HttpTarget,
    model: OpenModel | ClosedModel,
    *,
    max_in_flight: int = 1000,
    op_timeout: float | None = None,
    drain_timeout: float | None = None,
    late_after: float = 0.010,
    interval: float = 1.0,
    clock: Clock = SYSTEM_CLOCK,
    on_progress: Callable[[Progress], None] | None = None,
    progress_interval: float = 0.25,
    name: str | None = None,
) -> LoadResult:
    """`run_load_async` in a fresh event loop (for scripts and the CLI)."""
    return asyncio.run(run_load_async(
        target, model, max_in_flight=max_in_flight, op_timeout=op_timeout, drain_timeout=drain_timeout,
        late_after=late_after, interval=interval, clock=clock, on_progress=on_progress,
        progress_interval=progress_interval, name=name,
    ))


@contextlib.asynccontextmanager
async def _opened(target: Operation | HttpTarget, max_in_flight: int,
                  op_timeout: float | None) -> AsyncIterator[Operation]:
    if isinstance(target, HttpTarget):
        async with target.open(max_in_flight, op_timeout) as send:
            yield send
    elif callable(target):
        yield target
    else:
        raise LoadError(f"target must be an async callable or an HttpTarget, got {type(target).__name__}")


def _callable_name(target: object) -> str:
    module = getattr(target, "__module__", None) or "?"
    return f"{module}:{getattr(target, '__qualname__', type(target).__name__)}"


class _Run:
    """The state of one run: tasks in flight, the recorder, the counters the progress display reads."""

    def __init__(self, op: Operation, result: LoadResult, clock: Clock, max_in_flight: int,
                 timeout: float | None, late_after: float) -> None:
        self.op, self.result, self.clock = op, result, clock
        self.max_in_flight, self.timeout, self.late_after = max_in_flight, timeout, late_after
        self.t0 = clock.monotonic()
        result.started_at = clock.wall()
        self.recorder = _Recorder(result, self.t0)
        self.tasks: dict[asyncio.Task[None], float] = {}  # in flight -> intended start
        self.started = 0
        self.last_end = self.t0
        self._last_tick = (self.t0, 0)
        self.users_running: Callable[[], int] = lambda: 0  # closed model: users inside an operation

    async def _one(self, intended: float) -> None:
        note = [False]
        _FAULT_NOTE.set(note)
        error: BaseException | None = None
        status: int | None = None
        try:
            if self.timeout is not None:
                async with asyncio.timeout(self.timeout):
                    answer = await self.op()
            else:
                answer = await self.op()
            if isinstance(answer, int) and not isinstance(answer, bool):
                status = answer
        except HttpStatusError as exc:
            error, status = exc, exc.status
        except Exception as exc:  # the operation's failure is the measurement, never a crash of the run
            error = exc
        end = self.clock.monotonic()
        self.last_end = max(self.last_end, end)
        self.recorder.outcome(intended, end, error, status, note[0])

    def _start(self, intended: float, now: float) -> None:
        # an operation started early (sleep granularity) is measured from when it really began
        task = asyncio.create_task(self._one(min(intended, now)))
        self.tasks[task] = intended
        task.add_done_callback(self._done)
        self.started += 1
        self.result.peak_in_flight = max(self.result.peak_in_flight, len(self.tasks))

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.pop(task, None)

    async def open_model(self, model: OpenModel) -> None:
        result, clock, t0 = self.result, self.clock, self.t0
        for offset in arrival_times(model):
            result.scheduled += 1
            intended = t0 + offset
            now = clock.monotonic()
            if intended - now > 0.0005:
                await clock.asleep(intended - now)
                now = clock.monotonic()
            lag = now - intended
            if lag > result.max_start_lag:
                result.max_start_lag = lag
            if len(self.tasks) >= self.max_in_flight:
                result.dropped += 1
                continue
            if lag > self.late_after:
                result.late += 1
            self._start(intended, now)
            await asyncio.sleep(0)  # the operation begins now, not after the next wait (and catch-up yields)
        end = t0 + model.duration
        now = clock.monotonic()
        if end > now:  # the schedule's last gap: the run lasts its planned duration
            await clock.asleep(end - now)

    async def closed_model(self, model: ClosedModel, drain_limit: float) -> None:
        deadline = self.t0 + model.duration
        running: dict[int, float] = {}  # user -> start of its operation in progress

        async def user(number: int) -> None:
            while self.clock.monotonic() < deadline:
                begin = running[number] = self.clock.monotonic()
                self.started += 1
                self.result.scheduled += 1
                await self._one(begin)
                del running[number]
                if model.think_time:
                    await self.clock.asleep(model.think_time)

        users = [asyncio.create_task(user(n)) for n in range(model.vus)]
        self.result.peak_in_flight = model.vus
        self.users_running = lambda: len(running)
        # users stop starting at the deadline; one stuck in an operation gets the drain time, then is cut off
        _, stuck = await asyncio.wait(users, timeout=model.duration + drain_limit)
        now = self.clock.monotonic()
        for task in stuck:
            task.cancel()
        for begin in running.values():
            self._unfinished(now - begin)
        await asyncio.gather(*stuck, return_exceptions=True)
        self.last_end = max(self.last_end, now) if stuck else self.last_end
        self.users_running = lambda: 0

    async def drain(self, limit: float) -> None:
        if not self.tasks:
            return
        _, pending = await asyncio.wait(list(self.tasks), timeout=limit)
        if not pending:
            return
        now = self.clock.monotonic()
        for task in pending:
            intended = self.tasks.pop(task, now)
            task.remove_done_callback(self._done)
            task.cancel()
            self._unfinished(now - intended)
        await asyncio.gather(*pending, return_exceptions=True)
        self.last_end = max(self.last_end, now)

    def _unfinished(self, running_for: float) -> None:
        """An operation cut off at the end of the drain time: an error, its latency so far recorded."""
        result = self.result
        result.unfinished += 1
        result.errors += 1
        result.error_categories["unfinished"] = result.error_categories.get("unfinished", 0) + 1
        micros = max(round(running_for * MICROS), 0)
        result.histogram.record(min(micros, result.histogram.highest))

    def finish(self) -> None:
        self.result.elapsed = max(self.last_end, self.clock.monotonic()) - self.t0
        self.recorder.close_slices()
        series = self.result.intervals
        series.sort(key=lambda stats: stats.start)
        if series:  # a second without a single completion (a full stall) is a zero, not a gap
            span = self.result.interval
            seen = {round(stats.start / span) for stats in series}
            series.extend(IntervalStats(index * span, 0, 0, 0.0, 0.0, 0.0)
                          for index in range(round(series[-1].start / span)) if index not in seen)
            series.sort(key=lambda stats: stats.start)

    def snapshot(self, duration: float) -> Progress:
        now = self.clock.monotonic()
        result = self.result
        last_time, last_completed = self._last_tick
        span = now - last_time
        rate = (result.completed - last_completed) / span if span > 0 else 0.0
        self._last_tick = (now, result.completed)
        return Progress(
            elapsed=now - self.t0, duration=duration, started=self.started, completed=result.completed,
            errors=result.errors, dropped=result.dropped, in_flight=len(self.tasks) + self.users_running(),
            rate=rate,
            p99=result.histogram.percentile(99) / MICROS,
        )

    async def tick(self, on_progress: Callable[[Progress], None], every: float, duration: float) -> None:
        while True:
            # a display refreshes in real time, and must not move an injected (fake) clock under the run
            await asyncio.sleep(every)
            on_progress(self.snapshot(duration))
            current = int((self.clock.monotonic() - self.t0) / self.result.interval)
            self.recorder.close_slices(before=current - 1)
