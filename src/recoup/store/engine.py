"""Engines for the two supported databases, configured for "a 2xx answer means committed".

SQLite (the default, one file, no set-up):

* ``journal_mode=WAL`` lets readers proceed while one writer commits.
* ``synchronous=FULL``: in WAL mode, NORMAL only fsyncs at checkpoints, so a power loss or kernel crash
  can roll back the last transactions that already returned — and the server already answered 2xx for
  them. FULL fsyncs the WAL on every commit. The cost is one fsync per *transaction*, which batch ingest
  amortises over the batch.
* ``busy_timeout`` so that concurrent writers (several workers or processes) wait for the lock instead
  of failing at once, and write transactions start with ``BEGIN IMMEDIATE``: a deferred transaction that
  reads and then tries to write can fail with SQLITE_BUSY without waiting at all.
* ``foreign_keys=ON`` (SQLite leaves it off by default).

PostgreSQL through psycopg 3; ``postgresql://`` and ``postgres://`` URLs are rewritten to use it.
Connections are pre-pinged so the pool recovers by itself after the database restarts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from recoup.store.values import InvalidInput

SQLITE_BUSY_TIMEOUT_MS = 10_000

#: Execution option naming the SQLite transaction mode; the store's write engine sets it to IMMEDIATE.
BEGIN_MODE_OPTION = "recoup_sqlite_begin"


def normalize_url(url: str | URL) -> URL:
    """Parse ``url`` and pin the driver: psycopg 3 for PostgreSQL, the stdlib sqlite3 for SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInput("url", f"not a database URL: {exc}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend == "postgresql":
        if driver not in ("", "psycopg"):
            raise InvalidInput("url", f"PostgreSQL is used through psycopg 3, not {driver!r}")
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise InvalidInput("url", f"SQLite is used through the stdlib sqlite3 module, not {driver!r}")
        if not parsed.database or parsed.database == ":memory:":
            raise InvalidInput("url", "SQLite needs a file (sqlite:///path/to/recoup.db), not an in-memory database")
        return parsed.set(drivername="sqlite+pysqlite")
    raise InvalidInput("url", f"unsupported database {backend!r}: use sqlite:///FILE or postgresql://...")


def create_store_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the durability and concurrency settings described above."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None  # normalize_url rejected the in-memory forms
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL once. Reading the mode needs no lock, so connections to a file already in
    WAL skip the switch; the switch itself needs an exclusive lock and, when several connections open a
    brand-new file at once, can answer "database is locked" without waiting on busy_timeout — so retry
    it for as long as busy_timeout would have waited."""
    import sqlite3
    import time

    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module, which would otherwise BEGIN (DEFERRED) on
        # its own before the first write and COMMIT behind our back before some statements.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(BEGIN_MODE_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")
