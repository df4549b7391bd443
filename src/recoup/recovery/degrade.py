"""Graceful degradation: stale-while-error cache, per-operation degraded flags, load shedding.

* `StaleCache` keeps the last good result per (operation, arguments) key; after a transient failure the
  engine may serve it if it is younger than the configured maximum staleness.
* `DegradedFlags` says which operations currently run degraded (a fallback or stale value was served, or
  load was shed); a later success of the operation clears its flag.
* `LoadShedder` lowers a `Bulkhead`'s concurrency while resources are exhausted and restores it once the
  operation succeeds again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from recoup.clock import Clock
from recoup.policies.bulkhead import Bulkhead

_MISSING: Any = object()


def call_key(operation: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Hashable | None:
    """A hashable key for one call, or None when an argument is unhashable (the call is then not cached)."""
    key = (operation, args, tuple(sorted(kwargs.items()))) if kwargs else (operation, args)
    try:
        hash(key)
    except TypeError:
        return None
    return key


class StaleCache:
    """Last good results, LRU-bounded; timestamps come from the engine's clock (monotonic)."""

    def __init__(self, clock: Clock, max_entries: int = 1024) -> None:
        self._clock = clock
        self._max = max_entries
        self._lock = threading.Lock()
        self._data: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()

    def put(self, key: Hashable, value: Any) -> None:
        now = self._clock.monotonic()
        with self._lock:
            self._data[key] = (value, now)
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def get(self, key: Hashable, max_staleness: float) -> tuple[bool, Any, float]:
        """(found, value, age in seconds); not found when absent or older than `max_staleness`."""
        with self._lock:
            entry = self._data.get(key)
        if entry is None:
            return False, None, 0.0
        age = self._clock.monotonic() - entry[1]
        if age > max_staleness:
            return False, None, age
        return True, entry[0], age

    def clear(self) -> int:
        with self._lock:
            n = len(self._data)
            self._data.clear()
            return n

    def __len__(self) -> int:
        return len(self._data)


class DegradedFlags:
    """Operation name -> why it is degraded. Readable from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flags: dict[str, str] = {}

    def set(self, operation: str, reason: str) -> None:
        with self._lock:
            self._flags[operation] = reason

    def clear(self, operation: str) -> bool:
        if operation not in self._flags:  # cheap check first: the success path calls this every time
            return False
        with self._lock:
            return self._flags.pop(operation, None) is not None

    def __contains__(self, operation: object) -> bool:
        return operation in self._flags

    def __bool__(self) -> bool:
        return bool(self._flags)

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._flags)


class LoadShedder:
    """Shrinks a bulkhead (never below `min_concurrency`) and puts the original size back on `restore`."""

    def __init__(self, bulkhead: Bulkhead, factor: float, min_concurrency: int) -> None:
        self.bulkhead = bulkhead
        self._factor = factor
        self._min = min_concurrency
        self._lock = threading.Lock()
        self._original: int | None = None

    @property
    def shedding(self) -> bool:
        return self._original is not None

    def shed(self) -> str | None:
        """Lower the concurrency one step; a description of the change, or None when already at the floor."""
        with self._lock:
            current = self.bulkhead.max_concurrent
            target = max(self._min, int(current * self._factor))
            if target >= current:
                return None
            if self._original is None:
                self._original = current
            self.bulkhead.resize(target)
            return f"bulkhead {self.bulkhead.name!r} concurrency {current} -> {target}"

    def restore(self) -> str | None:
        """Put the size from before the first `shed` back; a description, or None when nothing was shed."""
        with self._lock:
            original, self._original = self._original, None
            if original is None:
                return None
            current = self.bulkhead.max_concurrent
            self.bulkhead.resize(original)
        return f"bulkhead {self.bulkhead.name!r} concurrency {current} -> {original} (restored)"


CacheFreer = Callable[[], Any]
