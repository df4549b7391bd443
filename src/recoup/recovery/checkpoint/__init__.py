"""Durable checkpoints: `Workflow` steps whose results are stored before use, so killed runs resume.

SQLite (stdlib) is the default store; `PostgresStore` loads psycopg only when it is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recoup.recovery.checkpoint.errors import (
    CheckpointError,
    InputsMismatch,
    LeaseLost,
    NotSerializableError,
    RunLeaseHeld,
    StepOutsideRun,
    WorkflowMismatch,
)
from recoup.recovery.checkpoint.sqlite_store import SQLiteStore
from recoup.recovery.checkpoint.store import CheckpointStore, RunRecord, RunStatus, StepRecord
from recoup.recovery.checkpoint.workflow import AsyncEntry, Entry, Workflow

if TYPE_CHECKING:
    from recoup.recovery.checkpoint.postgres_store import PostgresStore

__all__ = [
    "AsyncEntry",
    "CheckpointError",
    "CheckpointStore",
    "Entry",
    "InputsMismatch",
    "LeaseLost",
    "NotSerializableError",
    "PostgresStore",
    "RunLeaseHeld",
    "RunRecord",
    "RunStatus",
    "SQLiteStore",
    "StepOutsideRun",
    "StepRecord",
    "Workflow",
    "WorkflowMismatch",
    "open_store",
]


def open_store(url: str, **options: Any) -> CheckpointStore:
    """A store from a URL: `postgresql://...` (options: schema_name) or `sqlite:///path` / a plain path."""
    if url.startswith(("postgresql://", "postgres://")):
        from recoup.recovery.checkpoint.postgres_store import PostgresStore

        return PostgresStore(url, **options)
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    return SQLiteStore(path, **options)


def __getattr__(name: str) -> Any:
    if name == "PostgresStore":
        from recoup.recovery.checkpoint.postgres_store import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
