"""Sixty-first batch of blind provokers: Python ORMs and migration tools not yet in the corpus, as a data pipeline,
a deploy step or a CI job meets them. Tortoise ORM (asyncpg, aiosqlite) and Pony ORM (psycopg2, sqlite3) against
the shared PostgreSQL, a private cluster and SQLite files: unique, CHECK, NOT NULL and length violations, a field
name the code misspelt, a model used before the ORM was initialised, tables missing because the schema was never
created, a wrong password, too many clients, a closed port, a standby refusing connections, a row lock that
outlasts lock_timeout, SQLite files that are locked, on a read-only mount or in a missing directory. The yoyo CLI
applies migrations whose SQL fails on bad data, names a misspelt column or waits on a lock, a Python migration with a
syntax error, and meets the same connection failures. `django-admin migrate` (a tiny settings module and
app in a temporary directory) meets conflicting leaf migrations, an inconsistent history, a missing parent, a
migration with a syntax error, data that breaks a new unique or NOT NULL constraint, tables never migrated, and the
connection failures. Only 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractContextManager, closing, nullcontext
from pathlib import Path
from typing import Any

from blind61_support import (
    DJANGO,
    YOYO,
    B61Customer,
    B61Invoice,
    B61Stock,
    TokenCase,
    django_env,
    drop_shared_tables,
    held_connections,
    psql_admin,
    read_only_sqlite,
    sqlite_write_lock,
    token_records,
    write_django_project,
    write_yoyo_dirs,
)
from checked import has_token, problem
from common import Env, Record, record, run, write_batch
from servers import PrivatePostgres, private_postgres

BLIND61_SOURCES = frozenset({"tortoise61", "pony61", "yoyo61", "django-migrate61"})

SHARED_URL = "postgres://postgres@127.0.0.1:5432/test"
_SCHEMA = "CREATE TABLE b61_t_customer (id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL UNIQUE, " \
          "name VARCHAR(20) NOT NULL, plan VARCHAR(20));\nCREATE TABLE b61_p_customer (id INTEGER PRIMARY KEY, " \
          "email TEXT UNIQUE NOT NULL, seats INTEGER NOT NULL);\n"


# --------------------------------------------------------------------------- Tortoise ORM


def _tortoise(db_url: str, body: Callable[[], Awaitable[Any]], generate: bool = False) -> None:
    from tortoise import Tortoise

    async def main() -> None:
        await Tortoise.init(db_url=db_url, modules={"models": ["blind61_support"]})
        try:
            if generate:
                await Tortoise.generate_schemas(safe=True)
            await body()
        finally:
            await Tortoise.close_connections()

    asyncio.run(main())


def _tortoise_cases(env: Env, pg: PrivatePostgres, standby: PrivatePostgres, closed: int) -> list[TokenCase]:
    private = f"127.0.0.1:{pg.port}/postgres"

    def not_initialised() -> None:
        asyncio.run(B61Customer.create(email="early@example.org", name="early"))

    async def duplicate_email() -> None:
        await B61Customer.create(email="ana@example.org", name="Ana")
        await B61Customer.create(email="ana@example.org", name="Ana B")

    async def negative_amount() -> None:
        await B61Invoice.create(amount=-40)

    async def long_name() -> None:
        await B61Customer.create(email="long@example.org", name="Maria Fernanda Gonzalez-Rodriguez")

    async def missing_qty() -> None:
        await B61Stock.create(sku="A-1", qty=None)

    async def typo_filter() -> None:
        await B61Customer.filter(emial="ana@example.org").first()

    async def count_customers() -> None:
        await B61Customer.all().count()

    async def add_customer() -> None:
        await B61Customer.create(email="ro@example.org", name="Ro")

    def too_many() -> None:
        with held_connections(pg.port, 3):
            _tortoise(f"postgres://app:right-password@{private}", count_customers)

    def lock_timeout() -> None:
        import psycopg
        from tortoise.transactions import in_transaction

        async def restock() -> None:
            async with in_transaction() as conn:
                await conn.execute_query("SET LOCAL lock_timeout = '500ms'")
                await B61Stock.filter(sku="B-7").using_db(conn).update(qty=40)

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test") as holder:
            holder.execute("SELECT qty FROM b61_t_stock WHERE sku = 'B-7' FOR UPDATE")
            _tortoise(SHARED_URL, restock)
            holder.rollback()

    def seed_then_lock() -> None:
        async def seed() -> None:
            await B61Stock.create(sku="B-7", qty=3)

        _tortoise(SHARED_URL, seed, generate=True)
        lock_timeout()

    ro_db = read_only_sqlite(env, "ro61t", _SCHEMA)
    return [
        ("tortoise_not_initialised", "programming", "tortoise61", "ConfigurationError", "", not_initialised),
        ("tortoise_unique_email", "validation", "tortoise61", "IntegrityError", "duplicate|unique",
         lambda: _tortoise(SHARED_URL, duplicate_email, generate=True)),
        ("tortoise_check_amount", "validation", "tortoise61", "IntegrityError", "check",
         lambda: _tortoise(SHARED_URL, negative_amount)),
        ("tortoise_max_length", "validation", "tortoise61", "ValidationError", "name",
         lambda: _tortoise(SHARED_URL, long_name)),
        ("tortoise_not_null", "validation", "tortoise61", "ValidationError|IntegrityError|ValueError", "null|none",
         lambda: _tortoise(SHARED_URL, missing_qty)),
        ("tortoise_filter_typo", "programming", "tortoise61", "FieldError", "emial",
         lambda: _tortoise(SHARED_URL, typo_filter)),
        ("tortoise_schema_not_generated", "programming", "tortoise61", "OperationalError", "no such table",
         lambda: _tortoise(f"sqlite://{env.tmp / 'fresh61t.sqlite3'}", count_customers)),
        ("tortoise_wrong_password", "auth", "tortoise61", "Exception", "password",
         lambda: _tortoise(f"postgres://app:wrong-password@{private}", count_customers)),
        ("tortoise_closed_port", "network", "tortoise61", "Exception", "refused|connect call failed",
         lambda: _tortoise(f"postgres://postgres@127.0.0.1:{closed}/test", count_customers)),
        ("tortoise_too_many_clients", "resource", "tortoise61", "Exception", "too many|slots", too_many),
        ("tortoise_lock_timeout", "resource", "tortoise61", "Exception", "lock timeout",
         seed_then_lock),
        ("tortoise_standby", "service", "tortoise61", "Exception", "starting up|not accepting|hot standby|recovery",
         lambda: _tortoise(f"postgres://postgres@127.0.0.1:{standby.port}/postgres", count_customers)),
        ("tortoise_sqlite_read_only", "filesystem", "tortoise61", "OperationalError", "readonly|read-only",
         lambda: _tortoise(f"sqlite://{ro_db}", add_customer)),
    ]


# --------------------------------------------------------------------------- Pony ORM


def _pony(create_tables: bool = True, **bind: Any) -> tuple[Any, Any]:
    from pony import orm

    db = orm.Database()

    class Customer(db.Entity):  # type: ignore[name-defined,misc]
        _table_ = "b61_p_customer"
        email = orm.Required(str, unique=True)
        seats = orm.Required(int, min=1)

    db.bind(**bind)
    db.generate_mapping(create_tables=create_tables)
    return db, Customer


def _pony_cases(env: Env, pg: PrivatePostgres, standby: PrivatePostgres, closed: int) -> list[TokenCase]:
    from pony import orm

    shared = {"provider": "postgres", "host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}

    def with_customers(fn: Callable[[Any], Any], **bind: Any) -> Callable[[], None]:
        def case() -> None:
            db, customer = _pony(**bind)
            try:
                fn(customer)
            finally:
                db.disconnect()

        return case

    def duplicate(customer: Any) -> None:
        with orm.db_session:
            customer(email="ana@example.org", seats=2)
        with orm.db_session:
            customer(email="ana@example.org", seats=5)

    def zero_seats(customer: Any) -> None:
        with orm.db_session:
            customer(email="zero@example.org", seats=0)

    def unknown_attr(customer: Any) -> None:
        with orm.db_session:
            customer(emial="bo@example.org", seats=1)

    def add(customer: Any) -> None:
        with orm.db_session:
            customer(email="cy@example.org", seats=3)

    locked_db = env.tmp / "locked61p.sqlite3"
    with closing(sqlite3.connect(locked_db)) as conn:
        conn.executescript(_SCHEMA)

    def locked() -> None:
        db, customer = _pony(create_tables=False, provider="sqlite", filename=str(locked_db))
        try:
            with sqlite_write_lock(locked_db):
                add(customer)
        finally:
            db.disconnect()

    def private(user: str, password: str, port: int) -> dict[str, Any]:
        return {"provider": "postgres", "host": "127.0.0.1", "port": port, "user": user, "password": password,
                "database": "postgres", "connect_timeout": 3}

    ro_db = read_only_sqlite(env, "ro61p", _SCHEMA)
    return [
        ("pony_unique_email", "validation", "pony61", "TransactionIntegrityError|IntegrityError", "duplicate|unique",
         with_customers(duplicate, **shared)),
        ("pony_min_seats", "validation", "pony61", "ValueError", "minimum|less than",
         with_customers(zero_seats, **shared)),
        ("pony_unknown_attribute", "programming", "pony61", "TypeError", "emial",
         with_customers(unknown_attr, **shared)),
        ("pony_tables_not_created", "programming", "pony61", "OperationalError|DatabaseError|TableDoesNotExist",
         "no such table|does not exist",
         lambda: _pony(create_tables=False, provider="sqlite", filename=str(env.tmp / "fresh61p.sqlite3"),
                       create_db=True)),
        ("pony_wrong_password", "auth", "pony61", "Exception", "password",
         lambda: _pony(**private("app", "wrong-password", pg.port))),
        ("pony_closed_port", "network", "pony61", "Exception", "refused",
         lambda: _pony(**private("postgres", "", closed))),
        ("pony_standby", "service", "pony61", "Exception", "starting up|not accepting|hot standby|recovery",
         lambda: _pony(**private("postgres", "", standby.port))),
        ("pony_sqlite_locked", "resource", "pony61", "Exception", "locked", locked),
        ("pony_sqlite_missing_dir", "filesystem", "pony61", "Exception", "unable to open|no such file|not found",
         lambda: _pony(provider="sqlite", filename=str(env.tmp / "no-such-dir" / "app.sqlite3"), create_db=True)),
        ("pony_sqlite_read_only", "filesystem", "pony61", "Exception", "readonly|read-only",
         with_customers(add, create_tables=False, provider="sqlite", filename=str(ro_db))),
    ]


# --------------------------------------------------------------------------- yoyo and django-admin migrate


#: name, category, token, argv (with placeholders), and the context the run needs (held locks or connections)
CliCase = tuple[str, str, str, list[str], Callable[[], AbstractContextManager[Any]]]


def cli_records(cases: Iterable[CliCase], source: str, cwd: Path, fill: Callable[[str], str],
                env: dict[str, str] | None = None, envs: dict[str, dict[str, str]] | None = None) -> list[Record]:
    """Run each command (inside its context) and record what it printed when it failed with the cause's token."""
    out: list[Record] = []
    for name, category, token, argv, context in cases:
        extra = dict(env or {}, **(envs or {}).get(name, {}))
        try:
            with context():
                proc = run([fill(a) for a in argv], cwd=cwd, timeout=60, env=extra)
        except Exception as harness:  # a hang or a setup failure is the harness's problem, not a record
            problem(name, type(harness).__name__)
            continue
        text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
        if not text:
            problem(name, "no failure")
        elif has_token(name, text, token):
            out.append(record(text, category, source, "stderr", name))
    return out


