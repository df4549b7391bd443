"""Read queries and management: projects, keys, groups (filters, sorting, paging), events, search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_support import T0, error

from recoup.store import GroupStatus, InvalidInput, NotFound, Project, Store


def test_projects_and_keys(store: Store) -> None:
    first, key = store.create_project("Checkout API")
    second, _ = store.create_project("Checkout API")
    assert first.slug == "checkout-api"
    assert second.slug == "checkout-api-2"
    assert [p.id for p in store.list_projects()] == [first.id, second.id]
    assert len(key.public_key) == 32 and int(key.public_key, 16) >= 0
    found = store.get_project_by_key(key.public_key)
    assert found is not None and found.project == first
    assert store.get_project_by_key("0" * 32) is None
    assert store.get_project_by_key("") is None
    assert store.get_project(first.id) == first
    assert store.get_project(10_000) is None


def test_disabled_key_no_longer_authenticates(store: Store) -> None:
    project, key = store.create_project("p")
    rotated = store.create_key(project.id, rate_limit_per_minute=600)
    assert store.set_key_active(key.public_key, False)
    assert store.get_project_by_key(key.public_key) is None
    found = store.get_project_by_key(rotated.public_key)
    assert found is not None and found.rate_limit_per_minute == 600
    assert [k.active for k in store.list_keys(project.id)] == [False, True]
    with pytest.raises(NotFound):
        store.create_key(12345)


def _three_groups(store: Store, project: Project) -> dict[str, int]:
    events = [error(f"a{i}", "fp-a", seconds=i, category="network") for i in range(5)]
    events += [error(f"b{i}", "fp-b", seconds=100 + i, category="auth") for i in range(2)]
    events += [error("c0", "fp-c", seconds=50, category="network")]
    return dict(store.ingest_events(project.id, events).groups)


def test_list_groups_sorts_filters_and_pages(store: Store, project: Project) -> None:
    ids = _three_groups(store, project)
    by_count = [g.fingerprint for g in store.list_groups(project.id)]
    assert by_count == ["fp-a", "fp-b", "fp-c"]
    recent = [g.fingerprint for g in store.list_groups(project.id, sort="recent")]
    assert recent == ["fp-b", "fp-c", "fp-a"]
    assert [g.fingerprint for g in store.list_groups(project.id, category="network")] == ["fp-a", "fp-c"]
    window = store.list_groups(project.id, since=T0 + timedelta(seconds=10), until=T0 + timedelta(seconds=60))
    assert [g.fingerprint for g in window] == ["fp-c"]
    assert [g.fingerprint for g in store.list_groups(project.id, limit=2, offset=1)] == ["fp-b", "fp-c"]
    store.set_group_status(ids["fp-b"], "muted")
    assert [g.fingerprint for g in store.list_groups(project.id, status=GroupStatus.MUTED)] == ["fp-b"]
    assert [g.fingerprint for g in store.list_groups(project.id, status="unresolved")] == ["fp-a", "fp-c"]
    other, _ = store.create_project("other")
    assert store.list_groups(other.id) == []


def test_list_groups_rejects_bad_arguments(store: Store, project: Project) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"limit": 0}, "limit"),
        ({"limit": 5000}, "limit"),
        ({"offset": -1}, "offset"),
        ({"sort": "name"}, "sort"),
        ({"status": "gone"}, "status"),
        ({"since": T0.replace(tzinfo=None)}, "since"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidInput) as info:
            store.list_groups(project.id, **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field


def test_group_events_newest_first_with_limit(store: Store, project: Project) -> None:
    ids = _three_groups(store, project)
    events = store.group_events(ids["fp-a"], limit=3)
    assert [e.event_id for e in events] == ["a4", "a3", "a2"]
    assert store.group_events(999_999) == []


def test_search_is_case_insensitive_and_literal(store: Store, project: Project) -> None:
    store.ingest_events(
        project.id,
        [
            error("m1", message="Connection refused by db-1", seconds=1),
            error("m2", message="disk 100% full", seconds=2),
            error("m3", message="disk 1000 full", seconds=3),
            error("m4", message="timeout_reading socket", seconds=4),
            error("m5", message="timeoutXreading socket", seconds=5),
        ],
    )
    assert [e.event_id for e in store.search_events(project.id, "CONNECTION REFUSED")] == ["m1"]
    assert [e.event_id for e in store.search_events(project.id, "100%")] == ["m2"]
    assert [e.event_id for e in store.search_events(project.id, "timeout_")] == ["m4"]
    assert [e.event_id for e in store.search_events(project.id, "connectionerror")][:1] == ["m5"]  # by type
    assert len(store.search_events(project.id, text="socket", limit=1)) == 1
    with pytest.raises(InvalidInput, match="text"):
        store.search_events(project.id, "  ")


def test_set_group_status_validates(store: Store, project: Project) -> None:
    ids = _three_groups(store, project)
    updated = store.set_group_status(ids["fp-a"], GroupStatus.RESOLVED)
    assert updated.status is GroupStatus.RESOLVED
    with pytest.raises(InvalidInput, match="not one of: unresolved, resolved, ignored, muted"):
        store.set_group_status(ids["fp-a"], "closed")
    with pytest.raises(NotFound):
        store.set_group_status(999_999, "resolved")


def test_ping(store: Store) -> None:
    store.ping()
