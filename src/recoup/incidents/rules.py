"""Alert rules in YAML, written once: parsed and validated here, evaluated in-process by
`recoup.incidents.evaluator`, exported as Prometheus rules by `recoup.incidents.export`.

A rule file is ``{"rules": [rule, ...]}``. A threshold rule::

    - name: HighErrorRate               # becomes the alert's ``alertname``
      metric: error_ratio               # a name from recoup.incidents.catalogue
      aggregation: ratio                # optional: the metric's default
      match: ['category!="validation"'] # optional label matchers (Alertmanager syntax)
      by: [project, service]            # one alert per value of these labels
      window: 5m
      op: ">"
      threshold: 0.05
      min_count: 20                     # the window needs this many events (denominator / samples) to judge
      for: 1m                           # pending this long before firing
      keep_firing_for: 2m               # stay firing this long after the condition stops holding
      severity: critical
      labels: {incident_type: error_rate_spike}
      annotations: {summary: ..., description: ..., runbook: docs/runbooks/HighErrorRate.md}
      escalate: {severity: critical, threshold: 0.2, after: 15m}   # worsens past 0.2, or persists 15m
      baseline: {window: 1h, offset: 10m}  # optional: compare value / (same aggregation over the baseline)

A burn-rate rule (multi-window, as in Google's SRE workbook) fires while both windows burn the error
budget of ``objective`` faster than ``factor``::

    - name: RecoverySLOBurnFast
      type: burn_rate
      metric: recovery_success_ratio
      objective: 0.999
      long_window: 1h
      short_window: 5m
      factor: 14.4
      severity: critical

An anomaly rule needs no threshold: the rule's value is sampled every ``anomaly.interval`` per label group into
a streaming detector (`recoup.analytics.anomaly`), and the condition holds for ``hold`` after a sample scores
at least ``anomaly.threshold``::

    - name: ErrorRateAnomaly
      type: anomaly
      metric: errors
      aggregation: rate
      window: 5m
      anomaly: {threshold: 0.69, min_history: 50, interval: 1m, direction: up}

A threshold rule may also warn ahead of a breach: with ``forecast: {horizon: 15m}`` a second alert of the rule,
labelled ``forecast="true"`` (annotation ``breach_in``), fires while the Holt trend of its value is set to
cross the threshold within the horizon and the threshold is not crossed yet.

Durations are Prometheus-style (``90s``, ``5m``, ``1h30m``) or plain seconds. Errors name the rule and field:
``rules[2] (HighErrorRate).window: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from recoup.incidents.catalogue import CATALOGUE, Aggregation, MetricKind
from recoup.incidents.model import Matcher, Severity

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?"
                       r"(?:(\d+(?:\.\d+)?)ms)?$")
_UNITS = (86400.0, 3600.0, 60.0, 1.0, 0.001)
#: Ratios where higher is better: the ones an SLO (and so a burn-rate rule) can be written on.
SUCCESS_RATIOS = ("recovery_success_ratio",)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RuleError(ValueError):
    """A rule file that cannot be used; the message lists every problem, each naming its rule and field."""


def parse_duration(value: object) -> float:
    """``'5m'`` -> 300.0; numbers are seconds. ValueError for anything else or a negative value."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 30s, 5m or 1h, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        m = _DURATION.match(value.strip())
        if m is None or not any(m.groups()):
            raise ValueError(f"expected a duration like 30s, 5m or 1h, got {value!r}")
        seconds = sum(float(g) * unit for g, unit in zip(m.groups(), _UNITS, strict=True) if g)
    else:
        raise ValueError(f"expected a duration like 30s, 5m or 1h, got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """300.0 -> ``'5m'``; the shortest Prometheus duration for whole seconds (ms below one second)."""
    if seconds <= 0:
        return "0s"
    if seconds != int(seconds):
        return f"{round(seconds * 1000)}ms"
    rest = int(seconds)
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out


def _positive_duration(v: float) -> float:
    if v <= 0:
        raise ValueError("must be longer than 0s")
    return v


Duration = Annotated[float, BeforeValidator(parse_duration)]
#: A duration that must be longer than zero (windows, waits), with one wording for the error.
PositiveDuration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_positive_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Escalation(_Model):
    """Raise the alert to ``severity`` when its value passes ``threshold`` (worsens, in the rule's direction)
    or when it has been firing for ``after`` (persists). At least one of the two."""

    severity: Severity = Severity.CRITICAL
    threshold: float | None = None
    after: Duration | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> Escalation:
        if self.threshold is None and self.after is None:
            raise ValueError("give threshold (worsens), after (persists), or both")
        return self


class Baseline(_Model):
    """Compare against the same aggregation over ``window`` ending ``offset`` ago: the rule's value becomes
    current / baseline (a factor), so thresholds read "5x the usual" or "below 0.2 of the usual"."""

    window: PositiveDuration
    offset: Duration = 0.0


Op = Literal[">", ">=", "<", "<=", "==", "!="]


class Anomaly(_Model):
    """Settings of a ``type: anomaly`` rule. ``threshold``: the detector score (0..1) that counts as anomalous;
    ``min_history``: samples before anything is judged; ``interval``: how often the value is sampled;
    ``hold``: how long the condition holds after an anomalous sample (the rule's window when unset; the
    detector reports one score per episode); ``memory``: samples remembered per group (bounded memory);
    ``direction``: only rises (``up``), only drops (``down``) or ``both``."""

    threshold: float = Field(default=0.6892, gt=0.0, lt=1.0)
    min_history: int = Field(default=50, ge=1)
    interval: Duration = 60.0
    hold: Duration | None = None
    memory: int = Field(default=1440, ge=20, le=100_000)
    direction: Literal["up", "down", "both"] = "up"

    _interval = field_validator("interval")(_positive_duration)


class Forecast(_Model):
    """Warn ahead of a breach: the Holt trend of the rule's value (sampled every ``interval``) crosses the
    threshold within ``horizon``; judged after ``min_history`` samples; the warning alert has ``severity``."""

    horizon: Duration
    interval: Duration = 60.0
    min_history: int = Field(default=5, ge=3)
    severity: Severity = Severity.WARNING

    _positive = field_validator("horizon", "interval")(_positive_duration)


class Rule(_Model):
    name: str
    type: Literal["threshold", "burn_rate", "anomaly"] = "threshold"
    metric: str
    aggregation: Aggregation | None = None
    match: tuple[str, ...] = ()
    by: tuple[str, ...] = ("project", "service")
    window: PositiveDuration = 300.0
    op: Op = ">"
    threshold: float = 0.0
    min_count: int = Field(default=0, ge=0)
    for_: Duration = Field(default=0.0, alias="for")
    keep_firing_for: Duration = 0.0
    severity: Severity = Severity.WARNING
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    escalate: Escalation | None = None
    baseline: Baseline | None = None
    forecast: Forecast | None = None
    # anomaly only
    anomaly: Anomaly | None = None
    # burn_rate only
    objective: float | None = None
    long_window: Duration | None = None
    short_window: Duration | None = None
    factor: float | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"{v!r} is not a valid alert name (letters, digits and _, not starting with a digit)")
        return v

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str) -> str:
        if v not in CATALOGUE:
            raise ValueError(f"unknown metric {v!r}; known: {', '.join(sorted(CATALOGUE))}")
        return v

    @field_validator("match")
    @classmethod
    def _matchers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for text in v:
            Matcher.parse(text)
        return v

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not _LABEL.match(key):
                raise ValueError(f"label name {key!r} is not valid (letters, digits and _)")
            if key in ("alertname", "severity"):
                raise ValueError(f"label {key!r} is set by recoup from the rule's name and severity")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        spec = CATALOGUE[self.metric]
        allowed_by = {*spec.labels, "project"}
        unknown = [label for label in self.by if label not in allowed_by]
        if unknown:
            raise ValueError(f"by: {metric_label_problem(unknown, self.metric, allowed_by)}")
        # A ratio's matchers may also name labels of its numerator alone (error_ratio: category), filtering
        # the numerator; the denominator is filtered only by the labels it has.
        allowed_match = set(allowed_by)
        if spec.numerator is not None:
            allowed_match |= set(CATALOGUE[spec.numerator].labels)
        for text in self.match:
            name = Matcher.parse(text).name
            if name not in allowed_match:
                raise ValueError(f"match: {metric_label_problem([name], self.metric, allowed_match)}")
        if self.anomaly is not None and self.type != "anomaly":
            raise ValueError("anomaly: settings apply only to a rule with type: anomaly")
        if self.forecast is not None:
            if self.type != "threshold":
                raise ValueError(f"forecast: applies only to a threshold rule, this one is type: {self.type}")
            if self.op not in (">", ">=", "<", "<="):
                raise ValueError(f"forecast: needs op >, >=, < or <= (a direction to forecast), got {self.op!r}")
            if spec.kind is MetricKind.STALENESS:
                raise ValueError("forecast: does not apply to a staleness metric (it rises 1s per second anyway)")
        if self.type == "anomaly":
            fixed = [f for f in ("threshold", "op", "baseline") if f in self.model_fields_set]
            if fixed:
                raise ValueError(f"{', '.join(fixed)}: an anomaly rule has no fixed threshold; "
                                 "tune anomaly.threshold (a detector score) instead")
            if self.escalate is not None and self.escalate.threshold is not None:
                raise ValueError("escalate.threshold: an anomaly rule has no value threshold; use escalate.after")
            if spec.kind is MetricKind.STALENESS:
                raise ValueError("type: anomaly does not apply to a staleness metric")
        if self.type == "burn_rate":
            missing = [f for f in ("objective", "long_window", "short_window", "factor") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"a burn_rate rule needs {', '.join(missing)}")
            if spec.kind is not MetricKind.RATIO:
                raise ValueError(f"a burn_rate rule needs a ratio metric, {self.metric!r} is a {spec.kind.value}")
            if self.metric not in SUCCESS_RATIOS:
                raise ValueError(f"a burn_rate rule burns the budget of a success ratio ({', '.join(SUCCESS_RATIOS)}); "
                                 f"{self.metric!r} counts failures")
            assert self.objective is not None and self.long_window is not None and self.short_window is not None
            if not 0.0 < self.objective < 1.0:
                raise ValueError(f"objective must be between 0 and 1 (e.g. 0.999), got {self.objective}")
            if not 0 < self.short_window < self.long_window:
                raise ValueError("short_window must be shorter than long_window, and both longer than 0s")
            if self.factor is not None and self.factor <= 0:
                raise ValueError("factor must be positive")
        else:
            aggregation = self.aggregation or spec.default_aggregation
            if aggregation not in spec.aggregations:
                options = ", ".join(a.value for a in spec.aggregations)
                raise ValueError(
                    f"aggregation {aggregation.value!r} does not apply to {self.metric} ({spec.kind.value}); "
                    f"use one of: {options}"
                )
            if self.baseline is not None and spec.kind in (MetricKind.STALENESS,):
                raise ValueError("baseline does not apply to a staleness metric")
        return self

    @property
    def effective_aggregation(self) -> Aggregation:
        return self.aggregation or CATALOGUE[self.metric].default_aggregation

    @property
    def anomaly_settings(self) -> Anomaly:
        """The anomaly settings of a ``type: anomaly`` rule (defaults when the block is left out)."""
        return self.anomaly or Anomaly()

    @property
    def matchers(self) -> tuple[Matcher, ...]:
        return tuple(Matcher.parse(text) for text in self.match)

    @property
    def runbook(self) -> str | None:
        return self.annotations.get("runbook")


def metric_label_problem(labels: list[str], metric: str, allowed: set[str]) -> str:
    return f"{', '.join(map(repr, labels))} not a label of {metric}; it has: {', '.join(sorted(allowed))}"


class RuleSet(_Model):
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}; names must be unique")
            seen.add(rule.name)
        return self

    def by_name(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)


def _describe_errors(exc: ValidationError, data: Mapping[str, Any]) -> str:
    rules = data.get("rules") if isinstance(data, Mapping) else None
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            index = loc[1]
            name = rules[index].get("name") if isinstance(rules, list) and isinstance(rules[index], Mapping) else None
            where = f"rules[{index}]" + (f" ({name})" if name else "")
            rest = [str(p) for p in loc[2:]]
            if rest:
                where += "." + ".".join("for" if p == "for_" else p for p in rest)
        else:
            where = ".".join(str(p) for p in loc) or "(file)"
        message = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return "\n".join(lines)


def parse_rules(data: object, *, source: str = "rules") -> RuleSet:
    """A validated `RuleSet` from already-parsed YAML/JSON; `RuleError` listing every problem otherwise."""
    if not isinstance(data, Mapping) or "rules" not in data:
        raise RuleError(f"{source}: expected a mapping with a 'rules' list")
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        raise RuleError(f"{source}:\n{_describe_errors(exc, data)}") from None


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a YAML rule file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"{p}: cannot read: {exc.strerror}") from None
    return loads_rules(text, source=str(p))


def loads_rules(text: str, *, source: str = "rules") -> RuleSet:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"{source}: not valid YAML: {exc}") from None
    return parse_rules(data, source=source)


def default_rules_text() -> str:
    return resources.files("recoup.incidents").joinpath("default_rules.yaml").read_text(encoding="utf-8")


def default_rules() -> RuleSet:
    """The shipped rule set (``recoup/incidents/default_rules.yaml``), documented in docs/runbooks/."""
    return loads_rules(default_rules_text(), source="default_rules.yaml")
