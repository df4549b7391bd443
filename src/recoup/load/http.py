"""An HTTP request as a load target. The client library (aiohttp or httpx) is imported only when a run
opens the target (see `recoup.load.http_clients`)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from recoup.load.http_clients import HttpProtocolError, HttpStatusError, Send, open_aiohttp, open_httpx

__all__ = ["CLIENTS", "HttpProtocolError", "HttpStatusError", "HttpTarget"]

#: The HTTP clients a target can send with; the first is the default.
CLIENTS = ("aiohttp", "httpx")
_INSTALL = {"aiohttp": "pip install 'recoup[load]'", "httpx": "pip install httpx"}


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """One request sent again and again: any status >= 400, or a transport error, is a failed operation."""

    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    #: "aiohttp" (default, the fastest pool) or "httpx" (a far lower top rate; see `recoup.load.http_clients`).
    client: str = "aiohttp"
    #: TLS: True checks certificates against the system's CAs, a path against that CA bundle, False not at all.
    verify: bool | str = True

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"target URL must be http:// or https:// with a host, got {self.url!r}")
        if not self.method.isalpha():
            raise ValueError(f"HTTP method must be a word such as GET or POST, got {self.method!r}")
        if self.client not in CLIENTS:
            raise ValueError(f"HTTP client must be 'aiohttp' or 'httpx', got {self.client!r}")
        if importlib.util.find_spec(self.client) is None:  # said now, not as an ImportError once the run began
            raise ValueError(f"HTTP client {self.client!r} is not installed: {_INSTALL[self.client]}")
        if isinstance(self.verify, str) and not os.path.isfile(self.verify):
            raise ValueError(f"CA bundle {self.verify!r} is not a readable file")

    def tls_context(self) -> ssl.SSLContext | None:
        """The TLS settings every client uses (None for http://)."""
        if not self.url.lower().startswith("https://"):
            return None
        if self.verify is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=self.verify if isinstance(self.verify, str) else None)

    @contextlib.asynccontextmanager
    async def open(self, max_in_flight: int, request_timeout: float | None) -> AsyncIterator[Send]:
        """A pooled client sized for ``max_in_flight`` and the operation that sends the request once."""
        opener = open_aiohttp if self.client == "aiohttp" else open_httpx
        async with opener(self, max_in_flight, request_timeout) as send:
            yield send
