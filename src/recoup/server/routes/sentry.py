"""Sentry ingest: ``POST /api/{project_id}/envelope/`` (what every current SDK sends) and the legacy
``POST /api/{project_id}/store/`` (one event JSON per request).

A request is authorised by the public key in ``X-Sentry-Auth`` / ``?sentry_key=`` (checked before the body
is read; else the envelope's ``dsn``), read within the body limits (gzip or deflate, 413 past them), parsed
(a malformed envelope is a 400 naming the problem), rate limited per key by its number of events (429 with
``Retry-After`` and ``X-Sentry-Rate-Limits``, which SDKs honour per data category, so sessions keep flowing),
converted in full (any bad event is a 400 naming the item and field, and nothing of the envelope is
written), then handed to the pipeline. The answer, ``{"id": "<event id>"}``, is sent only once the pipeline
has made the events durable. Tokens are taken before conversion, so a flood of invalid envelopes is limited
like a flood of valid ones.

``event`` items become ERROR events; every other item type (transaction, session, sessions, client_report,
attachment, check_in, profile, replay, ...) is accepted and ignored, and counted as ``ignored``.

Both endpoints run on every SDK's every event, so they are served by plain Starlette routes registered on
this router ahead of their FastAPI twins: no dependency resolution or parameter validation per request (the
path's ``{project_id:int}`` converter does the one check there is). The FastAPI twins document them in
OpenAPI and answer what the plain routes do not match (a project id that is not an integer: 422, as before).
The metric children this module updates are resolved once per `ServerMetrics`, not per request.
"""

from __future__ import annotations

import base64
import binascii
import time
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException
from prometheus_client import Counter, Histogram
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from recoup.server.auth import authorize_ingest, too_many_requests
from recoup.server.body import decompress, read_body
from recoup.server.metrics import ServerMetrics
from recoup.server.sentry.auth import key_from_dsn, key_from_headers, key_from_query
from recoup.server.sentry.envelope import Envelope, EnvelopeError, parse_envelope
from recoup.server.sentry.event import decode_event, normalise_event_id, to_new_event
from recoup.server.state import ServerState, get_state
from recoup.store import InvalidInput, NewEvent, NotFound, ProjectKey

router = APIRouter(tags=["sentry"])

SOURCE = "sentry"
#: Data categories our per-key limit covers (events); sessions and transactions are not limited by it.
RATE_LIMITED_CATEGORIES = "error;default;security"


