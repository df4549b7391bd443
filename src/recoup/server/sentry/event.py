"""A Sentry event (the JSON of an envelope's ``event`` item, or of a legacy ``/store/`` body) as a recoup
`NewEvent` of kind ERROR.

What is kept: the id (32 lower-case hex digits), the time (RFC 3339 or epoch seconds), the level, the
reported exception (the *last* of ``exception.values``, Sentry's order puts the outermost one last) with its
frames, the message (exception value, else ``logentry``/``message``), tags, environment, release, platform
and sdk. ``payload["frames"]`` lists the frames outermost call first as
``{"module", "function", "filename", "lineno", "in_app"}``.

``payload["sentry"]`` is a *trimmed copy* of the Sentry event: what later analysis reads, not the SDK's
whole dump (frame locals, source listings and the installed-modules list are most of an event's bytes and
of its ingest cost). The rule, applied to every event whatever its size:

* top-level scalars ``event_id``, ``timestamp``, ``level``, ``platform``, ``logger``, ``transaction``,
  ``server_name``, ``release``, ``dist``, ``environment``, ``culprit``, ``type``;
* ``exception.values``: the last `MAX_KEPT_EXCEPTIONS` of the chain, each with ``type``, ``value``,
  ``module``, ``thread_id``, the scalar fields of ``mechanism``, and its innermost `MAX_KEPT_FRAMES` frames
  as ``module``, ``function``, ``filename``, ``lineno``, ``colno``, ``in_app`` and the ``context_line``
  (no ``abs_path``, ``vars``, ``pre_context``/``post_context``);
* ``logentry`` / ``message`` (``message`` and ``formatted``; ``params`` dropped);
* ``contexts``: the scalar fields of each context (os, runtime, trace ids, device, ...);
* ``user.id``; ``request.url`` and ``request.method`` (no headers, cookies, body or env);
* the last `MAX_KEPT_BREADCRUMBS` breadcrumbs, each with its scalar fields and those of its ``data``;
* ``extra`` when its JSON is at most `MAX_KEPT_EXTRA_BYTES`, else dropped; ``fingerprint``;
* tags and sdk name/version are in ``payload["tags"]`` / ``payload["sdk"]``, normalised, not repeated here.

Everything else (``modules``, ``debug_meta``, ``threads``, ``spans``, ``_meta``, ``sdk.packages``, ...) is
dropped, and ``_recoup_trimmed`` lists the dropped top-level keys. Strings outside frames are clipped
(`KEPT_TEXT_CHARS`, `KEPT_VALUE_CHARS` for exception values and messages) and objects keep at most
`MAX_KEPT_FIELDS` scalar fields; should the copy's JSON still exceed `MAX_KEPT_EVENT_BYTES` (many frames with
long names), it is kept without frames, breadcrumbs, contexts, extra, request and user, which bounds it by
construction (about 45 KB at most).

The payload's JSON text is made here, once, with orjson (`NewEvent.payload_json`); the event JSON is read
with orjson too, the standard library only reading what orjson refuses (NaN, numbers beyond float range, lone
surrogates), which is then repaired to what PostgreSQL stores.

The fingerprint follows Sentry's grouping: exception type plus the in-app frames (module + function, never
line numbers), those of the exceptions it was raised from included; the normalised message stands in when
there is no in-app frame. Custom rules (`recoup.server.enrich.set_fingerprint_rules`) then apply. An explicit Sentry
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

import orjson

from recoup.errors.fingerprint import fingerprint
from recoup.server.enrich import apply_rules, fingerprint_rules
from recoup.store import EventKind, InvalidInput, Level, NewEvent
from recoup.store.values import EXCEPTION_TYPE_MAX, MESSAGE_MAX

#: Bound of the JSON of the trimmed copy kept in ``payload["sentry"]`` (see the module docstring).
MAX_KEPT_EVENT_BYTES = 64_000
#: Exceptions of a chain kept in the copy (the last ones: the reported exception and its causes).
MAX_KEPT_EXCEPTIONS = 5
#: Frames kept per exception in the copy (the innermost).
MAX_KEPT_FRAMES = 50
MAX_KEPT_BREADCRUMBS = 10
MAX_KEPT_CONTEXTS = 16
#: Scalar fields kept of an object of the copy (a context, a mechanism, a breadcrumb).
MAX_KEPT_FIELDS = 16
MAX_KEPT_BREADCRUMB_DATA = 8
MAX_KEPT_EXTRA_BYTES = 2_048
KEPT_TEXT_CHARS = 512
KEPT_VALUE_CHARS = 2_048
URL_CHARS = 2_000
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
_SCALAR_TYPES = frozenset({str, int, float, bool})
_KEPT_SCALARS = ("event_id", "timestamp", "level", "platform", "logger", "transaction", "server_name", "release",
                 "dist", "environment", "culprit", "type")
_EXCEPTION_KEYS = ("type", "value", "module", "thread_id")
_FRAME_KEYS = ("module", "function", "filename", "lineno", "colno", "in_app", "context_line")
#: Top-level keys of the event that the copy keeps (in part); tags and sdk are kept in the payload itself.
_KEPT_KEYS = frozenset({*_KEPT_SCALARS, "exception", "logentry", "message", "contexts", "user", "request",
                        "breadcrumbs", "extra", "fingerprint", "tags", "sdk"})
_DEFAULT_MARK = "{{default}}"
#: Top-level string fields copied into the payload beside the whole event.
_SCALARS = ("platform", "environment", "release", "dist", "server_name", "transaction", "logger")


def _null_constant(_name: str) -> None:
    """NaN and ±Infinity are not JSON (and PostgreSQL refuses them): read them as null."""
    return None


_DECODER = json.JSONDecoder(parse_constant=_null_constant)  # built once: json.loads(..., **kw) builds one per call


def decode_event(data: bytes, where: str = "event") -> dict[str, Any]:
    """The event JSON object in ``data``; `InvalidInput` when it is not one.

    orjson reads it; what orjson refuses (NaN, a number beyond float range, a lone surrogate escape, and what
    is not JSON at all) is read again by the standard library, whose error message is the one reported. What
    PostgreSQL cannot store (NUL, lone surrogates, non-finite numbers) is repaired."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _decode_lenient(data, where)
    if type(value) is not dict:
        raise InvalidInput(where, f"must be a JSON object, got {type(value).__name__}")
    event: dict[str, Any] = _storable(value) if b"\\u0000" in data else value
    return event


