"""Seventeenth batch of blind provokers, written after batch 16 had been folded in and the learned classifier
retrained on batches 1-16 (the shipped model); scored once, blind, before anyone read its texts. After the
harness bugs of batches 15 and 16, every case here names the exception type or output token its cause must
produce, and a case whose output lacks it is dropped and reported (a boolean check, no text is shown): email,
http.cookies, smtplib, poplib, urllib (403, 504), sqlite3, multiprocessing, decimal, uuid, tarfile, ssl
against plain HTTP, websockets against a 403, a private redis-server (client cap, wrong type), Node.js, Java,
git and CLI tools (printf, psql, sqlite3, openssl enc, ulimit -n). Everything talks to 127.0.0.1 only."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from common import Env, Record, exception_records, failure_text, free_port, git_env, record, run, write_batch
from runtime_provokers import java_records

BLIND17_SOURCES = frozenset({"py-extra14", "redis-server2", "node-extra15", "java-extra15", "git-extra14",
                             "shell-extra14"})
_GIT_ENV = git_env("blind17")


def _redis_server(env: Env) -> int:
    """A private redis-server on a free port that accepts at most two clients."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--maxclients", "2",
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(proc.wait)
    env._closers.append(proc.terminate)
    for _ in range(100):
        if run(["redis-cli", "-p", str(port), "ping"]).stdout.strip() == "PONG":
            return port
        time.sleep(0.05)
    raise RuntimeError("private redis-server did not start")


Case = tuple[str, str, str, str, Callable[[], Any]]  # name, category, source, expected exception type, fn


def _py_cases(env: Env, redis_port: int) -> list[Case]:
    def email_date() -> None:
        import email.utils

        email.utils.parsedate_to_datetime("sometime last week")

    def cookie_bad() -> None:
        import http.cookies

        http.cookies.SimpleCookie()["session id"] = "x"

    def smtp_refused() -> None:
        import smtplib

        smtplib.SMTP("127.0.0.1", env.closed_port, timeout=2)

    def pop_timeout() -> None:
        import poplib

        poplib.POP3("127.0.0.1", env.hang_port, timeout=0.5)

    def urllib_status(status: int) -> Callable[[], None]:
        def fn() -> None:
            import urllib.request

            urllib.request.urlopen(env.url(status), timeout=5)
        return fn

    def sqlite_params() -> None:
        import sqlite3

        db = sqlite3.connect(":memory:")
        db.execute("create table t (a, b)")
        db.execute("insert into t values (?, ?)", (1,))

    def pool_closed() -> None:
        import multiprocessing.pool

        pool = multiprocessing.pool.ThreadPool(1)
        pool.close()
        pool.apply(print)

    def decimal_bad() -> None:
        import decimal

        decimal.Decimal("1,5")

    def uuid_bad() -> None:
        import uuid

        uuid.UUID("order-17")

    def tar_missing() -> None:
        import tarfile

        tarfile.open("/srv/blind17/backup.tar.gz")  # noqa: SIM115

    def ssl_plain() -> None:
        import socket
        import ssl

        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", env.http_port), timeout=3) as raw:
            ctx.wrap_socket(raw).sendall(b"GET / HTTP/1.1\r\n\r\n")

    def ws_403() -> None:
        from websockets.sync.client import connect

        connect(f"ws://127.0.0.1:{env.http_port}/status/403", open_timeout=3)

    def redis_maxclients() -> None:
        import redis

        held = [redis.Redis(port=redis_port, socket_timeout=2, single_connection_client=True) for _ in range(3)]
        for client in held:
            client.ping()

    def redis_wrongtype() -> None:
        import redis

        r = redis.Redis(port=redis_port, socket_timeout=2)
        r.set("blind17:name", "x")
        r.lpush("blind17:name", "y")

    return [
        ("email_date", "validation", "py-extra14", "ValueError", email_date),
        ("cookie_bad", "validation", "py-extra14", "CookieError", cookie_bad),
        ("smtp_refused", "network", "py-extra14", "ConnectionRefusedError", smtp_refused),
        ("pop_timeout", "network", "py-extra14", "TimeoutError", pop_timeout),
        ("urllib_403", "auth", "py-extra14", "HTTPError", urllib_status(403)),
        ("urllib_504", "service", "py-extra14", "HTTPError", urllib_status(504)),
        ("sqlite_params", "programming", "py-extra14", "ProgrammingError", sqlite_params),
        ("pool_closed", "programming", "py-extra14", "ValueError", pool_closed),
        ("decimal_bad", "validation", "py-extra14", "InvalidOperation", decimal_bad),
        ("uuid_bad", "validation", "py-extra14", "ValueError", uuid_bad),
        ("tar_missing", "filesystem", "py-extra14", "FileNotFoundError", tar_missing),
        ("ssl_plain", "network", "py-extra14", "SSLError", ssl_plain),
        ("ws_403", "auth", "py-extra14", "InvalidStatus", ws_403),
        ("redis_maxclients", "resource", "redis-server2", "ConnectionError", redis_maxclients),
        ("redis_wrongtype", "programming", "redis-server2", "ResponseError", redis_wrongtype),
    ]


def _python_records(cases: list[Case]) -> list[Record]:
    out: list[Record] = []
    for name, category, source, expected, fn in cases:
        try:
            fn()
        except BaseException as exc:  # the real exception, whatever it is
            if type(exc).__name__ != expected:
                print(f"problem: {name}: not the provoked cause (expected {expected})", file=sys.stderr)
                continue
            out.extend(exception_records(exc, category, source, name))
        else:
            print(f"problem: {name}: no failure", file=sys.stderr)
    return out


