"""Root-cause ranking on fault-injection scenarios with a known cause: top-1 and top-3 accuracy per fault.

    python benchmarks/rootcause.py [--scenarios 62] [--seed 1] [--baseline 1.5] [--fault 3.0] [--misses]

Each scenario starts a fresh, real topology on 127.0.0.1: six HTTP services (threads running
``ThreadingHTTPServer``), PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) each reached through a TCP
proxy written here, so they can be broken without touching the real servers::

    gateway -> auth -> cache(Redis)
            -> api  -> payments
                    -> inventory -> db(PostgreSQL), cache(Redis)
                    -> shipping

Every call between them goes through real recoup policies (`Retry` around a `CircuitBreaker` per edge,
a `Bulkhead` per service), failed calls are reported as `ErrorEvent`s tagged ``dependency=<callee>``,
breaker transitions come from the policy-event bridge, and deploys/config changes are ``deploy`` /
``config_change`` `MetricEvent`s. Load (4 client threads) runs through the gateway with background noise
(0.3% of the requests each service serves fail on their own; a benign deploy or two lands during the
baseline; in half the scenarios a red herring, a burst of 4-10 errors in another service behind the
gateway, lands within a second of the fault). After a healthy baseline ONE node is broken with one fault
(connection refused, 503s, latency, a bad deploy, a bad config change, a database or cache reset /
blackhole through the proxy, worker-pool exhaustion), hitting all requests or, for in-service faults,
only 60% or 30% of them. The incident is "declared" on the gateway when an alert would fire (3 gateway
errors within 1 s) plus 0.2-0.6 s. The ranker sees only the recorded events and that incident (services
and declaration time), never the injected truth.

A "service" truth is hit by a candidate naming that service (either kind); a "change" truth (bad deploy,
bad config) only by the change candidate for that service.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry as RedisRetry

from recoup.analytics.rootcause import Cause, Settings, analyze
from recoup.policies.backoff import Backoff
from recoup.policies.breaker import CircuitBreaker
from recoup.policies.bulkhead import Bulkhead
from recoup.policies.errors import BulkheadFullError
from recoup.policies.retry import Retry
from recoup.policies.trip import ConsecutiveFailures
from recoup.telemetry.bridge import bridge_policy_events
from recoup.telemetry.events import ErrorEvent, MetricEvent, TelemetryEvent
from recoup.telemetry.sinks import EventBus

PG = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)

#: service -> its dependencies, per route
ROUTES: dict[str, dict[str, tuple[str, ...]]] = {
    "gateway": {"/checkout": ("auth/verify", "api/order"), "/browse": ("api/catalog",), "/account": ("auth/verify",)},
    "auth": {"/verify": ("cache",)},
    "api": {"/order": ("payments/charge", "inventory/reserve"), "/catalog": ("inventory/stock", "shipping/quote")},
    "payments": {"/charge": ()},
    "inventory": {"/reserve": ("db",), "/stock": ("cache", "db")},
    "shipping": {"/quote": ()},
}
HTTP_SERVICES = tuple(ROUTES)
BACKENDS = ("db", "cache")

FAULTS: dict[str, tuple[str, ...]] = {
    "refuse": ("auth", "api", "payments", "inventory", "shipping", "db", "cache"),
    "http503": ("auth", "api", "payments", "inventory", "shipping"),
    "latency": ("auth", "payments", "inventory", "shipping", "cache"),
    "reset": ("db", "cache"),
    "bad_deploy": ("auth", "api", "payments", "inventory", "shipping"),
    "bad_config": ("auth", "inventory"),
    "exhaustion": ("auth", "api", "payments", "inventory", "shipping"),
}
CHANGE_FAULTS = frozenset({"bad_deploy", "bad_config"})


class Recorder:
    """Every telemetry event of a scenario, in arrival order (what a store would hold)."""

    def __init__(self) -> None:
        self.events: list[TelemetryEvent] = []
        self._lock = threading.Lock()
        self.bus = EventBus()
        self.bus.subscribe(self.add)

    def add(self, event: TelemetryEvent) -> None:
        with self._lock:
            self.events.append(event)


class TcpProxy:
    """A loopback TCP proxy that can refuse, reset or blackhole connections to a real backend."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.mode = "pass"
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            if self.mode == "reset":
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()
                continue
            with self._lock:
                self._conns.append(client)
            if self.mode == "blackhole":
                continue  # accepted, never answered
            try:
                server = socket.create_connection(self.upstream, timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.append(server)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                if self.mode == "blackhole":
                    continue
                b.sendall(data)
        except OSError:
            pass  # the other side went away: close both ends below
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()

    def break_with(self, mode: str) -> None:
        """Switch to `mode`: ``refuse`` closes the listener, ``reset``/``blackhole`` affect new and open ones."""
        self.mode = mode
        if mode == "refuse":
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close alone would not
            self._sock.close()
        with self._lock:
            conns, self._conns = self._conns, []
        if mode in ("refuse", "reset"):
            for s in conns:
                with contextlib.suppress(OSError):
                    s.close()
        else:
            with self._lock:
                self._conns.extend(conns)

    def close(self) -> None:
        self.break_with("refuse")


class DependencyError(Exception):
    """A dependency answered with an error status."""


@dataclass
class Service:
    """One HTTP service: its routes call its dependencies through Retry + CircuitBreaker, inside a Bulkhead."""

    name: str
    world: World
    rng: random.Random
    fault: str = "ok"
    fault_ratio: float = 1.0
    log_own: bool = True
    noise: float = 0.003
    bulkhead: Bulkhead = field(init=False)
    breakers: dict[str, CircuitBreaker] = field(init=False)
    retry: Retry = field(init=False)
    server: ThreadingHTTPServer = field(init=False)

    def __post_init__(self) -> None:
        self.bulkhead = Bulkhead(8, name=f"{self.name}-workers")
        deps = {call.partition("/")[0] for route in ROUTES[self.name].values() for call in route}
        self.breakers = {d: CircuitBreaker(f"{self.name}->{d}", trip=ConsecutiveFailures(5), reset_timeout=1.0)
                         for d in deps}
        # the edge does not retry (its clients do); inner services retry once
        self.retry = Retry(attempts=1 if self.name == "gateway" else 2, backoff=Backoff.constant(0.02),
                           on=(OSError, DependencyError, psycopg.OperationalError, redis.RedisError))
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = service.handle(self.path)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def emit_error(self, exc: BaseException, route: str, dependency: str = "") -> None:
        tags = {"dependency": dependency} if dependency else {}
        self.world.recorder.bus.emit(ErrorEvent.from_exception(exc, service=self.name, operation=route, tags=tags,
                                                               classify=True, include_traceback=False))

    def handle(self, route: str) -> int:
        if route not in ROUTES[self.name]:
            return 404
        try:
            with self.bulkhead:
                return self._serve(route)
        except BulkheadFullError as exc:
            self.emit_error(exc, route)
            return 503

    def _serve(self, route: str) -> int:
        if self.fault != "ok" and self.rng.random() >= self.fault_ratio:
            pass  # a partial fault: this request is spared
        elif self.fault == "latency":
            time.sleep(1.5)
        elif self.fault == "http503":
            if self.log_own:
                self.emit_error(ConnectionRefusedError(f"{self.name}: service unavailable (overloaded)"), route)
            return 503
        elif self.fault == "bad_deploy":
            try:
                raise KeyError(f"{route.strip('/')}_v2_schema")
            except KeyError as exc:
                self.emit_error(exc, route)
                return 500
        if self.rng.random() < self.noise:
            self.emit_error(ValueError(f"{self.name}: malformed record in {route}"), route)
            return 500
        for call in ROUTES[self.name][route]:
            dep, _, path = call.partition("/")
            try:
                self.retry.call(self.breakers[dep].call, self.world.call, self.name, dep, "/" + path)
            except Exception as exc:  # every failed call is reported, then answered with 502
                self.emit_error(exc, route, dep)
                return 502
        return 200


class World:
    """The whole topology of one scenario."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.recorder = Recorder()
        self.proxies = {"db": TcpProxy(PG), "cache": TcpProxy(REDIS)}
        self.backend_port = {name: proxy.port for name, proxy in self.proxies.items()}
        self._redis: dict[int, redis.Redis] = {}
        self._stop_bridge = bridge_policy_events(self.recorder.bus)
        self.services = {name: Service(name, self, random.Random(self.rng.random())) for name in HTTP_SERVICES}
        self.stopped = threading.Event()

    def call(self, caller: str, dep: str, route: str) -> None:
        if dep == "db":
            port = self.backend_port["db"]
            with psycopg.connect(host="127.0.0.1", port=port, dbname="test", user="postgres", connect_timeout=2) as c:
                c.execute("SELECT 1").fetchone()
            return
        if dep == "cache":
            port = self.backend_port["cache"]
            client = self._redis.get(port)
            if client is None:
                # recoup's Retry retries; redis-py's own retries (3, with backoff) would stall the caller seconds
                client = self._redis[port] = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.4,
                                                         socket_connect_timeout=0.4, retry=RedisRetry(NoBackoff(), 0))
            client.get("recoup:rootcause:session")
            return
        timeout = 1.0 if caller == "gateway" else 0.4
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.services[dep].port}{route}", timeout=timeout) as r:
                r.read()
        except urllib.error.HTTPError as exc:
            raise DependencyError(f"{dep}{route} answered HTTP {exc.code}") from None

    def load(self, rng: random.Random) -> None:
        port = self.services["gateway"].port
        routes = list(ROUTES["gateway"])
        while not self.stopped.is_set():
            url = f"http://127.0.0.1:{port}{rng.choice(routes)}"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=4) as r:
                r.read()
            time.sleep(0.02)

    def change(self, service: str, name: str, version: str) -> None:
        self.recorder.bus.emit(MetricEvent(name=name, value=1.0, service=service, tags={"version": version}))

    def inject(self, fault: str, target: str, rng: random.Random) -> None:
        if target in self.proxies:
            proxy = self.proxies[target]
            proxy.break_with({"refuse": "refuse", "reset": "reset", "latency": "blackhole"}[fault])
            if target == "cache":
                for client in self._redis.values():
                    client.connection_pool.disconnect()
            return
        svc = self.services.get(target)
        if fault == "bad_config":
            backend = next(d for route in ROUTES[target].values() for d in route if d in BACKENDS)
            self.change(target, "config_change", f"{backend}.port={self.backend_port[backend] + 1}")
            self.backend_port[backend] = _closed_port()
            return
        assert svc is not None
        if fault == "refuse":
            svc.server.shutdown()
            svc.server.server_close()
        elif fault == "bad_deploy":
            self.change(target, "deploy", f"v{rng.randint(2, 9)}.{rng.randint(0, 20)}")
            svc.fault = "bad_deploy"
        elif fault == "exhaustion":
            self.world_leak(svc)
        else:
            svc.log_own = rng.random() < 0.5
            svc.fault = fault
        if svc.fault != "ok":
            svc.fault_ratio = rng.choice((1.0, 1.0, 0.6, 0.3))

    def herring(self, service: str, count: int) -> None:
        """A red herring: a short burst of errors in a service that is not the cause (a batch job failing),
        which its callers never see."""
        for _ in range(count):
            self.services[service].emit_error(RuntimeError(f"{service}: nightly reindex step failed"), "/batch")
            time.sleep(0.03)

    def world_leak(self, svc: Service) -> None:
        """A leak that takes every worker slot and never gives them back (until the scenario ends)."""
        self.recorder.bus.emit(MetricEvent(name="db_pool_usage", value=1.0, service=svc.name))
        for _ in range(8):
            threading.Thread(target=self._hold, args=(svc.bulkhead,), daemon=True).start()

    def _hold(self, bulkhead: Bulkhead) -> None:
        with contextlib.suppress(BulkheadFullError), bulkhead:  # full already: the leak has done its work
            self.stopped.wait()

    def close(self) -> None:
        self.stopped.set()
        self._stop_bridge()
        for svc in self.services.values():
            with contextlib.suppress(OSError):
                svc.server.shutdown()
                svc.server.server_close()
        for proxy in self.proxies.values():
            proxy.close()
        for client in self._redis.values():
            client.close()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Incident:
    """What the ranker is told: the alerting services and when the incident was declared."""

    services: tuple[str, ...]
    declared_at: float


@dataclass(frozen=True)
class Outcome:
    fault: str
    target: str
    seed: int
    rank: int | None  # 1-based rank of the first hit, None when missed
    causes: tuple[Cause, ...]
    events: int


def is_hit(cause: Cause, fault: str, target: str) -> bool:
    if fault in CHANGE_FAULTS:
        return cause.kind == "change" and cause.service == target
    return cause.service == target


#: seconds of events after the declaration that the ranker reads
AFTER = 0.3


def settings_for(fault_seconds: float) -> Settings:
    """The ranker's time scales for seconds-long scenarios (defaults are for real incidents: minutes)."""
    return Settings(lookback=2.5, baseline=1.0, after=AFTER, burst=0.5, min_burst=3, change_tau=0.5)


def alert_time(
    events: list[TelemetryEvent], service: str, since: float, count: int = 3, window: float = 1.0
) -> float | None:
    """When an error-count alert on `service` (`count` errors within `window` seconds) fires after `since`."""
    times = sorted(e.timestamp for e in list(events) if isinstance(e, ErrorEvent) and e.service == service
                   and e.timestamp >= since)
    for i in range(count - 1, len(times)):
        if times[i] - times[i - count + 1] <= window:
            return times[i]
    return None


def run_scenario(fault: str, target: str, seed: int, *, baseline: float, fault_seconds: float) -> Outcome:
    rng = random.Random(f"{seed}:{fault}:{target}")
    world = World(seed)
    try:
        loaders = [threading.Thread(target=world.load, args=(random.Random(rng.random()),), daemon=True)
                   for _ in range(4)]
        for t in loaders:
            t.start()
        pre = baseline + rng.uniform(0.0, 0.5)
        started = time.time()
        for _ in range(rng.choice((1, 2))):  # benign changes during the baseline
            at = started + rng.uniform(0.2, pre - 0.3)
            threading.Timer(at - time.time(), world.change,
                            (rng.choice(HTTP_SERVICES), "deploy", f"v1.{rng.randint(0, 99)}")).start()
        if rng.random() < 0.5:  # a red herring somewhere else, shortly before or after the fault
            # not on the gateway: errors there would fire the incident's own alert, making it another incident
            other = rng.choice([s for s in HTTP_SERVICES if s not in (target, "gateway")])
            threading.Timer(pre + rng.uniform(-1.0, 0.5), world.herring, (other, rng.randint(4, 10))).start()
        time.sleep(pre)
        fault_at = time.time()
        world.inject(fault, target, rng)
        delay = rng.uniform(0.2, 0.6)
        declared_at = None
        while time.time() < fault_at + fault_seconds:  # an alert on the gateway's errors declares the incident
            time.sleep(0.05)
            if declared_at is None:
                alert = alert_time(world.recorder.events, "gateway", fault_at)
                declared_at = None if alert is None else alert + delay
            if declared_at is not None and time.time() > declared_at + AFTER:
                break
    finally:
        world.close()
    for t in loaders:
        t.join(timeout=5)
    events = list(world.recorder.events)
    if declared_at is None:  # no alert fired: declared by hand at the end of the window
        declared_at = fault_at + fault_seconds
    causes = analyze(events, declared_at=declared_at, services=("gateway",), settings=settings_for(fault_seconds))
    rank = next((i + 1 for i, c in enumerate(causes) if is_hit(c, fault, target)), None)
    return Outcome(fault, target, seed, rank, tuple(causes[:5]), len(events))


def plan(count: int, seed: int) -> Iterator[tuple[str, str, int]]:
    """`count` (fault, target, seed) triples cycling through every fault and target, seeded."""
    combos = [(f, t) for f, targets in FAULTS.items() for t in targets]
    rng = random.Random(seed)
    for i in range(count):
        fault, target = combos[i % len(combos)]
        yield fault, target, rng.randrange(1_000_000)


def report(outcomes: list[Outcome], elapsed: float, out: Callable[[str], None] = print) -> tuple[float, float]:
    by_fault: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_fault[o.fault].append(o)
    out(f"{'fault':<12} {'n':>3} {'top-1':>7} {'top-3':>7}")
    for fault, items in by_fault.items():
        t1 = sum(1 for o in items if o.rank == 1) / len(items)
        t3 = sum(1 for o in items if o.rank is not None and o.rank <= 3) / len(items)
        out(f"{fault:<12} {len(items):>3} {t1:>7.1%} {t3:>7.1%}")
    top1 = sum(1 for o in outcomes if o.rank == 1) / len(outcomes)
    top3 = sum(1 for o in outcomes if o.rank is not None and o.rank <= 3) / len(outcomes)
    out(f"{'all':<12} {len(outcomes):>3} {top1:>7.1%} {top3:>7.1%}   (targets: top-1 >= 90%, top-3 >= 98%)")
    out(f"{len(outcomes)} scenarios in {elapsed:.0f}s, "
        f"{sum(o.events for o in outcomes) / len(outcomes):.0f} events per scenario on average")
    return top1, top3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", type=int, default=62, help="62 = every (fault, target) pair twice")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline", type=float, default=1.5, help="healthy seconds before the fault")
    parser.add_argument("--fault", type=float, default=3.0, help="most seconds recorded after the fault")
    parser.add_argument("--misses", action="store_true", help="print the ranking of every scenario not hit first")
    args = parser.parse_args(argv)
    started = time.monotonic()
    outcomes = []
    for fault, target, seed in plan(args.scenarios, args.seed):
        o = run_scenario(fault, target, seed, baseline=args.baseline, fault_seconds=args.fault)
        outcomes.append(o)
        if args.misses and o.rank != 1:
            print(f"-- {fault} on {target} (seed {seed}): rank {o.rank}", file=sys.stderr)
            for c in o.causes:
                print(f"   {c.score:.3f} {c.kind:<7} {c.name}: {' | '.join(c.evidence)}", file=sys.stderr)
    report(outcomes, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
