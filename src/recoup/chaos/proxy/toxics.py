"""Toxic definitions: what a fault is, validated once when it is created, in toxiproxy's JSON shape.

A toxic is immutable; updating one builds a new `Toxic`, so a connection that holds the old one keeps a
consistent view of it until its next chunk. Every attribute is checked here so that a bad toxic fails at
the API (HTTP 400, CLI exit 2) with a message naming the field, never half-way through a live connection.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from recoup.chaos.proxy.errors import BadRequest

STREAMS: Final = ("upstream", "downstream")

_NUMBER = (int, float)

#: Attributes of every toxic type and their defaults (toxiproxy's names and units, then our extras).
TOXIC_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "latency": {"latency": 0, "jitter": 0},  # ms, ms
    "bandwidth": {"rate": 0},  # KB/s (1 KB = 1000 bytes)
    "slow_close": {"delay": 0},  # ms
    "timeout": {"timeout": 0},  # ms; 0 = hold forever
    "reset_peer": {"timeout": 0},  # ms before the RST
    "slicer": {"average_size": 0, "size_variation": 0, "delay": 0},  # bytes, bytes, µs
    "limit_data": {"bytes": 0},
    "blackhole": {},
    "partial_write": {"bytes": 0},
    "http_status": {
        "status": 503,
        "method": "*",
        "path": "*",
        "retry_after": None,
        "body": "",
        "content_type": "text/plain; charset=utf-8",
    },
}

#: Attributes any toxic may carry: a regex on the bytes of a stream that makes the toxic conditional.
COMMON_DEFAULTS: Final[dict[str, Any]] = {"match": None, "match_stream": "upstream"}

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


class ToxicError(BadRequest):
    """A toxic (or its attributes) is invalid; the message names the bad field and value."""


@dataclass(frozen=True)
class Toxic:
    """One fault on one direction of a proxy. Build with `Toxic.create` (validates) or `Toxic.from_json`."""

    name: str
    type: str
    stream: str = "downstream"
    toxicity: float = 1.0
    attributes: Mapping[str, Any] = field(default_factory=dict)
    match: re.Pattern[bytes] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def create(
        cls,
        type: str,
        *,
        name: str | None = None,
        stream: str = "downstream",
        toxicity: float = 1.0,
        **attributes: Any,
    ) -> Toxic:
        """Validate and build a toxic; ``name`` defaults to ``<type>_<stream>`` like toxiproxy."""
        if type not in TOXIC_DEFAULTS:
            raise ToxicError(f"invalid toxic type: {type!r} (known: {', '.join(sorted(TOXIC_DEFAULTS))})")
        if stream not in STREAMS:
            raise ToxicError(f"stream was invalid: {stream!r}, can be either upstream or downstream")
        if type == "http_status" and stream != "upstream":
            raise ToxicError("http_status reads requests, so its stream must be 'upstream' (got 'downstream')")
        name = f"{type}_{stream}" if name is None else name
        if not isinstance(name, str) or not _NAME.match(name):
            raise ToxicError(f"toxic name {name!r} must be 1-100 characters of letters, digits, '_', '.', '-'")
        if isinstance(toxicity, bool) or not isinstance(toxicity, _NUMBER) or not 0.0 <= toxicity <= 1.0:
            raise ToxicError(f"toxicity must be a number between 0 and 1, got {toxicity!r}")
        merged = _validate_attributes(type, attributes)
        pattern = merged.get("match")
        compiled = re.compile(pattern.encode("utf-8"), re.DOTALL) if isinstance(pattern, str) else None
        return cls(name, type, stream, float(toxicity), merged, compiled)

    @classmethod
    def from_json(cls, obj: object) -> Toxic:
        """Build from toxiproxy's JSON: {name?, type, stream?, toxicity?, attributes?}."""
        if not isinstance(obj, Mapping):
            raise ToxicError(f"a toxic must be a JSON object, got {type(obj).__name__}")
        unknown = set(obj) - {"name", "type", "stream", "toxicity", "attributes", *COMMON_DEFAULTS}
        if unknown:
            raise ToxicError(f"unknown toxic field(s): {', '.join(sorted(unknown))}")
        kind = obj.get("type")
        if not isinstance(kind, str):
            raise ToxicError("missing required field: type")
        attributes = obj.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            raise ToxicError(f"attributes must be a JSON object, got {attributes!r}")
        # `match`/`match_stream` are attributes, also accepted beside them for clients that set fields
        attributes = {**attributes, **{key: obj[key] for key in COMMON_DEFAULTS if key in obj}}
        return cls.create(
            kind,
            name=obj.get("name") or None,
            stream=obj.get("stream") or "downstream",
            toxicity=obj.get("toxicity", 1.0),
            **dict(attributes),
        )

    def updated(self, obj: object) -> Toxic:
        """A copy with the fields in ``obj`` changed (toxiproxy's partial update); the type cannot change."""
        if not isinstance(obj, Mapping):
            raise ToxicError(f"a toxic update must be a JSON object, got {type(obj).__name__}")
        if "type" in obj and obj["type"] != self.type:
            raise ToxicError(f"a toxic's type cannot change ({self.type!r} -> {obj['type']!r}); delete and re-add it")
        if "name" in obj and obj["name"] != self.name:
            raise ToxicError(f"a toxic's name cannot change ({self.name!r} -> {obj['name']!r})")
        attributes = dict(self.attributes)
        new_attributes = obj.get("attributes") or {}
        if not isinstance(new_attributes, Mapping):
            raise ToxicError(f"attributes must be a JSON object, got {new_attributes!r}")
        attributes.update(new_attributes)
        attributes.update({key: obj[key] for key in COMMON_DEFAULTS if key in obj})
        return self.from_json(
            {
                "name": self.name,
                "type": self.type,
                "stream": obj.get("stream", self.stream),
                "toxicity": obj.get("toxicity", self.toxicity),
                "attributes": attributes,
            }
        )

    def to_json(self) -> dict[str, Any]:
        """toxiproxy's shape; our extra attributes appear only when set, so its clients see what they expect."""
        shown = {k: v for k, v in self.attributes.items() if k not in COMMON_DEFAULTS or v != COMMON_DEFAULTS[k]}
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": shown,
        }

    def attr(self, key: str) -> Any:
        return self.attributes[key]


