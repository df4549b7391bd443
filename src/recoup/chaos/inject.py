"""In-process fault injection, Polly-style: a `Chaos` object holds rules and injects at named points.

Mark points in code with ``@chaos.inject("payments.charge")`` (sync or async) or ``chaos.point(name)``;
arm rules with ``chaos.add(...)`` or, scoped, ``with chaos.active(Rule.fail("network.connection-refused",
target="payments.*", schedule=FirstCalls(2))):``. With no rule armed a point costs one attribute check, and
``RECOUP_CHAOS=0`` (or ``false``/``off``/``no``) in the environment disables every injection, so the
decorators are safe to leave in production code. Everything injected is counted per point and effect
(`counts`, `history`, `report`) so a test or the assessment can say exactly what it went through.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import threading
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, NamedTuple, ParamSpec, TypeVar, cast, overload

from recoup.chaos.inject_effects import Effect, HangGate, Raise
from recoup.chaos.inject_rules import Point, Rule
from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.policies.base import is_async_callable

__all__ = ["CHAOS", "Chaos", "ChaosConfigError", "Injection"]

P = ParamSpec("P")
R = TypeVar("R")

ENV_VAR = "RECOUP_CHAOS"
_OFF = frozenset({"0", "false", "off", "no"})
_ON = frozenset({"", "1", "true", "on", "yes"})


class ChaosConfigError(ValueError):
    """The chaos configuration (environment switch, rules) is not valid."""


class Injection(NamedTuple):
    """One injected effect, as kept in `Chaos.history`."""

    at: float
    point: str
    rule: str
    effect: str
    seconds: float


@dataclass(eq=False)
class _Armed:
    """A rule's run-time state: its own seeded RNG, the matching calls it saw, what it injected."""

    rule: Rule
    rng: random.Random
    armed_at: float
    calls: int = 0
    injected: int = 0
    matches: dict[Point, bool] = field(default_factory=dict)  # a point's match never changes: decided once


