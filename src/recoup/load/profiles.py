"""Load shapes: an open model (arrivals on a schedule, constant or ramped in stages) or N closed-loop users.

The open model is what real traffic looks like: users do not wait for each other, so a slow server faces
a growing queue. Its schedule is a pure function of the stages, so it is exact and testable without time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["ClosedModel", "LoadProfileError", "OpenModel", "Stage", "arrival_times", "parse_duration"]


class LoadProfileError(ValueError):
    """A load shape that cannot be run (negative rate, zero duration, unreadable text)."""


@dataclass(frozen=True, slots=True)
class Stage:
    """Move the arrival rate linearly from the previous stage's end rate to ``target`` over ``duration`` s."""

    target: float
    duration: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.target) or self.target < 0:
            raise LoadProfileError(f"stage target rate must be a finite number >= 0, got {self.target!r}")
        if not math.isfinite(self.duration) or self.duration <= 0:
            raise LoadProfileError(f"stage duration must be a finite number of seconds > 0, got {self.duration!r}")


@dataclass(frozen=True, slots=True)
class OpenModel:
    """Operations start on a schedule whatever the target does (k6's ramping-arrival-rate, wrk2's -R)."""

    start_rate: float
    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        if not math.isfinite(self.start_rate) or self.start_rate < 0:
            raise LoadProfileError(f"start rate must be a finite number >= 0, got {self.start_rate!r}")
        if not self.stages:
            raise LoadProfileError("an open model needs at least one stage")
        if self.start_rate == 0 and all(stage.target == 0 for stage in self.stages):
            raise LoadProfileError("every rate is 0: nothing would ever start")

    @classmethod
    def constant(cls, rate: float, duration: float) -> OpenModel:
        """``rate`` operations per second for ``duration`` seconds."""
        if not math.isfinite(rate) or rate <= 0:
            raise LoadProfileError(f"rate must be a number of operations per second > 0, got {rate!r}")
        return cls(rate, (Stage(rate, duration),))

    @classmethod
    def ramp(cls, start_rate: float, stages: list[Stage] | tuple[Stage, ...]) -> OpenModel:
        return cls(start_rate, tuple(stages))

    @property
    def duration(self) -> float:
        return sum(stage.duration for stage in self.stages)

    @property
    def expected_operations(self) -> float:
        """Arrivals the schedule holds (the area under the rate curve)."""
        total, rate = 0.0, self.start_rate
        for stage in self.stages:
            total += (rate + stage.target) / 2 * stage.duration
            rate = stage.target
        return total

    def rate_at(self, offset: float) -> float:
        """The scheduled arrival rate ``offset`` seconds into the run."""
        begin, rate = 0.0, self.start_rate
        for stage in self.stages:
            if offset < begin + stage.duration:
                return rate + (stage.target - rate) * (offset - begin) / stage.duration
            begin, rate = begin + stage.duration, stage.target
        return rate

    def describe(self) -> str:
        if len(self.stages) == 1 and self.stages[0].target == self.start_rate:
            return f"constant {_num(self.start_rate)}/s for {_num(self.stages[0].duration)}s"
        rate, parts = self.start_rate, []
        for stage in self.stages:
            parts.append(f"{_num(rate)}→{_num(stage.target)}/s over {_num(stage.duration)}s")
            rate = stage.target
        return "ramp " + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class ClosedModel:
    """``vus`` virtual users, each starting its next operation when the last one ends (plus think time).

    The classic tester's model: when the target stalls, the users stall with it and stop asking, so the
    stall is under-counted (coordinated omission). Kept for comparison and for capacity probing.
    """

    vus: int
    duration: float
    think_time: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.vus, bool) or not isinstance(self.vus, int) or self.vus < 1:
            raise LoadProfileError(f"vus must be an integer >= 1, got {self.vus!r}")
        if not math.isfinite(self.duration) or self.duration <= 0:
            raise LoadProfileError(f"duration must be a finite number of seconds > 0, got {self.duration!r}")
        if not math.isfinite(self.think_time) or self.think_time < 0:
            raise LoadProfileError(f"think time must be a finite number of seconds >= 0, got {self.think_time!r}")

    def describe(self) -> str:
        think = f", {_num(self.think_time)}s think time" if self.think_time else ""
        return f"{self.vus} closed-loop users for {_num(self.duration)}s{think}"


def arrival_times(model: OpenModel) -> Iterator[float]:
    """Offsets (s from the start) at which operations are due: arrival k is due when the area under the
    rate curve reaches k, so the first is due at 0 and a constant rate r gives k/r exactly."""
    begin, rate, area = 0.0, model.start_rate, 0.0  # area: arrivals scheduled before this stage began
    k = 0
    for stage in model.stages:
        a, b, span = rate, stage.target, stage.duration
        while True:
            d = k - area  # arrivals still owed when this stage starts
            if d <= 0:
                s = 0.0
            elif a == b:
                if a == 0:
                    break
                s = d / a
            else:
                # solve a*s + (b-a)/(2*span)*s^2 = d in the form that stays exact when a == 0 or b < a
                disc = a * a + 2 * (b - a) * d / span
                if disc < 0:
                    break
                root = math.sqrt(disc)
                if a + root == 0:
                    break
                s = 2 * d / (a + root)
            if s >= span:
                break
            yield begin + s
            k += 1
        area += (a + b) / 2 * span
        begin += span
        rate = b


_UNITS = {"ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "us": 1e-6, "µs": 1e-6}


def parse_duration(text: str, *, what: str = "duration") -> float:
    """'30s', '500ms', '2m', '1h', '1m30s' or a bare number of seconds -> seconds (> 0)."""
    raw = text.strip().lower()
    if not raw:
        raise LoadProfileError(f"{what} is empty: give e.g. 30s, 500ms or 2m")
    try:
        seconds = float(raw)
    except ValueError:
        seconds, rest = 0.0, raw
        import re

        pattern = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|µs|us|min|s|m|h)")
        while rest:
            match = pattern.match(rest)
            if match is None:
                raise LoadProfileError(
                    f"{what} {text!r} is not a duration: use e.g. 30s, 500ms, 2m or 1m30s"
                ) from None
            seconds += float(match.group(1)) * _UNITS[match.group(2)]
            rest = rest[match.end() :].lstrip()
    if not math.isfinite(seconds) or seconds <= 0:
        raise LoadProfileError(f"{what} must be more than 0 seconds, got {text!r}")
    return seconds


def _num(value: float) -> str:
    return f"{value:g}"
