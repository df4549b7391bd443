"""What the routes share: the store, the ingest pipeline, metrics, key cache and rate limits, kept on
``app.state.recoup`` so every route reaches the same instances."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from starlette.requests import Request

from recoup.store import NewEvent, Store

if TYPE_CHECKING:
    from recoup.incidents.engine import IncidentEngine
    from recoup.server.auth import KeyCache, KeyRateLimiter
    from recoup.server.metrics import ServerMetrics
    from recoup.server.settings import ServerSettings


@dataclass(frozen=True, slots=True)
class IngestAck:
    """The answer to one submitted batch. Returned only once the batch is durable: committed to the
    database, or (``spooled``) fsynced to the local spool for replay."""

    accepted: tuple[str, ...]
    duplicates: tuple[str, ...] = ()
    spooled: bool = False
    groups: dict[str, int] = field(default_factory=dict)


class IngestPipeline(Protocol):
    """Classifies, fingerprints and durably stores batches; see `recoup.server.pipeline`."""

    async def submit(self, project_id: int, events: Sequence[NewEvent]) -> IngestAck: ...

    @property
    def depth(self) -> int:
        """Events accepted but not yet in the database (queued or spooled)."""
        ...


@dataclass(slots=True)
class ServerState:
    settings: ServerSettings
    store: Store
    pipeline: IngestPipeline
    metrics: ServerMetrics
    keys: KeyCache
    limiter: KeyRateLimiter
    # Incident response (rules, routing, incidents, notifications); None when it is off.
    incidents: IncidentEngine | None = None


def get_state(request: Request) -> ServerState:
    """The FastAPI dependency that hands a route the shared state."""
    state: ServerState = request.app.state.recoup
    return state
