"""Real upstreams on 127.0.0.1 for the fault proxy tests (imported by them and by conftest's fixtures).

Named test_proxy_* so it sits with the proxy tests; it holds no tests itself.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIG_BODY = bytes(range(256)) * 800  # 204,800 bytes


@dataclass
class Upstream:
    port: int
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)  # (method, path, body) that arrived

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextmanager
def http_server() -> Iterator[Upstream]:
    """HTTP/1.1 keep-alive server: /big answers BIG_BODY, anything else ``ok <METHOD> <path>``."""
    upstream = Upstream(0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            upstream.requests.append((self.command, self.path, body))
            payload = BIG_BODY if self.path == "/big" else f"ok {self.command} {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    upstream.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def echo_server() -> Iterator[Upstream]:
    """TCP echo: every byte received is sent back; closes when the client closes."""
    upstream = Upstream(0)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            while True:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                upstream.requests.append(("ECHO", "", data))
                try:
                    sock.sendall(data)
                except OSError:
                    return

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    upstream.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
