"""Plain values crossing the store's boundary: what callers hand in (`NewEvent`, `NewAlert`) and what they
get back (frozen dataclasses, never ORM rows).

Returning detached, immutable values keeps the session-per-call contract honest: nothing the server holds
can lazy-load from a closed session or be mutated behind the database's back, and the values pickle, so
they can cross threads and processes.

Inputs validate in ``__post_init__`` and raise `InvalidInput` naming the field, so the server can turn a
bad payload into a 4xx that says what is wrong before anything touches the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

_E = TypeVar("_E", bound=StrEnum)


class StoreError(Exception):
    """Base class of the store's own errors."""


class InvalidInput(StoreError, ValueError):
    """A value handed to the store is unusable; ``field`` names which one (dotted, with an index in a batch)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem

    def within(self, prefix: str) -> InvalidInput:
        """The same problem, located inside a batch (``events[3].event_id``)."""
        return InvalidInput(f"{prefix}.{self.field}", self.problem)


class StoreUnavailable(StoreError):
    """The database cannot be reached (or dropped the connection): nothing was committed; spool and retry."""


class NotFound(StoreError, LookupError):
    """The referenced project or group does not exist."""


class EventKind(StrEnum):
    """What produced the event; kept open-ended in the schema (a string column) so later kinds need no migration."""

    ERROR = "error"
    RECOVERY = "recovery"
    BREAKER = "breaker"
    CHECKPOINT = "checkpoint"
    ALERT = "alert"
    METRIC = "metric"


class Level(StrEnum):
    """Severity as Sentry and logging name it."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    FATAL = "fatal"


class GroupStatus(StrEnum):
    """Triage state of an error group. A new event reopens a *resolved* group (a regression); ignored and
    muted groups stay as they are."""

    UNRESOLVED = "unresolved"
    RESOLVED = "resolved"
    IGNORED = "ignored"
    MUTED = "muted"


class AlertStatus(StrEnum):
    """Alertmanager's two states of an alert."""

    FIRING = "firing"
    RESOLVED = "resolved"


# Column widths, shared by the models and the validation so an over-long value is a clear 4xx, not a
# database error on PostgreSQL (or silent acceptance on SQLite, which ignores VARCHAR lengths).
EVENT_ID_MAX = 64
FINGERPRINT_MAX = 128
CATEGORY_MAX = 32
EXCEPTION_TYPE_MAX = 255
TITLE_MAX = 500
NAME_MAX = 200
URL_MAX = 2000
MESSAGE_MAX = 65_536


