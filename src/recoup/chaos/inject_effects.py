"""What a chaos rule does when it fires: raise a real fault, add latency, or hang.

Waits go through the injectable clock (`recoup.clock.Clock`), so with a `FakeClock` latency is recorded in
``clock.sleeps`` and costs nothing. A hang with no maximum blocks for real until it is released
(`Chaos.release_hangs`, the end of `Chaos.active`) or, in async code, until its task is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from recoup.chaos.catalogue import Fault, clone, fault
from recoup.clock import Clock, SystemClock

__all__ = ["Effect", "Hang", "HangGate", "Latency", "Raise"]

Sampler = Callable[[random.Random], float]


def _seconds(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    return float(value)


class HangGate:
    """Releases every hung call at once, from any thread; hung async calls wake on their own loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._waiters: set[asyncio.Future[None]] = set()

    def wait(self, timeout: float | None) -> bool:
        """Block until released or `timeout` seconds pass; True when released."""
        with self._lock:
            event = self._event
        return event.wait(timeout)

    async def await_release(self) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiters.add(waiter)
        try:
            await waiter
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def release(self) -> int:
        """Wake every call hung now (later hangs block again); returns how many async waiters were woken."""
        with self._lock:
            event, self._event = self._event, threading.Event()
            waiters, self._waiters = self._waiters, set()
        event.set()
        for waiter in waiters:
            waiter.get_loop().call_soon_threadsafe(_resolve, waiter)
        return len(waiters)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _waits_for_real(clock: Clock) -> bool:
    return isinstance(clock, SystemClock) and SystemClock.waits_enabled


class Effect:
    """Base of the effects; `label` names it in the injection records."""

    label: str = "effect"

    def apply(self, clock: Clock, rng: random.Random, gate: HangGate) -> float:
        """Do the effect in a sync call; returns seconds waited (raises for faults)."""
        raise NotImplementedError

    async def aapply(self, clock: Clock, rng: random.Random, gate: HangGate) -> float:
        raise NotImplementedError


@dataclass(frozen=True)
class Latency(Effect):
    """Delay before the call: fixed, uniform, exponential, log-normal, or any sampler ``rng -> seconds``."""

    sampler: Sampler = field(repr=False)
    description: str = "latency"
    label: str = field(default="latency", init=False)

    @classmethod
    def fixed(cls, seconds: float) -> Latency:
        value = _seconds("Latency.fixed seconds", seconds)
        return cls(lambda rng: value, f"fixed {value}s")

    @classmethod
    def uniform(cls, low: float, high: float) -> Latency:
        lo, hi = _seconds("Latency.uniform low", low), _seconds("Latency.uniform high", high)
        if hi < lo:
            raise ValueError(f"Latency.uniform high ({high!r}) must be >= low ({low!r})")
        return cls(lambda rng: rng.uniform(lo, hi), f"uniform {lo}-{hi}s")

    @classmethod
    def exponential(cls, mean: float, cap: float | None = None) -> Latency:
        mu = _seconds("Latency.exponential mean", mean)
        if mu == 0:
            raise ValueError("Latency.exponential mean must be > 0")
        limit = math.inf if cap is None else _seconds("Latency.exponential cap", cap)
        return cls(lambda rng: min(limit, rng.expovariate(1.0 / mu)), f"exponential mean {mu}s")

    @classmethod
    def lognormal(cls, median: float, sigma: float, cap: float | None = None) -> Latency:
        """Long-tailed, like real service latency: half the delays are under `median`."""
        med = _seconds("Latency.lognormal median", median)
        spread = _seconds("Latency.lognormal sigma", sigma)
        if med == 0:
            raise ValueError("Latency.lognormal median must be > 0")
        limit = math.inf if cap is None else _seconds("Latency.lognormal cap", cap)
        mu = math.log(med)
        return cls(lambda rng: min(limit, rng.lognormvariate(mu, spread)), f"lognormal median {med}s")

    @classmethod
    def choice(cls, seconds: Sequence[float]) -> Latency:
        """One of the given delays, uniformly (e.g. latencies recorded from production)."""
        values = [_seconds(f"Latency.choice seconds[{i}]", s) for i, s in enumerate(seconds)]
        if not values:
            raise ValueError("Latency.choice needs at least one delay")
        return cls(lambda rng: rng.choice(values), f"choice of {len(values)} delays")

    def sample(self, rng: random.Random) -> float:
        value = self.sampler(rng)
        return _seconds(f"Latency ({self.description}) sample", value)

    def apply(self, clock: Clock, rng: random.Random, gate: HangGate) -> float:
        delay = self.sample(rng)
        clock.sleep(delay)
        return delay

    async def aapply(self, clock: Clock, rng: random.Random, gate: HangGate) -> float:
        delay = self.sample(rng)
        await clock.asleep(delay)
        return delay


