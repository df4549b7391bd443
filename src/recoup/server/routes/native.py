"""Native ingest: ``POST /api/v1/events`` takes exactly what `recoup.telemetry.http_sink.HttpSink` sends.

Each event is checked field by field against its telemetry class (checks compiled once at import) and
stored with the wire dict itself as its payload, serialised once here by orjson; the store never
serialises it again. Error events are classified and fingerprinted here too, in the walk that checks their
frames (`recoup.server.enrich.verdicts`), so each `NewEvent` is built once, already enriched.

A batch is all or nothing: every event is parsed and validated before anything is submitted, so one bad
event refuses the whole request (400 naming ``events[i].field``) and nothing of it is stored; the sink does
not retry a 400, and the producer's bug is visible, not half-hidden. The answer (200) comes only once the
pipeline says the batch is durable. A batch with too many events is a 413, which the sink answers by
splitting it in halves.
"""

from __future__ import annotations

import json
import re
import time
import types
import uuid
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from enum import StrEnum
from typing import Annotated, Any, NamedTuple, Union, get_args, get_origin, get_type_hints

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path
from starlette.requests import Request

from recoup.server.auth import authorize_ingest, bearer_token, too_many_requests
from recoup.server.body import read_body
from recoup.server.enrich import MAX_FRAMES, enrich, in_app_frame, verdicts
from recoup.server.schemas import INGEST_REQUEST_SCHEMA, NATIVE_EVENTS_PATH, IngestResponse
from recoup.server.state import ServerState, get_state
from recoup.store import (
    InvalidInput,
    NewEvent,
    NotFound,
    StoreUnavailable,
    new_event_from_telemetry,
)
from recoup.store.convert import occurred_at, telemetry_row
from recoup.telemetry.events import (
    EVENT_TYPES,
    SCHEMA_VERSION,
    ErrorEvent,
    EventSchemaError,
    Frame,
    TelemetryEvent,
    event_from_dict,
)

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
    """The decoded body; NaN and Infinity are refused (they are not JSON, and PostgreSQL refuses them).

    orjson decodes. It refuses numbers that overflow a double, nesting past 1024 levels and lone surrogates,
    so every float it returns is finite and every string encodable: `orjson.dumps` writes the payload back
    (`_payload_text`) without turning anything into null. (Integers past 64 bits come back as floats; an
    integer field then refuses them.) Only a body orjson refuses is decoded again by the standard library,
    to tell a malformed body (400 ``body``) from one with an unusable value in an event, which is refused
    naming that event as before (``1e400`` decodes to infinity there): such a document is marked
    `_Fallback` and its events take the telemetry round trip (`parse_event_exactly`)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return _Fallback(json.loads(body, parse_constant=_reject_constant))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("body", f"is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput("body", "is nested too deeply") from None


class _Fallback:
    """A document only the standard library could decode: its events take the slow, exact path."""

    __slots__ = ("document",)

    def __init__(self, document: Any) -> None:
        self.document = document


def _field_types(klass: type[TelemetryEvent]) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type, required) of each field of an event class."""
    hints = get_type_hints(klass)
    return tuple(
        (f.name, hints[f.name], f.default is MISSING and f.default_factory is MISSING) for f in fields(klass)
    )


def _conforms(value: Any, tp: Any) -> bool:
    """Whether a JSON value can stand for a field of type ``tp`` (enum members are checked later).

    The reference definition: `_checker` compiles the same test once per field at import."""
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


# -- compiled field checks ---------------------------------------------------------------------------------
#
# JSON decoders produce exactly dict, list, str, int, float, bool and None (never subclasses), so a field of
# a plain type is checked by one set lookup on ``type(value)``; ``bool`` is not ``int`` there, which is the
# refusal of booleans for numbers that `_conforms` spells out. Only frames and enums need more.

_FRAME_TYPES = {"filename": frozenset({str}), "lineno": frozenset({int}), "function": frozenset({str}),
                "line": frozenset({str, type(None)})}


def _frame_ok(value: Any) -> bool:
    if type(value) is not dict:
        return False
    get = value.get
    return (type(get("filename")) is str and type(get("lineno")) is int and type(get("function")) is str
            and type(get("line")) in _FRAME_TYPES["line"])


def _frames_ok(value: Any) -> bool:
    return all(map(_frame_ok, value))


_PLAIN: dict[Any, type] = {type(None): type(None), bool: bool, int: int, str: str, dict: dict}


