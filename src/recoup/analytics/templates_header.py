"""Finding where a raw log line's header ends and its message begins, with no per-format configuration.

A header opens with a token holding digits, ``-``, ``[`` or a month or day name (or is just a level). Then two
signs mark its end within the first twelve tokens: a severity word (``INFO``, ``[warn]``, ``ERROR:``;
after a clock also Android's ``D``/``I``/``W``/``E``), followed by optional ``-`` and ``[thread]``
tokens and one ``component:`` token; or else, after a clock time (``12:01:01``), a syslog-style
``program[pid]:`` token. A line showing neither is taken to be a bare message and kept whole, so
messages without a header are not cut.
"""

from __future__ import annotations

import re

_LEVEL_WORDS = (
    "TRACE",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARN",
    "WARNING",
    "ERROR",
    "ERR",
    "FATAL",
    "CRITICAL",
    "CRIT",
    "SEVERE",
    "ALERT",
    "EMERG",
    "FINE",
    "FINER",
    "FINEST",
)
_LETTERS = frozenset({"V", "D", "I", "W", "E", "F"})  # Android-style one-letter levels, trusted only after a clock


def _forms(word: str) -> set[str]:
    bracketed = {f"[{word}]", f"<{word}>", f"({word})"}
    return {word, f"{word}:", f"{word},"} | bracketed | {f"{b}:" for b in bracketed}


# upper case anywhere; Title case ("Info," in Windows CBS logs) and lower case ("[notice]") only marked
# by punctuation or title case, since a bare "error" or "info" is often a word of the message itself
_LEVELS = frozenset().union(
    *(_forms(w) for w in _LEVEL_WORDS),
    *(_forms(w.lower()) - {w.lower()} for w in _LEVEL_WORDS),
    *(_forms(w.title()) for w in _LEVEL_WORDS),
)
_MAX_HEADER_TOKENS = 12

_CALENDAR = frozenset(
    {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
    | {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
)
_DIGIT = re.compile(r"\d")
_CLOCK = re.compile(r"\d{1,2}:\d{2}:\d{2}")
_PROGRAM = re.compile(r"^[\w.$/()@-]+(\[\d+\])?:$")
_COMPONENT = re.compile(r"^[\w.$/@-]+:$")


def _after_level(tokens: list[str], j: int) -> int:
    """Skip what follows a level: ``-``, ``[thread name]`` (possibly spaced), one ``component:``."""
    last = len(tokens) - 1
    while j < last:
        token = tokens[j]
        if token == "-":
            j += 1
        elif token[0] == "[":
            k = j
            while k < last and not tokens[k].endswith("]"):
                k += 1
            if k >= last:
                break
            j = k + 1
        else:
            break
    if j < last and _COMPONENT.match(tokens[j]):
        j += 1
    while j < last and tokens[j] == "-":
        j += 1
    return j


def split_header(tokens: list[str]) -> int:
    """How many leading tokens form the header (0 when the line looks like a bare message)."""
    if len(tokens) < 2:
        return 0
    first = tokens[0]
    if first in _LEVELS:
        return _after_level(tokens, 1)
    # a header opens with a token holding digits (a date, a number), "-", "[" or a month/day name; a bare
    # message rarely does, and this gate keeps "... failed ERROR 42" whole and makes bare messages cheap
    if not (first[0] in "-[" or first[:3] in _CALENDAR or _DIGIT.search(first)):
        return 0
    limit = min(len(tokens) - 1, _MAX_HEADER_TOKENS)
    seen_clock = ":" in first and _CLOCK.search(first) is not None
    program_end = 0
    for i in range(1, limit):
        token = tokens[i]
        if token in _LEVELS or (seen_clock and token in _LETTERS):
            return _after_level(tokens, i + 1)
        if program_end or ":" not in token:
            continue
        if not seen_clock:
            seen_clock = _CLOCK.search(token) is not None
        elif token[-1] == ":" and _PROGRAM.match(token):
            program_end = i + 1
    return program_end
