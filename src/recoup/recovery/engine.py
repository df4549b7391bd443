"""`RecoveryEngine`: run an operation, and when it fails classify the error, recover, retry or give up.

    engine = RecoveryEngine(EngineConfig(fs_roots=("/srv/data",)), learner=my_learner, sink=bus)

    @engine.recoverable(operation="fetch-prices", endpoint="prices-api", cache=True)
    def fetch(symbol: str) -> dict: ...

    engine.run(fn, *args, **kwargs)          # or: await engine.arun(async_fn, ...)

The happy path costs a function call and a few attribute tests: nothing is classified unless something
failed. On failure the engine classifies the error once, picks the category's strategy (the learner may
choose among the configured candidates per fingerprint), runs it (see `recoup.recovery.strategies`) and
retries, serves a degraded result, or gives up.

**The final error is the original exception**, so ``except ConnectionRefusedError`` keeps working. The engine
adds a note (`BaseException.add_note`, shown in tracebacks) listing every attempt and what was done about it,
and sets the attribute ``recoup_recovery`` to a `RecoveryReport` (read it with `recovery_report(exc)`). When a
circuit breaker rejects the first attempt, the error is the breaker's `CircuitOpenError` (the call never ran);
when the breaker rejects a retry after real failures in the same call, the last real error is raised.

Default plan per category (`EngineConfig.categories`; the first strategy is the default, the rest are the
learner's candidates):

* network / service: ``breaker`` (one `CircuitBreaker` per endpoint: `endpoint=` or the operation name; created
  on the first such failure unless `endpoint=` is given, so it counts from its second failure) + backoff with
  jitter, Retry-After honoured; a permanent status (e.g. HTTP 501) is not retried.
* resource: ``degrade``: shrink the bulkhead, free registered caches, serve fallback/stale if any, else backoff.
* filesystem: ``repair`` (`fs.repair_for` under ``fs_roots``) then retry. git: ``restore`` the checkpoint taken
  before the call (`repo=`) then retry; on final failure the repository is restored too (like `guarded`).
* validation: ``fix`` (each fixer once per call). auth: ``refresh`` (the hook, once per call).
* programming / unknown: ``fail_fast``, never retried.

Whenever a transient error ends in giving up (attempts exhausted, RTO or deadline would be missed, breaker
open), the operation's fallback or a fresh-enough stale result is served instead if there is one (outcome
``degraded``, `engine.degraded` / `engine.is_degraded(op)` true until the operation next succeeds).

Async: the same logic; a git checkpoint and the recovery decision that restores it run in a worker thread
(``asyncio.to_thread``); other repairs (mkdir, chmod) are quick and run inline.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import inspect
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, ParamSpec, TypeVar, cast, overload

from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.errors.taxonomy import Category, Classification
from recoup.policies.backoff import Backoff
from recoup.policies.breaker import CircuitBreaker
from recoup.policies.bulkhead import Bulkhead
from recoup.policies.deadline import remaining
from recoup.policies.errors import CircuitOpenError
from recoup.policies.retry import is_async_callable
from recoup.policies.trip import ConsecutiveFailures
from recoup.recovery.config import EngineConfig
from recoup.recovery.degrade import DegradedFlags, LoadShedder, StaleCache, call_key
from recoup.recovery.protocols import EventSink, Learner
from recoup.recovery.rto import RtoRecord, RtoTracker
from recoup.recovery.strategies import GIVE_UP, REGISTRY, RETRY, SERVE, Step, give_up
from recoup.recovery.validation import CallArgs, Fixer, FixerRegistry
from recoup.telemetry.events import ErrorEvent, Outcome, RecoveryAttemptEvent, RecoveryOutcomeEvent, exception_type_name

__all__ = [
    "Attempt",
    "OpSpec",
    "RecoveryEngine",
    "RecoveryReport",
    "recovery_report",
]

P = ParamSpec("P")
R = TypeVar("R")

_log = logging.getLogger("recoup.recovery")
_MISSING: Any = object()
#: Attribute set on the final exception.
REPORT_ATTR = "recoup_recovery"

AuthRefresh = Callable[[BaseException], Any]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One failed attempt and what the engine did about it."""

    number: int
    category: Category
    error: str
    strategy: str
    action: str
    delay: float = 0.0

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.error} [{self.category.value}] -> {self.strategy}: {self.action}"


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """Everything one engine call went through. `attempts` holds the failed attempts only."""

    operation: str
    outcome: Outcome
    attempts: tuple[Attempt, ...]
    category: Category | None
    strategy: str | None
    seconds: float | None
    rto: float | None
    rto_met: bool | None

    @property
    def tried(self) -> tuple[str, ...]:
        """The strategies used, in order, without repeats."""
        return tuple(dict.fromkeys(a.strategy for a in self.attempts))

    def summary(self) -> str:
        calls = len(self.attempts) + (1 if self.outcome is Outcome.RECOVERED else 0)
        head = f"recoup: {self.outcome.value} on operation {self.operation!r} after {calls} attempt(s)"
        if self.tried:
            head += f"; tried: {', '.join(self.tried)}"
        if self.rto is not None and self.seconds is not None:
            head += f"; {self.seconds:.3f}s against an RTO of {self.rto:g}s"
        return "\n".join([head, *(f"  {a}" for a in self.attempts)])