def _yoyo_records(env: Env, pg: PrivatePostgres, standby: PrivatePostgres, closed: int) -> list[Record]:
    dirs = write_yoyo_dirs(env.tmp / "yoyo61")
    for db in ("yoyo_cast", "yoyo_unique", "yoyo_notnull", "yoyo_typo", "yoyo_lock"):
        psql_admin(pg.port, f"CREATE DATABASE {db}")
    import psycopg

    lock_dsn = f"host=127.0.0.1 port={pg.port} user=postgres dbname=yoyo_lock"
    with psycopg.connect(lock_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE ledger (id serial PRIMARY KEY, amount int)")

    class ReportRunning:
        """A long report holding a lock on `ledger` while the migration runs."""

        def __enter__(self) -> None:
            self.conn = psycopg.connect(lock_dsn)
            self.conn.execute("SELECT count(*) FROM ledger")

        def __exit__(self, *exc: object) -> None:
            self.conn.close()

    def pg_url(db: str, user: str = "postgres", port: int = 0) -> str:
        return f"postgresql://{user}@127.0.0.1:{port or pg.port}/{db}"

    def apply(url: str, source: str) -> list[str]:
        return [*YOYO, "--database", url, f"DIR/{source}"]

    free = nullcontext
    cases: list[CliCase] = [
        ("yoyo_cast_bad_value", "validation", "invalid input syntax", apply(pg_url("yoyo_cast"), "cast"), free),
        ("yoyo_unique_duplicates", "validation", "duplicate|unique", apply(pg_url("yoyo_unique"), "unique"), free),
        ("yoyo_not_null_existing", "validation", "null value", apply(pg_url("yoyo_notnull"), "not_null"), free),
        ("yoyo_column_typo", "programming", "balanse", apply(pg_url("yoyo_typo"), "column_typo"), free),
        ("yoyo_py_syntax_error", "programming", "SyntaxError|never closed|invalid syntax",
         apply("sqlite:///TMP/syntax61.sqlite3", "py_syntax"), free),
        ("yoyo_lock_timeout", "resource", "lock timeout", apply(pg_url("yoyo_lock"), "lock"), ReportRunning),
        ("yoyo_wrong_password", "auth", "password", apply(pg_url("postgres", "app:wrong-password"), "plain"), free),
        ("yoyo_closed_port", "network", "refused", apply(pg_url("postgres", port=closed), "plain"), free),
        ("yoyo_too_many_clients", "resource", "too many|slots",
         apply(pg_url("postgres", "app:right-password"), "plain"), lambda: held_connections(pg.port, 3)),
        ("yoyo_standby", "service", "starting up|not accepting|hot standby|recovery",
         apply(pg_url("postgres", port=standby.port), "plain"), free),
        ("yoyo_sqlite_missing_dir", "filesystem", "unable to open",
         apply("sqlite:///TMP/no-such-dir/app.sqlite3", "plain"), free),
    ]

    def fill(text: str) -> str:
        return text.replace("DIR", str(dirs)).replace("TMP", str(env.tmp))

    return cli_records(cases, "yoyo61", env.tmp, fill)


def _django_records(env: Env, pg: PrivatePostgres, standby: PrivatePostgres, closed: int) -> list[Record]:
    root = write_django_project(env.tmp / "django61")
    for db in ("dj_unique", "dj_notnull"):
        psql_admin(pg.port, f"CREATE DATABASE {db}")

    def sqlite_db(name: str, timeout: float = 5) -> str:
        return json.dumps({"ENGINE": "django.db.backends.sqlite3", "NAME": str(env.tmp / name),
                           "OPTIONS": {"timeout": timeout}})

    def pg_db(name: str, port: int, user: str = "postgres", password: str = "") -> str:
        return json.dumps({"ENGINE": "django.db.backends.postgresql", "NAME": name, "USER": user,
                           "PASSWORD": password, "HOST": "127.0.0.1", "PORT": port, "OPTIONS": {"connect_timeout": 3}})

    inconsistent = env.tmp / "inconsistent61.sqlite3"
    setup = run([*DJANGO, "migrate", "--noinput"], cwd=root, env=django_env(root, sqlite_db(inconsistent.name)))
    if setup.returncode:
        problem("django_setup", "migrate of the good history failed")
    with closing(sqlite3.connect(inconsistent)) as conn:
        conn.execute("DELETE FROM django_migrations WHERE app = 'billing' AND name = '0001_initial'")
        conn.commit()
    locked = env.tmp / "locked61d.sqlite3"
    sqlite3.connect(locked).close()

    migrate = [*DJANGO, "migrate", "--noinput"]
    free = nullcontext
    cases: dict[str, tuple[str, str, list[str], Callable[[], AbstractContextManager[Any]], dict[str, str]]] = {
        "django_conflicting_leaves": ("programming", "Conflicting migrations", migrate, free,
                                      django_env(root, sqlite_db("conflict61.sqlite3"), "billing.mig_conflict")),
        "django_inconsistent_history": ("programming", "InconsistentMigrationHistory|before its dependency",
                                        migrate, free, django_env(root, sqlite_db(inconsistent.name))),
        "django_missing_parent": ("programming", "NodeNotFoundError|nonexistent parent", migrate, free,
                                  django_env(root, sqlite_db("parent61.sqlite3"), "billing.mig_missing_parent")),
        "django_migration_syntax": ("programming", "SyntaxError", migrate, free,
                                    django_env(root, sqlite_db("syntax61.sqlite3"), "billing.mig_syntax")),
        "django_not_migrated": ("programming", "no such table",
                                [*DJANGO, "shell", "-c", "from billing.models import Invoice\n"
                                 "print(Invoice.objects.filter(amount__gt=0).count())"], free,
                                django_env(root, sqlite_db("never61.sqlite3"))),
        "django_unique_on_duplicates": ("validation", "duplicate|unique", migrate, free,
                                        django_env(root, pg_db("dj_unique", pg.port), "billing.mig_unique")),
        "django_not_null_on_nulls": ("validation", "null value", migrate, free,
                                     django_env(root, pg_db("dj_notnull", pg.port), "billing.mig_not_null")),
        "django_wrong_password": ("auth", "password", migrate, free,
                                  django_env(root, pg_db("postgres", pg.port, "app", "wrong-password"))),
        "django_closed_port": ("network", "refused", migrate, free, django_env(root, pg_db("postgres", closed))),
        "django_too_many_clients": ("resource", "too many|slots", migrate, lambda: held_connections(pg.port, 3),
                                    django_env(root, pg_db("postgres", pg.port, "app", "right-password"))),
        "django_standby": ("service", "starting up|not accepting|hot standby|recovery", migrate, free,
                           django_env(root, pg_db("postgres", standby.port))),
        "django_sqlite_missing_dir": ("filesystem", "unable to open", migrate, free,
                                      django_env(root, sqlite_db("no-such-dir/db.sqlite3"))),
        "django_sqlite_locked": ("resource", "locked", migrate, lambda: sqlite_write_lock(locked),
                                 django_env(root, sqlite_db(locked.name, timeout=1))),
    }
    return cli_records([(n, c, t, a, ctx) for n, (c, t, a, ctx, _) in cases.items()], "django-migrate61", root,
                       str, envs={n: e for n, (*_, e) in cases.items()})


def blind61_records(env: Env) -> list[Record]:
    drop_shared_tables()
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
        conn.execute("CREATE TABLE b61_t_invoice (id serial PRIMARY KEY, amount int NOT NULL CHECK (amount > 0))")
    pg = private_postgres(env, max_connections=4, reserved=1)
    standby = private_postgres(env, standby=True)
    closed = env.closed_port
    try:
        out = token_records(_tortoise_cases(env, pg, standby, closed))
        out += token_records(_pony_cases(env, pg, standby, closed))
        out += _yoyo_records(env, pg, standby, closed)
        out += _django_records(env, pg, standby, closed)
    finally:
        drop_shared_tables()
    return out


if __name__ == "__main__":
    write_batch(blind61_records)


__all__ = ["BLIND61_SOURCES", "blind61_records"]
