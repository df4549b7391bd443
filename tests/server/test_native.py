"""Native ingest end to end: the library's own HttpSink, fed by a real retry policy through the telemetry
bridge, sends to a live server; the events land in the store classified and grouped, exactly once."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from dataclasses import MISSING, fields
from typing import Any

import httpx
import pytest
from server_support import LiveServer

from recoup.policies.retry import Retry
from recoup.store import EventKind
from recoup.telemetry.bridge import bridge_policy_events
from recoup.telemetry.events import ErrorEvent, RecoveryOutcomeEvent, TelemetryEvent
from recoup.telemetry.http_sink import HttpSink, encode_batch
from recoup.telemetry.sinks import EventBus
from recoup.testing import FakeClock


def _error(message: str = "connection refused", fingerprint: str = "fp-conn") -> ErrorEvent:
    return ErrorEvent(exception_type="ConnectionRefusedError", message=message, fingerprint=fingerprint)


@pytest.fixture
def sink(server: LiveServer) -> Iterator[HttpSink]:
    http_sink = HttpSink(server.url, api_key=server.key.public_key, flush_interval=0.05, close_at_exit=None)
    try:
        yield http_sink
    finally:
        http_sink.close(timeout=5)


def test_http_sink_delivers_library_events_classified_and_grouped(server: LiveServer, sink: HttpSink) -> None:
    bus = EventBus()
    bus.subscribe(sink)
    stop = bridge_policy_events(bus)
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            exc = ConnectionRefusedError("connect to db:5432 refused")
            bus.emit(ErrorEvent.from_exception(exc, operation="fetch", classify=True))
            raise exc
        return "ok"

    try:
        assert Retry(attempts=5, clock=FakeClock(), name="fetch").call(flaky) == "ok"
    finally:
        stop()
    assert sink.flush(timeout=10)
    stats = sink.stats
    assert (stats.sent, stats.failed, stats.dropped) == (5, 0, 0)  # 2 errors, 2 attempts, 1 outcome

    store = server.store
    assert store.count_events(server.project.id) == 5
    groups = store.list_groups(server.project.id)
    assert len(groups) == 1  # the two errors share the classifier's fingerprint
    group = groups[0]
    assert group.count == 2
    assert group.category == "network"
    assert "ConnectionRefusedError" in group.title
    errors = store.group_events(group.id)
    assert {e.kind for e in errors} == {EventKind.ERROR}
    recovered = store.search_events(server.project.id, "recovered")
    assert len(recovered) == 1 and recovered[0].kind is EventKind.RECOVERY
    assert recovered[0].payload["type"] == RecoveryOutcomeEvent.event_type
    assert recovered[0].payload["attempts"] == 3


def test_wire_details(server: LiveServer) -> None:
    """Redelivery counts once; gzip, X-Recoup-Key, the project-scoped route and empty batches work."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        body = encode_batch([_error(), _error("again")])
        headers = {**server.ingest_headers, "Content-Type": "application/json"}
        first = client.post("/api/v1/events", content=body, headers=headers)
        again = client.post("/api/v1/events", content=body, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json() == {"accepted": 2, "duplicates": 0, "spooled": False}
        assert again.json() == {"accepted": 0, "duplicates": 2, "spooled": False}
        assert server.store.count_events(server.project.id) == 2
        (group,) = server.store.list_groups(server.project.id)
        assert group.count == 2

        zipped = client.post(
            "/api/v1/events",
            content=gzip.compress(encode_batch([_error()])),
            headers={"X-Recoup-Key": server.key.public_key, "Content-Encoding": "gzip"},
        )
        assert zipped.status_code == 200, zipped.text
        assert zipped.json()["accepted"] == 1

        scoped = f"/api/v1/projects/{server.project.id}/events"
        answer = client.post(scoped, json={"events": [_error().to_dict()]}, headers=server.ingest_headers)
        assert answer.status_code == 200 and answer.json()["accepted"] == 1
        empty = client.post(scoped, json={"events": []}, headers=server.ingest_headers)
        assert empty.json() == {"accepted": 0, "duplicates": 0, "spooled": False}
        assert server.store.count_events(server.project.id) == 4


def test_every_event_type_is_stored(server: LiveServer) -> None:
    from recoup.telemetry.events import BreakerTransitionEvent, CheckpointEvent, RecoveryAttemptEvent

    events: list[TelemetryEvent] = [
        _error(),
        RecoveryAttemptEvent(operation="fetch", strategy="retry", attempt=2, delay=0.5),
        RecoveryOutcomeEvent(operation="fetch", strategy="retry", outcome="gave_up", attempts=3),  # type: ignore[arg-type]
        BreakerTransitionEvent(breaker="db", from_state="closed", to_state="open", reason="5 failures"),
        CheckpointEvent(workflow="orders", run_id="r1", step="charge", status="failed"),
    ]
    answer = httpx.post(
        f"{server.url}/api/v1/events", json=json.loads(encode_batch(events)), headers=server.ingest_headers, timeout=10
    )
    assert answer.json()["accepted"] == 5
    kinds = sorted(e.kind.value for e in server.store.list_events(server.project.id))
    assert kinds == ["breaker", "checkpoint", "error", "recovery", "recovery"]
    stored = server.store.get_event(server.project.id, events[3].id)
    assert stored is not None and stored.message == "breaker db: closed -> open (5 failures)"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_ingest_metrics_are_recorded(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, headers=server.ingest_headers, timeout=10) as client:
        client.post("/api/v1/events", json={"events": [_error().to_dict()]})
        bad = {"events": [{"type": "error", "id": uuid.uuid4().hex, "timestamp": 1.0, "message": 5}]}
        client.post("/api/v1/events", json=bad)
        text = client.get("/metrics").text
    assert 'recoup_ingest_events_total{outcome="stored",source="native"} 1.0' in text
    assert 'recoup_ingest_events_total{outcome="rejected",source="native"} 1.0' in text
    assert 'recoup_ingest_requests_total{source="native",status="200"} 1.0' in text
    assert 'recoup_ingest_requests_total{source="native",status="400"} 1.0' in text
    assert 'recoup_ingest_dropped_events_total{reason="invalid"} 1.0' in text
    assert 'recoup_ingest_request_seconds_count{source="native"} 2.0' in text


# -- the route's parser against the telemetry round trip --------------------------------------------------


def _library_events() -> list[TelemetryEvent]:
    from recoup.errors.taxonomy import Category
    from recoup.telemetry.events import BreakerTransitionEvent, CheckpointEvent, Frame, Outcome, RecoveryAttemptEvent

    frames = (Frame("/srv/app/orders.py", 12, "place", "charge()"), Frame("/usr/lib/python3.11/ssl.py", 9, "read"))
    return [
        _error(),
        ErrorEvent(exception_type="OSError", message="disk full\x01 ünïcode \u2028 line", category=Category.RESOURCE,
                   transient=False, confidence=0.75, classification_reason="errno", frames=frames,
                   tags={"env": "prod"}, service="s", operation="o"),
        ErrorEvent(exception_type="", message="x" * 70_000),
        RecoveryAttemptEvent(operation="fetch", strategy="retry", attempt=2, delay=0.5, error_type="TimeoutError"),
        RecoveryOutcomeEvent(operation="fetch", strategy="retry", outcome=Outcome.GAVE_UP, attempts=3,
                             time_to_recover=None, rto_met=False, category=Category.NETWORK),
        RecoveryOutcomeEvent(operation="fetch", strategy="retry", outcome=Outcome.DEGRADED),
        BreakerTransitionEvent(breaker="db", from_state="closed", to_state="open", reason="5 failures"),
        BreakerTransitionEvent(breaker="db", from_state="open", to_state="half_open"),
        CheckpointEvent(workflow="orders", run_id="r1", step="charge", status="failed"),
        CheckpointEvent(workflow="orders", run_id="r1", step="charge", status="saved"),
    ]


def _variants(data: dict[str, Any]) -> list[dict[str, Any]]:
    """What other producers may send for the same event: defaults left out, ints for floats, unknown keys."""
    from recoup.telemetry.events import EVENT_TYPES

    required = {f.name for f in fields(EVENT_TYPES[data["type"]])
                if f.default is MISSING and f.default_factory is MISSING}
    sparse = {k: v for k, v in data.items() if k in required or k in ("type", "id", "timestamp")}
    out = [data, sparse, {**data, "added_in_a_later_version": {"nested": [1, 2.5, None]}}]
    out.append({**data, "tags": {"retries": 3, "ok": True}})
    out.extend({**data, name: 2} for name in ("confidence", "delay", "time_to_recover") if name in data)
    if data.get("frames"):
        out.append({**data, "frames": [{**frame, "column": 4} for frame in data["frames"]]})
    return out


def test_parsed_events_match_the_telemetry_round_trip() -> None:
    """The fast parser makes the rows `new_event_from_telemetry` makes, with the wire dict as the payload."""
    import orjson

    from recoup.server.routes.native import parse_event, parse_event_exactly
    from recoup.store import NewEvent
    from recoup.telemetry.events import event_from_dict

    for event in _library_events():
        sent = event.to_dict()
        fast = parse_event(sent, "e")
        assert fast.payload == sent  # exactly what the library sent
        for data in _variants(sent):
            fast, exact = parse_event(data, "e"), parse_event_exactly(data, "e")
            for name in NewEvent.__slots__:
                if name not in ("payload", "payload_json"):
                    assert getattr(fast, name) == getattr(exact, name), (name, data)
            assert orjson.loads(fast.payload_json or "") == fast.payload
            assert event_from_dict(fast.payload) == event_from_dict(data) == event_from_dict(exact.payload)
            assert {k: v for k, v in fast.payload.items() if k != "tags"} == \
                {k: v for k, v in data.items() if k != "tags"}  # nothing added or lost, unknown keys kept


def test_parser_refuses_what_the_telemetry_round_trip_refuses() -> None:
    from recoup.server.routes.native import parse_event, parse_event_exactly
    from recoup.store import InvalidInput

    good = _error().to_dict()
    outcome = RecoveryOutcomeEvent(operation="f", strategy="retry", outcome="gave_up").to_dict()  # type: ignore[arg-type]
    bad: list[tuple[Any, str]] = [
        ("x", "e"), ({**good, "type": 3}, "e.type"), ({**good, "schema": 0}, "e.schema"),
        ({**good, "schema": 2}, "e.schema"), ({**good, "schema": True}, "e.schema"),
        ({**good, "message": None}, "e.message"), ({**good, "message": "a\x00b"}, "e.message"),
        ({**good, "tags": {"a": "b\x00"}}, "e"),
        ({**good, "timestamp": 1e20}, "e.timestamp"), ({**good, "timestamp": False}, "e.timestamp"),
        ({**good, "id": " a"}, "e.id"), ({**good, "id": "x" * 65}, "e.id"),
        ({**good, "category": "bogus"}, "e.category"),
        ({**good, "category": 1}, "e.category"), ({**good, "transient": 1}, "e.transient"),
        ({**good, "frames": [{"filename": "a", "lineno": True, "function": "f"}]}, "e.frames"),
        ({**good, "frames": {"filename": "a"}}, "e.frames"), ({**good, "tags": []}, "e.tags"),
        ({**outcome, "outcome": "won"}, "e.outcome"), ({**outcome, "attempts": 1.0}, "e.attempts"),
        ({**outcome, "error_type": ""}, "e.exception_type"),
    ]
    for data, field in bad:
        for parse in (parse_event, parse_event_exactly):
            with pytest.raises(InvalidInput) as refused:
                parse(data, "e")
            assert refused.value.field == field, (parse.__name__, data, refused.value)
    # Keys the event does not know are stored too now (the round trip dropped them), so they are checked as well.
    deep: Any = "x"
    for _ in range(300):  # deeper than orjson writes: refused, never stored half
        deep = [deep]
    for extra in (["\x00"], {"k\x00": 1}, deep):
        with pytest.raises(InvalidInput) as refused:
            parse_event({**good, "extra": extra}, "e")
        assert refused.value.field == "e"


def test_stored_payload_is_what_the_library_sent(server: LiveServer) -> None:
    from recoup.telemetry.events import event_from_dict

    events = _library_events()
    answer = httpx.post(f"{server.url}/api/v1/events", content=encode_batch(events),
                        headers={**server.ingest_headers, "Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 200, answer.text
    for event in events:
        stored = server.store.get_event(server.project.id, event.id)
        assert stored is not None
        assert dict(stored.payload) == event.to_dict()
        assert event_from_dict(stored.payload) == event


def test_the_route_enriches_as_the_pipeline_would() -> None:
    """`parse_event` classifies and fingerprints error events while it checks their frames (one walk):
    the result is what `enrich` makes of the unenriched event, only the innermost frames count, and a bad
    frame is still refused naming the field."""
    from recoup.server.enrich import MAX_FRAMES, enrich
    from recoup.server.routes.native import parse_event
    from recoup.store import InvalidInput, new_event_from_telemetry
    from recoup.telemetry.events import Frame, event_from_dict

    outer = [Frame(f"/srv/app/outer{i}.py", i + 1, f"f{i}", None) for i in range(15)]
    inner = [Frame(f"/srv/app/inner{i}.py", i + 1, f"g{i}", None) for i in range(MAX_FRAMES - 5)]
    library = [Frame("/usr/lib/python3.11/socket.py", 9, "connect", None)] * 5
    for frames in ((), tuple(inner), tuple(outer + inner + library)):
        for fingerprint in (None, "fp-given"):
            sent = ErrorEvent(exception_type="ConnectionRefusedError", message="connection refused to 10.0.0.7",
                              fingerprint=fingerprint, frames=frames).to_dict()
            fast = parse_event(sent, "e")
            assert fast.category is not None and fast.fingerprint is not None
            assert fast == enrich(new_event_from_telemetry(event_from_dict(sent)))
            assert enrich(fast) is fast  # the pipeline has nothing left to do
    # the outermost frames beyond MAX_FRAMES do not change the group
    trimmed = ErrorEvent(exception_type="E", message="m", frames=tuple(outer[-10:] + inner + library)).to_dict()
    full = ErrorEvent(exception_type="E", message="m", frames=tuple(outer + inner + library)).to_dict()
    assert parse_event(trimmed, "e").fingerprint == parse_event(full, "e").fingerprint
    bad = {**full, "frames": [*full["frames"][:3], {"filename": "a.py", "lineno": "7", "function": "f"}]}
    with pytest.raises(InvalidInput) as refused:
        parse_event(bad, "events[4]")
    assert refused.value.field == "events[4].frames"
    assert "must be a list of an object {filename" in refused.value.problem



def test_an_event_without_schema_is_observed_as_native_telemetry() -> None:
    """A hand-written event may omit ``schema`` (it defaults to 1): the rules' observer must still read it as
    native telemetry, not mistake it for a Sentry event and drop its fields."""
    from recoup.server.observers import telemetry_view
    from recoup.server.routes.native import parse_event

    for event in _library_events():
        sent = {k: v for k, v in event.to_dict().items() if k != "schema"}
        assert telemetry_view(parse_event(sent, "e")) == sent
