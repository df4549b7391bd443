"""The Sentry envelope format (develop.sentry.dev, "Envelopes"), parsed from bytes.

    Envelope = Headers { "\\n" Item } [ "\\n" ]
    Item     = Headers "\\n" Payload [ "\\n" ]

Headers are single-line JSON objects. An item whose headers carry ``length`` has exactly that many payload
bytes (which may contain newlines); without it the payload runs to the next newline or the end. The
parser is a loop of ``bytes.find`` and ``orjson.loads``, no regular expressions: it runs on every request
(the standard library re-reads only a header orjson refuses, for its error message).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

import orjson

#: Items per envelope; SDKs send one event plus a few attachments or sessions, so this is generous.
MAX_ITEMS = 1_000

_NL = 0x0A


class EnvelopeError(ValueError):
    """The body is not a well-formed envelope; the message says where and why (it becomes a 400)."""


@dataclass(frozen=True, slots=True)
class EnvelopeItem:
    """One item: its type (``event``, ``transaction``, ``session``, ``attachment``, ...), its headers and its
    payload bytes, unparsed (only event items are ever decoded)."""

    type: str
    headers: dict[str, Any]
    payload: bytes


@dataclass(frozen=True, slots=True)
class Envelope:
    headers: dict[str, Any]
    items: tuple[EnvelopeItem, ...]

    @property
    def event_id(self) -> str | None:
        value = self.headers.get("event_id")
        return value if isinstance(value, str) else None

    @property
    def dsn(self) -> str | None:
        value = self.headers.get("dsn")
        return value if isinstance(value, str) else None


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)  # built once, not per header


def _header(line: bytes, where: str) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        value = _header_slow(line, where)
    if type(value) is not dict:
        raise EnvelopeError(f"{where} must be a JSON object, got {type(value).__name__}")
    return value


def _header_slow(line: bytes, where: str) -> Any:
    """What orjson refused, read by the standard library: its error message (or, for a lone surrogate escape
    orjson refuses and json accepts, the value)."""
    try:
        value = _DECODER.decode(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"{where} is not valid JSON: {exc}") from None
    return value


def parse_envelope(data: bytes, *, max_items: int = MAX_ITEMS) -> Envelope:
    """``data`` as an `Envelope`, or `EnvelopeError` naming the first problem (nothing is partially kept)."""
    size = len(data)
    end = data.find(b"\n")
    if end < 0:
        end = size
    if not data[:end].strip():
        raise EnvelopeError("the envelope is empty: the first line must be the envelope header (a JSON object)")
    headers = _header(data[:end], "the envelope header")
    pos = end + 1
    items: list[EnvelopeItem] = []
    while pos < size:
        end = data.find(b"\n", pos)
        if end < 0:
            end = size
        line = data[pos:end]
        if not line.strip():  # blank lines between items (or at the very end) carry nothing
            pos = end + 1
            continue
        index = len(items)
        if index >= max_items:
            raise EnvelopeError(f"the envelope has more than {max_items} items")
        item_headers = _header(line, f"item {index} header")
        item_type = item_headers.get("type")
        if not isinstance(item_type, str) or not item_type:
            raise EnvelopeError(f'item {index} header has no "type" (a non-empty string)')
        pos = end + 1
        length = item_headers.get("length")
        if length is None:
            end = data.find(b"\n", pos)
            if end < 0:
                end = size
            payload = data[pos:end]
            pos = end + 1
        else:
            if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                raise EnvelopeError(f'item {index} ({item_type}): "length" must be a non-negative integer, '
                                    f"got {length!r}")
            if pos + length > size:
                raise EnvelopeError(f"item {index} ({item_type}) declares {length} payload bytes but only "
                                    f"{max(0, size - pos)} remain")
            payload = data[pos:pos + length]
            pos += length
            if pos < size:
                if data[pos] != _NL:
                    raise EnvelopeError(f"item {index} ({item_type}): the {length} declared payload bytes are "
                                        "not followed by a newline (wrong length?)")
                pos += 1
        items.append(EnvelopeItem(item_type, item_headers, payload))
    return Envelope(headers, tuple(items))


def serialize_envelope(headers: dict[str, Any], items: list[tuple[dict[str, Any], bytes]]) -> bytes:
    """The wire form of an envelope, every item with an explicit ``length`` (tests and tools build with it)."""
    parts = [json.dumps(headers, separators=(",", ":")).encode()]
    for item_headers, payload in items:
        parts.append(json.dumps({**item_headers, "length": len(payload)}, separators=(",", ":")).encode())
        parts.append(payload)
    return b"\n".join(parts) + b"\n"
