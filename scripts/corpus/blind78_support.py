"""Pieces of batch 78 that are not cases: the schema of the private MariaDB and PostgreSQL servers the drivers and
CLIs fail against, held connection slots and row locks, a SQLite file on a tmpfs remounted read-only, an exclusive
SQLite writer in another process, and Redis AOF/RDB files written by a real redis-server and then cut short."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import servers
from common import Env, free_port, run
from servers import PrivatePostgres

#: the password of the accounts the batch creates (MariaDB `app78`; PostgreSQL `app` from servers.private_postgres)
PASSWORD = "right-password"

_MARIADB_SCHEMA = f"""
CREATE DATABASE shop78;
CREATE TABLE shop78.orders (id INT PRIMARY KEY, sku VARCHAR(8) NOT NULL, qty INT NOT NULL) ENGINE=InnoDB;
INSERT INTO shop78.orders VALUES (1, 'KB-01', 2), (2, 'MS-02', 1), (3, 'HD-03', 5);
CREATE USER 'app78'@'%' IDENTIFIED BY '{PASSWORD}';
GRANT ALL ON shop78.* TO 'app78'@'%';
CREATE USER 'report78'@'%' IDENTIFIED BY '{PASSWORD}';
"""

_PG_SCHEMA = """
CREATE TABLE accounts78 (id int PRIMARY KEY, email text NOT NULL UNIQUE, balance int NOT NULL DEFAULT 0);
INSERT INTO accounts78 VALUES (1, 'ada@example.org', 10), (2, 'bob@example.org', 20);
GRANT ALL ON accounts78 TO app;
"""


def mariadb_setup(port: int) -> None:
    proc = run(["mariadb", "-h", "127.0.0.1", "-P", str(port), "-u", "root", "-e", _MARIADB_SCHEMA])
    if proc.returncode:
        raise RuntimeError(f"private mariadb setup failed: {proc.stderr.strip()}")


def pg_setup(pg: PrivatePostgres) -> None:
    proc = run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "postgres", "-v",
                "ON_ERROR_STOP=1", "-q", "-c", _PG_SCHEMA])
    if proc.returncode:
        raise RuntimeError(f"private postgres setup failed: {proc.stderr.strip()}")


@contextlib.contextmanager
def held_mariadb(port: int, count: int) -> Iterator[list[Any]]:
    """`count` open sessions of `app78` (the connection table of a server with a tiny max_connections)."""
    import MySQLdb

    conns: list[Any] = []
    try:
        while len(conns) < count:  # one at a time, so those already open are closed if one fails
            conns.append(MySQLdb.connect(host="127.0.0.1", port=port, user="app78", password=PASSWORD,
                                         database="shop78", connect_timeout=3))
        yield conns
    finally:
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()


@contextlib.contextmanager
def held_pg(port: int, count: int) -> Iterator[None]:
    """`count` connection slots of the private cluster taken by `app`."""
    import psycopg2

    conns = [psycopg2.connect(host="127.0.0.1", port=port, user="app", password=PASSWORD, dbname="postgres")
             for _ in range(count)]
    try:
        yield
    finally:
        for conn in conns:
            conn.close()


def terminate_pg_backends(port: int, user: str) -> None:
    """What an operator's pg_terminate_backend does to every session of `user`."""
    proc = run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-q", "-c",
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{user}'"])
    if proc.returncode:
        raise RuntimeError("pg_terminate_backend failed")


def read_only_sqlite(env: Env, name: str, schema: str) -> Path:
    """A SQLite file with `schema` on a tmpfs that is then remounted read-only (batch 61's, named for this batch)."""
    return servers.read_only_sqlite(env, name, schema, "app78.db")


_LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextlib.contextmanager
def sqlite_writer_process(path: Path, seconds: float = 30) -> Iterator[None]:
    """Another process (a long batch job) holding an exclusive lock on the SQLite file."""
    proc = subprocess.Popen([sys.executable, "-c", _LOCK_HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def redis_data_files(env: Env) -> tuple[Path, Path]:
    """An AOF and an RDB file that a real redis-server wrote (some keys, then SAVE), left in a temp directory."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-redis78-"))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(root),
                             "--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", "no",
                             "--dbfilename", "dump78.rdb", "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if run(["redis-cli", "-p", str(port), "ping"]).returncode == 0:
                break
            time.sleep(0.05)
        for i in range(40):
            run(["redis-cli", "-p", str(port), "SET", f"session:{i}", f"user-{i}-" + "x" * 40])
        run(["redis-cli", "-p", str(port), "RPUSH", "queue:mail", "a", "b", "c"])
        run(["redis-cli", "-p", str(port), "SAVE"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    aof = next(iter(sorted((root / "appendonlydir").glob("*.incr.aof"))))
    return aof, root / "dump78.rdb"


def truncated_copy(src: Path, dest: Path, keep: float) -> Path:
    """A copy of `src` cut off after `keep` of its bytes (a disk filled, or a copy interrupted)."""
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest


__all__ = ["PASSWORD", "held_mariadb", "held_pg", "mariadb_setup", "pg_setup", "read_only_sqlite",
           "redis_data_files", "sqlite_writer_process", "terminate_pg_backends", "truncated_copy"]
