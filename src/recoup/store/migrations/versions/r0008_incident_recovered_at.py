"""incident recovery: ``incidents.recovered_at``, when the incident's services were restored (what the RTO is
measured to, before the alerts' windows let the incident resolve).

A nullable column only, so upgrading cannot fail on existing data. Incidents already resolved get their
``resolved_at`` as ``recovered_at``: that is what their RTO was judged by when they closed, so their verdicts
do not change. Downgrading drops the column (the recovery times are lost; resolution times stay).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.store.migrations.coltypes import time_type as _time

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("recovered_at", _time(), nullable=True))
    op.execute(sa.text("UPDATE incidents SET recovered_at = resolved_at WHERE resolved_at IS NOT NULL"))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("recovered_at")
