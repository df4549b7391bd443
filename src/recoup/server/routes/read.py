"""The read and management API: projects and their keys, error groups, events, alerts. Every route
needs an admin token (`require_admin`); ingest keys can write events but never read them back.

Store calls block, so each runs in the thread pool; store errors become 400/404/503 through
`recoup.server.errors`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from recoup.server.auth import require_admin
from recoup.server.schemas import (
    AlertList,
    AlertOut,
    EventList,
    EventOut,
    GroupList,
    GroupOut,
    GroupUpdate,
    KeyCreate,
    KeyList,
    KeyOut,
    ProjectCreate,
    ProjectCreated,
    ProjectList,
    ProjectOut,
    native_ingest_url,
    project_dsn,
)
from recoup.server.state import ServerState, get_state
from recoup.store import AlertStatus, GroupStatus, InvalidInput, NotFound, Project
from recoup.store.repository import MAX_PAGE
from recoup.store.values import EVENT_ID_MAX

StateDep = Annotated[ServerState, Depends(get_state)]

router = APIRouter(prefix="/api/v1", tags=["read"], dependencies=[Depends(require_admin)])

#: Ids are 64-bit in both databases; a larger number is a 422 naming the parameter, not a driver overflow.
ProjectId = Annotated[int, Path(ge=1, le=2**63 - 1)]
GroupId = Annotated[int, Path(ge=1, le=2**63 - 1)]
KeyId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size, 1..{MAX_PAGE}.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def _aware(value: datetime | None) -> datetime | None:
    """Query datetimes without an offset are taken as UTC (what every stored time is)."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        return value.replace(tzinfo=UTC)
    return value


async def _project(state: ServerState, project_id: int) -> Project:
    project = await run_in_threadpool(state.store.get_project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} does not exist")
    return project


# -- projects and keys ---------------------------------------------------------------------------------


@router.get("/projects", response_model=ProjectList)
async def list_projects(state: StateDep) -> ProjectList:
    projects = await run_in_threadpool(state.store.list_projects)
    return ProjectList(projects=[ProjectOut.of(p) for p in projects])


@router.post("/projects", response_model=ProjectCreated, status_code=201)
async def create_project(body: ProjectCreate, state: StateDep) -> ProjectCreated:
    """Create a project with its first ingest key; the answer carries the DSN and the native ingest URL."""
    project, key = await run_in_threadpool(
        lambda: state.store.create_project(body.name, rate_limit_per_minute=body.rate_limit_per_minute)
    )
    public_url = state.settings.public_url
    return ProjectCreated(
        id=project.id,
        name=project.name,
        slug=project.slug,
        created_at=project.created_at,
        public_key=key.public_key,
        dsn=project_dsn(public_url, key.public_key, project.id),
        ingest_url=native_ingest_url(public_url),
    )


@router.get("/projects/{project_id}", response_model=ProjectOut)
async def get_project(project_id: ProjectId, state: StateDep) -> ProjectOut:
    return ProjectOut.of(await _project(state, project_id))


@router.get("/projects/{project_id}/keys", response_model=KeyList)
async def list_keys(project_id: ProjectId, state: StateDep) -> KeyList:
    keys = await run_in_threadpool(state.store.list_keys, project_id)
    return KeyList(keys=[KeyOut.of(k, state.settings.public_url) for k in keys])


@router.post("/projects/{project_id}/keys", response_model=KeyOut, status_code=201)
async def create_key(
    project_id: ProjectId, state: StateDep, body: KeyCreate | None = None
) -> KeyOut:
    """Another ingest key (rotate: create a new one, deploy it, revoke the old)."""
    limit = body.rate_limit_per_minute if body is not None else None
    key = await run_in_threadpool(lambda: state.store.create_key(project_id, rate_limit_per_minute=limit))
    return KeyOut.of(key, state.settings.public_url)


@router.delete("/projects/{project_id}/keys/{key_id}", response_model=KeyOut)
async def revoke_key(project_id: ProjectId, key_id: KeyId, state: StateDep) -> KeyOut:
    """Revoke an ingest key; this process forgets it at once (others within the key cache's TTL)."""
    keys = await run_in_threadpool(state.store.list_keys, project_id)
    key = next((k for k in keys if k.id == key_id), None)
    if key is None:
        raise NotFound(f"project {project_id} has no key {key_id}")
    await run_in_threadpool(state.store.set_key_active, key.public_key, False)
    state.keys.forget(key.public_key)
    revoked = next(k for k in await run_in_threadpool(state.store.list_keys, project_id) if k.id == key_id)
    return KeyOut.of(revoked, state.settings.public_url)


# -- groups --------------------------------------------------------------------------------------------


@router.get("/projects/{project_id}/groups", response_model=GroupList)
async def list_groups(
    project_id: ProjectId,
    state: StateDep,
    category: Annotated[str | None, Query(max_length=32)] = None,
    status: GroupStatus | None = None,
    since: Annotated[datetime | None, Query(description="Groups last seen at or after this time.")] = None,
    until: Annotated[datetime | None, Query(description="Groups first seen at or before this time.")] = None,
    sort: Literal["count", "recent"] = "count",
    limit: Limit = 50,
    offset: Offset = 0,
) -> GroupList:
    """A project's error groups, most frequent (``sort=count``) or most recently seen (``sort=recent``) first."""
    await _project(state, project_id)
    groups = await run_in_threadpool(
        lambda: state.store.list_groups(
            project_id,
            category=category,
            status=status,
            since=_aware(since),
            until=_aware(until),
            sort=sort,
            limit=limit,
            offset=offset,
        )
    )
    return GroupList(groups=[GroupOut.of(g) for g in groups], limit=limit, offset=offset)


