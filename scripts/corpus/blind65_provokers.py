"""Sixty-fifth batch of blind provokers: Python job and task frameworks not yet in the corpus, and the exception
groups of Python 3.11. arq (pools failing against a closed port and a password-protected private redis-server,
jobs that fail inside a burst worker, read back with ``Job.result()`` and as the worker's log line), huey with
RedisHuey (a closed port, a wrong password, tasks whose failure ``Result.get()`` re-raises as TaskException),
APScheduler's "Job ... raised an exception" log lines, and asyncio.TaskGroup / anyio task groups whose children
all fail with one cause, printed as the ExceptionGroup traceback, plus concurrent.futures and asyncio.gather
re-raising a worker's failure. The jobs fail for provoked causes: a refused connection, a 503, a 401, bad JSON,
a missing file, a full tmpfs, a bug in the job's own code. Only 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
import threading
import traceback
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from checked import PyCase, has_token, problem, python_records
from common import Env, Record, qualname_of, record, write_batch
from servers import mount_tmpfs, private_redis

BLIND65_SOURCES = frozenset({"arq65", "huey65", "apscheduler65", "taskgroup65"})
_PASSWORD = "s3cret-65"
_LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"


class _Causes:
    """The provoked causes a job, task or child can fail with (synchronous, so every framework can run them)."""

    def __init__(self, env: Env, disk: Path, auth_port: int) -> None:
        self.env = env
        self.disk = disk
        self.auth_port = auth_port

    def refused(self) -> None:
        import requests

        requests.get(f"http://127.0.0.1:{self.env.closed_port}/internal/inventory/sync", timeout=5)

    def status(self, code: int) -> None:
        import requests

        requests.get(self.env.url(code), timeout=5).raise_for_status()

    def bad_json(self) -> None:
        json.loads('{"batch": "2026-11-29", "rows": [{"id": 1, "amount": 12.5},]}')

    def missing_file(self) -> None:
        (self.env.tmp / "incoming" / "2026-11-29" / "settlements.csv").read_text()

    def disk_full(self) -> None:
        with (self.disk / f"export-{uuid.uuid4().hex[:8]}.parquet").open("wb") as fh:
            fh.write(os.urandom(400_000))

    def key_error(self) -> None:
        totals: dict[str, float] = {"EUR": 10.0, "USD": 4.5}
        order = {"currency": "GBP", "amount": 3.0}
        totals[order["currency"]] += float(order["amount"])  # type: ignore[arg-type]

    def type_error(self) -> None:
        rows = [{"qty": "3"}, {"qty": 4}]
        sum(r["qty"] for r in rows)  # type: ignore[misc]

    def redis_auth(self) -> None:
        import redis

        redis.Redis(host="127.0.0.1", port=self.auth_port, password="wrong-65", socket_timeout=3).ping()


#: name, category, expected exception type, expected token in a log line, the _Causes method and its args
_JOB_CAUSES: list[tuple[str, str, str, str, str, tuple[Any, ...]]] = [
    ("refused", "network", "ConnectionError", "Connection refused", "refused", ()),
    ("http_503", "service", "HTTPError", "503", "status", (503,)),
    ("http_401", "auth", "HTTPError", "401", "status", (401,)),
    ("bad_json", "validation", "JSONDecodeError", "Expecting", "bad_json", ()),
    ("missing_file", "filesystem", "FileNotFoundError", "No such file", "missing_file", ()),
    ("disk_full", "resource", "OSError", "No space left", "disk_full", ()),
    ("key_error", "programming", "KeyError", "KeyError", "key_error", ()),
]


class _LogCapture:
    """A handler on one logger writing into a string, in the format a service's log would have."""

    def __init__(self, logger_name: str) -> None:
        self.logger = logging.getLogger(logger_name)
        self.buffer = io.StringIO()
        self.handler = logging.StreamHandler(self.buffer)
        self.handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        self.handler.setLevel(logging.WARNING)
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False

    def take(self) -> str:
        text = self.buffer.getvalue().strip()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text

    def close(self) -> None:
        self.logger.removeHandler(self.handler)


def _keep_log(out: list[Record], name: str, category: str, source: str, text: str, token: str) -> None:
    if not text:
        problem(name, "no log line")
    elif has_token(name, text, token):
        out.append(record(text, category, source, "log", name))


# --------------------------------------------------------------------------- arq


