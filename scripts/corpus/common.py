"""Shared pieces of the corpus provokers: records, local servers and helpers.

Every failure in the corpus is provoked for real against components on 127.0.0.1 (HTTP servers started
here, closed ports, PostgreSQL, Redis, MariaDB, git, curl, node, java, go). The label of a record is the
category of the cause we provoked, following shared/TAXONOMY.md, never something read back from the text.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Record = dict[str, str]


def record(text: str, category: str, source: str, kind: str, provoker: str, **extra: str) -> Record:
    """One corpus line; `category` is the label of the cause we provoked."""
    rec = {"text": text, "category": category, "source": source, "kind": kind, "provoker": provoker}
    rec.update(extra)
    return rec


def qualname_of(exc: BaseException) -> str:
    """`module.Qualname` of the exception type, as a log would print it."""
    klass = type(exc)
    return klass.__qualname__ if klass.__module__ == "builtins" else f"{klass.__module__}.{klass.__qualname__}"


_HARNESS = f"{os.sep}scripts{os.sep}corpus{os.sep}"


def _without_harness_frames(exc: BaseException) -> str:
    """The traceback as a user would see it: the frames of this harness (checked.py, the provoker scripts) go,
    because their quoted source lines hold case tuples that can name the category (tests/corpus/README.md)."""
    lines: list[str] = []
    for block in traceback.TracebackException.from_exception(exc).format():
        if block.startswith('  File "') and _HARNESS in block.split('"', 2)[1]:
            continue
        lines.append(block)
    return "".join(lines)


def exception_records(exc: BaseException, category: str, source: str, provoker: str) -> list[Record]:
    """Two views of one real exception: the full traceback and the one-line `Type: message` form."""
    tb = _without_harness_frames(exc)
    line = traceback.format_exception_only(exc)[-1].strip()
    exc_type = qualname_of(exc)
    return [
        record(tb, category, source, "traceback", provoker, exc_type=exc_type),
        record(line, category, source, "exception", provoker, exc_type=exc_type),
    ]


# --------------------------------------------------------------------------- local servers


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    """`/status/NNN` answers NNN (with Retry-After on 429/503); `/slow` waits 5 s; `/ok` answers 200."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self) -> None:
        if self.path.startswith("/slow"):
            time.sleep(5)
        status = 200
        if self.path.startswith("/status/"):
            status = int(self.path.split("/")[2].split("?")[0])
        body = b'{"detail": "from the local corpus server"}'
        self.send_response(status)
        if status in (429, 503):
            self.send_header("Retry-After", "7")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="corpus"')
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer
    do_HEAD = _answer


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def _serve_raw(sock: socket.socket, mode: str, stop: threading.Event) -> None:
    """Accept connections and misbehave: `reset` (RST), `close` (half a response then FIN), `hang`."""
    sock.settimeout(0.2)
    held: list[socket.socket] = []
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except (TimeoutError, OSError):
            continue
        if mode == "reset":
            with contextlib.suppress(OSError):
                conn.settimeout(0.5)
                conn.recv(4096)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        elif mode == "close":
            with contextlib.suppress(OSError):
                conn.settimeout(0.5)
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
            conn.close()
        elif mode == "empty":
            with contextlib.suppress(OSError):
                conn.settimeout(0.5)
                conn.recv(4096)
            conn.close()
        else:  # hang: keep the connection open and never answer
            held.append(conn)
    for conn in held:
        conn.close()


@dataclass
class Env:
    """Ports and paths of the local components the provokers fail against."""

    tmp: Path
    http_port: int = 0
    closed_port: int = 0
    reset_port: int = 0
    close_port: int = 0
    empty_port: int = 0
    hang_port: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def url(self, status: int) -> str:
        return f"{self.http}/status/{status}"

    def close(self) -> None:
        self._stop.set()
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                closer()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextlib.contextmanager
def local_env() -> Iterator[Env]:
    """Start the local HTTP and misbehaving TCP servers; stop them on exit."""
    tmp = Path(tempfile.mkdtemp(prefix="recoup-corpus-"))
    env = Env(tmp=tmp)
    server = _QuietServer(("127.0.0.1", 0), _StatusHandler)
    env.http_port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.shutdown)
    env._closers.append(server.server_close)
    for mode in ("reset", "close", "empty", "hang"):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        setattr(env, f"{mode}_port", sock.getsockname()[1])
        threading.Thread(target=_serve_raw, args=(sock, mode, env._stop), daemon=True).start()
        env._closers.append(sock.close)
    env.closed_port = free_port()
    env._closers.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    try:
        yield env
    finally:
        env.close()


