"""Trip conditions: when a closed circuit breaker should open.

A condition is pure configuration; the state it keeps lives beside the breaker's state (a small
JSON-able list or dict), so the same condition works whether that state is held in memory or in Redis.
Conditions combine as any-of: ``ConsecutiveFailures(5) | FailureRatio(0.5, window=50)`` (or a list).

Five kinds:

* `ConsecutiveFailures` - n failures in a row.
* `FailureRatio` with ``window=`` - failure ratio over the last N calls (after ``min_calls``).
* `FailureRatio` with ``period=`` - failure ratio over the last T seconds, kept in buckets
  (after ``min_calls`` calls in that period, i.e. a minimum throughput).
* `SlowCallRatio` - ratio of calls slower than ``slow_after`` seconds, over a count or time window.
* `AdaptiveFailureRatio` - the failure ratio departs from the breaker's own learned baseline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any


class TripCondition:
    """Base of every trip condition. Subclasses keep their state in the object `initial()` returns."""

    #: True when the condition reads the clock on every result (time windows).
    needs_now: bool = False
    #: True when the condition needs each call's duration (slow-call conditions).
    needs_duration: bool = False
    #: True when a success only needs a cheap reset (lets the breaker skip its lock on the happy path).
    lock_free_success: bool = False
    #: Calls slower than this count as failed probes in half-open (None: duration does not matter).
    slow_after: float | None = None

    def initial(self) -> Any:
        """A fresh, JSON-serialisable state."""
        raise NotImplementedError

    def record(self, state: Any, failed: bool, duration: float, now: float) -> str | None:
        """Fold one call's outcome into `state` (in place); return why to trip, or None."""
        raise NotImplementedError

    def on_close(self, state: Any) -> Any:
        """The state to continue with after the breaker closes again (default: a fresh one)."""
        return self.initial()

    def pending(self, state: Any) -> bool:
        """Whether a success would change `state` (only asked of `lock_free_success` conditions)."""
        return True

    def __or__(self, other: TripCondition) -> AnyOf:
        return AnyOf(self, other)

    def __iter__(self) -> Iterator[TripCondition]:
        yield self


class AnyOf(TripCondition):
    """Trips when any of its conditions trips. Built by ``a | b``; the breaker flattens it."""

    def __init__(self, *conditions: TripCondition) -> None:
        flat: list[TripCondition] = []
        for cond in conditions:
            flat.extend(cond)
        if not flat:
            raise ValueError("AnyOf needs at least one condition")
        self.conditions: tuple[TripCondition, ...] = tuple(flat)

    def __iter__(self) -> Iterator[TripCondition]:
        return iter(self.conditions)

    def __repr__(self) -> str:
        return " | ".join(repr(c) for c in self.conditions)


def flatten(trip: TripCondition | Iterable[TripCondition]) -> tuple[TripCondition, ...]:
    """The individual conditions of a condition, an `AnyOf` or a list of them."""
    out: list[TripCondition] = []
    for cond in trip:
        out.extend(cond)
    if not out:
        raise ValueError("a circuit breaker needs at least one trip condition")
    return tuple(out)


class ConsecutiveFailures(TripCondition):
    """Trips after `threshold` failures in a row. State: ``[count]``."""

    lock_free_success = True

    def __init__(self, threshold: int = 5) -> None:
        if threshold < 1:
            raise ValueError("threshold must be >= 1")
        self.threshold = threshold

    def initial(self) -> list[int]:
        return [0]

    def record(self, state: Any, failed: bool, duration: float, now: float) -> str | None:
        if not failed:
            state[0] = 0
            return None
        state[0] += 1
        if state[0] >= self.threshold:
            return f"{state[0]} consecutive failures"
        return None

    def pending(self, state: Any) -> bool:
        return bool(state[0])

    def __repr__(self) -> str:
        return f"ConsecutiveFailures({self.threshold})"


# --- windows: (calls, bad) over the last N calls or the last T seconds ----------------------------


