"""Retry: call again when an attempt fails with something worth retrying, within limits.

The happy path is a bare ``try: return fn(*args, **kwargs)``: no allocation, no clock read, no lock.
Everything else (per-call `RetryState`, classification, backoff, budget, events, hooks) happens
only after an exception, in one decision method (`Retry.decide`) shared by the sync and async
executors, which differ only in ``fn()`` vs ``await fn()`` and ``sleep`` vs ``asleep``.

Stop conditions, checked in this order after each failure:

1. the error is not retryable (see ``on`` / ``on_categories``; default: transient categories);
2. ``attempts`` attempts have been made;
3. the wait would end past the deadline (``timeout=`` seconds from the first attempt, and the
   caller's contextvar deadline from `recoup.policies.deadline` / `Timeout`, whichever is earlier);
4. the shared `RetryBudget` has no token left.

A refusal by one of recoup's admission policies (`CircuitOpenError`, `RateLimitedError`) that says
when it will admit the call (``retry_after``) is not a failed attempt: the call never reached the
dependency. Retry waits for the hint (plus jitter, so callers refused together do not return
together) WITHOUT spending an attempt or a budget token, for at most ``max_rejected_wait`` seconds
in total per call (and never past the deadline); past that it gives up (``"rejected"``) with the
refusal, so an outage longer than the caller can wait still fails fast. ``max_rejected_wait=None``
treats refusals like any other error (each one spends an attempt).

On giving up, the ORIGINAL final exception is re-raised (never wrapped), after recording on it:

* ``exc.__recoup_attempts__``: a tuple of `AttemptRecord(number, error, result, delay)`, one per
  attempt in order (`delay` is the wait that followed it; None for the last);
* a note (`BaseException.add_note`) listing each attempt's error and wait, shown in tracebacks.

A first attempt that fails with a non-retryable error passes through untouched (it never entered
the retry loop). When results are retried (``retry_if_result=``) and attempts run out, the last
result is returned.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, NamedTuple, ParamSpec, TypeVar, cast, overload

from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.errors.classifier import category_of
from recoup.errors.taxonomy import Category
from recoup.policies import events as _events
from recoup.policies.backoff import Backoff, default_backoff
from recoup.policies.base import Decorates
from recoup.policies.base import is_async_callable as is_async_callable
from recoup.policies.budget import RetryBudget
from recoup.policies.deadline import current_deadline
from recoup.policies.errors import CircuitOpenError, RateLimitedError
from recoup.policies.events import EventKind, PolicyEvent

P = ParamSpec("P")
R = TypeVar("R")

ExceptionFilter = type[BaseException] | tuple[type[BaseException], ...] | Callable[[BaseException], bool]
"""What `on=` accepts: exception types, or a predicate on the exception."""



class AttemptRecord(NamedTuple):
    """One attempt as recorded on the final exception (``exc.__recoup_attempts__``)."""

    number: int
    error: BaseException | None
    result: Any
    delay: float | None


class RetryState:
    """Per-call retry state, created after the first failure and never shared between calls.

    Hooks (`before_wait`, `on_give_up`) receive it. `attempt` is the number of attempts made so far;
    `next_delay` is the wait about to happen (in `before_wait`); `stop_reason` says why retry
    stopped (``"not_retryable"``, ``"attempts"``, ``"deadline"``, ``"budget"``, ``"rejected"``) in
    `on_give_up`. `rejections` counts admission refusals waited out and `rejected_wait` their total wait;
    `admission_wait` is True while the wait about to happen is for a refusal (no attempt is spent).
    `elapsed` counts from the first attempt when ``timeout=`` is set, otherwise from the first failure
    (the happy path reads no clock).
    """

    __slots__ = (
        "admission_wait",
        "attempt",
        "clock",
        "deadline",
        "delays",
        "errors",
        "last_result",
        "name",
        "next_delay",
        "rejected_wait",
        "rejections",
        "results",
        "started",
        "stop_reason",
    )

    def __init__(self, name: str, clock: Clock, started: float, deadline: float | None) -> None:
        self.name = name
        self.clock = clock
        self.started = started
        self.deadline = deadline
        self.attempt = 1
        self.delays: list[float] = []
        self.errors: list[BaseException | None] = []
        self.results: list[Any] = []
        self.last_result: Any = None
        self.next_delay = 0.0
        self.stop_reason: str | None = None
        self.rejections = 0
        self.rejected_wait = 0.0
        self.admission_wait = False

    @property
    def last_error(self) -> BaseException | None:
        return self.errors[-1] if self.errors else None

    @property
    def elapsed(self) -> float:
        return self.clock.monotonic() - self.started

    def records(self) -> tuple[AttemptRecord, ...]:
        delays = self.delays
        return tuple(
            AttemptRecord(i + 1, err, res, delays[i] if i < len(delays) else None)
            for i, (err, res) in enumerate(zip(self.errors, self.results, strict=True))
        )

    def __repr__(self) -> str:
        return (
            f"RetryState(name={self.name!r}, attempt={self.attempt}, delays={self.delays!r}, "
            f"last_error={self.last_error!r}, rejections={self.rejections}, stop_reason={self.stop_reason!r})"
        )


def _describe(err: BaseException | None, result: Any) -> str:
    if err is None:
        return f"result {result!r}"
    text = str(err)
    return f"{type(err).__qualname__}: {text}" if text else type(err).__qualname__


def admission_hint(exc: BaseException | None) -> float | None:
    """When `exc` is a recoup admission policy's refusal that says when it will admit a call: that wait."""
    if isinstance(exc, CircuitOpenError | RateLimitedError):
        return exc.retry_after
    return None


