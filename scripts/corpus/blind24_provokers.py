"""Twenty-fourth batch of blind provokers, written after batch 23 had been scored and folded in and the model
retrained on batches 1-23 (no rule change after batch 23); generated and scored once, blind, before anyone read
its texts. Resource/auth/service from a private MariaDB (connection slots, a shutdown during a query), a private
PostgreSQL caught while starting up, Java and Node.js under a process limit, urllib against 407; the rest
stdlib, Node.js, Java and git failures of other kinds. Only 127.0.0.1."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from checked import PyCase, ToolCase, has_token, problem, python_records, tool_records
from common import Env, Record, exception_records, git_env, run, write_batch
from runtime_provokers import java_records
from servers import PG_BIN, private_mariadb, private_postgres

BLIND24_SOURCES = frozenset({"mariadb-private", "pg-private4", "py-extra21", "node-extra22", "java-extra22",
                             "shell-extra21", "git-extra21"})
_GIT_ENV = git_env("blind24")


def _mariadb_records(env: Env) -> list[Record]:
    import mysql.connector
    import pymysql

    port, proc = private_mariadb(env, max_connections=3)

    def connect() -> Any:
        return mysql.connector.connect(host="127.0.0.1", port=port, user="root", password="", connection_timeout=3)

    held = [pymysql.connect(host="127.0.0.1", port=port, user="root", password="") for _ in range(4)]
    out = python_records([("mysql_too_many_connections", "resource", "mariadb-private", "Error", connect)])
    out += tool_records([("shell_mariadb_too_many_connections", "resource", "Too many connections",
                          ["mariadb", "-h", "127.0.0.1", "-P", str(port), "-u", "root", "-e", "select 1"])],
                        "shell-extra21", env.tmp)
    for conn in held[1:]:
        conn.close()
    failure: list[BaseException] = []

    def long_query() -> None:
        try:
            held[0].cursor().execute("select sleep(20)")
        except BaseException as exc:  # the real exception the shutdown caused
            failure.append(exc)

    worker = threading.Thread(target=long_query)
    worker.start()
    time.sleep(0.5)
    run(["mariadb-admin", "-h", "127.0.0.1", "-P", str(port), "-u", "root", "shutdown"], timeout=60)
    worker.join(timeout=30)
    proc.wait(timeout=30)
    if failure and "shutdown" in str(failure[0]).lower():
        out.extend(exception_records(failure[0], "service", "mariadb-private", "pymysql_shutdown_in_progress"))
    else:
        problem("pymysql_shutdown_in_progress", "not the provoked cause (no 'shutdown')")
    return out


def _starting_up(env: Env) -> list[Record]:
    """Restart a private cluster and connect while it is still starting up (a race; a miss is dropped)."""
    import psycopg

    pg = private_postgres(env, max_connections=10)
    out: list[Record] = []

    def restart() -> None:
        pg.pg_ctl("-m", "fast", "stop")
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(pg.datadir), "-o",
                        f"-p {pg.port} -k {pg.datadir.parent} -c listen_addresses=127.0.0.1", "-l",
                        str(pg.datadir.parent / "log2"), "-W", "start"], check=True, capture_output=True)

    restart()
    caught: BaseException | None = None
    for _ in range(2000):
        try:
            psycopg.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname="postgres",
                            connect_timeout=2).close()
            break
        except psycopg.OperationalError as exc:
            if "starting up" in str(exc):
                caught = exc
                break
        time.sleep(0.002)
    if caught is not None:
        out.extend(exception_records(caught, "service", "pg-private4", "pg_starting_up"))
    else:
        problem("pg_starting_up", "not the provoked cause (no 'starting up')")
    time.sleep(1.0)
    restart()
    script = (f"for i in $(seq 1 2000); do out=$(psql -h 127.0.0.1 -p {pg.port} -U postgres -d postgres "
              "-c 'select 1' 2>&1) && exit 0; case \"$out\" in *'starting up'*) echo \"$out\" >&2; exit 1;; esac; "
              "done; exit 0")
    out += tool_records([("shell_psql_starting_up", "service", "starting up", script)], "shell-extra21", env.tmp)
    return out


def _py_cases(env: Env) -> list[PyCase]:
    def urllib_407() -> None:
        import urllib.request

        urllib.request.urlopen(env.url(407), timeout=3)

    def shlex_bad() -> None:
        import shlex

        shlex.split('deploy --message "unterminated')

    def netrc_bad() -> None:
        import netrc

        path = env.tmp / "netrc"
        path.write_text("machine api.example.org login\n")
        netrc.netrc(str(path))

    def wave_bad() -> None:
        import wave

        path = env.tmp / "notes.wav"
        path.write_text("not audio")
        wave.open(str(path))  # noqa: SIM115

    def gzip_bad() -> None:
        import gzip

        gzip.decompress(b"plain text, not gzip")

    def template_missing() -> None:
        import string

        string.Template("hello $name").substitute()

    def signal_bad() -> None:
        import signal

        signal.signal(99, signal.SIG_IGN)

    def chdir_missing() -> None:
        import os

        os.chdir("/srv/blind24/workdir")

    return [
        ("urllib_407", "auth", "py-extra21", "HTTPError", urllib_407),
        ("shlex_unterminated", "validation", "py-extra21", "ValueError", shlex_bad),
        ("netrc_bad", "validation", "py-extra21", "NetrcParseError", netrc_bad),
        ("wave_bad", "validation", "py-extra21", "Error", wave_bad),
        ("gzip_bad", "validation", "py-extra21", "BadGzipFile|OSError", gzip_bad),
        ("template_missing", "programming", "py-extra21", "KeyError", template_missing),
        ("signal_bad", "programming", "py-extra21", "ValueError", signal_bad),
        ("chdir_missing", "filesystem", "py-extra21", "FileNotFoundError", chdir_missing),
    ]


NODE: list[ToolCase] = [
    ("node_bad_regex", "programming", "SyntaxError", "new RegExp('(unclosed')"),
    ("node_json_bom", "validation", "SyntaxError", "JSON.parse('\\ufeff{\"a\": 1}')"),
    ("node_readlink_missing", "filesystem", "ENOENT", "require('fs').readlinkSync('/srv/blind24/current')"),
]

JAVA: dict[str, tuple[str, str]] = {
    "char_at": ("programming", 'String s = ""; s.charAt(0);'),
    "instant_parse": ("validation", 'java.time.Instant.parse("2024-13-01T00:00:00Z");'),
    "access_denied": ("filesystem", 'java.nio.file.Files.writeString(java.nio.file.Path.of("/proc/version"), "x");'),
}
_JAVA_EXPECTED = {"char_at": "StringIndexOutOfBounds", "instant_parse": "DateTimeParseException",
                  "access_denied": "Exception"}

SHELL: list[ToolCase] = [
    ("shell_java_nproc", "resource", "thread|Resource temporarily unavailable",
     "setpriv --reuid=65534 --regid=65534 --clear-groups bash -c 'ulimit -u 60; cd /tmp/blind24-java && "
     "java -Xss256k -Xmx64m Threads.java'"),
    ("shell_node_nproc", "resource", "Resource temporarily unavailable|EAGAIN|pthread",
     "setpriv --reuid=65534 --regid=65534 --clear-groups bash -c 'ulimit -u 3; cd /tmp; node -e \"1\"'"),
]

GIT: list[ToolCase] = [
    ("git_log_bad_range", "git", "nope-blind24", ["git", "log", "main..nope-blind24"]),
    ("git_worktree_missing", "git", "nope-blind24", ["git", "worktree", "remove", "nope-blind24"]),
    ("git_rebase_continue_none", "git", "rebase", ["git", "rebase", "--continue"]),
]


def _java_threads_program() -> None:
    folder = Path("/tmp/blind24-java")
    folder.mkdir(exist_ok=True)
    folder.chmod(0o755)
    (folder / "Threads.java").write_text(
        "public class Threads { public static void main(String[] a) throws Exception { "
        "for (int i = 0; i < 5000; i++) { Thread t = new Thread(() -> { try { Thread.sleep(5000); } "
        "catch (InterruptedException e) { } }); t.setDaemon(true); t.start(); } } }\n")
    (folder / "Threads.java").chmod(0o644)


def blind24_records(env: Env) -> list[Record]:
    out = _mariadb_records(env)
    out += _starting_up(env)
    out += python_records(_py_cases(env))
    out += tool_records([(n, c, t, ["node", "-e", s]) for n, c, t, s in NODE], "node-extra22", env.tmp)
    for rec in java_records(env, JAVA, "java-extra22"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra22_")]):
            out.append(rec)
    _java_threads_program()
    out += tool_records(SHELL, "shell-extra21", env.tmp, timeout=120)
    repo = env.tmp / "blind24-repo"
    repo.mkdir()
    run(["bash", "-c", "git init -q -b main && echo a > a.txt && git add a.txt && git commit -q -m one"], cwd=repo,
        env=_GIT_ENV)
    out += tool_records(GIT, "git-extra21", repo)
    return out


if __name__ == "__main__":
    write_batch(blind24_records)


__all__ = ["BLIND24_SOURCES", "blind24_records"]
