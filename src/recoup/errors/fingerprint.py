"""Fingerprints: one stable hex digest per *kind* of error, equal across runs, hosts and processes.

A fingerprint hashes the exception type, the message with its variable parts masked (numbers, ids, uuids,
hex, paths, IPs and ports, urls, emails, timestamps) and the in-app frames as module+function (never line
numbers, which move with every edit). Library and runtime frames are left out: they differ between
versions of a dependency without the error changing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

#: Messages that quote the offending *input* (a value, never a name of the code): the quoted value is masked
#: whatever it looks like, so ``invalid literal for int() with base 10: 'a3f9c2'`` is one error for every
#: input. Quoted names elsewhere (``KeyError: 'user_id'``, ``No module named 'boto3'``) are left alone: they
#: tell errors apart.
QUOTED_VALUE_CONTEXTS = (
    r"invalid literal for \w+\(\)(?: with base \d+)?: ",  # Python int(), float()
    r"could not convert string to \w+: ",  # Python float()
    r"time data ",  # Python datetime.strptime: time data '...' does not match format '...'
    r"Invalid isoformat string: ",  # Python date/datetime.fromisoformat
    r"invalid input (?:syntax|value) for (?:type |enum )?[\w ]+?: ",  # PostgreSQL
    r"For input string: ",  # Java NumberFormatException
    r"strconv\.\w+: parsing ",  # Go: strconv.Atoi: parsing "x": invalid syntax
)
_QUOTED_VALUE = (r"((?:" + "|".join(QUOTED_VALUE_CONTEXTS) + r"))(?:'[^'\n]*'|\"[^\"\n]*\")", r"\1<val>")

# Every pattern treats the ASCII digits 1-9 alike (classes only, no literal 1-9; the one literal digit is the
# 0 of ``0x``), and every digit left after the masks becomes <n>: so replacing each of 1-9 by 1 never changes
# what `normalise` returns. `digits_key` relies on it (tests/errors checks it); keep it so when adding masks.
_MASKS: tuple[tuple[str, str], ...] = (
    _QUOTED_VALUE,
    (r"\b[a-zA-Z][\w+.-]*://[^\s'\"<>)\]]+", "<url>"),
    (r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", "<email>"),
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<uuid>"),
    (r"\b\d{4}[-/]\d{2}[-/]\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?", "<ts>"),
    (r"\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<ts>"),
    (r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b", "<ip>"),
    (r"\[[0-9a-fA-F:]*:[0-9a-fA-F:]+\](?::\d+)?", "<ip>"),
    (r"(?<![\w.])(?:[A-Za-z]:)?(?:[/\\][\w.@+~-]+){2,}[/\\]?|(?<![\w/])/[\w.@+~-]+[/\\]?(?=['\":\s,)]|$)",
     "<path>"),
    (r"\b0x[0-9a-fA-F]+\b", "<hex>"),
    # ids glued to a prefix count too (``ch_03fa2e9be8137221``): only letters and digits end a run
    (r"(?<![^\W_])(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{7,}(?![^\W_])", "<hex>"),
    # ...and so does the same id when it happens to draw no letter (``orders_717136671036``, 1 in 270 random
    # 12-digit hex ids): otherwise one family splits into <hex> and <n> groups
    (r"(?<=[A-Za-z0-9][_-])\d{7,}(?![^\W_])", "<hex>"),
    (r"(?<=[:=])\d+\b|\bport \d+\b", "<port>"),
    (r"\d+(?:\.\d+)?", "<n>"),
    (r"\s+", " "),
)


@cache
def _compiled() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(p), repl) for p, repl in _MASKS)


_DIGITS_KEY = str.maketrans("23456789", "11111111")


def digits_key(message: str) -> str:
    """``message`` with the digits 1-9 made 1: ``normalise(digits_key(m)) == normalise(m)`` for every
    message, so it is a cache key for anything computed from the normalised message."""
    return message.translate(_DIGITS_KEY)


def normalise(message: str) -> str:
    """`message` with every variable part replaced by a placeholder (and whitespace collapsed)."""
    out = message
    for pattern, repl in _compiled():
        out = pattern.sub(repl, out)
    return out.strip()[:500]


#: Longest call cycle `collapse_recursion` folds (mutual recursion through up to this many functions).
MAX_RECURSION_CYCLE = 8


def collapse_recursion(frames: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``frames`` with directly repeated frames or cycles of frames (a→b→a→b) kept once: the same recursive
    bug at depth 3 and at depth 30 is one error, not two."""
    out: list[tuple[str, str]] = []
    for frame in frames:
        out.append(frame)
        n = len(out)
        for size in range(1, min(MAX_RECURSION_CYCLE, n // 2) + 1):
            if out[n - size:] == out[n - 2 * size:n - size]:
                del out[n - size:]
                break
    return out


def fingerprint(exc_type: str, message: str, frames: Iterable[tuple[str, str]] = ()) -> str:
    """Hex digest of type + normalised message + in-app frames (module+function), recursion collapsed."""
    import hashlib  # lazily: keeps `import recoup` light

    h = hashlib.blake2b(digest_size=10)
    h.update(exc_type.encode())
    h.update(b"\x00")
    h.update(normalise(message).encode())
    for module, func in collapse_recursion(frames):
        h.update(b"\x00")
        h.update(f"{module}:{func}".encode())
    return h.hexdigest()
