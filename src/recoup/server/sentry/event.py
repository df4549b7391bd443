"""A Sentry event (the JSON of an envelope's ``event`` item, or of a legacy ``/store/`` body) as a recoup
`NewEvent` of kind ERROR.

What is kept: the id (32 lower-case hex digits), the time (RFC 3339 or epoch seconds), the level, the
reported exception (the *last* of ``exception.values``, Sentry's order puts the outermost one last) with its
frames, the message (exception value, else ``logentry``/``message``), tags, environment, release, platform
and sdk. ``payload["frames"]`` lists the frames outermost call first as
``{"module", "function", "filename", "lineno", "in_app"}``; ``payload["sentry"]`` is the whole event, trimmed
when it is large.

The fingerprint follows Sentry's grouping: exception type plus the in-app frames (module + function, never
line numbers); the normalised message stands in when there is no in-app frame. An explicit Sentry
``fingerprint`` array wins, ``{{ default }}`` in it standing for that default fingerprint. The category is
left to `recoup.server.enrich`.

Every problem is an `InvalidInput` naming the field (``timestamp``, ``exception.values[0].stacktrace``, ...).
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from recoup.errors.fingerprint import fingerprint
from recoup.store import EventKind, InvalidInput, Level, NewEvent
from recoup.store.values import EXCEPTION_TYPE_MAX, MESSAGE_MAX

#: Above this size (bytes of the event JSON) the copy kept in ``payload["sentry"]`` loses its bulky parts.
MAX_KEPT_EVENT_BYTES = 64_000
#: Frames kept in ``payload["frames"]`` (the innermost ones, where the error happened).
MAX_FRAMES = 100
#: In-app frames that count towards the fingerprint (deep recursion should not make a new group).
MAX_FINGERPRINT_FRAMES = 50
#: Characters of a message's first line that count towards the fingerprint (normalising keeps 500 anyway).
MESSAGE_KEY_CHARS = 2_000
FRAME_NAME_CHARS = 200
MAX_TAGS = 200
MAX_TAG_CHARS = 200
#: Timestamps further ahead than this are clock skew: the event is dated when it was received.
MAX_CLOCK_SKEW = timedelta(hours=1)

_LEVELS: dict[str, Level] = {
    "debug": Level.DEBUG, "trace": Level.DEBUG,
    "info": Level.INFO, "log": Level.INFO, "notice": Level.INFO,
    "warning": Level.WARNING, "warn": Level.WARNING,
    "error": Level.ERROR,
    "fatal": Level.FATAL, "critical": Level.FATAL,
}
_HEX = frozenset("0123456789abcdef")
_BUILTIN_MODULES = frozenset({"builtins", "__builtin__", "exceptions"})
#: Keys dropped from the kept copy of an oversized event, biggest-and-least-useful first.
_BULKY_KEYS = ("breadcrumbs", "modules", "debug_meta", "spans", "threads", "request", "extra", "contexts", "_meta")
_FRAME_BULK = ("vars", "pre_context", "post_context", "context_line")
_DEFAULT_MARK = "{{default}}"
#: Top-level string fields copied into the payload beside the whole event.
_SCALARS = ("platform", "environment", "release", "dist", "server_name", "transaction", "logger")


def _null_constant(_name: str) -> None:
    """NaN and ±Infinity are not JSON (and PostgreSQL refuses them): read them as null."""
    return None


_DECODER = json.JSONDecoder(parse_constant=_null_constant)  # built once: json.loads(..., **kw) builds one per call


def decode_event(data: bytes, where: str = "event") -> dict[str, Any]:
    """The event JSON object in ``data``; `InvalidInput` when it is not one."""
    try:
        value = _DECODER.decode(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(where, f"is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput(where, f"must be a JSON object, got {type(value).__name__}")
    if b"\\u0000" in data or b"\\ud" in data or b"\\uD" in data:
        cleaned: dict[str, Any] = _storable(value)
        return cleaned
    return value


def _storable_str(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (escaped as \ud800 in the JSON) is not text UTF-8 can carry
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _storable(value: Any) -> Any:
    """``value`` without NUL characters or lone surrogates (PostgreSQL refuses both; neither means anything
    here). Only run when the raw JSON has an escape that could produce one."""
    if isinstance(value, str):
        return _storable_str(value)
    if isinstance(value, dict):
        return {_storable_str(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def normalise_event_id(value: object, field: str = "event_id") -> str:
    """32 lower-case hex digits from a UUID written with or without dashes."""
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be a string of 32 hex digits (a UUID), got {type(value).__name__}")
    text = value.strip().lower()
    if len(text) == 36 and text[8] == text[13] == text[18] == text[23] == "-":
        text = text.replace("-", "")
    if len(text) != 32 or not _HEX.issuperset(text):
        raise InvalidInput(field, f"must be 32 hex digits (a UUID), got {value[:64]!r}")
    return text


def parse_timestamp(value: object, field: str = "timestamp") -> datetime:
    """An aware UTC datetime from epoch seconds (number or numeric string) or an RFC 3339 string."""
    if isinstance(value, str):
        text = value.strip()
        try:
            seconds: float = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                raise InvalidInput(field, f"must be RFC 3339 or epoch seconds, got {value[:64]!r}") from None
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise InvalidInput(field, f"must be RFC 3339 or epoch seconds, got {type(value).__name__}")
    if not math.isfinite(seconds):
        raise InvalidInput(field, "must be a finite number of seconds")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput(field, f"{seconds!r} seconds is out of range") from None


def parse_level(value: object) -> Level:
    if value is None:
        return Level.ERROR
    level = _LEVELS.get(value.strip().lower()) if isinstance(value, str) else None
    if level is None:
        raise InvalidInput("level", f"{value!r} is not one of: fatal, error, warning, info, debug")
    return level


def _text(container: Mapping[str, Any], key: str, field: str) -> str | None:
    """A string field; numbers and booleans are written out, objects and lists refused."""
    value = container.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise InvalidInput(f"{field}.{key}" if field else key, f"must be a string, got {type(value).__name__}")


def _is_text(value: object) -> bool:
    return value is None or type(value) is str


def _object(value: object, field: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise InvalidInput(field, f"must be an object, got {type(value).__name__}")


def _values(value: object, field: str) -> list[Any]:
    """The ``values`` list of an interface written as ``{"values": [...]}`` or as the bare list."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get("values")
        field = f"{field}.values"
        if value is None:
            return []
    if not isinstance(value, list):
        raise InvalidInput(field, f"must be a list, got {type(value).__name__}")
    return value


