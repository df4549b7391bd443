"""Tokenising and masking for template mining: which parts of a log token are parameters.

One rule set for every log, no per-dataset tuning: a token (or the value of a ``key=value`` token) is a
parameter when its core, stripped of brackets and punctuation, contains a digit — that covers ids,
numbers, hex, IPs, ports, timestamps, uuids, block ids, host names such as ``node-12`` — or is a Unix or
Windows path, a URL, an email, or a month or weekday name (the words of a timestamp). A ``word:123``
token is a key and its value like ``word=123``. A number and the unit after it (``1190 bytes``, ``<1 sec``)
are joined into one token first (`join_quantities`), so a value keeps one token with or without a unit.
Results are cached per distinct token, which is what makes the miner fast: real logs repeat tokens a lot.
"""

from __future__ import annotations

import re

WILDCARD = "<*>"

# Punctuation that wraps a value without being part of it: "(uid=0)", "[12]", "'abc',", "size:".
_EDGE = "()[]{}<>,;:'\"`."
_CLOSERS = {")": "(", "]": "[", "}": "{", ">": "<"}
_OPENERS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$")
_CALENDAR = frozenset(
    {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
    | {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
)
# "uid=", "rhost=": an identifier, so a URL's "?b=" is no key; "onExtend:" before a number, a plain word (so a
# host name before its port, "db.local:5432", is no key: the whole token is the value)
_KEY = re.compile(r"[(\[{<'\"]*(?:[A-Za-z_][\w.\-]*=|[A-Za-z_]+:(?=\d))")
_MAYBE_VARIABLE = re.compile(r"[\d/@\\]")
_CACHE_LIMIT = 200_000

# Units of measure: after a number they belong to the value ("1190 bytes", "(1.16 KB)", "<1 sec"), so a value
# written with or without its unit, or with a different one, is still one token. A fixed, general list.
_UNIT_WORDS = (
    *("B", "byte", "bytes", "KB", "kB", "KiB", "MB", "MiB", "GB", "GiB", "TB", "TiB", "PB"),
    *("ns", "us", "µs", "ms", "s", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes"),
    *("hour", "hours", "day", "days"),
)
UNITS = frozenset(u + end for u in _UNIT_WORDS for end in ("", ")", "]", ",", ".", ";", "),", ")."))
_DIGIT = re.compile(r"\d")
_QUANTITY = re.compile(r"[(\[<>~=+-]*\d[\d.,:]*")


def _is_variable(core: str) -> bool:
    """A token core is a parameter when it carries digits, or is a path, URL or email."""
    if not core:
        return False
    if _DIGIT.search(core) is not None:
        return True
    if (core[0] == "/" and len(core) > 1) or core[1:3] == ":\\":  # a Unix or a Windows path
        return True
    if "://" in core and _URL.match(core):
        return True
    return "@" in core and _EMAIL.match(core) is not None


def _mask_core(token: str) -> str:
    """Mask one whitespace-free piece, keeping the punctuation around it so templates stay readable."""
    start = len(token) - len(token.lstrip(_EDGE))
    end = len(token.rstrip(_EDGE)) if start < len(token) else start
    # a bracket closing one opened inside the core belongs to it: "LOCAL(0)," masks to "<*>,"
    while end < len(token) and token[end] in _CLOSERS and _CLOSERS[token[end]] in token[start:end]:
        end += 1
    while start > 0 and token[start - 1] in _OPENERS and _OPENERS[token[start - 1]] in token[start:end]:
        start -= 1
    core = token[start:end]
    if not _is_variable(core):
        return token
    return token[:start] + WILDCARD + token[end:]


def join_quantities(tokens: list[str]) -> list[str]:
    """Tokens with each number and the unit after it joined into one (``["1190", "bytes"]`` -> ``["1190 bytes"]``)."""
    out: list[str] = []
    for token in tokens:
        if token in UNITS and out and _QUANTITY.fullmatch(out[-1]):
            out[-1] = f"{out[-1]} {token}"
        else:
            out.append(token)
    return out


def mask_token(token: str) -> str:
    """The masked form of one token: ``key=value`` masks only the value; otherwise the whole core."""
    found = _MAYBE_VARIABLE.search(token)
    if found is None:
        # the common constant word: no digit, slash or @; a month or weekday is part of a timestamp
        return WILDCARD if token.strip(_EDGE) in _CALENDAR else token
    if found.group().isdigit() and token[0].isalnum() and token[-1].isalnum() and "=" not in token and ":" not in token:
        return WILDCARD  # the common value: no punctuation around it to keep
    key = _KEY.match(token)
    if key is not None and key.end() < len(token):
        value = token[key.end() :]
        if "=" not in value:
            masked_value = _mask_core(value)
            return token[: key.end()] + masked_value if masked_value != value else token
    return _mask_core(token)


class _TokenCache(dict[str, str]):
    """token -> masked token; a miss masks and remembers (one C-level lookup per token on a hit)."""

    def __missing__(self, token: str) -> str:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        masked = self[token] = mask_token(token)
        return masked


class Masker:
    """Masks token lists with a bounded cache of token -> masked token."""

    def __init__(self) -> None:
        self.lookup = _TokenCache().__getitem__  # token -> masked token; callers on a hot path map it directly

    def mask(self, tokens: list[str]) -> tuple[str, ...]:
        """The masked tokens, one for one (a tuple: it is the template index's key as it stands)."""
        return tuple(map(self.lookup, tokens))
