"""Input validation: every bad value is refused before any write, with a message naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from store_support import T0, error

from recoup.store import EventKind, InvalidInput, Level, NewAlert, NewEvent, Project, Store


def _event(**overrides: Any) -> NewEvent:
    fields: dict[str, Any] = {"event_id": "e1", "kind": "error", "occurred_at": T0}
    fields.update(overrides)
    return NewEvent(**fields)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"event_id": ""}, "event_id", "must not be empty"),
        ({"event_id": "x" * 65}, "event_id", "at most 64"),
        ({"event_id": " padded"}, "event_id", "surrounding whitespace"),
        ({"event_id": 42}, "event_id", "must be a string"),
        ({"kind": "crash"}, "kind", "not one of: error, recovery, breaker, checkpoint, alert"),
        ({"occurred_at": datetime(2026, 1, 1)}, "occurred_at", "timezone-aware"),
        ({"occurred_at": "2026-01-01"}, "occurred_at", "must be a datetime"),
        ({"level": "loud"}, "level", "not one of"),
        ({"fingerprint": "f" * 129}, "fingerprint", "at most 128"),
        ({"category": ""}, "category", "must not be empty"),
        ({"message": "nul\x00byte"}, "message", "NUL"),
        ({"payload": ["not", "an", "object"]}, "payload", "must be an object"),
        ({"payload": {"x": object()}}, "payload", "JSON-serialisable"),
        ({"payload": {"x": float("nan")}}, "payload", "JSON-serialisable"),
        ({"payload": {"frames": [{"vars": "a\x00b"}]}}, "payload", "NUL"),
    ],
)
def test_new_event_names_the_bad_field(overrides: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as info:
        _event(**overrides)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_new_event_normalises_values() -> None:
    event = _event(kind="recovery", level="warning", title="t" * 600)
    assert event.kind is EventKind.RECOVERY
    assert event.level is Level.WARNING
    assert event.title is not None and len(event.title) == 500
    assert event.occurred_at.tzinfo is UTC
    assert _event(message="KeyError: 'x'\nmore").group_title() == "KeyError: 'x'"
    assert _event(exception_type="KeyError", message="'x'").group_title() == "KeyError: 'x'"


def test_new_alert_validation() -> None:
    alert = NewAlert(fingerprint="f", status="firing", starts_at=T0, ends_at=datetime(1, 1, 1, tzinfo=UTC))
    assert alert.ends_at is None  # Alertmanager's zero time means "not set"
    with pytest.raises(InvalidInput) as info:
        NewAlert(fingerprint="f", status="firing", starts_at=T0, labels={"severity": 3})
    assert info.value.field == "labels.severity"
    with pytest.raises(InvalidInput, match="status"):
        NewAlert(fingerprint="f", status="pending", starts_at=T0)


def test_store_methods_reject_bad_arguments_before_writing(store: Store, project: Project) -> None:
    with pytest.raises(InvalidInput) as info:
        store.ingest_events(project.id, [error("ok"), {"event_id": "raw dict"}])  # type: ignore[list-item]
    assert info.value.field == "events[1]"
    assert store.count_events() == 0
    with pytest.raises(InvalidInput, match="received_at"):
        store.ingest_events(project.id, [error("ok")], received_at=datetime(2026, 1, 1))
    for name in ["", "   ", "x" * 201]:
        with pytest.raises(InvalidInput) as name_info:
            store.create_project(name)
        assert name_info.value.field == "name"
    with pytest.raises(InvalidInput, match="rate_limit_per_minute"):
        store.create_project("ok", rate_limit_per_minute=0)
    assert [p.id for p in store.list_projects()] == [project.id]


def test_payload_with_escaped_nul_text_is_fine(store: Store, project: Project) -> None:
    """A literal backslash-u0000 (not a NUL) is ordinary text and must be stored on both databases."""
    event = _event(payload={"note": "\\u0000 is how JSON spells NUL"})
    assert store.ingest_events(project.id, [event]).inserted == ("e1",)
    stored = store.get_event(project.id, "e1")
    assert stored is not None and stored.payload == {"note": "\\u0000 is how JSON spells NUL"}
