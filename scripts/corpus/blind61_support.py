"""Pieces of batch 61 that are not cases: the Tortoise models, the Django project and its migration packages written
to a temporary directory, yoyo migration directories, a read-only SQLite mount, held PostgreSQL connections, and a
cause check that asks for both an exception type and a token of the provoked cause."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from checked import problem
from common import Record, exception_records
from servers import read_only_sqlite
from tortoise import fields, models

#: name, category, source, expected exception type names (`A|B`), expected token in the message or its causes
#: (`A|B`, case-insensitive; empty means any), fn
TokenCase = tuple[str, str, str, str, str, Callable[[], Any]]


def _chain_text(exc: BaseException) -> str:
    parts: list[str] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        parts.append(f"{type(cur).__name__}: {cur}")
        cur = cur.__cause__ or cur.__context__
    return "\n".join(parts).lower()


def token_records(cases: Iterable[TokenCase]) -> list[Record]:
    """Each case's real exception as two records, if its type (or a base) is the expected one and the message
    (of it or an exception it was raised from) carries the cause's token."""
    out: list[Record] = []
    for name, category, source, expected, token, fn in cases:
        try:
            fn()
        except BaseException as exc:  # the real exception, whatever it is
            if not set(expected.split("|")) & {k.__name__ for k in type(exc).__mro__}:
                problem(name, f"not the provoked cause (expected {expected})")
                continue
            if token and not any(t.lower() in _chain_text(exc) for t in token.split("|")):
                problem(name, f"not the provoked cause (no {token!r})")
                continue
            out.extend(exception_records(exc, category, source, name))
        else:
            problem(name, "no failure")
    return out


# --------------------------------------------------------------------------- Tortoise models


class B61Customer(models.Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=120, unique=True)
    name = fields.CharField(max_length=20)
    plan = fields.CharField(max_length=20, null=True)

    class Meta:
        table = "b61_t_customer"


class B61Invoice(models.Model):
    id = fields.IntField(primary_key=True)
    amount = fields.IntField()

    class Meta:
        table = "b61_t_invoice"


class B61Stock(models.Model):
    id = fields.IntField(primary_key=True)
    sku = fields.CharField(max_length=40)
    qty = fields.IntField()

    class Meta:
        table = "b61_t_stock"


SHARED_TABLES = ("b61_t_customer", "b61_t_invoice", "b61_t_stock", "b61_p_customer")


# --------------------------------------------------------------------------- PostgreSQL helpers


def drop_shared_tables() -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
        for table in SHARED_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")


@contextlib.contextmanager
def held_connections(port: int, count: int) -> Iterator[None]:
    """Take `count` connection slots of the private cluster as `app` for the duration."""
    import psycopg

    conns = [psycopg.connect(f"host=127.0.0.1 port={port} user=app password=right-password dbname=postgres")
             for _ in range(count)]
    try:
        yield
    finally:
        for conn in conns:
            conn.close()


def psql_admin(port: int, sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-v",
                    "ON_ERROR_STOP=1", "-q", "-c", sql], check=True, capture_output=True)


@contextlib.contextmanager
def sqlite_write_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a SQLite file, as a long-running writer would."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS busy (n int)")
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


# --------------------------------------------------------------------------- Django project


_SETTINGS = '''import json
import os

SECRET_KEY = "b61-not-secret"
INSTALLED_APPS = ["billing"]
DATABASES = {"default": json.loads(os.environ["B61_DB"])}
MIGRATION_MODULES = {"billing": os.environ.get("B61_MIGRATIONS", "billing.migrations")}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
'''

_MODELS = '''from django.db import models


class Customer(models.Model):
    email = models.CharField(max_length=120)
    plan = models.CharField(max_length=20, null=True)


class Invoice(models.Model):
    amount = models.IntegerField()
    note = models.CharField(max_length=200, null=True)
    due = models.DateField(null=True)
'''

_INITIAL = '''from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name="Customer", fields=[
            ("id", models.BigAutoField(primary_key=True, serialize=False)),
            ("email", models.CharField(max_length=120)),
            ("plan", models.CharField(max_length=20, null=True)),
        ]),
        migrations.CreateModel(name="Invoice", fields=[
            ("id", models.BigAutoField(primary_key=True, serialize=False)),
            ("amount", models.IntegerField()),
            ("note", models.CharField(max_length=200, null=True)),
        ]),
    ]
'''


def _migration(depends: str, operations: str) -> str:
    return (f"from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
            f"    dependencies = [(\"billing\", \"{depends}\")]\n    operations = [\n        {operations}\n    ]\n")


_ADD_DUE = 'migrations.AddField(model_name="invoice", name="due", field=models.DateField(null=True)),'

