"""Thirty-sixth batch of blind provokers: messaging and data-store clients new to the corpus, as services calling
services and data pipelines meet them. NATS through nats-py (no responders, a request nobody answers, a closed port,
a private nats-server refusing a password, a publish permission and an oversized message, a JetStream stream whose
subjects overlap another's), MQTT through aiomqtt (closed port, a private mosquitto refusing a password), PostgreSQL
through psycopg2 (a private cluster refusing a password, shut down under a client and running as a standby that
accepts no connections; a role's connection limit, a lock timeout, NOT NULL and an unknown column on the shared
server), MariaDB through aiomysql (a user's wrong password and connection limit, duplicate entry, data too long, a
lock wait timeout, a missing table, a closed port), SQLite through aiosqlite (a second writer, a full and a
read-only tmpfs, a missing directory and table, a closed connection), redis.asyncio (closed port, WRONGTYPE, a
private server out of memory or wanting a password) and the CLIs mariadb-dump, pg_dump, pg_isready, createdb and
dropdb. Every role, user, table, key, stream and private server is removed at the end. Only 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import subprocess
from collections.abc import Iterator
from typing import Any

from blind36_support import expect, private_nats, sync
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, run, write_batch
from servers import PrivatePostgres, mount_tmpfs, private_mosquitto, private_postgres, private_redis

BLIND36_SOURCES = frozenset({"nats36", "aiomqtt36", "psycopg2-36", "aiomysql36", "aiosqlite36", "redis-asyncio36",
                             "db-cli36"})

PG = "host=127.0.0.1 port=5432 dbname=test"
MYSQL: dict[str, Any] = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": "", "db": "test"}

PG_SETUP = """
DROP TABLE IF EXISTS b36_jobs;
CREATE TABLE b36_jobs (id int PRIMARY KEY, state text NOT NULL);
INSERT INTO b36_jobs VALUES (1, 'queued');
DROP ROLE IF EXISTS b36_limited;
DROP ROLE IF EXISTS b36_reader;
CREATE ROLE b36_limited LOGIN CONNECTION LIMIT 1;
CREATE ROLE b36_reader LOGIN NOCREATEDB;
"""
PG_TEARDOWN = "DROP TABLE IF EXISTS b36_jobs; DROP ROLE IF EXISTS b36_limited; DROP ROLE IF EXISTS b36_reader;"

MYSQL_SETUP = """
DROP TABLE IF EXISTS b36_accounts, b36_stock;
CREATE TABLE b36_accounts (id int AUTO_INCREMENT PRIMARY KEY, email varchar(64) UNIQUE, plan varchar(8)) ENGINE=InnoDB;
CREATE TABLE b36_stock (sku varchar(16) PRIMARY KEY, qty int) ENGINE=InnoDB;
INSERT INTO b36_stock VALUES ('A-100', 5);
DROP USER IF EXISTS 'b36_app'@'%', 'b36_limited'@'%';
CREATE USER 'b36_app'@'%' IDENTIFIED BY 'right-password';
CREATE USER 'b36_limited'@'%' WITH MAX_USER_CONNECTIONS 1;
"""
MYSQL_TEARDOWN = "DROP TABLE IF EXISTS b36_accounts, b36_stock; DROP USER IF EXISTS 'b36_app'@'%', 'b36_limited'@'%';"


async def _quiet(_: Exception) -> None:
    """nats-py prints every asynchronous error unless given a callback; a pipeline logs them instead."""


async def _nats(url: str, **kw: Any) -> Any:
    import nats

    return await nats.connect(url, error_cb=kw.pop("error_cb", _quiet), allow_reconnect=False,
                              max_reconnect_attempts=1, connect_timeout=1, **kw)


def _nats_cases(env: Env, private: int) -> list[PyCase]:
    shared = "nats://127.0.0.1:4222"

    async def no_responders() -> None:
        nc = await _nats(shared)
        try:
            await nc.request("b36.pricing.quote", b'{"sku": "A-100"}', timeout=2)
        finally:
            await nc.close()

    async def request_timeout() -> None:
        nc = await _nats(shared)

        async def ignore(_: Any) -> None:
            return None

        try:
            await nc.subscribe("b36.inventory.reserve", cb=ignore)
            await nc.request("b36.inventory.reserve", b'{"sku": "A-100", "qty": 2}', timeout=0.5)
        finally:
            await nc.close()

    async def refused() -> None:
        await _nats(f"nats://127.0.0.1:{env.closed_port}")

    async def bad_password() -> None:
        await _nats(f"nats://app:wrong-password@127.0.0.1:{private}")

    async def publish_denied() -> None:
        errors: list[Exception] = []

        async def collect(err: Exception) -> None:
            errors.append(err)

        nc = await _nats(f"nats://app:right-password@127.0.0.1:{private}", error_cb=collect)
        try:
            await nc.publish("billing.charge", b'{"invoice": 36}')
            await nc.flush()
            await asyncio.sleep(0.3)
            if errors:
                raise errors[0]
        finally:
            await nc.close()

    async def payload_too_big() -> None:
        nc = await _nats(f"nats://app:right-password@127.0.0.1:{private}")
        try:
            await nc.publish("orders.created", b'{"items": [' + b'"A-100",' * 600 + b'"A-101"]}')
        finally:
            await nc.close()

    async def stream_overlap() -> None:
        nc = await _nats(shared)
        js = nc.jetstream()
        try:
            await js.add_stream(name="B36_ORDERS", subjects=["b36.orders.>"])
            await js.add_stream(name="B36_ORDERS_EU", subjects=["b36.orders.eu"])
        finally:
            with contextlib.suppress(Exception):
                await js.delete_stream("B36_ORDERS")
            with contextlib.suppress(Exception):
                await js.delete_stream("B36_ORDERS_EU")
            await nc.close()

    return [
        ("nats_no_responders", "service", "nats36", "NoRespondersError", sync(no_responders)),
        ("nats_request_timeout", "network", "nats36", "TimeoutError", sync(request_timeout)),
        ("nats_refused", "network", "nats36", "NoServersError|ConnectionRefusedError", sync(refused)),
        ("nats_bad_password", "auth", "nats36", "Error", expect("authorization", sync(bad_password))),
        ("nats_publish_denied", "auth", "nats36", "Error", expect("permissions violation", sync(publish_denied))),
        ("nats_max_payload", "validation", "nats36", "MaxPayloadError", sync(payload_too_big)),
        ("nats_stream_subjects_overlap", "validation", "nats36", "BadRequestError", sync(stream_overlap)),
    ]


def _mqtt_cases(env: Env, broker: int) -> list[PyCase]:
    async def publish(port: int, **kw: Any) -> None:
        import aiomqtt

        async with aiomqtt.Client("127.0.0.1", port, timeout=3, **kw) as client:
            await client.publish("plant/line1/temperature", b"21.5", qos=1)

    return [
        ("aiomqtt_refused", "network", "aiomqtt36", "MqttError",
         expect("refused", sync(lambda: publish(env.closed_port)))),
        ("aiomqtt_bad_password", "auth", "aiomqtt36", "MqttCodeError|MqttError",
         expect("authori", sync(lambda: publish(broker, username="app", password="wrong-password")))),
    ]


def _pg_cases(private: PrivatePostgres, standby: PrivatePostgres) -> list[PyCase]:
    import psycopg2

    def wrong_password() -> None:
        psycopg2.connect(host="127.0.0.1", port=private.port, user="app", password="wrong-password", dbname="postgres")

    def role_limit() -> None:
        held = psycopg2.connect(f"{PG} user=b36_limited")
        try:
            psycopg2.connect(f"{PG} user=b36_limited")
        finally:
            held.close()

    def lock_timeout() -> None:
        holder = psycopg2.connect(f"{PG} user=postgres")
        waiter = psycopg2.connect(f"{PG} user=postgres")
        try:
            holder.cursor().execute("SELECT state FROM b36_jobs WHERE id = 1 FOR UPDATE")
            cur = waiter.cursor()
            cur.execute("SET lock_timeout = '300ms'")
            cur.execute("UPDATE b36_jobs SET state = 'running' WHERE id = 1")
        finally:
            waiter.close()
            holder.close()

    def not_null() -> None:
        with contextlib.closing(psycopg2.connect(f"{PG} user=postgres")) as conn:
            cur = conn.cursor()
            cur.execute("CREATE TEMP TABLE b36_customer (id serial, email text NOT NULL, name text)")
            cur.execute("INSERT INTO b36_customer (email, name) VALUES (%s, %s)", (None, "Ada"))

    def unknown_column() -> None:
        with contextlib.closing(psycopg2.connect(f"{PG} user=postgres")) as conn:
            cur = conn.cursor()
            cur.execute("CREATE TEMP TABLE b36_invoice (id int, total numeric(10, 2))")
            cur.execute("SELECT id, amount_due FROM b36_invoice WHERE id = %s", (36,))

    def shut_down() -> None:
        conn = psycopg2.connect(host="127.0.0.1", port=private.port, user="postgres", dbname="postgres")
        try:
            private.pg_ctl("-m", "fast", "stop")
            conn.cursor().execute("SELECT count(*) FROM pg_class")
        finally:
            conn.close()

    def standby_connect() -> None:
        psycopg2.connect(host="127.0.0.1", port=standby.port, user="postgres", dbname="postgres", connect_timeout=3)

    return [
        ("psycopg2_wrong_password", "auth", "psycopg2-36", "OperationalError",
         expect("password authentication failed", wrong_password)),
        ("psycopg2_role_connection_limit", "resource", "psycopg2-36", "OperationalError",
         expect("too many connections", role_limit)),
        ("psycopg2_lock_timeout", "resource", "psycopg2-36", "LockNotAvailable", lock_timeout),
        ("psycopg2_not_null", "validation", "psycopg2-36", "NotNullViolation", not_null),
        ("psycopg2_unknown_column", "programming", "psycopg2-36", "UndefinedColumn", unknown_column),
        ("psycopg2_admin_shutdown", "service", "psycopg2-36", "OperationalError|InterfaceError",
         expect("terminating connection|closed the connection", shut_down)),
        ("psycopg2_standby_refuses", "service", "psycopg2-36", "OperationalError",
         expect("not accepting|starting up|standby", standby_connect)),
    ]


def _mysql_cases(env: Env) -> list[PyCase]:
    import aiomysql

    async def connect(**kw: Any) -> Any:
        return await aiomysql.connect(**{**MYSQL, **kw})

    async def wrong_password() -> None:
        await connect(user="b36_app", password="wrong-password", db=None)

    async def user_limit() -> None:
        held = await connect(user="b36_limited", db=None)
        try:
            (await connect(user="b36_limited", db=None)).close()
        finally:
            held.close()

    async def insert_account(email: str, plan: str) -> None:
        conn = await connect(autocommit=True)
        try:
            async with conn.cursor() as cur:
                await cur.execute("INSERT INTO b36_accounts (email, plan) VALUES (%s, %s)", (email, plan))
        finally:
            conn.close()

    async def duplicate() -> None:
        await insert_account("ops@example.org", "team")
        await insert_account("ops@example.org", "team")

    async def lock_wait() -> None:
        holder, waiter = await connect(), await connect()
        try:
            async with holder.cursor() as hold, waiter.cursor() as wait:
                await hold.execute("UPDATE b36_stock SET qty = qty - 1 WHERE sku = 'A-100'")
                await wait.execute("SET SESSION innodb_lock_wait_timeout = 1")
                await wait.execute("UPDATE b36_stock SET qty = qty - 2 WHERE sku = 'A-100'")
        finally:
            waiter.close()
            holder.close()

    async def missing_table() -> None:
        conn = await connect()
        try:
            async with conn.cursor() as cur:
                await cur.execute("SELECT sku, qty FROM b36_warehouse_stock WHERE qty < %s", (3,))
        finally:
            conn.close()

    async def refused() -> None:
        await connect(port=env.closed_port, connect_timeout=2)

    return [
        ("aiomysql_access_denied", "auth", "aiomysql36", "OperationalError",
         expect("access denied", sync(wrong_password))),
        ("aiomysql_max_user_connections", "resource", "aiomysql36", "OperationalError",
         expect("max_user_connections", sync(user_limit))),
        ("aiomysql_duplicate_entry", "validation", "aiomysql36", "IntegrityError",
         expect("duplicate", sync(duplicate))),
        ("aiomysql_data_too_long", "validation", "aiomysql36", "DataError",
         sync(lambda: insert_account("dev@example.org", "enterprise-annual"))),
        ("aiomysql_lock_wait_timeout", "resource", "aiomysql36", "OperationalError",
         expect("lock wait timeout", sync(lock_wait))),
        ("aiomysql_missing_table", "programming", "aiomysql36", "ProgrammingError",
         expect("doesn't exist", sync(missing_table))),
        ("aiomysql_refused", "network", "aiomysql36", "OperationalError",
         expect("can't connect|refused", sync(refused))),
    ]


def _sqlite_cases(env: Env) -> list[PyCase]:
    import aiosqlite

    full = mount_tmpfs(env, "sqlite-full36", "size=64k")
    frozen = mount_tmpfs(env, "sqlite-ro36", "size=256k")
    with contextlib.closing(sqlite3.connect(frozen / "cache.db")) as seed:
        seed.execute("CREATE TABLE entries (key TEXT PRIMARY KEY, value BLOB)")
        seed.commit()
    subprocess.run(["mount", "-o", "remount,ro", str(frozen)], check=True, capture_output=True)
    queue = env.tmp / "queue36.db"

    async def second_writer() -> None:
        async with aiosqlite.connect(queue) as first:
            await first.execute("CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, body TEXT)")
            await first.commit()
            await first.execute("BEGIN IMMEDIATE")
            await first.execute("INSERT INTO jobs (body) VALUES ('resize image 1')")
            async with aiosqlite.connect(queue, timeout=0.2) as second:
                await second.execute("INSERT INTO jobs (body) VALUES ('resize image 2')")
                await second.commit()

    async def disk_full() -> None:
        async with aiosqlite.connect(full / "metrics.db") as db:
            await db.execute("CREATE TABLE samples (ts INTEGER, payload BLOB)")
            for ts in range(200):
                await db.execute("INSERT INTO samples VALUES (?, randomblob(8192))", (ts,))
                await db.commit()

    async def read_only() -> None:
        async with aiosqlite.connect(frozen / "cache.db") as db:
            await db.execute("INSERT INTO entries VALUES ('build-36', x'00')")
            await db.commit()

    async def missing_dir() -> None:
        try:
            async with aiosqlite.connect(env.tmp / "state36" / "pipeline.db") as db:
                await db.execute("SELECT 1")
        finally:
            await asyncio.sleep(0.2)  # aiosqlite's worker thread answers late; let it before the loop closes

    async def missing_table() -> None:
        async with aiosqlite.connect(env.tmp / "app36.db") as db:
            await db.execute("SELECT id, user_id FROM sessions WHERE expires_at > ?", (0,))

    async def closed() -> None:
        db = await aiosqlite.connect(env.tmp / "app36.db")
        await db.close()
        await db.execute("SELECT 1")

    return [
        ("aiosqlite_database_locked", "resource", "aiosqlite36", "OperationalError",
         expect("locked", sync(second_writer))),
        ("aiosqlite_disk_full", "resource", "aiosqlite36", "OperationalError", expect("full", sync(disk_full))),
        ("aiosqlite_read_only_mount", "filesystem", "aiosqlite36", "OperationalError",
         expect("readonly|read-only", sync(read_only))),
        ("aiosqlite_missing_directory", "filesystem", "aiosqlite36", "OperationalError",
         expect("unable to open", sync(missing_dir))),
        ("aiosqlite_no_such_table", "programming", "aiosqlite36", "OperationalError",
         expect("no such table", sync(missing_table))),
        ("aiosqlite_closed_connection", "programming", "aiosqlite36", "ValueError|ProgrammingError", sync(closed)),
    ]


def _redis_cases(env: Env) -> list[PyCase]:
    full = private_redis(env, "--maxmemory", "1mb", "--maxmemory-policy", "noeviction")
    locked = private_redis(env, "--requirepass", "right-password")

    async def call(port: int, *command: Any) -> None:
        import redis.asyncio

        client = redis.asyncio.Redis(host="127.0.0.1", port=port, socket_connect_timeout=2)
        try:
            await client.execute_command(*command)
        finally:
            await client.aclose()

    async def wrong_type() -> None:
        import redis.asyncio

        client = redis.asyncio.Redis(host="127.0.0.1", port=6379)
        try:
            await client.set("b36:deploys", "v1.4.2")
            await client.lpush("b36:deploys", "v1.4.3")
        finally:
            await client.delete("b36:deploys")
            await client.aclose()

    return [
        ("redis_asyncio_refused", "network", "redis-asyncio36", "ConnectionError",
         sync(lambda: call(env.closed_port, "PING"))),
        ("redis_asyncio_wrongtype", "programming", "redis-asyncio36", "ResponseError", sync(wrong_type)),
        ("redis_asyncio_oom", "resource", "redis-asyncio36", "OutOfMemoryError",
         sync(lambda: call(full, "SET", "b36:report", "x" * 400_000))),
        ("redis_asyncio_noauth", "auth", "redis-asyncio36", "AuthenticationError",
         sync(lambda: call(locked, "GET", "b36:session"))),
    ]


CLI: list[ToolCase] = [
    ("mariadb_dump_access_denied", "auth", "Access denied",
     ["mariadb-dump", "-h", "127.0.0.1", "-u", "b36_app", "-pwrong-password", "test"]),
    ("mariadb_dump_unknown_database", "validation", "Unknown database",
     ["mariadb-dump", "-h", "127.0.0.1", "-u", "root", "b36_no_such_db"]),
    ("mariadb_dump_result_file", "filesystem", "create/write|No such file|Errcode",
     ["mariadb-dump", "-h", "127.0.0.1", "-u", "root", "--result-file=/nonexistent-b36/backups/test.sql", "test"]),
    ("pg_dump_output_file", "filesystem", "could not open|No such file",
     ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "-f", "/nonexistent-b36/backups/test.sql", "test"]),
    ("pg_isready_closed_port", "network", "no response", ["pg_isready", "-h", "127.0.0.1", "-p", "CLOSEDPORT"]),
    ("pg_isready_standby", "service", "rejecting", ["pg_isready", "-h", "127.0.0.1", "-p", "STANDBYPORT"]),
    ("createdb_permission_denied", "auth", "permission denied",
     ["createdb", "-h", "127.0.0.1", "-U", "b36_reader", "b36_reports"]),
    ("dropdb_missing_database", "validation", "does not exist",
     ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "b36_no_such_db"]),
]


@contextlib.contextmanager
def _shared_fixtures() -> Iterator[None]:
    """Roles and tables on the shared PostgreSQL and MariaDB, removed again whatever happens."""
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-v", "ON_ERROR_STOP=1", "-c"]
    mariadb = ["mariadb", "-h", "127.0.0.1", "-u", "root", "test", "-e"]
    try:
        for argv, sql in ((psql, PG_SETUP), (mariadb, MYSQL_SETUP)):
            proc = run([*argv, sql])
            if proc.returncode:
                raise RuntimeError(f"setup failed: {argv[0]}")
        yield
    finally:
        run([*psql, PG_TEARDOWN])
        run([*mariadb, MYSQL_TEARDOWN])


def blind36_records(env: Env) -> list[Record]:
    logging.disable(logging.CRITICAL)  # paho and asyncio would log the provoked failures a second time
    nats_port = private_nats(env)
    broker = private_mosquitto(env)
    private = private_postgres(env)
    standby = private_postgres(env, standby=True)

    def fill(text: str) -> str:
        return text.replace("CLOSEDPORT", str(env.closed_port)).replace("STANDBYPORT", str(standby.port))

    with _shared_fixtures():
        out = python_records([*_nats_cases(env, nats_port), *_mqtt_cases(env, broker),
                              *_pg_cases(private, standby), *_mysql_cases(env), *_sqlite_cases(env),
                              *_redis_cases(env)])
        out += tool_records(CLI, "db-cli36", env.tmp, fill, timeout=30)
    return out


if __name__ == "__main__":
    write_batch(blind36_records)


__all__ = ["BLIND36_SOURCES", "blind36_records"]
