"""The catalogue series on /metrics: real events posted to a real recoup server (whose create_app feeds
`SignalMetrics` from the ingest pipeline), scraped back from /metrics and read with prometheus_client's
own parser."""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from server_support import LiveServer

from recoup.errors.taxonomy import Category
from recoup.incidents.catalogue import CATALOGUE, MetricKind
from recoup.incidents.signals import Observation
from recoup.server.signal_metrics import SECONDS_BUCKETS, ProjectNames, SignalMetrics
from recoup.telemetry.events import (
    BreakerTransitionEvent,
    ErrorEvent,
    MetricEvent,
    Outcome,
    RecoveryOutcomeEvent,
    TelemetryEvent,
)


def _post(server: LiveServer, events: list[TelemetryEvent]) -> None:
    answer = httpx.post(f"{server.url}/api/v1/events", json={"events": [e.to_dict() for e in events]},
                        headers=server.ingest_headers, timeout=10)
    assert answer.status_code in (200, 202), answer.text


def _scrape(server: LiveServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample on /metrics: (name, sorted labels) -> value."""
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _at(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_events_become_catalogue_series(server: LiveServer) -> None:
    project = str(server.project.id)  # create_app labels series with the project id, as the evaluator does
    svc = {"project": project, "service": "checkout"}
    events: list[TelemetryEvent] = [
        ErrorEvent(exception_type="psycopg.OperationalError", message="refused", service="checkout",
                   category=None, timestamp=1000.0),
        ErrorEvent(exception_type="PermissionError", message="no", service="checkout", category=Category.AUTH,
                   timestamp=1001.0),
        RecoveryOutcomeEvent(operation="pay", strategy="retry", outcome=Outcome.RECOVERED, time_to_recover=3.0,
                             rto_met=False, tags={"service": "checkout"}, timestamp=1002.0),
        RecoveryOutcomeEvent(operation="pay", strategy="retry", outcome=Outcome.GAVE_UP,
                             tags={"service": "checkout"}, timestamp=1003.0),
        BreakerTransitionEvent(breaker="db", from_state="closed", to_state="open", tags={"service": "checkout"},
                               timestamp=1004.0),
        MetricEvent(name="memory_usage", value=0.93, service="checkout", timestamp=1005.0),
        MetricEvent(name="response_time", value=0.2, service="checkout", timestamp=1006.0),
        MetricEvent(name="requests", value=7, service="checkout", tags={"status": "503"}, timestamp=1007.0),
    ]
    _post(server, events)
    # an older event arriving late does not move last_seen back
    _post(server, [MetricEvent(name="heartbeat", value=1, service="checkout", timestamp=900.0)])
    samples = _scrape(server)

    assert _at(samples, "recoup_events_total", kind="error", **svc) == 2
    assert _at(samples, "recoup_events_total", kind="metric", **svc) == 4
    assert _at(samples, "recoup_errors_total", category="unknown", **svc) == 1
    assert _at(samples, "recoup_errors_total", category="auth", **svc) == 1
    assert _at(samples, "recoup_errors_total", category="service", **svc) == 7  # 5xx requests count as errors
    assert _at(samples, "recoup_auth_failures_total", **svc) == 1
    assert _at(samples, "recoup_app_database_errors_total", **svc) == 1
    assert _at(samples, "recoup_operations_total", outcome="recovered", **svc) == 1
    assert _at(samples, "recoup_operations_total", outcome="gave_up", **svc) == 1
    assert _at(samples, "recoup_operations_total", outcome="failed", **svc) == 7  # the 503 requests
    assert _at(samples, "recoup_requests_total", status="503", **svc) == 7
    assert _at(samples, "recoup_rto_breaches_total", **svc) == 1
    assert _at(samples, "recoup_breaker_open", breaker="db", **svc) == 1
    assert _at(samples, "recoup_resource_usage_ratio", resource="memory", **svc) == 0.93
    assert _at(samples, "recoup_last_seen_timestamp_seconds", **svc) == 1007.0
    assert _at(samples, "recoup_recovery_seconds_count", **svc) == 1
    assert _at(samples, "recoup_recovery_seconds_sum", **svc) == 3.0
    assert _at(samples, "recoup_recovery_seconds_bucket", le="2.5", **svc) == 0
    assert _at(samples, "recoup_recovery_seconds_bucket", le="5.0", **svc) == 1
    assert _at(samples, "recoup_response_seconds_bucket", le="0.25", **svc) == 1
    # the service's own metrics are still there, on the same registry
    assert any(name == "recoup_ingest_events_total" for name, _ in samples)

    # a breaker closing sets its gauge back to 0
    _post(server, [BreakerTransitionEvent(breaker="db", from_state="open", to_state="closed",
                                                  tags={"service": "checkout"}, timestamp=1010.0)])
    assert _at(_scrape(server), "recoup_breaker_open", breaker="db", **svc) == 0


def test_every_non_ratio_catalogue_metric_has_a_series() -> None:
    registry = CollectorRegistry()
    SignalMetrics(registry)
    names = {metric.name for metric in registry.collect()}
    for spec in CATALOGUE.values():
        if spec.kind is MetricKind.RATIO:
            assert spec.series not in names or spec.numerator is not None
            continue
        assert spec.series in names, spec.name


def test_observe_directly_and_bad_increments_are_refused() -> None:
    registry = CollectorRegistry()
    metrics = SignalMetrics(registry)
    labels = (("category", "network"), ("project", "p"), ("service", "s"))
    metrics.observe([
        Observation("errors", 1.0, labels, 1.0),
        Observation("errors", -5.0, labels, 2.0),  # a counter never goes back
        Observation("error_ratio", 0.5, (("project", "p"), ("service", "s")), 3.0),  # ratios have no series
        Observation("recovery_time", 9999.0, (("project", "p"), ("service", "s")), 4.0),
    ])
    assert registry.get_sample_value("recoup_errors_total", dict(labels)) == 1.0
    top = {"project": "p", "service": "s", "le": "+Inf"}
    assert registry.get_sample_value("recoup_recovery_seconds_bucket", top) == 1.0
    assert registry.get_sample_value("recoup_recovery_seconds_bucket", {**top, "le": str(SECONDS_BUCKETS[-1])}) == 0


def test_project_names_are_cached_and_a_failed_lookup_falls_back_to_the_id() -> None:
    calls: list[int] = []

    def lookup(project_id: int) -> str | None:
        calls.append(project_id)
        if project_id == 3:
            raise RuntimeError("database down")
        return {1: "shop"}.get(project_id)

    names = ProjectNames(lookup)
    assert names(1) == "shop" and names(1) == "shop"
    assert names(2) == "2"  # unknown project: its id
    assert names(3) == "3" and names(3) == "3"  # failing lookup: retried next time, not cached
    assert calls == [1, 2, 3, 3]
