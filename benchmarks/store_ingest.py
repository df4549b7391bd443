"""Micro-benchmark of the store's ingest alone: µs per event of `Store.ingest_events` and `Store.ingest_many`
on SQLite and PostgreSQL, without HTTP, parsing or classification in the way.

Events look like what the server stores: Sentry-shaped payloads of ~1-8 KB (stack frames with context
lines, breadcrumbs, tags, request data), batches of ``--batch`` events (250) spread over ~20 fingerprints
drawn from a pool, so most batches hit groups that already exist and some create new ones. The events are
built (and validated, which makes their ``payload_json``) before the clock starts: only the store is timed.

Each case runs on a fresh database (a new SQLite file; a throw-away PostgreSQL database on
``--pg-admin-url``'s server, dropped afterwards), after ``--warmup`` batches, and reports per event:

* wall: elapsed time (SQLite includes one fsync per transaction: synchronous=FULL);
* cpu: this process's CPU (the Python side: SQLAlchemy, the driver, the store);
* db cpu: PostgreSQL's backends serving the benchmark database (read from /proc; same machine).

    .venv/bin/python benchmarks/store_ingest.py                      # both databases, both calls
    .venv/bin/python benchmarks/store_ingest.py --db postgresql --batches 40
    .venv/bin/python benchmarks/store_ingest.py --db sqlite --profile /tmp/store.prof   # cProfile, top 30
    .venv/bin/python benchmarks/store_ingest.py --pg-breakdown --batches 60   # where PostgreSQL's CPU goes
    .venv/bin/python benchmarks/store_ingest.py --pg-breakdown --batches 60 --native-events
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
FINGERPRINT_POOL = 400
FINGERPRINTS_PER_BATCH = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")

_TEXT = (
    "connection reset by peer timeout upstream request failed retry backoff circuit open payment gateway "
    "order checkout invoice customer session token expired database pool exhausted worker queue"
)
_WORDS = _TEXT.split(maxsplit=-1)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def make_payload(rng: random.Random, target_bytes: int) -> dict[str, Any]:
    """A Sentry-event-shaped payload of roughly ``target_bytes`` of JSON."""
    payload: dict[str, Any] = {
        "platform": "python",
        "sdk": {"name": "sentry.python", "version": "2.19.0"},
        "server_name": f"web-{rng.randrange(20)}",
        "environment": "production",
        "release": f"checkout@{rng.randrange(100)}.{rng.randrange(10)}",
        "tags": {"region": rng.choice(["eu-west-1", "us-east-1"]), "route": "/api/orders", "tenant": "acme"},
        "request": {
            "method": "POST",
            "url": "https://shop.example/api/orders",
            "headers": {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)", "Accept": "application/json"},
        },
        "contexts": {"runtime": {"name": "CPython", "version": "3.12.7"}, "os": {"name": "Linux"}},
        "exception": {
            "values": [{"type": "ConnectionError", "value": _sentence(rng, 8), "stacktrace": {"frames": []}}]
        },
        "breadcrumbs": {"values": []},
    }
    frames = payload["exception"]["values"][0]["stacktrace"]["frames"]
    crumbs = payload["breadcrumbs"]["values"]
    size = 900
    while size < target_bytes:
        if rng.random() < 0.6:
            frame = {
                "filename": f"app/{rng.choice(_WORDS)}/{rng.choice(_WORDS)}.py",
                "function": f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}",
                "lineno": rng.randrange(1, 900),
                "in_app": True,
                "context_line": f"    result = {rng.choice(_WORDS)}.{rng.choice(_WORDS)}(\"{_sentence(rng, 3)}\")",
                "pre_context": [f"    # {_sentence(rng, 5)}", "    try:"],
                "post_context": ["    except Exception:", "        raise"],
                "vars": {"attempt": rng.randrange(5), "url": "https://pay.example/v1/charge", "ok": False},
            }
            frames.append(frame)
            size += 520
        else:
            crumbs.append(
                {
                    "timestamp": f"2026-03-01T12:00:{rng.randrange(60):02d}.{rng.randrange(999999):06d}Z",
                    "category": rng.choice(["http", "query", "log"]),
                    "level": "info",
                    "message": _sentence(rng, 10) + ' "quoted" \\ back\tslash ünïcødé',
                    "data": {"status_code": rng.choice([200, 500, 503]), "duration_ms": rng.random() * 300},
                }
            )
            size += 260
    return payload


def make_batches(count: int, size: int, seed: int) -> list[list[Any]]:
    """``count`` batches of ``size`` validated NewEvents, ~20 fingerprints each, payloads ~1-8 KB."""
    from recoup.store import EventKind, NewEvent

    rng = random.Random(seed)
    payloads = [make_payload(rng, rng.randrange(1000, 8000)) for _ in range(64)]
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    batches: list[list[Any]] = []
    for b in range(count):
        fingerprints = rng.sample(range(FINGERPRINT_POOL), FINGERPRINTS_PER_BATCH)
        batch = []
        for i in range(size):
            fp = rng.choice(fingerprints)
            payload = dict(payloads[rng.randrange(len(payloads))])
            payload["event_id"] = secrets.token_hex(16)
            batch.append(
                NewEvent(
                    event_id=payload["event_id"],
                    kind=EventKind.ERROR,
                    occurred_at=t0 + timedelta(seconds=b, microseconds=i),
                    message=f"ConnectionError: {_sentence(rng, 6)}\n  at line {i}",
                    fingerprint=f"fp-{fp:04d}-{'x' * 20}",
                    exception_type="ConnectionError",
                    category="network",
                    payload=payload,
                )
            )
        batches.append(batch)
    return batches


# -- databases --------------------------------------------------------------------------------------------


def native_batches(count: int, size: int) -> list[list[Any]]:
    """``count`` batches of what the native route makes of `benchmarks/ingest.py`'s native requests."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ingest_load import NativePayloads

    from recoup.server.routes.native import parse_batch, parse_json

    payloads = NativePayloads("bench-key", size)
    return [parse_batch(parse_json(payloads.next().body), size) for _ in range(count)]