@dataclass(frozen=True)
class Hang(Effect):
    """Block the call until released or cancelled, or for at most `max_seconds` of the clock, then go on
    (or raise `then`, e.g. ``"network.read-timeout"``, as a client with a timeout would)."""

    max_seconds: float | None = None
    then: Raise | FaultSpec | None = None
    label: str = field(default="hang", init=False)

    def __post_init__(self) -> None:
        if self.max_seconds is not None:
            _seconds("Hang.max_seconds", self.max_seconds)
        if self.then is not None and not isinstance(self.then, Raise):
            object.__setattr__(self, "then", Raise(self.then))

    def apply(self, clock: Clock, rng: random.Random, gate: HangGate) -> float:
        start = clock.monotonic()
        if self.max_seconds is None:
            gate.wait(None)
        elif _waits_for_real(clock):
            gate.wait(self.max_seconds)
        else:
            clock.sleep(self.max_seconds)
        waited = clock.monotonic() - start
        if isinstance(self.then, Raise):
            self.then.apply(clock, rng, gate)
        return waited

    async def aapply(self, clock: Clock, rng: random.Random, gate: HangGate) -> float:
        start = clock.monotonic()
        if self.max_seconds is None:
            await gate.await_release()
        elif _waits_for_real(clock):
            with contextlib.suppress(TimeoutError):  # TimeoutError: the hang ran its full length
                await asyncio.wait_for(gate.await_release(), self.max_seconds)
        else:
            await clock.asleep(self.max_seconds)
        waited = clock.monotonic() - start
        if isinstance(self.then, Raise):
            await self.then.aapply(clock, rng, gate)
        return waited


FaultSpec = Fault | str | BaseException | type[BaseException] | Callable[[], BaseException]


class Raise(Effect):
    """Raise a fault: a catalogue `Fault` or its name, an exception instance (a copy is raised each time),
    an exception type (instantiated with no arguments) or a factory returning a fresh exception."""

    def __init__(self, spec: FaultSpec) -> None:
        if isinstance(spec, str):
            spec = fault(spec)
        if isinstance(spec, Fault):
            catalogued = spec
            self.label = catalogued.name
            self._sync: Callable[[], BaseException] = catalogued.exception
            self._async: Fault | None = catalogued
        elif isinstance(spec, BaseException):
            template = spec
            self.label = type(template).__qualname__
            self._sync = lambda: clone(template)
            self._async = None
        elif isinstance(spec, type) and issubclass(spec, BaseException):
            kind = spec
            self.label = kind.__qualname__
            self._sync = kind
            self._async = None
        elif callable(spec):
            factory = cast(Callable[[], BaseException], spec)
            self.label = getattr(factory, "__qualname__", "factory")
            self._sync = factory
            self._async = None
        else:
            raise TypeError(
                f"Raise() takes a catalogue fault or its name, an exception, an exception type or a factory; "
                f"got {spec!r}"
            )

    def exception(self) -> BaseException:
        made = self._sync()
        if not isinstance(made, BaseException):
            raise TypeError(f"fault factory {self.label!r} returned {made!r}, not an exception")
        return made

    def apply(self, clock: Clock, rng: random.Random, gate: HangGate) -> float:
        raise self.exception()

    async def aapply(self, clock: Clock, rng: random.Random, gate: HangGate) -> float:
        if self._async is not None:
            raise await self._async.aexception()
        raise self.exception()

    def __repr__(self) -> str:
        return f"Raise({self.label!r})"
