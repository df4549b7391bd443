"""Retention: old events are deleted in batches; group counters and recent events survive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from store_support import error

from recoup.store import InvalidInput, Project, Store


def test_prune_deletes_old_events_and_keeps_group_counts(store: Store, project: Project) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(days=40)
    store.ingest_events(project.id, [error(f"old{i}", seconds=i) for i in range(25)], received_at=old)
    store.ingest_events(project.id, [error(f"new{i}", seconds=100 + i) for i in range(3)], received_at=now)
    (group,) = store.list_groups(project.id)
    assert group.count == 28

    deleted = store.prune_events(now - timedelta(days=30), batch_size=7)

    assert deleted == 25
    assert store.count_events(project.id) == 3
    (after,) = store.list_groups(project.id)
    assert after.count == 28
    assert after.first_seen == group.first_seen
    assert [e.event_id for e in store.group_events(after.id)] == ["new2", "new1", "new0"]
    assert store.prune_events(now - timedelta(days=30)) == 0


def test_a_pruned_event_id_redelivered_is_stored_again_but_only_once(store: Store, project: Project) -> None:
    """After retention the id is forgotten: a very late redelivery is a new event (documented limit)."""
    old = datetime.now(UTC) - timedelta(days=40)
    store.ingest_events(project.id, [error("late")], received_at=old)
    store.prune_events(datetime.now(UTC) - timedelta(days=1))
    assert store.ingest_events(project.id, [error("late")]).inserted == ("late",)
    assert store.ingest_events(project.id, [error("late")]).inserted == ()


def test_prune_validates_arguments(store: Store) -> None:
    with pytest.raises(InvalidInput, match="older_than"):
        store.prune_events(datetime(2026, 1, 1))
    with pytest.raises(InvalidInput, match="batch_size"):
        store.prune_events(datetime.now(UTC), batch_size=0)
