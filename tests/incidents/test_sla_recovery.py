"""RTO measured to recovery, not to resolution: the recovery watch re-judges the firing rules over a short window
on arrival time, confirms a recovery once it has been stable (longer for sparse failure signals), and the
incident engine records ``recovered_at`` before the RTO check, so an incident restored in time is "met" although
its alerts keep it open past the target. Real SQLite and PostgreSQL, a FakeClock, no sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from recoup.incidents.config import load_incidents_config, parse_incidents_config
from recoup.incidents.engine import IncidentEngine
from recoup.incidents.incidents import IncidentManager, TimelineKind, loads_policy
from recoup.incidents.recovery_watch import probe_rule, tolerated_gap
from recoup.incidents.rules import default_rules
from recoup.incidents.signals import Observation
from recoup.incidents.sla import RtoTargets, incident_times, sla_report
from recoup.store import Store
from recoup.testing import FakeClock

T0 = 1_800_000_000.0

RULES = """
rules:
  - name: HighErrorRate
    metric: error_ratio
    by: [project, service]
    window: 5m
    op: ">"
    threshold: 0.05
    min_count: 20
    keep_firing_for: 1m
    severity: critical
    labels: {incident_type: error_rate_spike}
  - name: RecoveryTimeObjectiveBreached
    metric: rto_breaches
    aggregation: count
    by: [project, service]
    window: 5m
    op: ">"
    threshold: 0
    keep_firing_for: 5m
    severity: critical
    labels: {incident_type: sla_breach}
"""
POLICY = """
escalation:
  policies:
    - name: page
      steps: [{targets: [first], wait: 10m}, {targets: [boss]}]
rto:
  targets: {error_rate_spike: 2m, sla_breach: 8m}
  recovery: {window: 10s}
