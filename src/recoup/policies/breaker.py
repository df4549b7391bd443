"""Circuit breaker: stop calling a dependency that is failing, probe it, and resume when it recovers.

States: closed (calls flow, outcomes feed the trip conditions), open (calls rejected with
`CircuitOpenError` until the reset timeout passes), half-open (a few probes decide: close on enough
successes, else re-open with an optionally growing timeout). Modes on top of that: forced open,
forced closed (admit, record nothing), disabled, and metrics-only (the state machine runs and emits
events, but nothing is ever rejected - for a dry run before enforcing).

Decisions are pure functions of the stored state and a clock (`_admit`, `_result`); the sync and
async executors around them are thin, and the lock (or Redis script) is never held across the
protected call. The default configuration (consecutive failures, in-memory) has a lock-free happy
path: one flag test, a contextvar read for the deadline, the call, and one flag test.

What counts as a failure, by default: every `Exception` except those the classifier puts in
validation, auth or programming (the dependency answered; the caller is wrong), and except
`BulkheadFullError`/`RateLimitedError` (local load decisions, not the dependency's health). Those
non-failures count as successes. `exclude=` types are ignored (neither success nor failure), as are
`BaseException`s that are not `Exception`s (cancellation, KeyboardInterrupt). `failure_on=` replaces the
default with exception types, a predicate, or a set of categories.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Final, ParamSpec, TypeVar

from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.errors.classifier import category_of
from recoup.errors.taxonomy import Category
from recoup.policies.base import Decorates
from recoup.policies.deadline import _deadline  # the ContextVar itself: .get() is the cheapest read
from recoup.policies.errors import BulkheadFullError, CircuitOpenError, DeadlineExceeded, RateLimitedError
from recoup.policies.events import EventKind, PolicyEvent, emit, has_subscribers
from recoup.policies.state import (
    CLOSED,
    DISABLED,
    FORCED_CLOSED,
    FORCED_OPEN,
    HALF_OPEN,
    METRICS_ONLY,
    MODES,
    NORMAL,
    OPEN,
    BreakerState,
    BreakerStore,
    MemoryBreakerStore,
)
from recoup.policies.trip import ConsecutiveFailures, TripCondition, flatten

P = ParamSpec("P")
R = TypeVar("R")

# tickets: what admission granted; >= 0 is a probe of half-open generation `ticket`
_CLOSED: Final = -1  # a normal call in the closed state: its outcome feeds the trip conditions
_NOOP: Final = -2  # admitted without recording (forced closed, disabled, metrics-only shadow reject)
_CLEAN: Final = -3  # closed, and a success would change nothing (saves a shared store's round trip)

# outcomes
_OK: Final = 0
_FAIL: Final = 1
_IGNORE: Final = 2

_RECORDING = frozenset({NORMAL, METRICS_ONLY})  # modes in which closed-state outcomes are recorded

_NOT_FAILURES: frozenset[Category] = frozenset({Category.VALIDATION, Category.AUTH, Category.PROGRAMMING})

Transition = tuple[str, str, str]  # (from_state, to_state, reason)
FailurePredicate = Callable[[BaseException], bool]
FailureSpec = type[BaseException] | tuple[type[BaseException], ...] | FailurePredicate | Collection[Category]


#: Threads for shared-store round trips made on behalf of async callers (see `_off_loop`).
STORE_THREADS = 8
_store_pool: ThreadPoolExecutor | None = None
_store_pool_lock = threading.Lock()


async def _off_loop(fn: Callable[..., R], *args: Any) -> R:
    """Run a shared store's round trip off the event loop, on recoup's own small pool rather than the loop's
    default executor: the application's blocking work there must not delay the breaker's bookkeeping, and
    store writers waiting their turn must not hold the threads the application's calls need."""
    global _store_pool
    pool = _store_pool
    if pool is None:
        with _store_pool_lock:
            if _store_pool is None:
                _store_pool = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="recoup-breaker-store")
            pool = _store_pool
    context = contextvars.copy_context()  # the caller's deadline travels with the call, as with to_thread
    return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(context.run, fn, *args))


