"""Every way native ingest refuses a request, and that a refused batch leaves nothing behind. Pure HTTP
refusals run on SQLite only (one small-limits server for the module); "nothing stored" runs on both."""

from __future__ import annotations

import gzip
import json
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest
from server_support import LiveServer, live_server

from recoup.server import ServerSettings
from recoup.telemetry.events import ErrorEvent

MAX_BYTES = 50_000
MAX_DECOMPRESSED = 200_000
MAX_EVENTS = 10
RATE = 25  # events per minute for the rate-limited key


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder: Path = tmp_path_factory.mktemp("limits")
    settings = ServerSettings(
        db_url=f"sqlite:///{folder / 'recoup.db'}",
        spool_dir=folder / "spool",
        max_request_bytes=MAX_BYTES,
        max_decompressed_bytes=MAX_DECOMPRESSED,
        max_events_per_batch=MAX_EVENTS,
    )
    with live_server(settings) as running:
        yield running


def _event(**overrides: Any) -> dict[str, Any]:
    data = ErrorEvent(exception_type="TimeoutError", message="read timed out", fingerprint="fp-timeout").to_dict()
    data.update(overrides)
    return data


_CLIENT = httpx.Client(timeout=10)  # one SSL context and connection pool for the module's many requests


def _post(server: LiveServer, body: Any = None, *, content: Any = None, **headers: str) -> httpx.Response:
    return _CLIENT.post(
        f"{server.url}/api/v1/events",
        json=body if content is None else None,
        content=content,
        headers={**server.ingest_headers, **headers},
    )


