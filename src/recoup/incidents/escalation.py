"""Escalation policies: ordered steps (notify these targets, wait, go on to the next step), run through once and
then repeated up to ``repeat`` more times, stopping as soon as the incident is acknowledged or resolved.

Kept pure (no I/O) so the schedule is easy to reason about: `EscalationState` is what the incident row stores
(step index, repeat count, next due time), `start` and `advance` compute the next state. Which policy an
incident gets is decided by `EscalationConfig.select`: the first route whose label matchers all match the
incident's labels (``severity``, ``incident_type``, ``project``, ``service``), else the default policy.

Timing: step 0 notifies when the incident is declared; step *i+1* is due ``steps[i].wait`` after step *i* was
sent. A tick that runs late sends one step and schedules the next from the moment it actually ran, so a stalled
process that comes back pages once, not once per missed step. The wait of the very last step is not waited:
after the last repeat's last step nothing is scheduled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recoup.incidents.model import Matcher, matches_all
from recoup.incidents.rules import PositiveDuration


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EscalationStep(_Model):
    """Notify ``targets`` (receiver names or ``oncall:<schedule>``), then wait ``wait`` before the next step."""

    targets: tuple[str, ...]
    wait: PositiveDuration = 300.0

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("a step needs at least one target")
        if any(not t.strip() for t in v):
            raise ValueError("a target cannot be empty")
        return v



class EscalationPolicy(_Model):
    """``steps`` run in order; the whole list then runs again up to ``repeat`` more times."""

    name: str
    steps: tuple[EscalationStep, ...]
    repeat: int = Field(default=0, ge=0)

    @field_validator("steps")
    @classmethod
    def _steps(cls, v: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
        if not v:
            raise ValueError("a policy needs at least one step")
        return v

    @property
    def last_targets(self) -> tuple[str, ...]:
        """The final step's targets: who an RTO breach pages."""
        return self.steps[-1].targets


class PolicyRoute(_Model):
    """Incidents whose labels match every matcher (Alertmanager syntax) get ``policy``."""

    match: tuple[str, ...] = ()
    policy: str

    @field_validator("match")
    @classmethod
    def _matchers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for text in v:
            Matcher.parse(text)
        return v

    @property
    def matchers(self) -> tuple[Matcher, ...]:
        return tuple(Matcher.parse(text) for text in self.match)


class EscalationConfig(_Model):
    policies: tuple[EscalationPolicy, ...]
    routes: tuple[PolicyRoute, ...] = ()
    #: The policy when no route matches; the first policy when not given.
    default: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> EscalationConfig:
        if not self.policies:
            raise ValueError("policies: at least one escalation policy is needed")
        names = [p.name for p in self.policies]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"policies: names must be unique, repeated: {', '.join(duplicates)}")
        for i, route in enumerate(self.routes):
            if route.policy not in names:
                raise ValueError(f"routes[{i}].policy: unknown policy {route.policy!r}; known: {', '.join(names)}")
        if self.default is not None and self.default not in names:
            raise ValueError(f"default: unknown policy {self.default!r}; known: {', '.join(names)}")
        return self

    def policy(self, name: str) -> EscalationPolicy:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(f"unknown escalation policy {name!r}")

    def select(self, labels: Mapping[str, str]) -> EscalationPolicy:
        """The first route matching ``labels`` decides; otherwise the default policy."""
        for route in self.routes:
            if matches_all(route.matchers, labels):
                return self.policy(route.policy)
        return self.policy(self.default) if self.default is not None else self.policies[0]


@dataclass(frozen=True, slots=True)
class EscalationState:
    """Where an incident is in its policy: ``step`` was the last one sent (in pass ``repeat``, 0-based) and
    the next one is due at ``next_at`` (None: nothing more to send)."""

    step: int
    repeat: int
    next_at: float | None


def following(policy: EscalationPolicy, step: int, repeat: int) -> tuple[int, int] | None:
    """The (step, repeat) after ``(step, repeat)``, or None once the last pass's last step was sent."""
    if step + 1 < len(policy.steps):
        return step + 1, repeat
    if repeat < policy.repeat:
        return 0, repeat + 1
    return None


def _scheduled(policy: EscalationPolicy, step: int, repeat: int, sent_at: float) -> EscalationState:
    more = following(policy, step, repeat) is not None
    return EscalationState(step, repeat, sent_at + policy.steps[step].wait if more else None)


def start(policy: EscalationPolicy, at: float) -> EscalationState:
    """Step 0 is sent at ``at`` (when the incident is declared)."""
    return _scheduled(policy, 0, 0, at)


def advance(policy: EscalationPolicy, state: EscalationState, now: float) -> EscalationState | None:
    """The state after sending the next step at ``now``; None when no step is left. The caller notifies
    ``policy.steps[result.step].targets``."""
    nxt = following(policy, state.step, state.repeat)
    if nxt is None:
        return None
    return _scheduled(policy, nxt[0], nxt[1], now)
