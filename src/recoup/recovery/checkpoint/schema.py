"""The checkpoint tables' DDL, in one place for both dialects, versioned by a schema-version table.

Each migration is a list of statements written once with `{p}` (table prefix, schema-qualified on
PostgreSQL; index names stay unqualified because they live in their table's schema) and `{real}`
(the float type); a store applies those newer than the recorded version.
"""

from __future__ import annotations

from typing import Literal

Dialect = Literal["sqlite", "postgresql"]

COMPONENT = "checkpoint"

VERSION_TABLE = "{p}checkpoint_schema_version"

MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE IF NOT EXISTS {p}checkpoint_runs (
            run_id TEXT PRIMARY KEY,
            workflow TEXT NOT NULL,
            status TEXT NOT NULL,
            inputs TEXT,
            result TEXT,
            error TEXT,
            owner TEXT,
            lease_until {real},
            attempts INTEGER NOT NULL,
            created {real} NOT NULL,
            updated {real} NOT NULL,
            finished {real}
        )""",
        "CREATE INDEX IF NOT EXISTS checkpoint_runs_by_workflow ON {p}checkpoint_runs (workflow, created)",
        "CREATE INDEX IF NOT EXISTS checkpoint_runs_by_status ON {p}checkpoint_runs (status, created)",
        """CREATE TABLE IF NOT EXISTS {p}checkpoint_steps (
            run_id TEXT NOT NULL REFERENCES {p}checkpoint_runs (run_id) ON DELETE CASCADE,
            step TEXT NOT NULL,
            call_index INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            status TEXT NOT NULL,
            result TEXT,
            error TEXT,
            attempts INTEGER NOT NULL,
            started {real} NOT NULL,
            finished {real} NOT NULL,
            PRIMARY KEY (run_id, step, call_index)
        )""",
    ],
}

LATEST = max(MIGRATIONS)


def version_table_ddl(prefix: str) -> str:
    """The schema-version table, shared with other recoup components (one row per component)."""
    return (
        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE.format(p=prefix)} "
        "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )


def pending(current: int, dialect: Dialect, prefix: str) -> list[tuple[int, list[str]]]:
    """Migrations newer than `current`, rendered for `dialect` with table `prefix`."""
    real = "REAL" if dialect == "sqlite" else "DOUBLE PRECISION"
    return [
        (version, [statement.format(p=prefix, real=real) for statement in MIGRATIONS[version]])
        for version in sorted(MIGRATIONS)
        if version > current
    ]
