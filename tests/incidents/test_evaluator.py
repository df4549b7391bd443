"""The evaluator: Prometheus's alert lifecycle on a fake clock, each aggregation, ratios with min_count,
baselines, burn rates, escalation, acknowledgement, staleness and window expiry through tick."""

from __future__ import annotations

from typing import Any

import pytest

from recoup.incidents.evaluator import Evaluator, format_value, render
from recoup.incidents.model import AlertState, AlertTransition, Severity, labels_fingerprint
from recoup.incidents.rules import parse_rules
from recoup.incidents.signals import Observation


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make(*rules: dict[str, Any], t: float = 0.0) -> tuple[Evaluator, Clock]:
    clock = Clock(t)
    return Evaluator(parse_rules({"rules": list(rules)}), clock=clock), clock


def ob(metric: str, value: float, at: float, **labels: str) -> Observation:
    labels.setdefault("project", "p")
    labels.setdefault("service", "api")
    return Observation(metric, value, tuple(sorted(labels.items())), at)


def errors(clock: Clock, n: int, **labels: str) -> list[Observation]:
    labels.setdefault("category", "network")
    return [ob("errors", 1.0, clock.t, **labels) for _ in range(n)]


def states(transitions: list[AlertTransition]) -> list[tuple[str, str]]:
    return [(t.previous.value, t.alert.state.value) for t in transitions]


RULE: dict[str, Any] = {
    "name": "ManyErrors", "metric": "errors", "aggregation": "count", "window": "60s", "op": ">", "threshold": 2,
    "for": "30s", "keep_firing_for": "20s", "labels": {"team": "core"},
    "annotations": {"summary": "{{ $labels.service }} errors: {{ $value }}", "who": "{{ $labels.nope }}|"},
}


def test_full_lifecycle_pending_firing_resolved_and_new_episode() -> None:
    ev, clock = make(RULE)
    assert ev.observe(errors(clock, 2)) == []  # 2 is not > 2
    pending = ev.observe(errors(clock, 1))
    assert states(pending) == [("inactive", "pending")]
    alert = pending[0].alert
    assert alert.active_at == 0 and alert.fired_at is None and alert.value == 3
    assert dict(alert.labels) == {"project": "p", "service": "api", "team": "core", "alertname": "ManyErrors",
                                  "severity": "warning"}
    assert alert.fingerprint == labels_fingerprint({k: v for k, v in alert.labels.items() if k != "severity"})
    assert alert.annotations == {"summary": "api errors: 3", "who": "|"}
    clock.t = 29
    assert ev.tick() == []
    clock.t = 30
    firing = ev.tick()
    assert states(firing) == [("pending", "firing")]
    assert firing[0].alert.fired_at == 30 and firing[0].alert.fingerprint == alert.fingerprint
    assert [a.state for a in ev.alerts()] == [AlertState.FIRING]
    clock.t = 61  # the errors of t=0 left the 60s window: condition false, keep_firing_for starts
    assert ev.tick() == []
    assert ev.alerts()[0].state is AlertState.FIRING
    clock.t = 80
    assert ev.tick() == []
    clock.t = 81
    resolved = ev.tick()
    assert states(resolved) == [("firing", "resolved")]
    assert resolved[0].alert.resolved_at == 81
    assert ev.alerts() == []
    assert ev.alert(alert.fingerprint) is not None  # readable for a while after resolving
    again = ev.observe(errors(clock, 3))
    assert states(again) == [("resolved", "pending")]
    assert again[0].alert.active_at == 81 and again[0].alert.fingerprint == alert.fingerprint


def test_pending_goes_inactive_when_condition_stops_before_for() -> None:
    ev, clock = make({**RULE, "for": "5m"})
    assert ev.observe(errors(clock, 3)) == []  # a rule with a long `for` waits for the tick (EAGER_FOR_LIMIT)
    assert states(ev.tick()) == [("inactive", "pending")]
    clock.t = 59
    assert ev.tick() == []
    clock.t = 60  # the errors left the window (to a bucket: 1s) before `for` elapsed
    out = ev.tick()
    assert states(out) == [("pending", "inactive")]
    assert out[0].alert.fired_at is None
    assert ev.alerts() == []
    assert ev.alert(out[0].alert.fingerprint) is None