@router.get("/groups/{group_id}", response_model=GroupOut)
async def get_group(group_id: GroupId, state: StateDep) -> GroupOut:
    group = await run_in_threadpool(state.store.get_group, group_id)
    if group is None:
        raise NotFound(f"group {group_id} does not exist")
    return GroupOut.of(group)


@router.get("/groups/{group_id}/events", response_model=EventList)
async def group_events(group_id: GroupId, state: StateDep, limit: Limit = 50) -> EventList:
    """The group's stored events, newest first (events past retention are gone; the count is not)."""
    if await run_in_threadpool(state.store.get_group, group_id) is None:
        raise NotFound(f"group {group_id} does not exist")
    events = await run_in_threadpool(lambda: state.store.group_events(group_id, limit=limit))
    return EventList(events=[EventOut.of(e) for e in events])


@router.patch("/groups/{group_id}", response_model=GroupOut)
async def update_group(group_id: GroupId, body: GroupUpdate, state: StateDep) -> GroupOut:
    """Triage: resolve, ignore, mute or reopen a group."""
    group = await run_in_threadpool(state.store.set_group_status, group_id, body.status)
    return GroupOut.of(group)


class GroupMerge(BaseModel):
    """Body of a merge: the group that absorbs this one."""

    model_config = ConfigDict(extra="forbid")
    into: int = Field(ge=1, le=2**63 - 1)


class GroupSplit(BaseModel):
    """Body of a split: the merged fingerprints to give their own groups back, or events whose fingerprint
    that is (Sentry's unmerge works the same way)."""

    model_config = ConfigDict(extra="forbid")
    fingerprints: list[str] = Field(default_factory=list, max_length=MAX_PAGE)
    event_ids: list[str] = Field(default_factory=list, max_length=MAX_PAGE)


class GroupFingerprints(BaseModel):
    """The fingerprints feeding a group: its own and those merged into it (fingerprint → own group id), and
    the group it is itself merged into (None when it is not)."""

    group: GroupOut
    fingerprints: dict[str, int]
    merged_into: int | None


class SplitResult(BaseModel):
    group: GroupOut
    restored: list[GroupOut]


@router.get("/groups/{group_id}/fingerprints", response_model=GroupFingerprints)
async def group_fingerprints(group_id: GroupId, state: StateDep) -> GroupFingerprints:
    """Which fingerprints land in this group (what a split can take out again)."""
    fingerprints = await run_in_threadpool(state.store.group_fingerprints, group_id)
    merged_into = await run_in_threadpool(state.store.merge_target, group_id)
    group = await run_in_threadpool(state.store.get_group, group_id)
    if group is None:
        raise NotFound(f"group {group_id} does not exist")
    return GroupFingerprints(group=GroupOut.of(group), fingerprints=fingerprints, merged_into=merged_into)


@router.post("/groups/{group_id}/merge", response_model=GroupOut)
async def merge_group(group_id: GroupId, body: GroupMerge, state: StateDep) -> GroupOut:
    """Merge this group into ``into``: its events move there, and so do new events of its fingerprints."""
    group = await run_in_threadpool(state.store.merge_groups, group_id, body.into)
    return GroupOut.of(group)


@router.post("/groups/{group_id}/split", response_model=SplitResult)
async def split_group(group_id: GroupId, body: GroupSplit, state: StateDep) -> SplitResult:
    """Give merged fingerprints (or the fingerprints of the given events) their own groups back."""
    restored = await run_in_threadpool(
        lambda: state.store.split_group(group_id, fingerprints=body.fingerprints, event_ids=body.event_ids)
    )
    group = await run_in_threadpool(state.store.get_group, group_id)
    if group is None:
        raise NotFound(f"group {group_id} does not exist")
    return SplitResult(group=GroupOut.of(group), restored=[GroupOut.of(g) for g in restored])


# -- events and alerts ---------------------------------------------------------------------------------


@router.get("/projects/{project_id}/events", response_model=EventList)
async def list_events(
    project_id: ProjectId,
    state: StateDep,
    q: Annotated[
        str | None, Query(min_length=1, max_length=500, description="Text in the message or exception type.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> EventList:
    """A project's events, newest first; with ``q``, only those whose message or exception type contains it."""
    await _project(state, project_id)
    if q is not None and q.strip():
        text = q
        try:
            events = await run_in_threadpool(
                lambda: state.store.search_events(project_id, text, limit=limit, offset=offset)
            )
        except InvalidInput as exc:  # the store calls it "text"; the client sent "q"
            raise InvalidInput("q" if exc.field == "text" else exc.field, exc.problem) from None
    else:
        events = await run_in_threadpool(lambda: state.store.list_events(project_id, limit=limit, offset=offset))
    return EventList(events=[EventOut.of(e) for e in events])


@router.get("/projects/{project_id}/events/{event_id}", response_model=EventOut)
async def get_event(
    project_id: ProjectId, event_id: Annotated[str, Path(max_length=200)], state: StateDep
) -> EventOut:
    """One event by the producer's id (the telemetry event's ``id``)."""
    if len(event_id) > EVENT_ID_MAX:
        raise NotFound(f"event {event_id[:EVENT_ID_MAX]}... does not exist")
    event = await run_in_threadpool(state.store.get_event, project_id, event_id)
    if event is None:
        raise NotFound(f"project {project_id} has no event {event_id!r}")
    return EventOut.of(event)


@router.get("/alerts", response_model=AlertList)
async def list_alerts(
    state: StateDep, status: AlertStatus | None = None, limit: Limit = 50
) -> AlertList:
    """Alertmanager alerts, most recently updated first."""
    alerts = await run_in_threadpool(lambda: state.store.list_alerts(status=status, limit=limit))
    return AlertList(alerts=[AlertOut.of(a) for a in alerts])
