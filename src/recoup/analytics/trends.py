"""Error trends from the store: counts over time per group or category, new groups, regressions, spikes.

Counts come from the events table (one read-only query per report); the judgements are pure functions
of those counts so they can be tested and reused on any series. A *regression* is a group that went
quiet for at least ``quiet`` (the store keeps no resolution history, and a resolved group is reopened by
its next event) and came back within the window. A *spike* is a bucket whose count is far above what
the earlier buckets of the same series predict (a Poisson-style test: mean + k·sqrt(mean), and a floor).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.store import InvalidInput
from recoup.store.models import ErrorGroupRow, EventRow
from recoup.store.repository import Store

GroupKey = Literal["group", "category"]
UNCATEGORISED = "uncategorised"


@dataclass(frozen=True)
class Spike:
    """A bucket far above its series' baseline."""

    key: str
    bucket_start: datetime
    count: int
    baseline: float


@dataclass(frozen=True)
class Regression:
    """A group that was quiet for `silent_for` and came back at `returned_at`."""

    group_id: int
    title: str
    returned_at: datetime
    silent_for: timedelta


@dataclass(frozen=True)
class NewGroup:
    """A group first seen inside the report's window."""

    group_id: int
    title: str
    category: str | None
    first_seen: datetime
    count: int


@dataclass(frozen=True)
class TrendReport:
    """Everything `report` found for one project and window."""

    start: datetime
    end: datetime
    bucket: timedelta
    counts: dict[str, list[int]]
    new_groups: list[NewGroup]
    regressions: list[Regression]
    spikes: list[Spike]


