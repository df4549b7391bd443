"""When an incident's service is restored, from the services' own signals: what an RTO is measured to.

An alert keeps firing after its service recovers: its condition is judged over the rule's window (5 minutes of
error ratio for ``HighErrorRate``), and ``keep_firing_for`` holds it longer still, so "the incident resolved"
lags "the service is back" by minutes. This module watches the same signals over a short **recovery window**:

* `RecoveryProbe` evaluates each rule's condition again over the recovery window, with the rule's threshold,
  matchers and labels, no ``for``/``keep_firing_for``: counts scale their threshold to the shorter window (5
  database errors a minute is "any error" over 3 s), gauges read their current level, a burn-rate rule becomes
  its success ratio under ``1 - factor * (1 - objective)``. For one attached alert it answers *failing* (the
  condition holds now), *healthy* (it does not, on data), or *unknown*: a ratio, quantile or gauge with no
  data in the window (a silent service is not a healthy one), a rule with a baseline, an anomaly or forecast
  alert, or an alert from Alertmanager (no rule here to re-evaluate). A counter with no events is healthy: no
  failures happened. An alert already resolved is healthy. The probe windows run on **arrival** time, not on
  the events' own timestamps: telemetry arrives in batches, late by the client's flush interval, and a window
  shorter than that lag would read the not-yet-arrived moment as a quiet one; stamped on arrival, every failure
  that arrives is seen (the recovery is then seen late by the lag, never early). It also notes when each
  condition began to hold (on the event that made it hold), so a failure that comes and goes between two of
  the engine's passes still breaks a healthy spell.
* `RecoveryWatch` keeps, per open incident not yet recovered, since when every attached alert is healthy. The
  incident is **recovered at** the first moment all of them were healthy after the last failing one, once that
  has lasted ``stable_for`` (the recovery window by default), at least twice the longest healthy spell seen
  between two failures during the incident (a sparse failure signal, one slow recovery every few seconds, has
  quiet spells that are not recoveries), and at least twice the gap a counting rule itself tolerates between
  failures (``rto_breaches > 0`` over 5 minutes: 10 minutes; 5 database errors a minute: 24 s; ratios, levels
  and quantiles tolerate none). Until the watch has seen the incident failing at all, it asks for the full
  window of the alerts' own rules: nothing says how sparse the signal is yet. The recovery time is the start of
  the healthy spell however long the confirmation takes, so a service healthy from the declaration on is
  recovered at the declaration. Unknown (no data in the window: telemetry arrives in batches, by default a
  second apart) pauses a healthy spell for up to `DATA_GAP` or two windows, whichever is longer, and breaks it
  after that, without counting as a failure; a spell is confirmed only on a pass that sees it healthy.

The watch lives in memory: after a restart it starts again from the open incidents (a recovery is then
confirmed later, never earlier). Incidents resolve without it, and a resolution with no confirmed recovery counts
as the recovery (`recoup.incidents.incidents`).
"""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from recoup.incidents.catalogue import CATALOGUE, Aggregation, MetricKind
from recoup.incidents.evaluator import Evaluator
from recoup.incidents.model import AlertState, AlertTransition
from recoup.incidents.rules import Rule, RuleSet
from recoup.incidents.signals import Observation

if TYPE_CHECKING:
    from recoup.incidents.incidents import Incident, IncidentAlert

#: How long a healthy spell survives missing data (at least): HttpSink's default flush interval, so the quiet
#: between two batches of a healthy service is not taken for silence.
DATA_GAP = 1.0
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
}


class Health(StrEnum):
    HEALTHY = "healthy"
    FAILING = "failing"
    UNKNOWN = "unknown"


