"""Each shipped rule fires on a scenario made for it, and all stay quiet on healthy traffic. Events are the real
telemetry classes, turned into observations by `recoup.incidents.signals.observe`, fed to the evaluator."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from recoup.errors.taxonomy import Category
from recoup.incidents.evaluator import Evaluator
from recoup.incidents.model import AlertState, AlertTransition, Severity
from recoup.incidents.rules import default_rules
from recoup.incidents.signals import observe
from recoup.telemetry.events import (
    BreakerTransitionEvent,
    ErrorEvent,
    MetricEvent,
    Outcome,
    RecoveryOutcomeEvent,
    TelemetryEvent,
)

SERVICE = "shop"
T0 = 1_700_000_000.0


class Sim:
    """Default rules on a fake clock, fed with events stamped at the clock's time."""

    def __init__(self) -> None:
        self.t = T0
        self.evaluator = Evaluator(default_rules(), clock=lambda: self.t)
        self.transitions: list[AlertTransition] = []

    def send(self, *events: TelemetryEvent) -> list[AlertTransition]:
        observations = [o for e in events for o in observe(e.to_dict(), project="acme")]
        out = self.evaluator.observe(observations)
        self.transitions += out
        return out

    def run(self, seconds: float, step: float, make: Callable[[float], Iterable[TelemetryEvent]]) -> None:
        """Every ``step`` seconds for ``seconds``: send ``make(elapsed)`` and tick."""
        start = self.t
        while self.t < start + seconds:
            self.send(*make(self.t - start))
            self.transitions += self.evaluator.tick()
            self.t += step

    def fired(self, rule: str) -> list[AlertTransition]:
        return [t for t in self.transitions if t.alert.rule == rule and t.alert.state is AlertState.FIRING]

    def first_fired_at(self, rule: str) -> float:
        fired = self.fired(rule)
        assert fired, f"{rule} did not fire; transitions: {[(t.alert.rule, t.alert.state) for t in self.transitions]}"
        return fired[0].at


def outcome(sim: Sim, result: Outcome = Outcome.SUCCEEDED, **kw: object) -> RecoveryOutcomeEvent:
    return RecoveryOutcomeEvent(operation="checkout", strategy="retry", outcome=result, timestamp=sim.t,
                                tags={"service": SERVICE}, **kw)  # type: ignore[arg-type]


def error(sim: Sim, category: Category = Category.NETWORK, exception_type: str = "ConnectionError") -> ErrorEvent:
    return ErrorEvent(exception_type=exception_type, message="boom", service=SERVICE, category=category,
                      timestamp=sim.t)


def metric(sim: Sim, name: str, value: float, **tags: str) -> MetricEvent:
    return MetricEvent(name=name, value=value, service=SERVICE, timestamp=sim.t, tags=tags)


def breaker(sim: Sim, name: str, to_state: str) -> BreakerTransitionEvent:
    return BreakerTransitionEvent(breaker=name, from_state="closed" if to_state == "open" else "open",
                                  to_state=to_state, timestamp=sim.t, tags={"service": SERVICE})


def healthy(sim: Sim) -> Callable[[float], list[TelemetryEvent]]:
    """Every 10s: five successful operations, 20 requests, a response time, resource levels and a heartbeat;
    every minute a quick recovery and a validation error; every 10 minutes an auth failure and a breaker flap."""

    def make(elapsed: float) -> list[TelemetryEvent]:
        tick = round(elapsed)
        events: list[TelemetryEvent] = [
            *(outcome(sim) for _ in range(5)), metric(sim, "response_time", 0.2), metric(sim, "memory_usage", 0.5),
            metric(sim, "cpu_usage", 0.3), metric(sim, "heartbeat", 1), metric(sim, "requests", 20, status="200"),
        ]
        if tick % 60 == 30:
            events += [outcome(sim, Outcome.RECOVERED, time_to_recover=0.4, rto_met=True),
                       error(sim, Category.VALIDATION, "ValueError")]
        if tick % 600 == 300:
            events += [error(sim, Category.AUTH, "PermissionError"), breaker(sim, "payments", "open")]
        if tick % 600 == 330:
            events.append(breaker(sim, "payments", "closed"))
        return events

    return make


