"""The HTTP clients a `HttpTarget` can send with, each imported only when a run opens the target.

aiohttp is the default: its connection pool hands out idle keep-alive connections in constant time and
its response parser is C, so the generator's own cost stays small next to the latencies it reports.
httpx stays available (the client the rest of recoup uses), at a far lower top rate: its pool (httpcore)
rescans every connection for every queued request (see benchmarks/load_clients.py and docs/LOAD.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recoup.load.http import HttpTarget

__all__ = ["HttpProtocolError", "HttpStatusError", "Send", "open_aiohttp", "open_httpx"]

#: Sends the target's request once; returns the status, raises `HttpStatusError` for >= 400.
Send = Callable[[], Awaitable[int]]

USER_AGENT = "recoup-load"


class HttpStatusError(Exception):
    """An HTTP answer counted as a failure (status >= 400); carries the status for classification."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
        self.status_code = status  # the attribute recoup's classifier reads


class HttpProtocolError(ConnectionError):
    """The server's answer was not HTTP we can read: a ``network`` failure, like a dropped connection."""


@contextlib.asynccontextmanager
async def open_aiohttp(target: HttpTarget, max_in_flight: int, request_timeout: float | None) -> AsyncIterator[Send]:
    """One `aiohttp.ClientSession` for the whole run, its pool sized to ``max_in_flight`` connections.

    Cookies are not kept (every operation is the same independent request) and redirects are not
    followed (a 3xx is the answer counted, as with httpx). A reused keep-alive connection the server had
    closed is retried once by aiohttp for idempotent methods only; a POST on it fails as ``network``.
    """
    import aiohttp
    from yarl import URL

    tls = target.tls_context()
    connector = aiohttp.TCPConnector(limit=max_in_flight, limit_per_host=0, ssl=tls if tls is not None else True)
    session = aiohttp.ClientSession(
        connector=connector,
        # the session's own default is a 5-minute total; the runner's limit (or none) is the only one
        timeout=aiohttp.ClientTimeout(total=request_timeout),
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": USER_AGENT},
    )
    method, text_url, url = target.method.upper(), target.url, URL(target.url)
    headers, body = dict(target.headers), target.body

    async def send() -> int:
        try:
            async with session.request(method, url, headers=headers, data=body, allow_redirects=False) as answer:
                await answer.read()
                status = answer.status
        except aiohttp.ClientResponseError as exc:  # an unreadable answer (bad status line, framing)
            raise HttpProtocolError(f"unreadable HTTP answer from {text_url}: {' '.join(exc.message.split())}") from exc
        if status >= 400:
            raise HttpStatusError(status, text_url)
        return status

    try:
        yield send
    finally:
        await session.close()


@contextlib.asynccontextmanager
async def open_httpx(target: HttpTarget, max_in_flight: int, request_timeout: float | None) -> AsyncIterator[Send]:
    """One `httpx.AsyncClient` for the whole run, its pool sized to ``max_in_flight`` connections."""
    import httpx

    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    tls = target.tls_context()
    async with httpx.AsyncClient(limits=limits, timeout=request_timeout, verify=tls if tls is not None else True,
                                 headers={"User-Agent": USER_AGENT}) as client:
        method, url, headers, body = target.method.upper(), target.url, dict(target.headers), target.body

        async def send() -> int:
            response = await client.request(method, url, headers=headers, content=body)
            await response.aread()
            if response.status_code >= 400:
                raise HttpStatusError(response.status_code, url)
            return response.status_code

        yield send
