"""Typed telemetry events survive JSON both ways, and bad input is refused with a clear error."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from recoup import telemetry
from recoup.errors.taxonomy import Category, Classification
from recoup.telemetry.events import (
    SCHEMA_VERSION,
    BreakerTransitionEvent,
    CheckpointEvent,
    ErrorEvent,
    EventSchemaError,
    Frame,
    Outcome,
    RecoveryAttemptEvent,
    RecoveryOutcomeEvent,
    TelemetryEvent,
    event_from_dict,
    exception_type_name,
)


def _examples() -> list[TelemetryEvent]:
    return [
        ErrorEvent(
            exception_type="ConnectionRefusedError",
            message="[Errno 111] Connection refused",
            service="billing",
            operation="charge",
            category=Category.NETWORK,
            transient=True,
            confidence=0.9,
            classification_reason="errno ECONNREFUSED",
            fingerprint="abc123",
            frames=(Frame("app.py", 10, "charge", "sock.connect(addr)"), Frame("lib.py", 3, "connect")),
            tags={"env": "prod"},
        ),
        ErrorEvent(exception_type="ValueError", message="bad"),
        RecoveryAttemptEvent(operation="charge", strategy="retry", attempt=2, delay=0.25, category=Category.SERVICE),
        RecoveryOutcomeEvent(
            operation="charge",
            strategy="retry",
            outcome=Outcome.RECOVERED,
            attempts=3,
            time_to_recover=1.5,
            rto_met=True,
            category=Category.NETWORK,
            error_type="TimeoutError",
        ),
        RecoveryOutcomeEvent(operation="charge", strategy="breaker", outcome=Outcome.FAILED_FAST),
        BreakerTransitionEvent(breaker="db", from_state="closed", to_state="open", reason="5 failures"),
        CheckpointEvent(workflow="nightly", run_id="r-1", step="extract", status="saved"),
    ]


@pytest.mark.parametrize("event", _examples(), ids=lambda e: e.event_type)
def test_round_trip_through_json(event: TelemetryEvent) -> None:
    data = event.to_dict()
    assert data["type"] == event.event_type
    assert data["schema"] == SCHEMA_VERSION
    text = json.dumps(data, allow_nan=False)
    back = event_from_dict(json.loads(text))
    assert back == event
    assert type(back) is type(event)
    assert type(event).from_dict(json.loads(text)) == event


def test_events_are_frozen_and_hashable_with_unique_ids() -> None:
    a, b = ErrorEvent(exception_type="E", message="m"), ErrorEvent(exception_type="E", message="m")
    assert a.id != b.id
    assert len({a, b}) == 2
    with pytest.raises(AttributeError):
        a.message = "other"  # type: ignore[misc]


def test_error_event_from_exception_carries_type_frames_and_classification() -> None:
    def fail() -> None:
        raise ConnectionResetError("peer reset")

    classification = Classification(Category.NETWORK, True, 0.8, "fp-1", "reset by peer")
    try:
        fail()
    except ConnectionResetError as exc:
        event = ErrorEvent.from_exception(exc, service="svc", operation="op", classification=classification)
    assert event.exception_type == "ConnectionResetError"
    assert event.message == "peer reset"
    assert event.fingerprint == "fp-1"
    assert event.category is Category.NETWORK
    assert event.classification == classification
    assert [f.function for f in event.frames][-1] == "fail"
    assert event_from_dict(json.loads(json.dumps(event.to_dict()))) == event


def test_exception_type_name_is_fully_qualified_outside_builtins() -> None:
    assert exception_type_name(KeyError("k")) == "KeyError"
    assert exception_type_name(json.JSONDecodeError("x", "", 0)) == "json.decoder.JSONDecodeError"


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    data = CheckpointEvent(workflow="w", run_id="r", step="s", status="saved").to_dict()
    data["added_in_a_later_minor"] = 42
    assert isinstance(event_from_dict(data), CheckpointEvent)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(type="nope"), "unknown event type"),
        (lambda d: d.update(schema=SCHEMA_VERSION + 1), "unsupported schema"),
        (lambda d: d.pop("step"), "step"),
        (lambda d: d.update(tags=["not", "a", "map"]), "tags"),
    ],
)
def test_bad_dicts_are_rejected(mutate: object, message: str) -> None:
    data = CheckpointEvent(workflow="w", run_id="r", step="s", status="saved").to_dict()
    mutate(data)  # type: ignore[operator]
    with pytest.raises(EventSchemaError, match=message):
        event_from_dict(data)


def test_bad_enum_value_is_a_schema_error() -> None:
    data = RecoveryOutcomeEvent(operation="o", strategy="s", outcome=Outcome.GAVE_UP).to_dict()
    data["outcome"] = "exploded"
    with pytest.raises(EventSchemaError, match="outcome"):
        event_from_dict(data)


def test_package_exports_resolve_and_import_only_stdlib() -> None:
    for name in telemetry.__all__:
        assert getattr(telemetry, name) is not None
    code = (
        "import sys, json; before = set(sys.modules); import recoup.telemetry as t; "
        "[getattr(t, n) for n in t.__all__]; print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    foreign = [m for m in json.loads(out) if m.split(".")[0] not in sys.stdlib_module_names | {"recoup"}]
    assert foreign == []


def test_tags_are_copied_to_strings() -> None:
    source = {"attempt": 3}
    event = CheckpointEvent(workflow="w", run_id="r", step="s", status="saved", tags=source)  # type: ignore[dict-item]
    source["attempt"] = 4
    assert event.tags == {"attempt": "3"}


def test_from_exception_can_classify_on_its_own() -> None:
    event = ErrorEvent.from_exception(TimeoutError("slow"), classify=True, include_traceback=False)
    assert event.category is Category.NETWORK
    assert event.transient is True
    assert event.frames == ()
