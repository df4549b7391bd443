"""Turn low-level `PolicyEvent`s (recoup.policies.events) into typed telemetry events.

Policies report what they decided (``retry_scheduled``, ``gave_up``, ``state_changed`` ...); telemetry
wants what that means for the operation (an attempt, an outcome, a breaker transition). The mapping:

===================================  ==========================================================
policy event                         telemetry event
===================================  ==========================================================
``state_changed`` (breaker)          `BreakerTransitionEvent` (``from_state``/``to_state``/``reason``)
``retry_scheduled``                  `RecoveryAttemptEvent` (``attempt``, ``delay``, error category)
``gave_up``                          `RecoveryOutcomeEvent` outcome ``gave_up``
``succeeded`` after attempt > 1      `RecoveryOutcomeEvent` outcome ``recovered`` (``elapsed`` →
                                     ``time_to_recover``)
``rejected``                         `RecoveryOutcomeEvent` outcome ``failed_fast``
``fallback_used``                    `RecoveryOutcomeEvent` outcome ``degraded``
anything else                        nothing (``attempt``, ``timed_out``, store health ...)
===================================  ==========================================================

``data`` keys read, all optional: ``attempt`` (for ``retry_scheduled``: the attempt that failed, unless
``next_attempt`` is given)/``attempts``, ``delay``, ``error`` (an exception, or text
``"TypeName: message"`` as the policies send it), ``category`` (a `Category` or its value),
``elapsed``/``time_to_recover``, ``reason``, ``from_state``/``to_state``.
A first-try success (``succeeded`` with attempt 1) is not forwarded: it is the hot path, and nothing
was recovered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from recoup.errors.classifier import category_of
from recoup.errors.taxonomy import Category
from recoup.policies import events as policy_events
from recoup.policies.events import EventKind, PolicyEvent
from recoup.telemetry.events import (
    BreakerTransitionEvent,
    Outcome,
    RecoveryAttemptEvent,
    RecoveryOutcomeEvent,
    TelemetryEvent,
    exception_type_name,
)
from recoup.telemetry.sinks import Sink

#: policy types whose ``state_changed`` is a circuit-breaker transition
BREAKER_POLICIES = frozenset({"breaker", "circuit_breaker", "circuitbreaker"})


def _error_fields(data: Mapping[str, Any]) -> tuple[Category | None, str | None]:
    """(category, exception type) from ``data``, classifying a live exception only if no category came."""
    error = data.get("error")
    raw = data.get("category")
    category: Category | None = None
    if isinstance(raw, Category):
        category = raw
    elif isinstance(raw, str):
        try:
            category = Category(raw)
        except ValueError:
            category = Category.UNKNOWN
    if isinstance(error, BaseException):
        if category is None:
            category = category_of(error)[0]
        return category, exception_type_name(error)
    error_type = data.get("error_type")
    if isinstance(error_type, str):
        return category, error_type
    if isinstance(error, str):  # policies describe errors as "TypeName: message"
        head = error.split(":", 1)[0].strip()
        if head and all(part.isidentifier() for part in head.split(".")):
            return category, head
    return category, None


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def from_policy_event(event: PolicyEvent) -> TelemetryEvent | None:
    """The telemetry event a policy event stands for, or None when it stands for none (see the table)."""
    data = event.data
    kind = event.kind
    tags = {"policy": event.policy}
    if kind is EventKind.STATE_CHANGED:
        if event.policy not in BREAKER_POLICIES:
            return None
        return BreakerTransitionEvent(
            timestamp=event.timestamp,
            tags=tags,
            breaker=event.name,
            from_state=str(data.get("from_state", "")),
            to_state=str(data.get("to_state", "")),
            reason=str(data.get("reason", "")),
        )
    if kind is EventKind.RETRY_SCHEDULED:
        category, error_type = _error_fields(data)
        return RecoveryAttemptEvent(
            timestamp=event.timestamp,
            tags=tags,
            operation=event.name,
            strategy=event.policy,
            # the policy reports the attempt that failed; the event names the one about to run
            attempt=_int(data.get("next_attempt"), _int(data.get("attempt"), 1) + 1),
            delay=_float(data.get("delay")) or 0.0,
            category=category,
            error_type=error_type,
        )
    attempts = _int(data.get("attempts", data.get("attempt")), 1)
    if kind is EventKind.SUCCEEDED:
        if attempts <= 1:
            return None
        outcome = Outcome.RECOVERED
    elif kind is EventKind.GAVE_UP:
        outcome = Outcome.GAVE_UP
    elif kind is EventKind.REJECTED:
        outcome = Outcome.FAILED_FAST
    elif kind is EventKind.FALLBACK_USED:
        outcome = Outcome.DEGRADED
    else:
        return None
    category, error_type = _error_fields(data)
    ttr = _float(data.get("time_to_recover", data.get("elapsed"))) if outcome is Outcome.RECOVERED else None
    return RecoveryOutcomeEvent(
        timestamp=event.timestamp,
        tags=tags,
        operation=event.name,
        strategy=event.policy,
        outcome=outcome,
        attempts=attempts,
        time_to_recover=ttr,
        category=category,
        error_type=error_type,
    )


def bridge_policy_events(sink: Sink) -> Callable[[], None]:
    """Forward every policy event that means something to telemetry into `sink` (usually an `EventBus`).

    Returns the function that stops forwarding. Conversion runs on the policy's thread, so sinks on
    the other end must be non-blocking (all recoup sinks are, except local file writes).
    """

    def forward(event: PolicyEvent) -> None:
        converted = from_policy_event(event)
        if converted is not None:
            sink.emit(converted)

    return policy_events.subscribe(forward)
