"""Pass/fail gates on a run, written the way people say them: ``p99 < 2s``, ``error_rate < 1%``.

Each metric has a kind that fixes the units its bound may use, so ``p99 < 5%`` or ``throughput > 2s``
is refused with a message that says why, instead of comparing numbers that mean different things.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recoup.load.format import format_duration, format_rate, format_ratio
from recoup.load.result import LoadResult

__all__ = ["Threshold", "ThresholdError", "ThresholdOutcome", "evaluate_thresholds", "parse_threshold"]

DURATION, RATIO, RATE, COUNT = "duration", "ratio", "rate", "count"

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}
_METRICS: dict[str, str] = {
    "mean": DURATION, "min": DURATION, "max": DURATION, "stdev": DURATION,
    "error_rate": RATIO, "success_rate": RATIO, "recovery": RATIO,
    "throughput": RATE,
    "errors": COUNT, "dropped": COUNT, "late": COUNT, "unfinished": COUNT, "completed": COUNT, "ok": COUNT,
}
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0}
_RATE_UNITS = {"": 1.0, "/s": 1.0, "rps": 1.0, "ops/s": 1.0, "req/s": 1.0, "/m": 1 / 60, "/min": 1 / 60}
_PATTERN = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>[^\s\d].*?)?\s*$"
)


class ThresholdError(ValueError):
    """A threshold expression that cannot be read; the message names the part that is wrong."""


@dataclass(frozen=True, slots=True)
class Threshold:
    """``metric op bound`` with the bound in the metric's base unit (s, ratio 0..1, per second, count)."""

    text: str
    metric: str
    op: str
    bound: float
    kind: str

    def check(self, measured: float) -> bool:
        return _OPERATORS[self.op](measured, self.bound)


@dataclass(frozen=True, slots=True)
class ThresholdOutcome:
    """One threshold against one run."""

    threshold: Threshold
    measured: float
    passed: bool

    @property
    def measured_text(self) -> str:
        return format_value(self.threshold.kind, self.measured)

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold.text, "metric": self.threshold.metric, "op": self.threshold.op,
                "bound": self.threshold.bound, "measured": self.measured, "measured_text": self.measured_text,
                "passed": self.passed}


def parse_threshold(text: str) -> Threshold:
    """Read ``METRIC OP NUMBER[UNIT]``; metrics: pNN (any percentile, e.g. p99.9), mean, min, max, stdev
    (durations: ns/us/ms/s/m), error_rate, success_rate, recovery (ratios: 1% or 0.01), throughput
    (per second: 100, 100/s, 6000/min), errors, dropped, late, unfinished, completed, ok (counts)."""
    if not isinstance(text, str) or not text.strip():
        raise ThresholdError("empty threshold: write e.g. 'p99 < 2s' or 'error_rate < 1%'")
    match = _PATTERN.match(text)
    if match is None:
        raise ThresholdError(
            f"cannot read threshold {text!r}: expected METRIC OP VALUE, e.g. 'p99 < 2s', 'error_rate < 1%', "
            f"'throughput >= 100/s' (operators: {', '.join(_OPERATORS)})"
        )
    metric, op = match.group("metric").lower(), match.group("op")
    number, unit = float(match.group("number")), (match.group("unit") or "").strip()
    kind = _kind_of(metric, text)
    if kind == DURATION:
        if not unit:
            raise ThresholdError(f"threshold {text!r}: give {metric}'s bound a unit (ns, us, ms, s or m), e.g. 2s")
        if unit.lower() not in _DURATION_UNITS:
            raise ThresholdError(f"threshold {text!r}: {unit!r} is not a duration unit (use ns, us, ms, s or m)")
        bound = number * _DURATION_UNITS[unit.lower()]
    elif kind == RATIO:
        if unit == "%":
            bound = round(number / 100, 12)  # 99.9% is 0.999, not 0.9990000000000001
        elif not unit:
            if not 0 <= number <= 1:
                raise ThresholdError(
                    f"threshold {text!r}: a bare ratio must be within 0..1; did you mean {number:g}%?"
                )
            bound = number
        else:
            raise ThresholdError(f"threshold {text!r}: {metric} is a ratio: write it as a percentage (1%) or 0.01")
        if not 0 <= bound <= 1:
            raise ThresholdError(f"threshold {text!r}: a ratio must be between 0% and 100%")
    elif kind == RATE:
        key = unit.lower().replace(" ", "")
        if key not in _RATE_UNITS:
            raise ThresholdError(f"threshold {text!r}: {unit!r} is not a rate unit (use 100, 100/s or 6000/min)")
        bound = number * _RATE_UNITS[key]
    else:
        if unit:
            raise ThresholdError(f"threshold {text!r}: {metric} is a count and takes no unit")
        bound = number
    if not math.isfinite(bound) or (bound < 0 and kind != COUNT):
        raise ThresholdError(f"threshold {text!r}: the bound must be a finite number >= 0")
    return Threshold(text=text.strip(), metric=metric, op=op, bound=bound, kind=kind)


def _kind_of(metric: str, text: str) -> str:
    if metric in _METRICS:
        return _METRICS[metric]
    if metric.startswith("p"):
        try:
            percent = float(metric[1:])
        except ValueError:
            percent = -1.0
        if 0 <= percent <= 100:
            return DURATION
        raise ThresholdError(f"threshold {text!r}: {metric!r} is not a percentile from p0 to p100 (e.g. p99.9)")
    raise ThresholdError(
        f"threshold {text!r}: unknown metric {metric!r}; known: pNN (e.g. p50, p99.9), {', '.join(_METRICS)}"
    )


def measure(result: LoadResult, metric: str) -> float:
    """The value of ``metric`` for ``result`` in its base unit."""
    if (metric.startswith("p") and metric not in _METRICS) or metric in ("mean", "min", "max", "stdev"):
        if result.histogram.count == 0:
            return math.nan  # nothing completed: no latency can pass a gate
        if metric in ("mean", "min", "max", "stdev"):
            return float(result.latency_summary()[metric])
        return result.latency(float(metric[1:]))
    if metric in ("error_rate", "success_rate", "recovery") and result.completed == 0:
        return math.nan  # a run where nothing completed must not pass `error_rate < 1%`
    if metric == "throughput":
        return result.throughput
    value = getattr(result, metric, None)
    if value is None:
        raise ThresholdError(f"the run has no metric {metric!r}")
    return float(value)


def evaluate_thresholds(
    result: LoadResult,
    thresholds: Sequence[Threshold | str],
    *,
    extra_metrics: Mapping[str, float] | None = None,
) -> list[ThresholdOutcome]:
    """Each threshold against ``result``; ``extra_metrics`` overrides or adds values (e.g. a ``recovery``
    the caller measured itself), in the metric's base unit."""
    outcomes = []
    for item in thresholds:
        threshold = parse_threshold(item) if isinstance(item, str) else item
        if extra_metrics and threshold.metric in extra_metrics:
            measured = float(extra_metrics[threshold.metric])
        else:
            measured = measure(result, threshold.metric)
        outcomes.append(ThresholdOutcome(threshold, measured, threshold.check(measured)))
    return outcomes


def format_value(kind: str, value: float) -> str:
    if math.isnan(value):
        return "n/a (nothing completed)"
    if kind == DURATION:
        return format_duration(value)
    if kind == RATIO:
        return format_ratio(value)
    if kind == RATE:
        return format_rate(value)
    return f"{value:g}"
