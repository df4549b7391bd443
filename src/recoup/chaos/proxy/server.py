"""`ProxyServer`: a set of named fault proxies on a private event loop in a background thread.

Synchronous code (tests, scripts, the control API's request threads) drives the proxies through it; each
call hops onto the loop and waits for the answer, so every change is applied before the call returns.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from recoup.chaos.proxy.errors import BadRequest, ProxyExists, ProxyNotFound, format_address, parse_address
from recoup.chaos.proxy.proxy import FaultProxy, check_proxy_name
from recoup.chaos.proxy.toxics import Toxic
from recoup.clock import Clock

T = TypeVar("T")

CALL_TIMEOUT = 30.0


class ProxyServer:
    """Named proxies on one loop thread. Use as a context manager, or `start()` / `stop()`."""

    def __init__(self, *, clock: Clock | None = None, rng: random.Random | None = None) -> None:
        self.clock = clock
        self.rng = rng or random.Random()
        self._proxies: dict[str, FaultProxy] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> ProxyServer:
        if self._thread is not None:
            return self
        ready = threading.Event()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="recoup-fault-proxy", daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def stop(self) -> None:
        """Close every proxy and connection, then end the loop thread."""
        if self._thread is None or self._loop is None:
            return
        self._run(self._stop_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=CALL_TIMEOUT)
        self._thread = None
        self._loop = None

    def __enter__(self) -> ProxyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _stop_all(self) -> None:
        for proxy in list(self._proxies.values()):
            await proxy.stop()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the ProxyServer is not started (call start() or use it in a with block)")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CALL_TIMEOUT)

    def _call(self, fn: Callable[[], T]) -> T:
        async def call() -> T:
            return fn()

        return self._run(call())

    # -- proxies ------------------------------------------------------------------------------------

    def create_proxy(
        self, name: str, listen: str = "127.0.0.1:0", upstream: str = "127.0.0.1:5432", *, enabled: bool = True
    ) -> ProxyHandle:
        """Create and start a proxy (409 `ProxyExists` if the name is taken)."""
        self._run(self._create(name, listen, upstream, enabled))
        return ProxyHandle(self, name)

    async def _create(self, name: str, listen: str, upstream: str, enabled: bool) -> FaultProxy:
        if name in self._proxies:
            raise ProxyExists(name)
        proxy = FaultProxy(name, listen, upstream, enabled=enabled, clock=self.clock, rng=self.rng)
        await proxy.start()
        self._proxies[name] = proxy
        return proxy

    def populate(self, entries: Sequence[object]) -> list[dict[str, Any]]:
        """toxiproxy's /populate: create each proxy, or replace it when its listen/upstream differ.

        Our extension: an entry may carry ``toxics`` (a list of toxic JSON objects) which replace its toxics.
        """
        return self._run(self._populate(entries))

    async def _populate(self, entries: Sequence[object]) -> list[dict[str, Any]]:
        checked = [_check_entry(entry, index) for index, entry in enumerate(entries)]
        result = []
        for entry, toxics in checked:
            name = entry["name"]
            existing = self._proxies.get(name)
            if existing is not None:
                same = existing.upstream == format_address(*parse_address(entry["upstream"], "upstream")) and (
                    _same_listen(entry.get("listen"), existing.listen_address)
                )
                if same:
                    await existing.set_enabled(entry.get("enabled", True))
                else:
                    await existing.stop()
                    del self._proxies[name]
                    existing = None
            proxy = existing or await self._create(
                name, entry.get("listen", "127.0.0.1:0"), entry["upstream"], entry.get("enabled", True)
            )
            if toxics is not None:
                proxy.reset_toxics()
                for toxic in toxics:
                    proxy.add_toxic(toxic)
            result.append(proxy.to_json())
        return result

    def _get(self, name: str) -> FaultProxy:
        proxy = self._proxies.get(name)
        if proxy is None:
            raise ProxyNotFound(name)
        return proxy

    def proxy(self, name: str) -> ProxyHandle:
        self._call(lambda: self._get(name))
        return ProxyHandle(self, name)

    def proxies(self) -> dict[str, dict[str, Any]]:
        return self._call(lambda: {name: proxy.to_json() for name, proxy in self._proxies.items()})

    def describe(self, name: str) -> dict[str, Any]:
        return self._call(lambda: self._get(name).to_json())

    def update_proxy(self, name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        async def update() -> dict[str, Any]:
            proxy = self._get(name)
            await proxy.update(fields)
            return proxy.to_json()

        return self._run(update())

    def delete_proxy(self, name: str) -> None:
        async def delete() -> None:
            await self._get(name).stop()
            del self._proxies[name]

        self._run(delete())

    def reset(self) -> None:
        """toxiproxy's /reset: enable every proxy and remove every toxic."""

        async def reset() -> None:
            for proxy in self._proxies.values():
                proxy.reset_toxics()
                await proxy.set_enabled(True)

        self._run(reset())

    # -- toxics -------------------------------------------------------------------------------------

    def toxics(self, proxy: str) -> list[dict[str, Any]]:
        return self._call(lambda: [toxic.to_json() for toxic in self._get(proxy).toxics])

    def get_toxic(self, proxy: str, name: str) -> dict[str, Any]:
        return self._call(lambda: self._get(proxy).toxic(name).to_json())

    def add_toxic(self, proxy: str, toxic: Toxic | Mapping[str, Any]) -> dict[str, Any]:
        built = toxic if isinstance(toxic, Toxic) else Toxic.from_json(toxic)
        return self._call(lambda: self._get(proxy).add_toxic(built).to_json())

    def update_toxic(self, proxy: str, name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self._call(lambda: self._get(proxy).update_toxic(name, fields).to_json())

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call(lambda: self._get(proxy).remove_toxic(name))

    def listen_address(self, proxy: str) -> str:
        return self._call(lambda: self._get(proxy).listen_address)


class ProxyHandle:
    """A named proxy of a `ProxyServer`, with the sync calls a test needs."""

    def __init__(self, server: ProxyServer, name: str) -> None:
        self.server = server
        self.name = name

    @property
    def listen_address(self) -> str:
        return self.server.listen_address(self.name)

    @property
    def port(self) -> int:
        return int(self.listen_address.rpartition(":")[2])

    def add_toxic(self, type: str, **kwargs: Any) -> dict[str, Any]:
        """``add_toxic("latency", latency=100, stream="upstream")``: see `Toxic.create` for the fields."""
        return self.server.add_toxic(self.name, Toxic.create(type, **kwargs))

    def update_toxic(self, name: str, **fields: Any) -> dict[str, Any]:
        return self.server.update_toxic(self.name, name, fields)

    def remove_toxic(self, name: str) -> None:
        self.server.remove_toxic(self.name, name)

    def disable(self) -> None:
        self.server.update_proxy(self.name, {"enabled": False})

    def enable(self) -> None:
        self.server.update_proxy(self.name, {"enabled": True})

    @contextmanager
    def toxic(self, type: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Apply a toxic for the duration of a ``with`` block (toxiproxy clients' ``apply``)."""
        added = self.add_toxic(type, **kwargs)
        try:
            yield added
        finally:
            self.remove_toxic(added["name"])

    @contextmanager
    def down(self) -> Iterator[None]:
        """The proxy is disabled for the duration of a ``with`` block."""
        self.disable()
        try:
            yield
        finally:
            self.enable()


def _same_listen(wanted: object, bound: str) -> bool:
    """An entry's listen matches a running proxy when absent, equal, or the same host with port 0 (any)."""
    if wanted is None:
        return True
    host, port = parse_address(wanted, "listen")
    bound_host, bound_port = parse_address(bound, "listen")
    return host == bound_host and port in (0, bound_port)


def _check_entry(entry: object, index: int) -> tuple[dict[str, Any], list[Toxic] | None]:
    if not isinstance(entry, Mapping):
        raise BadRequest(f"proxy #{index} must be a JSON object, got {type(entry).__name__}")
    unknown = set(entry) - {"name", "listen", "upstream", "enabled", "toxics"}
    if unknown:
        raise BadRequest(f"proxy #{index}: unknown field(s): {', '.join(sorted(unknown))}")
    for key in ("name", "upstream"):
        if not entry.get(key):
            raise BadRequest(f"proxy #{index}: missing required field: {key}")
    check_proxy_name(entry["name"])
    if "enabled" in entry and not isinstance(entry["enabled"], bool):
        raise BadRequest(f"proxy {entry['name']!r}: enabled must be true or false, got {entry['enabled']!r}")
    raw_toxics = entry.get("toxics")
    toxics = None
    if raw_toxics is not None:
        if not isinstance(raw_toxics, list):
            raise BadRequest(f"proxy {entry['name']!r}: toxics must be a list, got {raw_toxics!r}")
        toxics = [Toxic.from_json(item) for item in raw_toxics]
    return {k: v for k, v in entry.items() if k != "toxics"}, toxics