def default_is_failure(exc: BaseException) -> bool:
    """The default failure rule (see the module docstring)."""
    if isinstance(exc, BulkheadFullError | RateLimitedError):
        return False
    return category_of(exc)[0] not in _NOT_FAILURES


def _failure_predicate(spec: FailureSpec | None) -> FailurePredicate:
    if spec is None:
        return default_is_failure
    if isinstance(spec, type):
        exc_type: type[BaseException] = spec
        return lambda exc: isinstance(exc, exc_type)
    if isinstance(spec, tuple) and all(isinstance(t, type) for t in spec):
        types: tuple[type[BaseException], ...] = spec
        return lambda exc: isinstance(exc, types)
    if callable(spec):
        return spec
    cats = frozenset(Category(str(c)) for c in spec)
    return lambda exc: category_of(exc)[0] in cats


class CircuitBreaker(Decorates):
    """A named circuit breaker; use as decorator, context manager, `.call`/`.acall`, or `Policy`.

    `trip`: a `TripCondition`, ``a | b``, or a list (any-of); default ``ConsecutiveFailures(5)``.
    `reset_timeout`: seconds open before probing; each re-open from half-open multiplies it by
    `backoff_factor`, up to `max_reset_timeout`. `half_open_probes`: probes admitted per half-open
    period; the breaker closes once ``successes >= ceil(close_ratio * half_open_probes)`` and
    re-opens as soon as that can no longer happen. `store`: where state lives (default: a private
    `MemoryBreakerStore`; pass a `RedisBreakerStore` to share state by name across processes).
    `probe_wait`: the `retry_after` hint given to calls rejected while every half-open probe is in
    flight (default: a quarter of `reset_timeout`), so callers that retry wait for the probes' verdict
    instead of spending their attempts in a tight loop. `half_open_timeout`: seconds a half-open period
    may wait for its probes' verdict; past it, with every probe slot still taken (a probe hung, or its
    outcome was lost with the store), the breaker re-opens instead of refusing everyone for ever
    (resilience4j's maxWaitDurationInHalfOpenState; default None: wait indefinitely).

    With a shared store a refusal writes nothing (it is counted in this process, and `metrics()` adds
    that count to the stored one): callers polling an open breaker only read its state, so they do not
    contend with the probes whose outcomes must be written.
    """

    def __init__(
        self,
        name: str,
        *,
        trip: TripCondition | Iterable[TripCondition] | None = None,
        reset_timeout: float = 30.0,
        backoff_factor: float = 1.0,
        max_reset_timeout: float | None = None,
        half_open_probes: int = 1,
        close_ratio: float = 1.0,
        probe_wait: float | None = None,
        half_open_timeout: float | None = None,
        failure_on: FailureSpec | None = None,
        exclude: type[BaseException] | tuple[type[BaseException], ...] = (),
        store: BreakerStore | None = None,
        clock: Clock = SYSTEM_CLOCK,
        mode: str = NORMAL,
    ) -> None:
        if reset_timeout < 0 or backoff_factor < 1.0 or half_open_probes < 1 or not 0 < close_ratio <= 1:
            raise ValueError(
                "need reset_timeout >= 0, backoff_factor >= 1, half_open_probes >= 1, 0 < close_ratio <= 1"
            )
        if mode not in MODES:
            raise ValueError(f"mode must be one of {sorted(MODES)}")
        self.name = name
        self._conds = flatten(trip if trip is not None else ConsecutiveFailures(5))
        self._cfg = repr(list(self._conds))
        self._reset_timeout = reset_timeout
        self._backoff = backoff_factor
        self._max_reset = max_reset_timeout if max_reset_timeout is not None else max(reset_timeout, 300.0)
        self._probes = half_open_probes
        if probe_wait is not None and probe_wait < 0:
            raise ValueError(f"probe_wait must not be negative, got {probe_wait}")
        self._probe_wait = probe_wait if probe_wait is not None else reset_timeout / 4
        if half_open_timeout is not None and half_open_timeout <= 0:
            raise ValueError(f"half_open_timeout must be positive or None, got {half_open_timeout}")
        self._half_open_timeout = half_open_timeout
        self._needed = max(1, -int(-close_ratio * half_open_probes // 1))  # ceil
        self._is_failure = _failure_predicate(failure_on)
        self._exclude = exclude
        self._clock = clock
        self._mono = clock.monotonic
        self._store: BreakerStore = store if store is not None else MemoryBreakerStore()
        self._shared = bool(getattr(self._store, "shared", False))
        # Shared state must use a time base every host agrees on; local state uses monotonic time.
        self._now = clock.wall if self._shared else clock.monotonic
        self._timed = any(c.needs_duration for c in self._conds)
        self._clock_on_success = self._timed or any(c.needs_now for c in self._conds)
        slows = [c.slow_after for c in self._conds if c.slow_after is not None]
        self._slow_after: float | None = min(slows) if slows else None
        self._cm: ContextVar[tuple[tuple[int, float], ...]] = ContextVar(f"recoup_breaker_{name}", default=())
        self._refused_here = 0  # refusals of a shared breaker, counted in this process (see the class docstring)
        self._refused_lock = threading.Lock()
        self._cell: BreakerState | None = None
        if isinstance(self._store, MemoryBreakerStore):
            self._cell, self._lock = self._store.cell(name, self._initial)
        self._lock_free_success = all(c.lock_free_success for c in self._conds)
        self._simple = self._cell is not None and self._lock_free_success
        if mode != NORMAL:
            self._set_mode(mode, "configured")

    # --- pure decisions ---------------------------------------------------------------------------

    def _initial(self) -> BreakerState:
        return BreakerState(trip=[c.initial() for c in self._conds], cfg=self._cfg)

    def _open(self, st: BreakerState, now: float, reason: str, trans: list[Transition]) -> None:
        if st.state == HALF_OPEN:
            st.reopens += 1
        timeout = min(self._reset_timeout * self._backoff**st.reopens, self._max_reset)
        trans.append((st.state, OPEN, reason))
        st.state = OPEN
        st.gen += 1
        st.opened_at = now
        st.open_until = now + timeout
        st.opens += 1
        st.probes = st.probe_ok = st.probe_failed = 0

    def _close(self, st: BreakerState, reason: str, trans: list[Transition]) -> None:
        trans.append((st.state, CLOSED, reason))
        self._reset_closed(st)

    def _reset_closed(self, st: BreakerState) -> None:
        st.state = CLOSED
        st.gen += 1
        st.reopens = 0
        st.probes = st.probe_ok = st.probe_failed = 0
        st.trip = [c.on_close(s) for c, s in zip(self._conds, st.trip, strict=True)]
        st.dirty = False

    def _admit(self, st: BreakerState) -> tuple[int, float | None, list[Transition] | None, str | None]:
        """(ticket, retry_after, transitions, rejected-in-state). Rejected when the last is not None."""
        mode = st.mode
        count = not self._shared  # a shared store's refusals are counted in-process, writing nothing
        if mode == FORCED_OPEN:
            st.rejections += count
            return _NOOP, None, None, FORCED_OPEN
        if mode in (FORCED_CLOSED, DISABLED):
            return _NOOP, None, None, None
        if st.state == CLOSED:
            if self._lock_free_success and not any(c.pending(s) for c, s in zip(self._conds, st.trip, strict=True)):
                return _CLEAN, None, None, None
            return _CLOSED, None, None, None
        now = self._now()
        trans: list[Transition] = []
        if st.state == OPEN:
            if now < st.open_until:
                if mode == METRICS_ONLY:
                    return _NOOP, st.open_until - now, None, None
                st.rejections += count
                return _NOOP, st.open_until - now, None, OPEN
            trans.append((OPEN, HALF_OPEN, "reset timeout elapsed"))
            st.state = HALF_OPEN
            st.gen += 1
            st.probes = st.probe_ok = st.probe_failed = 0
            if self._half_open_timeout is not None:
                st.open_until = now + self._half_open_timeout  # in half-open: when the probes' verdict is due
        if st.probes < self._probes:
            st.probes += 1
            return st.gen, None, trans, None
        if self._half_open_timeout is not None and now >= st.open_until:
            self._open(st, now, f"half-open probes gave no verdict within {self._half_open_timeout:g}s", trans)
            if mode == METRICS_ONLY:
                return _NOOP, None, trans, None
            st.rejections += count
            return _NOOP, st.open_until - now, trans, OPEN
        if mode == METRICS_ONLY:
            return _NOOP, None, trans, None
        st.rejections += count
        return _NOOP, self._probe_wait, trans, HALF_OPEN

    def _result(
        self, st: BreakerState, ticket: int, outcome: int, duration: float, now: float
    ) -> list[Transition] | None:
        """Fold one outcome into the state; return the transitions it caused."""
        if outcome == _FAIL:
            st.failures += 1
        if ticket == _CLOSED:
            if st.state != CLOSED or outcome == _IGNORE or st.mode not in _RECORDING:
                return None
            failed = outcome == _FAIL
            trip = st.trip
            for cond, cst in zip(self._conds, trip, strict=True):
                reason = cond.record(cst, failed, duration, now)
                if reason is not None:
                    trans: list[Transition] = []
                    self._open(st, now, reason, trans)
                    return trans
            if self._simple:
                st.dirty = any(c.pending(s) for c, s in zip(self._conds, trip, strict=True))
            return None
        if ticket == _NOOP:
            return None
        trans = []
        if st.state != HALF_OPEN or ticket != st.gen:
            return None  # a late probe of an earlier half-open period
        if outcome == _IGNORE:
            st.probes -= 1  # give the slot back: this probe told us nothing
            return None
        slow = self._slow_after is not None and duration >= self._slow_after
        if outcome == _FAIL or slow:
            st.probe_failed += 1
        else:
            st.probe_ok += 1
        if st.probe_ok >= self._needed:
            self._close(st, f"{st.probe_ok}/{st.probe_ok + st.probe_failed} probes succeeded", trans)
        elif st.probe_failed > self._probes - self._needed:
            what = "slow" if slow and outcome != _FAIL else "failed"
            self._open(st, now, f"half-open probe {what}", trans)
        return trans

    def _outcome(self, exc: BaseException | None) -> int:
        if exc is None:
            return _OK
        if not isinstance(exc, Exception) or isinstance(exc, self._exclude):
            return _IGNORE
        return _FAIL if self._is_failure(exc) else _OK

    # --- state access -----------------------------------------------------------------------------

    def _apply(self, fn: Callable[[BreakerState], R]) -> R:
        """Run a decision atomically against the store and refresh the fast-path hint."""
        cell = self._cell
        if cell is not None:
            with self._lock:
                out = fn(cell)
                cell.fast = cell.state == CLOSED and cell.mode == NORMAL
            return out
        cfg = self._cfg

        def checked(st: BreakerState) -> R:
            if st.cfg != cfg:
                # Another configuration wrote this name's state (e.g. during a rolling deploy): keep
                # the state and counters, start the trip conditions afresh in our own shape.
                st.trip = [c.initial() for c in self._conds]
                st.cfg = cfg
            return fn(st)

        return self._store.update(self.name, self._initial, checked)

    def _emit(self, trans: list[Transition] | None) -> None:
        if trans and has_subscribers():
            wall = self._clock.wall()
            for from_state, to_state, reason in trans:
                data = {"from_state": from_state, "to_state": to_state, "reason": reason}
                emit(PolicyEvent(EventKind.STATE_CHANGED, "breaker", self.name, wall, data))

    def _enter(self) -> int:
        """Admission: return a ticket or raise `CircuitOpenError`/`DeadlineExceeded`."""
        deadline = _deadline.get()
        if deadline is not None and self._mono() >= deadline:
            raise DeadlineExceeded(self.name, 0.0)
        cell = self._cell
        if cell is not None and cell.fast:
            return _CLOSED
        ticket, retry_after, trans, rejected = self._apply(self._admit)
        self._emit(trans)
        if rejected is not None:
            if self._shared:
                with self._refused_lock:
                    self._refused_here += 1
            if has_subscribers():
                data = {"state": rejected, "retry_after": retry_after}
                emit(PolicyEvent(EventKind.REJECTED, "breaker", self.name, self._clock.wall(), data))
            raise CircuitOpenError(self.name, retry_after, rejected)
        return ticket

    def _exit(self, ticket: int, exc: BaseException | None, duration: float) -> None:
        """Record the outcome of an admitted call (never while the call runs)."""
        if ticket == _NOOP:
            return
        outcome = _OK if exc is None else self._outcome(exc)
        if ticket == _CLEAN:
            if outcome == _OK:
                return  # closed and clean at admission: a success has nothing to reset
            ticket = _CLOSED
        cell = self._cell
        if ticket == _CLOSED and outcome == _OK and not self._clock_on_success:
            if self._simple and cell is not None and not cell.dirty:
                return  # nothing to reset: stay lock-free
            now = 0.0
        else:
            now = self._now()
        if cell is not None:
            with self._lock:
                trans = self._result(cell, ticket, outcome, duration, now)
                if trans:  # only a transition can change what the fast path depends on
                    cell.fast = cell.state == CLOSED and cell.mode == NORMAL
        else:
            trans = self._apply(lambda st: self._result(st, ticket, outcome, duration, now))
        if trans:
            self._emit(trans)

    def _fast_failure(self, exc: BaseException) -> None:
        self._exit(_CLOSED, exc, 0.0)

    def _fast_clean(self) -> None:
        self._exit(_CLOSED, None, 0.0)

    # --- executors --------------------------------------------------------------------------------

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call `fn` through the breaker."""
        ticket = self._enter()
        timed = self._timed
        start = self._mono() if timed else 0.0
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._exit(ticket, exc, self._mono() - start if timed else 0.0)
            raise
        self._exit(ticket, None, self._mono() - start if timed else 0.0)
        return result

    async def acall(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Await `fn` through the breaker. A shared store's round trips run off the event loop."""
        shared = self._shared
        ticket = await _off_loop(self._enter) if shared else self._enter()
        timed = self._timed
        start = self._mono() if timed else 0.0
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            duration = self._mono() - start if timed else 0.0
            if shared:
                await _off_loop(self._exit, ticket, exc, duration)
            else:
                self._exit(ticket, exc, duration)
            raise
        duration = self._mono() - start if timed else 0.0
        if shared:
            await _off_loop(self._exit, ticket, None, duration)
        else:
            self._exit(ticket, None, duration)
        return result

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        """`Policy.wrap`: the returned callable keeps `fn`'s exact signature."""
        call = self.call
        cell = self._cell
        deadline = _deadline
        if cell is None:

            @functools.wraps(fn)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                return call(fn, *args, **kwargs)

            return wrapper

        if not self._simple:
            return self._wrap_local(fn)

        fail = self._fast_failure
        clean = self._fast_clean

        @functools.wraps(fn)
        def fast(*args: P.args, **kwargs: P.kwargs) -> R:
            if cell.fast and deadline.get() is None:
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    fail(exc)
                    raise
                if cell.dirty:
                    clean()
                return result
            return call(fn, *args, **kwargs)

        return fast

    def _wrap_local(self, fn: Callable[P, R]) -> Callable[P, R]:
        """In-memory breaker with window conditions: closed-state calls record under the lock, inline."""
        call = self.call
        cell = self._cell
        assert cell is not None
        deadline = _deadline
        lock = self._lock
        record = self._result
        exit_ = self._exit
        emit_ = self._emit
        mono = self._mono
        now_fn = self._now
        timed = self._timed
        clock_on_success = self._clock_on_success

        @functools.wraps(fn)
        def local(*args: P.args, **kwargs: P.kwargs) -> R:
            if cell.fast and deadline.get() is None:
                start = mono() if timed else 0.0
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    exit_(_CLOSED, exc, mono() - start if timed else 0.0)
                    raise
                duration = mono() - start if timed else 0.0
                now = now_fn() if clock_on_success else 0.0
                with lock:
                    trans = record(cell, _CLOSED, _OK, duration, now)
                    if trans:
                        cell.fast = cell.state == CLOSED and cell.mode == NORMAL
                if trans:
                    emit_(trans)
                return result
            return call(fn, *args, **kwargs)

        return local

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """`Policy.wrap_async`: returns a coroutine function with `fn`'s signature."""
        return self._async_wrapper(fn)

    def _async_wrapper(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        acall = self.acall
        cell = self._cell
        if cell is None or not self._simple:

            @functools.wraps(fn)
            async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                return await acall(fn, *args, **kwargs)

            return wrapper

        fail = self._fast_failure
        clean = self._fast_clean
        deadline = _deadline

        @functools.wraps(fn)
        async def fast(*args: P.args, **kwargs: P.kwargs) -> R:
            if cell.fast and deadline.get() is None:
                try:
                    result = await fn(*args, **kwargs)
                except BaseException as exc:
                    fail(exc)
                    raise
                if cell.dirty:
                    clean()
                return result
            return await acall(fn, *args, **kwargs)

        return fast

    # --- context managers -------------------------------------------------------------------------

    def __enter__(self) -> CircuitBreaker:
        ticket = self._enter()
        self._cm.set((*self._cm.get(), (ticket, self._mono() if self._timed else 0.0)))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        stack = self._cm.get()
        ticket, start = stack[-1]
        self._cm.set(stack[:-1])
        self._exit(ticket, exc, self._mono() - start if self._timed else 0.0)

    async def __aenter__(self) -> CircuitBreaker:
        ticket = await _off_loop(self._enter) if self._shared else self._enter()
        self._cm.set((*self._cm.get(), (ticket, self._mono() if self._timed else 0.0)))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        stack = self._cm.get()
        ticket, start = stack[-1]
        self._cm.set(stack[:-1])
        duration = self._mono() - start if self._timed else 0.0
        if self._shared:
            await _off_loop(self._exit, ticket, exc, duration)
        else:
            self._exit(ticket, exc, duration)

    # --- inspection and manual control ------------------------------------------------------------

    def _snapshot(self) -> BreakerState:
        def copy(st: BreakerState) -> BreakerState:
            return BreakerState.from_json(st.to_json())

        return self._apply(copy)

    @property
    def state(self) -> str:
        """closed / open / half_open, or the mode when it overrides them (forced_open, ...).

        An open breaker whose timeout has passed still reads "open" until the next call probes it.
        In metrics-only mode this is the shadow state the breaker would enforce.
        """
        st = self._snapshot()
        return st.state if st.mode in (NORMAL, METRICS_ONLY) else st.mode

    @property
    def mode(self) -> str:
        return self._snapshot().mode

    def metrics(self) -> dict[str, Any]:
        """Counters and state (shared across processes when the store is)."""
        st = self._snapshot()
        return {
            "name": self.name,
            "state": st.state,
            "mode": st.mode,
            "failures": st.failures,
            "rejections": st.rejections + self._refused_here,
            "opens": st.opens,
            "reopens": st.reopens,
            "open_until": st.open_until if st.state == OPEN else None,
            "conditions": [repr(c) for c in self._conds],
        }

    def _set_mode(self, mode: str, reason: str) -> None:
        def change(st: BreakerState) -> list[Transition]:
            before = st.state if st.mode in (NORMAL, METRICS_ONLY) else st.mode
            st.mode = mode
            if mode != METRICS_ONLY:
                self._reset_closed(st)
            st.gen += 1
            after = st.state if mode in (NORMAL, METRICS_ONLY) else mode
            return [(before, after, reason)] if before != after else []

        self._emit(self._apply(change))

    def force_open(self) -> None:
        """Reject every call until `reset()` (e.g. to take a dependency out by hand)."""
        self._set_mode(FORCED_OPEN, "forced open")

    def force_closed(self) -> None:
        """Admit every call and record nothing until `reset()`."""
        self._set_mode(FORCED_CLOSED, "forced closed")

    def disable(self) -> None:
        """Turn the breaker off: a pass-through until `reset()`."""
        self._set_mode(DISABLED, "disabled")

    def metrics_only(self) -> None:
        """Run the state machine and emit events, but never reject (a dry run)."""
        self._set_mode(METRICS_ONLY, "metrics only")

    def reset(self) -> None:
        """Back to normal operation, closed, with fresh trip-condition state."""
        self._set_mode(NORMAL, "reset")

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, trip={list(self._conds)!r})"


__all__ = ["CircuitBreaker", "default_is_failure"]