def test_for_zero_fires_on_the_event_that_crosses() -> None:
    ev, clock = make({**RULE, "for": 0, "keep_firing_for": 0})
    seen = []
    for i in range(5):
        clock.t = float(i)
        out = ev.observe(errors(clock, 1))
        if out:
            seen.append((i, states(out)))
    assert seen == [(2, [("inactive", "firing")])]  # the third error, not a later tick


def test_keep_firing_for_absorbs_a_flap() -> None:
    ev, clock = make({**RULE, "for": 0})
    ev.observe(errors(clock, 3))
    clock.t = 61
    assert ev.tick() == []  # false, but keep_firing_for is 20s
    clock.t = 70
    assert ev.observe(errors(clock, 3)) == []  # holds again: still the same firing alert
    clock.t = 131
    assert ev.tick() == []
    clock.t = 151
    assert states(ev.tick()) == [("firing", "resolved")]


def test_observe_reevaluates_only_touched_label_sets_and_tick_the_rest() -> None:
    ev, clock = make({**RULE, "for": 0, "keep_firing_for": 0}, {
        "name": "Ops", "metric": "operations", "aggregation": "count", "window": "60s", "op": ">", "threshold": 0,
    })
    assert states(ev.observe(errors(clock, 3, service="a"))) == [("inactive", "firing")]
    clock.t = 100  # a's errors left the window, but nothing has told the evaluator yet
    out = ev.observe(errors(clock, 3, service="b"))
    assert [(t.alert.labels["service"], t.alert.state.value) for t in out] == [("b", "firing")]
    out = ev.tick()
    assert [(t.alert.labels["service"], t.alert.state.value) for t in out] == [("a", "resolved")]
    out = ev.observe([ob("operations", 1.0, clock.t, outcome="succeeded")])
    assert [t.alert.rule for t in out] == ["Ops"]


def test_counter_rate_and_count() -> None:
    ev, clock = make({"name": "R", "metric": "errors", "aggregation": "rate", "window": "1m", "threshold": 0.5})
    ev.observe(errors(clock, 30))
    assert ev.value("R", {"project": "p", "service": "api"}) == pytest.approx(0.5)
    assert ev.alerts() == []  # 0.5 is not > 0.5
    assert states(ev.observe(errors(clock, 1))) == [("inactive", "firing")]
    assert ev.value("R", {"project": "p", "service": "nope"}) is None
    with pytest.raises(KeyError, match="unknown rule 'X'"):
        ev.value("X", {})


def test_counter_min_count() -> None:
    ev, clock = make({"name": "R", "metric": "errors", "aggregation": "count", "window": "1m", "threshold": 0,
                      "min_count": 3})
    assert ev.observe(errors(clock, 2)) == []
    assert len(ev.observe(errors(clock, 1))) == 1


def test_ratio_with_matchers_and_min_count() -> None:
    ev, clock = make({"name": "ER", "metric": "error_ratio", "window": "5m", "threshold": 0.1, "min_count": 10,
                      "match": ['service="api"']})
    ops = [ob("operations", 1.0, 0.0, outcome="succeeded") for _ in range(9)]
    assert ev.observe(ops + errors(clock, 5)) == []  # 5/9 but only 9 operations: cannot judge yet
    assert ev.value("ER", {"project": "p", "service": "api"}) == pytest.approx(5 / 9)
    out = ev.observe([ob("operations", 1.0, 0.0, outcome="recovered")])
    assert states(out) == [("inactive", "firing")]
    assert out[0].alert.value == pytest.approx(0.5)
    # another service is not selected by the rule's matcher
    other = [ob("operations", 1.0, 0.0, outcome="x", service="w") for _ in range(20)]
    assert ev.observe(other + errors(clock, 20, service="w")) == []


