"""The load generator of benchmarks/ingest.py, run as its own process so it competes with the server for
CPU the way a real client on the same host would, and so its CPU use can be told apart from the server's.

It keeps ``--concurrency`` keep-alive HTTP connections busy (asyncio + aiohttp, one request in flight per
connection) for a warm-up and then a measured window, and prints one JSON object on stdout: completed
requests and events in the window, latency percentiles, errors by status, every event acknowledged over the
whole run (what the database must hold afterwards), and the CPU used by itself, the server process and
(for PostgreSQL) the database's backends during the window.

Payloads (built from templates, so a request costs the client a string join, not a serialisation):

* ``native``: ``POST /api/v1/events`` with ``{"events": [...]}`` of ``--batch`` recoup `ErrorEvent` dicts
  (``to_dict()`` output, as `recoup.telemetry.http_sink.HttpSink` sends them, uncompressed), drawn from a
  pool of realistic errors with varying details, each with a unique id and 6-12 traceback frames.
* ``sentry``: ``POST /api/<project>/envelope/`` with one event per envelope in the shape sentry-sdk 2.x
  produces (exception with ~10 frames with context lines and vars, tags, contexts, sdk), gzip-compressed
  (level 1 here to spare the client's CPU; the server's inflate cost barely depends on the level).
* ``alertmanager``: ``POST /api/v2/alerts`` with a JSON array of ``--batch`` alerts, each with a unique
  label set.

Run directly only for debugging; `benchmarks/ingest.py` starts it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import secrets
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from recoup.telemetry.events import ErrorEvent, Frame

CLK_TCK = os.sysconf("SC_CLK_TCK")

# -- realistic errors -----------------------------------------------------------------------------------


def _ip(rng: random.Random) -> str:
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


#: (exception type, message factory, service, operation, app frames (file, function, line of code))
ErrorKind = tuple[str, Callable[[random.Random], str], str, str, list[tuple[str, str, str]]]

_CHECKOUT = [
    ("app/api/checkout.py", "create_order", "order = await orders.place(cart, customer)"),
    ("app/services/orders.py", "place", "payment = await self.payments.charge(order.total, customer.card)"),
    ("app/services/payments.py", "charge", "resp = await self.client.post('/v1/charges', json=body)"),
]
_USERS = [
    ("app/api/users.py", "update_profile", "user = repo.update(user_id, **payload.dict())"),
    ("app/repositories/users.py", "update", "self.session.flush()"),
]
_WORKER = [
    ("worker/main.py", "run", "await self.handle(message)"),
    ("worker/handlers/sync.py", "handle", "rows = await self.fetch_batch(message.cursor)"),
    ("worker/handlers/sync.py", "fetch_batch", "return await self.db.fetch(QUERY, cursor, limit)"),
]
_LIB = {
    "httpx": [
        ("site-packages/httpx/_client.py", "send", "response = await self._send_handling_auth("),
        ("site-packages/httpx/_transports/default.py", "handle_async_request",
         "resp = await self._pool.handle_async_request(req)"),
    ],
    "psycopg": [
        ("site-packages/psycopg/connection_async.py", "connect", "rv = await cls._wait_conn(gen, timeout=timeout)"),
        ("site-packages/psycopg/connection_async.py", "_wait_conn",
         "return await waiting.wait_conn_async(gen, timeout)"),
    ],
    "sqlalchemy": [
        ("site-packages/sqlalchemy/orm/session.py", "flush", "self._flush(objects)"),
        ("site-packages/sqlalchemy/engine/default.py", "do_execute", "cursor.execute(statement, parameters)"),
    ],
    "redis": [
        ("site-packages/redis/client.py", "execute_command", "return conn.retry.call_with_retry("),
        ("site-packages/redis/connection.py", "connect", "sock = self.retry.call_with_retry(lambda: self._connect(), "),
    ],
    "stdlib": [
        ("lib/python3.11/socket.py", "create_connection", "sock.connect(sa)"),
    ],
}

ERROR_KINDS: list[ErrorKind] = [
    ("ConnectionRefusedError", lambda r: "[Errno 111] Connection refused", "checkout", "payments.charge",
     _CHECKOUT + _LIB["stdlib"]),
    ("TimeoutError", lambda r: "timed out", "checkout", "payments.charge", _CHECKOUT + _LIB["stdlib"]),
    ("httpx.ConnectTimeout", lambda r: f"timed out connecting to api{r.randrange(1, 4)}.payments.example.com:443",
     "checkout", "payments.charge", _CHECKOUT + _LIB["httpx"]),
    ("httpx.HTTPStatusError",
     lambda r: (f"Server error '{r.choice(['502 Bad Gateway', '503 Service Unavailable', '504 Gateway Timeout'])}' "
                f"for url 'https://api.payments.example.com/v1/charges/ch_{_hex(r, 16)}'"),
     "checkout", "payments.charge", _CHECKOUT + _LIB["httpx"]),
    ("httpx.HTTPStatusError",
     lambda r: f"Client error '429 Too Many Requests' for url 'https://api.payments.example.com/v1/customers/{r.randrange(10**6)}'",
     "checkout", "payments.charge", _CHECKOUT + _LIB["httpx"]),
    ("psycopg.OperationalError",
     lambda r: (f'connection failed: connection to server at "{_ip(r)}", port 5432 failed: '
                "Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?"),
     "sync-worker", "db.fetch", _WORKER + _LIB["psycopg"]),
    ("psycopg.errors.QueryCanceled",
     lambda r: "canceling statement due to statement timeout", "sync-worker", "db.fetch", _WORKER + _LIB["psycopg"]),
    ("psycopg.errors.DeadlockDetected",
     lambda r: (f"deadlock detected\nDETAIL:  Process {r.randrange(1000, 99999)} waits for ShareLock on transaction "
                f"{r.randrange(10**6, 10**8)}; blocked by process {r.randrange(1000, 99999)}."),
     "sync-worker", "db.fetch", _WORKER + _LIB["psycopg"]),
    ("sqlalchemy.exc.IntegrityError",
     lambda r: ("(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint \"users_email_key\"\n"
                f"DETAIL:  Key (email)=(user{r.randrange(10**6)}@example.com) already exists."),
     "accounts", "users.update", _USERS + _LIB["sqlalchemy"]),
    ("sqlalchemy.exc.OperationalError",
     lambda r: "(sqlite3.OperationalError) database is locked", "accounts", "users.update",
     _USERS + _LIB["sqlalchemy"]),
    ("redis.exceptions.ConnectionError",
     lambda r: f"Error 111 connecting to redis-{r.randrange(3)}.cache.svc:6379. Connection refused.",
     "accounts", "session.load", _USERS + _LIB["redis"]),
    ("redis.exceptions.TimeoutError", lambda r: "Timeout reading from socket", "accounts", "session.load",
     _USERS + _LIB["redis"]),
    ("KeyError", lambda r: repr(r.choice(["user_id", "customer", "shipping_address", "sku"])), "checkout",
     "orders.place", _CHECKOUT[:2]),
    ("ValueError", lambda r: f"invalid literal for int() with base 10: '{_hex(r, 6)}'", "sync-worker",
     "parse.row", _WORKER),
    ("PermissionError", lambda r: f"[Errno 13] Permission denied: '/var/lib/sync/cache/{_hex(r, 8)}.json'",
     "sync-worker", "cache.write", _WORKER),
    ("json.decoder.JSONDecodeError",
     lambda r: f"Expecting value: line 1 column {r.randrange(1, 80)} (char {r.randrange(0, 79)})",
     "sync-worker", "parse.row", _WORKER),
    ("OSError", lambda r: "[Errno 28] No space left on device", "sync-worker", "cache.write", _WORKER),
    ("RuntimeError", lambda r: f"order {r.randrange(10**7)} is in state 'cancelled', cannot capture payment",
     "checkout", "orders.place", _CHECKOUT[:2]),
]


def _frames(rng: random.Random, app: list[tuple[str, str, str]]) -> list[tuple[str, str, str, int]]:
    """6-12 frames: a framework prefix, the app's frames, then the library's."""
    framework = [
        ("site-packages/starlette/routing.py", "handle", "await self.app(scope, receive, send)"),
        ("site-packages/starlette/routing.py", "app", "response = await func(request)"),
        ("site-packages/fastapi/routing.py", "run_endpoint_function", "return await dependant.call(**values)"),
        ("site-packages/starlette/middleware/errors.py", "__call__", "await self.app(scope, receive, _send)"),
        ("site-packages/starlette/middleware/exceptions.py", "__call__", "await self.app(scope, receive, sender)"),
        ("site-packages/anyio/_backends/_asyncio.py", "run", "result = context.run(func, *args)"),
    ]
    depth = max(6, min(12, len(app) + rng.randrange(3, 7)))
    chosen = framework[: max(0, depth - len(app))] + app
    base = "/srv/app/.venv/lib/python3.11/" if rng.random() < 0.5 else "/usr/local/lib/python3.11/"
    out = []
    for filename, function, line in chosen:
        path = base + filename if filename.startswith(("site-packages", "lib/")) else "/srv/app/" + filename
        out.append((path.replace("lib/python3.11/lib/python3.11/", "lib/python3.11/"), function, line,
                    rng.randrange(12, 900)))
    return out


# -- payload factories ------------------------------------------------------------------------------------


class Ids:
    """Unique 32-hex ids: a random per-run prefix and a counter."""

    def __init__(self) -> None:
        self.prefix = secrets.token_hex(6)  # 12 hex
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"{self.prefix}{self.n:020x}"


@dataclass
class Request:
    body: bytes
    events: int


class NativePayloads:
    """``{"events": [...]}`` of ``batch`` ErrorEvent dicts with fresh ids; the rest of each event comes from
    a pool of pre-serialised variants, split around the id."""

    path = "/api/v1/events"

    def __init__(self, key: str, batch: int, seed: int = 1, pool: int = 4096) -> None:
        rng = random.Random(seed)
        self.batch = batch
        self.ids = Ids()
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}",
                        "User-Agent": "recoup/bench"}
        now = time.time()
        self.pool: list[tuple[str, str]] = []
        marker = "@@ID@@"
        for i in range(pool):
            etype, message, service, operation, app = ERROR_KINDS[rng.randrange(len(ERROR_KINDS))]
            frames = tuple(Frame(path, lineno, fn, line) for path, fn, line, lineno in _frames(rng, app))
            event = ErrorEvent(
                exception_type=etype, message=message(rng), service=service, operation=operation,
                frames=frames, timestamp=now - (pool - i) * 0.001, id=marker,
                tags={"env": rng.choice(["production", "staging"]),
                      "region": rng.choice(["eu-west-1", "us-east-1"]),
                      "version": f"1.{rng.randrange(4, 9)}.{rng.randrange(20)}",
                      "host": f"{service}-{rng.randrange(8)}"},
            )
            text = json.dumps(event.to_dict(), separators=(",", ":"))
            head, _, tail = text.partition(marker)
            self.pool.append((head, tail))
        self.rng = rng

    def next(self) -> Request:
        start = self.rng.randrange(len(self.pool))
        pool, n = self.pool, len(self.pool)
        parts = []
        for i in range(self.batch):
            head, tail = pool[(start + i * 7) % n]
            parts.append(head + self.ids.next() + tail)
        return Request(('{"events":[' + ",".join(parts) + "]}").encode(), self.batch)


class SentryPayloads:
    """One error event per envelope, shaped like sentry-sdk 2.x output, gzip-compressed."""

    def __init__(self, key: str, project_id: int, base_url: str, seed: int = 2, pool: int = 1024) -> None:
        rng = random.Random(seed)
        self.path = f"/api/{project_id}/envelope/"
        self.ids = Ids()
        self.headers = {
            "Content-Type": "application/x-sentry-envelope",
            "Content-Encoding": "gzip",
            "User-Agent": "sentry.python/2.75.0",
            "X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7, sentry_client=sentry.python/2.75.0",
        }
        host = base_url.split("://", 1)[1]
        self.dsn = f"http://{key}@{host}/{project_id}"
        self.pool: list[tuple[str, str]] = []
        marker = "@@ID@@"
        for _ in range(pool):
            self.pool.append(self._template(rng, marker))
        self.rng = rng

    def _template(self, rng: random.Random, marker: str) -> tuple[str, str]:
        etype, message, service, operation, app = ERROR_KINDS[rng.randrange(len(ERROR_KINDS))]
        module, _, name = etype.rpartition(".")
        frames = []
        for path, fn, line, lineno in reversed(_frames(rng, app)):  # sentry lists outermost first
            in_app = path.startswith("/srv/app/") and "site-packages" not in path
            frames.append({
                "filename": path.rsplit("site-packages/", 1)[-1] if not in_app else path[len("/srv/app/"):],
                "abs_path": path, "function": fn,
                "module": path.rsplit("/", 1)[-1].removesuffix(".py"), "lineno": lineno,
                "pre_context": ["", "    try:", f"        # {fn}"], "context_line": "        " + line,
                "post_context": ["    except Exception:", "        raise", ""],
                "vars": {"self": f"<{fn.title()} object at 0x7f{_hex(rng, 10)}>", "retries": str(rng.randrange(4)),
                         "timeout": "5.0", "request_id": f"'{_hex(rng, 16)}'"},
                "in_app": in_app,
            })
        frames.reverse()
        now = datetime.now(UTC)
        event = {
            "level": "error",
            "exception": {"values": [{
                "mechanism": {"type": "generic", "handled": rng.random() < 0.7},
                "module": module or None, "type": name, "value": message(rng),
                "stacktrace": {"frames": frames},
            }]},
            "event_id": marker,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "contexts": {
                "trace": {"trace_id": _hex(rng, 32), "span_id": _hex(rng, 16), "parent_span_id": None},
                "runtime": {"name": "CPython", "version": "3.11.7", "build": "3.11.7 (main) [GCC 12.2.0]"},
            },
            "tags": {"service": service, "operation": operation, "region": rng.choice(["eu-west-1", "us-east-1"]),
                     "customer_tier": rng.choice(["free", "pro", "enterprise"])},
            "transaction_info": {},
            "breadcrumbs": {"values": [
                {"type": "http", "category": "httplib", "level": "info",
                 "timestamp": (now - timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
                 "data": {"url": "https://api.payments.example.com/v1/charges", "method": "POST",
                          "status_code": 200}},
            ]},
            "release": f"{service}@1.{rng.randrange(4, 9)}.{rng.randrange(20)}",
            "environment": rng.choice(["production", "staging"]),
            "server_name": f"{service}-{rng.randrange(8)}",
            "sdk": {"name": "sentry.python", "version": "2.75.0",
                    "packages": [{"name": "pypi:sentry-sdk", "version": "2.75.0"}],
                    "integrations": ["argv", "atexit", "dedupe", "excepthook", "logging", "modules", "stdlib",
                                     "threading", "fastapi", "starlette"]},
            "platform": "python",
        }
        text = json.dumps(event, separators=(",", ":"))
        head, _, tail = text.partition(marker)
        return head, tail

    def next(self) -> Request:
        head, tail = self.pool[self.rng.randrange(len(self.pool))]
        eid = self.ids.next()
        body = (head + eid + tail).encode()
        sent_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        envelope = (
            json.dumps({"event_id": eid, "sent_at": sent_at, "dsn": self.dsn}, separators=(",", ":")).encode()
            + b"\n" + json.dumps({"type": "event", "content_type": "application/json", "length": len(body)},
                                 separators=(",", ":")).encode()
            + b"\n" + body + b"\n"
        )
        compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return Request(compressor.compress(envelope) + compressor.flush(), 1)


class AlertPayloads:
    """A JSON array of ``batch`` Alertmanager v2 alerts, each with a unique label set."""

    path = "/api/v2/alerts"

    def __init__(self, batch: int, seed: int = 3, pool: int = 4096) -> None:
        rng = random.Random(seed)
        self.batch = batch
        self.ids = Ids()
        self.headers = {"Content-Type": "application/json", "User-Agent": "Prometheus/2.45.0"}
        marker = "@@ID@@"
        starts = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        names = [("HighErrorRate", "critical"), ("InstanceDown", "critical"), ("HighLatencyP99", "warning"),
                 ("DiskWillFillIn4Hours", "warning"), ("PostgresReplicationLag", "warning"),
                 ("KubePodCrashLooping", "warning"), ("CertificateExpiresSoon", "info")]
        self.pool: list[tuple[str, str]] = []
        for _ in range(pool):
            name, severity = rng.choice(names)
            service = rng.choice(["checkout", "accounts", "sync-worker", "gateway"])
            alert = {
                "labels": {"alertname": name, "severity": severity, "service": service,
                           "instance": f"{_ip(rng)}:9100", "job": f"{service}-exporter", "uid": marker},
                "annotations": {"summary": f"{name} on {service}",
                                "description": f"{name} has been firing for more than 5 minutes on {service}.",
                                "runbook_url": f"https://runbooks.example.com/{name.lower()}"},
                "startsAt": starts,
                "generatorURL": f"http://prometheus:9090/graph?g0.expr=job%3D%22{service}%22",
            }
            head, _, tail = json.dumps(alert, separators=(",", ":")).partition(marker)
            self.pool.append((head, tail))
        self.rng = rng

    def next(self) -> Request:
        start = self.rng.randrange(len(self.pool))
        pool, n = self.pool, len(self.pool)
        parts = []
        for i in range(self.batch):
            head, tail = pool[(start + i * 7) % n]
            parts.append(head + self.ids.next() + tail)
        return Request(("[" + ",".join(parts) + "]").encode(), self.batch)


# -- CPU accounting -----------------------------------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads) from /proc; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return 0.0
    fields = data.rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the workers of ``recoup serve --workers N``), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, ()))
    return out


def postgres_backends(database: str) -> list[int]:
    """PostgreSQL processes working for ``database``: their title is ``postgres: ... <database> ...``
    (client backends and autovacuum workers)."""
    out = []
    needle = f" {database} ".encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    title = f.read()
                if title.startswith(b"postgres:") and needle in title.replace(b"\0", b" ") + b" ":
                    out.append(int(entry))
            except OSError:
                continue
    return out


def host_busy_seconds() -> float:
    """CPU seconds spent not idle by all cores together, from /proc/stat."""
    with open("/proc/stat", "rb") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / CLK_TCK


def self_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@dataclass
class CpuSnapshot:
    at: float
    client: float
    server: dict[int, float]  # the server process and its worker processes
    db: dict[int, float]
    host: float

    @classmethod
    def take(cls, server_pid: int | None, db_match: str | None) -> CpuSnapshot:
        db = {pid: proc_cpu_seconds(pid) for pid in postgres_backends(db_match)} if db_match else {}
        server = {pid: proc_cpu_seconds(pid) for pid in process_tree(server_pid)} if server_pid else {}
        return cls(time.perf_counter(), self_cpu_seconds(), server, db, host_busy_seconds())


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the processes alive at both snapshots spent between them."""
    return sum(after[pid] - before[pid] for pid in after if pid in before)