def _require_str(name: str, value: object, max_len: int, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidInput(name, f"must be a string, got {type(value).__name__}")
    if not empty_ok and not value.strip():
        raise InvalidInput(name, "must not be empty")
    if len(value) > max_len:
        raise InvalidInput(name, f"is {len(value)} characters long, at most {max_len} allowed")
    if "\x00" in value:
        raise InvalidInput(name, "must not contain NUL characters")
    return value


def _optional_str(name: str, value: object, max_len: int) -> str | None:
    return None if value is None else _require_str(name, value, max_len)


def _aware(name: str, value: object) -> datetime:
    if type(value) is datetime and value.tzinfo is UTC:  # the common case, already what is returned
        return value
    if not isinstance(value, datetime):
        raise InvalidInput(name, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(name, "must be timezone-aware (naive datetimes are ambiguous)")
    return value.astimezone(UTC)


def _json_object(name: str, value: object) -> dict[str, Any]:
    return _json_object_text(name, value)[0]


def _json_object_text(name: str, value: object) -> tuple[dict[str, Any], str]:
    """The mapping as a plain dict, and its JSON text (what the store writes)."""
    if not isinstance(value, Mapping):
        raise InvalidInput(name, f"must be an object (mapping), got {type(value).__name__}")
    data = {str(k): v for k, v in value.items()}
    try:
        # allow_nan=False: NaN is not JSON and PostgreSQL's json type rejects it at commit time.
        dumped = json.dumps(data, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(name, f"must be JSON-serialisable: {exc}") from None
    _refuse_nul(name, dumped, data)
    return data, dumped


def _refuse_nul(name: str, dumped: str, data: object) -> None:
    if "\\u0000" in dumped and _has_nul(data):
        raise InvalidInput(name, "strings must not contain NUL (\\u0000) characters; PostgreSQL cannot store them")


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _enum(name: str, kind: type[_E], value: object) -> _E:
    if type(value) is kind:  # already a member (every event built by the routes): no lookup
        return value
    try:
        return kind(value)  # type: ignore[arg-type]  # any value is tried; a non-member raises ValueError
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(name, f"{value!r} is not one of: {allowed}") from None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One event to ingest. ``event_id`` is the producer's id: the store keeps one row per (project,
    event_id), so a redelivered batch is ingested exactly once. Events with a ``fingerprint`` are counted
    into the project's group of that fingerprint; ``title`` names a group when it is created."""

    event_id: str
    kind: EventKind
    occurred_at: datetime
    message: str = ""
    level: Level = Level.ERROR
    category: str | None = None
    fingerprint: str | None = None
    exception_type: str | None = None
    title: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    # The payload's JSON text, when the producer already has it (an ingest route that serialised it with
    # orjson): it is then written as is instead of being serialised again. It must encode ``payload``.
    payload_json: str | None = None

    def __post_init__(self) -> None:
        eid = _require_str("event_id", self.event_id, EVENT_ID_MAX)
        if eid != eid.strip() or not eid.isprintable():
            raise InvalidInput("event_id", "must be printable without surrounding whitespace")
        object.__setattr__(self, "kind", _enum("kind", EventKind, self.kind))
        object.__setattr__(self, "occurred_at", _aware("occurred_at", self.occurred_at))
        _require_str("message", self.message, MESSAGE_MAX, empty_ok=True)
        object.__setattr__(self, "level", _enum("level", Level, self.level))
        _optional_str("category", self.category, CATEGORY_MAX)
        _optional_str("fingerprint", self.fingerprint, FINGERPRINT_MAX)
        _optional_str("exception_type", self.exception_type, EXCEPTION_TYPE_MAX)
        if self.title is not None:
            # Titles are display text: clip rather than reject, a long first line is not the producer's fault.
            object.__setattr__(self, "title", _require_str("title", self.title, MESSAGE_MAX)[:TITLE_MAX])
        if self.payload_json is None:
            data, text = _json_object_text("payload", self.payload)
            object.__setattr__(self, "payload", data)
            object.__setattr__(self, "payload_json", text)
        else:
            if not isinstance(self.payload_json, str) or not self.payload_json.startswith("{"):
                raise InvalidInput("payload_json", "must be the JSON text of the payload object")
            if not isinstance(self.payload, dict):
                kind = type(self.payload).__name__
                raise InvalidInput("payload", f"must be a dict when payload_json is given, got {kind}")
            _refuse_nul("payload", self.payload_json, self.payload)

    def group_title(self) -> str:
        """The title a new group gets: the explicit one, else ``Type: first line of the message``."""
        if self.title:
            return self.title
        first_line = self.message.strip().splitlines()[0] if self.message.strip() else ""
        text = f"{self.exception_type}: {first_line}" if self.exception_type else first_line
        return (text or self.fingerprint or "untitled")[:TITLE_MAX]


@dataclass(frozen=True, slots=True)
class NewAlert:
    """One alert as Alertmanager's webhook (version 4) reports it. Alertmanager sends the zero time
    (year 1) for an unset ``endsAt``; pass None for that."""

    fingerprint: str
    status: AlertStatus
    starts_at: datetime
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    ends_at: datetime | None = None
    generator_url: str = ""

    def __post_init__(self) -> None:
        _require_str("fingerprint", self.fingerprint, FINGERPRINT_MAX)
        object.__setattr__(self, "status", _enum("status", AlertStatus, self.status))
        object.__setattr__(self, "starts_at", _aware("starts_at", self.starts_at))
        if self.ends_at is not None:
            ends = _aware("ends_at", self.ends_at)
            object.__setattr__(self, "ends_at", None if ends.year <= 1 else ends)
        for name in ("labels", "annotations"):
            data = _json_object(name, getattr(self, name))
            bad = [k for k, v in data.items() if not isinstance(v, str)]
            if bad:
                raise InvalidInput(f"{name}.{bad[0]}", "values must be strings")
            object.__setattr__(self, name, data)
        _require_str("generator_url", self.generator_url, URL_MAX, empty_ok=True)


@dataclass(frozen=True, slots=True)
class Project:
    """A project: the unit that owns keys, events and groups. ``id`` is an integer because Sentry DSNs
    carry a numeric project id."""

    id: int
    name: str
    slug: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ProjectKey:
    """An ingest key (the DSN's public key) and the project it may write to."""

    id: int
    project: Project
    public_key: str
    active: bool
    rate_limit_per_minute: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AdminToken:
    """What is kept about an admin token: never the token, only its hash and a display prefix."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """Events of one project sharing a fingerprint. ``count`` is maintained at ingest, so it survives
    the pruning of old events."""

    id: int
    project_id: int
    fingerprint: str
    title: str
    category: str | None
    status: GroupStatus
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored."""

    id: int
    project_id: int
    event_id: str
    kind: EventKind
    level: Level
    received_at: datetime
    occurred_at: datetime
    group_id: int | None
    category: str | None
    fingerprint: str | None
    message: str
    exception_type: str | None
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Alert:
    """An Alertmanager alert instance, identified by (fingerprint, starts_at)."""

    id: int
    project_id: int | None
    fingerprint: str
    status: AlertStatus
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one `Store.ingest_events` call committed.

    ``inserted`` and ``duplicates`` hold event ids in input order (a duplicate is an id already stored, or
    repeated within the batch); ``groups`` maps each fingerprint in the batch to its group id, and
    ``new_groups`` lists the fingerprints whose group this call created."""

    inserted: tuple[str, ...]
    duplicates: tuple[str, ...]
    groups: Mapping[str, int]
    new_groups: tuple[str, ...]


def utcnow() -> datetime:
    """Aware UTC now; one place so tests and the store agree on the clock's type."""
    return datetime.now(UTC)


def positive_int(name: str, value: object, *, maximum: int | None = None) -> int:
    """Validate a count-like argument (limits, batch sizes, rate limits)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(name, f"must be a positive integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise InvalidInput(name, f"must be at most {maximum}, got {value}")
    return value
