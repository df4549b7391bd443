"""OpenTelemetry spans for operations, attempts and recoveries (needs ``opentelemetry-api``; imported only here).

Attribute names follow the OTel semantic conventions where one exists, and live under ``recoup.``
otherwise:

- A failed span (exception escaped) gets status ``ERROR`` with the exception message as description and
  ``error.type`` = the fully qualified exception class, as "Recording errors" (semconv) asks. With
  ``record_exception=True`` (the default, because most tracing back ends still show errors from it) it
  also gets the ``exception`` span event with ``exception.type``, ``exception.message`` and
  ``exception.stacktrace``. Errors that were retried away do not mark the operation span: only the
  attempt span that failed carries them (semconv: handled errors are not recorded on the operation).
- ``http.request.resend_count`` is HTTP-specific, so retries use ``recoup.retry.attempt`` (1-based number
  of the attempt) and ``recoup.retry.delay`` (seconds waited before it).
- Circuit breakers: ``recoup.circuit.name``, ``recoup.circuit.state`` (``closed``/``half_open``/``open``),
  ``recoup.circuit.previous_state``, ``recoup.circuit.reason``.
- Recovery: ``recoup.operation.name``, ``recoup.recovery.strategy``, ``recoup.recovery.outcome``,
  ``recoup.recovery.attempts``, ``recoup.recovery.duration`` (seconds), ``recoup.recovery.rto_met``;
  classification: ``recoup.error.category``, ``recoup.error.transient``, ``recoup.error.fingerprint``.

`SpanEventSink` is the subscriber: policies emit on the thread that runs the call, so when an operation
span is current, retries, transitions and outcomes become events (and attributes) on that span;
without one, each becomes a short standalone span, so nothing is lost when nobody wrapped the call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from recoup import __version__
from recoup.errors.taxonomy import Classification
from recoup.telemetry.events import (
    BreakerTransitionEvent,
    CheckpointEvent,
    ErrorEvent,
    Outcome,
    RecoveryAttemptEvent,
    RecoveryOutcomeEvent,
    TelemetryEvent,
    exception_type_name,
)

TRACER_NAME = "recoup"

# semantic-convention attributes
ERROR_TYPE = "error.type"
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
# recoup's own
OPERATION_NAME = "recoup.operation.name"
RETRY_ATTEMPT = "recoup.retry.attempt"
RETRY_DELAY = "recoup.retry.delay"
CIRCUIT_NAME = "recoup.circuit.name"
CIRCUIT_STATE = "recoup.circuit.state"
CIRCUIT_PREVIOUS_STATE = "recoup.circuit.previous_state"
CIRCUIT_REASON = "recoup.circuit.reason"
RECOVERY_STRATEGY = "recoup.recovery.strategy"
RECOVERY_OUTCOME = "recoup.recovery.outcome"
RECOVERY_ATTEMPTS = "recoup.recovery.attempts"
RECOVERY_DURATION = "recoup.recovery.duration"
RECOVERY_RTO_MET = "recoup.recovery.rto_met"
ERROR_CATEGORY = "recoup.error.category"
ERROR_TRANSIENT = "recoup.error.transient"
ERROR_FINGERPRINT = "recoup.error.fingerprint"
CHECKPOINT_WORKFLOW = "recoup.checkpoint.workflow"
CHECKPOINT_RUN_ID = "recoup.checkpoint.run_id"
CHECKPOINT_STEP = "recoup.checkpoint.step"
CHECKPOINT_STATUS = "recoup.checkpoint.status"

#: span event names used by `SpanEventSink` (also the names of its standalone spans)
EVENT_RETRY = "recoup.retry"
EVENT_CIRCUIT = "recoup.circuit.transition"
EVENT_OUTCOME = "recoup.recovery.outcome"
EVENT_CHECKPOINT = "recoup.checkpoint"
EVENT_ERROR = "recoup.error"

Attributes = Mapping[str, AttributeValue]

#: outcomes that mean the operation failed, for the span status of a standalone outcome span
FAILED_OUTCOMES = frozenset({Outcome.GAVE_UP, Outcome.FAILED_FAST})


def get_tracer(tracer_provider: trace.TracerProvider | None = None) -> Tracer:
    """recoup's tracer from `tracer_provider` (default: the global one, a no-op until an SDK is set up)."""
    return trace.get_tracer(TRACER_NAME, __version__, tracer_provider)


def classification_attributes(classification: Classification) -> dict[str, AttributeValue]:
    return {
        ERROR_CATEGORY: classification.category.value,
        ERROR_TRANSIENT: classification.transient,
        ERROR_FINGERPRINT: classification.fingerprint,
    }


def mark_error(
    span: Span,
    exc: BaseException,
    *,
    classification: Classification | None = None,
    record_exception: bool = True,
    escaped: bool = True,
) -> None:
    """Record that `span`'s operation failed with `exc` (status, ``error.type``, optional exception event)."""
    span.set_attribute(ERROR_TYPE, exception_type_name(exc))
    if classification is not None:
        span.set_attributes(classification_attributes(classification))
    span.set_status(Status(StatusCode.ERROR, str(exc) or None))
    if record_exception:
        span.record_exception(exc, escaped=escaped)


