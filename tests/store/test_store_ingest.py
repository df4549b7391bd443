"""Ingest: events stored exactly once per (project, event id), counted into groups by fingerprint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_support import T0, error

from recoup.store import EventKind, GroupStatus, Level, NewEvent, NotFound, Project, Store


def test_events_are_grouped_and_counted(store: Store, project: Project) -> None:
    batch = [error(f"e{i}", "fp-a" if i % 3 else "fp-b", seconds=i) for i in range(9)]
    result = store.ingest_events(project.id, batch)
    assert result.inserted == tuple(f"e{i}" for i in range(9))
    assert result.duplicates == ()
    assert set(result.new_groups) == {"fp-a", "fp-b"}
    groups = {g.fingerprint: g for g in store.list_groups(project.id)}
    assert groups["fp-a"].count == 6
    assert groups["fp-b"].count == 3
    assert groups["fp-b"].first_seen == T0
    assert groups["fp-b"].last_seen == T0 + timedelta(seconds=6)
    assert groups["fp-a"].title == "ConnectionError: boom"
    assert groups["fp-a"].category == "network"
    assert groups["fp-a"].status is GroupStatus.UNRESOLVED
    assert result.groups == {"fp-a": groups["fp-a"].id, "fp-b": groups["fp-b"].id}
    events = store.group_events(groups["fp-b"].id)
    assert [e.event_id for e in events] == ["e6", "e3", "e0"]
    assert all(e.group_id == groups["fp-b"].id for e in events)


def test_a_later_batch_widens_the_group(store: Store, project: Project) -> None:
    store.ingest_events(project.id, [error("a", seconds=10)])
    second = store.ingest_events(project.id, [error("b", seconds=5), error("c", seconds=20)])
    assert second.new_groups == ()
    (group,) = store.list_groups(project.id)
    assert group.count == 3
    assert group.first_seen == T0 + timedelta(seconds=5)
    assert group.last_seen == T0 + timedelta(seconds=20)


def test_redelivered_events_are_stored_and_counted_once(store: Store, project: Project) -> None:
    batch = [error(f"e{i}", seconds=i) for i in range(5)]
    store.ingest_events(project.id, batch)
    again = store.ingest_events(project.id, [*batch[2:], error("new", seconds=9)])
    assert again.inserted == ("new",)
    assert again.duplicates == ("e2", "e3", "e4")
    assert again.groups == {"fp-a": store.list_groups(project.id)[0].id}
    assert store.count_events(project.id) == 6
    assert store.list_groups(project.id)[0].count == 6


def test_duplicates_within_one_batch_count_once(store: Store, project: Project) -> None:
    result = store.ingest_events(project.id, [error("x"), error("y"), error("x", message="second copy")])
    assert result.inserted == ("x", "y")
    assert result.duplicates == ("x",)
    assert store.list_groups(project.id)[0].count == 2
    stored = store.get_event(project.id, "x")
    assert stored is not None and stored.message == "boom"  # first copy wins


def test_same_event_id_in_two_projects_is_two_events(store: Store, project: Project) -> None:
    other, _ = store.create_project("Other")
    store.ingest_events(project.id, [error("shared")])
    result = store.ingest_events(other.id, [error("shared")])
    assert result.inserted == ("shared",)
    assert store.count_events() == 2
    assert store.list_groups(other.id)[0].count == 1


def test_events_without_fingerprint_are_stored_ungrouped(store: Store, project: Project) -> None:
    recovery = NewEvent(
        event_id="r1",
        kind=EventKind.RECOVERY,
        occurred_at=T0,
        level=Level.INFO,
        message="recovered after 2 attempts",
        payload={"outcome": "recovered", "attempts": 2},
    )
    result = store.ingest_events(project.id, [recovery, error("e1")])
    assert result.inserted == ("r1", "e1")
    stored = store.get_event(project.id, "r1")
    assert stored is not None
    assert stored.group_id is None
    assert stored.kind is EventKind.RECOVERY
    assert stored.level is Level.INFO
    assert stored.payload == {"outcome": "recovered", "attempts": 2}
    assert [g.count for g in store.list_groups(project.id)] == [1]


def test_payload_round_trips(store: Store, project: Project) -> None:
    store.ingest_events(project.id, [error("p")])
    stored = store.get_event(project.id, "p")
    assert stored is not None
    assert stored.payload == {"frames": [{"function": "send", "lineno": 3}], "tags": {"env": "test"}}
    assert stored.occurred_at == T0
    assert stored.received_at.tzinfo is not None


def test_large_batches_span_several_statements(store: Store, project: Project) -> None:
    batch = [error(f"e{i:05d}", f"fp-{i % 700}", seconds=i) for i in range(1500)]
    result = store.ingest_events(project.id, batch)
    assert len(result.inserted) == 1500
    assert len(result.new_groups) == 700
    assert sum(g.count for g in store.list_groups(project.id, limit=1000)) == 1500
    assert store.count_events(project.id) == 1500


def test_a_new_event_reopens_a_resolved_group_but_not_an_ignored_one(store: Store, project: Project) -> None:
    store.ingest_events(project.id, [error("a1", "fp-a"), error("b1", "fp-b")])
    groups = {g.fingerprint: g for g in store.list_groups(project.id)}
    store.set_group_status(groups["fp-a"].id, GroupStatus.RESOLVED)
    store.set_group_status(groups["fp-b"].id, "ignored")
    store.ingest_events(project.id, [error("a2", "fp-a"), error("b2", "fp-b")])
    after = {g.fingerprint: g for g in store.list_groups(project.id)}
    assert after["fp-a"].status is GroupStatus.UNRESOLVED
    assert after["fp-b"].status is GroupStatus.IGNORED


def test_unknown_project_is_rejected_without_writing(store: Store) -> None:
    with pytest.raises(NotFound):
        store.ingest_events(999_999, [error("e")])
    assert store.count_events() == 0


def test_an_unknown_project_among_several_is_named_and_nothing_is_written(store: Store, project: Project) -> None:
    """The project's foreign key refuses the rows (there is no separate lookup): still `NotFound`, naming
    the missing project, and the other project's batch in the same transaction is rolled back too."""
    plain = NewEvent(event_id="m1", kind=EventKind.METRIC, occurred_at=T0, message="cpu=1", level=Level.INFO)
    for missing_batch in ([error("x1")], [plain]):  # refused at the groups' insert, or at the events' insert
        with pytest.raises(NotFound, match="project 999999 does not exist"):
            store.ingest_many([(project.id, [error("ok1"), plain], None), (999_999, missing_batch, None)])
        assert store.count_events() == 0
        assert store.list_groups(project.id) == []
    assert store.ingest_many([(project.id, [error("ok1")], None)])[0].inserted == ("ok1",)


