"""Unit tests for ``promtool test rules``, generated for a rule set: for every rule, input series that make
it fire (and, when it escalates, series bad enough to fire the escalation) and healthy series that fire
nothing, each with the alerts (labels and rendered annotations) Prometheus must produce.

Series are sampled every minute on the minute and windows are whole minutes, so every range holds samples
exactly at both ends and Prometheus's ``rate``/``increase`` need no extrapolation: the expected values are
computed here with the same float arithmetic (``increase`` = last - first, ``histogram_quantile``'s linear
interpolation) and rendered into the expected annotations as Go prints ``{{ $value }}``. The alert
lifecycle (``for``, ``keep_firing_for``) is replayed minute by minute to know what fires at the eval time.

Each level is chosen from a short list of candidate series shapes: the first one whose computed outcome is
the one wanted. A rule none of them fits (an exotic matcher or threshold, windows that are not whole
minutes, a baseline on a ratio, distribution or sum) raises `TestGenerationError` naming it. Anomaly rules
(not exported) get no tests; a forecast warning is left out of the expected alerts, so a test fails if it
fires where the generated series say the threshold is crossed or healthy and flat.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client.utils import floatToGoString

from recoup.incidents.catalogue import CATALOGUE, Aggregation, MetricKind, MetricSpec
from recoup.incidents.export.prometheus_rules import HEADER, ExportedAlert, dump_yaml, exported_alerts
from recoup.incidents.export.promql import GOOD_RATIOS, quote
from recoup.incidents.model import MatchOp
from recoup.incidents.rules import Rule, RuleSet
from recoup.server.signal_metrics import SECONDS_BUCKETS

_TEMPLATE = re.compile(r"\{\{\s*(\$value|\$labels\.([A-Za-z_][A-Za-z0-9_]*))\s*\}\}")
_FILLERS = {"project": "demo", "service": "checkout", "kind": "error", "category": "network", "outcome": "failed",
            "status": "500", "breaker": "payments", "resource": "memory"}

Series = list[tuple[dict[str, str], list[float]]]  # (labels incl. __name__, one value per minute)
Probe = Callable[[int], float | None]  # minute -> value, None where the window has no data


class TestGenerationError(ValueError):
    """No candidate series gives a rule the outcome a test needs."""

    __test__ = False  # not a pytest test class, despite the name


def go_float(value: float) -> str:
    """``value`` as Go's ``fmt.Sprint`` prints a float64 (what ``{{ $value }}`` renders)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if 16 <= int(exponent) < 21:  # Go switches to the exponent form only from 1e21
            return str(int(value))
        return f"{mantissa.removesuffix('.0')}e{exponent[0]}{int(exponent[1:]):02d}"
    return text.removesuffix(".0")


def render(template: str, labels: dict[str, str], value: float) -> str:
    """Expand the ``{{ $labels.x }}`` / ``{{ $value }}`` templates the way Prometheus does."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) == "$value":
            return go_float(value)
        return labels.get(m.group(2), "<no value>")

    return _TEMPLATE.sub(one, template)


def _compress(values: Sequence[float]) -> str:
    """promtool's expanding notation: runs of a constant step become ``start+stepxN``."""
    parts: list[str] = []
    i = 0
    while i < len(values):
        j = i + 1
        if j < len(values):
            step = values[j] - values[i]
            while j + 1 < len(values) and values[j + 1] - values[j] == step:
                j += 1
            parts.append(f"{_num(values[i])}{'+' if step >= 0 else '-'}{_num(abs(step))}x{j - i}")
            i = j + 1
        else:
            parts.append(_num(values[i]))
            i = j
    return " ".join(parts)


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def _selector(labels: dict[str, str]) -> str:
    name = labels["__name__"]
    rest = ",".join(f"{k}={quote(v)}" for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}"


def _base_labels(rule: Rule, spec: MetricSpec) -> dict[str, str]:
    """Labels a series of ``spec`` needs to be selected by the rule's matchers."""
    labels = {name: _FILLERS.get(name, name) for name in (*spec.labels, "project")}
    own = [m for m in rule.matchers if m.name in labels]  # a ratio's denominator lacks some numerator labels
    for m in own:
        if m.op is MatchOp.EQ:
            labels[m.name] = m.value
        elif m.op is MatchOp.NE and labels.get(m.name) == m.value:
            labels[m.name] = m.value + "-other"
        elif m.op is MatchOp.RE and not m.matches(labels):
            labels[m.name] = m.value.split("|", 1)[0].replace("\\", "")
    for m in own:
        if not m.matches(labels):
            raise TestGenerationError(f"{rule.name}: cannot make up a label value matching {m}")
    return labels


