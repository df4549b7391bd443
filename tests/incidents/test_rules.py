"""The YAML rule format: what loads, and the error each mistake gets (naming the rule and the field)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recoup.incidents.catalogue import CATALOGUE, Aggregation
from recoup.incidents.model import Severity
from recoup.incidents.rules import (
    RuleError,
    default_rules,
    format_duration,
    load_rules,
    loads_rules,
    parse_duration,
    parse_rules,
)

GOOD = """
rules:
  - name: HighErrorRate
    metric: error_ratio
    match: ['service!="batch"']
    window: 5m
    threshold: 0.05
    min_count: 20
    for: 1m
    keep_firing_for: 90s
    severity: critical
    escalate: {threshold: 0.2}
"""


def error_of(rule: dict[str, object]) -> str:
    base: dict[str, object] = {"name": "R", "metric": "errors"}
    with pytest.raises(RuleError) as info:
        parse_rules({"rules": [{**base, **rule}]})
    return str(info.value)


def test_a_valid_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD, encoding="utf-8")
    rules = load_rules(path)
    rule = rules.by_name("HighErrorRate")
    assert (rule.window, rule.for_, rule.keep_firing_for) == (300.0, 60.0, 90.0)
    assert rule.effective_aggregation is Aggregation.RATIO
    assert rule.severity is Severity.CRITICAL
    assert rule.escalate is not None and rule.escalate.severity is Severity.CRITICAL
    assert [str(m) for m in rule.matchers] == ['service!="batch"']


def test_default_rules_load_and_cover_the_catalogue_kinds() -> None:
    rules = default_rules()
    assert len(rules.rules) >= 13
    assert {r.metric for r in rules.rules} <= set(CATALOGUE)
    for rule in rules.rules:
        assert rule.runbook == f"docs/runbooks/{rule.name}.md"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"metric": "nope"}, "rules[0] (R).metric: unknown metric 'nope'"),
        ({"window": "5 minutes"}, "rules[0] (R).window: expected a duration like 30s, 5m or 1h, got '5 minutes'"),
        ({"window": 0}, "rules[0] (R).window: must be longer than 0s"),
        ({"for": "-1m"}, "rules[0] (R).for: expected a duration"),
        ({"keep_firing_for": True}, "rules[0] (R).keep_firing_for: expected a duration"),
        ({"aggregation": "p95"}, "aggregation 'p95' does not apply to errors (counter); use one of: rate, count"),
        ({"aggregation": "median"}, "rules[0] (R).aggregation: Input should be"),
        ({"by": ["service", "host"]}, "by: 'host' not a label of errors; it has: category, project, service"),
        ({"match": ["outcome=x"]}, "match: 'outcome' not a label of errors"),
        ({"match": ["service~x"]}, "not a label matcher: 'service~x'"),
        ({"match": ["service=~("]}, "bad regex"),
        ({"name": "9lives"}, "rules[0] (9lives).name: '9lives' is not a valid alert name"),
        ({"labels": {"severity": "x"}}, "label 'severity' is set by recoup"),
        ({"labels": {"bad-label": "x"}}, "label name 'bad-label' is not valid"),
        ({"severity": "page"}, "rules[0] (R).severity: Input should be 'info', 'warning' or 'critical'"),
        ({"op": "=>"}, "rules[0] (R).op: Input should be"),
        ({"min_count": -1}, "rules[0] (R).min_count: Input should be greater than or equal to 0"),
        ({"escalate": {"severity": "critical"}}, "escalate: give threshold (worsens), after (persists), or both"),
        ({"baseline": {"window": 0}}, "baseline.window: must be longer than 0s"),
        ({"metric": "last_seen", "baseline": {"window": "1h"}}, "baseline does not apply to a staleness metric"),
        ({"threshhold": 3}, "rules[0] (R).threshhold: Extra inputs are not permitted"),
        ({"type": "burn_rate", "metric": "recovery_success_ratio", "objective": 0.999},
         "a burn_rate rule needs long_window, short_window, factor"),
        ({"type": "burn_rate", "objective": 0.99, "long_window": "1h", "short_window": "5m", "factor": 2},
         "a burn_rate rule needs a ratio metric, 'errors' is a counter"),
        ({"type": "burn_rate", "metric": "recovery_success_ratio", "objective": 99.9, "long_window": "1h",
          "short_window": "5m", "factor": 2}, "objective must be between 0 and 1"),
        ({"type": "burn_rate", "metric": "recovery_success_ratio", "objective": 0.99, "long_window": "5m",
          "short_window": "1h", "factor": 2}, "short_window must be shorter than long_window"),
        ({"type": "burn_rate", "metric": "recovery_success_ratio", "objective": 0.99, "long_window": "1h",
          "short_window": "5m", "factor": 0}, "factor must be positive"),
        ({"type": "slo"}, "rules[0] (R).type: Input should be 'threshold', 'burn_rate' or 'anomaly'"),
    ],
)
def test_each_mistake_names_rule_and_field(rule: dict[str, object], expected: str) -> None:
    assert expected in error_of(rule)


def test_every_problem_is_listed() -> None:
    with pytest.raises(RuleError) as info:
        parse_rules({"rules": [{"name": "A", "metric": "nope"}, {"name": "B", "metric": "errors", "window": "x"}]})
    text = str(info.value)
    assert "rules[0] (A).metric" in text and "rules[1] (B).window" in text


def test_duplicate_names() -> None:
    with pytest.raises(RuleError, match="two rules are named 'A'"):
        parse_rules({"rules": [{"name": "A", "metric": "errors"}, {"name": "A", "metric": "events"}]})


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="expected a mapping with a 'rules' list"):
        loads_rules("- name: A")
    with pytest.raises(RuleError, match="not valid YAML"):
        loads_rules("rules: [")
    with pytest.raises(RuleError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
    with pytest.raises(RuleError, match="rules: Input should be a valid tuple"):
        parse_rules({"rules": "all of them"})


def test_durations() -> None:
    assert parse_duration("1h30m") == 5400.0
    assert parse_duration("250ms") == 0.25
    assert parse_duration(45) == 45.0
    assert parse_duration("1d") == 86400.0
    for bad in ("", "5x", "m", -3, None, True):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert [format_duration(s) for s in (0, 0.25, 90, 3600, 5400)] == ["0s", "250ms", "1m30s", "1h", "1h30m"]
