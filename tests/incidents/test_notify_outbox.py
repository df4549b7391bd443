"""The durable outbox and its worker, on SQLite and PostgreSQL, delivering to real servers on 127.0.0.1:
de-duplication, Retry-After, backoff, dead letters, redelivery, order per dedup_key, and a restart with a row
left ``sending`` by a crashed worker."""

from __future__ import annotations

import asyncio
import importlib
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from receivers import HttpReceivers, SmtpReceiver
from sqlalchemy import inspect, update

from recoup.incidents.model import Notice, NoticeKind, Severity
from recoup.incidents.notify import (
    DeliveryStatus,
    NotificationQueue,
    NotificationWorker,
    NotifyConfig,
    parse_notify_config,
)
from recoup.incidents.notify.channels import Attempt
from recoup.incidents.notify.result import SendResult
from recoup.store import InvalidInput, NotFound, Store, open_store
from recoup.store.models_notify import NotificationRow

T0 = 1_800_000_000.0


class Clock:
    """Epoch seconds that move only when told."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def http(clock: Clock) -> Iterator[HttpReceivers]:
    receivers = HttpReceivers(clock=clock).start()
    try:
        yield receivers
    finally:
        receivers.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


def config_for(http: HttpReceivers, smtp: SmtpReceiver | None = None, *, everything: bool = False) -> NotifyConfig:
    oncall: dict[str, Any] = {
        "name": "oncall",
        "webhook": {"url": f"{http.base}/webhook", "secret": http.webhook_secret},
    }
    receivers: list[dict[str, Any]] = [
        oncall,
        {"name": "pager", "pagerduty": {"routing_key": http.pagerduty_key, "url": f"{http.base}/pagerduty/v2/enqueue"}},
    ]
    if everything:
        assert smtp is not None
        oncall["slack"] = {"webhook_url": f"{http.base}/slack/T0/B0/x"}
        oncall["email"] = {"host": "127.0.0.1", "port": smtp.port, "starttls": False, "from": "r@example.com",
                           "to": ["oncall@example.com"]}  # fmt: skip
        oncall["sms"] = {"account_sid": http.twilio_sid, "auth_token": http.twilio_token, "from": "+15550001111",
                         "to": ["+15550002222"], "base_url": f"{http.base}/twilio"}  # fmt: skip
        oncall["pagerduty"] = receivers[1]["pagerduty"]
        oncall["apprise"] = {"urls": [f"json://127.0.0.1:{http.port}/apprise"]}
    return parse_notify_config({"receivers": receivers}, environ={})


def notice(key: str = "n1", *, kind: NoticeKind = NoticeKind.FIRING, dedup: str = "group:1") -> Notice:
    return Notice(
        kind=kind,
        key=key,
        dedup_key=dedup,
        title="HighErrorRate on checkout",
        text="error ratio 0.31 > 0.05",
        severity=Severity.CRITICAL,
        created_at=T0,
        labels={"alertname": "HighErrorRate", "project": "checkout"},
    )


def make(
    store: Store, config: NotifyConfig, clock: Clock, **worker: Any
) -> tuple[NotificationQueue, NotificationWorker]:
    queue = NotificationQueue(store, clock=clock, config=config)
    worker.setdefault("rng", random.Random(7))
    return queue, NotificationWorker(queue, config, clock=clock, **worker)


def once(worker: NotificationWorker) -> int:
    async def go() -> int:
        try:
            return await worker.run_once()
        finally:
            await worker.aclose()

    return asyncio.run(go())


# -- delivery and de-duplication ----------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # apprise imports the deprecated imghdr
def test_every_channel_delivers_through_the_outbox(
    store: Store, http: HttpReceivers, smtp: SmtpReceiver, clock: Clock
) -> None:
    pytest.importorskip("apprise")
    queue, worker = make(store, config_for(http, smtp, everything=True), clock)
    queue.enqueue(notice(), ["oncall"])
    assert {d.channel for d in queue.list()} == {"email", "slack", "webhook", "sms", "pagerduty", "apprise"}
    assert queue.counts()["pending"] == 6
    clock.advance(2.5)
    assert once(worker) == 6
    assert http.invalid == []
    for prefix in ("/webhook", "/slack", "/twilio", "/pagerduty", "/apprise"):
        assert len(http.delivered(prefix)) == 1, prefix
    assert len(smtp.mails) == 1
    rows = queue.list()
    assert {d.status for d in rows} == {DeliveryStatus.DELIVERED}
    assert all(d.attempts == 1 and d.latency_seconds == pytest.approx(2.5) for d in rows)
    assert all(d.delivered_at == pytest.approx(T0 + 2.5) for d in rows)
    assert queue.counts() == {"pending": 0, "sending": 0, "delivered": 6, "dead": 0}
    assert once(worker) == 0


def test_enqueueing_the_same_notice_twice_delivers_once(store: Store, http: HttpReceivers, clock: Clock) -> None:
    queue, worker = make(store, config_for(http), clock)
    first = queue.add(notice(), ["oncall", "pager", "oncall"])
    assert len(first) == 2
    assert queue.add(notice(), ["oncall"]) == []
    queue.enqueue(notice(), ["pager", "oncall"])
    assert once(worker) == 2
    assert once(worker) == 0
    queue.enqueue(notice(), ["oncall"])  # even after delivery
    assert once(worker) == 0
    assert len(http.delivered("/webhook")) == 1 and len(http.delivered("/pagerduty")) == 1
    assert len(queue.list()) == 2


def test_bad_input_is_refused_before_anything_is_written(store: Store, http: HttpReceivers, clock: Clock) -> None:
    queue, _ = make(store, config_for(http), clock)
    with pytest.raises(InvalidInput) as err:
        queue.enqueue(notice(), ["oncall", "nobody"])
    assert err.value.field == "receivers[1]" and "nobody" in str(err.value)
    with pytest.raises(InvalidInput, match=r"notice\.key"):
        queue.enqueue(notice("k" * 300), ["oncall"])
    with pytest.raises(InvalidInput, match="receivers"):
        queue.enqueue(notice(), "oncall")
    assert queue.list() == []
    with pytest.raises(InvalidInput, match="limit"):
        queue.list(limit=0)
    with pytest.raises(InvalidInput, match="status"):
        queue.list(status="lost")


# -- retries -------------------------------------------------------------------------------------------


def test_429_waits_exactly_as_long_as_retry_after_says(store: Store, http: HttpReceivers, clock: Clock) -> None:
    queue, worker = make(store, config_for(http), clock)
    queue.enqueue(notice(), ["oncall"])
    http.answer("/webhook", 429, headers={"Retry-After": "30"}, body="slow down")
    assert once(worker) == 1
    (row,) = queue.list()
    assert row.status is DeliveryStatus.PENDING and row.attempts == 1
    assert row.next_attempt_at == pytest.approx(T0 + 30)
    assert row.last_error is not None and "429" in row.last_error and "slow down" in row.last_error
    assert queue.next_due() == pytest.approx(T0 + 30)
    clock.advance(29.9)
    assert once(worker) == 0
    clock.advance(0.1)
    assert once(worker) == 1
    (row,) = queue.list()
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert len(http.delivered("/webhook")) == 1 and len(http.at("/webhook", status=429)) == 1


def test_5xx_is_retried_with_capped_jittered_exponential_backoff(
    store: Store, http: HttpReceivers, clock: Clock
) -> None:
    queue, worker = make(store, config_for(http), clock, backoff_base=10, backoff_cap=30)
    queue.enqueue(notice(), ["oncall"])
    http.answer("/webhook", 500, times=4)
    for attempt, full in enumerate([10, 20, 30, 30], start=1):
        assert once(worker) == 1
        (row,) = queue.list()
        assert (row.status, row.attempts) == (DeliveryStatus.PENDING, attempt)
        wait = row.next_attempt_at - clock()
        assert full / 2 <= wait <= full, (attempt, wait)
        clock.advance(wait)
    assert once(worker) == 1
    (row,) = queue.list()
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 5)


def test_after_the_last_attempt_the_row_is_dead_and_listed(store: Store, http: HttpReceivers, clock: Clock) -> None:
    queue, worker = make(store, config_for(http), clock, max_attempts=3, backoff_base=1, backoff_cap=1)
    queue.enqueue(notice(), ["oncall"])
    http.answer("/webhook", 503, body="maintenance", times=3)
    for _ in range(3):
        assert once(worker) == 1
        clock.advance(1)
    (dead,) = queue.dead_letters()
    assert (dead.status, dead.attempts) == (DeliveryStatus.DEAD, 3)
    assert dead.last_error is not None and "gave up after 3 attempts" in dead.last_error
    assert "maintenance" in dead.last_error
    assert once(worker) == 0 and http.delivered("/webhook") == []


def test_400_is_dead_at_once_and_can_be_redelivered(store: Store, http: HttpReceivers, clock: Clock) -> None:
    queue, worker = make(store, config_for(http), clock)
    queue.enqueue(notice(), ["oncall", "pager"])
    http.answer("/pagerduty", 400, body='{"status":"invalid event","errors":["payload.summary missing"]}')
    assert once(worker) == 2
    (dead,) = queue.dead_letters()
    assert (dead.receiver, dead.channel, dead.attempts) == ("pager", "pagerduty", 1)
    assert (
        dead.last_error is not None and "failed permanently" in dead.last_error and "invalid event" in dead.last_error
    )
    assert [d.id for d in queue.list(status="dead")] == [dead.id]
    assert [d.id for d in queue.list(receiver="pager")] == [dead.id]
    assert len(queue.list(notice_key="n1")) == 2
    # Fixed on the far side: send it again.
    again = queue.redeliver(dead.id)
    assert (again.status, again.attempts) == (DeliveryStatus.PENDING, 0)
    assert once(worker) == 1
    assert queue.get(dead.id) is not None and queue.get(dead.id).status is DeliveryStatus.DELIVERED  # type: ignore[union-attr]
    assert queue.dead_letters() == []
    with pytest.raises(InvalidInput, match="only dead letters"):
        queue.redeliver(dead.id)
    with pytest.raises(NotFound):
        queue.redeliver(999_999)


def test_a_channel_removed_from_the_configuration_dead_letters_its_rows(
    store: Store, http: HttpReceivers, clock: Clock
) -> None:
    queue, _ = make(store, config_for(http), clock)
    queue.enqueue(notice(), ["pager"])
    without_pager = parse_notify_config({"receivers": [{"name": "oncall", "webhook": {
        "url": f"{http.base}/webhook", "secret": http.webhook_secret}}]}, environ={})  # fmt: skip
    worker = NotificationWorker(queue, without_pager, clock=clock)
    assert once(worker) == 1
    (dead,) = queue.dead_letters()
    assert dead.last_error is not None and "no pagerduty channel" in dead.last_error


# -- order, restart, concurrency -----------------------------------------------------------------------


def test_a_resolve_never_overtakes_its_trigger(store: Store, http: HttpReceivers, clock: Clock) -> None:
    queue, worker = make(store, config_for(http), clock, backoff_base=5, backoff_cap=5)
    queue.enqueue(notice("fire"), ["pager"])
    http.answer("/pagerduty", 500)
    assert once(worker) == 1  # the trigger fails, and will be retried in 5s
    queue.enqueue(notice("resolve", kind=NoticeKind.RESOLVED), ["pager"])
    queue.enqueue(notice("other", dedup="group:2"), ["pager"])
    clock.advance(1)
    assert once(worker) == 1  # the other group's notice goes; the resolve waits behind its pending trigger
    assert once(worker) == 0
    clock.advance(10)
    assert once(worker) == 1
    assert once(worker) == 1
    events = [(r.json()["dedup_key"], r.json()["event_action"]) for r in http.delivered("/pagerduty")]
    assert events == [("group:2", "trigger"), ("group:1", "trigger"), ("group:1", "resolve")]


def test_a_restart_delivers_everything_exactly_once(
    db_url: str, store: Store, http: HttpReceivers, clock: Clock
) -> None:
    config = config_for(http)
    queue, _ = make(store, config, clock)
    for key in ("a", "b", "c"):
        queue.enqueue(notice(key, dedup=key), ["oncall"])
    # A worker claims two rows and dies before sending them (its process is gone: nothing more happens).
    crashed = queue.claim("crashed-worker", limit=2, lease_seconds=60)
    assert len(crashed) == 2 and {d.status for d in queue.list()} == {DeliveryStatus.SENDING, DeliveryStatus.PENDING}
    store.close()

    # Restart: new store, queue and worker objects on the same database.
    with open_store(db_url) as reopened:
        queue2, worker2 = make(reopened, config, clock)
        assert once(worker2) == 1  # only the unclaimed row; the others are still leased
        clock.advance(60)
        assert once(worker2) == 2  # the leases expired: taken over and delivered
        assert once(worker2) == 0
        rows = queue2.list()
        assert {d.status for d in rows} == {DeliveryStatus.DELIVERED}
        assert sorted(d.attempts for d in rows) == [1, 2, 2]
        keys = sorted(r.json()["key"] for r in http.delivered("/webhook"))
        assert keys == ["a", "b", "c"]
        # The crashed worker, were it to come back, cannot overwrite the outcome.
        assert not queue2.mark_retry(crashed[0].id, "crashed-worker", error="late", at=clock())
        assert queue2.get(crashed[0].id).status is DeliveryStatus.DELIVERED  # type: ignore[union-attr]


def test_a_lease_that_expires_after_the_last_attempt_dead_letters(
    store: Store, http: HttpReceivers, clock: Clock
) -> None:
    queue, worker = make(store, config_for(http), clock, max_attempts=1)
    queue.enqueue(notice(), ["oncall"])
    assert len(queue.claim("crashed", max_attempts=1, lease_seconds=10)) == 1
    clock.advance(10)
    assert once(worker) == 0
    (dead,) = queue.dead_letters()
    assert dead.last_error is not None and "lease expired" in dead.last_error


def test_two_workers_never_send_the_same_row(store: Store, http: HttpReceivers, clock: Clock) -> None:
    queue, w1 = make(store, config_for(http), clock, batch_size=5)
    _, w2 = make(store, config_for(http), clock, batch_size=5)
    for i in range(20):
        queue.enqueue(notice(f"k{i}", dedup=f"g{i}"), ["oncall"])

    async def both() -> list[int]:
        async def drain(worker: NotificationWorker) -> int:
            total = 0
            while n := await worker.run_once():
                total += n
            await worker.aclose()
            return total

        return list(await asyncio.gather(drain(w1), drain(w2)))

    counts = asyncio.run(both())
    assert sum(counts) == 20
    keys = [r.json()["key"] for r in http.delivered("/webhook")]
    assert sorted(keys) == sorted(f"k{i}" for i in range(20))


# -- the loop ------------------------------------------------------------------------------------------


def test_run_wakes_on_enqueue_and_delivers_well_under_a_second(store: Store, http: HttpReceivers) -> None:
    http.clock = time.time
    config = config_for(http)
    queue = NotificationQueue(store, clock=time.time, config=config)
    # A long poll interval: only the wake-up on enqueue can make this fast.
    worker = NotificationWorker(queue, config, clock=time.time, poll_interval=30)

    async def go() -> list[float]:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0.05)  # the worker is idle, waiting
        latencies = []
        for i in range(3):
            started = time.time()
            # Enqueued from another thread, as routing code running in a thread would.
            await asyncio.to_thread(queue.enqueue, notice(f"live{i}", dedup=f"live{i}"), ["oncall"])
            got = await asyncio.to_thread(http.wait_for, "/webhook", i + 1, 5.0)
            assert len(got) == i + 1
            latencies.append(got[-1].at - started)
        stop.set()
        await asyncio.wait_for(task, 5)
        await worker.aclose()
        return latencies

    latencies = asyncio.run(go())
    assert max(latencies) < 1.0, latencies
    rows = queue.list()
    assert all(d.status is DeliveryStatus.DELIVERED and d.latency_seconds is not None for d in rows)
    assert max(d.latency_seconds or 0 for d in rows) < 1.0


def test_run_retries_when_due_and_stops_promptly(store: Store, http: HttpReceivers) -> None:
    http.clock = time.time
    config = config_for(http)
    queue = NotificationQueue(store, clock=time.time, config=config)
    worker = NotificationWorker(queue, config, clock=time.time, poll_interval=30)
    http.answer("/webhook", 429, headers={"Retry-After": "0"})
    queue.enqueue(notice(), ["oncall"])

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        got = await asyncio.to_thread(http.wait_for, "/webhook", 1, 5.0)
        assert len(got) == 1
        stop.set()
        started = time.monotonic()
        await asyncio.wait_for(task, 5)
        assert time.monotonic() - started < 1.0
        await worker.aclose()

    asyncio.run(go())
    (row,) = queue.list()
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 2)


# -- robustness ----------------------------------------------------------------------------------------


def test_an_unreadable_stored_notice_is_dead_lettered_not_blocking(
    store: Store, http: HttpReceivers, clock: Clock
) -> None:
    queue, worker = make(store, config_for(http), clock)
    queue.enqueue(notice("bad", dedup="bad"), ["oncall"])
    queue.enqueue(notice("good", dedup="good"), ["oncall"])
    with store.engine.begin() as conn:
        conn.execute(update(NotificationRow).where(NotificationRow.notice_key == "bad").values(payload={"kind": "?"}))
    assert once(worker) == 1
    (dead,) = queue.dead_letters()
    assert dead.last_error is not None and "cannot be read" in dead.last_error
    assert [r.json()["key"] for r in http.delivered("/webhook")] == ["good"]


class Exploding:
    """A channel with a bug: the worker must record it and retry, not stop."""

    kind = "webhook"

    async def send(self, notice: Notice, attempt: Attempt) -> SendResult:
        raise RuntimeError("boom")


def test_a_channel_that_raises_is_retried_with_the_error_recorded(
    store: Store, http: HttpReceivers, clock: Clock
) -> None:
    config = config_for(http)
    queue = NotificationQueue(store, clock=clock, config=config)
    worker = NotificationWorker(queue, config, clock=clock, channels={("oncall", "webhook"): Exploding()})
    queue.enqueue(notice(), ["oncall"])
    assert once(worker) == 1
    (row,) = queue.list()
    assert (
        row.status is DeliveryStatus.PENDING and row.last_error is not None and "RuntimeError: boom" in row.last_error
    )


def test_the_migration_goes_down_and_up(store: Store) -> None:
    revision = importlib.import_module("recoup.store.migrations.versions.r0004_notifications")
    with store.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        assert "notifications" in inspect(conn).get_table_names()
        revision.downgrade()
        assert "notifications" not in inspect(conn).get_table_names()
        revision.upgrade()
        inspector = inspect(conn)
        assert "notifications" in inspector.get_table_names()
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("notifications")}
        assert ("notice_key", "receiver", "channel") in uniques


def test_prune_deletes_only_old_finished_rows(store: Store, http: HttpReceivers, clock: Clock) -> None:
    queue, worker = make(store, config_for(http), clock)
    queue.enqueue(notice("old"), ["oncall", "pager"])
    http.answer("/pagerduty", 400)
    assert once(worker) == 2  # webhook delivered, pagerduty dead
    clock.advance(3600)
    queue.enqueue(notice("new", dedup="g2"), ["oncall"])
    assert once(worker) == 1
    queue.enqueue(notice("waiting", dedup="g3"), ["oncall"])
    assert queue.prune(clock() - 60) == 1
    assert {(d.notice_key, d.status) for d in queue.list()} == {
        ("old", DeliveryStatus.DEAD), ("new", DeliveryStatus.DELIVERED), ("waiting", DeliveryStatus.PENDING),
    }  # fmt: skip
    assert queue.prune(clock() - 60, include_dead=True, batch_size=1) == 1
    assert [d.channel for d in queue.list(channel="webhook")] == ["webhook", "webhook"]
