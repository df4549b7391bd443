"""group merge: ``error_groups.merged_into``, the group a merged group's events (and new ones) go to.

A merged group keeps its row and fingerprint, so ingest still finds it by fingerprint and follows
``merged_into`` to the target; splitting clears it again. Column types are spelled out here (via
`recoup.store.migrations.coltypes`), not imported from the models. A nullable column only: upgrading
cannot fail on existing data; downgrading forgets the merges (the moved events stay in their target).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.store.migrations.coltypes import id_type as _id

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("error_groups") as batch:
        batch.add_column(sa.Column("merged_into", _id(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_error_groups_merged_into_error_groups"), "error_groups", ["merged_into"], ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_error_groups_merged_into", ["merged_into"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("error_groups") as batch:
        batch.drop_index("ix_error_groups_merged_into")
        batch.drop_constraint(op.f("fk_error_groups_merged_into_error_groups"), type_="foreignkey")
        batch.drop_column("merged_into")