class Chaos:
    """Fault injector. Thread-safe; decisions are exact given the seed, the clock and the call order."""

    def __init__(
        self,
        *rules: Rule,
        seed: int | str = 0,
        clock: Clock | None = None,
        enabled: bool = True,
        env_var: str = ENV_VAR,
        history: int = 10_000,
    ) -> None:
        self.seed = seed
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.env_var = env_var
        self._switch = bool(enabled)
        self._lock = threading.Lock()
        self._armed: tuple[_Armed, ...] = ()
        self._serial = 0
        self._gate = HangGate()
        self._calls: Counter[str] = Counter()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._delay = 0.0
        self.history: deque[Injection] = deque(maxlen=history)
        self.add(*rules)

    # -- switch -------------------------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """On unless switched off here (`disable`) or by the environment (``RECOUP_CHAOS=0``)."""
        if not self._switch:
            return False
        raw = os.environ.get(self.env_var)
        if raw is None:
            return True
        value = raw.strip().lower()
        if value in _OFF:
            return False
        if value in _ON:
            return True
        raise ChaosConfigError(
            f"environment variable {self.env_var}={raw!r} is not a switch: use 0/false/off/no or 1/true/on/yes"
        )

    def enable(self) -> None:
        self._switch = True

    def disable(self) -> None:
        self._switch = False

    # -- rules --------------------------------------------------------------------------------------------

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(armed.rule for armed in self._armed)

    def add(self, *rules: Rule) -> None:
        """Arm rules now: their schedules' time starts at the clock's present."""
        for rule in rules:
            if not isinstance(rule, Rule):
                raise TypeError(f"Chaos.add takes Rule objects (Rule.fail/delay/hang), got {rule!r}")
        with self._lock:
            present = {id(armed.rule) for armed in self._armed}
            fresh: list[_Armed] = []
            for rule in rules:
                if id(rule) in present:
                    raise ChaosConfigError(f"rule {rule.name!r} is already armed on this Chaos")
                present.add(id(rule))
                self._serial += 1
                rng = random.Random(f"{self.seed}:{self._serial}:{rule.name}")
                fresh.append(_Armed(rule, rng, self.clock.monotonic()))
            self._armed = (*self._armed, *fresh)

    def remove(self, *rules: Rule) -> None:
        """Disarm rules (unknown ones are ignored) and release anything they hung."""
        gone = {id(rule) for rule in rules}
        with self._lock:
            self._armed = tuple(armed for armed in self._armed if id(armed.rule) not in gone)
        self.release_hangs()

    def clear(self) -> None:
        """Disarm every rule and release every hung call."""
        with self._lock:
            self._armed = ()
        self.release_hangs()

    def release_hangs(self) -> int:
        """Let every call hung right now go on (async ones wake on their loops)."""
        return self._gate.release()

    def active(self, *rules: Rule, enable: bool = True) -> _Activation:
        """Arm `rules` for a ``with``/``async with`` block (and switch the injector on if `enable`)."""
        return _Activation(self, rules, enable)

    @contextlib.contextmanager
    def fresh(self, *, seed: int | str | None = None, clock: Clock | None = None) -> Iterator[Chaos]:
        """This injector with no rules and no records for a block (a test), then exactly as it was."""
        with self._lock:
            saved = (self._armed, self.seed, self.clock, self._switch, self._calls, self._counts, self._delay,
                     self.history)
            self._armed = ()
            self._calls, self._counts, self._delay = Counter(), Counter(), 0.0
            self.history = deque(maxlen=self.history.maxlen)
            self.seed = self.seed if seed is None else seed
            self.clock = clock or self.clock
            self._switch = True
        try:
            yield self
        finally:
            self.release_hangs()
            with self._lock:
                (self._armed, self.seed, self.clock, self._switch, self._calls, self._counts, self._delay,
                 self.history) = saved

    # -- records ------------------------------------------------------------------------------------------

    @property
    def calls(self) -> dict[str, int]:
        """Calls seen per point while rules were armed and chaos enabled."""
        with self._lock:
            return dict(self._calls)

    @property
    def counts(self) -> dict[tuple[str, str], int]:
        """Injections per (point, effect), the effect being a fault name, ``latency`` or ``hang``."""
        with self._lock:
            return dict(self._counts)

    def injected(self, point: str | None = None, effect: str | None = None) -> int:
        """How many injections matched `point` and `effect` (None: any)."""
        with self._lock:
            return sum(n for (p, e), n in self._counts.items()
                       if (point is None or p == point) and (effect is None or e == effect))

    @property
    def delay_injected(self) -> float:
        """Seconds of latency and hangs injected in total (on the injector's clock)."""
        with self._lock:
            return self._delay

    def reset_records(self) -> None:
        with self._lock:
            self._calls.clear()
            self._counts.clear()
            self._delay = 0.0
            self.history.clear()

    def report(self) -> dict[str, Any]:
        """A JSON-ready summary: calls per point, injections per point and effect, latency injected."""
        with self._lock:
            return {
                "enabled": self._switch,
                "seed": self.seed,
                "rules": [
                    {"name": a.rule.name, "target": a.rule.target, "tags": sorted(a.rule.tags), "rate": a.rule.rate,
                     "schedule": repr(a.rule.schedule), "calls": a.calls, "injected": a.injected}
                    for a in self._armed
                ],
                "calls": dict(sorted(self._calls.items())),
                "injected": [{"point": p, "effect": e, "count": n} for (p, e), n in sorted(self._counts.items())],
                "delay_seconds": round(self._delay, 6),
            }

    # -- deciding and applying ----------------------------------------------------------------------------

    def _decide(self, point: Point) -> list[_Armed]:
        """The rules that fire on this call, delays first then at most one raising rule, all counted."""
        if not self.enabled:
            return []
        delays: list[_Armed] = []
        raising: _Armed | None = None
        with self._lock:
            now = self.clock.monotonic()
            self._calls[point.name] += 1
            for armed in self._armed:
                rule = armed.rule
                hit = armed.matches.get(point)
                if hit is None:
                    hit = armed.matches[point] = rule.matches(point)
                if not hit:
                    continue
                armed.calls += 1
                if rule.limit is not None and armed.injected >= rule.limit:
                    continue
                if not rule.schedule.fires(armed.calls, now - armed.armed_at):
                    continue
                if rule.rate < 1.0 and armed.rng.random() >= rule.rate:
                    continue
                if isinstance(rule.effect, Raise):
                    if raising is not None:
                        continue  # one exception per call: the first raising rule wins
                    raising = armed
                else:
                    delays.append(armed)
                armed.injected += 1
                self._counts[(point.name, rule.effect.label)] += 1
        return [*delays, raising] if raising is not None else delays

    def _record(self, point: Point, armed: _Armed, started: float, seconds: float) -> None:
        with self._lock:
            self._delay += seconds
            self.history.append(Injection(started, point.name, armed.rule.name, armed.rule.effect.label, seconds))

    def _annotate(self, exc: BaseException, point: Point, armed: _Armed) -> None:
        exc.add_note(f"recoup.chaos: injected {armed.rule.effect.label!r} at {point.name!r} "
                     f"(rule {armed.rule.name!r}, call {armed.calls})")

    def _run(self, point: Point) -> None:
        for armed in self._decide(point):
            effect: Effect = armed.rule.effect
            started = self.clock.monotonic()
            try:
                waited = effect.apply(self.clock, armed.rng, self._gate)
            except BaseException as exc:
                self._record(point, armed, started, self.clock.monotonic() - started)
                self._annotate(exc, point, armed)
                raise
            self._record(point, armed, started, waited)

    async def _arun(self, point: Point) -> None:
        for armed in self._decide(point):
            effect: Effect = armed.rule.effect
            started = self.clock.monotonic()
            try:
                waited = await effect.aapply(self.clock, armed.rng, self._gate)
            except BaseException as exc:
                self._record(point, armed, started, self.clock.monotonic() - started)
                self._annotate(exc, point, armed)
                raise
            self._record(point, armed, started, waited)

    # -- injection points ---------------------------------------------------------------------------------

    def point(self, name: str, *, tags: Iterable[str] = ()) -> None:
        """An explicit sync injection point: raises, delays or hangs here when a rule fires."""
        if self._armed:
            self._run(Point.of(name, tags=tags))

    async def apoint(self, name: str, *, tags: Iterable[str] = ()) -> None:
        """An explicit async injection point."""
        if self._armed:
            await self._arun(Point.of(name, tags=tags))

    @overload
    def inject(self, fn: Callable[P, Coroutine[Any, Any, R]], /) -> Callable[P, Coroutine[Any, Any, R]]: ...

    @overload
    def inject(self, fn: Callable[P, R], /) -> Callable[P, R]: ...

    @overload
    def inject(self, name: str | None = None, /, *, tags: Iterable[str] = ()) -> _Decorator: ...

    def inject(
        self, name: str | Callable[..., Any] | None = None, /, *, tags: Iterable[str] = ()
    ) -> _Decorator | Callable[..., Any]:
        """Decorator making a function an injection point, named `name` (default ``module.qualname``)."""
        if callable(name):
            return _Decorator(self, None, ())(name)
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"Chaos.inject name must be a non-empty string or None, got {name!r}")
        return _Decorator(self, name, tags)

    def __repr__(self) -> str:
        return f"Chaos(rules={len(self._armed)}, seed={self.seed!r}, enabled={self._switch})"


