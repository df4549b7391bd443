"""Incident response inside a running `recoup serve`: events posted to the native endpoint trip a rule
in-process, the alert opens an incident, and the incident's page reaches a real webhook receiver on
127.0.0.1 (signed, as the channel documents); the API acknowledges, silences, resolves and drafts the
post-mortem; an Alertmanager webhook opens an incident too. Both databases."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from receivers import HttpReceivers
from server_support import LiveServer, live_server

from recoup.incidents.notify.signing import verify_signature
from recoup.server import ServerSettings
from recoup.telemetry.events import ErrorEvent, Outcome, RecoveryOutcomeEvent

SECRET = "a-webhook-secret-of-some-length"


def _config(tmp_path: Path, receivers: HttpReceivers) -> Path:
    """A fast copy of the error-rate rule (no `for`, small min_count) and a signed webhook as on-call."""
    path = tmp_path / "incidents.yaml"
    path.write_text(f"""
rules:
  - name: HighErrorRate
    metric: error_ratio
    by: [project, service]
    window: 1m
    op: ">"
    threshold: 0.05
    min_count: 10
    severity: critical
    labels: {{incident_type: error_rate_spike}}
    annotations:
      summary: "Error rate of {{{{ $labels.service }}}} above 5%"
      runbook: docs/runbooks/HighErrorRate.md
receivers:
  - name: oncall
    webhook: {{url: "{receivers.base}/webhook/oncall", secret: "{SECRET}"}}
  - name: default
    webhook: {{url: "{receivers.base}/webhook/default", secret: "{SECRET}"}}
