"""Correlation of error-rate series: co-occurrence and lagged correlation find the services and groups that
fail together, with the lag pointing from cause to effect, and noise that merely overlaps ranks lower."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest

from recoup.analytics.correlation import (
    bucket_counts,
    cooccurrence,
    lagged_correlation,
    pearson,
    related,
    related_in_store,
    related_to_incident,
)
from recoup.analytics.topology import dependency_edges, observations, stored_events
from recoup.store import Store, new_event_from_telemetry
from recoup.telemetry.events import BreakerTransitionEvent, ErrorEvent, MetricEvent, TelemetryEvent

T0 = 1_800_000_000.0


def err(t: float, service: str, dep: str = "", fp: str | None = None) -> ErrorEvent:
    tags = {"dependency": dep} if dep else {}
    return ErrorEvent(
        timestamp=t,
        exception_type="OSError",
        message="boom",
        service=service,
        fingerprint=fp or f"{service}-{dep}",
        tags=tags,
    )


def bursts(seed: int = 7) -> list[TelemetryEvent]:
    """db fails in three bursts; inventory's errors follow 60 s later; search is random noise throughout."""
    rng = random.Random(seed)
    events: list[TelemetryEvent] = []
    for start in (600.0, 1800.0, 3000.0):
        for i in range(20):
            t = T0 + start + i * 10
            events.append(err(t, "db"))
            events.append(err(t + 60 + rng.uniform(0, 5), "inventory", "db"))
    events += [err(T0 + rng.uniform(0, 3600), "search") for _ in range(15)]
    return events


def test_related_ranks_the_co_failing_service_first_with_the_lag_from_cause_to_effect() -> None:
    found = related("service:db", bursts(), bucket=60.0, start=T0, end=T0 + 3600)
    names = [r.name for r in found]
    assert names[0] in ("service:inventory", "dependency:db", "group:inventory-db")
    inventory = next(r for r in found if r.name == "service:inventory")
    assert inventory.lag == 60.0  # inventory rises one bucket after db: an effect
    assert inventory.correlation > 0.8 and inventory.cooccurrence == 1.0
    noise = [r for r in found if r.name == "service:search"]
    assert not noise or noise[0].score < inventory.score / 2
    back = related("inventory", bursts(), bucket=60.0, start=T0, end=T0 + 3600)
    assert next(r for r in back if r.name == "service:db").lag == -60.0  # db rose first: a cause


def test_related_to_an_incident_lists_what_fails_with_its_services_but_not_them() -> None:
    found = related_to_incident(bursts(), ["inventory"], start=T0, end=T0 + 3600, bucket=60.0)
    names = [r.name for r in found]
    assert names[0] in ("service:db", "group:db-")
    assert "service:inventory" not in names and "group:inventory-db" not in names
    assert related_to_incident(bursts(), ["unknown"], start=T0, end=T0 + 3600) == []


def test_unknown_target_and_bad_bucket_are_named() -> None:
    with pytest.raises(KeyError, match="target"):
        related("service:nope", bursts(), bucket=60.0)
    with pytest.raises(ValueError, match="bucket"):
        related("service:db", bursts(), bucket=0)
    with pytest.raises(TypeError, match="events"):
        related("service:db", [object()], bucket=60.0)


def test_series_arithmetic() -> None:
    assert pearson([1, 2, 3, 4], [2, 4, 6, 8]) == pytest.approx(1.0)
    assert pearson([1, 1, 1], [1, 2, 3]) == 0.0
    r, lag = lagged_correlation([0, 5, 0, 0, 5, 0, 0], [0, 0, 5, 0, 0, 5, 0], 2)
    assert lag == 1 and r == pytest.approx(1.0)
    assert cooccurrence([1, 0, 0, 1], [0, 1, 0, 0], 1) == pytest.approx((0.5 + 1.0) / 2)
    counts = bucket_counts(observations([err(T0, "a"), err(T0 + 5, "a"), err(T0 + 12, "b", "a")]), bucket=10)
    assert counts["service:a"] == [2, 0] and counts["dependency:a"] == [0, 1] and counts["service:b"] == [0, 1]


def test_observations_read_breakers_changes_and_wire_dicts() -> None:
    events: list[object] = [
        BreakerTransitionEvent(timestamp=T0, breaker="api->payments", from_state="closed", to_state="open"),
        BreakerTransitionEvent(timestamp=T0 + 1, breaker="cache", from_state="closed", to_state="open"),
        MetricEvent(timestamp=T0 + 2, name="deploy", value=1, service="api", tags={"version": "v2"}),
        err(T0 + 3, "api", "payments").to_dict(),
        MetricEvent(timestamp=T0 + 4, name="cpu_usage", value=0.5, service="api"),
    ]
    obs = observations(events)
    assert [(o.kind.value, o.service, o.dependency) for o in obs] == [
        ("breaker_open", "api", "payments"),
        ("breaker_open", "cache", "cache"),
        ("change", "api", ""),
        ("error", "api", "payments"),
    ]
    assert obs[2].detail == "deploy v2"
    assert dependency_edges(obs) == {("api", "payments"): 2}


def test_related_reads_events_back_from_the_store(store: Store) -> None:
    project, _ = store.create_project(f"corr-{uuid.uuid4().hex[:6]}")
    events = bursts()
    store.ingest_events(project.id, [new_event_from_telemetry(e) for e in events], received_at=datetime.now(UTC))
    rows = stored_events(store, project.id, T0, T0 + 3600)
    assert len(rows) == len(events)
    found = related("service:db", rows, bucket=60.0, start=T0, end=T0 + 3600)
    assert next(r for r in found if r.name == "service:inventory").lag == 60.0
    via_store = related_in_store(store, "group:inventory-db", start=T0, end=T0 + 3600, project_id=project.id)
    assert via_store[0].name in ("service:db", "group:db-") and via_store[0].lag == -60.0
    assert all(r.name != "service:inventory" for r in via_store)  # the group's own service is not "related"
    assert stored_events(store, project.id, T0 + 7200, T0 + 9000) == []
    with pytest.raises(ValueError, match="end"):
        stored_events(store, project.id, T0 + 10, T0)


def test_a_shifted_lag_must_clearly_beat_moving_together() -> None:
    """Two bursts that rise in the same buckets: lag 1 correlates 0.841, lag 0 0.806 — within the margin, so
    they are reported as moving together, not as one leading the other."""
    from recoup.analytics.correlation import LAG_MARGIN, lagged_correlation

    x = [0, 0, 0, 0, 7, 5, 8, 4, 0, 0, 0, 0]
    y = [0, 0, 0, 2, 2, 7, 9, 8, 0, 0, 0, 0]
    r, lag = lagged_correlation(x, y, 2)
    assert lag == 0 and abs(r - 0.806) < 1e-3
    assert LAG_MARGIN == 0.05
    shifted = [0, 0, 0, 0, 0, 7, 5, 8, 4, 0, 0, 0]  # y really is x one bucket later: the lag wins by far
    assert lagged_correlation(x, shifted, 2)[1] == 1
