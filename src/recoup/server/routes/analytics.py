"""The analytics read API: error trends of a project (counts per bucket, new groups, regressions, spikes),
and the live state of the in-process anomaly and forecast rules. Every route needs an admin token.

Trends read the store (in the thread pool); the live state comes from the incident engine's evaluator, so
those routes answer 503 when incident response is off in this server.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from starlette.concurrency import run_in_threadpool

from recoup.incidents.engine import IncidentEngine
from recoup.incidents.rules import parse_duration
from recoup.server.auth import require_admin
from recoup.server.state import ServerState, get_state
from recoup.store import InvalidInput, NotFound

StateDep = Annotated[ServerState, Depends(get_state)]
router = APIRouter(prefix="/api/v1", tags=["analytics"], dependencies=[Depends(require_admin)])
ProjectId = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: The longest trend window served (the report is one query over the events of the window).
MAX_WINDOW = timedelta(days=90)


def _duration(name: str, text: str) -> timedelta:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise InvalidInput(name, str(exc)) from None
    if seconds <= 0:
        raise InvalidInput(name, f"must be longer than 0s, got {text!r}")
    return timedelta(seconds=seconds)


def _iso(value: datetime) -> str:
    return value.isoformat()


@router.get("/projects/{project_id}/trends")
async def trends(
    project_id: ProjectId,
    state: StateDep,
    window: Annotated[str, Query(max_length=32, description="How far back, e.g. 24h, 7d.")] = "24h",
    bucket: Annotated[str, Query(max_length=32, description="Bucket width, e.g. 1h, 5m.")] = "1h",
    by: Annotated[Literal["group", "category"], Query(description="Count per group id or per category.")] = "group",
) -> dict[str, Any]:
    """Counts per bucket per group (or category), new groups, regressions and spikes over ``window``."""
    from recoup.analytics.trends import report  # lazy: the analytics layer

    span = _duration("window", window)
    width = _duration("bucket", bucket)
    if span > MAX_WINDOW:
        raise InvalidInput("window", f"at most {MAX_WINDOW.days}d, got {window!r}")
    if width > span:
        raise InvalidInput("bucket", f"must not be longer than the window ({window}), got {bucket!r}")
    if await run_in_threadpool(state.store.get_project, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")
    found = await run_in_threadpool(
        lambda: report(state.store, project_id, window=span, bucket=width, clock=time.time, by=by)
    )
    return {
        "project_id": project_id,
        "by": by,
        "start": _iso(found.start),
        "end": _iso(found.end),
        "bucket_seconds": found.bucket.total_seconds(),
        "counts": found.counts,
        "new_groups": [
            {"group_id": g.group_id, "title": g.title, "category": g.category, "first_seen": _iso(g.first_seen),
             "count": g.count}
            for g in found.new_groups
        ],
        "regressions": [
            {"group_id": r.group_id, "title": r.title, "returned_at": _iso(r.returned_at),
             "silent_for_seconds": r.silent_for.total_seconds()}
            for r in found.regressions
        ],
        "spikes": [
            {"key": s.key, "bucket_start": _iso(s.bucket_start), "count": s.count, "baseline": s.baseline}
            for s in found.spikes
        ],
    }


def _engine(state: ServerState) -> IncidentEngine:
    if state.incidents is None:
        raise HTTPException(503, "incident response is not running in this server "
                                 "(started with --no-incidents, or with several workers)")
    return state.incidents


@router.get("/anomalies")
async def anomalies(state: StateDep) -> dict[str, Any]:
    """The live anomaly score of every anomaly rule per label group (last sample, and whether it holds)."""
    return {"anomalies": _engine(state).evaluator.anomalies()}


@router.get("/forecasts")
async def forecasts(state: StateDep) -> dict[str, Any]:
    """The live trend of every rule with a ``forecast`` per label group, and the breach it expects."""
    return {"forecasts": _engine(state).evaluator.forecasts()}


@router.get("/groups/{group_id}/related")
async def related_groups(
    group_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    state: StateDep,
    window: Annotated[str, Query(description="How far back to correlate (e.g. 6h).")] = "6h",
) -> dict[str, Any]:
    """Groups, services and dependencies whose error counts rise and fall with this group's (co-occurrence
    within buckets and lagged correlation; a negative lag means the other one rose first)."""
    from recoup.analytics.correlation import related_in_store

    try:
        seconds = parse_duration(window)
    except ValueError as exc:
        raise InvalidInput("window", str(exc)) from None
    if not 0 < seconds <= 30 * 86400:
        raise InvalidInput("window", "must be longer than 0s and at most 30 days")
    group = await run_in_threadpool(state.store.get_group, group_id)
    if group is None:
        raise NotFound(f"group {group_id} does not exist")
    end = time.time()
    found = await run_in_threadpool(
        lambda: related_in_store(state.store, f"group:{group.fingerprint}", start=end - seconds, end=end,
                                 project_id=group.project_id, bucket=max(60.0, seconds / 120)))
    return {"group": group_id, "related": [dataclasses.asdict(r) for r in found]}
