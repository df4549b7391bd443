"""Root-cause ranking: onset against a baseline, propagation (who passes failures on, who keeps them),
breaker order and changes before the onset — on hand-built event streams whose answer is known, through
the store on SQLite and PostgreSQL, and on a fast subset of the real fault-injection benchmark."""

from __future__ import annotations

import random
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recoup.analytics.rootcause import (
    RootCauseCandidate,
    Settings,
    analyze,
    detect_onset,
    rank_causes,
    rank_incident_causes,
)
from recoup.store import Store, new_event_from_telemetry
from recoup.telemetry.events import BreakerTransitionEvent, ErrorEvent, MetricEvent, TelemetryEvent

T0 = 1_800_000_000.0
FAULT = T0 + 3000.0  # every stream: 50 min of healthy baseline, then the fault
DECLARED = FAULT + 240.0


@dataclass(frozen=True)
class Incident:
    services: tuple[str, ...]
    declared_at: float


def err(t: float, service: str, dep: str = "", kind: str = "OSError") -> ErrorEvent:
    tags = {"dependency": dep} if dep else {}
    return ErrorEvent(
        timestamp=t,
        exception_type=kind,
        message="failed",
        service=service,
        fingerprint=f"{service}:{dep}:{kind}",
        tags=tags,
    )


def noise(
    rng: random.Random,
    services: tuple[str, ...] = ("gateway", "api", "payments", "inventory", "search"),
    per_hour: int = 12,
) -> list[TelemetryEvent]:
    """Background errors at a steady rate in every service, before and during the incident."""
    return [
        err(T0 + rng.uniform(0, DECLARED - T0 + 60), s, "", "ValueError") for s in services for _ in range(per_hour)
    ]


def chain(
    root: str, path: list[str], *, root_logs: bool, start: float = FAULT, every: float = 2.0, n: int = 60
) -> list[TelemetryEvent]:
    """The failure at `root` propagates up `path` (callee first): each caller's errors name its callee."""
    events: list[TelemetryEvent] = []
    for i in range(n):
        t = start + i * every
        if root_logs:
            events.append(err(t, root))
        callee = root
        for hop, caller in enumerate(path):
            events.append(err(t + 0.3 * (hop + 1), caller, callee))
            callee = caller
    return events


def top(events: list[TelemetryEvent], services: tuple[str, ...] = ("gateway",)) -> list[tuple[str, str]]:
    return [(c.kind, c.service) for c in analyze(events, declared_at=DECLARED, services=services)]


def test_the_node_where_propagation_stops_ranks_first() -> None:
    rng = random.Random(1)
    events = noise(rng) + chain("payments", ["api", "gateway"], root_logs=True)
    ranked = top(events)
    assert ranked[0] == ("service", "payments")
    assert ("service", "gateway") in ranked[2:]  # the edge only passes failures on


def test_a_dependency_seen_only_through_its_callers_is_ranked() -> None:
    rng = random.Random(2)
    events = noise(rng) + chain("db", ["inventory", "api", "gateway"], root_logs=False)
    events.append(
        BreakerTransitionEvent(timestamp=FAULT + 5, breaker="inventory->db", from_state="closed", to_state="open")
    )
    causes = analyze(events, declared_at=DECLARED, services=("gateway",))
    assert (causes[0].kind, causes[0].service) == ("service", "db")
    assert any("first breaker to open" in e for e in causes[0].evidence)
    assert any("named as the failing dependency by inventory" in e for e in causes[0].evidence)


def test_a_steadily_noisy_service_is_not_blamed_for_its_usual_noise() -> None:
    rng = random.Random(3)
    loud = [err(T0 + i * 20.0, "search", "", "KeyError") for i in range(int((DECLARED - T0) / 20))]
    events = noise(rng) + loud + chain("inventory", ["api", "gateway"], root_logs=True, every=4.0)
    ranked = top(events)
    assert ranked[0] == ("service", "inventory")
    assert ("service", "search") not in ranked


