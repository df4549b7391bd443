"""A real HTTP server on 127.0.0.1 that records every request and answers from a script."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float  # monotonic

    @property
    def events(self) -> list[dict[str, Any]]:
        payload = json.loads(self.body)
        assert set(payload) == {"events"}
        events: list[dict[str, Any]] = payload["events"]
        return events


@dataclass
class RecordingServer:
    """Answers each request with the next scripted (status, headers), then with `default`.

    `gate`, when cleared, holds every request (after recording it) until it is set again, to make
    the sender's I/O as slow as a test needs without sleeping.
    """

    host: str = "127.0.0.1"
    port: int = 0
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    default: tuple[int, dict[str, str]] = (200, {})
    requests: list[Request] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    cond: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def record(self, request: Request) -> tuple[int, dict[str, str]]:
        with self.cond:
            self.requests.append(request)
            answer = self.script.pop(0) if self.script else self.default
            self.cond.notify_all()
        return answer

    def wait_for(self, *, requests: int | None = None, events: int | None = None, timeout: float = 10.0) -> None:
        """Wait (bounded) until that many requests/events arrived; fail the test otherwise."""

        def done() -> bool:
            if requests is not None and len(self.requests) < requests:
                return False
            return events is None or self.event_count() >= events

        with self.cond:
            assert self.cond.wait_for(done, timeout), f"server saw {len(self.requests)} requests"

    def event_count(self) -> int:
        return sum(len(r.events) for r in self.requests)

    def all_events(self) -> list[dict[str, Any]]:
        return [e for r in self.requests for e in r.events]


def _handler(server: RecordingServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in two writes; avoid the delayed-ACK stall

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status, headers = server.record(
                Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
            )
            server.gate.wait(30)
            reply = b'{"accepted": true}' if status < 300 else b'{"error": "scripted"}'
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def _serve(tls: ssl.SSLContext | None = None) -> Iterator[RecordingServer]:
    recording = RecordingServer()
    recording.gate.set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recording))
    httpd.daemon_threads = True
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    recording.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield recording
    finally:
        recording.gate.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with _serve() as recording:
        yield recording


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, made by the openssl command line."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(self_signed: tuple[Path, Path]) -> Iterator[RecordingServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed)
    with _serve(context) as recording:
        yield recording


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
