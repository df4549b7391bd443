"""Prometheus metrics fed by telemetry events (needs ``prometheus-client``; imported only here).

`PrometheusMetrics` is a `Sink`: subscribe it to an `EventBus` (which `bridge_policy_events` feeds from
the policy bus) and it keeps these series up to date:

==========================================  =========  ==================================================
metric                                      type       fed by
==========================================  =========  ==================================================
``recoup_operations_total{category,outcome}`` counter  `RecoveryOutcomeEvent` (category ``none`` if unknown)
``recoup_recovery_seconds``                 histogram  `RecoveryOutcomeEvent.time_to_recover` (recovered)
``recoup_retries_total{category}``          counter    `RecoveryAttemptEvent`
``recoup_fallbacks_total``                  counter    `RecoveryOutcomeEvent` outcome ``degraded``
``recoup_circuit_state{breaker}``           gauge      `BreakerTransitionEvent`: 0 closed, 1 half-open, 2 open
``recoup_circuit_transitions_total{breaker,to_state}`` counter  `BreakerTransitionEvent`
``recoup_checkpoints_total{status}``        counter    `CheckpointEvent`
``recoup_errors_total{category}``           counter    `ErrorEvent`
``recoup_events_dropped_total{sink}``       counter    `stats.dropped` of each sink passed to `watch`
``recoup_events_failed_total{sink}``        counter    `stats.failed` of each sink passed to `watch`
==========================================  =========  ==================================================

``recoup_operations_total`` counts what reaches it as `RecoveryOutcomeEvent`s: from the policy bridge that
is every operation that needed recovery (first-try successes stay off the policies' hot path); the
recovery engine reports ``succeeded`` outcomes too.

The metrics live in a dedicated `CollectorRegistry` unless you pass yours, so they never collide with an
application's own default-registry metrics and two instances can coexist (tests, several apps).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_asgi_app, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from recoup.telemetry.events import (
    BreakerTransitionEvent,
    CheckpointEvent,
    ErrorEvent,
    Outcome,
    RecoveryAttemptEvent,
    RecoveryOutcomeEvent,
    TelemetryEvent,
)
from recoup.telemetry.sinks import SinkStats

#: From a millisecond to ten minutes: in-process retries recover in ms, outages in minutes.
RECOVERY_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
)  # fmt: skip

#: ``recoup_circuit_state`` values; unknown states (forced modes) map to the state they behave like.
CIRCUIT_STATE_VALUES: dict[str, int] = {
    "closed": 0,
    "forced_closed": 0,
    "disabled": 0,
    "metrics_only": 0,
    "half_open": 1,
    "half-open": 1,
    "open": 2,
    "forced_open": 2,
}

NO_CATEGORY = "none"


class _HasStats(Protocol):
    @property
    def stats(self) -> SinkStats: ...


class _SinkStatsCollector(Collector):
    """Reads the watched sinks' counters at scrape time, so the sinks stay free of prometheus-client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sinks: dict[str, _HasStats] = {}

    def watch(self, name: str, sink: _HasStats) -> None:
        with self._lock:
            self._sinks[name] = sink

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            sinks = list(self._sinks.items())
        dropped = CounterMetricFamily(
            "recoup_events_dropped",
            "Telemetry events a sink discarded before sending (queue full, closed).",
            labels=["sink"],
        )
        failed = CounterMetricFamily(
            "recoup_events_failed", "Telemetry events a sink gave up delivering after retries.", labels=["sink"]
        )
        for name, sink in sinks:
            stats = sink.stats
            dropped.add_metric([name], stats.dropped)
            failed.add_metric([name], stats.failed)
        yield dropped
        yield failed


