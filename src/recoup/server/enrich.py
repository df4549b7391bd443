"""Give every error event a category and a fingerprint before it is stored, so groups form and can be
filtered by cause whatever the producer sent (a Sentry SDK sends neither).

Frames: a route that knows the stack puts it in the payload as
``payload["frames"] = [{"module": "app.views", "function": "checkout", "in_app": true}, ...]``, outermost
call first (Sentry's order). Only frames with ``in_app`` true count, as module + function (never line
numbers, which move with every edit), exactly like the library's own fingerprints. The native route's
telemetry frames (``{"filename", "lineno", "function", "line"}``, as `recoup.telemetry` sends them) are
read the library's way: in-app by path, module = the file's base name. Malformed frame entries are
skipped: the event is still worth storing.

This runs on every event (tens of thousands a second), so both verdicts are cached. Classifying text
costs ~0.3 ms, so the category is cached on the message with its request-unique parts (uuids, long hex
and digit runs, timestamps) masked, and computed from that masked text: "timeout for request <uuid>"
is classified once, whatever the uuid. Short numbers (status codes, errno, ports, SQLSTATEs) are kept,
because they decide the category. The fingerprint is cached on the same masked text (its own masking,
`recoup.errors.fingerprint.normalise`, then runs once per key and masks far more), so it is a
deterministic function of the error and a stream of unique ids costs a regex pass and two dict lookups.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from recoup.errors.classifier import classify
from recoup.errors.fingerprint import fingerprint
from recoup.errors.text import in_app_path
from recoup.store import EventKind, NewEvent

#: Distinct (type, message) pairs remembered; messages with ids in them rarely repeat, so keep it bounded.
CACHE_SIZE = 8192
#: Frames beyond this many are ignored for the fingerprint (deep recursion should not make a new group).
MAX_FRAMES = 50
#: Type used in the fingerprint of an error without an exception type (the same as `classify` on text).
UNTYPED = "text"
_SLOTS = tuple(NewEvent.__slots__)
_UNIQUE_PARTS = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
    r"|\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\b0x[0-9a-fA-F]+\b"
    r"|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"
    r"|\d{6,}"
)


def mask_unique(message: str) -> str:
    """``message`` with request-unique parts replaced by ``<id>``: the key the category is cached on."""
    return _UNIQUE_PARTS.sub("<id>", message)


def category_for(exception_type: str | None, message: str) -> str:
    """The classifier's category for ``Type: message`` (or the bare message), request-unique parts masked."""
    return _category_cached(exception_type, mask_unique(message))


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.split("\n", 1)[0].strip() if stripped else ""


@lru_cache(maxsize=CACHE_SIZE)
def _category_cached(exception_type: str | None, masked: str) -> str:
    text = f"{exception_type}: {masked}" if exception_type else masked
    return classify(text).category.value


def fingerprint_for(exception_type: str | None, message: str, frames: tuple[tuple[str, str], ...] = ()) -> str:
    """The group fingerprint: type, first message line (variable parts masked) and in-app frames."""
    return _fingerprint_cached(exception_type or UNTYPED, mask_unique(_first_line(message)), frames)


@lru_cache(maxsize=CACHE_SIZE)
def _fingerprint_cached(exception_type: str, masked_line: str, frames: tuple[tuple[str, str], ...]) -> str:
    return fingerprint(exception_type, masked_line, frames)


def in_app_frames(payload: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(module, function) of the in-app frames in ``payload["frames"]``; () when there are none."""
    raw = payload.get("frames")
    if not isinstance(raw, list):
        return ()
    out: list[tuple[str, str]] = []
    for frame in raw[-MAX_FRAMES:]:
        if not isinstance(frame, Mapping):
            continue
        function = frame.get("function")
        if not isinstance(function, str):
            continue
        if "in_app" in frame:
            module = frame.get("module")
            if frame["in_app"] is True and isinstance(module, str):
                out.append((module, function))
            continue
        filename = frame.get("filename")  # a telemetry frame
        if isinstance(filename, str) and in_app_path(filename):
            base = filename.replace("\\", "/").rsplit("/", 1)[-1]
            out.append((base.rsplit(".", 1)[0] if "." in base else base, function))
    return tuple(out)


def _with(event: NewEvent, category: str | None, fp: str | None) -> NewEvent:
    """A copy of ``event`` with these two fields. Skips ``__post_init__``: the event was validated when it
    was built, and the new values are ours (short, fixed alphabets); re-validating would serialise the
    payload to JSON again, the single most expensive step of building an event."""
    copy = object.__new__(NewEvent)
    for name in _SLOTS:
        object.__setattr__(copy, name, getattr(event, name))
    object.__setattr__(copy, "category", category)
    object.__setattr__(copy, "fingerprint", fp)
    return copy


def enrich(event: NewEvent) -> NewEvent:
    """``event`` with a category and a fingerprint when it is an error lacking them; others unchanged."""
    if event.kind is not EventKind.ERROR or (event.category is not None and event.fingerprint is not None):
        return event
    # Masks never span a line break, so the masked message's first line is the masked first line.
    masked = mask_unique(event.message)
    category = event.category
    if category is None:
        category = _category_cached(event.exception_type, masked)
    fp = event.fingerprint
    if fp is None:
        fp = _fingerprint_cached(event.exception_type or UNTYPED, _first_line(masked), in_app_frames(event.payload))
    return _with(event, category, fp)
