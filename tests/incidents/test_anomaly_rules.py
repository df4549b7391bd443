"""Anomaly and forecast rules on a fake clock: an anomaly rule fires on a level shift or a spike in a noisy
stream with no threshold and stays quiet on stable noise; a forecast rule warns before the threshold is crossed
on a steady ramp (then hands over to the real alert) and not on a flat series; validation names the field;
the Prometheus export skips anomaly rules with a comment and turns forecasts into ``predict_linear``, and
promtool accepts the file."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from recoup.analytics.anomaly import DEFAULT_THRESHOLD
from recoup.incidents.evaluator import Evaluator
from recoup.incidents.export.prometheus_rules import prometheus_rules_yaml, skipped_rules
from recoup.incidents.export.promtool_tests import promtool_tests_yaml
from recoup.incidents.model import AlertState, AlertTransition
from recoup.incidents.rules import Anomaly, RuleError, default_rules, parse_rules
from recoup.incidents.signals import Observation


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make(*rules: dict[str, Any]) -> tuple[Evaluator, Clock]:
    clock = Clock()
    return Evaluator(parse_rules({"rules": list(rules)}), clock=clock), clock


def gauge(value: float, at: float, service: str = "api") -> Observation:
    labels = {"project": "p", "service": service, "resource": "memory"}
    return Observation("resource_usage", value, tuple(sorted(labels.items())), at)


def errors(n: int, at: float, service: str = "api") -> list[Observation]:
    labels = {"project": "p", "service": service, "category": "network"}
    return [Observation("errors", 1.0, tuple(sorted(labels.items())), at)] * n


ANOMALY: dict[str, Any] = {
    "name": "UsageAnomaly", "type": "anomaly", "metric": "resource_usage", "aggregation": "last",
    "window": "1m", "anomaly": {"interval": "10s", "min_history": 30, "hold": "30s"},
    "annotations": {"summary": "{{ $labels.service }} usage {{ $value }} is unusual"},
}


def run_gauge(ev: Evaluator, clock: Clock, values: list[float], step: float = 10.0) -> list[AlertTransition]:
    """One gauge report and one tick per ``step`` seconds."""
    out: list[AlertTransition] = []
    for value in values:
        clock.t += step
        out += ev.observe([gauge(value, clock.t)])
        out += ev.tick()
    return out


def fired(transitions: list[AlertTransition]) -> list[AlertTransition]:
    return [t for t in transitions if t.alert.state is AlertState.FIRING and t.previous is not AlertState.FIRING]


PAGING = {**ANOMALY, "anomaly": {**ANOMALY["anomaly"], "threshold": 0.8}}


def test_default_threshold_is_the_detectors() -> None:
    assert Anomaly().threshold == DEFAULT_THRESHOLD


@pytest.mark.parametrize("seed", range(5))
def test_anomaly_rule_quiet_on_stable_noise_then_fires_on_level_shift(seed: int) -> None:
    rng = random.Random(seed)
    ev, clock = make(PAGING)  # 0.8: the documented threshold for paging (about 3 false alerts per million samples)
    stable = [0.5 + rng.gauss(0.0, 0.02) for _ in range(600)]
    assert fired(run_gauge(ev, clock, stable)) == []
    shift_at = clock.t
    out = run_gauge(ev, clock, [0.7 + rng.gauss(0.0, 0.02) for _ in range(2)])
    alerts = fired(out)
    assert len(alerts) == 1
    alert = alerts[0].alert
    assert alert.labels["alertname"] == "UsageAnomaly" and alert.labels["service"] == "api"
    assert alert.fired_at is not None and alert.fired_at <= shift_at + 20.0  # on the first or second sample
    assert float(alert.annotations["anomaly_score"]) >= 0.6892
    assert alert.annotations["summary"].startswith("api usage 0.")
    [live] = ev.anomalies()
    assert live["anomalous"] is True and live["samples"] == 602 and live["score"] >= 0.0
    # the condition holds for `hold` (30s) after the last anomalous sample, then the alert resolves
    later = run_gauge(ev, clock, [0.7 + rng.gauss(0.0, 0.02) for _ in range(10)])
    assert any(t.alert.state is AlertState.RESOLVED for t in later)


def test_default_threshold_false_alarm_rate_on_noise_is_bounded() -> None:
    """At the NAB-tuned default a stable Gaussian stream raises about 2 alerts per 1000 samples (measured);
    this fails if the rule raised many more (every rare value, or every tick instead of every sample)."""
    firing = 0
    for seed in range(3):
        rng = random.Random(100 + seed)
        ev, clock = make({**ANOMALY, "anomaly": {**ANOMALY["anomaly"], "hold": "10s"}})
        firing += len(fired(run_gauge(ev, clock, [0.5 + rng.gauss(0.0, 0.02) for _ in range(2000)])))
    assert firing <= 30  # 6000 samples: ~12 expected


def test_anomaly_rule_fires_on_error_spike_without_threshold() -> None:
    rng = random.Random(7)
    rule = {"name": "ErrorAnomaly", "type": "anomaly", "metric": "errors", "aggregation": "rate", "window": "1m",
            "anomaly": {"interval": "10s", "min_history": 30, "threshold": 0.8}}
    ev, clock = make(rule)
    out: list[AlertTransition] = []
    for _ in range(400):  # Poisson-ish noise: about 5 errors every 10s
        clock.t += 10.0
        out += ev.observe(errors(sum(rng.random() < 0.5 for _ in range(10)), clock.t))
        out += ev.tick()
    assert fired(out) == []
    clock.t += 10.0
    spike = ev.observe(errors(60, clock.t)) + ev.tick()
    [alert] = fired(spike)
    assert alert.alert.value > 1.0  # the rate itself, not the score


def test_direction_down_ignores_a_rise_and_catches_a_drop() -> None:
    rng = random.Random(3)
    rule = {**PAGING, "anomaly": {**PAGING["anomaly"], "direction": "down"}}
    ev, clock = make(rule)
    run_gauge(ev, clock, [0.5 + rng.gauss(0.0, 0.02) for _ in range(300)])
    assert fired(run_gauge(ev, clock, [0.9])) == []
    ev2, clock2 = make(rule)
    rng = random.Random(3)
    run_gauge(ev2, clock2, [0.5 + rng.gauss(0.0, 0.02) for _ in range(300)])
    assert len(fired(run_gauge(ev2, clock2, [0.1]))) == 1


def test_anomaly_needs_min_history_and_memory_is_bounded() -> None:
    rule = {**ANOMALY, "anomaly": {"interval": "10s", "min_history": 100, "memory": 50}}
    ev, clock = make(rule)
    out = run_gauge(ev, clock, [0.5] * 60 + [5.0])  # a huge jump, but only 61 samples seen
    assert fired(out) == []
    run_gauge(ev, clock, [0.5 + 0.01 * (i % 7) for i in range(200)])
    [live] = ev.anomalies()
    assert live["samples"] == 261
    rs = ev._by_name["UsageAnomaly"]
    [stream] = rs.anomalies.values()
    assert len(stream.detector._sorted) <= 50  # memory per group: `memory` values


def test_anomaly_samples_once_per_interval_not_per_tick() -> None:
    ev, clock = make(ANOMALY)
    ev.observe([gauge(0.5, clock.t)])
    for _ in range(30):  # 30 ticks over 30s: 3 samples at a 10s interval
        ev.tick()
        clock.t += 1.0
    assert ev.anomalies()[0]["samples"] == 3


FORECAST: dict[str, Any] = {
    "name": "UsageHigh", "metric": "resource_usage", "aggregation": "last", "window": "1m", "op": ">",
    "threshold": 0.9, "severity": "critical", "forecast": {"horizon": "10m", "interval": "30s"},
    "annotations": {"summary": "usage {{ $value }}"},
}


def test_forecast_warns_before_the_threshold_on_a_ramp_then_real_alert_takes_over() -> None:
    rng = random.Random(1)
    ev, clock = make(FORECAST)
    start = clock.t
    out: list[tuple[float, AlertTransition]] = []
    value = 0.3
    while value < 0.95:  # +0.0005/s (0.03 a minute) with a little noise: crosses 0.9 after ~20 minutes
        clock.t += 10.0
        value = 0.3 + 0.0005 * (clock.t - start)
        out += [(value, t) for t in ev.observe([gauge(value + rng.gauss(0.0, 0.003), clock.t)]) + ev.tick()]
    warnings = [(v, t) for v, t in out if t.alert.labels.get("forecast") == "true"]
    first_value, first = warnings[0]
    assert first.alert.state is AlertState.FIRING
    assert first_value < 0.9, "the forecast must come before the breach"
    assert first.alert.severity.value == "warning" and first.alert.labels["severity"] == "warning"
    assert 0.0 < (0.9 - first_value) / 0.0005 <= 600.0 + 60.0  # within the horizon (plus sampling slack)
    assert first.alert.annotations["breach_in"].endswith(("m", "s"))
    real = [(v, t) for v, t in out if "forecast" not in t.alert.labels and t.alert.state is AlertState.FIRING]
    assert real and real[0][0] > 0.9 and real[0][1].alert.severity.value == "critical"
    # once the threshold is crossed the warning resolves: the real alert says it now
    assert any(t.alert.state is AlertState.RESOLVED for _, t in warnings)
    assert first.alert.fingerprint != real[0][1].alert.fingerprint
    [trend] = ev.forecasts()
    assert trend["slope"] == pytest.approx(0.0005, rel=0.2)


def test_forecast_quiet_on_a_flat_noisy_series() -> None:
    rng = random.Random(2)
    ev, clock = make(FORECAST)
    out: list[AlertTransition] = []
    for _ in range(720):  # two hours at 10s
        clock.t += 10.0
        out += ev.observe([gauge(0.7 + rng.gauss(0.0, 0.02), clock.t)]) + ev.tick()
    assert out == []
    assert ev.forecasts()[0]["breach_in"] is None


@pytest.mark.parametrize(("rule", "message"), [
    ({"type": "anomaly", "threshold": 3}, "rules[0] (R): threshold: an anomaly rule has no fixed threshold"),
    ({"type": "anomaly", "op": "<"}, "rules[0] (R): op: an anomaly rule has no fixed threshold"),
    ({"type": "anomaly", "anomaly": {"threshold": 1.5}}, "rules[0] (R).anomaly.threshold: Input should be less"),
    ({"type": "anomaly", "anomaly": {"interval": "0s"}}, "rules[0] (R).anomaly.interval: must be longer than 0s"),
    ({"type": "anomaly", "anomaly": {"direction": "sideways"}}, "rules[0] (R).anomaly.direction: Input should be"),
    ({"type": "anomaly", "anomaly": {"min_history": 0}}, "rules[0] (R).anomaly.min_history: Input should be greater"),
    ({"type": "anomaly", "anomaly": {"tresh": 1}}, "rules[0] (R).anomaly.tresh: Extra inputs are not permitted"),
    ({"type": "anomaly", "escalate": {"threshold": 2}}, "rules[0] (R): escalate.threshold: an anomaly rule"),
    ({"anomaly": {}}, "rules[0] (R): anomaly: settings apply only to a rule with type: anomaly"),
    ({"forecast": {"horizon": "soon"}}, "rules[0] (R).forecast.horizon: expected a duration"),
    ({"forecast": {}}, "rules[0] (R).forecast.horizon: Field required"),
    ({"forecast": {"horizon": "5m"}, "op": "=="}, "rules[0] (R): forecast: needs op >, >=, < or <="),
    ({"type": "anomaly", "forecast": {"horizon": "5m"}}, "rules[0] (R): forecast: applies only to a threshold rule"),
])
def test_mistakes_name_the_field(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_rules({"rules": [{"name": "R", "metric": "errors", **rule}]})
    assert message in str(info.value)


EXPORTED: dict[str, Any] = {"rules": [
    {**ANOMALY},
    {"name": "ErrorRatioRising", "metric": "error_ratio", "window": "5m", "op": ">", "threshold": 0.05,
     "min_count": 10, "severity": "critical", "forecast": {"horizon": "15m"},
     "annotations": {"summary": "error ratio {{ $value }}"}},
]}


def test_export_skips_anomaly_rules_and_forecasts_with_predict_linear() -> None:
    rules = parse_rules(EXPORTED)
    text = prometheus_rules_yaml(rules)
    assert "# Skipped UsageAnomaly: type: anomaly" in text
    assert skipped_rules(rules) == [("UsageAnomaly", skipped_rules(rules)[0][1])]
    data = yaml.safe_load(text)
    exported = data["groups"][0]["rules"]
    assert [r["alert"] for r in exported] == ["ErrorRatioRising", "ErrorRatioRising"]
    warn = exported[1]
    assert warn["labels"]["forecast"] == "true" and warn["labels"]["severity"] == "warning"
    assert "predict_linear(" in warn["expr"] and ", 900)" in warn["expr"] and " unless " in warn["expr"]
    assert warn["annotations"]["breach_in"] == "within 15m"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (prometheus) is not installed")
def test_promtool_checks_and_tests_the_exported_rules(tmp_path: Path) -> None:
    rules = parse_rules({"rules": [*EXPORTED["rules"], *[r.model_dump(by_alias=True, exclude_none=True)
                                                          for r in default_rules().rules]]})
    (tmp_path / "rules.yml").write_text(prometheus_rules_yaml(rules))
    (tmp_path / "tests.yml").write_text(promtool_tests_yaml(rules, "rules.yml"))
    check = subprocess.run(["promtool", "check", "rules", str(tmp_path / "rules.yml")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    test = subprocess.run(["promtool", "test", "rules", str(tmp_path / "tests.yml")],
                          capture_output=True, text=True, timeout=120)
    assert test.returncode == 0, test.stdout + test.stderr


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (prometheus) is not installed")
def test_prometheus_fires_the_exported_forecast_on_a_ramp_before_the_breach(tmp_path: Path) -> None:
    rule = {key: value for key, value in FORECAST.items() if key != "annotations"}
    rules = parse_rules({"rules": [{**rule, "by": ["project", "service"]}]})
    (tmp_path / "rules.yml").write_text(prometheus_rules_yaml(rules))
    group = {"project": "p", "service": "api"}
    warning = {**group, "severity": "warning", "recoup_rule": "UsageHigh", "forecast": "true"}
    critical = {**group, "severity": "critical", "recoup_rule": "UsageHigh"}
    tests = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        # 0.3 rising 0.03 a minute: crosses 0.9 at minute 20; flat 0.7 on another service never warns
        "input_series": [
            {"series": 'recoup_resource_usage_ratio{project="p",service="api",resource="memory"}',
             "values": "0.3+0.03x40"},
            {"series": 'recoup_resource_usage_ratio{project="p",service="flat",resource="memory"}',
             "values": "0.7x40"},
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "UsageHigh", "exp_alerts": []},  # 0.45: 0.9 is 15m away
            {"eval_time": "15m", "alertname": "UsageHigh",  # 0.75: the line reaches 0.9 in 5m
             "exp_alerts": [{"exp_labels": warning, "exp_annotations": {"breach_in": "within 10m"}}]},
            {"eval_time": "25m", "alertname": "UsageHigh", "exp_alerts": [{"exp_labels": critical}]},
        ],
    }]}
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    test = subprocess.run(["promtool", "test", "rules", str(tmp_path / "tests.yml")],
                          capture_output=True, text=True, timeout=60)
    assert test.returncode == 0, test.stdout + test.stderr


def test_forecast_alert_survives_a_restart_as_the_forecast_variant() -> None:
    ev, clock = make(FORECAST)
    start = clock.t
    warning = None
    while warning is None:
        clock.t += 10.0
        value = 0.3 + 0.0005 * (clock.t - start)
        for t in ev.observe([gauge(value, clock.t)]) + ev.tick():
            if t.alert.labels.get("forecast") == "true":
                warning = t.alert
    assert ev.value("UsageHigh", {"project": "p", "service": "api"}) == pytest.approx(value)
    restored, _ = make(FORECAST)
    assert restored.from_state(ev.to_state()) == 1
    [alert] = restored.alerts()
    assert alert.labels["forecast"] == "true" and alert.fingerprint == warning.fingerprint
    assert restored._forecast_of["UsageHigh"].episodes  # restored into the forecast variant, not the rule
    assert not restored._by_name["UsageHigh"].episodes
