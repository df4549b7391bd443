"""Faults provoked over loopback: refused/reset/timed-out sockets, DNS failure, and HTTP errors from urllib
against a short-lived local server that answers the status asked for (with its real headers and body)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer

from recoup.chaos.catalogue import Fault, ProvocationError, acaught, caught
from recoup.errors.taxonomy import Category

__all__ = ["NET_FAULTS", "closed_port"]

_LOOPBACK = "127.0.0.1"


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that is bound but never listens: connecting to it is refused, with no race."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind((_LOOPBACK, 0))
        yield int(holder.getsockname()[1])


@contextlib.contextmanager
def _silent_peer() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(client, server side) of an accepted loopback connection where nobody sends anything."""
    with socket.create_server((_LOOPBACK, 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server_side, _ = listener.accept()
        with client, server_side:
            yield client, server_side


def _refused() -> BaseException:
    with closed_port() as port:
        return caught(lambda: socket.create_connection((_LOOPBACK, port), timeout=5).close())


async def _arefused() -> BaseException:
    async def connect(port: int) -> None:
        _reader, writer = await asyncio.open_connection(_LOOPBACK, port)
        writer.close()

    with closed_port() as port:
        return await acaught(lambda: connect(port))


def _reset() -> BaseException:
    with _silent_peer() as (client, server_side):
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        server_side.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        server_side.close()
        return caught(lambda: client.recv(1))


def _broken_pipe() -> BaseException:
    left, right = socket.socketpair()
    with left:
        right.close()
        return caught(lambda: left.sendall(b"payload"))


def _read_timeout() -> BaseException:
    with _silent_peer() as (client, _server_side):
        client.settimeout(0.005)
        return caught(lambda: client.recv(1))


async def _aread_timeout() -> BaseException:
    async def read_nothing() -> None:
        with socket.create_server((_LOOPBACK, 0)) as listener:
            reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            try:
                await asyncio.wait_for(reader.read(1), 0.005)
            finally:
                writer.close()

    return await acaught(read_nothing)


def _dns_failure() -> BaseException:
    # AI_NUMERICHOST makes the resolver refuse a name without asking any DNS server, with the very
    # error (EAI_NONAME) an unknown host gets, so no network traffic is needed.
    return caught(lambda: socket.getaddrinfo("db.example.invalid", 5432, flags=socket.AI_NUMERICHOST))


def _urlopen_refused() -> BaseException:
    with closed_port() as port:
        return caught(lambda: urllib.request.urlopen(f"http://{_LOOPBACK}:{port}/health", timeout=5).close())


# -- HTTP statuses from a real local server ---------------------------------------------------------------

_HEADERS: dict[int, tuple[tuple[str, str], ...]] = {
    401: (("WWW-Authenticate", 'Bearer realm="api", error="invalid_token"'),),
    407: (("Proxy-Authenticate", 'Basic realm="proxy"'),),
    429: (("Retry-After", "0"),),
    503: (("Retry-After", "0"),),
}


class _StatusHandler(BaseHTTPRequestHandler):
    """Answers ``GET /<status>`` with that status, its reason phrase as a JSON body, and its usual headers."""

    def do_GET(self) -> None:
        status = HTTPStatus(int(self.path.strip("/").split("?")[0]))
        body = json.dumps({"error": status.phrase, "status": status.value}).encode()
        self.send_response(status.value)
        for name, value in _HEADERS.get(status.value, ()):
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr access log."""


def _http_error(status: int) -> BaseException:
    server = HTTPServer((_LOOPBACK, 0), _StatusHandler)
    server.timeout = 5.0  # `handle_request` gives up if the request never comes
    thread = threading.Thread(target=server.handle_request, name="recoup-chaos-http", daemon=True)
    thread.start()  # serves exactly the one request below
    try:
        url = f"http://{_LOOPBACK}:{server.server_port}/{status}"
        error = caught(lambda: urllib.request.urlopen(url, timeout=5).close())
    finally:
        thread.join()
        server.server_close()
    if isinstance(error, urllib.error.HTTPError):
        error.__dict__["_recoup_body"] = error.read()  # kept for the clones' `.read()`
        error.close()
    elif not isinstance(error, OSError):
        raise ProvocationError(f"HTTP {status} from the local server raised {error!r}")
    return error


def _http(category: Category, status: int, transient: bool, what: str) -> Fault:
    phrase = HTTPStatus(status).phrase
    return Fault(
        f"{category.value}.http-{status}",
        category,
        transient,
        urllib.error.HTTPError,
        f"urllib.error.HTTPError {status} {phrase} from a local server ({what})",
        lambda: _http_error(status),
    )


NET_FAULTS: tuple[Fault, ...] = (
    Fault("network.connection-refused", Category.NETWORK, True, ConnectionRefusedError,
          "connect to a loopback port nobody listens on", _refused, _arefused),
    Fault("network.connection-reset", Category.NETWORK, True, ConnectionResetError,
          "read from a connection the peer closed with RST", _reset),
    Fault("network.broken-pipe", Category.NETWORK, True, BrokenPipeError,
          "write to a socket whose peer has gone", _broken_pipe),
    Fault("network.read-timeout", Category.NETWORK, True, TimeoutError,
          "read from a peer that never answers, with a socket timeout (asyncio.wait_for when async)",
          _read_timeout, _aread_timeout),
    Fault("network.dns-failure", Category.NETWORK, True, socket.gaierror,
          "resolve a host name that does not exist (EAI_NONAME)", _dns_failure),
    Fault("network.urlopen-refused", Category.NETWORK, True, urllib.error.URLError,
          "urllib.request.urlopen to a closed loopback port", _urlopen_refused),
    _http(Category.SERVICE, 500, True, "the server failed"),
    _http(Category.SERVICE, 502, True, "a bad gateway"),
    _http(Category.SERVICE, 503, True, "unavailable, Retry-After: 0"),
    _http(Category.SERVICE, 504, True, "a gateway timeout"),
    _http(Category.RESOURCE, 429, True, "rate limited, Retry-After: 0"),
    _http(Category.VALIDATION, 400, False, "the request was malformed"),
    _http(Category.VALIDATION, 422, False, "the payload failed validation"),
    _http(Category.AUTH, 401, False, "missing or expired token"),
    _http(Category.AUTH, 403, False, "access denied"),
    _http(Category.AUTH, 407, False, "proxy authentication required"),
)
