"""Alerts are unique per project: identity (scope, fingerprint, starts_at) instead of (fingerprint, starts_at).

Before this revision two projects whose Alertmanagers sent the same label set (same fingerprint and
startsAt) shared one row, filed under whichever project sent it first. ``scope`` is the project id, or 0 for
alerts recorded with an admin token (no project). It exists because a NULL ``project_id`` cannot take part in
a unique key the way we need: NULLs never conflict, so admin alerts would stop upserting. A CHECK keeps it
equal to ``coalesce(project_id, 0)``.

Upgrade: add ``scope`` (NOT NULL, server default 0 so existing rows get a value), fill it from the rows'
projects, drop the default (the store always writes it), then swap the unique constraint. Existing rows are
already unique by (fingerprint, starts_at), so they are unique by the wider key too: upgrading cannot fail on
data. On SQLite the constraint changes go through batch mode, which rebuilds the table (data, foreign key and
indexes copied); on PostgreSQL they are plain ALTER TABLEs.

Downgrade: restores the old (fingerprint, starts_at) constraint and drops ``scope``. It FAILS with a unique
violation when two projects (or a project and the admin scope) hold the same episode, which this revision made
possible; nothing is changed then (the migration runs in one transaction). Delete or merge those rows first::

    SELECT fingerprint, starts_at, count(*) FROM alerts GROUP BY fingerprint, starts_at HAVING count(*) > 1;

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.store.migrations.coltypes import id_type as _id

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_UNIQUE = "uq_alerts_fingerprint_starts_at"
_NEW_UNIQUE = "uq_alerts_scope_fingerprint_starts_at"
_SCOPE_CHECK = "ck_alerts_scope_is_project"



def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("scope", _id(), nullable=False, server_default=sa.text("0")))
    op.execute("UPDATE alerts SET scope = coalesce(project_id, 0)")
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("scope", existing_type=_id(), existing_nullable=False, server_default=None)
        batch.drop_constraint(op.f(_OLD_UNIQUE), type_="unique")
        batch.create_unique_constraint(op.f(_NEW_UNIQUE), ["scope", "fingerprint", "starts_at"])
        batch.create_check_constraint(op.f(_SCOPE_CHECK), sa.text("scope = coalesce(project_id, 0)"))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint(op.f(_SCOPE_CHECK), type_="check")
        batch.drop_constraint(op.f(_NEW_UNIQUE), type_="unique")
        batch.create_unique_constraint(op.f(_OLD_UNIQUE), ["fingerprint", "starts_at"])
        batch.drop_column("scope")
