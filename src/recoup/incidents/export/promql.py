"""A rule (`recoup.incidents.rules.Rule`) as a PromQL expression over the series of
`recoup.server.signal_metrics`, with the in-process evaluator's meaning:

=============  ======================================================================================
aggregation    PromQL (``by`` = the rule's ``by`` labels, ``m`` = its matchers, ``w`` = its window)
=============  ======================================================================================
rate / count   ``sum by (..) (rate|increase(<series>_total{m}[w]))``
ratio          ``(N or 0 * D) / D``, N and D the ``increase`` of numerator and denominator counters
               (``or 0 * D``: a group with operations but no successes is a ratio of 0, not missing)
last/min/max   ``max|min|max by (..) (last|min|max_over_time(<series>{m}[w]))``; avg: ``avg_over_time``
sum            ``sum by (..) (<series>{m})``: the current level of every matching series
p50..p99       ``histogram_quantile(q, sum by (le, ..) (rate(<series>_bucket{m}[w])))``
avg / max      ``_sum`` rate over ``_count`` rate / ``histogram_quantile(1, ..)`` (the bucket bound)
age            ``time() - max by (..) (recoup_last_seen_timestamp_seconds{m})``
=============  ======================================================================================

``min_count`` adds ``and <evidence> >= n`` (counter increase, ratio denominator, gauge sample count,
distribution observation count); ``baseline`` divides by the same expression over the baseline window
with ``offset`` (a zero baseline judges nothing); ``burn_rate`` rules use the multi-window form of Google's
SRE workbook. A ``forecast`` becomes ``predict_linear`` over a subquery of the rule's value (lookback the
horizon, at least five sampling intervals; step the interval), ``unless`` the threshold is already crossed.
``type: anomaly`` rules have no PromQL form (`anomaly_expr` raises): Prometheus has no streaming detector
with memory of the stream, and a z-score over a range would be a different, noisier rule.

Where the two engines cannot agree exactly: quantiles are estimated from histogram buckets (in-process they
are exact), a gauge's ``min_count`` counts scraped samples (in-process: reported values), and ``last`` over
several series of one group is their highest last value (in-process: the most recently reported one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from recoup.incidents.catalogue import CATALOGUE, Aggregation, MetricKind, MetricSpec
from recoup.incidents.model import Matcher, MatchOp
from recoup.incidents.rules import SUCCESS_RATIOS, Rule, format_duration

#: Ratio metrics that count good outcomes: their burn rate reads the complement (1 - ratio) as the errors.
GOOD_RATIOS = frozenset(SUCCESS_RATIOS)


def number(value: float) -> str:
    """A PromQL number literal: ``5``, ``0.05``, ``1e-05`` (never ``5.0``); ``+Inf``/``NaN`` as PromQL spells them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def quote(value: str) -> str:
    """A double-quoted PromQL string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def selector(series: str, matchers: Iterable[Matcher] = ()) -> str:
    """``series{a="b",c=~"d"}`` (just ``series`` without matchers)."""
    parts = [f"{m.name}{m.op.value}{quote(m.value)}" for m in matchers]
    return f"{series}{{{','.join(parts)}}}" if parts else series


def _range(window: float, offset: float) -> str:
    out = f"[{format_duration(window)}]"
    return f"{out} offset {format_duration(offset)}" if offset > 0 else out


def _by(labels: Iterable[str]) -> str:
    names = list(labels)
    return f" by ({', '.join(names)})" if names else ""


def _one_of(values: Iterable[str]) -> str:
    return "|".join(re.escape(v) for v in values)


def _counter(agg: str, spec: MetricSpec, matchers: list[Matcher], by: str, window: float, offset: float) -> str:
    return f"sum{by} ({agg}({selector(spec.series + '_total', matchers)}{_range(window, offset)}))"


def _ratio_parts(rule: Rule, window: float, offset: float) -> tuple[str, str]:
    spec = CATALOGUE[rule.metric]
    assert spec.numerator is not None and spec.denominator is not None
    by = _by(rule.by)
    den_spec = CATALOGUE[spec.denominator]
    # as in-process: the numerator takes every matcher, the denominator those on its own labels
    numerator_matchers = list(rule.matchers) + _one_of_matchers(spec.numerator_match)
    den_labels = {*den_spec.labels, "project"}
    denominator_matchers = [m for m in rule.matchers if m.name in den_labels] + _one_of_matchers(
        getattr(spec, "denominator_match", ()))  # not in the catalogue contract yet; honoured once it is
    num = _counter("increase", CATALOGUE[spec.numerator], numerator_matchers, by, window, offset)
    den = _counter("increase", den_spec, denominator_matchers, by, window, offset)
    return num, den


def _one_of_matchers(allowed: Iterable[tuple[str, Iterable[str]]]) -> list[Matcher]:
    return [Matcher(label, MatchOp.RE, _one_of(values)) for label, values in allowed]


def ratio_expr(rule: Rule, window: float, offset: float = 0.0) -> str:
    """The rule's ratio metric over ``window``: ``(N or 0 * D) / D``."""
    num, den = _ratio_parts(rule, window, offset)
    return f"({num} or 0 * {den}) / {den}"


