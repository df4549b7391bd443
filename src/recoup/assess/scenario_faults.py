"""The five incident scenarios: each runs real library components against a real fault, sends their telemetry
to its own project, and marks when the fault was switched on (``t0``) and cleared (``t_heal``).

Each driver follows the same script: healthy traffic, fault on, wait for the server to declare an incident
(as an on-call responder would be paged), hold the fault a set share of the incident's RTO target past its
declaration (the time a responder's fix takes), heal, keep the traffic going until the incident resolves. Waits
are bounded by generous multiples of the scaled rule durations, so a broken detection path ends the scenario
(and fails its expectation) instead of hanging the assessment.

The RTO is measured declared -> restored (the service's signals healthy again). Holding the fault for
`HOLD_SHARE` of the target leaves the rest of it to the system: the library's recovery, the telemetry path and
the server's recovery watch must restore the service and show it within the remaining three quarters, so "met"
and "breached" are both outcomes the system decides. The RTO-breach scenario holds its fault past the target
(`BREACH_HOLD_SHARE`): the service is still failing at the deadline, so a correct server breaches and escalates.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from queue import Empty, Queue

import httpx

from recoup.assess.incident_scenarios import Expectation, Marks, ScenarioEnv, running
from recoup.telemetry.events import MetricEvent

Progress = Callable[[str], None]
#: How long a scenario holds its fault after the declaration, as a share of the incident's RTO target.
HOLD_SHARE = 0.25
#: The RTO-breach scenario's hold: past the target, so the service is still failing at the deadline.
BREACH_HOLD_SHARE = 1.5
ScenarioDriver = Callable[[ScenarioEnv, threading.Event, Progress], Marks]


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    title: str
    rule: str  # the alert rule the scenario is built to trip
    incident_type: str
    expected: Expectation
    method: str  # how the fault is made, for the report
    run: ScenarioDriver


def _worker(stop: threading.Event, op: Callable[[], None], pause: float, failures: Counter[str]) -> threading.Thread:
    """A thread calling ``op`` until ``stop``; an operation's failure is counted by type (the telemetry the
    library sent about it is the point; the scenario reports the counts)."""

    def run() -> None:
        while not stop.is_set():
            try:
                op()
            except Exception as exc:
                failures[type(exc).__name__] += 1
            stop.wait(pause)

    return threading.Thread(target=run, name="recoup-assess-scenario-load", daemon=True)


def _timeouts(env: ScenarioEnv) -> tuple[float, float]:
    """(detect, recover) bounds: 15 and 40 minutes of shipped rule time, plus slack for a busy machine. Recovery
    needs the longer bound: an error spike also trips RecoverySLOBurnSlow, whose 30-minute short window holds
    the incident open after the fault is gone."""
    return env.scaled(900) + 10.0, env.scaled(2400) + 10.0


def _fault_cycle(env: ScenarioEnv, marks: Marks, on: Callable[[], None], off: Callable[[], None],
                 progress: Progress, stop: threading.Event, *, hold_share: float = HOLD_SHARE,
                 since: float | None = None) -> None:
    """t0, fault on, wait for the incident, hold the fault until ``declared_at + hold_share * rto_target``
    (at once if that has passed when the declaration is seen), heal, wait for resolution. ``since``: the rule
    already fired from this time on (a fault that began before this call)."""
    detect, recover = _timeouts(env)
    started = time.time()
    on()
    marks.t0 = started
    progress("fault on")
    incident = env.wait_declared(detect, started if since is None else since)
    if incident is None:
        marks.notes.append(f"{env.rule} did not fire into an incident within {detect:.1f} s of the fault")
    else:
        progress(f"incident #{incident['id']} declared")
        until = float(incident["declared_at"]) + hold_share * float(incident["rto_target_seconds"])
        stop.wait(max(0.0, until - time.time()))
    marks.t_heal = time.time()
    off()
    progress("healed")
    if incident is not None:
        if env.wait_resolved(int(incident["id"]), recover) is None:
            marks.notes.append(f"incident #{incident['id']} was not resolved within {recover:.1f} s of healing")
        else:
            progress("resolved")


def _failures_note(marks: Marks, failures: Counter[str], what: str) -> None:
    if failures:
        marks.notes.append(f"{what} failed: " + ", ".join(f"{n}× {k}" for k, n in failures.most_common()))


# -- error-rate spike -------------------------------------------------------------------------------------


def error_rate_spike(env: ScenarioEnv, stop: threading.Event, progress: Progress) -> Marks:
    """`checkout` fetches prices from the local dependency through a `Retry` pipeline and reports every
    request it served (a ``requests`` metric, status 200 or 503); the dependency starts answering 503."""
    from recoup.policies.backoff import Backoff
    from recoup.policies.pipeline import Pipeline
    from recoup.policies.retry import Retry

    service, path = "checkout", "/prices"
    sink = env.service_sink(service)
    name = f"{service}.fetch-prices"
    env.router.route(name, sink)
    pipeline = Pipeline(Retry(attempts=2, backoff=Backoff("constant", initial=0.01, jitter="none"), name=name))
    client = httpx.Client(base_url=env.dependency.url, timeout=5.0)
    failures: Counter[str] = Counter()

    def fetch() -> None:
        client.get(path).raise_for_status()

    def op() -> None:
        status = "200"
        try:
            pipeline.call(fetch)
        except httpx.HTTPStatusError:
            status = "503"
            raise
        finally:
            sink.emit(MetricEvent(name="requests", value=1.0, service=service, tags={"status": status}))

    marks = Marks()
    loop_stop = threading.Event()
    try:
        with running([_worker(loop_stop, op, 0.02, failures) for _ in range(2)], loop_stop):
            progress("healthy traffic")
            stop.wait(max(1.0, env.scaled(60)))
            _fault_cycle(env, marks, lambda: env.dependency.set_mode(path, "fail"),
                         lambda: env.dependency.set_mode(path, "ok"), progress, stop)
    finally:
        client.close()
    _failures_note(marks, failures, "requests")
    return marks


# -- resource exhaustion ------------------------------------------------------------------------------------


class _Child:
    """The resource child process and its line protocol, every read bounded by a timeout."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines: Queue[str] = Queue()
        self._reader = threading.Thread(target=self._read, name="recoup-assess-child-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def expect(self, prefix: str, timeout: float) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except Empty:
            raise RuntimeError(f"the resource child did not answer {prefix!r} within {timeout:.0f} s") from None
        if not line.startswith(prefix):
            raise RuntimeError(f"the resource child answered {line!r}, expected {prefix!r}")
        return line

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("stop")
                self.proc.wait(10.0)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5.0)