class _Decorator:
    """What ``chaos.inject("name")`` returns: wraps sync and async functions, keeping their signature."""

    def __init__(self, chaos: Chaos, name: str | None, tags: Iterable[str]) -> None:
        self._chaos = chaos
        self._name = name
        self._tags = tags

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]: ...

    @overload
    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]: ...

    def __call__(self, fn: Callable[P, Any]) -> Callable[P, Any]:
        qualname = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
        point = Point.of(self._name or qualname, qualname, self._tags)
        chaos = self._chaos
        if is_async_callable(fn):
            afn = cast(Callable[P, Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def coroutine(*args: P.args, **kwargs: P.kwargs) -> Any:
                if chaos._armed:
                    await chaos._arun(point)
                return await afn(*args, **kwargs)

            coroutine.__recoup_chaos_point__ = point  # type: ignore[attr-defined]
            return coroutine

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            if chaos._armed:
                chaos._run(point)
            return fn(*args, **kwargs)

        wrapper.__recoup_chaos_point__ = point  # type: ignore[attr-defined]
        return wrapper


class _Activation:
    """``with chaos.active(...)`` / ``async with``: rules armed inside the block only."""

    def __init__(self, chaos: Chaos, rules: tuple[Rule, ...], enable: bool) -> None:
        self._chaos = chaos
        self._rules = rules
        self._enable = enable
        self._was_on = chaos._switch

    def __enter__(self) -> Chaos:
        self._was_on = self._chaos._switch
        if self._enable:
            self._chaos.enable()
        self._chaos.add(*self._rules)
        return self._chaos

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._chaos.remove(*self._rules)
        self._chaos._switch = self._was_on

    async def __aenter__(self) -> Chaos:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)


CHAOS = Chaos()
"""The process-wide injector: decorate with ``@CHAOS.inject(...)``; the pytest fixture `chaos` resets it."""