@contextlib.contextmanager
def fresh_database(db: str, admin_url: str) -> Iterator[tuple[str, str | None]]:
    """A fresh database: (url, PostgreSQL database name or None)."""
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="recoup-store-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'recoup.db'}", None
        return
    import psycopg
    from psycopg import sql

    name = f"recoup_store_bench_{secrets.token_hex(5)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}", name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def backend_cpu_seconds(admin_url: str, database: str | None) -> float:
    """CPU used so far by the PostgreSQL backends connected to ``database`` (0 for SQLite)."""
    if database is None:
        return 0.0
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLK_TCK


# -- the cases ----------------------------------------------------------------------------------------------


def run_case(db: str, call: str, args: argparse.Namespace, batches: list[list[Any]]) -> dict[str, float]:
    from recoup.store import open_store

    with fresh_database(db, args.pg_admin_url) as (url, database):
        store = open_store(url, pool_size=1, max_overflow=0) if database else open_store(url)
        try:
            project, _ = store.create_project("bench")
            per_call = args.many if call == "ingest_many" else 1
            calls: list[Callable[[], Any]] = []
            for start in range(0, len(batches), per_call):
                group = batches[start : start + per_call]
                if call == "ingest_many":
                    calls.append(lambda g=group: store.ingest_many([(project.id, b, None) for b in g]))  # type: ignore[misc]
                else:
                    calls.append(lambda g=group: store.ingest_events(project.id, g[0]))  # type: ignore[misc]
            warm = max(1, args.warmup // per_call)
            for fn in calls[:warm]:
                fn()
            measured = calls[warm:]
            events = sum(len(b) for b in batches[warm * per_call :])
            profiler = cProfile.Profile() if args.profile else None
            db_cpu0 = backend_cpu_seconds(args.pg_admin_url, database)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for fn in measured:
                fn()
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            db_cpu = backend_cpu_seconds(args.pg_admin_url, database) - db_cpu0
            stored = store.count_events(project.id)
            expected = sum(len({e.event_id for e in b}) for b in batches)
            if stored != expected:
                raise SystemExit(f"{db} {call}: {stored} events stored, expected {expected}")
        finally:
            store.close()
    if profiler:
        out = Path(f"{args.profile}.{db}.{call}")
        profiler.dump_stats(out)
        print(f"\n== cProfile {db} {call} ({out}) ==", file=sys.stderr)
        pstats.Stats(str(out), stream=sys.stderr).sort_stats("tottime").print_stats(30)
    return {
        "events": events,
        "wall_us": wall / events * 1e6,
        "cpu_us": cpu / events * 1e6,
        "db_cpu_us": db_cpu / events * 1e6,
        "events_per_s": events / wall,
    }


def pg_breakdown(args: argparse.Namespace, batches: list[list[Any]]) -> None:
    """Where PostgreSQL's CPU per ingested event goes, on one throw-away database: the store's ingest as is,
    then with the payload column as ``json`` instead of ``jsonb`` (checked, not converted), then also without
    the events table's three secondary indexes. A diagnostic of what bounds ingest on PostgreSQL: it alters
    the schema of its own database and the store's statement text, so nothing else may run on it."""
    from recoup.store import open_store, repository

    statement = repository._PG_INSERT_EVENTS
    steps: list[tuple[str, list[str]]] = [
        ("as stored (payload jsonb, 5 indexes)", []),
        ("payload json instead of jsonb", ["ALTER TABLE events ALTER COLUMN payload TYPE json"]),
        ("... and only the 2 unique indexes", [f"DROP INDEX {name}" for name in (
            "ix_events_project_occurred", "ix_events_group_occurred", "ix_events_received_at")]),
    ]
    per_step = max(1, (len(batches) - args.warmup) // len(steps))
    with fresh_database("postgresql", args.pg_admin_url) as (url, database):
        store = open_store(url, pool_size=1, max_overflow=0)
        try:
            project, _ = store.create_project("bench")
            for batch in batches[: args.warmup]:
                store.ingest_events(project.id, batch)
            print(f"{'PostgreSQL ingest':<40} {'db cpu µs/ev':>13} {'cpu µs/ev':>10}")
            for index, (label, ddl) in enumerate(steps):
                with store.engine.begin() as conn:
                    for command in ddl:
                        conn.exec_driver_sql(command)
                if ddl and "json" in ddl[0]:
                    repository._PG_INSERT_EVENTS = statement.replace("AS jsonb)", "AS json)")
                chunk = batches[args.warmup + index * per_step : args.warmup + (index + 1) * per_step]
                events = sum(len(b) for b in chunk)
                db0, cpu0 = backend_cpu_seconds(args.pg_admin_url, database), time.process_time()
                for batch in chunk:
                    store.ingest_events(project.id, batch)
                db_cpu = backend_cpu_seconds(args.pg_admin_url, database) - db0
                cpu = time.process_time() - cpu0
                print(f"{label:<40} {db_cpu / events * 1e6:>13.1f} {cpu / events * 1e6:>10.1f}")
        finally:
            repository._PG_INSERT_EVENTS = statement
            store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--call", choices=["ingest_events", "ingest_many", "both"], default="both")
    parser.add_argument("--batches", type=int, default=24, help="measured batches per case")
    parser.add_argument("--warmup", type=int, default=4, help="batches ingested before the clock starts")
    parser.add_argument("--batch", type=int, default=250, help="events per batch")
    parser.add_argument("--many", type=int, default=4, help="batches per ingest_many call")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the fastest (by cpu) is shown")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--profile", metavar="PREFIX", help="cProfile the measured calls, dump to PREFIX.<db>.<call>")
    parser.add_argument("--native-events", action="store_true",
                        help="use the native benchmark's events (benchmarks/ingest_load.py: HttpSink ErrorEvents of "
                             "~1.7 KB, parsed and enriched by the native route) instead of Sentry-shaped payloads")
    parser.add_argument("--pg-breakdown", action="store_true",
                        help="instead: PostgreSQL's CPU per event as stored, with a json payload column, and "
                             "without the secondary indexes (what bounds ingest; see pg_breakdown)")
    args = parser.parse_args(argv)

    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    calls = ["ingest_events", "ingest_many"] if args.call == "both" else [args.call]
    total = args.batches + args.warmup
    total += -total % args.many
    batches = native_batches(total, args.batch) if args.native_events else make_batches(total, args.batch, seed=7)
    sizes = sorted(len(e.payload_json or "") for b in batches for e in b)
    print(
        f"{len(batches)} batches x {args.batch} events, ~{FINGERPRINTS_PER_BATCH} fingerprints per batch; "
        f"payload JSON min/median/max {sizes[0]}/{sizes[len(sizes) // 2]}/{sizes[-1]} bytes; "
        f"ingest_many: {args.many} batches per call"
    )
    if args.pg_breakdown:
        pg_breakdown(args, batches)
        return 0
    print(f"{'database':<11} {'call':<14} {'events':>7} {'wall µs/ev':>11} {'cpu µs/ev':>10} {'db cpu µs/ev':>13} "
          f"{'events/s':>9}")
    for db in dbs:
        for call in calls:
            best: dict[str, float] | None = None
            for _ in range(args.repeat):
                result = run_case(db, call, args, batches)
                if best is None or result["cpu_us"] < best["cpu_us"]:
                    best = result
            assert best is not None
            db_cpu = f"{best['db_cpu_us']:.1f}" if db == "postgresql" else "-"
            print(f"{db:<11} {call:<14} {best['events']:>7.0f} {best['wall_us']:>11.1f} {best['cpu_us']:>10.1f} "
                  f"{db_cpu:>13} {best['events_per_s']:>9,.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
