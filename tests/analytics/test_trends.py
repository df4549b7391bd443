"""Trends from a real store (SQLite and PostgreSQL): counts per group and category, new groups,
regressions and spikes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recoup.analytics.trends import UNCATEGORISED, count_series, find_spikes, new_groups, regressions, report
from recoup.store import EventKind, InvalidInput, NewEvent, Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def event(eid: str, fingerprint: str | None, minutes: float, category: str | None = "network") -> NewEvent:
    return NewEvent(
        event_id=eid,
        kind=EventKind.ERROR,
        occurred_at=T0 + timedelta(minutes=minutes),
        message="boom",
        fingerprint=fingerprint,
        category=category,
        title=f"title {fingerprint}",
    )


def seed(store: Store) -> int:
    """Project with: 'steady' 2 events/hour for 6 hours then a burst of 20 in hour 6; 'old' seen at the
    start and back in hour 6 after five silent hours; 'fresh' first seen in hour 5; one uncategorised."""
    project, _ = store.create_project("trends")
    events = [event(f"s{h}-{k}", "steady", h * 60 + 10 + 20 * k) for h in range(6) for k in range(2)]
    events += [event(f"burst{k}", "steady", 6 * 60 + k) for k in range(20)]
    events += [event("old1", "old", 5, category="database"), event("old2", "old", 6 * 60 + 30, category="database")]
    events += [event("fresh1", "fresh", 5 * 60 + 1, category=None)]
    store.ingest_events(project.id, events)
    return project.id


def group_ids(store: Store, project_id: int) -> dict[str, int]:
    return {g.fingerprint: g.id for g in store.list_groups(project_id)}


def test_counts_per_group_and_category(store: Store) -> None:
    pid = seed(store)
    ids = group_ids(store, pid)
    by_group = count_series(store, pid, T0, T0 + 7 * HOUR, HOUR)
    assert by_group[str(ids["steady"])] == [2, 2, 2, 2, 2, 2, 20]
    assert by_group[str(ids["old"])] == [1, 0, 0, 0, 0, 0, 1]
    assert by_group[str(ids["fresh"])] == [0, 0, 0, 0, 0, 1, 0]
    by_category = count_series(store, pid, T0, T0 + 7 * HOUR, HOUR, by="category")
    assert by_category["network"] == [2, 2, 2, 2, 2, 2, 20]
    assert by_category["database"] == [1, 0, 0, 0, 0, 0, 1]
    assert by_category[UNCATEGORISED] == [0, 0, 0, 0, 0, 1, 0]


def test_new_groups_and_regressions(store: Store) -> None:
    pid = seed(store)
    ids = group_ids(store, pid)
    fresh = new_groups(store, pid, T0 + 5 * HOUR, T0 + 7 * HOUR)
    assert [g.group_id for g in fresh] == [ids["fresh"]]
    assert fresh[0].category is None and fresh[0].count == 1
    found = regressions(store, pid, T0 + 6 * HOUR, T0 + 7 * HOUR, quiet=2 * HOUR)
    assert [(r.group_id, r.title) for r in found] == [(ids["old"], "title old")]
    assert found[0].silent_for == timedelta(hours=6, minutes=25)
    # 'steady' came back after 40 minutes: not a regression. A longer quiet bar drops 'old' too.
    assert regressions(store, pid, T0 + 6 * HOUR, T0 + 7 * HOUR, quiet=7 * HOUR) == []


def test_spikes_against_earlier_buckets() -> None:
    counts = {"a": [2, 2, 2, 2, 2, 2, 20], "b": [50, 55, 48, 52, 60, 49, 58], "c": [0, 0, 0, 3]}
    found = find_spikes(counts, T0, HOUR)
    assert [(s.key, s.bucket_start, s.count) for s in found] == [("a", T0 + 6 * HOUR, 20)]
    assert found[0].baseline == pytest.approx(2.0)
    # A small absolute count is not a spike even from zero.
    assert find_spikes({"c": [0, 0, 0, 4]}, T0, HOUR) == []


def test_report_uses_the_clock(store: Store) -> None:
    pid = seed(store)
    ids = group_ids(store, pid)
    now = (T0 + 7 * HOUR).timestamp()
    result = report(store, pid, window=7 * HOUR, bucket=HOUR, clock=lambda: now, quiet=2 * HOUR)
    assert result.end == T0 + 7 * HOUR
    assert [s.key for s in result.spikes] == [str(ids["steady"])]
    assert {g.group_id for g in result.new_groups} == set(ids.values())
    assert result.regressions == []  # the window starts before 'old' first appeared


def test_bad_input_is_named(store: Store) -> None:
    pid = seed(store)
    with pytest.raises(InvalidInput, match="end"):
        count_series(store, pid, T0, T0, HOUR)
    with pytest.raises(InvalidInput, match="start"):
        count_series(store, pid, datetime(2026, 3, 1), T0, HOUR)
    with pytest.raises(InvalidInput, match="bucket"):
        count_series(store, pid, T0, T0 + HOUR, timedelta(0))
    with pytest.raises(InvalidInput, match="by"):
        count_series(store, pid, T0, T0 + HOUR, HOUR, by="team")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="quiet"):
        regressions(store, pid, T0, T0 + HOUR, quiet=timedelta(0))
    with pytest.raises(InvalidInput, match="sigmas"):
        find_spikes({}, T0, HOUR, sigmas=0)