def _accepted(tp: Any) -> tuple[frozenset[type], Callable[[Any], bool] | None, type[StrEnum] | None]:
    """(JSON types accepted, a further check of a list value, the enum a string must be a member of)."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        accepted: set[type] = set()
        check: Callable[[Any], bool] | None = None
        enum: type[StrEnum] | None = None
        for arg in get_args(tp):
            more, arg_check, arg_enum = _accepted(arg)
            accepted |= more
            check, enum = check or arg_check, enum or arg_enum
        return frozenset(accepted), check, enum
    if tp is float:
        return frozenset({int, float}), None, None
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        return frozenset({str}), None, tp
    if origin is tuple and get_args(tp)[0] is Frame:
        return frozenset({list}), _frames_ok, None
    if origin in (Mapping, dict):
        return frozenset({dict}), None, None
    if tp in _PLAIN:
        return frozenset({_PLAIN[tp]}), None, None
    raise TypeError(f"no JSON check for field type {tp!r}")  # a new field type: teach `_accepted` (and `_conforms`)


class _Field(NamedTuple):
    name: str
    required: bool
    accepted: frozenset[type]
    check: Callable[[Any], bool] | None  # of a list value
    members: frozenset[str] | None  # the values of an enum field
    enum: type[StrEnum] | None
    tp: Any


def _compile(klass: type[TelemetryEvent]) -> tuple[_Field, ...]:
    out = []
    for name, tp, required in _field_types(klass):
        accepted, check, enum = _accepted(tp)
        members = frozenset(m.value for m in enum) if enum else None
        out.append(_Field(name, required, accepted, check, members, enum, tp))
    return tuple(out)


#: Compiled once at import: event type -> its fields' checks.
_FIELDS = {name: _compile(klass) for name, klass in EVENT_TYPES.items()}
_MISSING = object()
_ERROR = ErrorEvent.event_type
#: An error event's fields, but its frames' entries are checked by `_error_frames`, in the same walk that
#: picks the in-app ones for the fingerprint (the list itself is still checked to be a list here).
_ERROR_FRAMES = next(f for f in _FIELDS[_ERROR] if f.name == "frames")
_FIELDS_WITHOUT_FRAME_CHECK = {
    **_FIELDS, _ERROR: tuple(f._replace(check=None) if f is _ERROR_FRAMES else f for f in _FIELDS[_ERROR])
}


def _check_fields(data: dict[str, Any], kind: str, where: str,
                  table: dict[str, tuple[_Field, ...]] = _FIELDS) -> None:
    """Every field of ``data`` has a JSON value its event class accepts, else `InvalidInput` naming it."""
    for f in table[kind]:
        value = data.get(f.name, _MISSING)
        if value is _MISSING:
            if f.required:
                raise InvalidInput(f"{where}.{f.name}", "is required")
            continue
        if type(value) not in f.accepted or (f.check is not None and type(value) is list and not f.check(value)):
            raise InvalidInput(f"{where}.{f.name}", f"must be {_describe(f.tp)}, got {_type_name(value)}")
        if f.members is not None and type(value) is str and value not in f.members:
            # the words `from_dict` would use ("... is not a valid Category")
            enum = f.enum.__name__ if f.enum else "value"
            raise InvalidInput(f"{where}.{f.name}", f"{kind}.{f.name}: {value!r} is not a valid {enum}")


# -- wire dict -> NewEvent ---------------------------------------------------------------------------------
#
# `recoup.store.convert.telemetry_row` maps the checked dict to the row, as it does for the library's own
# events (tests/server/test_native.py checks both paths agree field by field).


def _plain_tags(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with string tag values, as the event's own ``tags`` are (a copy only when one is not)."""
    tags = data.get("tags")
    if not tags or all(type(v) is str for v in tags.values()):
        return data
    return {**data, "tags": {k: str(v) for k, v in tags.items()}}


def _payload_text(data: dict[str, Any]) -> str:
    try:
        return orjson.dumps(data).decode()
    except orjson.JSONEncodeError as exc:  # nesting past orjson's limit (255) in a field of the producer's own
        raise InvalidInput("payload", f"cannot be stored: {exc}") from None


def _error_frames(frames: list[Any], where: str) -> tuple[tuple[str, str], ...]:
    """Check every entry of an error event's ``frames`` list (else `InvalidInput` naming ``where.frames``,
    as `_check_fields` would) and return its in-app (module, function) pairs, as `in_app_frames` reads
    them from the payload: one walk over the frames instead of two."""
    first = len(frames) - MAX_FRAMES  # in_app_frames reads the innermost MAX_FRAMES only
    out: list[tuple[str, str]] = []
    for index, frame in enumerate(frames):
        if not _frame_ok(frame):
            tp = _ERROR_FRAMES.tp
            raise InvalidInput(f"{where}.frames", f"must be {_describe(tp)}, got {_type_name(frames)}")
        if index >= first:
            found = in_app_frame(frame)
            if found is not None:
                out.append(found)
    return tuple(out)