"""


def _labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


def ops(clock: FakeClock, n: int, *, failed: int = 0, service: str = "api") -> list[Observation]:
    """``n`` finished operations of ``service`` now, ``failed`` of them with an error (how signals.py counts)."""
    at = clock.monotonic()
    base = {"project": "7", "service": service}
    out = [Observation("operations", 1.0, _labels(outcome="failed" if i < failed else "succeeded", **base), at)
           for i in range(n)]
    out += [Observation("errors", 1.0, _labels(category="service", **base), at) for _ in range(failed)]
    return out


def rto_breach(clock: FakeClock, service: str = "billing") -> list[Observation]:
    return [Observation("rto_breaches", 1.0, _labels(project="7", service=service), clock.monotonic())]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=T0)


@pytest.fixture
def engine(store: Store, clock: FakeClock) -> Iterator[IncidentEngine]:
    config = parse_incidents_config({"rules": yaml.safe_load(RULES)["rules"], "policy": yaml.safe_load(POLICY)})
    yield IncidentEngine(store, config, clock=clock.monotonic, evaluation_interval=1.0)


def run(engine: IncidentEngine, clock: FakeClock, seconds: float, every: float = 1.0,
        feed: list[Observation] | None = None) -> None:
    """Advance ``seconds`` in passes of ``every``, feeding ``feed`` (re-stamped) before each pass."""
    steps = round(seconds / every)
    for _ in range(steps):
        clock.advance(every)
        if feed is not None:
            engine.observe([Observation(o.metric, o.value, o.labels, clock.monotonic()) for o in feed])
        asyncio.run(engine.step())


def test_an_incident_restored_in_time_is_met_although_it_resolves_after_the_target(
        engine: IncidentEngine, clock: FakeClock) -> None:
    run(engine, clock, 10, feed=ops(clock, 10))  # healthy traffic
    run(engine, clock, 5, feed=ops(clock, 10, failed=10))  # the dependency fails
    [incident] = engine.incidents.open_incidents()
    assert incident.incident_type == "error_rate_spike" and incident.recovered_at is None
    declared = incident.declared_at
    run(engine, clock, 20, feed=ops(clock, 10, failed=10))  # a responder's fix takes 20 s
    fixed = clock.monotonic()
    run(engine, clock, 60, feed=ops(clock, 10))  # healthy again; the 5m window keeps the alert firing
    incident = engine.incidents.get(incident.id)
    assert incident.is_open  # the alert still fires: resolution lags ...
    assert incident.recovered_at is not None  # ... but the recovery is on record
    # healthy within the 10 s window after the fix, the first pass after that
    assert fixed < incident.recovered_at <= fixed + 10 + 1
    assert incident_times(incident).rto == "met" and incident.rto_breached_at is None
    run(engine, clock, 600, every=10, feed=ops(clock, 100))  # well past the 2-minute target, until it resolves
    incident = engine.incidents.get(incident.id)
    assert not incident.is_open and incident.resolved_at is not None
    times = incident_times(incident)
    assert times.rto == "met" and incident.rto_breached_at is None
    assert times.restore is not None and times.recover is not None and times.restore < 120 < times.recover
    assert times.restore == pytest.approx(incident.recovered_at - declared)
    kinds = [e.kind for e in engine.incidents.timeline(incident.id)]
    assert TimelineKind.RECOVERED in kinds and TimelineKind.RTO_BREACHED not in kinds
    assert kinds.index(TimelineKind.RECOVERED) < kinds.index(TimelineKind.RESOLVED)
    [entry] = [e for e in engine.incidents.timeline(incident.id) if e.kind is TimelineKind.RECOVERED]
    assert entry.data["source"] == "recovery_watch" and entry.data["rto_met"] is True
    assert entry.data["signals"]["HighErrorRate"]["health"] == "healthy"
    assert sla_report([incident]).restore.count == 1


def test_an_incident_still_failing_at_its_target_breaches_and_pages(engine: IncidentEngine, clock: FakeClock) -> None:
    run(engine, clock, 10, feed=ops(clock, 10))
    run(engine, clock, 200, every=2, feed=ops(clock, 20, failed=20))  # still failing when the 2-minute target passes
    [incident] = engine.incidents.open_incidents()
    assert incident.rto_breached_at == pytest.approx(incident.declared_at + 120)
    assert incident.recovered_at is None
    assert engine.sink.unrouted.get("boss") == 1  # the breach paged the last step's targets (no channel here)
    run(engine, clock, 60, feed=ops(clock, 10))
    incident = engine.incidents.get(incident.id)
    assert incident.recovered_at is not None and incident_times(incident).rto == "breached"


def test_a_sparse_failure_signal_is_not_taken_for_a_recovery(engine: IncidentEngine, clock: FakeClock) -> None:
    """One slow recovery every 20 s: quiet 10 s windows between them are not recoveries (the rule tolerates 5
    minutes between failures), so the 8-minute target passes with the service failing, and breaches."""
    clock.advance(1)
    for _ in range(30):  # 10 minutes of sparse breaches
        engine.observe(rto_breach(clock))
        run(engine, clock, 20, every=5)
    [incident] = engine.incidents.open_incidents()
    assert incident.incident_type == "sla_breach"
    assert incident.recovered_at is None
    assert incident.rto_breached_at == pytest.approx(incident.declared_at + 480)
    last_failure = clock.monotonic() - 20
    run(engine, clock, 900, every=5)  # healed: nothing more; the alert resolves after its window and keep
    incident = engine.incidents.get(incident.id)
    assert not incident.is_open and incident.recovered_at is not None
    assert last_failure < incident.recovered_at <= last_failure + 10 + 10  # after the last failure's window
    assert incident_times(incident).rto == "breached"


def test_the_rto_page_waits_while_the_service_looks_restored(engine: IncidentEngine, clock: FakeClock) -> None:
    """Healthy since before the deadline but not confirmed yet: no page; a relapse then breaches at once."""
    clock.advance(1)
    engine.observe(rto_breach(clock))
    run(engine, clock, 2)
    [incident] = engine.incidents.open_incidents()
    for _ in range(23):  # failures every 20 s, then a quiet spell across the 8-minute deadline
        engine.observe(rto_breach(clock))
        run(engine, clock, 20, every=5)
    assert clock.monotonic() - incident.declared_at < 480
    run(engine, clock, 60, every=5)  # quiet across the deadline: healthy but not confirmed (5m tolerated gap)
    incident = engine.incidents.get(incident.id)
    assert clock.monotonic() > incident.declared_at + 480
    assert incident.rto_breached_at is None and incident.recovered_at is None
    assert engine.recovery.pending().get(incident.id) is not None
    due = engine._earliest_due()
    assert due is not None and due > clock.monotonic()  # the passed deadline does not spin the loop
    engine.observe(rto_breach(clock))  # relapse
    run(engine, clock, 2)
    incident = engine.incidents.get(incident.id)
    assert incident.rto_breached_at == pytest.approx(incident.declared_at + 480)


def test_recovery_by_hand_and_its_refusals(store: Store) -> None:
    clock = FakeClock(start=T0)
    mgr = IncidentManager(store, loads_policy(POLICY), clock=clock.monotonic, sink=_NoSink())
    incident = mgr.declare("db down", "critical", by="carol", incident_type="error_rate_spike",
                           fault_started_at=T0 - 30)
    clock.advance(100)
    with pytest.raises(ValueError, match="at: a recovery cannot be recorded in the future"):
        mgr.mark_recovered(incident.id, "carol", at=T0 + 500)
    with pytest.raises(ValueError, match="at: before the fault began"):
        mgr.mark_recovered(incident.id, "carol", at=T0 - 60)
    with pytest.raises(ValueError, match="at: expected epoch seconds"):
        mgr.mark_recovered(incident.id, "carol", at="soon")  # type: ignore[arg-type]
    done = mgr.mark_recovered(incident.id, "carol", at=T0 + 90)
    assert done.recovered_at == T0 + 90 and done.is_open
    with pytest.raises(ValueError, match="already recorded as recovered"):
        mgr.mark_recovered(incident.id, "bob")
    assert mgr.record_recovery(incident.id, T0 + 95, {}) is None  # the first restoration stands
    clock.advance(500)
    [ticked] = mgr.tick()  # the escalation goes on (nobody acknowledged) ...
    assert ticked.rto_breached_at is None  # ... but no breach although the 2-minute target passed
    assert mgr.next_due() is None
    closed = mgr.resolve(incident.id, "carol")
    assert closed.recovered_at == T0 + 90 and incident_times(closed).rto == "met"
    entries = [e for e in mgr.timeline(incident.id) if e.kind is TimelineKind.RECOVERED]
    assert len(entries) == 1 and entries[0].actor == "carol" and entries[0].data["source"] == "manual"


def test_closing_uses_the_watchs_unconfirmed_recovery(store: Store) -> None:
    clock = FakeClock(start=T0)
    hints: dict[int, float] = {}
    mgr = IncidentManager(store, loads_policy(POLICY), clock=clock.monotonic, sink=_NoSink(),
                          recovery_hint=hints.get)
    incident = mgr.declare("errors", "critical", by="carol", incident_type="error_rate_spike")
    hints[incident.id] = T0 + 40
    clock.advance(300)
    assert mgr.tick(recovering=hints) == []  # healthy since before the deadline: judged later, not paged
    assert mgr.next_due() == T0 + 120  # the passed RTO deadline ...
    assert mgr.next_due(exclude=hints) == T0 + 600  # ... waits on the watch: only the next escalation step is due
    closed = mgr.resolve(incident.id, "carol")
    assert closed.recovered_at == T0 + 40 and closed.resolved_at == T0 + 300
    assert incident_times(closed).rto == "met" and closed.rto_breached_at is None


def test_probe_rules_judge_the_same_condition_on_the_short_window() -> None:
    rules = {r.name: r for r in default_rules().rules}
    db = probe_rule(rules["DatabaseConnectivityFailures"], 3.0)
    assert db is not None and db.window == 3.0 and db.threshold == pytest.approx(0.25)  # 5/min over 3 s
    burn = probe_rule(rules["RecoverySLOBurnFast"], 3.0)
    assert burn is not None and burn.op == "<" and burn.threshold == pytest.approx(1 - 14.4 * 0.001)
    memory = probe_rule(rules["MemoryExhaustion"], 3.0)
    assert memory is not None and memory.effective_aggregation.value == "last"
    assert probe_rule(rules["AuthFailureSpike"], 3.0) is None  # baseline rules are not re-judged
    assert tolerated_gap(rules["DatabaseConnectivityFailures"]) == 12.0
    assert tolerated_gap(rules["RecoveryTimeObjectiveBreached"]) == 300.0
    assert tolerated_gap(rules["HighErrorRate"]) == 0.0


def test_the_recovery_window_scales_with_the_targets() -> None:
    assert RtoTargets().recovery_window() == pytest.approx(3.0)  # a tenth of the 30 s database target
    assert RtoTargets().recovery_window(floor=5.0) == 5.0
    scaled = RtoTargets.model_validate({"targets": {"x": 0.25}, "fallback": 2.5})
    assert scaled.recovery_window() == pytest.approx(0.025) and scaled.stable_for(0.1) == 0.1
    fixed = RtoTargets.model_validate({"recovery": {"window": "20s", "stable_for": "1m"}})
    assert fixed.recovery_window() == 20.0 and fixed.stable_for(20.0) == 60.0
    with pytest.raises(ValueError, match="must be longer than 0s"):
        RtoTargets.model_validate({"recovery": {"window": 0}})
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        RtoTargets.model_validate({"recovery": {"windw": "5s"}})


def test_the_migration_backfills_resolved_incidents(tmp_path: Path) -> None:
    """Upgrading 0007 -> 0008 gives resolved incidents their resolution as recovery (verdicts unchanged)."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from recoup.store.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'up.db'}"
    db = create_engine(url)
    with db.begin() as conn:
        command.upgrade(alembic_config(conn), "0007")
    with db.begin() as conn:
        conn.execute(text(
            "INSERT INTO incidents (scope, title, status, severity, declared_by, declared_at, resolved_at, "
            "rto_target_seconds, escalation_step, escalation_repeat, updated_at) VALUES ('', 't', 'resolved', "
            "'critical', 'x', '2027-01-01 00:00:00.000000', '2027-01-01 00:01:00.000000', 30, 0, 0, "
            "'2027-01-01 00:01:00.000000'), ('', 'o', 'triggered', 'critical', 'x', '2027-01-01 00:00:00.000000', "
            "NULL, 30, 0, 0, '2027-01-01 00:00:00.000000')"))
    with db.begin() as conn:
        command.upgrade(alembic_config(conn), "0008")
    with db.begin() as conn:
        rows = conn.execute(text("SELECT title, recovered_at, resolved_at FROM incidents ORDER BY id")).all()
    assert rows[0][1] == rows[0][2] and rows[1][1] is None
    with db.begin() as conn:
        command.downgrade(alembic_config(conn), "0007")
        cols = [r[1] for r in conn.execute(text("PRAGMA table_info(incidents)"))]
    assert "recovered_at" not in cols
    db.dispose()


class _NoSink:
    def enqueue(self, notice: object, receivers: object) -> None:
        pass


def test_the_shipped_config_watches_on_a_3s_window(store: Store) -> None:
    engine = IncidentEngine(store, load_incidents_config(None), clock=FakeClock(start=T0).monotonic,
                            evaluation_interval=1.0)
    assert engine.recovery.probe.window == pytest.approx(3.0) and engine.recovery.stable_for == pytest.approx(3.0)
