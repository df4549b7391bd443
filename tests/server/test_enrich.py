"""Enrichment gives every error event a category and a line-number-free, stable fingerprint."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from recoup.server.enrich import enrich, in_app_frames, mask_unique
from recoup.store import EventKind, NewEvent

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def error(message: str, exception_type: str | None = None, **kw: object) -> NewEvent:
    return NewEvent(event_id=uuid.uuid4().hex, kind=EventKind.ERROR, occurred_at=NOW, message=message,
                    exception_type=exception_type, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exception_type", "message", "category"),
    [
        ("ConnectionRefusedError", "[Errno 111] Connection refused", "network"),
        ("psycopg.OperationalError", 'connection to server at "10.0.0.5", port 5432 failed: Connection refused',
         "network"),
        ("requests.exceptions.HTTPError", "503 Server Error: Service Unavailable for url: https://api.example.com/v1",
         "service"),
        ("requests.exceptions.HTTPError", "429 Client Error: Too Many Requests for url: https://api.example.com/v1",
         "resource"),
        ("OSError", "[Errno 28] No space left on device", "resource"),
        ("PermissionError", "[Errno 13] Permission denied: '/var/lib/app/state.json'", "filesystem"),
        ("KeyError", "'user_id'", "programming"),
        ("ValueError", "invalid literal for int() with base 10: 'abc'", "validation"),
        (None, "upstream timed out while reading response header from upstream", "network"),
    ],
)
def test_categories_on_real_error_texts(exception_type: str | None, message: str, category: str) -> None:
    assert enrich(error(message, exception_type)).category == category


def test_request_unique_parts_do_not_change_category_or_fingerprint() -> None:
    a = enrich(error(f"timed out waiting for job {uuid.uuid4()} (request 12345678)", "TimeoutError"))
    b = enrich(error(f"timed out waiting for job {uuid.uuid4()} (request 87654321)", "TimeoutError"))
    assert a.category == b.category == "network"
    assert a.fingerprint == b.fingerprint
    assert "<id>" in mask_unique(f"job {uuid.uuid4()} at 2026-01-01T10:00:00Z id 0xdeadbeef 1234567")
    decisive = "HTTP 503 on port 5432, errno 111, SQLSTATE 40P01"
    assert mask_unique(decisive) == decisive


def test_fingerprint_is_stable_and_line_number_free() -> None:
    frames = [
        {"module": "shop.checkout", "function": "pay", "in_app": True, "lineno": 10},
        {"module": "requests.sessions", "function": "send", "in_app": False, "lineno": 5},
    ]
    moved = [dict(f, lineno=f["lineno"] + 40) for f in frames]
    a = enrich(error("card 4242 declined", "PaymentError", payload={"frames": frames}))
    b = enrich(error("card 1881 declined", "PaymentError", payload={"frames": moved}))
    assert a.fingerprint == b.fingerprint
    assert len(a.fingerprint or "") == 20  # hex digest of 10 bytes
    # Another in-app function is another kind of error; library frames do not count.
    other = enrich(error("card 4242 declined", "PaymentError",
                         payload={"frames": [dict(frames[0], function="refund"), frames[1]]}))
    assert other.fingerprint != a.fingerprint
    no_lib = enrich(error("card 4242 declined", "PaymentError", payload={"frames": frames[:1]}))
    assert no_lib.fingerprint == a.fingerprint
    # The type matters, and only the message's first line.
    assert enrich(error("card 4242 declined", "OtherError", payload={"frames": frames})).fingerprint != a.fingerprint
    assert enrich(error("card 4242 declined\nretry 3", "PaymentError", payload={"frames": frames})).fingerprint \
        == a.fingerprint


def test_fingerprint_is_the_same_across_processes() -> None:
    import subprocess
    import sys

    code = ("from datetime import UTC, datetime; from recoup.server.enrich import enrich; "
            "from recoup.store import NewEvent; "
            "print(enrich(NewEvent(event_id='x', kind='error', occurred_at=datetime(2026,1,1,tzinfo=UTC), "
            "message='disk 3 full', exception_type='OSError')).fingerprint)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == enrich(error("disk 7 full", "OSError")).fingerprint


def test_malformed_frames_are_skipped() -> None:
    payload = {"frames": [None, {"module": 3, "function": "f", "in_app": True}, {"module": "m", "in_app": True},
                          {"module": "app", "function": "run", "in_app": "yes"},
                          {"module": "app", "function": "main", "in_app": True}]}
    assert in_app_frames(payload) == (("app", "main"),)
    assert in_app_frames({"frames": "nope"}) == ()


def test_given_values_and_non_errors_are_kept() -> None:
    given = error("boom", "RuntimeError", category="service", fingerprint="abc")
    assert enrich(given) is given
    partial = enrich(error("[Errno 111] Connection refused", "ConnectionRefusedError", category="auth"))
    assert partial.category == "auth" and partial.fingerprint
    info = NewEvent(event_id="r", kind=EventKind.RECOVERY, occurred_at=NOW, message="retried")
    assert enrich(info) is info
    enriched = enrich(error("x", "E", payload={"a": 1}, title="T"))
    assert (enriched.payload, enriched.title, enriched.event_id) == ({"a": 1}, "T", enriched.event_id)


def test_telemetry_frames_count_the_library_way() -> None:
    frames = [
        {"filename": "/srv/shop/checkout.py", "lineno": 12, "function": "pay", "line": "charge()"},
        {"filename": "/usr/lib/python3.11/socket.py", "lineno": 800, "function": "create_connection", "line": None},
    ]
    assert in_app_frames({"frames": frames}) == (("checkout", "pay"),)