def test_every_default_rule_is_quiet_on_healthy_traffic() -> None:
    sim = Sim()
    sim.run(7 * 3600, 10, healthy(sim))
    assert sim.transitions == []
    group = {"project": "acme", "service": SERVICE}
    assert sim.evaluator.value("HighErrorRate", group) == pytest.approx(5 / 755, abs=0.01)  # judged, under 5%
    assert sim.evaluator.value("ApplicationDown", group) == 10  # seconds since the last event


def test_requests_count_in_the_recovery_slo_by_status() -> None:
    sim = Sim()
    sim.run(3600, 10, lambda _: [outcome(sim), metric(sim, "requests", 5, status="200")])
    assert sim.transitions == []  # successful requests are successful operations
    sim.run(300, 10, lambda _: [outcome(sim), metric(sim, "requests", 5, status="503")])
    assert sim.fired("RecoverySLOBurnFast")  # 5xx requests did not deliver their result


def test_application_down() -> None:
    sim = Sim()
    sim.run(300, 15, lambda _: [metric(sim, "heartbeat", 1)])
    last = sim.t - 15
    sim.run(120, 1, lambda _: [])
    fired = sim.first_fired_at("ApplicationDown")
    assert 60 < fired - last <= 62
    alert = sim.fired("ApplicationDown")[0].alert
    assert alert.severity is Severity.CRITICAL and alert.labels["incident_type"] == "application_down"
    assert alert.labels["service"] == SERVICE and alert.labels["project"] == "acme"
    sim.send(metric(sim, "heartbeat", 1))
    assert sim.transitions[-1].alert.state is AlertState.RESOLVED


def test_high_error_rate_pending_on_the_event_then_firing() -> None:
    sim = Sim()
    sim.run(300, 1, lambda _: [outcome(sim)])
    assert sim.transitions == []
    sim.run(180, 1, lambda e: [outcome(sim)] + ([error(sim)] * 2 if int(e) % 10 == 0 else []))
    pending = [t for t in sim.transitions if t.alert.state is AlertState.PENDING]
    assert pending and pending[0].alert.rule == "HighErrorRate"
    fired = sim.first_fired_at("HighErrorRate")
    assert fired - pending[0].at == pytest.approx(60, abs=1)
    assert "errors per operation" in sim.fired("HighErrorRate")[0].alert.annotations["description"]


def test_memory_exhaustion_needs_five_minutes_above() -> None:
    sim = Sim()
    sim.run(600, 15, lambda _: [metric(sim, "memory_usage", 0.5)])
    start = sim.t
    sim.run(600, 15, lambda _: [metric(sim, "memory_usage", 0.95)])
    fired = sim.first_fired_at("MemoryExhaustion")
    assert 280 <= fired - start <= 300
    assert sim.first_fired_at("HighResourceUsage") == fired  # the warning fires too (routing inhibits it)


def test_database_connectivity_failures() -> None:
    sim = Sim()
    sim.run(40, 10, lambda _: [error(sim, Category.NETWORK, "psycopg.OperationalError")])
    assert sim.fired("DatabaseConnectivityFailures") == []
    sim.send(error(sim, Category.NETWORK, "psycopg.OperationalError"))
    assert sim.first_fired_at("DatabaseConnectivityFailures") == sim.t


def test_circuit_breaker_cascade() -> None:
    sim = Sim()
    sim.send(breaker(sim, "db", "open"), breaker(sim, "cache", "open"))
    assert sim.fired("CircuitBreakerCascade") == []
    out = sim.send(breaker(sim, "search", "open"))
    assert [t.alert.rule for t in out] == ["CircuitBreakerCascade"]
    assert out[0].alert.annotations["summary"] == "3 circuit breakers open at once"
    assert "service" not in out[0].alert.labels  # grouped by project only