def _arq_records(env: Env, causes: _Causes) -> list[Record]:
    from arq import create_pool
    from arq.connections import RedisSettings
    from arq.worker import Worker, func

    def pool_refused() -> None:
        async def go() -> None:
            await create_pool(RedisSettings(host="127.0.0.1", port=env.closed_port, conn_retries=0, conn_timeout=2))
        asyncio.run(go())

    def pool_auth() -> None:
        async def go() -> None:
            settings = RedisSettings(host="127.0.0.1", port=causes.auth_port, password="wrong-65", conn_retries=0)
            await create_pool(settings)
        asyncio.run(go())

    out = python_records([
        ("arq_pool_refused", "network", "arq65", "ConnectionError", pool_refused),
        ("arq_pool_auth", "auth", "arq65", "AuthenticationError|ResponseError", pool_auth),
    ])

    queue = f"arq65:{uuid.uuid4().hex[:8]}"
    functions = []
    for short, _cat, _exc, _tok, method, args in _JOB_CAUSES:
        target = getattr(causes, method)

        def make(target: Callable[..., None] = target, args: tuple[Any, ...] = args) -> Callable[..., Awaitable[None]]:
            async def job(ctx: dict[str, Any], account_id: int) -> None:
                await asyncio.to_thread(target, *args)
            return job
        functions.append(func(make(), name=f"sync_{short}"))
    # a job whose own call to a password-protected Redis is refused
    functions.append(func(make(causes.redis_auth, ()), name="sync_redis_auth"))

    capture = _LogCapture("arq.worker")
    job_errors: dict[str, BaseException] = {}
    job_logs: dict[str, str] = {}
    settings = RedisSettings(host="127.0.0.1", port=6379, conn_retries=0)

    async def run_jobs() -> None:
        pool = await create_pool(settings, default_queue_name=queue)
        worker = Worker(functions=functions, redis_pool=pool, queue_name=queue, burst=True, max_tries=1,
                        handle_signals=False, poll_delay=0.05, keep_result=60)
        try:
            for short in [c[0] for c in _JOB_CAUSES] + ["redis_auth"]:
                job = await pool.enqueue_job(f"sync_{short}", 4521, _queue_name=queue)
                if job is None:
                    problem(f"arq_{short}", "not enqueued")
                    continue
                capture.take()
                await worker.async_run()
                job_logs[short] = capture.take()
                try:
                    await job.result(timeout=10)
                except BaseException as exc:  # the job's real failure, re-raised by arq
                    job_errors[short] = exc
                await pool.delete(f"arq:result:{job.job_id}", f"arq:job:{job.job_id}", f"arq:retry:{job.job_id}")
        finally:
            await worker.close()
            await pool.delete(queue, f"{queue}:health-check")
            await pool.aclose()

    try:
        asyncio.run(run_jobs())
    finally:
        capture.close()

    specs = [(c[0], c[1], c[2], c[3]) for c in _JOB_CAUSES] + [("redis_auth", "auth", "AuthenticationError",
                                                                 "AuthenticationError|invalid password")]
    for short, category, expected, token in specs:
        name = f"arq_job_{short}"
        exc = job_errors.get(short)
        if exc is None:
            problem(name, "no failure")
        else:
            out.extend(_checked_exception(name, category, "arq65", expected, exc))
        _keep_log(out, f"arq_log_{short}", category, "arq65", job_logs.get(short, ""), token)
    return out


def _checked_exception(name: str, category: str, source: str, expected: str, exc: BaseException) -> list[Record]:
    from common import exception_records

    if not set(expected.split("|")) & {k.__name__ for k in type(exc).__mro__}:
        problem(name, f"not the provoked cause (expected {expected})")
        return []
    return exception_records(exc, category, source, name)


# --------------------------------------------------------------------------- huey


def _huey_records(env: Env, causes: _Causes) -> list[Record]:
    from huey import RedisHuey

    def enqueue_refused() -> None:
        h = RedisHuey("reports65", host="127.0.0.1", port=env.closed_port, socket_connect_timeout=2)

        @h.task()
        def render(report_id: int) -> None:
            return None

        render(77)

    def enqueue_auth() -> None:
        h = RedisHuey("reports65", host="127.0.0.1", port=causes.auth_port, password="wrong-65")

        @h.task()
        def render(report_id: int) -> None:
            return None

        render(77)

    out = python_records([
        ("huey_enqueue_refused", "network", "huey65", "ConnectionError", enqueue_refused),
        ("huey_enqueue_auth", "auth", "huey65", "AuthenticationError|ResponseError", enqueue_auth),
    ])

    huey = RedisHuey(f"huey65-{uuid.uuid4().hex[:8]}", host="127.0.0.1", port=6379, results=True)
    capture = _LogCapture("huey")
    try:
        for short, category, _exc, token, method, args in _JOB_CAUSES:
            if short in ("http_401", "key_error"):  # arq and APScheduler carry these; keep the batch balanced
                continue
            target = getattr(causes, method)

            def body(invoice_id: int, target: Callable[..., None] = target, args: tuple[Any, ...] = args) -> None:
                target(*args)

            task = huey.task(name=f"process_{short}")(body)
            result = task(9031)
            queued = huey.dequeue()
            if queued is None:
                problem(f"huey_{short}", "not enqueued")
                continue
            capture.take()
            huey.execute(queued)
            log_text = capture.take()

            def read_back(result: Any = result) -> None:
                result.get(blocking=True, timeout=5)

            got = python_records([(f"huey_result_{short}", category, "huey65", "TaskException", read_back)])
            # TaskException carries the task's error; keep it only if its cause is the one provoked
            got = [r for r in got if has_token(f"huey_result_{short}", r["text"], _exc)]
            out.extend(got)
            _keep_log(out, f"huey_log_{short}", category, "huey65", log_text, token)
    finally:
        capture.close()
        huey.flush()
    return out


