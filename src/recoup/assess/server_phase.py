"""The fault load's telemetry, sent to a recoup server and read back: ingest rate, end-to-end latency, loss.

While the runner drives its operations, the library reports what happened as a user would wire it: the
policy events go through `recoup.telemetry.bridge_policy_events`, every error an attempt meets becomes an
`ErrorEvent`, and all of it goes to a `recoup.telemetry.HttpSink` (shipped defaults unless configured),
which POSTs batches to the server's native ingest route. The target is either ``recoup serve`` on a fresh
SQLite file in a child process of ours (the default, `recoup.assess.server_process`: in a thread of this
process it competed with the load for the interpreter) or a running server (``--server URL``); both are
reached the same way, over HTTP with an admin token.

What is measured:

* emitted: events handed to the sink (counted by a recording sink in front of it);
* acknowledged: events in batches the server answered 2xx (`HttpSink.stats.sent`);
* stored: emitted events found through the read API (``GET /api/v1/projects/{id}/events``, paged) with the
  admin token; lost = emitted - stored;
* ingest rate: acknowledged events / (first emit → sink drained);
* end-to-end latency, two ways: (a) *visible*: for a sample of events, the library's creation time
  (``event.timestamp``) → the first ``GET /api/v1/projects/{id}/events/{event_id}`` answering 200, polled
  from a separate thread with the admin token; (b) *received*: for every stored event, the server's
  ``received_at`` − the event's ``timestamp`` (same host's clock for our own server; a remote server's clock
  may differ from ours);
* HTTP errors: the sink's failed, dropped and retried counts, its warnings, and the server's own
  ``recoup_ingest_requests_total`` by status (delta of ``/metrics`` scraped before and after).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from recoup.telemetry.events import ErrorEvent, TelemetryEvent

if TYPE_CHECKING:
    import httpx

    from recoup.assess.server_process import ServerProcess
    from recoup.telemetry.http_sink import HttpSink

PAGE = 1000
#: `ServerPhaseResult.target` for the server the phase starts itself.
OWN_SERVER = "embedded (own process)"
_SINK_LOGGER = "recoup.telemetry.http"


class ServerPhaseError(RuntimeError):
    """The server could not be reached or set up (bad URL, wrong token): the phase cannot run."""


@dataclass(frozen=True)
class ServerPhaseConfig:
    """Where the events go and how they are sampled. ``url`` None starts a server in a child process."""

    url: str | None = None
    ingest_key: str | None = None
    admin_token: str | None = None
    data_dir: Path | None = None  # our own server's SQLite file, spool and stderr log (a temp folder when None)
    batch_size: int = 100  # HttpSink defaults, as shipped
    flush_interval: float = 1.0
    sample_every: int = 10  # every n-th emitted event is polled for visibility (systematic sample)
    samples: int = 200  # at most this many in all
    probes_in_flight: int = 32  # a sampled event is skipped (and counted) while this many are awaited
    pollers: int = 4  # threads polling the read API
    poll_interval: float = 0.005  # pause between polling rounds
    settle_timeout: float = 30.0  # bound on draining the sink and on waiting for sampled events

    def validate(self) -> None:
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"server URL must start with http:// or https://, got {self.url!r}")
        if self.url is not None and not (self.ingest_key or self.admin_token):
            raise ValueError("--server needs --server-key (ingest key) or --server-token / RECOUP_ADMIN_TOKEN")
        if self.url is None and (self.ingest_key or self.admin_token):
            raise ValueError("--server-key and --server-token need --server URL")
        if min(self.batch_size, self.probes_in_flight, self.sample_every, self.pollers) < 1 or self.samples < 0:
            raise ValueError("batch_size, sample_every, probes_in_flight and pollers must be >= 1, samples >= 0")
        if self.flush_interval < 0 or self.poll_interval < 0 or self.settle_timeout <= 0:
            raise ValueError("flush_interval and poll_interval must be >= 0, settle_timeout > 0")


@dataclass
class Sample:
    """One event polled until the read API returned it. Times are wall-clock epoch seconds."""

    event_id: str
    created: float  # event.timestamp, set by the library
    polls: int = 0
    last_miss: float | None = None  # when the last 404 was sent
    visible: float | None = None  # when the first 200 came back
    received_at: float | None = None  # the server's received_at for it

    @property
    def latency(self) -> float | None:
        """Upper bound: creation → the first 200 came back."""
        return None if self.visible is None else self.visible - self.created

    @property
    def latency_lower(self) -> float | None:
        """Lower bound: creation → the later of the last 404's request and the server's ``received_at``
        (a 404 means the event was not visible when that request was sent; it cannot be visible before the
        server stamped it)."""
        if self.visible is None:
            return None
        floor = max(self.created, self.last_miss or self.created, self.received_at or self.created)
        return min(floor, self.visible) - self.created


@dataclass
class ServerPhaseResult:
    """Raw measurements; `recoup.assess.phase_reports.summarise_server` turns them into figures."""

    target: str  # OWN_SERVER or "remote"
    url: str
    database: str | None
    sink_settings: dict[str, Any]
    probe_settings: dict[str, Any]
    read_back: bool  # an admin token was available, so stored events and visibility were measured
    emitted_by_type: dict[str, int]
    emitted_ids: set[str]
    first_emit: float | None  # monotonic
    last_emit: float | None
    drained_at: float  # monotonic: the sink's queue was empty (or the settle timeout passed)
    drained: bool
    acknowledged: int
    failed: int
    dropped: int
    retried: int
    stored: dict[str, tuple[float, float]]  # event_id -> (occurred_at, received_at), epoch seconds
    samples: list[Sample]
    probe_errors: Counter[str]
    sink_warnings: list[str]
    server_requests: dict[str, float]  # status -> requests during the phase (from /metrics)
    server_events: dict[str, float]  # outcome -> events during the phase (from /metrics)
    server_request_seconds: tuple[float, float] | None  # (sum, count) of the ingest latency histogram
    setup_seconds: float
    readback_seconds: float
    notes: list[str] = field(default_factory=list)


class _WarningCounter(logging.Handler):
    """Keeps what the sink logs at WARNING and above (refused batches, batches given up)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _Prober:
    """Polls the read API for sampled events until each is visible, from `ServerPhaseConfig.pollers` threads
    (sample i goes to thread i mod pollers), so a slow answer delays few others."""

    def __init__(self, client: httpx.Client | None, project_id: int | None, config: ServerPhaseConfig) -> None:
        self._client = client
        self._project_id = project_id
        self._config = config
        self._cond = threading.Condition()
        self._pending: list[list[Sample]] = [[] for _ in range(config.pollers)]
        self.done: list[Sample] = []
        self.errors: Counter[str] = Counter()
        self._offering = client is not None and project_id is not None and config.samples > 0
        self._taken = 0
        self._seen = 0
        self.skipped = 0  # sampled events not polled because too many were awaited
        self._stop = False
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"recoup-assess-poller-{i}", daemon=True)
            for i in range(config.pollers)
        ]
        if self._offering:
            for thread in self._threads:
                thread.start()

    def _awaited(self) -> int:
        return sum(len(p) for p in self._pending)

    def offer(self, event: TelemetryEvent) -> None:
        """Sample every n-th event (by emission order, so a sample's place in its batch is left to chance;
        called on the emitting thread: cheap)."""
        if not self._offering:
            return
        with self._cond:
            self._seen += 1
            if self._seen % self._config.sample_every or self._taken >= self._config.samples:
                return
            if self._awaited() >= self._config.probes_in_flight:
                self.skipped += 1
                return
            self._pending[self._taken % len(self._pending)].append(Sample(event.id, event.timestamp))
            self._taken += 1
            self._cond.notify_all()

    def finish(self, deadline: float) -> list[Sample]:
        """Take no new samples, wait (until `deadline`, monotonic) for those pending; returns all samples."""
        with self._cond:
            self._offering = False
            self._cond.notify_all()
            while self._awaited() and any(t.is_alive() for t in self._threads):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.05))
            self._stop = True
            self._cond.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(5.0)
        with self._cond:
            return self.done + [s for pending in self._pending for s in pending]

    def _run(self, index: int) -> None:
        assert self._client is not None
        path = f"/api/v1/projects/{self._project_id}/events/"
        mine = self._pending[index]
        while True:
            with self._cond:
                while not mine and not self._stop and self._offering:
                    self._cond.wait(0.1)
                if self._stop or (not mine and not self._offering):
                    return
                batch = list(mine)
            for sample in batch:
                sent = time.time()
                try:
                    answer = self._client.get(path + sample.event_id)
                except Exception as exc:  # a transport error is a measurement, not a crash of the phase
                    with self._cond:
                        self.errors[type(exc).__name__] += 1
                    continue
                got = time.time()
                sample.polls += 1
                if answer.status_code == 200:
                    sample.visible = got
                    sample.received_at = _epoch(answer.json().get("received_at"))
                    with self._cond:
                        mine.remove(sample)
                        self.done.append(sample)
                        self._cond.notify_all()
                elif answer.status_code == 404:
                    sample.last_miss = sent
                else:
                    with self._cond:
                        self.errors[f"HTTP {answer.status_code}"] += 1
            time.sleep(self._config.poll_interval)


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class _Recorder:
    """The sink the library emits to: counts and samples every event, then hands it to the HttpSink."""

    def __init__(self, sink: HttpSink, prober: _Prober) -> None:
        self._sink = sink
        self._prober = prober
        self._lock = threading.Lock()
        self.ids: set[str] = set()
        self.by_type: Counter[str] = Counter()
        self.first: float | None = None
        self.first_wall: float | None = None
        self.last: float | None = None

    def emit(self, event: TelemetryEvent) -> None:
        now = time.monotonic()
        with self._lock:
            self.ids.add(event.id)
            self.by_type[event.event_type] += 1
            if self.first is None:
                self.first, self.first_wall = now, time.time()
            self.last = now
        self._prober.offer(event)
        self._sink.emit(event)

    def flush(self, timeout: float | None = None) -> bool:
        return self._sink.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        self._sink.close(timeout)


