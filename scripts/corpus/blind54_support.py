"""Harness pieces of batch 54 (data tooling, Python side): a cause check on the failure's own message, cases run
as the unprivileged user `nobody` in a forked child, a second process that holds a file lock, a local HTTP gateway
answering one chosen status, and a local-only Spark session whose JVM prints nothing. Only 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.server
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from checked import PyCase, python_records
from common import Env, Record

NOBODY = 65534


class WrongCause(Exception):
    """Raised in place of a failure whose message lacks its cause's token, so the cause check drops the case."""


def expect(token: str, fn: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``fn``; let its failure through only when its message names the provoked cause (`A|B`: either)."""

    def guarded() -> Any:
        try:
            return fn()
        except Exception as exc:
            message = str(exc).lower()
            if not any(t.lower() in message for t in token.split("|")):
                raise WrongCause(f"no {token!r}") from None
            raise

    return guarded


def shared_dir(env: Env, name: str) -> Path:
    """A directory that `nobody` may enter and read but not write (the batch's own tmp is private to root)."""
    path = Path(tempfile.mkdtemp(prefix=f"recoup-corpus-{name}-"))
    path.chmod(0o755)
    env._closers.append(lambda: shutil.rmtree(path, ignore_errors=True))
    return path


def as_nobody(cases: list[PyCase]) -> list[Record]:
    """Each case in a forked child that dropped root for `nobody`; its records come back through a pipe."""
    out: list[Record] = []
    for case in cases:
        sys.stderr.flush()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: drop privileges, provoke, send the records, leave without cleanup handlers
            os.close(read)
            payload = b"[]"
            try:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                payload = json.dumps(python_records([case])).encode()
            finally:
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(payload)
                sys.stderr.flush()
                os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        out.extend(json.loads(data or b"[]"))
    return out


@contextlib.contextmanager
def holder(script: str, path: Path) -> Iterator[None]:
    """A second Python process that opens ``path`` with ``script`` (which prints `ok` once it holds it) and
    keeps it until the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        yield
    finally:
        proc.kill()
        proc.wait(timeout=10)


def status_gateway(env: Env, status: int, body: bytes, content_type: str = "application/json") -> int:
    """A local HTTP server answering every request with ``status`` and ``body``; returns its port."""

    class _Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = _answer
        do_PUT = _answer
        do_POST = _answer
        do_HEAD = _answer

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    port: int = server.server_address[1]
    return port


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the block: native code (the JVM a session starts, c10d's retry
    log) writes there directly, and the batch must print nothing but its count."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def spark_session(env: Env, jars: str) -> Any:
    """A local[1] SparkSession bound to 127.0.0.1 with its scratch and warehouse dirs in the batch's tmp; the JVM
    is started with its stderr on /dev/null and Python logging is off, so the batch prints nothing."""
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    logging.disable(logging.CRITICAL)  # pyspark's JSON loggers (SQLQueryContextLogger and kin) write to stderr
    from pyspark.sql import SparkSession

    with quiet_stderr():
        session = (SparkSession.builder.master("local[1]").appName("recoup-b54")
                   .config("spark.ui.enabled", "false")
                   .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.local.dir", str(env.tmp / "spark-local"))
                   .config("spark.sql.warehouse.dir", str(env.tmp / "spark-warehouse"))
                   .config("spark.jars", jars).config("spark.driver.extraClassPath", jars)
                   .getOrCreate())
        session.sparkContext.setLogLevel("OFF")
    return session


__all__ = ["NOBODY", "WrongCause", "as_nobody", "expect", "holder", "quiet_stderr", "shared_dir", "spark_session",
           "status_gateway"]