class _Rejected(Exception):
    """A refusal after the body was read: the status and detail, and how many events it cost."""

    def __init__(self, status: int, detail: str, *, events: int, reason: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.events = events
        self.reason = reason
        self.field = field
        self.headers = headers


_JSON_HEADERS = {"content-type": "application/json"}


def _json(content: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status, headers or _JSON_HEADERS)


class _Meters:
    """This module's metric children of one `ServerMetrics`, resolved once (``.labels()`` hashes and locks)."""

    def __init__(self, metrics: ServerMetrics) -> None:
        events = metrics.events
        self.stored = events.labels(source=SOURCE, outcome="stored")
        self.spooled = events.labels(source=SOURCE, outcome="spooled")
        self.duplicate = events.labels(source=SOURCE, outcome="duplicate")
        self.ignored = events.labels(source=SOURCE, outcome="ignored")
        self.rejected = events.labels(source=SOURCE, outcome="rejected")
        self.latency: Histogram = metrics.latency.labels(source=SOURCE)
        self._requests = metrics.requests
        self._dropped = metrics.dropped
        self._by_status: dict[int, Counter] = {}
        self._by_reason: dict[str, Counter] = {}

    def requests(self, status: int) -> Counter:
        child = self._by_status.get(status)
        if child is None:
            child = self._by_status[status] = self._requests.labels(source=SOURCE, status=str(status))
        return child

    def dropped(self, reason: str) -> Counter:
        child = self._by_reason.get(reason)
        if child is None:
            child = self._by_reason[reason] = self._dropped.labels(reason=reason)
        return child


_METERS: weakref.WeakKeyDictionary[ServerMetrics, _Meters] = weakref.WeakKeyDictionary()


def _meters(metrics: ServerMetrics) -> _Meters:
    meters = _METERS.get(metrics)
    if meters is None:
        meters = _METERS[metrics] = _Meters(metrics)
    return meters


def _rate_limit(state: ServerState, key: ProjectKey, events: int) -> None:
    retry_after = state.limiter.admit(key, events)
    if retry_after is None:
        return
    refusal = too_many_requests(retry_after)
    headers = dict(refusal.headers or {})
    headers["X-Sentry-Rate-Limits"] = f"{headers['Retry-After']}:{RATE_LIMITED_CATEGORIES}:key:rate_limited"
    raise _Rejected(429, str(refusal.detail), events=events, reason="rate_limited", headers=headers)


def _convert(envelope: Envelope, n_events: int, received_at: datetime) -> tuple[list[NewEvent], int]:
    """The envelope's events (validated, all or nothing) and the count of ignored items."""
    events: list[NewEvent] = []
    ignored = 0
    fallback = envelope.event_id
    for index, item in enumerate(envelope.items):
        if item.type != "event":
            ignored += 1
            continue
        where = f"items[{index}]"
        try:
            data = decode_event(item.payload, where)
            events.append(to_new_event(data, received_at=received_at, size=len(item.payload),
                                       fallback_event_id=fallback if n_events == 1 else None))
        except InvalidInput as exc:
            field = exc.field if exc.field.startswith(where) else f"{where}.{exc.field}"
            raise _Rejected(400, f"{field}: {exc.problem}", events=n_events, reason="invalid", field=field) from None
    return events, ignored


def _request_key(request: Request) -> str | None:
    """The key in the headers, else in the query string (only parsed when there is one: SDKs use headers)."""
    key = key_from_headers(request.headers)
    if key is None and request.scope.get("query_string"):
        key = key_from_query(request.query_params)
    return key


async def _submit(state: ServerState, meters: _Meters, project_id: int, events: Sequence[NewEvent]) -> None:
    try:
        ack = await state.pipeline.submit(project_id, events)
    except InvalidInput as exc:
        raise _Rejected(400, str(exc), events=len(events), reason="invalid", field=exc.field) from None
    except NotFound as exc:
        raise _Rejected(404, str(exc), events=len(events), reason="unknown_project") from None
    (meters.spooled if ack.spooled else meters.stored).inc(len(ack.accepted))
    if ack.duplicates:
        meters.duplicate.inc(len(ack.duplicates))


async def _ingest_envelope(state: ServerState, meters: _Meters, request: Request, project_id: int) -> Response:
    received_at = datetime.now(UTC)
    public_key = _request_key(request)
    key: ProjectKey | None = None
    if public_key is not None:
        key = await authorize_ingest(state.keys, public_key, project_id)  # refuse before reading the body
    body = await read_body(request, state.settings)
    try:
        envelope = parse_envelope(body)
    except EnvelopeError as exc:
        raise _Rejected(400, f"malformed envelope: {exc}", events=1, reason="invalid", field="body") from None
    if key is None:
        dsn = envelope.dsn
        key = await authorize_ingest(state.keys, key_from_dsn(dsn)[0] if dsn else None, project_id)
    n_events = sum(1 for item in envelope.items if item.type == "event")
    if n_events > state.settings.max_events_per_batch:
        raise _Rejected(413, f"the envelope carries {n_events} events; at most "
                        f"{state.settings.max_events_per_batch} per request", events=n_events, reason="too_large")
    if n_events:
        _rate_limit(state, key, n_events)
    events, ignored = _convert(envelope, n_events, received_at)
    if ignored:
        meters.ignored.inc(ignored)
    if events:
        await _submit(state, meters, key.project.id, events)
        return _json({"id": events[0].event_id})
    header_id = envelope.event_id
    if header_id is not None:
        try:
            return _json({"id": normalise_event_id(header_id)})
        except InvalidInput:
            pass
    return _json({})


async def _ingest_store(state: ServerState, meters: _Meters, request: Request, project_id: int) -> Response:
    received_at = datetime.now(UTC)
    key = await authorize_ingest(state.keys, _request_key(request), project_id)
    body = await read_body(request, state.settings)
    stripped = body.lstrip()
    if stripped and stripped[:1] != b"{":
        # Old SDKs (raven) sent base64 of zlib-deflated JSON without saying so in Content-Encoding.
        try:
            packed = base64.b64decode(stripped, validate=False)
        except (binascii.Error, ValueError):
            packed = b""
        if packed[:1] == b"\x78":
            body = decompress(packed, "deflate", state.settings.max_decompressed_bytes)
    try:
        data = decode_event(body, "body")
        if data.get("type") == "transaction":
            meters.ignored.inc()
            return _json({"id": normalise_event_id(data["event_id"])} if "event_id" in data else {})
        _rate_limit(state, key, 1)
        event = to_new_event(data, received_at=received_at, size=len(body))
    except InvalidInput as exc:
        raise _Rejected(400, str(exc), events=1, reason="invalid", field=exc.field) from None
    await _submit(state, meters, key.project.id, [event])
    return _json({"id": event.event_id})


async def _instrumented(request: Request, project_id: int, envelope: bool) -> Response:
    state = get_state(request)
    meters = _meters(state.metrics)
    started = time.perf_counter()
    status = 500
    try:
        if envelope:
            response = await _ingest_envelope(state, meters, request, project_id)
        else:
            response = await _ingest_store(state, meters, request, project_id)
        status = response.status_code
        return response
    except _Rejected as exc:
        status = exc.status
        meters.rejected.inc(exc.events)
        meters.dropped(exc.reason).inc(exc.events)
        content: dict[str, Any] = {"detail": exc.detail}
        if exc.field is not None:
            content["field"] = exc.field
        return JSONResponse(content, exc.status, exc.headers)
    except HTTPException as exc:
        status = exc.status_code
        if status == 413:
            meters.dropped("too_large").inc()
        raise
    finally:
        meters.requests(status).inc()
        meters.latency.observe(time.perf_counter() - started)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed envelope or event; `detail` names the problem"},
    401: {"description": "Missing or unknown key"},
    403: {"description": "Revoked key, or a key of another project"},
    413: {"description": "Body (or what it decompresses to) too large"},
    429: {"description": "Rate limited; see Retry-After and X-Sentry-Rate-Limits"},
}


async def _serve_envelope(request: Request) -> Response:
    return await _instrumented(request, request.path_params["project_id"], envelope=True)


async def _serve_store(request: Request) -> Response:
    return await _instrumented(request, request.path_params["project_id"], envelope=False)


# The plain routes that serve both endpoints (see the module docstring), ahead of the documented twins.
router.add_route("/api/{project_id:int}/envelope/", _serve_envelope, methods=["POST"], include_in_schema=False)
router.add_route("/api/{project_id:int}/store/", _serve_store, methods=["POST"], include_in_schema=False)


@router.post("/api/{project_id}/envelope/", responses=_RESPONSES, summary="Sentry envelope ingest")
async def envelope_endpoint(project_id: int, request: Request) -> Response:
    """Ingest a Sentry envelope (plain, gzip, deflate or br; ``application/x-sentry-envelope``)."""
    return await _instrumented(request, project_id, envelope=True)


@router.post("/api/{project_id}/store/", responses=_RESPONSES, summary="Sentry legacy store endpoint")
async def store_endpoint(project_id: int, request: Request) -> Response:
    """Ingest one Sentry event JSON (the pre-envelope protocol)."""
    return await _instrumented(request, project_id, envelope=False)
