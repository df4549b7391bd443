"""Tokenising and masking for template mining: which parts of a log token are parameters.

One rule set for every log, no per-dataset tuning: a token (or the value of a ``key=value`` token) is a
parameter when its core, stripped of brackets and punctuation, contains a digit — that covers ids,
numbers, hex, IPs, ports, timestamps, uuids, block ids, host names such as ``node-12`` — or is a Unix or
Windows path, a URL, an email, or a month or weekday name (the words of a timestamp). Results are cached
per distinct token, which is what makes the miner fast: real logs repeat tokens a lot.
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
_KEY = re.compile(r"[(\[{<'\"]*[A-Za-z_][\w.\-]*=")  # "uid=", "rhost=": an identifier, so a URL's "?b=" is no key
_MAYBE_VARIABLE = re.compile(r"[\d/@\\]")
_CACHE_LIMIT = 200_000


def _is_variable(core: str) -> bool:
    """A token core is a parameter when it carries digits, or is a path, URL or email."""
    if not core:
        return False
    for ch in core:
        if ch.isdigit():
            return True
    if (core[0] == "/" and len(core) > 1) or core[1:3] == ":\\":  # a Unix or a Windows path
        return True
    if "://" in core and _URL.match(core):
        return True
    return "@" in core and _EMAIL.match(core) is not None


def _mask_core(token: str) -> str:
    """Mask one whitespace-free piece, keeping the punctuation around it so templates stay readable."""
    start, end = 0, len(token)
    while start < end and token[start] in _EDGE:
        start += 1
    while end > start and token[end - 1] in _EDGE:
        end -= 1
    # a bracket closing one opened inside the core belongs to it: "LOCAL(0)," masks to "<*>,"
    while end < len(token) and token[end] in _CLOSERS and _CLOSERS[token[end]] in token[start:end]:
        end += 1
    while start > 0 and token[start - 1] in _OPENERS and _OPENERS[token[start - 1]] in token[start:end]:
        start -= 1
    core = token[start:end]
    if not _is_variable(core):
        return token
    return token[:start] + WILDCARD + token[end:]


def mask_token(token: str) -> str:
    """The masked form of one token: ``key=value`` masks only the value; otherwise the whole core."""
    found = _MAYBE_VARIABLE.search(token)
    if found is None:
        # the common constant word: no digit, slash or @; a month or weekday is part of a timestamp
        return WILDCARD if token.strip(_EDGE) in _CALENDAR else token
    if found.group().isdigit() and token[0].isalnum() and token[-1].isalnum() and "=" not in token:
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
        self._lookup = _TokenCache().__getitem__

    def mask(self, tokens: list[str]) -> tuple[str, ...]:
        """The masked tokens, one for one (a tuple: it is the template index's key as it stands)."""
        return tuple(map(self._lookup, tokens))
