"""Telemetry events (their wire dicts, as ingest stores them) -> observations of catalogue metrics.

One function, `observe`, used by the in-process evaluator and by the server's Prometheus series, so both
engines count the same things. Unknown event types and metric names give no observation (never an error:
the event itself was already validated and stored)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recoup.incidents.catalogue import RESOURCE_METRICS

#: Exception-type module prefixes of database drivers: their errors count as ``database_errors``.
DATABASE_MODULES = (
    "psycopg", "psycopg2", "asyncpg", "sqlalchemy", "sqlite3", "pymysql", "MySQLdb", "mysql", "aiomysql",
    "aiosqlite", "redis", "pymongo", "motor", "cx_Oracle", "oracledb", "pyodbc",
)


@dataclass(frozen=True, slots=True)
class Observation:
    """``value`` of ``metric`` for the label set ``labels`` at ``at`` (epoch seconds). For counters the value
    is the increment, for gauges the new level, for distributions one observed value, for staleness the
    time the series was seen."""

    metric: str
    value: float
    labels: tuple[tuple[str, str], ...]
    at: float

    @property
    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)


def _labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


def _service(event: Mapping[str, Any]) -> str:
    service = event.get("service")
    if isinstance(service, str) and service:
        return service
    tags = event.get("tags")
    if isinstance(tags, Mapping):
        return str(tags.get("service", ""))
    return ""


def is_database_error(exception_type: str) -> bool:
    module = exception_type.split(".", 1)[0] if "." in exception_type else ""
    return module in DATABASE_MODULES


def observe(event: Mapping[str, Any], *, project: str = "", at: float | None = None) -> list[Observation]:
    """The observations one event makes. ``at`` defaults to the event's own timestamp."""
    kind = str(event.get("type", ""))
    when = float(at if at is not None else event.get("timestamp", 0.0))
    service = _service(event)
    out = [
        Observation("events", 1.0, _labels(kind=kind, service=service, project=project), when),
        Observation("last_seen", when, _labels(service=service, project=project), when),
    ]
    base = {"service": service, "project": project}
    if kind == "error":
        category = str(event.get("category") or "unknown")
        out.append(Observation("errors", 1.0, _labels(category=category, **base), when))
        if category == "auth":
            out.append(Observation("auth_failures", 1.0, _labels(**base), when))
        if is_database_error(str(event.get("exception_type") or "")):
            out.append(Observation("database_errors", 1.0, _labels(**base), when))
    elif kind == "recovery_outcome":
        outcome = str(event.get("outcome", ""))
        out.append(Observation("operations", 1.0, _labels(outcome=outcome, **base), when))
        ttr = event.get("time_to_recover")
        if isinstance(ttr, int | float) and outcome == "recovered":
            out.append(Observation("recovery_time", float(ttr), _labels(**base), when))
        if event.get("rto_met") is False:
            out.append(Observation("rto_breaches", 1.0, _labels(**base), when))
    elif kind == "breaker_transition":
        # Half-open is a breaker probing a dependency that failed: still not trusted, so still open here.
        is_open = 1.0 if event.get("to_state") in ("open", "half_open") else 0.0
        breaker = str(event.get("breaker", ""))
        out.append(Observation("breakers_open", is_open, _labels(breaker=breaker, **base), when))
    elif kind == "metric":
        out.extend(_metric_observations(event, base, when))
    return out


def _metric_observations(event: Mapping[str, Any], base: dict[str, str], when: float) -> list[Observation]:
    name = str(event.get("name", ""))
    try:
        value = float(event.get("value", 0.0))
    except (TypeError, ValueError):
        return []
    resource = RESOURCE_METRICS.get(name)
    if resource is not None:
        return [Observation("resource_usage", value, _labels(resource=resource, **base), when)]
    if name == "response_time":
        return [Observation("response_time", value, _labels(**base), when)]
    if name == "requests":
        tags = event.get("tags")
        status = str(tags.get("status", "")) if isinstance(tags, Mapping) else ""
        # A request is an operation too (the denominator of error_ratio); a 5xx one did not deliver its result,
        # so it counts against recovery_success_ratio like an operation that gave up.
        outcome = "failed" if status.startswith("5") else "succeeded"
        out = [
            Observation("requests", value, _labels(status=status, **base), when),
            Observation("operations", value, _labels(outcome=outcome, **base), when),
        ]
        if status in ("401", "403"):
            out.append(Observation("auth_failures", value, _labels(**base), when))
        if status.startswith("5"):
            out.append(Observation("errors", value, _labels(category="service", **base), when))
        return out
    return []  # heartbeat and other names: the events/last_seen observations above say enough
