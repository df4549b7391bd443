"""Retention: events older than ``retention_days`` are deleted in the background (group counters stay),
so the database stays bounded without anyone running a cron job.

Pruning must never take the server down: a database error is logged and counted, and the next round
tries again. The clock is injectable so tests can age events without waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from recoup.server.metrics import ServerMetrics
from recoup.server.settings import ServerSettings
from recoup.store import Store, StoreError
from recoup.store.values import utcnow

_log = logging.getLogger(__name__)


class RetentionTask:
    """Prunes every ``prune_interval_seconds`` (the first round right after `start`)."""

    def __init__(
        self, store: Store, settings: ServerSettings, metrics: ServerMetrics, *, now: Callable[[], datetime] = utcnow
    ) -> None:
        self._store = store
        self._settings = settings
        self._metrics = metrics
        self._now = now
        self._task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self.rounds = 0  # completed rounds, failed or not (tests wait on it)

    def cutoff(self) -> datetime:
        return self._now() - timedelta(days=self._settings.retention_days)

    def prune_once(self) -> int:
        """One round, synchronously: the number of events deleted (0 when the database failed)."""
        try:
            deleted = self._store.prune_events(self.cutoff())
        except StoreError as exc:
            self._metrics.db_errors.labels(operation="prune").inc()
            _log.warning("retention: pruning failed, retrying in %ss: %s", self._settings.prune_interval_seconds, exc)
            return 0
        except Exception:
            self._metrics.db_errors.labels(operation="prune").inc()
            _log.exception("retention: pruning failed unexpectedly")
            return 0
        finally:
            self.rounds += 1
        if deleted:
            self._metrics.pruned.inc(deleted)
            _log.info("retention: pruned %d events received before %s", deleted, self.cutoff().isoformat())
        return deleted

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("retention is already running")
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="recoup-retention")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None or self._stop is None:
            return
        self._stop.set()
        await task

    async def _run(self) -> None:
        assert self._stop is not None
        while not self._stop.is_set():
            await asyncio.to_thread(self.prune_once)
            try:
                await asyncio.wait_for(self._stop.wait(), self._settings.prune_interval_seconds)
            except TimeoutError:
                continue
