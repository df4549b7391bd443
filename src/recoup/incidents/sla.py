"""RTO targets per incident type, and the response-time figures computed from stored incidents.

Definitions (all in seconds, per incident):

* MTTD, time to detect = ``declared_at`` - when the fault began: the fault start a scenario supplied, else the
  earliest ``active_at`` (condition started holding) of the alerts attached to the incident. None for an
  incident declared by hand with neither.
* MTTA, time to acknowledge = ``acknowledged_at`` - ``declared_at`` (None while unacknowledged).
* Time to restore = ``recovered_at`` - ``declared_at`` (0 when the service was already restored at declaration):
  the figure an RTO is about. ``recovered_at`` is when the incident's services' own signals showed the service
  restored (`recoup.incidents.recovery_watch`), or when someone recorded it by hand; an incident resolved
  without either counts as recovered when it was resolved.
* MTTR, time to resolve = ``resolved_at`` - ``declared_at`` (None while unresolved): the incident's whole life,
  which lags the restoration by however long the alerts' windows keep them firing. Kept as its own figure.
* RTO, measured from ``declared_at`` (when the organisation knew, the moment an RTO clock can be enforced by a
  pager; the detection delay before it is MTTD): met when ``recovered_at`` - ``declared_at`` is within the
  incident's target; breached when it is later, or when the target passed with no recovery (the manager's tick
  marks ``rto_breached_at``); open otherwise. An incident that recovered in time is met even if it resolves
  long after.

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


#: The recovery window, as a share of the tightest RTO target, when the policy does not set one: the
#: instrument must be ten times finer than the tightest objective it judges (3 s for the shipped 30 s target).
RECOVERY_WINDOW_SHARE = 0.1


class RecoverySignal(BaseModel):
    """How the services' own signals say an incident's service is restored (`recoup.incidents.recovery_watch`).

    ``window``: the short window each firing rule's condition is re-evaluated over (None: a tenth of the
    tightest RTO target, so it scales with the targets). ``stable_for``: how long that must stay healthy before
    the recovery counts (None: one window); it is also at least twice the longest healthy spell seen between
    two failures during the incident, so a sparse failure signal does not pass for a recovery."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: Duration | None = None
    stable_for: Duration | None = None

    @field_validator("window", "stable_for")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("must be longer than 0s")
        return v


class RtoTargets(BaseModel):
    """``targets`` maps an incident type to its RTO; ``fallback`` covers every other type; ``recovery`` says
    how a restored service is recognised."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: dict[str, Duration] = Field(default_factory=lambda: dict(DEFAULT_RTO_TARGETS))
    fallback: Duration = DEFAULT_RTO_FALLBACK
    recovery: RecoverySignal = RecoverySignal()

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

    def recovery_window(self, floor: float = 0.0) -> float:
        """The recovery window in seconds: the configured one, else a tenth of the tightest target; never
        below ``floor`` (the engine passes twice its evaluation interval: a window finer than the engine's own
        cadence would judge on one sample)."""
        window = self.recovery.window
        if window is None:
            window = min([self.fallback, *self.targets.values()]) * RECOVERY_WINDOW_SHARE
        return max(window, floor)

    def stable_for(self, window: float) -> float:
        """How long the signals must stay healthy (at least), given the recovery ``window`` in force."""
        return self.recovery.stable_for if self.recovery.stable_for is not None else window


@dataclass(frozen=True, slots=True)
class IncidentTimes:
    """The response figures of one incident; None where the moment has not happened (or is unknown)."""

    incident_id: int
    incident_type: str | None
    detect: float | None
    acknowledge: float | None
    recover: float | None  # time to resolve (MTTR): declared -> resolved
    restore: float | None  # time to restore service (the RTO measure): declared -> recovered
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


def recovered_at(incident: Incident) -> float | None:
    """When the service was restored: the recorded ``recovered_at``, else (a resolved incident stored before
    recovery was tracked) its ``resolved_at``."""
    return incident.recovered_at if incident.recovered_at is not None else incident.resolved_at


def rto_status(incident: Incident) -> str:
    """"met", "breached" or "open", by the time to restore (see the module docstring)."""
    restored = recovered_at(incident)
    if restored is not None:
        return "met" if restored - incident.declared_at <= incident.rto_target_seconds else "breached"
    return "breached" if incident.rto_breached_at is not None else "open"


def incident_times(incident: Incident) -> IncidentTimes:
    return IncidentTimes(
        incident_id=incident.id,
        incident_type=incident.incident_type,
        detect=_since(incident.declared_at, fault_start(incident)),
        acknowledge=_since(incident.acknowledged_at, incident.declared_at),
        recover=_since(incident.resolved_at, incident.declared_at),
        restore=_since(recovered_at(incident), incident.declared_at),
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
    """MTTD/MTTA/MTTR and the time to restore over the incidents declared in [since, until), and RTO compliance
    per incident type (incidents without a type are counted under ``"(none)"``)."""

    since: float | None
    until: float | None
    incidents: int
    mttd: Stats
    mtta: Stats
    mttr: Stats
    restore: Stats = Stats(0, None, None, None)
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
        restore=Stats.of(t.restore for t in times),
        rto={name: RtoCompliance(**c) for name, c in sorted(counts.items())},
    )
