"""POST /api/v1/alertmanager with hand-built version-4 payloads, against the real server on SQLite and
PostgreSQL: firing then resolved updates one row, ingest key vs admin token, and every bad input is a 4xx
naming the field with nothing written."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from alertmanager_support import postgres_outage
from server_support import LiveServer, live_server

from recoup.server import ServerSettings
from recoup.store import AlertStatus

ENDPOINT = "/api/v1/alertmanager"
STARTS = datetime(2026, 11, 29, 9, 52, 26, 739266, tzinfo=UTC)


def alert(
    fingerprint: str = "1a30ba71cca2921f", status: str = "firing", *, ends: str = "0001-01-01T00:00:00Z"
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "ProbeFailure", "instance": "https://shop.example", "severity": "critical"},
        "annotations": {"summary": "Probe failure: https://shop.example", "description": "down for 5m"},
        # Go's nanosecond precision and a non-UTC offset, as Alertmanager may send them
        "startsAt": "2026-11-29T11:52:26.739266876+02:00",
        "endsAt": ends,
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=probe_success+%3D%3D+0",
        "fingerprint": fingerprint,
    }


def payload(*alerts: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    return {
        "receiver": "recoup",
        "status": status,
        "alerts": list(alerts),
        "groupLabels": {"alertname": "ProbeFailure"},
        "commonLabels": {"alertname": "ProbeFailure", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "version": "4",
        "groupKey": '{}:{alertname="ProbeFailure"}',
        "truncatedAlerts": 0,
    }


def post(server: LiveServer, body: Any, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
    headers = server.ingest_headers if headers is None else headers
    if isinstance(body, bytes):
        return httpx.post(server.url + ENDPOINT, content=body, headers=headers, timeout=10, **kwargs)
    return httpx.post(server.url + ENDPOINT, json=body, headers=headers, timeout=10, **kwargs)


def metric(server: LiveServer, name: str, **labels: str) -> float:
    """One sample of the server's /metrics (0 when absent)."""
    text = httpx.get(server.url + "/metrics", timeout=10).text
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} "):
            return float(line.rpartition(" ")[2])
    return 0.0


