"""The metrics alert rules can watch: what each one measures, its labels, the aggregations that make sense
for it, and the Prometheus series recoup exposes for it on ``/metrics``.

One vocabulary serves both engines (ARCHITECTURE.md: "one rule, two engines"): the in-process evaluator
computes a rule from observations (`recoup.incidents.signals`), and the Prometheus exporter writes the same
rule as PromQL over the series named here. Every series carries a ``project`` label besides those listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MetricKind(StrEnum):
    COUNTER = "counter"  # occurrences; a rule reads its rate (per second) or count (increase) in a window
    GAUGE = "gauge"  # a level that holds until the next sample; read last/avg/min/max, summed over series
    DISTRIBUTION = "distribution"  # observed values (seconds); read a quantile, avg or max in a window
    RATIO = "ratio"  # numerator count / denominator count in a window, 0..1
    STALENESS = "staleness"  # seconds since the series was last seen (absence: "application down")


class Aggregation(StrEnum):
    RATE = "rate"  # per second over the window
    COUNT = "count"  # increase over the window
    RATIO = "ratio"
    LAST = "last"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    SUM = "sum"  # gauges: sum over the matching series of their last value (e.g. breakers open)
    P50 = "p50"
    P90 = "p90"
    P95 = "p95"
    P99 = "p99"
    AGE = "age"  # staleness: seconds since last seen

    @property
    def quantile(self) -> float | None:
        return {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}.get(self.value)


_ALLOWED: dict[MetricKind, tuple[Aggregation, ...]] = {
    MetricKind.COUNTER: (Aggregation.RATE, Aggregation.COUNT),
    MetricKind.GAUGE: (Aggregation.LAST, Aggregation.AVG, Aggregation.MIN, Aggregation.MAX, Aggregation.SUM),
    MetricKind.DISTRIBUTION: (
        Aggregation.P50, Aggregation.P90, Aggregation.P95, Aggregation.P99, Aggregation.AVG, Aggregation.MAX,
    ),
    MetricKind.RATIO: (Aggregation.RATIO,),
    MetricKind.STALENESS: (Aggregation.AGE,),
}


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One watchable metric. For RATIO metrics, ``numerator``/``denominator`` name COUNTER metrics and
    ``numerator_match`` adds label equality the numerator needs (e.g. outcome in the successful ones)."""

    name: str
    kind: MetricKind
    description: str
    labels: tuple[str, ...]
    series: str  # the Prometheus series recoup exposes (counters without the _total suffix in the name here)
    unit: str = ""
    numerator: str | None = None
    denominator: str | None = None
    numerator_match: tuple[tuple[str, tuple[str, ...]], ...] = ()  # label -> allowed values

    @property
    def aggregations(self) -> tuple[Aggregation, ...]:
        return _ALLOWED[self.kind]

    @property
    def default_aggregation(self) -> Aggregation:
        return self.aggregations[0]


#: Outcomes counted as success by ``recovery_success_ratio``: the operation delivered its result.
SUCCESS_OUTCOMES = ("succeeded", "recovered", "degraded")

#: Metric event names (`recoup.telemetry.events.MetricEvent`) that are resource-use ratios, and the
#: ``resource`` label each gets.
RESOURCE_METRICS = {
    "memory_usage": "memory",
    "cpu_usage": "cpu",
    "disk_usage": "disk",
    "fd_usage": "fds",
    "db_pool_usage": "db_pool",
}

_SPECS = (
    MetricSpec("events", MetricKind.COUNTER, "Every event received (the ingest rate).", ("kind", "service"),
               "recoup_events"),
    MetricSpec("errors", MetricKind.COUNTER, "Error events, by recoup category.", ("category", "service"),
               "recoup_errors"),
    MetricSpec("operations", MetricKind.COUNTER,
               "Finished operations: recovery outcomes, and requests (succeeded, or failed for 5xx).",
               ("outcome", "service"), "recoup_operations"),
    MetricSpec("error_ratio", MetricKind.RATIO, "Errors per finished operation.", ("service",),
               "recoup_errors", numerator="errors", denominator="operations"),
    MetricSpec("recovery_success_ratio", MetricKind.RATIO,
               "Share of finished operations that delivered a result (succeeded, recovered or degraded).",
               ("service",), "recoup_operations", numerator="operations", denominator="operations",
               numerator_match=(("outcome", SUCCESS_OUTCOMES),)),
    MetricSpec("recovery_time", MetricKind.DISTRIBUTION, "Seconds from first failure to recovery.", ("service",),
               "recoup_recovery_seconds", unit="s"),
    MetricSpec("response_time", MetricKind.DISTRIBUTION, "Response time the application reports.", ("service",),
               "recoup_response_seconds", unit="s"),
    MetricSpec("requests", MetricKind.COUNTER, "Requests the application reports, by status.", ("service", "status"),
               "recoup_requests"),
    MetricSpec("auth_failures", MetricKind.COUNTER,
               "Authentication and authorisation failures: auth-category errors and 401/403 responses.",
               ("service",), "recoup_auth_failures"),
    MetricSpec("database_errors", MetricKind.COUNTER,
               "Errors raised by database drivers (connection refused, pool exhausted, ...).", ("service",),
               "recoup_app_database_errors"),
    MetricSpec("rto_breaches", MetricKind.COUNTER, "Recoveries that took longer than their RTO.", ("service",),
               "recoup_rto_breaches"),
    MetricSpec("breakers_open", MetricKind.GAUGE, "1 while a circuit breaker is open or half-open, else 0.",
               ("breaker", "service"), "recoup_breaker_open"),
    MetricSpec("resource_usage", MetricKind.GAUGE, "Resource use as a ratio of its limit (0..1).",
               ("resource", "service"), "recoup_resource_usage_ratio"),
    MetricSpec("last_seen", MetricKind.STALENESS, "Seconds since the service last sent anything.", ("service",),
               "recoup_last_seen_timestamp_seconds", unit="s"),
)

CATALOGUE: dict[str, MetricSpec] = {spec.name: spec for spec in _SPECS}


def metric(name: str) -> MetricSpec:
    """The spec of ``name``; KeyError listing the known names otherwise."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(sorted(CATALOGUE))}") from None