def _build_filter(
    on: ExceptionFilter | None, on_categories: Iterable[Category] | None
) -> Callable[[BaseException], bool]:
    """One predicate deciding whether an exception is worth retrying."""
    categories = frozenset(on_categories) if on_categories is not None else None
    predicate: Callable[[BaseException], bool] | None = None
    types: tuple[type[BaseException], ...] | None = None
    if isinstance(on, type):
        types = (on,)
    elif isinstance(on, tuple):
        types = on
    elif on is not None:
        predicate = on

    if on is None and categories is None:

        def transient(exc: BaseException) -> bool:
            return category_of(exc)[1]

        return transient

    def matches(exc: BaseException) -> bool:
        if types is not None and isinstance(exc, types):
            return True
        if predicate is not None and predicate(exc):
            return True
        return categories is not None and category_of(exc)[0] in categories

    return matches


class Retry(Decorates):
    """A retry policy. Use as a decorator (sync or async detected), or via `wrap`/`wrap_async`/`call`/`acall`.

    Instances hold configuration only (plus the optional shared budget), so one instance can
    decorate many functions and serve concurrent calls from threads and tasks. Configure at
    construction; the wrapper shape is chosen then.

    * ``attempts``: total attempts, the first included.
    * ``timeout``: total seconds from the first attempt; no wait is scheduled to end past it
      (nor past the contextvar deadline set by `Timeout`/`deadline_scope`).
    * ``backoff``: a `Backoff` (default: exponential 0.1 s x2 capped at 5 s, full jitter, Retry-After
      honoured up to 60 s). ``Backoff.constant(0)`` retries at once without calling sleep at all.
    * ``on``: exception types or a predicate; ``on_categories``: `Category` values. An error is
      retried if it matches either. With neither, transient categories are retried
      (`recoup.errors.classifier.category_of`), so programming and validation errors are not.
    * ``retry_if_result``: retry when it returns True for a result; the last result is returned
      when retries stop.
    * ``budget``: a `RetryBudget`, possibly shared; every call deposits, every retry withdraws.
    * ``max_rejected_wait``: total seconds one call may wait for a breaker or rate limiter that refused it
      and said when it will admit it; such waits spend no attempt and no budget token (default 30 s;
      None: a refusal spends an attempt like any other error).
    * ``before_wait(state)`` / ``on_give_up(state)``: hooks receiving the per-call `RetryState`.
    * ``clock``: where time and waits come from (`recoup.testing.FakeClock` in tests).
    * ``name``: the name on events and notes (default: the wrapped function's qualified name).
    """

    __slots__ = (
        "_plain",
        "_retryable",
        "attempts",
        "backoff",
        "before_wait",
        "budget",
        "clock",
        "max_rejected_wait",
        "name",
        "on_give_up",
        "retry_if_result",
        "timeout",
    )

    def __init__(
        self,
        *,
        attempts: int = 3,
        timeout: float | None = None,
        backoff: Backoff | None = None,
        on: ExceptionFilter | None = None,
        on_categories: Iterable[Category] | None = None,
        retry_if_result: Callable[[Any], bool] | None = None,
        budget: RetryBudget | None = None,
        before_wait: Callable[[RetryState], object] | None = None,
        on_give_up: Callable[[RetryState], object] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        name: str | None = None,
        max_rejected_wait: float | None = 30.0,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be >= 1")
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be >= 0")
        if max_rejected_wait is not None and max_rejected_wait < 0:
            raise ValueError(f"max_rejected_wait must be >= 0 or None, got {max_rejected_wait}")
        self.max_rejected_wait = max_rejected_wait
        self.attempts = attempts
        self.timeout = timeout
        self.backoff = backoff if backoff is not None else default_backoff()
        self.retry_if_result = retry_if_result
        self.budget = budget
        self.before_wait = before_wait
        self.on_give_up = on_give_up
        self.clock = clock
        self.name = name
        self._retryable = _build_filter(on, on_categories)
        # The plain wrapper (no pre-call work at all) serves the common configuration.
        self._plain = budget is None and timeout is None and retry_if_result is None

    # -- the decision (pure: state + clock + configuration) ------------------------------------

    def decide(self, state: RetryState, exc: BaseException | None) -> float | None:
        """After a failed attempt: the wait before the next one, or None to give up."""
        if exc is not None and not self._retryable(exc):
            state.stop_reason = "not_retryable"
            return None
        if state.attempt >= self.attempts:
            state.stop_reason = "attempts"
            return None
        delays = state.delays
        delay = self.backoff.delay(state.attempt, delays[-1] if delays else None, exc)
        deadline = state.deadline
        outer = current_deadline()
        if outer is not None and (deadline is None or outer < deadline):
            deadline = outer
        if deadline is not None and self.clock.monotonic() + delay > deadline:
            state.stop_reason = "deadline"
            return None
        if self.budget is not None and not self.budget.try_withdraw():
            state.stop_reason = "budget"
            return None
        return delay

    def decide_rejected(self, state: RetryState, exc: BaseException, hint: float) -> float | None:
        """After an admission refusal that said when it will admit (`hint`): the wait, or None to give up.

        The wait spends no attempt and no budget token; the refusals' waits together stay within
        `max_rejected_wait`, and none ends past the deadline.
        """
        if not self._retryable(exc):
            state.stop_reason = "not_retryable"
            return None
        limit = self.max_rejected_wait
        wait = self.backoff.admission_wait(hint)
        if limit is None or state.rejected_wait + wait > limit:
            state.stop_reason = "rejected"
            return None
        deadline = state.deadline
        outer = current_deadline()
        if outer is not None and (deadline is None or outer < deadline):
            deadline = outer
        if deadline is not None and self.clock.monotonic() + wait > deadline:
            state.stop_reason = "deadline"
            return None
        return wait

    def _new_state(self, label: str, started: float | None) -> RetryState:
        if started is None:
            started = self.clock.monotonic()
        deadline = started + self.timeout if self.timeout is not None else None
        return RetryState(label, self.clock, started, deadline)

    def _rejected(self, state: RetryState, exc: BaseException, hint: float) -> float | None:
        """An admission refusal: wait for the policy to admit the call, or record it as the last attempt."""
        wait = self.decide_rejected(state, exc, hint)
        if wait is None:
            state.errors.append(exc)
            state.results.append(None)
            state.last_result = None
            return None
        state.rejections += 1
        state.rejected_wait += wait
        state.next_delay = wait
        state.admission_wait = True
        self._scheduled(state, {"attempt": state.attempt, "delay": wait, "error": _describe(exc, None),
                                "rejected": True})
        return wait

    def _scheduled(self, state: RetryState, data: dict[str, Any]) -> None:
        """A wait is decided: the before-wait hook, then the RETRY_SCHEDULED event (when anyone listens)."""
        if self.before_wait is not None:
            self.before_wait(state)
        if _events._subscribers:
            _events.emit(PolicyEvent(EventKind.RETRY_SCHEDULED, "retry", state.name, self.clock.wall(), data))

    def _failed(self, state: RetryState, exc: BaseException | None, result: Any) -> float | None:
        """Record a failed attempt and decide; runs hooks and events for a scheduled retry."""
        if self.max_rejected_wait is not None:
            hint = admission_hint(exc)
            if hint is not None and exc is not None:
                return self._rejected(state, exc, hint)
        state.admission_wait = False
        state.errors.append(exc)
        state.results.append(result)
        state.last_result = result
        delay = self.decide(state, exc)
        if delay is None:
            return None
        state.delays.append(delay)
        state.next_delay = delay
        self._scheduled(state, {"attempt": state.attempt, "delay": delay, "error": _describe(exc, result)})
        return delay

    def _next_attempt(self, state: RetryState) -> None:
        if state.admission_wait:  # the same attempt, now that the refusing policy should admit it
            state.admission_wait = False
            return
        state.attempt += 1
        if _events._subscribers:
            _events.emit(
                PolicyEvent(EventKind.ATTEMPT, "retry", state.name, self.clock.wall(), {"attempt": state.attempt})
            )

    def _succeeded(self, state: RetryState) -> None:
        if _events._subscribers:
            _events.emit(
                PolicyEvent(
                    EventKind.SUCCEEDED,
                    "retry",
                    state.name,
                    self.clock.wall(),
                    {"attempts": state.attempt, "elapsed": state.elapsed, "rejections": state.rejections},
                )
            )

    def _give_up(self, state: RetryState, exc: BaseException | None) -> None:
        """Record the attempts on the final exception, then run the hook and the event."""
        if exc is not None and state.attempt == 1 and state.stop_reason == "not_retryable":
            # Never entered the retry loop: record the single attempt, but add no note to the traceback.
            with contextlib.suppress(AttributeError, TypeError):  # exotic types without a __dict__
                exc.__recoup_attempts__ = state.records()  # type: ignore[attr-defined]
            return
        if exc is not None:
            records = state.records()
            refused = ""
            if state.rejections:
                refused = f" and {state.rejections} refusal(s) waited out ({state.rejected_wait:.3f}s)"
            lines = [
                f"recoup.retry {state.name!r} gave up ({state.stop_reason}) after {state.attempt} attempt(s){refused}:"
            ]
            for rec in records:
                wait = f" -> waited {rec.delay:.3f}s" if rec.delay is not None else " (final)"
                lines.append(f"  #{rec.number} {_describe(rec.error, rec.result)}{wait}")
            try:
                exc.__recoup_attempts__ = records  # type: ignore[attr-defined]
                exc.add_note("\n".join(lines))
            except (AttributeError, TypeError):  # exotic exception types without a __dict__
                pass
        if self.on_give_up is not None:
            self.on_give_up(state)
        if _events._subscribers:
            _events.emit(
                PolicyEvent(
                    EventKind.GAVE_UP,
                    "retry",
                    state.name,
                    self.clock.wall(),
                    {
                        "attempts": state.attempt,
                        "reason": state.stop_reason,
                        "rejections": state.rejections,
                        "error": _describe(exc, state.last_result),
                    },
                )
            )

    # -- executors (thin) ----------------------------------------------------------------------

    def _retry_sync(
        self,
        fn: Callable[..., Any],
        label: str,
        args: Any,
        kwargs: Any,
        exc: BaseException | None,
        result: Any,
        started: float | None,
    ) -> Any:
        state = self._new_state(label, started)
        check = self.retry_if_result
        sleep = self.clock.sleep
        while True:
            delay = self._failed(state, exc, result)
            if delay is None:
                self._give_up(state, exc)
                if exc is not None:
                    raise exc
                return result
            if delay > 0:
                sleep(delay)
            self._next_attempt(state)
            try:
                result = fn(*args, **kwargs)
            except Exception as err:
                exc = err
                result = None
                continue
            if check is not None and check(result):
                exc = None
                continue
            self._succeeded(state)
            return result

    async def _retry_async(
        self,
        fn: Callable[..., Awaitable[Any]],
        label: str,
        args: Any,
        kwargs: Any,
        exc: BaseException | None,
        result: Any,
        started: float | None,
    ) -> Any:
        state = self._new_state(label, started)
        check = self.retry_if_result
        asleep = self.clock.asleep
        while True:
            delay = self._failed(state, exc, result)
            if delay is None:
                self._give_up(state, exc)
                if exc is not None:
                    raise exc
                return result
            if delay > 0:
                await asleep(delay)
            self._next_attempt(state)
            try:
                result = await fn(*args, **kwargs)
            except Exception as err:
                exc = err
                result = None
                continue
            if check is not None and check(result):
                exc = None
                continue
            self._succeeded(state)
            return result

    def _label(self, fn: Callable[..., Any]) -> str:
        if self.name is not None:
            return self.name
        return str(getattr(fn, "__qualname__", None) or type(fn).__qualname__)

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        """A sync callable with `fn`'s signature that retries it under this policy."""
        label = self._label(fn)
        slow = self._retry_sync
        if self._plain:

            @functools.wraps(fn)
            def plain(*args: P.args, **kwargs: P.kwargs) -> R:
                try:
                    return fn(*args, **kwargs)
                except Exception as exc:
                    first = exc
                return cast(R, slow(fn, label, args, kwargs, first, None, None))

            return plain

        record = self.budget.record_call if self.budget is not None else None
        monotonic = self.clock.monotonic if self.timeout is not None else None
        check = self.retry_if_result

        @functools.wraps(fn)
        def general(*args: P.args, **kwargs: P.kwargs) -> R:
            if record is not None:
                record()
            started = monotonic() if monotonic is not None else None
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                first = exc
            else:
                if check is None or not check(result):
                    return result
                return cast(R, slow(fn, label, args, kwargs, None, result, started))
            return cast(R, slow(fn, label, args, kwargs, first, None, started))

        return general

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """An async callable with `fn`'s signature that retries it under this policy."""
        return self._wrap_coroutine(fn)

    def _wrap_coroutine(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        label = self._label(fn)
        slow = self._retry_async
        if self._plain:

            @functools.wraps(fn)
            async def plain(*args: P.args, **kwargs: P.kwargs) -> R:
                try:
                    return await fn(*args, **kwargs)
                except Exception as exc:
                    first = exc
                return cast(R, await slow(fn, label, args, kwargs, first, None, None))

            return plain

        record = self.budget.record_call if self.budget is not None else None
        monotonic = self.clock.monotonic if self.timeout is not None else None
        check = self.retry_if_result

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if record is not None:
                record()
            started = monotonic() if monotonic is not None else None
            try:
                result = await fn(*args, **kwargs)
            except Exception as exc:
                first = exc
            else:
                if check is None or not check(result):
                    return result
                return cast(R, await slow(fn, label, args, kwargs, None, result, started))
            return cast(R, await slow(fn, label, args, kwargs, first, None, started))

        return wrapper

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``fn(*args, **kwargs)`` under this policy without building a wrapper."""
        if self._plain:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                first = exc
            return cast(R, self._retry_sync(fn, self._label(fn), args, kwargs, first, None, None))
        return self.wrap(fn)(*args, **kwargs)

    async def acall(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Await ``fn(*args, **kwargs)`` under this policy."""
        if self._plain:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                first = exc
            return cast(R, await self._retry_async(fn, self._label(fn), args, kwargs, first, None, None))
        return await self._wrap_coroutine(fn)(*args, **kwargs)

    def __repr__(self) -> str:
        return (
            f"Retry(attempts={self.attempts}, timeout={self.timeout}, backoff={self.backoff!r}, "
            f"budget={self.budget!r}, max_rejected_wait={self.max_rejected_wait}, name={self.name!r})"
        )


@overload
def retry(fn: Callable[P, Coroutine[Any, Any, R]], /) -> Callable[P, Coroutine[Any, Any, R]]: ...


@overload
def retry(fn: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def retry(
    fn: None = None,
    /,
    *,
    attempts: int = 3,
    timeout: float | None = None,
    backoff: Backoff | None = None,
    on: ExceptionFilter | None = None,
    on_categories: Iterable[Category] | None = None,
    retry_if_result: Callable[[Any], bool] | None = None,
    budget: RetryBudget | None = None,
    before_wait: Callable[[RetryState], object] | None = None,
    on_give_up: Callable[[RetryState], object] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    name: str | None = None,
    max_rejected_wait: float | None = 30.0,
) -> Retry: ...


def retry(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    attempts: int = 3,
    timeout: float | None = None,
    backoff: Backoff | None = None,
    on: ExceptionFilter | None = None,
    on_categories: Iterable[Category] | None = None,
    retry_if_result: Callable[[Any], bool] | None = None,
    budget: RetryBudget | None = None,
    before_wait: Callable[[RetryState], object] | None = None,
    on_give_up: Callable[[RetryState], object] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    name: str | None = None,
    max_rejected_wait: float | None = 30.0,
) -> Any:
    """Decorator: ``@retry`` (defaults: 3 attempts, transient categories, exponential full jitter)
    or ``@retry(attempts=5, on=ConnectionError, ...)``. Sync and async functions keep their exact
    signatures; async functions stay async. See `Retry` for every option.
    """
    policy = Retry(
        attempts=attempts,
        timeout=timeout,
        backoff=backoff,
        on=on,
        on_categories=on_categories,
        retry_if_result=retry_if_result,
        budget=budget,
        before_wait=before_wait,
        on_give_up=on_give_up,
        clock=clock,
        name=name,
        max_rejected_wait=max_rejected_wait,
    )
    if fn is None:
        return policy
    return policy(fn)
