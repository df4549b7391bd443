"""Incidents: declared automatically from alert transitions (by policy) or by hand, with status, severity, roles,
escalation, RTO tracking and an append-only timeline, all stored through `recoup.store.Store`.

Declaration policy (``declare`` in the policy file):

* a firing **critical** alert declares an incident (``on_critical``);
* **warning** alerts declare one when ``related_warnings`` (default 3) firing warnings relate within ``window``
  (default 10m) of each other; until then they wait as candidates (stored, so a restart keeps counting);
* info alerts never declare, but attach to an open related incident.

Two alerts (or an alert and an open incident) are *related* when they have the same ``project`` label and either
the same non-empty ``incident_type`` label or the same non-empty ``service`` label (for an incident: the service
of any alert attached to it). A firing alert attaches to the most recently declared open related incident rather
than opening a new one; an alert already attached to an open incident just records that it fires again. When
an alert raises an unacknowledged incident's severity so that another escalation policy applies (warning ->
critical), the incident switches to that policy and pages its first step at once.

Recovery vs resolution: ``recovered_at`` is when the incident's services were restored (their own signals healthy
again, as the engine's recovery watch confirms, or recorded by hand with `IncidentManager.mark_recovered`);
``resolved_at`` is when the incident closed, which for an auto-resolved incident lags the restoration by its
alerts' windows. The RTO is measured declared -> recovered (`recoup.incidents.sla`); an incident that closes
without a recorded recovery counts as recovered when it closed (or when the recovery watch saw it healthy, if
that was earlier and merely not yet confirmed).

Every public operation is one store transaction: nothing is half-written. Notices are handed to the sink after
that transaction commits (the sink is the durable delivery queue, possibly in the same SQLite file, which a
still-open write transaction would block); their intent is in the timeline (``notification_queued``, with the
notice key and receivers) first. If the sink raises, the error reaches the caller; notice keys are stable, so
handing the same notice again later is delivered once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recoup.incidents.escalation import EscalationConfig, EscalationPolicy, EscalationState, advance, start
from recoup.incidents.model import Alert, AlertState, AlertTransition, Notice, NoticeKind, NoticeSink, Severity
from recoup.incidents.oncall import ONCALL_PREFIX, Schedule, resolve_targets
from recoup.incidents.rules import Duration
from recoup.incidents.sla import RtoTargets
from recoup.store import Store
from recoup.store.models import ProjectRow
from recoup.store.models_incidents import (
    KIND_MAX,
    IncidentAlertRow,
    IncidentCandidateRow,
    IncidentResponderRow,
    IncidentRow,
    TimelineRow,
)
from recoup.store.values import NAME_MAX, TITLE_MAX, InvalidInput, NotFound

#: The actor recorded for what recoup does by itself (auto-declare, auto-resolve, escalation, RTO checks).
SYSTEM_ACTOR = "recoup"


# -- policy ------------------------------------------------------------------------------------------------


class PolicyError(ValueError):
    """An incident policy file that cannot be used; the message names every bad field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeclarePolicy(_Model):
    on_critical: bool = True
    #: How many related firing warnings declare an incident; 0 never declares from warnings.
    related_warnings: int = Field(default=3, ge=0)
    window: Duration = 600.0
    #: Resolve the incident by itself when every attached alert has resolved.
    auto_resolve: bool = True


class IncidentPolicy(_Model):
    declare: DeclarePolicy = DeclarePolicy()
    escalation: EscalationConfig
    schedules: tuple[Schedule, ...] = ()
    rto: RtoTargets = RtoTargets()

    @model_validator(mode="after")
    def _references(self) -> IncidentPolicy:
        names = [s.name for s in self.schedules]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"schedules: names must be unique, repeated: {', '.join(repeated)}")
        for i, policy in enumerate(self.escalation.policies):
            for j, step in enumerate(policy.steps):
                for target in step.targets:
                    if target.startswith(ONCALL_PREFIX) and target[len(ONCALL_PREFIX):] not in names:
                        raise ValueError(
                            f"escalation.policies[{i}] ({policy.name}).steps[{j}].targets: {target!r} names no "
                            f"schedule; defined: {', '.join(names) or '(none)'}"
                        )
        return self

    @property
    def schedule_map(self) -> dict[str, Schedule]:
        return {s.name: s for s in self.schedules}


def parse_policy(data: object, *, source: str = "policy") -> IncidentPolicy:
    """A validated `IncidentPolicy` from parsed YAML/JSON; `PolicyError` listing every problem otherwise."""
    if not isinstance(data, Mapping):
        raise PolicyError(f"{source}: expected a mapping with 'escalation' (and optionally declare, schedules, rto)")
    try:
        return IncidentPolicy.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(file)"
            lines.append(f"{where}: {str(err['msg']).removeprefix('Value error, ')}")
        raise PolicyError(f"{source}:\n" + "\n".join(lines)) from None


def loads_policy(text: str, *, source: str = "policy") -> IncidentPolicy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from None
    return parse_policy(data, source=source)


def load_policy(path: str | Path) -> IncidentPolicy:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{p}: cannot read: {exc.strerror}") from None
    return loads_policy(text, source=str(p))


def default_policy() -> IncidentPolicy:
    """The shipped policy (``recoup/incidents/default_policy.yaml``)."""
    text = resources.files("recoup.incidents").joinpath("default_policy.yaml").read_text(encoding="utf-8")
    return loads_policy(text, source="default_policy.yaml")


# -- values ------------------------------------------------------------------------------------------------


class IncidentStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class TimelineKind(StrEnum):
    ALERT_FIRING = "alert_firing"
    ALERT_RESOLVED = "alert_resolved"
    ALERT_ESCALATED = "alert_escalated"
    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    NOTIFICATION_QUEUED = "notification_queued"
    NOTIFICATION_DELIVERED = "notification_delivered"
    ESCALATION_STEP = "escalation_step"
    RTO_BREACHED = "rto_breached"
    RECOVERED = "recovered"
    RECOVERY_ACTION = "recovery_action"
    NOTE = "note"
    ROLE_ASSIGNED = "role_assigned"


