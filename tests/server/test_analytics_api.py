"""The analytics API against a real running server on both databases: trends of a project from events
posted to the native endpoint, the live anomaly and forecast state of in-process rules, and the errors
(401 without the admin token, 400 naming the parameter, 404 for an unknown project, 503 without incident
response)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_support import LiveServer, live_server

from recoup.server import ServerSettings
from recoup.telemetry.events import ErrorEvent, Outcome, RecoveryOutcomeEvent

RULES = """
rules:
  - name: ErrorAnomaly
    type: anomaly
    metric: errors
    aggregation: count
    by: [project, service]
    window: 1m
    anomaly: {interval: 100ms, min_history: 5, threshold: 0.8}
  - name: ErrorRatioRising
    metric: error_ratio
    by: [project, service]
    window: 1m
    op: ">"
    threshold: 0.5
    forecast: {horizon: 15m, interval: 100ms}
"""


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    config = tmp_path / "incidents.yaml"
    config.write_text(RULES)
    settings = ServerSettings(db_url=db_url, spool_dir=tmp_path / "spool", incidents_config=config,
                              evaluation_interval_seconds=0.1)
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


def _errors(n: int, kind: str, service: str = "checkout") -> list[dict[str, Any]]:
    return [ErrorEvent(exception_type=kind, message=f"{kind} happened", service=service).to_dict()
            for _ in range(n)]


def test_trends_count_new_groups_per_bucket(server: LiveServer) -> None:
    _post(server, _errors(5, "ConnectionError") + _errors(2, "KeyError"))
    url = f"{server.url}/api/v1/projects/{server.project.id}/trends"
    body = _wait(lambda: (r := httpx.get(url, params={"window": "1h", "bucket": "10m"},
                                         headers=server.admin_headers).json())["new_groups"] and r)
    assert body["project_id"] == server.project.id and body["by"] == "group"
    assert body["bucket_seconds"] == 600.0
    totals = sorted(sum(series) for series in body["counts"].values())
    assert totals == [2, 5]
    assert all(len(series) == 6 for series in body["counts"].values())
    assert sorted(g["count"] for g in body["new_groups"]) == [2, 5]
    assert {str(g["group_id"]) for g in body["new_groups"]} == set(body["counts"])
    assert body["regressions"] == [] and isinstance(body["spikes"], list)
    by_category = httpx.get(url, params={"window": "1h", "bucket": "10m", "by": "category"},
                            headers=server.admin_headers).json()
    assert by_category["by"] == "category" and sum(sum(s) for s in by_category["counts"].values()) == 7


def test_trends_errors_name_the_parameter(server: LiveServer) -> None:
    url = f"{server.url}/api/v1/projects/{server.project.id}/trends"
    assert httpx.get(url).status_code == 401
    bad = httpx.get(url, params={"window": "soon"}, headers=server.admin_headers)
    assert bad.status_code == 400 and bad.json()["field"] == "window", bad.text
    bad = httpx.get(url, params={"window": "1h", "bucket": "2h"}, headers=server.admin_headers)
    assert bad.status_code == 400 and bad.json()["field"] == "bucket", bad.text
    bad = httpx.get(url, params={"window": "1h", "bucket": "0s"}, headers=server.admin_headers)
    assert bad.status_code == 400 and bad.json()["field"] == "bucket", bad.text
    bad = httpx.get(url, params={"window": "365d"}, headers=server.admin_headers)
    assert bad.status_code == 400 and bad.json()["field"] == "window", bad.text
    bad = httpx.get(url, params={"by": "service"}, headers=server.admin_headers)
    assert bad.status_code == 422 and bad.json()["field"] == "by", bad.text
    missing = httpx.get(f"{server.url}/api/v1/projects/999999/trends", headers=server.admin_headers)
    assert missing.status_code == 404


def test_live_anomaly_scores_and_forecasts_of_the_rules(server: LiveServer) -> None:
    assert httpx.get(f"{server.url}/api/v1/anomalies").status_code == 401
    _post(server, _errors(3, "ConnectionError"))

    def sampled() -> list[dict[str, Any]]:
        found = httpx.get(f"{server.url}/api/v1/anomalies", headers=server.admin_headers).json()["anomalies"]
        return [a for a in found if a["samples"] >= 3]

    [live] = _wait(sampled)
    assert live["rule"] == "ErrorAnomaly" and live["labels"] == {"project": str(server.project.id),
                                                                  "service": "checkout"}
    assert live["value"] == 3.0 and live["threshold"] == 0.8 and live["min_history"] == 5
    assert live["anomalous"] is False and 0.0 <= live["score"] < 1.0
    assert httpx.get(f"{server.url}/api/v1/forecasts", headers=server.admin_headers).json()["forecasts"] == []
    # operations give the error ratio a value (3 / 10): now the forecast rule samples it
    _post(server, [RecoveryOutcomeEvent(operation="pay", strategy="retry", outcome=Outcome.SUCCEEDED,
                                        tags={"service": "checkout"}).to_dict() for _ in range(10)])

    def trended() -> list[dict[str, Any]]:
        found = httpx.get(f"{server.url}/api/v1/forecasts", headers=server.admin_headers).json()["forecasts"]
        return [f for f in found if f["sampled_at"] is not None]

    [trend] = _wait(trended)
    assert trend["rule"] == "ErrorRatioRising" and trend["labels"]["service"] == "checkout"
    assert trend["value"] == pytest.approx(0.3) and trend["threshold"] == 0.5
    assert trend["breach_in"] is None  # a flat ratio is heading nowhere


def test_live_state_needs_incident_response(db_url: str, tmp_path: Path) -> None:
    settings = ServerSettings(db_url=db_url, spool_dir=tmp_path / "spool", incidents_enabled=False)
    with live_server(settings) as running:
        for path in ("/api/v1/anomalies", "/api/v1/forecasts"):
            answer = httpx.get(f"{running.url}{path}", headers=running.admin_headers)
            assert answer.status_code == 503 and "incident response" in answer.json()["detail"]
