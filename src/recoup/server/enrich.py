"""Give every error event a category and a fingerprint before it is stored, so groups form and can be
filtered by cause whatever the producer sent (a Sentry SDK sends neither).

The pipeline's writer calls `enrich` on every event; a route that walks an event's frames anyway (the
native route, to validate them) computes both verdicts itself with `in_app_frame` and `verdicts`, the same
functions, so the event is built once, already enriched, and `enrich` returns it unchanged.

Frames: a route that knows the stack puts it in the payload as
``payload["frames"] = [{"module": "app.views", "function": "checkout", "in_app": true}, ...]``, outermost
call first (Sentry's order). Only frames with ``in_app`` true count, as module + function (never line
numbers, which move with every edit), exactly like the library's own fingerprints. The native route's
telemetry frames (``{"filename", "lineno", "function", "line"}``, as `recoup.telemetry` sends them) are
read the library's way: in-app by path, module = the file's base name. Malformed frame entries are
skipped: the event is still worth storing.

This runs on every event (tens of thousands a second), so both verdicts are cached. Classifying text
costs ~0.3 ms, so the category is cached on the message with its request-unique parts (uuids, long hex
and digit runs, timestamps, IPv4 addresses, emails, process ids and text offsets, the quoted input of
"invalid literal"-style messages) masked, and computed from that masked text: "timeout for request
<uuid>" is classified once, whatever the uuid. Short numbers (status codes, errno, ports, SQLSTATEs,
traceback line numbers) are kept, because they decide the category; tests/server/test_enrich.py checks
on the whole error corpus that masking never changes it.

The fingerprint is `recoup.errors.fingerprint.fingerprint` of the first line exactly as the library computes
it (its own masking, `normalise`, decides what varies). It is cached on `digits_key` of the line, which
`normalise` provably cannot tell from the line itself, so a stream of ids made of digits costs one
``str.translate`` and a dict lookup; the category's masks are *not* used for it: masking before `normalise`
changes what `normalise` sees (a url cut short at an ``<id>``) and split one error into many groups.

Custom fingerprint rules (`recoup.analytics.fingerprint_rules`, ``recoup serve --fingerprint-rules``) are
applied after the default fingerprint, with it as ``{{ default }}``; `set_fingerprint_rules` installs them
for the process. An event that carries its own fingerprint keeps it: the producer knows best.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from recoup.analytics.fingerprint_rules import FingerprintRules, facts_for, load_rules
from recoup.errors.classifier import classify
from recoup.errors.fingerprint import digits_key, fingerprint
from recoup.errors.text import in_app_path
from recoup.store import EventKind, NewEvent

#: Distinct (type, message) pairs remembered; messages with ids in them rarely repeat, so keep it bounded.
CACHE_SIZE = 8192
#: Distinct frame file names remembered (a deployment has a few thousand source files at most).
FILENAME_CACHE_SIZE = 8192
#: Frames beyond this many are ignored for the fingerprint (deep recursion should not make a new group).
MAX_FRAMES = 50
#: Type used in the fingerprint of an error without an exception type (the same as `classify` on text).
UNTYPED = "text"
_SLOTS = tuple(NewEvent.__slots__)
_GET_SLOTS = operator.attrgetter(*_SLOTS)
_SET_SLOTS = tuple(getattr(NewEvent, name).__set__ for name in _SLOTS)  # the slots' own setters: no __setattr__
#: Texts after which a message quotes the offending input (look-behinds need fixed texts; the fingerprint's
#: own list, `recoup.errors.fingerprint.QUOTED_VALUE_CONTEXTS`, is wider).
_QUOTED_INPUT_AFTER = ("invalid literal for int() with base 10: ", "invalid literal for float(): ",
                       "could not convert string to float: ", "Invalid isoformat string: ", "For input string: ")
#: Words whose number says where in a text or which process, never what went wrong.
_COUNTERS = ("column", "char", "position", "offset", "process", "Process", "pid", "PID", "thread")
_UNIQUE_PARTS = re.compile(
    # every alternative starts with a hex digit or a quote: the look-ahead skips other positions quickly
    r"(?=[0-9a-fA-F'\"])(?:"
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
    r"|\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\b0x[0-9a-fA-F]+\b"
    # hex ids, also glued to a prefix (ch_03fa2e9be8137221): only letters and digits end a run
    r"|(?=[0-9a-fA-F])(?<![^\W_])(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}(?![^\W_])"
    r"|\d{6,}"
    r"|\b(?:\d{1,3}\.){3}\d{1,3}\b"  # IPv4 addresses (a port after one is kept)
    # numbers that only say where or which one: column 10 (char 26), process 16674 (not ``line 12``: the
    # classifier reads traceback frames by it; nor numbers in urls, which may be a status: /status/503)
    r"|(?<= )(?:" + "|".join(f"(?<=\\b{word} )" for word in _COUNTERS) + r")\d+\b"
    # the quoted input of "invalid literal for int() with base 10: 'a3f9c2'" and its kin
    r"|(?=['\"])(?:" + "|".join(f"(?<={re.escape(text)})" for text in _QUOTED_INPUT_AFTER) + ")"
    r"(?:'[^'\n]*'|\"[^\"\n]*\"))"
)


_rules: FingerprintRules | None = None


def set_fingerprint_rules(rules: FingerprintRules | None) -> None:
    """Install (or, with None, remove) the custom fingerprint rules every later event is grouped by."""
    global _rules
    _rules = rules if rules is not None and len(rules) else None


def install_fingerprint_rules(path: str | Path | None) -> FingerprintRules | None:
    """Load ``path`` (``ServerSettings.fingerprint_rules``) and install it; None removes any rules. For
    the app factory, in every worker process. `RuleError` (a ValueError) names the bad line."""
    rules = None if path is None else load_rules(path)
    set_fingerprint_rules(rules)
    return rules


def fingerprint_rules() -> FingerprintRules | None:
    """The rules `set_fingerprint_rules` installed, None when there are none."""
    return _rules


def apply_rules(default: str, exception_type: str | None, message: str, frames: tuple[tuple[str, str], ...],
                tags: Mapping[str, str] | None = None, category: str | None = None) -> str:
    """``default`` rewritten by the installed rules (unchanged when none is installed or none matches)."""
    rules = _rules
    if rules is None:
        return default
    return rules.apply(facts_for(exception_type, message, frames, tags, category), default)


def _payload_tags(payload: Mapping[str, Any]) -> Mapping[str, str] | None:
    tags = payload.get("tags")
    return tags if isinstance(tags, Mapping) else None


_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")


def mask_unique(message: str) -> str:
    """``message`` with request-unique parts replaced by ``<id>``: the key the category is cached on."""
    masked = _UNIQUE_PARTS.sub("<id>", message)
    return _EMAIL.sub("<id>", masked) if "@" in masked else masked


def category_for(exception_type: str | None, message: str) -> str:
    """The classifier's category for ``Type: message`` (or the bare message), request-unique parts masked."""
    return _category_cached(exception_type, mask_unique(message))


