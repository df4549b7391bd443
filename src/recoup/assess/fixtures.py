"""Real local peers for the assessment: an HTTP server on 127.0.0.1 and a port nobody listens on.

Faults are provoked against these, so every exception the pipeline sees is a real one with the
message a real library produces, not a string we typed. The load phase uses `UpstreamProcess` (the server
in its own process, so it does not compete with the event loop for the GIL); `LocalHTTPServer` (a thread of
this process) serves the phases whose timing does not matter.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

#: The bearer token `/protected` accepts and `/token` hands out (fixed per process, never a real secret).
CURRENT_TOKEN = "assess-" + secrets.token_hex(8)


class _Handler(BaseHTTPRequestHandler):
    """`/status/<code>?retry_after=<s>` answers with that status; `/protected` wants the current bearer
    token (401 otherwise); `/token` hands the current token out; anything else answers 200."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        status = 200
        if parts.path.startswith("/status/"):
            status = int(parts.path.rsplit("/", 1)[1])
        elif parts.path == "/protected" and self.headers.get("Authorization") != f"Bearer {CURRENT_TOKEN}":
            status = 401
        if parts.path == "/token":
            body = CURRENT_TOKEN.encode()
        else:
            body = b'{"ok": true}' if status == 200 else b'{"error": "injected"}'
        self.send_response(status)
        retry_after = parse_qs(parts.query).get("retry_after")
        if retry_after:
            self.send_header("Retry-After", retry_after[0])
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr access log."""


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: with ~100 clients connecting at once the kernel drops SYNs
    # and each dropped client waits for its 1 s SYN retransmission, a latency our own fixture would inject.
    request_queue_size = 1024


class LocalHTTPServer:
    """A threaded HTTP server on an ephemeral loopback port, for the lifetime of a `with` block."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="recoup-assess-http")

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LocalHTTPServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def closed_port() -> int:
    """A loopback port with no listener (bound then released), so connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _answer(target: str, authorization: str | None, token: str) -> tuple[int, bytes, str | None]:
    """The same contract as `_Handler`: (status, body, Retry-After or None) for one request target."""
    parts = urlsplit(target)
    status = 200
    if parts.path.startswith("/status/"):
        tail = parts.path.rsplit("/", 1)[1]
        status = int(tail) if tail.isdigit() and 100 <= int(tail) <= 599 else 400
    elif parts.path == "/protected" and authorization != f"Bearer {token}":
        status = 401
    body = b'{"ok": true}' if status == 200 else b'{"error": "injected"}'
    if parts.path == "/token":
        body = token.encode()
    retry_after = parse_qs(parts.query).get("retry_after")
    return status, body, retry_after[0] if retry_after else None


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests", 502: "Bad Gateway",
            503: "Service Unavailable"}


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, token: str) -> None:
    """HTTP/1.1 with keep-alive: answer requests on this connection until the client closes it."""
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            request = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            if len(request) != 3:
                status, body, retry_after = 400, b'{"error": "bad request line"}', None
            else:
                status, body, retry_after = _answer(request[1], headers.get("authorization"), token)
            length = int(headers.get("content-length", "0") or 0)
            if length:
                await reader.readexactly(length)
            close = headers.get("connection", "").lower() == "close" or request[-1] == "HTTP/1.0"
            out = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", "Content-Type: application/json",
                   f"Content-Length: {len(body)}"]
            if retry_after is not None:
                out.append(f"Retry-After: {retry_after}")
            if close:
                out.append("Connection: close")
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            if close:
                return
    finally:
        writer.close()


async def _serve_until_stdin_closes(token: str) -> None:
    server = await asyncio.start_server(
        lambda r, w: _serve_connection(r, w, token), "127.0.0.1", 0, backlog=4096, reuse_address=True
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"{_READY} {port}\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    # The parent holds our stdin open for as long as it wants us: EOF (its exit, however it happened) ends us.
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()


def upstream_child_main() -> None:
    """Entry point of the upstream's own process (see `UpstreamProcess`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides when we stop
    asyncio.run(_serve_until_stdin_closes(os.environ.get(_TOKEN_ENV, CURRENT_TOKEN)))


_READY = "recoup-upstream-listening"
_TOKEN_ENV = "RECOUP_ASSESS_UPSTREAM_TOKEN"


class UpstreamError(RuntimeError):
    """The upstream's process did not start listening; the message carries what it printed."""


class UpstreamProcess:
    """The same HTTP contract as `LocalHTTPServer`, served by an asyncio server in its OWN process.

    Why: an in-process threaded server shares the GIL with the event loop that drives the operations, so
    every round trip waits for the interpreter, and the assessment would time our fixture instead of recoup.
    The child binds an ephemeral loopback port and prints it; it exits when its stdin closes, so it cannot
    outlive us even if we are killed; `__exit__` also terminates it and waits.
    """

    def __init__(self, start_timeout: float = 15.0, executable: str = sys.executable) -> None:
        self.start_timeout = start_timeout
        self.executable = executable
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def __enter__(self) -> UpstreamProcess:
        code = "from recoup.assess.fixtures import upstream_child_main; upstream_child_main()"
        env = {**os.environ, _TOKEN_ENV: CURRENT_TOKEN}
        self._proc = subprocess.Popen(
            [self.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env,
        )
        try:
            self.port = self._read_port(self._proc)
        except BaseException:
            self._stop()
            raise
        return self

    def _read_port(self, proc: subprocess.Popen[bytes]) -> int:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], self.start_timeout)
        line = proc.stdout.readline().decode(errors="replace").strip() if ready else ""
        word, _, port = line.partition(" ")
        if word != _READY or not port.isdigit():
            proc.kill()
            _out, err = proc.communicate(timeout=5)
            raise UpstreamError(
                f"the upstream process (pid {proc.pid}) did not report its port within {self.start_timeout:.0f} s "
                f"(exit code {proc.returncode}; said {line!r}; stderr: {err.decode(errors='replace')[-800:]!r})"
            )
        return int(port)

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()