NODE: list[tuple[str, str, str, str]] = [
    ("node_mkdir_exists", "filesystem", "EEXIST", "require('fs').mkdirSync('/tmp')"),
    ("node_json_undefined", "validation", "SyntaxError", "JSON.parse(undefined)"),
    ("node_chdir_missing", "filesystem", "ENOENT", "process.chdir('/srv/blind17/work')"),
    ("node_reference", "programming", "ReferenceError", "console.log(retryCount + 1)"),
    ("node_connect_timeout", "network", "timed out",
     "const s = require('net').connect(HANG, '127.0.0.1'); s.setTimeout(300, () => s.destroy(new Error("
     "'upstream 127.0.0.1:HANG timed out after 300 ms')))"),
]

JAVA: dict[str, tuple[str, str]] = {
    "uuid_bad": ("validation", 'java.util.UUID.fromString("order-17");'),
    "dir_exists": ("filesystem", 'java.nio.file.Files.createDirectory(java.nio.file.Path.of("/tmp"));'),
    "url_500": ("service", 'new java.net.URL("http://127.0.0.1:HTTP/status/500").openStream();'),
    "read_timeout": ("network", 'java.net.Socket s = new java.net.Socket("127.0.0.1", HANG); '
                                's.setSoTimeout(300); s.getInputStream().read();'),
    "optional_empty": ("programming", 'java.util.Optional.empty().get();'),
}
_JAVA_EXPECTED = {"uuid_bad": "IllegalArgumentException", "dir_exists": "FileAlreadyExistsException",
                  "url_500": "500", "read_timeout": "SocketTimeoutException", "optional_empty": "NoSuchElement"}

GIT: list[tuple[str, list[str], str]] = [
    ("git_push_no_upstream", ["push"], "upstream"),
    ("git_branch_exists", ["checkout", "-b", "main"], "already exists"),
    ("git_revert_missing", ["revert", "nope-blind17"], "nope-blind17"),
    ("git_am_continue_none", ["am", "--continue"], "progress"),
]

SHELL: list[tuple[str, str, str, str]] = [
    ("shell_cp_missing", "filesystem", "No such file", "cp /srv/blind17/a.conf /tmp/"),
    ("shell_printf_number", "validation", "invalid number", "printf '%d\\n' twelve"),
    ("shell_psql_no_table", "programming", "does not exist",
     "psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -c 'select * from nope_blind17'"),
    ("shell_sqlite_syntax", "programming", "syntax error", "sqlite3 :memory: 'selct 1'"),
    ("shell_openssl_bad_pass", "auth", "bad decrypt",
     "echo data | openssl enc -aes-256-cbc -pbkdf2 -pass pass:right -out /tmp/blind17.enc && "
     "openssl enc -d -aes-256-cbc -pbkdf2 -pass pass:wrong -in /tmp/blind17.enc"),
    ("shell_python_emfile", "resource", "Too many open files",
     "ulimit -n 12; PYEXE -c 'import socket; s = [socket.socket() for _ in range(50)]'"),
]


def blind17_records(env: Env) -> list[Record]:
    redis_port = _redis_server(env)
    out = _python_records(_py_cases(env, redis_port))

    def check(name: str, text: str, token: str) -> bool:
        if token.lower() not in text.lower():
            print(f"problem: {name}: not the provoked cause (no {token!r})", file=sys.stderr)
            return False
        return True

    for name, category, token, script in NODE:
        script = script.replace("HANG", str(env.hang_port))
        try:
            text = failure_text(run(["node", "-e", script], cwd=env.tmp))
        except RuntimeError:
            print(f"problem: {name}: no failure", file=sys.stderr)
            continue
        if check(name, text, token):
            out.append(record(text, category, "node-extra15", "stderr", name))
    for rec in java_records(env, JAVA, "java-extra15"):
        if check(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra15_")]):
            out.append(rec)
    repo = env.tmp / "blind17-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)
    run(["git", "commit", "-q", "--allow-empty", "-m", "one"], cwd=repo, env=_GIT_ENV)
    run(["git", "remote", "add", "origin", str(env.tmp / "blind17-remote.git")], cwd=repo, env=_GIT_ENV)
    run(["git", "init", "-q", "--bare", str(env.tmp / "blind17-remote.git")], cwd=env.tmp, env=_GIT_ENV)
    run(["git", "checkout", "-q", "-b", "topic"], cwd=repo, env=_GIT_ENV)
    for name, args, token in GIT:
        proc = run(["git", *args], cwd=repo, env=_GIT_ENV)
        text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
        if not text:
            print(f"problem: {name}: no failure", file=sys.stderr)
        elif check(name, text, token):
            out.append(record(text, "git", "git-extra14", "stderr", name))
    for name, category, token, script in SHELL:
        try:
            text = failure_text(run(["bash", "-c", script.replace("PYEXE", sys.executable)], cwd=env.tmp))
        except RuntimeError:
            print(f"problem: {name}: no failure", file=sys.stderr)
            continue
        if check(name, text, token):
            out.append(record(text, category, "shell-extra14", "stderr", name))
    return out


if __name__ == "__main__":
    write_batch(blind17_records)


__all__ = ["BLIND17_SOURCES", "blind17_records"]
