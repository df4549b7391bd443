"""Ship telemetry events to a recoup server (or anything that speaks the same JSON) over HTTP.

Wire format (the server's ingest endpoint accepts exactly this)::

    POST {url}/api/v1/events
    Content-Type: application/json
    Authorization: Bearer <api_key>          (omitted when no key is configured)

    {"events": [<event.to_dict()>, ...]}

for example::

    {"events": [{"type": "breaker_transition", "schema": 1, "timestamp": 1764396000.25,
                 "id": "5f0c...", "tags": {"policy": "breaker"}, "breaker": "db",
                 "from_state": "closed", "to_state": "open", "reason": "5 consecutive failures"}]}

Each element is the dict form of a `recoup.telemetry.events.TelemetryEvent`: it carries ``type``
(``error``, ``recovery_attempt``, ``recovery_outcome``, ``breaker_transition``, ``checkpoint``), ``schema``
(`SCHEMA_VERSION`), ``id`` (unique, so a receiver can drop duplicates caused by a retried batch),
``timestamp`` (epoch seconds) and ``tags``, plus the type's own fields. A 2xx answer means the batch
was accepted. 429, 5xx, and connection errors are retried with exponential backoff and jitter,
honouring ``Retry-After``; a 413 splits the batch in halves until the parts fit; other statuses
(400, 401, ...) are not retried, because sending the same batch again cannot succeed.

The application thread only appends to a bounded in-memory queue and returns: it never waits on the
network, on a full queue, or on the sender thread (which holds the queue lock only to move events,
never during I/O). When the queue is full the NEWEST event is dropped by default (``overflow=
"drop_newest"``): the first errors of an outage usually say more about its cause than the
thousandth repeat, and a rejected append costs nothing. ``overflow="drop_oldest"`` keeps the most
recent window instead. Either way the loss is counted in `HttpSink.stats`.
"""

from __future__ import annotations

import atexit
import http.client
import json
import logging
import os
import random
import ssl
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from recoup import __version__
from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.errors.exceptions import parse_retry_after
from recoup.telemetry.events import TelemetryEvent
from recoup.telemetry.sinks import SinkStats, _Counters

_log = logging.getLogger("recoup.telemetry.http")

EVENTS_PATH = "/api/v1/events"

Overflow = Literal["drop_newest", "drop_oldest"]


def encode_batch(events: list[TelemetryEvent]) -> bytes:
    """The request body for a batch: ``{"events": [...]}`` as compact UTF-8 JSON."""
    return json.dumps({"events": [e.to_dict() for e in events]}, separators=(",", ":")).encode()


def is_retryable(status: int) -> bool:
    """Statuses worth sending the same batch again for: rate limiting and server-side failures."""
    return status == 429 or 500 <= status <= 599


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """When the sender should send: a full batch at once, a partial one once its oldest event has
    waited `interval` seconds, everything at once when `urgent` (flush or close asked for it).

    Pure, so the timing rule is tested with plain numbers rather than by waiting.
    """

    batch_size: int = 100
    interval: float = 1.0

    def wait_time(self, queued: int, oldest_at: float | None, now: float, urgent: bool = False) -> float | None:
        """0 to send now, seconds to wait otherwise, None to wait for the next event."""
        if queued == 0:
            return None
        if urgent or queued >= self.batch_size or oldest_at is None:
            return 0.0
        return max(0.0, oldest_at + self.interval - now)


