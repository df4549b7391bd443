"""Alertmanager alerts: one row per firing episode (fingerprint, startsAt), updated as it resolves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_support import T0

from recoup.store import AlertStatus, NewAlert, NotFound, Project, Store


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
