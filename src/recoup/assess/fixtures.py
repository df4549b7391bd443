"""Real local peers for the assessment: an HTTP server on 127.0.0.1 and a port nobody listens on.

Faults are provoked against these, so every exception the pipeline sees is a real one with the
message a real library produces, not a string we typed.
"""

from __future__ import annotations

import secrets
import socket
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
