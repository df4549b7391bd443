"""OpenTelemetry spans, recorded by the real SDK into its InMemorySpanExporter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode, Tracer

from recoup.errors.taxonomy import Category
from recoup.policies.retry import Retry
from recoup.telemetry import otel
from recoup.telemetry.bridge import bridge_policy_events
from recoup.telemetry.events import (
    BreakerTransitionEvent,
    CheckpointEvent,
    ErrorEvent,
    Outcome,
    RecoveryOutcomeEvent,
)
from recoup.telemetry.otel import SpanEventSink, attempt_span, operation_span, set_outcome
from recoup.telemetry.sinks import EventBus
from recoup.testing import FakeClock


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> Iterator[Tracer]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield otel.get_tracer(provider)
    provider.shutdown()


def _by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {span.name: span for span in exporter.get_finished_spans()}


def test_successful_operation_span_has_name_attributes_and_unset_status(
    tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    with operation_span("charge card", tracer=tracer, attributes={"app.tenant": "t1"}) as span:
        set_outcome(span, Outcome.RECOVERED, strategy="retry", attempts=2, time_to_recover=0.3, rto_met=True)
    (finished,) = exporter.get_finished_spans()
    assert finished.name == "charge card"
    assert finished.status.status_code is StatusCode.UNSET
    assert finished.instrumentation_scope is not None and finished.instrumentation_scope.name == "recoup"
    assert dict(finished.attributes or {}) == {
        "recoup.operation.name": "charge card",
        "app.tenant": "t1",
        "recoup.recovery.outcome": "recovered",
        "recoup.recovery.strategy": "retry",
        "recoup.recovery.attempts": 2,
        "recoup.recovery.duration": 0.3,
        "recoup.recovery.rto_met": True,
    }


def test_failed_operation_span_follows_the_error_conventions(tracer: Tracer, exporter: InMemorySpanExporter) -> None:
    with pytest.raises(ConnectionRefusedError), operation_span("charge card", tracer=tracer):
        raise ConnectionRefusedError("refused by 10.0.0.1")
    (finished,) = exporter.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.status.description == "refused by 10.0.0.1"
    assert (finished.attributes or {})["error.type"] == "ConnectionRefusedError"
    (event,) = finished.events
    assert event.name == "exception"
    attrs = dict(event.attributes or {})
    assert attrs["exception.type"] == "ConnectionRefusedError"
    assert attrs["exception.message"] == "refused by 10.0.0.1"
    assert "exception.stacktrace" in attrs


def test_exception_event_is_optional(tracer: Tracer, exporter: InMemorySpanExporter) -> None:
    with pytest.raises(KeyError), operation_span("lookup", tracer=tracer, record_exception=False):
        raise KeyError("k")
    (finished,) = exporter.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.events == ()


def test_retried_error_marks_only_the_attempt(tracer: Tracer, exporter: InMemorySpanExporter) -> None:
    with operation_span("fetch", tracer=tracer):
        for attempt in (1, 2):
            try:
                with attempt_span("fetch", attempt, delay=0.1 if attempt > 1 else None, tracer=tracer):
                    if attempt == 1:
                        raise TimeoutError("slow")
            except TimeoutError:
                continue
    spans = exporter.get_finished_spans()
    first, second, operation = spans
    assert [s.name for s in spans] == ["fetch attempt", "fetch attempt", "fetch"]
    assert first.parent is not None and first.parent.span_id == operation.context.span_id
    assert (first.attributes or {})["recoup.retry.attempt"] == 1
    assert "recoup.retry.delay" not in (first.attributes or {})
    assert (second.attributes or {})["recoup.retry.attempt"] == 2
    assert (second.attributes or {})["recoup.retry.delay"] == 0.1
    assert first.status.status_code is StatusCode.ERROR
    assert (first.attributes or {})["error.type"] == "TimeoutError"
    assert second.status.status_code is StatusCode.UNSET
    assert operation.status.status_code is StatusCode.UNSET  # handled errors stay off the operation


def test_policy_events_become_events_on_the_current_span(tracer: Tracer, exporter: InMemorySpanExporter) -> None:
    bus = EventBus()
    bus.subscribe(SpanEventSink(tracer))
    stop = bridge_policy_events(bus)
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("refused")
        return "ok"

    try:
        with operation_span("fetch", tracer=tracer):
            Retry(attempts=5, clock=FakeClock(), name="fetch").call(flaky)
    finally:
        stop()
    (span,) = exporter.get_finished_spans()
    retries = [e for e in span.events if e.name == "recoup.retry"]
    assert [(e.attributes or {})["recoup.retry.attempt"] for e in retries] == [2, 3]
    assert all((e.attributes or {})["error.type"] == "ConnectionError" for e in retries)
    outcome = [e for e in span.events if e.name == "recoup.recovery.outcome"]
    assert len(outcome) == 1
    assert (span.attributes or {})["recoup.recovery.outcome"] == "recovered"
    assert (span.attributes or {})["recoup.recovery.attempts"] == 3
    assert span.status.status_code is StatusCode.UNSET


def test_events_outside_a_span_become_standalone_spans(tracer: Tracer, exporter: InMemorySpanExporter) -> None:
    sink = SpanEventSink(tracer)
    sink.emit(BreakerTransitionEvent(breaker="db", from_state="closed", to_state="open", reason="5 failures"))
    sink.emit(
        RecoveryOutcomeEvent(
            operation="charge", strategy="retry", outcome=Outcome.GAVE_UP, attempts=3, error_type="TimeoutError"
        )
    )
    sink.emit(CheckpointEvent(workflow="w", run_id="r1", step="load", status="saved"))
    sink.emit(ErrorEvent(exception_type="OSError", message="disk full", category=Category.RESOURCE, transient=True))
    spans = _by_name(exporter)

    circuit = spans["recoup.circuit.transition"]
    assert dict(circuit.attributes or {}) == {
        "recoup.circuit.name": "db",
        "recoup.circuit.state": "open",
        "recoup.circuit.previous_state": "closed",
        "recoup.circuit.reason": "5 failures",
    }
    assert circuit.status.status_code is StatusCode.UNSET

    gave_up = spans["recoup.recovery.outcome"]
    assert gave_up.status.status_code is StatusCode.ERROR
    assert (gave_up.attributes or {})["error.type"] == "TimeoutError"
    assert (gave_up.attributes or {})["recoup.recovery.outcome"] == "gave_up"

    assert (spans["recoup.checkpoint"].attributes or {})["recoup.checkpoint.step"] == "load"
    error = spans["recoup.error"].attributes or {}
    assert (error["exception.type"], error["exception.message"], error["recoup.error.category"]) == (
        "OSError",
        "disk full",
        "resource",
    )


def test_standalone_spans_can_be_switched_off(tracer: Tracer, exporter: InMemorySpanExporter) -> None:
    SpanEventSink(tracer, standalone=False).emit(BreakerTransitionEvent(breaker="db", from_state="a", to_state="b"))
    assert exporter.get_finished_spans() == ()
