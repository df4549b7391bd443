"""Native ingest: ``POST /api/v1/events`` takes exactly what `recoup.telemetry.http_sink.HttpSink` sends.

A batch is all or nothing: every event is parsed and validated before anything is submitted, so one bad
event refuses the whole request (400 naming ``events[i].field``) and nothing of it is stored; the sink
does not retry a 400, and the producer's bug is visible instead of half-hidden. The answer (200) comes
only once the pipeline says the batch is durable. A batch with too many events is a 413, which the sink
answers by splitting it in halves.
"""

from __future__ import annotations

import json
import re
import time
import types
from collections.abc import Mapping
from dataclasses import MISSING, fields
from enum import StrEnum
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from fastapi import APIRouter, Depends, HTTPException, Path
from starlette.requests import Request

from recoup.server.auth import authorize_ingest, bearer_token, too_many_requests
from recoup.server.body import read_body
from recoup.server.schemas import INGEST_REQUEST_SCHEMA, NATIVE_EVENTS_PATH, IngestResponse
from recoup.server.state import ServerState, get_state
from recoup.store import InvalidInput, NewEvent, NotFound, StoreUnavailable, new_event_from_telemetry
from recoup.telemetry.events import EVENT_TYPES, EventSchemaError, Frame, TelemetryEvent, event_from_dict

StateDep = Annotated[ServerState, Depends(get_state)]

router = APIRouter(tags=["ingest"])

SOURCE = "native"
KEY_HEADER = "x-recoup-key"
# The store's names for what the wire format calls differently.
_WIRE_NAMES = {"event_id": "id", "occurred_at": "timestamp"}
_SCHEMA_ERROR_FIELD = re.compile(r"^\w+\.(\w+): ")