def recovery_report(exc: BaseException) -> RecoveryReport | None:
    """The report the engine attached to an error it gave up on, if any."""
    report = getattr(exc, REPORT_ATTR, None)
    return report if isinstance(report, RecoveryReport) else None


@dataclass(frozen=True, slots=True)
class OpSpec:
    """Per-operation options (from `recoverable` or the engine defaults)."""

    operation: str
    endpoint: str | None = None
    repo: str | os.PathLike[str] | None = None
    fallback: Any = _MISSING
    cache: bool = False
    max_staleness: float | None = None
    is_async: bool = False


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


class Run:
    """The state of one engine call while it recovers (a plain slotted class: cheap to create)."""

    __slots__ = (
        "attempt", "breaker", "call", "checkpoint", "chosen", "engine", "first_failure", "last_error", "log",
        "prev_delay", "primary", "refreshed", "shed", "spec", "tries", "used_fixers",
    )

    def __init__(self, engine: RecoveryEngine, spec: OpSpec, call: CallArgs) -> None:
        self.engine = engine
        self.spec = spec
        self.call = call
        self.attempt = 0
        self.first_failure: float | None = None
        self.log: list[Attempt] = []
        self.chosen: dict[Category, tuple[str, str]] = {}  # category -> (fingerprint, strategy)
        self.primary: Category | None = None
        self.used_fixers: dict[str, str] = {}  # fixer name -> what happened
        self.refreshed = False
        self.shed = False
        self.breaker: CircuitBreaker | None = None
        self.checkpoint: Any = None
        self.prev_delay: dict[Category, float] = {}
        self.tries: dict[Category, int] = {}
        self.last_error: BaseException | None = None

    def next_delay(self, category: Category, exc: BaseException) -> float:
        n = self.tries.get(category, 0) + 1
        self.tries[category] = n
        delay = self.engine._backoffs[category].delay(n, self.prev_delay.get(category), exc)
        self.prev_delay[category] = delay
        return delay

    def use_breaker(self) -> CircuitBreaker:
        if self.breaker is None:
            self.breaker = self.engine.breaker_for(self.spec.endpoint or self.spec.operation)
        return self.breaker


