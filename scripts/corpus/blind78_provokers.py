"""Seventy-eighth batch of blind provokers: database drivers and database CLIs not seen before, each against a
server started here on 127.0.0.1 (blind78_support). mysqlclient (MySQLdb) and asyncmy against a private mariadbd
with the smallest max_connections (a wrong password, a database the account may not use, a missing table, a
duplicate key, a value too long from input, a lock wait timeout, the connection table full, a closed port); aiopg
and `databases` (aiopg backend) against a private PostgreSQL cluster and a standby that refuses connections (too
many clients, an undefined table or column, text where an integer belongs, an operator terminating the session);
apsw and sqlite-utils on real files (a lock held by another process, a tmpfs remounted read-only, a full tmpfs, a
constraint, a missing directory or input file, invalid JSON input); dataset and records over SQLAlchemy; the
PostgreSQL tools pgbench, pg_isready, pg_ctl, createdb, reindexdb and vacuumdb (wrong password, full connection
table, a broken custom script, a standby, a missing data directory, a stopped server); the MariaDB tools mysqldump,
mysqlcheck and mariadb-import (denied, unknown table, missing file, the server shut down); and redis-benchmark,
redis-check-aof and redis-check-rdb (a wrong password, a full client table, a replica whose master is down, data
files written by a real redis-server and cut short, a missing one)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from blind47_support import TokenCase, token_records
from blind78_support import (
    PASSWORD,
    held_mariadb,
    held_pg,
    mariadb_setup,
    pg_setup,
    read_only_sqlite,
    redis_data_files,
    sqlite_writer_process,
    terminate_pg_backends,
    truncated_copy,
)
from checked import ToolCase, tool_records
from common import Env, Record, write_batch
from servers import PG_BIN, PrivatePostgres, mount_tmpfs, private_mariadb, private_postgres, private_redis

BLIND78_SOURCES = frozenset({
    "mysqlclient78", "asyncmy78", "aiopg78", "databases78", "apsw78", "sqlite-utils78", "dataset78", "records78",
    "pgbench78", "pg_isready78", "pg_ctl78", "pg-admin-cli78", "mysqldump78", "mysqlcheck78", "mariadb-import78",
    "redis-benchmark78", "redis-check78",
})

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"

# --------------------------------------------------------------------------- MariaDB drivers


def _mysqlclient_cases(port: int) -> list[TokenCase]:
    import MySQLdb

    def connect(user: str = "app78", password: str = PASSWORD, database: str = "shop78") -> Any:
        return MySQLdb.connect(host="127.0.0.1", port=port, user=user, password=password, database=database,
                               connect_timeout=3)

    def execute(sql: str, args: Any = None) -> None:
        conn = connect()
        try:
            conn.cursor().execute(sql, args)
            conn.commit()
        finally:
            conn.close()

    def lock_wait() -> None:
        holder, waiter = connect(), connect()
        try:
            holder.autocommit(False)
            holder.cursor().execute("UPDATE orders SET qty = qty - 1 WHERE id = 2")
            cur = waiter.cursor()
            cur.execute("SET SESSION innodb_lock_wait_timeout = 1")
            cur.execute("UPDATE orders SET qty = qty + 3 WHERE id = 2")
        finally:
            holder.rollback()
            holder.close()
            waiter.close()

    def too_many_connections() -> None:
        with held_mariadb(port, 10):  # 10 is the smallest max_connections mariadbd accepts
            connect()

    return [
        ("mysqlclient_wrong_password", "auth", "mysqlclient78", "OperationalError", "1045",
         lambda: connect(password="wrong-password-78")),
        ("mysqlclient_missing_table", "programming", "mysqlclient78", "ProgrammingError", "1146",
         lambda: execute("SELECT id, sku FROM order_items WHERE order_id = %s", (1,))),
        ("mysqlclient_duplicate_key", "validation", "mysqlclient78", "IntegrityError", "1062",
         lambda: execute("INSERT INTO orders (id, sku, qty) VALUES (%s, %s, %s)", (3, "HD-03", 1))),
        ("mysqlclient_lock_wait_timeout", "resource", "mysqlclient78", "OperationalError", "1205", lock_wait),
        ("mysqlclient_too_many_connections", "resource", "mysqlclient78", "OperationalError", "1040",
         too_many_connections),
    ]


def _asyncmy_cases(port: int, closed: int) -> list[TokenCase]:
    import asyncmy

    def query(sql: str, args: Any = None, user: str = "app78", database: str = "shop78", at: int = port) -> Any:
        async def go() -> Any:
            conn = await asyncmy.connect(host="127.0.0.1", port=at, user=user, password=PASSWORD, database=database,
                                         connect_timeout=3)
            try:
                async with conn.cursor() as cur:
                    await cur.execute(sql, args)
                    await conn.commit()
                    return await cur.fetchall()
            finally:
                conn.close()

        return asyncio.run(go())

    sku_from_form = "KEYBOARD-DELUXE-DE"  # what a user typed into the SKU field of an order form
    return [
        ("asyncmy_database_denied", "auth", "asyncmy78", "OperationalError", "1044",
         lambda: query("SELECT COUNT(*) FROM orders", user="report78")),
        ("asyncmy_data_too_long", "validation", "asyncmy78", "DataError", "1406",
         lambda: query("INSERT INTO orders (id, sku, qty) VALUES (%s, %s, %s)", (10, sku_from_form, 1))),
        ("asyncmy_refused", "network", "asyncmy78", "OperationalError", "2003",
         lambda: query("SELECT 1", at=closed)),
    ]


# --------------------------------------------------------------------------- PostgreSQL drivers


def _aiopg_cases(pg: PrivatePostgres, standby: int) -> list[TokenCase]:
    import aiopg

    def query(sql: str, args: Any = None, at: int = pg.port, user: str = "app") -> Any:
        async def go() -> Any:
            dsn = f"host=127.0.0.1 port={at} dbname=postgres user={user} password={PASSWORD}"
            async with aiopg.connect(dsn, timeout=5) as conn, conn.cursor() as cur:
                await cur.execute(sql, args)
                return await cur.fetchall()

        return asyncio.run(go())

    def too_many_clients() -> None:
        with held_pg(pg.port, 3):
            query("SELECT balance FROM accounts78 WHERE id = 1")

    account_from_url = "A-17"  # the path segment of /accounts/A-17, where an integer id belongs
    return [
        ("aiopg_standby_refuses", "service", "aiopg78", "OperationalError", "not accepting|standby|starting up",
         lambda: query("SELECT 1", at=standby, user="postgres")),
        ("aiopg_too_many_clients", "resource", "aiopg78", "OperationalError", "slots|too many", too_many_clients),
        ("aiopg_undefined_table", "programming", "aiopg78", "ProgrammingError", "does not exist",
         lambda: query("SELECT balance FROM account78 WHERE id = %s", (1,))),
        ("aiopg_invalid_integer_input", "validation", "aiopg78", "DataError", "invalid input syntax",
         lambda: query("SELECT balance FROM accounts78 WHERE id = %s", (account_from_url,))),
    ]


def _databases_cases(pg: PrivatePostgres) -> list[TokenCase]:
    import databases

    url = f"postgresql+aiopg://app:{PASSWORD}@127.0.0.1:{pg.port}/postgres"

    def run_query(sql: str, values: dict[str, Any] | None = None, terminate_first: bool = False) -> Any:
        async def go() -> Any:
            database = databases.Database(url)
            await database.connect()
            try:
                await database.fetch_one("SELECT 1")
                if terminate_first:
                    terminate_pg_backends(pg.port, "app")
                return await database.fetch_all(sql, values)
            finally:
                await database.disconnect()

        return asyncio.run(go())

    return [
        ("databases_undefined_column", "programming", "databases78", "ProgrammingError", "does not exist",
         lambda: run_query("SELECT id, emial FROM accounts78 WHERE id = :id", {"id": 1})),
        ("databases_admin_terminated", "service", "databases78", "OperationalError|AdminShutdown",
         "administrator command|terminat",
         lambda: run_query("SELECT balance FROM accounts78", terminate_first=True)),
    ]


def _sqlalchemy_wrapper_cases(pg: PrivatePostgres, closed: int) -> list[TokenCase]:
    import dataset
    import records

    def dataset_refused() -> None:
        db = dataset.connect(f"postgresql://app:{PASSWORD}@127.0.0.1:{closed}/postgres")
        db["accounts78"].find_one(id=1)

    def records_wrong_password() -> None:
        db = records.Database(f"postgresql://app:wrong-password-78@127.0.0.1:{pg.port}/postgres")
        db.query("SELECT id, email FROM accounts78").all()

    return [
        ("dataset_refused", "network", "dataset78", "OperationalError", "refused", dataset_refused),
        ("records_wrong_password", "auth", "records78", "OperationalError", "password authentication failed",
         records_wrong_password),
    ]


# --------------------------------------------------------------------------- SQLite: apsw


_SQLITE_SCHEMA = ("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, payload BLOB);"
                  "INSERT INTO jobs (name) VALUES ('nightly-report');")


def _apsw_cases(env: Env, locked: Path, read_only: Path, full_dir: Path) -> list[TokenCase]:
    import apsw

    def execute(path: Path, sql: str, args: Any = (), busy_ms: int = 0) -> None:
        conn = apsw.Connection(str(path))
        if busy_ms:
            conn.set_busy_timeout(busy_ms)
        try:
            conn.execute(sql, args)
        finally:
            conn.close()

    def fill_disk() -> None:
        conn = apsw.Connection(str(full_dir / "cache78.db"))
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS blobs (k INTEGER PRIMARY KEY, v BLOB)")
            for _ in range(200):
                conn.execute("INSERT INTO blobs (v) VALUES (randomblob(16384))")
        finally:
            conn.close()

    return [
        ("apsw_database_locked", "resource", "apsw78", "BusyError", "locked",
         lambda: execute(locked, "INSERT INTO jobs (name) VALUES (?)", ("hourly-sync",), busy_ms=500)),
        ("apsw_read_only_mount", "filesystem", "apsw78", "ReadOnlyError", "readonly",
         lambda: execute(read_only, "INSERT INTO jobs (name) VALUES (?)", ("hourly-sync",))),
        ("apsw_disk_full", "resource", "apsw78", "FullError", "full", fill_disk),
        ("apsw_unique_constraint", "validation", "apsw78", "ConstraintError", "UNIQUE",
         lambda: execute(locked.with_name("jobs78_free.db"), "INSERT INTO jobs (name) VALUES (?)",
                         ("nightly-report",))),
        ("apsw_missing_directory", "filesystem", "apsw78", "CantOpenError", "open",
         lambda: execute(env.tmp / "state78" / "jobs.db", "SELECT 1")),
    ]


# --------------------------------------------------------------------------- CLIs


def _sqlite_utils_tools() -> list[ToolCase]:
    su = f"{VENV_BIN}/sqlite-utils"
    return [
        ("sqlite_utils_invalid_json", "validation", "json|invalid|expecting",
         f"printf '[{{\"id\": 1, \"email\": \"ada@example.org\"}}, {{\"id\": 2, \"email\": ' "
         f"| {su} insert TMP/users78.db users - --pk id"),
        ("sqlite_utils_read_only_mount", "filesystem", "readonly|read-only",
         f"echo '{{\"name\": \"hourly-sync\"}}' | {su} insert RODB jobs -"),
        ("sqlite_utils_missing_input_file", "filesystem", "no such file|does not exist",
         f"{su} insert TMP/users78.db users TMP/exports78/users.json --pk id"),
    ]


def _sqlite_utils_locked() -> list[ToolCase]:
    su = f"{VENV_BIN}/sqlite-utils"
    return [("sqlite_utils_database_locked", "resource", "locked",
             f"echo '{{\"name\": \"hourly-sync\"}}' | {su} insert LOCKED jobs -")]


def _pg_tools() -> list[ToolCase]:
    auth = "PGPASSWORD=" + PASSWORD
    bench = "pgbench -h 127.0.0.1 -n"
    return [
        ("pgbench_wrong_password", "auth", "password authentication failed",
         f"PGPASSWORD=wrong-password-78 {bench} -p PGPORT -U app -f TMP/select78.sql -t 5 postgres"),
        ("pgbench_too_many_clients", "resource", "too many clients|slots",
         f"{auth} {bench} -p PGPORT -U app -c 6 -f TMP/select78.sql -t 5 postgres"),
        ("pgbench_bad_script", "validation", "syntax error|unexpected",
         f"{auth} {bench} -p PGPORT -U app -f TMP/transfer78.sql -t 5 postgres"),
        ("pgbench_standby_refuses", "service", "not accepting|standby|starting up",
         f"{bench} -p STANDBY -U postgres -f TMP/select78.sql -t 5 postgres"),
        ("pg_isready_standby_rejecting", "service", "rejecting",
         "pg_isready -h 127.0.0.1 -p STANDBY -d postgres"),
        ("pg_ctl_missing_data_directory", "filesystem", "does not exist|no such file",
         f"runuser -u postgres -- {PG_BIN}/pg_ctl -D /tmp/recoup-corpus-pg78-gone/data -w -t 5 start"),
        ("createdb_permission_denied", "auth", "permission denied",
         f"{auth} createdb -h 127.0.0.1 -p PGPORT -U app reports78"),
        ("reindexdb_standby_refuses", "service", "not accepting|standby|starting up",
         "reindexdb -h 127.0.0.1 -p STANDBY -U postgres -d postgres"),
    ]


def _pg_stopped_tools() -> list[ToolCase]:
    return [
        ("pg_isready_stopped_server", "network", "no response", "pg_isready -h 127.0.0.1 -p PGPORT -d postgres"),
        ("vacuumdb_stopped_server", "network", "refused", "vacuumdb -h 127.0.0.1 -p PGPORT -U postgres -d postgres"),
    ]


def _mariadb_tools() -> list[ToolCase]:
    login = f"-h 127.0.0.1 -P MYPORT -u app78 --password={PASSWORD}"
    return [
        ("mysqldump_wrong_password", "auth", "access denied",
         "mysqldump -h 127.0.0.1 -P MYPORT -u app78 --password=wrong-password-78 shop78"),
        ("mysqldump_unknown_table", "programming", "couldn't find table|doesn't exist",
         f"mysqldump {login} shop78 order_items"),
        ("mysqlcheck_access_denied", "auth", "access denied",
         f"mysqlcheck -h 127.0.0.1 -P MYPORT -u report78 --password={PASSWORD} shop78"),
        ("mariadb_import_missing_file", "filesystem", "not found|no such file|errcode: 2",
         f"mariadb-import {login} --local shop78 TMP/imports78/orders.tsv"),
        ("mariadb_import_unknown_table", "programming", "doesn't exist",
         f"mariadb-import {login} --local shop78 TMP/order_items.tsv"),
        ("mariadb_import_access_denied", "auth", "access denied",
         f"mariadb-import -h 127.0.0.1 -P MYPORT -u report78 --password={PASSWORD} --local shop78 TMP/orders.tsv"),
    ]


def _mariadb_stopped_tools() -> list[ToolCase]:
    login = f"-h 127.0.0.1 -P MYPORT -u app78 --password={PASSWORD}"
    return [
        ("mysqldump_server_gone", "network", "can't connect|2002|2003", f"mysqldump {login} shop78"),
        ("mysqlcheck_server_gone", "network", "can't connect|2002|2003", f"mysqlcheck {login} shop78"),
    ]


def _redis_tools() -> list[ToolCase]:
    bench = "redis-benchmark -h 127.0.0.1 -n 200 -t set,get -q"
    return [
        ("redis_benchmark_wrong_password", "auth", "wrongpass|invalid password|auth",
         f"{bench} -p RAUTH -a wrong-password-78"),
        ("redis_benchmark_max_clients", "resource", "max number of clients", f"{bench} -p RFULL -c 20"),
        ("redis_benchmark_master_down", "service", "masterdown",
         "redis-benchmark -h 127.0.0.1 -n 200 -t get -q -p RREPLICA"),
    ]


def _redis_check_tools() -> list[ToolCase]:
    return [
        ("redis_check_aof_truncated", "validation", "unexpected eof|truncated|not valid|bad file format",
         "redis-check-aof AOFCUT"),
        ("redis_check_rdb_truncated", "validation", "unexpected eof|error|invalid",
         "redis-check-rdb RDBCUT"),
        ("redis_check_aof_missing", "filesystem", "no such file",
         "redis-check-aof TMP/backups78/appendonly.aof"),
    ]


# --------------------------------------------------------------------------- the batch

_TOOL_SOURCES = {"pgbench": "pgbench78", "pg_isready": "pg_isready78", "pg_ctl": "pg_ctl78",
                 "createdb": "pg-admin-cli78", "reindexdb": "pg-admin-cli78", "vacuumdb": "pg-admin-cli78",
                 "mysqldump": "mysqldump78", "mysqlcheck": "mysqlcheck78", "mariadb_import": "mariadb-import78"}


def _tool_source(case: str) -> str:
    """The source of a CLI case: the tool its name starts with."""
    return next(source for prefix, source in _TOOL_SOURCES.items() if case.startswith(prefix + "_"))



def blind78_records(env: Env) -> list[Record]:
    my_port, my_proc = private_mariadb(env, max_connections=10)
    mariadb_setup(my_port)
    pg = private_postgres(env, max_connections=4, reserved=1)
    pg_setup(pg)
    standby = private_postgres(env, standby=True)
    r_auth = private_redis(env, "--requirepass", PASSWORD)
    r_full = private_redis(env, "--maxclients", "2")
    r_replica = private_redis(env, "--replicaof", "127.0.0.1", str(env.closed_port),
                              "--replica-serve-stale-data", "no")
    aof, rdb = redis_data_files(env)
    aof_cut = truncated_copy(aof, env.tmp / "appendonly78.aof", 0.6)
    rdb_cut = truncated_copy(rdb, env.tmp / "dump78.rdb", 0.5)

    import sqlite3

    locked = env.tmp / "jobs78.db"
    for path in (locked, env.tmp / "jobs78_free.db"):
        with sqlite3.connect(path) as conn:
            conn.executescript(_SQLITE_SCHEMA)
    read_only = read_only_sqlite(env, "ro78", _SQLITE_SCHEMA)
    full_dir = mount_tmpfs(env, "full78", "size=64k")
    (env.tmp / "select78.sql").write_text("SELECT balance FROM accounts78 WHERE id = 1;\n")
    (env.tmp / "transfer78.sql").write_text("\\set aid random(1, \nSELECT balance FROM accounts78 WHERE id = :aid;\n")
    (env.tmp / "orders.tsv").write_text("20\tCB-20\t1\n21\tCB-21\t2\n")
    (env.tmp / "order_items.tsv").write_text("1\t1\tKB-01\n2\t1\tMS-02\n")

    def fill(text: str) -> str:
        for key, value in (("MYPORT", my_port), ("PGPORT", pg.port), ("STANDBY", standby.port), ("RAUTH", r_auth),
                           ("RFULL", r_full), ("RREPLICA", r_replica), ("AOFCUT", aof_cut), ("RDBCUT", rdb_cut),
                           ("RODB", read_only), ("LOCKED", locked), ("TMP", env.tmp)):
            text = text.replace(key, str(value))
        return text

    out = token_records(_mysqlclient_cases(my_port))
    out += token_records(_asyncmy_cases(my_port, env.closed_port))
    out += token_records(_aiopg_cases(pg, standby.port))
    out += token_records(_databases_cases(pg))
    out += token_records(_sqlalchemy_wrapper_cases(pg, env.closed_port))
    with sqlite_writer_process(locked):
        out += token_records(_apsw_cases(env, locked, read_only, full_dir))
        out += tool_records(_sqlite_utils_locked(), "sqlite-utils78", env.tmp, fill)
    out += tool_records(_sqlite_utils_tools(), "sqlite-utils78", env.tmp, fill)
    for case in _pg_tools() + _mariadb_tools():
        out += tool_records([case], _tool_source(case[0]), env.tmp, fill)
    out += tool_records(_redis_tools(), "redis-benchmark78", env.tmp, fill)
    out += tool_records(_redis_check_tools(), "redis-check78", env.tmp, fill)

    # the servers go away: PostgreSQL stopped cleanly, MariaDB shut down
    pg.pg_ctl("-m", "fast", "stop")
    my_proc.terminate()
    my_proc.wait(timeout=60)
    for case in _pg_stopped_tools() + _mariadb_stopped_tools():
        out += tool_records([case], _tool_source(case[0]), env.tmp, fill)
    return out


if __name__ == "__main__":
    write_batch(blind78_records)


__all__ = ["BLIND78_SOURCES", "blind78_records"]