def run(
    argv: Sequence[str], cwd: Path | None = None, timeout: float = 60, **kw: Any
) -> subprocess.CompletedProcess[str]:
    """Run a real tool and capture its output (never raises on a non-zero exit)."""
    environment = dict(os.environ, LC_ALL="C.UTF-8", GIT_TERMINAL_PROMPT="0")
    environment.update(kw.pop("env", {}))
    return subprocess.run(
        list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment, check=False, **kw
    )


def failure_text(proc: subprocess.CompletedProcess[str]) -> str:
    """What a tool printed when it failed: stderr, or stdout when stderr is empty."""
    if proc.returncode == 0:
        raise RuntimeError(f"expected a failure from {proc.args!r}, got exit 0: {proc.stdout[:200]}")
    text = proc.stderr.strip() or proc.stdout.strip()
    return text


# --------------------------------------------------------------------------- batch loops the provokers share


def python_case_records(cases: Iterable[tuple[str, str, str, Callable[[], Any]]]) -> list[Record]:
    """Run each (name, category, source, fn): its real exception becomes two records; a case that does
    not fail is reported on stderr, never recorded."""
    out: list[Record] = []
    for name, category, source, fn in cases:
        try:
            fn()
        except BaseException as exc:  # the real exception, whatever it is
            out.extend(exception_records(exc, category, source, name))
        else:
            print(f"problem: {name}: no failure", file=sys.stderr)
    return out


def git_failure_records(
    cases: Iterable[tuple[str, Sequence[str]]],
    repo: Path,
    source: str,
    git_env: dict[str, str],
    before: Callable[[str], None] | None = None,
) -> list[Record]:
    """Run ``git ARGS`` in ``repo`` for each (name, args) and record what a failing one printed;
    ``before(name)`` can set the repository up for one case."""
    out: list[Record] = []
    for name, args in cases:
        if before is not None:
            before(name)
        proc = run(["git", *args], cwd=repo, env=git_env)
        text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
        if text:
            out.append(record(text, "git", source, "stderr", name))
        else:
            print(f"problem: {name}: no failure", file=sys.stderr)
    return out


def shell_failure_records(
    scripts: Iterable[tuple[str, str, str]], cwd: Path, source: str, prepare: Callable[[str], str] = str
) -> list[Record]:
    """Run each (name, category, script) with bash (``prepare`` fills its placeholders) and record what it
    printed when it failed; a harness problem (no failure, a timeout, an OS error) is reported on stderr."""
    out: list[Record] = []
    for name, category, script in scripts:
        try:
            text = failure_text(run(["bash", "-c", prepare(script)], cwd=cwd, timeout=60))
        except (RuntimeError, OSError) as harness:
            print(f"problem: {name}: {type(harness).__name__}", file=sys.stderr)
            continue
        if text:
            out.append(record(text, category, source, "stderr", name))
    return out


def node_script_records(env: Env, cases: Iterable[tuple[str, str, str]], source: str) -> list[Record]:
    """Run each ``(name, category, script)`` with ``node -e`` (as an ES module when it awaits), with HTTPURL and
    CLOSED standing for the local HTTP server and a closed port; a script that does not fail is reported and
    skipped."""
    out: list[Record] = []
    for name, category, script in cases:
        flags = ["--input-type=module"] if "await" in script else []
        script = script.replace("HTTPURL", env.http).replace("CLOSED", str(env.closed_port))
        try:
            text = failure_text(run(["node", *flags, "-e", script], cwd=env.tmp))
        except RuntimeError:
            print(f"problem: {name}: no failure", file=sys.stderr)
            continue
        out.append(record(text, category, source, "stderr", name))
    return out


def git_env(tag: str) -> dict[str, str]:
    """A git environment with a fixed identity and no system or user config (HOME points nowhere)."""
    return {"GIT_AUTHOR_NAME": "C", "GIT_AUTHOR_EMAIL": "c@example.org", "GIT_COMMITTER_NAME": "C",
            "GIT_COMMITTER_EMAIL": "c@example.org", "GIT_CONFIG_NOSYSTEM": "1", "HOME": f"/nonexistent-home-{tag}"}


def write_batch(make_records: Callable[[Env], list[Record]]) -> None:
    """``python blindN_provokers.py OUT``: write the batch to OUT without printing any of its text (the
    blind score must not see it first), only how many records there are."""
    import json

    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    with local_env() as environment:
        recs = make_records(environment)
    Path(sys.argv[1]).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    print(f"{len(recs)} records")
