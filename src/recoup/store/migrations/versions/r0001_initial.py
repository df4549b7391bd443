"""Initial schema: projects, project keys, admin tokens, error groups, events, alerts.

Column types are spelled out here, not imported from the models, so this revision keeps meaning what it
meant when later revisions change the models.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-29 06:52:03.274041
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.store.migrations.coltypes import id_type as _id
from recoup.store.migrations.coltypes import json_type as _json
from recoup.store.migrations.coltypes import time_type as _time

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None





def upgrade() -> None:
    op.create_table(
        "admin_tokens",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("revoked_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_admin_tokens_token_hash")),
    )
    op.create_index(op.f("ix_admin_tokens_prefix"), "admin_tokens", ["prefix"], unique=False)
    op.create_table(
        "projects",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("slug", name=op.f("uq_projects_slug")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("project_id", _id(), nullable=True),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("labels", _json(), nullable=False),
        sa.Column("annotations", _json(), nullable=False),
        sa.Column("starts_at", _time(), nullable=False),
        sa.Column("ends_at", _time(), nullable=True),
        sa.Column("generator_url", sa.String(length=2000), nullable=False),
        sa.Column("received_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_alerts_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("fingerprint", "starts_at", name=op.f("uq_alerts_fingerprint_starts_at")),
    )
    op.create_index(op.f("ix_alerts_project_id"), "alerts", ["project_id"], unique=False)
    op.create_index("ix_alerts_status_updated", "alerts", ["status", "updated_at"], unique=False)
    op.create_table(
        "error_groups",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("project_id", _id(), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", _time(), nullable=False),
        sa.Column("last_seen", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_error_groups_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_error_groups")),
        sa.UniqueConstraint("project_id", "fingerprint", name=op.f("uq_error_groups_project_id_fingerprint")),
    )
    op.create_index("ix_error_groups_project_count", "error_groups", ["project_id", "count"], unique=False)
    op.create_index("ix_error_groups_project_last_seen", "error_groups", ["project_id", "last_seen"], unique=False)
    op.create_table(
        "project_keys",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("project_id", _id(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_keys_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_project_keys_public_key")),
    )
    op.create_index(op.f("ix_project_keys_project_id"), "project_keys", ["project_id"], unique=False)
    op.create_table(
        "events",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("project_id", _id(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("received_at", _time(), nullable=False),
        sa.Column("occurred_at", _time(), nullable=False),
        sa.Column("group_id", _id(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("fingerprint", sa.String(length=128), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("exception_type", sa.String(length=255), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["error_groups.id"], name=op.f("fk_events_group_id_error_groups"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_events_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("project_id", "event_id", name=op.f("uq_events_project_id_event_id")),
    )
    op.create_index("ix_events_group_occurred", "events", ["group_id", "occurred_at"], unique=False)
    op.create_index("ix_events_project_occurred", "events", ["project_id", "occurred_at"], unique=False)
    op.create_index("ix_events_received_at", "events", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_events_received_at", table_name="events")
    op.drop_index("ix_events_project_occurred", table_name="events")
    op.drop_index("ix_events_group_occurred", table_name="events")
    op.drop_table("events")
    op.drop_index(op.f("ix_project_keys_project_id"), table_name="project_keys")
    op.drop_table("project_keys")
    op.drop_index("ix_error_groups_project_last_seen", table_name="error_groups")
    op.drop_index("ix_error_groups_project_count", table_name="error_groups")
    op.drop_table("error_groups")
    op.drop_index("ix_alerts_status_updated", table_name="alerts")
    op.drop_index(op.f("ix_alerts_project_id"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("projects")
    op.drop_index(op.f("ix_admin_tokens_prefix"), table_name="admin_tokens")
    op.drop_table("admin_tokens")