def test_success_ratio_numerator_match() -> None:
    ev, _ = make({"name": "S", "metric": "recovery_success_ratio", "window": "5m", "op": "<",
                      "threshold": 0.9})
    outcomes = ["succeeded", "recovered", "degraded", "gave_up"]
    ev.observe([ob("operations", 1.0, 0.0, outcome=o) for o in outcomes])
    assert ev.value("S", {"project": "p", "service": "api"}) == pytest.approx(0.75)
    assert ev.alerts() == []  # a "below" rule turns true when events stop coming: the tick decides
    ev.tick()
    assert [a.rule for a in ev.alerts()] == ["S"]


def test_gauge_aggregations() -> None:
    base = {"metric": "resource_usage", "window": "1m", "threshold": 0.5, "by": ["service"]}
    ev, clock = make(*({**base, "name": f"G_{a}", "aggregation": a} for a in ("last", "avg", "min", "max", "sum")))
    for t, v in ((0, 0.2), (10, 0.9), (20, 0.4)):
        clock.t = float(t)
        ev.observe([ob("resource_usage", v, clock.t, resource="memory")])
    clock.t = 25
    ev.observe([ob("resource_usage", 0.3, clock.t, resource="cpu")])
    labels = {"service": "api"}
    got = {a: ev.value(f"G_{a}", labels) for a in ("last", "avg", "min", "max", "sum")}
    assert got["last"] == 0.3  # the newest sample in the group
    assert got["avg"] == pytest.approx((0.2 + 0.9 + 0.4 + 0.3) / 4)
    assert got["min"] == 0.2 and got["max"] == 0.9
    assert got["sum"] == pytest.approx(0.4 + 0.3)  # sum of each series' last value
    assert sorted(a.rule for a in ev.alerts()) == ["G_max", "G_sum"]
    clock.t = 200  # samples left the window: min/max/avg have no data, last/sum hold
    ev.tick()
    assert ev.value("G_min", labels) is None
    assert ev.value("G_sum", labels) == pytest.approx(0.7)
    assert sorted(a.rule for a in ev.alerts()) == ["G_sum"]


def test_breakers_open_sum_falls_when_a_breaker_closes() -> None:
    ev, _ = make({"name": "B", "metric": "breakers_open", "aggregation": "sum", "by": ["project"],
                      "op": ">=", "threshold": 2})
    assert ev.observe([ob("breakers_open", 1.0, 0.0, breaker="db")]) == []
    assert states(ev.observe([ob("breakers_open", 1.0, 0.0, breaker="cache")])) == [("inactive", "firing")]
    assert states(ev.observe([ob("breakers_open", 0.0, 1.0, breaker="db")])) == [("firing", "resolved")]


def test_distribution_aggregations() -> None:
    aggs = ("p50", "p90", "p95", "p99", "avg", "max")
    ev, _ = make(*({"name": f"D_{a}", "metric": "response_time", "aggregation": a, "window": "5m",
                        "threshold": 1000} for a in aggs))
    ev.observe([ob("response_time", float(i), 0.0) for i in range(1, 101)])
    labels = {"project": "p", "service": "api"}
    got = {a: ev.value(f"D_{a}", labels) for a in aggs}
    for a, exact in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        assert got[a] == pytest.approx(exact, rel=0.021), a
    assert got["avg"] == pytest.approx(50.5) and got["max"] == 100


def test_distribution_min_count_counts_samples() -> None:
    ev, _ = make({"name": "Slow", "metric": "recovery_time", "aggregation": "p95", "threshold": 2,
                      "min_count": 5})
    assert ev.observe([ob("recovery_time", 9.0, 0.0) for _ in range(4)]) == []
    assert len(ev.observe([ob("recovery_time", 9.0, 0.0)])) == 1


def test_staleness_via_tick() -> None:
    ev, clock = make({"name": "Down", "metric": "last_seen", "window": "1m", "threshold": 60,
                      "annotations": {"d": "silent for {{ $value }}s"}}, t=1000.0)
    ev.observe([ob("last_seen", 1000.0, 1000.0)])
    clock.t = 1060
    assert ev.tick() == []
    clock.t = 1061
    out = ev.tick()
    assert states(out) == [("inactive", "firing")]
    assert out[0].alert.annotations["d"] == "silent for 61s"
    clock.t = 1062
    assert states(ev.observe([ob("last_seen", 1062.0, 1062.0)])) == [("firing", "resolved")]


