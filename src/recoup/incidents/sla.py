"""RTO targets per incident type, and the response-time figures computed from stored incidents.

Definitions (all in seconds, per incident):

* MTTD, time to detect = ``declared_at`` - when the fault began: the fault start a scenario supplied, else the
  earliest ``active_at`` (condition started holding) of the alerts attached to the incident. None for an
  incident declared by hand with neither.
* MTTA, time to acknowledge = ``acknowledged_at`` - ``declared_at`` (None while unacknowledged).
* MTTR, time to recover = ``resolved_at`` - ``declared_at`` (None while unresolved).
* RTO: met when resolved within the incident's target and never marked breached; breached when marked (the
  manager's tick) or resolved later than the target; open otherwise.

Aggregates report count, mean, p50 and p95 (linear interpolation between closest ranks, as numpy's default)
over the incidents declared in a time range; incidents without a value (e.g. unresolved for MTTR) are left out
of that figure's count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from recoup.incidents.rules import Duration

if TYPE_CHECKING:
    from recoup.incidents.incidents import Incident

#: The issue's default recovery-time objectives, by the alert label ``incident_type``.
DEFAULT_RTO_TARGETS: dict[str, float] = {
    "error_rate_spike": 120.0,
    "resource_exhaustion": 60.0,
    "database_connection_exhaustion": 30.0,
    "breaker_cascade": 300.0,
    "sla_breach": 480.0,
}
#: For incident types without their own target (and incidents without a type).
DEFAULT_RTO_FALLBACK = 300.0


class RtoTargets(BaseModel):
    """``targets`` maps an incident type to its RTO; ``fallback`` covers every other type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: dict[str, Duration] = Field(default_factory=lambda: dict(DEFAULT_RTO_TARGETS))
    fallback: Duration = DEFAULT_RTO_FALLBACK

    @field_validator("targets")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        for name, seconds in v.items():
            if seconds <= 0:
                raise ValueError(f"{name}: must be longer than 0s")
        return v

    @field_validator("fallback")
    @classmethod
    def _fallback(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be longer than 0s")
        return v

    def target_for(self, incident_type: str | None) -> float:
        if incident_type is not None and incident_type in self.targets:
            return self.targets[incident_type]
        return self.fallback


@dataclass(frozen=True, slots=True)
class IncidentTimes:
    """The response figures of one incident; None where the moment has not happened (or is unknown)."""

    incident_id: int
    incident_type: str | None
    detect: float | None
    acknowledge: float | None
    recover: float | None
    rto_target: float
    rto: str  # "met", "breached" or "open"


def _since(later: float | None, earlier: float | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, later - earlier)


def fault_start(incident: Incident) -> float | None:
    """When the fault began: the supplied fault start, else the earliest attached alert's ``active_at``."""
    if incident.fault_started_at is not None:
        return incident.fault_started_at
    starts = [a.active_at for a in incident.alerts]
    return min(starts) if starts else None


def rto_status(incident: Incident) -> str:
    if incident.rto_breached_at is not None:
        return "breached"
    if incident.resolved_at is None:
        return "open"
    return "met" if incident.resolved_at - incident.declared_at <= incident.rto_target_seconds else "breached"


def incident_times(incident: Incident) -> IncidentTimes:
    return IncidentTimes(
        incident_id=incident.id,
        incident_type=incident.incident_type,
        detect=_since(incident.declared_at, fault_start(incident)),
        acknowledge=_since(incident.acknowledged_at, incident.declared_at),
        recover=_since(incident.resolved_at, incident.declared_at),
        rto_target=incident.rto_target_seconds,
        rto=rto_status(incident),
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True, slots=True)
class Stats:
    count: int
    mean: float | None
    p50: float | None
    p95: float | None

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Stats:
        present = [v for v in values if v is not None]
        if not present:
            return cls(0, None, None, None)
        return cls(len(present), sum(present) / len(present), percentile(present, 0.5), percentile(present, 0.95))


@dataclass(frozen=True, slots=True)
class RtoCompliance:
    met: int = 0
    breached: int = 0
    open: int = 0


@dataclass(frozen=True, slots=True)
class SlaReport:
    """MTTD/MTTA/MTTR over the incidents declared in [since, until), and RTO compliance per incident type
    (incidents without a type are counted under ``"(none)"``)."""

    since: float | None
    until: float | None
    incidents: int
    mttd: Stats
    mtta: Stats
    mttr: Stats
    rto: dict[str, RtoCompliance] = field(default_factory=dict)


def sla_report(incidents: Iterable[Incident], *, since: float | None = None, until: float | None = None) -> SlaReport:
    chosen = [
        i for i in incidents
        if (since is None or i.declared_at >= since) and (until is None or i.declared_at < until)
    ]
    times = [incident_times(i) for i in chosen]
    counts: dict[str, dict[str, int]] = {}
    for t in times:
        bucket = counts.setdefault(t.incident_type or "(none)", {"met": 0, "breached": 0, "open": 0})
        bucket[t.rto] += 1
    return SlaReport(
        since=since,
        until=until,
        incidents=len(chosen),
        mttd=Stats.of(t.detect for t in times),
        mtta=Stats.of(t.acknowledge for t in times),
        mttr=Stats.of(t.recover for t in times),
        rto={name: RtoCompliance(**c) for name, c in sorted(counts.items())},
    )
