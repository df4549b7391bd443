"""Private servers and fixtures of batch 98 (database migration, backup and lint tools), all on 127.0.0.1 and
stopped with the batch: a PostgreSQL cluster that streams to `postgres` and `repl` (a scram role with the
REPLICATION attribute), lets `norepl` ask for replication without the attribute and refuses `app`, with a
tablespace on a tiny tmpfs; a cluster with one WAL sender already taken by a running pg_receivewal and few
connection slots; a standby that refuses every connection; a cluster in a smart shutdown held open by one
session; a stopped cluster of another system (pg_rewind's and pg_upgrade's target); a good base backup to
corrupt; a sqitch project; a private mariadbd with a shop database and a SELECT-only user."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from common import Env, run
from servers import PG_BIN, mount_tmpfs, private_mariadb, private_postgres

#: Identity and a home of their own for sqitch (it reads ~/.sqitch), set on every case of the batch.
SQITCH_ENV = {"SQITCH_FULLNAME": "Corpus Batch", "SQITCH_EMAIL": "corpus@example.org"}

_REPL_HBA = ("host replication postgres 127.0.0.1/32 trust\n"
             "host replication repl 127.0.0.1/32 scram-sha-256\n"
             "host replication norepl 127.0.0.1/32 scram-sha-256\n")

#: Databases of the main cluster: one target per sqitch case, so their registries never meet.
SQITCH_DATABASES = ("sq_column", "sq_syntax", "sq_verify", "sq_seed", "sq_revert", "sq_auth", "sq_lock",
                    "sq_disk", "sq_script", "sq_plan", "inventory")


def _psql(port: int, *sql: str, user: str = "postgres", db: str = "postgres") -> None:
    args = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1"]
    for statement in sql:
        args += ["-c", statement]
    proc = run(args)
    if proc.returncode:
        raise RuntimeError(f"batch 98 setup failed: {proc.stderr.strip()}")


def _postgres_dir(env: Env, prefix: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.chown(root, "postgres", "postgres")
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    return root


def _as_postgres(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True, cwd="/")


def _sqitch_project(env: Env, root: Path) -> Path:
    """`sqitch init` + two changes (users, orders requiring users) with working deploy, verify and revert
    scripts; each case copies it and breaks one thing."""
    project = root / "shop"
    project.mkdir()
    sq_env = dict(SQITCH_ENV, HOME=str(root))
    for args in (["init", "shop", "--engine", "pg"],
                 ["add", "users", "-n", "Customer accounts"],
                 ["add", "orders", "-r", "users", "-n", "Orders placed by customers"]):
        proc = run(["sqitch", *args], cwd=project, env=sq_env)
        if proc.returncode:
            raise RuntimeError(f"sqitch setup failed: {proc.stderr.strip()}")
    (project / "deploy" / "users.sql").write_text(
        "BEGIN;\n\nCREATE TABLE users (\n    id serial PRIMARY KEY,\n    email text NOT NULL UNIQUE,\n"
        "    nickname text NOT NULL,\n    created_at timestamptz NOT NULL DEFAULT now()\n);\n\nCOMMIT;\n")
    (project / "verify" / "users.sql").write_text("SELECT id, email, nickname, created_at FROM users WHERE FALSE;\n")
    (project / "revert" / "users.sql").write_text("BEGIN;\n\nDROP TABLE users;\n\nCOMMIT;\n")
    (project / "deploy" / "orders.sql").write_text(
        "BEGIN;\n\nCREATE TABLE orders (\n    id serial PRIMARY KEY,\n    user_id int NOT NULL REFERENCES users (id),\n"
        "    total numeric(10, 2) NOT NULL\n);\n\nCOMMIT;\n")
    (project / "verify" / "orders.sql").write_text("SELECT id, user_id, total FROM orders WHERE FALSE;\n")
    (project / "revert" / "orders.sql").write_text("BEGIN;\n\nDROP TABLE orders;\n\nCOMMIT;\n")
    return project


def batch98_places(env: Env) -> dict[str, str]:
    """Start everything the batch fails against; return the placeholders its case scripts use."""
    places: dict[str, str] = {}
    work = Path(tempfile.mkdtemp(prefix="recoup-corpus-98-"))
    env._closers.append(lambda: shutil.rmtree(work, ignore_errors=True))
    places["__WORK__"] = str(work)

    # the main cluster: replication for postgres/repl/norepl, a tablespace on a tiny tmpfs
    main = private_postgres(env, max_connections=20, extra_hba=_REPL_HBA)
    places["__PG__"] = str(main.port)
    env.tmp.chmod(0o711)  # postgres must reach the tablespace mounted below it
    space = mount_tmpfs(env, "pgspace98", "size=512k")
    shutil.chown(space, "postgres", "postgres")
    _psql(main.port, "CREATE ROLE repl LOGIN REPLICATION PASSWORD 'right-password'",
          "CREATE ROLE norepl LOGIN PASSWORD 'right-password'",
          f"CREATE TABLESPACE orders_archive LOCATION '{space}'",
          *(f"CREATE DATABASE {name}" for name in SQITCH_DATABASES))

    # one WAL sender, taken by a running pg_receivewal; three connection slots for app
    senders = private_postgres(env, max_connections=4, reserved=1,
                               extra_hba="host replication postgres 127.0.0.1/32 trust\n",
                               settings="-c max_wal_senders=1")
    places["__PGSENDERS__"] = str(senders.port)
    wal_dir = work / "archiver-wal"
    wal_dir.mkdir()
    archiver = subprocess.Popen([str(PG_BIN / "pg_receivewal"), "-h", "127.0.0.1", "-p", str(senders.port), "-U",
                                 "postgres", "-D", str(wal_dir), "-n"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    env._closers.append(lambda: archiver.wait(timeout=30))
    env._closers.append(archiver.terminate)

    standby = private_postgres(env, standby=True, extra_hba="host replication postgres 127.0.0.1/32 trust\n")
    places["__PGSTANDBY__"] = str(standby.port)

    # a cluster in a smart shutdown: it waits for the one session left, refusing every new one
    closing = private_postgres(env, extra_hba="host replication postgres 127.0.0.1/32 trust\n")
    places["__PGCLOSING__"] = str(closing.port)
    holder = subprocess.Popen(["psql", "-h", "127.0.0.1", "-p", str(closing.port), "-U", "postgres", "-d", "postgres",
                               "-c", "SELECT pg_sleep(600)"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    stopper = closing.pg_ctl("-m", "smart", "-t", "600", "stop", wait=False)
    time.sleep(1)
    env._closers.append(lambda: stopper.wait(timeout=60))
    env._closers.append(lambda: closing.pg_ctl("-m", "immediate", "stop"))
    env._closers.append(lambda: holder.wait(timeout=30))
    env._closers.append(holder.terminate)

    # a stopped cluster of another system, an empty new cluster, and a copy claiming version 14
    other = _postgres_dir(env, "recoup-corpus-98-other-")
    bindir = str(PG_BIN)
    _as_postgres(f"{bindir}/initdb", "-D", str(other / "data"), "-A", "trust", "--no-sync")
    _as_postgres(f"{bindir}/initdb", "-D", str(other / "new"), "-A", "trust", "--no-sync")
    _as_postgres("cp", "-a", str(other / "data"), str(other / "old14"))
    (other / "old14" / "PG_VERSION").write_text("14\n")
    places["__OTHER__"] = str(other)
    places["__PGBIN__"] = bindir

    # a good base backup (with its manifest and WAL) to corrupt, one copy per case
    backup = work / "base-backup"
    proc = run([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(main.port), "-U", "postgres", "-D",
                str(backup), "-c", "fast", "-T", f"{space}={work / 'base-backup-archive'}"])
    if proc.returncode:
        raise RuntimeError(f"base backup failed: {proc.stderr.strip()}")
    places["__BACKUP__"] = str(backup)

    places["__SQ__"] = str(_sqitch_project(env, work))
    places["__FULL2M__"] = str(mount_tmpfs(env, "full2m98", "size=2m"))
    places["__FULL1M__"] = str(mount_tmpfs(env, "full1m98", "size=1m"))
    places["__FULLMY__"] = str(mount_tmpfs(env, "fullmy98", "size=2m"))
    places["__FULLDUMP__"] = str(mount_tmpfs(env, "fulldump98", "size=256k"))

    # mariadbd with a shop database (20,000 orders) and a user that may only read shop.orders
    my_port, _ = private_mariadb(env, max_connections=10)
    places["__MY__"] = str(my_port)
    setup = run(["mariadb", "-h", "127.0.0.1", "-P", str(my_port), "-u", "root", "-e",
                 "CREATE DATABASE shop; USE shop;"
                 "CREATE TABLE orders (id int PRIMARY KEY AUTO_INCREMENT, email varchar(100), total decimal(10,2),"
                 " note text) ENGINE=InnoDB;"
                 "INSERT INTO orders (email, total, note) SELECT concat('u', seq, '@example.org'), seq / 7,"
                 " repeat('gift wrap please ', 10) FROM seq_1_to_20000;"
                 "CREATE USER 'app'@'localhost' IDENTIFIED BY 'right-password';"
                 "CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'right-password';"
                 "GRANT SELECT ON shop.orders TO 'app'@'localhost';"
                 "GRANT SELECT ON shop.orders TO 'app'@'127.0.0.1';"])
    if setup.returncode:
        raise RuntimeError(f"mariadb setup failed: {setup.stderr.strip()}")
    return places


__all__ = ["SQITCH_DATABASES", "SQITCH_ENV", "batch98_places"]
