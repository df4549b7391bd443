"""The default checkpoint store: one SQLite file (stdlib sqlite3), WAL journal, synchronous=FULL.

With WAL and synchronous=FULL every COMMIT fsyncs the log, so a step is on disk before the workflow
uses its result. Several processes may share the file; `BEGIN IMMEDIATE` serialises claims.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recoup.recovery.checkpoint import schema
from recoup.recovery.checkpoint.errors import LeaseLost
from recoup.recovery.checkpoint.store import (
    CLAIM_COLUMNS,
    RUN_COLUMNS,
    STEP_COLUMNS,
    Claim,
    RunRecord,
    RunStatus,
    StepKey,
    StepWrite,
    decide,
    run_record,
    step_record,
)

_SAVE_LEASE = "UPDATE checkpoint_runs SET lease_until = ?, updated = ? WHERE run_id = ? AND owner = ?"
_SAVE_STEP = (
    "INSERT INTO checkpoint_steps (run_id, step, call_index, seq, status, result, error, attempts, started, finished)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, step, call_index) DO UPDATE SET"
    " seq = excluded.seq, status = excluded.status, result = excluded.result, error = excluded.error,"
    " attempts = excluded.attempts, started = excluded.started, finished = excluded.finished"
)


class SQLiteStore:
    """Checkpoints in one SQLite file; thread-safe (one connection behind a lock), multi-process safe."""

    def __init__(self, path: str | os.PathLike[str] = ".recoup/checkpoints.db", *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._busy_timeout = busy_timeout
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=busy_timeout)
        self._retry_locked(lambda: self._conn.execute("PRAGMA journal_mode=WAL").fetchone(), busy_timeout)
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._retry_locked(self._migrate, busy_timeout)

    @staticmethod
    def _retry_locked(action: Callable[[], object], timeout: float) -> None:
        """Run `action`, retrying "database is locked" for up to `timeout` seconds.

        SQLite returns SQLITE_BUSY without calling its busy handler in a few places, notably when
        several connections switch a fresh file to WAL at once; workers starting together hit it.
        """
        give_up = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                action()
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() >= give_up:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    def _migrate(self) -> None:
        with self._lock, self._transaction() as conn:
            conn.execute(schema.version_table_ddl(""))
            row = conn.execute(
                "SELECT version FROM checkpoint_schema_version WHERE component = ?", (schema.COMPONENT,)
            ).fetchone()
            current = 0 if row is None else int(row[0])
            for version, statements in schema.pending(current, "sqlite", ""):
                for statement in statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO checkpoint_schema_version (component, version) VALUES (?, ?)"
                    " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                    (schema.COMPONENT, version),
                )

    def _transaction(self) -> _Tx:
        return _Tx(self._conn, self._busy_timeout)

    def schema_version(self) -> int:
        """The applied schema version of the checkpoint tables."""
        with self._lock:
            row = self._conn.execute(
                "SELECT version FROM checkpoint_schema_version WHERE component = ?", (schema.COMPONENT,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def claim(
        self,
        run_id: str,
        workflow: str,
        owner: str,
        inputs: str,
        now: float,
        lease_seconds: float,
        reclaim: str | None = None,
    ) -> Claim:
        lease_until = now + lease_seconds
        with self._lock, self._transaction() as conn:
            row = conn.execute(
                f"SELECT {CLAIM_COLUMNS} FROM checkpoint_runs WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO checkpoint_runs (run_id, workflow, status, inputs, owner, lease_until, attempts,"
                    " created, updated) VALUES (?, ?, 'running', ?, ?, ?, 1, ?, ?)",
                    (run_id, workflow, inputs, owner, lease_until, now, now),
                )
                return Claim("acquired", attempt=1, lease_until=lease_until)
            outcome = decide(row, workflow, run_id, owner, now, inputs, reclaim)
            if outcome == "completed":
                return Claim("completed", attempt=row[4], result=row[5])
            if outcome == "held":
                return Claim("held", attempt=row[4], holder=row[2], lease_until=row[3] or 0.0)
            conn.execute(
                "UPDATE checkpoint_runs SET status = 'running', owner = ?, lease_until = ?, attempts = attempts + 1,"
                " error = NULL, updated = ?, finished = NULL WHERE run_id = ?",
                (owner, lease_until, now, run_id),
            )
            steps: dict[StepKey, str] = {
                (name, index): result
                for name, index, result in conn.execute(
                    "SELECT step, call_index, result FROM checkpoint_steps WHERE run_id = ? AND status = 'completed'",
                    (run_id,),
                )
            }
            return Claim("acquired", attempt=row[4] + 1, lease_until=lease_until, steps=steps)

    def save_step(self, run_id: str, owner: str, step: StepWrite, now: float, lease_until: float) -> None:
        with self._lock, self._transaction() as conn:
            if conn.execute(_SAVE_LEASE, (lease_until, now, run_id, owner)).rowcount != 1:
                raise LeaseLost(run_id, owner)
            conn.execute(
                _SAVE_STEP,
                (
                    run_id,
                    step.name,
                    step.call_index,
                    step.seq,
                    step.status,
                    step.result,
                    step.error,
                    step.attempts,
                    step.started,
                    step.finished,
                ),
            )

    def renew(self, run_id: str, owner: str, now: float, lease_until: float) -> None:
        with self._lock, self._transaction() as conn:
            if conn.execute(_SAVE_LEASE, (lease_until, now, run_id, owner)).rowcount != 1:
                raise LeaseLost(run_id, owner)

    def finish(
        self, run_id: str, owner: str, status: RunStatus, result: str | None, error: str | None, now: float
    ) -> None:
        with self._lock, self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE checkpoint_runs SET status = ?, result = ?, error = ?, owner = NULL, lease_until = NULL,"
                " updated = ?, finished = ? WHERE run_id = ? AND owner = ?",
                (status, result, error, now, now, run_id, owner),
            )
            if cursor.rowcount != 1:
                raise LeaseLost(run_id, owner)

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            query = f"SELECT {RUN_COLUMNS} FROM checkpoint_runs WHERE run_id = ?"
            row = self._conn.execute(query, (run_id,)).fetchone()
            if row is None:
                return None
            steps = tuple(
                step_record(r)
                for r in self._conn.execute(
                    f"SELECT {STEP_COLUMNS} FROM checkpoint_steps WHERE run_id = ? ORDER BY seq, started", (run_id,)
                )
            )
        return run_record(row, sum(s.status == "completed" for s in steps), steps)

    def list_runs(
        self, workflow: str | None = None, status: RunStatus | None = None, limit: int = 100
    ) -> list[RunRecord]:
        where, params = _filters(workflow, status)
        query = (
            f"SELECT {RUN_COLUMNS}, (SELECT COUNT(*) FROM checkpoint_steps s WHERE s.run_id = r.run_id"
            f" AND s.status = 'completed') FROM checkpoint_runs r{where} ORDER BY created DESC, run_id LIMIT ?"
        )
        with self._lock:
            rows = self._conn.execute(query, (*params, limit)).fetchall()
        return [run_record(row[:-1], row[-1]) for row in rows]

    def delete_run(self, run_id: str) -> bool:
        """Forget a run and its steps (e.g. to re-execute a completed key); True if it existed."""
        with self._lock, self._transaction() as conn:
            conn.execute("DELETE FROM checkpoint_steps WHERE run_id = ?", (run_id,))
            return conn.execute("DELETE FROM checkpoint_runs WHERE run_id = ?", (run_id,)).rowcount == 1

    def prune(self, finished_before: float) -> int:
        """Delete finished (completed or failed) runs that ended before `finished_before`; how many."""
        with self._lock, self._transaction() as conn:
            conn.execute(
                "DELETE FROM checkpoint_steps WHERE run_id IN (SELECT run_id FROM checkpoint_runs"
                " WHERE status != 'running' AND finished < ?)",
                (finished_before,),
            )
            return int(
                conn.execute(
                    "DELETE FROM checkpoint_runs WHERE status != 'running' AND finished < ?", (finished_before,)
                ).rowcount
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _filters(workflow: str | None, status: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if workflow is not None:
        clauses.append("workflow = ?")
        params.append(workflow)
    if status is not None:
        clauses.append("status = ?")
        params.append(status)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class _Tx:
    """`BEGIN IMMEDIATE` ... COMMIT (fsync'd by synchronous=FULL), or ROLLBACK on any exception."""

    __slots__ = ("_conn", "_timeout")

    def __init__(self, conn: sqlite3.Connection, timeout: float) -> None:
        self._conn = conn
        self._timeout = timeout

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # busy without the busy handler (e.g. during WAL recovery)
            SQLiteStore._retry_locked(lambda: self._conn.execute("BEGIN IMMEDIATE"), self._timeout)
        return self._conn

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
