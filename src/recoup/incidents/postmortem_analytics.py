"""The post-mortem's analytics sections: Trends, Forecast and Related groups, from what the server already stores.

`gather` reads the store the way the analytics API does (`recoup.analytics.trends`, `.forecast`,
`.correlation`: the same functions behind ``/projects/{id}/trends``, ``/forecasts`` and
``/incidents/{id}/related``); `sections` turns the result into Markdown for the draft. Each section says how its
figures were made, and says so plainly when there is nothing to show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from recoup.incidents.incidents import Incident, IncidentAlert
from recoup.incidents.postmortem import cell, format_seconds, format_when

if TYPE_CHECKING:
    from recoup.analytics.correlation import Related
    from recoup.analytics.forecast import RecoveryForecast
    from recoup.analytics.trends import IncidentTrend, PeriodCounts
    from recoup.store import Store

#: How far before the declaration (and after the resolution) the draft looks, seconds; the related API's span.
SPAN = 3600.0


@dataclass(frozen=True)
class PostmortemAnalytics:
    """Everything the three sections show. ``forecast_rules``: names of the rules in force that have a
    ``forecast``; ``live_forecasts``: the evaluator's live forecasts (``/api/v1/forecasts`` items)."""

    span: float
    trend: IncidentTrend | None = None
    related: tuple[Related, ...] = ()
    related_titles: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    recovery: RecoveryForecast | None = None
    forecast_rules: frozenset[str] = frozenset()
    live_forecasts: tuple[Mapping[str, Any], ...] = ()


def gather(store: Store, incident: Incident, *, now: float, forecast_rules: Iterable[str] = (),
           live_forecasts: Iterable[Mapping[str, Any]] = (), span: float = SPAN) -> PostmortemAnalytics:
    """Trends, the replayed RTO forecast and the related series of ``incident`` from the stored events."""
    from recoup.analytics.correlation import group_titles, related_to_incident
    from recoup.analytics.forecast import rto_breach_forecast
    from recoup.analytics.topology import ObsKind, observations, stored_events
    from recoup.analytics.trends import incident_trend

    end = incident.resolved_at if incident.resolved_at is not None else now
    services = tuple(incident.services)
    trend = incident_trend(store, incident.project_id, services, declared_at=incident.declared_at,
                           resolved_at=incident.resolved_at, now=now, span=span)
    events = stored_events(store, incident.project_id, incident.declared_at - span, end)
    related = tuple(related_to_incident(events, services, start=incident.declared_at - span, end=end))
    fingerprints = [r.name.removeprefix("group:") for r in related if r.name.startswith("group:")]
    titles = group_titles(store, incident.project_id, fingerprints)
    errors = [o.time for o in observations(events)
              if o.kind is ObsKind.ERROR and (not services or o.service in services)]
    deadline = incident.declared_at + incident.rto_target_seconds
    recovery = rto_breach_forecast(errors, declared_at=incident.declared_at, deadline=deadline, end=end,
                                   bucket=max(1.0, incident.rto_target_seconds / 20))
    live = tuple(f for f in live_forecasts if not services or f.get("labels", {}).get("service") in services)
    return PostmortemAnalytics(span, trend, related, titles, recovery, frozenset(forecast_rules), live)


# --------------------------------------------------------------------------- Markdown


def _counts_table(title: str, rows: Sequence[PeriodCounts], label: Callable[[PeriodCounts], str]) -> list[str]:
    out = [f"| {title} | Before | During | After |", "|---|---|---|---|"]
    out += [f"| {cell(label(r))} | {r.before} | {r.during} | {r.after} |" for r in rows]
    return out


def _trend_section(a: PostmortemAnalytics, incident: Incident) -> str:
    t = a.trend
    if t is None:
        return "Not available: no analytics results were supplied."
    who = ", ".join(f"`{s}`" for s in t.services) if t.services else "every service of the project"
    after = (f"after: {format_when(t.after[0])} to {format_when(t.after[1])}" if t.after[1] > t.after[0]
             else "after: none yet (the incident is open, or just resolved)")
    lines = [f"Error events of {who}: before: {format_seconds(a.span)} up to the declaration; during: "
             f"{format_when(t.during[0])} to {format_when(t.during[1])}; {after}.", ""]
    if not t.groups:
        lines.append("No error events of these services were stored in that time.")
        return "\n".join(lines)
    lines += _counts_table("Group", t.groups, lambda r: f"#{r.key} {r.title}".strip())
    lines += ["", *_counts_table("Category", t.categories, lambda r: r.key)]
    lines += ["", "New groups (first seen in the run-up or during the incident): " + (
        "; ".join(f"#{g.group_id} {cell(g.title)} (first seen {format_when(g.first_seen.timestamp())})"
                  for g in t.new_groups) or "none") + ".",
              "Regressions (groups back after being quiet longer than the run-up): " + (
        "; ".join(f"#{r.group_id} {cell(r.title)} (back at {format_when(r.returned_at.timestamp())} after "
                  f"{format_seconds(r.silent_for.total_seconds())})" for r in t.regressions) or "none") + ".",
              "", f"*Method: stored error events counted per group and category (recoup.analytics.trends); the "
              f"{len(t.groups)} groups with most events during the incident are listed.*"]
    return "\n".join(lines)