def test_a_failing_batch_writes_nothing(store: Store, project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch is one transaction: when the group step fails, the events and new groups roll back."""
    store.ingest_events(project.id, [error("before")])

    def failing(*_args: object) -> set[str]:
        raise RuntimeError("group step failed")

    monkeypatch.setattr(store, "_add_to_groups", failing)
    batch = [error("n1"), error("n2", "fp-new")]
    with pytest.raises(RuntimeError):
        store.ingest_events(project.id, batch)
    monkeypatch.undo()
    assert store.count_events(project.id) == 1
    assert [(g.fingerprint, g.count) for g in store.list_groups(project.id)] == [("fp-a", 1)]
    result = store.ingest_events(project.id, batch)
    assert result.inserted == ("n1", "n2") and result.new_groups == ("fp-new",)


def test_a_batch_of_only_duplicates_creates_no_group(store: Store, project: Project) -> None:
    """A redelivered event that now carries another fingerprint must not leave an empty group behind."""
    store.ingest_events(project.id, [error("e1", "fp-a")])
    result = store.ingest_events(project.id, [error("e1", "fp-renamed")])
    assert result.inserted == () and result.new_groups == () and result.groups == {}
    assert [g.fingerprint for g in store.list_groups(project.id)] == ["fp-a"]


def test_empty_batch_is_a_no_op(store: Store, project: Project) -> None:
    result = store.ingest_events(project.id, [])
    assert result.inserted == () and result.groups == {}
