"""One proxied connection: the client's socket and the upstream socket, joined through the toxics.

Data moves in two streams: "upstream" (client -> server) and "downstream" (server -> client). With no
toxics a chunk is handed straight from one transport to the other inside the event loop's callback, so an
idle proxy costs little more than a bare relay. With toxics, chunks queue per stream and a task passes each
one through the toxics in order. The toxic list is read again for every chunk, so a change takes effect on
the next chunk of a live connection; `refresh()` is called on every change so time-based toxics (timeout,
reset_peer) start even on an idle connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

from recoup.chaos.proxy.http_fault import HttpStatusResponder
from recoup.chaos.proxy.shaping import bandwidth_schedule, latency_delay, slice_sizes
from recoup.chaos.proxy.toxics import Toxic
from recoup.clock import Clock

_MATCH_WINDOW = 1024  # bytes of the previous chunk kept so a pattern split across two chunks still matches
_QUEUE_HIGH = 1 << 20  # queued bytes of a stream above which reading its source pauses
_QUEUE_LOW = 256 * 1024  # ... and below which it resumes
STREAMS = ("upstream", "downstream")


class LinkOwner(Protocol):
    """What a connection needs from its proxy: the current toxics, time, randomness, and a way to leave."""

    @property
    def toxics(self) -> Sequence[Toxic]: ...

    clock: Clock
    rng: random.Random

    def _forget(self, link: Link) -> None: ...


class ToxicState:
    """One toxic as seen by one connection: whether its toxicity draw made it active, and its progress."""

    __slots__ = ("active", "fired", "http", "matched", "sent", "timer", "toxic", "window")

    def __init__(self, toxic: Toxic, active: bool) -> None:
        self.toxic = toxic
        self.active = active
        self.matched = False  # the last chunk seen on the toxic's match_stream matched its regex
        self.fired = False  # a latching toxic has been triggered on this connection
        self.sent = 0  # bytes let through (limit_data)
        self.window = b""
        self.timer: asyncio.Task[None] | None = None
        self.http = HttpStatusResponder(dict(toxic.attributes), toxic.match) if toxic.type == "http_status" else None

    def observe(self, data: bytes) -> None:
        """Update ``matched`` from a chunk of the match stream (a match must end inside the new bytes)."""
        pattern = self.toxic.match
        assert pattern is not None
        found = pattern.search(data) is not None  # alone first, so ``^`` means the start of a chunk
        joined = self.window + data
        if not found and self.window:  # then a match straddling the previous chunk's tail
            hit = pattern.search(joined)
            while hit is not None and hit.end() <= len(self.window):
                hit = pattern.search(joined, hit.start() + 1)
            found = hit is not None
        self.matched = found
        self.window = joined[-_MATCH_WINDOW:]

    @property
    def armed(self) -> bool:
        return self.toxic.match is None or self.matched or self.fired


class Endpoint(asyncio.Protocol):
    """One socket of a link. ``reads`` is the stream its incoming bytes belong to."""

    def __init__(self, reads: str, on_made: Callable[[Endpoint], None] | None = None) -> None:
        self.reads = reads
        self.link: Link | None = None
        self.transport: asyncio.Transport | None = None
        self.writable = asyncio.Event()
        self.writable.set()
        self._on_made = on_made

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self._on_made is not None:
            self._on_made(self)

    def data_received(self, data: bytes) -> None:
        if self.link is not None:
            self.link.received(self.reads, data)

    def eof_received(self) -> bool:
        if self.link is not None:
            self.link.eof(self.reads)
        return True  # keep our side open: the link decides when to close

    def connection_lost(self, exc: Exception | None) -> None:
        self.writable.set()
        if self.link is not None:
            self.link.close()

    def pause_writing(self) -> None:
        self.writable.clear()
        if self.link is not None:
            self.link.pause(_other(self.reads), "sink")

    def resume_writing(self) -> None:
        self.writable.set()
        if self.link is not None:
            self.link.resume(_other(self.reads), "sink")


def _other(stream: str) -> str:
    return "downstream" if stream == "upstream" else "upstream"


class Link:
    """A client connection and its upstream connection, joined through the toxics."""

    def __init__(self, owner: LinkOwner, client: Endpoint, upstream: Endpoint) -> None:
        self._owner = owner
        self._source = {"upstream": client, "downstream": upstream}  # where a stream's bytes come from
        self._sink = {"upstream": upstream, "downstream": client}  # where they go
        self._queues: dict[str, deque[bytes]] = {stream: deque() for stream in STREAMS}
        self._queued = dict.fromkeys(STREAMS, 0)
        self._pumps: dict[str, asyncio.Task[None] | None] = dict.fromkeys(STREAMS)
        self._ended = dict.fromkeys(STREAMS, False)  # EOF seen on the stream's source
        self._paused: dict[str, set[str]] = {stream: set() for stream in STREAMS}
        self._states: dict[str, ToxicState] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = False
        #: bytes forwarded per stream (after toxics), for tests and stats
        self.forwarded = dict.fromkeys(STREAMS, 0)
        client.link = upstream.link = self

    def start(self) -> None:
        """Begin moving data (the client's reading was paused until the upstream connected)."""
        self.refresh()
        self.resume("upstream", "connecting")

    # -- flow control --------------------------------------------------------------------------------

    def pause(self, stream: str, reason: str) -> None:
        """Stop reading a stream's source; reading resumes when every reason to pause is gone."""
        reasons = self._paused[stream]
        if not reasons and not self.closed:
            transport = self._source[stream].transport
            if transport is not None and not transport.is_closing():
                transport.pause_reading()
        reasons.add(reason)

    def resume(self, stream: str, reason: str) -> None:
        reasons = self._paused[stream]
        if reason not in reasons:
            return
        reasons.discard(reason)
        if not reasons and not self.closed:
            transport = self._source[stream].transport
            if transport is not None and not transport.is_closing():
                transport.resume_reading()

    # -- arriving data -------------------------------------------------------------------------------

    def received(self, stream: str, data: bytes) -> None:
        if self.closed:
            return
        queue = self._queues[stream]
        if not queue and self._pumps[stream] is None and not self._owner.toxics:
            transport = self._sink[stream].transport
            assert transport is not None
            transport.write(data)  # the fast path: no toxics, nothing queued ahead of this chunk
            self.forwarded[stream] += len(data)
            return
        queue.append(data)
        self._queued[stream] += len(data)
        if self._queued[stream] > _QUEUE_HIGH:
            self.pause(stream, "queue")
        self._ensure_pump(stream)

    def eof(self, stream: str) -> None:
        self._ended[stream] = True
        self._ensure_pump(stream)

    def _ensure_pump(self, stream: str) -> None:
        if self._pumps[stream] is None and not self.closed:
            self._pumps[stream] = self._spawn(self._pump(stream))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _pump(self, stream: str) -> None:
        queue = self._queues[stream]
        try:
            while queue and not self.closed:
                data = queue.popleft()
                self._queued[stream] -= len(data)
                if self._queued[stream] < _QUEUE_LOW:
                    self.resume(stream, "queue")
                await self._forward(stream, data)
            if self._ended[stream] and not self.closed:
                await self._finish(stream)
        except (ConnectionError, OSError):
            self.close()
        finally:
            self._pumps[stream] = None

    async def _finish(self, stream: str) -> None:
        """The stream's source sent EOF: pass it on (after any slow_close), or close when the server ended."""
        await self._slow_close(stream)
        transport = self._sink[stream].transport
        if stream == "upstream" and transport is not None and transport.can_write_eof():
            with contextlib.suppress(OSError):
                transport.write_eof()  # the client finished sending; let the server answer, then close
        else:
            self.close()

    # -- toxics ------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Bring per-connection states in line with the proxy's toxics; start timers of new time-based ones."""
        current = {toxic.name: toxic for toxic in self._owner.toxics}
        for name, state in list(self._states.items()):
            if current.get(name) is not state.toxic:
                if state.timer is not None:
                    state.timer.cancel()
                del self._states[name]
        for toxic in self._owner.toxics:
            self._state(toxic)

    def _state(self, toxic: Toxic) -> ToxicState:
        state = self._states.get(toxic.name)
        if state is None or state.toxic is not toxic:
            if toxic.toxicity >= 1.0:
                active = True
            elif toxic.toxicity <= 0.0:
                active = False
            else:  # drawn once per connection, like toxiproxy
                active = self._owner.rng.random() < toxic.toxicity
            state = self._states[toxic.name] = ToxicState(toxic, active)
            if active and toxic.match is None and toxic.type in ("timeout", "reset_peer"):
                self._trigger(state)
        return state

    def _trigger(self, state: ToxicState) -> None:
        """Fire a latching toxic once; timeout and reset_peer start their timer here."""
        if state.fired:
            return
        state.fired = True
        kind, toxic = state.toxic.type, state.toxic
        if kind == "reset_peer":
            state.timer = self._spawn(self._after(toxic.attr("timeout") / 1000.0, reset=True))
        elif kind == "timeout" and toxic.attr("timeout") > 0:
            state.timer = self._spawn(self._after(toxic.attr("timeout") / 1000.0, reset=False))

    async def _after(self, seconds: float, *, reset: bool) -> None:
        if seconds > 0:
            await self._owner.clock.asleep(seconds)
        self.close(reset=reset)

    # -- the toxic path -----------------------------------------------------------------------------

    async def _forward(self, stream: str, data: bytes) -> None:
        states = [self._state(toxic) for toxic in self._owner.toxics]
        for state in states:
            if state.toxic.match is not None and state.http is None and state.toxic.attr("match_stream") == stream:
                state.observe(data)
        pacing: list[Toxic] = []
        for state in states:
            toxic = state.toxic
            if toxic.stream != stream or not state.active:
                continue
            if state.http is not None:
                verdict = state.http.feed(data)  # matches whole requests itself
                if verdict.responses:
                    await self._send("downstream", b"".join(verdict.responses), [])
                if verdict.close:
                    self.close()
                    return
                data = verdict.forward
                continue
            if not state.armed:
                continue
            kind = toxic.type
            if kind == "latency":
                await self._owner.clock.asleep(
                    latency_delay(toxic.attr("latency"), toxic.attr("jitter"), self._owner.rng)
                )
            elif kind in ("timeout", "blackhole"):
                self._trigger(state)
                return  # data stops here
            elif kind == "reset_peer":
                self._trigger(state)
            elif kind == "limit_data":
                allowed = int(toxic.attr("bytes")) - state.sent
                if len(data) >= allowed:
                    await self._send(stream, data[: max(0, allowed)], pacing)
                    self.close()
                    return
                state.sent += len(data)
            elif kind == "partial_write":
                await self._send(stream, data[: int(toxic.attr("bytes"))], pacing)
                self.close()
                return
            elif kind in ("slicer", "bandwidth"):
                pacing.append(toxic)
            if self.closed:
                return
        if data:
            await self._send(stream, data, pacing)

    async def _send(self, stream: str, data: bytes, pacing: list[Toxic]) -> None:
        sink = self._sink[stream]
        for piece, wait in self._plan(data, pacing):
            if self.closed or sink.transport is None or not piece:
                return
            sink.transport.write(piece)
            self.forwarded[stream] += len(piece)
            await sink.writable.wait()  # the transport's buffer is below its high-water mark again
            if wait > 0:
                await self._owner.clock.asleep(wait)

    def _plan(self, data: bytes, pacing: list[Toxic]) -> list[tuple[bytes, float]]:
        plan: list[tuple[bytes, float]] = [(data, 0.0)]
        for toxic in pacing:
            shaped: list[tuple[bytes, float]] = []
            for piece, wait in plan:
                offset = 0
                if toxic.type == "slicer":
                    sizes = slice_sizes(
                        len(piece), toxic.attr("average_size"), toxic.attr("size_variation"), self._owner.rng
                    )
                    parts = [(size, toxic.attr("delay") / 1_000_000.0) for size in sizes]
                else:
                    parts = bandwidth_schedule(len(piece), toxic.attr("rate"))
                for index, (size, delay) in enumerate(parts):
                    extra = wait if index == len(parts) - 1 else 0.0
                    shaped.append((piece[offset : offset + size], delay + extra))
                    offset += size
            plan = shaped
        return plan

    async def _slow_close(self, stream: str) -> None:
        delays = [
            state.toxic.attr("delay")
            for state in self._states.values()
            if state.toxic.type == "slow_close" and state.toxic.stream == stream and state.active and state.armed
        ]
        if delays:
            await self._owner.clock.asleep(max(delays) / 1000.0)

    # -- teardown ---------------------------------------------------------------------------------

    def close(self, *, reset: bool = False) -> None:
        """Close both sides; with ``reset`` the client (and upstream) get a TCP RST (SO_LINGER 0)."""
        if self.closed:
            return
        self.closed = True
        for endpoint in (self._source["upstream"], self._source["downstream"]):
            transport = endpoint.transport
            if transport is None:
                continue
            if reset:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
            else:
                transport.close()  # what is buffered is still sent, then FIN
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        self._owner._forget(self)