def _window_minutes(seconds: float, rule: Rule, what: str) -> int:
    if seconds % 60:
        raise TestGenerationError(f"{rule.name}: {what} {seconds:g}s is not whole minutes")
    return int(seconds // 60)


def _increase(values: list[float], t: int, width: int, offset: int = 0) -> float | None:
    end = t - offset
    start = end - width
    if start < 0 or end >= len(values):
        return None
    return values[end] - values[start]


@dataclass(frozen=True)
class Shape:
    """Candidate input series for one rule and what Prometheus computes from them, minute by minute."""

    series: Series
    value: Probe
    evidence: Probe
    other: Probe | None = None  # burn-rate rules: the long window's burn rate (``value`` is the short one's)


# -- shapes per metric kind -------------------------------------------------------------------------------


def _cumulative(per_minute: float, minutes: int, *, after: float | None = None, change_at: int = 0) -> list[float]:
    """A counter growing by ``per_minute`` (by ``after`` from minute ``change_at`` on, when given)."""
    out = [0.0]
    for i in range(1, minutes + 1):
        out.append(out[-1] + (after if after is not None and i > change_at else per_minute))
    return out


def _increase_probe(values: list[float], width: int) -> Probe:
    return lambda t: _increase(values, t, width)


def _constant_probe(value: float, from_minute: int = 0) -> Probe:
    return lambda t: value if t >= from_minute else None


def _counter_shapes(rule: Rule, minutes: int, change_at: int) -> list[Shape]:
    spec = CATALOGUE[rule.metric]
    labels = {"__name__": spec.series + "_total", **_base_labels(rule, spec)}
    w = _window_minutes(rule.window, rule, "window")
    seconds = float(rule.window)
    is_rate = rule.effective_aggregation is Aggregation.RATE
    usual = 10.0
    shapes = []
    for now in (0, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3000, 6000):
        before = usual if rule.baseline is not None else float(now)
        values = _cumulative(before, minutes, after=float(now), change_at=change_at)

        def current(t: int, v: list[float] = values) -> float | None:
            inc = _increase(v, t, w)
            return None if inc is None else (inc / seconds if is_rate else inc)

        def value(t: int, v: list[float] = values, current: Probe = current) -> float | None:
            now_value = current(t)
            if now_value is None or rule.baseline is None:
                return now_value
            bw = _window_minutes(rule.baseline.window, rule, "baseline.window")
            bo = _window_minutes(rule.baseline.offset, rule, "baseline.offset")
            inc = _increase(v, t, bw, bo)
            if inc is None or inc == 0:
                return None  # x/0 is Inf or NaN in Prometheus: the candidates avoid it
            past = inc / rule.baseline.window if is_rate else inc
            return now_value / past

        shapes.append(Shape([(labels, values)], value, _increase_probe(values, w)))
    return shapes


def _ratio_series(rule: Rule, minutes: int, good: int, total: int) -> tuple[Series, list[float], list[float]]:
    spec = CATALOGUE[rule.metric]
    assert spec.numerator is not None and spec.denominator is not None
    num_spec, den_spec = CATALOGUE[spec.numerator], CATALOGUE[spec.denominator]
    num_labels = {"__name__": num_spec.series + "_total", **_base_labels(rule, num_spec)}
    for label, allowed in spec.numerator_match:
        num_labels[label] = allowed[0]
    numerator = _cumulative(float(good), minutes)
    if spec.numerator == spec.denominator:  # the numerator is part of the denominator (successes of all)
        other = dict(num_labels)
        for label, allowed in spec.numerator_match:
            other[label] = "failed" if "failed" not in allowed else "other"
        rest = _cumulative(float(total - good), minutes)
        denominator = [a + b for a, b in zip(numerator, rest, strict=True)]
        return [(num_labels, numerator), (other, rest)], numerator, denominator
    den_labels = {"__name__": den_spec.series + "_total", **_base_labels(rule, den_spec)}
    for label, allowed in getattr(spec, "denominator_match", ()):
        den_labels[label] = next(iter(allowed))
    denominator = _cumulative(float(total), minutes)
    return [(num_labels, numerator), (den_labels, denominator)], numerator, denominator


def _ratio(numerator: list[float], denominator: list[float], t: int, width: int) -> float | None:
    num, den = _increase(numerator, t, width), _increase(denominator, t, width)
    if num is None or den is None or den == 0:
        return None
    return num / den


def _ratio_probe(numerator: list[float], denominator: list[float], width: int) -> Probe:
    return lambda t: _ratio(numerator, denominator, t, width)


def _ratio_shapes(rule: Rule, minutes: int) -> list[Shape]:
    w = _window_minutes(rule.window, rule, "window")
    shapes = []
    for good in (0, 1, 2, 5, 10, 20, 50, 80, 90, 95, 99, 100):
        series, num, den = _ratio_series(rule, minutes, good, 100)
        shapes.append(Shape(series, _ratio_probe(num, den, w), _increase_probe(den, w)))
    return shapes


def _burn_shapes(rule: Rule, minutes: int) -> list[Shape]:
    assert rule.objective is not None and rule.long_window is not None and rule.short_window is not None
    long_w = _window_minutes(rule.long_window, rule, "long_window")
    short_w = _window_minutes(rule.short_window, rule, "short_window")
    budget = round(1.0 - rule.objective, 12)
    shapes = []
    for good in (1000, 999, 998, 995, 990, 980, 950, 900, 800, 500, 0):
        series, num, den = _ratio_series(rule, minutes, good, 1000)

        def burn(t: int, width: int, n: list[float] = num, d: list[float] = den) -> float | None:
            ratio = _ratio(n, d, t, width)
            if ratio is None:
                return None
            return ((1 - ratio) if rule.metric in GOOD_RATIOS else ratio) / budget

        def value(t: int, burn: Callable[[int, int], float | None] = burn) -> float | None:
            return burn(t, short_w)

        def long(t: int, burn: Callable[[int, int], float | None] = burn) -> float | None:
            return burn(t, long_w)

        shapes.append(Shape(series, value, _increase_probe(den, short_w), long))
    return shapes


def _gauge_shapes(rule: Rule, minutes: int, change_at: int) -> list[Shape]:
    spec = CATALOGUE[rule.metric]
    base = {"__name__": spec.series, **_base_labels(rule, spec)}
    w = _window_minutes(rule.window, rule, "window")
    shapes = []
    if rule.effective_aggregation is Aggregation.SUM:
        if rule.baseline is not None:
            raise TestGenerationError(f"{rule.name}: unit tests of a baseline on a sum are not generated")
        other = next((label for label in spec.labels if label not in rule.by and label != "project"), None)
        if other is None:
            raise TestGenerationError(f"{rule.name}: needs a label besides its by labels to sum several series")
        for count in range(11):
            series: Series = [({**base, other: f"{base[other]}-{i}"}, [1.0 if i else 0.0] * (minutes + 1))
                              for i in range(count + 1)]
            samples = float((count + 1) * (w + 1))
            shapes.append(Shape(series, _constant_probe(float(count)), _constant_probe(samples, w)))
        return shapes
    levels = (0.0, 0.1, 0.5, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0, 2.0, 3.0, 5.0, 10.0, 100.0)
    if rule.baseline is None:
        shapes.extend(Shape([(base, [level] * (minutes + 1))], _constant_probe(level, w),
                            _constant_probe(float(w + 1), w)) for level in levels)
        return shapes
    # the usual level 1 until change_at, then the candidate level: the value is level / 1 once the windows
    # no longer overlap the change
    bw = _window_minutes(rule.baseline.window, rule, "baseline.window")
    bo = _window_minutes(rule.baseline.offset, rule, "baseline.offset")
    for level in levels:
        values = [1.0 if i < change_at else level for i in range(minutes + 1)]
        shapes.append(Shape([(base, values)], _gauge_baseline_probe(rule, values, w, bw, bo),
                            _constant_probe(float(w + 1), w)))
    return shapes


def _over(values: list[float], t: int, width: int, offset: int, agg: Aggregation) -> float | None:
    end = t - offset
    if end - width < 0 or end >= len(values):
        return None
    window = values[end - width:end + 1]
    if agg is Aggregation.MIN:
        return min(window)
    if agg is Aggregation.MAX:
        return max(window)
    if agg is Aggregation.LAST:
        return window[-1]
    return sum(window) / len(window)  # avg: exact while the window holds one level (what the checks read)


def _gauge_baseline_probe(rule: Rule, values: list[float], width: int, base_width: int, base_offset: int) -> Probe:
    agg = rule.effective_aggregation

    def probe(t: int) -> float | None:
        now = _over(values, t, width, 0, agg)
        past = _over(values, t, base_width, base_offset, agg)
        if now is None or past is None or past <= 0:
            return None
        return now / past

    return probe


def _bucket_label(bound: float) -> str:
    """The ``le`` value as prometheus_client writes it (``0.005``, ``1.0``, ``+Inf``)."""
    return str(floatToGoString(bound))  # type: ignore[no-untyped-call]


def _distribution_shapes(rule: Rule, minutes: int) -> list[Shape]:
    spec = CATALOGUE[rule.metric]
    base = _base_labels(rule, spec)
    w = _window_minutes(rule.window, rule, "window")
    seconds = float(rule.window)
    agg = rule.effective_aggregation
    bounds = [*SECONDS_BUCKETS, math.inf]
    per_minute = 10.0
    shapes = []
    for j, upper in enumerate(bounds):
        observed = upper if not math.isinf(upper) else bounds[-2] * 2
        if agg is Aggregation.AVG and observed != int(observed):
            continue  # keep the _sum series whole numbers: exact in floats
        count = _cumulative(per_minute, minutes)
        total = _cumulative(per_minute * observed, minutes)
        series: Series = []
        for k, bound in enumerate(bounds):
            filled = count if k >= j else [0.0] * (minutes + 1)
            series.append(({"__name__": spec.series + "_bucket", **base, "le": _bucket_label(bound)}, filled))
        series.append(({"__name__": spec.series + "_count", **base}, count))
        series.append(({"__name__": spec.series + "_sum", **base}, total))

        def value(t: int, j: int = j, count: list[float] = count, total: list[float] = total) -> float | None:
            inc = _increase(count, t, w)
            if inc is None or inc == 0:
                return None
            rate = inc / seconds
            if agg is Aggregation.AVG:
                inc_sum = _increase(total, t, w)
                assert inc_sum is not None
                return (inc_sum / seconds) / rate
            q = 1.0 if agg is Aggregation.MAX else agg.quantile
            assert q is not None
            if math.isinf(bounds[j]):
                return bounds[-2]  # the rank falls in +Inf: histogram_quantile answers the last finite bound
            rank = q * rate
            start = bounds[j - 1] if j > 0 else 0.0
            return start + (bounds[j] - start) * (rank / rate)

        shapes.append(Shape(series, value, _increase_probe(count, w)))
    return shapes


def _age_probe(seen: list[float]) -> Probe:
    return lambda t: t * 60 - seen[t]


def _staleness_shapes(rule: Rule, minutes: int) -> list[Shape]:
    spec = CATALOGUE[rule.metric]
    labels = {"__name__": spec.series, **_base_labels(rule, spec)}
    shapes = []
    for silent in (0, 1, 2, 3, 5, 10, 30, 60, 120):
        last = minutes - silent
        values = [float(min(i, last) * 60) for i in range(minutes + 1)]
        shapes.append(Shape([(labels, values)], _age_probe(values), _constant_probe(1.0)))
    return shapes


# -- outcome of a shape ------------------------------------------------------------------------------------


def _holds(alert: ExportedAlert, shape: Shape, t: int) -> bool:
    rule = alert.rule
    value = shape.value(t)
    if value is None:
        return False
    if rule.type == "burn_rate":
        other = shape.other(t) if shape.other is not None else None
        if other is None or not (value > alert.threshold and other > alert.threshold):
            return False
    elif not _compare(value, rule.op, alert.threshold):
        return False
    if rule.min_count > 0 and CATALOGUE[rule.metric].kind is not MetricKind.STALENESS:
        evidence = shape.evidence(t)
        if evidence is None or evidence < rule.min_count:
            return False
    return True


def _compare(value: float, op: str, limit: float) -> bool:
    return {
        ">": value > limit, ">=": value >= limit, "<": value < limit, "<=": value <= limit,
        "==": value == limit, "!=": value != limit,
    }[op]


def _fires_at(alert: ExportedAlert, shape: Shape, end: int) -> bool:
    """Prometheus's alert state machine replayed once a minute up to ``end``: firing at ``end``?"""
    active_at: int | None = None
    firing = False
    kept_since: int | None = None
    keep = alert.rule.keep_firing_for / 60
    for t in range(end + 1):
        if _holds(alert, shape, t):
            kept_since = None
            if active_at is None:
                active_at = t
            if (t - active_at) * 60 >= alert.for_:
                firing = True
        elif firing and keep > 0:
            kept_since = t if kept_since is None else kept_since
            if t - kept_since >= keep:
                firing, active_at, kept_since = False, None, None
        else:
            firing, active_at, kept_since = False, None, None
    return firing


@dataclass(frozen=True)
class _Case:
    level: str
    shape: Shape
    firing: list[ExportedAlert]


def _shapes(rule: Rule, minutes: int, change_at: int) -> list[Shape]:
    kind = CATALOGUE[rule.metric].kind
    if rule.baseline is not None and kind in (MetricKind.RATIO, MetricKind.DISTRIBUTION):
        raise TestGenerationError(f"{rule.name}: unit tests of a baseline on a {kind.value} are not generated")
    if rule.type == "burn_rate":
        return _burn_shapes(rule, minutes)
    if kind is MetricKind.COUNTER:
        return _counter_shapes(rule, minutes, change_at)
    if kind is MetricKind.RATIO:
        return _ratio_shapes(rule, minutes)
    if kind is MetricKind.GAUGE:
        return _gauge_shapes(rule, minutes, change_at)
    if kind is MetricKind.DISTRIBUTION:
        return _distribution_shapes(rule, minutes)
    return _staleness_shapes(rule, minutes)


def _eval_minute(rule: Rule, alerts: list[ExportedAlert]) -> tuple[int, int]:
    """(eval minute, minute the baseline of a counter changes): enough history for every window."""
    history = rule.window + (rule.baseline.window + rule.baseline.offset if rule.baseline else 0.0)
    history = max(history, rule.long_window or 0.0)
    longest_for = max(a.for_ for a in alerts)
    end = math.ceil(history / 60) + math.ceil(longest_for / 60) + math.ceil(rule.keep_firing_for / 60) + 5
    return end, end - math.ceil(rule.window / 60) - math.ceil(rule.for_ / 60)


def _cases(rule: Rule, alerts: list[ExportedAlert], end: int, change_at: int) -> list[_Case]:
    base = alerts[0]
    worsened = [a for a in alerts if a.escalation == "worsened"]
    outcomes = [(shape, [a for a in alerts if _fires_at(a, shape, end)]) for shape in _shapes(rule, end, change_at)]
    wanted: list[tuple[str, Callable[[list[ExportedAlert]], bool]]] = [
        ("healthy", lambda firing: not firing),
        ("firing", lambda firing: base in firing and not any(a in firing for a in worsened)),
    ]
    if worsened:
        wanted.append(("escalated", lambda firing: base in firing and all(a in firing for a in worsened)))
    cases = []
    for level, ok in wanted:
        found = next(((shape, firing) for shape, firing in outcomes if ok(firing)), None)
        if found is None:
            raise TestGenerationError(f"{rule.name}: no generated series makes a {level!r} case")
        cases.append(_Case(level, found[0], found[1]))
    return cases


def _group_labels(rule: Rule, shape: Shape) -> dict[str, str]:
    first = shape.series[0][0]
    return {label: first[label] for label in rule.by if label in first}


def _test_group(rule: Rule, alerts: list[ExportedAlert], case: _Case, end: int) -> dict[str, Any]:
    group = _group_labels(rule, case.shape)
    value = case.shape.value(end)
    checks = []
    for name in dict.fromkeys(a.alertname for a in alerts):
        expected = []
        for alert in case.firing:
            if alert.alertname != name:
                continue
            item: dict[str, Any] = {"exp_labels": {**group, **alert.labels}}
            if rule.annotations:
                assert value is not None
                item["exp_annotations"] = {k: render(v, group, value) for k, v in rule.annotations.items()}
            expected.append(item)
        checks.append({"eval_time": f"{end}m", "alertname": name, "exp_alerts": expected})
    return {
        "name": f"{rule.name}: {case.level}",
        "interval": "1m",
        "input_series": [{"series": _selector(labels), "values": _compress(values)}
                         for labels, values in case.shape.series],
        "alert_rule_test": checks,
    }


def promtool_tests(rules: RuleSet, rule_file: str) -> dict[str, Any]:
    """A ``promtool test rules`` file for ``rules`` exported to ``rule_file`` (resolved relative to the test
    file by promtool). TestGenerationError names a rule no candidate series can exercise."""
    groups: list[dict[str, Any]] = []
    for rule in rules.rules:
        # forecast warnings (predict_linear) are checked by `promtool check rules` only; anomaly rules export nothing
        alerts = [alert for alert in exported_alerts(rule) if not alert.forecast]
        if not alerts:
            continue
        end, change_at = _eval_minute(rule, alerts)
        groups.extend(_test_group(rule, alerts, case, end) for case in _cases(rule, alerts, end, change_at))
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": groups}


def promtool_tests_yaml(rules: RuleSet, rule_file: str) -> str:
    header = HEADER.replace("prometheus-rules`", "prometheus-rules --tests`")
    return header + dump_yaml(promtool_tests(rules, rule_file))
