"""What events say about the service graph: each event reduced to an `Observation`, and the dependency edges
that failing calls reveal.

Correlation and root cause read the same small facts from every event (when, which service, which
dependency it was calling, which error group), so both work on telemetry events, stored events and their
wire dicts alike. The conventions producers follow so that the graph can be seen:

* an `ErrorEvent` raised by a call to another service or resource carries ``tags["dependency"]`` (or
  ``tags["peer"]``) naming it: ``ErrorEvent(service="api", tags={"dependency": "payments"}, ...)``;
  ``tags["caused_by"]`` may name the service whose error this one wraps (an error chain);
* a circuit breaker is named after what it guards, ``"<dependency>"`` or ``"<caller>-><dependency>"``
  (``tags["service"]``/``tags["dependency"]`` override the name when present);
* a change is a `MetricEvent` named ``deploy`` or ``config_change`` (service = the changed service,
  ``tags["version"]``/``tags["description"]`` say what changed), or any event tagged ``change=deploy|config``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from recoup.telemetry.events import (
    BreakerTransitionEvent,
    ErrorEvent,
    EventSchemaError,
    MetricEvent,
    TelemetryEvent,
    event_from_dict,
)

if TYPE_CHECKING:
    from recoup.store import Store

#: metric names that mark a change to a service
CHANGE_METRICS = frozenset({"deploy", "config_change", "config", "rollout"})
DEPENDENCY_TAGS = ("dependency", "peer")


class ObsKind(StrEnum):
    ERROR = "error"
    BREAKER_OPEN = "breaker_open"
    BREAKER_CLOSE = "breaker_close"
    CHANGE = "change"


@dataclass(frozen=True, slots=True)
class Observation:
    """One fact for analytics: at `time`, in `service`, something of `kind` happened (towards `dependency`)."""

    time: float
    kind: ObsKind
    service: str
    dependency: str = ""
    group: str = ""
    detail: str = ""


def _dependency(tags: Mapping[str, str]) -> str:
    for key in DEPENDENCY_TAGS:
        if tags.get(key):
            return tags[key]
    return ""


def breaker_parts(name: str, tags: Mapping[str, str]) -> tuple[str, str]:
    """(caller, dependency) from a breaker's name (``caller->dependency`` or ``dependency``) and tags."""
    caller, _, dep = name.rpartition("->")
    return tags.get("service", caller), tags.get("dependency", dep)


def _change(event: TelemetryEvent) -> Observation | None:
    tags = event.tags
    if isinstance(event, MetricEvent) and event.name in CHANGE_METRICS:
        what = tags.get("version") or tags.get("description") or ""
        return Observation(event.timestamp, ObsKind.CHANGE, event.service or tags.get("service", ""), "", "",
                           f"{event.name} {what}".strip())
    if tags.get("change") and not isinstance(event, ErrorEvent):
        service = getattr(event, "service", "") or tags.get("service", "")
        what = f"{tags['change']} {tags.get('version', '')}".strip()
        return Observation(event.timestamp, ObsKind.CHANGE, service, "", "", what)
    return None


def observe(event: TelemetryEvent) -> Observation | None:
    """The observation an event stands for, or None when it says nothing about failures or changes."""
    change = _change(event)
    if change is not None:
        return change
    if isinstance(event, ErrorEvent):
        group = event.fingerprint or f"{event.exception_type}@{event.service}"
        return Observation(event.timestamp, ObsKind.ERROR, event.service or event.tags.get("service", ""),
                           _dependency(event.tags) or event.tags.get("caused_by", ""), group,
                           f"{event.exception_type}: {event.message}"[:200])
    if isinstance(event, BreakerTransitionEvent) and event.to_state in ("open", "closed"):
        caller, dep = breaker_parts(event.breaker, event.tags)
        kind = ObsKind.BREAKER_OPEN if event.to_state == "open" else ObsKind.BREAKER_CLOSE
        # a breaker named only after its dependency is placed on that dependency
        return Observation(event.timestamp, kind, caller or dep, dep, "", event.breaker)
    return None


def _from_stored(payload: Mapping[str, Any], occurred: datetime, fingerprint: str | None) -> TelemetryEvent | None:
    try:
        event = event_from_dict(payload)
    except (EventSchemaError, ValueError, TypeError, KeyError):
        return None  # not a recoup telemetry event (e.g. a Sentry envelope): nothing we can place in the graph
    if isinstance(event, ErrorEvent) and fingerprint and not event.fingerprint:
        return ErrorEvent.from_dict({**event.to_dict(), "fingerprint": fingerprint, "timestamp": occurred.timestamp()})
    return event


def observations(events: Iterable[Any]) -> list[Observation]:
    """Observations from telemetry events, their wire dicts, or stored events (anything with ``payload``,
    ``occurred_at`` and ``fingerprint``), oldest first; events that say nothing are skipped."""
    out: list[Observation] = []
    for item in events:
        event: TelemetryEvent | None
        if isinstance(item, TelemetryEvent):
            event = item
        elif isinstance(item, Mapping):
            event = event_from_dict(item)
        elif hasattr(item, "payload") and hasattr(item, "occurred_at"):
            event = _from_stored(item.payload, item.occurred_at, getattr(item, "fingerprint", None))
        else:
            kind = type(item).__name__
            raise TypeError(f"events: cannot read a {kind} (want a telemetry event, its dict or a stored event)")
        obs = observe(event) if event is not None else None
        if obs is not None and obs.service:
            out.append(obs)
    out.sort(key=lambda o: o.time)
    return out


def dependency_edges(obs: Iterable[Observation]) -> Counter[tuple[str, str]]:
    """(caller, dependency) -> how many failing calls or breaker openings showed that edge."""
    edges: Counter[tuple[str, str]] = Counter()
    for o in obs:
        if o.dependency and o.kind in (ObsKind.ERROR, ObsKind.BREAKER_OPEN) and o.dependency != o.service:
            edges[(o.service, o.dependency)] += 1
    return edges


@dataclass(frozen=True, slots=True)
class _Row:
    """The columns of a stored event the ranker reads, copied out of the session."""

    payload: Any
    occurred_at: datetime
    fingerprint: str | None


def stored_events(store: Store, project_id: int | None, start: float, end: float) -> list[Any]:
    """Stored events that occurred in ``[start, end]`` (epoch seconds), oldest first, in one project or all."""
    from sqlalchemy import select

    from recoup.store.models import EventRow

    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    query = select(EventRow).where(
        EventRow.occurred_at >= datetime.fromtimestamp(start, UTC),
        EventRow.occurred_at <= datetime.fromtimestamp(end, UTC),
    )
    if project_id is not None:
        query = query.where(EventRow.project_id == project_id)
    query = query.order_by(EventRow.occurred_at, EventRow.id)
    return store.transaction(
        lambda s: [_Row(r.payload, r.occurred_at, r.fingerprint) for r in s.scalars(query)], write=False
    )
