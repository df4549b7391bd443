"""Incidents on both databases: automatic declaration (critical, N related warnings), attaching related alerts,
severity escalation, auto-resolve, the hand-driven lifecycle and its errors, and the policy file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, inspect, select

from recoup.incidents.incidents import (
    IncidentManager,
    IncidentPolicy,
    IncidentStateError,
    IncidentStatus,
    PolicyError,
    TimelineKind,
    default_policy,
    loads_policy,
)
from recoup.incidents.model import (
    Alert,
    AlertState,
    AlertTransition,
    Notice,
    NoticeKind,
    Severity,
    labels_fingerprint,
)
from recoup.store import InvalidInput, NotFound, Store, head_revision, migrate
from recoup.store.engine import BEGIN_MODE_OPTION, create_store_engine
from recoup.store.migrate import alembic_config
from recoup.store.models_incidents import IncidentCandidateRow, TimelineRow

T0 = datetime(2027, 1, 5, 10, 0, tzinfo=UTC).timestamp()  # bob's day on the "primary" rotation

POLICY = """
declare: {related_warnings: 3, window: 10m}
escalation:
  policies:
    - name: page
      steps:
        - {targets: ["oncall:primary"], wait: 5m}
        - {targets: ["lead"], wait: 10m}
      repeat: 1
    - name: quiet
      steps: [{targets: ["team"], wait: 30m}]
  routes: [{match: ['severity="critical"'], policy: page}]
  default: quiet
schedules:
  - {name: primary, people: [alice, bob], handoff: "2027-01-04T09:00:00Z", shift: 1d}
