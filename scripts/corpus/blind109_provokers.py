"""Hundred-and-ninth batch of blind provokers: database access layers and connection middleware not seen before,
each failing for a cause provoked here against private servers (blind109_support). pyodbc through unixODBC with
psqlODBC (a refused port, a wrong password, an unknown DSN, a missing table, a CHECK violation, a wrong
parameter count, every connection slot taken) and with the SQLite3 ODBC driver (a read-only mount, a lock
held by another connection); the MariaDB Connector/Python (refused, access denied, unknown database, too many
connections, a syntax error, a duplicate key); peewee (SQLite on a read-only and on a full tmpfs, a NOT NULL
violation through psycopg 3, an uninitialised DatabaseProxy); SQLObject (a missing directory, a duplicate, a
missing table, a wrong password); piccolo on asyncpg (a wrong password, too many connections, a unique violation,
a standby that refuses connections); PgBouncer in front of a private cluster (wrong password, unknown database,
console access, max_client_conn, query_wait_timeout on a pool of one, a server login failing with a stale
password, a standby backend, bad and missing config files); mosquitto_pub/mosquitto_sub against a private broker
(wrong password, anonymous, an ACL-denied publish, a refused port, a wildcard topic, a missing payload file and
CA file)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from blind109_support import PW, Fixtures, hold_sqlite_lock, odbc_env, prepare
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND109_SOURCES = frozenset({"pyodbc109", "mariadb-connector109", "peewee109", "sqlobject109", "piccolo109",
                              "pgbouncer109", "mosquitto-cli109"})


@contextlib.contextmanager
def _pg_slots_taken(port: int, count: int) -> Iterator[None]:
    """Up to `count` idle `app` sessions, as many as the server still admits (other clients may hold some)."""
    import psycopg

    held: list[Any] = []
    try:
        while len(held) < count:
            held.append(psycopg.connect(host="127.0.0.1", port=port, user="app", password=PW, dbname="inventory"))
    except psycopg.OperationalError:
        pass
    try:
        yield
    finally:
        for conn in held:
            conn.close()


def _pyodbc_cases(env: Env, fx: Fixtures) -> list[PyCase]:
    import pyodbc

    odbc_env(fx.root, fx.pg.port, {"telemetry-archive": fx.ro_db, "job-queue": fx.locked_db})

    def pg(sql: str, *params: Any) -> Any:
        def fn() -> None:
            with pyodbc.connect(f"DSN=inventory-prod;UID=app;PWD={PW}", timeout=5) as conn:
                conn.cursor().execute(sql, *params)
                conn.commit()
        return fn

    def connect(conn_str: str) -> Any:
        return lambda: pyodbc.connect(conn_str, timeout=5)

    def too_many() -> None:
        with _pg_slots_taken(fx.pg.port, 5):
            pyodbc.connect(f"DSN=inventory-prod;UID=app;PWD={PW}", timeout=5)

    def sqlite(dsn: str, sql: str) -> Any:
        def fn() -> None:
            with pyodbc.connect(f"DSN={dsn}", autocommit=True) as conn:
                conn.cursor().execute(sql)
        return fn

    def locked() -> None:
        holder = hold_sqlite_lock(fx.locked_db)
        try:
            sqlite("job-queue", "INSERT INTO device_readings (device_id, metric, value, taken_at) "
                   "VALUES ('chiller-1', 'flow_lpm', 12.5, '2026-04-11T08:05:00Z')")()
        finally:
            holder.close()

    return [
        ("pyodbc_pg_refused", "network", "pyodbc109", "OperationalError|Error",
         connect(f"Driver={{PostgreSQL Unicode}};Servername=127.0.0.1;Port={env.closed_port};Database=inventory;"
                 f"UID=app;PWD={PW}")),
        ("pyodbc_pg_wrong_password", "auth", "pyodbc109", "OperationalError|Error",
         connect("DSN=inventory-prod;UID=app;PWD=Winter2025!")),
        ("pyodbc_unknown_dsn", "validation", "pyodbc109", "InterfaceError", connect("DSN=inventory-staging;UID=app")),
        ("pyodbc_pg_missing_table", "programming", "pyodbc109", "ProgrammingError",
         pg("SELECT sku, quantity FROM stock_movements WHERE warehouse_id = ?", 1)),
        ("pyodbc_pg_check_violation", "validation", "pyodbc109", "IntegrityError",
         pg("UPDATE stock_items SET quantity = quantity - ? WHERE sku = ?", 55, "SKU-88412-BLK")),
        ("pyodbc_param_count", "programming", "pyodbc109", "ProgrammingError",
         pg("SELECT quantity FROM stock_items WHERE sku = ?", "SKU-88412-BLK", 1)),
        ("pyodbc_pg_too_many_clients", "resource", "pyodbc109", "OperationalError|Error", too_many),
        ("pyodbc_sqlite_read_only", "filesystem", "pyodbc109", "Error",
         sqlite("telemetry-archive", "DELETE FROM device_readings WHERE taken_at < '2026-04-12'")),
        ("pyodbc_sqlite_locked", "resource", "pyodbc109", "Error", locked),
    ]


def _mariadb_cases(env: Env, fx: Fixtures) -> list[PyCase]:
    import mariadb

    def connect(**kw: Any) -> Any:
        args = {"host": "127.0.0.1", "port": fx.my_port, "user": "shop_app", "password": PW, "database": "shop",
                "connect_timeout": 5, **kw}
        return lambda: mariadb.connect(**args)

    def run_sql(sql: str, params: tuple[Any, ...] = ()) -> Any:
        def fn() -> None:
            conn = mariadb.connect(host="127.0.0.1", port=fx.my_port, user="shop_app", password=PW, database="shop")
            try:
                conn.cursor().execute(sql, params)
                conn.commit()
            finally:
                conn.close()
        return fn

    def too_many() -> None:
        held: list[Any] = []
        try:
            while len(held) < 12:  # a batch job opening one connection per worker
                held.append(connect()())
        finally:
            for conn in held:
                conn.close()

    return [
        ("mariadb_refused", "network", "mariadb-connector109", "OperationalError", connect(port=env.closed_port)),
        ("mariadb_access_denied", "auth", "mariadb-connector109", "OperationalError|ProgrammingError",
         connect(password="shop-2025")),
        ("mariadb_unknown_database", "validation", "mariadb-connector109", "ProgrammingError|OperationalError",
         connect(user="root", password="", database="shop_eu")),
        ("mariadb_too_many_connections", "resource", "mariadb-connector109", "OperationalError|Error", too_many),
        ("mariadb_syntax_error", "programming", "mariadb-connector109", "ProgrammingError",
         run_sql("SELECT id, total FROM orders WHERE status = ? ORDER total DESC", ("open",))),
        ("mariadb_duplicate_email", "validation", "mariadb-connector109", "IntegrityError",
         run_sql("INSERT INTO customers (email, country) VALUES (?, ?)", ("lena.vogt@example.org", "AT"))),
    ]


def _peewee_cases(env: Env, fx: Fixtures) -> list[PyCase]:
    import peewee

    def reading_model(db: peewee.Database) -> Any:
        class DeviceReading(peewee.Model):
            device_id = peewee.TextField()
            metric = peewee.TextField()
            value = peewee.FloatField()
            taken_at = peewee.TextField()

            class Meta:
                database = db
                table_name = "device_readings"
        return DeviceReading

    def insert_sqlite(path: str, rows: int) -> Any:
        def fn() -> None:
            db = peewee.SqliteDatabase(path)
            model = reading_model(db)
            model.insert_many([{"device_id": f"boiler-{i % 7}", "metric": "pressure_bar", "value": 1.7 + i,
                                "taken_at": f"2026-04-11T09:{i % 60:02d}:{i % 59:02d}.{i:06d}Z"}
                               for i in range(rows)]).execute()
        return fn

    def pg_not_null() -> None:
        db = peewee.PostgresqlDatabase("inventory", host="127.0.0.1", port=fx.pg.port, user="app", password=PW)

        class Warehouse(peewee.Model):
            code = peewee.CharField(max_length=8)
            city = peewee.TextField(null=True)

            class Meta:
                database = db
                table_name = "warehouses"
        Warehouse.create(code="BCN-03", city=None)

    def proxy_uninitialised() -> None:
        proxy = peewee.DatabaseProxy()
        reading_model(proxy).select().where(peewee.SQL("metric = 'temp_c'")).count()

    return [
        ("peewee_sqlite_read_only", "filesystem", "peewee109", "OperationalError", insert_sqlite(str(fx.ro_db), 1)),
        ("peewee_sqlite_disk_full", "resource", "peewee109", "OperationalError",
         insert_sqlite(str(fx.full / "telemetry.db"), 4000)),
        ("peewee_pg_not_null", "validation", "peewee109", "IntegrityError", pg_not_null),
        ("peewee_proxy_uninitialised", "programming", "peewee109", "AttributeError|InterfaceError",
         proxy_uninitialised),
    ]


def _sqlobject_cases(env: Env, fx: Fixtures) -> list[PyCase]:
    import sqlobject

    pg = sqlobject.connectionForURI(f"postgres://app:{PW}@127.0.0.1:{fx.pg.port}/inventory?driver=psycopg")

    def missing_dir() -> None:
        class ArchivedWarehouse(sqlobject.SQLObject):
            class sqlmeta:
                table = "warehouses"
            _connection = sqlobject.connectionForURI("sqlite:///var/lib/stockd/archive/warehouses.sqlite")
            code = sqlobject.StringCol(length=8, alternateID=True)
            city = sqlobject.StringCol()
        ArchivedWarehouse.select().count()

    def duplicate() -> None:
        class Warehouse(sqlobject.SQLObject):
            class sqlmeta:
                table = "warehouses"
            _connection = pg
            code = sqlobject.StringCol(length=8, alternateID=True)
            city = sqlobject.StringCol()
        Warehouse(code="FRA-01", city="Frankfurt am Main")

    def missing_table() -> None:
        class WarehouseSite(sqlobject.SQLObject):
            class sqlmeta:
                table = "warehouse_sites"
            _connection = pg
            warehouse_code = sqlobject.StringCol(length=8)
            dock_count = sqlobject.IntCol()
        list(WarehouseSite.select(WarehouseSite.q.dock_count > 4))

    def wrong_password() -> None:
        conn = sqlobject.connectionForURI(f"postgres://app:stock-2025@127.0.0.1:{fx.pg.port}/inventory"
                                          "?driver=psycopg")
        conn.queryAll("SELECT code FROM warehouses")

    return [
        ("sqlobject_sqlite_missing_dir", "filesystem", "sqlobject109", "OperationalError", missing_dir),
        ("sqlobject_pg_duplicate", "validation", "sqlobject109", "DuplicateEntryError|IntegrityError", duplicate),
        ("sqlobject_pg_missing_table", "programming", "sqlobject109", "ProgrammingError", missing_table),
        ("sqlobject_pg_wrong_password", "auth", "sqlobject109", "OperationalError", wrong_password),
    ]


def _piccolo_cases(env: Env, fx: Fixtures, standby_port: int) -> list[PyCase]:
    from piccolo.columns import Integer, Varchar
    from piccolo.engine.postgres import PostgresEngine
    from piccolo.table import Table

    def engine(**kw: Any) -> PostgresEngine:
        config = {"host": "127.0.0.1", "port": fx.pg.port, "user": "app", "password": PW, "database": "inventory"}
        config.update(kw)
        return PostgresEngine(config=config, log_queries=False)

    def table(db: PostgresEngine) -> type[Table]:
        class Warehouse(Table, tablename="warehouses", db=db):
            code = Varchar(length=8, unique=True)
            city = Varchar()
        return Warehouse

    def count(**kw: Any) -> Any:
        return lambda: table(engine(**kw)).count().run_sync()

    def duplicate() -> None:
        model = table(engine())
        model.insert(model(code="LYS-02", city="Villeurbanne")).run_sync()

    def too_many() -> None:
        with _pg_slots_taken(fx.pg.port, 5):
            count()()

    def standby() -> None:
        class Replica(Table, tablename="pg_class", db=engine(port=standby_port, database="postgres")):
            relpages = Integer()
        asyncio.run(Replica.count().run())

    return [
        ("piccolo_wrong_password", "auth", "piccolo109", "InvalidPasswordError", count(password="inv-2025")),
        ("piccolo_too_many_connections", "resource", "piccolo109", "TooManyConnectionsError|PostgresError", too_many),
        ("piccolo_unique_violation", "validation", "piccolo109", "UniqueViolationError", duplicate),
        ("piccolo_standby", "service", "piccolo109", "CannotConnectNowError|PostgresError", standby),
    ]


def _bouncer_cases(fx: Fixtures) -> list[ToolCase]:
    port = fx.bouncer_port

    def psql(user: str, db: str, password: str = PW, sql: str = "SELECT sku, quantity FROM stock_items") -> str:
        return (f"PGPASSWORD='{password}' psql -h 127.0.0.1 -p {port} -U {user} -d {db} -v ON_ERROR_STOP=1 "
                f"-c \"{sql}\"")

    start = f"runuser -u postgres -- pgbouncer {fx.bouncer_dir}/"
    return [
        ("pgbouncer_wrong_password", "auth", "SASL authentication failed|password",
         psql("app", "inventory", "Inventory#2025")),
        ("pgbouncer_unknown_database", "validation", "no such database", psql("app", "reporting")),
        ("pgbouncer_console_not_admin", "auth", "not allowed", psql("app", "pgbouncer", sql="SHOW POOLS")),
        ("pgbouncer_stale_server_password", "auth", "password authentication failed", psql("app", "ledger")),
        ("pgbouncer_standby_backend", "service", "not accepting connections|starting up", psql("app", "analytics")),
        ("pgbouncer_bad_pool_mode", "validation", "invalid value", start + "bad-pool-mode.ini"),
        ("pgbouncer_missing_config", "filesystem", "No such file", start + "pgbouncer-reports.ini"),
    ]


def _bouncer_pool_records(fx: Fixtures) -> list[Record]:
    import psycopg

    port = fx.bouncer_port
    psql = (f"PGPASSWORD='{PW}' psql -h 127.0.0.1 -p {port} -U app -d inventory -v ON_ERROR_STOP=1 "
            "-c \"UPDATE stock_items SET quantity = quantity + 5 WHERE sku = 'SKU-88412-BLK'\"")
    holder = psycopg.connect(host="127.0.0.1", port=port, user="app", password=PW, dbname="inventory")
    holder.execute("SELECT 1")
    out = tool_records([("pgbouncer_query_wait_timeout", "resource", "query_wait_timeout", psql)], "pgbouncer109",
                       fx.root)
    clients = [psycopg.connect(host="127.0.0.1", port=port, user="app", password=PW, dbname="inventory")
               for _ in range(5)]
    out += tool_records([("pgbouncer_max_client_conn", "resource", "max_client_conn", psql)], "pgbouncer109",
                        fx.root)
    for conn in [holder, *clients]:
        conn.close()
    return out


def _mosquitto_cases(env: Env, fx: Fixtures) -> list[ToolCase]:
    base = f"-h 127.0.0.1 -p {fx.mqtt_port}"
    app = f"{base} -u app -P {PW}"
    return [
        ("mosquitto_pub_wrong_password", "auth", "not authori",
         f"mosquitto_pub {base} -u app -P line4-2025 -t plant/line4/press/bar -m 6.2"),
        ("mosquitto_sub_anonymous", "auth", "not authori", f"mosquitto_sub {base} -t 'plant/#' -C 1 -W 5"),
        ("mosquitto_pub_acl_denied", "auth", "not authori",
         f"out=$(mosquitto_pub {app} -V 5 -q 1 -t plant/line7/press/bar -m 6.2 2>&1); "
         "echo \"$out\" >&2; [ -z \"$out\" ]"),
        ("mosquitto_pub_refused", "network", "refused",
         f"mosquitto_pub -h 127.0.0.1 -p {env.closed_port} -t plant/line4/press/bar -m 6.2"),
        ("mosquitto_pub_wildcard_topic", "validation", "Invalid publish topic",
         f"mosquitto_pub {app} -t 'plant/+/press/bar' -m 6.2"),
        ("mosquitto_pub_missing_payload_file", "filesystem", "Unable to open file",
         f"mosquitto_pub {app} -t plant/line4/recipe -f /srv/recipes/line4/batch-2291.json"),
        ("mosquitto_pub_missing_cafile", "filesystem", "File not found",
         f"mosquitto_pub {base} --cafile /etc/mosquitto/ca_certificates/plant-ca.crt -t plant/line4/press/bar -m 1"),
    ]


def blind109_records(env: Env) -> list[Record]:
    fx = prepare(env)
    standby_port = fx.standby.port
    cases: list[PyCase] = []
    cases += _pyodbc_cases(env, fx)
    cases += _mariadb_cases(env, fx)
    cases += _peewee_cases(env, fx)
    cases += _sqlobject_cases(env, fx)
    cases += _piccolo_cases(env, fx, standby_port)
    out = python_records(cases)
    out += tool_records(_bouncer_cases(fx), "pgbouncer109", fx.root)
    out += _bouncer_pool_records(fx)
    out += tool_records(_mosquitto_cases(env, fx), "mosquitto-cli109", fx.root)
    return out


if __name__ == "__main__":
    write_batch(blind109_records)


__all__ = ["BLIND109_SOURCES", "blind109_records"]