""")
    return path


@pytest.fixture
def receivers() -> Iterator[HttpReceivers]:
    r = HttpReceivers(webhook_secret=SECRET).start()
    yield r
    r.stop()


@pytest.fixture
def server(db_url: str, tmp_path: Path, receivers: HttpReceivers) -> Iterator[LiveServer]:
    settings = ServerSettings(
        db_url=db_url, spool_dir=tmp_path / "spool", incidents_config=_config(tmp_path, receivers),
        evaluation_interval_seconds=0.2,
    )
    with live_server(settings) as running:
        yield running


def _post(server: LiveServer, events: list[dict[str, Any]]) -> None:
    answer = httpx.post(f"{server.url}/api/v1/events", json={"events": events}, headers=server.ingest_headers)
    assert answer.status_code == 200, answer.text


def _wait(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not reached within {timeout}s")


def test_an_error_spike_opens_an_incident_and_pages_the_webhook(server: LiveServer, receivers: HttpReceivers) -> None:
    admin = server.admin_headers
    healthy = [RecoveryOutcomeEvent(operation="pay", strategy="retry", outcome=Outcome.SUCCEEDED,
                                    tags={"service": "checkout"}).to_dict() for _ in range(40)]
    _post(server, healthy)
    assert httpx.get(f"{server.url}/api/v1/incidents", headers=admin).json()["incidents"] == []

    started = time.monotonic()
    errors = [ErrorEvent(exception_type="ConnectionError", message="connection refused", service="checkout",
                         category=None).to_dict() for _ in range(10)]
    _post(server, errors)
    live = httpx.get(f"{server.url}/api/v1/alerts/live", headers=admin).json()
    firing = [a for a in live["alerts"] if a["state"] == "firing"]
    assert [a["labels"]["alertname"] for a in firing] == ["HighErrorRate"], live  # detected on that batch
    assert firing[0]["labels"]["service"] == "checkout"

    incidents = _wait(lambda: httpx.get(f"{server.url}/api/v1/incidents", headers=admin).json()["incidents"])
    assert len(incidents) == 1 and incidents[0]["severity"] == "critical"
    assert incidents[0]["status"] == "triggered" and incidents[0]["incident_type"] == "error_rate_spike"

    pages = receivers.wait_for("/webhook/oncall", 1, timeout=10)
    assert pages, receivers.received
    latency = time.monotonic() - started
    page = pages[0]
    ok = verify_signature(SECRET, page.headers["x-recoup-timestamp"], page.body, page.headers["x-recoup-signature"],
                          tolerance=300, now=time.time())
    assert ok
    assert latency < 5.0  # webhook delivery wakes at once; the figure is measured in benchmarks/detection.py

    incident_id = incidents[0]["id"]

    def delivered_on_timeline() -> bool:
        detail = httpx.get(f"{server.url}/api/v1/incidents/{incident_id}", headers=admin).json()
        return any(entry["kind"] == "notification_delivered" for entry in detail["timeline"])

    _wait(delivered_on_timeline)

    # what recovery does for the service meanwhile lands on the incident's timeline, summarised per pass
    _post(server, [RecoveryOutcomeEvent(operation="pay", strategy="retry", outcome=Outcome.RECOVERED, attempts=3,
                                        time_to_recover=0.4, tags={"service": "checkout"}).to_dict()
                   for _ in range(3)])

    def recovery_on_timeline() -> list[dict[str, Any]]:
        detail = httpx.get(f"{server.url}/api/v1/incidents/{incident_id}", headers=admin).json()
        return [entry for entry in detail["timeline"] if entry["kind"] == "recovery_action"]

    actions = _wait(recovery_on_timeline)
    assert actions[0]["text"] == "checkout: 3x retry: recovered", actions
    manual = httpx.post(f"{server.url}/api/v1/incidents/{incident_id}/actions",
                        json={"text": "failed over to the standby", "by": "ana"}, headers=admin)
    assert manual.status_code == 200, manual.text
    acked = httpx.post(f"{server.url}/api/v1/incidents/{incident_id}/acknowledge", json={"by": "ana"}, headers=admin)
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    note = httpx.post(f"{server.url}/api/v1/incidents/{incident_id}/notes", json={"text": "rolled back"},
                      headers=admin)
    assert note.status_code == 200
    role = httpx.post(f"{server.url}/api/v1/incidents/{incident_id}/roles",
                      json={"role": "commander", "person": "ana"}, headers=admin)
    assert role.status_code == 200 and role.json()["commander"] == "ana"
    resolved = httpx.post(f"{server.url}/api/v1/incidents/{incident_id}/resolve", json={"by": "ana"}, headers=admin)
    assert resolved.json()["status"] == "resolved"
    again = httpx.post(f"{server.url}/api/v1/incidents/{incident_id}/acknowledge", json={"by": "ana"}, headers=admin)
    assert again.status_code == 409, again.text

    detail = httpx.get(f"{server.url}/api/v1/incidents/{incident_id}", headers=admin).json()
    kinds = [entry["kind"] for entry in detail["timeline"]]
    for kind in ("declared", "acknowledged", "note", "resolved"):
        assert kind in kinds, kinds
    causes = httpx.get(f"{server.url}/api/v1/incidents/{incident_id}/root-causes", headers=admin)
    assert causes.status_code == 200, causes.text
    candidates = causes.json()["candidates"]
    assert candidates and "checkout" in candidates[0]["name"], candidates  # the only failing service
    related = httpx.get(f"{server.url}/api/v1/incidents/{incident_id}/related", headers=admin)
    assert related.status_code == 200 and isinstance(related.json()["related"], list)
    draft = httpx.get(f"{server.url}/api/v1/incidents/{incident_id}/postmortem", headers=admin)
    assert draft.status_code == 200 and draft.headers["content-type"].startswith("text/markdown")
    assert "HighErrorRate" in draft.text and "rolled back" in draft.text
    assert candidates[0]["name"] in draft.text  # the post-mortem lists the ranked causes

    group_id = httpx.get(f"{server.url}/api/v1/projects/{server.project.id}/groups", headers=admin).json()[
        "groups"][0]["id"]
    around = httpx.get(f"{server.url}/api/v1/groups/{group_id}/related", headers=admin)
    assert around.status_code == 200 and "related" in around.json(), around.text
    assert httpx.get(f"{server.url}/api/v1/groups/{group_id}/related?window=nope", headers=admin).status_code == 400

    sla = httpx.get(f"{server.url}/api/v1/sla", headers=admin).json()
    assert "mttr" in str(sla).lower()
    notes = httpx.get(f"{server.url}/api/v1/notifications", headers=admin).json()
    assert notes["counts"].get("delivered", 0) >= 1, notes
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'recoup_notifications{status="delivered"}' in metrics
    assert "recoup_alert_transitions_total" in metrics


def test_silences_through_the_api(server: LiveServer) -> None:
    admin = server.admin_headers
    made = httpx.post(f"{server.url}/api/v1/silences", headers=admin,
                      json={"matchers": ['service="checkout"'], "duration": "1h", "comment": "deploy"})
    assert made.status_code == 201, made.text
    silence_id = made.json()["id"]
    listed = httpx.get(f"{server.url}/api/v1/silences", headers=admin).json()["silences"]
    assert [s["id"] for s in listed] == [silence_id]
    bad = httpx.post(f"{server.url}/api/v1/silences", headers=admin, json={"matchers": ["service"], "duration": "1h"})
    assert bad.status_code == 400 and "matchers" in bad.json()["field"], bad.text
    gone = httpx.delete(f"{server.url}/api/v1/silences/{silence_id}", headers=admin)
    assert gone.status_code == 200
    assert httpx.delete(f"{server.url}/api/v1/silences/nope", headers=admin).status_code == 404


def test_the_incident_api_needs_the_admin_token(server: LiveServer) -> None:
    assert httpx.get(f"{server.url}/api/v1/incidents").status_code == 401
    assert httpx.post(f"{server.url}/api/v1/incidents", json={"title": "x"}, headers=server.ingest_headers
                      ).status_code == 403
    declared = httpx.post(f"{server.url}/api/v1/incidents", json={"title": "Checkout slow", "severity": "warning"},
                          headers=server.admin_headers)
    assert declared.status_code == 201 and declared.json()["declared_by"] == "admin"


def test_recovery_recorded_through_the_api(server: LiveServer) -> None:
    """A person records the restoration: the RTO is judged by it, the incident stays open until resolved."""
    admin = server.admin_headers
    declared = httpx.post(f"{server.url}/api/v1/incidents", headers=admin,
                          json={"title": "Ledger down", "incident_type": "database_connection_exhaustion"}).json()
    url = f"{server.url}/api/v1/incidents/{declared['id']}/recovered"
    future = httpx.post(url, json={"by": "ana", "at": "2999-01-01T00:00:00Z"}, headers=admin)
    assert future.status_code in (400, 422) and "future" in future.text, future.text
    done = httpx.post(url, json={"by": "ana"}, headers=admin)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "triggered" and body["recovered_at"] >= body["declared_at"]
    assert body["times"]["rto"] == "met" and body["times"]["restore"] < 30
    assert httpx.post(url, json={"by": "ana"}, headers=admin).status_code == 409  # the first restoration stands
    detail = httpx.get(f"{server.url}/api/v1/incidents/{declared['id']}", headers=admin).json()
    [entry] = [e for e in detail["timeline"] if e["kind"] == "recovered"]
    assert entry["actor"] == "ana" and entry["data"]["source"] == "manual"
    sla = httpx.get(f"{server.url}/api/v1/sla", headers=admin).json()
    assert sla["restore"]["count"] == 1 and sla["rto"]["database_connection_exhaustion"]["met"] == 1


def test_an_alertmanager_critical_alert_opens_an_incident(server: LiveServer) -> None:
    payload = {
        "version": "4", "groupKey": "{}:{}", "status": "firing", "receiver": "recoup", "truncatedAlerts": 0,
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
        "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull", "severity": "critical",
                                                    "service": "db"},
                    "annotations": {"summary": "disk full"}, "startsAt": "2026-11-29T10:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom", "fingerprint": "abc123"}],
    }
    # posted with the project's ingest key: the incident belongs to that project
    answer = httpx.post(f"{server.url}/api/v1/alertmanager", json=payload, headers=server.ingest_headers)
    assert answer.status_code == 200, answer.text
    incidents = _wait(lambda: httpx.get(f"{server.url}/api/v1/incidents",
                                        headers=server.admin_headers).json()["incidents"])
    assert incidents[0]["alerts"][0]["alertname"] == "DiskFull"
    assert incidents[0]["project_id"] == server.project.id
