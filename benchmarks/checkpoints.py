"""Checkpointed steps per second: recoup `Workflow` beside DBOS Transact, on SQLite and on PostgreSQL.

The workload is the same for both: a workflow of 10 trivial steps (x -> x + 1), run to completion
sequentially under a fresh run id each time, so every step's result is written to the database
(and durable, fsync'd) before the next step begins:

* recoup on SQLite: WAL with synchronous=FULL (the WAL is fsync'd at every step's commit);
* DBOS on SQLite: its defaults (rollback journal, SQLite's default synchronous=FULL);
* both on PostgreSQL: the same server and database, separate schemas, synchronous_commit as printed.

Each timed batch of `--runs` workflows runs in its own child process after a warm-up (DBOS is a
per-process singleton, and a fresh database file or schema per batch keeps batches alike); batches
alternate between engines `--repeats` times, and the table shows the median batch and the best.
Run: `.venv/bin/python benchmarks/checkpoints.py [--quick] [--asyncio] [--postgres URL]`
(`--asyncio` adds async workflows of async steps for both engines).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

STEPS = 10
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


RunOne = Callable[[str], object]
ARunOne = Callable[[str], Awaitable[object]]


def _time(run_one: RunOne, runs: int, repeats: int, warmup: int) -> list[float]:
    """Steps/s of `repeats` batches of `runs` sequential workflows, after `warmup` untimed ones."""
    for i in range(warmup):
        assert run_one(f"warm-{i}") == STEPS
    rates = []
    for r in range(repeats):
        start = time.perf_counter()
        for i in range(runs):
            assert run_one(f"{r}-{i}") == STEPS
        rates.append(runs * STEPS / (time.perf_counter() - start))
    return rates


def _atime(run_one: ARunOne, runs: int, repeats: int, warmup: int) -> list[float]:
    """`_time` for coroutine workflows, inside one event loop."""

    async def batches() -> list[float]:
        for i in range(warmup):
            assert await run_one(f"warm-{i}") == STEPS
        rates = []
        for r in range(repeats):
            start = time.perf_counter()
            for i in range(runs):
                assert await run_one(f"{r}-{i}") == STEPS
            rates.append(runs * STEPS / (time.perf_counter() - start))
        return rates

    return asyncio.run(batches())


def _recoup_worker(
    store_kind: str, location: str, schema: str, runs: int, repeats: int, warmup: int, use_async: bool
) -> tuple[list[float], int | None]:
    from recoup.recovery.checkpoint import SQLiteStore, Workflow, open_store

    store = open_store(location, schema_name=schema) if store_kind == "postgres" else open_store(location)
    wf = Workflow("bench", store=store)
    if use_async:

        @wf.step
        async def astep(x: int) -> int:
            return x + 1

        @wf.main
        async def amain(x: int) -> int:
            for _ in range(STEPS):
                x = await astep(x)
            return x

        rates = _atime(lambda key: amain.arun(key, 0), runs, repeats, warmup)
    else:

        @wf.step
        def step(x: int) -> int:
            return x + 1

        @wf.main
        def main(x: int) -> int:
            for _ in range(STEPS):
                x = step(x)
            return x

        rates = _time(lambda key: main.run(key, 0), runs, repeats, warmup)
    synchronous = None
    if isinstance(store, SQLiteStore):
        synchronous = int(store._conn.execute("PRAGMA synchronous").fetchone()[0])
    store.close()
    return rates, synchronous


def _dbos_worker(
    store_kind: str, location: str, schema: str, runs: int, repeats: int, warmup: int, use_async: bool
) -> tuple[list[float], int | None]:
    from dbos import DBOS, DBOSConfig, SetWorkflowID

    @DBOS.step()
    def step(x: int) -> int:
        return x + 1

    @DBOS.workflow()
    def main(x: int) -> int:
        for _ in range(STEPS):
            x = step(x)
        return x

    @DBOS.step()
    async def astep(x: int) -> int:
        return x + 1

    @DBOS.workflow()
    async def amain(x: int) -> int:
        for _ in range(STEPS):
            x = await astep(x)
        return x

    def run_one(key: str) -> int:
        with SetWorkflowID(key):
            return main(0)

    async def arun_one(key: str) -> int:
        with SetWorkflowID(key):
            return await amain(0)

    url = location if store_kind == "postgres" else f"sqlite:///{location}"
    config: DBOSConfig = {"name": "recoup-bench", "system_database_url": url, "log_level": "WARNING"}
    if store_kind == "postgres":
        config["dbos_system_schema"] = schema
    DBOS(config=config)
    DBOS.launch()
    try:
        rates = _atime(arun_one, runs, repeats, warmup) if use_async else _time(run_one, runs, repeats, warmup)
    finally:
        DBOS.destroy()
    return rates, None


def _worker(args: argparse.Namespace) -> None:
    logging.disable(logging.WARNING)
    work = _recoup_worker if args.worker.startswith("recoup") else _dbos_worker
    use_async = args.worker.endswith("-async")
    rates, synchronous = work(args.store, args.location, args.schema, args.runs, args.repeats, args.warmup, use_async)
    print(json.dumps({"rates": rates, "durability": _durability(args.store, args.location, synchronous)}))


def _durability(store_kind: str, location: str, synchronous: int | None) -> str:
    """How commits reached disk in this measurement, read back from the database itself."""
    if store_kind == "postgres":
        with psycopg.connect(location, autocommit=True) as conn:
            row = conn.execute("SELECT current_setting('synchronous_commit'), current_setting('fsync')").fetchone()
        return f"synchronous_commit={row[0]}, fsync={row[1]}" if row else "?"
    db = sqlite3.connect(location)
    try:
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
        default = db.execute("PRAGMA synchronous").fetchone()[0]
    finally:
        db.close()
    # DBOS sets no synchronous pragma, so a fresh connection's default is what its connections used.
    level = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[synchronous if synchronous is not None else default]
    return f"journal={journal}, synchronous={level}"


def _measure(
    engine: str, store: str, location: str, schema: str, args: argparse.Namespace
) -> tuple[list[float], str] | str:
    """One child process: warm up, then one timed batch; its rates, or the error line if it failed."""
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        engine,
        "--store",
        store,
        "--location",
        location,
        "--schema",
        schema,
        "--runs",
        str(args.runs),
        "--repeats",
        "1",
        "--warmup",
        str(args.warmup),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["failed"])[-1]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["rates"], report["durability"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test, noisier numbers)")
    parser.add_argument("--postgres", default=os.environ.get("RECOUP_BENCH_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--runs", type=int, default=200, help="workflows per timed batch")
    parser.add_argument("--repeats", type=int, default=5, help="timed batches per engine and store")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--asyncio", action="store_true", help="also measure async workflows of async steps")
    parser.add_argument("--worker", choices=["recoup", "dbos", "recoup-async", "dbos-async"], help=argparse.SUPPRESS)
    parser.add_argument("--store", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--location", help=argparse.SUPPRESS)
    parser.add_argument("--schema", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return
    if args.quick:
        args.runs, args.repeats, args.warmup = 50, 3, 5

    console = Console(width=160)
    tag = uuid.uuid4().hex[:8]
    rates: dict[tuple[str, str], list[float]] = {}
    errors: dict[tuple[str, str], str] = {}
    durability: dict[tuple[str, str], str] = {}
    flavours = ("", "-async") if args.asyncio else ("",)
    engines = [engine + flavour for flavour in flavours for engine in ("recoup", "dbos")]
    pairs = [(store, engine) for store in ("sqlite", "postgres") for engine in engines]
    with tempfile.TemporaryDirectory(prefix="recoup-bench-") as tmp:
        # Batches alternate between engines, so drift in a shared machine's load hits both alike.
        for batch in range(args.repeats):
            console.print(f"batch {batch + 1}/{args.repeats} ...")
            for store, engine in pairs:
                if (store, engine) in errors:
                    continue
                schema = f"bench_{engine.replace('-', '_')}_{tag}_{batch}"
                location = str(Path(tmp) / f"{engine}-{batch}.sqlite") if store == "sqlite" else args.postgres
                try:
                    outcome = _measure(engine, store, location, schema, args)
                finally:
                    if store == "postgres":
                        with psycopg.connect(args.postgres, autocommit=True) as conn:
                            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                if isinstance(outcome, str):
                    errors[(store, engine)] = outcome
                else:
                    rates.setdefault((store, engine), []).extend(outcome[0])
                    durability[(store, engine)] = outcome[1]
    results: dict[tuple[str, str], dict[str, Any]] = {
        pair: {"error": errors[pair]}
        if pair in errors
        else {"median": statistics.median(rates[pair]), "best": max(rates[pair]), "durability": durability[pair]}
        for pair in pairs
    }

    table = Table(
        title=f"Checkpointed steps/s, {STEPS}-step workflow of trivial steps, sequential runs "
        f"({args.repeats} batches x {args.runs} workflows)"
    )
    columns = ("store", "engine", "steps/s (median)", "steps/s (best)", "µs/step", "recoup ÷ DBOS", "commits")
    for column in columns:
        table.add_column(column, justify="left" if column in ("store", "engine", "commits") else "right")
    for store in ("sqlite", "postgres"):
        for flavour in flavours:
            ours, theirs = results[(store, "recoup" + flavour)], results[(store, "dbos" + flavour)]
            suffix = " (asyncio)" if flavour else ""
            for engine, result in (("recoup" + suffix, ours), ("DBOS Transact" + suffix, theirs)):
                if "error" in result:
                    table.add_row(store, engine, "error", result["error"][:60], "", "", "")
                    continue
                ratio = ""
                if result is ours and "median" in theirs:
                    ratio = f"{result['median'] / theirs['median']:.1f}x"
                table.add_row(
                    store,
                    engine,
                    f"{result['median']:,.0f}",
                    f"{result['best']:,.0f}",
                    f"{1e6 / result['median']:,.0f}",
                    ratio,
                    result["durability"],
                )
    console.print(table)


if __name__ == "__main__":
    main()