class _CountWindow:
    """Last `size` outcomes in a ring. State: ``{"r": ring of 0/1, "i": next slot, "n": filled, "b": bad}``."""

    needs_now = False

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("window must be >= 1")
        self.size = size

    def initial(self) -> dict[str, Any]:
        return {"r": [0] * self.size, "i": 0, "n": 0, "b": 0}

    def add(self, st: dict[str, Any], bad: bool, now: float) -> tuple[int, int]:
        ring: list[int] = st["r"]
        i: int = st["i"]
        n: int = st["n"]
        b: int = st["b"]
        if n == self.size:
            b -= ring[i]
        else:
            n += 1
            st["n"] = n
        if bad:
            ring[i] = 1
            b += 1
        else:
            ring[i] = 0
        st["b"] = b
        i += 1
        st["i"] = 0 if i == self.size else i
        return n, b

    def describe(self) -> str:
        return f"window={self.size}"


class _TimeWindow:
    """Outcomes of the last `period` seconds in `buckets` buckets. State: list of ``[epoch, calls, bad]``."""

    needs_now = True

    def __init__(self, period: float, buckets: int) -> None:
        if period <= 0 or buckets < 1:
            raise ValueError("period must be > 0 and buckets >= 1")
        self.period = period
        self.buckets = buckets
        self.width = period / buckets

    def initial(self) -> list[list[int]]:
        return [[-1, 0, 0] for _ in range(self.buckets)]

    def add(self, st: list[list[int]], bad: bool, now: float) -> tuple[int, int]:
        epoch = int(now // self.width)
        slot = st[epoch % self.buckets]
        if slot[0] != epoch:
            slot[0], slot[1], slot[2] = epoch, 0, 0
        slot[1] += 1
        if bad:
            slot[2] += 1
        oldest = epoch - self.buckets
        calls = total_bad = 0
        for b_epoch, b_calls, b_bad in st:
            if b_epoch > oldest:
                calls += b_calls
                total_bad += b_bad
        return calls, total_bad

    def describe(self) -> str:
        return f"period={self.period:g}s"


def _window(window: int | None, period: float | None, buckets: int) -> _CountWindow | _TimeWindow:
    if window is not None and period is not None:
        raise ValueError("give either window= (calls) or period= (seconds), not both")
    if period is not None:
        return _TimeWindow(period, buckets)
    return _CountWindow(100 if window is None else window)


class FailureRatio(TripCondition):
    """Trips when failures/calls >= `threshold` over the last `window` calls or `period` seconds.

    Nothing trips before `min_calls` calls are in the window (the minimum throughput), so a single
    failure at 3 a.m. does not open the circuit.
    """

    def __init__(
        self,
        threshold: float = 0.5,
        *,
        window: int | None = None,
        period: float | None = None,
        buckets: int = 10,
        min_calls: int = 10,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.min_calls = max(1, min_calls)
        self._win = _window(window, period, buckets)
        self.needs_now = self._win.needs_now

    def initial(self) -> Any:
        return self._win.initial()

    def record(self, state: Any, failed: bool, duration: float, now: float) -> str | None:
        calls, bad = self._win.add(state, failed, now)
        if calls >= self.min_calls and bad >= self.threshold * calls:
            return f"failure ratio {bad / calls:.2f} >= {self.threshold:g} over {calls} calls"
        return None

    def __repr__(self) -> str:
        return f"FailureRatio({self.threshold:g}, {self._win.describe()}, min_calls={self.min_calls})"


class SlowCallRatio(TripCondition):
    """Trips when calls slower than `slow_after` seconds make up >= `threshold` of the window.

    A slow call counts whether it succeeded or failed: a dependency that answers in 20 s is sick
    even when it answers. In half-open, a probe slower than `slow_after` counts as a failed probe.
    """

    needs_duration = True

    def __init__(
        self,
        threshold: float = 0.5,
        slow_after: float = 1.0,
        *,
        window: int | None = None,
        period: float | None = None,
        buckets: int = 10,
        min_calls: int = 10,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.slow_after = slow_after
        self._slow = slow_after
        self.min_calls = max(1, min_calls)
        self._win = _window(window, period, buckets)
        self.needs_now = self._win.needs_now

    def initial(self) -> Any:
        return self._win.initial()

    def record(self, state: Any, failed: bool, duration: float, now: float) -> str | None:
        calls, slow = self._win.add(state, duration >= self._slow, now)
        if calls >= self.min_calls and slow >= self.threshold * calls:
            return (
                f"slow-call ratio {slow / calls:.2f} >= {self.threshold:g} "
                f"(slower than {self._slow:g}s) over {calls} calls"
            )
        return None

    def __repr__(self) -> str:
        return f"SlowCallRatio({self.threshold:g}, slow_after={self._slow:g}, {self._win.describe()})"


class AdaptiveFailureRatio(TripCondition):
    """Trips when the failure ratio departs from this breaker's own learned baseline.

    Method: outcomes fill a ring of the last `window` calls (the *current ratio*). Every `window`
    calls the ratio of the block just completed updates an exponentially weighted mean ``mu`` and
    variance ``var`` of block ratios (weight `alpha`). After `warmup` blocks the condition trips when

        current ratio > max(floor, mu + k * sigma),  sigma = max(sqrt(var), sqrt(mu(1-mu)/window), min_sigma)

    A block that trips does not update the baseline, so an incident is not learned as normal; the
    baseline survives the breaker closing again (only the ring is cleared). `floor` keeps a service
    with a near-zero baseline from tripping on one error; the binomial term (the sampling noise of a
    ratio over `window` calls) and `min_sigma` keep a baseline learned from few, steady blocks from
    making ordinary noise look like an anomaly. The check runs on every call over a sliding window
    (so it reacts within a window), which is why the default `k` is a conservative 4.
    State: ``{"r", "i", "n", "b"}`` as a count window, plus ``"mu", "var", "blocks", "k"`` (calls in block).
    """

    def __init__(
        self,
        k: float = 4.0,
        *,
        floor: float = 0.2,
        window: int = 50,
        alpha: float = 0.2,
        warmup: int = 4,
        min_sigma: float = 0.02,
    ) -> None:
        if window < 2 or not 0.0 < alpha <= 1.0 or warmup < 1:
            raise ValueError("need window >= 2, 0 < alpha <= 1, warmup >= 1")
        self.k = k
        self.floor = floor
        self.window = window
        self.alpha = alpha
        self.warmup = warmup
        self.min_sigma = min_sigma
        self._win = _CountWindow(window)

    def initial(self) -> dict[str, Any]:
        st = self._win.initial()
        st.update({"mu": 0.0, "var": 0.0, "blocks": 0, "k": 0, "kb": 0})
        return st

    def threshold(self, state: Any) -> float | None:
        """The ratio above which the condition trips now; None while still warming up."""
        if state["blocks"] < self.warmup:
            return None
        mu = float(state["mu"])
        binomial = math.sqrt(max(mu * (1.0 - mu), 0.0) / self.window)
        sigma = max(math.sqrt(state["var"]), binomial, self.min_sigma)
        return max(self.floor, mu + self.k * sigma)

    def record(self, state: Any, failed: bool, duration: float, now: float) -> str | None:
        calls, bad = self._win.add(state, failed, now)
        state["k"] += 1
        if failed:
            state["kb"] += 1
        limit = self.threshold(state)
        if limit is not None and calls >= self.window and bad / calls > limit:
            ratio = bad / calls
            return f"failure ratio {ratio:.2f} above adaptive threshold {limit:.2f} (baseline {state['mu']:.2f})"
        if state["k"] >= self.window:
            block_ratio = state["kb"] / state["k"]
            if state["blocks"] == 0:
                state["mu"], state["var"] = block_ratio, 0.0
            else:
                diff = block_ratio - state["mu"]
                incr = self.alpha * diff
                state["mu"] += incr
                state["var"] = (1.0 - self.alpha) * (state["var"] + diff * incr)
            state["blocks"] += 1
            state["k"] = state["kb"] = 0
        return None

    def on_close(self, state: Any) -> Any:
        fresh = self.initial()
        fresh.update({"mu": state["mu"], "var": state["var"], "blocks": state["blocks"]})
        return fresh

    def __repr__(self) -> str:
        return f"AdaptiveFailureRatio(k={self.k:g}, floor={self.floor:g}, window={self.window})"


__all__ = [
    "AdaptiveFailureRatio",
    "AnyOf",
    "ConsecutiveFailures",
    "FailureRatio",
    "SlowCallRatio",
    "TripCondition",
    "flatten",
]