def _decode_lenient(data: bytes, where: str) -> dict[str, Any]:
    try:
        value = _DECODER.decode(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(where, f"is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput(where, f"must be a JSON object, got {type(value).__name__}")
    cleaned: dict[str, Any] = _finite(_storable(value))
    return cleaned


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
        if not ((module is None or type(module) is str) and (function is None or type(function) is str)
                and (filename is None or type(filename) is str)):
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


#: Causes of a chained exception whose in-app frames join the fingerprint (the most recent ones).
MAX_FINGERPRINT_CAUSES = 5


def _cause_frames(causes: list[Any]) -> tuple[tuple[str, str], ...]:
    """In-app frames of the exceptions the reported one was raised from (Sentry lists causes first), as the
    library's own fingerprint of a chained exception counts them: the same handler re-raising a timeout and
    a refused connection is two errors. A malformed cause is left out, not refused: the reported exception
    was valid, and the event is still worth storing."""
    out: list[tuple[str, str]] = []
    for index, cause in enumerate(causes[-MAX_FINGERPRINT_CAUSES:]):
        if not isinstance(cause, dict) or not isinstance(cause.get("stacktrace"), dict):
            continue
        try:
            out.extend(_fingerprint_frames(_frames(cause["stacktrace"], f"exception.values[{index}].stacktrace")))
        except InvalidInput:
            continue  # see the docstring: the cause only refines the group
    return tuple(out)


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


def _clip(value: object, limit: int = KEPT_TEXT_CHARS) -> Any:
    """A scalar as kept: strings clipped to ``limit`` characters; numbers, booleans and null as they are."""
    if type(value) is str:
        return value if len(value) <= limit else value[:limit]
    return value


def _scalars(source: Mapping[str, Any], limit: int) -> dict[str, Any]:
    """At most ``limit`` scalar (string, number, boolean) fields of ``source``, strings clipped; the rest dropped."""
    out: dict[str, Any] = {}
    for key, value in source.items():
        kind = type(value)
        if kind is str:
            out[key] = value if len(value) <= KEPT_TEXT_CHARS else value[:KEPT_TEXT_CHARS]
        elif kind is int or kind is float or kind is bool:
            out[key] = value
        else:
            continue
        if len(out) >= limit:
            break
    return out


def _kept_frames(stacktrace: object) -> list[dict[str, Any]]:
    """The innermost frames, each with `_FRAME_KEYS` as sent (not clipped one by one: this runs for every
    frame of every event; the copy's size bound drops the frames of an event whose names are absurdly long)."""
    if type(stacktrace) is not dict:
        return []
    raw = stacktrace.get("frames")
    if type(raw) is not list:
        return []
    keys = _FRAME_KEYS
    return [{k: frame[k] for k in keys if k in frame} for frame in raw[-MAX_KEPT_FRAMES:] if type(frame) is dict]


def _kept_exception(value: object, with_frames: bool) -> dict[str, Any] | None:
    if type(value) is not dict:
        return None
    kept = {key: _clip(value[key], KEPT_VALUE_CHARS if key == "value" else KEPT_TEXT_CHARS)
            for key in _EXCEPTION_KEYS if type(value.get(key)) in _SCALAR_TYPES}
    mechanism = value.get("mechanism")
    if type(mechanism) is dict:
        kept["mechanism"] = _scalars(mechanism, MAX_KEPT_FIELDS)
    if with_frames:
        frames = _kept_frames(value.get("stacktrace"))
        if frames:
            kept["stacktrace"] = {"frames": frames}
    return kept


def _kept_breadcrumbs(value: object) -> dict[str, Any] | None:
    crumbs = value.get("values") if type(value) is dict else value
    if type(crumbs) is not list:
        return None
    out: list[dict[str, Any]] = []
    for crumb in crumbs[-MAX_KEPT_BREADCRUMBS:]:
        if type(crumb) is not dict:
            continue
        kept = _scalars(crumb, MAX_KEPT_FIELDS)
        data = crumb.get("data")
        if type(data) is dict:
            kept["data"] = _scalars(data, MAX_KEPT_BREADCRUMB_DATA)
        out.append(kept)
    return {"values": out}


def _kept_copy(event: Mapping[str, Any], with_detail: bool = True) -> dict[str, Any]:
    """The trimmed copy of the Sentry event kept in ``payload["sentry"]`` (see the module docstring)."""
    kept: dict[str, Any] = {}
    for key in _KEPT_SCALARS:
        value = event.get(key)
        if value is not None and type(value) in _SCALAR_TYPES:
            kept[key] = value if type(value) is not str or len(value) <= KEPT_TEXT_CHARS else value[:KEPT_TEXT_CHARS]
    exception = event.get("exception")
    values = exception.get("values") if type(exception) is dict else exception
    if type(values) is list and values:
        chain = values[-MAX_KEPT_EXCEPTIONS:]
        slim = [_kept_exception(v, with_detail) for v in chain]
        kept["exception"] = {"values": [v for v in slim if v is not None]}
    for key in ("logentry", "message"):
        value = event.get(key)
        if type(value) is str:
            kept[key] = _clip(value, KEPT_VALUE_CHARS)
        elif type(value) is dict:
            kept[key] = {k: _clip(value[k], KEPT_VALUE_CHARS) for k in ("message", "formatted")
                         if type(value.get(k)) is str}
    if not with_detail:
        kept["_recoup_trimmed"] = "event too large; frames, breadcrumbs, contexts, extra, request and user dropped"
        return kept
    contexts = event.get("contexts")
    if type(contexts) is dict:
        kept_contexts: dict[str, Any] = {}
        for name, context in contexts.items():
            if type(context) is dict:
                kept_contexts[name[:KEPT_TEXT_CHARS]] = _scalars(context, MAX_KEPT_FIELDS)
                if len(kept_contexts) >= MAX_KEPT_CONTEXTS:
                    break
        kept["contexts"] = kept_contexts
    user = event.get("user")
    if type(user) is dict and type(user.get("id")) in _SCALAR_TYPES:
        kept["user"] = {"id": _clip(user["id"])}
    request = event.get("request")
    if type(request) is dict:
        kept["request"] = {k: _clip(request[k], URL_CHARS) for k in ("url", "method")
                           if type(request.get(k)) is str}
    breadcrumbs = _kept_breadcrumbs(event.get("breadcrumbs"))
    if breadcrumbs is not None:
        kept["breadcrumbs"] = breadcrumbs
    extra = event.get("extra")
    if type(extra) is dict and extra:
        try:
            if len(orjson.dumps(extra)) <= MAX_KEPT_EXTRA_BYTES:
                kept["extra"] = extra
        except TypeError:  # an integer beyond 64 bits: the extra is dropped, not the event
            pass
    fingerprint_ = event.get("fingerprint")
    if type(fingerprint_) is list:
        kept["fingerprint"] = [_clip(part) for part in fingerprint_[:100] if type(part) in _SCALAR_TYPES]
    dropped = [key for key in event if key not in _KEPT_KEYS]
    if "extra" in event and "extra" not in kept:
        dropped.append("extra")
    if dropped:
        dropped.sort()
        kept["_recoup_trimmed"] = dropped
    return kept


def _payload_text(payload: dict[str, Any], event: Mapping[str, Any]) -> str | None:
    """Adds the kept copy to ``payload`` and returns the payload's JSON text (orjson), or None when orjson
    cannot write it (an integer beyond 64 bits: `NewEvent` then serialises it with the standard library)."""
    try:
        base = orjson.dumps(payload)
        kept = _kept_copy(event)
        kept_text = orjson.dumps(kept)
        if len(kept_text) > MAX_KEPT_EVENT_BYTES:
            kept = _kept_copy(event, with_detail=False)
            kept_text = orjson.dumps(kept)
    except TypeError:
        payload["sentry"] = _kept_copy(event)
        return None
    payload["sentry"] = kept
    return (base[:-1] + b',"sentry":' + kept_text + b"}").decode()


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
    chosen = -1
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
        chosen = index
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
    fp_frames = _fingerprint_frames(frames)
    if chosen > 0 and fp_frames:
        fp_frames = _cause_frames(values[:chosen]) + fp_frames
    fp = default_fingerprint(type_key, message, fp_frames)
    custom = event.get("fingerprint")
    if custom is not None:
        fp = explicit_fingerprint(custom, fp)
    elif fingerprint_rules() is not None:  # custom server-side rules; an SDK's own fingerprint wins
        fp = apply_rules(fp, exc_type, message, fp_frames, _tags(event.get("tags")))

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
    text = _payload_text(payload, event)
    return NewEvent(
        event_id=event_id, kind=EventKind.ERROR, occurred_at=occurred, message=message, level=level,
        fingerprint=fp, exception_type=exc_type, payload=payload, payload_json=text,
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