def probe_rule(rule: Rule, window: float) -> Rule | None:
    """``rule``'s condition over ``window`` seconds, as `RecoveryProbe` judges it; None when it cannot be
    re-judged on a short window (anomaly rules, rules with a baseline)."""
    if rule.type == "anomaly" or rule.baseline is not None:
        return None
    spec = CATALOGUE[rule.metric]
    data: dict[str, Any] = {
        "name": rule.name, "metric": rule.metric, "match": list(rule.match), "by": list(rule.by),
        "window": window, "min_count": 0, "severity": rule.severity.value,
    }
    if rule.type == "burn_rate":
        assert rule.objective is not None and rule.factor is not None
        data.update(op="<", threshold=1.0 - rule.factor * (1.0 - rule.objective))
        return Rule.model_validate(data)
    aggregation = rule.effective_aggregation
    threshold = rule.threshold
    if spec.kind is MetricKind.COUNTER and aggregation is Aggregation.COUNT:
        threshold = threshold * window / rule.window  # the same rate of failures, counted over the short window
    if spec.kind is MetricKind.GAUGE and aggregation in (Aggregation.MIN, Aggregation.MAX, Aggregation.AVG):
        aggregation = Aggregation.LAST  # the level now
    data.update(op=rule.op, threshold=threshold, aggregation=aggregation.value)
    return Rule.model_validate(data)


def tolerated_gap(rule: Rule) -> float:
    """How far apart failures can come while a counting rule still holds: its window over the events it needs
    (``count >= 5`` in 1m: 12 s; ``count > 0`` in 5m: 5 minutes; ``rate > r``: 1/r). 0 for other rules, whose
    value is judged on every sample rather than counted."""
    if rule.type != "threshold" or CATALOGUE[rule.metric].kind is not MetricKind.COUNTER or rule.op not in (">", ">="):
        return 0.0
    if rule.effective_aggregation is Aggregation.RATE:
        return 1.0 / rule.threshold if rule.threshold > 0 else rule.window
    needed = max(1, math.ceil(rule.threshold) if rule.op == ">=" else math.floor(rule.threshold) + 1)
    return rule.window / needed


class RecoveryProbe:
    """The rules re-evaluated over the recovery window, fed the same observations as the engine's evaluator."""

    def __init__(self, rules: RuleSet, window: float, *, clock: Callable[[], float]) -> None:
        if not window > 0 or not math.isfinite(window):
            raise ValueError(f"recovery window must be a positive number of seconds, got {window!r}")
        self.window = window
        self._clock = clock
        probes = [p for p in (probe_rule(r, window) for r in rules.rules) if p is not None]
        self._rules = {p.name: p for p in probes}
        #: each probed rule's own window (a burn rate's short one): the caution before any failure was seen
        self._spans = {r.name: float(r.short_window or r.window) for r in rules.rules if r.name in self._rules}
        #: the gap between failures each counting rule tolerates while still firing
        self._gaps = {r.name: tolerated_gap(r) for r in rules.rules if r.name in self._rules}
        self._evaluator = Evaluator(RuleSet(rules=tuple(probes)), clock=clock)
        self._metrics = {m for p in probes for m in _reads(p)}  # what the probe reads; the rest is skipped
        self._onsets: dict[tuple[str, tuple[str, ...]], float] = {}  # (rule, group) -> when it last began failing
        self._lock = threading.Lock()

    def observe(self, observations: Sequence[Observation]) -> None:
        """Record observations on their arrival time (see the module docstring)."""
        now = self._clock()
        wanted = self._metrics
        stamped = [Observation(o.metric, o.value, o.labels, now) for o in observations if o.metric in wanted]
        if stamped:
            self._note(self._evaluator.observe(stamped))

    def tick(self, now: float) -> None:
        """Judge every condition at ``now`` (a failure an event began and nothing ended is ended here) and drop
        data older than the window."""
        self._note(self._evaluator.tick(now))

    def _note(self, transitions: Sequence[AlertTransition]) -> None:
        if not transitions:
            return
        with self._lock:
            for tr in transitions:
                if tr.alert.state is AlertState.FIRING and tr.previous is not AlertState.FIRING:
                    rule = self._rules[tr.alert.rule]
                    self._onsets[(rule.name, _group(rule, tr.alert.labels))] = tr.at

    def last_onset(self, alert: IncidentAlert) -> float | None:
        """When the alert's condition last began to hold over the recovery window (None: never seen to)."""
        rule = self._rules.get(alert.labels.get("alertname", alert.alertname))
        if rule is None or alert.last_state is AlertState.RESOLVED:
            return None
        with self._lock:
            return self._onsets.get((rule.name, _group(rule, alert.labels)))

    def gap(self, alert: IncidentAlert) -> float:
        """The gap between failures the alert's rule tolerates (0 for a resolved alert, or one judged on a
        ratio, level or quantile)."""
        if alert.last_state is AlertState.RESOLVED:
            return 0.0
        return self._gaps.get(alert.labels.get("alertname", alert.alertname), 0.0)

    def span(self, alert: IncidentAlert) -> float:
        """The window of the alert's own rule (0 for a resolved alert or one this probe cannot judge)."""
        if alert.last_state is AlertState.RESOLVED:
            return 0.0
        return self._spans.get(alert.labels.get("alertname", alert.alertname), 0.0)

    def health(self, alert: IncidentAlert) -> tuple[Health, float | None]:
        """The attached alert's condition over the recovery window, and the value it was judged on."""
        if alert.last_state is AlertState.RESOLVED:
            return Health.HEALTHY, None
        rule = self._rules.get(alert.labels.get("alertname", alert.alertname))
        if rule is None or alert.labels.get("forecast") == "true":
            return Health.UNKNOWN, None
        value = self._evaluator.value(rule.name, alert.labels)
        kind = CATALOGUE[rule.metric].kind
        if value is None:
            return (Health.HEALTHY if kind is MetricKind.COUNTER else Health.UNKNOWN), None
        if not math.isfinite(value):
            return Health.UNKNOWN, value
        return (Health.FAILING if _OPS[rule.op](value, rule.threshold) else Health.HEALTHY), value


