"""The post-mortem's Trends, Forecast and Related groups sections: through a running `recoup serve` (events with
known timestamps posted to the native endpoint, an incident opened by the rule, the draft fetched from the API;
both databases), and the forecast logic on its own (a replayed RTO trend, forecast warnings attached to an
incident)."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from server_support import LiveServer, live_server

from recoup.analytics.forecast import rto_breach_forecast
from recoup.incidents.incidents import IncidentManager, loads_policy
from recoup.incidents.model import Alert, AlertState, AlertTransition, Notice, Severity, labels_fingerprint
from recoup.incidents.postmortem import render_postmortem
from recoup.incidents.postmortem_analytics import SPAN, PostmortemAnalytics
from recoup.server import ServerSettings
from recoup.store import Store
from recoup.telemetry.events import ErrorEvent, Outcome, RecoveryOutcomeEvent

CONFIG = """
rules:
  - name: HighErrorRate
    metric: error_ratio
    by: [project, service]
    window: 1m
    op: ">"
    threshold: 0.05
    min_count: 10
    severity: critical
    forecast: {horizon: 10m, interval: 1m}
    labels: {incident_type: error_rate_spike}
    annotations: {summary: "Error rate of {{ $labels.service }} above 5%"}
receivers:
  - name: oncall
    webhook: {url: "http://127.0.0.1:9/unused", secret: "a-webhook-secret-of-some-length"}
  - name: default
    webhook: {url: "http://127.0.0.1:9/unused", secret: "a-webhook-secret-of-some-length"}
