"""On-call schedules: who is on call at a given time, so escalation targets like ``oncall:primary`` resolve to a
receiver name.

A schedule is a simple rotation: ``people`` take turns, each for ``shift`` (e.g. ``7d``), the first shift starting
at ``handoff`` (an ISO datetime; a naive one is read as UTC). Times before ``handoff`` continue the rotation
backwards, so every instant has someone on call. ``overrides`` replace the rotation between ``start``
(inclusive) and ``end`` (exclusive); when overrides overlap, the one listed last wins (add a later override to
correct an earlier one). People are receiver names (the notification channels' configured receivers).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from recoup.incidents.rules import Duration

#: The prefix of an escalation target that names a schedule instead of a receiver.
ONCALL_PREFIX = "oncall:"


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Override(_Model):
    """``person`` is on call instead of the rotation from ``start`` (inclusive) to ``end`` (exclusive)."""

    person: str
    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return _aware(v)

    @field_validator("person")
    @classmethod
    def _person(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must name a receiver")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end.isoformat()}) must be after start ({self.start.isoformat()})")
        return self

    def covers(self, t: float) -> bool:
        return self.start.timestamp() <= t < self.end.timestamp()


class Schedule(_Model):
    """A rotation of ``people`` with shifts of ``shift`` seconds, the first starting at ``handoff``."""

    name: str
    people: tuple[str, ...]
    handoff: datetime
    shift: Duration
    overrides: tuple[Override, ...] = ()

    @field_validator("handoff")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return _aware(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip() or ":" in v:
            raise ValueError(f"{v!r} is not a schedule name (non-empty, no ':')")
        return v

    @field_validator("people")
    @classmethod
    def _people(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("a rotation needs at least one person")
        if any(not p.strip() for p in v):
            raise ValueError("every person must name a receiver")
        return v

    @field_validator("shift")
    @classmethod
    def _shift(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be longer than 0s")
        return v

    def rotation_at(self, t: float) -> str:
        """Who the rotation alone puts on call at ``t`` (epoch seconds)."""
        index = math.floor((t - self.handoff.timestamp()) / self.shift)
        return self.people[index % len(self.people)]

    def on_call(self, t: float) -> str:
        """Who is on call at ``t``: the last override covering ``t``, else the rotation."""
        for override in reversed(self.overrides):
            if override.covers(t):
                return override.person
        return self.rotation_at(t)

    def next_handoff(self, t: float) -> float:
        """When the rotation next hands over after ``t`` (overrides aside)."""
        start = self.handoff.timestamp()
        return start + (math.floor((t - start) / self.shift) + 1) * self.shift


def is_oncall_target(target: str) -> bool:
    return target.startswith(ONCALL_PREFIX)


def resolve_targets(targets: Iterable[str], schedules: Mapping[str, Schedule], t: float) -> list[str]:
    """Receiver names for ``targets`` at ``t``: ``oncall:<schedule>`` becomes whoever is on call, other targets
    are receiver names already. Order kept, duplicates dropped. KeyError naming an unknown schedule."""
    out: list[str] = []
    for target in targets:
        if is_oncall_target(target):
            name = target[len(ONCALL_PREFIX):]
            schedule = schedules.get(name)
            if schedule is None:
                raise KeyError(f"unknown on-call schedule {name!r} in target {target!r}")
            receiver = schedule.on_call(t)
        else:
            receiver = target
        if receiver not in out:
            out.append(receiver)
    return out
