"""Column types every migration spells the same way. Frozen: a migration's meaning must not change after it
shipped, so a new type gets a new function here rather than an edit of one in use."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def id_type() -> sa.types.TypeEngine[int]:
    """64-bit ids on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def time_type() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def json_type() -> sa.types.TypeEngine[Any]:
    """JSONB on PostgreSQL, JSON text elsewhere."""
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
