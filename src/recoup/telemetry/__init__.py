"""Telemetry: typed events, sinks (in-process bus, JSON lines, HTTP), Prometheus metrics, OpenTelemetry spans.

Importing this package costs only the stdlib: names resolve on first use, and the Prometheus and
OpenTelemetry integrations (`recoup.telemetry.prometheus`, `recoup.telemetry.otel`) import their
third-party packages only when those modules are imported.

Typical wiring::

    from recoup import telemetry
    bus = telemetry.default_bus()                 # what recoup's engine and workflows emit to
    bus.subscribe(telemetry.HttpSink("https://recoup.example", api_key="..."))
    bus.subscribe(telemetry.JsonLinesSink("recoup-events.jsonl"))
    stop = telemetry.bridge_policy_events(bus)   # retries, breakers, fallbacks → bus

    from recoup.telemetry.prometheus import PrometheusMetrics   # needs prometheus-client
    metrics = PrometheusMetrics(); bus.subscribe(metrics); metrics.serve(9464)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "SCHEMA_VERSION": "recoup.telemetry.events",
    "TelemetryEvent": "recoup.telemetry.events",
    "ErrorEvent": "recoup.telemetry.events",
    "RecoveryAttemptEvent": "recoup.telemetry.events",
    "RecoveryOutcomeEvent": "recoup.telemetry.events",
    "BreakerTransitionEvent": "recoup.telemetry.events",
    "CheckpointEvent": "recoup.telemetry.events",
    "MetricEvent": "recoup.telemetry.events",
    "Frame": "recoup.telemetry.events",
    "Outcome": "recoup.telemetry.events",
    "EventSchemaError": "recoup.telemetry.events",
    "event_from_dict": "recoup.telemetry.events",
    "Sink": "recoup.telemetry.sinks",
    "SinkStats": "recoup.telemetry.sinks",
    "EventBus": "recoup.telemetry.sinks",
    "CallbackSink": "recoup.telemetry.sinks",
    "JsonLinesSink": "recoup.telemetry.sinks",
    "default_bus": "recoup.telemetry.sinks",
    "HttpSink": "recoup.telemetry.http_sink",
    "from_policy_event": "recoup.telemetry.bridge",
    "bridge_policy_events": "recoup.telemetry.bridge",
}

__all__ = [
    "SCHEMA_VERSION",
    "BreakerTransitionEvent",
    "CallbackSink",
    "CheckpointEvent",
    "ErrorEvent",
    "EventBus",
    "EventSchemaError",
    "Frame",
    "HttpSink",
    "JsonLinesSink",
    "MetricEvent",
    "Outcome",
    "RecoveryAttemptEvent",
    "RecoveryOutcomeEvent",
    "Sink",
    "SinkStats",
    "TelemetryEvent",
    "bridge_policy_events",
    "default_bus",
    "event_from_dict",
    "from_policy_event",
]

if TYPE_CHECKING:
    from recoup.telemetry.bridge import bridge_policy_events, from_policy_event
    from recoup.telemetry.events import (
        SCHEMA_VERSION,
        BreakerTransitionEvent,
        CheckpointEvent,
        ErrorEvent,
        EventSchemaError,
        Frame,
        MetricEvent,
        Outcome,
        RecoveryAttemptEvent,
        RecoveryOutcomeEvent,
        TelemetryEvent,
        event_from_dict,
    )
    from recoup.telemetry.http_sink import HttpSink
    from recoup.telemetry.sinks import CallbackSink, EventBus, JsonLinesSink, Sink, SinkStats, default_bus


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'recoup.telemetry' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