"""


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    path = tmp_path / "incidents.yaml"
    path.write_text(CONFIG)
    settings = ServerSettings(db_url=db_url, spool_dir=tmp_path / "spool", incidents_config=path,
                              evaluation_interval_seconds=0.2)
    with live_server(settings) as running:
        yield running


def _post(server: LiveServer, events: Sequence[Any]) -> None:
    answer = httpx.post(f"{server.url}/api/v1/events", json={"events": [e.to_dict() for e in events]},
                        headers=server.ingest_headers)
    assert answer.status_code == 200, answer.text


def _error(kind: str, message: str, service: str, at: float, **tags: str) -> ErrorEvent:
    return ErrorEvent(exception_type=kind, message=message, service=service, category=None, timestamp=at, tags=tags)


def _wait(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not reached within {timeout}s")


def _row(text: str, heading: str, name: str) -> list[str]:
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    found = [line for line in section.splitlines() if line.startswith("| ") and name in line]
    assert found, section
    return [c.strip() for c in found[0].strip("|").split("|")]


def test_the_draft_shows_trends_forecast_and_related_groups(server: LiveServer) -> None:
    admin = server.admin_headers
    now = time.time()
    _post(server, [RecoveryOutcomeEvent(operation="pay", strategy="retry", outcome=Outcome.SUCCEEDED,
                                        tags={"service": "checkout"}) for _ in range(40)])
    old = [_error("LookupError", "stale cache entry 1", "checkout", now - 5400)]  # quiet for 1.5 h, then back
    runup = [_error("ConnectionError", "connection refused", "checkout", now - 120 + i, dependency="payments")
             for i in range(2)]
    runup += [_error("TimeoutError", "payments ledger timed out", "payments", now - 120 + i) for i in range(2)]
    runup += [_error("ValueError", "bad row 7 in import", "batch", now - 1500)]  # another service: not counted
    _post(server, old + runup)
    _post(server, [_error("TimeoutError", "payments ledger timed out", "payments", time.time()) for _ in range(6)])
    _post(server, [_error("ConnectionError", "connection refused", "checkout", time.time(), dependency="payments")
                   for _ in range(10)])
    incidents = _wait(lambda: httpx.get(f"{server.url}/api/v1/incidents", headers=admin).json()["incidents"])
    incident_id = incidents[0]["id"]
    declared_at = incidents[0]["declared_at"]
    _wait(lambda: time.time() > declared_at + 0.05)
    during = [_error("ConnectionError", "connection refused", "checkout", time.time(), dependency="payments")
              for _ in range(5)]
    _post(server, [*during, _error("LookupError", "stale cache entry 2", "checkout", time.time())])

    draft = httpx.get(f"{server.url}/api/v1/incidents/{incident_id}/postmortem", headers=admin)
    assert draft.status_code == 200, draft.text
    text = draft.text
    for heading in ("## Root-cause candidates", "## Trends", "## Forecast", "## Related groups", "## Actions taken"):
        assert heading in text
    assert text.index("## Root-cause candidates") < text.index("## Trends") < text.index("## Forecast") \
        < text.index("## Related groups") < text.index("## Actions taken")

    groups = {g["title"]: g["id"] for g in httpx.get(
        f"{server.url}/api/v1/projects/{server.project.id}/groups", headers=admin).json()["groups"]}
    refused = next(gid for title, gid in groups.items() if "connection refused" in title)
    stale = next(gid for title, gid in groups.items() if "stale cache entry" in title)
    # the spike itself came just before the declaration; five errors after it
    assert _row(text, "Trends", f"#{refused} ")[1:3] == ["12", "5"]
    assert _row(text, "Trends", f"#{stale} ")[1:3] == ["0", "1"]
    assert _row(text, "Trends", "| network")[1:3] == ["12", "5"]
    assert "payments ledger" not in text.split("## Trends", 1)[1].split("## Forecast", 1)[0]  # not checkout's
    assert "bad row" not in text
    new_line = next(line for line in text.splitlines() if line.startswith("New groups"))
    assert f"#{refused} " in new_line and f"#{stale} " not in new_line
    back = next(line for line in text.splitlines() if line.startswith("Regressions"))
    assert f"#{stale} " in back and re.search(r"after 1h 3\dm", back), back

    forecast = text.split("## Forecast", 1)[1].split("## Related groups", 1)[0]
    assert "- RTO (" in forecast and "not forecast" in forecast  # declared seconds ago: too few buckets yet
    assert "`HighErrorRate` has a forecast, but no forecast warning of it is attached" in forecast

    related = _row(text, "Related groups", "service:payments")
    assert float(related[1]) >= 0.3
    assert any("payments ledger timed out" in line for line in text.split("## Related groups", 1)[1].splitlines())


# -- the forecast section without a server ---------------------------------------------------------------

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC).timestamp()


class _Sink:
    def enqueue(self, notice: Notice, receivers: Sequence[str]) -> None:
        pass


def _alert(severity: Severity, active_at: float, forecast: bool) -> Alert:
    labels = {"alertname": "HighErrorRate", "severity": severity.value, "service": "api",
              "incident_type": "error_rate_spike", "project": "3"}
    if forecast:
        labels["forecast"] = "true"
    identity = {k: v for k, v in labels.items() if k != "severity"}
    return Alert(labels_fingerprint(identity), "HighErrorRate", labels, {"summary": "errors"}, severity,
                 AlertState.FIRING, 0.2, active_at, active_at)


def test_a_forecast_warning_on_the_incident_shows_its_lead(store: Store) -> None:
    mgr = IncidentManager(store, loads_policy("escalation: {policies: [{name: p, steps: [{targets: [x]}]}]}"),
                          clock=lambda: T0 + 400, sink=_Sink())
    [incident] = mgr.on_transitions([AlertTransition(_alert(Severity.CRITICAL, T0, False), AlertState.PENDING, T0)])
    mgr.on_transitions([AlertTransition(_alert(Severity.WARNING, T0 - 300, True), AlertState.PENDING, T0 + 1)])
    incident = mgr.get(incident.id)
    assert len(incident.alerts) == 2
    text = render_postmortem(incident, mgr.timeline(incident.id), generated_at=T0 + 400,
                             analytics=PostmortemAnalytics(SPAN, forecast_rules=frozenset({"HighErrorRate"})))
    assert ("- Forecast warning `HighErrorRate` on `api` from 2027-03-01 08:55:00: its threshold alert followed at "
            "2027-03-01 09:00:00, 5m later.") in text
    assert "has a forecast, but no forecast warning" not in text
    plain = render_postmortem(incident, mgr.timeline(incident.id), generated_at=T0 + 400)
    assert "## Trends\n\nNot available: no analytics results were supplied." in plain
    assert "## Related groups\n\nNot available" in plain


def test_the_replayed_rto_trend_predicts_a_breach_only_when_errors_do_not_fall() -> None:
    flat = [T0 + i for i in range(0, 300, 5)]  # one error every 5 s, never falling
    f = rto_breach_forecast(flat, declared_at=T0, deadline=T0 + 300, end=T0 + 600, bucket=15)
    assert f.samples == 20 and f.predicted_at == T0 + 45 and f.lead == 255 and f.held
    falling = [T0 + i for i in range(0, 60, 2)]  # errors stop after a minute
    g = rto_breach_forecast(falling, declared_at=T0, deadline=T0 + 300, end=T0 + 600, bucket=15)
    assert g.samples == 20 and not g.held
    slow = [T0 + i * i / 60 for i in range(0, 120)]  # thinning, but still erroring at the deadline
    h = rto_breach_forecast(slow, declared_at=T0, deadline=T0 + 300, end=T0 + 120, bucket=15)
    assert h.samples == 8 and h.deadline == T0 + 300
    with pytest.raises(ValueError, match="bucket must be positive"):
        rto_breach_forecast(flat, declared_at=T0, deadline=T0 + 300, end=T0 + 600, bucket=0)
    with pytest.raises(ValueError, match=r"deadline .* is before the declaration"):
        rto_breach_forecast(flat, declared_at=T0, deadline=T0 - 1, end=T0 + 600, bucket=15)
