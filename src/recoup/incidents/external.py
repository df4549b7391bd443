"""Alerts that other engines decided — Prometheus rules delivered by Alertmanager's webhook — as the
`AlertTransition`s recoup's own evaluator produces, so the incident manager treats both the same: a firing
critical alert from Prometheus opens an incident exactly as a recoup rule would.

Alertmanager re-sends a firing alert on every group_interval/repeat_interval; the incident manager attaches
a repeat to the alert it already has (same fingerprint), so repeats are harmless here."""

from __future__ import annotations

from collections.abc import Iterable

from recoup.incidents.model import Alert, AlertState, AlertTransition, Severity
from recoup.store.values import AlertStatus, NewAlert


def _severity(value: str | None) -> Severity:
    """Prometheus rules name severities freely; map the common spellings, default to warning."""
    text = (value or "").strip().lower()
    if text in ("critical", "page", "error", "high", "fatal", "emergency"):
        return Severity.CRITICAL
    if text in ("info", "informational", "none", "low"):
        return Severity.INFO
    return Severity.WARNING


def transitions_from_alertmanager(
    alerts: Iterable[NewAlert], *, now: float, project: str | None = None
) -> list[AlertTransition]:
    """One transition per alert of a webhook payload: firing ones as pending → firing, resolved ones as
    firing → resolved. The alert's fingerprint is Alertmanager's, prefixed so it never collides with one of
    recoup's own rules. ``project`` (the id of the project whose key posted them) fills the ``project``
    label when the alert has none, so the incident belongs to that project."""
    out: list[AlertTransition] = []
    for am in alerts:
        labels = dict(am.labels)
        if project is not None and not labels.get("project"):
            labels["project"] = project
        started = am.starts_at.timestamp()
        firing = am.status is AlertStatus.FIRING
        ended = am.ends_at.timestamp() if am.ends_at is not None else now
        alert = Alert(
            fingerprint=f"am:{am.fingerprint}",
            rule=labels.get("alertname", "alertmanager"),
            labels=labels,
            annotations=dict(am.annotations),
            severity=_severity(labels.get("severity")),
            state=AlertState.FIRING if firing else AlertState.RESOLVED,
            value=0.0,
            active_at=started,
            fired_at=started,
            resolved_at=None if firing else ended,
            last_evaluated_at=now,
        )
        previous = AlertState.PENDING if firing else AlertState.FIRING
        out.append(AlertTransition(alert=alert, previous=previous, at=now if firing else ended))
    return out
