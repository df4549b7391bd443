"""Eighty-second batch of blind provokers: job queues and message tools not seen before, each against a server on
127.0.0.1 (blind82_support). greenstalk and pystalk against private beanstalkd instances (a job over the maximum
size, a server draining, a job deleted twice, a write-ahead log on a full tmpfs, a peer closing at once, a closed
port, a worker out of file descriptors) and beanstalkd itself on a missing or read-only log directory;
python3-gearman and the gearman CLIs against a private gearmand (a closed port, an admin command nobody answers, a
server address from config that is no address, a worker failing the job, a pid file in a missing directory, an
invalid option); amqp-tools against the local RabbitMQ with a throwaway user and vhost (wrong password, missing
vhost, no permission, a vhost queue limit, an exclusive queue, a missing exchange, a closed port, a malformed URL,
a missing auth file); rabbitmqadmin against a stand-in management API (401, 429, 500, 503, a self-signed
certificate, a read timeout, a missing config file, an unknown object type, broken JSON arguments); kcat against
closed ports and TLS (refused, untrusted certificate, missing config and input files, unknown or invalid
properties); procrastinate over a private PostgreSQL cluster and a standby (missing schema, wrong password, too
many clients, a lock timeout, CLI arguments that are no JSON, an unknown task); saq over private Redis servers
(wrong password, a replica whose master is down); taskiq (a KeyError in a task, the worker's app module missing)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from blind82_support import (
    PROCRASTINATE_MODULE,
    RABBIT_LIMITED,
    RABBIT_PW,
    RABBIT_USER,
    RABBIT_VHOST,
    VENV_BIN,
    Beanstalk,
    private_beanstalkd,
    private_gearmand,
    procrastinate_app,
    rabbit_setup,
)
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import PrivatePostgres, mount_tmpfs, private_postgres, private_redis, self_signed_https

BLIND82_SOURCES = frozenset({"greenstalk82", "pystalk82", "beanstalkd82", "gearman-py82", "gearman-cli82",
                             "amqp-tools82", "rabbitmqadmin82", "kcat82", "procrastinate82", "procrastinate-cli82",
                             "saq82", "taskiq82", "taskiq-cli82"})

# --------------------------------------------------------------------------- beanstalkd


def _beanstalk_cases(env: Env, small: Beanstalk, draining: Beanstalk, full_log: Beanstalk) -> list[PyCase]:
    import greenstalk
    import pystalk

    def client(server: Beanstalk) -> greenstalk.Client:
        return greenstalk.Client(("127.0.0.1", server.port), use="thumbnails82")

    def too_big() -> None:
        upload = (env.tmp / "scan82.pdf").read_bytes()  # a user's upload placed in the job body as it came
        client(small).put(upload)

    def delete_twice() -> None:
        jobs = client(small)
        job_id = jobs.put(b'{"image": 4211}')
        jobs.delete(job_id)
        jobs.delete(job_id)  # the cleanup path deletes the finished job a second time

    def drained() -> None:
        client(draining).put(b'{"image": 4212}')

    def log_full() -> None:
        jobs = client(full_log)
        for n in range(2000):
            jobs.put(b"x" * 3000 + str(n).encode())

    def peer_closes() -> None:
        greenstalk.Client(("127.0.0.1", env.empty_port)).put(b'{"image": 4213}')

    def pystalk_refused() -> None:
        pystalk.BeanstalkClient("127.0.0.1", env.closed_port).put_job('{"image": 4214}')

    def pystalk_too_big() -> None:
        upload = (env.tmp / "scan82.pdf").read_text(encoding="latin-1")
        pystalk.BeanstalkClient("127.0.0.1", small.port).put_job_into("thumbnails82", upload)

    return [
        ("greenstalk_job_too_big", "validation", "greenstalk82", "JobTooBigError", too_big),
        ("greenstalk_delete_twice", "programming", "greenstalk82", "NotFoundError", delete_twice),
        ("greenstalk_draining", "service", "greenstalk82", "DrainingError", drained),
        ("greenstalk_wal_full", "resource", "greenstalk82", "OutOfMemoryError", log_full),
        ("greenstalk_peer_eof", "network", "greenstalk82", "ConnectionError", peer_closes),
        ("pystalk_refused", "network", "pystalk82", "BeanstalkConnectionError", pystalk_refused),
        ("pystalk_job_too_big", "validation", "pystalk82", "BeanstalkError", pystalk_too_big),
    ]


def _beanstalk_tools(small: Beanstalk, ro: Path) -> list[ToolCase]:
    emfile = (f"ulimit -n 24; {VENV_BIN}/python -c 'import greenstalk\n"
              f"workers = [greenstalk.Client((\"127.0.0.1\", {small.port})) for _ in range(64)]'")
    return [
        ("greenstalk_too_many_open_files", "resource", "Too many open files", emfile),
        ("beanstalkd_wal_dir_missing", "filesystem", "No such file",
         "timeout 10 beanstalkd -l 127.0.0.1 -p 0 -b /var/lib/beanstalkd82/wal"),
        ("beanstalkd_wal_dir_read_only", "filesystem", "Read-only", f"timeout 10 beanstalkd -l 127.0.0.1 -p 0 -b {ro}"),
    ]


# --------------------------------------------------------------------------- gearman


def _gearman_cases(env: Env) -> list[PyCase]:
    import python3_gearman as gearman

    def admin_no_answer() -> None:
        gearman.GearmanAdminClient([f"127.0.0.1:{env.hang_port}"], poll_timeout=2).get_status()

    def server_from_config() -> None:
        servers = ["127.0.0.1:gearman-primary"]  # GEARMAN_SERVERS as an operator typed it
        gearman.GearmanClient(servers)

    return [
        ("gearman_admin_timeout", "network", "gearman-py82", "InvalidAdminClientState", admin_no_answer),
        ("gearman_server_port_invalid", "validation", "gearman-py82", "ValueError", server_from_config),
    ]


def _gearman_tools(env: Env, port: int) -> list[ToolCase]:
    return [
        ("gearman_cli_refused", "network", "COULD_NOT_CONNECT",
         f"gearman -h 127.0.0.1 -p {env.closed_port} -f resize82 -s; exit 1"),
        ("gearman_cli_work_fail", "service", "failed",
         f"gearman -h 127.0.0.1 -p {port} -w -f invoice82 -c 1 -- false & sleep 0.5; "
         f"gearman -h 127.0.0.1 -p {port} -f invoice82 -s; rc=$?; wait; exit $rc"),
        ("gearmand_pid_dir_missing", "filesystem", "No such file",
         "timeout 10 gearmand -L 127.0.0.1 -p 0 --pid-file /run/gearman82/gearmand.pid"),
        ("gearmand_threads_invalid", "validation", "invalid", "timeout 10 gearmand -L 127.0.0.1 -p 0 --threads=four"),
    ]


# --------------------------------------------------------------------------- amqp-tools and rabbitmqadmin


def _amqp_tools(env: Env) -> list[ToolCase]:
    url = f"amqp://{RABBIT_USER}:{RABBIT_PW}@127.0.0.1:5672/{RABBIT_VHOST}"
    return [
        ("amqp_publish_wrong_password", "auth", "ACCESS_REFUSED",
         f"echo '{{\"order\": 82}}' | amqp-publish --url=amqp://{RABBIT_USER}:b82-old-password@127.0.0.1:5672/"
         f"{RABBIT_VHOST} -r orders82"),
        ("amqp_consume_missing_vhost", "auth", "NOT_ALLOWED",
         f"amqp-consume --url=amqp://{RABBIT_USER}:{RABBIT_PW}@127.0.0.1:5672/billing82 -q orders82 cat"),
        ("amqp_declare_no_permission", "auth", "ACCESS_REFUSED",
         f"amqp-declare-queue --url=amqp://{RABBIT_LIMITED}:{RABBIT_PW}@127.0.0.1:5672/%2f -q reports82"),
        ("amqp_consume_exclusive_locked", "resource", "RESOURCE_LOCKED",
         f"amqp-consume --url={url} -q locked82 -x cat & sleep 1.5; amqp-consume --url={url} -q locked82 -c 1 cat; "
         "rc=$?; kill $!; wait; exit $rc"),
        ("amqp_declare_queue_limit", "resource", "limit",
         f"sleep 1; for q in a82 b82 c82; do amqp-declare-queue --url={url} -q $q || exit 1; done"),
        ("amqp_publish_missing_exchange", "programming", "NOT_FOUND",
         f"echo '{{\"order\": 82}}' | amqp-publish --url={url} -e orders82.topic -r order.created"),
        ("amqp_publish_refused", "network", "opening socket",
         f"echo '{{\"order\": 82}}' | amqp-publish --url=amqp://guest:guest@127.0.0.1:{env.closed_port}/ -r orders82"),
        ("amqp_publish_bad_url", "validation", "parse",
         "echo '{\"order\": 82}' | amqp-publish --url=amqp://guest:guest@127.0.0.1:56,72/ -r orders82"),
        ("amqp_publish_authfile_missing", "filesystem", "auth data file",
         "echo '{\"order\": 82}' | amqp-publish --authfile=/etc/amqp82/credentials -r orders82"),
    ]


def _rabbitmqadmin_tools(env: Env, tls_port: int) -> list[ToolCase]:
    admin = f"rabbitmqadmin -H 127.0.0.1 -P {env.http_port}"
    return [
        ("rabbitmqadmin_401", "auth", "Access refused", f"{admin} --path-prefix=/status/401 list queues"),
        ("rabbitmqadmin_429", "resource", "429", f"{admin} --path-prefix=/status/429 list queues"),
        ("rabbitmqadmin_500", "service", "500", f"{admin} --path-prefix=/status/500 list exchanges"),
        ("rabbitmqadmin_503", "service", "503", f"{admin} --path-prefix=/status/503 list queues"),
        ("rabbitmqadmin_self_signed", "network", "CERTIFICATE_VERIFY_FAILED",
         f"rabbitmqadmin -H 127.0.0.1 -P {tls_port} --ssl list queues"),
        ("rabbitmqadmin_timeout", "network", "Timed out",
         f"rabbitmqadmin -H 127.0.0.1 -P {env.hang_port} -t 2 list queues"),
        ("rabbitmqadmin_config_missing", "filesystem", "config file",
         "rabbitmqadmin -c /etc/rabbitmq82/rabbitmqadmin.conf -N prod list queues"),
        ("rabbitmqadmin_unknown_object", "programming", "know how", f"{admin} list queus"),
        ("rabbitmqadmin_bad_json_arguments", "validation", "JSON",
         f"{admin} declare queue name=orders82 arguments='{{\"x-max-length\": 1000,}}'"),
    ]


# --------------------------------------------------------------------------- kcat


def _kcat_tools(env: Env, tls_port: int) -> list[ToolCase]:
    return [
        ("kcat_refused", "network", "Connection refused",
         f"echo '{{\"order\": 82}}' | kcat -b 127.0.0.1:{env.closed_port} -P -t orders82 -m 3"),
        ("kcat_self_signed", "network", "certificate verify failed|verify",
         f"kcat -b 127.0.0.1:{tls_port} -X security.protocol=SSL -L -m 4"),
        ("kcat_config_missing", "filesystem", "No such file", "kcat -F /etc/kcat82/kcat.conf -L"),
        ("kcat_input_missing", "filesystem", "No such file",
         f"kcat -b 127.0.0.1:{env.closed_port} -P -t orders82 -l /srv/export82/orders.jsonl"),
        ("kcat_ca_missing", "filesystem", "no such file",
         f"kcat -b 127.0.0.1:{env.closed_port} -X security.protocol=SSL -X ssl.ca.location=/etc/kafka82/ca.pem -L"),
        ("kcat_unknown_property", "programming", "No such configuration property",
         "kcat -b 127.0.0.1:9092 -X linger.msec=5 -L"),
        ("kcat_invalid_value", "validation", "Invalid value",
         f"kcat -b 127.0.0.1:{env.closed_port} -X batch.num.messages=lots -L"),
    ]


# --------------------------------------------------------------------------- procrastinate, saq, taskiq


def _procrastinate_cases(env: Env, pg: PrivatePostgres, standby: PrivatePostgres) -> list[PyCase]:
    import psycopg

    app_dsn = f"postgresql://app:right-password@127.0.0.1:{pg.port}/billing82"

    def defer(dsn: str) -> None:
        app, send_invoice, pool = procrastinate_app(dsn)
        try:
            with app.open(pool):
                send_invoice.defer(invoice_id=8201)
        finally:
            pool.close()

    def too_many_clients() -> None:
        held = [psycopg.connect(app_dsn) for _ in range(3)]
        try:
            defer(app_dsn)
        finally:
            for conn in held:
                conn.close()

    def lock_timeout() -> None:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg.port}/billing82") as holder:
            holder.execute("LOCK TABLE procrastinate_jobs IN ACCESS EXCLUSIVE MODE")  # a long migration
            defer(app_dsn + "?options=-c%20lock_timeout%3D1000")

    return [
        ("procrastinate_missing_schema", "programming", "procrastinate82", "ConnectorException",
         lambda: defer(f"postgresql://postgres@127.0.0.1:{pg.port}/fresh82")),
        ("procrastinate_wrong_password", "auth", "procrastinate82", "ConnectorException",
         lambda: defer(f"postgresql://app:old-password@127.0.0.1:{pg.port}/billing82")),
        ("procrastinate_too_many_clients", "resource", "procrastinate82", "ConnectorException", too_many_clients),
        ("procrastinate_lock_timeout", "resource", "procrastinate82", "ConnectorException", lock_timeout),
        ("procrastinate_standby", "service", "procrastinate82", "ConnectorException",
         lambda: defer(f"postgresql://postgres@127.0.0.1:{standby.port}/postgres")),
    ]


def _procrastinate_setup(env: Env, pg: PrivatePostgres) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg.port}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE billing82")
        conn.execute("CREATE DATABASE fresh82")
    app, _, pool = procrastinate_app(f"postgresql://postgres@127.0.0.1:{pg.port}/billing82")
    with app.open(pool):
        app.schema_manager.apply_schema()
    pool.close()
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg.port}/billing82", autocommit=True) as conn:
        for kind in ("TABLES", "SEQUENCES", "FUNCTIONS"):
            conn.execute(f"GRANT ALL ON ALL {kind} IN SCHEMA public TO app")
    (env.tmp / "billing82.py").write_text(PROCRASTINATE_MODULE, encoding="utf-8")


def _procrastinate_tools(env: Env, pg: PrivatePostgres) -> list[ToolCase]:
    cli = (f"cd {env.tmp} && BILLING82_DSN=postgresql://app:right-password@127.0.0.1:{pg.port}/billing82 "
           f"PYTHONPATH={env.tmp} {VENV_BIN}/procrastinate --app=billing82.app defer")
    return [
        ("procrastinate_cli_bad_json", "validation", "JSON", f"{cli} send_invoice '{{\"invoice_id\": 8202,'"),
        ("procrastinate_cli_unknown_task", "programming", "cannot be imported",
         f"{cli} send_invoices '{{\"invoice_id\": 8203}}'"),
    ]


def _saq_cases(auth_port: int, replica_port: int) -> list[PyCase]:
    import saq

    def enqueue(url: str) -> Any:
        async def go() -> Any:
            queue = saq.Queue.from_url(url, name="mail82")
            try:
                return await queue.enqueue("send_receipt", order_id=8204)
            finally:
                with contextlib.suppress(Exception):
                    await queue.disconnect()

        return asyncio.run(go())

    return [
        ("saq_wrong_password", "auth", "saq82", "AuthenticationError",
         lambda: enqueue(f"redis://:old-password@127.0.0.1:{auth_port}")),
        ("saq_master_down", "service", "saq82", "MasterDownError|ResponseError",
         lambda: enqueue(f"redis://127.0.0.1:{replica_port}")),
    ]


def _taskiq_cases() -> list[PyCase]:
    import taskiq

    broker = taskiq.InMemoryBroker()
    prices = {"KB-01": 49.0, "MS-02": 19.5}

    @broker.task
    async def quote(sku: str, quantity: int) -> float:
        return prices[sku] * quantity

    async def go() -> float:
        await broker.startup()
        try:
            task = await quote.kiq("KB-02", 3)
            result = await task.wait_result(timeout=5)
            result.raise_for_error()
            return result.return_value
        finally:
            await broker.shutdown()

    return [("taskiq_task_key_error", "programming", "taskiq82", "KeyError", lambda: asyncio.run(go()))]


def _taskiq_tools(env: Env) -> list[ToolCase]:
    return [("taskiq_worker_module_missing", "programming", "ModuleNotFoundError",
             f"cd {env.tmp} && timeout 40 {VENV_BIN}/taskiq worker billing82_tasks:broker --workers 1 --max-fails 1")]


# --------------------------------------------------------------------------- the batch


def blind82_records(env: Env) -> list[Record]:
    (env.tmp / "scan82.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 12)
    small = private_beanstalkd(env, "-z", "1024")
    draining = private_beanstalkd(env)
    draining.drain()
    wal = mount_tmpfs(env, "wal82", "size=64k")
    full_log = private_beanstalkd(env, "-b", str(wal), "-s", "4096")
    ro = mount_tmpfs(env, "ro82", "size=64k,ro")
    gear = private_gearmand(env)
    rabbit_setup(env)
    tls_port = self_signed_https(env)
    pg = private_postgres(env, max_connections=4, reserved=1)
    standby = private_postgres(env, standby=True)
    _procrastinate_setup(env, pg)
    r_auth = private_redis(env, "--requirepass", "b82-redis-password")
    r_replica = private_redis(env, "--replicaof", "127.0.0.1", str(env.closed_port), "--replica-serve-stale-data", "no")

    out = python_records(_beanstalk_cases(env, small, draining, full_log))
    out += tool_records(_beanstalk_tools(small, ro)[:1], "greenstalk82", env.tmp)
    out += tool_records(_beanstalk_tools(small, ro)[1:], "beanstalkd82", env.tmp)
    out += python_records(_gearman_cases(env))
    out += tool_records(_gearman_tools(env, gear), "gearman-cli82", env.tmp)
    out += tool_records(_amqp_tools(env), "amqp-tools82", env.tmp)
    out += tool_records(_rabbitmqadmin_tools(env, tls_port), "rabbitmqadmin82", env.tmp)
    out += tool_records(_kcat_tools(env, tls_port), "kcat82", env.tmp)
    out += python_records(_procrastinate_cases(env, pg, standby))
    out += tool_records(_procrastinate_tools(env, pg), "procrastinate-cli82", env.tmp)
    out += python_records(_saq_cases(r_auth, r_replica))
    out += python_records(_taskiq_cases())
    out += tool_records(_taskiq_tools(env), "taskiq-cli82", env.tmp, timeout=60)
    return out


if __name__ == "__main__":
    write_batch(blind82_records)


__all__ = ["BLIND82_SOURCES", "blind82_records"]