class Role(StrEnum):
    COMMANDER = "commander"
    SCRIBE = "scribe"
    RESPONDER = "responder"


class IncidentStateError(ValueError):
    """An operation the incident's status does not allow (acknowledging a resolved incident, ...)."""


@dataclass(frozen=True, slots=True)
class IncidentAlert:
    fingerprint: str
    alertname: str
    service: str
    severity: Severity
    labels: Mapping[str, str]
    first_state: AlertState
    last_state: AlertState
    active_at: float
    attached_at: float
    resolved_at: float | None


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident as stored; times are epoch seconds."""

    id: int
    project_id: int | None
    scope: str
    title: str
    status: IncidentStatus
    severity: Severity
    incident_type: str | None
    declared_by: str
    declared_at: float
    fault_started_at: float | None
    acknowledged_at: float | None
    acknowledged_by: str | None
    resolved_at: float | None
    resolved_by: str | None
    rto_target_seconds: float
    rto_breached_at: float | None
    commander: str | None
    scribe: str | None
    responders: tuple[str, ...]
    escalation_policy: str | None
    escalation_step: int
    escalation_repeat: int
    next_escalation_at: float | None
    alerts: tuple[IncidentAlert, ...]
    #: When the service was restored (None until the recovery watch or a person says so).
    recovered_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self.status is not IncidentStatus.RESOLVED

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(sorted({a.service for a in self.alerts if a.service}))

    @property
    def dedup_key(self) -> str:
        return dedup_key(self.id)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    id: int
    incident_id: int
    at: float
    kind: TimelineKind
    actor: str | None
    text: str
    data: Mapping[str, Any]


def dedup_key(incident_id: int) -> str:
    """Stable per incident, so PagerDuty-like receivers correlate trigger, acknowledge and resolve."""
    return f"recoup-incident-{incident_id}"


# -- conversions -------------------------------------------------------------------------------------------


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _ts(value: datetime) -> float:
    return value.timestamp()


def _ots(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _to_alert(row: IncidentAlertRow) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=row.fingerprint, alertname=row.alertname, service=row.service, severity=Severity(row.severity),
        labels={str(k): str(v) for k, v in row.labels.items()}, first_state=AlertState(row.first_state),
        last_state=AlertState(row.last_state), active_at=_ts(row.active_at), attached_at=_ts(row.attached_at),
        resolved_at=_ots(row.resolved_at),
    )


def _to_incident(row: IncidentRow, alerts: Sequence[IncidentAlertRow], responders: Sequence[str]) -> Incident:
    return Incident(
        id=row.id, project_id=row.project_id, scope=row.scope, title=row.title, status=IncidentStatus(row.status),
        severity=Severity(row.severity), incident_type=row.incident_type, declared_by=row.declared_by,
        declared_at=_ts(row.declared_at), fault_started_at=_ots(row.fault_started_at),
        acknowledged_at=_ots(row.acknowledged_at), acknowledged_by=row.acknowledged_by,
        resolved_at=_ots(row.resolved_at), resolved_by=row.resolved_by, rto_target_seconds=row.rto_target_seconds,
        rto_breached_at=_ots(row.rto_breached_at), commander=row.commander, scribe=row.scribe,
        responders=tuple(responders), escalation_policy=row.escalation_policy, escalation_step=row.escalation_step,
        escalation_repeat=row.escalation_repeat, next_escalation_at=_ots(row.next_escalation_at),
        alerts=tuple(_to_alert(a) for a in sorted(alerts, key=lambda a: a.id)),
        recovered_at=_ots(row.recovered_at),
    )


def _to_entry(row: TimelineRow) -> TimelineEntry:
    return TimelineEntry(row.id, row.incident_id, _ts(row.at), TimelineKind(row.kind), row.actor, row.text,
                         dict(row.data))


def _load(session: Session, rows: Sequence[IncidentRow]) -> list[Incident]:
    """Incidents with their alerts and responders, in two extra queries whatever the number of rows."""
    ids = [r.id for r in rows]
    if not ids:
        return []
    alerts: dict[int, list[IncidentAlertRow]] = {i: [] for i in ids}
    for a in session.scalars(select(IncidentAlertRow).where(IncidentAlertRow.incident_id.in_(ids))):
        alerts[a.incident_id].append(a)
    people: dict[int, list[str]] = {i: [] for i in ids}
    responders = select(IncidentResponderRow).where(IncidentResponderRow.incident_id.in_(ids))
    for r in session.scalars(responders.order_by(IncidentResponderRow.id)):
        people[r.incident_id].append(r.person)
    return [_to_incident(r, alerts[r.id], people[r.id]) for r in rows]


def _text(field: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be a non-empty string")
    if len(value) > limit:
        raise InvalidInput(field, f"at most {limit} characters, got {len(value)}")
    return value.strip()


def _epoch(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InvalidInput(field, f"expected epoch seconds, got {value!r}")
    return float(value)


def _severity(value: object) -> Severity:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return Severity(value)
    except ValueError:
        raise InvalidInput("severity", f"expected one of info, warning, critical, got {value!r}") from None


# -- the manager -------------------------------------------------------------------------------------------


@dataclass
class _Outbox:
    """Notices decided inside a transaction, handed to the sink once it commits."""

    items: list[tuple[Notice, list[str]]]


_OPEN = (IncidentStatus.TRIGGERED.value, IncidentStatus.ACKNOWLEDGED.value)


class IncidentManager:
    """Declares, updates, escalates and resolves incidents. Stateless between calls (everything is in the store),
    so several managers, or a restarted one, continue from the stored state."""

    def __init__(
        self,
        store: Store,
        policy: IncidentPolicy,
        *,
        clock: Callable[[], float] = time.time,
        sink: NoticeSink,
        url: Callable[[int], str] | None = None,
        recovery_hint: Callable[[int], float | None] | None = None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        self.sink = sink
        self._url = url
        #: When the engine's recovery watch has seen an incident healthy, not yet long enough to confirm it: an
        #: incident closing meanwhile was restored then, not at its closing.
        self._recovery_hint = recovery_hint

    # -- plumbing

    def _run(self, work: Callable[[Session, _Outbox], Any], *, write: bool = True) -> Any:
        """One transaction; then the notices it decided go to the sink."""

        def attempt(session: Session) -> Any:
            outbox.items.clear()  # a retried transaction decides its notices again
            return work(session, outbox)

        outbox = _Outbox([])
        result = self.store.transaction(attempt, write=write)
        for notice, receivers in outbox.items:
            if receivers:
                self.sink.enqueue(notice, receivers)
        return result

    @staticmethod
    def _row(session: Session, incident_id: int, *, lock: bool = True) -> IncidentRow:
        if isinstance(incident_id, bool) or not isinstance(incident_id, int):
            raise InvalidInput("incident_id", f"expected an integer, got {incident_id!r}")
        stmt = select(IncidentRow).where(IncidentRow.id == incident_id)
        row = session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()
        if row is None:
            raise NotFound(f"incident {incident_id} does not exist")
        return row

    @staticmethod
    def _entry(session: Session, row: IncidentRow, at: float, kind: TimelineKind, text: str, *,
               actor: str | None = SYSTEM_ACTOR, data: Mapping[str, Any] | None = None) -> None:
        session.add(TimelineRow(incident_id=row.id, at=_dt(at), kind=kind.value, actor=actor, text=text,
                                data=dict(data or {})))
        row.updated_at = _dt(at)

    def _labels(self, row: IncidentRow, services: Sequence[str] = ()) -> dict[str, str]:
        labels = {"severity": row.severity, "incident_type": row.incident_type or "", "project": row.scope}
        if services:
            labels["service"] = services[0]
        return labels

    def _notify(self, session: Session, outbox: _Outbox, row: IncidentRow, kind: NoticeKind, key_suffix: str,
                receivers: Sequence[str], at: float, *, text: str, data: Mapping[str, Any] | None = None) -> None:
        """Decide a notice: a timeline entry now, the sink after commit."""
        if not receivers:
            return
        alerts = session.scalars(select(IncidentAlertRow).where(IncidentAlertRow.incident_id == row.id)).all()
        services = sorted({a.service for a in alerts if a.service})
        key = f"{dedup_key(row.id)}-{key_suffix}"
        notice = Notice(
            kind=kind, key=key, dedup_key=dedup_key(row.id),
            title=f"[{row.severity.upper()}] Incident #{row.id}: {row.title}",
            text=text, severity=Severity(row.severity), created_at=at, labels=self._labels(row, services),
            alerts=tuple({"fingerprint": a.fingerprint, "alertname": a.alertname, "service": a.service,
                          "severity": a.severity, "state": a.last_state, "labels": dict(a.labels)} for a in alerts),
            incident_id=row.id, url=self._url(row.id) if self._url else "",
        )
        outbox.items.append((notice, list(receivers)))
        why = f" ({str(data['reason']).replace('_', ' ')})" if data and "reason" in data else ""
        self._entry(session, row, at, TimelineKind.NOTIFICATION_QUEUED,
                    f"{kind.value} notice{why} to {', '.join(receivers)}",
                    data={"key": key, "kind": kind.value, "receivers": list(receivers), **(data or {})})

    @staticmethod
    def _paged(session: Session, row: IncidentRow) -> list[str]:
        """Every receiver notified about this incident so far (who must hear it was acknowledged/resolved)."""
        out: list[str] = []
        entries = select(TimelineRow.data).where(
            TimelineRow.incident_id == row.id, TimelineRow.kind == TimelineKind.NOTIFICATION_QUEUED.value
        ).order_by(TimelineRow.id)
        for data in session.scalars(entries):
            for receiver in data.get("receivers", []):
                if receiver not in out:
                    out.append(str(receiver))
        return out

    def _escalation_policy(self, row: IncidentRow) -> EscalationPolicy | None:
        if row.escalation_policy is None:
            return None
        try:
            return self.policy.escalation.policy(row.escalation_policy)
        except KeyError:
            return None

    # -- declaring

    def _project_id(self, session: Session, scope: str) -> int | None:
        if not scope.isdigit():
            return None
        return int(scope) if session.get(ProjectRow, int(scope)) is not None else None

    def _declare(self, session: Session, outbox: _Outbox, *, title: str, severity: Severity, by: str, at: float,
                 scope: str, project_id: int | None, incident_type: str | None, alerts: Sequence[Alert],
                 fault_started_at: float | None = None) -> IncidentRow:
        if fault_started_at is None and alerts:
            fault_started_at = min(a.active_at for a in alerts)
        severity = max([severity, *(a.severity for a in alerts)])
        services = sorted({a.labels.get("service", "") for a in alerts} - {""})
        labels = {"severity": severity.value, "incident_type": incident_type or "", "project": scope}
        if services:
            labels["service"] = services[0]
        policy = self.policy.escalation.select(labels)
        state = start(policy, at)
        row = IncidentRow(
            project_id=project_id, scope=scope, title=title[:TITLE_MAX], status=IncidentStatus.TRIGGERED.value,
            severity=severity.value, incident_type=incident_type, declared_by=by, declared_at=_dt(at),
            fault_started_at=None if fault_started_at is None else _dt(fault_started_at),
            rto_target_seconds=self.policy.rto.target_for(incident_type), escalation_policy=policy.name,
            escalation_step=state.step, escalation_repeat=state.repeat,
            next_escalation_at=None if state.next_at is None else _dt(state.next_at), updated_at=_dt(at),
        )
        session.add(row)
        session.flush()
        how = "by hand" if not alerts else f"from {len(alerts)} alert(s)"
        self._entry(session, row, at, TimelineKind.DECLARED, f"declared {how}: {row.title}", actor=by,
                    data={"severity": severity.value, "incident_type": incident_type, "policy": policy.name,
                          "rto_target_seconds": row.rto_target_seconds})
        for alert in alerts:
            self._attach(session, outbox, row, alert, at)
        receivers = resolve_targets(policy.steps[0].targets, self.policy.schedule_map, at)
        self._notify(session, outbox, row, NoticeKind.INCIDENT_TRIGGERED, "triggered", receivers, at,
                     text=f"Incident #{row.id} declared ({severity.value}): {row.title}",
                     data={"step": 0, "repeat": 0})
        return row

    def _attach(self, session: Session, outbox: _Outbox, row: IncidentRow, alert: Alert, at: float) -> None:
        session.add(IncidentAlertRow(
            incident_id=row.id, fingerprint=alert.fingerprint, alertname=alert.name[:NAME_MAX],
            service=alert.labels.get("service", "")[:NAME_MAX], severity=alert.severity.value,
            labels=dict(alert.labels), first_state=alert.state.value, last_state=alert.state.value,
            active_at=_dt(alert.active_at), attached_at=_dt(at), resolved_at=None,
        ))
        summary = alert.annotations.get("summary", "")
        self._entry(session, row, at, TimelineKind.ALERT_FIRING,
                    f"{alert.name} firing ({alert.severity.value})" + (f": {summary}" if summary else ""),
                    data={"fingerprint": alert.fingerprint, "labels": dict(alert.labels), "value": alert.value,
                          "active_at": alert.active_at})
        if alert.severity > Severity(row.severity):
            self._raise_severity(session, outbox, row, alert.severity, at,
                                 f"raised to {alert.severity.value} by {alert.name}")

    def _raise_severity(self, session: Session, outbox: _Outbox, row: IncidentRow, severity: Severity, at: float,
                        why: str) -> None:
        """Raise the severity. An unacknowledged incident whose new severity routes to another escalation policy
        switches to it and starts it from its first step (a warning that turns critical must page at once)."""
        previous = row.severity
        row.severity = severity.value
        self._entry(session, row, at, TimelineKind.ALERT_ESCALATED, f"severity {previous} -> {severity.value}: {why}",
                    data={"from": previous, "to": severity.value})
        if row.status != IncidentStatus.TRIGGERED.value:
            return
        services = sorted({a.service for a in session.scalars(
            select(IncidentAlertRow).where(IncidentAlertRow.incident_id == row.id)) if a.service})
        policy = self.policy.escalation.select(self._labels(row, services))
        if policy.name == row.escalation_policy:
            return
        state = start(policy, at)
        row.escalation_policy = policy.name
        row.escalation_step, row.escalation_repeat = state.step, state.repeat
        row.next_escalation_at = None if state.next_at is None else _dt(state.next_at)
        receivers = resolve_targets(policy.steps[0].targets, self.policy.schedule_map, at)
        self._entry(session, row, at, TimelineKind.ESCALATION_STEP,
                    f"now {severity.value}: switched to escalation policy {policy.name}, step 1",
                    data={"policy": policy.name, "step": 0, "repeat": 0, "receivers": receivers})
        self._notify(session, outbox, row, NoticeKind.ESCALATION, f"policy-{policy.name}-{severity.value}",
                     receivers, at, text=f"Incident #{row.id} is now {severity.value}: paging {', '.join(receivers)}",
                     data={"step": 0, "repeat": 0, "policy": policy.name})

    # -- alert transitions

    def on_transitions(self, transitions: Iterable[AlertTransition]) -> list[Incident]:
        """Apply the evaluator's transitions (in order) in one transaction; the incidents they changed."""
        batch = list(transitions)
        if not batch:
            return []

        def work(session: Session, outbox: _Outbox) -> list[Incident]:
            changed: dict[int, IncidentRow] = {}
            for tr in batch:
                for row in self._apply(session, outbox, tr):
                    changed[row.id] = row
            session.flush()
            return _load(session, list(changed.values()))

        result: list[Incident] = self._run(work)
        return result

    def _apply(self, session: Session, outbox: _Outbox, tr: AlertTransition) -> list[IncidentRow]:
        alert = tr.alert
        if alert.state is AlertState.FIRING:
            if tr.previous is AlertState.FIRING and not tr.escalated:
                return []
            return self._firing(session, outbox, tr)
        if alert.state is AlertState.RESOLVED:
            return self._resolved(session, outbox, alert, tr.at)
        return []  # pending and inactive alerts are not incidents (yet)

    def _attached(self, session: Session, fingerprint: str) -> list[tuple[IncidentRow, IncidentAlertRow]]:
        stmt = (
            select(IncidentRow, IncidentAlertRow)
            .join(IncidentAlertRow, IncidentAlertRow.incident_id == IncidentRow.id)
            .where(IncidentAlertRow.fingerprint == fingerprint, IncidentRow.status.in_(_OPEN))
            .order_by(IncidentRow.id)
        )
        return [(i, a) for i, a in session.execute(stmt)]

    def _related(self, session: Session, scope: str, incident_type: str, service: str) -> IncidentRow | None:
        rows = session.scalars(
            select(IncidentRow).where(IncidentRow.scope == scope, IncidentRow.status.in_(_OPEN))
            .order_by(IncidentRow.declared_at.desc(), IncidentRow.id.desc())
        ).all()
        for row in rows:
            if incident_type and row.incident_type == incident_type:
                return row
            if service:
                hit = session.scalars(select(IncidentAlertRow.id).where(
                    IncidentAlertRow.incident_id == row.id, IncidentAlertRow.service == service).limit(1)).first()
                if hit is not None:
                    return row
        return None

    def _firing(self, session: Session, outbox: _Outbox, tr: AlertTransition) -> list[IncidentRow]:
        alert, at = tr.alert, tr.at
        attached = self._attached(session, alert.fingerprint)
        if attached:
            for row, link in attached:
                escalated = Severity(link.severity) < alert.severity
                link.last_state = alert.state.value
                link.severity = alert.severity.value
                link.resolved_at = None
                if escalated:
                    self._entry(session, row, at, TimelineKind.ALERT_ESCALATED,
                                f"{alert.name} escalated to {alert.severity.value}",
                                data={"fingerprint": alert.fingerprint, "value": alert.value})
                    if alert.severity > Severity(row.severity):
                        self._raise_severity(session, outbox, row, alert.severity, at, f"{alert.name} escalated")
                else:
                    self._entry(session, row, at, TimelineKind.ALERT_FIRING, f"{alert.name} firing again",
                                data={"fingerprint": alert.fingerprint, "value": alert.value})
            return [row for row, _ in attached]
        # Label values are free text: cut to the columns' sizes rather than refuse an alert.
        scope = alert.labels.get("project", "")[:NAME_MAX]
        itype = alert.labels.get("incident_type", "")[:KIND_MAX]
        service = alert.labels.get("service", "")[:NAME_MAX]
        related = self._related(session, scope, itype, service)
        if related is not None:
            self._drop_candidate(session, alert.fingerprint)
            self._attach(session, outbox, related, alert, at)
            return [related]
        declare = self.policy.declare
        if alert.severity is Severity.CRITICAL and declare.on_critical:
            self._drop_candidate(session, alert.fingerprint)
            summary = alert.annotations.get("summary") or alert.name
            row = self._declare(session, outbox, title=summary, severity=alert.severity, by=SYSTEM_ACTOR, at=at,
                                scope=scope, project_id=self._project_id(session, scope),
                                incident_type=itype or None, alerts=[alert])
            return [row]
        if alert.severity is Severity.WARNING and declare.related_warnings > 0:
            return self._candidate(session, outbox, alert, at, scope, itype, service)
        return []

    def _drop_candidate(self, session: Session, fingerprint: str) -> None:
        session.execute(delete(IncidentCandidateRow).where(IncidentCandidateRow.fingerprint == fingerprint))

    def _candidate(self, session: Session, outbox: _Outbox, alert: Alert, at: float, scope: str, itype: str,
                   service: str) -> list[IncidentRow]:
        """Keep a firing warning as a candidate; declare once enough related candidates fire within the window."""
        self._drop_candidate(session, alert.fingerprint)
        session.add(IncidentCandidateRow(fingerprint=alert.fingerprint, scope=scope, incident_type=itype,
                                         service=service, fired_at=_dt(at), alert=alert.to_dict()))
        session.flush()
        since = _dt(at - self.policy.declare.window)
        rows = session.scalars(
            select(IncidentCandidateRow).where(IncidentCandidateRow.scope == scope,
                                               IncidentCandidateRow.fired_at >= since)
            .order_by(IncidentCandidateRow.fired_at, IncidentCandidateRow.id)
        ).all()
        related = [r for r in rows if (itype and r.incident_type == itype) or (service and r.service == service)]
        if len(related) < self.policy.declare.related_warnings:
            return []
        alerts = [_alert_from_dict(r.alert) for r in related]
        for r in related:
            session.delete(r)
        names = sorted({a.name for a in alerts})
        subject = itype or service
        title = f"{len(alerts)} related warnings ({subject}): {', '.join(names)}"
        row = self._declare(session, outbox, title=title, severity=Severity.WARNING, by=SYSTEM_ACTOR, at=at,
                            scope=scope, project_id=self._project_id(session, scope), incident_type=itype or None,
                            alerts=alerts)
        return [row]

    def _resolved(self, session: Session, outbox: _Outbox, alert: Alert, at: float) -> list[IncidentRow]:
        self._drop_candidate(session, alert.fingerprint)
        changed = []
        for row, link in self._attached(session, alert.fingerprint):
            link.last_state = AlertState.RESOLVED.value
            link.resolved_at = _dt(alert.resolved_at if alert.resolved_at is not None else at)
            self._entry(session, row, at, TimelineKind.ALERT_RESOLVED, f"{alert.name} resolved",
                        data={"fingerprint": alert.fingerprint, "value": alert.value})
            changed.append(row)
            session.flush()
            if self.policy.declare.auto_resolve:
                states = session.scalars(
                    select(IncidentAlertRow.last_state).where(IncidentAlertRow.incident_id == row.id)).all()
                if all(s == AlertState.RESOLVED.value for s in states):
                    self._close(session, outbox, row, SYSTEM_ACTOR, at, "every attached alert resolved")
        return changed

    # -- by hand

    def declare(self, title: str, severity: Severity | str, *, by: str, project_id: int | None = None,
                incident_type: str | None = None, fault_started_at: float | None = None) -> Incident:
        """Declare an incident by hand; escalation starts at once, like an automatic one."""
        title = _text("title", title, TITLE_MAX)
        level = _severity(severity)
        by = _text("by", by, NAME_MAX)
        if incident_type is not None:
            incident_type = _text("incident_type", incident_type, KIND_MAX)
        if project_id is not None and (isinstance(project_id, bool) or not isinstance(project_id, int)):
            raise InvalidInput("project_id", f"expected an integer, got {project_id!r}")
        if fault_started_at is not None:
            fault_started_at = _epoch("fault_started_at", fault_started_at)
        at = self.clock()

        def work(session: Session, outbox: _Outbox) -> Incident:
            if project_id is not None and session.get(ProjectRow, project_id) is None:
                raise InvalidInput("project_id", f"no project {project_id}")
            scope = "" if project_id is None else str(project_id)
            row = self._declare(session, outbox, title=title, severity=level, by=by, at=at, scope=scope,
                                project_id=project_id, incident_type=incident_type, alerts=[],
                                fault_started_at=fault_started_at)
            session.flush()
            return _load(session, [row])[0]

        result: Incident = self._run(work)
        return result

    def _change(self, incident_id: int, change: Callable[[Session, _Outbox, IncidentRow, float], None]) -> Incident:
        at = self.clock()

        def work(session: Session, outbox: _Outbox) -> Incident:
            row = self._row(session, incident_id)
            change(session, outbox, row, at)
            session.flush()
            return _load(session, [row])[0]

        result: Incident = self._run(work)
        return result

    def acknowledge(self, incident_id: int, by: str) -> Incident:
        """Stop escalation; tell everyone paged so far (PagerDuty gets ``acknowledge``)."""
        by = _text("by", by, NAME_MAX)

        def change(session: Session, outbox: _Outbox, row: IncidentRow, at: float) -> None:
            if row.status == IncidentStatus.RESOLVED.value:
                raise IncidentStateError(f"incident {row.id} is resolved; it cannot be acknowledged")
            if row.status == IncidentStatus.ACKNOWLEDGED.value:
                raise IncidentStateError(f"incident {row.id} was already acknowledged by {row.acknowledged_by}")
            row.status = IncidentStatus.ACKNOWLEDGED.value
            row.acknowledged_at, row.acknowledged_by = _dt(at), by
            row.next_escalation_at = None
            self._entry(session, row, at, TimelineKind.ACKNOWLEDGED, f"acknowledged by {by}", actor=by)
            self._notify(session, outbox, row, NoticeKind.INCIDENT_ACKNOWLEDGED, "acknowledged",
                         self._paged(session, row), at, text=f"Incident #{row.id} acknowledged by {by}")

        return self._change(incident_id, change)

    def resolve(self, incident_id: int, by: str) -> Incident:
        by = _text("by", by, NAME_MAX)

        def change(session: Session, outbox: _Outbox, row: IncidentRow, at: float) -> None:
            if row.status == IncidentStatus.RESOLVED.value:
                raise IncidentStateError(f"incident {row.id} was already resolved by {row.resolved_by}")
            self._close(session, outbox, row, by, at, f"resolved by {by}")

        return self._change(incident_id, change)

    def _close(self, session: Session, outbox: _Outbox, row: IncidentRow, by: str, at: float, why: str) -> None:
        if row.recovered_at is None:  # closing says the service is restored, at the latest now
            hint = self._recovery_hint(row.id) if self._recovery_hint is not None else None
            if hint is not None and hint <= at:
                self._recover(session, row, hint, at, SYSTEM_ACTOR, "healthy since then (recovery watch), confirmed "
                              "by the incident resolving", {"source": "recovery_watch"})
            else:
                self._recover(session, row, at, at, by, f"restored when resolved ({why})", {"source": "resolved"})
        row.status = IncidentStatus.RESOLVED.value
        row.resolved_at, row.resolved_by = _dt(at), by
        row.next_escalation_at = None
        open_for = at - _ts(row.declared_at)
        self._entry(session, row, at, TimelineKind.RESOLVED, why, actor=by,
                    data={"recovery_seconds": open_for, "resolve_seconds": open_for})
        self._notify(session, outbox, row, NoticeKind.INCIDENT_RESOLVED, "resolved", self._paged(session, row), at,
                     text=f"Incident #{row.id} resolved after {open_for:.0f}s: {why}")

    def _recover(self, session: Session, row: IncidentRow, when: float, at: float, by: str, why: str,
                 data: Mapping[str, Any]) -> None:
        """Record the restoration at ``when`` (entry written at ``at``). Judges the RTO: later than the target
        and not yet marked, the breach is recorded (no page: the service is back)."""
        row.recovered_at = _dt(when)
        declared = _ts(row.declared_at)
        restore = max(0.0, when - declared)
        deadline = declared + row.rto_target_seconds
        met = when <= deadline
        self._entry(session, row, at, TimelineKind.RECOVERED,
                    f"service restored after {restore:.1f}s ({'within' if met else 'over'} the RTO of "
                    f"{row.rto_target_seconds:.0f}s): {why}", actor=by,
                    data={**data, "recovered_at": when, "restore_seconds": restore,
                          "rto_target_seconds": row.rto_target_seconds, "deadline": deadline, "rto_met": met})
        if not met and row.rto_breached_at is None:
            row.rto_breached_at = _dt(deadline)
            self._entry(session, row, at, TimelineKind.RTO_BREACHED,
                        f"restored after {restore:.0f}s, over the RTO of {row.rto_target_seconds:.0f}s",
                        data={"deadline": deadline, "rto_target_seconds": row.rto_target_seconds})

    def mark_recovered(self, incident_id: int, by: str, *, at: float | None = None) -> Incident:
        """Record by hand that the incident's service is restored, now or at ``at`` (epoch seconds, not in the
        future, not before the fault began). Once per incident: the first restoration is what the RTO judges."""
        by = _text("by", by, NAME_MAX)
        when = None if at is None else _epoch("at", at)

        def change(session: Session, outbox: _Outbox, row: IncidentRow, now: float) -> None:
            if row.recovered_at is not None:
                raise IncidentStateError(f"incident {row.id} was already recorded as recovered at "
                                         f"{row.recovered_at.isoformat()}")
            moment = now if when is None else when
            if moment > now:
                raise InvalidInput("at", "a recovery cannot be recorded in the future")
            start = row.fault_started_at or row.declared_at
            if moment < _ts(start):
                raise InvalidInput("at", f"before the fault began ({start.isoformat()})")
            self._recover(session, row, moment, now, by, f"recorded by {by}", {"source": "manual"})

        return self._change(incident_id, change)

    def record_recovery(self, incident_id: int, recovered_at: float, evidence: Mapping[str, Any]) -> Incident | None:
        """The recovery watch confirmed the incident's signals healthy since ``recovered_at``. A no-op (None)
        for an incident already recovered or resolved: the first restoration stands."""
        when = _epoch("recovered_at", recovered_at)
        at = self.clock()

        def work(session: Session, outbox: _Outbox) -> Incident | None:
            row = self._row(session, incident_id)
            if row.recovered_at is not None or row.status == IncidentStatus.RESOLVED.value:
                return None
            self._recover(session, row, min(when, at), at, SYSTEM_ACTOR,
                          "the incident's signals are healthy again (recovery watch)", dict(evidence))
            session.flush()
            return _load(session, [row])[0]

        result: Incident | None = self._run(work)
        return result

    def assign_role(self, incident_id: int, role: Role | str, person: str, *, by: str | None = None) -> Incident:
        """Set the commander or scribe (replacing the previous one), or add a responder (adding one twice is a
        no-op)."""
        try:
            which = Role(role)
        except ValueError:
            raise InvalidInput("role", f"expected commander, scribe or responder, got {role!r}") from None
        person = _text("person", person, NAME_MAX)

        def change(session: Session, outbox: _Outbox, row: IncidentRow, at: float) -> None:
            if which is Role.RESPONDER:
                exists = session.scalars(select(IncidentResponderRow.id).where(
                    IncidentResponderRow.incident_id == row.id, IncidentResponderRow.person == person)).first()
                if exists is not None:
                    return
                session.add(IncidentResponderRow(incident_id=row.id, person=person, added_at=_dt(at)))
            else:
                setattr(row, which.value, person)
            self._entry(session, row, at, TimelineKind.ROLE_ASSIGNED, f"{person} is {which.value}", actor=by,
                        data={"role": which.value, "person": person})

        return self._change(incident_id, change)

    def add_note(self, incident_id: int, text: str, by: str) -> Incident:
        text = _text("text", text, 10_000)
        by = _text("by", by, NAME_MAX)

        def change(session: Session, outbox: _Outbox, row: IncidentRow, at: float) -> None:
            self._entry(session, row, at, TimelineKind.NOTE, text, actor=by)

        return self._change(incident_id, change)

    def record_recovery_action(self, incident_id: int, text: str, data: Mapping[str, Any] | None = None, *,
                               actor: str | None = SYSTEM_ACTOR) -> Incident:
        """A recovery action taken (a retry policy engaged, a breaker opened, a failover...), for the record."""
        text = _text("text", text, 10_000)
        if data is not None and not isinstance(data, Mapping):
            raise InvalidInput("data", f"expected a mapping, got {type(data).__name__}")

        def change(session: Session, outbox: _Outbox, row: IncidentRow, at: float) -> None:
            self._entry(session, row, at, TimelineKind.RECOVERY_ACTION, text, actor=actor, data=dict(data or {}))

        return self._change(incident_id, change)

    def record_notification(self, incident_id: int, receiver: str, delivered_at: float, *,
                            key: str | None = None) -> Incident:
        """The delivery queue reports a notice reached ``receiver`` at ``delivered_at``."""
        receiver = _text("receiver", receiver, NAME_MAX)
        when = _epoch("delivered_at", delivered_at)

        def change(session: Session, outbox: _Outbox, row: IncidentRow, at: float) -> None:
            session.add(TimelineRow(incident_id=row.id, at=_dt(when), kind=TimelineKind.NOTIFICATION_DELIVERED.value,
                                    actor=None, text=f"delivered to {receiver}",
                                    data={"receiver": receiver, "key": key}))
            row.updated_at = _dt(at)

        return self._change(incident_id, change)

    def set_fault_start(self, incident_id: int, started_at: float, *, by: str) -> Incident:
        """Record when the fault really began (a scenario or the investigation knows better than the first
        alert's ``active_at``); MTTD is measured from it."""
        when = _epoch("started_at", started_at)
        by = _text("by", by, NAME_MAX)

        def change(session: Session, outbox: _Outbox, row: IncidentRow, at: float) -> None:
            if when > _ts(row.declared_at):
                raise InvalidInput("started_at", "the fault cannot start after the incident was declared")
            row.fault_started_at = _dt(when)
            self._entry(session, row, at, TimelineKind.NOTE, f"fault start set to {_dt(when).isoformat()}",
                        actor=by, data={"fault_started_at": when})

        return self._change(incident_id, change)

    # -- reading

    def get(self, incident_id: int) -> Incident:
        def work(session: Session, outbox: _Outbox) -> Incident:
            return _load(session, [self._row(session, incident_id, lock=False)])[0]

        result: Incident = self._run(work, write=False)
        return result

    def list_incidents(self, *, status: IncidentStatus | str | None = None, project_id: int | None = None,
             since: float | None = None, until: float | None = None, limit: int = 100) -> list[Incident]:
        """Newest first; ``since``/``until`` bound ``declared_at`` ([since, until))."""
        wanted = None
        if status is not None:
            try:
                wanted = IncidentStatus(status)
            except ValueError:
                raise InvalidInput("status", f"expected triggered, acknowledged or resolved, got {status!r}") from None
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise InvalidInput("limit", f"expected an integer from 1 to 10000, got {limit!r}")

        def work(session: Session, outbox: _Outbox) -> list[Incident]:
            stmt = select(IncidentRow)
            if wanted is not None:
                stmt = stmt.where(IncidentRow.status == wanted.value)
            if project_id is not None:
                stmt = stmt.where(IncidentRow.project_id == project_id)
            if since is not None:
                stmt = stmt.where(IncidentRow.declared_at >= _dt(since))
            if until is not None:
                stmt = stmt.where(IncidentRow.declared_at < _dt(until))
            rows = session.scalars(stmt.order_by(IncidentRow.declared_at.desc(), IncidentRow.id.desc()).limit(limit))
            return _load(session, rows.all())

        result: list[Incident] = self._run(work, write=False)
        return result

    def open_incidents(self, limit: int = 1000) -> list[Incident]:
        """Triggered and acknowledged incidents, newest first (what the engine's passes look at)."""

        def work(session: Session, outbox: _Outbox) -> list[Incident]:
            rows = session.scalars(select(IncidentRow).where(IncidentRow.status.in_(_OPEN))
                                   .order_by(IncidentRow.declared_at.desc(), IncidentRow.id.desc()).limit(limit))
            return _load(session, rows.all())

        result: list[Incident] = self._run(work, write=False)
        return result

    def timeline(self, incident_id: int) -> list[TimelineEntry]:
        """Every entry, oldest first (ties in insertion order)."""

        def work(session: Session, outbox: _Outbox) -> list[TimelineEntry]:
            self._row(session, incident_id, lock=False)
            rows = session.scalars(select(TimelineRow).where(TimelineRow.incident_id == incident_id)
                                   .order_by(TimelineRow.at, TimelineRow.id))
            return [_to_entry(r) for r in rows]

        result: list[TimelineEntry] = self._run(work, write=False)
        return result

    # -- time-driven

    def tick(self, now: float | None = None, *, recovering: Mapping[int, float] | None = None) -> list[Incident]:
        """Send due escalation steps and check RTO targets; the incidents changed.

        RTO breach (chosen behaviour): an incident not recovered (``recovered_at`` unset) whose
        ``declared_at + rto_target`` has passed is marked breached once (``rto_breached_at`` = that deadline,
        timeline ``rto_breached``), raised to critical, and its policy's last-step targets get an ESCALATION
        notice, even if it was acknowledged (the RTO is about recovery, not response). Escalation steps
        themselves are not restarted. ``recovering`` maps incidents the recovery watch sees healthy, not yet
        for long enough, to since when: one healthy since before its deadline is judged when that is
        confirmed or broken, not paged meanwhile."""
        at = self.clock() if now is None else float(now)
        healthy = dict(recovering or {})

        def work(session: Session, outbox: _Outbox) -> list[Incident]:
            changed: dict[int, IncidentRow] = {}
            due = session.scalars(
                select(IncidentRow).where(IncidentRow.status == IncidentStatus.TRIGGERED.value,
                                          IncidentRow.next_escalation_at <= _dt(at))
                .order_by(IncidentRow.id).with_for_update()
            ).all()
            for row in due:
                self._escalate(session, outbox, row, at)
                changed[row.id] = row
            open_rows = session.scalars(
                select(IncidentRow).where(IncidentRow.status.in_(_OPEN), IncidentRow.rto_breached_at.is_(None),
                                          IncidentRow.recovered_at.is_(None))
                .order_by(IncidentRow.id).with_for_update()
            ).all()
            for row in open_rows:
                deadline = _ts(row.declared_at) + row.rto_target_seconds
                if row.id in healthy and healthy[row.id] <= deadline:
                    continue
                if deadline <= at:
                    self._breach(session, outbox, row, at)
                    changed[row.id] = row
            session.flush()
            return _load(session, list(changed.values()))

        result: list[Incident] = self._run(work)
        return result

    def _escalate(self, session: Session, outbox: _Outbox, row: IncidentRow, at: float) -> None:
        policy = self._escalation_policy(row)
        if policy is None:
            row.next_escalation_at = None
            self._entry(session, row, at, TimelineKind.ESCALATION_STEP,
                        f"escalation stopped: policy {row.escalation_policy!r} is no longer configured")
            return
        state = advance(policy, EscalationState(row.escalation_step, row.escalation_repeat, None), at)
        if state is None:
            row.next_escalation_at = None
            return
        row.escalation_step, row.escalation_repeat = state.step, state.repeat
        row.next_escalation_at = None if state.next_at is None else _dt(state.next_at)
        receivers = resolve_targets(policy.steps[state.step].targets, self.policy.schedule_map, at)
        last = " (last step)" if state.next_at is None else ""
        self._entry(session, row, at, TimelineKind.ESCALATION_STEP,
                    f"{policy.name}: step {state.step + 1} of {len(policy.steps)}, pass {state.repeat + 1} of "
                    f"{policy.repeat + 1}{last}", data={"policy": policy.name, "step": state.step,
                                                       "repeat": state.repeat, "receivers": receivers})
        self._notify(session, outbox, row, NoticeKind.ESCALATION, f"escalation-r{state.repeat}-s{state.step}",
                     receivers, at, text=f"Incident #{row.id} is still unacknowledged: escalating to "
                     f"{', '.join(receivers)}", data={"step": state.step, "repeat": state.repeat})

    def _breach(self, session: Session, outbox: _Outbox, row: IncidentRow, at: float) -> None:
        deadline = _ts(row.declared_at) + row.rto_target_seconds
        row.rto_breached_at = _dt(deadline)
        previous = row.severity
        row.severity = Severity.CRITICAL.value
        raised = f"; severity {previous} -> critical" if previous != row.severity else ""
        self._entry(session, row, at, TimelineKind.RTO_BREACHED,
                    f"not recovered within the RTO of {row.rto_target_seconds:.0f}s{raised}",
                    data={"deadline": deadline, "rto_target_seconds": row.rto_target_seconds, "from": previous})
        policy = self._escalation_policy(row) or self.policy.escalation.select(self._labels(row))
        receivers = resolve_targets(policy.last_targets, self.policy.schedule_map, at)
        self._notify(session, outbox, row, NoticeKind.ESCALATION, "rto-breached", receivers, at,
                     text=f"Incident #{row.id} missed its recovery-time objective of "
                     f"{row.rto_target_seconds:.0f}s", data={"reason": "rto_breached"})

    def next_due(self, *, exclude: Collection[int] = ()) -> float | None:
        """When `tick` next has something to do (an escalation step or an RTO deadline), or None. ``exclude``:
        incidents whose RTO deadline waits on the recovery watch (the ``recovering`` of `tick`)."""

        def work(session: Session, outbox: _Outbox) -> float | None:
            times = [_ts(t) for t in session.scalars(
                select(IncidentRow.next_escalation_at).where(IncidentRow.status == IncidentStatus.TRIGGERED.value,
                                                             IncidentRow.next_escalation_at.is_not(None)))
                     if t is not None]
            for incident_id, declared, target in session.execute(
                select(IncidentRow.id, IncidentRow.declared_at, IncidentRow.rto_target_seconds)
                .where(IncidentRow.status.in_(_OPEN), IncidentRow.rto_breached_at.is_(None),
                       IncidentRow.recovered_at.is_(None))
            ):
                if incident_id not in exclude:
                    times.append(_ts(declared) + target)
            return min(times) if times else None

        result: float | None = self._run(work, write=False)
        return result


def _alert_from_dict(data: Mapping[str, Any]) -> Alert:
    """An `Alert` back from `Alert.to_dict` (stored candidates)."""
    return Alert(
        fingerprint=str(data["fingerprint"]), rule=str(data["rule"]),
        labels={str(k): str(v) for k, v in dict(data.get("labels") or {}).items()},
        annotations={str(k): str(v) for k, v in dict(data.get("annotations") or {}).items()},
        severity=Severity(data["severity"]), state=AlertState(data["state"]), value=float(data["value"]),
        active_at=float(data["active_at"]),
        fired_at=None if data.get("fired_at") is None else float(data["fired_at"]),
        resolved_at=None if data.get("resolved_at") is None else float(data["resolved_at"]),
        last_evaluated_at=float(data.get("last_evaluated_at") or 0.0),
    )
