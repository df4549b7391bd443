"""Trend forecasts that warn before a metric crosses a threshold (an error-rate limit, an RTO).

Holt's linear method (double exponential smoothing) on irregularly timed samples: a smoothed level and a
smoothed slope per second. Constant memory and O(1) per sample, so it can run on every stream. The
"time until threshold" is where the extrapolated line meets the threshold; it is only reported when the
slope is clearly heading there, so a flat, noisy metric does not raise warnings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Breach:
    """A forecast crossing: when (epoch seconds), how long from the last sample, at what slope per second."""

    at: float
    seconds: float
    slope: float


class HoltForecaster:
    """Level + trend smoothing of one metric; `time_until` says when the trend reaches a threshold."""

    def __init__(self, alpha: float = 0.3, beta: float = 0.1) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        if not 0.0 < beta <= 1.0:
            raise ValueError(f"beta must be in (0, 1], got {beta!r}")
        self.alpha = alpha
        self.beta = beta
        self.level: float | None = None
        self.slope = 0.0
        self.last_time: float | None = None
        self.samples = 0
        self._residual = 0.0  # smoothed absolute one-step error: the noise the slope must beat

    def update(self, timestamp: float, value: float) -> None:
        """Fold in one sample; timestamps must not go backwards (a repeat replaces nothing, it re-smooths)."""
        if not math.isfinite(value):
            raise ValueError(f"value must be a finite number, got {value!r}")
        if not math.isfinite(timestamp):
            raise ValueError(f"timestamp must be a finite number, got {timestamp!r}")
        if self.level is None or self.last_time is None:
            self.level, self.last_time, self.samples = value, timestamp, 1
            return
        if timestamp < self.last_time:
            raise ValueError(f"timestamp {timestamp} is before the previous sample's {self.last_time}")
        dt = timestamp - self.last_time
        if self.samples == 1:
            # Two points define the first line exactly; smoothing starts from there.
            level = value
            if dt > 0.0:
                self.slope = (value - self.level) / dt
        else:
            predicted = self.level + self.slope * dt
            self._residual += self.alpha * (abs(value - predicted) - self._residual)
            level = predicted + self.alpha * (value - predicted)
            if dt > 0.0:
                self.slope += self.beta * ((level - self.level) / dt - self.slope)
        self.level, self.last_time = level, timestamp
        self.samples += 1

    def predict(self, timestamp: float) -> float:
        """The trend line's value at `timestamp`."""
        if self.level is None or self.last_time is None:
            raise ValueError("no samples yet: call update() first")
        return self.level + self.slope * (timestamp - self.last_time)

    def time_until(self, threshold: float, above: bool = True, min_samples: int = 3) -> Breach | None:
        """When the trend reaches `threshold` (from below if `above`, else from above), or None.

        None means too few samples, or a trend that is flat or heading away. A level already past the
        threshold is a breach now (seconds = 0).
        """
        if self.level is None or self.last_time is None or self.samples < min_samples:
            return None
        gap = threshold - self.level
        if (above and gap <= 0.0) or (not above and gap >= 0.0):
            return Breach(self.last_time, 0.0, self.slope)
        if (above and self.slope <= 0.0) or (not above and self.slope >= 0.0):
            return None
        seconds = gap / self.slope
        return Breach(self.last_time + seconds, seconds, self.slope)

    def warn(self, threshold: float, horizon: float, above: bool = True) -> Breach | None:
        """A breach expected within `horizon` seconds, if the trend is clearer than the noise; else None."""
        if horizon <= 0.0:
            raise ValueError(f"horizon must be positive seconds, got {horizon!r}")
        breach = self.time_until(threshold, above)
        if breach is None or breach.seconds > horizon:
            return None
        if breach.seconds > 0.0 and abs(self.slope) * horizon < self._residual:
            return None  # the projected rise over the horizon is smaller than the noise: not a trend
        return breach


@dataclass(frozen=True)
class RecoveryForecast:
    """Whether the trend of an incident's errors said, before its RTO deadline, that recovery would come too late.

    ``predicted_at``: the first bucket end at which the trend did not reach zero errors by the ``deadline``
    (slope flat or rising, or the crossing after it); ``projected_recovery``: where the trend put recovery then
    (None: nowhere, the errors were not falling). ``held`` says whether the last look before the deadline
    still predicted the breach. ``samples``: buckets the trend saw.
    """

    deadline: float
    bucket: float
    samples: int
    predicted_at: float | None
    projected_recovery: float | None
    held: bool

    @property
    def lead(self) -> float | None:
        """How long before the deadline the breach was first predicted (seconds), None if it never was."""
        return None if self.predicted_at is None else self.deadline - self.predicted_at


def rto_breach_forecast(
    times: Sequence[float], *, declared_at: float, deadline: float, end: float, bucket: float,
    min_samples: int = 3, recovered_below: float = 0.5,
) -> RecoveryForecast:
    """Replay a Holt trend over the error counts per ``bucket`` seconds from ``declared_at`` up to the earlier of
    ``deadline`` and ``end`` (``times``: epoch seconds of the errors), asking at every bucket end after
    ``min_samples`` when the count falls below ``recovered_below``; a breach is predicted when that is not
    before the ``deadline``."""
    if bucket <= 0:
        raise ValueError(f"bucket must be positive seconds, got {bucket!r}")
    if deadline < declared_at:
        raise ValueError(f"deadline ({deadline}) is before the declaration ({declared_at})")
    stop = min(deadline, end)
    counts: dict[int, int] = {}
    for t in times:
        if declared_at <= t < stop:
            counts[int((t - declared_at) // bucket)] = counts.get(int((t - declared_at) // bucket), 0) + 1
    holt = HoltForecaster()
    predicted_at: float | None = None
    projected: float | None = None
    held = False
    index = 0
    while declared_at + (index + 1) * bucket <= stop:
        at = declared_at + (index + 1) * bucket
        holt.update(at, float(counts.get(index, 0)))
        index += 1
        breach = holt.time_until(recovered_below, above=False, min_samples=min_samples)
        if holt.samples < min_samples:
            continue
        late = breach is None or breach.at > deadline
        if late and predicted_at is None:
            predicted_at, projected = at, None if breach is None else breach.at
        held = late
    return RecoveryForecast(deadline, bucket, holt.samples, predicted_at, projected, held)