def value_expr(rule: Rule, window: float | None = None, offset: float = 0.0) -> str:
    """The value a threshold rule compares (before any baseline), over ``window`` (the rule's by default)
    ending ``offset`` ago."""
    spec = CATALOGUE[rule.metric]
    agg = rule.effective_aggregation
    w = rule.window if window is None else window
    m = list(rule.matchers)
    by = _by(rule.by)
    if spec.kind is MetricKind.COUNTER:
        return _counter("rate" if agg is Aggregation.RATE else "increase", spec, m, by, w, offset)
    if spec.kind is MetricKind.RATIO:
        return ratio_expr(rule, w, offset)
    if spec.kind is MetricKind.GAUGE:
        if agg is Aggregation.SUM:
            off = f" offset {format_duration(offset)}" if offset > 0 else ""
            return f"sum{by} ({selector(spec.series, m)}{off})"
        outer, inner = {
            Aggregation.LAST: ("max", "last_over_time"),
            Aggregation.AVG: ("avg", "avg_over_time"),
            Aggregation.MIN: ("min", "min_over_time"),
            Aggregation.MAX: ("max", "max_over_time"),
        }[agg]
        return f"{outer}{by} ({inner}({selector(spec.series, m)}{_range(w, offset)}))"
    if spec.kind is MetricKind.DISTRIBUTION:
        if agg is Aggregation.AVG:
            total = f"sum{by} (rate({selector(spec.series + '_sum', m)}{_range(w, offset)}))"
            count = f"sum{by} (rate({selector(spec.series + '_count', m)}{_range(w, offset)}))"
            return f"{total} / {count}"
        q = 1.0 if agg is Aggregation.MAX else agg.quantile
        assert q is not None
        by_le = ", ".join(["le", *rule.by])
        buckets = f"sum by ({by_le}) (rate({selector(spec.series + '_bucket', m)}{_range(w, offset)}))"
        return f"histogram_quantile({number(q)}, {buckets})"
    # STALENESS: seconds since the newest last-seen timestamp of the group
    return f"time() - max{by} ({selector(spec.series, m)})"


def evidence_expr(rule: Rule, window: float | None = None) -> str | None:
    """How much the window holds, for ``min_count``: counter increase, ratio denominator, gauge samples,
    distribution observations. None for staleness (there is nothing to count)."""
    spec = CATALOGUE[rule.metric]
    w = rule.window if window is None else window
    m = list(rule.matchers)
    by = _by(rule.by)
    if spec.kind is MetricKind.COUNTER:
        return _counter("increase", spec, m, by, w, 0.0)
    if spec.kind is MetricKind.RATIO:
        return _ratio_parts(rule, w, 0.0)[1]
    if spec.kind is MetricKind.GAUGE:
        return f"sum{by} (count_over_time({selector(spec.series, m)}{_range(w, 0.0)}))"
    if spec.kind is MetricKind.DISTRIBUTION:
        return f"sum{by} (increase({selector(spec.series + '_count', m)}{_range(w, 0.0)}))"
    return None


def threshold_value_expr(rule: Rule) -> str:
    """The value of a threshold rule, divided by its baseline when it has one."""
    current = value_expr(rule)
    if rule.baseline is None:
        return current
    past = value_expr(rule, rule.baseline.window, rule.baseline.offset)
    return f"({current}) / ({past} > 0)"  # no baseline (zero) judges nothing, as in-process


def _with_min_count(rule: Rule, condition: str, window: float | None = None) -> str:
    if rule.min_count <= 0:
        return condition
    evidence = evidence_expr(rule, window)
    if evidence is None:
        return condition
    return f"{condition} and ({evidence}) >= {rule.min_count}"


def burn_rate_expr(rule: Rule, factor: float | None = None) -> str:
    """Both windows burn the error budget faster than ``factor`` (the rule's by default); the value is the
    short window's burn rate (bad fraction / error budget) and ``min_count`` applies to the short window's
    operations, as in-process."""
    assert rule.objective is not None and rule.long_window is not None and rule.short_window is not None
    limit = rule.factor if factor is None else factor
    assert limit is not None
    budget = number(round(1.0 - rule.objective, 12))

    def burn(window: float) -> str:
        ratio = ratio_expr(rule, window)
        bad = f"(1 - ({ratio}))" if rule.metric in GOOD_RATIOS else f"({ratio})"
        return f"{bad} / {budget} > {number(limit)}"

    condition = f"{burn(rule.short_window)} and {burn(rule.long_window)}"
    return _with_min_count(rule, condition, rule.short_window)


class NoPromQL(ValueError):
    """A rule Prometheus cannot evaluate with the same meaning (``type: anomaly``)."""


def forecast_expr(rule: Rule) -> str:
    """The forecast warning of a threshold rule with ``forecast``: the least-squares line of its value over the
    lookback, extrapolated ``horizon`` ahead, crosses the threshold, while the threshold is not crossed yet."""
    assert rule.forecast is not None
    horizon, step = rule.forecast.horizon, rule.forecast.interval
    lookback = max(horizon, 5 * step)
    value = threshold_value_expr(rule)
    limit = number(rule.threshold)
    ahead = f"predict_linear(({value})[{format_duration(lookback)}:{format_duration(step)}], {number(horizon)})"
    condition = f"({ahead} {rule.op} {limit}) unless (({value}) {rule.op} {limit})"
    return _with_min_count(rule, f"({condition})")


def alert_expr(rule: Rule, threshold: float | None = None) -> str:
    """The PromQL condition of ``rule`` (with ``threshold`` instead of the rule's, for escalations; a burn-rate
    rule's threshold is its factor)."""
    if rule.type == "burn_rate":
        return burn_rate_expr(rule, threshold)
    if rule.type == "anomaly":
        raise NoPromQL(f"{rule.name}: type: anomaly has no PromQL equivalent (recoup's streaming detector)")
    limit = rule.threshold if threshold is None else threshold
    condition = f"({threshold_value_expr(rule)}) {rule.op} {number(limit)}"
    return _with_min_count(rule, condition)
