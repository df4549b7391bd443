"""Library telemetry events become stored events, with the whole event kept as the payload."""

from __future__ import annotations

import pytest

from recoup.errors.taxonomy import Category
from recoup.store import EventKind, InvalidInput, Level, Project, Store, new_event_from_telemetry
from recoup.telemetry.events import (
    BreakerTransitionEvent,
    CheckpointEvent,
    ErrorEvent,
    Outcome,
    RecoveryAttemptEvent,
    RecoveryOutcomeEvent,
    event_from_dict,
)


def test_each_telemetry_event_type_converts() -> None:
    err = ErrorEvent(
        exception_type="ConnectionError",
        message="refused",
        category=Category.NETWORK,
        fingerprint="abc123",
        timestamp=1_700_000_000.5,
    )
    converted = new_event_from_telemetry(err)
    assert (converted.kind, converted.level, converted.event_id) == (EventKind.ERROR, Level.ERROR, err.id)
    assert (converted.category, converted.fingerprint, converted.exception_type) == (
        "network",
        "abc123",
        "ConnectionError",
    )
    assert converted.occurred_at.timestamp() == 1_700_000_000.5
    assert event_from_dict(converted.payload) == err

    gave_up = RecoveryOutcomeEvent(operation="fetch", strategy="retry", outcome=Outcome.GAVE_UP, attempts=3)
    assert new_event_from_telemetry(gave_up).level is Level.ERROR
    assert new_event_from_telemetry(gave_up).kind is EventKind.RECOVERY
    attempt = RecoveryAttemptEvent(operation="fetch", strategy="retry", attempt=2, delay=0.5)
    assert new_event_from_telemetry(attempt).message == "fetch: retry attempt 2 in 0.5s"
    opened = BreakerTransitionEvent(breaker="db", from_state="closed", to_state="open")
    assert (new_event_from_telemetry(opened).kind, new_event_from_telemetry(opened).level) == (
        EventKind.BREAKER,
        Level.WARNING,
    )
    step = CheckpointEvent(workflow="etl", run_id="r1", step="load", status="saved")
    assert new_event_from_telemetry(step).kind is EventKind.CHECKPOINT


def test_converted_events_ingest(store: Store, project: Project) -> None:
    events = [
        ErrorEvent(exception_type="TimeoutError", message="slow", fingerprint="fp-t"),
        RecoveryOutcomeEvent(operation="fetch", strategy="retry", outcome=Outcome.RECOVERED),
    ]
    result = store.ingest_events(project.id, [new_event_from_telemetry(e) for e in events])
    assert result.inserted == (events[0].id, events[1].id)
    assert result.new_groups == ("fp-t",)


def test_unusable_timestamp_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput) as info:
        new_event_from_telemetry(ErrorEvent(exception_type="E", message="m", timestamp=1e20))
    assert info.value.field == "timestamp"
