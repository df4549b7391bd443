"""incidents: incidents (with their escalation state), responders, attached alerts, candidate warning alerts, and
the append-only incident timeline.

Column types are spelled out here, not imported from the models, so this revision keeps meaning what it meant
when later revisions change the models. New tables only: upgrading cannot fail on existing data, and downgrade
drops exactly what upgrade created.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.store.migrations.coltypes import id_type as _id
from recoup.store.migrations.coltypes import json_type as _json
from recoup.store.migrations.coltypes import time_type as _time

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None





def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("project_id", _id(), nullable=True),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("incident_type", sa.String(length=64), nullable=True),
        sa.Column("declared_by", sa.String(length=200), nullable=False),
        sa.Column("declared_at", _time(), nullable=False),
        sa.Column("fault_started_at", _time(), nullable=True),
        sa.Column("acknowledged_at", _time(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", _time(), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("rto_target_seconds", sa.Float(), nullable=False),
        sa.Column("rto_breached_at", _time(), nullable=True),
        sa.Column("commander", sa.String(length=200), nullable=True),
        sa.Column("scribe", sa.String(length=200), nullable=True),
        sa.Column("escalation_policy", sa.String(length=200), nullable=True),
        sa.Column("escalation_step", sa.Integer(), nullable=False),
        sa.Column("escalation_repeat", sa.Integer(), nullable=False),
        sa.Column("next_escalation_at", _time(), nullable=True),
        sa.Column("updated_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_incidents_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(op.f("ix_incidents_project_id"), "incidents", ["project_id"], unique=False)
    op.create_index("ix_incidents_status_next_escalation", "incidents", ["status", "next_escalation_at"], unique=False)
    op.create_index("ix_incidents_scope_status", "incidents", ["scope", "status"], unique=False)
    op.create_index("ix_incidents_declared_at", "incidents", ["declared_at"], unique=False)
    op.create_table(
        "incident_responders",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("incident_id", _id(), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("added_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_responders_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_responders")),
        sa.UniqueConstraint("incident_id", "person", name=op.f("uq_incident_responders_incident_id_person")),
    )
    op.create_table(
        "incident_alerts",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("incident_id", _id(), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("alertname", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("labels", _json(), nullable=False),
        sa.Column("first_state", sa.String(length=16), nullable=False),
        sa.Column("last_state", sa.String(length=16), nullable=False),
        sa.Column("active_at", _time(), nullable=False),
        sa.Column("attached_at", _time(), nullable=False),
        sa.Column("resolved_at", _time(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_alerts_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_alerts")),
        sa.UniqueConstraint("incident_id", "fingerprint", name=op.f("uq_incident_alerts_incident_id_fingerprint")),
    )
    op.create_index("ix_incident_alerts_fingerprint", "incident_alerts", ["fingerprint"], unique=False)
    op.create_table(
        "incident_candidates",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("incident_type", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("fired_at", _time(), nullable=False),
        sa.Column("alert", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_candidates")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_incident_candidates_fingerprint")),
    )
    op.create_index("ix_incident_candidates_scope_fired", "incident_candidates", ["scope", "fired_at"], unique=False)
    op.create_table(
        "incident_timeline",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("incident_id", _id(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_timeline_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_timeline")),
    )
    op.create_index("ix_incident_timeline_incident_at", "incident_timeline", ["incident_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_incident_timeline_incident_at", table_name="incident_timeline")
    op.drop_table("incident_timeline")
    op.drop_index("ix_incident_candidates_scope_fired", table_name="incident_candidates")
    op.drop_table("incident_candidates")
    op.drop_index("ix_incident_alerts_fingerprint", table_name="incident_alerts")
    op.drop_table("incident_alerts")
    op.drop_table("incident_responders")
    op.drop_index("ix_incidents_declared_at", table_name="incidents")
    op.drop_index("ix_incidents_scope_status", table_name="incidents")
    op.drop_index("ix_incidents_status_next_escalation", table_name="incidents")
    op.drop_index(op.f("ix_incidents_project_id"), table_name="incidents")
    op.drop_table("incidents")
