"""Routing: alert transitions in, notices out. Alertmanager's dispatcher, driven by the evaluator's
`AlertTransition`s instead of HTTP posts, plus acknowledgements (which Alertmanager lacks).

- Every firing alert goes down the routing tree (`recoup.incidents.routing_config.Route.match`) into one
  aggregation group per (route, values of the route's ``group_by`` labels).
- A new group waits ``group_wait`` and then notifies with all its firing alerts. A group that already
  notified reports changes (a new alert, a resolved alert, an alert's severity rising) ``group_interval``
  after its last flush; an unchanged firing group repeats every ``repeat_interval``; when every alert it
  told about has resolved it sends a RESOLVED notice, and is dropped once it holds no alerts.
- Muted alerts are not notified but stay visible in `Router.status`: *silenced* (an active silence
  matches), *inhibited* (an inhibition rule's source alert fires with equal ``equal`` labels; Alertmanager's
  rules: any firing source counts, and an alert matching both sides of a rule cannot be inhibited by
  another that does), or *acknowledged* (no more repeats until it resolves or its severity rises).

Resolved notices are sent for alerts the receiver was told about, even if they were silenced since: a
receiver such as PagerDuty keeps an incident open until it hears the alert resolved.

Time comes from the injected clock; `Router.next_due` says when `Router.tick` next has work, so the caller
can sleep exactly that long instead of polling. Thread-safe.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from recoup.incidents.model import (
    Alert,
    AlertState,
    AlertTransition,
    Labels,
    Notice,
    NoticeKind,
    NoticeSink,
    Severity,
    matches_all,
)
from recoup.incidents.routing_config import InhibitRule, Route, Routing
from recoup.incidents.silences import SilenceStore

_log = logging.getLogger(__name__)

MAX_ACK_BY = 200


class UnknownAlertOrGroup(LookupError):
    """`Router.acknowledge` was given something that is neither a firing alert nor a group."""


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """Who acknowledged which alert when (kept until the alert resolves or escalates)."""

    fingerprint: str
    by: str
    at: float
    group_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "by": self.by, "at": self.at, "group_key": self.group_key}


@dataclass(frozen=True, slots=True)
class Mutes:
    """Why an alert is not notified (empty: it is)."""

    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()

    @property
    def muted(self) -> bool:
        return bool(self.silenced_by or self.inhibited_by)


def _labels_text(labels: Labels) -> str:
    return "{" + ",".join(f'{k}="{labels[k]}"' for k in sorted(labels)) + "}"


def group_key(route: Route, labels: Labels) -> str:
    """The key of the group ``labels`` (an alert's) fall into on ``route``, Alertmanager-style:
    ``{}/{severity="critical"}/0:{alertname="X",service="api"}``."""
    return f"{route.id}:{_labels_text(route.group_labels(labels))}"


def dedup_key_of(key: str) -> str:
    """Stable across restarts and the same for every notice of the group: receivers correlate on it."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(slots=True)
class _Group:
    key: str
    route: Route
    labels: dict[str, str]
    dedup_key: str
    created_at: float
    serial: int  # the router's count of groups made: with created_at, tells apart groups that reuse a key
    first_due: float
    alerts: dict[str, Alert] = field(default_factory=dict)
    #: Firing alerts the receiver was told about, with the severity it was told.
    notified: dict[str, Severity] = field(default_factory=dict)
    last_flush_at: float | None = None
    last_sent_at: float | None = None
    dirty: bool = False  # something happened since the last flush
    recheck: bool = False  # some firing alert is muted: mutes can lift with time, look again each group_interval
    repeatable: bool = False  # at the last flush, some unmuted unacknowledged alert fired
    sent: int = 0
    retry_at: float | None = None
    last_error: str | None = None

    def due(self) -> float | None:
        if self.retry_at is not None:
            return self.retry_at
        if self.last_flush_at is None:
            return self.first_due
        candidates = []
        if self.dirty or self.recheck:
            candidates.append(self.last_flush_at + self.route.group_interval)
        if self.repeatable and self.last_sent_at is not None:
            candidates.append(self.last_sent_at + self.route.repeat_interval)
        return min(candidates) if candidates else None


class _Inhibitor:
    """The inhibition rules applied to one snapshot of the firing alerts, indexed by ``equal`` values."""

    def __init__(self, rules: tuple[InhibitRule, ...], firing: Iterable[Alert]) -> None:
        self._rules = rules
        alerts = list(firing)
        self._sources: list[dict[tuple[str, ...], list[Alert]]] = []
        for rule in rules:
            index: dict[tuple[str, ...], list[Alert]] = {}
            for alert in alerts:
                if matches_all(rule.source, alert.labels):
                    index.setdefault(_equal_values(rule, alert.labels), []).append(alert)
            self._sources.append(index)

    def inhibited_by(self, alert: Alert) -> tuple[str, ...]:
        found: set[str] = set()
        for rule, sources in zip(self._rules, self._sources, strict=True):
            if not matches_all(rule.target, alert.labels):
                continue
            two_sided = matches_all(rule.source, alert.labels)
            for source in sources.get(_equal_values(rule, alert.labels), ()):
                if source.fingerprint == alert.fingerprint:
                    continue
                if two_sided and matches_all(rule.target, source.labels):
                    continue
                found.add(source.fingerprint)
        return tuple(sorted(found))


def _equal_values(rule: InhibitRule, labels: Labels) -> tuple[str, ...]:
    # A label missing on both sides counts as equal (both empty), as in Alertmanager.
    return tuple(labels.get(name, "") for name in rule.equal)


class Router:
    """Groups, mutes and notifies; see the module docstring. ``retry_after``: when the sink refuses a notice,
    the group keeps its state and tries again this many seconds later."""

    def __init__(
        self,
        config: Routing,
        *,
        clock: Callable[[], float],
        silences: SilenceStore,
        sink: NoticeSink,
        retry_after: float = 10.0,
    ) -> None:
        self._config = config
        self._clock = clock
        self._silences = silences
        self._sink = sink
        self._retry_after = retry_after
        self._lock = threading.RLock()
        self._alerts: dict[str, Alert] = {}  # firing alerts, acknowledgement applied
        self._groups: dict[str, _Group] = {}
        self._membership: dict[str, set[str]] = {}  # fingerprint -> keys of the groups holding it
        self._acks: dict[str, Acknowledgement] = {}
        self._serial = 0

    @property
    def config(self) -> Routing:
        return self._config

    # -- input ----------------------------------------------------------------------------------------

    def on_transitions(self, transitions: Iterable[AlertTransition]) -> None:
        """Take the evaluator's transitions: firing alerts join their groups, resolved ones are marked for
        the next flush. Pending and inactive transitions of alerts that never fired are ignored."""
        with self._lock:
            for transition in transitions:
                alert = transition.alert
                if alert.state is AlertState.FIRING:
                    self._fire(transition)
                elif alert.state in (AlertState.RESOLVED, AlertState.INACTIVE) and (
                    alert.fingerprint in self._alerts or alert.fingerprint in self._membership
                ):
                    self._resolve(transition)

    def _fire(self, transition: AlertTransition) -> None:
        alert = transition.alert
        fp = alert.fingerprint
        before = self._alerts.get(fp)
        escalated = transition.escalated or (before is not None and alert.severity > before.severity)
        if escalated:
            self._acks.pop(fp, None)  # an acknowledged alert that gets worse pages again
        elif fp not in self._acks and alert.acknowledged_by:
            # Acknowledged where the alert lives (the evaluator): the same acknowledgement here.
            at = alert.acknowledged_at if alert.acknowledged_at is not None else transition.at
            self._acks[fp] = Acknowledgement(fp, alert.acknowledged_by, at)
        ack = self._acks.get(fp)
        alert = alert.evolve(acknowledged_by=ack.by if ack else None, acknowledged_at=ack.at if ack else None)
        self._alerts[fp] = alert
        self._place(alert, alert.fired_at if alert.fired_at is not None else transition.at, changed=True)

    def _place(self, alert: Alert, fired_at: float, *, changed: bool) -> None:
        """Put a firing ``alert`` into the groups of the routes it matches (leaving those it no longer
        matches). ``changed``: the alert is news to groups that already hold it."""
        fp = alert.fingerprint
        targets = {group_key(route, alert.labels): route for route in self._config.route.match(alert.labels)}
        for key in self._membership.get(fp, set()) - targets.keys():
            self._leave(key, fp)
        for key, route in targets.items():
            group = self._groups.get(key)
            if group is None:
                self._serial += 1
                group = _Group(key, route, route.group_labels(alert.labels), dedup_key_of(key), self._clock(),
                               self._serial, fired_at + route.group_wait)
                self._groups[key] = group
            elif group.last_flush_at is None:
                # An alert that fired long ago (replayed after a restart) need not wait group_wait again.
                group.first_due = min(group.first_due, fired_at + route.group_wait)
            if changed or fp not in group.alerts:
                group.dirty = True
            group.alerts[fp] = alert
        self._membership[fp] = set(targets)

    def _resolve(self, transition: AlertTransition) -> None:
        alert = transition.alert
        fp = alert.fingerprint
        self._alerts.pop(fp, None)
        self._acks.pop(fp, None)
        resolved = alert.evolve(
            state=AlertState.RESOLVED,
            resolved_at=alert.resolved_at if alert.resolved_at is not None else transition.at,
            acknowledged_by=None,
            acknowledged_at=None,
        )
        for key in self._membership.pop(fp, set()):
            group = self._groups.get(key)
            if group is not None:
                group.alerts[fp] = resolved
                group.dirty = True

    def _leave(self, key: str, fp: str) -> None:
        """``fp``'s labels changed so that it no longer belongs to group ``key``."""
        group = self._groups.get(key)
        if group is None:
            return
        group.alerts.pop(fp, None)
        group.dirty = True
        if not group.alerts and not group.notified:
            del self._groups[key]

    # -- acknowledgement -------------------------------------------------------------------------------

    def acknowledge(self, fingerprint_or_group_key: str, by: str, *, now: float | None = None) -> list[str]:
        """Acknowledge one firing alert (by fingerprint) or every firing alert of a group (by group key or
        its dedup key): no more repeat notifications for them until they resolve or their severity rises.
        Returns the fingerprints acknowledged now (already acknowledged ones keep their first record).
        `UnknownAlertOrGroup` when the target is neither; ValueError naming ``by`` when it is empty."""
        if not isinstance(by, str) or not by.strip():
            raise ValueError("by: say who acknowledges")
        if len(by) > MAX_ACK_BY:
            raise ValueError(f"by: longer than {MAX_ACK_BY} characters")
        at = self._clock() if now is None else now
        target = fingerprint_or_group_key
        with self._lock:
            if target in self._alerts:
                fingerprints, key = [target], None
            else:
                group = self._groups.get(target) or next(
                    (g for g in self._groups.values() if g.dedup_key == target), None
                )
                if group is None:
                    raise UnknownAlertOrGroup(f"no firing alert or alert group {target!r}")
                key = group.key
                fingerprints = sorted(fp for fp, a in group.alerts.items() if a.state is AlertState.FIRING)
            done = []
            for fp in fingerprints:
                if fp in self._acks:
                    continue
                ack = Acknowledgement(fp, by.strip(), at, key)
                self._acks[fp] = ack
                alert = self._alerts[fp].evolve(acknowledged_by=ack.by, acknowledged_at=ack.at)
                self._alerts[fp] = alert
                for member in self._membership.get(fp, ()):
                    if member in self._groups:
                        self._groups[member].alerts[fp] = alert
                done.append(fp)
            return done

    def acknowledgements(self) -> list[Acknowledgement]:
        """The acknowledgements in force (those of alerts still firing at the acknowledged severity)."""
        with self._lock:
            return sorted(self._acks.values(), key=lambda a: (a.at, a.fingerprint))

    # -- output ---------------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        """When `tick` next has something to do (epoch seconds; may be in the past), or None."""
        with self._lock:
            return min((d for g in self._groups.values() if (d := g.due()) is not None), default=None)

    def tick(self, now: float | None = None) -> list[Notice]:
        """Flush every group that is due at ``now``: the notices sent (each also handed to the sink)."""
        at = self._clock() if now is None else now
        with self._lock:
            due = sorted(
                ((d, g) for g in self._groups.values() if (d := g.due()) is not None and d <= at),
                key=lambda pair: (pair[0], pair[1].key),
            )
            if not due:
                return []
            inhibitor = _Inhibitor(self._config.inhibit_rules, self._alerts.values())
            notices = []
            for _, group in due:
                notice = self._flush(group, at, inhibitor)
                if notice is not None:
                    notices.append(notice)
            return notices

    def mutes(self, alert: Alert, now: float | None = None) -> Mutes:
        """Why ``alert`` is not notified at ``now`` (acknowledgement aside)."""
        at = self._clock() if now is None else now
        with self._lock:
            return self._mutes(alert, at, _Inhibitor(self._config.inhibit_rules, self._alerts.values()))

    def _mutes(self, alert: Alert, now: float, inhibitor: _Inhibitor) -> Mutes:
        return Mutes(tuple(self._silences.silenced_by(alert.labels, now)), inhibitor.inhibited_by(alert))

    def _flush(self, group: _Group, now: float, inhibitor: _Inhibitor) -> Notice | None:
        firing = [a for a in group.alerts.values() if a.state is AlertState.FIRING]
        mutes = {a.fingerprint: self._mutes(a, now, inhibitor) for a in firing}
        notifiable = [a for a in firing if not mutes[a.fingerprint].muted]
        resolved = [a for a in group.alerts.values() if a.state is not AlertState.FIRING and a.fingerprint in
                    group.notified]
        gone = [fp for fp in group.notified if fp not in group.alerts]
        new = [a for a in notifiable if a.fingerprint not in group.notified]
        told = group.notified
        worse = [a for a in notifiable if a.fingerprint in told and a.severity > told[a.fingerprint]]
        unacknowledged = [a for a in notifiable if a.acknowledged_by is None]
        changed = bool(new or worse or resolved or gone)
        repeat = (
            not changed
            and bool(unacknowledged)
            and group.last_sent_at is not None
            and now >= group.last_sent_at + group.route.repeat_interval
        )
        if changed or repeat:
            notice = self._notice(group, notifiable, resolved, now)
            try:
                self._sink.enqueue(notice, [group.route.receiver])
            except Exception as exc:
                # Nothing of the group's state moves: the same notice (same key) is tried again later.
                _log.exception("routing: could not hand notice %s to receiver %s; retrying in %gs",
                               notice.key, group.route.receiver, self._retry_after)
                group.retry_at = now + self._retry_after
                group.last_error = f"{type(exc).__name__}: {exc}"
                return None
            group.sent += 1
            group.last_sent_at = now
            if notice.kind is NoticeKind.FIRING:
                kept = {fp: sev for fp, sev in group.notified.items() if fp in mutes}  # still firing, now muted
                group.notified = kept | {a.fingerprint: a.severity for a in notifiable}
            else:
                group.notified = {}
        else:
            notice = None
        group.last_flush_at = now
        group.dirty = False
        group.retry_at = None
        group.last_error = None
        group.recheck = any(m.muted for m in mutes.values())
        group.repeatable = bool(unacknowledged)
        group.alerts = {fp: a for fp, a in group.alerts.items() if a.state is AlertState.FIRING}
        if not group.alerts:
            del self._groups[group.key]
        return notice

    def _notice(self, group: _Group, firing: list[Alert], resolved: list[Alert], now: float) -> Notice:
        kind = NoticeKind.FIRING if firing else NoticeKind.RESOLVED
        shown = firing or resolved
        severity = max((a.severity for a in shown), default=Severity.INFO)
        name = _group_name(group)
        title = f"[FIRING:{len(firing)}] {name}" if firing else f"[RESOLVED] {name}"
        return Notice(
            kind=kind,
            # Unique per group instance and send (a retry of a refused send reuses it, so it is delivered once).
            key=f"{group.dedup_key}:{round(group.created_at * 1000)}.{group.serial}:{group.sent + 1}",
            dedup_key=group.dedup_key,
            title=title,
            text=_summary(firing, resolved),
            severity=severity,
            created_at=now,
            labels=dict(group.labels),
            alerts=tuple(a.to_dict() for a in (*firing, *resolved)),
        )

    # -- persistence ----------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """The firing alerts, the groups with what each told its receiver, and the acknowledgements, as
        JSON-safe data for `from_state` after a restart. (The evaluator restores its alerts without
        transitions: without this, routing would not know they fire, nor that they were already notified.)"""
        with self._lock:
            return {
                "version": 1,
                "alerts": [a.to_dict() for a in self._alerts.values()],
                "groups": [_group_state(g) for g in self._groups.values()],
                "acknowledgements": [a.to_dict() for a in self._acks.values()],
            }

    def from_state(self, state: Mapping[str, Any]) -> int:
        """Restore what `to_state` saved into a router that holds no alerts yet; returns how many groups were
        restored. A group whose route is no longer in the configuration is dropped and its alerts are
        grouped anew under the current routes. ValueError naming the entry when the data is malformed
        (nothing is restored then)."""
        if not isinstance(state, Mapping) or state.get("version") != 1:
            raise ValueError("routing state: expected {'version': 1, 'alerts': [...], 'groups': [...]}")
        alerts = [_parsed(f"alerts[{i}]", _alert_from_dict, a) for i, a in enumerate(_items(state, "alerts"))]
        groups = [_parsed(f"groups[{i}]", _group_from_state, g) for i, g in enumerate(_items(state, "groups"))]
        acks = [_parsed(f"acknowledgements[{i}]", _ack_from_dict, a)
                for i, a in enumerate(_items(state, "acknowledgements"))]
        with self._lock:
            if self._alerts or self._groups:
                raise ValueError("routing state: restore before the router receives any transition")
            routes = {route.id: route for route in self._config.route.walk()}
            firing = {a.fingerprint: a for a in alerts if a.state is AlertState.FIRING}
            self._acks = {a.fingerprint: a for a in acks if a.fingerprint in firing}
            for fp, alert in firing.items():
                ack = self._acks.get(fp)
                self._alerts[fp] = alert.evolve(acknowledged_by=ack.by if ack else None,
                                                acknowledged_at=ack.at if ack else None)
            for route_id, group in groups:
                route = routes.get(route_id)
                if route is None or not group.key.startswith(f"{route.id}:"):
                    _log.warning("routing: group %s is no longer in the routing configuration; its alerts are "
                                 "grouped anew", group.key)
                    continue
                group.route = route
                group.alerts = {
                    fp: self._alerts.get(fp, a) for fp, a in group.alerts.items()
                    if a.state is not AlertState.FIRING or fp in self._alerts
                }
                if not group.alerts and not group.notified:
                    continue
                group.dirty = group.dirty or not group.alerts  # told of alerts it no longer holds: say so
                self._groups[group.key] = group
                self._serial = max(self._serial, group.serial)
                for fp, a in group.alerts.items():
                    if a.state is AlertState.FIRING:
                        self._membership.setdefault(fp, set()).add(group.key)
            for alert in self._alerts.values():
                self._place(alert, alert.fired_at if alert.fired_at is not None else self._clock(), changed=False)
            return sum(1 for _, g in groups if g.key in self._groups)

    # -- read side ------------------------------------------------------------------------------------

    def status(self, now: float | None = None) -> dict[str, Any]:
        """The groups with their alerts and why each is muted, for the API."""
        at = self._clock() if now is None else now
        with self._lock:
            inhibitor = _Inhibitor(self._config.inhibit_rules, self._alerts.values())
            groups = []
            for group in sorted(self._groups.values(), key=lambda g: g.key):
                alerts = [self._alert_status(a, at, inhibitor) for a in group.alerts.values()]
                groups.append({
                    "key": group.key,
                    "dedup_key": group.dedup_key,
                    "route": group.route.id,
                    "receiver": group.route.receiver,
                    "labels": dict(group.labels),
                    "alerts": sorted(alerts, key=lambda a: a["fingerprint"]),
                    "created_at": group.created_at,
                    "last_sent_at": group.last_sent_at,
                    "notifications_sent": group.sent,
                    "next_due": group.due(),
                    "last_error": group.last_error,
                })
            alerts = [self._alert_status(a, at, inhibitor) for a in self._alerts.values()]
            return {
                "groups": groups,
                "alerts": sorted(alerts, key=lambda a: a["fingerprint"]),
                "acknowledgements": [a.to_dict() for a in sorted(self._acks.values(), key=lambda a: a.at)],
            }

    def _alert_status(self, alert: Alert, now: float, inhibitor: _Inhibitor) -> dict[str, Any]:
        out = alert.to_dict()
        mutes = self._mutes(alert, now, inhibitor) if alert.state is AlertState.FIRING else Mutes()
        out["silenced_by"] = list(mutes.silenced_by)
        out["inhibited_by"] = list(mutes.inhibited_by)
        muted_by = ["silenced"] if mutes.silenced_by else []
        muted_by += ["inhibited"] if mutes.inhibited_by else []
        muted_by += ["acknowledged"] if alert.acknowledged_by else []
        out["muted_by"] = muted_by
        return out


def _group_name(group: _Group) -> str:
    labels = group.labels
    if group.route.group_by_all:
        names = ["alertname", *sorted(k for k in labels if k != "alertname")]
    else:
        names = list(group.route.group_by)
    return " ".join(labels[n] for n in names if labels.get(n)) or group.route.receiver


def _summary(firing: list[Alert], resolved: list[Alert]) -> str:
    lines: list[str] = []
    if firing:
        lines.append(f"Firing ({len(firing)}):")
        lines.extend(_alert_line(a) for a in sorted(firing, key=_order))
    if resolved:
        lines.append(f"Resolved ({len(resolved)}):")
        lines.extend(_alert_line(a) for a in sorted(resolved, key=_order))
    if not lines:
        lines.append("The alerts of this group no longer apply to it.")
    return "\n".join(lines)


def _order(alert: Alert) -> tuple[int, str, str]:
    return (-alert.severity.rank, alert.name, alert.fingerprint)


def _alert_line(alert: Alert) -> str:
    summary = alert.annotations.get("summary") or f"{alert.name} {_labels_text(_plain_labels(alert.labels))}"
    line = f"- [{alert.severity.value}] {summary}"
    description = alert.annotations.get("description")
    if description:
        line += f" {description}"
    if alert.acknowledged_by:
        line += f" (acknowledged by {alert.acknowledged_by})"
    runbook = alert.annotations.get("runbook")
    if runbook:
        line += f"\n  runbook: {runbook}"
    return line


def _plain_labels(labels: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k not in ("alertname", "severity")}


def _group_state(group: _Group) -> dict[str, Any]:
    return {
        "key": group.key,
        "route": group.route.id,
        "labels": dict(group.labels),
        "created_at": group.created_at,
        "serial": group.serial,
        "first_due": group.first_due,
        "alerts": [a.to_dict() for a in group.alerts.values()],
        "notified": {fp: sev.value for fp, sev in group.notified.items()},
        "last_flush_at": group.last_flush_at,
        "last_sent_at": group.last_sent_at,
        "dirty": group.dirty,
        "recheck": group.recheck,
        "repeatable": group.repeatable,
        "sent": group.sent,
        "retry_at": group.retry_at,
    }


def _items(state: Mapping[str, Any], name: str) -> list[Any]:
    items = state.get(name, [])
    if not isinstance(items, list):
        raise ValueError(f"routing state: {name}: expected a list")
    return items


def _parsed(where: str, parse: Callable[[Any], Any], item: Any) -> Any:
    try:
        return parse(item)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"routing state: {where}: {exc!r}") from None


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _alert_from_dict(a: Mapping[str, Any]) -> Alert:
    return Alert(
        fingerprint=str(a["fingerprint"]),
        rule=str(a["rule"]),
        labels={str(k): str(v) for k, v in a["labels"].items()},
        annotations={str(k): str(v) for k, v in a["annotations"].items()},
        severity=Severity(a["severity"]),
        state=AlertState(a["state"]),
        value=float(a["value"]),
        active_at=float(a["active_at"]),
        fired_at=_opt_float(a.get("fired_at")),
        resolved_at=_opt_float(a.get("resolved_at")),
        last_evaluated_at=float(a.get("last_evaluated_at", 0.0)),
        acknowledged_by=None if a.get("acknowledged_by") is None else str(a["acknowledged_by"]),
        acknowledged_at=_opt_float(a.get("acknowledged_at")),
    )


def _ack_from_dict(a: Mapping[str, Any]) -> Acknowledgement:
    key = a.get("group_key")
    return Acknowledgement(str(a["fingerprint"]), str(a["by"]), float(a["at"]), None if key is None else str(key))


def _group_from_state(g: Mapping[str, Any]) -> tuple[str, _Group]:
    """(route id, group); the route itself is looked up by the router in its current configuration."""
    alerts = [_alert_from_dict(a) for a in g["alerts"]]
    placeholder = Route("", "", "", (), 0.0, 1.0, 1.0, (), False, ())
    group = _Group(
        key=str(g["key"]),
        route=placeholder,
        labels={str(k): str(v) for k, v in g["labels"].items()},
        dedup_key=dedup_key_of(str(g["key"])),
        created_at=float(g["created_at"]),
        serial=int(g["serial"]),
        first_due=float(g["first_due"]),
        alerts={a.fingerprint: a for a in alerts},
        notified={str(fp): Severity(sev) for fp, sev in g["notified"].items()},
        last_flush_at=_opt_float(g.get("last_flush_at")),
        last_sent_at=_opt_float(g.get("last_sent_at")),
        dirty=bool(g.get("dirty", False)),
        recheck=bool(g.get("recheck", False)),
        repeatable=bool(g.get("repeatable", False)),
        sent=int(g.get("sent", 0)),
        retry_at=_opt_float(g.get("retry_at")),
    )
    return str(g["route"]), group
