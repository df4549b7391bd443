"""Group commit: concurrent ingest requests share database transactions, and a request is answered only
once its batch is durable (committed, or fsynced to the spool while the database is unreachable).

One writer task owns the store's ingest and the spool, so ordering needs no locks: it takes every queued
batch (up to `MAX_EVENTS_PER_COMMIT` events, waiting at most ``commit_window_seconds`` for more to
arrive), enriches the events (category, fingerprint), and commits them all with one
`Store.ingest_many` — one fsync for many requests. If the database is unreachable, the batches go to the
spool instead and are acknowledged as ``spooled``. While the spool holds anything, new batches are
appended behind it (so events reach the database in the order they were accepted), and a replay task
replays it, oldest first, as soon as `Store.ping` answers (with backoff). Replay runs beside the writer so
a slow ping or replay never holds up requests; the spool's lock orders the two (replay only ever reads
the head and advances past what it committed, the writer only appends at the tail). A batch the
database refuses (a deleted project, a value PostgreSQL rejects) fails on its own: the others of its
transaction are committed again without it.

Several server processes may share one ``spool_dir`` (``recoup serve --workers N``): `start` claims a spool
*slot* of its own (see `recoup.server.spool`), and an orphan task claims, drains and releases any slot that
still holds segments but has no live owner (a worker that died, or more workers in an earlier run), at start
and every `ORPHAN_SCAN_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from recoup.server.enrich import enrich
from recoup.server.metrics import ServerMetrics
from recoup.server.settings import ServerSettings
from recoup.server.spool import (
    SlotLease,
    Spool,
    SpoolBatch,
    SpoolError,
    SpoolRecord,
    claim_orphans,
    claim_slot,
    drain,
)
from recoup.server.state import IngestAck
from recoup.store import IngestResult, InvalidInput, NewEvent, NotFound, Store, StoreUnavailable
from recoup.store.values import utcnow

_log = logging.getLogger(__name__)

#: Events per transaction: big enough to amortise the commit's fsync, small enough to keep it short, and
#: small enough that a burst of big batches (16 clients x 250 events) spans two transactions: then the
#: second writer commits one while the first is in the database and the event loop parses the next
#: requests, instead of everything waiting on one 4,000-event transaction (5,000 here measured 14.5k
#: native events/s on PostgreSQL, 2,000 measured 17.5k; benchmarks/ingest.py).
MAX_EVENTS_PER_COMMIT = 2000
#: Events queued (not yet taken by the writer) beyond which new batches are refused with 503: memory
#: stays bounded when the database is slower than the load, and clients back off.
MAX_QUEUED_EVENTS = 200_000
#: Replay retry backoff while the database stays unreachable, in seconds.
REPLAY_BACKOFF_MIN = 0.05
REPLAY_BACKOFF_MAX = 1.0
#: How often a process looks for orphaned spool slots (of dead workers) to drain, in seconds.
ORPHAN_SCAN_SECONDS = 1.0


# Queued events at which a second writer starts a transaction of its own beside the first.
EXTRA_WRITER_BACKLOG = 1_000
#: The interpreter's GIL switch interval while the pipeline runs, in seconds (Python's default is 0.005).
#: A writer thread needs the GIL back after each of a commit's round trips to the database; while the event
#: loop parses request bodies, it waits up to the whole interval each time. At 1 ms, a 2,000-event commit
#: beside a busy loop took a median 150-200 ms instead of 190-280 ms (measured in-process on PostgreSQL).
GIL_SWITCH_INTERVAL = 0.001


class PipelineClosed(StoreUnavailable):
    """`submit` was called before `start` or after `stop` (shutting down): nothing was accepted. A
    `StoreUnavailable`, so routes answer 503 and clients retry elsewhere or later."""


@dataclass(slots=True)
class _Pending:
    project_id: int
    events: Sequence[NewEvent]
    future: asyncio.Future[IngestAck]
    outcome: IngestAck | BaseException | None = field(default=None)


class PipelineBusy(StoreUnavailable):
    """The queue is full (the database cannot keep up): the batch was not accepted; retry later."""


def _retrieve(future: asyncio.Future[IngestAck]) -> None:
    """Mark a failure as seen: a request that went away (client disconnect) no longer awaits its future,
    and its error is already logged by the writer."""
    if not future.cancelled():
        future.exception()


def _ack(result: IngestResult) -> IngestAck:
    return IngestAck(accepted=result.inserted, duplicates=result.duplicates, groups=dict(result.groups))


def _spooled_ack(events: Sequence[NewEvent]) -> IngestAck:
    # Whether an id is a duplicate is only known at replay; the batch as a whole is accepted.
    return IngestAck(accepted=tuple(dict.fromkeys(e.event_id for e in events)), spooled=True)


class GroupCommitPipeline:
    """See the module docstring. ``clock`` (monotonic seconds) and ``now`` (aware UTC, the spooled
    ``received_at``) are injectable for tests."""

    def __init__(
        self,
        store: Store,
        settings: ServerSettings,
        metrics: ServerMetrics,
        *,
        max_events_per_commit: int = MAX_EVENTS_PER_COMMIT,
        max_queued_events: int = MAX_QUEUED_EVENTS,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
        orphan_scan_seconds: float = ORPHAN_SCAN_SECONDS,
        writers: int | None = None,
        gil_switch_interval: float | None = GIL_SWITCH_INTERVAL,
    ) -> None:
        if max_events_per_commit <= 0:
            raise ValueError(f"max_events_per_commit must be positive, got {max_events_per_commit!r}")
        # PostgreSQL: two writers on two connections, so one batch's enrich overlaps the other's round trips
        # (group locks are taken in one order, so they queue, never deadlock). SQLite has one writer anyway.
        self._writers = writers if writers is not None else (2 if store.dialect == "postgresql" else 1)
        if self._writers <= 0:
            raise ValueError(f"writers must be positive, got {writers!r}")
        if gil_switch_interval is not None and not gil_switch_interval > 0:
            raise ValueError(f"gil_switch_interval must be positive or None, got {gil_switch_interval!r}")
        self._switch_interval = gil_switch_interval
        self._previous_switch_interval: float | None = None
        self._store = store
        self._settings = settings
        self._metrics = metrics
        self._cap = max_events_per_commit
        self._max_queued = max_queued_events
        self._clock = clock
        self._now = now
        self.spool = Spool(settings.spool_dir)  # replaced by this process's own slot at start()
        self.slot: SlotLease | None = None
        self._orphan_scan = orphan_scan_seconds
        self._orphans: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self.orphans_drained = 0  # orphaned slots this process drained to empty
        self._queue: deque[_Pending] = deque()
        self._queued_events = 0
        self._inflight_events = 0
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._more_writers: list[asyncio.Task[None]] = []
        self._replayer: asyncio.Task[None] | None = None
        self._spooled: asyncio.Event | None = None
        self._spool_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._accepting = False
        self.commits = 0  # transactions committed by the writer (group commits and replays)

    # -- public -----------------------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Events accepted but not yet in the database: queued, being written, or spooled."""
        return self._queued_events + self._inflight_events + self.spool.pending_events

    async def start(self) -> None:
        """Open the spool (an earlier run's leftovers are replayed before anything new) and start the writer."""
        if self._task is not None:
            raise RuntimeError("the pipeline is already running")
        await asyncio.to_thread(self._open_slot)
        if self._switch_interval is not None and sys.getswitchinterval() > self._switch_interval:
            # only ever shortened, and put back at stop(): it is the whole process's setting
            self._previous_switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(self._switch_interval)
        self._wakeup = asyncio.Event()
        self._spooled = asyncio.Event()
        self._stopped = asyncio.Event()
        self._accepting = True
        self._task = asyncio.create_task(self._run(), name="recoup-group-commit")
        self._more_writers = [
            asyncio.create_task(self._run(extra=True), name=f"recoup-group-commit-{n}") for n in range(1, self._writers)
        ]
        self._replayer = asyncio.create_task(self._replay_loop(), name="recoup-spool-replay")
        self._orphans = asyncio.create_task(self._orphan_loop(), name="recoup-spool-orphans")

    def _open_slot(self) -> None:
        """Claim this process's own spool slot and open it (a previous owner's leftovers replay first)."""
        lease = claim_slot(self._settings.spool_dir)
        spool = Spool(lease.directory)
        try:
            spool.open()
        except BaseException:
            lease.release()
            raise
        self.slot, self.spool = lease, spool
        _log.info("spool slot %d: %s", lease.slot, lease.directory)

    async def stop(self) -> None:
        """Refuse new batches, then wait until every accepted one is committed or spooled."""
        self._accepting = False
        task, self._task = self._task, None
        replayer, self._replayer = self._replayer, None
        orphans, self._orphans = self._orphans, None
        if task is None or replayer is None:
            return
        self._stopped.set()
        assert self._wakeup is not None and self._spooled is not None
        self._wakeup.set()
        self._spooled.set()
        more, self._more_writers = self._more_writers, []
        try:
            await task
            for writer in more:
                await writer
        finally:
            try:
                await replayer
                if orphans is not None:
                    await orphans  # a drain under way finishes the slot it holds (bounded: nothing is added)
            finally:
                await asyncio.to_thread(self._close_slot)

    def _close_slot(self) -> None:
        if self._previous_switch_interval is not None:
            sys.setswitchinterval(self._previous_switch_interval)
            self._previous_switch_interval = None
        self.spool.close()
        if self.slot is not None:
            self.slot.release()

    async def submit(self, project_id: int, events: Sequence[NewEvent]) -> IngestAck:
        """Return once ``events`` are durable. Raises (all `StoreUnavailable`, i.e. 503) `PipelineClosed` when
        not running, `PipelineBusy` when the queue is full, `SpoolError` when the database is down and the
        spool cannot be written; or the store's `InvalidInput`/`NotFound` for a batch it refuses."""
        if not self._accepting or self._wakeup is None:
            raise PipelineClosed("the ingest pipeline is not running")
        if not events:
            return IngestAck(accepted=())
        if self._queued_events and self._queued_events + len(events) > self._max_queued:
            raise PipelineBusy(f"{self._queued_events} events are waiting for the database; retry later")
        future: asyncio.Future[IngestAck] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        self._queue.append(_Pending(project_id, list(events), future))
        self._queued_events += len(events)
        self._wakeup.set()
        # shield: a client that disconnects does not take its batch out of the transaction it is in.
        return await asyncio.shield(future)

    # -- the writer -------------------------------------------------------------------------------------

    async def _run(self, *, extra: bool = False) -> None:
        """The writer loop. An ``extra`` writer only joins in when a backlog builds up: for a trickle of
        small requests one writer's fuller transactions cost less per event than two half-empty ones."""
        assert self._wakeup is not None
        while True:
            if extra and not self._accepting:
                return  # the first writer drains what is left
            if not self._queue or (extra and self._queued_events < EXTRA_WRITER_BACKLOG):
                if not self._queue and not self._accepting:
                    return
                self._wakeup.clear()
                if (not self._queue and self._accepting) or (extra and self._queued_events < EXTRA_WRITER_BACKLOG):
                    await self._wakeup.wait()
                continue
            await self._gather_window()
            taken = self._take()
            if not taken:  # another writer took them while this one gathered
                continue
            inflight = sum(len(p.events) for p in taken)
            try:
                await asyncio.to_thread(self._write, taken)
            except Exception as exc:  # a bug in the writer: fail these requests loudly, keep serving
                _log.exception("the ingest writer failed")
                for pending in taken:
                    if pending.outcome is None:
                        pending.outcome = exc
            finally:
                self._inflight_events -= inflight
            self._resolve(taken)
            if self.spool and self._spooled is not None:
                self._spooled.set()

    async def _gather_window(self) -> None:
        """Give concurrent requests up to ``commit_window_seconds`` to join this transaction."""
        assert self._wakeup is not None
        window = self._settings.commit_window_seconds
        if window <= 0 or not self._accepting:
            return
        deadline = self._clock() + window
        while self._queued_events < self._cap and self._accepting:
            remaining = deadline - self._clock()
            if remaining <= 0:
                return
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                return

    def _take(self) -> list[_Pending]:
        taken: list[_Pending] = []
        events = 0
        while self._queue and (not taken or events + len(self._queue[0].events) <= self._cap):
            pending = self._queue.popleft()
            taken.append(pending)
            events += len(pending.events)
        self._queued_events -= events
        self._inflight_events += events
        return taken

    @staticmethod
    def _resolve(taken: Sequence[_Pending]) -> None:
        for pending in taken:
            if pending.future.done():
                continue
            outcome = pending.outcome
            if isinstance(outcome, IngestAck):
                pending.future.set_result(outcome)
            else:
                pending.future.set_exception(outcome or RuntimeError("the batch was not processed"))

    # -- in the worker thread -----------------------------------------------------------------------------

    def _write(self, taken: list[_Pending]) -> None:
        """Commit (or spool) ``taken``, setting each one's outcome."""
        for pending in taken:
            pending.events = [enrich(e) for e in pending.events]
        with self._spool_lock:
            if self.spool:
                self._to_spool(taken)
                return
        try:
            results = self._store.ingest_many([(p.project_id, p.events, None) for p in taken])
        except StoreUnavailable as exc:
            self._metrics.db_errors.labels(operation="ingest").inc()
            _log.warning("database unreachable, spooling %d batches: %s", len(taken), exc)
            with self._spool_lock:
                self._to_spool(taken)
            return
        except Exception as exc:
            if len(taken) == 1:
                self._count_refusal(exc)
                taken[0].outcome = exc
                return
            # One bad batch must not fail the others: commit them one by one to find it.
            self._write_each(taken)
            return
        self._committed(len(results), sum(len(p.events) for p in taken))
        for pending, result in zip(taken, results, strict=True):
            pending.outcome = _ack(result)

    def _write_each(self, taken: list[_Pending]) -> None:
        for index, pending in enumerate(taken):
            try:
                (result,) = self._store.ingest_many([(pending.project_id, pending.events, None)])
            except StoreUnavailable:
                self._metrics.db_errors.labels(operation="ingest").inc()
                with self._spool_lock:
                    self._to_spool(taken[index:])  # keep the order: this and everything after it
                return
            except Exception as exc:
                self._count_refusal(exc)
                pending.outcome = exc
                continue
            self._committed(1, len(pending.events))
            pending.outcome = _ack(result)

    def _count_refusal(self, exc: Exception) -> None:
        if not isinstance(exc, InvalidInput | NotFound):
            self._metrics.db_errors.labels(operation="ingest").inc()
            _log.error("ingest failed: %r", exc)

    def _committed(self, batches: int, events: int) -> None:
        with self._count_lock:  # writers and the replayer run in different threads
            self.commits += 1
        self._metrics.commit_batch.observe(events)

    def _to_spool(self, taken: Sequence[_Pending]) -> None:
        received_at = self._now()
        try:
            self.spool.append([SpoolRecord(p.project_id, received_at, tuple(p.events)) for p in taken])
        except SpoolError as exc:
            _log.error("%s; refusing %d batches", exc, len(taken))
            for pending in taken:
                pending.outcome = exc
            return
        for pending in taken:
            pending.outcome = _spooled_ack(pending.events)

    # -- replay ---------------------------------------------------------------------------------------

    async def _replay_loop(self) -> None:
        """Replay the spool whenever it holds anything and the database answers; back off while it does not."""
        assert self._spooled is not None
        backoff = REPLAY_BACKOFF_MIN
        while self._accepting:
            if not self.spool:
                self._spooled.clear()
                if not self.spool and self._accepting:
                    await self._spooled.wait()
                continue
            try:
                replayed = await asyncio.to_thread(self._replay_once)
            except Exception:
                _log.exception("spool replay failed; retrying")
                self._metrics.db_errors.labels(operation="replay").inc()
                replayed = False
            if replayed:
                backoff = REPLAY_BACKOFF_MIN
                continue
            self._spooled.clear()
            with contextlib.suppress(TimeoutError):  # woken early only by stop()
                await asyncio.wait_for(self._spooled.wait(), backoff)
            backoff = min(backoff * 2, REPLAY_BACKOFF_MAX)

    def _replay_once(self) -> bool:
        """True when something was replayed (or set aside), False when the database is still unreachable."""
        try:
            self._store.ping()
        except StoreUnavailable:
            return False
        with self._spool_lock:
            batch = self.spool.peek(self._cap)
        if batch is None:
            return True
        try:
            self._store.ingest_many([(r.project_id, r.events, r.received_at) for r in batch.records])
        except StoreUnavailable as exc:
            self._metrics.db_errors.labels(operation="replay").inc()
            _log.warning("database unreachable again during spool replay: %s", exc)
            return False
        except (InvalidInput, NotFound):
            return self._replay_each(batch)
        self._committed(len(batch.records), batch.events)
        self._metrics.spool_replayed.inc(batch.events)  # before depth drops, so a reader sees both
        with self._spool_lock:
            self.spool.advance(batch)
        return True

    # -- orphaned slots ---------------------------------------------------------------------------------

    async def _orphan_loop(self) -> None:
        """Drain orphaned slots at start and then every ``orphan_scan_seconds`` while running."""
        while self._accepting:
            try:
                await asyncio.to_thread(self._drain_orphans)
            except Exception:
                _log.exception("draining orphaned spool slots failed; retrying")
                self._metrics.db_errors.labels(operation="replay").inc()
            with contextlib.suppress(TimeoutError):  # stop() sets _accepting False and wakes the waits
                await asyncio.wait_for(self._stopped.wait(), self._orphan_scan)

    def _drain_orphans(self) -> int:
        """Claim, replay and release every orphaned slot (stopping at the first the database cannot take);
        the number of slots drained to empty."""
        drained = 0
        for lease in claim_orphans(self._settings.spool_dir):
            with lease:
                try:
                    self._store.ping()
                except StoreUnavailable:
                    return drained
                spool = Spool(lease.directory)
                spool.open()
                _log.warning("draining orphaned spool slot %d (%d events in %d batches)",
                             lease.slot, spool.pending_events, spool.pending_records)
                try:
                    done = drain(spool, self._commit_spooled, max_events=self._cap,
                                 on_committed=self._metrics.spool_replayed.inc, refused=(InvalidInput, NotFound))
                finally:
                    spool.close()
                if not done:
                    self._metrics.db_errors.labels(operation="replay").inc()
                    return drained
                drained += 1
                self.orphans_drained += 1
                if not self._accepting:
                    return drained
        return drained

    def _commit_spooled(self, records: Sequence[SpoolRecord]) -> None:
        self._store.ingest_many([(r.project_id, r.events, r.received_at) for r in records])
        self._committed(len(records), sum(len(r.events) for r in records))

    def _replay_each(self, batch: SpoolBatch) -> bool:
        """Replay record by record, setting aside the ones the database refuses for good. Records committed
        here are replayed again if the database drops before the whole batch is done: harmless (exactly once)."""
        for record in batch.records:
            try:
                self._store.ingest_many([(record.project_id, record.events, record.received_at)])
            except StoreUnavailable:
                self._metrics.db_errors.labels(operation="replay").inc()
                return False
            except (InvalidInput, NotFound) as exc:
                with self._spool_lock:
                    self.spool.reject(record, str(exc))
                continue
            self._committed(1, len(record.events))
            self._metrics.spool_replayed.inc(len(record.events))
        with self._spool_lock:
            self.spool.advance(batch)
        return True
