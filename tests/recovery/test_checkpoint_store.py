"""The checkpoint stores' contract, run identically on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from recoup.recovery.checkpoint import CheckpointStore, LeaseLost, SQLiteStore, WorkflowMismatch, open_store
from recoup.recovery.checkpoint import schema as checkpoint_schema
from recoup.recovery.checkpoint.postgres_store import PostgresStore
from recoup.recovery.checkpoint.store import StepWrite

PG_URL = os.environ.get("RECOUP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    if request.param == "sqlite":
        yield ("sqlite", str(tmp_path / "checkpoints.db"), "")
        return
    name = f"recoup_test_{uuid.uuid4().hex[:12]}"
    yield ("postgres", PG_URL, name)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _open(spec: tuple[str, str, str]) -> CheckpointStore:
    kind, location, schema_name = spec
    return open_store(location, schema_name=schema_name) if kind == "postgres" else open_store(location)


@pytest.fixture
def store(opener: tuple[str, str, str]) -> Iterator[CheckpointStore]:
    opened = _open(opener)
    yield opened
    opened.close()


def _step(name: str = "s", index: int = 0, result: str | None = "1", status: str = "completed") -> StepWrite:
    return StepWrite(name, index, index, status, result, None, 1, 10.0, 11.0)  # type: ignore[arg-type]


def test_schema_is_created_once_and_versioned(opener: tuple[str, str, str]) -> None:
    first = _open(opener)
    second = _open(opener)  # opening again finds the tables and applies nothing
    try:
        assert isinstance(first, SQLiteStore | PostgresStore)
        assert isinstance(second, SQLiteStore | PostgresStore)
        assert first.schema_version() == second.schema_version() == checkpoint_schema.LATEST
        assert isinstance(first, CheckpointStore)
    finally:
        first.close()
        second.close()


def test_claim_creates_then_holds_then_lets_expired_lease_be_taken_over(store: CheckpointStore) -> None:
    fresh = store.claim("r", "wf", "a", '{"args": []}', 100.0, 30.0)
    assert (fresh.outcome, fresh.attempt, fresh.lease_until, fresh.steps) == ("acquired", 1, 130.0, {})
    held = store.claim("r", "wf", "b", "{}", 110.0, 30.0)
    assert (held.outcome, held.holder, held.lease_until) == ("held", "a", 130.0)
    again = store.claim("r", "wf", "a", "{}", 110.0, 30.0)
    assert again.outcome == "acquired"  # the holder itself may re-claim

    store.save_step("r", "a", _step(), 111.0, 141.0)
    assert store.claim("r", "wf", "b", "{}", 140.0, 30.0).outcome == "held"  # saving a step extended the lease
    taken = store.claim("r", "wf", "b", "{}", 142.0, 30.0)
    assert (taken.outcome, taken.attempt, taken.steps) == ("acquired", 3, {("s", 0): "1"})
    with pytest.raises(LeaseLost):
        store.save_step("r", "a", _step("t"), 143.0, 173.0)
    with pytest.raises(LeaseLost):
        store.finish("r", "a", "completed", "1", None, 143.0)


def test_reclaim_takes_over_a_named_dead_holder_at_once(store: CheckpointStore) -> None:
    store.claim("r", "wf", "dead", "{}", 0.0, 60.0)
    assert store.claim("r", "wf", "new", "{}", 1.0, 60.0, reclaim="someone-else").outcome == "held"
    assert store.claim("r", "wf", "new", "{}", 1.0, 60.0, reclaim="dead").outcome == "acquired"


def test_completed_run_returns_its_result_and_failed_run_is_resumable(store: CheckpointStore) -> None:
    store.claim("done", "wf", "a", "{}", 0.0, 60.0)
    store.finish("done", "a", "completed", '{"x": 1}', None, 1.0)
    claim = store.claim("done", "wf", "b", "{}", 2.0, 60.0)
    assert (claim.outcome, claim.result) == ("completed", '{"x": 1}')

    store.claim("bad", "wf", "a", "{}", 0.0, 60.0)
    store.save_step("bad", "a", _step("s", 0), 0.5, 60.5)
    store.save_step("bad", "a", _step("s", 1, None, "failed"), 0.6, 60.6)
    store.finish("bad", "a", "failed", None, "ValueError: no", 1.0)
    resumed = store.claim("bad", "wf", "b", "{}", 2.0, 60.0)
    assert (resumed.outcome, resumed.attempt, resumed.steps) == ("acquired", 2, {("s", 0): "1"})
    run = store.get_run("bad")
    assert run is not None
    assert run.status == "running" and run.error is None and run.owner == "b"


def test_a_failed_step_is_replaced_when_it_later_completes(store: CheckpointStore) -> None:
    store.claim("r", "wf", "a", "{}", 0.0, 60.0)
    store.save_step("r", "a", _step("s", 0, None, "failed"), 1.0, 61.0)
    store.save_step("r", "a", _step("s", 0, "[1, 2]"), 2.0, 62.0)
    run = store.get_run("r")
    assert run is not None
    assert [(s.status, s.result) for s in run.steps] == [("completed", [1, 2])]


def test_claim_rejects_a_run_id_of_another_workflow(store: CheckpointStore) -> None:
    store.claim("r", "wf", "a", "{}", 0.0, 60.0)
    with pytest.raises(WorkflowMismatch):
        store.claim("r", "other", "a", "{}", 0.0, 60.0)


def test_list_runs_newest_first_with_filters_and_counts(store: CheckpointStore) -> None:
    for i, wf in enumerate(["a", "b", "a"]):
        store.claim(f"r{i}", wf, "o", json.dumps({"args": [i]}), float(i), 60.0)
        store.save_step(f"r{i}", "o", _step(), float(i), 60.0 + i)
    store.finish("r0", "o", "completed", "0", None, 5.0)
    assert [r.run_id for r in store.list_runs()] == ["r2", "r1", "r0"]
    assert [r.run_id for r in store.list_runs(workflow="a")] == ["r2", "r0"]
    assert [r.run_id for r in store.list_runs(status="completed")] == ["r0"]
    assert [r.completed_steps for r in store.list_runs()] == [1, 1, 1]
    assert store.list_runs()[0].inputs == {"args": [2]}
    assert store.list_runs()[0].steps == ()
    assert store.get_run("nope") is None


def test_delete_run_forgets_run_and_steps(opener: tuple[str, str, str]) -> None:
    store = _open(opener)
    try:
        assert isinstance(store, SQLiteStore | PostgresStore)
        store.claim("r", "wf", "a", "{}", 0.0, 60.0)
        store.save_step("r", "a", _step(), 1.0, 61.0)
        assert store.delete_run("r") is True
        assert store.get_run("r") is None and store.delete_run("r") is False
        assert store.claim("r", "wf", "a", "{}", 2.0, 60.0).steps == {}
    finally:
        store.close()


def test_sqlite_store_commits_durably(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "ck.db")
    try:
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: fsync on every commit
        store.claim("r", "wf", "a", "{}", 0.0, 60.0)
        store.save_step("r", "a", _step(), 1.0, 61.0)
    finally:
        store.close()
    # Another connection (as another process would) sees the committed step.
    other = sqlite3.connect(tmp_path / "ck.db")
    assert other.execute("SELECT result FROM checkpoint_steps").fetchall() == [("1",)]
    other.close()


def test_open_store_dispatches_on_the_url(tmp_path: Path) -> None:
    sqlite_store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert isinstance(sqlite_store, SQLiteStore)
    sqlite_store.close()
    plain = open_store(str(tmp_path / "b.db"))
    assert isinstance(plain, SQLiteStore)
    plain.close()
    with pytest.raises(ValueError, match="plain SQL identifier"):
        PostgresStore(PG_URL, schema_name='x"; DROP')


def test_importing_the_package_does_not_import_psycopg() -> None:
    code = "import sys, recoup.recovery.checkpoint as c; c.Workflow; print('psycopg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"


def test_postgres_store_reconnects_after_the_server_drops_its_connection() -> None:
    name = f"recoup_test_{uuid.uuid4().hex[:12]}"
    store = PostgresStore(PG_URL, schema_name=name)
    try:
        store.claim("r", "wf", "a", "{}", 0.0, 60.0)
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))
        with pytest.raises(psycopg.OperationalError):
            store.get_run("r")
        run = store.get_run("r")  # the next call opens a new connection
        assert run is not None and run.owner == "a"
    finally:
        store.drop_schema()
        store.close()


def test_prune_deletes_only_finished_runs_older_than_the_cutoff(store: CheckpointStore) -> None:
    for run_id, end in (("old-done", 10.0), ("old-failed", 20.0), ("new-done", 100.0)):
        store.claim(run_id, "wf", "o", "{}", 0.0, 600.0)
        store.save_step(run_id, "o", _step(), 1.0, 601.0)
        store.finish(run_id, "o", "failed" if "failed" in run_id else "completed", None, None, end)
    store.claim("still-running", "wf", "o", "{}", 0.0, 600.0)
    assert store.prune(50.0) == 2
    assert sorted(r.run_id for r in store.list_runs()) == ["new-done", "still-running"]
    assert store.get_run("old-done") is None


def test_many_processes_may_open_a_new_sqlite_file_at_once(tmp_path: Path) -> None:
    # Switching a fresh file to WAL can fail with "database is locked" without waiting (SQLite does not
    # call the busy handler there); the store must retry instead of failing a starting worker.
    errors: list[BaseException] = []

    def open_one(path: Path, barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            SQLiteStore(path).close()
        except BaseException as exc:
            errors.append(exc)

    for round_ in range(60):
        barrier = threading.Barrier(6)
        threads = [threading.Thread(target=open_one, args=(tmp_path / f"fresh-{round_}.db", barrier)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
