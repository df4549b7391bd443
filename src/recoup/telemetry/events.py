"""Typed telemetry events: what recoup tells the outside world, as frozen stdlib dataclasses.

Every event serialises with `to_dict()` to a JSON-safe dict carrying a ``type`` discriminator and a
``schema`` version, and comes back with `event_from_dict()` (or `<Class>.from_dict()`). The dict form is
the wire format of the JSONL and HTTP sinks and of the server's ``POST /api/v1/events``, so it changes only
by bumping `SCHEMA_VERSION`. Readers ignore fields they do not know (a newer producer may add some) and
reject a schema newer than theirs, because its meaning may have changed.

Each event has an ``id`` (a random hex string) so a receiver can drop the duplicates that an HTTP retry
produces when a response was lost after the events were stored.
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from recoup.errors.taxonomy import Category, Classification

#: Version of the dict/JSON layout produced by `TelemetryEvent.to_dict`.
SCHEMA_VERSION = 1

E = TypeVar("E", bound="TelemetryEvent")


class Outcome(StrEnum):
    """How an operation ended, from recovery's point of view.

    ``succeeded`` (first try, nothing to recover) is counted too, so error and recovery rates have a
    denominator.
    """

    SUCCEEDED = "succeeded"
    RECOVERED = "recovered"
    GAVE_UP = "gave_up"
    FAILED_FAST = "failed_fast"
    DEGRADED = "degraded"


class EventSchemaError(ValueError):
    """A dict that is not a telemetry event this version can read."""


def exception_type_name(exc: BaseException | type[BaseException]) -> str:
    """Fully qualified class name (``OSError``, ``requests.exceptions.ConnectTimeout``), as OTel's
    ``exception.type`` and ``error.type`` recommend; builtins stay unqualified.

    The same rule as `recoup.errors.exceptions.qualname`, kept here so that importing the event types
    does not load the classifier's rule tables."""
    klass = exc if isinstance(exc, type) else type(exc)
    module = klass.__module__
    return klass.__qualname__ if not module or module == "builtins" else f"{module}.{klass.__qualname__}"


def _new_id() -> str:
    return uuid.uuid4().hex