def _aware(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(name, f"must be a timezone-aware datetime, got {value!r}")
    return value


def _window(start: datetime, end: datetime, bucket: timedelta) -> int:
    _aware("start", start)
    _aware("end", end)
    if end <= start:
        raise InvalidInput("end", f"must be after start ({start.isoformat()}), got {end.isoformat()}")
    if not isinstance(bucket, timedelta) or bucket.total_seconds() <= 0:
        raise InvalidInput("bucket", f"must be a positive timedelta, got {bucket!r}")
    buckets = math.ceil((end - start) / bucket)
    if buckets > 100_000:
        raise InvalidInput("bucket", f"gives {buckets} buckets for the window; at most 100000")
    return buckets


def count_series(
    store: Store, project_id: int, start: datetime, end: datetime, bucket: timedelta, by: GroupKey = "group"
) -> dict[str, list[int]]:
    """Event counts in [start, end) per bucket, keyed by group id (as text) or category.

    Events without a group are left out of per-group counts; events without a category count under
    ``uncategorised``.
    """
    buckets = _window(start, end, bucket)
    if by not in ("group", "category"):
        raise InvalidInput("by", f"must be 'group' or 'category', got {by!r}")
    column = EventRow.group_id if by == "group" else EventRow.category
    query = select(column, EventRow.occurred_at).where(
        EventRow.project_id == project_id, EventRow.occurred_at >= start, EventRow.occurred_at < end
    )
    if by == "group":
        query = query.where(EventRow.group_id.is_not(None))

    def work(session: Session) -> dict[str, list[int]]:
        counts: dict[str, list[int]] = {}
        for key, occurred in session.execute(query):
            name = UNCATEGORISED if key is None else str(key)
            series = counts.setdefault(name, [0] * buckets)
            series[min(int((occurred - start) / bucket), buckets - 1)] += 1
        return counts

    return store.transaction(work, write=False)


def new_groups(store: Store, project_id: int, start: datetime, end: datetime) -> list[NewGroup]:
    """Groups whose first sighting falls in [start, end), oldest first."""
    _window(start, end, end - start if end > start else timedelta(seconds=1))
    query = (
        select(ErrorGroupRow)
        .where(
            ErrorGroupRow.project_id == project_id, ErrorGroupRow.first_seen >= start, ErrorGroupRow.first_seen < end,
            ErrorGroupRow.merged_into.is_(None),  # a group merged into another is not a new group of its own
        )
        .order_by(ErrorGroupRow.first_seen, ErrorGroupRow.id)
    )

    def work(session: Session) -> list[NewGroup]:
        return [NewGroup(r.id, r.title, r.category, r.first_seen, r.count) for r in session.scalars(query)]

    return store.transaction(work, write=False)


def regressions(store: Store, project_id: int, start: datetime, end: datetime, quiet: timedelta) -> list[Regression]:
    """Groups seen before `start` whose first event in [start, end) came at least `quiet` after their previous."""
    _window(start, end, end - start if end > start else timedelta(seconds=1))
    if not isinstance(quiet, timedelta) or quiet.total_seconds() <= 0:
        raise InvalidInput("quiet", f"must be a positive timedelta, got {quiet!r}")
    in_window = (
        select(EventRow.group_id, func.min(EventRow.occurred_at))
        .where(
            EventRow.project_id == project_id,
            EventRow.group_id.is_not(None),
            EventRow.occurred_at >= start,
            EventRow.occurred_at < end,
        )
        .group_by(EventRow.group_id)
    )
    before = (
        select(EventRow.group_id, func.max(EventRow.occurred_at))
        .where(EventRow.project_id == project_id, EventRow.group_id.is_not(None), EventRow.occurred_at < start)
        .group_by(EventRow.group_id)
    )

    def work(session: Session) -> list[Regression]:
        returned: dict[int, datetime] = {gid: at for gid, at in session.execute(in_window) if gid is not None}
        previous = {gid: at for gid, at in session.execute(before) if gid is not None and gid in returned}
        titles: dict[int, str] = {}
        if previous:
            names = select(ErrorGroupRow.id, ErrorGroupRow.title).where(ErrorGroupRow.id.in_(list(previous)))
            titles = {gid: title for gid, title in session.execute(names)}
        found = [
            Regression(gid, titles.get(gid, ""), returned[gid], returned[gid] - last)
            for gid, last in previous.items()
            if returned[gid] - last >= quiet
        ]
        return sorted(found, key=lambda r: (r.returned_at, r.group_id))

    return store.transaction(work, write=False)


def find_spikes(
    counts: Mapping[str, Sequence[int]],
    start: datetime,
    bucket: timedelta,
    *,
    sigmas: float = 4.0,
    min_count: int = 5,
    min_history: int = 3,
) -> list[Spike]:
    """Buckets whose count exceeds baseline + sigmas·sqrt(baseline) (and `min_count`), baseline being the
    mean of all earlier buckets of that series; a series needs `min_history` earlier buckets first."""
    if sigmas <= 0:
        raise InvalidInput("sigmas", f"must be positive, got {sigmas!r}")
    found: list[Spike] = []
    for key, series in counts.items():
        total = 0
        for index, count in enumerate(series):
            if index >= min_history:
                baseline = total / index
                if count >= min_count and count > baseline + sigmas * math.sqrt(max(baseline, 1.0)):
                    found.append(Spike(key, start + index * bucket, count, baseline))
            total += count
    return sorted(found, key=lambda s: (s.bucket_start, s.key))


def report(
    store: Store,
    project_id: int,
    *,
    window: timedelta,
    bucket: timedelta,
    clock: Callable[[], float],
    by: GroupKey = "group",
    quiet: timedelta | None = None,
    sigmas: float = 4.0,
) -> TrendReport:
    """Counts, new groups, regressions and spikes for the `window` ending now (per `clock`).

    `quiet` defaults to the window itself: a group counts as regressed when it had been silent longer
    than the period the report looks at.
    """
    end = datetime.fromtimestamp(clock(), UTC)
    start = end - window
    counts = count_series(store, project_id, start, end, bucket, by)
    return TrendReport(
        start=start,
        end=end,
        bucket=bucket,
        counts=counts,
        new_groups=new_groups(store, project_id, start, end),
        regressions=regressions(store, project_id, start, end, quiet or window),
        spikes=find_spikes(counts, start, bucket, sigmas=sigmas),
    )


# --------------------------------------------------------------------------- around an incident


@dataclass(frozen=True)
class PeriodCounts:
    """Error events of one group (or category) before, during and after an incident."""

    key: str
    title: str
    before: int
    during: int
    after: int


@dataclass(frozen=True)
class IncidentTrend:
    """What the incident's services' errors did around it: the three periods (epoch seconds, ``after`` empty
    while the incident is open), counts per group and per category, and the groups that were new or came back
    in the run-up or during it."""

    services: tuple[str, ...]
    before: tuple[float, float]
    during: tuple[float, float]
    after: tuple[float, float]
    groups: list[PeriodCounts]
    categories: list[PeriodCounts]
    new_groups: list[NewGroup]
    regressions: list[Regression]


def event_service(payload: Mapping[str, object]) -> str:
    """The service a stored event's payload names (``service``, else ``tags.service``); "" when none."""
    service = payload.get("service")
    if isinstance(service, str) and service:
        return service
    tags = payload.get("tags")
    if isinstance(tags, Mapping):
        tagged = tags.get("service")
        return tagged if isinstance(tagged, str) else ""
    return ""


def incident_trend(
    store: Store, project_id: int | None, services: Sequence[str], *, declared_at: float,
    resolved_at: float | None, now: float, span: float = 3600.0, limit: int = 10,
) -> IncidentTrend:
    """Error counts of the incident's ``services`` (all services when empty) per group and per category in the
    ``span`` before the declaration, from it to the resolution (or ``now``), and the ``span`` after (up to
    ``now``); plus the new groups and regressions among them (`new_groups`, `regressions` with ``quiet`` =
    ``span``). The ``limit`` groups with the most events during the incident are kept."""
    if span <= 0:
        raise InvalidInput("span", f"must be positive seconds, got {span!r}")
    end = resolved_at if resolved_at is not None else now
    if end < declared_at:
        raise InvalidInput("resolved_at", f"is before the declaration ({declared_at}), got {end}")
    start, after_end = declared_at - span, max(end, min(end + span, now))
    edges = (start, declared_at, end, after_end)
    wanted = set(services)
    query = select(EventRow.group_id, EventRow.category, EventRow.occurred_at, EventRow.payload).where(
        EventRow.group_id.is_not(None),
        EventRow.occurred_at >= datetime.fromtimestamp(start, UTC),
        EventRow.occurred_at < datetime.fromtimestamp(after_end, UTC) if after_end > end
        else EventRow.occurred_at <= datetime.fromtimestamp(end, UTC),
    )
    if project_id is not None:
        query = query.where(EventRow.project_id == project_id)

    def work(session: Session) -> tuple[dict[str, list[int]], dict[str, list[int]], dict[int, str]]:
        groups: dict[str, list[int]] = {}
        categories: dict[str, list[int]] = {}
        for group_id, category, occurred, payload in session.execute(query):
            if wanted and event_service(payload if isinstance(payload, Mapping) else {}) not in wanted:
                continue
            t = occurred.timestamp()
            period = 0 if t < edges[1] else (1 if t <= edges[2] else 2)
            groups.setdefault(str(group_id), [0, 0, 0])[period] += 1
            categories.setdefault(category or UNCATEGORISED, [0, 0, 0])[period] += 1
        titles: dict[int, str] = {}
        if groups:
            rows = select(ErrorGroupRow.id, ErrorGroupRow.title).where(ErrorGroupRow.id.in_([int(g) for g in groups]))
            titles = {gid: title for gid, title in session.execute(rows)}
        return groups, categories, titles

    groups, categories, titles = store.transaction(work, write=False)
    top = sorted(groups.items(), key=lambda kv: (-kv[1][1], -sum(kv[1]), int(kv[0])))[:limit]
    by_category = sorted(categories.items(), key=lambda kv: (-kv[1][1], -sum(kv[1]), kv[0]))
    seen = {int(g) for g in groups}
    window_start = datetime.fromtimestamp(start, UTC)
    window_end = datetime.fromtimestamp(max(end, start + 1.0), UTC)
    fresh = [g for g in new_groups(store, project_id, window_start, window_end) if g.group_id in seen] \
        if project_id is not None else []
    back = [r for r in regressions(store, project_id, window_start, window_end, timedelta(seconds=span))
            if r.group_id in seen] if project_id is not None else []
    return IncidentTrend(
        services=tuple(services), before=(start, declared_at), during=(declared_at, end), after=(end, after_end),
        groups=[PeriodCounts(g, titles.get(int(g), ""), *c) for g, c in top],
        categories=[PeriodCounts(k, k, *c) for k, c in by_category],
        new_groups=fresh, regressions=back,
    )
