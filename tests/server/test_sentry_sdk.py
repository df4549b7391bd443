"""The real `sentry-sdk` pointed at a real recoup server: what it captures is stored, with its exception,
frames and tags, and grouped by code site. Then every way the Sentry endpoints refuse a request, over HTTP.

SDK tests run on SQLite and PostgreSQL (the `server` fixture); pure HTTP refusals run on SQLite only, on one
small-limits server for the module."""

from __future__ import annotations

import base64
import gzip
import json
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentry_sdk
from prometheus_client.parser import text_string_to_metric_families
from sentry_sdk.transport import _parse_rate_limits
from sentry_sdk.utils import event_from_exception
from server_support import LiveServer, live_server

from recoup.server import ServerSettings
from recoup.server.sentry.envelope import serialize_envelope
from recoup.store import ErrorGroup, Level, StoredEvent

HERE = str(Path(__file__).parent)
MAX_BYTES = 50_000
MAX_DECOMPRESSED = 200_000
MAX_EVENTS = 5


# -- helpers -------------------------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the server to store the events")
        time.sleep(0.02)


@pytest.fixture(params=["br", "gzip"])
def sdk(server: LiveServer, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The Sentry SDK initialised with the live server's DSN; closed (and unset) afterwards. Runs once with
    brotli (the SDK's own choice whenever the brotli package is installed, as it is here) and once with
    gzip (its choice otherwise)."""
    algo: str = request.param
    sentry_sdk.init(
        _experiments={"transport_compression_algo": algo},
        dsn=server.dsn,
        default_integrations=False,
        auto_enabling_integrations=False,
        project_root=HERE,
        environment="test",
        release="shop@1.0.0",
        traces_sample_rate=1.0,
    )
    try:
        yield server
    finally:
        client = sentry_sdk.get_client()
        client.close(timeout=2)
        sentry_sdk.get_global_scope().set_client(None)


def _groups(server: LiveServer) -> dict[str, ErrorGroup]:
    return {g.title: g for g in server.store.list_groups(server.project.id)}


def _event(server: LiveServer, event_id: str | None) -> StoredEvent:
    assert event_id is not None
    stored = server.store.get_event(server.project.id, event_id)
    assert stored is not None, f"event {event_id} was not stored"
    return stored


def _auth(key: str) -> dict[str, str]:
    return {"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7, sentry_client=test/1.0"}


def _sentry_event(**extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "python",
        "level": "error",
        "exception": {"values": [{"type": "TimeoutError", "value": "upstream timed out",
                                  "stacktrace": {"frames": [{"module": "shop.api", "function": "fetch",
                                                             "lineno": 3, "in_app": True}]}}]},
    }
    event.update(extra)
    return event


def _envelope(*events: dict[str, Any], header: dict[str, Any] | None = None,
              extra_items: list[tuple[dict[str, Any], bytes]] | None = None) -> bytes:
    items = [({"type": "event"}, json.dumps(e).encode()) for e in events]
    return serialize_envelope(header or {}, items + (extra_items or []))


# -- the real SDK ---------------------------------------------------------------------------------------


def _fail_checkout(order: int) -> None:
    raise ValueError(f"order {order} could not be charged")


def _load_cart() -> dict[str, int]:
    return {"apples": 1}


def _lookup(item: str) -> int:
    return _load_cart()[item]


def _capture_checkout_failure(order: int) -> str | None:
    try:
        _fail_checkout(order)
    except ValueError as exc:
        return sentry_sdk.capture_exception(exc)
    return None


def test_sdk_exceptions_are_stored_with_frames_and_tags_and_grouped_by_code_site(sdk: LiveServer) -> None:
    with sentry_sdk.isolation_scope() as scope:
        scope.set_tag("region", "eu-west")
        scope.set_tag("tenant", "acme")
        first = _capture_checkout_failure(1001)
        second = _capture_checkout_failure(2002)  # same code site, different order: same group
        try:
            _lookup("pears")
        except KeyError as exc:
            other = sentry_sdk.capture_exception(exc)
    # the SDK really compressed with the fixture's algorithm, and the server decoded it
    assert sentry_sdk.get_client().transport._compression_algo in ("br", "gzip")  # type: ignore[union-attr]
    sentry_sdk.flush(timeout=5)
    wait_for(lambda: sdk.store.count_events(sdk.project.id) >= 3)

    stored = _event(sdk, first)
    assert stored.exception_type == "ValueError"
    assert stored.message == "order 1001 could not be charged"
    assert stored.level is Level.ERROR
    assert stored.payload["tags"]["region"] == "eu-west" and stored.payload["tags"]["tenant"] == "acme"
    assert stored.payload["environment"] == "test" and stored.payload["release"] == "shop@1.0.0"
    assert stored.payload["sdk"]["name"] == "sentry.python"
    frames = stored.payload["frames"]
    assert [f["function"] for f in frames] == ["_capture_checkout_failure", "_fail_checkout"]
    assert all(f["module"] == "test_sentry_sdk" and f["in_app"] is True for f in frames)
    assert frames[-1]["filename"].endswith("test_sentry_sdk.py") and isinstance(frames[-1]["lineno"], int)
    assert stored.payload["sentry"]["exception"]["values"][-1]["mechanism"]["type"] == "generic"

    groups = _groups(sdk)
    charge = groups["ValueError: order 1001 could not be charged"]
    assert charge.count == 2
    assert _event(sdk, second).group_id == charge.id == stored.group_id
    lookup = _event(sdk, other)
    assert lookup.exception_type == "KeyError"
    assert [f["function"] for f in lookup.payload["frames"]] == [
        "test_sdk_exceptions_are_stored_with_frames_and_tags_and_grouped_by_code_site", "_lookup"
    ]
    assert lookup.group_id is not None and lookup.group_id != charge.id
    assert groups["KeyError: 'pears'"].count == 1


def test_sdk_messages_uncaught_errors_and_transactions(sdk: LiveServer) -> None:
    message_id = sentry_sdk.capture_message("cache warm-up took 12 s", level="warning")
    try:
        _fail_checkout(3003)
    except ValueError:
        event, hint = event_from_exception(
            sys.exc_info(), client_options=sentry_sdk.get_client().options,
            mechanism={"type": "excepthook", "handled": False},
        )
        event["level"] = "fatal"
        uncaught_id = sentry_sdk.capture_event(event, hint=hint)
    with sentry_sdk.start_transaction(name="checkout", op="http.server"):  # a transaction item: ignored
        pass
    sentry_sdk.flush(timeout=5)
    wait_for(lambda: sdk.store.count_events(sdk.project.id) >= 2)
    time.sleep(0.1)  # the transaction was flushed too; it must not have become an event
    assert sdk.store.count_events(sdk.project.id) == 2

    message = _event(sdk, message_id)
    assert message.level is Level.WARNING
    assert message.exception_type is None
    assert message.message == "cache warm-up took 12 s"
    uncaught = _event(sdk, uncaught_id)
    assert uncaught.level is Level.FATAL
    assert uncaught.exception_type == "ValueError"
    assert uncaught.payload["sentry"]["exception"]["values"][-1]["mechanism"]["handled"] is False
    # Raised from the same function as the handled failures: the same kind of error.
    assert uncaught.payload["frames"][-1]["function"] == "_fail_checkout"


def test_a_refused_envelope_stores_nothing(server: LiveServer) -> None:
    good, bad = _sentry_event(), _sentry_event(timestamp="last tuesday")
    answer = httpx.post(f"{server.url}/api/{server.project.id}/envelope/", content=_envelope(good, bad),
                        headers=_auth(server.key.public_key), timeout=10)
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"detail": "items[1].timestamp: must be RFC 3339 or epoch seconds, got 'last tuesday'",
                             "field": "items[1].timestamp"}
    assert server.store.count_events(server.project.id) == 0


def test_text_postgresql_cannot_hold_is_stored_repaired(server: LiveServer) -> None:
    event_id = uuid.uuid4().hex
    raw = (b'{"event_id":"' + event_id.encode() + b'","message":"nul \\u0000 half \\ud800 emoji \\ud83d\\ude00",'
           b'"extra":{"big":1e400,"nan":NaN}}')
    answer = httpx.post(f"{server.url}/api/{server.project.id}/store/", content=raw,
                        headers=_auth(server.key.public_key), timeout=10)
    assert answer.status_code == 200, answer.text
    stored = _event(server, event_id)
    assert stored.message == "nul \ufffd half \ufffd emoji \U0001f600"
    assert stored.payload["sentry"]["extra"] == {"big": None, "nan": None}


def test_store_endpoint_and_redelivery(server: LiveServer) -> None:
    event = _sentry_event(tags=[["shard", "7"]])
    url = f"{server.url}/api/{server.project.id}/store/"
    for _ in range(2):  # a redelivered event is answered again but stored once
        answer = httpx.post(url, json=event, headers=_auth(server.key.public_key), timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"id": event["event_id"]}
    stored = _event(server, event["event_id"])
    assert stored.exception_type == "TimeoutError" and stored.payload["tags"] == {"shard": "7"}
    assert server.store.count_events(server.project.id) == 1
    group = server.store.get_group(stored.group_id or 0)
    assert group is not None and group.count == 1


# -- HTTP refusals and variants (SQLite, small limits) -------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder: Path = tmp_path_factory.mktemp("sentry")
    settings = ServerSettings(
        db_url=f"sqlite:///{folder / 'recoup.db'}",
        spool_dir=folder / "spool",
        max_request_bytes=MAX_BYTES,
        max_decompressed_bytes=MAX_DECOMPRESSED,
        max_events_per_batch=MAX_EVENTS,
    )
    with live_server(settings) as running:
        yield running


def _post(server: LiveServer, body: bytes, *, path: str = "envelope", project: int | None = None,
          headers: dict[str, str] | None = None, params: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/{server.project.id if project is None else project}/{path}/",
        content=body,
        headers=_auth(server.key.public_key) if headers is None else headers,
        params=params,
        timeout=10,
    )


def _detail(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    detail: str = answer.json()["detail"]
    return detail


def test_envelope_variants_are_accepted(small: LiveServer) -> None:
    key = small.key.public_key
    cases: list[tuple[dict[str, Any], bytes, dict[str, str], dict[str, str]]] = []
    for variant in ("plain", "gzip", "deflate", "query", "dsn", "authorization"):
        event = _sentry_event()
        header = {"event_id": event["event_id"], "dsn": small.dsn} if variant == "dsn" else {}
        body = _envelope(event, header=header)
        headers = {"Content-Type": "application/x-sentry-envelope", **_auth(key)}
        params: dict[str, str] = {}
        if variant == "gzip":
            body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
        elif variant == "deflate":
            body, headers["Content-Encoding"] = zlib.compress(body), "deflate"
        elif variant in ("query", "dsn"):
            del headers["X-Sentry-Auth"]
            params = {"sentry_key": key, "sentry_version": "7"} if variant == "query" else {}
        elif variant == "authorization":
            headers["Authorization"] = headers.pop("X-Sentry-Auth")
        cases.append((event, body, headers, params))
    for event, body, headers, params in cases:
        answer = _post(small, body, headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"id": event["event_id"]}
        assert small.store.get_event(small.project.id, event["event_id"]) is not None


def test_non_event_items_are_accepted_and_ignored(small: LiveServer) -> None:
    before = small.store.count_events(small.project.id)
    header = {"event_id": "0123456789abcdef0123456789abcdef", "sent_at": "2026-01-01T00:00:00Z"}
    items = [({"type": t}, b'{"x":1}') for t in ("transaction", "session", "sessions", "client_report",
                                                    "check_in", "profile", "replay_event", "span")]
    items.append(({"type": "attachment", "filename": "dump.bin"}, b"\x00\x01\n\x02"))
    answer = _post(small, serialize_envelope(header, items))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": header["event_id"]}
    assert _post(small, b'{}\n{"type":"client_report"}\n{"discarded_events":[]}\n').json() == {}
    assert small.store.count_events(small.project.id) == before


def test_legacy_store_bodies(small: LiveServer) -> None:
    plain, zipped, legacy, transaction = (_sentry_event() for _ in range(4))
    transaction["type"] = "transaction"
    headers = _auth(small.key.public_key)
    assert _post(small, json.dumps(plain).encode(), path="store").json() == {"id": plain["event_id"]}
    answer = _post(small, gzip.compress(json.dumps(zipped).encode()), path="store",
                   headers={**headers, "Content-Encoding": "gzip"})
    assert answer.json() == {"id": zipped["event_id"]}
    answer = _post(small, base64.b64encode(zlib.compress(json.dumps(legacy).encode())), path="store")
    assert answer.json() == {"id": legacy["event_id"]}
    assert _post(small, json.dumps(transaction).encode(), path="store").status_code == 200
    for event in (plain, zipped, legacy):
        assert small.store.get_event(small.project.id, event["event_id"]) is not None
    assert small.store.get_event(small.project.id, transaction["event_id"]) is None
    assert "body: is not valid JSON" in _detail(_post(small, b"{oops", path="store"), 400)
    assert _detail(_post(small, b"[1]", path="store"), 400) == "body: must be a JSON object, got list"
    assert _detail(_post(small, b'{"level":"loud"}', path="store"), 400).startswith("level: 'loud' is not one of")


def test_keys_and_projects_are_checked(small: LiveServer) -> None:
    body = _envelope(_sentry_event())
    assert _detail(_post(small, body, headers={}), 401) == "missing ingest key"
    assert _detail(_post(small, body, headers=_auth("not-a-key")), 401) == "unknown ingest key"
    assert _detail(_post(small, body, path="store", headers=_auth("not-a-key")), 401) == "unknown ingest key"
    other, other_key = small.store.create_project("Billing")
    assert _detail(_post(small, body, project=other.id), 403) == f"this key may not write to project {other.id}"
    assert _detail(_post(small, body, headers=_auth(other_key.public_key)), 403) == (
        f"this key may not write to project {small.project.id}"
    )
    # A DSN in the envelope header naming another project's key is checked like any other key.
    dsn_body = _envelope(_sentry_event(), header={"dsn": f"http://{other_key.public_key}@host/{other.id}"})
    assert _post(small, dsn_body, headers={}).status_code == 403
    revoked = small.store.create_key(small.project.id)
    small.store.set_key_active(revoked.public_key, False)
    assert _post(small, body, headers=_auth(revoked.public_key)).status_code in (401, 403)  # the store hides it
    assert _post(small, body, project=0).status_code == 403
    assert _post(small, body, project="abc").status_code == 422  # type: ignore[arg-type]


def test_bodies_past_the_limits_are_413(small: LiveServer) -> None:
    big = _envelope(_sentry_event(extra={"blob": "x" * MAX_BYTES}))
    assert _detail(_post(small, big), 413) == f"request body exceeds the limit of {MAX_BYTES} bytes"
    bomb = gzip.compress(_envelope(_sentry_event(extra={"blob": "x" * (MAX_DECOMPRESSED + 1)})))
    assert len(bomb) < MAX_BYTES
    answer = _post(small, bomb, headers={**_auth(small.key.public_key), "Content-Encoding": "gzip"})
    assert _detail(answer, 413) == f"decompressed body exceeds the limit of {MAX_DECOMPRESSED} bytes"
    many = _envelope(*(_sentry_event() for _ in range(MAX_EVENTS + 1)))
    assert _detail(_post(small, many), 413) == (
        f"the envelope carries {MAX_EVENTS + 1} events; at most {MAX_EVENTS} per request"
    )
    answer = _post(small, big, path="store")
    assert answer.status_code == 413


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", "malformed envelope: the envelope is empty"),
        (b"garbage\n", "malformed envelope: the envelope header is not valid JSON"),
        (b'{}\n{"type":"event","length":500}\n{}', "malformed envelope: item 0 (event) declares 500 payload bytes"),
        (b'{}\n{"length":2}\n{}', 'malformed envelope: item 0 header has no "type"'),
        (b'{}\n{"type":"event"}\nnot json', "items[0]: is not valid JSON"),
        (b'{}\n{"type":"event"}\n{"event_id":"nope"}', "items[0].event_id: must be 32 hex digits"),
        (b'{}\n{"type":"event"}\n{"exception":{"values":7}}', "items[0].exception.values: must be a list"),
    ],
)
def test_malformed_envelopes_are_400_naming_the_problem(small: LiveServer, body: bytes, detail: str) -> None:
    assert _detail(_post(small, body), 400).startswith(detail)


def test_unsupported_encodings_are_refused(small: LiveServer) -> None:
    answer = _post(small, b"{}", headers={**_auth(small.key.public_key), "Content-Encoding": "compress"})
    assert "unsupported Content-Encoding 'compress'" in _detail(answer, 415)


def test_rate_limits_are_429_with_sentry_headers(small: LiveServer) -> None:
    limited = small.store.create_key(small.project.id, rate_limit_per_minute=2)
    headers = _auth(limited.public_key)
    for _ in range(2):
        assert _post(small, _envelope(_sentry_event()), headers=headers).status_code == 200
    refused_event = _sentry_event()
    answer = _post(small, _envelope(refused_event), headers=headers)
    assert answer.status_code == 429, answer.text
    retry_after = int(answer.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert answer.headers["X-Sentry-Rate-Limits"] == f"{retry_after}:error;default;security:key:rate_limited"
    # The SDK's own parser reads it as a limit on error events only: sessions keep flowing.
    limits = dict(_parse_rate_limits(answer.headers["X-Sentry-Rate-Limits"]))
    assert set(limits) == {"error", "default", "security"}
    assert small.store.get_event(small.project.id, refused_event["event_id"]) is None
    sessions = serialize_envelope({}, [({"type": "session"}, b'{"sid":"s"}')])
    assert _post(small, sessions, headers=headers).status_code == 200
    assert _post(small, json.dumps(_sentry_event()).encode(), path="store", headers=headers).status_code == 429


def _scrape(server: LiveServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"{server.url}/metrics", timeout=10)
    assert answer.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def test_metrics_count_sentry_outcomes(small: LiveServer) -> None:
    before = _scrape(small)
    mixed = _envelope(_sentry_event(), extra_items=[({"type": "session"}, b"{}"), ({"type": "client_report"}, b"{}")])
    assert _post(small, mixed).status_code == 200
    assert _post(small, b"not an envelope").status_code == 400
    after = _scrape(small)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("recoup_ingest_events_total", source="sentry", outcome="stored") == 1
    assert delta("recoup_ingest_events_total", source="sentry", outcome="ignored") == 2
    assert delta("recoup_ingest_events_total", source="sentry", outcome="rejected") == 1
    assert delta("recoup_ingest_dropped_events_total", reason="invalid") == 1
    assert delta("recoup_ingest_requests_total", source="sentry", status="200") == 1
    assert delta("recoup_ingest_requests_total", source="sentry", status="400") == 1
    assert delta("recoup_ingest_request_seconds_count", source="sentry") == 2