def _first_line(text: str) -> str:
    stripped = text.lstrip()
    return stripped.partition("\n")[0].strip()


@lru_cache(maxsize=CACHE_SIZE)
def _category_cached(exception_type: str | None, masked: str) -> str:
    text = f"{exception_type}: {masked}" if exception_type else masked
    return classify(text).category.value


def fingerprint_for(exception_type: str | None, message: str, frames: tuple[tuple[str, str], ...] = ()) -> str:
    """The group fingerprint: type, first message line (variable parts masked) and in-app frames; the same
    as the library's `recoup.errors.fingerprint.fingerprint` of them."""
    return _fingerprint_cached(exception_type or UNTYPED, digits_key(_first_line(message)), frames)


@lru_cache(maxsize=CACHE_SIZE)
def _fingerprint_cached(exception_type: str, line_key: str, frames: tuple[tuple[str, str], ...]) -> str:
    # `normalise(line_key) == normalise(line)`, so this is the line's own fingerprint
    return fingerprint(exception_type, line_key, frames)


@lru_cache(maxsize=FILENAME_CACHE_SIZE)
def _telemetry_module(filename: str) -> str | None:
    """The module (file base name) of an in-app telemetry frame's file; None for runtime and library files."""
    if not in_app_path(filename):
        return None
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def in_app_frames(payload: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(module, function) of the in-app frames in ``payload["frames"]``; () when there are none."""
    raw = payload.get("frames")
    if not isinstance(raw, list):
        return ()
    out: list[tuple[str, str]] = []
    for frame in raw[-MAX_FRAMES:]:
        if type(frame) is not dict and not isinstance(frame, Mapping):  # the ABC check only when not a dict
            continue
        found = in_app_frame(frame)
        if found is not None:
            out.append(found)
    return tuple(out)


def _with(event: NewEvent, category: str | None, fp: str | None) -> NewEvent:
    """A copy of ``event`` with these two fields. Skips ``__post_init__``: the event was validated when it
    was built, and the new values are ours (short, fixed alphabets); re-validating would serialise the
    payload to JSON again, the single most expensive step of building an event."""
    copy = object.__new__(NewEvent)
    for set_slot, value in zip(_SET_SLOTS, _GET_SLOTS(event), strict=True):
        set_slot(copy, value)
    object.__setattr__(copy, "category", category)
    object.__setattr__(copy, "fingerprint", fp)
    return copy


def telemetry_module(filename: str) -> str | None:
    """The module `in_app_frames` takes from a telemetry frame's file name; None when it is not in-app."""
    return _telemetry_module(filename)


def in_app_frame(frame: Mapping[str, Any]) -> tuple[str, str] | None:
    """(module, function) of one frame when `in_app_frames` counts it, else None: for a route that walks the
    frames anyway (to validate them) and would rather not walk them twice."""
    function = frame.get("function")
    if not isinstance(function, str):
        return None
    if "in_app" in frame:
        module = frame.get("module")
        return (module, function) if frame["in_app"] is True and isinstance(module, str) else None
    filename = frame.get("filename")
    if isinstance(filename, str):
        module = _telemetry_module(filename)
        if module is not None:
            return module, function
    return None


def verdicts(exception_type: str | None, message: str, category: str | None, fp: str | None,
             frames: tuple[tuple[str, str], ...], tags: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(category, fingerprint) of an error event: the ones given, else computed as `enrich` does (custom
    rules included). ``frames`` are its `in_app_frames`, ``tags`` its tags; routes call this before
    building the `NewEvent`, which then needs no copy in `enrich`."""
    if category is None:
        category = _category_cached(exception_type, mask_unique(message))
    if fp is None:
        fp = _fingerprint_cached(exception_type or UNTYPED, digits_key(_first_line(message)), frames)
        if _rules is not None:
            fp = apply_rules(fp, exception_type, message, frames, tags, category)
    return category, fp


def enrich(event: NewEvent) -> NewEvent:
    """``event`` with a category and a fingerprint when it is an error lacking them; others unchanged."""
    if event.kind is not EventKind.ERROR or (event.category is not None and event.fingerprint is not None):
        return event
    frames = in_app_frames(event.payload) if event.fingerprint is None else ()
    tags = _payload_tags(event.payload) if _rules is not None else None
    category, fp = verdicts(event.exception_type, event.message, event.category, event.fingerprint, frames, tags)
    return _with(event, category, fp)