def test_a_change_just_before_the_onset_outranks_the_node_it_broke() -> None:
    rng = random.Random(4)
    events = noise(rng) + chain("inventory", ["api", "gateway"], root_logs=True)
    events.append(
        MetricEvent(timestamp=FAULT - 20, name="deploy", value=1, service="inventory", tags={"version": "v2.3"})
    )
    events.append(
        MetricEvent(timestamp=T0 + 600, name="deploy", value=1, service="payments", tags={"version": "v9"})
    )  # benign, long before, unrelated
    causes = analyze(events, declared_at=DECLARED, services=("gateway",))
    assert (causes[0].kind, causes[0].service, causes[0].detail) == ("change", "inventory", "deploy v2.3")
    assert (causes[1].kind, causes[1].service) == ("service", "inventory")
    assert all(not (c.kind == "change" and c.service == "payments") for c in causes)


def test_a_config_change_that_breaks_the_calls_a_service_makes_is_the_cause() -> None:
    rng = random.Random(5)
    events = noise(rng) + chain("db", ["inventory", "api", "gateway"], root_logs=False)
    events.append(
        MetricEvent(
            timestamp=FAULT - 10,
            name="config_change",
            value=1,
            service="inventory",
            tags={"description": "db.port=5433"},
        )
    )
    ranked = top(events)
    assert ranked[0] == ("change", "inventory") and ranked[1] == ("service", "db")


def test_a_caller_changed_earlier_does_not_take_the_blame_for_its_callee() -> None:
    rng = random.Random(10)
    events = noise(rng) + chain("auth", ["gateway"], root_logs=True)
    events.append(MetricEvent(timestamp=FAULT - 30, name="deploy", value=1, service="gateway", tags={"version": "v1"}))
    events.append(MetricEvent(timestamp=FAULT - 5, name="deploy", value=1, service="auth", tags={"version": "v5"}))
    causes = analyze(events, declared_at=DECLARED, services=("gateway",))
    assert (causes[0].kind, causes[0].service) == ("change", "auth")
    gateway_change = next(c for c in causes if c.kind == "change" and c.service == "gateway")
    assert gateway_change.score < next(c for c in causes if c.kind == "service" and c.service == "auth").score


def test_an_old_change_does_not_outrank_the_failing_node() -> None:
    rng = random.Random(6)
    events = noise(rng) + chain("payments", ["api", "gateway"], root_logs=True)
    events.append(MetricEvent(timestamp=FAULT - 1500, name="deploy", value=1, service="payments"))
    ranked = top(events)
    assert ranked[0] == ("service", "payments")


def test_earlier_onset_breaks_a_tie_between_two_failing_leaves() -> None:
    rng = random.Random(7)
    first = chain("payments", ["api", "gateway"], root_logs=True)
    later = chain("shipping", ["api", "gateway"], root_logs=True, start=FAULT + 90, n=15)
    ranked = top(noise(rng) + first + later)
    assert ranked[0] == ("service", "payments")
    assert ("service", "shipping") in ranked[:3]


def test_a_burst_its_callers_never_saw_does_not_make_a_relay_look_like_the_end() -> None:
    rng = random.Random(11)
    herring = [err(FAULT - 25 + i * 2.0, "inventory", "", "RuntimeError") for i in range(25)]  # a batch job
    events = noise(rng) + herring + chain("db", ["inventory", "api", "gateway"], root_logs=False, n=10, every=6.0)
    causes = analyze(events, declared_at=DECLARED, services=("gateway",))
    assert (causes[0].kind, causes[0].service) == ("service", "db")
    inventory = next(c for c in causes if c.service == "inventory")
    assert any("never seen by its callers" in e for e in inventory.evidence)