def _validate_attributes(kind: str, given: Mapping[str, Any]) -> dict[str, Any]:
    defaults = {**TOXIC_DEFAULTS[kind], **COMMON_DEFAULTS}
    unknown = set(given) - set(defaults)
    if unknown:
        allowed = ", ".join(sorted(defaults)) or "none"
        raise ToxicError(f"unknown attribute(s) for {kind} toxic: {', '.join(sorted(unknown))} (allowed: {allowed})")
    merged = {**defaults, **given}
    for key, default in TOXIC_DEFAULTS[kind].items():
        value = merged[key]
        is_number = isinstance(default, int) and not isinstance(default, bool)
        if is_number and (isinstance(value, bool) or not isinstance(value, _NUMBER) or value < 0):
            raise ToxicError(f"{kind}.{key} must be a number >= 0, got {value!r}")
    _check_type_specific(kind, merged)
    _check_match(kind, merged)
    return merged


def _check_type_specific(kind: str, a: dict[str, Any]) -> None:
    if kind == "bandwidth" and a["rate"] <= 0:
        raise ToxicError(f"bandwidth.rate must be > 0 KB/s, got {a['rate']!r} (use a timeout toxic to stop data)")
    if kind == "slicer":
        if a["average_size"] < 1:
            raise ToxicError(f"slicer.average_size must be >= 1 byte, got {a['average_size']!r}")
        if a["size_variation"] >= a["average_size"]:
            raise ToxicError(
                f"slicer.size_variation ({a['size_variation']!r}) must be smaller than "
                f"average_size ({a['average_size']!r})"
            )
    if kind in ("limit_data", "partial_write", "slicer"):
        for key in ("bytes", "average_size", "size_variation"):
            if key in a and a[key] != int(a[key]):
                raise ToxicError(f"{kind}.{key} must be a whole number of bytes, got {a[key]!r}")
            if key in a:
                a[key] = int(a[key])
    if kind == "http_status":
        status = a["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ToxicError(f"http_status.status must be an integer HTTP status 100-599, got {status!r}")
        for key in ("method", "path", "body", "content_type"):
            if not isinstance(a[key], str):
                raise ToxicError(f"http_status.{key} must be a string, got {a[key]!r}")
        retry = a["retry_after"]
        if retry is not None and (isinstance(retry, bool) or not isinstance(retry, _NUMBER) or retry < 0):
            raise ToxicError(f"http_status.retry_after must be seconds >= 0, got {retry!r}")


def _check_match(kind: str, a: dict[str, Any]) -> None:
    pattern = a["match"]
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            raise ToxicError(f"{kind}.match must be a non-empty regular expression string, got {pattern!r}")
        try:
            re.compile(pattern.encode("utf-8"))
        except re.error as exc:
            raise ToxicError(f"{kind}.match is not a valid regular expression ({exc}): {pattern!r}") from None
    if a["match_stream"] not in STREAMS:
        raise ToxicError(f"{kind}.match_stream must be 'upstream' or 'downstream', got {a['match_stream']!r}")


_SPEC_SPLIT = re.compile(r",(?=\s*[A-Za-z_][A-Za-z0-9_]*=)")


def parse_toxic_spec(spec: str) -> Toxic:
    """Parse the CLI form ``type[:key=value,...]``, e.g. ``latency:latency=100,jitter=10,stream=upstream``.

    ``name``, ``stream`` and ``toxicity`` are the toxic's own fields; every other key is an attribute. A value
    may contain commas (a ``match`` regex) as long as no comma is followed by ``word=``.
    """
    kind, _, rest = spec.strip().partition(":")
    if not kind:
        raise ToxicError(f"toxic spec {spec!r} must start with a type, e.g. 'latency:latency=100'")
    fields: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for part in _SPEC_SPLIT.split(rest) if rest.strip() else []:
        key, sep, raw = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ToxicError(f"toxic spec {spec!r}: {part!r} is not key=value")
        target = fields if key in ("name", "stream", "toxicity") else attributes
        target[key] = (
            raw if key in ("name", "stream", "match", "match_stream", "body", "method", "path") else (_scalar(raw))
        )
    return Toxic.create(kind, **fields, **attributes)


def _scalar(raw: str) -> Any:
    text = raw.strip()
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return text
