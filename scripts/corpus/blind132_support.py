"""Fixtures of the hundred-and-thirty-second batch: three private PostgreSQL clusters (a working one with a
`billing` database owned by the password-protected `app` role, one whose few connection slots are all held, one
started as a standby that refuses connections), a private MariaDB, a full and a read-only tmpfs, and alembic
projects (from `alembic init`) that each break in one way."""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import Env, run
from servers import mount_tmpfs, private_mariadb, private_postgres

NODE132 = Path("/tmp/recoup-corpus-132-node")
VENV132 = Path("/tmp/recoup-corpus-132/bin")


@dataclass
class Dbs:
    """Ports and mounts of the batch's servers."""

    pg: int
    busy: int
    standby: int
    maria: int
    full: Path
    ro: Path
    held: list[Any] = field(default_factory=list)


def _psql(port: int, sql: str, db: str = "postgres", user: str = "postgres") -> None:
    proc = run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1",
                "-c", sql])
    if proc.returncode:
        raise RuntimeError(f"setup failed: {proc.stderr.strip()[:200]}")


def prepare_dbs(env: Env) -> Dbs:
    import psycopg

    main = private_postgres(env, max_connections=40, reserved=3)
    _psql(main.port, "CREATE DATABASE billing OWNER app")
    _psql(main.port, "CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL); "
                     "INSERT INTO customers (email) VALUES ('ops@acme-billing.example'), "
                     "('ops@acme-billing.example'), ('finance@acme-billing.example'); "
                     "ALTER TABLE customers OWNER TO app", db="billing")
    busy = private_postgres(env, max_connections=4, reserved=1)
    _psql(busy.port, "CREATE DATABASE billing OWNER app")
    held = [psycopg.connect(f"host=127.0.0.1 port={busy.port} user=postgres dbname=billing") for _ in range(3)]
    env._closers.append(lambda: [c.close() for c in held])
    standby = private_postgres(env, standby=True)
    maria, _proc = private_mariadb(env, max_connections=40)
    run(["mariadb", "-h", "127.0.0.1", "-P", str(maria), "-u", "root", "-e",
         "CREATE DATABASE shop; CREATE USER 'shop'@'%' IDENTIFIED BY 'right-password'; "
         "GRANT ALL ON shop.* TO 'shop'@'%'; CREATE TABLE shop.orders (id int primary key, total decimal(10,2))"])
    full = mount_tmpfs(env, "full132", "size=64k")
    (full / "versions").mkdir()
    (full / "versions-cli").mkdir()
    with contextlib.suppress(OSError):  # fill it to the last block
        (full / "filler.bin").write_bytes(b"\0" * 80 * 1024)
    ro = mount_tmpfs(env, "ro132", "size=256k")
    (ro / "versions").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    return Dbs(main.port, busy.port, standby.port, maria, full, ro, held)


def pg_url(port: int, password: str = "right-password", db: str = "billing") -> str:
    return f"postgresql+psycopg://app:{password}@127.0.0.1:{port}/{db}"


def alembic_project(env: Env, name: str, url: str, *, env_py: str = "", ini_extra: str = "",
                    revisions: dict[str, str] | None = None) -> Path:
    """`alembic init` a project under the batch directory; returns its alembic.ini. `env_py` replaces env.py,
    `revisions` are version files (name -> source)."""
    from alembic import command
    from alembic.config import Config

    root = env.tmp / "alembic132" / name
    root.mkdir(parents=True)
    ini = root / "alembic.ini"
    command.init(Config(str(ini)), str(root / "migrations"))
    text = ini.read_text().replace("driver://user:pass@localhost/dbname", url.replace("%", "%%"))
    text = text.replace("[alembic]\n", f"[alembic]\n{ini_extra}\n", 1)
    ini.write_text(text)
    if env_py:
        (root / "migrations" / "env.py").write_text(env_py)
    for fname, source in (revisions or {}).items():
        (root / "migrations" / "versions" / fname).write_text(source)
    return ini


def revision(rev: str, down: str | None, upgrade: str) -> str:
    """Source of an alembic version file whose upgrade() runs `upgrade` (indented statements)."""
    body = "\n".join("    " + line for line in upgrade.strip().splitlines())
    return (f'"""billing schema change {rev}"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
            f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n")


__all__ = ["NODE132", "VENV132", "Dbs", "alembic_project", "pg_url", "prepare_dbs", "revision"]