def _reads(rule: Rule) -> tuple[str, ...]:
    spec = CATALOGUE[rule.metric]
    if spec.numerator is not None and spec.denominator is not None:
        return (spec.numerator, spec.denominator)
    return (rule.metric,)


def _group(rule: Rule, labels: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(labels.get(name, "") for name in rule.by)


@dataclass
class _Watched:
    healthy_since: float | None = None
    longest_spell: float = 0.0  # the longest healthy spell that ended in a failure
    seen_failing: bool = False
    caution: float = 0.0  # before any failure was seen: the longest window of the incident's rules
    unknown_since: float | None = None  # a healthy spell paused by missing data, since
    gap: float = 0.0  # the longest gap between failures the incident's counting rules tolerate

    def required(self, stable_for: float) -> float:
        if not self.seen_failing:
            return max(stable_for, self.caution, 2.0 * self.gap)
        return max(stable_for, 2.0 * self.longest_spell, 2.0 * self.gap)


@dataclass(frozen=True, slots=True)
class Recovery:
    """A confirmed recovery: the incident, when its signals turned healthy, and why it counts."""

    incident_id: int
    recovered_at: float
    evidence: Mapping[str, Any]


class RecoveryWatch:
    """Per open incident, since when its signals are healthy; `update` confirms recoveries. Thread-safe."""

    def __init__(self, probe: RecoveryProbe, *, stable_for: float) -> None:
        if not stable_for > 0:
            raise ValueError(f"stable_for must be a positive number of seconds, got {stable_for!r}")
        self.probe = probe
        self.stable_for = stable_for
        self._watched: dict[int, _Watched] = {}
        self._lock = threading.Lock()

    def observe(self, observations: Sequence[Observation]) -> None:
        self.probe.observe(observations)

    def required(self, incident_id: int) -> float:
        """How long the incident's signals must stay healthy before the recovery counts."""
        with self._lock:
            watched = self._watched.get(incident_id)
            return watched.required(self.stable_for) if watched else self.stable_for

    def update(self, incidents: Iterable[Incident], now: float) -> list[Recovery]:
        """Judge every open incident not yet recovered at ``now``; the recoveries confirmed by this pass.
        Incidents not passed in (resolved, recovered) are forgotten."""
        self.probe.tick(now)
        confirmed: list[Recovery] = []
        seen: set[int] = set()
        with self._lock:
            for incident in incidents:
                if not incident.is_open or incident.recovered_at is not None:
                    continue
                seen.add(incident.id)
                watched = self._watched.setdefault(incident.id, _Watched())
                verdict, signals = self._judge(incident)
                watched.caution = max(watched.caution, max((self.probe.span(a) for a in incident.alerts), default=0))
                watched.gap = max(watched.gap, max((self.probe.gap(a) for a in incident.alerts), default=0))
                onsets = [t for t in (self.probe.last_onset(a) for a in incident.alerts) if t is not None]
                if watched.healthy_since is not None and onsets and max(onsets) > watched.healthy_since:
                    # a failure began (and maybe ended) since the last pass: the healthy spell ended there
                    watched.longest_spell = max(watched.longest_spell, max(onsets) - watched.healthy_since)
                    watched.seen_failing = True
                    watched.healthy_since = None
                if verdict is Health.UNKNOWN and watched.healthy_since is not None:
                    if watched.unknown_since is None:
                        watched.unknown_since = now
                    if now - watched.unknown_since <= max(DATA_GAP, 2 * self.probe.window):
                        continue  # a gap between telemetry batches: the spell goes on, unconfirmed
                watched.unknown_since = None
                if verdict is not Health.HEALTHY:
                    if verdict is Health.FAILING:
                        if watched.healthy_since is not None:
                            watched.longest_spell = max(watched.longest_spell, now - watched.healthy_since)
                        watched.seen_failing = True
                    watched.healthy_since = None
                    continue
                if watched.healthy_since is None:
                    watched.healthy_since = now
                required = watched.required(self.stable_for)
                if now - watched.healthy_since >= required:
                    confirmed.append(Recovery(incident.id, watched.healthy_since, {
                        "source": "recovery_watch", "healthy_since": watched.healthy_since, "confirmed_at": now,
                        "stable_for": required, "window": self.probe.window, "signals": signals,
                    }))
            for gone in set(self._watched) - seen:
                del self._watched[gone]
            for recovery in confirmed:
                del self._watched[recovery.incident_id]
        return confirmed

    def _judge(self, incident: Incident) -> tuple[Health, dict[str, Any]]:
        """Failing if any attached alert fails, else unknown if any is unknown (or there is none), else healthy."""
        signals: dict[str, Any] = {}
        verdicts: list[Health] = []
        for alert in incident.alerts:
            health, value = self.probe.health(alert)
            verdicts.append(health)
            signals[alert.alertname if alert.alertname not in signals else alert.fingerprint] = {
                "health": health.value, "value": value}
        if Health.FAILING in verdicts:
            return Health.FAILING, signals
        if Health.UNKNOWN in verdicts or not verdicts:
            return Health.UNKNOWN, signals
        return Health.HEALTHY, signals

    def healthy_since(self, incident_id: int) -> float | None:
        """Since when the incident's signals are healthy (not yet confirmed), or None."""
        with self._lock:
            watched = self._watched.get(incident_id)
            return watched.healthy_since if watched else None

    def pending(self) -> dict[int, float]:
        """Incidents healthy but not yet confirmed, with since when (the RTO check waits on them)."""
        with self._lock:
            return {i: w.healthy_since for i, w in self._watched.items() if w.healthy_since is not None}

    def next_due(self) -> float | None:
        """When the earliest pending recovery can be confirmed, if its signals stay healthy."""
        with self._lock:
            due = [w.healthy_since + w.required(self.stable_for)
                   for w in self._watched.values() if w.healthy_since is not None]
        return min(due) if due else None