# -- parsing ---------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes) -> Any:
    """The decoded body; NaN and Infinity are refused (they are not JSON, and PostgreSQL refuses them)."""
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("body", f"is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput("body", "is nested too deeply") from None


def _field_types(klass: type[TelemetryEvent]) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type, required) of each field of an event class."""
    hints = get_type_hints(klass)
    return tuple(
        (f.name, hints[f.name], f.default is MISSING and f.default_factory is MISSING) for f in fields(klass)
    )


#: Resolved once at import: event type -> its fields' (name, type, required).
_FIELDS = {name: _field_types(klass) for name, klass in EVENT_TYPES.items()}


def _conforms(value: Any, tp: Any) -> bool:
    """Whether a JSON value can stand for a field of type ``tp`` (enum members are checked later)."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return any(_conforms(value, arg) for arg in get_args(tp))
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is str or (isinstance(tp, type) and issubclass(tp, StrEnum)):
        return isinstance(value, str)
    if tp is Frame:
        return (
            isinstance(value, dict)
            and isinstance(value.get("filename"), str)
            and _conforms(value.get("lineno"), int)
            and isinstance(value.get("function"), str)
            and _conforms(value.get("line"), str | None)
        )
    if origin is tuple:
        return isinstance(value, list) and all(_conforms(v, get_args(tp)[0]) for v in value)
    if origin in (Mapping, dict):
        return isinstance(value, dict)
    return True


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in get_args(tp))
    names = {type(None): "null", bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    if tp in names:
        return names[tp]
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        return "one of " + ", ".join(repr(m.value) for m in tp)
    if tp is Frame:
        return "an object {filename: string, lineno: integer, function: string, line: string or null}"
    if origin in (Mapping, dict):
        return "an object"
    if origin is tuple:
        return f"a list of {_describe(get_args(tp)[0])}"
    return str(tp)


def _type_name(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "integer", float: "number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def parse_event(data: Any, where: str) -> NewEvent:
    """One wire event → `NewEvent`, or `InvalidInput` naming ``where.field``."""
    if not isinstance(data, dict):
        raise InvalidInput(where, f"must be an object, got {_type_name(data)}")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        known = ", ".join(sorted(EVENT_TYPES))
        raise InvalidInput(f"{where}.type", f"{kind!r} is not an event type; one of: {known}")
    schema = data.get("schema", 1)
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise InvalidInput(f"{where}.schema", f"must be an integer, got {_type_name(schema)}")
    for name, tp, required in _FIELDS[kind]:
        if name not in data:
            if required:
                raise InvalidInput(f"{where}.{name}", "is required")
            continue
        if not _conforms(data[name], tp):
            raise InvalidInput(f"{where}.{name}", f"must be {_describe(tp)}, got {_type_name(data[name])}")
    try:
        event = event_from_dict(data)
    except EventSchemaError as exc:
        text = str(exc)
        match = _SCHEMA_ERROR_FIELD.match(text)
        field = f"{where}.{match.group(1)}" if match else (f"{where}.schema" if "schema" in text else where)
        raise InvalidInput(field, text) from None
    try:
        return new_event_from_telemetry(event)
    except InvalidInput as exc:
        field = _WIRE_NAMES.get(exc.field, exc.field)
        raise InvalidInput(where if field == "payload" else f"{where}.{field}", exc.problem) from None


def parse_batch(document: Any, max_events: int) -> list[NewEvent]:
    """``{"events": [...]}`` → events, all valid or `InvalidInput`; 413 past ``max_events``."""
    if not isinstance(document, dict):
        raise InvalidInput("body", f'must be an object {{"events": [...]}}, got {_type_name(document)}')
    raw = document.get("events")
    if raw is None:
        raise InvalidInput("events", "is required")
    if not isinstance(raw, list):
        raise InvalidInput("events", f"must be a list, got {_type_name(raw)}")
    if len(raw) > max_events:
        raise HTTPException(413, f"events: {len(raw)} events in one request, at most {max_events} allowed")
    events = []
    for index, item in enumerate(raw):
        where = f"events[{index}]"
        try:
            events.append(parse_event(item, where))
        except RecursionError:
            raise InvalidInput(where, "is nested too deeply") from None
    return events


# -- the route -------------------------------------------------------------------------------------------


def ingest_key(request: Request) -> str | None:
    """The ingest key: ``X-Recoup-Key``, else ``Authorization: Bearer``."""
    key = request.headers.get(KEY_HEADER, "").strip()
    return key or bearer_token(request)


async def _ingest(request: Request, state: ServerState, project_id: int | None) -> IngestResponse:
    metrics = state.metrics
    started = time.perf_counter()
    status = 500
    parsed: int | None = None  # events read from the body, once known
    try:
        key = await authorize_ingest(state.keys, ingest_key(request), project_id)
        body = await read_body(request, state.settings)
        try:
            document = parse_json(body)
            if isinstance(document, dict) and isinstance(document.get("events"), list):
                parsed = len(document["events"])
            events = parse_batch(document, state.settings.max_events_per_batch)
        except InvalidInput:
            if parsed:
                metrics.dropped.labels(reason="invalid").inc(parsed)
            raise
        except HTTPException:
            if parsed:
                metrics.dropped.labels(reason="too_large").inc(parsed)
            raise
        wait = state.limiter.admit(key, len(events))
        if wait is not None:
            if events:
                metrics.dropped.labels(reason="rate_limited").inc(len(events))
            raise too_many_requests(wait)
        if not events:
            status = 200
            return IngestResponse(accepted=0, duplicates=0, spooled=False)
        try:
            ack = await state.pipeline.submit(key.project.id, events)
        except (StoreUnavailable, InvalidInput, NotFound) as exc:
            reason = {StoreUnavailable: "unavailable", InvalidInput: "invalid"}.get(type(exc), "unknown_project")
            metrics.dropped.labels(reason=reason).inc(len(events))
            raise
        metrics.events.labels(source=SOURCE, outcome="spooled" if ack.spooled else "stored").inc(len(ack.accepted))
        metrics.events.labels(source=SOURCE, outcome="duplicate").inc(len(ack.duplicates))
        status = 200
        return IngestResponse(accepted=len(ack.accepted), duplicates=len(ack.duplicates), spooled=ack.spooled)
    except HTTPException as exc:
        status = exc.status_code
        raise
    except InvalidInput:
        status = 400
        raise
    except NotFound:
        status = 404
        raise
    except StoreUnavailable:
        status = 503
        raise
    finally:
        if status != 200 and parsed:
            metrics.events.labels(source=SOURCE, outcome="rejected").inc(parsed)
        metrics.requests.labels(source=SOURCE, status=str(status)).inc()
        metrics.latency.labels(source=SOURCE).observe(time.perf_counter() - started)


_OPENAPI = {"requestBody": {"required": True, "content": {"application/json": {"schema": INGEST_REQUEST_SCHEMA}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed body or event; `field` names it (events[i].field). Nothing was stored."},
    401: {"description": "Missing or unknown ingest key."},
    403: {"description": "Revoked key, or a key of another project."},
    413: {"description": "Body, decompressed body or event count over the limit."},
    415: {"description": "Unsupported Content-Encoding."},
    429: {"description": "Rate limit of the key exceeded; see Retry-After."},
    503: {"description": "Database unreachable and the batch could not be spooled."},
}


@router.post(
    NATIVE_EVENTS_PATH,
    response_model=IngestResponse,
    openapi_extra=_OPENAPI,
    responses=_RESPONSES,
    summary="Ingest telemetry events (HttpSink wire format)",
)
async def ingest_events(request: Request, state: StateDep) -> IngestResponse:
    """Store a batch for the key's project. Key: ``Authorization: Bearer KEY`` or ``X-Recoup-Key``."""
    return await _ingest(request, state, None)


@router.post(
    "/api/v1/projects/{project_id}/events",
    response_model=IngestResponse,
    openapi_extra=_OPENAPI,
    responses=_RESPONSES,
    summary="Ingest telemetry events into a named project",
)
async def ingest_project_events(
    project_id: Annotated[int, Path(ge=1, le=2**63 - 1)], request: Request, state: StateDep
) -> IngestResponse:
    """The same, for clients that address the project explicitly: the key must belong to it (else 403)."""
    return await _ingest(request, state, project_id)
