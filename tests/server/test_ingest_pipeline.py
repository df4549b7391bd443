"""Group commit on both databases: concurrent requests share transactions, every event is stored once,
duplicates are reported, a bad batch fails alone, and an unreachable database means spooled, not lost."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from recoup.server.metrics import ServerMetrics
from recoup.server.pipeline import GroupCommitPipeline, PipelineBusy, PipelineClosed
from recoup.server.settings import ServerSettings
from recoup.server.spool import REJECTED
from recoup.server.state import IngestAck
from recoup.store import EventKind, NewEvent, NotFound, Store, create_store_engine

T = TypeVar("T")
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def events(prefix: str, n: int, *, message: str = "[Errno 111] Connection refused") -> list[NewEvent]:
    return [
        NewEvent(event_id=f"{prefix}-{i}", kind=EventKind.ERROR, occurred_at=T0, message=message,
                 exception_type="ConnectionRefusedError")
        for i in range(n)
    ]


def run(store: Store, spool_dir: Path, body: Callable[[GroupCommitPipeline], Awaitable[T]], **kw: object) -> T:
    """Run ``body`` against a started pipeline, stopping it afterwards."""

    async def main() -> T:
        settings = ServerSettings(db_url="sqlite:///unused.db", spool_dir=spool_dir, commit_window_seconds=0.005)
        pipeline = GroupCommitPipeline(store, settings, ServerMetrics(), **kw)  # type: ignore[arg-type]
        await pipeline.start()
        try:
            return await body(pipeline)
        finally:
            await pipeline.stop()

    return asyncio.run(main())


def commits(pipeline: GroupCommitPipeline) -> tuple[float, float]:
    """(transactions, events) observed by the commit_batch histogram."""
    registry = pipeline._metrics.registry
    count = registry.get_sample_value("recoup_ingest_commit_events_count") or 0.0
    total = registry.get_sample_value("recoup_ingest_commit_events_sum") or 0.0
    return count, total


async def drained(pipeline: GroupCommitPipeline) -> None:
    """Wait (at most 10 s) until the spool is replayed; the replay task is real, so this polls."""
    for _ in range(1000):
        if not pipeline.depth:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the pipeline did not drain: depth {pipeline.depth}")


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[Store]:
    """A store on a PostgreSQL port where nothing listens: every call raises StoreUnavailable."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = Store(create_store_engine(f"postgresql://postgres@127.0.0.1:{port}/none?connect_timeout=2"))
    try:
        yield dead
    finally:
        dead.close()


def test_concurrent_submits_share_transactions_and_are_stored_once(store: Store, tmp_path: Path) -> None:
    project, _ = store.create_project("group commit")

    async def body(pipeline: GroupCommitPipeline) -> tuple[list[IngestAck], tuple[float, float]]:
        acks = await asyncio.gather(*(pipeline.submit(project.id, events(f"b{b}", 10)) for b in range(200)))
        return list(acks), commits(pipeline)

    acks, (transactions, committed) = run(store, tmp_path / "spool", body)
    assert [len(a.accepted) for a in acks] == [10] * 200 and not any(a.duplicates or a.spooled for a in acks)
    assert committed == 2000
    assert transactions <= 10, f"200 concurrent requests took {transactions} transactions"
    assert store.count_events(project.id) == 2000
    (group,) = store.list_groups(project.id)
    assert group.count == 2000 and group.category == "network"
    stored = store.get_event(project.id, "b7-3")
    assert stored is not None and stored.category == "network" and stored.fingerprint == group.fingerprint


def test_transactions_are_capped(store: Store, tmp_path: Path) -> None:
    project, _ = store.create_project("capped")

    async def body(pipeline: GroupCommitPipeline) -> tuple[float, float]:
        await asyncio.gather(*(pipeline.submit(project.id, events(f"c{b}", 50)) for b in range(20)))
        return commits(pipeline)

    transactions, committed = run(store, tmp_path / "spool", body, max_events_per_commit=200)
    assert committed == 1000 and transactions >= 5