def test_baseline_needs_history_and_compares_to_it() -> None:
    rule = {"name": "Spike", "metric": "auth_failures", "aggregation": "rate", "window": "5m", "threshold": 5,
            "baseline": {"window": "1h", "offset": "5m"}}
    ev, clock = make(rule)
    for t in range(30, 3900, 60):  # one failure a minute for 65 minutes
        clock.t = float(t)
        assert ev.observe([ob("auth_failures", 1.0, clock.t)]) == []
    clock.t = 3900
    labels = {"project": "p", "service": "api"}
    assert ev.value("Spike", labels) == pytest.approx(1.0, abs=0.05)
    out = ev.observe([ob("auth_failures", 1.0, clock.t) for _ in range(40)])
    assert states(out) == [("inactive", "firing")]
    assert out[0].alert.value == pytest.approx(45 / 5, rel=0.1)
    # a fresh evaluator has not watched the baseline hour: it cannot judge, whatever the spike
    young, _ = make(rule, t=3900.0)
    assert young.observe([ob("auth_failures", 1.0, 3900.0) for _ in range(100)]) == []
    assert young.value("Spike", labels) is None


def test_baseline_low_traffic_fires_by_tick() -> None:
    ev, clock = make({"name": "Low", "metric": "operations", "aggregation": "rate", "window": "10m", "op": "<",
                      "threshold": 0.2, "baseline": {"window": "1h", "offset": "10m"}})
    for t in range(0, 4800, 10):
        clock.t = float(t)
        assert ev.observe([ob("operations", 1.0, clock.t, outcome="succeeded")]) == []
    fired = None
    for t in range(4800, 5800, 10):  # traffic stops: only the clock moves
        clock.t = float(t)
        if ev.tick():
            fired = t
            break
    assert fired is not None and 4800 + 420 <= fired <= 4800 + 520  # 10m window under 20% of usual


def test_burn_rate_needs_both_windows() -> None:
    ev, clock = make({"name": "Burn", "type": "burn_rate", "metric": "recovery_success_ratio",
                      "objective": 0.99, "long_window": "1h", "short_window": "5m", "factor": 10})
    labels = {"project": "p", "service": "api"}
    # 55 minutes healthy: 1 op / 10s
    for t in range(0, 3300, 10):
        clock.t = float(t)
        ev.observe([ob("operations", 1.0, clock.t, outcome="succeeded")])
    # 5 minutes of 50% failures: the short window burns at 50x, the long one at (15/360)/0.01 = 4.2x
    out: list[AlertTransition] = []
    for t in range(3300, 3600, 10):
        clock.t = float(t)
        out += ev.observe([ob("operations", 1.0, clock.t, outcome="gave_up" if t % 20 else "succeeded")])
    assert out == []
    burn = ev.value("Burn", labels)
    assert burn is not None and burn > 40
    # keep failing: the long window crosses 10x too
    for t in range(3600, 5000, 10):
        clock.t = float(t)
        out += ev.observe([ob("operations", 1.0, clock.t, outcome="gave_up" if t % 20 else "succeeded")])
        if out:
            break
    assert states(out) == [("inactive", "firing")]
    long_failures = (clock.t - 3300) / 20
    assert long_failures / 360 / 0.01 > 9.5  # fired once the hour burnt > 10x (to a bucket), not before
    assert (long_failures - 5) / 360 / 0.01 <= 10.5


def test_escalation_by_threshold_once_and_never_back() -> None:
    ev, clock = make({**RULE, "for": 0, "keep_firing_for": 0,
                      "escalate": {"severity": "critical", "threshold": 5, "after": "1h"}})
    out = ev.observe(errors(clock, 3))
    assert states(out) == [("inactive", "firing")] and out[0].alert.severity is Severity.WARNING
    out = ev.observe(errors(clock, 3))
    assert len(out) == 1 and out[0].escalated and out[0].previous_severity is Severity.WARNING
    assert out[0].alert.severity is Severity.CRITICAL and out[0].alert.labels["severity"] == "critical"
    assert out[0].alert.fingerprint == ev.alerts()[0].fingerprint
    clock.t = 30
    assert ev.observe(errors(clock, 1)) == []  # errors fewer now: stays critical
    assert ev.alerts()[0].severity is Severity.CRITICAL
    clock.t = 200
    assert states(ev.tick()) == [("firing", "resolved")]
    out = ev.observe(errors(clock, 3))
    assert out[0].alert.severity is Severity.WARNING  # a new episode starts at the rule's severity