def _category(value: Any) -> Category | None:
    return None if value is None else Category(value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _tags(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EventSchemaError(f"tags must be an object, got {type(value).__name__}")
    return {str(k): str(v) for k, v in value.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class TelemetryEvent:
    """Fields every event carries. `timestamp` is wall-clock seconds since the epoch (UTC)."""

    event_type: ClassVar[str] = "event"
    #: field name -> function turning its JSON value back into the Python value (identity if absent)
    _decoders: ClassVar[Mapping[str, Callable[[Any], Any]]] = {"tags": _tags}

    timestamp: float = field(default_factory=time.time)
    id: str = field(default_factory=_new_id)
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # tags come from callers' code: make them a private str->str copy so serialising never fails
        object.__setattr__(self, "tags", _tags(self.tags))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: enums become their values, nested records dicts, tuples lists."""
        out: dict[str, Any] = {"type": self.event_type, "schema": SCHEMA_VERSION}
        for f in fields(self):
            out[f.name] = _encode(getattr(self, f.name))
        return out

    @classmethod
    def from_dict(cls: type[E], data: Mapping[str, Any]) -> E:
        """Rebuild from `to_dict()` output; unknown keys are ignored, missing optional ones defaulted."""
        kind = data.get("type")
        if kind != cls.event_type:
            raise EventSchemaError(f"expected type {cls.event_type!r}, got {kind!r}")
        schema = data.get("schema", SCHEMA_VERSION)
        if not isinstance(schema, int) or schema > SCHEMA_VERSION or schema < 1:
            raise EventSchemaError(f"unsupported schema version {schema!r} (this reader knows 1..{SCHEMA_VERSION})")
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            decode = cls._decoders.get(f.name)
            try:
                kwargs[f.name] = decode(data[f.name]) if decode else data[f.name]
            except (TypeError, ValueError, KeyError) as exc:
                raise EventSchemaError(f"{cls.event_type}.{f.name}: {exc}") from exc
        try:
            return cls(**kwargs)
        except TypeError as exc:  # a required field is missing
            raise EventSchemaError(f"{cls.event_type}: {exc}") from exc


def _encode(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Frame):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class Frame:
    """One traceback frame; `line` is the source text when it was available."""

    filename: str
    lineno: int
    function: str
    line: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"filename": self.filename, "lineno": self.lineno, "function": self.function, "line": self.line}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Frame:
        return cls(str(data["filename"]), int(data["lineno"]), str(data["function"]), data.get("line"))


def _frames(value: Any) -> tuple[Frame, ...]:
    return tuple(Frame.from_dict(v) for v in value or ())


def frames_of(tb: TracebackType | None, limit: int = 50) -> tuple[Frame, ...]:
    """The innermost `limit` frames of a traceback, without reading more source than needed."""
    if tb is None:
        return ()
    summary = traceback.extract_tb(tb)[-limit:]
    return tuple(Frame(fs.filename, fs.lineno or 0, fs.name, fs.line or None) for fs in summary)


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorEvent(TelemetryEvent):
    """One error as it happened, with its classification when known (``category`` is None otherwise)."""

    event_type: ClassVar[str] = "error"
    _decoders: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "tags": _tags,
        "category": _category,
        "confidence": _optional_float,
        "frames": _frames,
    }

    exception_type: str
    message: str
    service: str = ""
    operation: str = ""
    category: Category | None = None
    transient: bool | None = None
    confidence: float | None = None
    classification_reason: str | None = None
    fingerprint: str | None = None
    frames: tuple[Frame, ...] = ()

    @classmethod
    def from_exception(
        cls,
        exc: BaseException,
        *,
        service: str = "",
        operation: str = "",
        classification: Classification | None = None,
        fingerprint: str | None = None,
        include_traceback: bool = True,
        classify: bool = False,
        tags: Mapping[str, str] | None = None,
    ) -> ErrorEvent:
        """Build from a live exception; the fingerprint defaults to the classification's.

        With ``classify=True`` and no `classification`, the error is classified here (recoup's classifier).
        """
        c = classification
        if c is None and classify:
            from recoup.errors.classifier import classify as classify_error

            c = classify_error(exc)
        return cls(
            exception_type=exception_type_name(exc),
            message=str(exc),
            service=service,
            operation=operation,
            category=c.category if c else None,
            transient=c.transient if c else None,
            confidence=c.confidence if c else None,
            classification_reason=c.reason if c else None,
            fingerprint=fingerprint if fingerprint is not None else (c.fingerprint if c else None),
            frames=frames_of(exc.__traceback__) if include_traceback else (),
            tags=dict(tags or {}),
        )

    @property
    def classification(self) -> Classification | None:
        """The classification this event carries, when it carries one."""
        if self.category is None:
            return None
        return Classification(
            category=self.category,
            transient=bool(self.transient),
            confidence=self.confidence if self.confidence is not None else 0.0,
            fingerprint=self.fingerprint or "",
            reason=self.classification_reason or "",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryAttemptEvent(TelemetryEvent):
    """Recovery is about to try again: `attempt` is the number of the attempt that follows `delay` seconds."""

    event_type: ClassVar[str] = "recovery_attempt"
    _decoders: ClassVar[Mapping[str, Callable[[Any], Any]]] = {"tags": _tags, "category": _category, "delay": float}

    operation: str
    strategy: str
    attempt: int
    delay: float = 0.0
    category: Category | None = None
    error_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryOutcomeEvent(TelemetryEvent):
    """How an operation ended. `time_to_recover` is seconds from first failure to success (recovered only);
    `rto_met` says whether that stayed inside the recovery-time objective, None when there was none."""

    event_type: ClassVar[str] = "recovery_outcome"
    _decoders: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "tags": _tags,
        "category": _category,
        "outcome": Outcome,
        "time_to_recover": _optional_float,
    }

    operation: str
    strategy: str
    outcome: Outcome
    attempts: int = 1
    time_to_recover: float | None = None
    rto_met: bool | None = None
    category: Category | None = None
    error_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerTransitionEvent(TelemetryEvent):
    """A circuit breaker changed state (``closed``, ``half_open``, ``open``)."""

    event_type: ClassVar[str] = "breaker_transition"

    breaker: str
    from_state: str
    to_state: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckpointEvent(TelemetryEvent):
    """A durable-workflow step checkpoint. Usual `status` values: ``saved``, ``restored``, ``skipped``
    (already done in an earlier run), ``failed``, ``completed`` (the whole run)."""

    event_type: ClassVar[str] = "checkpoint"

    workflow: str
    run_id: str
    step: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricEvent(TelemetryEvent):
    """One measured value that alert rules watch but that no other event carries: resource use as a ratio
    (``memory_usage``, ``cpu_usage``, ``disk_usage``, ``fd_usage``, ``db_pool_usage``, 0..1), a response
    time in seconds (``response_time``), a count of requests (``requests``, with a ``status`` tag), or a
    ``heartbeat`` (value 1) that says the service is alive. See `recoup.incidents.catalogue` for the
    vocabulary; other names are stored and exported but no default rule reads them."""

    event_type: ClassVar[str] = "metric"
    _decoders: ClassVar[Mapping[str, Callable[[Any], Any]]] = {"tags": _tags, "value": float}

    name: str
    value: float
    service: str = ""
    unit: str = ""


EVENT_TYPES: dict[str, type[TelemetryEvent]] = {
    klass.event_type: klass
    for klass in (
        ErrorEvent, RecoveryAttemptEvent, RecoveryOutcomeEvent, BreakerTransitionEvent, CheckpointEvent, MetricEvent
    )
}


def event_from_dict(data: Mapping[str, Any]) -> TelemetryEvent:
    """Rebuild any event from its dict form, dispatching on ``type``."""
    if not isinstance(data, Mapping):
        raise EventSchemaError(f"an event must be an object, got {type(data).__name__}")
    klass = EVENT_TYPES.get(str(data.get("type")))
    if klass is None:
        raise EventSchemaError(f"unknown event type {data.get('type')!r}")
    return klass.from_dict(data)