CHILD_NOFILE = 256


def resource_exhaustion(env: ScenarioEnv, stop: threading.Event, progress: Progress) -> Marks:
    """`reporting` (a child process) reports its resource use with the real `ResourceReporter` at the shipped
    15 s interval, scaled; it then leaks file descriptors: to 85% of its limit (HighResourceUsage, warning),
    then 97% (past the rule's escalation threshold 0.95: critical, which declares an incident)."""
    service = "reporting"
    interval = max(0.05, env.scaled(15))
    argv = [sys.executable, "-m", "recoup.assess.scenario_resource_child", env.server_url, env.ingest_key, service,
            f"{interval:.3f}", str(CHILD_NOFILE), str(env.work_dir)]
    child = _Child(argv)
    marks = Marks(notes=[f"descriptor pressure in a child process with RLIMIT_NOFILE {CHILD_NOFILE}, "
                         f"resources sampled every {interval:.2f} s"])
    detect, _recover = _timeouts(env)
    try:
        child.expect("ready", 30.0)
        progress("healthy traffic")
        stop.wait(max(1.0, env.scaled(30)))

        # The warning stage: leak to 85% and wait for HighResourceUsage to fire as a warning.
        marks.t0 = time.time()
        child.send("pressure 0.85")
        child.expect("pressed", 10.0)
        progress("fds at 85%")
        t0 = marks.t0

        if env.wait(lambda: env.fired(t0), detect) is None:
            marks.notes.append(f"HighResourceUsage did not fire as a warning within {detect:.1f} s")

        def worsen() -> None:
            child.send("pressure 0.97")
            child.expect("pressed", 10.0)

        def heal() -> None:
            child.send("heal")
            child.expect("healed", 10.0)

        _fault_cycle(env, marks, worsen, heal, progress, stop, since=t0)
        marks.t0 = t0  # the fault began with the first leak, not with the push to 97%
    finally:
        child.close()
    return marks


# -- database connection-pool exhaustion --------------------------------------------------------------------


