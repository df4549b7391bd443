"""Handle on the real HTTP server process the load tests run against (see serve_http.py)."""

from __future__ import annotations

import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVER = Path(__file__).with_name("serve_http.py")


@dataclass
class LocalServer:
    url: str
    tls: ssl.SSLContext | None = None  # trusts an HTTPS server's own certificate, for the control requests

    def stall(self, start: float, end: float) -> None:
        """Requests arriving in [start, end) (time.monotonic) wait until ``end``."""
        with urllib.request.urlopen(f"{self.url}/stall?start={start}&end={end}", timeout=5,
                                    context=self.tls) as answer:
            answer.read()

    def hits(self) -> int:
        """Requests answered (control requests aside)."""
        return self._count("hits")

    def connections(self) -> int:
        """Connections accepted, control requests' own included."""
        return self._count("connections")

    def _count(self, name: str) -> int:
        with urllib.request.urlopen(f"{self.url}/{name}", timeout=5, context=self.tls) as answer:
            return int(answer.read())


@contextmanager
def running_server(tls: tuple[Path, Path] | None = None) -> Iterator[LocalServer]:
    """The server process; ``tls=(cert, key)`` serves HTTPS."""
    extra = ["--tls", str(tls[0]), str(tls[1])] if tls else []
    process = subprocess.Popen([sys.executable, str(SERVER), *extra], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        trust = ssl.create_default_context(cafile=str(tls[0])) if tls else None
        yield LocalServer(f"{'https' if tls else 'http'}://127.0.0.1:{port}", trust)
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
