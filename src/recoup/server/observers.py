"""Who hears about events once they are durable: the incident engine's rule evaluator and the
Prometheus series of `recoup.incidents.catalogue` both listen here.

`ObservedPipeline` wraps the ingest pipeline: after a batch is acknowledged (committed or spooled), the
events it accepted (not the duplicates of a retried batch) are handed to every observer, in the event loop,
right away — that is what lets a rule see an error-rate spike on the event that crosses the threshold.
Observers must be quick and must not raise; one that does is logged and the others still run, and the
producer's answer is not affected (its events are already durable)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from recoup.server.state import IngestAck, IngestPipeline
from recoup.store import NewEvent
from recoup.store.values import EventKind

_log = logging.getLogger(__name__)

#: An observer gets the project id and the newly stored events of one batch.
EventObserver = Callable[[int, Sequence[NewEvent]], None]


def telemetry_view(event: NewEvent) -> Mapping[str, Any]:
    """The event as a telemetry wire dict (what `recoup.incidents.signals.observe` reads). Native events
    already are one (their payload); a Sentry event becomes an ``error`` with its category, type and the
    service from its ``service`` tag (else the SDK's ``server_name``)."""
    payload = event.payload
    # Native events carry ``type`` (``schema`` may be omitted by hand-written producers: it defaults to 1);
    # Sentry's protocol requires ``platform``, which no native event has.
    if "type" in payload and ("schema" in payload or "platform" not in payload):
        return payload
    timestamp = event.occurred_at.timestamp()
    if event.kind is EventKind.ERROR:
        tags = payload.get("tags")
        service = ""
        if isinstance(tags, Mapping):
            service = str(tags.get("service", "") or "")
        if not service:
            service = str(payload.get("server_name", "") or "")
        return {"type": "error", "timestamp": timestamp, "category": event.category,
                "exception_type": event.exception_type or "", "service": service}
    return {"type": event.kind.value, "timestamp": timestamp}


class ObservedPipeline:
    """An `IngestPipeline` that tells its observers what each acknowledged batch stored."""

    def __init__(self, inner: IngestPipeline, observers: Sequence[EventObserver] = ()) -> None:
        self.inner = inner
        self.observers: list[EventObserver] = list(observers)

    @property
    def depth(self) -> int:
        return self.inner.depth

    def add(self, observer: EventObserver) -> None:
        self.observers.append(observer)

    async def submit(self, project_id: int, events: Sequence[NewEvent]) -> IngestAck:
        ack = await self.inner.submit(project_id, events)
        if self.observers and ack.accepted:
            if len(ack.accepted) == len(events):
                fresh: Sequence[NewEvent] = events
            else:
                accepted = set(ack.accepted)
                fresh = [e for e in events if e.event_id in accepted]
            self.notify(project_id, fresh)
        return ack

    def notify(self, project_id: int, events: Sequence[NewEvent]) -> None:
        for observer in self.observers:
            try:
                observer(project_id, events)
            except Exception:
                _log.exception("event observer %r failed; the events are stored, only its view missed them", observer)
