"""The in-process rule evaluator: observations in, alert transitions out.

Event-driven: `Evaluator.observe` records a batch of observations and at once re-evaluates only the rules
whose metric (or ratio numerator/denominator) the batch touched, for the label groups it touched, so a
spike is detected on the event that crosses the threshold. Time-driven: `Evaluator.tick` (the server calls
it about once a second) handles what no event triggers: ``for`` and ``keep_firing_for`` elapsing, events
leaving a window, staleness, escalation by persistence, baselines moving.

The lifecycle is Prometheus's: condition holds -> PENDING -> FIRING once it has held for ``for`` (at once
for ``for: 0``); a PENDING alert whose condition stops holding is INACTIVE; a FIRING one stays firing until
the condition has been false for ``keep_firing_for``, then RESOLVED. Severity escalates (never back within
an episode) when the value passes ``escalate.threshold`` or the alert has fired for ``escalate.after``.

Baselines: the value becomes current / (same aggregation over the baseline span). Windows live in memory,
so a baseline is judged only once this evaluator has watched its whole span (``started_at``) and it is
above 0; before that the condition cannot hold. Alert labels leave out ``by`` labels whose value is empty.

Sampled rules: `tick` samples the value of an anomaly rule (and of a rule with a ``forecast``) once per
``interval`` per label group, only when the window has data and ``min_count`` evidence. An anomaly rule's
condition holds for ``anomaly.hold`` after a sample whose detector score reaches ``anomaly.threshold`` (on the
watched side of the stream's moving average). A ``forecast`` adds a second alert of the rule, labelled
``forecast="true"`` with the forecast's severity and a ``breach_in`` annotation, holding while the trend
crosses the threshold within the horizon and the threshold is not crossed yet (the real alert takes over).
"""

from __future__ import annotations

import math
import operator
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from recoup.incidents.catalogue import CATALOGUE, Aggregation, MetricKind
from recoup.incidents.model import (
    Alert,
    AlertState,
    AlertTransition,
    Matcher,
    MatchOp,
    Severity,
    labels_fingerprint,
)
from recoup.incidents.rules import Rule, RuleSet, format_duration
from recoup.incidents.signals import Observation
from recoup.incidents.windows import (
    STREAM_RETENTION,
    AnomalyStream,
    ForecastStream,
    GroupKey,
    Series,
    SeriesGroups,
    Span,
    WindowStats,
    WindowStore,
)

#: How long a resolved alert stays readable through `Evaluator.alert` (Prometheus keeps them 15 minutes).
RESOLVED_RETENTION = 900.0

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
}
_TEMPLATE = re.compile(r"\{\{\s*\$(?:labels\.([A-Za-z_][A-Za-z0-9_]*)|(value))\s*\}\}")