def _enriched(row: dict[str, Any], frames: tuple[tuple[str, str], ...], tags: Any = None) -> dict[str, Any]:
    """An error row with its category and fingerprint (the pipeline's `enrich` then leaves the event as is);
    ``tags`` feed the custom fingerprint rules' ``tags.NAME`` matchers."""
    if row["category"] is not None and row["fingerprint"] is not None:
        return row
    row["category"], row["fingerprint"] = verdicts(row["exception_type"], row["message"], row["category"],
                                                   row["fingerprint"], frames, tags if type(tags) is dict else None)
    return row


def parse_event(data: Any, where: str) -> NewEvent:
    """One wire event → `NewEvent`, or `InvalidInput` naming ``where.field``.

    The payload is the wire dict itself (tag values made strings), stored as the producer sent it: what
    `event_from_dict` reads back as the same event."""
    if type(data) is not dict:
        raise InvalidInput(where, f"must be an object, got {_type_name(data)}")
    kind = data.get("type")
    if type(kind) is not str or kind not in _FIELDS:
        known = ", ".join(sorted(EVENT_TYPES))
        raise InvalidInput(f"{where}.type", f"{kind!r} is not an event type; one of: {known}")
    schema = data.get("schema", 1)
    if type(schema) is not int:
        raise InvalidInput(f"{where}.schema", f"must be an integer, got {_type_name(schema)}")
    if schema > SCHEMA_VERSION or schema < 1:
        raise InvalidInput(f"{where}.schema",
                           f"unsupported schema version {schema!r} (this reader knows 1..{SCHEMA_VERSION})")
    if kind == _ERROR:
        _check_fields(data, kind, where, _FIELDS_WITHOUT_FRAME_CHECK)
        frames = data.get("frames")
        in_app = _error_frames(frames, where) if frames else ()
    else:
        _check_fields(data, kind, where)
    data = _plain_tags(data)
    if "id" not in data or "timestamp" not in data:  # the event's defaults, kept so the payload rebuilds it
        data = {**data}
        data.setdefault("timestamp", time.time())
        data.setdefault("id", uuid.uuid4().hex)
    try:
        row = telemetry_row(data)
        if kind == _ERROR:
            row = _enriched(row, in_app, data.get("tags"))
        return NewEvent(event_id=data["id"], occurred_at=occurred_at(data["timestamp"]), payload=data,
                        payload_json=_payload_text(data), **row)
    except InvalidInput as exc:
        field = _WIRE_NAMES.get(exc.field, exc.field)
        raise InvalidInput(where if field == "payload" else f"{where}.{field}", exc.problem) from None


def parse_event_exactly(data: Any, where: str) -> NewEvent:
    """One wire event → `NewEvent` through the telemetry event (`event_from_dict`, then
    `new_event_from_telemetry`): the path of documents only the standard library decodes."""
    if not isinstance(data, dict):
        raise InvalidInput(where, f"must be an object, got {_type_name(data)}")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        known = ", ".join(sorted(EVENT_TYPES))
        raise InvalidInput(f"{where}.type", f"{kind!r} is not an event type; one of: {known}")
    schema = data.get("schema", 1)
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise InvalidInput(f"{where}.schema", f"must be an integer, got {_type_name(schema)}")
    for f in _FIELDS[kind]:
        if f.name not in data:
            if f.required:
                raise InvalidInput(f"{where}.{f.name}", "is required")
            continue
        if not _conforms(data[f.name], f.tp):
            raise InvalidInput(f"{where}.{f.name}", f"must be {_describe(f.tp)}, got {_type_name(data[f.name])}")
    try:
        event = event_from_dict(data)
    except EventSchemaError as exc:
        text = str(exc)
        match = _SCHEMA_ERROR_FIELD.match(text)
        field = f"{where}.{match.group(1)}" if match else (f"{where}.schema" if "schema" in text else where)
        raise InvalidInput(field, text) from None
    try:
        return enrich(new_event_from_telemetry(event))  # enriched here too, like `parse_event`'s events
    except InvalidInput as exc:
        field = _WIRE_NAMES.get(exc.field, exc.field)
        raise InvalidInput(where if field == "payload" else f"{where}.{field}", exc.problem) from None


def parse_batch(document: Any, max_events: int) -> list[NewEvent]:
    """``{"events": [...]}`` → events, all valid or `InvalidInput`; 413 past ``max_events``."""
    parse = parse_event
    if isinstance(document, _Fallback):
        document, parse = document.document, parse_event_exactly
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
        try:
            events.append(parse(item, f"events[{index}]"))
        except RecursionError:
            raise InvalidInput(f"events[{index}]", "is nested too deeply") from None
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
            plain = document.document if isinstance(document, _Fallback) else document
            if isinstance(plain, dict) and isinstance(plain.get("events"), list):
                parsed = len(plain["events"])
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
