"""A lean HTTP/1.1 client on asyncio streams: the load runner's default way to send requests.

Why not httpx here: a load generator's own cost is part of every latency it reports. httpx's pool
(httpcore) rescans every connection for every queued request, so at a few hundred requests in flight
the generator itself falls behind its schedule; this client keeps a stack of idle keep-alive
connections and does the least work per request. It speaks plain HTTP/1.1 (Content-Length or chunked
bodies, keep-alive, ``Connection: close``) over TCP or TLS; use httpx (``client="httpx"``) for anything
more (HTTP/2, proxies, redirects, cookies).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["HttpProtocolError", "WireClient"]

_NO_BODY_STATUSES = frozenset({204, 304})


class HttpProtocolError(ConnectionError):
    """The server's answer was not HTTP/1.x we can read (a network-category failure)."""


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


class WireClient:
    """Sends one fixed request to one origin, reusing idle connections (last in, first out)."""

    def __init__(self, url: str, method: str = "GET", headers: Mapping[str, str] | None = None,
                 body: bytes | None = None, tls: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"URL must be http:// or https:// with a host, got {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self.ssl = tls or ssl.create_default_context()
        self.method = method.upper()
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        default_port = (parts.scheme == "https" and self.port == 443) or (parts.scheme == "http" and self.port == 80)
        host_header = self.host if default_port else f"{self.host}:{self.port}"
        if ":" in self.host and not default_port:  # IPv6 literal
            host_header = f"[{self.host}]:{self.port}"
        lines = [f"{self.method} {path} HTTP/1.1", f"Host: {host_header}", "User-Agent: recoup-load"]
        given = {name.lower() for name in (headers or {})}
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if (body is not None or self.method in ("POST", "PUT", "PATCH")) and "content-length" not in given:
            lines.append(f"Content-Length: {len(body or b'')}")
        self._request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        self._idle: list[_Connection] = []
        self._closed = False

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self.ssl, limit=1 << 20)
        return _Connection(reader, writer)

    async def send(self) -> int:
        """Send the request; return the status once the whole body has been read."""
        reused = bool(self._idle)
        conn = self._idle.pop() if reused else await self._connect()
        try:
            try:
                status, keep = await self._exchange(conn)
            except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
                if not reused:
                    raise
                # the server closed an idle keep-alive connection: the request never arrived, send it again
                conn.close()
                conn = await self._connect()
                status, keep = await self._exchange(conn)
        except BaseException:
            conn.close()  # a half-read answer (or a cancellation mid-way) leaves the connection unusable
            raise
        if keep and not self._closed:
            self._idle.append(conn)
        else:
            conn.close()
        return status

    async def _exchange(self, conn: _Connection) -> tuple[int, bool]:
        conn.writer.write(self._request)
        await conn.writer.drain()
        reader = conn.reader
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            status, version_11, headers = _parse_head(head)
            if not 100 <= status < 200 or status == 101:
                break  # 1xx interim answers are followed by the real one
        connection = headers.get("connection", "").lower()
        keep = (version_11 and connection != "close") or connection == "keep-alive"
        if self.method == "HEAD" or status in _NO_BODY_STATUSES:
            return status, keep
        if "chunked" in headers.get("transfer-encoding", "").lower():
            await _skip_chunked(reader)
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise HttpProtocolError(f"bad Content-Length {headers['content-length']!r}") from None
            if length:
                await reader.readexactly(length)
        else:
            await reader.read()  # the body runs to the end of the connection
            keep = False
        return status, keep

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        for conn in idle:
            with contextlib.suppress(ConnectionError, ssl.SSLError):  # the peer had gone: nothing to release
                await conn.writer.wait_closed()


def _parse_head(head: bytes) -> tuple[int, bool, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), parts[0] == "HTTP/1.1", headers


async def _skip_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HttpProtocolError(f"bad chunk size line {size_line[:40]!r}") from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers end with an empty line
                pass
            return
        await reader.readexactly(size + 2)
