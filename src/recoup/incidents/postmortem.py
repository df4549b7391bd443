"""A post-mortem draft in Markdown, written from an incident and its timeline (``templates/postmortem.md.j2``).

The draft states only what the record shows (alerts, services, severity changes, response times, every timeline
entry, the recovery actions and notifications) and leaves the judgement to people: root causes come from
analytics when supplied (any objects with ``name``, ``score`` and ``evidence``, see `RootCauseLike`), as do the
Trends, Forecast and Related groups sections (`recoup.incidents.postmortem_analytics`), and the follow-ups are a
checklist to fill in.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

import jinja2

from recoup.incidents.incidents import SYSTEM_ACTOR, Incident, TimelineEntry, TimelineKind
from recoup.incidents.sla import incident_times

if TYPE_CHECKING:
    from recoup.incidents.postmortem_analytics import PostmortemAnalytics


class RootCauseLike(Protocol):
    """What analytics hands in: a candidate cause, how likely (higher is likelier), and why."""

    @property
    def name(self) -> str: ...

    @property
    def score(self) -> float: ...

    @property
    def evidence(self) -> str | Sequence[str]: ...


#: Timeline entries listed under "Actions taken".
ACTION_KINDS = frozenset({
    TimelineKind.RECOVERY_ACTION, TimelineKind.NOTIFICATION_QUEUED, TimelineKind.NOTIFICATION_DELIVERED,
    TimelineKind.ESCALATION_STEP, TimelineKind.ACKNOWLEDGED, TimelineKind.RESOLVED, TimelineKind.ROLE_ASSIGNED,
})


def format_when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_seconds(seconds: float | None) -> str:
    """``125.0`` -> ``2m 5s``; None -> ``n/a``."""
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.0f}s" if seconds == int(seconds) else f"{seconds:.1f}s"
    rest = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts)


def cell(text: object) -> str:
    """Safe inside a Markdown table cell or list item: no pipes breaking columns, no line breaks."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=False,  # Markdown, not HTML; table cells are made safe by the `cell` filter
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["when"] = format_when
    env.filters["duration"] = format_seconds
    env.filters["cell"] = cell
    return env


def _template_text() -> str:
    return resources.files("recoup.incidents").joinpath("templates/postmortem.md.j2").read_text(encoding="utf-8")


def severity_path(incident: Incident, timeline: Sequence[TimelineEntry]) -> list[str]:
    """The severities the incident went through, from the one it was declared with."""
    path: list[str] = []
    for entry in timeline:
        if entry.kind is TimelineKind.DECLARED and "severity" in entry.data:
            path = [str(entry.data["severity"])]
        elif entry.kind in (TimelineKind.ALERT_ESCALATED, TimelineKind.RTO_BREACHED) and "to" in entry.data:
            path.append(str(entry.data["to"]))
        elif entry.kind is TimelineKind.RTO_BREACHED and "from" in entry.data:
            path.append("critical")
    if not path:
        path = [incident.severity.value]
    deduped = [s for i, s in enumerate(path) if i == 0 or s != path[i - 1]]
    return deduped


def _evidence(candidate: RootCauseLike) -> list[str]:
    evidence = candidate.evidence
    if isinstance(evidence, str):
        return [evidence] if evidence else []
    return [str(e) for e in evidence]


def _declared_how(incident: Incident) -> str:
    if incident.declared_by == SYSTEM_ACTOR:
        return "automatically from alerts"
    return f"by hand by {incident.declared_by}"


def postmortem_context(incident: Incident, timeline: Sequence[TimelineEntry], *,
                       root_causes: Sequence[RootCauseLike] | None = None,
                       generated_at: float | None = None,
                       analytics: PostmortemAnalytics | None = None) -> dict[str, Any]:
    """What the template sees; exposed so other renderers (HTML, exports) can reuse it."""
    from recoup.incidents.postmortem_analytics import sections

    times = incident_times(incident)
    now = time.time() if generated_at is None else generated_at
    if incident.resolved_at is not None:
        duration = format_seconds(incident.resolved_at - incident.declared_at)
        status_text = f"resolved at {format_when(incident.resolved_at)} by {incident.resolved_by}"
    else:
        duration = f"ongoing ({format_seconds(now - incident.declared_at)} so far)"
        status_text = f"still {incident.status.value}"
    if incident.acknowledged_at is not None:
        status_text = f"acknowledged by {incident.acknowledged_by} at {format_when(incident.acknowledged_at)}, " \
            + status_text
    causes = sorted(root_causes or (), key=lambda c: c.score, reverse=True)
    return {
        "incident": incident,
        "generated_at": format_when(now),
        "declared_at": format_when(incident.declared_at),
        "declared_how": _declared_how(incident),
        "status_text": status_text,
        "duration": duration,
        "severity_path": severity_path(incident, timeline),
        "services": list(incident.services),
        "times": times,
        "timeline": list(timeline),
        "root_causes": [{"name": c.name, "score": float(c.score), "evidence": _evidence(c)} for c in causes],
        "actions": [e for e in timeline if e.kind in ACTION_KINDS],
        "alertnames": sorted({a.alertname for a in incident.alerts}),
        "analytics_sections": sections(analytics, incident),
    }


def render_postmortem(incident: Incident, timeline: Sequence[TimelineEntry], *,
                      root_causes: Sequence[RootCauseLike] | None = None, generated_at: float | None = None,
                      analytics: PostmortemAnalytics | None = None) -> str:
    """The Markdown draft. ``timeline`` is `IncidentManager.timeline(incident.id)`; ``analytics`` (from
    `recoup.incidents.postmortem_analytics.gather`) fills the Trends, Forecast and Related groups sections."""
    template = _environment().from_string(_template_text())
    return template.render(postmortem_context(incident, timeline, root_causes=root_causes, generated_at=generated_at,
                                              analytics=analytics))