# --------------------------------------------------------------------------- APScheduler


def _apscheduler_records(causes: _Causes) -> list[Record]:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
    from apscheduler.schedulers.background import BackgroundScheduler

    done = threading.Event()
    scheduler = BackgroundScheduler(timezone="UTC")

    def finished(event: JobExecutionEvent) -> None:
        done.set()

    scheduler.add_listener(finished, EVENT_JOB_ERROR | EVENT_JOB_EXECUTED)
    capture = _LogCapture("apscheduler.executors.default")
    out: list[Record] = []
    scheduler.start()
    try:
        cases = [(c[0], c[1], c[3], getattr(causes, c[4]), c[5]) for c in _JOB_CAUSES]
        cases.append(("type_error", "programming", "TypeError", causes.type_error, ()))
        for short, category, token, target, args in cases:
            done.clear()
            capture.take()
            scheduler.add_job(target, args=args, id=f"nightly_{short}", name=f"nightly_{short}")
            if not done.wait(15):
                problem(f"apscheduler_{short}", "job did not finish")
                continue
            _keep_log(out, f"apscheduler_{short}", category, "apscheduler65", capture.take(), token)
    finally:
        scheduler.shutdown(wait=True)
        capture.close()
    return out


# --------------------------------------------------------------------------- task groups, futures, gather


def _group_records(cases: list[tuple[str, str, str, Callable[[], Any]]]) -> list[Record]:
    """Each case must end in an exception group whose leaves all have the expected type; the record is the
    traceback Python prints for the group (its one-line form names no cause, so it is not recorded)."""
    out: list[Record] = []
    for name, category, expected, fn in cases:
        try:
            fn()
        except BaseException as exc:  # the real group, whatever it is
            if not isinstance(exc, BaseExceptionGroup):
                problem(name, "not an exception group")
                continue
            leaves: list[BaseException] = []
            stack: list[BaseException] = [exc]
            while stack:
                item = stack.pop()
                if isinstance(item, BaseExceptionGroup):
                    stack.extend(item.exceptions)
                else:
                    leaves.append(item)
            wanted = set(expected.split("|"))
            if len(leaves) < 2 or not all(wanted & {k.__name__ for k in type(leaf).__mro__} for leaf in leaves):
                problem(name, f"not the provoked cause (expected {expected} in every sub-exception)")
                continue
            text = "".join(traceback.format_exception(exc))
            out.append(record(text, category, "taskgroup65", "traceback", name, exc_type=qualname_of(exc)))
        else:
            problem(name, "no failure")
    return out


