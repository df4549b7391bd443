"""Prometheus metrics: feed real events, scrape the real endpoint over HTTP, parse the exposition."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from recoup.errors.taxonomy import Category
from recoup.policies.retry import Retry
from recoup.telemetry.bridge import bridge_policy_events
from recoup.telemetry.events import (
    BreakerTransitionEvent,
    CheckpointEvent,
    ErrorEvent,
    Outcome,
    RecoveryAttemptEvent,
    RecoveryOutcomeEvent,
)
from recoup.telemetry.prometheus import MetricsServer, PrometheusMetrics, iter_samples, serve_metrics
from recoup.telemetry.sinks import EventBus, JsonLinesSink
from recoup.testing import FakeClock


@pytest.fixture
def metrics() -> PrometheusMetrics:
    return PrometheusMetrics()


@pytest.fixture
def endpoint(metrics: PrometheusMetrics) -> Iterator[MetricsServer]:
    with serve_metrics(0, registry=metrics.registry) as server:
        yield server


def scrape(server: MetricsServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(server.url, timeout=5) as response:
        assert response.status == 200
        text = response.read().decode()
    return {(name, tuple(sorted(labels.items()))): value for name, labels, value in iter_samples(text)}


def test_scraped_values_follow_the_events(metrics: PrometheusMetrics, endpoint: MetricsServer) -> None:
    assert endpoint.addr == "127.0.0.1"
    bus = EventBus()
    bus.subscribe(metrics)
    for ttr in (0.004, 2.0):
        bus.emit(
            RecoveryOutcomeEvent(
                operation="op",
                strategy="retry",
                outcome=Outcome.RECOVERED,
                category=Category.NETWORK,
                time_to_recover=ttr,
            )
        )
    bus.emit(RecoveryOutcomeEvent(operation="op", strategy="retry", outcome=Outcome.GAVE_UP))
    bus.emit(RecoveryOutcomeEvent(operation="op", strategy="fallback", outcome=Outcome.DEGRADED))
    bus.emit(RecoveryAttemptEvent(operation="op", strategy="retry", attempt=2, category=Category.SERVICE))
    bus.emit(BreakerTransitionEvent(breaker="db", from_state="closed", to_state="open"))
    bus.emit(BreakerTransitionEvent(breaker="cache", from_state="closed", to_state="open"))
    bus.emit(BreakerTransitionEvent(breaker="cache", from_state="open", to_state="half_open"))
    bus.emit(CheckpointEvent(workflow="w", run_id="r", step="s", status="saved"))
    bus.emit(ErrorEvent(exception_type="OSError", message="disk", category=Category.FILESYSTEM))

    values = scrape(endpoint)
    assert values[("recoup_operations_total", (("category", "network"), ("outcome", "recovered")))] == 2
    assert values[("recoup_operations_total", (("category", "none"), ("outcome", "gave_up")))] == 1
    assert values[("recoup_recovery_seconds_count", ())] == 2
    assert values[("recoup_recovery_seconds_sum", ())] == pytest.approx(2.004)
    assert values[("recoup_recovery_seconds_bucket", (("le", "0.005"),))] == 1
    assert values[("recoup_recovery_seconds_bucket", (("le", "+Inf"),))] == 2
    assert values[("recoup_fallbacks_total", ())] == 1
    assert values[("recoup_retries_total", (("category", "service"),))] == 1
    assert values[("recoup_circuit_state", (("breaker", "db"),))] == 2
    assert values[("recoup_circuit_state", (("breaker", "cache"),))] == 1
    assert values[("recoup_circuit_transitions_total", (("breaker", "cache"), ("to_state", "open")))] == 1
    assert values[("recoup_checkpoints_total", (("status", "saved"),))] == 1
    assert values[("recoup_errors_total", (("category", "filesystem"),))] == 1


def test_real_retry_feeds_metrics_through_the_policy_bridge(
    metrics: PrometheusMetrics, endpoint: MetricsServer
) -> None:
    bus = EventBus()
    bus.subscribe(metrics)
    stop = bridge_policy_events(bus)
    calls = 0

    def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("refused")
        return calls

    try:
        Retry(attempts=5, clock=FakeClock(), name="fetch").call(flaky)
    finally:
        stop()
    values = scrape(endpoint)
    assert values[("recoup_retries_total", (("category", "none"),))] == 2
    assert values[("recoup_operations_total", (("category", "none"), ("outcome", "recovered")))] == 1
    assert values[("recoup_recovery_seconds_count", ())] == 1


def test_sink_drops_are_exported(metrics: PrometheusMetrics, endpoint: MetricsServer, tmp_path: Path) -> None:
    sink = JsonLinesSink(tmp_path / "e.jsonl")
    metrics.watch(sink, name="file")
    sink.close()
    for _ in range(3):
        sink.emit(CheckpointEvent(workflow="w", run_id="r", step="s", status="saved"))
    values = scrape(endpoint)
    assert values[("recoup_events_dropped_total", (("sink", "file"),))] == 3
    assert values[("recoup_events_failed_total", (("sink", "file"),))] == 0


def test_registries_are_separate(metrics: PrometheusMetrics) -> None:
    other = PrometheusMetrics()
    metrics.emit(CheckpointEvent(workflow="w", run_id="r", step="s", status="saved"))
    assert metrics.registry.get_sample_value("recoup_checkpoints_total", {"status": "saved"}) == 1
    assert other.registry.get_sample_value("recoup_checkpoints_total", {"status": "saved"}) is None


def test_wsgi_app_serves_the_same_exposition(metrics: PrometheusMetrics) -> None:
    metrics.emit(RecoveryOutcomeEvent(operation="op", strategy="fallback", outcome=Outcome.DEGRADED))
    environ: dict[str, object] = {"PATH_INFO": "/metrics", "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    statuses: list[str] = []
    body = b"".join(metrics.wsgi_app()(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"]
    values = {name: value for name, _, value in iter_samples(body.decode())}
    assert values["recoup_fallbacks_total"] == 1


def test_asgi_app_serves_the_same_exposition(metrics: PrometheusMetrics) -> None:
    metrics.emit(CheckpointEvent(workflow="w", run_id="r", step="s", status="failed"))
    app = metrics.asgi_app()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/metrics", "query_string": b"", "headers": []}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    body = b"".join(m.get("body", b"") for m in sent[1:]).decode()
    assert ("recoup_checkpoints_total", {"status": "failed"}, 1.0) in list(iter_samples(body))


def test_importing_telemetry_does_not_import_prometheus_client() -> None:
    code = (
        "import sys, json, recoup.telemetry, recoup.telemetry.sinks, recoup.telemetry.http_sink; "
        "print(json.dumps('prometheus_client' in sys.modules or 'opentelemetry' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert json.loads(out) is False
