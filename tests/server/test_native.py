"""Native ingest end to end: the library's own HttpSink, fed by a real retry policy through the telemetry
bridge, sends to a live server; the events land in the store classified and grouped, exactly once."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator

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
