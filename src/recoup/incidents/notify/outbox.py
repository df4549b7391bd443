"""The durable outbox: notices wait in the store until every channel has them, so nothing is lost when a
channel is down or recoup restarts.

`NotificationQueue.enqueue` (the `recoup.incidents.model.NoticeSink` contract) writes one row per (notice key,
receiver, channel) in one transaction; the unique key makes enqueueing the same notice twice deliver it once.
`claim` hands due rows to a worker under a lease: a worker that dies mid-send leaves its rows ``sending`` until
the lease expires, then another worker takes them again (delivery is at-least-once; the webhook's
``X-Recoup-Delivery``, the email's Message-ID and PagerDuty's dedup_key let receivers drop a repeat). The worker
then records the outcome with `mark_delivered`, `mark_retry` or `mark_dead`, each only while it still holds
the lease, so a slow worker whose lease was taken over cannot overwrite the newer attempt's outcome.

Rows of one ``dedup_key`` go out in order per receiver and channel: a row is not due while an older row of
the same key is still pending or sending (a PagerDuty resolve must not overtake its trigger).
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, and_, delete, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from recoup.incidents.model import Notice
from recoup.incidents.notify.config import NotifyConfig
from recoup.store import InvalidInput, NotFound, Store
from recoup.store.models_notify import NOTICE_KEY_MAX, NotificationRow

_log = logging.getLogger(__name__)
_TABLE = cast(Table, NotificationRow.__table__)
MAX_LIST = 1000


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row. Times are epoch seconds. ``payload`` is the stored notice (`notice` parses it)."""

    id: int
    notice_key: str
    kind: str
    payload: Mapping[str, Any]
    receiver: str
    channel: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float
    updated_at: float
    delivered_at: float | None
    latency_seconds: float | None
    lease_owner: str | None
    lease_expires_at: float | None
    reached: frozenset[str]

    @property
    def notice(self) -> Notice:
        """The notice to deliver; ValueError/KeyError/TypeError when the stored payload is unreadable."""
        return Notice.from_dict(self.payload)


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _epoch(value: datetime) -> float:
    return value.timestamp()


def _to_delivery(row: NotificationRow) -> Delivery:
    return Delivery(
        id=row.id,
        notice_key=row.notice_key,
        kind=row.kind,
        payload=row.payload,
        receiver=row.receiver,
        channel=row.channel,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=_epoch(row.next_attempt_at),
        last_error=row.last_error,
        created_at=_epoch(row.created_at),
        updated_at=_epoch(row.updated_at),
        delivered_at=None if row.delivered_at is None else _epoch(row.delivered_at),
        latency_seconds=row.latency_seconds,
        lease_owner=row.lease_owner,
        lease_expires_at=None if row.lease_expires_at is None else _epoch(row.lease_expires_at),
        reached=frozenset(row.reached or ()),
    )