def test_escalation_by_persistence_via_tick() -> None:
    ev, clock = make({"name": "Down", "metric": "last_seen", "threshold": 60,
                      "escalate": {"severity": "critical", "after": "10m"}})
    ev.observe([ob("last_seen", 0.0, 0.0)])
    clock.t = 61
    assert states(ev.tick()) == [("inactive", "firing")]
    clock.t = 660
    assert ev.tick() == []
    clock.t = 661
    out = ev.tick()
    assert len(out) == 1 and out[0].escalated and out[0].previous is AlertState.FIRING
    clock.t = 2000
    assert ev.tick() == []  # once


def test_acknowledge_until_resolved() -> None:
    ev, clock = make({**RULE, "for": 0, "keep_firing_for": 0})
    fp = ev.observe(errors(clock, 3))[0].alert.fingerprint
    clock.t = 5
    acked = ev.acknowledge(fp, "alice")
    assert (acked.acknowledged_by, acked.acknowledged_at) == ("alice", 5)
    ev.observe(errors(clock, 1))
    alert = ev.alert(fp)
    assert alert is not None and alert.acknowledged_by == "alice" and alert.value == 4
    with pytest.raises(KeyError, match="no pending, firing or recently resolved alert"):
        ev.acknowledge("0" * 16, "alice")
    with pytest.raises(ValueError, match="'by'"):
        ev.acknowledge(fp, "")
    clock.t = 100
    ev.tick()
    resolved = ev.acknowledge(fp, "bob")  # over: returned as it was
    assert resolved.state is AlertState.RESOLVED and resolved.acknowledged_by == "alice"
    fresh = ev.observe(errors(clock, 3))[0].alert
    assert fresh.acknowledged_by is None


def test_state_round_trip() -> None:
    ev, clock = make({**RULE, "for": "30s"})
    ev.observe(errors(clock, 3))
    clock.t = 30
    ev.tick()
    fp = ev.alerts()[0].fingerprint
    ev.acknowledge(fp, "alice")
    saved = ev.to_state()
    other, oclock = make({**RULE, "for": "30s"}, t=31.0)
    assert other.from_state(saved) == 1
    restored = other.alert(fp)
    assert restored is not None and restored.state is AlertState.FIRING and restored.acknowledged_by == "alice"
    assert other.observe(errors(oclock, 3)) == []  # same episode continues: no new pending
    with pytest.raises(ValueError, match=r"episodes\[0\]"):
        other.from_state({"version": 1, "episodes": [{"alert": {"rule": "x"}}]})
    with pytest.raises(ValueError, match="version"):
        other.from_state({"episodes": []})


def test_format_and_render() -> None:
    assert [format_value(v) for v in (0.0731, 120.0, 14.4, 1e-7, 12345.6, float("inf"))] == [
        "0.0731", "120", "14.4", "1e-07", "12346", "+Inf"]
    assert render("{{$labels.a}}={{ $value }}", {"a": "x"}, 0.5) == "x=0.5"


def test_concurrent_observe_and_tick_lose_nothing() -> None:
    import threading

    ev, clock = make({**RULE, "for": 0, "threshold": 0})

    def feed(service: str) -> None:
        for _ in range(300):
            ev.observe(errors(clock, 1, service=service))
            ev.tick()

    threads = [threading.Thread(target=feed, args=(f"s{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted((a.labels["service"], a.value) for a in ev.alerts()) == [(f"s{i}", 300) for i in range(4)]


def test_from_state_skips_rules_no_longer_loaded() -> None:
    ev, clock = make({**RULE, "for": 0})
    ev.observe(errors(clock, 3))
    other, _ = make({**RULE, "name": "Renamed"})
    assert other.from_state(ev.to_state()) == 0
    assert other.alerts() == []
