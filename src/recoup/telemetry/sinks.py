"""The one sink interface, an in-process fan-out bus, and a JSON-lines file sink.

A sink receives `TelemetryEvent`s. `emit` must be cheap and must never raise into the application:
a sink that can fail (disk full, server away) counts the failure in its `stats` instead. `flush` and
`close` take a timeout so that shutting down never hangs on a dead destination.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.telemetry.events import TelemetryEvent

_log = logging.getLogger("recoup.telemetry")


@runtime_checkable
class Sink(Protocol):
    """Where telemetry events go. Implementations must be safe to call from many threads."""

    def emit(self, event: TelemetryEvent) -> None:
        """Accept one event without blocking the caller on I/O that can stall (network)."""

    def flush(self, timeout: float | None = None) -> bool:
        """Push out what was accepted so far; True if nothing is left pending when it returns (check the
        sink's stats for what was given up rather than delivered)."""

    def close(self, timeout: float | None = None) -> None:
        """Flush (bounded by `timeout`) and release resources; later emits are dropped."""


@dataclass(frozen=True, slots=True)
class SinkStats:
    """Counts of events (not requests): ``sent`` delivered, ``dropped`` discarded before a delivery attempt
    (queue full, closed), ``failed`` given up after delivery attempts; ``retried`` counts retried requests;
    ``queued`` is what waits right now."""

    sent: int = 0
    dropped: int = 0
    failed: int = 0
    retried: int = 0
    queued: int = 0


class _Counters:
    """Mutable counters behind a lock, handed out as immutable `SinkStats` snapshots."""

    __slots__ = ("_lock", "dropped", "failed", "retried", "sent")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = self.dropped = self.failed = self.retried = 0

    def add(self, *, sent: int = 0, dropped: int = 0, failed: int = 0, retried: int = 0) -> None:
        with self._lock:
            self.sent += sent
            self.dropped += dropped
            self.failed += failed
            self.retried += retried

    def snapshot(self, queued: int = 0) -> SinkStats:
        with self._lock:
            return SinkStats(self.sent, self.dropped, self.failed, self.retried, queued)


class CallbackSink:
    """Adapts a plain callable to `Sink`, for in-process subscribers that only want `emit`."""

    __slots__ = ("callback",)

    def __init__(self, callback: Callable[[TelemetryEvent], None]) -> None:
        self.callback = callback

    def emit(self, event: TelemetryEvent) -> None:
        self.callback(event)

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        return None


class EventBus:
    """Fan-out to any number of sinks; itself a `Sink`, so buses nest.

    A sink that raises is logged and skipped, never propagated: telemetry must not break the code it
    observes. Subscribing and emitting may happen concurrently (emit iterates a snapshot tuple).
    """

    def __init__(self, sinks: tuple[Sink, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._sinks: tuple[Sink, ...] = tuple(sinks)

    @property
    def sinks(self) -> tuple[Sink, ...]:
        return self._sinks

    def subscribe(self, sink: Sink | Callable[[TelemetryEvent], None]) -> Callable[[], None]:
        """Add a sink (or a plain callable); returns a function that removes it again."""
        target: Sink = sink if isinstance(sink, Sink) else CallbackSink(sink)
        with self._lock:
            self._sinks = (*self._sinks, target)

        def unsubscribe() -> None:
            with self._lock:
                self._sinks = tuple(s for s in self._sinks if s is not target)

        return unsubscribe

    def __bool__(self) -> bool:
        """True when someone listens, so producers can skip building events nobody will see."""
        return bool(self._sinks)

    def emit(self, event: TelemetryEvent) -> None:
        for sink in self._sinks:
            try:
                sink.emit(event)
            except Exception:
                _log.exception("recoup telemetry sink %r failed on %s", sink, event.event_type)

    def flush(self, timeout: float | None = None) -> bool:
        """Flush every sink; the timeout bounds the whole call, shared out in order."""
        deadline = None if timeout is None else SYSTEM_CLOCK.monotonic() + timeout
        ok = True
        for sink in self._sinks:
            left = None if deadline is None else max(0.0, deadline - SYSTEM_CLOCK.monotonic())
            try:
                ok = sink.flush(left) and ok
            except Exception:
                _log.exception("recoup telemetry sink %r failed to flush", sink)
                ok = False
        return ok

    def close(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else SYSTEM_CLOCK.monotonic() + timeout
        with self._lock:
            sinks, self._sinks = self._sinks, ()
        for sink in sinks:
            left = None if deadline is None else max(0.0, deadline - SYSTEM_CLOCK.monotonic())
            try:
                sink.close(left)
            except Exception:
                _log.exception("recoup telemetry sink %r failed to close", sink)


_DEFAULT_BUS = EventBus()


def default_bus() -> EventBus:
    """The process-wide bus that recoup's own producers (engine, workflows) emit to.

    Producers test ``if bus:`` before building an event, so an unobserved process pays nothing.
    """
    return _DEFAULT_BUS


def encode_line(event: TelemetryEvent) -> bytes:
    """One event as one compact JSON line (UTF-8, no embedded newlines: JSON escapes them)."""
    return json.dumps(event.to_dict(), separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


class JsonLinesSink:
    """Appends one JSON object per line to a file. Safe for many threads of one process.

    Writes happen on the caller's thread (a local append is fast and keeps ordering exact), under one
    lock, so lines never interleave. `flush_every` lines or `flush_interval` seconds (whichever comes
    first, checked on each emit) push the buffer to the OS; `fsync=True` also forces it to disk. With
    `max_bytes`, the file rotates to ``name.1`` ... ``name.<backups>`` before a write would exceed it.
    Write errors (disk full, permissions) are counted as ``failed`` and logged once per burst.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        flush_every: int = 1,
        flush_interval: float | None = None,
        fsync: bool = False,
        max_bytes: int | None = None,
        backups: int = 3,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if flush_every < 1:
            raise ValueError("flush_every must be >= 1")
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.path = Path(path)
        self.flush_every = flush_every
        self.flush_interval = flush_interval
        self.fsync = fsync
        self.max_bytes = max_bytes
        self.backups = max(0, backups)
        self._clock = clock
        self._lock = threading.Lock()
        self._counters = _Counters()
        self._file: IO[bytes] | None = None
        self._size = 0
        self._pending = 0
        self._last_flush = clock.monotonic()
        self._closed = False
        self._failing = False

    @property
    def stats(self) -> SinkStats:
        """``sent`` counts lines written (handed to the OS at the latest by the next flush)."""
        with self._lock:
            pending = self._pending
        return self._counters.snapshot(queued=pending)

    def _open(self) -> IO[bytes]:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 - lives as long as the sink
            self._size = self._file.tell()
        return self._file

    def _rotate(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.backups == 0:
            self.path.unlink(missing_ok=True)
        else:
            for n in range(self.backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{n}")
                if older.exists():
                    older.replace(self.path.with_name(f"{self.path.name}.{n + 1}"))
            if self.path.exists():
                self.path.replace(self.path.with_name(f"{self.path.name}.1"))

    def _flush_locked(self) -> None:
        if self._file is not None:
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
        self._pending = 0
        self._last_flush = self._clock.monotonic()

    def emit(self, event: TelemetryEvent) -> None:
        line = encode_line(event)
        with self._lock:
            if self._closed:
                self._counters.add(dropped=1)
                return
            try:
                f = self._open()
                if self.max_bytes is not None and self._size and self._size + len(line) > self.max_bytes:
                    self._flush_locked()
                    self._rotate()
                    f = self._open()
                f.write(line)
                self._size += len(line)
                self._pending += 1
                due = self._pending >= self.flush_every or (
                    self.flush_interval is not None
                    and self._clock.monotonic() - self._last_flush >= self.flush_interval
                )
                if due:
                    self._flush_locked()
            except OSError:
                self._counters.add(failed=1)
                if not self._failing:
                    _log.exception("recoup JSONL sink cannot write %s", self.path)
                self._failing = True
                return
            self._failing = False
        self._counters.add(sent=1)

    def flush(self, timeout: float | None = None) -> bool:
        with self._lock:
            try:
                self._flush_locked()
            except OSError:
                _log.exception("recoup JSONL sink cannot flush %s", self.path)
                return False
        return True

    def close(self, timeout: float | None = None) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._flush_locked()
            except OSError:
                _log.exception("recoup JSONL sink cannot flush %s", self.path)
            if self._file is not None:
                self._file.close()
                self._file = None
