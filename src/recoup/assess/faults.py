"""Faults of every category, each provoked for real (a refused connection, an HTTP 503, a missing file...).

A fault is *transient* when it clears after `clears_after` failed attempts (the operation then does
its real work and succeeds) and *permanent* when it never clears. The category is the injected
cause, known in advance, so the report can check what recoup did with it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from recoup.errors.taxonomy import Category

Provoker = Callable[["FaultContext"], Awaitable[None]]


@dataclass(frozen=True)
class FaultContext:
    """Where the real peers are: a live HTTP server and a loopback port with no listener."""

    base_url: str
    closed_port: int
    scratch_dir: str


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
    await asyncio.to_thread(_http_get, f"{ctx.base_url}/status/{status}{query}")


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

PERMANENT_FAULTS: tuple[FaultKind, ...] = (
    FaultKind("missing-file", Category.FILESYSTEM, False, _missing_file),
    FaultKind("not-a-git-repository", Category.GIT, False, _not_a_repository),
    FaultKind("bad-json", Category.VALIDATION, False, _bad_json),
    FaultKind("http-401", Category.AUTH, False, _unauthorized_401),
    FaultKind("attribute-error", Category.PROGRAMMING, False, _attribute_error),
)


async def real_work(ctx: FaultContext) -> None:
    """What an operation does when no fault is in its way: a real HTTP round trip."""
    await asyncio.to_thread(_http_get, f"{ctx.base_url}/ok")


def scratch_dir() -> str:
    """A fresh folder outside any git repository, for the filesystem and git faults."""
    return tempfile.mkdtemp(prefix="recoup-assess-")


__all__ = [
    "PERMANENT_FAULTS",
    "TRANSIENT_FAULTS",
    "FaultContext",
    "FaultKind",
    "real_work",
    "refuse_connection",
    "scratch_dir",
]