def test_duplicates_are_reported_within_and_across_transactions(store: Store, tmp_path: Path) -> None:
    project, _ = store.create_project("dups")

    async def body(pipeline: GroupCommitPipeline) -> list[IngestAck]:
        first, second = await asyncio.gather(
            pipeline.submit(project.id, events("x", 3)), pipeline.submit(project.id, events("x", 4))
        )
        again = await pipeline.submit(project.id, events("x", 2))
        return [first, second, again]

    first, second, again = run(store, tmp_path / "spool", body)
    assert first.accepted == ("x-0", "x-1", "x-2") and first.duplicates == ()
    assert second.accepted == ("x-3",) and second.duplicates == ("x-0", "x-1", "x-2")
    assert again.accepted == () and again.duplicates == ("x-0", "x-1")
    assert store.count_events(project.id) == 4
    assert store.list_groups(project.id)[0].count == 4


def test_a_bad_batch_fails_alone(store: Store, tmp_path: Path) -> None:
    project, _ = store.create_project("good")

    async def body(pipeline: GroupCommitPipeline) -> list[IngestAck | BaseException]:
        return await asyncio.gather(
            pipeline.submit(project.id, events("g1", 5)),
            pipeline.submit(project.id + 1000, events("bad", 5)),
            pipeline.submit(project.id, events("g2", 5)),
            return_exceptions=True,
        )

    good1, bad, good2 = run(store, tmp_path / "spool", body)
    assert isinstance(bad, NotFound)
    assert isinstance(good1, IngestAck) and isinstance(good2, IngestAck)
    assert len(good1.accepted) == len(good2.accepted) == 5
    assert store.count_events(project.id) == 10


def test_stop_drains_everything_accepted(store: Store, tmp_path: Path) -> None:
    project, _ = store.create_project("drain")
    settings = ServerSettings(db_url="sqlite:///unused.db", spool_dir=tmp_path / "spool")

    async def main() -> list[IngestAck]:
        pipeline = GroupCommitPipeline(store, settings, ServerMetrics())
        await pipeline.start()
        tasks = [asyncio.create_task(pipeline.submit(project.id, events(f"d{b}", 20))) for b in range(50)]
        await asyncio.sleep(0)  # let them queue
        await pipeline.stop()
        assert pipeline.depth == 0
        with pytest.raises(PipelineClosed):
            await pipeline.submit(project.id, events("late", 1))
        return await asyncio.gather(*tasks)

    acks = asyncio.run(main())
    assert sum(len(a.accepted) for a in acks) == 1000
    assert store.count_events(project.id) == 1000


def test_unreachable_database_spools_then_restart_replays(
    store: Store, unreachable: Store, tmp_path: Path
) -> None:
    project, _ = store.create_project("outage")
    spool_dir = tmp_path / "spool"

    async def during_outage(pipeline: GroupCommitPipeline) -> list[IngestAck]:
        acks = [await pipeline.submit(project.id, events(f"o{b}", 10)) for b in range(3)]
        acks += await asyncio.gather(*(pipeline.submit(project.id, events(f"p{b}", 10)) for b in range(5)))
        assert pipeline.depth == 80
        return acks

    acks = run(unreachable, spool_dir, during_outage)
    assert all(a.spooled and len(a.accepted) == 10 for a in acks)
    assert list(spool_dir.glob("segment-*.spool"))

    replayed: list[float] = []

    async def after(pipeline: GroupCommitPipeline) -> tuple[IngestAck, int]:
        ack = await pipeline.submit(project.id, events("o0", 12))  # submitted behind the spool
        await drained(pipeline)
        replayed.append(pipeline._metrics.registry.get_sample_value("recoup_spool_replayed_events_total") or 0)
        return ack, pipeline.depth

    ack, depth = run(store, spool_dir, after)
    assert depth == 0
    assert replayed[0] == (92 if ack.spooled else 80)  # the last batch too, when it went behind the spool
    assert store.count_events(project.id) == 82
    assert store.list_groups(project.id)[0].count == 82
    assert not list(spool_dir.glob("segment-*.spool"))
    # The spooled o0-0..9 reached the database before this batch (order kept), so only o0-10, o0-11 are new.
    if ack.spooled:
        assert len(ack.accepted) == 12
    else:
        assert ack.accepted == ("o0-10", "o0-11")