def _refusal(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    payload: dict[str, Any] = answer.json()
    return payload


# -- sizes --------------------------------------------------------------------------------------------


def test_declared_size_over_the_limit_is_413(small: LiveServer) -> None:
    body = json.dumps({"events": [_event(message="x" * MAX_BYTES)]}).encode()
    detail = _refusal(_post(small, content=body), 413)["detail"]
    assert "request body" in detail


def test_streamed_size_over_the_limit_is_413(small: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer, counted as it arrives
        yield b'{"events": [{"message": "'
        for _ in range(20):
            yield b"x" * 5_000
        yield b'"}]}'

    detail = _refusal(_post(small, content=chunks()), 413)["detail"]
    assert "request body" in detail


def test_gzip_bomb_is_413(small: LiveServer) -> None:
    bomb = gzip.compress(b'{"events": [' + b" " * 20_000_000 + b"]}", compresslevel=9)
    assert len(bomb) < MAX_BYTES  # small on the wire, 100x the limit once inflated
    detail = _refusal(_post(small, content=bomb, **{"Content-Encoding": "gzip"}), 413)["detail"]
    assert "decompressed body" in detail


def test_too_many_events_is_413_and_names_events(small: LiveServer) -> None:
    detail = _refusal(_post(small, {"events": [_event() for _ in range(MAX_EVENTS + 1)]}), 413)["detail"]
    assert detail.startswith("events:")


# -- encodings and syntax -----------------------------------------------------------------------------


def test_unknown_content_encoding_is_415(small: LiveServer) -> None:
    _refusal(_post(small, content=b"{}", **{"Content-Encoding": "compress"}), 415)


def test_brotli_is_accepted_and_a_brotli_bomb_is_413(small: LiveServer) -> None:
    good = brotli.compress(json.dumps({"events": [_event()]}).encode())
    assert _post(small, content=good, **{"Content-Encoding": "br"}).status_code == 200
    bomb = brotli.compress(b'{"events": [' + b" " * 20_000_000 + b"]}", quality=5)
    assert len(bomb) < MAX_BYTES
    assert "decompressed body" in _refusal(_post(small, content=bomb, **{"Content-Encoding": "br"}), 413)["detail"]
    _refusal(_post(small, content=b"not brotli", **{"Content-Encoding": "br"}), 400)
    _refusal(_post(small, content=good[: len(good) // 2], **{"Content-Encoding": "br"}), 400)


def test_deflate_is_accepted_and_corrupt_gzip_is_400(small: LiveServer) -> None:
    good = zlib.compress(json.dumps({"events": [_event()]}).encode())
    assert _post(small, content=good, **{"Content-Encoding": "deflate"}).status_code == 200
    _refusal(_post(small, content=b"not gzip at all", **{"Content-Encoding": "gzip"}), 400)


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b'{"events": [', "body"),
        (b"\xff\xfe not utf-8", "body"),
        (b'{"events": [{"type": "error", "timestamp": NaN}]}', "body"),
        (b"[]", "body"),
        (b'{"evnts": []}', "events"),
        (b'{"events": {"type": "error"}}', "events"),
        (b'{"events": ' + b"[" * 24_000 + b"]" * 24_000 + b"}", "body"),
        (
            b'{"events": [{"type": "recovery_attempt", "id": "a1", "timestamp": 1.0, "operation": "op",'
            b' "strategy": "retry", "attempt": 2, "delay": 1e400}]}',
            "events[0]",
        ),
        (b'{"events": [{"type": "error", "id": "a2", "timestamp": 1e400, "exception_type": "E", "message": ""}]}',
         "events[0].timestamp"),
    ],
)
def test_malformed_bodies_are_400_naming_the_field(small: LiveServer, content: bytes, field: str) -> None:
    payload = _refusal(_post(small, content=content, **{"Content-Type": "application/json"}), 400)
    assert payload["field"] == field


# -- events with wrong fields -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "field", "words"),
    [
        (_event(message=5), "events[1].message", "must be a string, got integer"),
        (_event(timestamp="yesterday"), "events[1].timestamp", "must be a number"),
        (_event(timestamp=True), "events[1].timestamp", "must be a number"),
        (_event(timestamp=1e20), "events[1].timestamp", "epoch"),
        (_event(id=["x"]), "events[1].id", "must be a string"),
        (_event(id="x" * 65), "events[1].id", "at most 64"),
        (_event(id=""), "events[1].id", "empty"),
        (_event(type="crash"), "events[1].type", "not an event type"),
        (_event(schema=99), "events[1].schema", "schema"),
        (_event(schema="1"), "events[1].schema", "integer"),
        (_event(category="bogus"), "events[1].category", "bogus"),
        (_event(tags=["a"]), "events[1].tags", "object"),
        (_event(frames=[{"lineno": 3}]), "events[1].frames", "filename"),
        (_event(frames=[{"filename": "a.py", "lineno": 1, "function": "f", "line": [1]}]), "events[1].frames", "line"),
        (_event(confidence="high"), "events[1].confidence", "must be a number or null"),
        ({k: v for k, v in _event().items() if k != "exception_type"}, "events[1].exception_type", "required"),
        ("an event", "events[1]", "must be an object"),
        (_event(message="a\x00b"), "events[1].message", "NUL"),
        (_event(tags={"a": "\x00"}), "events[1]", "NUL"),
        (_event(outcome_of_a_later_version="\x00"), "events[1]", "NUL"),  # unknown keys are stored, so checked
        (_event(frames=[{"filename": "a.py", "lineno": 2**70, "function": "f", "line": None}]), "events[1].frames",
         "lineno: integer"),
    ],
)
def test_invalid_events_are_400_naming_index_and_field(
    small: LiveServer, event: Any, field: str, words: str
) -> None:
    before = small.store.count_events(small.project.id)
    payload = _refusal(_post(small, {"events": [_event(), event]}), 400)
    assert payload["field"] == field
    assert words in payload["detail"]
    assert small.store.count_events(small.project.id) == before  # the valid first event was not stored either


def test_deep_nesting_is_400(small: LiveServer) -> None:
    def nested(depth: int) -> bytes:
        return b"[" * depth + b"]" * depth

    event = json.dumps(_event()).encode()
    for depth, field in ((300, "events[1]"), (2_000, "body")):  # past what is stored / what is decoded
        body = b'{"events": [' + event + b"," + event[:-1] + b', "later": ' + nested(depth) + b"}]}"
        payload = _refusal(_post(small, content=body, **{"Content-Type": "application/json"}), 400)
        assert payload["field"] == field
    body = b'{"events": [' + event[:-1] + b', "later": ' + nested(100) + b"}]}"
    assert _post(small, content=body, **{"Content-Type": "application/json"}).status_code == 200


# -- rate limits --------------------------------------------------------------------------------------


def test_rate_limit_is_429_with_retry_after(small: LiveServer) -> None:
    key = small.store.create_key(small.project.id, rate_limit_per_minute=RATE)
    headers = {"Authorization": f"Bearer {key.public_key}"}
    url = f"{small.url}/api/v1/events"

    def send() -> httpx.Response:
        return _CLIENT.post(url, json={"events": [_event() for _ in range(MAX_EVENTS)]}, headers=headers)

    assert send().status_code == 200  # the bucket starts with a minute's worth: 25
    assert send().status_code == 200  # 5 left
    before = small.store.count_events(small.project.id)
    refused = send()
    assert refused.status_code == 429, refused.text
    # 5 more tokens at 25/min take 12 s
    assert refused.headers["Retry-After"] == "12"
    assert "rate limit" in refused.json()["detail"]
    assert small.store.count_events(small.project.id) == before
    # another key of the same project is not affected
    assert _post(small, {"events": [_event()]}).status_code == 200
    metrics = _CLIENT.get(f"{small.url}/metrics").text
    assert 'recoup_ingest_dropped_events_total{reason="rate_limited"} 10.0' in metrics


# -- nothing stored, on both databases ----------------------------------------------------------------


def test_a_refused_batch_stores_nothing(server: LiveServer) -> None:
    good = [_event(id=uuid.uuid4().hex) for _ in range(3)]
    bad = _event(message={"not": "text"})
    answer = _post(server, {"events": [*good, bad]})
    assert answer.status_code == 400
    assert answer.json()["field"] == "events[3].message"
    assert server.store.count_events(server.project.id) == 0
    assert server.store.list_groups(server.project.id) == []
    assert server.store.get_event(server.project.id, good[0]["id"]) is None
    # the same good events alone are accepted afterwards
    assert _post(server, {"events": good}).json()["accepted"] == 3
