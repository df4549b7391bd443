"""Faults of every category, each provoked for real (a refused connection, an HTTP 503, a missing file...).

A fault is *transient* when it clears after `clears_after` failed attempts (the operation then does
its real work and succeeds) and *permanent* when it never clears. The category is the injected
cause, known in advance, so the report can check what recoup did with it.

Every category of the taxonomy is covered: network (a refused connection, and an upstream that
accepts the connection and then never answers, which only a per-attempt `Timeout` ends), service,
resource, filesystem, git, validation, auth, programming, and unknown (a tool that exits non-zero
without saying why).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import aiohttp

from recoup.errors.taxonomy import Category

Provoker = Callable[["FaultContext"], Awaitable[None]]


class HttpGet(Protocol):
    """Fetches `path` from the upstream and raises the client library's own error on a non-2xx answer."""

    name: str

    async def get(self, path: str) -> None: ...


class AiohttpGet:
    """GETs through one aiohttp session (a keep-alive pool): the round trip stays on the event loop, with no
    thread hop, so its latency is the upstream's and the loop's, not a thread pool's queue."""

    name = "aiohttp (async, keep-alive pool)"

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self._base_url = base_url
        self._session = session

    async def get(self, path: str) -> None:
        async with self._session.get(self._base_url + path) as response:
            await response.read()
            response.raise_for_status()  # aiohttp.ClientResponseError: .status and .headers (Retry-After)


class ThreadedUrllibGet:
    """GETs with urllib in the event loop's default executor: the stdlib fallback when aiohttp is missing."""

    name = "urllib in a thread pool"

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url

    async def get(self, path: str) -> None:
        await asyncio.to_thread(_http_get, self._base_url + path)


@dataclass(frozen=True)
class FaultContext:
    """Where the real peers are: a live HTTP server, a loopback port with no listener, and (for the hang
    fault) a port whose listener completes the handshake and never answers (0: none). `http`: how requests
    reach the server (None: urllib in a thread, as `ThreadedUrllibGet`)."""

    base_url: str
    closed_port: int
    scratch_dir: str
    stall_port: int = 0
    http: HttpGet | None = None

    async def get(self, path: str) -> None:
        """One real GET of `path` on the live server; a non-2xx answer raises the client's HTTP error."""
        await (self.http or ThreadedUrllibGet(self.base_url)).get(path)


#: How long the hang fault waits on its own when no Timeout policy ends it first (a read timeout).
HANG_SAFETY_SECONDS = 10.0