class NotificationQueue:
    """The outbox on a `Store`. ``config`` names the receivers and their channels (enqueue fans a notice out
    to each channel of each receiver); ``clock`` returns epoch seconds. Thread-safe."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time, config: NotifyConfig | None = None):
        self.store = store
        self.clock = clock
        self.config = config
        self._wakers: list[Callable[[], None]] = []
        self._wakers_lock = threading.Lock()

    # -- waking workers ---------------------------------------------------------------------------------

    def add_waker(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` whenever rows become due by this object's doing (enqueue, redeliver); returns the
        function that unregisters it. The worker registers a thread-safe setter of its asyncio.Event."""
        with self._wakers_lock:
            self._wakers.append(callback)

        def remove() -> None:
            with self._wakers_lock:
                if callback in self._wakers:
                    self._wakers.remove(callback)

        return remove

    def _wake(self) -> None:
        with self._wakers_lock:
            wakers = list(self._wakers)
        for waker in wakers:
            try:
                waker()
            except RuntimeError:  # the worker's event loop has closed; it will not wait any more
                _log.debug("a notification worker's loop is closed; not waking it", exc_info=True)

    # -- enqueue ----------------------------------------------------------------------------------------

    def enqueue(self, notice: Notice, receivers: Sequence[str]) -> None:
        """Queue ``notice`` for every channel of every receiver (NoticeSink). Idempotent per (notice.key,
        receiver, channel). `InvalidInput` naming the field, before anything is written, for an unknown
        receiver or an unusable notice."""
        self.add(notice, receivers)

    def add(self, notice: Notice, receivers: Sequence[str]) -> list[int]:
        """`enqueue` that returns the ids of the rows it created (empty when all were already queued)."""
        rows = self._rows(notice, receivers)
        if not rows:
            return []
        insert = postgresql.insert if self.store.dialect == "postgresql" else sqlite.insert

        def work(session: Session) -> list[int]:
            created: list[int] = []
            for row in rows:
                statement = (
                    insert(_TABLE)
                    .values(**row)
                    .on_conflict_do_nothing(index_elements=["notice_key", "receiver", "channel"])
                    .returning(_TABLE.c.id)
                )
                created.extend(int(i) for i in session.execute(statement).scalars())
            return created

        created = self.store.transaction(work)
        if created:
            self._wake()
        return created

    def _rows(self, notice: Notice, receivers: Sequence[str]) -> list[dict[str, Any]]:
        if not isinstance(notice, Notice):
            raise InvalidInput("notice", f"expected a Notice, got {type(notice).__name__}")
        if not notice.key or len(notice.key) > NOTICE_KEY_MAX:
            raise InvalidInput("notice.key", f"must be 1-{NOTICE_KEY_MAX} characters, got {len(notice.key)}")
        if len(notice.dedup_key) > NOTICE_KEY_MAX:
            raise InvalidInput("notice.dedup_key", f"must be at most {NOTICE_KEY_MAX} characters")
        if isinstance(receivers, str) or not isinstance(receivers, Sequence):
            raise InvalidInput("receivers", "expected a list of receiver names")
        if self.config is None:
            raise InvalidInput("receivers", "the notification queue has no channel configuration")
        known = set(self.config.names())
        channels: list[tuple[str, str]] = []
        for index, name in enumerate(dict.fromkeys(receivers)):
            if name not in known:
                listed = ", ".join(sorted(known)) or "none"
                raise InvalidInput(f"receivers[{index}]", f"unknown receiver {name!r} (configured: {listed})")
            channels.extend((name, kind) for kind in self.config.receiver(name).channels())
        now = _dt(self.clock())
        payload = notice.to_dict()
        return [
            {
                "notice_key": notice.key,
                "receiver": receiver,
                "channel": kind,
                "dedup_key": notice.dedup_key or notice.key,  # no key: ordered with nothing else
                "kind": notice.kind.value,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "lease_owner": None,
                "lease_expires_at": None,
                "last_error": None,
                "reached": [],
                "payload": payload,
                "created_at": now,
                "updated_at": now,
                "delivered_at": None,
                "latency_seconds": None,
            }
            for receiver, kind in channels
        ]

    # -- the worker's side ------------------------------------------------------------------------------

    def claim(
        self, owner: str, *, limit: int = 50, lease_seconds: float = 120.0, max_attempts: int = 8
    ) -> list[Delivery]:
        """Take up to ``limit`` due rows for ``owner``: pending rows whose time has come, and sending rows whose
        lease expired (their worker stopped). Each claimed row counts an attempt. A row whose lease expired
        after its last allowed attempt is dead-lettered here instead of being tried again."""
        now = self.clock()
        n = aliased(NotificationRow)
        earlier_open = exists().where(
            n.receiver == NotificationRow.receiver,
            n.channel == NotificationRow.channel,
            n.dedup_key == NotificationRow.dedup_key,
            n.id < NotificationRow.id,
            n.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]),
        )
        due = (
            select(NotificationRow)
            .where(
                or_(
                    and_(
                        NotificationRow.status == DeliveryStatus.PENDING.value,
                        NotificationRow.next_attempt_at <= _dt(now),
                    ),
                    and_(
                        NotificationRow.status == DeliveryStatus.SENDING.value,
                        NotificationRow.lease_expires_at <= _dt(now),
                    ),
                ),
                ~earlier_open,
            )
            .order_by(NotificationRow.next_attempt_at, NotificationRow.id)
            .limit(limit)
        )
        if self.store.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True, of=NotificationRow)

        def work(session: Session) -> list[Delivery]:
            claimed: list[Delivery] = []
            for row in session.scalars(due):
                if row.status == DeliveryStatus.SENDING.value and row.attempts >= max_attempts:
                    row.status = DeliveryStatus.DEAD.value
                    row.last_error = (
                        f"attempt {row.attempts} by worker {row.lease_owner} did not finish before its lease expired, "
                        f"and it was the last of {max_attempts}; last error before it: {row.last_error or 'none'}"
                    )
                    row.lease_owner = row.lease_expires_at = None
                    row.updated_at = _dt(now)
                    _log.warning(
                        "notification %d to %s/%s is dead: %s", row.id, row.receiver, row.channel, row.last_error
                    )
                    continue
                row.status = DeliveryStatus.SENDING.value
                row.attempts += 1
                row.lease_owner = owner
                row.lease_expires_at = _dt(now + lease_seconds)
                row.updated_at = _dt(now)
                delivery = _to_delivery(row)
                try:
                    delivery.notice  # noqa: B018 -- parsed here so an unreadable row is dead-lettered, not retried
                    claimed.append(delivery)
                except (KeyError, TypeError, ValueError) as exc:  # an unreadable payload must not block the queue
                    row.status = DeliveryStatus.DEAD.value
                    row.lease_owner = row.lease_expires_at = None
                    row.last_error = f"the stored notice cannot be read: {type(exc).__name__}: {exc}"
                    _log.error("notification %d is dead: %s", row.id, row.last_error)
            return claimed

        return self.store.transaction(work)

    def _finish(self, delivery_id: int, owner: str, changes: Callable[[NotificationRow, float], None]) -> bool:
        now = self.clock()

        def work(session: Session) -> bool:
            row = session.get(NotificationRow, delivery_id, with_for_update=self.store.dialect == "postgresql")
            if row is None or row.status != DeliveryStatus.SENDING.value or row.lease_owner != owner:
                return False
            changes(row, now)
            row.lease_owner = row.lease_expires_at = None
            row.updated_at = _dt(now)
            return True

        done = self.store.transaction(work)
        if not done:
            _log.warning(
                "notification %d: worker %s lost its lease before recording the outcome; the newer attempt's stands",
                delivery_id,
                owner,
            )
        return done

    def mark_delivered(self, delivery_id: int, owner: str, *, note: str = "") -> bool:
        """Record a delivery (and its latency from enqueue). False when ``owner`` no longer holds the row."""

        def change(row: NotificationRow, now: float) -> None:
            row.status = DeliveryStatus.DELIVERED.value
            row.delivered_at = _dt(now)
            row.latency_seconds = max(0.0, now - _epoch(row.created_at))
            if note:
                row.last_error = note

        return self._finish(delivery_id, owner, change)

    def mark_retry(
        self, delivery_id: int, owner: str, *, error: str, at: float, reached: frozenset[str] = frozenset()
    ) -> bool:
        """Put the row back to pending until ``at``, recording why."""

        def change(row: NotificationRow, now: float) -> None:
            row.status = DeliveryStatus.PENDING.value
            row.next_attempt_at = _dt(at)
            row.last_error = error
            if reached:
                row.reached = sorted(set(row.reached or ()) | reached)

        return self._finish(delivery_id, owner, change)

    def mark_dead(self, delivery_id: int, owner: str, *, error: str, reached: frozenset[str] = frozenset()) -> bool:
        """Dead-letter the row: it stays listed (`dead_letters`) with ``error`` until someone `redeliver`s it."""

        def change(row: NotificationRow, now: float) -> None:
            row.status = DeliveryStatus.DEAD.value
            row.last_error = error
            if reached:
                row.reached = sorted(set(row.reached or ()) | reached)

        ok = self._finish(delivery_id, owner, change)
        if ok:
            _log.warning("notification %d is dead: %s", delivery_id, error)
        return ok

    def next_due(self) -> float | None:
        """When the earliest pending row becomes due or the earliest lease expires (epoch seconds), or None."""

        def work(session: Session) -> float | None:
            pending = session.scalar(
                select(func.min(NotificationRow.next_attempt_at)).where(
                    NotificationRow.status == DeliveryStatus.PENDING.value
                )
            )
            leased = session.scalar(
                select(func.min(NotificationRow.lease_expires_at)).where(
                    NotificationRow.status == DeliveryStatus.SENDING.value
                )
            )
            times = [_as_epoch(t) for t in (pending, leased) if t is not None]
            return min(times) if times else None

        return self.store.transaction(work, write=False)

    # -- reading and operating --------------------------------------------------------------------------

    def get(self, delivery_id: int) -> Delivery | None:
        def work(session: Session) -> Delivery | None:
            row = session.get(NotificationRow, delivery_id)
            return None if row is None else _to_delivery(row)

        return self.store.transaction(work, write=False)

    def list(
        self,
        *,
        status: DeliveryStatus | str | None = None,
        receiver: str | None = None,
        channel: str | None = None,
        notice_key: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Delivery]:
        """Rows, newest first, optionally filtered."""
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
            raise InvalidInput("limit", f"must be an integer from 1 to {MAX_LIST}")
        if not isinstance(offset, int) or offset < 0:
            raise InvalidInput("offset", "must be a non-negative integer")
        query = select(NotificationRow).order_by(NotificationRow.id.desc()).limit(limit).offset(offset)
        if status is not None:
            try:
                query = query.where(NotificationRow.status == DeliveryStatus(status).value)
            except ValueError:
                allowed = ", ".join(s.value for s in DeliveryStatus)
                raise InvalidInput("status", f"unknown status {status!r} (one of {allowed})") from None
        if receiver is not None:
            query = query.where(NotificationRow.receiver == receiver)
        if channel is not None:
            query = query.where(NotificationRow.channel == channel)
        if notice_key is not None:
            query = query.where(NotificationRow.notice_key == notice_key)
        return self.store.transaction(lambda s: [_to_delivery(r) for r in s.scalars(query)], write=False)

    def dead_letters(self, *, limit: int = 100) -> builtins.list[Delivery]:
        """Deliveries that gave up, newest first, each with its ``last_error``."""
        return self.list(status=DeliveryStatus.DEAD, limit=limit)

    def counts(self) -> dict[str, int]:
        """Rows per status (every status present, zero when none), for dashboards and metrics."""

        def work(session: Session) -> dict[str, int]:
            query = select(NotificationRow.status, func.count()).group_by(NotificationRow.status)
            found = {status: count for status, count in session.execute(query).all()}
            return {s.value: int(found.get(s.value, 0)) for s in DeliveryStatus}

        return self.store.transaction(work, write=False)

    def prune(self, older_than: float, *, include_dead: bool = False, batch_size: int = 1000) -> int:
        """Delete delivered rows (and dead ones with ``include_dead``) last updated before ``older_than`` (epoch
        seconds), in batches so no transaction grows large. Returns how many were deleted. Pending and sending
        rows are never pruned. A pruned notice can be enqueued again (its key is free)."""
        statuses = [DeliveryStatus.DELIVERED.value] + ([DeliveryStatus.DEAD.value] if include_dead else [])
        cutoff = _dt(older_than)

        def one_batch(session: Session) -> int:
            ids = list(
                session.scalars(
                    select(NotificationRow.id)
                    .where(NotificationRow.status.in_(statuses), NotificationRow.updated_at < cutoff)
                    .limit(batch_size)
                )
            )
            if ids:
                session.execute(delete(NotificationRow).where(NotificationRow.id.in_(ids)))
            return len(ids)

        total = 0
        while deleted := self.store.transaction(one_batch):
            total += deleted
        return total

    def redeliver(self, delivery_id: int) -> Delivery:
        """Send a dead letter again from scratch (attempts reset, due now). `NotFound` for an unknown id,
        `InvalidInput` for a row that is not dead."""
        now = self.clock()

        def work(session: Session) -> Delivery:
            row = session.get(NotificationRow, delivery_id, with_for_update=self.store.dialect == "postgresql")
            if row is None:
                raise NotFound(f"notification delivery {delivery_id} does not exist")
            if row.status != DeliveryStatus.DEAD.value:
                raise InvalidInput(
                    "id", f"delivery {delivery_id} is {row.status}, not dead; only dead letters are redelivered"
                )
            row.status = DeliveryStatus.PENDING.value
            row.attempts = 0
            row.next_attempt_at = _dt(now)
            row.updated_at = _dt(now)
            return _to_delivery(row)

        redelivered = self.store.transaction(work)
        self._wake()
        return redelivered


def _as_epoch(value: datetime) -> float:
    # Aggregates (min) bypass the column's type decorator on SQLite and come back as naive datetimes or strings.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


__all__ = ["Delivery", "DeliveryStatus", "NotificationQueue"]
