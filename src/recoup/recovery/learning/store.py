"""Where learned outcomes live: in memory, or one SQLite file (WAL) that survives restarts.

Stores hold additive `Counts` per `ArmKey`. The learner keeps its own in-memory view and hands the
store one delta per recorded outcome; the SQLite store merges deltas in memory and writes them in a
single transaction of ``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`` upserts, when
`flush_every` outcomes are pending or `flush_interval` seconds have passed, on `flush`/`close`, and at
interpreter exit. Increments (not overwrites) keep several processes sharing one file correct.
"""

from __future__ import annotations

import atexit
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Protocol

from recoup.errors.taxonomy import Category
from recoup.recovery.learning.stats import ArmKey, Counts

#: Bump when the table layout changes; `SQLiteLearningStore` refuses files from a newer version.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS learning_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS learning_arms (
    fingerprint TEXT NOT NULL,
    category TEXT NOT NULL,
    strategy TEXT NOT NULL,
    trials INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    success_seconds REAL NOT NULL,
    success_seconds_sq REAL NOT NULL,
    failure_seconds REAL NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (fingerprint, category, strategy)
);
"""

_UPSERT = """
INSERT INTO learning_arms (fingerprint, category, strategy, trials, successes, attempts,
                           success_seconds, success_seconds_sq, failure_seconds, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (fingerprint, category, strategy) DO UPDATE SET
    trials = trials + excluded.trials,
    successes = successes + excluded.successes,
    attempts = attempts + excluded.attempts,
    success_seconds = success_seconds + excluded.success_seconds,
    success_seconds_sq = success_seconds_sq + excluded.success_seconds_sq,
    failure_seconds = failure_seconds + excluded.failure_seconds,
    updated = excluded.updated
"""


class LearningStore(Protocol):
    """What `Learner` needs from a store: load everything once, then accept deltas."""

    def load(self) -> dict[ArmKey, Counts]: ...

    def add(self, key: ArmKey, delta: Counts) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class MemoryLearningStore:
    """Outcomes kept for the life of the process (tests, short-lived tools)."""

    def __init__(self) -> None:
        self._data: dict[ArmKey, Counts] = {}
        self._lock = threading.Lock()

    def load(self) -> dict[ArmKey, Counts]:
        with self._lock:
            return {k: v.copy() for k, v in self._data.items()}

    def add(self, key: ArmKey, delta: Counts) -> None:
        with self._lock:
            self._data.setdefault(key, Counts()).add(delta)

    def flush(self) -> None:
        """Nothing to write."""

    def close(self) -> None:
        """Nothing to release."""


def _flush_at_exit(ref: weakref.ReferenceType[SQLiteLearningStore]) -> None:
    store = ref()
    if store is not None:
        store.close()


class SQLiteLearningStore:
    """One SQLite file in WAL mode; writes batched (see the module docstring). Thread-safe.

    ``synchronous=NORMAL``: a power cut may lose the last few committed batches, never corrupt the
    file; losing a handful of outcomes costs a learner nothing worth an fsync on the failure path.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        flush_every: int = 16,
        flush_interval: float = 1.0,
        busy_timeout: float = 10.0,
    ) -> None:
        if flush_every < 1:
            raise ValueError("flush_every must be >= 1")
        if flush_interval < 0:
            raise ValueError("flush_interval must be >= 0")
        self.path = Path(path)
        self.flush_every = flush_every
        self.flush_interval = flush_interval
        self._lock = threading.Lock()
        self._pending: dict[ArmKey, Counts] = {}
        self._pending_n = 0
        self._last_flush = time.monotonic()
        self._closed = False
        self._conn = sqlite3.connect(
            str(self.path), timeout=busy_timeout, check_same_thread=False, isolation_level=None
        )
        self._setup()
        atexit.register(_flush_at_exit, weakref.ref(self))

    def _setup(self) -> None:
        # Several processes opening a fresh file at once can race on the switch to WAL: retry briefly.
        for i in range(50):
            try:
                self._conn.execute("PRAGMA journal_mode=WAL").fetchone()
                break
            except sqlite3.OperationalError:
                if i == 49:
                    raise
                time.sleep(0.02)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._conn.execute(statement)
            row = self._conn.execute("SELECT version FROM learning_schema").fetchone()
            if row is None:
                self._conn.execute("INSERT INTO learning_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            elif int(row[0]) > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path}: learning schema version {row[0]} is newer than this recoup supports "
                    f"({SCHEMA_VERSION}); upgrade recoup or use another file"
                )
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT version FROM learning_schema").fetchone()
        return int(row[0])

    def load(self) -> dict[ArmKey, Counts]:
        """Everything on disk plus anything not yet flushed."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT fingerprint, category, strategy, trials, successes, attempts, success_seconds,"
                " success_seconds_sq, failure_seconds FROM learning_arms"
            ).fetchall()
            data: dict[ArmKey, Counts] = {}
            for fp, cat, strategy, *nums in rows:
                try:
                    category = Category(cat)
                except ValueError:  # a category this version does not know: skip, do not crash
                    continue
                data[ArmKey(fp, category, strategy)] = Counts(
                    int(nums[0]), int(nums[1]), int(nums[2]), float(nums[3]), float(nums[4]), float(nums[5])
                )
            for key, delta in self._pending.items():
                data.setdefault(key, Counts()).add(delta)
        return data

    def add(self, key: ArmKey, delta: Counts) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.path}: learning store is closed")
            self._pending.setdefault(key, Counts()).add(delta)
            self._pending_n += 1
            due = (
                self._pending_n >= self.flush_every
                or time.monotonic() - self._last_flush >= self.flush_interval
            )
            if due:
                self._flush_locked()

    def flush(self) -> None:
        """Write pending outcomes now (one transaction)."""
        with self._lock:
            if not self._closed:
                self._flush_locked()

    def _flush_locked(self) -> None:
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        now = time.time()
        rows = [
            (
                k.fingerprint,
                k.category.value,
                k.strategy,
                c.trials,
                c.successes,
                c.attempts,
                c.success_seconds,
                c.success_seconds_sq,
                c.failure_seconds,
                now,
            )
            for k, c in self._pending.items()
        ]
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(_UPSERT, rows)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._pending.clear()
        self._pending_n = 0

    def close(self) -> None:
        """Flush and release the file. Idempotent."""
        with self._lock:
            if self._closed:
                return
            try:
                self._flush_locked()
            finally:
                self._closed = True
                self._conn.close()
