"""Alembic environment for recoup's store: always online, always on a connection that `migrate` opened
(and locked); there is no ``alembic.ini`` and no URL here."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from recoup.store.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables when later revisions need it.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("recoup's migrations run through recoup.store.migrate(), which supplies the connection")
_run(_connection)
