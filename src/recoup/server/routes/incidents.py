"""The incident-response API: rules and their live alerts, acknowledgement, silences, incidents (declare,
acknowledge, resolve, roles, notes, timeline, post-mortem draft), notifications (queue, dead letters,
redelivery) and SLA figures. Every route needs an admin token. 409 answers a change the incident's state does
not allow (acknowledging a resolved incident); 503 says incident response is off in this server (``--no-
incidents``, or several workers)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from recoup.incidents.engine import IncidentEngine
from recoup.incidents.incidents import Incident, IncidentStatus, Role
from recoup.incidents.model import Severity
from recoup.incidents.notify.outbox import DeliveryStatus
from recoup.incidents.postmortem import render_postmortem
from recoup.incidents.rules import format_duration
from recoup.incidents.silences import SilenceState
from recoup.incidents.sla import incident_times, sla_report
from recoup.server.auth import require_admin
from recoup.server.state import ServerState, get_state

if TYPE_CHECKING:
    from recoup.analytics.rootcause import RootCauseCandidate  # the analytics layer is imported lazily
    from recoup.incidents.postmortem_analytics import PostmortemAnalytics

StateDep = Annotated[ServerState, Depends(get_state)]
router = APIRouter(prefix="/api/v1", tags=["incidents"], dependencies=[Depends(require_admin)])
IncidentId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Actor = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"\S", description="Who does it (shown in the timeline).")
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _engine(state: ServerState) -> IncidentEngine:
    if state.incidents is None:
        raise HTTPException(503, "incident response is not running in this server "
                                 "(started with --no-incidents, or with several workers)")
    return state.incidents


def plain(value: Any) -> Any:
    """Dataclasses, enums and mappings as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


# -- rules and live alerts ------------------------------------------------------------------------------


def _durations(data: Any, keys: tuple[str, ...]) -> None:
    """Seconds as the rule file writes durations (300.0 -> "5m")."""
    if isinstance(data, dict):
        for key in keys:
            if isinstance(data.get(key), int | float) and not isinstance(data.get(key), bool):
                data[key] = format_duration(float(data[key]))


@router.get("/rules")
async def list_rules(state: StateDep) -> dict[str, Any]:
    """The rules in force, each with its live (pending or firing) alerts."""
    engine = _engine(state)
    alerts = engine.evaluator.alerts()
    out = []
    for rule in engine.config.rules.rules:
        data = rule.model_dump(mode="json", by_alias=True, exclude_none=True)
        _durations(data, ("window", "for", "keep_firing_for", "long_window", "short_window"))
        _durations(data.get("escalate"), ("after",))
        _durations(data.get("baseline"), ("window", "offset"))
        data["alerts"] = [a.to_dict() for a in alerts if a.rule == rule.name]
        out.append(data)
    return {"rules": out, "engine": engine.status()}


@router.get("/alerts/live")
async def live_alerts(state: StateDep) -> dict[str, Any]:
    """Pending and firing alerts of recoup's own rules, with routing's view (groups, inhibited, silenced,
    acknowledged)."""
    engine = _engine(state)
    routing = await engine.call(engine.router.status)
    return {"alerts": [a.to_dict() for a in engine.evaluator.alerts()], "routing": plain(routing)}


class AckIn(_In):
    by: Actor = "admin"


@router.post("/alerts/live/{target}/acknowledge")
async def acknowledge_alert(target: str, body: AckIn, state: StateDep) -> dict[str, Any]:
    """Acknowledge an alert (by fingerprint) or a whole group (group or dedup key): reminders stop until it
    resolves or escalates."""
    engine = _engine(state)
    acknowledged = await engine.call(lambda: engine.router.acknowledge(target, body.by))
    for fingerprint in acknowledged:
        if engine.evaluator.alert(fingerprint) is not None:
            engine.evaluator.acknowledge(fingerprint, body.by)
    return {"acknowledged": acknowledged}


# -- silences -------------------------------------------------------------------------------------------


class SilenceIn(_In):
    matchers: list[str] = Field(min_length=1, description='Alertmanager matchers, e.g. service="api".')
    ends_at: datetime | None = None
    duration: str | None = Field(default=None, description="Instead of ends_at: how long from now (30m, 2h).")
    starts_at: datetime | None = None
    created_by: Actor = "admin"
    comment: str = Field(default="", max_length=2000)


@router.get("/silences")
async def list_silences(state: StateDep, status: SilenceState | None = None) -> dict[str, Any]:
    engine = _engine(state)
    now = engine.clock()
    silences = await run_in_threadpool(engine.silences.list, status)
    return {"silences": [s.to_dict(now) for s in silences]}