"""


class RecordingSink:
    """A real in-memory `NoticeSink`: de-duplicates by (key, receiver) like the durable queue."""

    def __init__(self) -> None:
        self.sent: list[tuple[Notice, str]] = []

    def enqueue(self, notice: Notice, receivers: Sequence[str]) -> None:
        for receiver in receivers:
            if all((n.key, r) != (notice.key, receiver) for n, r in self.sent):
                self.sent.append((notice, receiver))

    def kinds(self) -> list[tuple[NoticeKind, str]]:
        return [(n.kind, r) for n, r in self.sent]


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def alert(name: str, severity: Severity = Severity.CRITICAL, *, service: str = "api",
          itype: str = "error_rate_spike", project: str = "p1", active_at: float = T0 - 40) -> Alert:
    labels = {"alertname": name, "severity": severity.value, "service": service, "incident_type": itype,
              "project": project}
    return Alert(labels_fingerprint(labels), name, labels, {"summary": f"{name} on {service}"}, severity,
                 AlertState.PENDING, 1.0, active_at)


def fire(a: Alert, at: float = T0) -> AlertTransition:
    return AlertTransition(a.evolve(state=AlertState.FIRING, fired_at=at), AlertState.PENDING, at)


def resolve(a: Alert, at: float) -> AlertTransition:
    return AlertTransition(a.evolve(state=AlertState.RESOLVED, resolved_at=at), AlertState.FIRING, at)


def manager(store: Store, policy: IncidentPolicy | None = None) -> tuple[IncidentManager, RecordingSink, Clock]:
    sink, clock = RecordingSink(), Clock()
    return IncidentManager(store, policy or loads_policy(POLICY), clock=clock, sink=sink), sink, clock


def test_a_critical_alert_declares_an_incident_and_pages_the_first_step(store: Store) -> None:
    mgr, sink, _ = manager(store)
    [incident] = mgr.on_transitions([fire(alert("HighErrorRate"))])
    assert incident.status is IncidentStatus.TRIGGERED
    assert incident.severity is Severity.CRITICAL
    assert incident.incident_type == "error_rate_spike"
    assert incident.rto_target_seconds == 120.0
    assert incident.scope == "p1" and incident.project_id is None  # "p1" is no stored project id
    assert incident.declared_at == T0 and incident.declared_by == "recoup"
    assert incident.escalation_policy == "page" and incident.next_escalation_at == T0 + 300
    assert [a.alertname for a in incident.alerts] == ["HighErrorRate"]
    [(notice, receiver)] = sink.sent
    assert (notice.kind, receiver) == (NoticeKind.INCIDENT_TRIGGERED, "bob")
    assert notice.dedup_key == f"recoup-incident-{incident.id}" and notice.incident_id == incident.id
    assert notice.labels["service"] == "api" and notice.alerts[0]["alertname"] == "HighErrorRate"
    kinds = [e.kind for e in mgr.timeline(incident.id)]
    assert kinds == [TimelineKind.DECLARED, TimelineKind.ALERT_FIRING, TimelineKind.NOTIFICATION_QUEUED]


def test_the_project_label_links_a_stored_project(store: Store) -> None:
    project, _ = store.create_project("shop")
    mgr, _, _ = manager(store)
    [incident] = mgr.on_transitions([fire(alert("HighErrorRate", project=str(project.id)))])
    assert incident.project_id == project.id
    assert [i.id for i in mgr.list_incidents(project_id=project.id)] == [incident.id]


def test_related_alerts_attach_instead_of_opening_new_incidents(store: Store) -> None:
    mgr, sink, _ = manager(store)
    [first] = mgr.on_transitions([fire(alert("HighErrorRate"))])
    # same project and incident type, other service; same project and service, other type
    same_type = alert("SlowResponses", Severity.WARNING, service="web")
    same_service = alert("MemoryExhaustion", itype="resource_exhaustion")
    changed = mgr.on_transitions([fire(same_type, T0 + 10), fire(same_service, T0 + 20)])
    assert [i.id for i in changed] == [first.id]
    assert {a.alertname for a in changed[0].alerts} == {"HighErrorRate", "SlowResponses", "MemoryExhaustion"}
    # another project is another incident
    [other] = mgr.on_transitions([fire(alert("HighErrorRate", project="p2"), T0 + 30)])
    assert other.id != first.id
    assert len(mgr.list_incidents()) == 2
    assert [k for k, _ in sink.kinds()].count(NoticeKind.INCIDENT_TRIGGERED) == 2
    # a re-fire of an attached alert is recorded, not attached twice
    mgr.on_transitions([fire(alert("HighErrorRate"), T0 + 40)])
    assert len(mgr.get(first.id).alerts) == 3
    assert mgr.timeline(first.id)[-1].text == "HighErrorRate firing again"


def test_three_related_warnings_within_the_window_declare(store: Store) -> None:
    mgr, sink, _ = manager(store)
    a, b, c = (alert(n, Severity.WARNING, service=s) for n, s in [("SlowResponses", "web"), ("SlowRecovery", "api"),
                                                                 ("SlowRecovery", "jobs")])
    unrelated = alert("Other", Severity.WARNING, service="mail", itype="sla_breach")
    stale = alert("Old", Severity.WARNING, service="old")
    assert mgr.on_transitions([fire(stale, T0 - 700)]) == []  # outside the 10m window by the time c fires
    assert mgr.on_transitions([fire(a, T0), fire(unrelated, T0)]) == []
    assert mgr.on_transitions([fire(b, T0 + 60)]) == []
    assert sink.sent == []
    [incident] = mgr.on_transitions([fire(c, T0 + 120)])
    assert incident.severity is Severity.WARNING
    assert sorted(al.service for al in incident.alerts) == ["api", "jobs", "web"]
    assert incident.escalation_policy == "quiet"
    assert sink.kinds() == [(NoticeKind.INCIDENT_TRIGGERED, "team")]
    assert incident.fault_started_at == T0 - 40
    # the used candidates are gone; the unrelated and stale ones wait
    left = store.transaction(lambda s: sorted(s.scalars(select(IncidentCandidateRow.service)).all()), write=False)
    assert left == ["mail", "old"]


def test_a_resolved_warning_stops_counting(store: Store) -> None:
    mgr, _, _ = manager(store)
    a, b, c = (alert(f"W{i}", Severity.WARNING, service=f"s{i}") for i in range(3))
    mgr.on_transitions([fire(a), fire(b, T0 + 1), resolve(a, T0 + 2)])
    assert mgr.on_transitions([fire(c, T0 + 3)]) == []


def test_an_escalated_alert_raises_the_incident_severity(store: Store) -> None:
    mgr, sink, _ = manager(store)
    warnings = [alert(f"W{i}", Severity.WARNING, service=f"s{i}") for i in range(3)]
    [incident] = mgr.on_transitions([fire(w, T0 + i) for i, w in enumerate(warnings)])
    assert incident.severity is Severity.WARNING and incident.escalation_policy == "quiet"
    worse = warnings[0].evolve(state=AlertState.FIRING, severity=Severity.CRITICAL)
    [changed] = mgr.on_transitions([AlertTransition(worse, AlertState.FIRING, T0 + 60, Severity.WARNING)])
    assert changed.id == incident.id and changed.severity is Severity.CRITICAL
    escalated = [e for e in mgr.timeline(incident.id) if e.kind is TimelineKind.ALERT_ESCALATED]
    assert [e.text for e in escalated] == ["W0 escalated to critical", "severity warning -> critical: W0 escalated"]
    # critical incidents route to the paging policy: it starts at once
    assert (changed.escalation_policy, changed.escalation_step, changed.next_escalation_at) == ("page", 0, T0 + 360)
    assert sink.kinds() == [(NoticeKind.INCIDENT_TRIGGERED, "team"), (NoticeKind.ESCALATION, "bob")]
    # a firing -> firing report without escalation changes nothing
    assert mgr.on_transitions([AlertTransition(worse, AlertState.FIRING, T0 + 70)]) == []


def test_the_incident_resolves_when_every_alert_has(store: Store) -> None:
    mgr, sink, _ = manager(store)
    a, b = alert("HighErrorRate"), alert("SlowResponses", Severity.WARNING)
    [incident] = mgr.on_transitions([fire(a), fire(b, T0 + 5)])
    [still_open] = mgr.on_transitions([resolve(a, T0 + 60)])
    assert still_open.status is IncidentStatus.TRIGGERED
    [done] = mgr.on_transitions([resolve(b, T0 + 90)])
    assert done.status is IncidentStatus.RESOLVED and done.resolved_by == "recoup"
    assert done.resolved_at is not None and done.resolved_at - done.declared_at == 90
    assert done.next_escalation_at is None
    assert sink.kinds()[-1] == (NoticeKind.INCIDENT_RESOLVED, "bob")
    resolved = [e for e in mgr.timeline(incident.id) if e.kind is TimelineKind.RESOLVED]
    assert resolved[0].data["recovery_seconds"] == 90
    # the same alert firing again later is a new incident
    [again] = mgr.on_transitions([fire(a, T0 + 600)])
    assert again.id != incident.id


def test_auto_resolve_can_be_turned_off(store: Store) -> None:
    policy = loads_policy(POLICY.replace("window: 10m}", "window: 10m, auto_resolve: false}"))
    mgr, _, _ = manager(store, policy)
    a = alert("HighErrorRate")
    [incident] = mgr.on_transitions([fire(a)])
    [after] = mgr.on_transitions([resolve(a, T0 + 30)])
    assert after.status is IncidentStatus.TRIGGERED
    assert after.alerts[0].last_state is AlertState.RESOLVED and after.alerts[0].resolved_at == T0 + 30
    assert mgr.timeline(incident.id)[-1].kind is TimelineKind.ALERT_RESOLVED


def test_pending_and_info_alerts_open_nothing(store: Store) -> None:
    mgr, sink, _ = manager(store)
    pending = AlertTransition(alert("HighErrorRate"), AlertState.INACTIVE, T0)
    info = fire(alert("Info", Severity.INFO))
    assert mgr.on_transitions([pending, info]) == []
    assert mgr.on_transitions([]) == []
    assert mgr.list_incidents() == [] and sink.sent == []


def test_the_lifecycle_by_hand(store: Store) -> None:
    mgr, sink, clock = manager(store)
    incident = mgr.declare("Checkout is down", "critical", by="carol", incident_type="breaker_cascade")
    assert incident.declared_by == "carol" and incident.rto_target_seconds == 300
    assert sink.kinds() == [(NoticeKind.INCIDENT_TRIGGERED, "bob")]
    clock.t = T0 + 30
    mgr.assign_role(incident.id, "commander", "carol", by="carol")
    mgr.assign_role(incident.id, "scribe", "dan")
    mgr.assign_role(incident.id, "responder", "erin")
    mgr.assign_role(incident.id, "responder", "erin")  # adding twice is a no-op
    mgr.assign_role(incident.id, "responder", "frank")
    mgr.add_note(incident.id, "failing over to the replica", by="carol")
    mgr.record_recovery_action(incident.id, "breaker payments opened", {"breaker": "payments"})
    mgr.record_notification(incident.id, "bob", T0 + 2, key=f"recoup-incident-{incident.id}-triggered")
    clock.t = T0 + 45
    acked = mgr.acknowledge(incident.id, "bob")
    assert acked.status is IncidentStatus.ACKNOWLEDGED and acked.acknowledged_at == T0 + 45
    assert acked.next_escalation_at is None
    assert (acked.commander, acked.scribe, acked.responders) == ("carol", "dan", ("erin", "frank"))
    clock.t = T0 + 100
    done = mgr.resolve(incident.id, "carol")
    assert done.status is IncidentStatus.RESOLVED and done.resolved_by == "carol"
    assert sink.kinds() == [(NoticeKind.INCIDENT_TRIGGERED, "bob"), (NoticeKind.INCIDENT_ACKNOWLEDGED, "bob"),
                            (NoticeKind.INCIDENT_RESOLVED, "bob")]
    assert len({n.key for n, _ in sink.sent}) == 3 and len({n.dedup_key for n, _ in sink.sent}) == 1
    timeline = mgr.timeline(incident.id)
    kinds = [e.kind.value for e in timeline]
    assert kinds == ["declared", "notification_queued", "notification_delivered", "role_assigned", "role_assigned",
                     "role_assigned", "role_assigned", "note", "recovery_action", "acknowledged",
                     "notification_queued", "recovered", "resolved", "notification_queued"]
    assert timeline[2].at == T0 + 2  # delivery is recorded at the time it happened
    assert timeline[8].data == {"breaker": "payments"}
    assert timeline[7].actor == "carol"


def test_invalid_operations_are_refused_and_change_nothing(store: Store) -> None:
    mgr, _, _ = manager(store)
    incident = mgr.declare("db down", Severity.CRITICAL, by="carol")
    before = len(mgr.timeline(incident.id))
    with pytest.raises(NotFound, match="incident 999 does not exist"):
        mgr.acknowledge(999, "bob")
    with pytest.raises(NotFound):
        mgr.get(999)
    with pytest.raises(InvalidInput) as info:
        mgr.add_note(incident.id, "   ", by="bob")
    assert info.value.field == "text"
    refused: list[tuple[Callable[[], object], str]] = [
        (lambda: mgr.declare("", "critical", by="x"), "title"),
        (lambda: mgr.declare("t", "urgent", by="x"), "severity"),
        (lambda: mgr.declare("t", "critical", by=""), "by"),
        (lambda: mgr.declare("t", "critical", by="x", project_id=4242), "project_id"),
        (lambda: mgr.assign_role(incident.id, "king", "bob"), "role"),
        (lambda: mgr.assign_role(incident.id, "scribe", ""), "person"),
        (lambda: mgr.record_recovery_action(incident.id, ""), "text"),
        (lambda: mgr.record_notification(incident.id, "bob", "soon"), "delivered_at"),  # type: ignore[arg-type]
        (lambda: mgr.declare("t", "critical", by="x", fault_started_at="noon"), "fault_started_at"),  # type: ignore[arg-type]
        (lambda: mgr.set_fault_start(incident.id, T0 + 5, by="x"), "started_at"),
        (lambda: mgr.list_incidents(status="open"), "status"),
        (lambda: mgr.list_incidents(limit=0), "limit"),
        (lambda: mgr.get("1"), "incident_id"),  # type: ignore[arg-type]
    ]
    for call, field in refused:
        with pytest.raises(InvalidInput) as info:
            call()
        assert info.value.field == field
    mgr.acknowledge(incident.id, "bob")
    with pytest.raises(IncidentStateError, match="already acknowledged by bob"):
        mgr.acknowledge(incident.id, "bob")
    mgr.resolve(incident.id, "bob")
    with pytest.raises(IncidentStateError, match="is resolved; it cannot be acknowledged"):
        mgr.acknowledge(incident.id, "bob")
    with pytest.raises(IncidentStateError, match="already resolved"):
        mgr.resolve(incident.id, "bob")
    assert len(mgr.timeline(incident.id)) == before + 5  # ack + its notice, recovered, resolve + its notice
    assert len(mgr.list_incidents()) == 1  # the refused declarations wrote nothing
    total = store.transaction(lambda s: s.scalar(select(func.count()).select_from(TimelineRow)), write=False)
    assert total == before + 5


def test_listing_filters_by_status_and_time(store: Store) -> None:
    mgr, _, clock = manager(store)
    first = mgr.declare("one", "warning", by="x")
    clock.t = T0 + 100
    second = mgr.declare("two", "warning", by="x")
    mgr.resolve(first.id, "x")
    assert [i.id for i in mgr.list_incidents()] == [second.id, first.id]
    assert [i.id for i in mgr.list_incidents(status="resolved")] == [first.id]
    assert [i.id for i in mgr.list_incidents(status=IncidentStatus.TRIGGERED)] == [second.id]
    assert [i.id for i in mgr.list_incidents(since=T0 + 50)] == [second.id]
    assert [i.id for i in mgr.list_incidents(until=T0 + 50)] == [first.id]
    assert [i.id for i in mgr.list_incidents(limit=1)] == [second.id]


def test_the_default_policy_loads_with_the_issue_targets() -> None:
    policy = default_policy()
    assert policy.rto.targets == {"error_rate_spike": 120, "resource_exhaustion": 60,
                                  "database_connection_exhaustion": 30, "breaker_cascade": 300, "sla_breach": 480}
    assert policy.declare.on_critical and policy.declare.related_warnings == 3
    assert policy.escalation.select({"severity": "critical"}).name == "critical"
    assert policy.escalation.select({"severity": "warning"}).name == "standard"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("escalation: {policies: []}\n", "at least one escalation policy"),
        (POLICY + "extra: 1\n", "extra: Extra inputs are not permitted"),
        (POLICY.replace("oncall:primary", "oncall:nobody"), "'oncall:nobody' names no schedule"),
        (POLICY.replace("policy: page", "policy: pager"), "routes[0].policy: unknown policy 'pager'"),
        (POLICY.replace("wait: 5m", "wait: soon"), "escalation.policies.0.steps.0.wait"),
        (POLICY.replace("wait: 5m", "wait: 0s"), "must be longer than 0s"),
        (POLICY.replace("repeat: 1", "repeat: -1"), "escalation.policies.0.repeat"),
        (POLICY.replace("related_warnings: 3", "related_warnings: -2"), "declare.related_warnings"),
        (POLICY.replace("shift: 1d", "shift: 0s"), "schedules.0.shift"),
        (POLICY.replace('match: [\'severity="critical"\']', "match: ['severity=~\"(\"']"), "bad regex"),
        (POLICY + "rto: {targets: {error_rate_spike: 0s}}\n", "error_rate_spike: must be longer than 0s"),
        ("- a list\n", "expected a mapping"),
        ("escalation: [\n", "not valid YAML"),
    ],
)
def test_bad_policies_are_refused_naming_the_field(text: str, words: str) -> None:
    with pytest.raises(PolicyError) as info:
        loads_policy(text, source="test.yaml")
    assert words in str(info.value)
    assert str(info.value).startswith("test.yaml")


def test_a_known_fault_start_is_recorded(store: Store) -> None:
    mgr, _, _ = manager(store)
    [incident] = mgr.on_transitions([fire(alert("HighErrorRate"))])
    assert incident.fault_started_at == T0 - 40  # the alert's active_at
    updated = mgr.set_fault_start(incident.id, T0 - 300, by="carol")
    assert updated.fault_started_at == T0 - 300
    assert mgr.timeline(incident.id)[-1].data == {"fault_started_at": T0 - 300}


def test_the_migration_goes_down_and_up_again(db_url: str) -> None:
    tables = {"incidents", "incident_responders", "incident_alerts", "incident_candidates", "incident_timeline"}

    def run(step: Callable[[Config, str], None], revision: str) -> set[str]:
        engine = create_store_engine(db_url)
        try:
            with engine.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"}).begin() as conn:
                step(alembic_config(conn), revision)
            with engine.connect() as conn:
                return set(inspect(conn).get_table_names()) & tables
        finally:
            engine.dispose()

    assert migrate(db_url) == head_revision()
    assert run(command.downgrade, "0004") == set()
    assert run(command.upgrade, "0005") == tables
    assert run(command.upgrade, "head") == tables


def test_oversized_label_values_are_cut_not_refused(store: Store) -> None:
    mgr, _, _ = manager(store)
    [incident] = mgr.on_transitions([fire(alert("HighErrorRate", project="p" * 300, itype="t" * 100))])
    assert incident.scope == "p" * 200 and incident.incident_type == "t" * 64
