"""The parts of recoup's alerts and incidents an experiment reasons about, as small JSON objects.

The API's full records (timelines, escalation state, routing) would bury the journal; tolerances only need
names, states and severities, so probes return these summaries."""

from __future__ import annotations

from typing import Any


def alert_summary(alert: dict[str, Any]) -> dict[str, Any]:
    labels = dict(alert.get("labels") or {})
    return {
        "alertname": labels.get("alertname", alert.get("rule")),
        "state": alert.get("state"),
        "severity": alert.get("severity"),
        "value": alert.get("value"),
        "labels": labels,
        "fired_at": alert.get("fired_at"),
        "summary": (alert.get("annotations") or {}).get("summary"),
    }


def incident_summary(incident: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": incident.get("id"),
        "title": incident.get("title"),
        "status": incident.get("status"),
        "severity": incident.get("severity"),
        "incident_type": incident.get("incident_type"),
        "declared_by": incident.get("declared_by"),
        "declared_at": incident.get("declared_at"),
        "alerts": [a.get("alertname") or a.get("rule") for a in incident.get("alerts") or [] if isinstance(a, dict)],
    }