class PrometheusMetrics:
    """A telemetry `Sink` that turns events into Prometheus series (see the module docstring)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.operations = Counter(
            "recoup_operations", "Operations by how they ended.", ["category", "outcome"], registry=r
        )
        self.recovery_seconds = Histogram(
            "recoup_recovery_seconds",
            "Seconds from first failure to success, for recovered operations.",
            buckets=RECOVERY_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "recoup_retries", "Retry attempts scheduled, by error category.", ["category"], registry=r
        )
        self.fallbacks = Counter("recoup_fallbacks", "Operations answered by a fallback (degraded).", registry=r)
        self.circuit_state = Gauge(
            "recoup_circuit_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.", ["breaker"], registry=r
        )
        self.circuit_transitions = Counter(
            "recoup_circuit_transitions", "Circuit breaker state changes.", ["breaker", "to_state"], registry=r
        )
        self.checkpoints = Counter("recoup_checkpoints", "Workflow checkpoints by status.", ["status"], registry=r)
        self.errors = Counter("recoup_errors", "Errors reported, by category.", ["category"], registry=r)
        self._sinks = _SinkStatsCollector()
        r.register(self._sinks)
        self._handlers: dict[type[TelemetryEvent], Callable[[Any], None]] = {
            RecoveryOutcomeEvent: self._outcome,
            RecoveryAttemptEvent: self._attempt,
            BreakerTransitionEvent: self._transition,
            CheckpointEvent: self._checkpoint,
            ErrorEvent: self._error,
        }

    def watch(self, sink: _HasStats, name: str | None = None) -> None:
        """Export `sink.stats` dropped/failed counts as ``recoup_events_*_total{sink=name}``."""
        self._sinks.watch(name or str(getattr(sink, "name", type(sink).__name__)), sink)

    # -- Sink ---------------------------------------------------------------------------------

    def emit(self, event: TelemetryEvent) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        return None

    def _outcome(self, event: RecoveryOutcomeEvent) -> None:
        category = event.category.value if event.category else NO_CATEGORY
        self.operations.labels(category, event.outcome.value).inc()
        if event.outcome is Outcome.RECOVERED and event.time_to_recover is not None:
            self.recovery_seconds.observe(event.time_to_recover)
        if event.outcome is Outcome.DEGRADED:
            self.fallbacks.inc()

    def _attempt(self, event: RecoveryAttemptEvent) -> None:
        self.retries.labels(event.category.value if event.category else NO_CATEGORY).inc()

    def _transition(self, event: BreakerTransitionEvent) -> None:
        value = CIRCUIT_STATE_VALUES.get(event.to_state)
        if value is not None:
            self.circuit_state.labels(event.breaker).set(value)
        self.circuit_transitions.labels(event.breaker, event.to_state).inc()

    def _checkpoint(self, event: CheckpointEvent) -> None:
        self.checkpoints.labels(event.status).inc()

    def _error(self, event: ErrorEvent) -> None:
        self.errors.labels(event.category.value if event.category else NO_CATEGORY).inc()

    # -- exposition ---------------------------------------------------------------------------

    def wsgi_app(self) -> Callable[..., Any]:
        """A WSGI app answering with this registry's exposition, to mount in a WSGI application."""
        return make_wsgi_app(self.registry)

    def asgi_app(self) -> Callable[..., Any]:
        """An ASGI app answering with this registry's exposition (e.g. ``app.mount("/metrics", ...)``)."""
        return make_asgi_app(self.registry)

    def serve(self, port: int = 9464, addr: str = "127.0.0.1") -> MetricsServer:
        """Serve ``/metrics`` for this registry; see `serve_metrics`."""
        return serve_metrics(port, addr, registry=self.registry)


@dataclass(frozen=True, slots=True)
class MetricsServer:
    """A running metrics endpoint: where it listens and how to stop it."""

    addr: str
    port: int
    _server: Any
    _thread: threading.Thread

    @property
    def url(self) -> str:
        host = f"[{self.addr}]" if ":" in self.addr else self.addr
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default: PrometheusMetrics | None = None
_default_lock = threading.Lock()


def default_metrics() -> PrometheusMetrics:
    """The process-wide instance (created on first use) that `serve_metrics` serves when given no registry."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PrometheusMetrics()
        return _default


def serve_metrics(
    port: int = 9464, addr: str = "127.0.0.1", *, registry: CollectorRegistry | None = None
) -> MetricsServer:
    """Serve `registry` (default: `default_metrics()`'s) on ``/metrics`` in a daemon thread.

    Binds loopback by default: exposing metrics beyond the host is a decision to make explicitly
    (``addr="0.0.0.0"``). ``port=0`` picks a free port; the returned `MetricsServer` tells which.
    """
    from prometheus_client import start_http_server

    if registry is None:
        registry = default_metrics().registry
    server, thread = start_http_server(port, addr=addr, registry=registry)
    return MetricsServer(addr, int(server.server_port), server, thread)


def iter_samples(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    """(name, labels, value) for each sample of an exposition text; handy for checks and tests."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, dict(sample.labels), float(sample.value)
