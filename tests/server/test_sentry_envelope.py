"""The Sentry wire formats on their own: envelope parsing (well-formed and malformed), key discovery, and
the conversion of Sentry event JSON into recoup events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from recoup.server.sentry.auth import key_from_dsn, key_from_request, parse_auth_header
from recoup.server.sentry.envelope import EnvelopeError, parse_envelope, serialize_envelope
from recoup.server.sentry.event import (
    KEPT_TEXT_CHARS,
    MAX_KEPT_BREADCRUMBS,
    MAX_KEPT_EVENT_BYTES,
    MAX_KEPT_EXTRA_BYTES,
    decode_event,
    normalise_event_id,
    parse_timestamp,
    to_new_event,
)
from recoup.store import EventKind, InvalidInput, Level, NewEvent

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
EVENT_ID = "9ec79c33ec9942ab8353589fcb2e04dc"

# -- envelopes -----------------------------------------------------------------------------------------


def test_items_with_explicit_length_may_hold_newlines_and_binary() -> None:
    attachment = b"line one\nline two\n\x00\xff"
    body = serialize_envelope(
        {"event_id": EVENT_ID, "dsn": "https://k@h/1"},
        [({"type": "event"}, b'{"message":"hi"}'), ({"type": "attachment", "filename": "a.bin"}, attachment)],
    )
    envelope = parse_envelope(body)
    assert envelope.event_id == EVENT_ID
    assert envelope.dsn == "https://k@h/1"
    assert [item.type for item in envelope.items] == ["event", "attachment"]
    assert envelope.items[0].payload == b'{"message":"hi"}'
    assert envelope.items[1].payload == attachment
    assert envelope.items[1].headers["filename"] == "a.bin"


def test_items_without_length_run_to_the_next_newline() -> None:
    body = b'{}\n{"type":"session"}\n{"sid":"x"}\n{"type":"event"}\n{"message":"last"}'
    envelope = parse_envelope(body)
    assert [(i.type, i.payload) for i in envelope.items] == [
        ("session", b'{"sid":"x"}'),
        ("event", b'{"message":"last"}'),
    ]


def test_header_only_envelopes_and_trailing_blank_lines_are_fine() -> None:
    assert parse_envelope(b"{}").items == ()
    assert parse_envelope(b'{"event_id":"x"}\n').items == ()
    envelope = parse_envelope(b'{}\n{"type":"event","length":2}\n{}\n\n\n')
    assert [(i.type, i.payload) for i in envelope.items] == [("event", b"{}")]


def test_an_item_may_have_an_empty_payload() -> None:
    envelope = parse_envelope(b'{}\n{"type":"attachment","length":0}\n\n{"type":"event"}\n{}\n')
    assert [(i.type, i.payload) for i in envelope.items] == [("attachment", b""), ("event", b"{}")]


def test_crlf_line_ends_are_tolerated_in_headers() -> None:
    envelope = parse_envelope(b'{"event_id":"a"}\r\n{"type":"event","length":2}\r\n{}')
    assert envelope.event_id == "a"
    assert envelope.items[0].payload == b"{}"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "the envelope is empty"),
        (b"\n\n", "the envelope is empty"),
        (b"not json\n", "the envelope header is not valid JSON"),
        (b"[1,2]\n", "the envelope header must be a JSON object, got list"),
        (b'{"a":NaN}\n', "the envelope header is not valid JSON"),
        (b"\xff\xfe{}\n", "the envelope header is not valid JSON"),
        (b'{}\n{"type":"event"\n{}', "item 0 header is not valid JSON"),
        (b'{}\n"event"\n{}', "item 0 header must be a JSON object, got str"),
        (b'{}\n{"length":2}\n{}', 'item 0 header has no "type"'),
        (b'{}\n{"type":""}\n{}', 'item 0 header has no "type"'),
        (b'{}\n{"type":7}\n{}', 'item 0 header has no "type"'),
        (b'{}\n{"type":"event","length":-1}\n{}', '"length" must be a non-negative integer, got -1'),
        (b'{}\n{"type":"event","length":"2"}\n{}', "\"length\" must be a non-negative integer, got '2'"),
        (b'{}\n{"type":"event","length":true}\n{}', '"length" must be a non-negative integer, got True'),
        (b'{}\n{"type":"event","length":1.5}\n{}', '"length" must be a non-negative integer, got 1.5'),
        (b'{}\n{"type":"event","length":50}\n{}', "item 0 (event) declares 50 payload bytes but only 2 remain"),
        (b'{}\n{"type":"event","length":1}\n{}', "not followed by a newline (wrong length?)"),
        (b'{}\n{"type":"session"}\n{}\n{"type":"event","length":9}\n{}', "item 1 (event) declares 9"),
    ],
)
def test_malformed_envelopes_are_refused_with_the_reason(body: bytes, problem: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        parse_envelope(body)
    assert problem in str(caught.value)


def test_the_number_of_items_is_bounded() -> None:
    body = b"{}\n" + b'{"type":"session"}\n{}\n' * 4
    assert len(parse_envelope(body, max_items=4).items) == 4
    with pytest.raises(EnvelopeError, match="more than 3 items"):
        parse_envelope(body, max_items=3)


# -- keys ----------------------------------------------------------------------------------------------


def test_the_auth_header_is_parsed_leniently() -> None:
    header = 'Sentry sentry_key=abc123, sentry_version=7,sentry_client="sentry.python/2.0", sentry_secret=s'
    assert parse_auth_header(header) == {
        "sentry_key": "abc123",
        "sentry_version": "7",
        "sentry_client": "sentry.python/2.0",
        "sentry_secret": "s",
    }
    assert parse_auth_header("sentry SENTRY_KEY=k") == {"sentry_key": "k"}
    assert parse_auth_header("Bearer abc") == {}
    assert parse_auth_header("") == {}


def test_the_key_comes_from_x_sentry_auth_then_authorization_then_the_query() -> None:
    assert key_from_request({"x-sentry-auth": "Sentry sentry_key=a"}, {"sentry_key": "b"}) == "a"
    assert key_from_request({"authorization": "Sentry sentry_key=c, sentry_version=7"}, {}) == "c"
    assert key_from_request({"authorization": "Bearer token"}, {"sentry_key": " q "}) == "q"
    assert key_from_request({}, {"sentry_key": ""}) is None
    assert key_from_request({"x-sentry-auth": "Sentry sentry_version=7"}, {}) is None


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("https://pub@o1.ingest.example.com/42", ("pub", "42")),
        ("http://pub:secret@127.0.0.1:9000/prefix/path/7", ("pub", "7")),
        ("https://example.com/3", (None, "3")),
        ("http://[::1", (None, None)),
    ],
)
def test_dsn_parsing(dsn: str, expected: tuple[str | None, str | None]) -> None:
    assert key_from_dsn(dsn) == expected


# -- events --------------------------------------------------------------------------------------------


def _frame(module: str, function: str, lineno: int, in_app: bool = True) -> dict[str, Any]:
    return {"module": module, "function": function, "filename": f"{module.replace('.', '/')}.py",
            "abs_path": f"/srv/{module}.py", "lineno": lineno, "in_app": in_app, "vars": {"x": "1"}}


def _exception_event(**extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": EVENT_ID,
        "timestamp": "2026-01-02T03:04:00.250000Z",
        "level": "error",
        "platform": "python",
        "environment": "production",
        "release": "shop@1.2.3",
        "tags": {"region": "eu", "retries": 3},
        "sdk": {"name": "sentry.python", "version": "2.75.0"},
        "exception": {
            "values": [
                {"type": "KeyError", "value": "'sku'", "module": None,
                 "stacktrace": {"frames": [_frame("shop.cart", "load", 10)]}},
                {"type": "CheckoutFailed", "value": "order 1234 failed", "module": "shop.errors",
                 "mechanism": {"type": "generic", "handled": True},
                 "stacktrace": {"frames": [
                     _frame("uvicorn.protocols", "run", 400, in_app=False),
                     _frame("shop.views", "checkout", 55),
                     _frame("shop.payment", "charge", 120),
                 ]}},
            ]
        },
    }
    event.update(extra)
    return event


def _convert(event: dict[str, Any]) -> NewEvent:
    raw = json.dumps(event).encode()
    return to_new_event(decode_event(raw), received_at=NOW, size=len(raw))


def test_an_exception_event_becomes_an_error_event_with_its_frames() -> None:
    event = _convert(_exception_event())
    assert event.kind is EventKind.ERROR
    assert event.event_id == EVENT_ID
    assert event.occurred_at == datetime(2026, 1, 2, 3, 4, 0, 250000, tzinfo=UTC)
    assert event.level is Level.ERROR
    # The last value is the exception reported (the outermost of the chain).
    assert event.exception_type == "CheckoutFailed"
    assert event.message == "order 1234 failed"
    assert event.group_title() == "CheckoutFailed: order 1234 failed"
    assert event.category is None  # left to recoup.server.enrich
    assert event.payload["frames"] == [
        {"module": "uvicorn.protocols", "function": "run", "filename": "uvicorn/protocols.py", "lineno": 400,
         "in_app": False},
        {"module": "shop.views", "function": "checkout", "filename": "shop/views.py", "lineno": 55, "in_app": True},
        {"module": "shop.payment", "function": "charge", "filename": "shop/payment.py", "lineno": 120,
         "in_app": True},
    ]
    assert event.payload["tags"] == {"region": "eu", "retries": "3"}
    assert event.payload["exception"] == {"type": "CheckoutFailed", "value": "order 1234 failed",
                                          "module": "shop.errors"}
    assert event.payload["environment"] == "production"
    assert event.payload["release"] == "shop@1.2.3"
    assert event.payload["platform"] == "python"
    assert event.payload["sdk"] == {"name": "sentry.python", "version": "2.75.0"}
    assert event.payload["sentry"]["exception"]["values"][1]["mechanism"]["handled"] is True


def _values(event: dict[str, Any]) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = event["exception"]["values"]
    return values


def test_the_fingerprint_ignores_line_numbers_library_frames_and_the_message() -> None:
    base = _convert(_exception_event())
    moved = _exception_event(event_id="0" * 32)
    frames = _values(moved)[1]["stacktrace"]["frames"]
    frames[0] = _frame("gunicorn.workers", "handle", 7, in_app=False)
    frames[1]["lineno"] = 99
    _values(moved)[1]["value"] = "order 9876 failed for another reason"
    assert _convert(moved).fingerprint == base.fingerprint

    elsewhere = _exception_event()
    _values(elsewhere)[1]["stacktrace"]["frames"][2]["function"] = "refund"
    assert _convert(elsewhere).fingerprint != base.fingerprint
    other_type = _exception_event()
    _values(other_type)[1]["type"] = "PaymentDeclined"
    assert _convert(other_type).fingerprint != base.fingerprint


def test_without_in_app_frames_the_normalised_message_groups() -> None:
    def event(message: str, **extra: Any) -> NewEvent:
        return _convert({"event_id": EVENT_ID, "message": message, **extra})

    assert event("user 42 not found").fingerprint == event("user 97 not found").fingerprint
    assert event("user 42 not found").fingerprint != event("cart is empty").fingerprint
    library_only = {"values": [{"type": "OSError", "value": "disk 3 full",
                                "stacktrace": {"frames": [_frame("shutil", "copy", 1, in_app=False)]}}]}
    a = _convert({"exception": library_only})
    library_only["values"][0]["value"] = "disk 4 full"
    b = _convert({"exception": library_only})
    library_only["values"][0]["value"] = "permission denied"
    c = _convert({"exception": library_only})
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_an_explicit_fingerprint_wins_and_may_extend_the_default() -> None:
    default = _convert(_exception_event()).fingerprint
    assert _convert(_exception_event(fingerprint=["{{ default }}"])).fingerprint == default
    assert _convert(_exception_event(fingerprint=[])).fingerprint == default
    extended = _convert(_exception_event(fingerprint=["{{ default }}", "tenant-a"])).fingerprint
    assert extended not in (default, None)
    custom = _convert(_exception_event(fingerprint=["payments", 502])).fingerprint
    other = _convert({"message": "unrelated", "fingerprint": ["payments", "502"]}).fingerprint
    assert custom == other  # same explicit fingerprint, same group, whatever else differs
    with pytest.raises(InvalidInput, match=r"fingerprint\[1\]: must be a string"):
        _convert(_exception_event(fingerprint=["a", {"b": 1}]))
    with pytest.raises(InvalidInput, match="fingerprint: must be a list"):
        _convert(_exception_event(fingerprint="abc"))


def test_message_events_use_logentry_and_thread_stacks() -> None:
    event = _convert({
        "event_id": EVENT_ID,
        "level": "warning",
        "logentry": {"message": "retrying %s", "params": ["db"], "formatted": "retrying db"},
        "threads": {"values": [
            {"id": 1, "stacktrace": {"frames": [_frame("worker.idle", "wait", 3)]}},
            {"id": 2, "current": True, "stacktrace": {"frames": [_frame("shop.jobs", "sync", 8)]}},
        ]},
    })
    assert event.message == "retrying db"
    assert event.exception_type is None
    assert event.level is Level.WARNING
    assert [f["function"] for f in event.payload["frames"]] == ["sync"]
    assert event.group_title() == "retrying db"
    assert _convert({"message": {"formatted": "legacy form"}}).message == "legacy form"


def test_an_event_without_id_or_time_gets_them() -> None:
    event = _convert({"message": "x"})
    assert len(event.event_id) == 32
    assert event.occurred_at == NOW
    raw = b'{"message":"y"}'
    fallback = to_new_event(decode_event(raw), received_at=NOW, size=len(raw),
                            fallback_event_id="9EC79C33-EC99-42AB-8353-589FCB2E04DC")
    assert fallback.event_id == EVENT_ID


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9ec79c33-ec99-42ab-8353-589fcb2e04dc", EVENT_ID),
        ("9EC79C33EC9942AB8353589FCB2E04DC", EVENT_ID),
        (f" {EVENT_ID} ", EVENT_ID),
    ],
)
def test_event_ids_are_normalised(value: str, expected: str) -> None:
    assert normalise_event_id(value) == expected


@pytest.mark.parametrize("value", ["xyz", EVENT_ID + "0", EVENT_ID[:-1] + "g", "9ec79c33-ec99-42ab-8353", 42, None])
def test_bad_event_ids_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match="event_id: must be"):
        normalise_event_id(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1767323045.5, datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
        (1767323045, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("1767323045.5", datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T05:04:05.123+02:00", datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)),
        ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ],
)
def test_timestamps_in_either_form(value: object, expected: datetime) -> None:
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", 1e300, "nan", True, [1], {"t": 1}])
def test_bad_timestamps_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match=r"^timestamp: "):
        parse_timestamp(value)


def test_future_timestamps_beyond_clock_skew_are_dated_on_receipt() -> None:
    near = NOW + timedelta(minutes=5)
    assert _convert({"timestamp": near.timestamp()}).occurred_at == near
    assert _convert({"timestamp": (NOW + timedelta(days=3)).timestamp()}).occurred_at == NOW


@pytest.mark.parametrize(("given", "level"), [("FATAL", Level.FATAL), ("critical", Level.FATAL),
                                              ("warn", Level.WARNING), ("log", Level.INFO), ("debug", Level.DEBUG)])
def test_level_aliases(given: str, level: Level) -> None:
    assert _convert({"level": given}).level is level


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"level": "loud"}, "level: 'loud' is not one of"),
        ({"level": 3}, "level: 3 is not one of"),
        ({"exception": {"values": {"type": "X"}}}, "exception.values: must be a list, got dict"),
        ({"exception": {"values": ["X"]}}, r"exception.values\[0\]: must be an object, got str"),
        ({"exception": {"values": [{"type": {"a": 1}}]}}, r"exception.values\[0\].type: must be a string"),
        ({"exception": [{"type": "X", "stacktrace": {"frames": {}}}]},
         r"exception.values\[0\].stacktrace.frames: must be a list"),
        ({"exception": [{"type": "X", "stacktrace": {"frames": [1]}}]},
         r"exception.values\[0\].stacktrace.frames\[0\]: must be an object"),
        ({"exception": [{"type": "X", "stacktrace": "here"}]}, r"exception.values\[0\].stacktrace: must be an object"),
        ({"tags": "a=b"}, "tags: must be an object or a list"),
        ({"tags": [["a"]]}, r"tags\[0\]: must be a \[key, value\] pair"),
        ({"tags": {"a": {"b": 1}}}, "tags.a: keys and values must be strings"),
        ({"logentry": 5}, "logentry: must be a string or an object"),
        ({"sdk": "python"}, "sdk: must be an object"),
        ({"release": ["1"]}, "release: must be a string"),
    ],
)
def test_bad_event_fields_are_named(event: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        _convert(event)


@pytest.mark.parametrize(("raw", "problem"), [(b"{", "event: is not valid JSON"),
                                              (b"[]", "event: must be a JSON object, got list"),
                                              (b"\xff", "event: is not valid JSON")])
def test_undecodable_events_are_refused(raw: bytes, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        decode_event(raw)


def test_tags_as_pairs_and_odd_values() -> None:
    event = _convert({"tags": [["browser", "Firefox"], ["ok", True], ["skip", None], ["n", 1.5]]})
    assert event.payload["tags"] == {"browser": "Firefox", "ok": "true", "n": "1.5"}


def test_nul_characters_and_nan_do_not_make_an_event_unstorable() -> None:
    raw = b'{"message":"bad\\u0000byte","extra":{"ratio":NaN,"k\\u0000":"v"}}'
    event = to_new_event(decode_event(raw), received_at=NOW, size=len(raw))
    assert event.message == "bad\ufffdbyte"
    assert event.payload["sentry"]["extra"] == {"ratio": None, "k\ufffd": "v"}


def test_lone_surrogates_and_huge_numbers_do_not_make_an_event_unstorable() -> None:
    raw = b'{"message":"half \\ud800 pair, whole \\ud83d\\ude00","extra":{"n":1e400,"m":[-1e999, 2]}}'
    event = to_new_event(decode_event(raw), received_at=NOW, size=len(raw))
    assert event.message == "half \ufffd pair, whole \U0001f600"
    assert event.payload["sentry"]["extra"] == {"n": None, "m": [None, 2]}
    event.message.encode("utf-8")  # storable as UTF-8 (PostgreSQL)


def test_the_stored_text_is_the_payload_whichever_decoder_read_the_event() -> None:
    plain = _convert(_exception_event())  # orjson reads it and writes the text
    assert plain.payload_json is not None and json.loads(plain.payload_json) == plain.payload
    # NaN makes the standard library read it; an integer past 64 bits then makes the standard library write it.
    raw = b'{"message":"m","extra":{"a":NaN},"contexts":{"x":{"n":123456789012345678901234567890}}}'
    event = to_new_event(decode_event(raw), received_at=NOW, size=len(raw))
    assert event.payload["sentry"]["contexts"] == {"x": {"n": 123456789012345678901234567890}}
    assert event.payload["sentry"]["extra"] == {"a": None}
    assert json.loads(event.payload_json or "") == event.payload


def test_the_kept_copy_is_trimmed_to_what_analysis_reads() -> None:
    frame = {**_frame("shop.views", "checkout", 55), "colno": 4, "abs_path": "/srv/shop/views.py",
             "context_line": "    charge(order)", "pre_context": ["x"] * 5, "post_context": ["y"] * 5,
             "vars": {"order": "<Order 1234>", "blob": "z" * 5000}}
    big = _exception_event(
        breadcrumbs={"values": [{"message": "x" * 1000, "category": "http", "level": "info",
                                 "data": {"url": "https://psp.example/charge", "status_code": 502, "body": {"a": 1}}}]
                     * 100},
        modules={f"pkg{i}": "1.0" for i in range(300)},
        debug_meta={"images": []},
        contexts={"os": {"name": "Linux", "version": "6.1"}, "trace": {"trace_id": "ab" * 16, "span_id": "cd" * 8},
                  "runtime": {"name": "CPython", "version": "3.11.7", "huge": {"nested": True}}},
        user={"id": "42", "email": "someone@example.com", "ip_address": "10.0.0.1"},
        request={"url": "https://shop.example/checkout", "method": "POST", "headers": {"Cookie": "secret"},
                 "data": "p" * 10_000},
        extra={"small": 1, "nested": {"ok": [1, 2]}},
        logentry={"message": "checkout %s failed", "formatted": "checkout 1234 failed", "params": ["1234"]},
        fingerprint=["{{ default }}", "checkout"],
    )
    big["exception"]["values"][1]["stacktrace"]["frames"].append(frame)
    big["exception"]["values"][1]["mechanism"]["data"] = {"x": "y" * 1000}
    event = _convert(big)
    kept = event.payload["sentry"]
    assert kept["_recoup_trimmed"] == ["debug_meta", "modules"]
    assert kept["event_id"] == EVENT_ID and kept["release"] == "shop@1.2.3" and kept["level"] == "error"
    assert "tags" not in kept and "sdk" not in kept  # kept normalised in payload["tags"] / payload["sdk"]
    reported = kept["exception"]["values"][1]
    assert reported["type"] == "CheckoutFailed" and reported["module"] == "shop.errors"
    assert reported["mechanism"] == {"type": "generic", "handled": True}
    assert reported["stacktrace"]["frames"][-1] == {
        "module": "shop.views", "function": "checkout", "filename": "shop/views.py", "lineno": 55, "colno": 4,
        "in_app": True, "context_line": "    charge(order)",
    }
    assert kept["exception"]["values"][0]["type"] == "KeyError"
    assert kept["logentry"] == {"message": "checkout %s failed", "formatted": "checkout 1234 failed"}
    assert kept["contexts"] == {"os": {"name": "Linux", "version": "6.1"},
                                "trace": {"trace_id": "ab" * 16, "span_id": "cd" * 8},
                                "runtime": {"name": "CPython", "version": "3.11.7"}}
    assert kept["user"] == {"id": "42"}
    assert kept["request"] == {"url": "https://shop.example/checkout", "method": "POST"}
    crumbs = kept["breadcrumbs"]["values"]
    assert len(crumbs) == MAX_KEPT_BREADCRUMBS
    assert crumbs[-1] == {"message": "x" * KEPT_TEXT_CHARS, "category": "http", "level": "info",
                          "data": {"url": "https://psp.example/charge", "status_code": 502}}
    assert kept["extra"] == {"small": 1, "nested": {"ok": [1, 2]}}
    assert kept["fingerprint"] == ["{{ default }}", "checkout"]
    assert len(event.payload_json or "") < 12_000
    assert json.loads(event.payload_json or "") == event.payload

    too_much = _exception_event(extra={"blob": "e" * (2 * MAX_KEPT_EXTRA_BYTES)})
    kept = _convert(too_much).payload["sentry"]
    assert "extra" not in kept and kept["_recoup_trimmed"] == ["extra"]


def test_the_kept_copy_is_bounded() -> None:
    frames = [_frame("m" * 300, "f" * 300, n) for n in range(200)]
    values = [{"type": "E", "value": "v" * 5000, "mechanism": {"type": "chained"}, "stacktrace": {"frames": frames}}
              for _ in range(20)]
    huge = _exception_event(exception={"values": values}, user={"id": "1", "blob": "y" * 200_000})
    event = _convert(huge)
    kept = event.payload["sentry"]
    assert len(json.dumps(kept)) <= MAX_KEPT_EVENT_BYTES
    assert kept["event_id"] == EVENT_ID
    assert kept["_recoup_trimmed"].startswith("event too large")
    assert len(kept["exception"]["values"]) == 5
    assert kept["exception"]["values"][-1]["value"] == "v" * 2048
    assert "stacktrace" not in kept["exception"]["values"][-1] and "user" not in kept
    assert len(event.payload["frames"]) == 100  # the reported exception's frames are kept in the payload
    assert json.loads(event.payload_json or "") == event.payload


def test_long_messages_and_types_are_clipped_not_refused() -> None:
    event = _convert({"exception": [{"type": "T" * 400, "value": "v" * 70_000}]})
    assert event.exception_type is not None and len(event.exception_type) == 255
    assert len(event.message) == 65_536
