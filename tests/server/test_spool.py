"""The spool keeps every acknowledged batch across crashes: torn tails are ignored, corruption is kept
aside (never silently dropped), order is kept, and replay is idempotent. Slots: each process claims its
own spool, and a slot left with segments by a process that is gone is found and drained."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recoup.server.spool import (
    QUARANTINE,
    REJECTED,
    CorruptRecord,
    SlotLease,
    Spool,
    SpoolError,
    SpoolRecord,
    claim_orphans,
    claim_slot,
    decode_record,
    drain,
    encode_record,
    known_slots,
    try_claim,
)
from recoup.store import EventKind, InvalidInput, Level, NewEvent, Store, StoreUnavailable

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def record(n: int, *, project_id: int = 1, size: int = 2) -> SpoolRecord:
    events = tuple(
        NewEvent(
            event_id=f"e{n}-{i}",
            kind=EventKind.ERROR,
            occurred_at=T0 + timedelta(seconds=n),
            message=f"failure {n}\nline two ü",
            level=Level.FATAL,
            category="network",
            fingerprint=f"fp{n % 2}",
            exception_type="ConnectionError",
            title="Connection lost",
            payload={"frames": [{"module": "app", "function": "f", "in_app": True}], "n": n, "nested": [1.5, None]},
        )
        for i in range(size)
    )
    return SpoolRecord(project_id=project_id, received_at=T0 + timedelta(minutes=n), events=events)


def replay_all(spool: Spool, max_events: int = 1000) -> list[SpoolRecord]:
    out: list[SpoolRecord] = []
    while (batch := spool.peek(max_events)) is not None:
        out.extend(batch.records)
        spool.advance(batch)
    return out


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("segment-*.spool"))


def test_records_round_trip_faithfully() -> None:
    original = record(3)
    line = encode_record(original)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_record(line) == original


@pytest.mark.parametrize(
    "damage",
    [
        lambda line: line[:-10],  # short
        lambda line: line.replace(b"failure", b"fAilure"),  # CRC mismatch
        lambda line: b"zzzzzzzz" + line[8:],  # header
        lambda line: b"",
    ],
)
def test_damaged_lines_are_detected(damage: object) -> None:
    with pytest.raises(CorruptRecord):
        decode_record(damage(encode_record(record(1))))  # type: ignore[operator]


def test_order_is_kept_across_segments_and_restarts(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", segment_bytes=2000)  # a few records per segment
    spool.open()
    for n in range(10):
        spool.append([record(n)])
    assert len(segments(tmp_path / "spool")) > 2
    assert spool.pending_events == 20
    spool.close()
    reopened = Spool(tmp_path / "spool")
    reopened.open()
    assert reopened.pending_records == 10
    reopened.append([record(10)])  # appends go to a new segment, after the old ones
    assert [r.events[0].event_id for r in replay_all(reopened, max_events=3)] == [f"e{n}-0" for n in range(11)]
    assert not reopened and reopened.pending_events == 0
    assert segments(tmp_path / "spool") == []


def test_torn_tail_is_ignored_and_never_appended_to(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.open()
    spool.append([record(1), record(2)])
    spool.close()
    (path,) = segments(tmp_path)
    with path.open("ab") as f:  # kill -9 in the middle of the third append
        f.write(encode_record(record(3))[:57])
    reopened = Spool(tmp_path)
    reopened.open()
    assert reopened.torn_tails == 1 and reopened.pending_records == 2
    reopened.append([record(4)])
    assert len(segments(tmp_path)) == 2
    assert [r.events[0].event_id for r in replay_all(reopened)] == ["e1-0", "e2-0", "e4-0"]
    assert not (tmp_path / QUARANTINE).exists()
    assert segments(tmp_path) == []


def test_corruption_before_good_records_is_quarantined_not_dropped(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.open()
    spool.append([record(1), record(2), record(3)])
    spool.close()
    (path,) = segments(tmp_path)
    data = path.read_bytes()
    bad = data.replace(b"failure 2", b"failure X")
    path.write_bytes(bad)
    reopened = Spool(tmp_path)
    reopened.open()
    assert reopened.quarantined == 1 and reopened.pending_records == 2
    assert [r.events[0].event_id for r in replay_all(reopened)] == ["e1-0", "e3-0"]
    assert b"failure X" in (tmp_path / QUARANTINE).read_bytes()


def test_replay_advances_only_past_committed_batches(tmp_path: Path) -> None:
    """A crash between commit and advance replays the batch again (harmless: exactly once by id)."""
    spool = Spool(tmp_path)
    spool.open()
    spool.append([record(1), record(2)])
    first = spool.peek(2)
    assert first is not None and len(first.records) == 1
    spool.close()  # "crash" before advance()
    again = Spool(tmp_path)
    again.open()
    assert [r.events[0].event_id for r in replay_all(again)] == ["e1-0", "e2-0"]


def test_write_failure_is_reported_and_acknowledges_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    spool = Spool(blocker)
    with pytest.raises(SpoolError):
        spool.open()
    with pytest.raises(SpoolError):
        spool.append([record(1)])


def test_rejected_records_are_kept_with_the_reason(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.open()
    spool.reject(record(5), "project 1 does not exist")
    kept = json.loads((tmp_path / REJECTED).read_text())
    assert kept["reason"] == "project 1 does not exist"
    assert decode_record(kept["record"].encode()) == record(5)


def test_replayed_into_the_store_exactly_once(store: Store, tmp_path: Path) -> None:
    project, _ = store.create_project("spooled")
    spool = Spool(tmp_path)
    spool.open()
    spool.append([record(n, project_id=project.id) for n in range(4)])
    for _ in range(2):  # a replay repeated after a crash changes nothing
        batch = Spool(tmp_path)
        batch.open()
        peeked = batch.peek(100)
        assert peeked is not None
        store.ingest_many([(r.project_id, r.events, r.received_at) for r in peeked.records])
        batch.close()
    assert store.count_events(project.id) == 8
    stored = store.get_event(project.id, "e2-1")
    assert stored is not None and stored.received_at == T0 + timedelta(minutes=2)
    assert stored.payload["nested"] == [1.5, None] and stored.level is Level.FATAL
    groups = {g.fingerprint: g.count for g in store.list_groups(project.id)}
    assert groups == {"fp0": 4, "fp1": 4}


# -- slots: one spool per process on a shared spool_dir (flock is per open file, so one process shows it) ----


def test_slots_are_exclusive_first_free_and_reused(tmp_path: Path) -> None:
    first, second = claim_slot(tmp_path), claim_slot(tmp_path)
    assert (first.slot, second.slot) == (0, 1)
    assert first.directory == tmp_path  # slot 0 is the single-process layout of earlier versions
    assert second.directory == tmp_path / "slot-1" and second.directory.is_dir()
    assert try_claim(tmp_path, 1) is None
    first.release()
    with claim_slot(tmp_path) as again:
        assert again.slot == 0 and again.held
    assert not again.held
    second.release()
    assert known_slots(tmp_path) == [0, 1]


def test_orphans_are_unowned_slots_holding_segments(tmp_path: Path) -> None:
    legacy = Spool(tmp_path)  # segments straight in spool_dir, as before slots existed
    legacy.open()
    legacy.append([record(1)])
    legacy.close()
    owned = claim_slot(tmp_path)  # slot 0: a live owner, never handed out as an orphan
    busy = claim_slot(tmp_path)
    Spool(busy.directory).open()
    with claim_slot(tmp_path) as dead:  # slot 2: spooled into, then its owner went away
        spool = Spool(dead.directory)
        spool.open()
        spool.append([record(2), record(3)])
        spool.close()
    with claim_slot(tmp_path) as empty:
        assert empty.slot == 2  # free again: its owner released it
    assert [lease.slot for lease in _claim_all(tmp_path)] == [2]
    owned.release()
    assert [lease.slot for lease in _claim_all(tmp_path)] == [0, 2]
    busy.release()


def _claim_all(spool_dir: Path) -> list[SlotLease]:
    leases = []
    for lease in claim_orphans(spool_dir):
        leases.append(lease)
        lease.release()
    return leases


def test_drain_replays_in_order_sets_refusals_aside_and_stops_when_the_database_does(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=2000)
    spool.open()
    spool.append([record(n) for n in range(4)])
    spool.append([record(4, project_id=99)])
    spool.append([record(n) for n in range(5, 9)])
    spool.close()
    committed: list[str] = []
    down_after = [6]

    def commit(records: Sequence[SpoolRecord]) -> None:
        if len(committed) >= down_after[0]:
            raise StoreUnavailable("down")
        if any(r.project_id == 99 for r in records):
            raise InvalidInput("project_id", "project 99 does not exist")
        committed.extend(r.events[0].event_id for r in records)

    replaying = Spool(tmp_path)
    replaying.open()
    assert drain(replaying, commit, max_events=4) is False  # stopped with the database: the rest waits
    replaying.close()
    first_pass = len(committed)
    down_after[0] = 100
    replayed: list[int] = []
    again = Spool(tmp_path)
    again.open()
    assert drain(again, commit, max_events=4, on_committed=replayed.append) is True
    assert list(dict.fromkeys(committed)) == [f"e{n}-0" for n in range(9) if n != 4]  # in order (repeats harmless)
    assert sum(replayed) == 2 * (len(committed) - first_pass) and segments(tmp_path) == []
    assert "project 99" in (tmp_path / REJECTED).read_text()
