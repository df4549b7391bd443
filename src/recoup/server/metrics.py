"""The service's own Prometheus metrics, on a registry of its own so several apps (tests, assess) can
live in one process without colliding in the global registry."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServerMetrics:
    """Ingest rate (events_total by source and outcome), request latency, queue depth, dropped events,
    database errors. ``depth`` is read at scrape time from the pipeline."""

    def __init__(self, depth: Callable[[], float] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter(
            "recoup_ingest_events",
            "Events received, by source (native, sentry, alertmanager) and outcome "
            "(stored, duplicate, spooled, rejected).",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.requests = Counter(
            "recoup_ingest_requests", "Ingest requests by source and HTTP status.", ["source", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "recoup_ingest_request_seconds",
            "Time from request start to durable answer, by source.",
            ["source"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.commit_batch = Histogram(
            "recoup_ingest_commit_events",
            "Events per group-commit transaction.",
            buckets=(1, 5, 25, 100, 250, 1000, 2500, 10000),
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "recoup_ingest_queue_depth", "Events accepted but not yet in the database (queued or spooled).",
            registry=self.registry,
        )
        if depth is not None:
            self.queue_depth.set_function(depth)
        self.dropped = Counter(
            "recoup_ingest_dropped_events",
            "Events refused after being read (rate limit, too large, invalid), by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.db_errors = Counter(
            "recoup_database_errors", "Database operations that failed, by operation.", ["operation"],
            registry=self.registry,
        )
        self.spool_replayed = Counter(
            "recoup_spool_replayed_events", "Spooled events replayed into the database.", registry=self.registry
        )
        self.pruned = Counter(
            "recoup_retention_pruned_events", "Events removed by retention.", registry=self.registry
        )

    def bind_depth(self, depth: Callable[[], float]) -> None:
        self.queue_depth.set_function(depth)
