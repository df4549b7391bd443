"""Post-mortem drafts: every section filled from a real stored incident and its timeline, root-cause candidates
ranked (or "none available"), and Markdown kept intact by text that contains pipes or newlines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from recoup.analytics.rootcause import RootCauseCandidate
from recoup.incidents.incidents import IncidentManager, loads_policy
from recoup.incidents.model import Alert, AlertState, AlertTransition, Notice, Severity, labels_fingerprint
from recoup.incidents.postmortem import format_seconds, render_postmortem, severity_path
from recoup.store import Store

T0 = datetime(2027, 1, 5, 10, 0, tzinfo=UTC).timestamp()

POLICY = """
escalation:
  policies: [{name: page, steps: [{targets: [oncall], wait: 5m}, {targets: [lead]}]}]
"""


class RecordingSink:
    def __init__(self) -> None:
        self.sent: list[tuple[Notice, str]] = []

    def enqueue(self, notice: Notice, receivers: Sequence[str]) -> None:
        self.sent.extend((notice, r) for r in receivers)


def alert(name: str, severity: Severity, service: str) -> Alert:
    labels = {"alertname": name, "severity": severity.value, "service": service, "incident_type": "error_rate_spike",
              "project": "7"}
    return Alert(labels_fingerprint(labels), name, labels, {"summary": f"{name} on {service}"}, severity,
                 AlertState.FIRING, 0.2, T0 - 40, T0)


def resolved_incident(store: Store) -> tuple[IncidentManager, int]:
    now = [T0]
    mgr = IncidentManager(store, loads_policy(POLICY), clock=lambda: now[0], sink=RecordingSink())
    slow = alert("SlowResponses", Severity.WARNING, "web")
    errors = alert("HighErrorRate", Severity.CRITICAL, "api")
    warnings = [alert(f"SlowRecovery{i}", Severity.WARNING, f"w{i}") for i in range(2)]
    [incident] = mgr.on_transitions([AlertTransition(a, AlertState.PENDING, T0) for a in [slow, *warnings]])
    mgr.on_transitions([AlertTransition(errors, AlertState.PENDING, T0 + 20)])
    mgr.tick(T0 + 300)
    now[0] = T0 + 310
    mgr.acknowledge(incident.id, "bob")
    mgr.assign_role(incident.id, "commander", "carol")
    mgr.add_note(incident.id, "pool | size 5\nraised to 20", by="carol")
    mgr.record_recovery_action(incident.id, "failover to replica db-2", {"target": "db-2"})
    mgr.record_notification(incident.id, "oncall", T0 + 3)
    now[0] = T0 + 400
    mgr.resolve(incident.id, "carol")
    return mgr, incident.id


def test_a_draft_has_every_section_filled_from_the_record(store: Store) -> None:
    mgr, incident_id = resolved_incident(store)
    incident = mgr.get(incident_id)
    timeline = mgr.timeline(incident_id)
    causes = [RootCauseCandidate("slow query", 0.4, "p95 of db time x8"),
              RootCauseCandidate("connection pool exhausted", 0.9, ["pool at 100%", "DatabaseErrors x40"])]
    text = render_postmortem(incident, timeline, root_causes=causes, generated_at=T0 + 500)
    assert text.startswith(f"# Post-mortem (draft): incident #{incident_id}, 3 related warnings (error_rate_spike)")
    for heading in ["## Summary", "## Impact", "## Detection and response", "## Timeline (UTC)",
                    "## Root-cause candidates", "## Actions taken", "## Follow-ups"]:
        assert heading in text
    assert "declared automatically from alerts at 2027-01-05 10:00:00" in text
    assert "acknowledged by bob at 2027-01-05 10:05:10, resolved at 2027-01-05 10:06:40 by carol" in text
    assert "- Duration: 6m 40s" in text
    assert "- Severity path: warning → critical" in text
    assert "- Services: api, w0, w1, web" in text
    assert "  - `HighErrorRate` on `api` (critical), active from 2027-01-05 09:59:20, last seen firing\n" in text
    assert "| Time to detect (MTTD) | 40s |" in text
    assert "| Time to acknowledge (MTTA) | 5m 10s |" in text
    # resolved with no recovery on record: the service counts as restored when the incident resolved
    assert "| Time to restore service (RTO measure) | 6m 40s |" in text
    assert "| Time to resolve (MTTR) | 6m 40s |" in text
    assert "| RTO target | 2m (breached) |" in text
    assert "Roles: commander carol, scribe (none), responders (none)." in text
    # one table row per timeline entry, the note flattened and its pipe escaped
    rows = [line for line in text.splitlines() if line.startswith("| 2027-")]
    assert len(rows) == len(timeline)
    assert "| 2027-01-05 10:05:10 | note | carol | pool \\| size 5 raised to 20 |" in text
    # candidates ranked by score
    first = text.index("1. **connection pool exhausted** (score 0.90): pool at 100%; DatabaseErrors x40")
    assert first < text.index("2. **slow query** (score 0.40): p95 of db time x8")
    assert "- 2027-01-05 10:05:10: recovery action: failover to replica db-2" in text
    assert "- 2027-01-05 10:00:03: notification delivered: delivered to oncall" in text
    assert "notification queued: escalation notice (rto breached) to lead" in text
    assert "escalation step" in text and "acknowledged: acknowledged by bob" in text
    assert "- [ ] Did `HighErrorRate` fire early enough" in text
    assert "- [ ] The RTO of 2m was missed" in text
    assert "- [ ] Root cause confirmed: ..." in text


def test_without_analytics_and_still_open(store: Store) -> None:
    now = [T0]
    mgr = IncidentManager(store, loads_policy(POLICY), clock=lambda: now[0], sink=RecordingSink())
    incident = mgr.declare("checkout slow", "warning", by="dan", incident_type="breaker_cascade")
    text = render_postmortem(incident, mgr.timeline(incident.id), generated_at=T0 + 75)
    assert "None available: no analytics results were supplied." in text
    assert "declared by hand by dan" in text and "still triggered" in text
    assert "- Duration: ongoing (1m 15s so far)" in text
    assert "  - none (declared by hand)" in text
    assert "| Time to detect (MTTD) | n/a |" in text
    assert "| RTO target | 5m (open) |" in text
    assert "The RTO of" not in text


def test_severity_path_and_durations(store: Store) -> None:
    mgr, incident_id = resolved_incident(store)
    assert severity_path(mgr.get(incident_id), mgr.timeline(incident_id)) == ["warning", "critical"]
    assert format_seconds(None) == "n/a"
    assert format_seconds(2.5) == "2.5s"
    assert format_seconds(3725) == "1h 2m 5s"
    assert format_seconds(90000) == "1d 1h"
