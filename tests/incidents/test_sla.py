"""RTO/SLA: breaches recorded once and escalated, MTTD/MTTA/MTTR per incident and aggregated from stored
incidents, RTO compliance per incident type, and the percentile arithmetic."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from recoup.incidents.incidents import IncidentManager, IncidentStatus, TimelineKind, loads_policy
from recoup.incidents.model import Alert, AlertState, AlertTransition, Notice, NoticeKind, Severity, labels_fingerprint
from recoup.incidents.sla import (
    DEFAULT_RTO_TARGETS,
    RtoCompliance,
    RtoTargets,
    Stats,
    incident_times,
    percentile,
    sla_report,
)
from recoup.store import Store

T0 = datetime(2027, 1, 5, 10, 0, tzinfo=UTC).timestamp()

POLICY = """
escalation:
  policies:
    - name: page
      steps: [{targets: [first], wait: 10m}, {targets: [boss, cto]}]
"""


class RecordingSink:
    def __init__(self) -> None:
        self.sent: list[tuple[Notice, str]] = []

    def enqueue(self, notice: Notice, receivers: Sequence[str]) -> None:
        self.sent.extend((notice, r) for r in receivers)


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


def make(store: Store) -> tuple[IncidentManager, RecordingSink, Clock]:
    sink, clock = RecordingSink(), Clock()
    return IncidentManager(store, loads_policy(POLICY), clock=clock, sink=sink), sink, clock


def fire(name: str, itype: str, *, active_at: float, at: float, severity: Severity = Severity.CRITICAL) -> Alert:
    labels = {"alertname": name, "severity": severity.value, "incident_type": itype, "service": name.lower()}
    return Alert(labels_fingerprint(labels), name, labels, {}, severity, AlertState.FIRING, 1.0, active_at, at)


def test_the_issue_default_targets() -> None:
    targets = RtoTargets()
    assert DEFAULT_RTO_TARGETS == {"error_rate_spike": 120.0, "resource_exhaustion": 60.0,
                                   "database_connection_exhaustion": 30.0, "breaker_cascade": 300.0,
                                   "sla_breach": 480.0}
    assert targets.target_for("database_connection_exhaustion") == 30.0
    assert targets.target_for("application_down") == targets.fallback == 300.0
    assert targets.target_for(None) == 300.0


def test_an_rto_breach_is_recorded_once_and_escalates(store: Store) -> None:
    mgr, sink, _ = make(store)
    incident = mgr.declare("errors up", "warning", by="carol", incident_type="error_rate_spike")
    mgr.acknowledge(incident.id, "first")  # acknowledged incidents are still held to their RTO
    assert mgr.next_due() == T0 + 120
    assert mgr.tick(T0 + 119) == []
    [breached] = mgr.tick(T0 + 125)
    assert breached.rto_breached_at == T0 + 120  # the moment the target passed
    assert breached.severity is Severity.CRITICAL
    assert breached.status is IncidentStatus.ACKNOWLEDGED
    escalation = [(n.kind, n.key, r) for n, r in sink.sent if n.kind is NoticeKind.ESCALATION]
    key = f"recoup-incident-{incident.id}-rto-breached"
    assert escalation == [(NoticeKind.ESCALATION, key, "boss"), (NoticeKind.ESCALATION, key, "cto")]
    assert mgr.tick(T0 + 500) == []  # once
    assert mgr.next_due() is None
    entries = [e for e in mgr.timeline(incident.id) if e.kind is TimelineKind.RTO_BREACHED]
    assert len(entries) == 1 and entries[0].at == T0 + 125 and entries[0].data["from"] == "warning"
    assert incident_times(mgr.get(incident.id)).rto == "breached"


def test_a_late_resolution_without_a_tick_is_still_a_breach(store: Store) -> None:
    mgr, _, clock = make(store)
    incident = mgr.declare("pool exhausted", "critical", by="carol", incident_type="database_connection_exhaustion")
    clock.t = T0 + 45
    done = mgr.resolve(incident.id, "carol")
    assert done.rto_breached_at == T0 + 30 and done.recovered_at == T0 + 45  # resolving says restored, at the latest
    assert [e.kind for e in mgr.timeline(incident.id)][-4:] == [TimelineKind.RECOVERED, TimelineKind.RTO_BREACHED,
                                                                TimelineKind.RESOLVED,
                                                                TimelineKind.NOTIFICATION_QUEUED]
    assert incident_times(done).rto == "breached"


def test_response_times_from_stored_incidents(store: Store) -> None:
    mgr, _, clock = make(store)
    # 1: error-rate spike, fault began 40s before declaration; acked after 30s, recovered after 90s (RTO 120: met)
    [one] = mgr.on_transitions([AlertTransition(fire("A", "error_rate_spike", active_at=T0 - 40, at=T0),
                                                AlertState.PENDING, T0)])
    clock.t = T0 + 30
    mgr.acknowledge(one.id, "first")
    clock.t = T0 + 90
    mgr.resolve(one.id, "first")
    # 2: by hand with a supplied fault start; acked after 60s, recovered after 400s (RTO 300 fallback: breached)
    clock.t = T0 + 1000
    two = mgr.declare("by hand", "critical", by="carol", fault_started_at=T0 + 980)
    clock.t = T0 + 1060
    mgr.acknowledge(two.id, "first")
    clock.t = T0 + 1400
    mgr.resolve(two.id, "first")
    # 3: still open, never acknowledged
    clock.t = T0 + 2000
    three = mgr.declare("open", "warning", by="carol", incident_type="error_rate_spike")

    times = incident_times(mgr.get(one.id))
    assert (times.detect, times.acknowledge, times.recover, times.rto) == (40, 30, 90, "met")
    times = incident_times(mgr.get(two.id))
    assert (times.detect, times.acknowledge, times.recover, times.rto) == (20, 60, 400, "breached")
    times = incident_times(mgr.get(three.id))
    assert (times.detect, times.acknowledge, times.recover, times.rto) == (None, None, None, "open")
    assert (times.restore, incident_times(mgr.get(one.id)).restore) == (None, 90)  # resolved by hand: restored then

    report = sla_report(mgr.list_incidents())
    assert report.incidents == 3
    assert report.mttd == Stats(2, 30.0, 30.0, 39.0)
    assert report.mtta == Stats(2, 45.0, 45.0, 58.5)
    assert report.mttr == Stats(2, 245.0, 245.0, 384.5)
    assert report.restore == report.mttr  # nothing recorded a recovery before the resolutions
    assert report.rto == {"(none)": RtoCompliance(met=0, breached=1, open=0),
                          "error_rate_spike": RtoCompliance(met=1, breached=0, open=1)}
    ranged = sla_report(mgr.list_incidents(), since=T0 + 500, until=T0 + 1500)
    assert ranged.incidents == 1 and ranged.mttr == Stats(1, 400.0, 400.0, 400.0)
    empty = sla_report([], since=T0)
    assert empty.mttd == Stats(0, None, None, None) and empty.rto == {}


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([5.0], 0.95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile(list(map(float, range(1, 101))), 0.95) == pytest.approx(95.05)
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_bad_targets_are_refused() -> None:
    with pytest.raises(ValueError, match="sla_breach: must be longer than 0s"):
        RtoTargets.model_validate({"targets": {"sla_breach": 0}})
    with pytest.raises(ValueError, match="expected a duration"):
        RtoTargets.model_validate({"fallback": "later"})
