"""Turn the library's telemetry events into `NewEvent` rows, so the native ingest endpoint (and an
in-process sink) store exactly what the library emits.

The full event dict (``to_dict()``) is kept as the payload: nothing the producer said is lost, and a
later reader can rebuild the telemetry event with `recoup.telemetry.events.event_from_dict`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from recoup.store.values import MESSAGE_MAX, InvalidInput, Level, NewEvent
from recoup.store.values import EventKind as Kind
from recoup.telemetry.events import (
    BreakerTransitionEvent,
    CheckpointEvent,
    ErrorEvent,
    Outcome,
    RecoveryAttemptEvent,
    RecoveryOutcomeEvent,
    TelemetryEvent,
)

_OUTCOME_LEVEL = {
    Outcome.SUCCEEDED: Level.INFO,
    Outcome.RECOVERED: Level.INFO,
    Outcome.DEGRADED: Level.WARNING,
    Outcome.GAVE_UP: Level.ERROR,
    Outcome.FAILED_FAST: Level.ERROR,
}


def _when(timestamp: float) -> datetime:
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidInput("timestamp", f"not a usable epoch time: {exc}") from None


def new_event_from_telemetry(event: TelemetryEvent) -> NewEvent:
    """The `NewEvent` for one telemetry event; raises `InvalidInput` for values the store cannot keep."""
    when = _when(event.timestamp)
    payload = event.to_dict()
    if isinstance(event, ErrorEvent):
        return NewEvent(
            kind=Kind.ERROR,
            level=Level.ERROR,
            message=event.message[:MESSAGE_MAX],
            exception_type=event.exception_type or None,
            category=event.category.value if event.category else None,
            fingerprint=event.fingerprint or None,
            event_id=event.id,
            occurred_at=when,
            payload=payload,
        )
    if isinstance(event, RecoveryOutcomeEvent):
        return NewEvent(
            kind=Kind.RECOVERY,
            level=_OUTCOME_LEVEL.get(event.outcome, Level.INFO),
            message=f"{event.operation}: {event.outcome.value} by {event.strategy} after {event.attempts} attempt(s)",
            exception_type=event.error_type,
            category=event.category.value if event.category else None,
            event_id=event.id,
            occurred_at=when,
            payload=payload,
        )
    if isinstance(event, RecoveryAttemptEvent):
        return NewEvent(
            kind=Kind.RECOVERY,
            level=Level.INFO,
            message=f"{event.operation}: {event.strategy} attempt {event.attempt} in {event.delay:g}s",
            exception_type=event.error_type,
            category=event.category.value if event.category else None,
            event_id=event.id,
            occurred_at=when,
            payload=payload,
        )
    if isinstance(event, BreakerTransitionEvent):
        return NewEvent(
            kind=Kind.BREAKER,
            level=Level.WARNING if event.to_state == "open" else Level.INFO,
            message=f"breaker {event.breaker}: {event.from_state} -> {event.to_state}"
            + (f" ({event.reason})" if event.reason else ""),
            event_id=event.id,
            occurred_at=when,
            payload=payload,
        )
    if isinstance(event, CheckpointEvent):
        return NewEvent(
            kind=Kind.CHECKPOINT,
            level=Level.ERROR if event.status == "failed" else Level.INFO,
            message=f"{event.workflow}/{event.run_id}: step {event.step} {event.status}",
            event_id=event.id,
            occurred_at=when,
            payload=payload,
        )
    raise InvalidInput("type", f"event type {event.event_type!r} cannot be stored")
