"""Checkpoints in PostgreSQL (psycopg 3), for many processes and hosts sharing runs.

psycopg is imported here only, so `import recoup` never pays for it. Each completed step is one
autocommitted statement (lease fence + step row in one CTE): one round trip, one durable commit
(with the server's default synchronous_commit=on the WAL is flushed before the statement returns).
"""

from __future__ import annotations

import re
import threading
from typing import Any

import psycopg

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

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class PostgresStore:
    """Checkpoint tables in one PostgreSQL schema (created on first use); thread-safe, multi-host safe."""

    def __init__(
        self, url: str, *, schema_name: str = "recoup", connect_timeout: float = 10.0, prepare: bool = True
    ) -> None:
        """`prepare=False` turns off server-side prepared statements (for old transaction-pooling proxies)."""
        if not _IDENTIFIER.fullmatch(schema_name):
            raise ValueError(f"schema_name must be a plain SQL identifier, got {schema_name!r}")
        self.url = url
        self.schema_name = schema_name
        self._prepare = prepare
        self._p = f'"{schema_name}".'
        self._lock = threading.Lock()
        self._connect_timeout = max(int(connect_timeout), 1)
        self._conn = self._connect()
        p = self._p
        self._save_step_sql = (
            f"WITH lease AS (UPDATE {p}checkpoint_runs SET lease_until = %s, updated = %s"
            " WHERE run_id = %s AND owner = %s RETURNING run_id)"
            f" INSERT INTO {p}checkpoint_steps (run_id, step, call_index, seq, status, result, error, attempts,"
            " started, finished) SELECT run_id, %s::text, %s::int, %s::int, %s::text, %s::text, %s::text, %s::int,"
            " %s::float8, %s::float8 FROM lease ON CONFLICT (run_id, step, call_index) DO UPDATE SET"
            " seq = excluded.seq, status = excluded.status, result = excluded.result, error = excluded.error,"
            " attempts = excluded.attempts, started = excluded.started, finished = excluded.finished"
        )
        self._renew_sql = (
            f"UPDATE {p}checkpoint_runs SET lease_until = %s, updated = %s WHERE run_id = %s AND owner = %s"
        )
        self._migrate()

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=self._connect_timeout)

    def _ready(self) -> psycopg.Connection[tuple[Any, ...]]:
        """The connection, reopened if the server dropped it (the failed call itself is not retried)."""
        if self._conn.broken:
            self._conn = self._connect()
        return self._conn

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self.schema_name!r})"

    def _migrate(self) -> None:
        p = self._p
        with self._lock, self._ready().transaction():
            # Several processes may start at once: one migrates, the others wait and then see it done.
            self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"recoup.checkpoint.{self.schema_name}",))
            self._conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema_name}"')
            self._conn.execute(schema.version_table_ddl(p))
            row = self._conn.execute(
                f"SELECT version FROM {p}checkpoint_schema_version WHERE component = %s", (schema.COMPONENT,)
            ).fetchone()
            current = 0 if row is None else int(row[0])
            for version, statements in schema.pending(current, "postgresql", p):
                for statement in statements:
                    self._conn.execute(statement)
                self._conn.execute(
                    f"INSERT INTO {p}checkpoint_schema_version (component, version) VALUES (%s, %s)"
                    " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                    (schema.COMPONENT, version),
                )

    def schema_version(self) -> int:
        """The applied schema version of the checkpoint tables."""
        with self._lock:
            row = (
                self._ready()
                .execute(
                    f"SELECT version FROM {self._p}checkpoint_schema_version WHERE component = %s", (schema.COMPONENT,)
                )
                .fetchone()
            )
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
        p = self._p
        lease_until = now + lease_seconds
        with self._lock, self._ready().transaction():
            created = self._conn.execute(
                f"INSERT INTO {p}checkpoint_runs (run_id, workflow, status, inputs, owner, lease_until, attempts,"
                " created, updated) VALUES (%s, %s, 'running', %s, %s, %s, 1, %s, %s)"
                " ON CONFLICT (run_id) DO NOTHING RETURNING run_id",
                (run_id, workflow, inputs, owner, lease_until, now, now),
                prepare=self._prepare,
            ).fetchone()
            if created is not None:
                return Claim("acquired", attempt=1, lease_until=lease_until)
            row = self._conn.execute(
                f"SELECT {CLAIM_COLUMNS} FROM {p}checkpoint_runs WHERE run_id = %s FOR UPDATE",
                (run_id,),
            ).fetchone()
            assert row is not None  # the conflicting row exists and runs are only deleted explicitly
            outcome = decide(row, workflow, run_id, owner, now, inputs, reclaim)
            if outcome == "completed":
                return Claim("completed", attempt=row[4], result=row[5])
            if outcome == "held":
                return Claim("held", attempt=row[4], holder=row[2], lease_until=row[3] or 0.0)
            self._conn.execute(
                f"UPDATE {p}checkpoint_runs SET status = 'running', owner = %s, lease_until = %s,"
                " attempts = attempts + 1, error = NULL, updated = %s, finished = NULL WHERE run_id = %s",
                (owner, lease_until, now, run_id),
            )
            steps: dict[StepKey, str] = {
                (name, index): result
                for name, index, result in self._conn.execute(
                    f"SELECT step, call_index, result FROM {p}checkpoint_steps"
                    " WHERE run_id = %s AND status = 'completed'",
                    (run_id,),
                )
            }
            return Claim("acquired", attempt=row[4] + 1, lease_until=lease_until, steps=steps)

    def save_step(self, run_id: str, owner: str, step: StepWrite, now: float, lease_until: float) -> None:
        params = (
            lease_until,
            now,
            run_id,
            owner,
            step.name,
            step.call_index,
            step.seq,
            step.status,
            step.result,
            step.error,
            step.attempts,
            step.started,
            step.finished,
        )
        with self._lock:
            if self._ready().execute(self._save_step_sql, params, prepare=self._prepare).rowcount != 1:
                raise LeaseLost(run_id, owner)

    def renew(self, run_id: str, owner: str, now: float, lease_until: float) -> None:
        with self._lock:
            if self._ready().execute(self._renew_sql, (lease_until, now, run_id, owner)).rowcount != 1:
                raise LeaseLost(run_id, owner)

    def finish(
        self, run_id: str, owner: str, status: RunStatus, result: str | None, error: str | None, now: float
    ) -> None:
        with self._lock:
            cursor = self._ready().execute(
                f"UPDATE {self._p}checkpoint_runs SET status = %s, result = %s, error = %s, owner = NULL,"
                " lease_until = NULL, updated = %s, finished = %s WHERE run_id = %s AND owner = %s",
                (status, result, error, now, now, run_id, owner),
                prepare=self._prepare,
            )
            if cursor.rowcount != 1:
                raise LeaseLost(run_id, owner)

    def get_run(self, run_id: str) -> RunRecord | None:
        p = self._p
        with self._lock:
            row = (
                self._ready()
                .execute(f"SELECT {RUN_COLUMNS} FROM {p}checkpoint_runs WHERE run_id = %s", (run_id,))
                .fetchone()
            )
            if row is None:
                return None
            steps = tuple(
                step_record(r)
                for r in self._conn.execute(
                    f"SELECT {STEP_COLUMNS} FROM {p}checkpoint_steps WHERE run_id = %s ORDER BY seq, started",
                    (run_id,),
                )
            )
        return run_record(row, sum(s.status == "completed" for s in steps), steps)

    def list_runs(
        self, workflow: str | None = None, status: RunStatus | None = None, limit: int = 100
    ) -> list[RunRecord]:
        p = self._p
        clauses: list[str] = []
        params: list[Any] = []
        if workflow is not None:
            clauses.append("workflow = %s")
            params.append(workflow)
        if status is not None:
            clauses.append("status = %s")
            params.append(status)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        query = (
            f"SELECT {RUN_COLUMNS}, (SELECT COUNT(*) FROM {p}checkpoint_steps s WHERE s.run_id = r.run_id"
            f" AND s.status = 'completed') FROM {p}checkpoint_runs r{where} ORDER BY created DESC, run_id LIMIT %s"
        )
        with self._lock:
            rows = self._ready().execute(query, (*params, limit)).fetchall()
        return [run_record(row[:-1], int(row[-1])) for row in rows]

    def delete_run(self, run_id: str) -> bool:
        """Forget a run and its steps (e.g. to re-execute a completed key); True if it existed."""
        with self._lock:
            cursor = self._ready().execute(f"DELETE FROM {self._p}checkpoint_runs WHERE run_id = %s", (run_id,))
            return cursor.rowcount == 1

    def prune(self, finished_before: float) -> int:
        """Delete finished (completed or failed) runs that ended before `finished_before`; how many."""
        with self._lock:
            cursor = self._ready().execute(
                f"DELETE FROM {self._p}checkpoint_runs WHERE status != 'running' AND finished < %s",
                (finished_before,),
            )
            return cursor.rowcount

    def drop_schema(self) -> None:
        """Drop this store's whole schema (tests and benchmarks clean up with it)."""
        with self._lock:
            self._ready().execute(f'DROP SCHEMA IF EXISTS "{self.schema_name}" CASCADE')

    def close(self) -> None:
        with self._lock:
            self._conn.close()