def _frames(stacktrace: object, field: str) -> list[dict[str, Any]]:
    """The frames of a stacktrace interface, outermost call first, in recoup's shape."""
    st = _object(stacktrace, field)
    if st is None:
        return []
    raw = st.get("frames")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidInput(f"{field}.frames", f"must be a list, got {type(raw).__name__}")
    start = max(0, len(raw) - MAX_FRAMES)
    out: list[dict[str, Any]] = []
    for index in range(start, len(raw)):
        frame = raw[index]
        if frame is None:
            continue
        if not isinstance(frame, dict):
            raise InvalidInput(f"{field}.frames[{index}]", f"must be an object, got {type(frame).__name__}")
        module = frame.get("module")
        function = frame.get("function")
        filename = frame.get("filename") or frame.get("abs_path")
        # The common case (strings or absent) costs three type checks; anything else takes the slow path.
        if not (_is_text(module) and _is_text(function) and _is_text(filename)):
            where = f"{field}.frames[{index}]"
            module = _text(frame, "module", where)
            function = _text(frame, "function", where)
            filename = _text(frame, "filename", where) or _text(frame, "abs_path", where)
        lineno = frame.get("lineno")
        out.append({
            "module": module,
            "function": function,
            "filename": filename,
            "lineno": lineno if type(lineno) is int else None,
            "in_app": frame.get("in_app") is True,
        })
    return out


