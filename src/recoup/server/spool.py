"""The local spool: where accepted batches go, fsynced, while the database is unreachable, so a 2xx answer
still means "this will be stored" and nothing acknowledged is lost.

Layout: ``spool_dir/segment-<seq>.spool`` files, appended in sequence order and replayed in that order.
One line per batch::

    <length of JSON, 8 hex> <crc32 of JSON, 8 hex> <JSON: {"project_id", "received_at", "events": [...]}>\\n

Why it is safe at every crash point:

* A batch is acknowledged only after its line is written *and* fsynced (and, for a new segment file, the
  directory too). A crash mid-append leaves a torn last line (short, or failing its CRC) that was never
  acknowledged: it is recognised and ignored.
* A process never appends to a segment it did not create: after a restart (or a failed write) it starts
  a new segment, so a torn tail can only ever be the *last* line of an older segment. A bad line with good
  lines after it is real corruption: it is copied to ``quarantine.bad`` and reported, never silently dropped.
* Replay commits a batch with its original ``received_at`` and only then advances past it; a segment is
  deleted once fully replayed. A crash between commit and deletion replays the batch again, which the
  store's exactly-once rule per (project, event id) makes harmless.
* A batch the database refuses for good (its project deleted, a value PostgreSQL rejects) goes to
  ``rejected.jsonl`` with the reason, so it cannot block the spool forever and is still kept.

Not thread-safe: the pipeline's single writer is its only user.

Slots (several server processes on one ``spool_dir``, e.g. ``recoup serve --workers N``): each process
appends only to a spool it owns, its *slot*, claimed with an exclusive ``flock`` on ``spool_dir/slot-<n>.lock``
held for the process's lifetime (`claim_slot` takes the first free one). Slot 0 is ``spool_dir`` itself, so
a single process uses exactly the layout of earlier versions (their leftovers are slot 0's, replayed first);
slot ``n`` >= 1 is ``spool_dir/slot-<n>/``. The kernel drops a lock when its process dies, however it dies,
so a slot that still holds segments but whose lock can be taken is an orphan (of a worker killed, or of a
bigger previous worker count): `claim_orphans` hands such slots to a live process, which replays them with
the same peek/commit/advance steps (`drain`) and then releases them. Lock files are never deleted (deleting
one while another process opens it would let two processes "hold" the same slot).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from recoup.store import EventKind, InvalidInput, Level, NewEvent, StoreUnavailable

_log = logging.getLogger(__name__)

SEGMENT_BYTES = 64 * 1024 * 1024
_SEGMENT = re.compile(r"^segment-(\d{12})\.spool$")
_SLOT = re.compile(r"^slot-(\d+)(?:\.lock)?$")
#: Slots tried by `claim_slot` before giving up (far more than any sensible worker count).
MAX_SLOTS = 1024
QUARANTINE = "quarantine.bad"
REJECTED = "rejected.jsonl"


class SpoolError(StoreUnavailable):
    """The database is unreachable and the spool could not make a batch durable either (disk full, I/O
    error): the batch is NOT accepted. A `StoreUnavailable`, so routes answer 503 and clients retry."""


class CorruptRecord(ValueError):
    """A spool line that fails its length or CRC check, or does not decode."""


@dataclass(frozen=True, slots=True)
class SpoolRecord:
    """One spooled batch: what `Store.ingest_many` needs to store it as it would have been."""

    project_id: int
    received_at: datetime
    events: tuple[NewEvent, ...]


def event_to_dict(event: NewEvent) -> dict[str, Any]:
    """Every `NewEvent` field, JSON-ready (datetimes as ISO 8601 with offset)."""
    return {
        "event_id": event.event_id,
        "kind": event.kind.value,
        "occurred_at": event.occurred_at.isoformat(),
        "message": event.message,
        "level": event.level.value,
        "category": event.category,
        "fingerprint": event.fingerprint,
        "exception_type": event.exception_type,
        "title": event.title,
        "payload": dict(event.payload),
    }


def event_from_dict(data: dict[str, Any]) -> NewEvent:
    """The inverse of `event_to_dict` (validating again, as any input)."""
    return NewEvent(
        event_id=data["event_id"],
        kind=EventKind(data["kind"]),
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        message=data["message"],
        level=Level(data["level"]),
        category=data["category"],
        fingerprint=data["fingerprint"],
        exception_type=data["exception_type"],
        title=data["title"],
        payload=data["payload"],
    )


def encode_record(record: SpoolRecord) -> bytes:
    """One spool line for ``record``."""
    body = json.dumps(
        {
            "project_id": record.project_id,
            "received_at": record.received_at.isoformat(),
            "events": [event_to_dict(e) for e in record.events],
        },
        separators=(",", ":"),
        ensure_ascii=True,  # no raw newline can ever appear inside the JSON
    ).encode("ascii")
    return b"%08x %08x " % (len(body), zlib.crc32(body)) + body + b"\n"


def decode_record(line: bytes) -> SpoolRecord:
    """The record on one spool line (with or without its newline); `CorruptRecord` when it is not intact."""
    line = line.rstrip(b"\n")
    if len(line) < 18 or line[8:9] != b" " or line[17:18] != b" ":
        raise CorruptRecord("bad header")
    try:
        length, crc = int(line[:8], 16), int(line[9:17], 16)
    except ValueError:
        raise CorruptRecord("bad header") from None
    body = line[18:]
    if len(body) != length:
        raise CorruptRecord(f"length {len(body)} != {length}")
    if zlib.crc32(body) != crc:
        raise CorruptRecord("CRC mismatch")
    try:
        data = json.loads(body)
        return SpoolRecord(
            project_id=int(data["project_id"]),
            received_at=datetime.fromisoformat(data["received_at"]),
            events=tuple(event_from_dict(e) for e in data["events"]),
        )
    except (ValueError, KeyError, TypeError, InvalidInput) as exc:
        raise CorruptRecord(f"undecodable: {exc}") from None


@dataclass(slots=True)
class _Segment:
    path: Path
    seq: int
    offset: int = 0  # everything before this has been replayed
    pending_events: int = 0
    pending_records: int = 0


@dataclass(frozen=True, slots=True)
class SpoolBatch:
    """Records read for replay, and where the segment's replay offset moves once they are committed."""

    records: tuple[SpoolRecord, ...]
    segment: int
    end_offset: int
    events: int = field(default=0)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """Append-only, fsynced, CRC-checked batch log with in-order replay (see the module docstring)."""

    def __init__(self, directory: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self._segment_bytes = segment_bytes
        self._segments: list[_Segment] = []
        self._active: tuple[_Segment, int, int] | None = None  # segment, fd, size
        self._next_seq = 1
        self.torn_tails = 0
        self.quarantined = 0
        self._reported: set[tuple[int, int]] = set()  # (segment, offset) of bad lines already reported
        self._opened = False

    # -- state ------------------------------------------------------------------------------------------

    @property
    def pending_events(self) -> int:
        return sum(s.pending_events for s in self._segments)

    @property
    def pending_records(self) -> int:
        return sum(s.pending_records for s in self._segments)

    def __bool__(self) -> bool:
        return any(s.pending_records for s in self._segments)

    def open(self) -> None:
        """Create the directory if needed and take stock of what earlier runs left to replay."""
        if not self.directory.exists():
            self.directory.mkdir(parents=True)
            _fsync_dir(self.directory.parent)
        if not self.directory.is_dir():
            raise SpoolError(f"spool path {self.directory} is not a directory")
        found: list[_Segment] = []
        for entry in self.directory.iterdir():
            match = _SEGMENT.match(entry.name)
            if match:
                found.append(_Segment(entry, int(match.group(1))))
        found.sort(key=lambda s: s.seq)
        for segment in found:
            for record, _end in self._scan(segment, 0, None):
                segment.pending_records += 1
                segment.pending_events += len(record.events)
        self._segments = found
        self._next_seq = (found[-1].seq + 1) if found else 1
        self._opened = True
        if found:
            _log.warning(
                "spool %s holds %d events in %d batches from an earlier run; replaying them first",
                self.directory, self.pending_events, self.pending_records,
            )

    def close(self) -> None:
        """Close the segment being appended to (its records stay pending)."""
        if self._active is not None:
            os.close(self._active[1])
            self._active = None

    # -- appending --------------------------------------------------------------------------------------

    def append(self, records: Sequence[SpoolRecord]) -> None:
        """Write and fsync ``records``; when this returns they survive a crash. Raises `SpoolError` (and
        nothing is acknowledged) when that cannot be done."""
        if not self._opened:
            raise SpoolError("the spool is not open")
        if not records:
            return
        data = b"".join(encode_record(r) for r in records)
        try:
            if self._active is None or self._active[2] >= self._segment_bytes:
                self._roll()
            assert self._active is not None
            segment, fd, size = self._active
            written = 0
            try:
                while written < len(data):
                    written += os.write(fd, data[written:])
                os.fsync(fd)
            except OSError:
                self._abandon(fd, size)
                raise
        except OSError as exc:
            raise SpoolError(f"could not write the spool in {self.directory}: {exc}") from exc
        self._active = (segment, fd, size + len(data))
        segment.pending_records += len(records)
        segment.pending_events += sum(len(r.events) for r in records)

    def _roll(self) -> None:
        """Start a new segment file, durable (directory fsynced) before anything in it is acknowledged."""
        self.close()
        segment = _Segment(self.directory / f"segment-{self._next_seq:012d}.spool", self._next_seq)
        fd = os.open(segment.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            _fsync_dir(self.directory)
        except OSError:
            os.close(fd)
            segment.path.unlink(missing_ok=True)
            raise
        self._next_seq += 1
        self._segments.append(segment)
        self._active = (segment, fd, 0)

    def _abandon(self, fd: int, good_size: int) -> None:
        """After a failed write: cut the partial line off if possible, and never append to this file again
        (if the cut fails too, the partial line is a torn tail of a closed segment, which replay ignores)."""
        try:
            os.ftruncate(fd, good_size)
            os.fsync(fd)
        except OSError as exc:
            _log.error("could not cut a failed spool write back (left as a torn tail): %s", exc)
        os.close(fd)
        self._active = None

    # -- replay -----------------------------------------------------------------------------------------

    def peek(self, max_events: int) -> SpoolBatch | None:
        """The oldest pending records (at least one, then up to ``max_events`` events) of one segment, or None."""
        while self._segments:
            segment = self._segments[0]
            records: list[SpoolRecord] = []
            end = segment.offset
            events = 0
            for record, record_end in self._scan(segment, segment.offset, max_events):
                records.append(record)
                end = record_end
                events += len(record.events)
                if events >= max_events:
                    break
            if records:
                return SpoolBatch(tuple(records), segment.seq, end, events)
            if self._is_active(segment):
                return None
            # Fully replayed (or only a torn tail left): it can go.
            self._drop(segment)
        return None

    def advance(self, batch: SpoolBatch) -> None:
        """Mark ``batch`` replayed (call only after its commit); deletes a segment once it is exhausted."""
        segment = next((s for s in self._segments if s.seq == batch.segment), None)
        if segment is None or batch.end_offset < segment.offset:
            raise ValueError("advance() past a batch that was not peeked from this spool")
        segment.offset = batch.end_offset
        segment.pending_records -= len(batch.records)
        segment.pending_events -= batch.events
        if segment.pending_records <= 0:
            self._drop(segment)

    def reject(self, record: SpoolRecord, reason: str) -> None:
        """Keep a batch the database refuses for good in ``rejected.jsonl`` (fsynced), with the reason."""
        line = json.dumps(
            {"reason": reason, "record": encode_record(record).decode("ascii").rstrip("\n")}, ensure_ascii=True
        )
        self._keep(REJECTED, line.encode("ascii") + b"\n")
        _log.error("spooled batch of project %d refused by the database (kept in %s): %s",
                   record.project_id, self.directory / REJECTED, reason)

    def _is_active(self, segment: _Segment) -> bool:
        return self._active is not None and self._active[0] is segment

    def _drop(self, segment: _Segment) -> None:
        if self._is_active(segment):
            self.close()
        self._segments.remove(segment)
        segment.path.unlink(missing_ok=True)
        _fsync_dir(self.directory)

    def _keep(self, name: str, data: bytes) -> None:
        fd = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _scan(self, segment: _Segment, offset: int, max_events: int | None) -> list[tuple[SpoolRecord, int]]:
        """Intact records from ``offset`` on (each with the offset just past it), up to ``max_events``. A bad
        last line is a torn tail (never acknowledged: skipped); a bad line before good ones is quarantined."""
        out: list[tuple[SpoolRecord, int]] = []
        events = 0
        with segment.path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            f.seek(offset)
            position = offset
            for line in f:
                position += len(line)
                try:
                    record = decode_record(line)
                except CorruptRecord as exc:
                    start = position - len(line)
                    if (segment.seq, start) in self._reported:
                        continue
                    self._reported.add((segment.seq, start))
                    if position >= size and not self._is_active(segment):
                        self.torn_tails += 1
                        _log.warning("ignoring the torn last line of %s (%s): it was never acknowledged",
                                     segment.path.name, exc)
                        continue
                    self.quarantined += 1
                    self._keep(QUARANTINE, line if line.endswith(b"\n") else line + b"\n")
                    _log.error("corrupt record in %s at byte %d (%s); copied to %s",
                               segment.path.name, start, exc, self.directory / QUARANTINE)
                    continue
                out.append((record, position))
                events += len(record.events)
                if max_events is not None and events >= max_events:
                    break
        return out


# -- slots: one spool per process on a shared spool_dir -----------------------------------------------------


def slot_directory(spool_dir: Path, slot: int) -> Path:
    """Where slot ``slot`` keeps its segments: ``spool_dir`` itself for slot 0 (the single-process layout)."""
    return Path(spool_dir) if slot == 0 else Path(spool_dir) / f"slot-{slot}"


def _has_segments(directory: Path) -> bool:
    try:
        return any(_SEGMENT.match(entry.name) for entry in directory.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return False


class SlotLease:
    """An exclusive claim on one slot (its lock file open and ``flock``-ed) until `release` or process exit."""

    def __init__(self, spool_dir: Path, slot: int, fd: int) -> None:
        self.spool_dir = Path(spool_dir)
        self.slot = slot
        self.directory = slot_directory(spool_dir, slot)
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Give the slot up (closing the lock file drops the lock); idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> SlotLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"SlotLease({str(self.directory)!r}, slot={self.slot}, held={self.held})"


def _ensure_dir(directory: Path) -> None:
    if not directory.exists():
        directory.mkdir(parents=True, exist_ok=True)
        _fsync_dir(directory.parent)
    if not directory.is_dir():
        raise SpoolError(f"spool path {directory} is not a directory")


def try_claim(spool_dir: Path, slot: int) -> SlotLease | None:
    """Slot ``slot`` if no live process holds it (its directory created), else None."""
    spool_dir = Path(spool_dir)
    try:
        _ensure_dir(spool_dir)
        fd = os.open(spool_dir / f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise SpoolError(f"cannot lock a spool slot in {spool_dir}: {exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError as exc:
        os.close(fd)
        raise SpoolError(f"cannot lock a spool slot in {spool_dir}: {exc}") from exc
    lease = SlotLease(spool_dir, slot, fd)
    try:
        _ensure_dir(lease.directory)
    except (OSError, SpoolError):
        lease.release()
        raise
    return lease


def claim_slot(spool_dir: Path) -> SlotLease:
    """The first slot no live process holds (0, 1, 2, ...), held until released or the process exits."""
    for slot in range(MAX_SLOTS):
        lease = try_claim(spool_dir, slot)
        if lease is not None:
            return lease
    raise SpoolError(f"all {MAX_SLOTS} spool slots in {spool_dir} are held")


def known_slots(spool_dir: Path) -> list[int]:
    """Every slot number present in ``spool_dir`` (a lock file or a directory), always including 0."""
    found = {0}
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in Path(spool_dir).iterdir():
            match = _SLOT.match(entry.name)
            if match:
                found.add(int(match.group(1)))
    return sorted(found)


def claim_orphans(spool_dir: Path) -> Iterator[SlotLease]:
    """Claim, one at a time, each slot that holds segments and that no live process holds (an orphan).

    The caller drains and releases each lease before asking for the next; a slot whose owner is alive is
    skipped (its owner replays it)."""
    for slot in known_slots(spool_dir):
        if not _has_segments(slot_directory(spool_dir, slot)):
            continue
        lease = try_claim(spool_dir, slot)
        if lease is None:
            continue
        if not _has_segments(lease.directory):  # drained by its last owner just before we got the lock
            lease.release()
            continue
        yield lease


#: `drain`'s commit step: store these records (``Store.ingest_many`` shaped); raise `StoreUnavailable` to stop.
Commit = Callable[[Sequence[SpoolRecord]], None]


def drain(spool: Spool, commit: Commit, *, max_events: int, on_committed: Callable[[int], None] | None = None,
          refused: tuple[type[Exception], ...] = (InvalidInput,)) -> bool:
    """Replay everything in an opened ``spool`` through ``commit``, oldest first, advancing only past what
    was committed. A batch ``commit`` refuses with one of ``refused`` is replayed record by record and the
    refused records are set aside (`Spool.reject`). True once the spool is empty; False when ``commit``
    raised `StoreUnavailable` (what was not committed stays for the next try)."""
    while (batch := spool.peek(max_events)) is not None:
        try:
            commit(batch.records)
        except StoreUnavailable:
            return False
        except refused:
            for record in batch.records:
                try:
                    commit((record,))
                except StoreUnavailable:
                    return False
                except refused as exc:
                    spool.reject(record, str(exc))
                    continue
                if on_committed is not None:
                    on_committed(len(record.events))
            spool.advance(batch)
            continue
        if on_committed is not None:
            on_committed(batch.events)
        spool.advance(batch)
    return not spool
