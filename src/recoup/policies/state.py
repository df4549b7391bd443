"""Where breaker and rate-limiter state lives: one interface, an in-memory store, and (in
`recoup.policies.redis_store`) a Redis store shared by every process that uses the same name.

The decision logic is pure and lives in the policies; a store only guarantees that one decision
at a time applies to one name's state (`update` runs a pure function atomically). That keeps one
implementation of every rule whether the state is local or shared.
"""

from __future__ import annotations

import _thread
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"

NORMAL = "normal"
FORCED_OPEN = "forced_open"
FORCED_CLOSED = "forced_closed"
DISABLED = "disabled"
METRICS_ONLY = "metrics_only"

MODES = frozenset({NORMAL, FORCED_OPEN, FORCED_CLOSED, DISABLED, METRICS_ONLY})


@dataclass(slots=True, eq=False)
class BreakerState:
    """Everything a breaker decides from. Times are in the breaker's time base (see `BreakerStore.shared`).

    `fast` and `dirty` are local hints for the in-memory fast path and are never persisted.
    """

    state: str = CLOSED
    mode: str = NORMAL
    gen: int = 0  # bumped on every state change, so late results of an older state are ignored
    opened_at: float = 0.0
    open_until: float = 0.0
    reopens: int = 0  # consecutive re-opens from half-open (drives the reset-timeout backoff)
    probes: int = 0  # probes admitted in this half-open period
    probe_ok: int = 0
    probe_failed: int = 0
    failures: int = 0  # counters since creation (metrics)
    rejections: int = 0
    opens: int = 0
    trip: list[Any] = field(default_factory=list)
    cfg: str = ""  # which trip conditions `trip` belongs to (a shared store may hold another config's)
    fast: bool = True
    dirty: bool = False

    _PERSISTED = (
        "state", "mode", "gen", "opened_at", "open_until", "reopens", "probes",
        "probe_ok", "probe_failed", "failures", "rejections", "opens", "trip", "cfg",
    )  # fmt: skip

    def to_json(self) -> str:
        return json.dumps([getattr(self, k) for k in self._PERSISTED], separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> BreakerState:
        st = cls()
        for key, value in zip(cls._PERSISTED, json.loads(text), strict=True):
            setattr(st, key, value)
        return st


@runtime_checkable
class BreakerStore(Protocol):
    """Holds breaker state by name and applies pure updates to it atomically."""

    #: True when other processes see the state; breakers then keep times in wall-clock seconds.
    shared: bool

    def update(self, name: str, init: Callable[[], BreakerState], fn: Callable[[BreakerState], T]) -> T:
        """Apply `fn` to `name`'s state (created by `init` if absent) atomically; return what it returns.

        `fn` mutates the state in place and must be pure (a shared store may run it more than once).
        """
        ...


class MemoryBreakerStore:
    """Process-local state: a dict of states, one lock each. Thread-safe; asyncio-safe (never awaits)."""

    shared = False

    def __init__(self) -> None:
        self._cells: dict[str, tuple[BreakerState, _thread.LockType]] = {}
        self._guard = _thread.allocate_lock()

    def cell(self, name: str, init: Callable[[], BreakerState]) -> tuple[BreakerState, _thread.LockType]:
        """The live state object and its lock (the breaker's lock-free fast path reads it directly)."""
        found = self._cells.get(name)
        if found is None:
            with self._guard:
                found = self._cells.get(name)
                if found is None:
                    found = (init(), _thread.allocate_lock())
                    self._cells[name] = found
        return found

    def update(self, name: str, init: Callable[[], BreakerState], fn: Callable[[BreakerState], T]) -> T:
        st, lock = self.cell(name, init)
        with lock:
            return fn(st)


# --- token buckets ---------------------------------------------------------------------------------


@runtime_checkable
class TokenBucketStore(Protocol):
    """Token buckets by name; `take` is atomic."""

    shared: bool

    def take(self, name: str, rate: float, burst: float, tokens: float, now: float) -> float:
        """Take `tokens` if available: return 0.0 when taken, else the seconds until they will be."""
        ...


def bucket_take(
    level: float, last: float, rate: float, burst: float, tokens: float, now: float
) -> tuple[float, float, float]:
    """The pure token-bucket step: (new level, new last-refill time, wait). wait 0.0 means taken.

    Mirrors the Lua in `redis_store` so memory and Redis limit identically.
    """
    if now > last:
        level = min(burst, level + (now - last) * rate)
        last = now
    if level >= tokens:
        return level - tokens, last, 0.0
    if tokens > burst:
        return level, last, float("inf")
    return level, last, (tokens - level) / rate


class MemoryBucketStore:
    """Process-local token buckets (thread-safe)."""

    shared = False

    def __init__(self) -> None:
        self._buckets: dict[str, list[float]] = {}
        self._lock = _thread.allocate_lock()

    def take(self, name: str, rate: float, burst: float, tokens: float, now: float) -> float:
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is None:
                bucket = self._buckets[name] = [burst, now]
            bucket[0], bucket[1], wait = bucket_take(bucket[0], bucket[1], rate, burst, tokens, now)
            return wait

    def level(self, name: str) -> float | None:
        """Tokens left at the last refill (for tests and metrics)."""
        bucket = self._buckets.get(name)
        return None if bucket is None else bucket[0]


__all__ = [
    "CLOSED",
    "DISABLED",
    "FORCED_CLOSED",
    "FORCED_OPEN",
    "HALF_OPEN",
    "METRICS_ONLY",
    "NORMAL",
    "OPEN",
    "BreakerState",
    "BreakerStore",
    "MemoryBreakerStore",
    "MemoryBucketStore",
    "TokenBucketStore",
    "bucket_take",
]
