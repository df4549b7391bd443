"""Turn the library's telemetry events into `NewEvent` rows, so the native ingest endpoint (and an
in-process sink) store exactly what the library emits.

The mapping reads the event's wire form (``to_dict()``), which is also what the native endpoint receives:
one mapping serves both, and the full dict is kept as the payload, so nothing the producer said is lost
and a later reader can rebuild the telemetry event with `recoup.telemetry.events.event_from_dict`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from recoup.store.values import MESSAGE_MAX, InvalidInput, Level, NewEvent
from recoup.store.values import EventKind as Kind
from recoup.telemetry.events import (
    BreakerTransitionEvent,
    CheckpointEvent,
    ErrorEvent,
    MetricEvent,
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


def occurred_at(timestamp: float) -> datetime:
    """The event's epoch timestamp as an aware UTC datetime, or `InvalidInput` naming ``timestamp``."""
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidInput("timestamp", f"not a usable epoch time: {exc}") from None


def _error_row(d: Mapping[str, Any]) -> dict[str, Any]:
    return {"kind": Kind.ERROR, "level": Level.ERROR, "message": d["message"][:MESSAGE_MAX],
            "exception_type": d["exception_type"] or None, "category": d.get("category") or None,
            "fingerprint": d.get("fingerprint") or None}


def _recovery_outcome_row(d: Mapping[str, Any]) -> dict[str, Any]:
    outcome = Outcome(d["outcome"])
    return {"kind": Kind.RECOVERY, "level": _OUTCOME_LEVEL.get(outcome, Level.INFO),
            "message": f"{d['operation']}: {outcome.value} by {d['strategy']} after {d.get('attempts', 1)} attempt(s)",
            "exception_type": d.get("error_type"), "category": d.get("category") or None}


def _recovery_attempt_row(d: Mapping[str, Any]) -> dict[str, Any]:
    delay = float(d.get("delay", 0.0))
    return {"kind": Kind.RECOVERY, "level": Level.INFO,
            "message": f"{d['operation']}: {d['strategy']} attempt {d['attempt']} in {delay:g}s",
            "exception_type": d.get("error_type"), "category": d.get("category") or None}


def _breaker_row(d: Mapping[str, Any]) -> dict[str, Any]:
    reason = d.get("reason", "")
    return {"kind": Kind.BREAKER, "level": Level.WARNING if d["to_state"] == "open" else Level.INFO,
            "message": f"breaker {d['breaker']}: {d['from_state']} -> {d['to_state']}"
            + (f" ({reason})" if reason else "")}


def _checkpoint_row(d: Mapping[str, Any]) -> dict[str, Any]:
    return {"kind": Kind.CHECKPOINT, "level": Level.ERROR if d["status"] == "failed" else Level.INFO,
            "message": f"{d['workflow']}/{d['run_id']}: step {d['step']} {d['status']}"}


def _metric_row(d: Mapping[str, Any]) -> dict[str, Any]:
    unit = d.get("unit") or ""
    service = d.get("service") or ""
    return {"kind": Kind.METRIC, "level": Level.INFO,
            "message": f"{d['name']}={float(d['value']):g}{unit}" + (f" ({service})" if service else "")}


_ROWS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    ErrorEvent.event_type: _error_row,
    RecoveryOutcomeEvent.event_type: _recovery_outcome_row,
    RecoveryAttemptEvent.event_type: _recovery_attempt_row,
    BreakerTransitionEvent.event_type: _breaker_row,
    CheckpointEvent.event_type: _checkpoint_row,
    MetricEvent.event_type: _metric_row,
}


def telemetry_row(d: Mapping[str, Any]) -> dict[str, Any]:
    """The `NewEvent` fields (kind, level, message, ...) of one telemetry event in its wire form; the
    caller adds event_id, occurred_at and the payload. The dict must already have its event's shape."""
    row = _ROWS.get(d.get("type", ""))
    if row is None:
        raise InvalidInput("type", f"event type {d.get('type')!r} cannot be stored")
    return row(d)


def new_event_from_telemetry(event: TelemetryEvent) -> NewEvent:
    """The `NewEvent` for one telemetry event; raises `InvalidInput` for values the store cannot keep."""
    when = occurred_at(event.timestamp)
    payload = event.to_dict()
    return NewEvent(event_id=event.id, occurred_at=when, payload=payload, **telemetry_row(payload))
