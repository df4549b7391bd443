"""A chaos rule: which injection points it targets, how often it fires, and what it does.

A rule targets points by a glob on their name (the decorator's explicit name, else ``module.qualname``) and
by tags the point must all carry; it fires when its schedule allows the call and a seeded draw falls under
its rate, at most `limit` times.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from recoup.chaos.inject_effects import Effect, FaultSpec, Hang, Latency, Raise
from recoup.chaos.schedule import Always, Schedule

__all__ = ["Point", "Rule"]


def _tags(value: Iterable[str], owner: str) -> frozenset[str]:
    if isinstance(value, str):
        raise TypeError(f"{owner} tags must be an iterable of strings, not the string {value!r} (use ({value!r},))")
    tags = frozenset(value)
    bad = [tag for tag in tags if not isinstance(tag, str) or not tag]
    if bad:
        raise ValueError(f"{owner} tags must be non-empty strings, got {bad!r}")
    return tags


@dataclass(frozen=True)
class Point:
    """An injection point: a decorated function or an explicit `Chaos.point` call."""

    name: str
    qualname: str
    tags: frozenset[str] = frozenset()

    @classmethod
    def of(cls, name: str, qualname: str | None = None, tags: Iterable[str] = ()) -> Point:
        if not isinstance(name, str) or not name:
            raise ValueError(f"an injection point needs a non-empty name, got {name!r}")
        return cls(name, qualname or name, _tags(tags, f"injection point {name!r}"))


@dataclass(frozen=True, eq=False)
class Rule:
    """One chaos rule. Build with `Rule.fail`, `Rule.delay`, `Rule.hang`, or from any `Effect`."""

    effect: Effect
    target: str = "*"
    tags: frozenset[str] = frozenset()
    rate: float = 1.0
    schedule: Schedule = field(default_factory=Always)
    limit: int | None = None
    name: str = ""
    _match: Callable[[str], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.effect, Effect):
            raise TypeError(f"Rule.effect must be a Raise, Latency or Hang, got {self.effect!r}")
        if not isinstance(self.target, str) or not self.target:
            raise ValueError(f"Rule.target must be a non-empty glob such as 'payments.*', got {self.target!r}")
        rate = self.rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate) \
                or not 0.0 <= rate <= 1.0:
            raise ValueError(f"Rule.rate must be a probability between 0 and 1, got {rate!r}")
        if not isinstance(self.schedule, Schedule):
            raise TypeError(f"Rule.schedule must be a recoup.chaos.schedule.Schedule, got {self.schedule!r}")
        if self.limit is not None and (isinstance(self.limit, bool) or not isinstance(self.limit, int)
                                       or self.limit < 1):
            raise ValueError(f"Rule.limit must be a positive integer or None, got {self.limit!r}")
        object.__setattr__(self, "tags", _tags(self.tags, "Rule"))
        object.__setattr__(self, "name", self.name or self.effect.label)
        pattern = self.target
        if any(ch in pattern for ch in "*?["):
            regex = re.compile(fnmatch.translate(pattern))
            object.__setattr__(self, "_match", lambda text: regex.match(text) is not None)
        else:
            object.__setattr__(self, "_match", lambda text: text == pattern)

    def matches(self, point: Point) -> bool:
        """True when the point's name or qualname matches the target glob and it carries every tag."""
        if not self.tags <= point.tags:
            return False
        return self._match(point.name) or (point.qualname != point.name and self._match(point.qualname))

    @classmethod
    def fail(
        cls,
        fault: FaultSpec,
        *,
        target: str = "*",
        tags: Iterable[str] = (),
        rate: float = 1.0,
        schedule: Schedule | None = None,
        limit: int | None = None,
        name: str = "",
    ) -> Rule:
        """Raise `fault` (a catalogue name like ``"network.connection-refused"``, a `Fault`, an exception...)."""
        return cls(Raise(fault), target, _tags(tags, "Rule"), rate, schedule or Always(), limit, name)

    @classmethod
    def delay(
        cls,
        latency: Latency | float,
        *,
        target: str = "*",
        tags: Iterable[str] = (),
        rate: float = 1.0,
        schedule: Schedule | None = None,
        limit: int | None = None,
        name: str = "",
    ) -> Rule:
        """Add latency before the call: a `Latency` distribution or a fixed number of seconds."""
        effect = latency if isinstance(latency, Latency) else Latency.fixed(latency)
        return cls(effect, target, _tags(tags, "Rule"), rate, schedule or Always(), limit, name)

    @classmethod
    def hang(
        cls,
        max_seconds: float | None = None,
        *,
        then: FaultSpec | None = None,
        target: str = "*",
        tags: Iterable[str] = (),
        rate: float = 1.0,
        schedule: Schedule | None = None,
        limit: int | None = None,
        name: str = "",
    ) -> Rule:
        """Hang the call (until released/cancelled, or `max_seconds`), then go on or raise `then`."""
        return cls(Hang(max_seconds, then), target, _tags(tags, "Rule"), rate, schedule or Always(), limit, name)
