"""SQLAlchemy 2 declarative models: the schema the Alembic migrations create.

Conventions, chosen so one schema serves SQLite and PostgreSQL alike:

* Surrogate integer keys (``BIGINT`` identity on PostgreSQL, the rowid on SQLite). Sentry DSNs need a
  numeric project id, integer joins are cheap, and the producer's own event id is kept beside it as a
  string, unique per project — that unique key is what makes redelivery idempotent.
* Enumerations are plain strings validated in Python (`recoup.store.values`), so later issues can add
  event kinds or statuses without a migration.
* Times are stored as UTC and always come back timezone-aware (`UTCDateTime`), whichever engine.
* A naming convention for constraints, so migrations can refer to them by a predictable name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from recoup.store.values import (
    CATEGORY_MAX,
    EVENT_ID_MAX,
    EXCEPTION_TYPE_MAX,
    FINGERPRINT_MAX,
    NAME_MAX,
    TITLE_MAX,
    URL_MAX,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: BIGINT on PostgreSQL; INTEGER on SQLite, where only ``INTEGER PRIMARY KEY`` aliases the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")

#: JSONB on PostgreSQL (indexable, compact), JSON (text) elsewhere.
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out. SQLite has no time zones, so values are stored there
    as naive UTC; PostgreSQL gets ``timestamptz``."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata (and its naming convention)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ProjectRow(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    slug: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProjectKeyRow(Base):
    __tablename__ = "project_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: sha256 of the legacy Sentry secret key, when one was issued; modern SDKs send none.
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean)
    #: Events per minute this key may send; None for unlimited.
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AdminTokenRow(Base):
    __tablename__ = "admin_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    #: First characters of the token, for display and for finding the candidate row to compare.
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    #: Hex sha256 of the whole token. The token is 256 random bits, so a plain hash is enough (no
    #: password-style stretching needed: there is nothing to brute-force).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ErrorGroupRow(Base):
    __tablename__ = "error_groups"
    __table_args__ = (
        UniqueConstraint("project_id", "fingerprint"),
        Index("ix_error_groups_project_last_seen", "project_id", "last_seen"),
        Index("ix_error_groups_project_count", "project_id", "count"),
        Index("ix_error_groups_merged_into", "merged_into"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_MAX))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    category: Mapped[str | None] = mapped_column(String(CATEGORY_MAX))
    status: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(BigInteger)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The group this one was merged into (its events and new ones go there); None when not merged.
    merged_into: Mapped[int | None] = mapped_column(BigId, ForeignKey("error_groups.id", ondelete="SET NULL"))


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("project_id", "event_id"),
        Index("ix_events_project_occurred", "project_id", "occurred_at"),
        Index("ix_events_group_occurred", "group_id", "occurred_at"),
        Index("ix_events_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_MAX))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    group_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("error_groups.id", ondelete="SET NULL"))
    category: Mapped[str | None] = mapped_column(String(CATEGORY_MAX))
    fingerprint: Mapped[str | None] = mapped_column(String(FINGERPRINT_MAX))
    message: Mapped[str] = mapped_column(Text)
    exception_type: Mapped[str | None] = mapped_column(String(EXCEPTION_TYPE_MAX))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # One row per firing episode (fingerprint, startsAt) *per project*: two projects' Alertmanagers
        # may send the same label set, and each must get its own alert.
        UniqueConstraint("scope", "fingerprint", "starts_at"),
        CheckConstraint("scope = coalesce(project_id, 0)", name="scope_is_project"),
        Index("ix_alerts_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: ``project_id``, or 0 for alerts recorded with an admin token: the NOT NULL stand-in for project_id in
    #: the unique key (NULLs never conflict, so project_id itself would not upsert admin alerts).
    scope: Mapped[int] = mapped_column(BigId)
    fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_MAX))
    status: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    annotations: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    generator_url: Mapped[str] = mapped_column(String(URL_MAX))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Tables of later features live in their own modules; importing them here registers them on `Base.metadata`
# wherever the models are loaded (migrations, the schema-drift test).
from recoup.store import models_incidents, models_notify, models_silences  # noqa: E402, F401