@contextmanager
def operation_span(
    name: str,
    *,
    attributes: Attributes | None = None,
    tracer: Tracer | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    record_exception: bool = True,
) -> Iterator[Span]:
    """A current span around one operation, named `name` (keep it low-cardinality: no ids in it).

    An exception escaping the block marks the span failed (see `mark_error`) and propagates; only
    ``Exception``s count, so cancellation (``asyncio.CancelledError``, ``KeyboardInterrupt``) ends
    the span without calling the operation failed. Set the outcome with `set_outcome`.
    """
    tracer = tracer or get_tracer()
    attrs: dict[str, AttributeValue] = {OPERATION_NAME: name, **(attributes or {})}
    with tracer.start_as_current_span(
        name, kind=kind, attributes=attrs, record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            yield span
        except Exception as exc:
            mark_error(span, exc, record_exception=record_exception)
            raise


@contextmanager
def attempt_span(
    operation: str,
    attempt: int,
    *,
    delay: float | None = None,
    attributes: Attributes | None = None,
    tracer: Tracer | None = None,
    record_exception: bool = True,
) -> Iterator[Span]:
    """A child span for one attempt of `operation` (named ``"<operation> attempt"``), numbered from 1."""
    attrs: dict[str, AttributeValue] = {OPERATION_NAME: operation, RETRY_ATTEMPT: attempt, **(attributes or {})}
    if delay is not None:
        attrs[RETRY_DELAY] = delay
    with operation_span(
        f"{operation} attempt", attributes=attrs, tracer=tracer, record_exception=record_exception
    ) as span:
        yield span


def set_outcome(
    span: Span,
    outcome: Outcome,
    *,
    strategy: str | None = None,
    attempts: int | None = None,
    time_to_recover: float | None = None,
    rto_met: bool | None = None,
) -> None:
    """Put how the operation ended on its span (as attributes; status is the exception's business)."""
    span.set_attributes(_outcome_attributes(outcome, strategy, attempts, time_to_recover, rto_met))


def _outcome_attributes(
    outcome: Outcome,
    strategy: str | None,
    attempts: int | None,
    time_to_recover: float | None,
    rto_met: bool | None,
) -> dict[str, AttributeValue]:
    attrs: dict[str, AttributeValue] = {RECOVERY_OUTCOME: outcome.value}
    if strategy:
        attrs[RECOVERY_STRATEGY] = strategy
    if attempts is not None:
        attrs[RECOVERY_ATTEMPTS] = attempts
    if time_to_recover is not None:
        attrs[RECOVERY_DURATION] = time_to_recover
    if rto_met is not None:
        attrs[RECOVERY_RTO_MET] = rto_met
    return attrs


def _nanos(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


class SpanEventSink:
    """A telemetry `Sink` that writes events onto the current span, or standalone spans when there is none.

    ``standalone=False`` drops events that arrive outside any recording span instead.
    """

    def __init__(self, tracer: Tracer | None = None, *, standalone: bool = True) -> None:
        self._tracer = tracer or get_tracer()
        self.standalone = standalone

    def emit(self, event: TelemetryEvent) -> None:
        described = self._describe(event)
        if described is None:
            return
        name, attrs, error_type = described
        span = trace.get_current_span()
        if span.is_recording():
            span.add_event(name, attrs, timestamp=_nanos(event.timestamp))
            if isinstance(event, RecoveryOutcomeEvent):
                span.set_attributes(attrs)
            return
        if not self.standalone:
            return
        at = _nanos(event.timestamp)
        standalone = self._tracer.start_span(name, attributes=attrs, start_time=at)
        if error_type is not None:
            standalone.set_attribute(ERROR_TYPE, error_type)
            standalone.set_status(Status(StatusCode.ERROR))
        standalone.end(end_time=at)

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        return None

    @staticmethod
    def _describe(event: TelemetryEvent) -> tuple[str, dict[str, AttributeValue], str | None] | None:
        """(event/span name, attributes, error.type if the event stands for a failure)."""
        attrs: dict[str, Any]
        if isinstance(event, RecoveryAttemptEvent):
            attrs = {
                OPERATION_NAME: event.operation,
                RECOVERY_STRATEGY: event.strategy,
                RETRY_ATTEMPT: event.attempt,
                RETRY_DELAY: event.delay,
            }
            if event.category is not None:
                attrs[ERROR_CATEGORY] = event.category.value
            if event.error_type:
                attrs[ERROR_TYPE] = event.error_type
            return EVENT_RETRY, attrs, None
        if isinstance(event, BreakerTransitionEvent):
            attrs = {
                CIRCUIT_NAME: event.breaker,
                CIRCUIT_STATE: event.to_state,
                CIRCUIT_PREVIOUS_STATE: event.from_state,
            }
            if event.reason:
                attrs[CIRCUIT_REASON] = event.reason
            return EVENT_CIRCUIT, attrs, None
        if isinstance(event, RecoveryOutcomeEvent):
            attrs = _outcome_attributes(
                event.outcome, event.strategy, event.attempts, event.time_to_recover, event.rto_met
            )
            attrs[OPERATION_NAME] = event.operation
            if event.category is not None:
                attrs[ERROR_CATEGORY] = event.category.value
            failed = event.outcome in FAILED_OUTCOMES
            error_type = (event.error_type or "_OTHER") if failed else None
            return EVENT_OUTCOME, attrs, error_type
        if isinstance(event, CheckpointEvent):
            attrs = {
                CHECKPOINT_WORKFLOW: event.workflow,
                CHECKPOINT_RUN_ID: event.run_id,
                CHECKPOINT_STEP: event.step,
                CHECKPOINT_STATUS: event.status,
            }
            return EVENT_CHECKPOINT, attrs, None
        if isinstance(event, ErrorEvent):
            attrs = {EXCEPTION_TYPE: event.exception_type, EXCEPTION_MESSAGE: event.message}
            if event.operation:
                attrs[OPERATION_NAME] = event.operation
            if event.category is not None:
                attrs[ERROR_CATEGORY] = event.category.value
            if event.transient is not None:
                attrs[ERROR_TRANSIENT] = event.transient
            if event.fingerprint:
                attrs[ERROR_FINGERPRINT] = event.fingerprint
            return EVENT_ERROR, attrs, None
        return None
