"""PostgreSQL: compress event payloads with lz4 instead of pglz.

Big payloads (stack traces with context lines, breadcrumbs) are TOASTed and compressed; pglz costs the
server several times the CPU of lz4 at ingest for a similar ratio. ``SET COMPRESSION`` only changes how new
values are compressed: existing rows keep pglz (both stay readable), so the table is not rewritten and
the statement only takes a brief lock.

lz4 needs PostgreSQL 14 or later built with lz4 support. The server is asked which methods it accepts
(``default_toast_compression``'s enumeration in pg_settings; the setting does not exist before 14); when
lz4 is not among them this revision changes nothing and payloads stay pglz-compressed. A no-op on SQLite.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _lz4_supported() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    accepted = bind.execute(
        sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    ).scalar()
    return accepted is not None and "lz4" in accepted


def upgrade() -> None:
    if _lz4_supported():
        op.execute("ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4_supported():
        op.execute("ALTER TABLE events ALTER COLUMN payload SET COMPRESSION DEFAULT")
