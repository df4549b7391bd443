"""Hundred-and-fifth batch of blind provokers: Python job queues, locks and caches on Redis and RabbitMQ, each
failing for a cause provoked here (blind105_support). rq enqueueing onto a closed port, with a wrong password, into
a full Redis (maxmemory, noeviction), against a replica whose master is gone, performing jobs that raise a
TypeError or name a function that does not exist, and fetching a job whose stored payload is garbled; the rq CLI
against a Redis blocked by a Lua script, as an ACL user that may only read, with a malformed JSON argument and an
argument file that is not there; dramatiq's Redis broker against a Redis whose only client slot is taken and a
peer that resets, a garbled message, a bad queue name, a held concurrency mutex and an actor called with a missing
argument; nameko RPC (separate venv) against a closed port, a wrong password, a user without permissions, a vhost
whose connection limit is zero, a service nobody runs, a service method that raises a TypeError, a missing config
file and a malformed one; pottery's RedisDict written into a full Redis, a RedisList index past its end and a
read-only ACL user; python-redis-lock against a busy Redis, a full Redis and a lock acquired twice; dogpile.cache with a
misspelt backend, dbm files under a missing directory, on a read-only mount and on a full tmpfs, a Redis that never
answers and a wrong password; aiocache against a closed port, a wrong password, a garbled pickled value and a
replica whose master is gone."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from blind105_support import (
    CAPPED_VHOST,
    NAMEKO_PY,
    RABBIT_PASSWORD,
    VHOST,
    Fixtures,
    prepare,
    rabbit_setup,
)
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND105_SOURCES = frozenset({"rq105", "rq-cli105", "dramatiq105", "nameko105", "pottery105", "redis-lock105",
                              "dogpile105", "aiocache105"})

TASKS = '''"""Background jobs of the billing service."""


def send_invoice(invoice_id, customer_email, *, attach_pdf=True):
    return {"invoice": invoice_id, "to": customer_email, "pdf": attach_pdf}


def render_receipt(order_id, currency):
    return "Receipt #" + order_id + " (" + currency + ")"
'''

SERVICE = '''"""The invoicing RPC service."""

from nameko.rpc import rpc


class InvoicingService:
    name = "invoicing"

    @rpc
    def total_for(self, order):
        return sum(line["qty"] * line["unit_price"] for line in order["lines"])
'''


def _write_app(root: Path) -> None:
    pkg = root / "billing"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "tasks.py").write_text(TASKS)
    (pkg / "service.py").write_text(SERVICE)
    (root / "config").mkdir()
    (root / "config" / "nameko.yaml").write_text(
        "AMQP_URI: amqp://billing105:${RABBIT_PASSWORD}@127.0.0.1:5672/billing105\n"
        "max_workers: 10\n  parent_calls_tracked: [10\nLOGGING:\n  version: 1\n")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


def _redis(port: int, **kw: Any) -> Any:
    from redis import Redis

    return Redis(host="127.0.0.1", port=port, **kw)


# --------------------------------------------------------------------------- rq (library and CLI)


def _rq_cases(env: Env, f: Fixtures) -> list[PyCase]:
    from rq import Queue
    from rq.job import Job

    def enqueue(conn: Any) -> Any:
        return lambda: Queue("invoices", connection=conn).enqueue("billing.tasks.send_invoice", 4711,
                                                                  "ap@northwind.example")

    def perform(func: str, *args: Any) -> Any:
        def fn() -> None:
            Job.create(func, args=args, connection=_redis(f.plain)).perform()
        return fn

    def garbled_job() -> None:
        conn = _redis(f.plain)
        conn.hset("rq:job:5b1f0c2e-invoice-4711", mapping={
            "data": b"\x80\x05garbled-by-a-proxy", "status": "queued", "origin": "invoices",
            "created_at": "2026-11-29T08:15:02.000000Z", "description": "billing.tasks.send_invoice(4711)"})
        job = Job.fetch("5b1f0c2e-invoice-4711", connection=conn)
        print(job.args)

    return [
        ("rq_enqueue_refused", "network", "rq105", "ConnectionError", enqueue(_redis(env.closed_port))),
        ("rq_enqueue_wrong_password", "auth", "rq105", "AuthenticationError",
         enqueue(_redis(f.secured, password="orders-redis-2f9d"))),
        ("rq_enqueue_oom", "resource", "rq105", "OutOfMemoryError|ResponseError", enqueue(_redis(f.full))),
        ("rq_enqueue_masterdown", "service", "rq105", "ResponseError|MasterDownError", enqueue(_redis(f.stale))),
        ("rq_job_typeerror", "programming", "rq105", "TypeError", perform("billing.tasks.render_receipt", 4711, "EUR")),
        ("rq_job_missing_function", "programming", "rq105", "ImportError|AttributeError|ValueError",
         perform("billing.tasks.send_overdue_notice", 4711)),
        ("rq_job_garbled_payload", "validation", "rq105", "DeserializationError", garbled_job),
    ]


def _rq_cli_cases(env: Env, f: Fixtures) -> list[ToolCase]:
    rq = str(Path(sys.executable).parent / "rq")
    return [
        ("rq_cli_busy_script", "service", "BUSY",
         [rq, "info", "-u", f"redis://127.0.0.1:{f.busy}/0", "invoices"]),
        ("rq_cli_enqueue_noperm", "auth", "NOPERM|permission",
         [rq, "enqueue", "-u", f"redis://dashboard:dashboard-ro-51@127.0.0.1:{f.secured}/0", "-q", "invoices",
          "billing.tasks.send_invoice", "4711", "ap@northwind.example"]),
        ("rq_cli_enqueue_bad_json", "validation", "json",
         [rq, "enqueue", "-u", f"redis://127.0.0.1:{f.plain}/0", "-q", "invoices", "billing.tasks.send_invoice",
          ':{"invoice_id": 4711, "lines": [1, 2,}']),
        ("rq_cli_enqueue_missing_file", "filesystem", "not found|No such file",
         [rq, "enqueue", "-u", f"redis://127.0.0.1:{f.plain}/0", "-q", "invoices", "billing.tasks.send_invoice",
          ":@/srv/billing/payloads/invoice-4711.json"]),
    ]


# --------------------------------------------------------------------------- dramatiq


def _dramatiq_cases(env: Env, f: Fixtures) -> list[PyCase]:
    import dramatiq
    from billing import tasks
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.rate_limits import ConcurrentRateLimiter
    from dramatiq.rate_limits.backends import RedisBackend

    def send(port: int, name: str) -> Any:
        def fn() -> None:
            broker = RedisBroker(host="127.0.0.1", port=port, socket_timeout=5)
            actor = dramatiq.actor(tasks.send_invoice, broker=broker, actor_name=name, queue_name="billing")
            actor.send(4711, "ap@northwind.example")
        return fn

    def bad_queue_name() -> None:
        broker = RedisBroker(host="127.0.0.1", port=f.plain)
        dramatiq.actor(tasks.render_receipt, broker=broker, queue_name="billing receipts/eu-west")

    def mutex_held() -> None:
        backend = RedisBackend(client=_redis(f.plain))
        mutex = ConcurrentRateLimiter(backend, "pdf-render:tenant-88", limit=1, ttl=60_000)
        with mutex.acquire(), mutex.acquire():
            pass

    def missing_argument() -> None:
        broker = RedisBroker(host="127.0.0.1", port=f.plain)
        actor = dramatiq.actor(tasks.send_invoice, broker=broker, actor_name="send_invoice_sync")
        actor(4711)

    return [
        ("dramatiq_send_maxclients", "resource", "dramatiq105", "ConnectionError", send(f.crowded, "send_invoice_a")),
        ("dramatiq_send_reset", "network", "dramatiq105", "ConnectionError|ConnectionResetError",
         send(env.reset_port, "send_invoice_b")),
        ("dramatiq_decode_garbled", "validation", "dramatiq105", "DecodeError",
         lambda: dramatiq.Message.decode(b'{"queue_name": "billing", "actor_name": "send_invoice", "args": [47')),
        ("dramatiq_bad_queue_name", "validation", "dramatiq105", "ValueError", bad_queue_name),
        ("dramatiq_mutex_held", "resource", "dramatiq105", "RateLimitExceeded", mutex_held),
        ("dramatiq_actor_missing_arg", "programming", "dramatiq105", "TypeError", missing_argument),
    ]


# --------------------------------------------------------------------------- nameko (separate venv)


RPC_CLIENT = '''import eventlet
eventlet.monkey_patch()
from nameko.standalone.rpc import ClusterRpcProxy

config = {"AMQP_URI": "%(uri)s"}
with ClusterRpcProxy(config, timeout=10) as rpc:
    print(rpc.invoicing.total_for({"lines": [{"qty": 2, "unit_price": "19.90"}]}))
'''

RPC_SERVED = '''import eventlet
eventlet.monkey_patch()
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcProxy
from billing.service import InvoicingService

config = {"AMQP_URI": "%(uri)s"}
container = ServiceContainer(InvoicingService, config)
container.start()
try:
    with ClusterRpcProxy(config, timeout=10) as rpc:
        print(rpc.invoicing.total_for({"lines": [{"qty": 2, "unit_price": "19.90"}]}))
finally:
    container.stop()
'''


def _nameko_cases(env: Env, f: Fixtures) -> list[tuple[str, str, str, str | list[str]]]:
    def uri(user: str = "billing105", password: str = RABBIT_PASSWORD, port: int = 5672, vhost: str = VHOST) -> str:
        return f"amqp://{user}:{password}@127.0.0.1:{port}/{vhost.lstrip('/')}"

    def script(name: str, text: str, **kw: str) -> list[str]:
        path = f.root / f"{name}.py"
        path.write_text(text % {"uri": uri(**kw)})  # type: ignore[arg-type]
        return [NAMEKO_PY, str(path)]

    nameko = str(Path(NAMEKO_PY).parent / "nameko")
    return [
        ("nameko_rpc_refused", "network", "refused",
         script("create_invoice", RPC_CLIENT, port=env.closed_port)),  # type: ignore[arg-type]
        ("nameko_rpc_wrong_password", "auth", "ACCESS_REFUSED|AccessRefused",
         script("monthly_totals", RPC_CLIENT, password="billing-amqp-77d2")),
        ("nameko_rpc_no_permission", "auth", "ACCESS_REFUSED|AccessRefused",
         script("audit_totals", RPC_CLIENT, user="auditor105", password="auditor-amqp-3b")),
        ("nameko_rpc_connection_limit", "resource", "connection limit|limit",
         script("report_totals", RPC_CLIENT, vhost=CAPPED_VHOST)),
        ("nameko_rpc_unknown_service", "service", "UnknownService", script("quote_totals", RPC_CLIENT)),
        ("nameko_rpc_remote_typeerror", "programming", "TypeError", script("served_totals", RPC_SERVED)),
        ("nameko_run_missing_config", "filesystem", "does not exist|No such file",
         [nameko, "run", "--config", "/etc/billing/nameko.yaml", "billing.service"]),
        ("nameko_run_bad_yaml", "validation", "yaml|mapping|parsing",
         [nameko, "run", "--config", str(f.root / "config" / "nameko.yaml"), "billing.service"]),
    ]


# --------------------------------------------------------------------------- pottery and python-redis-lock


def _lock_cases(env: Env, f: Fixtures) -> list[PyCase]:
    import redis_lock
    from pottery import RedisDict, RedisList

    def dict_into_full_redis() -> None:
        carts = RedisDict(redis=_redis(f.full), key="carts:eu-west")
        carts["cart-88412"] = {"sku": "88412", "qty": 2, "unit_price": 1990}

    def list_past_end() -> None:
        batch = RedisList([101, 102, 103], redis=_redis(f.plain), key="payouts:batch:2026-11-29")
        print(batch[7])

    def list_as_read_only_user() -> None:
        conn = _redis(f.secured, username="dashboard", password="dashboard-ro-51")
        RedisList(["inv-4711"], redis=conn, key="dunning:queue").append("inv-4712")

    def rlock(port: int) -> Any:
        return lambda: redis_lock.Lock(_redis(port), "ledger-close:2026-11", expire=60).acquire(blocking=False)

    def acquire_twice() -> None:
        lock = redis_lock.Lock(_redis(f.plain), "ledger-close:2026-12", expire=60)
        lock.acquire()
        lock.acquire()

    return [
        ("pottery_dict_oom", "resource", "pottery105", "OutOfMemoryError|ResponseError", dict_into_full_redis),
        ("pottery_list_past_end", "programming", "pottery105", "IndexError", list_past_end),
        ("pottery_readonly_user", "auth", "pottery105", "NoPermissionError|ResponseError", list_as_read_only_user),
        ("redis_lock_busy", "service", "redis-lock105", "BusyError|ResponseError", rlock(f.busy)),
        ("redis_lock_oom", "resource", "redis-lock105", "OutOfMemoryError|ResponseError", rlock(f.full)),
        ("redis_lock_acquired_twice", "programming", "redis-lock105", "AlreadyAcquired", acquire_twice),
    ]


# --------------------------------------------------------------------------- dogpile.cache and aiocache


def _dogpile_cases(env: Env, f: Fixtures) -> list[PyCase]:
    from dogpile.cache import make_region

    def region(backend: str, **arguments: Any) -> Any:
        return make_region().configure(backend, expiration_time=300, arguments=arguments)

    def dbm_put(path: Path) -> Any:
        def fn() -> None:
            cache = region("dogpile.cache.dbm", filename=str(path))
            cache.set("catalog:sku:88412", {"price": 1990, "stock": 14, "blob": "x" * 200_000})
        return fn

    def redis_get(port: int, **kw: Any) -> Any:
        def fn() -> None:
            cache = region("dogpile.cache.redis", host="127.0.0.1", port=port, db=2, **kw)
            cache.get_or_create("pricing:eu:sku:88412", lambda: {"price": 1990})
        return fn

    return [
        ("dogpile_backend_misspelt", "validation", "dogpile105", "PluginNotFound",
         lambda: region("dogpile.cache.reddis", host="127.0.0.1", port=f.plain)),
        ("dogpile_dbm_missing_dir", "filesystem", "dogpile105", "FileNotFoundError|OSError|error",
         dbm_put(f.root / "var" / "cache" / "catalog" / "catalog.dbm")),
        ("dogpile_dbm_read_only", "filesystem", "dogpile105", "OSError|error",
         dbm_put(f.ro_fs / "dogpile" / "catalog.dbm")),
        ("dogpile_dbm_full_disk", "resource", "dogpile105", "OSError|error", dbm_put(f.full_fs / "catalog.dbm")),
        ("dogpile_redis_read_timeout", "network", "dogpile105", "TimeoutError",
         redis_get(env.hang_port, socket_timeout=2)),
        ("dogpile_redis_wrong_password", "auth", "dogpile105", "AuthenticationError",
         redis_get(f.secured, password="pricing-cache-old")),
    ]


def _aiocache_cases(env: Env, f: Fixtures) -> list[PyCase]:
    from aiocache import RedisCache
    from aiocache.serializers import PickleSerializer

    def get(port: int, key: str = "session:7f3a91", **kw: Any) -> Any:
        async def body() -> None:
            cache = RedisCache(endpoint="127.0.0.1", port=port, namespace="web", serializer=PickleSerializer(),
                               **kw)
            try:
                await cache.get(key)
            finally:
                await cache.close()
        return lambda: asyncio.run(body())

    def garbled(key: str) -> Any:
        _redis(f.plain).set(f"web:{key}", b"\x80\x04\x95cut-off-by-a-proxy")
        return get(f.plain, key)

    return [
        ("aiocache_refused", "network", "aiocache105", "ConnectionError", get(env.closed_port)),
        ("aiocache_wrong_password", "auth", "aiocache105", "AuthenticationError",
         get(f.secured, password="web-sessions-2024")),
        ("aiocache_garbled_pickle", "validation", "aiocache105", "UnpicklingError|EOFError|ValueError",
         garbled("cart:88412")),
        ("aiocache_masterdown", "service", "aiocache105", "ResponseError|MasterDownError", get(f.stale)),
    ]


def blind105_records(env: Env) -> list[Record]:
    f = prepare(env)
    rabbit_setup(env)
    _write_app(f.root)
    cases: list[PyCase] = []
    for make in (_rq_cases, _dramatiq_cases, _lock_cases, _dogpile_cases, _aiocache_cases):
        cases += make(env, f)
    out = python_records(cases)
    out += tool_records(_rq_cli_cases(env, f), "rq-cli105", f.root, timeout=60)
    out += tool_records(_nameko_cases(env, f), "nameko105", f.root, timeout=90)
    return out


if __name__ == "__main__":
    write_batch(blind105_records)


__all__ = ["BLIND105_SOURCES", "blind105_records"]