@router.post("/silences", status_code=201)
async def create_silence(body: SilenceIn, state: StateDep) -> dict[str, Any]:
    from recoup.incidents.rules import parse_duration
    from recoup.store import InvalidInput

    engine = _engine(state)
    now = engine.clock()
    if (body.ends_at is None) == (body.duration is None):
        raise InvalidInput("ends_at", "give exactly one of ends_at and duration")
    if body.duration is not None:
        try:
            ends_at = now + parse_duration(body.duration)
        except ValueError as exc:
            raise InvalidInput("duration", str(exc)) from None
    else:
        assert body.ends_at is not None
        ends_at = body.ends_at.timestamp()
    starts_at = body.starts_at.timestamp() if body.starts_at is not None else None
    silence = await engine.call(lambda: engine.silences.create(
        body.matchers, ends_at=ends_at, created_by=body.created_by, comment=body.comment, starts_at=starts_at))
    return silence.to_dict(now)


@router.delete("/silences/{silence_id}")
async def expire_silence(silence_id: str, state: StateDep) -> dict[str, Any]:
    engine = _engine(state)
    silence = await engine.call(lambda: engine.silences.expire(silence_id))
    return silence.to_dict(engine.clock())


# -- incidents ------------------------------------------------------------------------------------------


def _incident_out(incident: Any) -> dict[str, Any]:
    data: dict[str, Any] = plain(incident)
    data["times"] = plain(incident_times(incident))
    return data


class DeclareIn(_In):
    title: str = Field(min_length=1, max_length=500)
    severity: Severity = Severity.CRITICAL
    by: Actor = "admin"
    project_id: int | None = Field(default=None, ge=1)
    incident_type: str | None = Field(default=None, max_length=100)


