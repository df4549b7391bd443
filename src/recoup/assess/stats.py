"""Summary statistics computed from every sample (no sampling, no histogram rounding)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100); NaN when there are none."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class Distribution:
    """Count, mean and nearest-rank percentiles of one measured quantity, in its own unit."""

    count: int
    mean: float
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Distribution:
        ordered = sorted(values)
        if not ordered:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)
        return cls(
            count=len(ordered),
            mean=sum(ordered) / len(ordered),
            p50=percentile(ordered, 50),
            p95=percentile(ordered, 95),
            p99=percentile(ordered, 99),
            max=ordered[-1],
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def ratio(numerator: int, denominator: int) -> float | None:
    """A rate that says "not measured" (None) instead of pretending 0/0 is 100%."""
    return numerator / denominator if denominator else None


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """95% Wilson score interval for a success rate, so a small run does not overstate certainty."""
    if trials == 0:
        return None
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


#: Log-spaced histogram bounds: ten per decade (each bucket ~26% wider than the last), fine enough for a chart.
BUCKETS_PER_DECADE = 10


def log_histogram(values: Sequence[float], smallest: float = 1.0) -> list[list[float]]:
    """``[upper_bound, count]`` buckets of `values` on log-spaced bounds ``smallest * 10**(k/10)``, from the
    first non-empty bucket to the last, empty ones between kept (a chart needs the gaps). A value counts in
    the first bucket whose upper bound is >= it; values at or below `smallest` fall in the first bucket."""
    if smallest <= 0:
        raise ValueError(f"smallest must be positive, got {smallest}")
    if not values:
        return []
    counts: dict[int, int] = {}
    for value in values:
        k = 0 if value <= smallest else math.ceil(BUCKETS_PER_DECADE * math.log10(value / smallest) - 1e-9)
        counts[k] = counts.get(k, 0) + 1
    low, high = min(counts), max(counts)
    return [
        [round(smallest * 10 ** (k / BUCKETS_PER_DECADE), 6), counts.get(k, 0)] for k in range(low, high + 1)
    ]