def test_a_thin_partial_fault_is_followed_from_the_alerting_service() -> None:
    # too few failures for a burst anywhere, but the alerting gateway's errors keep naming auth
    events = [err(FAULT + i * 45.0, "gateway", "auth", "TimeoutError") for i in range(4)]
    ranked = top(events)
    assert ranked[0] == ("service", "auth") and ranked[1] == ("service", "gateway")


def test_rank_causes_returns_post_mortem_candidates() -> None:
    events = chain("payments", ["api", "gateway"], root_logs=True)
    candidates = rank_causes(events, Incident(("gateway",), DECLARED), limit=2)
    assert len(candidates) == 2 and isinstance(candidates[0], RootCauseCandidate)
    assert candidates[0].name == "payments" and candidates[0].score > candidates[1].score
    assert any("trace to it" in e for e in candidates[0].evidence)
    with pytest.raises(ValueError, match="limit"):
        rank_causes(events, Incident(("gateway",), DECLARED), limit=0)


def test_no_failures_means_no_service_candidates() -> None:
    rng = random.Random(8)
    events = [*noise(rng), MetricEvent(timestamp=DECLARED - 30, name="deploy", value=1, service="api")]
    causes = analyze(events, declared_at=DECLARED, services=())
    assert [(c.kind, c.service) for c in causes] == [("change", "api")] and causes[0].score < 0.3
    # an incident's own service counts as failing from its first error in the window, burst or not
    alerted = analyze(events, declared_at=DECLARED, services=("gateway",))
    assert ("service", "gateway") in [(c.kind, c.service) for c in alerted]


def test_settings_and_onset_detection() -> None:
    with pytest.raises(ValueError, match="burst"):
        Settings(burst=0)
    with pytest.raises(ValueError, match="min_burst"):
        Settings(min_burst=0)
    cfg = Settings(burst=10.0, min_burst=3)
    times = [0.0, 50.0, 100.0, 200.0, 201.0, 202.0, 203.0]
    assert detect_onset(times, start=0, end=300, baseline_rate=0.0, settings=cfg) == 200.0
    # a stray failure just before the burst is not its onset
    assert detect_onset([0.0, 195.0, 200.0, 201.0, 202.0], start=0, end=300, baseline_rate=0.0, settings=cfg) == 200.0
    # a baseline of about one failure a second explains four in ten seconds
    assert detect_onset(times, start=0, end=300, baseline_rate=1.0, settings=cfg) is None


def test_ranks_from_the_store(store: Store) -> None:
    project, _ = store.create_project(f"rc-{uuid.uuid4().hex[:6]}")
    rng = random.Random(9)
    events = noise(rng) + chain("db", ["inventory", "api", "gateway"], root_logs=False)
    events.append(MetricEvent(timestamp=FAULT - 10, name="config_change", value=1, service="inventory"))
    store.ingest_events(project.id, [new_event_from_telemetry(e) for e in events], received_at=datetime.now(UTC))
    candidates = rank_incident_causes(store, Incident(("gateway",), DECLARED), project_id=project.id)
    assert [c.name for c in candidates[:2]] == ["config_change of inventory", "db"]


# -- a fast subset of the real benchmark: live services on loopback, PostgreSQL and Redis through proxies --

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))


@pytest.mark.redis
def test_fault_injection_subset_finds_the_broken_dependency() -> None:
    import rootcause as bench

    cases = [
        ("refuse", "payments"),
        ("http503", "shipping"),
        ("latency", "cache"),
        ("reset", "db"),
        ("bad_deploy", "inventory"),
        ("exhaustion", "auth"),
    ]
    outcomes = [bench.run_scenario(f, t, 11, baseline=1.0, fault_seconds=2.5) for f, t in cases]
    ranks = {(o.fault, o.target): o.rank for o in outcomes}
    assert all(r is not None and r <= 3 for r in ranks.values()), ranks
    assert sum(1 for r in ranks.values() if r == 1) >= 5, ranks