class HttpSink:
    """Batches events in a background daemon thread and POSTs them; see the module docstring for the format.

    `stats`: ``sent``/``failed`` count events in batches accepted/given up (after `max_attempts`
    tries, or a non-retryable status), ``dropped`` events refused by a full queue or discarded at close,
    ``retried`` the number of re-sent requests.

    ``https`` URLs verify the server against the system's CA store unless `ssl_context` says otherwise
    (e.g. ``ssl.create_default_context(cafile="internal-ca.pem")``).

    `clock` is the time base of the batch interval and of ``Retry-After`` dates; `flush`/`close` timeouts
    are real time, since they bound how long the caller waits.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        max_queue: int = 10_000,
        overflow: Overflow = "drop_newest",
        max_attempts: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 60.0,
        timeout: float = 5.0,
        headers: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        name: str = "http",
        close_at_exit: float | None = 2.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if batch_size < 1 or max_queue < 1 or max_attempts < 1:
            raise ValueError("batch_size, max_queue and max_attempts must be >= 1")
        if overflow not in ("drop_newest", "drop_oldest"):
            raise ValueError(f"overflow must be 'drop_newest' or 'drop_oldest', not {overflow!r}")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url = url
        self.name = name
        self.policy = BatchPolicy(batch_size, flush_interval)
        self.max_queue = max_queue
        self.overflow: Overflow = overflow
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._clock = clock
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path.rstrip("/") + EVENTS_PATH
        self._headers = {
            "Content-Type": "application/json",
            "User-Agent": f"recoup/{__version__}",
            **(headers or {}),
        }
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._counters = _Counters()
        self._closed = False  # no more emits
        self._start()
        self._close_at_exit = close_at_exit
        if close_at_exit is not None:
            atexit.register(self._at_exit)
        # a pre-forking server (gunicorn, multiprocessing) copies the sink but not its thread
        after_fork = weakref.WeakMethod(self._after_fork_in_child)
        os.register_at_fork(after_in_child=lambda: (m := after_fork()) is not None and m())

    def _start(self) -> None:
        """Fresh queue, locks and sender thread (at creation, and in a forked child)."""
        self._conn: http.client.HTTPConnection | None = None
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[TelemetryEvent] = deque()
        self._oldest_at: float | None = None
        self._inflight = 0
        self._urgent = False
        self._abort = threading.Event()  # the close deadline passed: stop retrying, discard the rest
        self._thread = threading.Thread(target=self._run, name=f"recoup-{self.name}-sink", daemon=True)
        self._thread.start()

    def _after_fork_in_child(self) -> None:
        """The child starts empty: queued events belong to the parent, which still sends them."""
        if not self._closed:
            self._counters = _Counters()
            self._start()

    # -- application side ---------------------------------------------------------------------

    @property
    def stats(self) -> SinkStats:
        with self._cond:
            queued = len(self._queue) + self._inflight
        return self._counters.snapshot(queued=queued)

    def emit(self, event: TelemetryEvent) -> None:
        """Queue the event and return at once; a full queue drops one event (see `overflow`)."""
        with self._cond:
            if self._closed:
                self._counters.add(dropped=1)
                return
            if len(self._queue) >= self.max_queue:
                self._counters.add(dropped=1)
                if self.overflow == "drop_newest":
                    return
                self._queue.popleft()
            self._queue.append(event)
            if self._oldest_at is None:
                self._oldest_at = self._clock.monotonic()
                self._cond.notify()  # the sender may be idle, waiting without a deadline
            elif len(self._queue) == self.policy.batch_size:
                self._cond.notify()

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued now, ignoring the batch interval; True if the queue drained in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if not self._thread.is_alive():
                return not self._queue and not self._inflight
            self._urgent = True
            self._cond.notify_all()
            while self._queue or self._inflight:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop accepting events, try to deliver what is queued within `timeout`, then discard the rest
        (counted as dropped). Retries stop at the deadline; a request already on the wire may outlive it
        by up to the request `timeout` in the (daemon) sender thread."""
        with self._cond:
            self._closed = True
            self._urgent = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._abort.set()
            with self._cond:
                self._cond.notify_all()
            self._thread.join(0.5)
        if self._close_at_exit is not None:
            atexit.unregister(self._at_exit)
            self._close_at_exit = None

    def _at_exit(self) -> None:
        self.close(self._close_at_exit)

    # -- sender thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                batch = self._next_batch()
                if batch is None:
                    return
                try:
                    self._deliver(batch)
                except Exception:  # a bug must not kill the sender and silently fill the queue
                    _log.exception("recoup %s sink: cannot send a batch of %d", self.name, len(batch))
                    self._counters.add(failed=len(batch))
                with self._cond:
                    self._inflight = 0
                    self._cond.notify_all()
        finally:
            self._disconnect()
            with self._cond:
                if self._queue:
                    self._counters.add(dropped=len(self._queue))
                    self._queue.clear()
                self._inflight = 0
                self._cond.notify_all()

    def _next_batch(self) -> list[TelemetryEvent] | None:
        """Wait until a batch is due and take it off the queue; None when the sink is finished."""
        with self._cond:
            while True:
                if self._abort.is_set():
                    return None
                queued = len(self._queue)
                if queued == 0:
                    self._urgent = False
                    if self._closed:
                        return None
                now = self._clock.monotonic()
                wait = self.policy.wait_time(queued, self._oldest_at, now, self._urgent or self._closed)
                if wait == 0.0:
                    break
                self._cond.wait(wait)
            size = min(self.policy.batch_size, queued)
            batch = [self._queue.popleft() for _ in range(size)]
            self._inflight = size
            # what is left waits a fresh interval (or goes at once if a full batch remains)
            self._oldest_at = now if self._queue else None
            return batch

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: between half and all of initial * 2^(attempt-1), capped."""
        cap = min(self.backoff_max, self.backoff_initial * 2.0 ** (attempt - 1))
        return cap / 2 + random.uniform(0, cap / 2)

    def _deliver(self, batch: list[TelemetryEvent]) -> None:
        body = encode_batch(batch)
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                self._counters.add(retried=1)
            retry_after: float | None = None
            try:
                status, retry_after = self._post(body)
            except ssl.SSLCertVerificationError as exc:  # a wrong certificate stays wrong: do not retry
                _log.warning("recoup %s sink: %s", self.name, exc)
                break
            except (OSError, http.client.HTTPException) as exc:
                _log.debug("recoup %s sink: POST %s failed: %r", self.name, self._path, exc)
            else:
                if 200 <= status < 300:
                    self._counters.add(sent=len(batch))
                    return
                if status == 413 and len(batch) > 1:  # too large for the server: halve until it fits
                    half = len(batch) // 2
                    self._deliver(batch[:half])
                    self._deliver(batch[half:])
                    return
                if not is_retryable(status):
                    _log.warning(
                        "recoup %s sink: server refused a batch of %d (HTTP %d)", self.name, len(batch), status
                    )
                    break
            if attempt == self.max_attempts:
                _log.warning("recoup %s sink: gave up a batch of %d after %d tries", self.name, len(batch), attempt)
                break
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            if self._abort.wait(min(delay, self.max_retry_after)):
                break
        self._counters.add(failed=len(batch))

    def _connect(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout, context=self._ssl_context)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _post(self, body: bytes) -> tuple[int, float | None]:
        """One POST on a kept-alive connection; a connection the server closed while idle is reopened once."""
        reused = self._conn is not None
        for _ in range(2):
            conn = self._conn = self._conn or self._connect()
            try:
                conn.request("POST", self._path, body=body, headers=self._headers)
                response = conn.getresponse()
                response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._disconnect()
                if not reused:
                    raise
                reused = False
                continue
            except BaseException:
                self._disconnect()
                raise
            if response.will_close:
                self._disconnect()
            header = response.getheader("Retry-After")
            return response.status, None if header is None else parse_retry_after(header, self._clock.wall())
        raise http.client.HTTPException("unreachable")  # pragma: no cover
