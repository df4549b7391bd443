"""Provokers of real Python exceptions, each with the known cause that labels it.

A provoker is a function that performs a real failing operation against a local component and lets the
exception escape; `provoke()` catches it. Tests re-run the cheap, local ones (`cheap=True`) to classify
the exception objects themselves, not only their text.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import csv
import datetime
import io
import json
import os
import resource
import socket
import sqlite3
import ssl
import subprocess
import sys
import tomllib
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Env, free_port

PG = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class PyProvoker:
    name: str
    source: str
    category: str
    fn: Callable[[Env], Any]
    cheap: bool = False


PROVOKERS: list[PyProvoker] = []


def provoker(source: str, category: str, cheap: bool = False) -> Callable[[Callable[[Env], Any]], Callable[[Env], Any]]:
    """Register `fn` as a provoker of a `category` failure from `source`."""

    def wrap(fn: Callable[[Env], Any]) -> Callable[[Env], Any]:
        PROVOKERS.append(PyProvoker(fn.__name__, source, category, fn, cheap))
        return fn

    return wrap


class NoFailure(Exception):
    """The provoker completed without the failure it was written to cause."""


def provoke(p: PyProvoker, env: Env) -> BaseException:
    """Run one provoker and return the real exception it raised."""
    try:
        p.fn(env)
    except (Exception, SystemExit, asyncio.CancelledError) as exc:
        return exc
    raise NoFailure(p.name)


# --------------------------------------------------------------------------- filesystem (os)


@provoker("os", "filesystem", cheap=True)
def os_enoent(env: Env) -> None:
    (env.tmp / "missing" / "config.yaml").read_text()


@provoker("os", "filesystem", cheap=True)
def os_eisdir(env: Env) -> None:
    d = env.tmp / "a-directory"
    d.mkdir(exist_ok=True)
    d.write_text("x")


@provoker("os", "filesystem", cheap=True)
def os_enotdir(env: Env) -> None:
    f = env.tmp / "plain-file"
    f.write_text("x")
    (f / "child").read_text()


@provoker("os", "filesystem", cheap=True)
def os_eexist(env: Env) -> None:
    d = env.tmp / "exists"
    d.mkdir(exist_ok=True)
    os.mkdir(d)


@provoker("os", "filesystem", cheap=True)
def os_enotempty(env: Env) -> None:
    d = env.tmp / "full-dir"
    d.mkdir(exist_ok=True)
    (d / "f").write_text("x")
    os.rmdir(d)


@provoker("os", "filesystem", cheap=True)
def os_enametoolong(env: Env) -> None:
    (env.tmp / ("n" * 300)).write_text("x")


@provoker("os", "filesystem", cheap=True)
def os_eacces(env: Env) -> None:
    secret = env.tmp / "secret.txt"
    secret.write_text("s")
    secret.chmod(0o600)
    env.tmp.chmod(0o755)
    os.seteuid(65534)  # as an unprivileged user the root-only file is really refused
    try:
        secret.read_text()
    finally:
        os.seteuid(0)


@provoker("os", "filesystem", cheap=True)
def os_eacces_write_dir(env: Env) -> None:
    env.tmp.chmod(0o755)
    os.seteuid(65534)
    try:
        (env.tmp / "new-file.txt").write_text("x")
    finally:
        os.seteuid(0)


@provoker("os", "filesystem", cheap=True)
def os_exdev(env: Env) -> None:
    src = Path("/dev/shm") / f"recoup-exdev-{os.getpid()}"
    src.write_text("x")
    try:
        os.link(src, env.tmp / "hardlink")
    finally:
        src.unlink()


@provoker("os", "filesystem", cheap=True)
def shutil_same_file(env: Env) -> None:
    import shutil

    f = env.tmp / "same.txt"
    f.write_text("x")
    shutil.copyfile(f, f)


def _mount_tmpfs(target: Path, options: str) -> None:
    target.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True, capture_output=True)


@provoker("os", "filesystem")
def os_erofs(env: Env) -> None:
    mnt = env.tmp / "ro-mount"
    _mount_tmpfs(mnt, "ro,size=64k")
    try:
        (mnt / "file.txt").write_text("x")
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@provoker("os", "resource")
def os_enospc_tmpfs(env: Env) -> None:
    mnt = env.tmp / "tiny-mount"
    _mount_tmpfs(mnt, "size=16k")
    try:
        (mnt / "big.bin").write_bytes(b"x" * 1_000_000)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@provoker("os", "resource", cheap=True)
def os_enospc_dev_full(env: Env) -> None:
    with open("/dev/full", "wb", buffering=0) as f:
        f.write(b"x")


@provoker("os", "resource", cheap=True)
def os_emfile(env: Env) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    opened: list[int] = []
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(len(os.listdir("/proc/self/fd")) + 8, soft), hard))
    try:
        while True:
            opened.append(os.open("/dev/null", os.O_RDONLY))
    finally:
        for fd in opened:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@provoker("python", "resource", cheap=True)
def memory_error(env: Env) -> None:
    bytearray(1 << 50)


@provoker("os", "network", cheap=True)
def broken_pipe_socketpair(env: Env) -> None:
    a, b = socket.socketpair()
    b.close()
    with a:
        for _ in range(100):
            a.send(b"x" * 65536)


# --------------------------------------------------------------------------- sockets, ssl, urllib


@provoker("socket", "network", cheap=True)
def socket_refused(env: Env) -> None:
    socket.create_connection(("127.0.0.1", env.closed_port), timeout=2)


@provoker("socket", "network", cheap=True)
def socket_dns(env: Env) -> None:
    socket.getaddrinfo("recoup-corpus.invalid", 443)


@provoker("socket", "network", cheap=True)
def socket_read_timeout(env: Env) -> None:
    with socket.create_connection(("127.0.0.1", env.hang_port), timeout=0.2) as s:
        s.recv(10)


@provoker("socket", "network", cheap=True)
def socket_reset(env: Env) -> None:
    with socket.create_connection(("127.0.0.1", env.reset_port), timeout=2) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        s.recv(10)
        s.recv(10)


@provoker("ssl", "network", cheap=True)
def ssl_plain_server(env: Env) -> None:
    ctx = ssl.create_default_context()
    with socket.create_connection(("127.0.0.1", env.http_port), timeout=2) as raw:
        ctx.wrap_socket(raw, server_hostname="localhost")


@provoker("ssl", "network", cheap=True)
def ssl_handshake_eof(env: Env) -> None:
    ctx = ssl.create_default_context()
    with socket.create_connection(("127.0.0.1", env.empty_port), timeout=2) as raw:
        ctx.wrap_socket(raw, server_hostname="localhost")


def _urlopen(url: str, timeout: float = 2) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        resp.read()


for _status, _cat in ((400, "validation"), (401, "auth"), (403, "auth"), (422, "validation"), (429, "resource"),
                      (500, "service"), (502, "service"), (503, "service"), (504, "service")):
    PROVOKERS.append(PyProvoker(f"urllib_http_{_status}", "urllib", _cat,
                                (lambda s: lambda env: _urlopen(env.url(s)))(_status), cheap=True))


@provoker("urllib", "network", cheap=True)
def urllib_refused(env: Env) -> None:
    _urlopen(f"http://127.0.0.1:{env.closed_port}/")


@provoker("urllib", "network", cheap=True)
def urllib_dns(env: Env) -> None:
    _urlopen("http://api.recoup-corpus.invalid/v1/items")


@provoker("urllib", "network", cheap=True)
def urllib_timeout(env: Env) -> None:
    _urlopen(f"http://127.0.0.1:{env.hang_port}/", timeout=0.3)


@provoker("urllib", "network", cheap=True)
def urllib_remote_disconnected(env: Env) -> None:
    _urlopen(f"http://127.0.0.1:{env.empty_port}/")


@provoker("urllib", "network", cheap=True)
def urllib_incomplete_read(env: Env) -> None:
    _urlopen(f"http://127.0.0.1:{env.close_port}/")


@provoker("urllib", "validation", cheap=True)
def urllib_bad_url(env: Env) -> None:
    _urlopen("htp:/not a url")


# --------------------------------------------------------------------------- httpx, requests


def _httpx_get(url: str, timeout: float = 2) -> None:
    import httpx

    httpx.get(url, timeout=timeout).raise_for_status()


def _requests_get(url: str, timeout: float = 2) -> None:
    import requests

    requests.get(url, timeout=timeout).raise_for_status()


for _lib, _get in (("httpx", _httpx_get), ("requests", _requests_get)):
    for _status, _cat in ((400, "validation"), (401, "auth"), (403, "auth"), (422, "validation"),
                          (429, "resource"), (500, "service"), (502, "service"), (503, "service")):
        PROVOKERS.append(PyProvoker(f"{_lib}_http_{_status}", _lib, _cat,
                                    (lambda g, s: lambda env: g(env.url(s)))(_get, _status), cheap=True))
    PROVOKERS.extend([
        PyProvoker(f"{_lib}_refused", _lib, "network",
                   (lambda g: lambda env: g(f"http://127.0.0.1:{env.closed_port}/api"))(_get), cheap=True),
        PyProvoker(f"{_lib}_dns", _lib, "network",
                   (lambda g: lambda env: g("https://api.recoup-corpus.invalid/v1"))(_get), cheap=True),
        PyProvoker(f"{_lib}_read_timeout", _lib, "network",
                   (lambda g: lambda env: g(f"http://127.0.0.1:{env.hang_port}/", 0.3))(_get), cheap=True),
        PyProvoker(f"{_lib}_server_disconnect", _lib, "network",
                   (lambda g: lambda env: g(f"http://127.0.0.1:{env.empty_port}/"))(_get), cheap=True),
        PyProvoker(f"{_lib}_reset", _lib, "network",
                   (lambda g: lambda env: g(f"http://127.0.0.1:{env.reset_port}/"))(_get), cheap=True),
        PyProvoker(f"{_lib}_tls_to_plain", _lib, "network",
                   (lambda g: lambda env: g(f"https://127.0.0.1:{env.http_port}/"))(_get), cheap=True),
        PyProvoker(f"{_lib}_bad_url", _lib, "validation",
                   (lambda g: lambda env: g("http://[::1/broken"))(_get), cheap=True),
    ])


@provoker("httpx", "network", cheap=True)
def httpx_incomplete_body(env: Env) -> None:
    _httpx_get(f"http://127.0.0.1:{env.close_port}/")


@provoker("requests", "network", cheap=True)
def requests_incomplete_body(env: Env) -> None:
    _requests_get(f"http://127.0.0.1:{env.close_port}/")


# --------------------------------------------------------------------------- aiohttp (held out)


def _aiohttp_get(url: str, timeout: float = 2) -> None:
    import aiohttp

    async def go() -> None:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(url) as resp,
        ):
            resp.raise_for_status()
            await resp.read()

    asyncio.run(go())


for _status, _cat in ((400, "validation"), (401, "auth"), (403, "auth"), (422, "validation"), (429, "resource"),
                      (500, "service"), (502, "service"), (503, "service"), (504, "service")):
    PROVOKERS.append(PyProvoker(f"aiohttp_http_{_status}", "aiohttp", _cat,
                                (lambda s: lambda env: _aiohttp_get(env.url(s)))(_status)))
PROVOKERS.extend([
    PyProvoker("aiohttp_refused", "aiohttp", "network",
               lambda env: _aiohttp_get(f"http://127.0.0.1:{env.closed_port}/")),
    PyProvoker("aiohttp_dns", "aiohttp", "network", lambda env: _aiohttp_get("http://svc.recoup-corpus.invalid/")),
    PyProvoker("aiohttp_timeout", "aiohttp", "network",
               lambda env: _aiohttp_get(f"http://127.0.0.1:{env.hang_port}/", 0.3)),
    PyProvoker("aiohttp_disconnect", "aiohttp", "network",
               lambda env: _aiohttp_get(f"http://127.0.0.1:{env.empty_port}/")),
    PyProvoker("aiohttp_payload", "aiohttp", "network",
               lambda env: _aiohttp_get(f"http://127.0.0.1:{env.close_port}/")),
    PyProvoker("aiohttp_tls", "aiohttp", "network",
               lambda env: _aiohttp_get(f"https://127.0.0.1:{env.http_port}/")),
    PyProvoker("aiohttp_bad_url", "aiohttp", "validation", lambda env: _aiohttp_get("http:///nohost")),
])


# --------------------------------------------------------------------------- urllib3 (held out)


def _urllib3_get(url: str, timeout: float = 2, status_retry: bool = False) -> None:
    import urllib3

    retries: Any = False
    if status_retry:
        retries = urllib3.Retry(total=1, status_forcelist=[429, 500, 502, 503], backoff_factor=0,
                                respect_retry_after_header=False)
    http = urllib3.PoolManager(retries=retries, timeout=timeout)
    http.request("GET", url)


PROVOKERS.extend([
    PyProvoker("urllib3_refused", "urllib3", "network",
               lambda env: _urllib3_get(f"http://127.0.0.1:{env.closed_port}/")),
    PyProvoker("urllib3_refused_retry", "urllib3", "network",
               lambda env: _urllib3_get(f"http://127.0.0.1:{env.closed_port}/", status_retry=True)),
    PyProvoker("urllib3_dns", "urllib3", "network", lambda env: _urllib3_get("http://db.recoup-corpus.invalid/")),
    PyProvoker("urllib3_timeout", "urllib3", "network",
               lambda env: _urllib3_get(f"http://127.0.0.1:{env.hang_port}/", 0.3)),
    PyProvoker("urllib3_disconnect", "urllib3", "network",
               lambda env: _urllib3_get(f"http://127.0.0.1:{env.empty_port}/")),
    PyProvoker("urllib3_reset", "urllib3", "network",
               lambda env: _urllib3_get(f"http://127.0.0.1:{env.reset_port}/")),
    PyProvoker("urllib3_tls", "urllib3", "network",
               lambda env: _urllib3_get(f"https://127.0.0.1:{env.http_port}/")),
    PyProvoker("urllib3_503_retries", "urllib3", "service",
               lambda env: _urllib3_get(env.url(503), status_retry=True)),
    PyProvoker("urllib3_500_retries", "urllib3", "service",
               lambda env: _urllib3_get(env.url(500), status_retry=True)),
    PyProvoker("urllib3_429_retries", "urllib3", "resource",
               lambda env: _urllib3_get(env.url(429), status_retry=True)),
    PyProvoker("urllib3_bad_url", "urllib3", "validation", lambda env: _urllib3_get("http://[bad")),
])


# --------------------------------------------------------------------------- PostgreSQL (psycopg, SQLAlchemy)


def _pg(sql: str, dsn: str = PG, params: Any = None) -> None:
    import psycopg

    with psycopg.connect(dsn, connect_timeout=3) as conn:
        conn.execute(sql, params)


def _pg_setup() -> None:
    import psycopg

    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS corpus_items (id int PRIMARY KEY, name text NOT NULL, "
                     "parent int REFERENCES corpus_items(id))")
        conn.execute("INSERT INTO corpus_items VALUES (1, 'one', NULL) ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO corpus_items VALUES (2, 'two', NULL) ON CONFLICT DO NOTHING")
        for stmt in ("CREATE ROLE corpus_limited LOGIN CONNECTION LIMIT 0",
                     "CREATE ROLE corpus_reader LOGIN"):
            with contextlib.suppress(psycopg.errors.DuplicateObject):
                conn.execute(stmt)


@provoker("psycopg", "network")
def pg_refused(env: Env) -> None:
    _pg("select 1", f"postgresql://postgres@127.0.0.1:{env.closed_port}/test")


@provoker("psycopg", "validation")
def pg_bad_database(env: Env) -> None:
    _pg("select 1", "postgresql://postgres@127.0.0.1:5432/no_such_db_corpus")


@provoker("psycopg", "auth")
def pg_bad_role(env: Env) -> None:
    _pg("select 1", "postgresql://no_such_role_corpus@127.0.0.1:5432/test")


@provoker("psycopg", "programming")
def pg_syntax(env: Env) -> None:
    _pg("SELEC id FROM corpus_items")


@provoker("psycopg", "programming")
def pg_undefined_table(env: Env) -> None:
    _pg("SELECT * FROM no_such_table_corpus")


@provoker("psycopg", "programming")
def pg_undefined_column(env: Env) -> None:
    _pg_setup()
    _pg("SELECT no_such_column FROM corpus_items")


@provoker("psycopg", "validation")
def pg_unique(env: Env) -> None:
    _pg_setup()
    _pg("INSERT INTO corpus_items VALUES (1, 'dup', NULL)")


@provoker("psycopg", "validation")
def pg_not_null(env: Env) -> None:
    _pg_setup()
    _pg("INSERT INTO corpus_items VALUES (99, NULL, NULL)")


@provoker("psycopg", "validation")
def pg_foreign_key(env: Env) -> None:
    _pg_setup()
    _pg("INSERT INTO corpus_items VALUES (98, 'orphan', 12345)")


@provoker("psycopg", "validation")
def pg_invalid_text(env: Env) -> None:
    _pg("SELECT 'abc'::int")


@provoker("psycopg", "network")
def pg_statement_timeout(env: Env) -> None:
    import psycopg

    with psycopg.connect(PG) as conn:
        conn.execute("SET statement_timeout = 100")
        conn.execute("SELECT pg_sleep(2)")


@provoker("psycopg", "resource")
def pg_too_many_connections_role(env: Env) -> None:
    _pg_setup()
    _pg("select 1", "postgresql://corpus_limited@127.0.0.1:5432/test")


@provoker("psycopg", "auth")
def pg_permission_denied(env: Env) -> None:
    import psycopg

    _pg_setup()
    with psycopg.connect(PG) as conn:
        conn.execute("SET ROLE corpus_reader")
        conn.execute("SELECT * FROM corpus_items")


@provoker("psycopg", "service")
def pg_admin_shutdown(env: Env) -> None:
    import psycopg

    with psycopg.connect(PG) as victim, psycopg.connect(PG, autocommit=True) as killer:
        pid = victim.info.backend_pid
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        victim.execute("SELECT 1")


@provoker("psycopg", "resource")
def pg_deadlock(env: Env) -> None:
    import threading

    import psycopg

    _pg_setup()
    a = psycopg.connect(PG)
    b = psycopg.connect(PG)
    errors: list[BaseException] = []
    try:
        a.execute("UPDATE corpus_items SET name = name WHERE id = 1")
        b.execute("UPDATE corpus_items SET name = name WHERE id = 2")

        def cross() -> None:
            try:
                b.execute("UPDATE corpus_items SET name = name WHERE id = 1")
            except psycopg.Error as exc:
                errors.append(exc)

        t = threading.Thread(target=cross)
        t.start()
        try:
            a.execute("UPDATE corpus_items SET name = name WHERE id = 2")
        except psycopg.Error as exc:
            errors.append(exc)
        t.join()
    finally:
        a.close()
        b.close()
    raise errors[0]


@provoker("psycopg", "resource")
def pg_lock_timeout(env: Env) -> None:
    import psycopg

    _pg_setup()
    with psycopg.connect(PG) as a, psycopg.connect(PG) as b:
        a.execute("SELECT * FROM corpus_items WHERE id = 1 FOR UPDATE")
        b.execute("SET lock_timeout = 100")
        b.execute("SELECT * FROM corpus_items WHERE id = 1 FOR UPDATE")


@provoker("psycopg", "programming")
def pg_division_by_zero(env: Env) -> None:
    _pg("SELECT 1/0")


def _sa(url: str, sql: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3} if "postgresql" in url else {})
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(sql))
    finally:
        engine.dispose()


PG_SA = PG.replace("postgresql://", "postgresql+psycopg://")
PROVOKERS.extend([
    PyProvoker("sqlalchemy_refused", "sqlalchemy", "network",
               lambda env: _sa(f"postgresql+psycopg://postgres@127.0.0.1:{env.closed_port}/test", "select 1")),
    PyProvoker("sqlalchemy_bad_role", "sqlalchemy", "auth",
               lambda env: _sa("postgresql+psycopg://nobody_corpus@127.0.0.1:5432/test", "select 1")),
    PyProvoker("sqlalchemy_syntax", "sqlalchemy", "programming", lambda env: _sa(PG_SA, "SELEC 1")),
    PyProvoker("sqlalchemy_unique", "sqlalchemy", "validation",
               lambda env: (_pg_setup(), _sa(PG_SA, "INSERT INTO corpus_items VALUES (2, 'dup', NULL)"))),
    PyProvoker("sqlalchemy_undefined_table", "sqlalchemy", "programming",
               lambda env: _sa(PG_SA, "SELECT * FROM missing_corpus_table")),
    PyProvoker("sqlalchemy_timeout", "sqlalchemy", "network",
               lambda env: _sa(PG_SA, "SET LOCAL statement_timeout = 100; SELECT pg_sleep(2)")),
    PyProvoker("sqlalchemy_sqlite_no_table", "sqlalchemy", "programming",
               lambda env: _sa("sqlite://", "SELECT * FROM nothing_here")),
    PyProvoker("sqlalchemy_sqlite_cannot_open", "sqlalchemy", "filesystem",
               lambda env: _sa(f"sqlite:///{env.tmp}/no/such/dir/app.db", "SELECT 1")),
])


@provoker("sqlalchemy", "resource")
def sqlalchemy_pool_exhausted(env: Env) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(PG_SA, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        with engine.connect(), engine.connect():
            pass
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- sqlite3


@provoker("sqlite3", "resource", cheap=True)
def sqlite_locked(env: Env) -> None:
    path = env.tmp / "locked.db"
    a = sqlite3.connect(path, timeout=0.05)
    b = sqlite3.connect(path, timeout=0.05)
    try:
        a.execute("CREATE TABLE IF NOT EXISTS t (x)")
        a.commit()
        a.execute("BEGIN EXCLUSIVE")
        a.execute("INSERT INTO t VALUES (1)")
        b.execute("INSERT INTO t VALUES (2)")
    finally:
        a.close()
        b.close()


@provoker("sqlite3", "filesystem", cheap=True)
def sqlite_not_a_database(env: Env) -> None:
    path = env.tmp / "garbage.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("SELECT * FROM sqlite_master")


@provoker("sqlite3", "filesystem", cheap=True)
def sqlite_cannot_open(env: Env) -> None:
    sqlite3.connect(env.tmp / "no" / "dir" / "x.db")


@provoker("sqlite3", "filesystem", cheap=True)
def sqlite_readonly(env: Env) -> None:
    path = env.tmp / "ro.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.execute("INSERT INTO t VALUES (1)")


@provoker("sqlite3", "programming", cheap=True)
def sqlite_no_table(env: Env) -> None:
    sqlite3.connect(":memory:").execute("SELECT * FROM users")


@provoker("sqlite3", "validation", cheap=True)
def sqlite_unique(env: Env) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE u (email TEXT UNIQUE)")
    conn.execute("INSERT INTO u VALUES ('a@example.org')")
    conn.execute("INSERT INTO u VALUES ('a@example.org')")


@provoker("sqlite3", "programming", cheap=True)
def sqlite_syntax(env: Env) -> None:
    sqlite3.connect(":memory:").execute("SELEC 1")


# --------------------------------------------------------------------------- Redis


def _redis(port: int = 6379, **kw: Any) -> Any:
    import redis

    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, socket_connect_timeout=2, **kw)


@provoker("redis", "programming")
def redis_wrongtype(env: Env) -> None:
    r = _redis()
    r.set("recoup:corpus:str", "x")
    r.lpush("recoup:corpus:str", "y")


@provoker("redis", "programming")
def redis_unknown_command(env: Env) -> None:
    _redis().execute_command("RECOUPNOSUCHCMD", "x")


@provoker("redis", "network")
def redis_refused(env: Env) -> None:
    _redis(env.closed_port).ping()


@provoker("redis", "network")
def redis_timeout(env: Env) -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=env.hang_port, socket_timeout=0.3, socket_connect_timeout=0.3).ping()


@provoker("redis", "network")
def redis_dns(env: Env) -> None:
    import redis

    redis.Redis(host="cache.recoup-corpus.invalid").ping()


@provoker("redis", "auth")
def redis_wrongpass(env: Env) -> None:
    r = _redis()
    r.execute_command("ACL", "SETUSER", "corpus_user", "on", ">right-password", "~*", "+@all")
    _redis(username="corpus_user", password="wrong-password").ping()


@provoker("redis", "auth")
def redis_noperm(env: Env) -> None:
    r = _redis()
    r.execute_command("ACL", "SETUSER", "corpus_weak", "on", ">pw", "~*", "-@all", "+ping", "+auth", "+hello")
    _redis(username="corpus_weak", password="pw").get("recoup:corpus:key")


@provoker("redis", "programming")
def redis_not_integer(env: Env) -> None:
    r = _redis()
    r.set("recoup:corpus:text", "abc")
    r.incr("recoup:corpus:text")


def _private_redis(env: Env, *args: str) -> int:
    """A private redis-server (so shared Redis config is never touched) with extra `args`."""
    import time

    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(proc.terminate)
    for _ in range(50):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
            break
        time.sleep(0.05)
    return port


@provoker("redis", "resource")
def redis_oom(env: Env) -> None:
    port = _private_redis(env, "--maxmemory", "1mb", "--maxmemory-policy", "noeviction")
    r = _redis(port)
    for i in range(10_000):
        r.set(f"k{i}", "x" * 10_000)


@provoker("redis", "resource")
def redis_max_clients(env: Env) -> None:
    port = _private_redis(env, "--maxclients", "1")
    keep = _redis(port)
    keep.ping()
    _redis(port).ping()


# --------------------------------------------------------------------------- MariaDB via PyMySQL (held out)


def _my(sql: str, user: str = "root", database: str | None = None, port: int = 3306) -> None:
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", port=port, user=user, database=database, connect_timeout=3)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
        conn.commit()
    finally:
        conn.close()


def _my_setup() -> None:
    _my("CREATE DATABASE IF NOT EXISTS corpus")
    _my("CREATE TABLE IF NOT EXISTS corpus.items (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL, n INT) ENGINE=InnoDB")
    _my("INSERT IGNORE INTO corpus.items VALUES (1, 'one', 1), (2, 'two', 2)")


PROVOKERS.extend([
    PyProvoker("mariadb_refused", "mariadb", "network", lambda env: _my("select 1", port=env.closed_port)),
    PyProvoker("mariadb_bad_user", "mariadb", "auth", lambda env: _my("select 1", user="nobody_corpus")),
    PyProvoker("mariadb_unknown_db", "mariadb", "validation", lambda env: _my("select 1", database="no_db_corpus")),
    PyProvoker("mariadb_syntax", "mariadb", "programming", lambda env: _my("SELEC 1")),
    PyProvoker("mariadb_no_table", "mariadb", "programming", lambda env: _my("SELECT * FROM corpus.nope")),
    PyProvoker("mariadb_duplicate", "mariadb", "validation",
               lambda env: (_my_setup(), _my("INSERT INTO corpus.items VALUES (1, 'x', 1)"))),
    PyProvoker("mariadb_too_long", "mariadb", "validation",
               lambda env: (_my_setup(), _my("INSERT INTO corpus.items VALUES (7, 'much-too-long', 1)"))),
    PyProvoker("mariadb_bad_integer", "mariadb", "validation",
               lambda env: (_my_setup(), _my("INSERT INTO corpus.items VALUES (8, 'x', 'abc')"))),
    PyProvoker("mariadb_unknown_column", "mariadb", "programming",
               lambda env: (_my_setup(), _my("SELECT nope FROM corpus.items"))),
])


@provoker("mariadb", "resource")
def mariadb_lock_wait_timeout(env: Env) -> None:
    import pymysql

    _my_setup()
    a = pymysql.connect(host="127.0.0.1", user="root", database="corpus")
    b = pymysql.connect(host="127.0.0.1", user="root", database="corpus")
    try:
        a.begin()
        a.cursor().execute("SELECT * FROM items WHERE id = 1 FOR UPDATE")
        b.cursor().execute("SET innodb_lock_wait_timeout = 1")
        b.begin()
        b.cursor().execute("SELECT * FROM items WHERE id = 1 FOR UPDATE")
    finally:
        a.close()
        b.close()


@provoker("mariadb", "resource")
def mariadb_max_user_connections(env: Env) -> None:
    import pymysql

    _my("CREATE USER IF NOT EXISTS 'corpus_one'@'%' WITH MAX_USER_CONNECTIONS 1")
    _my("CREATE USER IF NOT EXISTS 'corpus_one'@'localhost' WITH MAX_USER_CONNECTIONS 1")
    first = pymysql.connect(host="127.0.0.1", user="corpus_one")
    try:
        pymysql.connect(host="127.0.0.1", user="corpus_one")
    finally:
        first.close()


@provoker("mariadb", "auth")
def mariadb_access_denied_db(env: Env) -> None:
    import pymysql

    _my_setup()
    _my("CREATE USER IF NOT EXISTS 'corpus_plain'@'%'")
    _my("CREATE USER IF NOT EXISTS 'corpus_plain'@'localhost'")
    conn = pymysql.connect(host="127.0.0.1", user="corpus_plain")
    try:
        conn.cursor().execute("SELECT * FROM corpus.items")
    finally:
        conn.close()


# --------------------------------------------------------------------------- validation: parsers and schemas


@provoker("json", "validation", cheap=True)
def json_decode(env: Env) -> None:
    json.loads('{"name": "x", "tags": [1, 2,, 3]}')


@provoker("json", "validation", cheap=True)
def json_truncated(env: Env) -> None:
    json.loads('{"name": "x", "ta')


@provoker("json", "validation", cheap=True)
def json_empty(env: Env) -> None:
    json.loads("")


@provoker("tomllib", "validation", cheap=True)
def toml_decode(env: Env) -> None:
    tomllib.loads("[tool]\nname = \"x\nversion = 1\n")


@provoker("tomllib", "validation", cheap=True)
def toml_duplicate(env: Env) -> None:
    tomllib.loads("a = 1\na = 2\n")


@provoker("csv", "validation", cheap=True)
def csv_strict(env: Env) -> None:
    list(csv.reader(io.StringIO('a,"b"c,d\n'), strict=True))


@provoker("csv", "validation", cheap=True)
def csv_field_limit(env: Env) -> None:
    old = csv.field_size_limit(10)
    try:
        list(csv.reader(io.StringIO("short," + "y" * 100 + "\n")))
    finally:
        csv.field_size_limit(old)


@provoker("yaml", "validation", cheap=True)
def yaml_scanner(env: Env) -> None:
    import yaml

    yaml.safe_load("key: [unclosed\nother: value: bad\n")


@provoker("yaml", "validation", cheap=True)
def yaml_parser(env: Env) -> None:
    import yaml

    yaml.safe_load("a:\n  - b\n c: d\n")


@provoker("yaml", "validation", cheap=True)
def yaml_tab(env: Env) -> None:
    import yaml

    yaml.safe_load("a:\n\t- b\n")


@provoker("pydantic", "validation", cheap=True)
def pydantic_model(env: Env) -> None:
    import pydantic

    class User(pydantic.BaseModel):
        id: int
        email: str
        age: int = 0

    User.model_validate({"id": "abc", "age": -1.5})


@provoker("pydantic", "validation", cheap=True)
def pydantic_json(env: Env) -> None:
    import pydantic

    class Item(pydantic.BaseModel):
        name: str

    Item.model_validate_json('{"name": ')


@provoker("pydantic", "validation", cheap=True)
def pydantic_typeadapter(env: Env) -> None:
    import pydantic

    pydantic.TypeAdapter(list[int]).validate_python(["1", "two"])


@provoker("jsonschema", "validation", cheap=True)
def jsonschema_required(env: Env) -> None:
    import jsonschema

    jsonschema.validate({"name": 3}, {"type": "object", "required": ["id"],
                                      "properties": {"name": {"type": "string"}}})


@provoker("jsonschema", "validation", cheap=True)
def jsonschema_enum(env: Env) -> None:
    import jsonschema

    jsonschema.validate({"state": "maybe"}, {"properties": {"state": {"enum": ["on", "off"]}}})


@provoker("jsonschema", "programming", cheap=True)
def jsonschema_bad_schema(env: Env) -> None:
    import jsonschema

    jsonschema.validate({}, {"type": "no-such-type"})


@provoker("python", "validation", cheap=True)
def value_int_parse(env: Env) -> None:
    int("12a")


@provoker("python", "validation", cheap=True)
def value_float_parse(env: Env) -> None:
    float("1,5")


@provoker("python", "validation", cheap=True)
def value_strptime(env: Env) -> None:
    datetime.datetime.strptime("2024-13-45", "%Y-%m-%d")


@provoker("python", "validation", cheap=True)
def value_fromisoformat(env: Env) -> None:
    datetime.date.fromisoformat("31/12/2024")


@provoker("python", "validation", cheap=True)
def value_uuid(env: Env) -> None:
    uuid.UUID("not-a-uuid")


@provoker("python", "validation", cheap=True)
def value_base64(env: Env) -> None:
    base64.b64decode("abc", validate=True)


@provoker("python", "validation", cheap=True)
def unicode_decode(env: Env) -> None:
    b"\xff\xfe\xfa".decode("utf-8")


@provoker("python", "validation", cheap=True)
def ipaddress_bad(env: Env) -> None:
    import ipaddress

    ipaddress.ip_address("300.1.2.3")


# --------------------------------------------------------------------------- programming errors


@provoker("python", "programming", cheap=True)
def type_error_concat(env: Env) -> None:
    _ = "total: " + 3  # type: ignore[operator]


@provoker("python", "programming", cheap=True)
def type_error_args(env: Env) -> None:
    def f(a: int) -> int:
        return a

    f(1, 2)  # type: ignore[call-arg]


@provoker("python", "programming", cheap=True)
def type_error_none_subscript(env: Env) -> None:
    value: Any = None
    value["key"]


@provoker("python", "programming", cheap=True)
def attribute_error(env: Env) -> None:
    value: Any = None
    value.strip()


@provoker("python", "programming", cheap=True)
def attribute_error_module(env: Env) -> None:
    json.loadz("{}")


@provoker("python", "programming", cheap=True)
def key_error(env: Env) -> None:
    settings: dict[str, int] = {"retries": 3}
    settings["timeout"]


@provoker("python", "programming", cheap=True)
def index_error(env: Env) -> None:
    items: list[int] = []
    items[0]


@provoker("python", "programming", cheap=True)
def zero_division(env: Env) -> None:
    total, count = 10, 0
    total / count


@provoker("python", "programming", cheap=True)
def name_error(env: Env) -> None:
    eval("undefined_helper(1)")


@provoker("python", "programming", cheap=True)
def unbound_local(env: Env) -> None:
    def f() -> int:
        if False:
            x = 1
        return x

    f()


@provoker("python", "programming", cheap=True)
def assertion_error(env: Env) -> None:
    rows = [1, 2]
    assert len(rows) == 3, "expected three rows"


@provoker("python", "programming", cheap=True)
def not_implemented(env: Env) -> None:
    class Shape:
        def area(self) -> float:
            raise NotImplementedError(f"{type(self).__name__}.area")

    Shape().area()


@provoker("python", "programming", cheap=True)
def recursion_error(env: Env) -> None:
    def down(n: int) -> int:
        return down(n + 1) + 1

    down(0)


@provoker("python", "programming", cheap=True)
def module_not_found(env: Env) -> None:
    __import__("recoup_corpus_missing_module")


@provoker("python", "programming", cheap=True)
def import_error_name(env: Env) -> None:
    exec("from json import no_such_function")


@provoker("python", "programming", cheap=True)
def syntax_error(env: Env) -> None:
    compile("def broken(:\n    pass\n", "plugin.py", "exec")


@provoker("python", "programming", cheap=True)
def dict_changed_size(env: Env) -> None:
    d = {"a": 1, "b": 2}
    for k in d:
        d[k + "x"] = 1


@provoker("python", "programming", cheap=True)
def unhashable(env: Env) -> None:
    {[1, 2]: "x"}  # type: ignore[dict-item]  # noqa: B018


@provoker("python", "programming", cheap=True)
def stop_iteration(env: Env) -> None:
    next(iter([]))


# --------------------------------------------------------------------------- subprocess and unknowns


@provoker("subprocess", "git", cheap=True)
def subprocess_git_not_repo(env: Env) -> None:
    d = env.tmp / "not-a-repo"
    d.mkdir(exist_ok=True)
    subprocess.run(["git", "status"], cwd=d, check=True, capture_output=True, text=True,
                   env=dict(os.environ, GIT_CEILING_DIRECTORIES=str(env.tmp)))


@provoker("subprocess", "filesystem", cheap=True)
def subprocess_missing_program(env: Env) -> None:
    subprocess.run(["recoup-corpus-no-such-program", "--version"], check=True)


@provoker("subprocess", "unknown", cheap=True)
def subprocess_false(env: Env) -> None:
    subprocess.run(["false"], check=True)


@provoker("subprocess", "unknown", cheap=True)
def subprocess_exit_3(env: Env) -> None:
    subprocess.run(["sh", "-c", "exit 3"], check=True, capture_output=True)


@provoker("subprocess", "unknown", cheap=True)
def subprocess_killed(env: Env) -> None:
    subprocess.run(["sh", "-c", "kill -TERM $$"], check=True)


@provoker("python", "unknown", cheap=True)
def system_exit(env: Env) -> None:
    sys.exit(2)


@provoker("python", "unknown", cheap=True)
def cancelled(env: Env) -> None:
    async def go() -> None:
        task = asyncio.ensure_future(asyncio.sleep(10))
        await asyncio.sleep(0)
        task.cancel()
        await task

    asyncio.run(go())


@provoker("python", "unknown")
def broken_process_pool(env: Env) -> None:
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        pool.submit(os._exit, 1).result()


@provoker("python", "unknown", cheap=True)
def queue_empty(env: Env) -> None:
    import queue

    queue.Queue().get_nowait()


@provoker("python", "unknown", cheap=True)
def broken_barrier(env: Env) -> None:
    import threading

    barrier = threading.Barrier(2)
    barrier.abort()
    barrier.wait()


@provoker("python", "unknown", cheap=True)
def future_timeout_unknown(env: Env) -> None:
    fut: concurrent.futures.Future[int] = concurrent.futures.Future()
    fut.cancel()
    fut.result()


def by_name(name: str) -> PyProvoker:
    """The provoker called `name` (tests use it to re-create exceptions)."""
    for p in PROVOKERS:
        if p.name == name:
            return p
    raise KeyError(name)


__all__ = ["PROVOKERS", "NoFailure", "PyProvoker", "by_name", "provoke"]