class RecoveryEngine:
    """Classify -> plan -> act -> retry, per category, with degradation, RTO tracking and telemetry.

    `learner`: optional `Learner` choosing strategies per fingerprint. `sink`: optional event sink (else
    ``config.sink``). `bulkhead`: the `Bulkhead` calls run through and that resource errors shrink.
    `auth_refresh`: hook called with the auth error (once per call); return False when it could not refresh.
    `fixers`: validation fixers (default: strip BOM, decode bytes, pydantic coercion).
    """

    def __init__(
        self,
        config: EngineConfig | None = None,
        *,
        learner: Learner | None = None,
        sink: EventSink | None = None,
        clock: Clock = SYSTEM_CLOCK,
        bulkhead: Bulkhead | None = None,
        auth_refresh: AuthRefresh | None = None,
        fixers: FixerRegistry | list[Fixer] | None = None,
    ) -> None:
        self.config = config if config is not None else EngineConfig()
        self.learner = learner
        self.sink: EventSink | None = sink if sink is not None else self.config.sink
        self.clock = clock
        self.auth_refresh = auth_refresh
        self.fixers = fixers if isinstance(fixers, FixerRegistry) else FixerRegistry(fixers)
        self.bulkhead = bulkhead
        dg = self.config.degrade
        self._shedder = LoadShedder(bulkhead, dg.shrink_factor, dg.min_concurrency) if bulkhead else None
        self.cache = StaleCache(clock, dg.max_entries)
        self.flags = DegradedFlags()
        self.rto = RtoTracker()
        self._fallbacks: dict[str, Any] = {}
        self._freers: list[tuple[str, Callable[[], Any]]] = []
        self._breakers: dict[str, CircuitBreaker] = {}
        self._specs: dict[Callable[..., Any], OpSpec] = {}
        self._lock = threading.Lock()
        seed = self.config.seed
        self._backoffs: dict[Category, Backoff] = {}
        for i, (cat, cfg) in enumerate(self.config.categories.items()):
            self._backoffs[cat] = Backoff(
                "exponential",
                initial=cfg.initial_delay,
                multiplier=cfg.multiplier,
                cap=max(cfg.max_delay, cfg.initial_delay),
                jitter=cfg.jitter,  # type: ignore[arg-type]  # validated by CategoryConfig.check
                seed=None if seed is None else seed + i,
            )
        self._plain = bulkhead is None and self.sink is None
        #: The report of the most recent call that failed at least once.
        self.last_report: RecoveryReport | None = None

    @classmethod
    def from_config_file(cls, path: str | os.PathLike[str] | None = None, **kwargs: Any) -> RecoveryEngine:
        """An engine configured from `path` (TOML, pyproject.toml or YAML), or from ``recoup.toml`` /
        ``pyproject.toml`` in the current folder when `path` is None; `kwargs` go to the constructor."""
        config = EngineConfig.discover() if path is None else EngineConfig.from_file(path)
        return cls(config, **kwargs)

    # --- registration ---------------------------------------------------------------------------------

    def register_fallback(self, operation: str, fallback: Any) -> None:
        """Serve `fallback` (a value, or ``fn(exc)``) when `operation` fails with a transient category."""
        self._fallbacks[operation] = fallback

    def register_cache(self, name: str, free: Callable[[], Any]) -> None:
        """A cache to free (``free()``) while resources are exhausted (resource errors)."""
        self._freers.append((name, free))

    def register_fixer(self, fixer: Fixer, *, name: str | None = None, first: bool = False) -> Fixer:
        return self.fixers.register(fixer, name=name, first=first)

    def breaker_for(self, endpoint: str) -> CircuitBreaker:
        """The circuit breaker of `endpoint` (created on first use from ``config.breaker``)."""
        br = self._breakers.get(endpoint)
        if br is None:
            with self._lock:
                br = self._breakers.get(endpoint)
                if br is None:
                    bc = self.config.breaker
                    br = CircuitBreaker(
                        endpoint,
                        trip=ConsecutiveFailures(bc.failure_threshold),
                        reset_timeout=bc.reset_timeout,
                        clock=self.clock,
                    )
                    self._breakers[endpoint] = br
        return br

    # --- degraded mode ----------------------------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        """True while any operation runs degraded (fallback/stale served or load shed, no success since)."""
        return bool(self.flags)

    def is_degraded(self, operation: str) -> bool:
        return operation in self.flags

    @property
    def degraded_operations(self) -> dict[str, str]:
        return self.flags.snapshot()

    # --- public entry points ------------------------------------------------------------------------------

    def run(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``fn(*args, **kwargs)`` (sync) with recovery. A coroutine function needs `arun`."""
        spec = self._default_spec(fn)
        if spec.is_async:
            raise TypeError(f"{spec.operation} is a coroutine function: use `await engine.arun(...)`")
        return self._run_sync(spec, fn, args, kwargs)

    async def arun(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Await ``fn(*args, **kwargs)`` with recovery."""
        return await self._run_async(self._default_spec(fn), fn, args, kwargs)

    @overload
    def recoverable(self, fn: Callable[P, R], /) -> Callable[P, R]: ...

    @overload
    def recoverable(
        self,
        fn: None = None,
        /,
        *,
        operation: str | None = None,
        endpoint: str | None = None,
        repo: str | os.PathLike[str] | None = None,
        fallback: Any = _MISSING,
        cache: bool = False,
        max_staleness: float | None = None,
    ) -> Callable[[Callable[P, R]], Callable[P, R]]: ...

    def recoverable(
        self,
        fn: Callable[P, R] | None = None,
        /,
        *,
        operation: str | None = None,
        endpoint: str | None = None,
        repo: str | os.PathLike[str] | None = None,
        fallback: Any = _MISSING,
        cache: bool = False,
        max_staleness: float | None = None,
    ) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator (bare or with options), sync or async. `endpoint` keys the circuit breaker (default: the
        operation); `repo` is checkpointed before each call and restored on git errors; `cache` keeps the last
        good result per arguments for stale-while-error; `fallback` is served on transient failure."""

        def decorate(f: Callable[P, R]) -> Callable[P, R]:
            spec = OpSpec(operation or _name(f), endpoint, repo, fallback, cache, max_staleness, is_async_callable(f))
            if is_async_callable(f):
                af = cast(Callable[P, Awaitable[Any]], f)

                @functools.wraps(f)
                async def awrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                    return await self._run_async(spec, af, args, kwargs)

                return cast(Callable[P, R], awrapper)

            @functools.wraps(f)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                return self._run_sync(spec, f, args, kwargs)

            return wrapper

        if fn is not None:
            return decorate(fn)
        return decorate

    # --- execution --------------------------------------------------------------------------------------

    def _default_spec(self, fn: Callable[..., Any]) -> OpSpec:
        try:
            spec = self._specs.get(fn)
        except TypeError:  # an unhashable callable
            return OpSpec(_name(fn), is_async=is_async_callable(fn))
        if spec is None:
            spec = OpSpec(_name(fn), is_async=is_async_callable(fn))
            if len(self._specs) < 4096:
                self._specs[fn] = spec
        return spec

    def _fast(self, spec: OpSpec, kwargs: dict[str, Any]) -> bool:
        return (
            self._plain
            and spec.endpoint is None
            and spec.operation not in self._breakers
            and spec.repo is None
            and not spec.cache
            and not (kwargs and "repo" in kwargs)
        )

    def _run_sync(self, spec: OpSpec, fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        if self._fast(spec, kwargs):
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                failure: BaseException = exc
            else:
                if self.flags:
                    self._clear_degraded(spec.operation)
                return result
            return cast(R, self._recover_sync(Run(self, spec, CallArgs(fn, args, kwargs)), failure))
        run = self._start(spec, fn, args, kwargs)
        try:
            result = self._invoke_sync(run)
        except Exception as exc:
            failure = exc
        else:
            return cast(R, self._succeeded(run, result))
        return cast(R, self._recover_sync(run, failure))

    async def _run_async(
        self, spec: OpSpec, fn: Callable[..., Awaitable[R]], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> R:
        if self._fast(spec, kwargs):
            try:
                result = await fn(*args, **kwargs)
            except Exception as exc:
                failure: BaseException = exc
            else:
                if self.flags:
                    self._clear_degraded(spec.operation)
                return result
            return cast(R, await self._recover_async(Run(self, spec, CallArgs(fn, args, kwargs)), failure))
        if spec.repo is not None or (kwargs and "repo" in kwargs):  # git checkpoints run subprocesses
            run = await asyncio.to_thread(self._start, spec, fn, args, kwargs)
        else:
            run = self._start(spec, fn, args, kwargs)
        try:
            result = await self._invoke_async(run)
        except Exception as exc:
            failure = exc
        else:
            return cast(R, self._succeeded(run, result))
        return cast(R, await self._recover_async(run, failure))

    def _start(self, spec: OpSpec, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Run:
        run = Run(self, spec, CallArgs(fn, args, kwargs))
        if spec.endpoint is not None:
            run.breaker = self.breaker_for(spec.endpoint)
        elif self._breakers:  # created by an earlier network/service failure of this operation
            run.breaker = self._breakers.get(spec.operation)
        repo = spec.repo if spec.repo is not None else kwargs.get("repo") if kwargs else None
        if repo is not None and isinstance(repo, str | os.PathLike):
            from recoup.recovery.actions import git_checkpoint

            try:
                run.checkpoint = git_checkpoint.checkpoint(repo)
            except git_checkpoint.CheckpointError as exc:
                _log.warning("recoup: no git checkpoint for %s: %s", spec.operation, exc)
        return run

    def _invoke_sync(self, run: Run) -> Any:
        c, br, bh = run.call, run.breaker, self.bulkhead
        if br is None:
            return c.fn(*c.args, **c.kwargs) if bh is None else bh.call(c.fn, *c.args, **c.kwargs)
        if bh is None:
            return br.call(c.fn, *c.args, **c.kwargs)
        return bh.call(br.call, c.fn, *c.args, **c.kwargs)

    async def _invoke_async(self, run: Run) -> Any:
        c, br, bh = run.call, run.breaker, self.bulkhead
        if br is None:
            if bh is None:
                return await c.fn(*c.args, **c.kwargs)
            return await bh.acall(c.fn, *c.args, **c.kwargs)
        breaker = br
        if bh is None:
            return await breaker.acall(c.fn, *c.args, **c.kwargs)

        async def through_breaker() -> Any:
            return await breaker.acall(c.fn, *c.args, **c.kwargs)

        return await bh.acall(through_breaker)

    def _recover_sync(self, run: Run, exc: BaseException) -> Any:
        while True:
            step = self._on_error(run, exc)
            if step.kind == SERVE:
                assert step.serve is not None
                try:
                    value = step.serve()
                except Exception as err:
                    self._fallback_failed(run, exc, err)
                return self._finish(run, Outcome.DEGRADED, value, exc)
            if step.kind == GIVE_UP:
                self._fail(run, exc)
            if step.hook is not None:
                try:
                    ok = step.hook()
                except Exception as err:
                    self._fail(run, exc, f"gave up: the credential-refresh hook raised {_describe(err)}")
                if ok is False:
                    self._fail(run, exc, "gave up: the credential-refresh hook could not refresh (returned False)")
            if step.delay > 0:
                self.clock.sleep(step.delay)
            try:
                result = self._invoke_sync(run)
            except Exception as err:
                exc = err
                continue
            return self._succeeded(run, result)

    async def _recover_async(self, run: Run, exc: BaseException) -> Any:
        while True:
            if run.checkpoint is not None:  # restoring a git checkpoint blocks: keep it off the event loop
                step = await asyncio.to_thread(self._on_error, run, exc)
            else:
                step = self._on_error(run, exc)
            if step.kind == SERVE:
                assert step.serve is not None
                try:
                    value = step.serve()
                    if inspect.isawaitable(value):
                        value = await value
                except Exception as err:
                    self._fallback_failed(run, exc, err)
                return self._finish(run, Outcome.DEGRADED, value, exc)
            if step.kind == GIVE_UP:
                self._fail(run, exc)
            if step.hook is not None:
                try:
                    ok = step.hook()
                    if inspect.isawaitable(ok):
                        ok = await ok
                except Exception as err:
                    self._fail(run, exc, f"gave up: the credential-refresh hook raised {_describe(err)}")
                if ok is False:
                    self._fail(run, exc, "gave up: the credential-refresh hook could not refresh (returned False)")
            if step.delay > 0:
                await self.clock.asleep(step.delay)
            try:
                result = await self._invoke_async(run)
            except Exception as err:
                exc = err
                continue
            return self._succeeded(run, result)

    # --- the decision -----------------------------------------------------------------------------------

    def _classify(self, exc: BaseException) -> Classification:
        from recoup.errors.classifier import classify

        return classify(exc)

    def _on_error(self, run: Run, exc: BaseException) -> Step:
        """Classify, choose a strategy, run it, apply the RTO and degradation rules; log the attempt."""
        run.attempt += 1
        now = self.clock.monotonic()
        if run.first_failure is None:
            run.first_failure = now
        rejected = isinstance(exc, CircuitOpenError)
        real = run.last_error if rejected and run.last_error is not None else exc
        if not rejected:
            run.last_error = exc
        cls = self._classify(real)
        cat = cls.category
        if run.primary is None:
            run.primary = cat
        cfg = self.config.for_category(cat)
        name = self._choose(run, cls, cfg.strategies)
        if rejected:
            step = give_up(f"circuit breaker {getattr(exc, 'name', '?')!r} rejected the call")
        else:
            step = REGISTRY[name](run, exc, cls, cfg)
        if step.kind == RETRY and cfg.rto is not None:
            elapsed = now - run.first_failure
            if cfg.rto - elapsed < step.delay:
                step = give_up(
                    f"RTO of {cfg.rto:g}s can no longer be met ({cfg.rto - elapsed:.3f}s left, "
                    f"next wait {step.delay:.3f}s)"
                )
        if step.kind == RETRY:
            left = remaining(now)  # a deadline set by an enclosing `Timeout` policy
            if left is not None and left < step.delay:
                step = give_up(f"the call's deadline leaves {max(left, 0.0):.3f}s, next wait {step.delay:.3f}s")
        if self.sink is not None:
            event = ErrorEvent.from_exception(exc, operation=run.spec.operation, classification=cls)
            self._emit(dataclasses.replace(event, timestamp=self.clock.wall()))
        if step.kind == GIVE_UP and cls.transient:
            sub = self._substitute(run, exc)
            if sub is not None:
                sub.action = f"{step.action}; {sub.action}"
                step = sub
        run.log.append(Attempt(run.attempt, cat, _describe(exc), name, step.action, step.delay))
        if step.kind == RETRY and self.sink is not None:
            self._emit(
                RecoveryAttemptEvent(
                    operation=run.spec.operation,
                    strategy=name,
                    attempt=run.attempt + 1,
                    delay=step.delay,
                    category=cat,
                    error_type=exception_type_name(exc),
                    timestamp=self.clock.wall(),
                )
            )
        if step.call is not None:
            run.call = step.call
        return step

    def _choose(self, run: Run, cls: Classification, candidates: tuple[str, ...]) -> str:
        known = run.chosen.get(cls.category)
        if known is not None:
            return known[1]
        name = candidates[0]
        if self.learner is not None and len(candidates) > 1:
            try:
                picked = self.learner.choose(cls.fingerprint, cls.category, candidates)
            except Exception:
                _log.exception("recoup: learner.choose failed; using the default strategy %s", name)
            else:
                if picked in candidates:
                    name = picked
                else:
                    _log.warning("recoup: learner chose %r, not a candidate of %s", picked, candidates)
        run.chosen[cls.category] = (cls.fingerprint, name)
        return name

    # --- degradation --------------------------------------------------------------------------------------

    def _substitute(self, run: Run, exc: BaseException) -> Step | None:
        """Serve the operation's fallback, else its stale cached result; None when neither is available."""
        op = run.spec.operation
        fb = run.spec.fallback if run.spec.fallback is not _MISSING else self._fallbacks.get(op, _MISSING)
        if fb is not _MISSING:
            self.flags.set(op, "fallback served")
            if callable(fb):
                return Step(SERVE, "served the fallback", serve=lambda: fb(exc))
            return Step(SERVE, "served the fallback", serve=lambda: fb)
        if run.spec.cache:
            key = call_key(op, run.call.args, dict(run.call.kwargs))
            if key is not None:
                limit = run.spec.max_staleness
                found, value, age = self.cache.get(key, self.config.degrade.max_staleness if limit is None else limit)
                if found:
                    self.flags.set(op, f"stale result served ({age:.1f}s old)")
                    return Step(SERVE, f"served the cached result from {age:.1f}s ago", serve=lambda: value)
        return None

    def _shed_load(self, run: Run) -> list[str]:
        """Shrink the bulkhead and free registered caches (once per call); what was done."""
        if run.shed:
            return []
        run.shed = True
        done: list[str] = []
        if self._shedder is not None:
            change = self._shedder.shed()
            if change:
                done.append(change)
        for name, free in self._freers:
            try:
                free()
            except Exception as err:
                done.append(f"freeing cache {name!r} failed: {_describe(err)}")
            else:
                done.append(f"freed cache {name!r}")
        if done:
            self.flags.set(run.spec.operation, "shedding load: " + "; ".join(done))
        return done

    def _fallback_failed(self, run: Run, exc: BaseException, err: BaseException) -> NoReturn:
        """The fallback itself raised: the operation is not degraded, it failed; raise the original error."""
        self.flags.clear(run.spec.operation)
        self._fail(run, exc, f"{run.log[-1].action}; but the fallback raised {_describe(err)}")

    def _clear_degraded(self, operation: str) -> None:
        if self.flags.clear(operation) and self._shedder is not None and not self.flags:
            self._shedder.restore()

    # --- endings -----------------------------------------------------------------------------------------

    def _succeeded(self, run: Run, result: Any) -> Any:
        if run.spec.cache:
            key = call_key(run.spec.operation, run.call.args, dict(run.call.kwargs))
            if key is not None:
                self.cache.put(key, result)
        if self.flags:
            self._clear_degraded(run.spec.operation)
        if run.attempt == 0:
            if run.checkpoint is not None:
                self._discard(run)
            if self.sink is not None:
                self._emit(
                    RecoveryOutcomeEvent(
                        operation=run.spec.operation, strategy="none", outcome=Outcome.SUCCEEDED,
                        timestamp=self.clock.wall(),
                    )
                )
            return result
        return self._finish(run, Outcome.RECOVERED, result, None)

    def _finish(self, run: Run, outcome: Outcome, value: Any, exc: BaseException | None) -> Any:
        self._report(run, outcome, exc)
        if outcome is Outcome.RECOVERED:
            if run.checkpoint is not None:
                self._discard(run)
        elif run.checkpoint is not None:
            self._restore(run)
        return value

    def _fail(self, run: Run, exc: BaseException, action: str | None = None) -> NoReturn:
        if isinstance(exc, CircuitOpenError) and run.last_error is not None:
            exc = run.last_error  # rejected after real failures in this call: raise the real error
        if action is not None and run.log:
            run.log[-1] = _replace_action(run.log[-1], action)
        outcome = Outcome.FAILED_FAST if run.attempt == 1 else Outcome.GAVE_UP
        report = self._report(run, outcome, exc)
        if run.checkpoint is not None:
            self._restore(run)
        with contextlib.suppress(AttributeError, TypeError):  # an exception type with __slots__
            setattr(exc, REPORT_ATTR, report)
        exc.add_note(report.summary())
        raise exc

    def _report(self, run: Run, outcome: Outcome, exc: BaseException | None) -> RecoveryReport:
        now = self.clock.monotonic()
        seconds = None if run.first_failure is None else now - run.first_failure
        cat = run.primary
        rto = self.config.for_category(cat).rto if cat is not None else None
        strategy = run.chosen[cat][1] if cat is not None and cat in run.chosen else None
        recovered = outcome is Outcome.RECOVERED
        record: RtoRecord | None = None
        if cat is not None and seconds is not None:
            record = RtoRecord(run.spec.operation, cat, seconds, rto, recovered)
            self.rto.add(record)
        rto_met = record.met if record is not None else None
        report = RecoveryReport(
            run.spec.operation, outcome, tuple(run.log), cat, strategy, seconds, rto, rto_met
        )
        if self.learner is not None and seconds is not None:
            for category, (fp, name) in run.chosen.items():
                try:
                    self.learner.record(
                        fp, category, name, success=recovered,
                        attempts=run.attempt + (1 if recovered else 0), seconds=seconds,
                    )
                except Exception:
                    _log.exception("recoup: learner.record failed")
        if self.sink is not None:
            self._emit(
                RecoveryOutcomeEvent(
                    operation=run.spec.operation,
                    strategy=strategy or "none",
                    outcome=outcome,
                    attempts=run.attempt + (1 if recovered else 0),
                    time_to_recover=seconds if recovered else None,
                    rto_met=rto_met,
                    category=cat,
                    error_type=exception_type_name(exc) if exc is not None else None,
                    timestamp=self.clock.wall(),
                )
            )
        self.last_report = report
        return report

    def _discard(self, run: Run) -> None:
        from recoup.recovery.actions import git_checkpoint

        try:
            git_checkpoint.discard(run.checkpoint)
        except Exception:
            _log.exception("recoup: discarding git checkpoint failed")

    def _restore(self, run: Run) -> None:
        from recoup.recovery.actions import git_checkpoint

        try:
            git_checkpoint.restore(run.checkpoint)
        except Exception:
            _log.exception("recoup: restoring git checkpoint failed")

    def _emit(self, event: Any) -> None:
        sink = self.sink
        if sink is None:
            return
        try:
            sink.emit(event)
        except Exception:
            _log.exception("recoup: telemetry sink failed")


def _replace_action(a: Attempt, action: str) -> Attempt:
    return Attempt(a.number, a.category, a.error, a.strategy, action, a.delay)


def _name(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__)

