"""Which error groups and services fail together: bucketed error counts, co-occurrence within a window and
lagged correlation, so each group and incident can show what is "related" to it.

Series are named ``service:<name>`` (errors raised in that service), ``dependency:<name>`` (failing calls
to it, as other services saw them) and ``group:<fingerprint>``. Pure Python: the series are short (one
value per bucket over an incident's window), so numpy would cost more to import than it saves.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recoup.analytics.topology import Observation, ObsKind, observations, stored_events

if TYPE_CHECKING:
    from recoup.store import Store


@dataclass(frozen=True, slots=True)
class Related:
    """Another series that moves with the target. `lag` is in seconds: positive when `name` rises after the
    target (it may be an effect), negative when before (it may be a cause). `score` is in 0..1."""

    name: str
    score: float
    lag: float
    correlation: float
    cooccurrence: float


def series_names(obs: Observation) -> list[str]:
    """The series an observation counts towards."""
    if obs.kind is not ObsKind.ERROR:
        return []
    names = [f"service:{obs.service}", f"group:{obs.group}"]
    if obs.dependency:
        names.append(f"dependency:{obs.dependency}")
    return names


def bucket_counts(
    obs: Sequence[Observation], *, bucket: float, start: float | None = None, end: float | None = None
) -> dict[str, list[int]]:
    """Error counts per bucket of `bucket` seconds from `start` to `end` (default: the observations' span)."""
    if bucket <= 0:
        raise ValueError(f"bucket must be positive, got {bucket}")
    errors = [o for o in obs if o.kind is ObsKind.ERROR]
    if not errors:
        return {}
    t0 = errors[0].time if start is None else start
    t1 = errors[-1].time if end is None else end
    if t1 < t0:
        raise ValueError(f"end ({t1}) is before start ({t0})")
    n = int((t1 - t0) // bucket) + 1
    series: dict[str, list[int]] = defaultdict(lambda: [0] * n)
    for o in errors:
        i = int((o.time - t0) // bucket)
        if 0 <= i < n:
            for name in series_names(o):
                series[name][i] += 1
    return dict(series)


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation; 0.0 when either series is constant or too short."""
    n = len(x)
    if n < 3 or n != len(y):
        return 0.0
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return 0.0 if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


#: How much better a longer lag must correlate to be preferred over a shorter one.
LAG_MARGIN = 0.05


def lagged_correlation(x: Sequence[float], y: Sequence[float], max_lag: int) -> tuple[float, int]:
    """Best Pearson correlation of ``x[t]`` with ``y[t + lag]`` over ``-max_lag..max_lag``.

    A longer lag must beat a shorter one by `LAG_MARGIN`: two bursts that rise together also correlate a little
    better at some shifted lag by chance (fewer overlapping buckets), and calling that "2m before" misleads."""
    best, best_lag = 0.0, 0
    for lag in sorted(range(-max_lag, max_lag + 1), key=abs):
        r = pearson(x[: len(x) - lag], y[lag:]) if lag >= 0 else pearson(x[-lag:], y[: len(y) + lag])
        margin = LAG_MARGIN if abs(lag) > abs(best_lag) and best > 0.0 else 1e-9
        if r > best + margin:
            best, best_lag = r, lag
    return best, best_lag


def cooccurrence(x: Sequence[int], y: Sequence[int], window: int) -> float:
    """How often each series is active within `window` buckets of the other being active (0..1, symmetric)."""

    def covered(a: Sequence[int], b: Sequence[int]) -> float:
        active = [i for i, v in enumerate(a) if v]
        if not active:
            return 0.0
        hits = sum(1 for i in active if any(b[j] for j in range(max(0, i - window), min(len(b), i + window + 1))))
        return hits / len(active)

    return (covered(x, y) + covered(y, x)) / 2


def related_in(
    target: str,
    series: Mapping[str, Sequence[int]],
    *,
    bucket: float,
    max_lag: int = 3,
    window: int = 1,
    min_score: float = 0.3,
    min_active: int = 2,
    limit: int = 10,
    exclude: frozenset[str] = frozenset(),
) -> list[Related]:
    """Series related to `target` in precomputed bucketed `series`, best first.

    The score blends the best lagged correlation (how the rates move together) with co-occurrence (whether
    they are active at the same time), so a sparse pair that always fails together still ranks.
    """
    if target not in series:
        raise KeyError(f"target: no error series named {target!r} (known: {sorted(series)[:10]})")
    x = series[target]
    out: list[Related] = []
    for name, y in series.items():
        if name == target or name in exclude or sum(1 for v in y if v) < min_active:
            continue
        r, lag = lagged_correlation(x, y, max_lag)
        co = cooccurrence(x, y, window)
        score = 0.6 * max(0.0, r) + 0.4 * co
        if score >= min_score:
            out.append(Related(name, round(score, 4), lag * bucket, round(r, 4), round(co, 4)))
    out.sort(key=lambda r: (-r.score, abs(r.lag), r.name))
    return out[:limit]


def related(
    target: str,
    events: Iterable[Any],
    *,
    bucket: float = 60.0,
    start: float | None = None,
    end: float | None = None,
    max_lag: int = 3,
    window: int = 1,
    min_score: float = 0.3,
    limit: int = 10,
) -> list[Related]:
    """Groups, services and dependencies whose error rates rise with `target` (a series name such as
    ``service:api`` or ``group:<fingerprint>``; a bare name is read as a service), ranked by score.

    `events`: telemetry events, their dicts or stored events. `bucket` is in seconds; `max_lag` and `window`
    are in buckets.
    """
    if ":" not in target:
        target = f"service:{target}"
    obs = observations(events)
    series = bucket_counts(obs, bucket=bucket, start=start, end=end)
    return related_in(target, series, bucket=bucket, max_lag=max_lag, window=window, min_score=min_score,
                      limit=limit, exclude=own_views(target, obs))


def own_views(target: str, obs: Iterable[Observation]) -> frozenset[str]:
    """The series made only of the target's own errors (a service's groups, a group's service when it has
    no other group, the failing calls a service alone makes to a dependency): they rise with the target by
    construction, so listing them as related would say nothing."""
    inside: set[str] = set()
    outside: set[str] = set()
    for o in obs:
        names = series_names(o)
        (inside if target in names else outside).update(names)
    return frozenset(inside - outside - {target})


def related_to_incident(
    events: Iterable[Any],
    services: Sequence[str],
    *,
    start: float,
    end: float,
    bucket: float = 60.0,
    max_lag: int = 3,
    min_score: float = 0.3,
    limit: int = 10,
) -> list[Related]:
    """What fails with an incident's services over ``[start, end]``: each service's related series merged
    (best score kept), the services themselves and their own groups left out."""
    obs = observations(events)
    series = bucket_counts(obs, bucket=bucket, start=start, end=end)
    own = {f"service:{s}" for s in services}
    for s in services:
        own |= own_views(f"service:{s}", obs)
    best: dict[str, Related] = {}
    for s in services:
        if f"service:{s}" not in series:
            continue
        for r in related_in(f"service:{s}", series, bucket=bucket, max_lag=max_lag, min_score=min_score,
                            limit=len(series), exclude=frozenset(own)):
            if r.name not in best or r.score > best[r.name].score:
                best[r.name] = r
    return sorted(best.values(), key=lambda r: (-r.score, abs(r.lag), r.name))[:limit]


def related_in_store(
    store: Store,
    target: str,
    *,
    start: float,
    end: float,
    project_id: int | None = None,
    bucket: float = 60.0,
    max_lag: int = 3,
    min_score: float = 0.3,
    limit: int = 10,
) -> list[Related]:
    """`related` over the store's events in ``[start, end]`` (a group page's "related" list)."""
    events = stored_events(store, project_id, start, end)
    return related(target, events, bucket=bucket, start=start, end=end, max_lag=max_lag, min_score=min_score,
                   limit=limit)


def group_titles(store: Store, project_id: int | None, fingerprints: Iterable[str]) -> dict[str, tuple[int, str]]:
    """(group id, title) per stored fingerprint, so ``group:<fingerprint>`` series can be shown by name."""
    from sqlalchemy import select

    from recoup.store.models import ErrorGroupRow

    wanted = sorted(set(fingerprints))
    if not wanted:
        return {}
    query = select(ErrorGroupRow.fingerprint, ErrorGroupRow.id, ErrorGroupRow.title).where(
        ErrorGroupRow.fingerprint.in_(wanted))
    if project_id is not None:
        query = query.where(ErrorGroupRow.project_id == project_id)
    return store.transaction(lambda s: {fp: (gid, title) for fp, gid, title in s.execute(query)}, write=False)
