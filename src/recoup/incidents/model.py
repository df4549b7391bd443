"""Value types shared by the incident modules: severities, alert states, label matchers, alerts and the
notices that routing hands to notification channels.

Kept free of I/O and of pydantic so the evaluator, routing and incident modules can exchange them cheaply
and tests can build them by hand. Times are epoch seconds (float, UTC) from an injectable clock.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

Labels = Mapping[str, str]


class Severity(StrEnum):
    """How urgent an alert or incident is. Ordered: info < warning < critical."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class AlertState(StrEnum):
    """Prometheus's alert lifecycle: a condition that holds is *pending* until it has held for the rule's
    ``for``, then *firing*; when it stops holding (and ``keep_firing_for`` has passed) it is *resolved*.
    *inactive* is an alert that never reached firing and whose condition went away."""

    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


def labels_fingerprint(labels: Labels) -> str:
    """A stable 16-hex-digit identity of a label set (order-independent), like Alertmanager's fingerprint."""
    h = hashlib.sha256()
    for key in sorted(labels):
        h.update(key.encode())
        h.update(b"\xff")
        h.update(str(labels[key]).encode())
        h.update(b"\xfe")
    return h.hexdigest()[:16]


class MatchOp(StrEnum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher as Alertmanager writes them: ``name=value``, ``name!=value``, ``name=~regex``,
    ``name!~regex``. Regexes are anchored (full match). A missing label matches as the empty string."""

    name: str
    op: MatchOp
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "op", MatchOp(self.op))
        if self.op in (MatchOp.RE, MatchOp.NRE):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"matcher {self.name}{self.op}{self.value!r}: bad regex: {exc}") from None

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """``'severity="critical"'`` or ``severity=critical`` -> Matcher; ValueError naming the text otherwise."""
        m = _MATCHER.match(text)
        if m is None:
            raise ValueError(f"not a label matcher: {text!r} (expected name=value, name!=value, name=~re, name!~re)")
        name, op, value = m.groups()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        return cls(name, MatchOp(op), value)

    def matches(self, labels: Labels) -> bool:
        actual = labels.get(self.name, "")
        if self.op is MatchOp.EQ:
            return actual == self.value
        if self.op is MatchOp.NE:
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None
        return hit if self.op is MatchOp.RE else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op.value}"{self.value}"'


def matches_all(matchers: tuple[Matcher, ...] | list[Matcher], labels: Labels) -> bool:
    return all(m.matches(labels) for m in matchers)


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert instance: a rule applied to one label set (the rule's ``by`` labels plus its static labels,
    ``alertname`` and ``severity``). Immutable: the evaluator replaces it on every transition.

    ``active_at`` is when the condition started holding (pending began); ``fired_at`` when it became firing;
    ``resolved_at`` when it resolved. ``value`` is the last evaluated value of the rule's expression."""

    fingerprint: str
    rule: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    severity: Severity
    state: AlertState
    value: float
    active_at: float
    fired_at: float | None = None
    resolved_at: float | None = None
    last_evaluated_at: float = 0.0
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None

    @property
    def name(self) -> str:
        return self.labels.get("alertname", self.rule)

    def evolve(self, **changes: Any) -> Alert:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "severity": self.severity.value,
            "state": self.state.value,
            "value": self.value,
            "active_at": self.active_at,
            "fired_at": self.fired_at,
            "resolved_at": self.resolved_at,
            "last_evaluated_at": self.last_evaluated_at,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at,
        }


@dataclass(frozen=True, slots=True)
class AlertTransition:
    """What the evaluator reports: an alert moved from one state (or severity) to another at ``at``."""

    alert: Alert
    previous: AlertState
    at: float
    previous_severity: Severity | None = None

    @property
    def escalated(self) -> bool:
        return self.previous_severity is not None and self.alert.severity > self.previous_severity


class NoticeKind(StrEnum):
    """What a notification is about."""

    FIRING = "firing"  # a group of alerts fires (or repeats)
    RESOLVED = "resolved"  # every alert of a group resolved
    INCIDENT_TRIGGERED = "incident_triggered"
    INCIDENT_ACKNOWLEDGED = "incident_acknowledged"
    INCIDENT_RESOLVED = "incident_resolved"
    ESCALATION = "escalation"  # an escalation step (or an RTO breach) re-notifies
    TEST = "test"


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to deliver, channel-neutral. Channels render it (email body, Slack blocks, PagerDuty
    event...). ``dedup_key`` is stable for one alert group or incident so receivers (PagerDuty) can
    correlate trigger/acknowledge/resolve; ``key`` identifies this notice for de-duplication of delivery."""

    kind: NoticeKind
    key: str
    dedup_key: str
    title: str
    text: str
    severity: Severity
    created_at: float
    labels: Mapping[str, str] = field(default_factory=dict)
    alerts: tuple[Mapping[str, Any], ...] = ()
    incident_id: int | None = None
    url: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "key": self.key,
            "dedup_key": self.dedup_key,
            "title": self.title,
            "text": self.text,
            "severity": self.severity.value,
            "created_at": self.created_at,
            "labels": dict(self.labels),
            "alerts": [dict(a) for a in self.alerts],
            "incident_id": self.incident_id,
            "url": self.url,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notice:
        return cls(
            kind=NoticeKind(data["kind"]),
            key=str(data["key"]),
            dedup_key=str(data["dedup_key"]),
            title=str(data["title"]),
            text=str(data["text"]),
            severity=Severity(data["severity"]),
            created_at=float(data["created_at"]),
            labels={str(k): str(v) for k, v in dict(data.get("labels") or {}).items()},
            alerts=tuple(dict(a) for a in data.get("alerts") or ()),
            incident_id=None if data.get("incident_id") is None else int(data["incident_id"]),
            url=str(data.get("url") or ""),
        )


class NoticeSink(Protocol):
    """Where routing, incidents and escalation hand notices for delivery (the durable queue in
    `recoup.incidents.notify`). ``receivers`` name configured channels; the sink de-duplicates by
    (notice.key, receiver), so handing the same notice twice delivers it once."""

    def enqueue(self, notice: Notice, receivers: Sequence[str]) -> None: ...
