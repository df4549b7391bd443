"""Fixtures of the hundred-and-ninth batch: a private PostgreSQL cluster with an `inventory` database owned by the
password user `app` (few connection slots), a second cluster behind a private PgBouncer (tiny pools, one database
entry pointing at a closed port), a private MariaDB with a `shop` schema, a password-and-ACL mosquitto broker,
SQLite files on a full and on a read-only tmpfs, and unixODBC DSNs (`/etc/odbc.ini` is left alone: ODBCINI points
at a private file)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port, run
from servers import PrivatePostgres, _wait_port, mount_tmpfs, private_mariadb, private_mosquitto, private_postgres

PW = "right-password"

_INVENTORY_DDL = """
CREATE TABLE warehouses (id serial PRIMARY KEY, code varchar(8) UNIQUE NOT NULL, city text NOT NULL);
CREATE TABLE stock_items (sku varchar(24) PRIMARY KEY, warehouse_id int NOT NULL REFERENCES warehouses(id),
                          quantity int NOT NULL CHECK (quantity >= 0), received_on date NOT NULL);
INSERT INTO warehouses (code, city) VALUES ('FRA-01', 'Frankfurt'), ('LYS-02', 'Lyon');
INSERT INTO stock_items VALUES ('SKU-88412-BLK', 1, 40, '2026-03-02');
"""

_SHOP_DDL = """
CREATE DATABASE shop;
CREATE TABLE shop.customers (id int AUTO_INCREMENT PRIMARY KEY, email varchar(64) NOT NULL UNIQUE,
                             country char(2) NOT NULL) ENGINE=InnoDB;
CREATE TABLE shop.orders (id int AUTO_INCREMENT PRIMARY KEY, customer_id int NOT NULL,
                          total decimal(10,2) NOT NULL, status varchar(12) NOT NULL,
                          FOREIGN KEY (customer_id) REFERENCES shop.customers(id)) ENGINE=InnoDB;
INSERT INTO shop.customers (email, country) VALUES ('lena.vogt@example.org', 'DE');
CREATE USER 'shop_app'@'%' IDENTIFIED BY 'right-password';
GRANT ALL ON shop.* TO 'shop_app'@'%';
"""

_SQLITE_DDL = """
CREATE TABLE device_readings (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, metric TEXT NOT NULL,
                              value REAL NOT NULL, taken_at TEXT NOT NULL, UNIQUE (device_id, metric, taken_at));
INSERT INTO device_readings (device_id, metric, value, taken_at)
VALUES ('boiler-3', 'temp_c', 61.5, '2026-04-11T08:00:00Z');
"""


@dataclass
class Fixtures:
    """Ports and paths of the batch's private servers and files."""

    pg: PrivatePostgres
    standby: PrivatePostgres
    bouncer_port: int
    bouncer_dir: Path
    my_port: int
    mqtt_port: int
    root: Path
    full: Path
    ro: Path
    ro_db: Path
    locked_db: Path


def _psql(port: int, sql: str, db: str = "postgres") -> None:
    proc = run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1",
                "-c", sql])
    if proc.returncode:
        raise RuntimeError(f"setup failed: {proc.stderr.strip()}")


def _inventory(pg: PrivatePostgres) -> None:
    _psql(pg.port, "CREATE DATABASE inventory OWNER app")
    proc = run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "app", "-d", "inventory", "-v",
                "ON_ERROR_STOP=1", "-c", _INVENTORY_DDL], env={"PGPASSWORD": PW})
    if proc.returncode:
        raise RuntimeError(f"setup failed: {proc.stderr.strip()}")


def bouncer_ini(directory: Path, port: int, backend: int, standby: int, **overrides: str) -> str:
    settings = {"listen_addr": "127.0.0.1", "listen_port": str(port), "unix_socket_dir": "",
                "auth_type": "scram-sha-256", "auth_file": str(directory / "userlist.txt"),
                "logfile": str(directory / "pgbouncer.log"), "pidfile": "", "admin_users": "pgb_admin",
                "pool_mode": "session", "max_client_conn": "6", "default_pool_size": "1",
                "query_wait_timeout": "3", "server_connect_timeout": "2", "server_login_retry": "30"}
    settings.update(overrides)
    body = "\n".join(f"{k} = {v}" for k, v in settings.items())
    return (f"[databases]\ninventory = host=127.0.0.1 port={backend} dbname=inventory\n"
            f"ledger = host=127.0.0.1 port={backend} dbname=inventory user=ledger_rw password=rotated-2025\n"
            f"analytics = host=127.0.0.1 port={standby} dbname=postgres\n\n[pgbouncer]\n{body}\n")


