"""Alertmanager alerts: one row per firing episode (fingerprint, startsAt) and project, updated as it resolves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from store_support import T0

from recoup.store import AlertStatus, NewAlert, NotFound, Project, Store
from recoup.store.models import AlertRow


def _alert(status: str, *, ends: timedelta | None = None, starts: timedelta = timedelta(0)) -> NewAlert:
    return NewAlert(
        fingerprint="3f2a9c1d0b8e7f65",
        status=AlertStatus(status),
        starts_at=T0 + starts,
        ends_at=None if ends is None else T0 + ends,
        labels={"alertname": "HighErrorRate", "severity": "critical"},
        annotations={"summary": "error rate above 5%"},
        generator_url="http://prometheus.local/graph?g0.expr=up",
    )


def test_firing_then_resolved_is_one_alert(store: Store, project: Project) -> None:
    (firing,) = store.record_alerts([_alert("firing", ends=timedelta(minutes=4))], project_id=project.id)
    assert firing.status is AlertStatus.FIRING
    assert firing.labels["alertname"] == "HighErrorRate"
    (again,) = store.record_alerts([_alert("firing", ends=timedelta(minutes=8))], project_id=project.id)
    assert again.id == firing.id and again.ends_at == T0 + timedelta(minutes=8)
    (resolved,) = store.record_alerts([_alert("resolved", ends=timedelta(minutes=6))], project_id=project.id)
    assert resolved.id == firing.id
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.ends_at == T0 + timedelta(minutes=6)
    assert resolved.project_id == project.id


def test_late_firing_copy_does_not_reopen_a_resolved_episode(store: Store) -> None:
    store.record_alerts([_alert("resolved", ends=timedelta(minutes=6))])
    (late,) = store.record_alerts([_alert("firing", ends=timedelta(minutes=9))])
    assert late.status is AlertStatus.RESOLVED
    assert late.ends_at == T0 + timedelta(minutes=6)


def test_a_new_episode_is_a_new_alert(store: Store) -> None:
    store.record_alerts([_alert("resolved", ends=timedelta(minutes=6))])
    (second,) = store.record_alerts([_alert("firing", starts=timedelta(hours=1))])
    assert second.status is AlertStatus.FIRING
    assert [a.status for a in store.list_alerts()] == [AlertStatus.FIRING, AlertStatus.RESOLVED]
    assert len(store.list_alerts(status="resolved")) == 1


def test_alerts_for_unknown_project_are_rejected(store: Store) -> None:
    with pytest.raises(NotFound):
        store.record_alerts([_alert("firing")], project_id=424242)
    assert store.list_alerts() == []


def test_two_projects_sending_the_same_episode_get_an_alert_each(store: Store, project: Project) -> None:
    other, _ = store.create_project("Billing API")
    (ours,) = store.record_alerts([_alert("firing")], project_id=project.id)
    (theirs,) = store.record_alerts([_alert("firing")], project_id=other.id)
    assert ours.id != theirs.id
    assert (ours.project_id, theirs.project_id) == (project.id, other.id)

    (resolved,) = store.record_alerts([_alert("resolved", ends=timedelta(minutes=6))], project_id=other.id)
    assert resolved.id == theirs.id and resolved.status is AlertStatus.RESOLVED
    by_project = {a.project_id: a for a in store.list_alerts()}
    assert set(by_project) == {project.id, other.id}
    assert by_project[project.id].status is AlertStatus.FIRING and by_project[project.id].ends_at is None
    assert by_project[other.id].status is AlertStatus.RESOLVED

    # each project still upserts its own episode: redelivery adds no rows
    (again,) = store.record_alerts([_alert("firing", ends=timedelta(minutes=8))], project_id=project.id)
    assert again.id == ours.id and again.ends_at == T0 + timedelta(minutes=8)
    assert len(store.list_alerts()) == 2


def test_admin_alerts_upsert_by_identity_beside_a_projects_copy(store: Store, project: Project) -> None:
    (admin,) = store.record_alerts([_alert("firing")])
    (again,) = store.record_alerts([_alert("firing", ends=timedelta(minutes=4)), _alert("firing")])
    assert again.id == admin.id and again.project_id is None
    (resolved,) = store.record_alerts([_alert("resolved", ends=timedelta(minutes=6))])
    assert resolved.id == admin.id and resolved.status is AlertStatus.RESOLVED

    (projects,) = store.record_alerts([_alert("firing")], project_id=project.id)
    assert projects.id != admin.id and projects.status is AlertStatus.FIRING
    statuses = {a.project_id: a.status for a in store.list_alerts()}
    assert statuses == {None: AlertStatus.RESOLVED, project.id: AlertStatus.FIRING}


def test_the_scope_column_cannot_disagree_with_the_project(store: Store, project: Project) -> None:
    row = {
        "project_id": project.id, "scope": 0, "fingerprint": "f", "status": "firing", "labels": {},
        "annotations": {}, "starts_at": T0, "ends_at": None, "generator_url": "", "received_at": T0,
        "updated_at": T0,
    }  # fmt: skip
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(AlertRow), row)
    assert store.list_alerts() == []
