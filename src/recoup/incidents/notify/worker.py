"""The delivery worker: takes due rows from the outbox, sends them through their channels, records what
happened.

Retry policy, per row:

* delivered: done, with the latency from enqueue recorded.
* retry (429, 408, 5xx, connection errors, SMTP 4xx): again after the server's ``Retry-After`` when it gave one
  (capped at ``retry_after_cap``), else after exponential backoff ``min(cap, base * 2**(attempt-1))`` with
  jitter (a random wait between half and all of it, so many rows failing together do not retry together).
* failed (any other 4xx, SMTP 5xx, an unknown apprise URL): dead at once -- retrying an invalid payload or a
  revoked key cannot succeed, and a human should see it now rather than after eight tries.
* a retry after the ``max_attempts``-th attempt: dead, with the last error.

`run` wakes as soon as this process enqueues something (the queue calls a waker that sets an asyncio.Event),
so a notice goes out within milliseconds; it also wakes when the next retry is due and every
``poll_interval`` seconds, to pick up rows queued by other processes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from types import TracebackType

import httpx

from recoup.incidents.notify.channels import Attempt, Channel, build_channels
from recoup.incidents.notify.config import NotifyConfig
from recoup.incidents.notify.outbox import Delivery, NotificationQueue
from recoup.incidents.notify.result import Outcome, SendResult
from recoup.store import StoreError

_log = logging.getLogger(__name__)


class NotificationWorker:
    """Delivers the outbox of ``queue`` through the channels of ``channels_config``. ``clock`` returns epoch
    seconds; ``rng`` draws the jitter (pass a seeded `random.Random` for exact tests)."""

    def __init__(
        self,
        queue: NotificationQueue,
        channels_config: NotifyConfig,
        *,
        clock: Callable[[], float] = time.time,
        max_attempts: int = 8,
        backoff_base: float = 5.0,
        backoff_cap: float = 900.0,
        retry_after_cap: float = 3600.0,
        lease_seconds: float = 120.0,
        batch_size: int = 50,
        concurrency: int = 10,
        poll_interval: float = 5.0,
        rng: random.Random | None = None,
        http: httpx.AsyncClient | None = None,
        channels: Mapping[tuple[str, str], Channel] | None = None,
        owner: str | None = None,
        on_delivered: Callable[[Delivery, float], None] | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if backoff_base <= 0 or backoff_cap < backoff_base:
            raise ValueError(f"need 0 < backoff_base <= backoff_cap, got {backoff_base} and {backoff_cap}")
        if lease_seconds <= 0 or batch_size < 1 or concurrency < 1 or poll_interval <= 0:
            raise ValueError("lease_seconds, batch_size, concurrency and poll_interval must be positive")
        self.queue = queue
        self.config = channels_config
        self.clock = clock
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self.lease_seconds = lease_seconds
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.rng = rng or random.Random()
        self.channels: Mapping[tuple[str, str], Channel] = (
            build_channels(channels_config) if channels is None else channels
        )
        #: Identifies this worker's leases; unique per worker object, so a restarted worker is a new owner.
        self.owner = owner or f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(6)}"
        self._http = http
        self._own_http = http is None
        #: Told (in a worker thread) of each delivery that reached its receiver, with the time it did: the
        #: incident timeline records it. A failing callback is logged; the delivery stays delivered.
        self.on_delivered = on_delivered

    # -- lifecycle --------------------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(headers={"User-Agent": "recoup-notify/1"})
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP client this worker made (not one it was given)."""
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> NotificationWorker:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- the policy -------------------------------------------------------------------------------------

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt: exponential, capped, jittered."""
        delay = min(self.backoff_cap, self.backoff_base * 2.0 ** max(0, attempts - 1))
        return delay * (0.5 + 0.5 * self.rng.random())

    # -- one pass ---------------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim the due rows (up to ``batch_size``), send them (``concurrency`` at a time), record each outcome.
        Returns how many rows were attempted."""
        claimed = await asyncio.to_thread(
            self.queue.claim,
            self.owner,
            limit=self.batch_size,
            lease_seconds=self.lease_seconds,
            max_attempts=self.max_attempts,
        )
        if not claimed:
            return 0
        limit = asyncio.Semaphore(self.concurrency)

        async def one(delivery: Delivery) -> None:
            async with limit:
                await self._deliver(delivery)

        # Every claimed row finishes (or keeps its lease) before a failure to record one is raised.
        outcomes = await asyncio.gather(*(one(d) for d in claimed), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(claimed)

    async def _deliver(self, delivery: Delivery) -> None:
        channel = self.channels.get((delivery.receiver, delivery.channel))
        if channel is None:
            result = SendResult.failed(
                f"receiver {delivery.receiver!r} has no {delivery.channel} channel in the current configuration"
            )
        else:
            attempt = Attempt(
                delivery_id=delivery.id,
                receiver=delivery.receiver,
                attempt=delivery.attempts,
                now=self.clock(),
                http=self._client(),
                already_sent=delivery.reached,
            )
            try:
                result = await channel.send(delivery.notice, attempt)
            except Exception as exc:  # a bug in a channel must not stop the others; it is logged and retried
                _log.exception("notification %d: the %s channel raised", delivery.id, delivery.channel)
                result = SendResult.retry(f"the {delivery.channel} channel raised {type(exc).__name__}: {exc}")
        await asyncio.to_thread(self._record, delivery, result)

    def _record(self, delivery: Delivery, result: SendResult) -> None:
        where = f"{delivery.receiver}/{delivery.channel}"
        if result.outcome is Outcome.DELIVERED:
            delivered_at = self.clock()
            if self.queue.mark_delivered(delivery.id, self.owner, note=result.error) and self.on_delivered:
                try:
                    self.on_delivered(delivery, delivered_at)
                except Exception:
                    _log.exception("notification %d: recording its delivery failed", delivery.id)
            return
        if result.outcome is Outcome.FAILED:
            error = f"attempt {delivery.attempts} failed permanently: {result.error}"
            self.queue.mark_dead(delivery.id, self.owner, error=error, reached=result.reached)
            return
        if delivery.attempts >= self.max_attempts:
            error = f"gave up after {delivery.attempts} attempts; last: {result.error}"
            self.queue.mark_dead(delivery.id, self.owner, error=error, reached=result.reached)
            return
        if result.retry_after is not None:
            wait = min(max(0.0, result.retry_after), self.retry_after_cap)
        else:
            wait = self.backoff(delivery.attempts)
        _log.info("notification %d to %s: retry in %.1fs: %s", delivery.id, where, wait, result.error)
        error = f"attempt {delivery.attempts}: {result.error}"
        self.queue.mark_retry(delivery.id, self.owner, error=error, at=self.clock() + wait, reached=result.reached)

    # -- the loop ---------------------------------------------------------------------------------------

    async def run(self, stop_event: asyncio.Event) -> None:
        """Deliver until ``stop_event`` is set: at once when this process enqueues, when the next retry or
        lease expiry is due, and at least every ``poll_interval`` seconds. A store outage is logged and retried
        after ``poll_interval``; rows stay safe in the store meanwhile."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def waker() -> None:
            loop.call_soon_threadsafe(wake.set)

        unregister = self.queue.add_waker(waker)
        try:
            while not stop_event.is_set():
                wake.clear()
                try:
                    if await self.run_once():
                        continue
                    due = await asyncio.to_thread(self.queue.next_due)
                except StoreError as exc:
                    _log.warning(
                        "notification worker: the store failed (%s); retrying in %.1fs", exc, self.poll_interval
                    )
                    due = None
                except Exception:  # keep delivering: a stopped worker would silence every notification
                    _log.exception("notification worker: a pass failed; retrying in %.1fs", self.poll_interval)
                    due = None
                timeout = self.poll_interval
                if due is not None:
                    timeout = min(timeout, max(0.0, due - self.clock()))
                await _first(wake, stop_event, timeout)
        finally:
            unregister()


async def _first(a: asyncio.Event, b: asyncio.Event, seconds: float) -> None:
    """Return when either event is set or ``seconds`` have passed."""
    if a.is_set() or b.is_set():
        return
    waits = {asyncio.create_task(a.wait()), asyncio.create_task(b.wait())}
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
