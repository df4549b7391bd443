"""An HTTP request as a load target. httpx is imported only when a run opens the target."""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["HttpStatusError", "HttpTarget"]


class HttpStatusError(Exception):
    """An HTTP answer counted as a failure (status >= 400); carries the status for classification."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
        self.status_code = status  # the attribute recoup's classifier reads


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """One request sent again and again: any status >= 400, or a transport error, is a failed operation."""

    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    #: "wire": recoup's lean HTTP/1.1 client (default, see `recoup.load.wire`); "httpx": full-featured.
    client: str = "wire"
    #: TLS: True checks certificates against the system's CAs, a path against that CA bundle, False not at all.
    verify: bool | str = True

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"target URL must be http:// or https:// with a host, got {self.url!r}")
        if not self.method.isalpha():
            raise ValueError(f"HTTP method must be a word such as GET or POST, got {self.method!r}")
        if self.client not in ("wire", "httpx"):
            raise ValueError(f"HTTP client must be 'wire' or 'httpx', got {self.client!r}")
        if isinstance(self.verify, str) and not os.path.isfile(self.verify):
            raise ValueError(f"CA bundle {self.verify!r} is not a readable file")

    def tls_context(self) -> ssl.SSLContext | None:
        """The TLS settings both clients use (None for http://)."""
        if not self.url.lower().startswith("https://"):
            return None
        if self.verify is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=self.verify if isinstance(self.verify, str) else None)

    @contextlib.asynccontextmanager
    async def open(
        self, max_in_flight: int, request_timeout: float | None
    ) -> AsyncIterator[Callable[[], Awaitable[int]]]:
        """A pooled client sized for ``max_in_flight`` and the operation that sends the request once."""
        if self.client == "wire":
            async with self._open_wire() as send_wire:
                yield send_wire
            return
        import httpx

        limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
        tls: ssl.SSLContext | bool = self.tls_context() or True
        async with httpx.AsyncClient(limits=limits, timeout=request_timeout, verify=tls) as client:
            method, url, headers, body = self.method.upper(), self.url, dict(self.headers), self.body

            async def send() -> int:
                response = await client.request(method, url, headers=headers, content=body)
                await response.aread()
                if response.status_code >= 400:
                    raise HttpStatusError(response.status_code, url)
                return response.status_code

            yield send

    @contextlib.asynccontextmanager
    async def _open_wire(self) -> AsyncIterator[Callable[[], Awaitable[int]]]:
        from recoup.load.wire import WireClient

        client = WireClient(self.url, self.method, self.headers, self.body, tls=self.tls_context())
        url = self.url

        async def send() -> int:
            status = await client.send()
            if status >= 400:
                raise HttpStatusError(status, url)
            return status

        try:
            yield send
        finally:
            await client.aclose()
