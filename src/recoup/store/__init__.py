"""recoup's durable store: SQLAlchemy models, Alembic migrations and the `Store` repository the server
uses. SQLite (one file) by default, PostgreSQL (psycopg 3) to scale.

This package needs the ``server`` extra (SQLAlchemy, Alembic, psycopg); ``import recoup`` never loads it.

    store = open_store("sqlite:///recoup.db")          # migrates to head, then opens
    project, key = store.create_project("checkout")
    store.ingest_events(project.id, [NewEvent(event_id=..., kind=EventKind.ERROR, occurred_at=..., ...)])
"""

from __future__ import annotations

from recoup.store.convert import new_event_from_telemetry
from recoup.store.engine import create_store_engine, normalize_url
from recoup.store.migrate import current_revision, head_revision, migrate
from recoup.store.repository import Store, open_store
from recoup.store.values import (
    AdminToken,
    Alert,
    AlertStatus,
    ErrorGroup,
    EventKind,
    GroupStatus,
    IngestResult,
    InvalidInput,
    Level,
    NewAlert,
    NewEvent,
    NotFound,
    Project,
    ProjectKey,
    StoredEvent,
    StoreError,
    StoreUnavailable,
)

__all__ = [
    "AdminToken",
    "Alert",
    "AlertStatus",
    "ErrorGroup",
    "EventKind",
    "GroupStatus",
    "IngestResult",
    "InvalidInput",
    "Level",
    "NewAlert",
    "NewEvent",
    "NotFound",
    "Project",
    "ProjectKey",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "StoredEvent",
    "create_store_engine",
    "current_revision",
    "head_revision",
    "migrate",
    "new_event_from_telemetry",
    "normalize_url",
    "open_store",
]
