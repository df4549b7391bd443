"""Rules exported for Prometheus: the PromQL of each aggregation, the rule file (checked by the real
``promtool check rules``) and the generated unit tests (run by the real ``promtool test rules``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from recoup.incidents.export.prometheus_rules import exported_alerts, prometheus_rules, prometheus_rules_yaml
from recoup.incidents.export.promql import alert_expr, number, quote, selector, value_expr
from recoup.incidents.export.promtool_tests import (
    TestGenerationError,
    go_float,
    promtool_tests,
    promtool_tests_yaml,
    render,
)
from recoup.incidents.model import Matcher, Severity
from recoup.incidents.rules import Rule, RuleSet, default_rules, loads_rules


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool") or "/usr/bin/promtool"
    if not Path(found).exists():
        pytest.fail("promtool is not installed; run scripts/install_tools.sh (Debian's prometheus package)",
                    pytrace=False)
    return found


def _run(promtool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *map(str, args)], capture_output=True, text=True, timeout=60)


def _rule(**fields: object) -> Rule:
    return RuleSet.model_validate({"rules": [{"name": "R", **fields}]}).rules[0]


# -- PromQL -------------------------------------------------------------------------------------------------


def test_promql_literals_and_selectors() -> None:
    assert number(5.0) == "5" and number(0.05) == "0.05" and number(1e-5) == "1e-05" and number(-2) == "-2"
    assert number(float("inf")) == "+Inf" and number(float("nan")) == "NaN"
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    matchers = [Matcher.parse('resource="memory"'), Matcher.parse("service=~pay.*"), Matcher.parse("kind!=x")]
    assert selector("m", matchers) == 'm{resource="memory",service=~"pay.*",kind!="x"}'
    assert selector("m") == "m"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"metric": "errors", "aggregation": "rate", "window": "2m"},
         "sum by (project, service) (rate(recoup_errors_total[2m]))"),
        ({"metric": "database_errors", "aggregation": "count", "by": []},
         "sum (increase(recoup_app_database_errors_total[5m]))"),
        ({"metric": "resource_usage", "aggregation": "min", "match": ['resource="memory"']},
         'min by (project, service) (min_over_time(recoup_resource_usage_ratio{resource="memory"}[5m]))'),
        ({"metric": "resource_usage", "aggregation": "last"},
         "max by (project, service) (last_over_time(recoup_resource_usage_ratio[5m]))"),
        ({"metric": "breakers_open", "aggregation": "sum", "by": ["project"]},
         "sum by (project) (recoup_breaker_open)"),
        ({"metric": "recovery_time", "aggregation": "p99"},
         "histogram_quantile(0.99, sum by (le, project, service) (rate(recoup_recovery_seconds_bucket[5m])))"),
        ({"metric": "response_time", "aggregation": "avg", "by": ["service"]},
         "sum by (service) (rate(recoup_response_seconds_sum[5m])) / "
         "sum by (service) (rate(recoup_response_seconds_count[5m]))"),
        ({"metric": "last_seen"}, "time() - max by (project, service) (recoup_last_seen_timestamp_seconds)"),
    ],
)
def test_value_expressions(fields: dict[str, object], expected: str) -> None:
    assert value_expr(_rule(**fields)) == expected


def test_ratio_counts_a_group_without_successes_as_zero() -> None:
    expr = value_expr(_rule(metric="recovery_success_ratio", by=["service"]))
    num = 'sum by (service) (increase(recoup_operations_total{outcome=~"succeeded|recovered|degraded"}[5m]))'
    den = "sum by (service) (increase(recoup_operations_total[5m]))"
    assert expr == f"({num} or 0 * {den}) / {den}"


def test_a_ratio_matcher_on_a_numerator_label_filters_the_numerator_only() -> None:
    expr = value_expr(_rule(metric="error_ratio", match=['category!="validation"', 'service="api"'], by=[]))
    num = 'sum (increase(recoup_errors_total{category!="validation",service="api"}[5m]))'
    den = 'sum (increase(recoup_operations_total{service="api"}[5m]))'
    assert expr == f"({num} or 0 * {den}) / {den}"


def test_min_count_baseline_and_burn_rate() -> None:
    rule = _rule(metric="auth_failures", aggregation="rate", threshold=5, min_count=20,
                 baseline={"window": "1h", "offset": "5m"})
    assert alert_expr(rule) == (
        "((sum by (project, service) (rate(recoup_auth_failures_total[5m]))) / "
        "(sum by (project, service) (rate(recoup_auth_failures_total[1h] offset 5m)) > 0)) > 5 "
        "and (sum by (project, service) (increase(recoup_auth_failures_total[5m]))) >= 20"
    )
    burn = _rule(type="burn_rate", metric="recovery_success_ratio", objective=0.999, long_window="1h",
                 short_window="5m", factor=14.4)
    expr = alert_expr(burn)
    short, _, long = expr.partition(" and ")
    assert "[5m]" in short and "[1h]" not in short and short.startswith("(1 - (") and short.endswith("/ 0.001 > 14.4")
    assert "[1h]" in long and long.endswith("/ 0.001 > 14.4")
    # an SLO is written on a success ratio: a burn-rate rule on a ratio of errors is refused
    with pytest.raises(ValidationError, match="success ratio"):
        _rule(type="burn_rate", metric="error_ratio", objective=0.99, long_window="1h", short_window="5m", factor=2)


# -- the rule file -------------------------------------------------------------------------------------------


def test_escalations_become_critical_rules() -> None:
    slow = default_rules().by_name("SlowRecovery")
    base, worsened, persisted = exported_alerts(slow)
    assert (base.alertname, base.severity, base.threshold, base.for_) == ("SlowRecovery", Severity.WARNING, 2, 0)
    assert (worsened.alertname, worsened.severity, worsened.threshold, worsened.for_) == (
        "SlowRecoveryCritical", Severity.CRITICAL, 10, 0)
    assert (persisted.threshold, persisted.for_) == (2, 1800)
    assert worsened.labels["escalation"] == "worsened" and persisted.labels["escalation"] == "persisted"
    assert base.labels == {"incident_type": "error_rate_spike", "severity": "warning", "recoup_rule": "SlowRecovery"}
    count = "(sum by (project, service) (increase(recoup_recovery_seconds_count[5m])))"
    assert worsened.expr.endswith(f"> 10 and {count} >= 5")


def test_rule_file_shape() -> None:
    data = prometheus_rules(default_rules(), interval=15)
    group = data["groups"][0]
    assert group["name"] == "recoup" and group["interval"] == "15s"
    by_name = {r["alert"]: r for r in group["rules"] if "escalation" not in r["labels"]}
    high = by_name["HighErrorRate"]
    assert high["for"] == "1m" and high["keep_firing_for"] == "1m"
    assert high["labels"]["severity"] == "critical"
    assert high["annotations"]["summary"] == "Error rate of {{ $labels.service }} above 5%"
    assert "for" not in by_name["ApplicationDown"]  # for: 0 is left out


def test_default_rules_pass_promtool_check_and_their_generated_unit_tests(promtool: str, tmp_path: Path) -> None:
    rules = default_rules()
    (tmp_path / "rules.yml").write_text(prometheus_rules_yaml(rules))
    (tmp_path / "tests.yml").write_text(promtool_tests_yaml(rules, "rules.yml"))
    checked = _run(promtool, "check", "rules", tmp_path / "rules.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {sum(len(exported_alerts(r)) for r in rules.rules)} rules found" in checked.stdout
    tested = _run(promtool, "test", "rules", tmp_path / "tests.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr

    tests = promtool_tests(rules, "rules.yml")["tests"]
    names = {t["name"] for t in tests}
    for rule in rules.rules:  # every rule is shown firing and quiet; escalating ones escalated too
        assert {f"{rule.name}: healthy", f"{rule.name}: firing"} <= names
        if rule.escalate is not None and rule.escalate.threshold is not None:
            assert f"{rule.name}: escalated" in names
    firing = next(t for t in tests if t["name"] == "HighErrorRate: firing")
    expected = firing["alert_rule_test"][0]["exp_alerts"][0]
    description = "0.1 errors per operation over the last 5 minutes (limit 0.05)."
    assert expected["exp_annotations"]["description"] == description


def test_the_generated_unit_tests_catch_a_wrong_rule(promtool: str, tmp_path: Path) -> None:
    rules = default_rules()
    (tmp_path / "tests.yml").write_text(promtool_tests_yaml(rules, "rules.yml"))
    text = prometheus_rules_yaml(rules)
    assert "> 0.05 and" in text
    (tmp_path / "rules.yml").write_text(text.replace("> 0.05 and", "> 0.5 and", 1))  # HighErrorRate, wrong
    tested = _run(promtool, "test", "rules", tmp_path / "tests.yml")
    assert tested.returncode != 0
    assert "HighErrorRate: firing" in tested.stdout + tested.stderr


CUSTOM = """
rules:
  - {name: GaugeLast, metric: resource_usage, aggregation: last, match: ['resource=~"cpu|memory"'], window: 2m,
     op: ">=", threshold: 0.9, for: 2m, keep_firing_for: 3m}
  - {name: GaugeAvgLow, metric: resource_usage, aggregation: avg, match: ['resource!="disk"'], by: [service],
     window: 3m, op: "<", threshold: 0.5, escalate: {threshold: 0.1}}
  - {name: GaugeMax, metric: resource_usage, aggregation: max, by: [], window: 5m, threshold: 2, escalate: {after: 10m}}
  - {name: GaugeAvgBaseline, metric: resource_usage, aggregation: avg, window: 5m, threshold: 3,
     baseline: {window: 30m, offset: 5m}}
  - {name: DistAvg, metric: response_time, aggregation: avg, window: 5m, threshold: 4, min_count: 3}
  - {name: DistMax, metric: recovery_time, aggregation: max, window: 5m, threshold: 60}
  - {name: DistP50, metric: response_time, aggregation: p50, window: 10m, op: ">=", threshold: 0.3}
  - {name: CounterRate, metric: errors, aggregation: rate, match: ['category="network"'],
     by: [project, service, category], window: 2m, threshold: 1, for: 1m}
  - {name: CountLow, metric: events, aggregation: count, match: ['kind="heartbeat"'], window: 10m, op: "<",
     threshold: 5}
  - {name: RateSpike, metric: requests, aggregation: rate, window: 5m, threshold: 2, baseline: {window: 20m}}
  - {name: SuccessRatioBurn, type: burn_rate, metric: recovery_success_ratio, objective: 0.99, long_window: 30m,
     short_window: 5m, factor: 10, min_count: 10}
  - {name: NetworkErrorRatio, metric: error_ratio, match: ['category="network"', 'service!="batch"'], threshold: 0.2}
  - {name: SuccessLow, metric: recovery_success_ratio, window: 5m, op: "<=", threshold: 0.9, min_count: 50,
     escalate: {threshold: 0.5, after: 5m}}
  - {name: StaleFor, metric: last_seen, window: 1m, threshold: 300, for: 2m}
  - {name: Breakers, metric: breakers_open, aggregation: sum, by: [project], threshold: 2, op: ">="}
