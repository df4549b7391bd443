"""Helpers shared by the store tests (a plain module: the test directories are not packages)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from recoup.store import EventKind, NewEvent

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def error(
    event_id: str,
    fingerprint: str | None = "fp-a",
    *,
    seconds: float = 0,
    message: str = "boom",
    category: str | None = "network",
) -> NewEvent:
    """A small error event at ``T0 + seconds``."""
    return NewEvent(
        event_id=event_id,
        kind=EventKind.ERROR,
        occurred_at=T0 + timedelta(seconds=seconds),
        message=message,
        fingerprint=fingerprint,
        exception_type="ConnectionError",
        category=category,
        payload={"frames": [{"function": "send", "lineno": 3}], "tags": {"env": "test"}},
    )


_start_barrier: Any = None


def init_worker(barrier: Any) -> None:
    """Process-pool initializer: keep the barrier that lines the workers up."""
    global _start_barrier
    _start_barrier = barrier


def ingest_worker(url: str, project_id: int, worker: int, batches: int, batch_size: int) -> tuple[int, float, float]:
    """Run in a separate process: ingest ``batches`` batches into five groups. Half of each batch uses
    ids shared by every worker (so they race on the same keys), half ids of its own. Waits at the
    barrier so that all workers write at the same time; returns (inserted, started, finished)."""
    from recoup.store import open_store

    inserted = 0
    with open_store(url, migrate=False) as store:
        store.ping()  # connect before the start line
        _start_barrier.wait(timeout=60)
        started = time.monotonic()
        for b in range(batches):
            batch = [
                error(f"shared-{b}-{i}" if i % 2 == 0 else f"w{worker}-{b}-{i}", f"hot-{i % 5}", seconds=b)
                for i in range(batch_size)
            ]
            if worker % 2:
                batch.reverse()  # the store must not rely on callers sorting their batches
            inserted += len(store.ingest_events(project_id, batch).inserted)
        finished = time.monotonic()
    return inserted, started, finished
