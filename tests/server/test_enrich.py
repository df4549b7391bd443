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


def test_one_503_is_one_group_whatever_the_charge_id() -> None:
    """The regression: masking digit runs before the fingerprint's own masks cut urls short at an ``<id>``,
    so one error became ~40 groups; the ``int()`` input value made 147."""
    import random

    from recoup.errors.fingerprint import fingerprint

    rng = random.Random(3)

    def hex_id(n: int) -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(n))

    for template, id_length in (
        ("Server error '503 Service Unavailable' for url 'https://api.example.com/v1/charges/ch_{}'", 16),
        ("invalid literal for int() with base 10: '{}'", 6),
    ):
        events = [enrich(error(template.format(hex_id(id_length)), "httpx.HTTPStatusError")) for _ in range(200)]
        assert len({e.fingerprint for e in events}) == 1
        assert len({e.category for e in events}) == 1
        # the server's fingerprint is the library's
        assert events[0].fingerprint == fingerprint("httpx.HTTPStatusError", events[0].message)


def test_category_masks_keep_what_decides_the_category() -> None:
    assert mask_unique("invalid literal for int() with base 10: 'a3f9c2'") \
        == "invalid literal for int() with base 10: <id>"
    assert mask_unique("charge ch_03fa2e9be8137221 declined") == "charge ch_<id> declined"
    assert mask_unique('server at "10.0.0.5", port 5432 failed') == 'server at "<id>", port 5432 failed'
    assert mask_unique("Expecting value: line 1 column 10 (char 26); process 4711 (bob@example.com)") \
        == "Expecting value: line 1 column <id> (char <id>); process <id> (<id>)"
    assert mask_unique("got 503 from http://127.0.0.1:8080/status/503") == "got 503 from http://<id>:8080/status/503"
    for status, category in (("503 Service Unavailable", "service"), ("429 Too Many Requests", "resource")):
        message = f"Server error '{status}' for url 'https://api.example.com/v1/charges/ch_03fa2e9be8137221'"
        assert enrich(error(message, "httpx.HTTPStatusError")).category == category


def test_telemetry_frames_are_read_the_same_from_the_cache() -> None:
    frames = [{"filename": name, "lineno": 1, "function": "f", "line": None}
              for name in ("/srv/app/orders.py", "C:\\app\\pay.py", "/usr/lib/python3.11/ssl.py", "noext",
                           "/srv/app/node_modules/x.js")]
    for _ in range(2):  # cold, then cached
        assert in_app_frames({"frames": frames}) == (("orders", "f"), ("pay", "f"), ("noext", "f"))


def test_masking_never_changes_the_category_on_the_corpus() -> None:
    """Every real error text of tests/corpus classifies the same masked (the cache key) as raw."""
    import json
    from pathlib import Path

    from recoup.errors.classifier import classify

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    texts = [json.loads(line)["text"] for split in ("dev", "heldout")
             for line in (corpus / f"{split}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(texts) > 1000
    changed = [t for t in texts if classify(mask_unique(t)).category != classify(t).category]
    assert changed == []