def _pgbouncer(env: Env, backend: PrivatePostgres, standby: PrivatePostgres) -> tuple[int, Path]:
    directory = Path(tempfile.mkdtemp(prefix="recoup-corpus-pgbouncer-"))
    port = free_port()
    (directory / "userlist.txt").write_text(f'"app" "{PW}"\n"pgb_admin" "{PW}"\n"reporting" "{PW}"\n')
    (directory / "pgbouncer.ini").write_text(bouncer_ini(directory, port, backend.port, standby.port))
    (directory / "bad-pool-mode.ini").write_text(bouncer_ini(directory, free_port(), backend.port, standby.port,
                                                             pool_mode="transactional"))
    shutil.chown(directory, "postgres", "postgres")
    for f in directory.iterdir():
        shutil.chown(f, "postgres", "postgres")
    proc = subprocess.Popen(["runuser", "-u", "postgres", "--", "pgbouncer", str(directory / "pgbouncer.ini")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(lambda: shutil.rmtree(directory, ignore_errors=True))
    env._closers.append(lambda: proc.wait(timeout=10))
    env._closers.append(proc.terminate)
    _wait_port(port)
    return port, directory


def _sqlite_files(env: Env, root: Path) -> tuple[Path, Path, Path, Path]:
    full = mount_tmpfs(env, "full109", "size=96k")
    with contextlib.closing(sqlite3.connect(full / "telemetry.db")) as conn:
        conn.executescript(_SQLITE_DDL)
    filler = full / "wal-archive.bin"
    with contextlib.suppress(OSError), filler.open("wb") as fh:
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()
    ro = mount_tmpfs(env, "ro109", "size=512k")
    ro_db = ro / "telemetry.db"
    with contextlib.closing(sqlite3.connect(ro_db)) as conn:
        conn.executescript(_SQLITE_DDL)
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    locked = root / "jobs.db"
    with contextlib.closing(sqlite3.connect(locked)) as conn:
        conn.executescript(_SQLITE_DDL)
    return full, ro, ro_db, locked


def hold_sqlite_lock(db: Path) -> sqlite3.Connection:
    """A connection holding an exclusive lock on `db` until it is closed."""
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


def odbc_env(root: Path, pg_port: int, sqlite_paths: dict[str, Path]) -> None:
    """A private odbc.ini with a PostgreSQL DSN `inventory-prod` and one SQLite3 DSN per name."""
    lines = ["[inventory-prod]", "Driver = PostgreSQL Unicode", "Servername = 127.0.0.1", f"Port = {pg_port}",
             "Database = inventory", ""]
    for name, path in sqlite_paths.items():
        lines += [f"[{name}]", "Driver = SQLite3", f"Database = {path}", "Timeout = 300", ""]
    (root / "odbc.ini").write_text("\n".join(lines))
    os.environ["ODBCINI"] = str(root / "odbc.ini")
    os.environ["ODBCSYSINI"] = "/etc"


def prepare(env: Env) -> Fixtures:
    root = env.tmp / "db109"
    root.mkdir()
    pg = private_postgres(env, max_connections=6, reserved=1)
    _inventory(pg)
    backend = private_postgres(env, max_connections=10, reserved=1,
                               extra_hba="host all ledger_rw 127.0.0.1/32 scram-sha-256\n")
    _inventory(backend)
    _psql(backend.port, "CREATE ROLE ledger_rw LOGIN PASSWORD 'current-2026'")
    standby = private_postgres(env, standby=True)
    bouncer_port, bouncer_dir = _pgbouncer(env, backend, standby)
    my_port, _ = private_mariadb(env, max_connections=4)
    proc = run(["mariadb", "-h", "127.0.0.1", "-P", str(my_port), "-u", "root", "-e", _SHOP_DDL])
    if proc.returncode:
        raise RuntimeError(f"mariadb setup failed: {proc.stderr.strip()}")
    mqtt_port = private_mosquitto(env, acl="user app\ntopic readwrite plant/line4/#\ntopic read $SYS/#\n")
    full, ro, ro_db, locked = _sqlite_files(env, root)
    return Fixtures(pg, standby, bouncer_port, bouncer_dir, my_port, mqtt_port, root, full, ro, ro_db, locked)


__all__ = ["PW", "Fixtures", "bouncer_ini", "hold_sqlite_lock", "odbc_env", "prepare"]
