"""A retry budget: retries may be at most a fraction of recent calls, plus a small floor.

Modelled on Finagle's RetryBudget (and gRPC retry throttling): every call deposits, every retry
withdraws one token, and the balance over a sliding window is

    balance = min_per_second * window + ratio * calls_in_window - retries_in_window

so during an outage retries stop amplifying load once they reach ``ratio`` of the traffic, while
a quiet service still gets ``min_per_second`` retries per second.

Cost: a deposit is one ``next()`` on an ``itertools.count`` (atomic in CPython, no lock, no clock
read), so a budget adds almost nothing to successful calls. Deposits are folded into the time
window lazily, under the lock, when a retry asks to withdraw; deposits made before a long quiet
gap are counted proportionally (as if spread evenly), which is exact enough for throttling.

One budget may be shared by many `Retry` instances (e.g. every retry talking to one upstream).
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable

from recoup.clock import SYSTEM_CLOCK, Clock


class RetryBudget:
    """Thread-safe sliding-window retry budget. `try_withdraw()` is the only call that takes the lock."""

    __slots__ = (
        "_buckets",
        "_last_fold",
        "_last_tick",
        "_lock",
        "_ticks",
        "_width",
        "buckets",
        "clock",
        "min_per_second",
        "ratio",
        "record_call",
        "window",
    )

    def __init__(
        self,
        ratio: float = 0.2,
        min_per_second: float = 10.0,
        window: float = 10.0,
        *,
        buckets: int = 10,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if ratio < 0 or min_per_second < 0:
            raise ValueError("ratio and min_per_second must be >= 0")
        if window <= 0 or buckets < 1:
            raise ValueError("window must be > 0 and buckets >= 1")
        self.ratio = float(ratio)
        self.min_per_second = float(min_per_second)
        self.window = float(window)
        self.buckets = buckets
        self.clock = clock
        self._width = self.window / buckets
        self._ticks = itertools.count()
        self._last_tick = -1
        self._last_fold = clock.monotonic()
        # Each bucket: [start, deposits, withdrawals].
        self._buckets: deque[list[float]] = deque()
        self._lock = threading.Lock()
        #: Record one call (a deposit). Lock-free and clock-free: safe on the hottest path.
        self.record_call: Callable[[], object] = self._ticks.__next__

    def _fold(self, now: float) -> list[float]:
        """Move lock-free deposits into the current bucket and drop buckets older than the window."""
        tick = next(self._ticks)
        pending = tick - self._last_tick - 1
        self._last_tick = tick
        gap = now - self._last_fold
        self._last_fold = now
        buckets = self._buckets
        horizon = now - self.window
        while buckets and buckets[0][0] <= horizon:
            buckets.popleft()
        if not buckets or now >= buckets[-1][0] + self._width:
            buckets.append([now, 0.0, 0.0])
        current = buckets[-1]
        if pending > 0:
            current[1] += pending * (self.window / gap) if gap > self.window else pending
        return current

    def _balance(self) -> float:
        deposits = sum(b[1] for b in self._buckets)
        withdrawals = sum(b[2] for b in self._buckets)
        return self.min_per_second * self.window + self.ratio * deposits - withdrawals

    def try_withdraw(self) -> bool:
        """Take one retry token if the budget allows it; False means: do not retry now."""
        with self._lock:
            current = self._fold(self.clock.monotonic())
            if self._balance() >= 1.0:
                current[2] += 1.0
                return True
            return False

    def balance(self) -> float:
        """Retries still allowed in the current window (for dashboards and tests)."""
        with self._lock:
            self._fold(self.clock.monotonic())
            return self._balance()

    def __repr__(self) -> str:
        return f"RetryBudget(ratio={self.ratio}, min_per_second={self.min_per_second}, window={self.window})"