class RefusingPort:
    """A loopback port held bound but never listening, for the lifetime of a `with` block: every connection to it
    is refused (RST), and because the port stays taken no other socket can get it meanwhile - neither another
    process's listener nor one of our own connections' ephemeral source ports (a self-connection would succeed)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]

    def __enter__(self) -> RefusingPort:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._sock.close()


class StallingPeer:
    """A loopback port that accepts TCP connections but never reads or answers them.

    The kernel completes each handshake into the listen queue and nobody ever accepts, so a client's
    request is sent and its read waits forever: a real hung upstream, for the lifetime of a `with` block.
    """

    def __init__(self, backlog: int = 4096) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(backlog)
        self.port: int = self._sock.getsockname()[1]

    def __enter__(self) -> StallingPeer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._sock.close()


@dataclass(frozen=True)
class FaultKind:
    """One kind of injected fault: its true category, whether it clears, and how it is provoked."""

    name: str
    category: Category
    transient: bool
    provoke: Provoker


def _http_get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=5) as response:
        response.read()


async def refuse_connection(ctx: FaultContext) -> None:
    _reader, writer = await asyncio.open_connection("127.0.0.1", ctx.closed_port)
    writer.close()


async def _http_status(ctx: FaultContext, status: int, retry_after: str | None = None) -> None:
    query = f"?retry_after={retry_after}" if retry_after is not None else ""
    await ctx.get(f"/status/{status}{query}")


async def _service_503(ctx: FaultContext) -> None:
    await _http_status(ctx, 503, retry_after="0")


async def _service_502(ctx: FaultContext) -> None:
    await _http_status(ctx, 502)


async def _rate_limited_429(ctx: FaultContext) -> None:
    await _http_status(ctx, 429, retry_after="0")


async def _memory(ctx: FaultContext) -> None:
    # Asking for an absurd buffer raises a real MemoryError without allocating anything.
    bytearray(1 << 62)


async def _unauthorized_401(ctx: FaultContext) -> None:
    await _http_status(ctx, 401)


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


async def _missing_file(ctx: FaultContext) -> None:
    _read_text(os.path.join(ctx.scratch_dir, "missing", "state.json"))


async def _bad_json(ctx: FaultContext) -> None:
    json.loads('{"id": 1, "name": ')


async def _attribute_error(ctx: FaultContext) -> None:
    payload: object = None
    payload.upper()  # type: ignore[attr-defined]


async def _upstream_hangs(ctx: FaultContext) -> None:
    """Send a request to a peer that never answers and wait for the reply (a per-attempt Timeout ends it)."""
    if not ctx.stall_port:
        raise RuntimeError("the hang fault needs FaultContext.stall_port (a StallingPeer's port); none was set")
    reader, writer = await asyncio.open_connection("127.0.0.1", ctx.stall_port)
    try:
        writer.write(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(HANG_SAFETY_SECONDS):
            await reader.read(1)
    finally:
        writer.close()
    raise ConnectionResetError("the stalling peer closed the connection without answering")


def _unexplained_failure() -> None:
    # A tool that exits non-zero and prints nothing: the error carries no evidence of its cause.
    command = [shutil.which("false") or sys.executable]
    if command[0] == sys.executable:
        command += ["-S", "-c", "raise SystemExit(1)"]
    subprocess.run(command, check=True, capture_output=True)


async def _unknown(ctx: FaultContext) -> None:
    await asyncio.to_thread(_unexplained_failure)


async def _not_a_repository(ctx: FaultContext) -> None:
    def run() -> None:
        subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ctx.scratch_dir, check=True, capture_output=True, text=True
        )

    await asyncio.to_thread(run)


TRANSIENT_FAULTS: tuple[FaultKind, ...] = (
    FaultKind("connection-refused", Category.NETWORK, True, refuse_connection),
    FaultKind("http-503", Category.SERVICE, True, _service_503),
    FaultKind("http-502", Category.SERVICE, True, _service_502),
    FaultKind("http-429", Category.RESOURCE, True, _rate_limited_429),
    FaultKind("memory-error", Category.RESOURCE, True, _memory),
)

#: Transient faults that only a per-attempt Timeout ends: they need a `StallingPeer` (FaultContext.stall_port)
#: and a timeout around them, so code that provokes faults on their own (tests, the analytics corpus) skips them.
TIMEOUT_FAULTS: tuple[FaultKind, ...] = (FaultKind("upstream-hang", Category.NETWORK, True, _upstream_hangs),)

PERMANENT_FAULTS: tuple[FaultKind, ...] = (
    FaultKind("missing-file", Category.FILESYSTEM, False, _missing_file),
    FaultKind("not-a-git-repository", Category.GIT, False, _not_a_repository),
    FaultKind("bad-json", Category.VALIDATION, False, _bad_json),
    FaultKind("http-401", Category.AUTH, False, _unauthorized_401),
    FaultKind("attribute-error", Category.PROGRAMMING, False, _attribute_error),
    FaultKind("unexplained-exit", Category.UNKNOWN, False, _unknown),
)


async def real_work(ctx: FaultContext) -> None:
    """What an operation does when no fault is in its way: a real HTTP round trip."""
    await ctx.get("/ok")


def scratch_dir() -> str:
    """A fresh folder outside any git repository, for the filesystem and git faults."""
    return tempfile.mkdtemp(prefix="recoup-assess-")


__all__ = [
    "HANG_SAFETY_SECONDS",
    "PERMANENT_FAULTS",
    "TIMEOUT_FAULTS",
    "TRANSIENT_FAULTS",
    "AiohttpGet",
    "FaultContext",
    "FaultKind",
    "HttpGet",
    "RefusingPort",
    "StallingPeer",
    "ThreadedUrllibGet",
    "real_work",
    "refuse_connection",
    "scratch_dir",
]