def test_firing_then_resolved_updates_one_alert(server: LiveServer) -> None:
    answer = post(server, payload(alert()))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "received": 1, "firing": 1, "resolved": 0, "stored": 1,
        "project_id": server.project.id, "group_key": '{}:{alertname="ProbeFailure"}',
    }
    [firing] = server.store.list_alerts()
    assert firing.status is AlertStatus.FIRING
    assert firing.project_id == server.project.id
    assert firing.fingerprint == "1a30ba71cca2921f"
    assert firing.starts_at == STARTS  # nanoseconds truncated, offset normalised to UTC
    assert firing.ends_at is None  # Go's zero time means unset
    assert firing.labels["instance"] == "https://shop.example"
    assert firing.annotations["summary"] == "Probe failure: https://shop.example"
    assert firing.generator_url.startswith("http://prometheus.example:9090/graph")

    resolved_body = payload(alert(status="resolved", ends="2026-11-29T10:02:00.5Z"), status="resolved")
    answer = post(server, resolved_body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["resolved"] == 1
    [resolved] = server.store.list_alerts()
    assert resolved.id == firing.id
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.ends_at == datetime(2026, 11, 29, 10, 2, 0, 500000, tzinfo=UTC)

    # Alertmanager redelivers; a late firing copy of the episode does not reopen it
    assert post(server, payload(alert())).status_code == 200
    [still] = server.store.list_alerts()
    assert still.status is AlertStatus.RESOLVED


def test_accepted_shapes_many_alerts_unknown_fields_gzip_and_empty(server: LiveServer) -> None:
    body = payload(*(alert(f"fp{i:04d}") for i in range(50)))
    body["futureField"] = {"anything": [1, 2]}
    body["alerts"][0]["silenceURL"] = "http://am/silence"  # Grafana-style extra per-alert field
    answer = post(server, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == 50
    assert len(server.store.list_alerts(limit=100)) == 50

    raw = gzip.compress(json.dumps(payload(alert("gzipped"))).encode())
    headers = {**server.ingest_headers, "Content-Encoding": "gzip", "Content-Type": "application/json"}
    answer = post(server, raw, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == 1

    answer = post(server, payload())
    assert answer.status_code == 200
    assert answer.json()["received"] == 0
    assert len(server.store.list_alerts(limit=100)) == 51
    assert metric(server, "recoup_ingest_events_total", outcome="stored", source="alertmanager") == 51
    assert metric(server, "recoup_ingest_requests_total", source="alertmanager", status="200") == 3
    assert metric(server, "recoup_ingest_request_seconds_count", source="alertmanager") == 3


def test_admin_tokens_store_alerts_without_a_project(server: LiveServer) -> None:
    answer = post(server, payload(alert("from-env-token")), headers=server.admin_headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["project_id"] is None
    token, _ = server.store.create_admin_token("alertmanager")  # a token kept (hashed) in the store
    answer = post(server, payload(alert("from-stored-token")), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    stored = {a.fingerprint: a.project_id for a in server.store.list_alerts()}
    assert stored == {"from-env-token": None, "from-stored-token": None}


def test_two_projects_posting_the_same_alert_each_get_their_own(server: LiveServer) -> None:
    other, other_key = server.store.create_project("Billing")
    other_headers = {"Authorization": f"Bearer {other_key.public_key}"}
    for headers, project_id in [(server.ingest_headers, server.project.id), (other_headers, other.id)]:
        answer = post(server, payload(alert()), headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["stored"] == 1 and answer.json()["project_id"] == project_id
    alerts = server.store.list_alerts()
    assert sorted(a.project_id for a in alerts) == sorted([server.project.id, other.id])
    assert {(a.fingerprint, a.starts_at, a.status) for a in alerts} == {
        ("1a30ba71cca2921f", STARTS, AlertStatus.FIRING)
    }

    # the second project's Alertmanager resolves its alert; the first project's stays firing
    resolved_body = payload(alert(status="resolved", ends="2026-11-29T10:02:00Z"), status="resolved")
    assert post(server, resolved_body, headers=other_headers).status_code == 200
    statuses = {a.project_id: a.status for a in server.store.list_alerts()}
    assert statuses == {server.project.id: AlertStatus.FIRING, other.id: AlertStatus.RESOLVED}


def test_credentials_are_required_and_checked(server: LiveServer) -> None:
    for headers, message in [
        ({}, "required"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "required"),
        ({"Authorization": "Bearer"}, "required"),
        ({"Authorization": "Bearer not-a-key"}, "unknown"),
        ({"Authorization": "Bearer " + "k" * 500}, "unknown"),
    ]:
        answer = post(server, payload(alert()), headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert message in answer.json()["detail"]
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    key = server.store.create_key(server.project.id)
    server.store.set_key_active(key.public_key, False)
    answer = post(server, payload(alert()), headers={"Authorization": f"Bearer {key.public_key}"})
    assert answer.status_code == 403 and "revoked" in answer.json()["detail"]
    assert server.store.list_alerts() == []


def _bad(mutate: Any) -> dict[str, Any]:
    body = payload(alert("good-one"), alert("second"))
    mutate(body)
    return body


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def mutate(body: dict[str, Any]) -> None:
        target: Any = body
        for part in path[:-1]:
            target = target[part]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return mutate


_DELETE = object()

BAD_PAYLOADS = {
    "no version": (_set(("version",), _DELETE), "version"),
    "version 3": (_set(("version",), "3"), "version"),
    "version as a number": (_set(("version",), 4), "version"),
    "alerts missing": (_set(("alerts",), _DELETE), "alerts"),
    "alerts not a list": (_set(("alerts",), {"a": 1}), "alerts"),
    "alert not an object": (_set(("alerts", 1), "firing"), "alerts[1]"),
    "unknown alert status": (_set(("alerts", 1, "status"), "pending"), "alerts[1].status"),
    "no fingerprint": (_set(("alerts", 1, "fingerprint"), _DELETE), "alerts[1].fingerprint"),
    "blank fingerprint": (_set(("alerts", 1, "fingerprint"), "  "), "alerts[1].fingerprint"),
    "long fingerprint": (_set(("alerts", 1, "fingerprint"), "f" * 129), "alerts[1].fingerprint"),
    "no startsAt": (_set(("alerts", 1, "startsAt"), _DELETE), "alerts[1].startsAt"),
    "naive startsAt": (_set(("alerts", 1, "startsAt"), "2026-11-29T09:52:26"), "alerts[1].startsAt"),
    "zero startsAt": (_set(("alerts", 1, "startsAt"), "0001-01-01T00:00:00Z"), "alerts[1].startsAt"),
    "garbage startsAt": (_set(("alerts", 1, "startsAt"), "yesterday"), "alerts[1].startsAt"),
    "naive endsAt": (_set(("alerts", 1, "endsAt"), "2026-11-29T09:52:26"), "alerts[1].endsAt"),
    "label value not a string": (_set(("alerts", 1, "labels", "replica"), 2), "alerts[1].labels.replica"),
    "labels not an object": (_set(("alerts", 1, "labels"), ["a"]), "alerts[1].labels"),
    "NUL in an annotation": (_set(("alerts", 1, "annotations", "summary"), "a\x00b"), "alerts[1].annotations"),
    "NUL in generatorURL": (_set(("alerts", 1, "generatorURL"), "http://x/\x00"), "alerts[1].generatorURL"),
    "long generatorURL": (_set(("alerts", 1, "generatorURL"), "http://x/" + "a" * 2000), "alerts[1].generatorURL"),
    "negative truncatedAlerts": (_set(("truncatedAlerts",), -1), "truncatedAlerts"),
    "unknown group status": (_set(("status",), "pending"), "status"),
    "groupLabels not strings": (_set(("groupLabels",), {"a": None}), "groupLabels.a"),
}


def test_bad_payloads_are_refused_naming_the_field(server: LiveServer) -> None:
    wrong = []
    for case, (mutate, field) in BAD_PAYLOADS.items():
        answer = post(server, _bad(mutate))
        refusal = answer.json()
        fields = [error["field"] for error in refusal.get("errors", ())]
        if answer.status_code != 422 or field not in fields or refusal["detail"] != f"{fields[0]}: " + next(
            error["message"] for error in refusal["errors"]
        ):
            wrong.append(f"{case}: {answer.status_code} {refusal}")
    assert wrong == []
    assert server.store.list_alerts() == []  # the good first alert of each was not written either
    rejected = metric(server, "recoup_ingest_events_total", outcome="rejected", source="alertmanager")
    assert rejected == len(BAD_PAYLOADS)
    assert metric(server, "recoup_ingest_requests_total", source="alertmanager", status="422") == len(BAD_PAYLOADS)


def test_bodies_that_are_not_a_json_object(server: LiveServer) -> None:
    headers = {**server.ingest_headers, "Content-Type": "application/json"}
    for body, message in [
        (b"{not json", "not valid JSON"), (b"[]", "JSON object"), (b"", "not valid JSON"), (b"\xff\xfe", "JSON"),
        (b"null", "JSON object"),
    ]:
        answer = post(server, body, headers=headers)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["detail"].startswith("body: "), body
        assert answer.json()["field"] == "body"
        assert message in answer.json()["detail"], body


# -- limits: a server with small ones ---------------------------------------------------------------------


@pytest.fixture
def small_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    settings = ServerSettings(
        db_url=db_url, spool_dir=tmp_path / "spool", max_request_bytes=20_000, max_decompressed_bytes=40_000,
        max_events_per_batch=5,
    )
    with live_server(settings) as running:
        yield running


def test_too_many_alerts_and_bodies_over_the_limits(small_server: LiveServer) -> None:
    answer = post(small_server, payload(*(alert(f"fp{i}") for i in range(6))))
    assert answer.status_code == 413
    assert answer.json()["detail"].startswith("alerts: holds 6 alerts, at most 5")
    assert answer.json()["field"] == "alerts"

    big = payload(alert())
    big["alerts"][0]["annotations"]["description"] = "x" * 30_000
    answer = post(small_server, big)
    assert answer.status_code == 413
    bomb = gzip.compress(json.dumps(copy.deepcopy(big) | {"pad": "y" * 30_000}).encode())
    assert len(bomb) < 20_000
    answer = post(small_server, bomb, headers={**small_server.ingest_headers, "Content-Encoding": "gzip"})
    assert answer.status_code == 413
    assert "decompressed" in answer.json()["detail"]
    assert small_server.store.list_alerts() == []


def test_the_ingest_keys_rate_limit_counts_alerts(server: LiveServer) -> None:
    key = server.store.create_key(server.project.id, rate_limit_per_minute=3)
    headers = {"Authorization": f"Bearer {key.public_key}"}
    assert post(server, payload(alert("a"), alert("b")), headers=headers).status_code == 200
    answer = post(server, payload(alert("c"), alert("d")), headers=headers)
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) >= 1
    assert {a.fingerprint for a in server.store.list_alerts()} == {"a", "b"}
    # admin tokens are not rate limited
    assert post(server, payload(alert("c"), alert("d")), headers=server.admin_headers).status_code == 200


# A real outage is staged on PostgreSQL (connections refused); SQLite has no such state, only locks, which
# the store waits out for its 10 s busy timeout.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_database_unreachable_is_a_503_and_nothing_is_lost(server: LiveServer) -> None:
    with postgres_outage(server.settings.db_url):
        answer = post(server, payload(alert()), headers=server.admin_headers)
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "5"
        assert "Alertmanager will retry" in answer.json()["detail"]
    answer = post(server, payload(alert()), headers=server.admin_headers)  # Alertmanager's retry
    assert answer.status_code == 200, answer.text
    assert len(server.store.list_alerts()) == 1
