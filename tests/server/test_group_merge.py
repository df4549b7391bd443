"""Merge and split of groups through the API, and custom fingerprint rules at ingest, against a live server
on both databases: a merged group's events and its *new* events land in the target; a split gives a
fingerprint its group, events and counts back; bad requests are 4xx naming the field (400 for a request
the store refuses, 422 for a malformed body)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from server_support import LiveServer
from sqlalchemy import inspect

from recoup.analytics.fingerprint_rules import custom_fingerprint, parse_rules
from recoup.server import ServerSettings
from recoup.server.enrich import fingerprint_rules, install_fingerprint_rules, set_fingerprint_rules
from recoup.server.sentry.event import default_fingerprint, to_new_event
from recoup.store import EventKind, NewEvent, open_store
from recoup.store.engine import BEGIN_MODE_OPTION, create_store_engine
from recoup.store.migrate import alembic_config
from recoup.store.models import Base
from recoup.telemetry.events import ErrorEvent

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()


class Api:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.client = httpx.Client(base_url=server.url, headers=server.admin_headers, timeout=10)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.client.request(method, path, **kwargs)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def send(self, *events: dict[str, Any]) -> None:
        answer = httpx.post(f"{self.server.url}/api/v1/events", json={"events": list(events)},
                            headers=self.server.ingest_headers, timeout=10)
        assert answer.status_code == 200 and answer.json()["accepted"] == len(events), answer.text

    def groups(self) -> dict[str, dict[str, Any]]:
        listed = self.ok("GET", f"/api/v1/projects/{self.server.project.id}/groups")["groups"]
        return {g["fingerprint"]: g for g in listed}


@pytest.fixture
def api(server: LiveServer) -> Api:
    return Api(server)


def _error(fp: str | None, at: float, message: str = "connect refused", **fields: Any) -> dict[str, Any]:
    event = ErrorEvent(exception_type=fields.pop("exception_type", "ConnectionError"), message=message,
                       fingerprint=fp, timestamp=at, **fields).to_dict()
    event["id"] = uuid.uuid4().hex
    return event


def test_merge_moves_events_and_routes_new_ones(api: Api) -> None:
    api.send(*[_error("a", T0 + i) for i in range(3)], *[_error("b", T0 + 10 + i) for i in range(2)],
             _error("c", T0 + 20))
    before = api.groups()
    a, b, c = before["a"], before["b"], before["c"]

    merged = api.ok("POST", f"/api/v1/groups/{b['id']}/merge", json={"into": a["id"]})
    assert (merged["id"], merged["count"]) == (a["id"], 5)
    assert merged["last_seen"] == b["last_seen"]
    assert set(api.groups()) == {"a", "c"}  # the merged group is no longer listed on its own
    events = api.ok("GET", f"/api/v1/groups/{a['id']}/events")["events"]
    assert len(events) == 5 and {e["group_id"] for e in events} == {a["id"]}
    feeding = api.ok("GET", f"/api/v1/groups/{a['id']}/fingerprints")
    assert (feeding["fingerprints"], feeding["merged_into"]) == ({"a": a["id"], "b": b["id"]}, None)
    assert api.ok("GET", f"/api/v1/groups/{b['id']}/fingerprints")["merged_into"] == a["id"]
    assert api.client.get("/api/v1/groups/99999/fingerprints").status_code == 404

    api.send(_error("b", T0 + 30))  # a new event of the merged fingerprint lands in the target
    assert api.groups()["a"]["count"] == 6
    assert api.ok("GET", f"/api/v1/groups/{b['id']}")["count"] == 3  # its own counter still counts it

    # merging a group that has merged ones moves them along: all of a's fingerprints now feed c
    api.ok("POST", f"/api/v1/groups/{a['id']}/merge", json={"into": c["id"]})
    assert api.groups()["c"]["count"] == 7
    assert set(api.ok("GET", f"/api/v1/groups/{c['id']}/fingerprints")["fingerprints"]) == {"a", "b", "c"}
    api.send(_error("a", T0 + 40), _error("b", T0 + 41))
    assert api.groups() == {"c": api.groups()["c"]} and api.groups()["c"]["count"] == 9


def test_split_gives_fingerprints_their_groups_back(api: Api, server: LiveServer) -> None:
    b_events = [_error("b", T0 + 10 + i) for i in range(2)]
    d_event = _error("d", T0 + 50)
    api.send(*[_error("a", T0 + i) for i in range(3)], *b_events, d_event)
    groups = api.groups()
    a, b, d = groups["a"], groups["b"], groups["d"]
    api.ok("POST", f"/api/v1/groups/{b['id']}/merge", json={"into": a["id"]})
    api.ok("POST", f"/api/v1/groups/{d['id']}/merge", json={"into": a["id"]})
    api.send(_error("b", T0 + 60))
    assert api.groups()["a"]["count"] == 7

    split = api.ok("POST", f"/api/v1/groups/{a['id']}/split", json={"fingerprints": ["b"]})
    assert [(g["id"], g["count"]) for g in split["restored"]] == [(b["id"], 3)]
    assert split["group"]["count"] == 4
    assert {g: v["count"] for g, v in api.groups().items()} == {"a": 4, "b": 3}
    assert api.ok("GET", f"/api/v1/groups/{b['id']}/fingerprints")["merged_into"] is None
    assert len(api.ok("GET", f"/api/v1/groups/{b['id']}/events")["events"]) == 3
    api.send(_error("b", T0 + 70))  # new events of a split fingerprint go to its own group again
    assert {g: v["count"] for g, v in api.groups().items()} == {"a": 4, "b": 4}

    # split by event id: the event's fingerprint is split off
    by_event = api.ok("POST", f"/api/v1/groups/{a['id']}/split", json={"event_ids": [d_event["id"]]})
    assert [g["fingerprint"] for g in by_event["restored"]] == ["d"]
    assert {g: v["count"] for g, v in api.groups().items()} == {"a": 3, "b": 4, "d": 1}
    stored = server.store.get_event(server.project.id, d_event["id"])
    assert stored is not None and stored.group_id == d["id"]


def test_bad_merge_and_split_requests(api: Api) -> None:
    api.send(_error("a", T0), _error("b", T0 + 1), _error("c", T0 + 2))
    g = api.groups()
    a, b, c = g["a"]["id"], g["b"]["id"], g["c"]["id"]

    def refused(path: str, body: Any, status: int, field: str | None = None) -> None:
        answer = api.client.post(path, json=body)
        assert answer.status_code == status, answer.text
        if field is not None:
            assert answer.json()["field"] == field, answer.text

    refused(f"/api/v1/groups/{a}/merge", {"into": a}, 400, "into")
    refused(f"/api/v1/groups/{a}/merge", {"into": 99999}, 404)
    refused("/api/v1/groups/99999/merge", {"into": a}, 404)
    refused(f"/api/v1/groups/{a}/merge", {}, 422, "into")
    refused(f"/api/v1/groups/{a}/merge", {"into": b, "extra": 1}, 422)
    api.ok("POST", f"/api/v1/groups/{b}/merge", json={"into": a})
    refused(f"/api/v1/groups/{c}/merge", {"into": b}, 400, "into")  # b is merged: say where to
    refused(f"/api/v1/groups/{b}/merge", {"into": c}, 400, "id")  # already merged
    refused(f"/api/v1/groups/{a}/split", {}, 400, "fingerprints")
    refused(f"/api/v1/groups/{a}/split", {"fingerprints": ["a"]}, 400, "fingerprints")  # its own
    refused(f"/api/v1/groups/{a}/split", {"fingerprints": ["b", "c"]}, 400, "fingerprints[1]")
    refused(f"/api/v1/groups/{a}/split", {"event_ids": ["nope"]}, 400, "event_ids[0]")
    refused("/api/v1/groups/99999/split", {"fingerprints": ["b"]}, 404)
    # nothing changed by the refused requests
    assert {k: v["count"] for k, v in api.groups().items()} == {"a": 2, "c": 1}


@pytest.fixture
def rules(server: LiveServer) -> Iterator[None]:
    # after the server: its app installed the (absent) rules of its settings when it was created
    set_fingerprint_rules(parse_rules(
        "error.type:ConnectionError -> network-down\n"
        "message:\"*timed out*\" tags.region:eu-* -> eu-timeouts\n"
        "module:payments.* -> {{ default }}-payments\n"
    ))
    try:
        yield
    finally:
        set_fingerprint_rules(None)


@pytest.mark.usefixtures("rules")
def test_rules_apply_at_native_and_sentry_ingest(api: Api, server: LiveServer) -> None:
    api.send(
        _error(None, T0, "connect to db-1 refused"),
        _error(None, T0 + 1, "name lookup failed", exception_type="ConnectionError"),
        _error(None, T0 + 3, "read timed out", exception_type="TimeoutError"),
        _error("explicit", T0 + 4),  # the producer's own fingerprint wins
    )
    groups = api.groups()
    assert groups[custom_fingerprint("network-down")]["count"] == 2
    assert groups["explicit"]["count"] == 1
    assert len(groups) == 3  # the timeout kept its default group (no region tag)

    auth = {"X-Sentry-Auth": f"Sentry sentry_key={server.key.public_key}, sentry_version=7"}
    store_url = f"{server.url}/api/{server.project.id}/store/"
    for region in ("eu-west-1", "eu-central-1", "us-east-1"):
        timeout = {"event_id": uuid.uuid4().hex, "level": "error", "tags": {"region": region},
                   "exception": {"values": [{"type": "TimeoutError", "value": "read timed out"}]}}
        assert httpx.post(store_url, json=timeout, headers=auth, timeout=10).status_code == 200
    groups = api.groups()
    assert groups[custom_fingerprint("eu-timeouts")]["count"] == 2  # us-east-1 kept its default group
    # the us-east-1 timeout joined the native one: native and Sentry events share default fingerprints
    assert len(groups) == 4

    frames = [{"module": "app.views", "function": "checkout", "in_app": True},
              {"module": "payments.charge", "function": "capture", "in_app": True}]
    sentry: dict[str, Any] = {"event_id": uuid.uuid4().hex, "platform": "python", "level": "error",
              "exception": {"values": [{"type": "KeyError", "value": "'card'",
                                        "stacktrace": {"frames": frames}}]}}
    answer = httpx.post(store_url, json=sentry, timeout=10, headers=auth)
    assert answer.status_code == 200, answer.text
    stored = server.store.get_event(server.project.id, sentry["event_id"])
    assert stored is not None and stored.fingerprint is not None
    set_fingerprint_rules(None)
    plain = uuid.uuid4().hex
    assert httpx.post(store_url, json={**sentry, "event_id": plain}, timeout=10, headers=auth).status_code == 200
    default = server.store.get_event(server.project.id, plain)
    assert default is not None and default.fingerprint is not None
    assert stored.fingerprint == custom_fingerprint(f"{default.fingerprint}-payments")


def test_settings_refuse_a_bad_rules_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text("error.type:ConnectionError -> ok\nlevel:fatal -> nope\n")
    with pytest.raises(ValueError, match=r"bad\.rules:2: unknown matcher key 'level'"):
        ServerSettings(fingerprint_rules=bad)
    with pytest.raises(ValueError, match="fingerprint_rules: cannot read"):
        ServerSettings(fingerprint_rules=tmp_path / "missing.rules")
    good = tmp_path / "good.rules"
    good.write_text("error.type:ConnectionError -> ok\n")
    settings = ServerSettings(fingerprint_rules=good)
    assert ServerSettings.from_json(settings.to_json()).fingerprint_rules == good
    try:
        assert install_fingerprint_rules(settings.fingerprint_rules) is fingerprint_rules()
        assert len(fingerprint_rules() or ()) == 1
    finally:
        install_fingerprint_rules(None)
    assert fingerprint_rules() is None


def _chained_sentry(cause_function: str, tenant: int) -> dict[str, Any]:
    cause = {"type": "TimeoutError", "value": f"tenant {tenant} timed out",
             "stacktrace": {"frames": [{"module": "app.db", "function": cause_function, "in_app": True},
                                       {"module": "socket", "function": "recv", "in_app": False}]}}
    outer = {"type": "ServiceError", "value": f"could not load tenant {tenant}",
             "stacktrace": {"frames": [{"module": "app.views", "function": "load", "in_app": True}]}}
    return {"event_id": uuid.uuid4().hex, "exception": {"values": [cause, outer]}}


def test_sentry_chained_exceptions_group_by_their_causes() -> None:
    at = datetime.now(UTC)
    fp = [to_new_event(_chained_sentry(function, tenant), received_at=at, size=1).fingerprint
          for function, tenant in (("query", 1), ("query", 2), ("connect", 3))]
    assert fp[0] == fp[1] != fp[2]  # same cause, other ids: one group; another cause: another group
    single = {"event_id": uuid.uuid4().hex, "exception": {"values": [_chained_sentry("query", 1)["exception"]
                                                                       ["values"][1]]}}
    # an exception without causes keeps the fingerprint it always had
    assert to_new_event(single, received_at=at, size=1).fingerprint == default_fingerprint(
        "ServiceError", "could not load tenant 1", (("app.views", "load"),))
    broken = _chained_sentry("query", 1)
    broken["exception"]["values"][0]["stacktrace"]["frames"] = "not a list"
    assert to_new_event(broken, received_at=at, size=1).fingerprint == to_new_event(
        single, received_at=at, size=1).fingerprint  # a malformed cause is left out, the event kept


def test_merge_and_split_while_ingesting_keep_counts_exact(server: LiveServer) -> None:
    """Writers and a merge/split loop race on one fingerprint; afterwards every counter matches the events."""
    store, project = server.store, server.project.id
    at = datetime(2026, 3, 1, tzinfo=UTC)

    def batch(n: int, fps: tuple[str, ...]) -> list[NewEvent]:
        return [NewEvent(event_id=uuid.uuid4().hex, kind=EventKind.ERROR, occurred_at=at, message="m",
                         fingerprint=fp) for fp in fps for _ in range(n)]

    store.ingest_events(project, batch(1, ("a", "b")))
    ids = {g.fingerprint: g.id for g in store.list_groups(project)}
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(25):
                store.ingest_events(project, batch(2, ("b", "a")))
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    writers = [threading.Thread(target=write) for _ in range(2)]
    for thread in writers:
        thread.start()
    for _ in range(10):
        store.merge_groups(ids["b"], ids["a"])
        store.split_group(ids["a"], fingerprints=["b"])
    store.merge_groups(ids["b"], ids["a"])
    for thread in writers:
        thread.join()
    assert errors == []
    total = 2 + 2 * 25 * 2 * 2
    top = store.list_groups(project)
    assert [(g.fingerprint, g.count) for g in top] == [("a", total)]
    assert len(store.group_events(ids["a"], limit=500)) == total
    assert store.get_group(ids["b"]) is not None and store.split_group(ids["a"], fingerprints=["b"])
    assert {g.fingerprint: g.count for g in store.list_groups(project)} == {"a": total // 2, "b": total // 2}
    assert len(store.group_events(ids["b"], limit=500)) == total // 2


def test_migration_0007_matches_the_model_and_downgrades(db_url: str) -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with open_store(db_url) as store:
        project, _ = store.create_project("p")
        store.ingest_events(project.id, [NewEvent(event_id=fp, kind=EventKind.ERROR, occurred_at=at, fingerprint=fp)
                                         for fp in ("a", "b")])
        ids = {g.fingerprint: g.id for g in store.list_groups(project.id)}
        store.merge_groups(ids["b"], ids["a"])
    engine = create_store_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            assert [d for d in diff if "error_groups" in repr(d) or "merged_into" in repr(d)] == []
        for revision, step in (("0006", command.downgrade), ("0007", command.upgrade)):
            with engine.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"}).begin() as conn:
                step(alembic_config(conn), revision)
            with engine.connect() as conn:
                columns = {c["name"] for c in inspect(conn).get_columns("error_groups")}
                assert ("merged_into" in columns) is (revision == "0007")
    finally:
        engine.dispose()
    with open_store(db_url) as store:  # the merge is forgotten, the moved event stays in its target
        assert {g.fingerprint: g.count for g in store.list_groups(project.id)} == {"a": 2, "b": 1}
        assert store.merge_target(ids["b"]) is None