"""


def test_every_kind_of_rule_round_trips_through_promtool(promtool: str, tmp_path: Path) -> None:
    """The generator and the PromQL agree for every aggregation, matcher, baseline, escalation and burn rate:
    promtool evaluates the exported PromQL on the generated series and finds exactly the computed alerts."""
    rules = loads_rules(CUSTOM)
    (tmp_path / "rules.yml").write_text(prometheus_rules_yaml(rules))
    (tmp_path / "tests.yml").write_text(promtool_tests_yaml(rules, "rules.yml"))
    checked = _run(promtool, "check", "rules", tmp_path / "rules.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = _run(promtool, "test", "rules", tmp_path / "tests.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_rule_no_series_can_exercise_is_named() -> None:
    impossible = loads_rules("rules: [{name: Never, metric: resource_usage, aggregation: max, op: '<', threshold: -1}]")
    with pytest.raises(TestGenerationError, match="Never: no generated series makes a 'firing' case"):
        promtool_tests(impossible, "rules.yml")
    odd_window = loads_rules("rules: [{name: Odd, metric: errors, window: 90s, threshold: 1}]")
    with pytest.raises(TestGenerationError, match="Odd: window 90s is not whole minutes"):
        promtool_tests(odd_window, "rules.yml")


def test_go_float_formatting_and_templates() -> None:
    assert [go_float(v) for v in (120.0, 0.1, 2.425, 1e-05, 1e17, 1e22, float("inf"))] == [
        "120", "0.1", "2.425", "1e-05", "100000000000000000", "1e+22", "+Inf"]
    assert render("{{ $labels.service }} at {{$value}} ({{ $labels.nope }})", {"service": "api"}, 3.5) == (
        "api at 3.5 (<no value>)")


def test_rule_file_is_yaml_with_long_expressions_on_one_line() -> None:
    text = prometheus_rules_yaml(default_rules())
    assert text.startswith("# Generated by `recoup export prometheus-rules`")
    parsed = yaml.safe_load(text)
    assert all("\n" not in r["expr"] for r in parsed["groups"][0]["rules"])