# -- the load loop ----------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def run_load(args: argparse.Namespace) -> dict[str, Any]:
    base = args.url.rstrip("/")
    factory: NativePayloads | SentryPayloads | AlertPayloads
    if args.kind == "native":
        factory = NativePayloads(args.key, args.batch)
    elif args.kind == "sentry":
        factory = SentryPayloads(args.key, args.project_id, base)
    else:
        factory = AlertPayloads(args.batch)
    url = base + factory.path
    headers = factory.headers

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    window = {"start": float("inf"), "end": float("inf")}
    totals = {"acked_events": 0, "acked_requests": 0, "sent_requests": 0, "bytes": 0, "window_events": 0,
              "window_requests": 0, "window_errors": 0}
    samples: list[str] = []
    stop = asyncio.Event()

    connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=False, enable_cleanup_closed=True)
    timeout = aiohttp.ClientTimeout(total=args.timeout)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            request = factory.next()
            totals["sent_requests"] += 1
            totals["bytes"] += len(request.body)
            t0 = time.perf_counter()
            try:
                async with session.post(url, data=request.body, headers=headers) as response:
                    body = await response.read()
                    status = str(response.status)
            except (TimeoutError, aiohttp.ClientError) as exc:
                status, body = type(exc).__name__, b""
            t1 = time.perf_counter()
            ok = status.startswith("2")
            if ok:
                totals["acked_events"] += request.events
                totals["acked_requests"] += 1
            elif len(samples) < 3:
                samples.append(f"{status}: {body[:300].decode(errors='replace')}")
            if window["start"] <= t1 <= window["end"]:
                statuses[status] += 1
                if ok:
                    totals["window_requests"] += 1
                    totals["window_events"] += request.events
                    latencies.append(t1 - t0)
                else:
                    totals["window_errors"] += 1

    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=True) as session:
        tasks = [asyncio.create_task(worker(session)) for _ in range(args.concurrency)]
        await asyncio.sleep(args.warmup)
        before = CpuSnapshot.take(args.server_pid, args.db_match)
        window["start"] = before.at
        await asyncio.sleep(args.seconds)
        after = CpuSnapshot.take(args.server_pid, args.db_match)
        window["end"] = after.at
        stop.set()
        await asyncio.gather(*tasks)  # in-flight requests finish: their events count as acknowledged

    elapsed = after.at - before.at
    latencies.sort()
    db_cpu = _spent(before.db, after.db)
    server_cpu = _spent(before.server, after.server)
    return {
        "kind": args.kind,
        "url": url,
        "concurrency": args.concurrency,
        "batch": args.batch if args.kind != "sentry" else 1,
        "seconds": elapsed,
        "requests": totals["window_requests"],
        "events": totals["window_events"],
        "events_per_s": totals["window_events"] / elapsed,
        "requests_per_s": totals["window_requests"] / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p90_ms": percentile(latencies, 0.90) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] * 1000) if latencies else float("nan"),
        "errors": totals["window_errors"],
        "statuses": dict(statuses),
        "error_samples": samples,
        "acked_events_total": totals["acked_events"],
        "acked_requests_total": totals["acked_requests"],
        "sent_requests_total": totals["sent_requests"],
        "mean_body_bytes": totals["bytes"] / max(1, totals["sent_requests"]),
        "client_cpu_pct": 100 * (after.client - before.client) / elapsed,
        "server_cpu_pct": 100 * server_cpu / elapsed,
        "db_cpu_pct": 100 * db_cpu / elapsed if args.db_match else None,
        # everything else busy on the host meanwhile (other processes, kernel softirq for loopback, ...)
        "other_cpu_pct": 100 * ((after.host - before.host) - (after.client - before.client)
                                - server_cpu - db_cpu) / elapsed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=["native", "sentry", "alertmanager"], required=True)
    parser.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--key", default="", help="ingest public key (native, sentry)")
    parser.add_argument("--project-id", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    parser.add_argument("--server-pid", type=int, default=None,
                        help="process whose CPU use is reported as the server's")
    parser.add_argument("--db-match", default=None,
                        help="PostgreSQL database whose backends' CPU is reported as the database's")
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(run_load(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
