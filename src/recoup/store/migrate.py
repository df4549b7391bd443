"""Run the Alembic migrations shipped inside the package, without an ``alembic.ini``.

`recoup serve` calls `migrate` on start, so the schema is always at head before the first request.
Concurrent starters (several workers, several replicas) are serialised: on PostgreSQL by a transaction
advisory lock, on SQLite by the write lock of ``BEGIN IMMEDIATE``; whoever comes second finds the
schema at head and does nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from recoup.store.engine import BEGIN_MODE_OPTION, create_store_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: Arbitrary constant naming recoup's migration lock among PostgreSQL advisory locks.
_PG_MIGRATION_LOCK = 0x7265636F7570  # "recoup"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations; ``connection`` is handed to env.py."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of recoup."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the packaged migrations have no head"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None when it was never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def migrate(target: str | URL | Engine) -> str:
    """Upgrade the database at ``target`` to head; idempotent. Returns the revision it is at."""
    engine = target if isinstance(target, Engine) else create_store_engine(target)
    try:
        with engine.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"}).begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            if current_revision(connection) != head_revision():
                command.upgrade(alembic_config(connection), "head")
            revision = current_revision(connection)
    finally:
        if engine is not target:
            engine.dispose()
    assert revision is not None
    return revision