#: migration package -> {module name: text}; each also holds 0001_initial
MIGRATION_PACKAGES: dict[str, dict[str, str]] = {
    "migrations": {"0002_invoice_due": _migration("0001_initial", _ADD_DUE)},
    "mig_conflict": {
        "0002_invoice_due": _migration("0001_initial", _ADD_DUE),
        "0002_customer_plan_length": _migration("0001_initial", 'migrations.AlterField(model_name="customer", '
                                                'name="plan", field=models.CharField(max_length=40, null=True)),'),
    },
    "mig_missing_parent": {"0002_invoice_due": _migration("0001_squashed_0004_initial", _ADD_DUE)},
    "mig_syntax": {"0002_invoice_due": _migration("0001_initial", _ADD_DUE.replace("null=True)),", "null=True),"))},
    "mig_unique": {
        "0002_import_customers": _migration("0001_initial", "migrations.RunSQL(\"INSERT INTO billing_customer "
                                            "(email, plan) VALUES ('ana@example.org', 'pro'), ('ana@example.org', "
                                            "'free')\"),"),
        "0003_customer_email_unique": _migration("0002_import_customers", 'migrations.AlterField(model_name='
                                                 '"customer", name="email", field=models.CharField(max_length=120, '
                                                 'unique=True)),'),
    },
    "mig_not_null": {
        "0002_import_customers": _migration("0001_initial", "migrations.RunSQL(\"INSERT INTO billing_customer "
                                            "(email, plan) VALUES ('bo@example.org', NULL)\"),"),
        "0003_customer_plan_required": _migration("0002_import_customers", 'migrations.AlterField(model_name='
                                                  '"customer", name="plan", field=models.CharField(max_length=20))'
                                                  ','),
    },
}


def write_django_project(root: Path) -> Path:
    """A settings module, an app `billing` and its migration packages under `root`."""
    (root / "b61site").mkdir(parents=True)
    (root / "b61site" / "__init__.py").write_text("")
    (root / "b61site" / "settings.py").write_text(_SETTINGS)
    app = root / "billing"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(_MODELS)
    for package, modules in MIGRATION_PACKAGES.items():
        (app / package).mkdir()
        (app / package / "__init__.py").write_text("")
        (app / package / "0001_initial.py").write_text(_INITIAL)
        for module, text in modules.items():
            (app / package / f"{module}.py").write_text(text)
    return root


def django_env(root: Path, db: str, migrations: str = "billing.migrations") -> dict[str, str]:
    return {"DJANGO_SETTINGS_MODULE": "b61site.settings", "PYTHONPATH": str(root), "B61_DB": db,
            "B61_MIGRATIONS": migrations}


DJANGO = [sys.executable, "-m", "django"]


# --------------------------------------------------------------------------- yoyo migration directories


#: directory -> {file name: text}
YOYO_DIRS: dict[str, dict[str, str]] = {
    "cast": {
        "0001_stock.sql": "CREATE TABLE stock (sku text PRIMARY KEY, qty text);\n"
                          "INSERT INTO stock VALUES ('A-1', '4'), ('A-2', 'ten'), ('A-3', '7');\n",
        "0002_stock_qty_integer.sql": "-- depends: 0001_stock\n"
                                      "ALTER TABLE stock ALTER COLUMN qty TYPE integer USING qty::integer;\n",
    },
    "unique": {
        "0001_users.sql": "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n"
                          "INSERT INTO users (email) VALUES ('ana@example.org'), ('ana@example.org');\n",
        "0002_users_email_unique.sql": "-- depends: 0001_users\n"
                                       "CREATE UNIQUE INDEX users_email_key ON users (email);\n",
    },
    "not_null": {
        "0001_orders.sql": "CREATE TABLE orders (id serial PRIMARY KEY, customer_id int);\n"
                           "INSERT INTO orders (customer_id) VALUES (1), (NULL);\n",
        "0002_orders_customer_required.sql": "-- depends: 0001_orders\n"
                                             "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;\n",
    },
    "column_typo": {
        "0001_accounts.sql": "CREATE TABLE accounts (id serial PRIMARY KEY, balance int);\n",
        "0002_backfill.sql": "-- depends: 0001_accounts\nUPDATE accounts SET balanse = 0 WHERE balance IS NULL;\n",
    },
    "py_syntax": {
        "0001_accounts.py": 'from yoyo import step\n\nsteps = [\n'
                            '    step("CREATE TABLE accounts (id serial PRIMARY KEY)",\n'
                            '         "DROP TABLE accounts"\n]\n',
    },
    "lock": {
        "0001_add_flag.sql": "SET lock_timeout = '800ms';\nALTER TABLE ledger ADD COLUMN flagged boolean;\n",
    },
    "plain": {
        "0001_accounts.sql": "CREATE TABLE accounts (id integer PRIMARY KEY, balance integer);\n",
    },
}


def write_yoyo_dirs(root: Path) -> Path:
    for name, files in YOYO_DIRS.items():
        (root / name).mkdir(parents=True)
        for file, text in files.items():
            (root / name / file).write_text(text)
    return root


YOYO = [str(Path(sys.executable).parent / "yoyo"), "apply", "--batch", "--no-config-file"]


__all__ = ["DJANGO", "SHARED_TABLES", "YOYO", "B61Customer", "B61Invoice", "B61Stock", "TokenCase", "django_env",
           "drop_shared_tables", "held_connections", "psql_admin", "read_only_sqlite", "sqlite_write_lock",
           "token_records", "write_django_project", "write_yoyo_dirs"]
