"""Placeholder pipeline: commits each batch directly (group commit, spool and replay being written)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool

from recoup.server.metrics import ServerMetrics
from recoup.server.settings import ServerSettings
from recoup.server.state import IngestAck
from recoup.store import NewEvent, Store


class GroupCommitPipeline:
    def __init__(self, store: Store, settings: ServerSettings, metrics: ServerMetrics) -> None:
        self._store = store
        self._settings = settings
        self._metrics = metrics

    @property
    def depth(self) -> int:
        return 0

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def submit(self, project_id: int, events: Sequence[NewEvent]) -> IngestAck:
        result = await run_in_threadpool(self._store.ingest_events, project_id, list(events))
        return IngestAck(accepted=result.inserted, duplicates=result.duplicates, groups=dict(result.groups))