def _same_rule(a: IncidentAlert, b: IncidentAlert) -> bool:
    return a.alertname == b.alertname and a.service == b.service


def _recovery_lines(a: PostmortemAnalytics, incident: Incident) -> list[str]:
    r = a.recovery
    target = format_seconds(incident.rto_target_seconds)
    if r is None:
        return [f"- RTO ({target}): not forecast (no analytics results were supplied)."]
    outcome = (f"the RTO was breached at {format_when(incident.rto_breached_at)}"
               if incident.rto_breached_at is not None else
               ("recovery came within the RTO" if incident.resolved_at is not None
                and incident.resolved_at <= r.deadline else "the deadline has not passed or the incident is open"))
    head = f"- RTO ({target}, deadline {format_when(r.deadline)}): "
    if r.samples < 3:
        return [head + f"not forecast: {r.samples} buckets of {format_seconds(r.bucket)} before the deadline or the "
                f"resolution, 3 are needed; {outcome}."]
    if r.lead is None:
        return [head + f"no breach predicted: at every one of {r.samples} looks the trend of the services' errors "
                f"reached zero before the deadline; {outcome}."]
    where = ("the errors were not falling" if r.projected_recovery is None
             else f"the trend put recovery at {format_when(r.projected_recovery)}")
    still = ("and still did at the last look before the deadline" if r.held
             else "but later looks expected recovery in time")
    return [head + f"breach predicted at {format_when(r.deadline - r.lead)}, {format_seconds(r.lead)} before the "
            f"deadline ({where}), {still}; {outcome}."]


def _forecast_section(a: PostmortemAnalytics, incident: Incident) -> str:
    lines = _recovery_lines(a, incident)
    warned = [x for x in incident.alerts if x.labels.get("forecast") == "true"]
    real = [x for x in incident.alerts if x.labels.get("forecast") != "true"]
    for w in warned:
        follow = next((x for x in real if _same_rule(x, w)), None)
        then = (f"its threshold alert followed at {format_when(follow.active_at)}, "
                f"{format_seconds(follow.active_at - w.active_at)} later" if follow is not None and
                follow.active_at >= w.active_at else "no threshold alert of the same rule followed on this incident")
        lines.append(f"- Forecast warning `{w.alertname}`{f' on `{w.service}`' if w.service else ''} from "
                     f"{format_when(w.active_at)}: {then}.")
    unwarned = sorted({x.alertname for x in real if x.alertname in a.forecast_rules
                       and not any(_same_rule(x, w) for w in warned)})
    for name in unwarned:
        lines.append(f"- `{name}` has a forecast, but no forecast warning of it is attached to this incident: its "
                     "breach was not predicted (or the warning resolved before the incident opened).")
    if not any(x.alertname in a.forecast_rules for x in incident.alerts):
        lines.append("- Threshold breaches: none of the incident's alerting rules has a `forecast`, so none was "
                     "forecast.")
    for f in a.live_forecasts:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(f.get("labels", {}).items()))
        breach = f.get("breach_in")
        expect = f"breach in {format_seconds(float(breach))}" if breach is not None else "no breach expected"
        lines.append(f"- Live trend of `{f.get('rule')}` ({cell(labels)}): value {f.get('value')}, threshold "
                     f"{f.get('threshold')}: {expect}.")
    lines += ["", "*Method: the RTO line replays a Holt trend (recoup.analytics.forecast) over the incident services' "
              "error counts per bucket of a twentieth of the RTO from the declaration, asking at each bucket when the "
              "errors reach zero (errors stopping stands in for recovery); forecast warnings are the alerts "
              "labelled forecast=\"true\" attached to the incident.*"]
    return "\n".join(lines)


def _related_section(a: PostmortemAnalytics) -> str:
    if not a.related:
        return ("None found: no group, service or dependency's errors rose and fell with the incident's services "
                f"in the {format_seconds(a.span)} before it and during it.")
    lines = ["| Related | Score | Correlation | Co-occurrence | Lag |", "|---|---|---|---|---|"]
    for r in a.related:
        name = r.name
        if name.startswith("group:"):
            found = a.related_titles.get(name.removeprefix("group:"))
            name = f"group #{found[0]} {found[1]}" if found else f"group {name.removeprefix('group:')[:12]}"
        lag = "same time" if r.lag == 0 else (f"{format_seconds(-r.lag)} before" if r.lag < 0
                                              else f"{format_seconds(r.lag)} after")
        lines.append(f"| {cell(name)} | {r.score:.2f} | {r.correlation:.2f} | {r.cooccurrence:.2f} | {lag} |")
    lines += ["", "*Method: error counts per minute of every group, service and dependency from an hour before the "
              "declaration to the resolution (recoup.analytics.correlation, as /incidents/{id}/related), lagged "
              "correlation and co-occurrence with the incident's services; \"before\" means it rose first.*"]
    return "\n".join(lines)


def sections(analytics: PostmortemAnalytics | None, incident: Incident) -> list[tuple[str, str]]:
    """(heading, Markdown body) of the Trends, Forecast and Related groups sections."""
    a = analytics if analytics is not None else PostmortemAnalytics(SPAN)
    related = _related_section(a) if analytics is not None else "Not available: no analytics results were supplied."
    return [("Trends", _trend_section(a, incident)), ("Forecast", _forecast_section(a, incident)),
            ("Related groups", related)]