def _scrape(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The server's /metrics as {(sample name, labels): value}; empty when it cannot be read."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        answer = client.get("/metrics")
    except Exception:
        return {}
    if answer.status_code != 200:
        return {}
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(answer.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _delta(
    before: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    after: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    name: str,
    label: str,
) -> dict[str, float]:
    out: dict[str, float] = {}
    for (sample, labels), value in after.items():
        tags = dict(labels)
        if sample != name or tags.get("source") != "native":
            continue
        change = value - before.get((sample, labels), 0.0)
        if change:
            out[tags.get(label, "")] = change
    return out


class ServerPhase:
    """Send the fault load's telemetry to a server for the duration of a ``with`` block.

    Usage::

        with ServerPhase(ServerPhaseConfig()) as phase:
            asyncio.run(run_assessment(config, on_done, on_error=phase.record_error))
            result = phase.finish()
    """

    def __init__(self, config: ServerPhaseConfig, *, service: str = "recoup-assess") -> None:
        config.validate()
        self.config = config
        self.service = service
        self._own: ServerProcess | None = None
        self._admin: httpx.Client | None = None
        self._probe_client: httpx.Client | None = None
        self._sink: HttpSink | None = None
        self._recorder: _Recorder | None = None
        self._prober: _Prober | None = None
        self._unbridge: Callable[[], None] | None = None
        self._warnings = _WarningCounter()
        self._metrics_before: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._result: ServerPhaseResult | None = None
        self.url = ""
        self.project_id: int | None = None
        self.database: str | None = None
        self.notes: list[str] = []
        self.setup_seconds = 0.0

    # -- set-up -----------------------------------------------------------------------------------

    def __enter__(self) -> ServerPhase:
        try:
            self._start()
        except BaseException:
            self._cleanup()
            raise
        return self

    def _start(self) -> None:
        import httpx

        from recoup.telemetry.bridge import bridge_policy_events
        from recoup.telemetry.http_sink import HttpSink

        started = time.monotonic()
        cfg = self.config
        if cfg.url is None:
            from recoup.assess.server_process import ServerProcess, ServerProcessError

            self._own = ServerProcess(cfg.data_dir)
            try:
                self._own.start()
            except ServerProcessError as exc:
                raise ServerPhaseError(str(exc)) from exc
            self.url = self._own.url
            token: str | None = self._own.admin_token
            key, self.project_id = self._remote_project(token, announce=False)
            self.database = "sqlite"
        else:
            self.url = cfg.url.rstrip("/")
            token = cfg.admin_token
            key, self.project_id = self._remote_project(token)
        if token is not None:
            headers = {"Authorization": f"Bearer {token}"}
            self._admin = httpx.Client(base_url=self.url, headers=headers, timeout=10.0)
            self._probe_client = httpx.Client(base_url=self.url, headers=headers, timeout=10.0)
            self._metrics_before = _scrape(self._admin)
        else:
            self.notes.append("no admin token: stored events and visibility latency were not measured")
        logging.getLogger(_SINK_LOGGER).addHandler(self._warnings)
        self._sink = HttpSink(
            self.url, api_key=key, batch_size=cfg.batch_size, flush_interval=cfg.flush_interval,
            name="assess", close_at_exit=None,
        )
        self._prober = _Prober(self._probe_client, self.project_id, cfg)
        self._recorder = _Recorder(self._sink, self._prober)
        self._unbridge = bridge_policy_events(self._recorder)
        self.setup_seconds = time.monotonic() - started

    def _remote_project(self, token: str | None, *, announce: bool = True) -> tuple[str, int | None]:
        """(ingest key, project id): the given key's project, or a new project when only a token came (noted
        when ``announce``: on someone's server). A server whose ``/readyz`` says it is not ready is refused
        before any load starts."""
        import httpx

        cfg = self.config
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            with httpx.Client(base_url=self.url, headers=headers, timeout=10.0) as client:
                ready = client.get("/readyz")
                if ready.status_code == 503:
                    raise ServerPhaseError(f"the server at {self.url} is not ready: {ready.text[:200]}")
                if ready.status_code == 200:
                    self.database = ready.json().get("database")
                if cfg.ingest_key is None:
                    assert token is not None
                    name = f"recoup assess {datetime.now().isoformat(timespec='seconds')}"
                    answer = client.post("/api/v1/projects", json={"name": name})
                    if answer.status_code != 201:
                        raise ServerPhaseError(f"creating a project: HTTP {answer.status_code} {answer.text[:200]}")
                    created = answer.json()
                    if announce:
                        self.notes.append(f"created project {created['id']} ({name}) on the server")
                    return str(created["public_key"]), int(created["id"])
                if token is None:
                    return cfg.ingest_key, None
                answer = client.get("/api/v1/projects")
                if answer.status_code != 200:
                    raise ServerPhaseError(f"listing projects: HTTP {answer.status_code} {answer.text[:200]}")
                for project in answer.json()["projects"]:
                    keys = client.get(f"/api/v1/projects/{project['id']}/keys")
                    if keys.status_code == 200 and any(
                        k["public_key"] == cfg.ingest_key for k in keys.json()["keys"]
                    ):
                        return cfg.ingest_key, int(project["id"])
                raise ServerPhaseError("the --server-key belongs to no project this admin token can see")
        except httpx.HTTPError as exc:
            raise ServerPhaseError(f"cannot reach the server at {self.url}: {exc}") from exc

    # -- during the load --------------------------------------------------------------------------

    def record_error(self, exc: BaseException) -> None:
        """The runner's error hook: one classified `ErrorEvent` per error an attempt met."""
        if self._recorder is not None:
            self._recorder.emit(
                ErrorEvent.from_exception(exc, service=self.service, operation="assess-upstream", classify=True)
            )

    def emit(self, event: TelemetryEvent) -> None:
        """Send one more telemetry event (the engine phase's own events go through here)."""
        if self._recorder is not None:
            self._recorder.emit(event)

    # -- after the load ---------------------------------------------------------------------------

    def finish(self) -> ServerPhaseResult:
        """Stop emitting, drain the sink, wait for sampled events, read everything back."""
        if self._result is not None:
            return self._result
        assert self._recorder is not None and self._sink is not None and self._prober is not None
        cfg = self.config
        if self._unbridge is not None:
            self._unbridge()
            self._unbridge = None
        deadline = time.monotonic() + cfg.settle_timeout
        drained = self._sink.flush(cfg.settle_timeout)
        drained_at = time.monotonic()
        self._sink.close(timeout=max(0.1, deadline - time.monotonic()))
        stats = self._sink.stats
        samples = self._prober.finish(deadline)
        read_started = time.monotonic()
        stored: dict[str, tuple[float, float]] = {}
        server_requests: dict[str, float] = {}
        server_events: dict[str, float] = {}
        request_seconds: tuple[float, float] | None = None
        if self._admin is not None and self.project_id is not None:
            stored = self._read_back(self._admin, self.project_id, self._recorder.ids)
            after = _scrape(self._admin)
            if after:
                server_requests = _delta(self._metrics_before, after, "recoup_ingest_requests_total", "status")
                server_events = _delta(self._metrics_before, after, "recoup_ingest_events_total", "outcome")
                sums = _delta(self._metrics_before, after, "recoup_ingest_request_seconds_sum", "source")
                counts = _delta(self._metrics_before, after, "recoup_ingest_request_seconds_count", "source")
                if counts.get("native"):
                    request_seconds = (sums.get("native", 0.0), counts["native"])
            else:
                self.notes.append("the server's /metrics could not be read")
        readback_seconds = time.monotonic() - read_started
        self._result = ServerPhaseResult(
            target=OWN_SERVER if self._own is not None else "remote",
            url=self.url,
            database=self.database,
            sink_settings={
                "batch_size": cfg.batch_size,
                "flush_interval": cfg.flush_interval,
                "max_queue": self._sink.max_queue,
                "max_attempts": self._sink.max_attempts,
            },
            probe_settings={
                "sample_every": cfg.sample_every,
                "samples": cfg.samples,
                "probes_in_flight": cfg.probes_in_flight,
                "pollers": cfg.pollers,
                "skipped_busy": self._prober.skipped,
                "poll_interval": cfg.poll_interval,
            },
            read_back=self._admin is not None and self.project_id is not None,
            emitted_by_type=dict(self._recorder.by_type),
            emitted_ids=set(self._recorder.ids),
            first_emit=self._recorder.first,
            last_emit=self._recorder.last,
            drained_at=drained_at,
            drained=drained,
            acknowledged=stats.sent,
            failed=stats.failed,
            dropped=stats.dropped,
            retried=stats.retried,
            stored=stored,
            samples=samples,
            probe_errors=self._prober.errors,
            sink_warnings=list(self._warnings.messages),
            server_requests=server_requests,
            server_events=server_events,
            server_request_seconds=request_seconds,
            setup_seconds=self.setup_seconds,
            readback_seconds=readback_seconds,
            notes=list(self.notes),
        )
        return self._result

    def _read_back(self, client: httpx.Client, project_id: int, emitted: set[str]) -> dict[str, tuple[float, float]]:
        """Every emitted event the read API returns: pages of the project's events, newest first, until all
        emitted ids were seen or the page predates the phase (an existing project may hold older events)."""
        found: dict[str, tuple[float, float]] = {}
        offset = 0
        started = self._recorder.first_wall if self._recorder is not None else None
        oldest_wanted = (started if started is not None else time.time()) - 60.0
        while len(found) < len(emitted):
            answer = client.get(f"/api/v1/projects/{project_id}/events", params={"limit": PAGE, "offset": offset})
            if answer.status_code != 200:
                self.notes.append(f"reading events back stopped: HTTP {answer.status_code} {answer.text[:200]}")
                break
            page = answer.json()["events"]
            for row in page:
                if row["event_id"] in emitted:
                    occurred, received = _epoch(row["occurred_at"]), _epoch(row["received_at"])
                    if occurred is not None and received is not None:
                        found[row["event_id"]] = (occurred, received)
            if len(page) < PAGE:
                break
            last = _epoch(page[-1]["occurred_at"])
            if last is not None and last < oldest_wanted:
                break
            offset += PAGE
        return found

    # -- tear-down --------------------------------------------------------------------------------

    def _cleanup(self) -> None:
        """Undo `_start` in reverse; our server process is stopped even when an earlier step raises."""
        try:
            if self._unbridge is not None:
                self._unbridge()
                self._unbridge = None
            if self._sink is not None:
                self._sink.close(timeout=1.0)
            if self._prober is not None:
                self._prober.finish(time.monotonic())
            logging.getLogger(_SINK_LOGGER).removeHandler(self._warnings)
            for client in (self._admin, self._probe_client):
                if client is not None:
                    client.close()
            self._admin = self._probe_client = None
        finally:
            if self._own is not None:
                own, self._own = self._own, None
                own.stop()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._cleanup()