@router.get("/incidents")
async def list_incidents(
    state: StateDep,
    status: IncidentStatus | None = None,
    project_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    engine = _engine(state)
    found = await run_in_threadpool(
        lambda: engine.incidents.list_incidents(status=status, project_id=project_id, limit=limit))
    return {"incidents": [_incident_out(i) for i in found]}


@router.post("/incidents", status_code=201)
async def declare_incident(body: DeclareIn, state: StateDep) -> dict[str, Any]:
    engine = _engine(state)
    incident = await engine.call(lambda: engine.incidents.declare(
        body.title, body.severity, by=body.by, project_id=body.project_id, incident_type=body.incident_type))
    return _incident_out(incident)


@router.get("/incidents/{incident_id}")
async def get_incident(incident_id: IncidentId, state: StateDep) -> dict[str, Any]:
    engine = _engine(state)
    incident = await run_in_threadpool(engine.incidents.get, incident_id)
    timeline = await run_in_threadpool(engine.incidents.timeline, incident_id)
    out = _incident_out(incident)
    out["timeline"] = plain(timeline)
    return out


@router.post("/incidents/{incident_id}/acknowledge")
async def acknowledge_incident(incident_id: IncidentId, body: AckIn, state: StateDep) -> dict[str, Any]:
    engine = _engine(state)
    return _incident_out(await engine.call(lambda: engine.incidents.acknowledge(incident_id, body.by)))


@router.post("/incidents/{incident_id}/resolve")
async def resolve_incident(incident_id: IncidentId, body: AckIn, state: StateDep) -> dict[str, Any]:
    engine = _engine(state)
    return _incident_out(await engine.call(lambda: engine.incidents.resolve(incident_id, body.by)))


class RecoveredIn(_In):
    by: Actor = "admin"
    at: datetime | None = Field(default=None, description="When the service was restored (default: now).")


@router.post("/incidents/{incident_id}/recovered")
async def mark_recovered(incident_id: IncidentId, body: RecoveredIn, state: StateDep) -> dict[str, Any]:
    """Record that the incident's service is restored (the RTO is measured to it), when the signals cannot
    say so themselves; the incident stays open until it is resolved."""
    engine = _engine(state)
    at = body.at.timestamp() if body.at is not None else None
    return _incident_out(await engine.call(lambda: engine.incidents.mark_recovered(incident_id, body.by, at=at)))


class RoleIn(_In):
    role: Role
    person: str = Field(min_length=1, max_length=200)
    by: Actor = "admin"


@router.post("/incidents/{incident_id}/roles")
async def assign_role(incident_id: IncidentId, body: RoleIn, state: StateDep) -> dict[str, Any]:
    engine = _engine(state)
    return _incident_out(
        await engine.call(lambda: engine.incidents.assign_role(incident_id, body.role, body.person, by=body.by)))


class NoteIn(_In):
    text: str = Field(min_length=1, max_length=10_000)
    by: Actor = "admin"


@router.post("/incidents/{incident_id}/notes")
async def add_note(incident_id: IncidentId, body: NoteIn, state: StateDep) -> dict[str, Any]:
    engine = _engine(state)
    return _incident_out(await engine.call(lambda: engine.incidents.add_note(incident_id, body.text, body.by)))


class ActionIn(_In):
    text: str = Field(min_length=1, max_length=10_000, description="What was done (rolled back, failed over, ...).")
    by: Actor = "admin"


@router.post("/incidents/{incident_id}/actions")
async def record_action(incident_id: IncidentId, body: ActionIn, state: StateDep) -> dict[str, Any]:
    """A recovery action taken by hand, for the timeline (the library's own are recorded by themselves)."""
    engine = _engine(state)
    return _incident_out(await engine.call(
        lambda: engine.incidents.record_recovery_action(incident_id, body.text, actor=body.by)))


def _root_causes(state: ServerState, incident: Incident) -> list[RootCauseCandidate]:
    """The ranked candidate causes (recoup.analytics.rootcause) from the events around the incident."""
    from recoup.analytics.rootcause import rank_incident_causes

    return rank_incident_causes(state.store, incident, project_id=incident.project_id)


@router.get("/incidents/{incident_id}/root-causes")
async def root_causes(incident_id: IncidentId, state: StateDep) -> dict[str, Any]:
    """Candidate causes, best first: which service, dependency, group, breaker or change failed first and what
    its failure propagated to (evidence listed with each)."""
    engine = _engine(state)
    incident = await run_in_threadpool(engine.incidents.get, incident_id)
    causes = await run_in_threadpool(_root_causes, state, incident)
    return {"incident": incident_id, "candidates": plain(causes)}


@router.get("/incidents/{incident_id}/related")
async def related_to(incident_id: IncidentId, state: StateDep) -> dict[str, Any]:
    """Groups, services and dependencies whose errors rose with the incident's services (an hour before the
    declaration to now, or to its resolution), with their correlation and lag."""
    from recoup.analytics.correlation import related_to_incident
    from recoup.analytics.topology import stored_events

    engine = _engine(state)
    incident = await run_in_threadpool(engine.incidents.get, incident_id)
    start = incident.declared_at - 3600.0
    end = incident.resolved_at or engine.clock()
    events = await run_in_threadpool(stored_events, state.store, incident.project_id, start, end)
    found = related_to_incident(events, incident.services, start=start, end=end)
    return {"incident": incident_id, "related": plain(found)}


def _postmortem_analytics(state: ServerState, engine: IncidentEngine, incident: Incident) -> PostmortemAnalytics:
    """Trends, forecasts and related series for the draft, read as the analytics API reads them."""
    from recoup.incidents.postmortem_analytics import gather

    forecast_rules = [rule.name for rule in engine.config.rules.rules if rule.forecast is not None]
    return gather(state.store, incident, now=engine.clock(), forecast_rules=forecast_rules,
                  live_forecasts=engine.evaluator.forecasts())


@router.get("/incidents/{incident_id}/postmortem", response_class=PlainTextResponse)
async def postmortem(incident_id: IncidentId, state: StateDep) -> PlainTextResponse:
    """A Markdown post-mortem draft from the incident's timeline, with root-cause candidates, trends, forecasts
    and related groups from the stored events."""
    engine = _engine(state)
    incident = await run_in_threadpool(engine.incidents.get, incident_id)
    timeline = await run_in_threadpool(engine.incidents.timeline, incident_id)
    causes = await run_in_threadpool(_root_causes, state, incident)
    analytics = await run_in_threadpool(_postmortem_analytics, state, engine, incident)
    text = render_postmortem(incident, timeline, root_causes=causes, generated_at=engine.clock(), analytics=analytics)
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.get("/sla")
async def sla(
    state: StateDep, since: datetime | None = None, until: datetime | None = None,
) -> dict[str, Any]:
    """MTTD, MTTA and MTTR (count, mean, p50, p95) and RTO compliance by incident type, from stored incidents."""
    engine = _engine(state)
    start = since.timestamp() if since else None
    end = until.timestamp() if until else None
    found = await run_in_threadpool(lambda: engine.incidents.list_incidents(limit=10_000))
    report: dict[str, Any] = plain(sla_report(found, since=start, until=end))
    return report


# -- notifications --------------------------------------------------------------------------------------


@router.get("/notifications")
async def list_notifications(
    state: StateDep, status: DeliveryStatus | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    engine = _engine(state)
    rows = await run_in_threadpool(lambda: engine.queue.list(status=status, limit=limit))
    counts = await run_in_threadpool(engine.queue.counts)
    return {"notifications": plain(rows), "counts": counts, "unrouted": dict(engine.sink.unrouted)}


@router.post("/notifications/{delivery_id}/redeliver")
async def redeliver(delivery_id: Annotated[int, Path(ge=1)], state: StateDep) -> dict[str, Any]:
    """Queue a dead letter again (its attempts start over)."""
    engine = _engine(state)
    delivery = await engine.call(lambda: engine.queue.redeliver(delivery_id))
    return dict(plain(delivery))

