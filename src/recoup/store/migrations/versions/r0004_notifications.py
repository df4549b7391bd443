"""notifications: the durable outbox of notification deliveries.

One row per (notice key, receiver, channel), unique, so handing the same notice to the queue twice delivers it
once. ``status`` is pending, sending, delivered or dead. ``(status, next_attempt_at)`` is indexed for the
worker's "what is due" query, ``(receiver, channel, dedup_key)`` for keeping one key's notices in order.
Column types are spelled out here, not imported from the models, so this revision keeps meaning what it meant
when later revisions change the models.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.store.migrations.coltypes import id_type as _id
from recoup.store.migrations.coltypes import json_type as _json
from recoup.store.migrations.coltypes import time_type as _time

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None





def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("notice_key", sa.String(length=255), nullable=False),
        sa.Column("receiver", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _time(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", _time(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("reached", _json(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("delivered_at", _time(), nullable=True),
        sa.Column("latency_seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "notice_key", "receiver", "channel", name=op.f("uq_notifications_notice_key_receiver_channel")
        ),
    )
    op.create_index(
        "ix_notifications_status_next_attempt", "notifications", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(
        "ix_notifications_receiver_channel_dedup",
        "notifications",
        ["receiver", "channel", "dedup_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_receiver_channel_dedup", table_name="notifications")
    op.drop_index("ix_notifications_status_next_attempt", table_name="notifications")
    op.drop_table("notifications")