def _taskgroup_records(env: Env, causes: _Causes) -> list[Record]:
    import anyio

    async def connect_upstream(port: int) -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    def tg_refused() -> None:
        async def go() -> None:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(connect_upstream(env.closed_port))
                tg.create_task(connect_upstream(env.closed_port))
        asyncio.run(go())

    def tg_503() -> None:
        import aiohttp

        both_answered = asyncio.Barrier(2)  # both shards get their answer before either raises

        async def fetch(session: aiohttp.ClientSession, shard: int) -> None:
            async with session.get(env.url(503), params={"shard": shard}) as resp:
                await both_answered.wait()
                resp.raise_for_status()

        async def go() -> None:
            async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as tg:
                tg.create_task(fetch(session, 1))
                tg.create_task(fetch(session, 2))
        asyncio.run(go())

    def tg_missing() -> None:
        async def load(day: str) -> None:
            (env.tmp / "partitions" / day / "events.jsonl").read_text()

        async def go() -> None:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(load("2026-11-28"))
                tg.create_task(load("2026-11-29"))
        asyncio.run(go())

    def tg_bad_json() -> None:
        async def parse(raw: str) -> None:
            json.loads(raw)

        async def go() -> None:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(parse('{"id": 1, "tags": ["a", "b",]}'))
                tg.create_task(parse("{'id': 2}"))
        asyncio.run(go())

    def anyio_refused() -> None:
        async def probe(port: int) -> None:
            stream = await anyio.connect_tcp("127.0.0.1", port)
            await stream.aclose()

        async def go() -> None:
            async with anyio.create_task_group() as tg:
                tg.start_soon(probe, env.closed_port)
                tg.start_soon(probe, env.closed_port)
        anyio.run(go)

    def anyio_disk_full() -> None:
        async def spill(part: int) -> None:
            path = anyio.Path(causes.disk / f"spill-{part}-{uuid.uuid4().hex[:6]}.bin")
            await path.write_bytes(os.urandom(300_000))

        async def go() -> None:
            async with anyio.create_task_group() as tg:
                tg.start_soon(spill, 1)
                tg.start_soon(spill, 2)
        anyio.run(go)

    def anyio_trio_attr() -> None:
        class Shard:
            def __init__(self, rows: list[int]) -> None:
                self.rows = rows

        async def summarise(shard: Shard) -> None:
            shard.row_count()  # type: ignore[attr-defined]

        async def go() -> None:
            async with anyio.create_task_group() as tg:
                tg.start_soon(summarise, Shard([1, 2]))
                tg.start_soon(summarise, Shard([3]))
        anyio.run(go, backend="trio")

    out = _group_records([
        ("taskgroup_refused", "network", "ConnectionRefusedError", tg_refused),
        ("taskgroup_503", "service", "ClientResponseError", tg_503),
        ("taskgroup_missing_file", "filesystem", "FileNotFoundError", tg_missing),
        ("taskgroup_bad_json", "validation", "JSONDecodeError", tg_bad_json),
        ("anyio_refused", "network", "OSError", anyio_refused),
        ("anyio_disk_full", "resource", "OSError", anyio_disk_full),
        ("anyio_trio_attribute", "programming", "AttributeError", anyio_trio_attr),
    ])

    def futures_refused() -> None:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(causes.refused) for _ in range(2)]
            for fut in futures:
                fut.result()

    def futures_permission() -> None:
        from concurrent.futures import ThreadPoolExecutor

        locked = env.tmp / "locked65"
        locked.mkdir(exist_ok=True)
        locked.chmod(0o500)
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                pool.submit((locked / "manifest.json").write_text, "{}").result()
        finally:
            locked.chmod(0o700)

    def futures_process_zero() -> None:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=1) as pool:
            pool.submit(_average_latency, []).result()

    def gather_503() -> None:
        async def go() -> None:
            await asyncio.gather(asyncio.to_thread(causes.status, 503), asyncio.to_thread(causes.status, 503))
        asyncio.run(go())

    def gather_auth() -> None:
        async def go() -> None:
            import redis.asyncio as aredis

            client = aredis.Redis(host="127.0.0.1", port=causes.auth_port, password="wrong-65")
            try:
                await asyncio.gather(client.get("feature-flags"), client.get("rate-limits"))
            finally:
                await client.aclose()
        asyncio.run(go())

    # geteuid()==0 makes the permission case pass silently; only keep it when it can fail
    py_cases: list[PyCase] = [
        ("futures_refused", "network", "taskgroup65", "ConnectionError", futures_refused),
        ("futures_process_zero_division", "programming", "taskgroup65", "ZeroDivisionError", futures_process_zero),
        ("gather_503", "service", "taskgroup65", "HTTPError", gather_503),
        ("gather_redis_auth", "auth", "taskgroup65", "AuthenticationError", gather_auth),
    ]
    if os.geteuid() != 0:
        py_cases.append(("futures_permission", "filesystem", "taskgroup65", "PermissionError", futures_permission))
    out.extend(python_records(py_cases))
    return out


def _average_latency(samples: list[float]) -> float:
    return sum(samples) / len(samples)


def make_records(env: Env) -> list[Record]:
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    disk = mount_tmpfs(env, "jobs-disk65", "size=256k")
    auth_port = private_redis(env, "--requirepass", _PASSWORD)
    causes = _Causes(env, disk, auth_port)
    out: list[Record] = []
    for part in (lambda: _arq_records(env, causes), lambda: _huey_records(env, causes),
                 lambda: _apscheduler_records(causes), lambda: _taskgroup_records(env, causes)):
        try:
            out.extend(part())
        except Exception as harness:  # one framework's harness problem must not lose the others
            problem("part", f"{type(harness).__name__}")
            traceback.print_exc(limit=3, file=sys.stderr)
    return out


if __name__ == "__main__":
    write_batch(make_records)
