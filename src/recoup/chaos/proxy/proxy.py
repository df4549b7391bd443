"""`FaultProxy`: one listening TCP port forwarded to one upstream, with toxics applied to its connections.

Asyncio and the stdlib only. Every method runs on the proxy's event loop (use `ProxyServer` to drive it
from other threads); toxic changes are plain synchronous calls so they take effect before the next chunk.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from recoup.chaos.proxy.errors import (
    AddressInUse,
    BadRequest,
    ToxicExists,
    ToxicNotFound,
    format_address,
    parse_address,
)
from recoup.chaos.proxy.link import Endpoint, Link
from recoup.chaos.proxy.toxics import Toxic
from recoup.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger("recoup.chaos.proxy")

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


def check_proxy_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise BadRequest(f"proxy name {name!r} must be 1-100 characters of letters, digits, '_', '.', '-'")
    return name


class FaultProxy:
    """Forwards ``listen`` to ``upstream``; ``enabled=False`` is toxiproxy's "down" (refuse and drop)."""

    def __init__(
        self,
        name: str,
        listen: str = "127.0.0.1:0",
        upstream: str = "127.0.0.1:5432",
        *,
        enabled: bool = True,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self.name = check_proxy_name(name)
        self._listen = parse_address(listen, "listen")
        self._upstream = parse_address(upstream, "upstream")
        self._enabled = enabled
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.rng = rng or random.Random()
        self.connect_timeout = connect_timeout
        self._toxics: list[Toxic] = []
        self._server: asyncio.Server | None = None
        self._links: set[Link] = set()
        self._dialling: set[asyncio.Task[None]] = set()
        self._started = False
        #: connections accepted since start (including ones whose upstream could not be reached)
        self.accepted = 0

    # -- addresses and state -----------------------------------------------------------------------

    @property
    def listen_address(self) -> str:
        """The real ``host:port`` (the port the OS picked when ``listen`` asked for port 0)."""
        return format_address(*self._listen)

    @property
    def upstream(self) -> str:
        return format_address(*self._upstream)

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def toxics(self) -> Sequence[Toxic]:
        return tuple(self._toxics)

    @property
    def connections(self) -> int:
        return len(self._links)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen_address,
            "upstream": self.upstream,
            "enabled": self._enabled,
            "toxics": [toxic.to_json() for toxic in self._toxics],
        }

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> FaultProxy:
        self._started = True
        if self._enabled:
            await self._open()
        return self

    async def stop(self) -> None:
        self._started = False
        await self._shut()

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def set_enabled(self, enabled: bool) -> None:
        """Disabling closes the listener (new connections are refused) and every open connection."""
        if enabled == self._enabled:
            return
        self._enabled = enabled
        if not self._started:
            return
        if enabled:
            await self._open()
        else:
            await self._shut()

    async def update(self, fields: Mapping[str, Any]) -> None:
        """toxiproxy's proxy update: ``listen``/``upstream`` restart it (dropping connections), ``enabled`` too."""
        unknown = set(fields) - {"name", "listen", "upstream", "enabled"}
        if unknown:
            raise BadRequest(f"unknown proxy field(s): {', '.join(sorted(unknown))}")
        if "name" in fields and fields["name"] != self.name:
            raise BadRequest(f"a proxy's name cannot change ({self.name!r} -> {fields['name']!r}); delete it instead")
        listen = parse_address(fields["listen"], "listen") if "listen" in fields else self._listen
        upstream = parse_address(fields["upstream"], "upstream") if "upstream" in fields else self._upstream
        enabled = fields.get("enabled", self._enabled)
        if not isinstance(enabled, bool):
            raise BadRequest(f"enabled must be true or false, got {enabled!r}")
        if listen != self._listen or upstream != self._upstream:
            await self._shut()
            self._listen, self._upstream = listen, upstream
            self._enabled = enabled
            if self._started and enabled:
                await self._open()
        else:
            await self.set_enabled(enabled)

    async def _open(self) -> None:
        host, port = self._listen
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(lambda: Endpoint("upstream", self._accepted), host, port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise AddressInUse(f"listen address {self.listen_address} is already in use") from None
            raise BadRequest(f"cannot listen on {self.listen_address}: {exc.strerror or exc}") from None
        sockname = self._server.sockets[0].getsockname()
        self._listen = (host, int(sockname[1]))  # keep the real port so re-enabling binds the same one
        log.info("proxy %s listening on %s -> %s", self.name, self.listen_address, self.upstream)

    async def _shut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for link in list(self._links):
            link.close()
        dialling = list(self._dialling)
        for task in dialling:
            task.cancel()
        if dialling:
            await asyncio.wait(dialling)
        if server is not None:
            await server.wait_closed()

    def _accepted(self, client: Endpoint) -> None:
        """A client connected: hold its data until the upstream answers, then join the two."""
        self.accepted += 1
        assert client.transport is not None
        client.transport.pause_reading()
        task = asyncio.get_running_loop().create_task(self._dial(client))
        self._dialling.add(task)
        task.add_done_callback(self._dialling.discard)

    async def _dial(self, client: Endpoint) -> None:
        assert client.transport is not None
        host, port = self._upstream
        loop = asyncio.get_running_loop()
        try:
            _, upstream = await asyncio.wait_for(
                loop.create_connection(lambda: Endpoint("downstream"), host, port), self.connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            log.warning("proxy %s: upstream %s unreachable (%s); closing the client", self.name, self.upstream, exc)
            client.transport.close()
            return
        except asyncio.CancelledError:
            client.transport.close()
            raise
        if client.transport.is_closing():  # the client left (or the proxy was disabled) while we dialled
            if upstream.transport is not None:
                upstream.transport.close()
            return
        link = Link(self, client, upstream)
        self._links.add(link)
        link.pause("upstream", "connecting")
        link.start()

    def _forget(self, link: Link) -> None:
        self._links.discard(link)

    # -- toxics (call on the proxy's loop) ---------------------------------------------------------

    def toxic(self, name: str) -> Toxic:
        for toxic in self._toxics:
            if toxic.name == name:
                return toxic
        raise ToxicNotFound(name)

    def add_toxic(self, toxic: Toxic) -> Toxic:
        if any(existing.name == toxic.name for existing in self._toxics):
            raise ToxicExists(toxic.name)
        self._toxics.append(toxic)
        self._changed()
        return toxic

    def update_toxic(self, name: str, fields: Mapping[str, Any]) -> Toxic:
        old = self.toxic(name)
        new = old.updated(fields)
        self._toxics[self._toxics.index(old)] = new
        self._changed()
        return new

    def remove_toxic(self, name: str) -> None:
        self._toxics.remove(self.toxic(name))
        self._changed()

    def reset_toxics(self) -> None:
        self._toxics.clear()
        self._changed()

    def _changed(self) -> None:
        for link in list(self._links):
            link.refresh()