def db_pool_exhaustion(env: ScenarioEnv, stop: threading.Event, progress: Progress) -> Marks:
    """`ledger` runs queries through `RecoveryEngine` on a real SQLAlchemy pool (2 connections, no overflow,
    50 ms pool timeout); the fault is a burst of 16 concurrent operations each holding its connection for an
    eighth of the scaled 30 s RTO target (100 to 300 ms), so the pool raises real ``sqlalchemy.exc.TimeoutError``s
    (steadily enough that the rule's window, 1 minute shipped, stays above its 5 errors even at small time
    scales). The queries in flight when the fault clears still hold their connections that long: the tail of
    the fault, kept short against the target so the RTO judges the system, not the scenario."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import QueuePool

    from recoup.recovery.config import EngineConfig
    from recoup.recovery.engine import RecoveryEngine
    from recoup.store.engine import normalize_url

    service = "ledger"
    url = normalize_url(env.db_url or f"sqlite:///{env.work_dir}/ledger.db")
    connect_args = {"check_same_thread": False} if url.get_backend_name() == "sqlite" else {}
    db = create_engine(url, poolclass=QueuePool, pool_size=2, max_overflow=0, pool_timeout=0.05,
                       connect_args=connect_args)
    # Pool timeouts are resource errors: retried after 10-50 ms, so waiting operations keep meeting the
    # exhausted pool (a steady error rate the rule's window sees, even at small time scales).
    config = EngineConfig().with_category("resource", initial_delay=0.01, max_delay=0.05)
    engine = RecoveryEngine(config, sink=env.service_sink(service))
    failures: Counter[str] = Counter()
    fault = threading.Event()
    workers = 16
    held = min(0.3, max(0.1, env.scaled(30) / 8))

    def op_for(index: int) -> Callable[[], None]:
        def query() -> None:
            with db.connect() as conn:
                conn.execute(text("SELECT 1"))
                time.sleep(held if fault.is_set() else 0.002)

        def op() -> None:
            if index >= 2 and not fault.is_set():
                return  # healthy load: two workers, one connection each
            engine.run(query)

        return op

    marks = Marks(notes=[f"SQLAlchemy pool on {url.get_backend_name()}: pool_size=2, max_overflow=0, "
                         f"pool_timeout=0.05 s; {workers} workers during the fault, each holding its connection "
                         f"{held * 1000:.0f} ms"])
    loop_stop = threading.Event()
    try:
        with running([_worker(loop_stop, op_for(i), 0.02, failures) for i in range(workers)], loop_stop):
            progress("healthy traffic")
            stop.wait(max(1.0, env.scaled(30)))
            _fault_cycle(env, marks, fault.set, fault.clear, progress, stop)
    finally:
        db.dispose()
    _failures_note(marks, failures, "operations")
    return marks


# -- breaker cascade ----------------------------------------------------------------------------------------


CASCADE_SERVICES = ("search", "catalog", "pricing")


def breaker_cascade(env: ScenarioEnv, stop: threading.Event, progress: Progress) -> Marks:
    """Three services call a shared inventory API, each through its own `CircuitBreaker` (3 consecutive
    failures, the library's default 30 s reset timeout scaled, at least 0.25 s); the API starts answering 503.
    A half-open breaker still counts as open (`recoup.incidents.signals`), so probing while the API fails keeps
    the cascade alert firing; after the fix, the first probe closes each breaker: the service is restored
    within one reset timeout, a tenth of the scaled 5-minute RTO target."""
    from recoup.policies.breaker import CircuitBreaker
    from recoup.policies.trip import ConsecutiveFailures

    path = "/inventory"
    reset = max(0.25, env.scaled(30))
    client = httpx.Client(base_url=env.dependency.url, timeout=5.0)
    failures: Counter[str] = Counter()

    def fetch() -> None:
        client.get(path).raise_for_status()

    ops: list[Callable[[], None]] = []
    for service in CASCADE_SERVICES:
        name = f"{service}.inventory-api"
        env.router.route(name, env.service_sink(service))
        breaker = CircuitBreaker(name, trip=ConsecutiveFailures(3), reset_timeout=reset)
        ops.append(lambda b=breaker: b.call(fetch))  # type: ignore[misc]

    marks = Marks(notes=[f"breakers: 3 consecutive failures trip, reset timeout {reset:.2f} s"])
    loop_stop = threading.Event()
    try:
        with running([_worker(loop_stop, op, 0.02, failures) for op in ops], loop_stop):
            progress("healthy traffic")
            stop.wait(max(1.0, env.scaled(30)))
            _fault_cycle(env, marks, lambda: env.dependency.set_mode(path, "fail"),
                         lambda: env.dependency.set_mode(path, "ok"), progress, stop)
    finally:
        client.close()
    _failures_note(marks, failures, "calls")
    return marks


# -- RTO breach ---------------------------------------------------------------------------------------------

#: The RTO the `billing` service sets for its service errors, and how slow the dependency's second answer is.
BILLING_RTO = 0.05
BILLING_SLOW = 0.1
BILLING_SLOW_EVERY = 50
#: Callers of `billing`: enough that a slow recovery comes about every second, a dense enough failure signal
#: that the fault held past the RTO deadline is still seen failing there.
BILLING_WORKERS = 4


def rto_breach(env: ScenarioEnv, stop: threading.Event, progress: Progress) -> Marks:
    """`billing` calls the dependency through `RecoveryEngine` with an RTO of 50 ms for service errors. During
    the fault one call in `BILLING_SLOW_EVERY` meets a dependency that fails it once and answers the retry after
    100 ms: those operations recover, too late (``rto_met`` false -> RecoveryTimeObjectiveBreached), while the
    error rate stays under HighErrorRate's 5%, so the incident is the RTO breach's own. The fault is held past
    the incident's RTO target (`BREACH_HOLD_SHARE`): the recoveries are still too slow at the deadline, so the
    service is not restored in time. Its failure signal is sparse (one slow recovery every second or two), which
    is what the server's recovery watch must not mistake for a recovery."""
    from recoup.recovery.config import EngineConfig
    from recoup.recovery.engine import RecoveryEngine

    service, path, slow_path = "billing", "/billing", "/billing/slow"
    config = EngineConfig().with_category("service", strategies=("backoff",), max_attempts=3, initial_delay=0.01,
                                          rto=BILLING_RTO)
    engine = RecoveryEngine(config, sink=env.service_sink(service))
    client = httpx.Client(base_url=env.dependency.url, timeout=5.0)
    failures: Counter[str] = Counter()
    counter = iter(range(1 << 62))
    lock = threading.Lock()

    def charge(op_id: int) -> None:
        where = slow_path if op_id % BILLING_SLOW_EVERY == 0 else path
        client.get(where, params={"op": str(op_id)}).raise_for_status()

    def op() -> None:
        with lock:
            op_id = next(counter)
        engine.run(charge, op_id)

    marks = Marks(notes=[f"RecoveryEngine RTO {BILLING_RTO * 1000:.0f} ms; during the fault one call in "
                         f"{BILLING_SLOW_EVERY} fails once and its retry is answered after "
                         f"{BILLING_SLOW * 1000:.0f} ms"])
    loop_stop = threading.Event()
    try:
        with running([_worker(loop_stop, op, 0.05, failures) for _ in range(BILLING_WORKERS)], loop_stop):
            progress("healthy traffic")
            stop.wait(max(1.0, env.scaled(30)))
            _fault_cycle(env, marks, lambda: env.dependency.set_mode(slow_path, "fail-once-then-slow"),
                         lambda: env.dependency.set_mode(slow_path, "ok"), progress, stop,
                         hold_share=BREACH_HOLD_SHARE)
    finally:
        client.close()
    _failures_note(marks, failures, "operations")
    return marks


# -- the catalogue of scenarios -------------------------------------------------------------------------------

SPECS: dict[str, ScenarioSpec] = {
    spec.name: spec
    for spec in (
        ScenarioSpec("error_rate_spike", "Error-rate spike", "HighErrorRate", "error_rate_spike", Expectation(),
                     "a local HTTP dependency answers 503 to a Retry pipeline; requests reported with their status",
                     error_rate_spike),
        ScenarioSpec("resource_exhaustion", "Resource exhaustion (file descriptors)", "HighResourceUsage",
                     "resource_exhaustion", Expectation(severities=("warning", "critical")),
                     "a child process leaks real file descriptors to 85% then 97% of its limit; ResourceReporter "
                     "samples", resource_exhaustion),
        ScenarioSpec("db_pool_exhaustion", "Database connection-pool exhaustion", "DatabaseConnectivityFailures",
                     "database_connection_exhaustion", Expectation(),
                     "16 concurrent operations hold connections of a 2-connection SQLAlchemy pool: pool timeouts",
                     db_pool_exhaustion),
        ScenarioSpec("breaker_cascade", "Breaker cascade across services", "CircuitBreakerCascade", "breaker_cascade",
                     Expectation(), "three services' circuit breakers call a shared local API that answers 503",
                     breaker_cascade),
        ScenarioSpec("rto_breach", "RTO breach", "RecoveryTimeObjectiveBreached", "sla_breach",
                     Expectation(rto_breached=True, escalation_notice=True),
                     "RecoveryEngine recoveries slower than their RTO (one call in 50); the incident stays open past "
                     "its RTO target",
                     rto_breach),
    )
}

SCENARIO_NAMES = tuple(SPECS)
