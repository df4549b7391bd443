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

_MASKS: tuple[tuple[str, str], ...] = (
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
    (r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{7,}\b", "<hex>"),
    (r"(?<=[:=])\d+\b|\bport \d+\b", "<port>"),
    (r"\d+(?:\.\d+)?", "<n>"),
    (r"\s+", " "),
)


@cache
def _compiled() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(p), repl) for p, repl in _MASKS)


def normalise(message: str) -> str:
    """`message` with every variable part replaced by a placeholder (and whitespace collapsed)."""
    out = message
    for pattern, repl in _compiled():
        out = pattern.sub(repl, out)
    return out.strip()[:500]


def fingerprint(exc_type: str, message: str, frames: Iterable[tuple[str, str]] = ()) -> str:
    """Hex digest of type + normalised message + in-app frames (module+function)."""
    import hashlib  # lazily: keeps `import recoup` light

    h = hashlib.blake2b(digest_size=10)
    h.update(exc_type.encode())
    h.update(b"\x00")
    h.update(normalise(message).encode())
    for module, func in frames:
        h.update(b"\x00")
        h.update(f"{module}:{func}".encode())
    return h.hexdigest()
