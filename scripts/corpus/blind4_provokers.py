"""Fourth batch of held-out provokers, written after the third batch had been folded into dev.

Evaluated once, blind (60% on this batch: see the report), then moved to dev: more git, Node.js, Java,
Go, Python stdlib and library, PostgreSQL, Redis and database CLI failures.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import Env, Record, failure_text, python_case_records, record, run
from runtime_provokers import go_records, java_records

BLIND4_SOURCES = frozenset({"git-extra", "node-extra2", "java-extra2", "go-extra2", "py-extra2",
                            "psycopg-extra2", "redis-extra", "cli-extra"})
PG = "postgresql://postgres@127.0.0.1:5432/test"
_GIT_ENV = {"GIT_AUTHOR_NAME": "B", "GIT_AUTHOR_EMAIL": "b@example.org", "GIT_COMMITTER_NAME": "B",
            "GIT_COMMITTER_EMAIL": "b@example.org", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent-home-blind"}


def _git_repo(env: Env) -> Path:
    d = env.tmp / "blind4-repo"
    d.mkdir()
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "one"], ["tag", "v1"]):
        run(["git", *args], cwd=d, env=_GIT_ENV)
    return d


def _git_cases(env: Env) -> list[tuple[str, str, list[str]]]:
    return [
        ("git_no_rebase", "git", ["rebase", "--continue"]),
        ("git_no_stash", "git", ["stash", "pop"]),
        ("git_tag_exists", "git", ["tag", "v1"]),
        ("git_bisect_not_started", "git", ["bisect", "good"]),
        ("git_apply_bad_patch", "git", ["apply", str(env.tmp / "blind4.patch")]),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_invalid_date", "validation", "new Date('not a date').toISOString()"),
    ("node_fetch_429", "resource",
     "const r = await fetch('HTTPURL/status/429'); if (!r.ok) throw new Error(`${r.status} ${r.statusText}`)"),
    ("node_fetch_401", "auth",
     "const r = await fetch('HTTPURL/status/401'); if (!r.ok) throw new Error(`${r.status} ${r.statusText}`)"),
    ("node_readdir_missing", "filesystem", "require('fs').readdirSync('/srv/blind4/missing')"),
]

JAVA: dict[str, tuple[str, str]] = {
    "stream_header": ("validation", 'new java.io.ObjectInputStream(new java.io.ByteArrayInputStream("x".getBytes()));'),
    "base64": ("validation", 'java.util.Base64.getDecoder().decode("!!");'),
    "not_gzip": ("validation", 'new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream("x".getBytes()));'),
    "negative_sleep": ("programming", 'Thread.sleep(-1);'),
    "require_non_null": ("programming", 'java.util.Objects.requireNonNull(System.getenv("BLIND4_UNSET"), "config");'),
}

GO: dict[str, tuple[str, str]] = {
    "bad_port": ("validation", '_, err := net.Listen("tcp", "127.0.0.1:99999"); fail(err)'),
    "request_uri": ("validation", '_, err := url.ParseRequestURI("not-a-uri"); fail(err)'),
    "hex": ("validation", '_, err := hex.DecodeString("zz"); fail(err)'),
    "waitgroup": ("programming", 'var wg sync.WaitGroup; wg.Done()'),
    "read_dir_as_file": ("filesystem", '_, err := os.ReadFile("/etc"); fail(err)'),
}
GO_IMPORTS = '\t"encoding/hex"\n\t"sync"\n'


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:

    def xmlrpc(status: int) -> Callable[[], Any]:
        def go() -> Any:
            import xmlrpc.client

            return xmlrpc.client.ServerProxy(f"{env.http}/status/{status}").ping()
        return go

    def zone() -> None:
        import zoneinfo

        zoneinfo.ZoneInfo("Mars/Base")

    def network() -> None:
        import ipaddress

        ipaddress.ip_network("10.0.0.1/33")

    def tmp_missing() -> None:
        import tempfile

        tempfile.mkdtemp(dir="/srv/blind4/missing")

    def release() -> None:
        import threading

        threading.Lock().release()

    def requests_schema() -> None:
        import requests

        requests.get("ftp://127.0.0.1/file.txt", timeout=2)

    def pg(sql: str, dsn: str = PG) -> Callable[[], None]:
        def go() -> None:
            import psycopg

            with psycopg.connect(dsn, connect_timeout=3) as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS blind4_t (id int)")
                conn.commit()
                conn.execute(sql)
        return go

    def pg_nowait() -> None:
        import psycopg

        with psycopg.connect(PG) as a, psycopg.connect(PG) as b:
            a.execute("CREATE TABLE IF NOT EXISTS blind4_t (id int)")
            a.commit()
            a.execute("LOCK TABLE blind4_t IN ACCESS EXCLUSIVE MODE")
            b.execute("LOCK TABLE blind4_t IN ACCESS EXCLUSIVE MODE NOWAIT")

    def redis_cmd(*args: Any) -> Callable[[], None]:
        def go() -> None:
            import redis

            redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).execute_command(*args)
        return go

    return [
        ("xmlrpc_503", "service", "py-extra2", xmlrpc(503)),
        ("xmlrpc_401", "auth", "py-extra2", xmlrpc(401)),
        ("zoneinfo_missing", "validation", "py-extra2", zone),
        ("ip_network_bad", "validation", "py-extra2", network),
        ("tempfile_missing_dir", "filesystem", "py-extra2", tmp_missing),
        ("lock_release", "programming", "py-extra2", release),
        ("requests_schema", "validation", "py-extra2", requests_schema),
        ("pg_socket_missing", "network", "psycopg-extra2", pg("SELECT 1", "host=/srv/blind4/nosock dbname=test")),
        ("pg_lock_nowait", "resource", "psycopg-extra2", pg_nowait),
        ("pg_duplicate_table", "programming", "psycopg-extra2", pg("CREATE TABLE blind4_t (id int)")),
        ("pg_placeholders", "programming", "psycopg-extra2", pg("SELECT %s, %s")),
        ("redis_wrong_args", "programming", "redis-extra", redis_cmd("SET", "only-key")),
        ("redis_script_error", "programming", "redis-extra", redis_cmd("EVAL", "return 1 +", 0)),
        ("redis_bad_restore", "validation", "redis-extra", redis_cmd("RESTORE", "blind4:k", 0, b"not a dump")),
    ]


def blind4_records(env: Env) -> list[Record]:
    out: list[Record] = []
    repo = _git_repo(env)
    (env.tmp / "blind4.patch").write_text("--- a/none.txt\n+++ b/none.txt\n@@ -1 +1 @@\n-old\n+new\n")
    for name, category, args in _git_cases(env):
        proc = run(["git", *args], cwd=repo, env=_GIT_ENV)
        text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
        if text:
            out.append(record(text, category, "git-extra", "stderr", name))
    for name, category, script in NODE:
        flags = ["--input-type=module"] if "await" in script else []
        text = failure_text(run(["node", *flags, "-e", script.replace("HTTPURL", env.http)], cwd=env.tmp))
        out.append(record(text, category, "node-extra2", "stderr", name))
    out.extend(java_records(env, JAVA, "java-extra2"))
    out.extend(go_records(env, GO, "go-extra2", GO_IMPORTS))
    out.extend(python_case_records(_py_cases(env)))
    cli: list[tuple[str, str, list[str]]] = [
        ("pg_isready_closed", "network", ["pg_isready", "-h", "127.0.0.1", "-p", str(env.closed_port)]),
        ("pg_dump_no_db", "validation", ["pg_dump", "postgresql://postgres@127.0.0.1:5432/blind4_nodb"]),
        ("mysqldump_no_db", "validation", ["mysqldump", "-h", "127.0.0.1", "-u", "root", "blind4_nodb"]),
        ("tar_cannot_open", "filesystem", ["tar", "-czf", "/srv/blind4/missing/out.tgz", "."]),
        ("sqlite_read_missing", "filesystem", ["sqlite3", ":memory:", ".read /srv/blind4/missing.sql"]),
    ]
    for name, category, argv in cli:
        try:
            text = failure_text(run(argv, cwd=env.tmp, env={"PGCONNECT_TIMEOUT": "3"}))
        except RuntimeError:
            print(f"problem: {name}: no failure", file=sys.stderr)
            continue
        if text:
            out.append(record(text, category, "cli-extra", "stderr", name))
    return out


__all__ = ["BLIND4_SOURCES", "blind4_records"]