def test_rto_breached_keeps_firing_five_minutes() -> None:
    sim = Sim()
    sim.send(outcome(sim, Outcome.RECOVERED, time_to_recover=400.0, rto_met=False))
    assert sim.first_fired_at("RecoveryTimeObjectiveBreached") == T0
    sim.run(900, 10, lambda _: [])
    resolved = [t for t in sim.transitions if t.alert.state is AlertState.RESOLVED]
    assert [t.alert.rule for t in resolved] == ["RecoveryTimeObjectiveBreached"]
    assert resolved[0].at - T0 == pytest.approx(600, abs=10)  # 5m window + 5m keep_firing_for


def test_recovery_slo_burn_fast() -> None:
    sim = Sim()
    sim.run(600, 1, lambda e: [outcome(sim, Outcome.GAVE_UP if int(e) % 30 == 0 else Outcome.SUCCEEDED)])
    assert sim.fired("RecoverySLOBurnFast")
    alert = sim.fired("RecoverySLOBurnFast")[0].alert
    assert alert.value > 14.4 and alert.severity is Severity.CRITICAL


def test_recovery_slo_burn_slow_but_not_fast() -> None:
    sim = Sim()  # half an hour healthy, then 1% failures: 10x budget burn, above 6x (slow), under 14.4x (fast)
    sim.run(1800, 4, lambda _: [outcome(sim), outcome(sim)])
    sim.run(3 * 3600, 4, lambda e: [outcome(sim), outcome(sim, Outcome.GAVE_UP if int(e) % 200 == 100 else
                                                              Outcome.SUCCEEDED)])
    assert sim.fired("RecoverySLOBurnSlow")
    assert sim.fired("RecoverySLOBurnFast") == []


def test_slow_recovery_and_escalation_by_threshold() -> None:
    sim = Sim()
    for _ in range(5):
        sim.send(outcome(sim, Outcome.RECOVERED, time_to_recover=5.0, rto_met=True))
    fired = sim.fired("SlowRecovery")
    assert fired and fired[0].alert.severity is Severity.WARNING
    description = fired[0].alert.annotations["description"]
    assert description.startswith("95% of recoveries over the last 5 minutes took up to 5")
    for _ in range(5):
        sim.send(outcome(sim, Outcome.RECOVERED, time_to_recover=30.0, rto_met=True))
    escalated = [t for t in sim.transitions if t.escalated]
    assert [t.alert.rule for t in escalated] == ["SlowRecovery"]
    assert escalated[0].alert.severity is Severity.CRITICAL


def test_slow_responses_and_escalation_by_persistence() -> None:
    sim = Sim()
    sim.run(2400, 10, lambda _: [metric(sim, "response_time", 3.0)] * 2)
    fired = sim.first_fired_at("SlowResponses")
    escalated = [t for t in sim.transitions if t.escalated and t.alert.rule == "SlowResponses"]
    assert len(escalated) == 1 and escalated[0].at - fired == pytest.approx(1800, abs=10)


def test_high_resource_usage_per_resource() -> None:
    sim = Sim()
    sim.run(400, 15, lambda _: [metric(sim, "cpu_usage", 0.85), metric(sim, "memory_usage", 0.4)])
    fired = sim.fired("HighResourceUsage")
    assert [t.alert.labels["resource"] for t in fired] == ["cpu"]
    assert sim.fired("MemoryExhaustion") == []


def test_auth_failure_spike_against_its_baseline() -> None:
    sim = Sim()
    sim.run(4200, 60, lambda e: [error(sim, Category.AUTH, "PermissionError")] if int(e) % 120 == 0 else [])
    assert sim.fired("AuthFailureSpike") == []
    sim.run(60, 2, lambda _: [metric(sim, "requests", 1, status="401")])
    fired = sim.fired("AuthFailureSpike")
    assert fired and fired[0].alert.value > 5
    assert fired[0].alert.labels["incident_type"] == "security"


def test_request_rate_abnormally_low_by_tick() -> None:
    sim = Sim()
    sim.run(5400, 5, lambda _: [metric(sim, "requests", 5, status="200")])
    assert sim.fired("RequestRateAbnormallyLow") == []
    drop = sim.t
    sim.run(900, 5, lambda e: [metric(sim, "requests", 1, status="200")] if int(e) % 300 == 0 else [])
    fired = sim.first_fired_at("RequestRateAbnormallyLow")
    assert 400 < fired - drop < 600