def _thread_frames(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Frames of the crashed (else current, else first) thread: where a message event's stack is."""
    threads = _values(event.get("threads"), "threads")
    chosen: tuple[int, Any] | None = None
    for index, thread in enumerate(threads):
        if not isinstance(thread, dict) or thread.get("stacktrace") is None:
            continue
        if thread.get("crashed") is True:
            chosen = (index, thread)
            break
        if chosen is None or (thread.get("current") is True and chosen[1].get("current") is not True):
            chosen = (index, thread)
    if chosen is None:
        return []
    return _frames(chosen[1]["stacktrace"], f"threads.values[{chosen[0]}].stacktrace")


def _message(event: Mapping[str, Any]) -> str:
    """The event's own message: ``logentry`` (formatted, else the template), else ``message``."""
    for key in ("logentry", "message"):
        value = event.get(key)
        if isinstance(value, str):
            if value:
                return value
        elif isinstance(value, dict):
            text = _text(value, "formatted", key) or _text(value, "message", key)
            if text:
                return text
        elif value is not None:
            raise InvalidInput(key, f"must be a string or an object, got {type(value).__name__}")
    return ""


def _tags(value: object) -> dict[str, str]:
    """Tags as ``{key: value}`` from an object or a list of ``[key, value]`` pairs, clipped like Sentry's."""
    if value is None:
        return {}
    if type(value) is dict and len(value) <= MAX_TAGS and all(
        type(v) is str and len(k) <= MAX_TAG_CHARS and len(v) <= MAX_TAG_CHARS for k, v in value.items()
    ):
        return value  # the common case: short string tags, nothing to clip or convert
    if isinstance(value, dict):
        pairs: list[Any] = list(value.items())
    elif isinstance(value, list):
        pairs = value
    else:
        raise InvalidInput("tags", f"must be an object or a list of [key, value] pairs, got {type(value).__name__}")
    out: dict[str, str] = {}
    for index, pair in enumerate(pairs):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise InvalidInput(f"tags[{index}]", "must be a [key, value] pair")
        key, val = pair
        if val is None or key is None:
            continue
        if isinstance(key, dict | list) or isinstance(val, dict | list):
            raise InvalidInput(f"tags.{key}", "keys and values must be strings")
        out[str(key)[:MAX_TAG_CHARS]] = val[:MAX_TAG_CHARS] if isinstance(val, str) else json.dumps(val)
        if len(out) >= MAX_TAGS:
            break
    return out


def default_fingerprint(type_key: str, message: str, frames: tuple[tuple[str, str], ...]) -> str:
    """Type + in-app frames; the first message line (masked) only when there are no in-app frames."""
    if frames:
        return _cached_fingerprint(type_key or "text", "", frames)
    stripped = message.strip()
    # Clipped before it becomes a cache key: the cache must not hold thousands of 64 KiB messages.
    first_line = stripped[:MESSAGE_KEY_CHARS].splitlines()[0] if stripped else ""
    return _cached_fingerprint(type_key or "text", first_line, ())


@lru_cache(maxsize=8192)
def _cached_fingerprint(type_key: str, first_line: str, frames: tuple[tuple[str, str], ...]) -> str:
    return fingerprint(type_key, first_line, frames)


def _fingerprint_frames(frames: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """(module, function) of the in-app frames, innermost last; names clipped (they become cache keys)."""
    pairs = [
        ((f["module"] or f["filename"])[:FRAME_NAME_CHARS], f["function"][:FRAME_NAME_CHARS])
        for f in frames
        if f["in_app"] and (f["module"] or f["filename"]) and f["function"]
    ]
    return tuple(pairs[-MAX_FINGERPRINT_FRAMES:])


def explicit_fingerprint(value: object, default: str) -> str:
    """The group fingerprint from a Sentry ``fingerprint`` array (``{{ default }}`` = the default one)."""
    if not isinstance(value, list):
        raise InvalidInput("fingerprint", f"must be a list of strings, got {type(value).__name__}")
    if len(value) > 100:
        raise InvalidInput("fingerprint", f"has {len(value)} entries, at most 100 allowed")
    parts: list[str] = []
    for index, part in enumerate(value):
        if isinstance(part, bool) or not isinstance(part, str | int | float):
            raise InvalidInput(f"fingerprint[{index}]", f"must be a string, got {type(part).__name__}")
        text = str(part)
        parts.append(default if text.replace(" ", "").lower() == _DEFAULT_MARK else text)
    if not parts or parts == [default]:
        return default
    h = hashlib.blake2b(digest_size=10, person=b"sentry-fp")
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def _kept_copy(event: dict[str, Any], size: int) -> dict[str, Any]:
    """The event as kept in ``payload["sentry"]``: whole when small, else without its bulkiest parts."""
    if size <= MAX_KEPT_EVENT_BYTES:
        return event
    kept = {k: v for k, v in event.items() if k not in _BULKY_KEYS}
    exception = kept.get("exception")
    if isinstance(exception, dict) and isinstance(exception.get("values"), list):
        slim_values: list[Any] = []
        for value in exception["values"]:
            if isinstance(value, dict) and isinstance(value.get("stacktrace"), dict):
                frames = value["stacktrace"].get("frames")
                if isinstance(frames, list):
                    slim = [
                        {k: v for k, v in f.items() if k not in _FRAME_BULK} if isinstance(f, dict) else f
                        for f in frames[-MAX_FRAMES:]
                    ]
                    value = {**value, "stacktrace": {**value["stacktrace"], "frames": slim}}
            slim_values.append(value)
        kept["exception"] = {**exception, "values": slim_values}
    kept["_recoup_trimmed"] = sorted(k for k in _BULKY_KEYS if k in event)
    if len(json.dumps(kept, default=str)) <= MAX_KEPT_EVENT_BYTES:
        return kept
    small = {k: v for k, v in kept.items() if isinstance(v, str | int | float | bool) or v is None}
    small["_recoup_trimmed"] = "event too large; only its scalar fields are kept"
    return small


def to_new_event(
    event: dict[str, Any],
    *,
    received_at: datetime,
    size: int,
    fallback_event_id: str | None = None,
) -> NewEvent:
    """``event`` (decoded Sentry event JSON of ``size`` bytes) as an ERROR `NewEvent`."""
    raw_id = event.get("event_id")
    if raw_id is not None:
        event_id = normalise_event_id(raw_id)
    elif fallback_event_id is not None:
        event_id = normalise_event_id(fallback_event_id)
    else:
        event_id = uuid.uuid4().hex
    timestamp = event.get("timestamp")
    occurred = received_at if timestamp is None else parse_timestamp(timestamp)
    if occurred - received_at > MAX_CLOCK_SKEW:
        occurred = received_at
    level = parse_level(event.get("level"))

    exc_type: str | None = None
    exc_module: str | None = None
    exc_value: str | None = None
    frames: list[dict[str, Any]] = []
    values = _values(event.get("exception"), "exception")
    for index in range(len(values) - 1, -1, -1):
        value = values[index]
        if value is None:
            continue
        where = f"exception.values[{index}]"
        if not isinstance(value, dict):
            raise InvalidInput(where, f"must be an object, got {type(value).__name__}")
        exc_type = _text(value, "type", where)
        exc_value = _text(value, "value", where)
        exc_module = _text(value, "module", where)
        frames = _frames(value.get("stacktrace"), f"{where}.stacktrace")
        break
    if not frames:
        frames = _frames(event.get("stacktrace"), "stacktrace") or _thread_frames(event)
    message = exc_value or _message(event)
    if len(message) > MESSAGE_MAX:
        message = message[:MESSAGE_MAX]
    if exc_type is not None:
        exc_type = exc_type.strip()[:EXCEPTION_TYPE_MAX] or None
    type_key = exc_type or ""
    if exc_type and exc_module and exc_module not in _BUILTIN_MODULES:
        type_key = f"{exc_module[:FRAME_NAME_CHARS]}.{exc_type}"
    fp = default_fingerprint(type_key, message, _fingerprint_frames(frames))
    custom = event.get("fingerprint")
    if custom is not None:
        fp = explicit_fingerprint(custom, fp)

    payload: dict[str, Any] = {"source": "sentry", "frames": frames, "tags": _tags(event.get("tags"))}
    for key in _SCALARS:
        text = event.get(key)
        if text is not None:
            payload[key] = text if type(text) is str else _text(event, key, "")
    if exc_type is not None or exc_value is not None:
        payload["exception"] = {"type": exc_type, "value": exc_value, "module": exc_module}
    sdk = _object(event.get("sdk"), "sdk")
    if sdk is not None:
        payload["sdk"] = {"name": _text(sdk, "name", "sdk"), "version": _text(sdk, "version", "sdk")}
    payload["sentry"] = _kept_copy(event, size)
    fields: dict[str, Any] = {
        "event_id": event_id, "kind": EventKind.ERROR, "occurred_at": occurred, "message": message, "level": level,
        "fingerprint": fp, "exception_type": exc_type,
    }
    try:
        return NewEvent(payload=payload, **fields)
    except InvalidInput as exc:
        if exc.field != "payload":
            raise
    # A number beyond float range (1e400) reads as infinity, which JSON cannot carry: null it, like NaN.
    return NewEvent(payload=_finite(payload), **fields)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
