"""`recoup serve` in a child process for the assessment's telemetry: started on a fresh SQLite file and a free
loopback port, ready once ``/readyz`` answers 200, stopped (and its temporary folder removed) on every exit path.

Why its own process: uvicorn in a thread of the assessing process used about as much CPU as the load's event
loop and held the interpreter while doing it, so the load's waits woke late (`benchmarks/assess_breakdown.py`
measures the difference). The child runs `recoup.assess.server_child`, which also stops it if we die.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

_log = logging.getLogger(__name__)

#: Port clashes (another process took the free port between our probe and the server's bind) are retried.
START_ATTEMPTS = 3


class ServerProcessError(RuntimeError):
    """The server process did not become ready; the message carries the end of its stderr."""


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _child_environment(token: str) -> dict[str, str]:
    """Ours without RECOUP_* settings (the server must run as shipped, whatever this shell configured), plus
    the admin token the assessment reads back with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}
    env["RECOUP_ADMIN_TOKEN"] = token
    return env


class ServerProcess:
    """A running ``recoup serve`` for the duration of a ``with`` block (or between `start` and `stop`).

    The database is ``recoup.db`` and the spool ``spool/`` in ``data_dir`` (a temporary folder when None,
    removed at `stop`); the server's stderr goes to ``server-stderr.log`` there.
    """

    def __init__(self, data_dir: Path | None = None, *, host: str = "127.0.0.1", start_timeout: float = 60.0) -> None:
        if start_timeout <= 0:
            raise ValueError(f"start_timeout must be > 0, got {start_timeout!r}")
        self._data_dir = data_dir
        self._host = host
        self._start_timeout = start_timeout
        self._temp_dir: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self.url = ""
        self.admin_token = secrets.token_urlsafe(32)

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def folder(self) -> Path:
        if self._data_dir is not None:
            return self._data_dir
        if self._temp_dir is None:
            raise RuntimeError("the server process was not started")
        return Path(self._temp_dir)

    def start(self) -> ServerProcess:
        """Start the child and wait for ``/readyz``; `ServerProcessError` (with its stderr) if it never answers."""
        if self._proc is not None:
            raise RuntimeError("the server process was already started")
        try:
            if self._data_dir is None:
                self._temp_dir = tempfile.mkdtemp(prefix="recoup-assess-server-")
            self.folder.mkdir(parents=True, exist_ok=True)
            for attempt in range(1, START_ATTEMPTS + 1):
                if self._launch_and_wait() or attempt == START_ATTEMPTS:
                    break
                _log.info("recoup serve lost its port to another process; retrying on a new one")
        except BaseException:
            self.stop()
            raise
        return self

    def _launch_and_wait(self) -> bool:
        """True when ready; False when the port was taken under us (the caller retries); raises otherwise."""
        import httpx

        port = _free_port(self._host)
        folder = self.folder
        command = [
            sys.executable, "-m", "recoup.assess.server_child", str(os.getpid()), "serve",
            "--db", f"sqlite:///{folder / 'recoup.db'}", "--host", self._host, "--port", str(port),
            "--spool-dir", str(folder / "spool"), "--log-level", "warning",
        ]
        self._stderr = open(folder / "server-stderr.log", "wb")  # noqa: SIM115 - closed in _reap
        self._proc = subprocess.Popen(
            command, env=_child_environment(self.admin_token), stdin=subprocess.DEVNULL, stdout=self._stderr,
            stderr=self._stderr,
        )
        self.url = f"http://{self._host}:{port}"
        deadline = time.monotonic() + self._start_timeout
        last = "no answer yet"
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while True:
                try:
                    answer = client.get("/readyz")
                    if answer.status_code == 200:
                        return True
                    last = f"HTTP {answer.status_code} {answer.text[:200]}"
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                code = self._proc.poll()
                if code is not None:
                    output = self._reap()
                    if "address already in use" in output.lower():
                        return False
                    raise ServerProcessError(f"recoup serve exited with code {code} before it was ready: {output}")
                if time.monotonic() > deadline:
                    self._reap()
                    raise ServerProcessError(
                        f"recoup serve was not ready at {self.url}/readyz within {self._start_timeout:g} s "
                        f"(last: {last}): {self._tail()}"
                    )
                time.sleep(0.05)

    def _tail(self, limit: int = 2000) -> str:
        if self._data_dir is None and self._temp_dir is None:
            return ""
        path = self.folder / "server-stderr.log"
        try:
            text = path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError as exc:
            return f"(its stderr could not be read: {exc})"
        return ("…" + text[-limit:] if len(text) > limit else text) or "(nothing on stderr)"

    def _reap(self, timeout: float = 15.0) -> str:
        """Stop the child (SIGTERM, then SIGKILL after ``timeout``), close its log; the log's tail."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _log.warning("recoup serve (pid %d) ignored SIGTERM for %g s: killing it", proc.pid, timeout)
            finally:  # also when interrupted while waiting (Ctrl-C): never leave it running
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        return self._tail()

    def stop(self) -> None:
        """Idempotent: stop the child, remove the temporary folder if we made one."""
        try:
            self._reap()
        finally:
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, onerror=self._log_removal_error)
                self._temp_dir = None

    @staticmethod
    def _log_removal_error(_func: object, path: str, exc_info: object) -> None:
        _log.warning("could not remove %s (the assessment server's temporary folder): %s", path, exc_info)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