def format_value(value: float) -> str:
    """Compact number for annotations: 0.0731 -> "0.0731", 120.0 -> "120", 14.4 -> "14.4"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1000:
        return f"{value:.0f}"
    text = f"{value:.4g}"
    if "e" in text and abs(value) >= 1e-6:
        text = f"{value:.8f}".rstrip("0").rstrip(".")
    return text


def render(template: str, labels: Mapping[str, str], value: float) -> str:
    """Substitute ``{{ $labels.x }}`` (empty when absent) and ``{{ $value }}``."""
    def sub(m: re.Match[str]) -> str:
        return format_value(value) if m.group(2) else labels.get(m.group(1), "")

    return _TEMPLATE.sub(sub, template)


@dataclass(slots=True)
class _Episode:
    alert: Alert
    false_since: float | None = None  # firing, condition false since (keep_firing_for)


#: Rules with a `for` up to this long are evaluated on every event that touches them (see `_RuleState.eager`).
EAGER_FOR_LIMIT = 60.0


class _RuleState:
    """One rule compiled: its series groups per role, its spans, and its alerts per group."""

    def __init__(self, rule: Rule, *, forecast: bool = False) -> None:
        self.rule = rule
        #: the forecast variant of a rule with ``forecast`` (its own alerts, labelled forecast="true")
        self.is_forecast = forecast
        self.anomalies: dict[GroupKey, AnomalyStream] = {}
        self.forecasts: dict[GroupKey, ForecastStream] = {}
        self.next_sample: dict[GroupKey, float] = {}
        if rule.type == "anomaly":
            self.sample_every: float | None = rule.anomaly_settings.interval
        elif forecast:
            assert rule.forecast is not None
            self.sample_every = rule.forecast.interval
        else:
            self.sample_every = None
        self.spec = CATALOGUE[rule.metric]
        self.kind = self.spec.kind
        #: Evaluated on the events that touch it (else only on ticks): rules whose condition an arriving event
        #: can make true and that would fire soon after. A "below" rule turns true when events stop coming,
        #: which only a tick sees; a rule with a long `for` or a sampled rule loses nothing to a tick's delay
        #: (at most the evaluation interval, against minutes), and skipping them is most of ingest's cost.
        self.eager = (
            self.sample_every is None and rule.for_ <= EAGER_FOR_LIMIT and rule.op not in ("<", "<=")
        )
        self.aggregation = rule.effective_aggregation
        self.op = _OPS[rule.op]
        self.window = Span(rule.window)
        self.baseline = Span(rule.baseline.window, rule.baseline.offset) if rule.baseline else None
        self.long = Span(rule.long_window) if rule.long_window else None
        self.short = Span(rule.short_window) if rule.short_window else None
        matchers = rule.matchers
        # role -> (metric, groups)
        self.roles: dict[str, tuple[str, SeriesGroups]] = {}
        if self.kind is MetricKind.RATIO:
            assert self.spec.numerator is not None and self.spec.denominator is not None
            den_labels = {*CATALOGUE[self.spec.denominator].labels, "project"}
            # ``denominator_match`` is not in the catalogue contract yet; honoured once MetricSpec has it
            den_extra = _in_matchers(getattr(self.spec, "denominator_match", ()))
            self.roles["num"] = (
                self.spec.numerator, SeriesGroups(matchers + _in_matchers(self.spec.numerator_match), rule.by),
            )
            self.roles["den"] = (
                self.spec.denominator,
                SeriesGroups([m for m in matchers if m.name in den_labels] + list(den_extra), rule.by),
            )
        else:
            self.roles["main"] = (rule.metric, SeriesGroups(matchers, rule.by))
        self.episodes: dict[GroupKey, _Episode] = {}

    def spans(self) -> list[Span]:
        if self.rule.type == "burn_rate":
            assert self.long is not None and self.short is not None
            return [self.long, self.short]
        if self.kind is MetricKind.STALENESS:
            return []
        return [self.window] + ([self.baseline] if self.baseline else [])

    def group_keys(self) -> set[GroupKey]:
        out = set(self.episodes)
        for _metric, groups in self.roles.values():
            out.update(groups.keys())
        return out

    def group_key(self, labels: Mapping[str, str]) -> GroupKey:
        return tuple(labels.get(name, "") for name in self.rule.by)


class Evaluator:
    """Evaluates a `RuleSet` on observations as they arrive. Thread-safe (one lock; every call is short)."""

    def __init__(self, rules: RuleSet, *, clock: Callable[[], float] = time.time) -> None:
        self.rules = rules
        self._clock = clock
        self._lock = threading.RLock()
        self._states = [_RuleState(rule) for rule in rules.rules]
        self._by_name = {rs.rule.name: rs for rs in self._states}
        self._states += [_RuleState(rule, forecast=True) for rule in rules.rules if rule.forecast is not None]
        self._forecast_of = {rs.rule.name: rs for rs in self._states if rs.is_forecast}
        spans: dict[str, list[Span]] = {}
        # metric -> [(rule state, role)]: the index that keeps `observe` from looking at unrelated rules
        self._watchers: dict[str, list[tuple[_RuleState, str]]] = {}
        for rs in self._states:
            for role, (metric, _groups) in rs.roles.items():
                spans.setdefault(metric, []).extend(rs.spans())
                self._watchers.setdefault(metric, []).append((rs, role))
        self._store = WindowStore(spans)
        # series -> the (rule state, group key) pairs it feeds
        self._feeds: dict[int, list[tuple[_RuleState, GroupKey]]] = {}
        self._by_fingerprint: dict[str, tuple[_RuleState, GroupKey]] = {}
        #: windows and baselines hold data only from here on (a baseline needs its whole span watched)
        self.started_at = clock()

    # -- the two paths ---------------------------------------------------------------------------------

    def observe(self, observations: Iterable[Observation]) -> list[AlertTransition]:
        """Record observations, then re-evaluate the rules and label groups they touched."""
        with self._lock:
            now = self._clock()
            touched: dict[tuple[int, GroupKey], tuple[_RuleState, GroupKey]] = {}
            store = self._store
            for obs in observations:
                added = store.add(obs, now)
                if added is None:
                    continue
                series, created = added
                feeds = self._admit(series) if created else self._feeds.get(id(series), ())
                for rs, key in feeds:
                    if rs.eager:
                        touched[(id(rs), key)] = (rs, key)
            out: list[AlertTransition] = []
            for rs, key in touched.values():
                self._step(rs, key, now, out)
            return out

    def tick(self, now: float | None = None) -> list[AlertTransition]:
        """Re-evaluate every rule and group at ``now`` (default: the clock), and drop expired data."""
        with self._lock:
            when = self._clock() if now is None else now
            for series in self._store.gc(when):
                self._forget(series)
            out: list[AlertTransition] = []
            for rs in self._states:
                keys = rs.group_keys()
                if rs.sample_every is not None:
                    self._sample(rs, keys, when)
                for key in keys:
                    self._step(rs, key, when, out)
                for key, ep in list(rs.episodes.items()):
                    resolved_at = ep.alert.resolved_at
                    if resolved_at is not None and when - resolved_at >= RESOLVED_RETENTION:
                        del rs.episodes[key]
                        self._by_fingerprint.pop(ep.alert.fingerprint, None)
            return out

    # -- reading ---------------------------------------------------------------------------------------

    def alerts(self) -> list[Alert]:
        """Pending and firing alerts."""
        with self._lock:
            return [
                ep.alert
                for rs in self._states
                for ep in rs.episodes.values()
                if ep.alert.state in (AlertState.PENDING, AlertState.FIRING)
            ]

    def alert(self, fingerprint: str) -> Alert | None:
        """A pending, firing or recently resolved alert by fingerprint."""
        with self._lock:
            found = self._by_fingerprint.get(fingerprint)
            if found is None:
                return None
            ep = found[0].episodes.get(found[1])
            return ep.alert if ep is not None else None

    def value(self, rule_name: str, labels: Mapping[str, str]) -> float | None:
        """The current value of a rule for the group ``labels`` name (by its ``by`` labels); None without
        data. KeyError for an unknown rule."""
        with self._lock:
            rs = self._by_name.get(rule_name)
            if rs is None:
                raise KeyError(f"unknown rule {rule_name!r}; known: {', '.join(sorted(self._by_name))}")
            return self._evaluate(rs, rs.group_key(labels), self._clock())[1]

    def acknowledge(self, fingerprint: str, by: str) -> Alert:
        """Mark a pending or firing alert acknowledged; kept until it resolves. A recently resolved alert is
        returned unchanged (its episode is over). KeyError when the evaluator knows no such alert."""
        if not by:
            raise ValueError("acknowledge: 'by' must name who acknowledges")
        with self._lock:
            found = self._by_fingerprint.get(fingerprint)
            ep = found[0].episodes.get(found[1]) if found is not None else None
            if ep is None:
                raise KeyError(f"no pending, firing or recently resolved alert with fingerprint {fingerprint!r}")
            if ep.alert.state in (AlertState.PENDING, AlertState.FIRING):
                ep.alert = ep.alert.evolve(acknowledged_by=by, acknowledged_at=self._clock())
            return ep.alert

    def anomalies(self) -> list[dict[str, Any]]:
        """The live state of every anomaly rule per label group: last sampled value and score, whether the
        condition holds now, how many samples the detector has seen."""
        with self._lock:
            now = self._clock()
            out = []
            for rs in self._states:
                settings = rs.rule.anomaly_settings
                for key, stream in rs.anomalies.items():
                    out.append({
                        "rule": rs.rule.name, "labels": self._group_labels(rs, key), "value": stream.value,
                        "score": stream.score, "threshold": settings.threshold,
                        "anomalous": stream.anomalous_until > now, "anomalous_at": stream.anomalous_at,
                        "samples": stream.detector.samples, "min_history": settings.min_history,
                        "sampled_at": stream.sampled_at,
                    })
            return out

    def forecasts(self) -> list[dict[str, Any]]:
        """The live trend of every forecast rule per label group: level, slope per second, and the breach
        expected within the horizon (None when none is)."""
        with self._lock:
            out = []
            for rs in self._states:
                for key, stream in rs.forecasts.items():
                    breach = stream.breach
                    out.append({
                        "rule": rs.rule.name, "labels": self._group_labels(rs, key), "value": stream.value,
                        "level": stream.forecaster.level, "slope": stream.forecaster.slope,
                        "threshold": rs.rule.threshold, "sampled_at": stream.sampled_at,
                        "breach_at": breach.at if breach else None,
                        "breach_in": breach.seconds if breach else None,
                    })
            return out

    # -- persistence of alert state (not window data) --------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Alert state as JSON-safe data, for `from_state` after a restart."""
        with self._lock:
            return {
                "version": 1,
                "episodes": [
                    {"alert": ep.alert.to_dict(), "false_since": ep.false_since}
                    for rs in self._states
                    for ep in rs.episodes.values()
                ],
            }

    def from_state(self, state: Mapping[str, Any]) -> int:
        """Restore alerts saved by `to_state`; alerts of rules no longer loaded are skipped. Returns how many
        were restored. ValueError naming the entry when the data is malformed (nothing is restored then)."""
        if state.get("version") != 1 or not isinstance(state.get("episodes"), list):
            raise ValueError("alert state: expected {'version': 1, 'episodes': [...]}")
        restored: list[tuple[_RuleState, GroupKey, _Episode]] = []
        for i, item in enumerate(state["episodes"]):
            try:
                a = item["alert"]
                alert = Alert(
                    fingerprint=str(a["fingerprint"]), rule=str(a["rule"]),
                    labels={str(k): str(v) for k, v in a["labels"].items()},
                    annotations={str(k): str(v) for k, v in a["annotations"].items()},
                    severity=Severity(a["severity"]), state=AlertState(a["state"]), value=float(a["value"]),
                    active_at=float(a["active_at"]), fired_at=_opt(a.get("fired_at")),
                    resolved_at=_opt(a.get("resolved_at")), last_evaluated_at=float(a.get("last_evaluated_at", 0)),
                    acknowledged_by=a.get("acknowledged_by"), acknowledged_at=_opt(a.get("acknowledged_at")),
                )
                false_since = _opt(item.get("false_since"))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ValueError(f"alert state: episodes[{i}]: {exc!r}") from None
            rs = self._by_name.get(alert.rule)
            if alert.labels.get("forecast") == "true":
                rs = self._forecast_of.get(alert.rule)
            if rs is not None:
                restored.append((rs, rs.group_key(alert.labels), _Episode(alert, false_since)))
        with self._lock:
            for rs, key, ep in restored:
                rs.episodes[key] = ep
                self._by_fingerprint[ep.alert.fingerprint] = (rs, key)
        return len(restored)

    # -- internals -------------------------------------------------------------------------------------

    def _admit(self, series: Series) -> list[tuple[_RuleState, GroupKey]]:
        feeds: list[tuple[_RuleState, GroupKey]] = []
        for rs, role in self._watchers.get(series.metric, ()):
            key = rs.roles[role][1].admit(series)
            if key is not None:
                feeds.append((rs, key))
        self._feeds[id(series)] = feeds
        return feeds

    def _forget(self, series: Series) -> None:
        self._feeds.pop(id(series), None)
        for rs, role in self._watchers.get(series.metric, ()):
            rs.roles[role][1].discard(series)

    def _stats(self, rs: _RuleState, role: str, key: GroupKey, span: Span, now: float) -> WindowStats:
        return self._store.stats(rs.roles[role][1].members(key), span, now)

    def _ratio(self, rs: _RuleState, key: GroupKey, span: Span, now: float) -> tuple[float | None, float]:
        den = self._stats(rs, "den", key, span, now)
        if den.count <= 0:
            return None, 0.0
        num = self._stats(rs, "num", key, span, now)
        return num.count / den.count, den.count

    def _measure(self, rs: _RuleState, key: GroupKey, span: Span, now: float) -> tuple[float | None, float]:
        """(value, count) of the rule's aggregation over ``span``; count is what ``min_count`` compares."""
        agg = rs.aggregation
        if rs.kind is MetricKind.RATIO:
            return self._ratio(rs, key, span, now)
        members = rs.roles["main"][1].members(key)
        if not members:
            return None, 0.0
        st = self._store.stats(members, span, now)
        if rs.kind is MetricKind.COUNTER:
            return (st.count / span.length if agg is Aggregation.RATE else st.count), st.count
        if rs.kind is MetricKind.GAUGE:
            if agg in (Aggregation.LAST, Aggregation.SUM) and span.offset == 0:
                held = [s for s in members if s.last_value is not None]
                if not held:
                    return None, st.n
                if agg is Aggregation.SUM:
                    return sum(s.last_value or 0.0 for s in held), st.n
                latest = max(held, key=lambda s: s.last_at or 0.0)
                return latest.last_value, st.n
            if st.n == 0:
                return None, 0
            if agg is Aggregation.MIN:
                return st.lo, st.n
            if agg is Aggregation.MAX:
                return st.hi, st.n
            if agg is Aggregation.SUM and span.offset:  # baseline of a sum: sum of each series' average
                total = 0.0
                for s in members:
                    avg = self._store.stats([s], span, now).avg
                    total += avg or 0.0
                return total, st.n
            return st.avg, st.n  # avg, and `last` over a baseline span
        # distribution
        if st.n == 0:
            return None, 0
        q = agg.quantile
        if q is not None:
            return st.quantile(q), st.n
        return (st.hi if agg is Aggregation.MAX else st.avg), st.n

    def _evaluate(self, rs: _RuleState, key: GroupKey, now: float) -> tuple[bool, float | None]:
        """(condition holds, value) for one group at ``now``."""
        rule = rs.rule
        if rule.type == "burn_rate":
            assert rs.long is not None and rs.short is not None
            assert rule.objective is not None and rule.factor is not None
            budget = 1.0 - rule.objective
            short, short_n = self._ratio(rs, key, rs.short, now)
            if short is None:
                return False, None
            burn_short = (1.0 - short) / budget
            long, long_n = self._ratio(rs, key, rs.long, now)
            if long is None or min(short_n, long_n) < rule.min_count:
                return False, burn_short
            return (1.0 - long) / budget > rule.factor and burn_short > rule.factor, burn_short
        if rs.kind is MetricKind.STALENESS:
            seen = [s.last_at for s in rs.roles["main"][1].members(key) if s.last_at is not None]
            if not seen:
                return False, None
            age = now - max(seen)
            return rs.op(age, rule.threshold), age
        value, count = self._threshold_value(rs, key, now)
        if value is None:
            return False, None
        enough = count >= rule.min_count
        if rule.type == "anomaly":
            stream = rs.anomalies.get(key)
            return stream is not None and stream.anomalous_until > now, value
        breached = enough and rs.op(value, rule.threshold)
        if rs.is_forecast:
            ahead = rs.forecasts.get(key)
            return enough and not breached and ahead is not None and ahead.breach is not None, value
        return breached, value

    def _threshold_value(self, rs: _RuleState, key: GroupKey, now: float) -> tuple[float | None, float]:
        """(value, evidence count) of a threshold or anomaly rule: its aggregation, over its baseline if any."""
        value, count = self._measure(rs, key, rs.window, now)
        if value is None:
            return None, count
        if rs.baseline is not None:
            if self.started_at > now - rs.baseline.offset - rs.baseline.length + rs.baseline.width:
                return None, count  # not watched for the whole baseline span yet
            base, _ = self._measure(rs, key, rs.baseline, now)
            if base is None or base <= 0:
                return None, count
            value = value / base
        return value, count

    def _sample(self, rs: _RuleState, keys: Iterable[GroupKey], now: float) -> None:
        """Feed each due group's value into its anomaly detector or forecaster; forget long-silent groups."""
        rule = rs.rule
        assert rs.sample_every is not None
        for key in keys:
            if now < rs.next_sample.get(key, -math.inf):
                continue
            value, count = self._threshold_value(rs, key, now)
            if value is None or count < rule.min_count or not math.isfinite(value):
                continue
            rs.next_sample[key] = now + rs.sample_every
            if rule.type == "anomaly":
                settings = rule.anomaly_settings
                stream = rs.anomalies.get(key)
                if stream is None:
                    stream = rs.anomalies[key] = AnomalyStream(settings.memory, settings.min_history)
                hold = rule.window if settings.hold is None else settings.hold
                stream.sample(value, now, settings.threshold, settings.direction, hold)
            else:
                assert rule.forecast is not None
                ahead = rs.forecasts.get(key)
                if ahead is None:
                    ahead = rs.forecasts[key] = ForecastStream()
                ahead.sample(value, now, rule.threshold, rule.op in (">", ">="), rule.forecast.horizon,
                             rule.forecast.min_history)
        silent = [k for k, at in rs.next_sample.items() if now - at > STREAM_RETENTION]
        for k in silent:  # bounded memory: a group gone a day loses its history
            rs.anomalies.pop(k, None)
            rs.forecasts.pop(k, None)
            del rs.next_sample[k]

    def _group_labels(self, rs: _RuleState, key: GroupKey) -> dict[str, str]:
        return {name: v for name, v in zip(rs.rule.by, key, strict=True) if v}

    def _labels(self, rs: _RuleState, key: GroupKey, severity: Severity) -> dict[str, str]:
        labels = self._group_labels(rs, key)
        labels.update(rs.rule.labels)
        if rs.is_forecast:
            labels["forecast"] = "true"
        labels["alertname"] = rs.rule.name
        labels["severity"] = severity.value
        return labels

    def _step(self, rs: _RuleState, key: GroupKey, now: float, out: list[AlertTransition]) -> None:
        """Evaluate one group and move its alert through the lifecycle, appending each transition."""
        holds, value = self._evaluate(rs, key, now)
        rule = rs.rule
        severity = rule.forecast.severity if rs.is_forecast and rule.forecast is not None else rule.severity
        ep = rs.episodes.get(key)
        if ep is None or ep.alert.state in (AlertState.INACTIVE, AlertState.RESOLVED):
            if not holds or value is None:
                return
            previous = AlertState.INACTIVE if ep is None else ep.alert.state
            labels = self._labels(rs, key, severity)
            identity = {k: v for k, v in labels.items() if k != "severity"}
            state = AlertState.FIRING if rule.for_ <= 0 else AlertState.PENDING
            alert = Alert(
                fingerprint=labels_fingerprint(identity), rule=rule.name, labels=labels,
                annotations=self._annotations(rs, labels, value, now), severity=severity, state=state,
                value=value, active_at=now, fired_at=now if state is AlertState.FIRING else None,
                last_evaluated_at=now,
            )
            ep = rs.episodes[key] = _Episode(alert)
            self._by_fingerprint[alert.fingerprint] = (rs, key)
            out.append(AlertTransition(alert, previous, now))
            if state is AlertState.FIRING:
                self._escalate(rs, ep, now, out)
            return
        alert = ep.alert
        shown = alert.value if value is None else value
        if holds:
            ep.false_since = None
            if alert.state is AlertState.PENDING and now - alert.active_at >= rule.for_:
                ep.alert = self._refresh(rs, alert, shown, now, state=AlertState.FIRING, fired_at=now)
                out.append(AlertTransition(ep.alert, AlertState.PENDING, now))
            else:
                ep.alert = self._refresh(rs, alert, shown, now)
            if ep.alert.state is AlertState.FIRING:
                self._escalate(rs, ep, now, out)
            return
        if alert.state is AlertState.PENDING:
            ep.alert = self._refresh(rs, alert, shown, now, state=AlertState.INACTIVE)
            del rs.episodes[key]
            self._by_fingerprint.pop(alert.fingerprint, None)
            out.append(AlertTransition(ep.alert, AlertState.PENDING, now))
            return
        # firing, condition false
        if ep.false_since is None:
            ep.false_since = now
        if now - ep.false_since >= rule.keep_firing_for:
            ep.alert = self._refresh(rs, alert, shown, now, state=AlertState.RESOLVED, resolved_at=now)
            ep.false_since = None
            out.append(AlertTransition(ep.alert, AlertState.FIRING, now))
        else:
            ep.alert = self._refresh(rs, alert, shown, now)
            self._escalate(rs, ep, now, out)

    def _refresh(self, rs: _RuleState, alert: Alert, value: float, now: float, **changes: Any) -> Alert:
        fixed = value == alert.value and rs.sample_every is None
        annotations = alert.annotations if fixed else self._annotations(rs, alert.labels, value, now)
        return alert.evolve(value=value, annotations=annotations, last_evaluated_at=now, **changes)

    def _escalate(self, rs: _RuleState, ep: _Episode, now: float, out: list[AlertTransition]) -> None:
        esc = rs.rule.escalate
        alert = ep.alert
        if esc is None or rs.is_forecast or alert.severity >= esc.severity or alert.fired_at is None:
            return
        worse = esc.threshold is not None and ep.false_since is None and rs.op(alert.value, esc.threshold)
        persists = esc.after is not None and now - alert.fired_at >= esc.after
        if not (worse or persists):
            return
        labels = {**alert.labels, "severity": esc.severity.value}
        ep.alert = alert.evolve(
            severity=esc.severity, labels=labels, annotations=self._annotations(rs, labels, alert.value, now)
        )
        out.append(AlertTransition(ep.alert, alert.state, now, previous_severity=alert.severity))

    def _annotations(self, rs: _RuleState, labels: Mapping[str, str], value: float, now: float) -> dict[str, str]:
        out = {k: render(v, labels, value) for k, v in rs.rule.annotations.items()}
        key = rs.group_key(labels)
        if rs.is_forecast:
            ahead = rs.forecasts.get(key)
            if ahead is not None and ahead.breach is not None:
                out["breach_in"] = format_duration(max(0.0, round(ahead.breach.at - now)))
        elif rs.rule.type == "anomaly":
            stream = rs.anomalies.get(key)
            if stream is not None and stream.anomalous_at is not None:
                out["anomaly_score"] = f"{stream.anomalous_score:.3f}"
        return out


def _in_matchers(allowed: Iterable[tuple[str, Iterable[str]]]) -> tuple[Matcher, ...]:
    """``(label, values)`` pairs -> anchored regex matchers "label is one of values"."""
    return tuple(Matcher(label, MatchOp.RE, "|".join(re.escape(v) for v in values)) for label, values in allowed)


def _opt(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
