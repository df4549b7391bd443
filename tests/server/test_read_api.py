"""The read and management API against a live server on both databases: events go in through native
ingest, come back out through groups, search and detail, and bad parameters are 4xx naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from server_support import LiveServer

from recoup.errors.taxonomy import Category
from recoup.store import AlertStatus, NewAlert
from recoup.telemetry.events import ErrorEvent

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0


class Api:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.client = httpx.Client(base_url=server.url, headers=server.admin_headers, timeout=10)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params)

    def ok(self, path: str, **params: Any) -> Any:
        answer = self.get(path, **params)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def api(server: LiveServer) -> Api:
    return Api(server)


def _error(fp: str, at: float, message: str, category: Category | None = Category.NETWORK) -> dict[str, Any]:
    return ErrorEvent(
        exception_type="ConnectionError", message=message, fingerprint=fp, category=category, timestamp=at
    ).to_dict()


@pytest.fixture
def seeded(server: LiveServer) -> dict[str, Any]:
    """Three groups: a (3 events, network, oldest), b (2, service, newest), c (1, network, middle)."""
    events = [
        _error("a", T0, "connect to db refused"),
        _error("a", T0 + 1, "connect to db refused"),
        _error("a", T0 + 2, "connect to db refused"),
        _error("b", T0 + 10 * HOUR, "read timed out", Category.SERVICE),
        _error("b", T0 + 11 * HOUR, "read timed out", Category.SERVICE),
        _error("c", T0 + 5 * HOUR, "DNS lookup of payments.internal failed"),
    ]
    answer = httpx.post(f"{server.url}/api/v1/events", json={"events": events}, headers=server.ingest_headers)
    assert answer.json()["accepted"] == 6
    return {"events": events}


def _fps(payload: dict[str, Any]) -> list[str]:
    return [g["fingerprint"] for g in payload["groups"]]


def test_projects_and_keys(api: Api, server: LiveServer) -> None:
    created = api.client.post("/api/v1/projects", json={"name": "Billing (prod)", "rate_limit_per_minute": 600})
    assert created.status_code == 201, created.text
    project = created.json()
    assert project["slug"] == "billing-prod"
    assert project["dsn"] == f"http://{project['public_key']}@{server.url.removeprefix('http://')}/{project['id']}"
    assert project["ingest_url"] == f"{server.url}/api/v1/events"
    # the new key ingests at once
    event = {"events": [_error("z", T0, "boom")]}
    sent = httpx.post(project["ingest_url"], json=event, headers={"X-Recoup-Key": project["public_key"]})
    assert sent.json()["accepted"] == 1

    names = [p["name"] for p in api.ok("/api/v1/projects")["projects"]]
    assert names == ["Checkout API", "Billing (prod)"]
    assert api.ok(f"/api/v1/projects/{project['id']}")["name"] == "Billing (prod)"

    key = api.client.post(f"/api/v1/projects/{project['id']}/keys", json={"rate_limit_per_minute": 60})
    assert key.status_code == 201 and key.json()["rate_limit_per_minute"] == 60
    assert key.json()["dsn"].startswith(f"http://{key.json()['public_key']}@")
    assert api.client.post(f"/api/v1/projects/{project['id']}/keys").status_code == 201  # body optional
    keys = api.ok(f"/api/v1/projects/{project['id']}/keys")["keys"]
    assert len(keys) == 3 and all(k["active"] for k in keys)

    # refusals
    for body, field in [({"name": ""}, "name"), ({}, "name"), ({"name": "x", "colour": "red"}, "colour"),
                        ({"name": "x", "rate_limit_per_minute": 0}, "rate_limit_per_minute"),
                        ({"name": "x" * 201}, "name"), ({"name": "a\x00b"}, "name"), ({"name": "  "}, "name"),
                        ({"name": 5}, "name")]:
        refused = api.client.post("/api/v1/projects", json=body)
        assert refused.status_code == 422, body
        assert refused.json()["field"] == field
    assert api.get("/api/v1/projects/9999").status_code == 404
    assert api.client.post("/api/v1/projects/9999/keys").status_code == 404
    assert api.client.delete(f"/api/v1/projects/{project['id']}/keys/{server.key.id}").status_code == 404
    assert api.get("/api/v1/projects/abc").json()["field"] == "project_id"
    huge = 2**64
    for path in (f"/api/v1/projects/{huge}", f"/api/v1/projects/{huge}/groups", "/api/v1/projects/0/keys"):
        assert api.get(path).json()["field"] == "project_id"
    for path in (f"/api/v1/groups/{huge}", f"/api/v1/groups/{huge}/events", "/api/v1/groups/-1"):
        assert api.get(path).json()["field"] == "group_id"
    assert api.client.delete(f"/api/v1/projects/{project['id']}/keys/{huge}").json()["field"] == "key_id"
    assert len(api.ok("/api/v1/projects")["projects"]) == 2


def test_groups_filters_sorting_and_paging(api: Api, server: LiveServer, seeded: dict[str, Any]) -> None:
    base = f"/api/v1/projects/{server.project.id}/groups"
    by_count = api.ok(base)
    assert _fps(by_count) == ["a", "b", "c"]
    a = by_count["groups"][0]
    assert (a["count"], a["category"], a["status"]) == (3, "network", "unresolved")
    assert a["title"] == "ConnectionError: connect to db refused"
    assert _fps(api.ok(base, sort="recent")) == ["b", "c", "a"]
    assert _fps(api.ok(base, category="network")) == ["a", "c"]
    assert _fps(api.ok(base, category="service")) == ["b"]
    assert _fps(api.ok(base, limit=1, offset=1)) == ["b"]
    assert api.ok(base, limit=1, offset=1)["limit"] == 1
    # time window: groups seen within it (last_seen >= since, first_seen <= until)
    since = datetime.fromtimestamp(T0 + 4 * HOUR, UTC).isoformat()
    until = datetime.fromtimestamp(T0 + 6 * HOUR, UTC).isoformat()
    assert _fps(api.ok(base, since=since)) == ["b", "c"]
    assert _fps(api.ok(base, until=until)) == ["a", "c"]
    assert _fps(api.ok(base, since=since, until=until)) == ["c"]
    naive = datetime.fromtimestamp(T0 + 4 * HOUR, UTC).replace(tzinfo=None).isoformat()
    assert _fps(api.ok(base, since=naive)) == ["b", "c"]  # taken as UTC

    patched = api.client.patch(f"/api/v1/groups/{a['id']}", json={"status": "resolved"})
    assert patched.status_code == 200 and patched.json()["status"] == "resolved"
    assert _fps(api.ok(base, status="resolved")) == ["a"]
    assert _fps(api.ok(base, status="unresolved")) == ["b", "c"]

    for params, field in [({"status": "fixed"}, "status"), ({"sort": "size"}, "sort"), ({"limit": 0}, "limit"),
                          ({"limit": 1001}, "limit"), ({"offset": -1}, "offset"), ({"since": "last tuesday"}, "since"),
                          ({"category": "x" * 33}, "category")]:
        refused = api.get(base, **params)
        assert refused.status_code == 422, (params, refused.text)
        assert refused.json()["field"] == field
    assert api.get("/api/v1/projects/9999/groups").status_code == 404


def test_group_detail_events_and_triage(api: Api, server: LiveServer, seeded: dict[str, Any]) -> None:
    groups = api.ok(f"/api/v1/projects/{server.project.id}/groups")["groups"]
    b = next(g for g in groups if g["fingerprint"] == "b")
    assert api.ok(f"/api/v1/groups/{b['id']}") == b
    events = api.ok(f"/api/v1/groups/{b['id']}/events")["events"]
    assert [e["occurred_at"][:19] for e in events] == ["2026-03-01T23:00:00", "2026-03-01T22:00:00"]
    assert all(e["group_id"] == b["id"] and e["kind"] == "error" for e in events)
    assert events[0]["payload"]["message"] == "read timed out"
    assert len(api.ok(f"/api/v1/groups/{b['id']}/events", limit=1)["events"]) == 1

    for status in ("ignored", "muted", "unresolved"):
        answer = api.client.patch(f"/api/v1/groups/{b['id']}", json={"status": status})
        assert answer.json()["status"] == status
    bad = api.client.patch(f"/api/v1/groups/{b['id']}", json={"status": "done"})
    assert bad.status_code == 422 and bad.json()["field"] == "status"
    assert api.client.patch(f"/api/v1/groups/{b['id']}", json={}).json()["field"] == "status"
    assert api.client.patch("/api/v1/groups/99999", json={"status": "resolved"}).status_code == 404
    assert api.get("/api/v1/groups/99999").status_code == 404
    assert api.get("/api/v1/groups/99999/events").status_code == 404


def test_events_search_detail_and_alerts(api: Api, server: LiveServer, seeded: dict[str, Any]) -> None:
    base = f"/api/v1/projects/{server.project.id}/events"
    listed = api.ok(base)["events"]
    assert len(listed) == 6
    assert listed[0]["message"] == "read timed out"  # newest first
    assert len(api.ok(base, limit=2, offset=5)["events"]) == 1
    found = api.ok(base, q="DNS LOOKUP")["events"]
    assert [e["message"] for e in found] == ["DNS lookup of payments.internal failed"]
    assert len(api.ok(base, q="connectionerror")["events"]) == 6  # matches the exception type
    assert api.ok(base, q="100%")["events"] == []  # LIKE wildcards are literal
    assert len(api.ok(base, q="refused", limit=1, offset=1)["events"]) == 1
    assert api.get(base, q="").json()["field"] == "q"
    assert api.get(base, q="a\x00").json() == {"detail": "q: must be at most 500 characters, without NUL", "field": "q"}

    wanted = seeded["events"][5]
    detail = api.ok(f"{base}/{wanted['id']}")
    assert detail["event_id"] == wanted["id"] and detail["category"] == "network"
    assert detail["payload"] == wanted
    assert api.get(f"{base}/nope").status_code == 404
    assert api.get(f"{base}/{'x' * 100}").status_code == 404
    assert api.get("/api/v1/projects/9999/events").status_code == 404

    assert api.ok("/api/v1/alerts") == {"alerts": []}
    start = datetime(2026, 3, 1, tzinfo=UTC)
    server.store.record_alerts(
        [
            NewAlert(fingerprint="f1", status=AlertStatus.FIRING, starts_at=start, labels={"alertname": "DiskFull"}),
            NewAlert(fingerprint="f2", status=AlertStatus.RESOLVED, starts_at=start, ends_at=start),
        ]
    )
    assert {a["fingerprint"] for a in api.ok("/api/v1/alerts")["alerts"]} == {"f1", "f2"}
    firing = api.ok("/api/v1/alerts", status="firing")["alerts"]
    assert [(a["fingerprint"], a["labels"]) for a in firing] == [("f1", {"alertname": "DiskFull"})]
    assert api.get("/api/v1/alerts", status="burning").json()["field"] == "status"