def test_a_spooled_batch_the_database_refuses_is_set_aside(store: Store, unreachable: Store, tmp_path: Path) -> None:
    """A spooled batch whose project is gone by replay time must not block the spool: it is kept aside."""
    project, _ = store.create_project("kept")
    spool_dir = tmp_path / "spool"

    async def during_outage(pipeline: GroupCommitPipeline) -> None:
        await pipeline.submit(project.id, events("a", 3))
        await pipeline.submit(project.id + 1000, events("gone", 2))
        await pipeline.submit(project.id, events("b", 3))

    run(unreachable, spool_dir, during_outage)

    async def replay(pipeline: GroupCommitPipeline) -> None:
        await drained(pipeline)

    run(store, spool_dir, replay)
    assert store.count_events(project.id) == 6
    assert "gone-0" in (spool_dir / REJECTED).read_text()
    assert not list(spool_dir.glob("segment-*.spool"))


def test_a_full_queue_refuses_instead_of_growing(store: Store, tmp_path: Path) -> None:
    project, _ = store.create_project("busy")

    async def body(pipeline: GroupCommitPipeline) -> list[IngestAck | BaseException]:
        return await asyncio.gather(
            *(pipeline.submit(project.id, events(f"q{b}", 10)) for b in range(10)), return_exceptions=True
        )

    outcomes = run(store, tmp_path / "spool", body, max_queued_events=30)
    busy = [o for o in outcomes if isinstance(o, PipelineBusy)]
    stored = [o for o in outcomes if isinstance(o, IngestAck)]
    assert busy and stored and len(busy) + len(stored) == 10
    assert store.count_events(project.id) == 10 * len(stored)


def test_ingest_many_attributes_results_per_batch(store: Store) -> None:
    """The store call group commit rests on: one transaction, several projects, per-batch answers."""
    a, _ = store.create_project("a")
    b, _ = store.create_project("b")
    later = datetime(2026, 3, 2, tzinfo=UTC)

    def ev(event_id: str, fp: str) -> NewEvent:
        return NewEvent(event_id=event_id, kind=EventKind.ERROR, occurred_at=T0, fingerprint=fp)

    first, second, other, empty = store.ingest_many([
        (a.id, [ev("1", "x"), ev("2", "y"), ev("1", "x")], None),
        (a.id, [ev("2", "y"), ev("3", "z")], later),
        (b.id, [ev("1", "x")], later),
        (b.id, [], None),
    ])
    assert (first.inserted, first.duplicates, first.new_groups) == (("1", "2"), ("1",), ("x", "y"))
    assert (second.inserted, second.duplicates, second.new_groups) == (("3",), ("2",), ("z",))
    assert set(second.groups) == {"y", "z"} and second.groups["y"] == first.groups["y"]
    assert (other.inserted, other.new_groups) == (("1",), ("x",)) and other.groups["x"] != first.groups["x"]
    assert empty.inserted == empty.duplicates == ()
    stored = store.get_event(a.id, "3")
    assert stored is not None and stored.received_at == later
    assert store.count_events(a.id) == 3 and store.count_events(b.id) == 1
    assert sorted(g.count for g in store.list_groups(a.id)) == [1, 1, 1]
    with pytest.raises(NotFound):
        store.ingest_many([(a.id, [ev("9", "x")], None), (b.id + 100, [ev("9", "x")], None)])
    assert store.get_event(a.id, "9") is None  # all or nothing


def test_the_gil_switch_interval_is_shortened_while_running_and_put_back(store: Store, tmp_path: Path) -> None:
    """Writers get the GIL back quickly after each database round trip; the process's setting is restored."""
    import sys

    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        async def during(pipeline: GroupCommitPipeline) -> float:
            return sys.getswitchinterval()

        assert run(store, tmp_path / "spool", during, gil_switch_interval=0.001) == 0.001
        assert sys.getswitchinterval() == 0.005
        assert run(store, tmp_path / "spool2", during, gil_switch_interval=None) == 0.005  # left alone
        sys.setswitchinterval(0.0005)
        assert run(store, tmp_path / "spool3", during, gil_switch_interval=0.001) == 0.0005  # never lengthened
        assert sys.getswitchinterval() == 0.0005
        with pytest.raises(ValueError, match="gil_switch_interval"):
            GroupCommitPipeline(store, ServerSettings(db_url="sqlite:///unused.db", spool_dir=tmp_path),
                                ServerMetrics(), gil_switch_interval=0)
    finally:
        sys.setswitchinterval(before)
