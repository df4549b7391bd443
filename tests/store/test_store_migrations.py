"""Migrations: up from empty, idempotent, and the models and the migrations describe the same schema."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, inspect, text

from recoup.store import InvalidInput, StoreUnavailable, current_revision, head_revision, migrate, open_store
from recoup.store.engine import create_store_engine, normalize_url
from recoup.store.models import Base

TABLES = {"projects", "project_keys", "admin_tokens", "events", "error_groups", "alerts", "alembic_version"}


def test_migrate_from_empty_creates_every_table(db_url: str) -> None:
    engine = create_store_engine(db_url)
    try:
        with engine.connect() as conn:
            assert current_revision(conn) is None
            assert not set(inspect(conn).get_table_names()) & TABLES
        assert migrate(db_url) == head_revision()
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= TABLES
            assert current_revision(conn) == head_revision()
    finally:
        engine.dispose()


def test_migrate_is_idempotent_and_keeps_data(db_url: str) -> None:
    with open_store(db_url) as store:
        project, _ = store.create_project("kept")
    assert migrate(db_url) == head_revision()
    with open_store(db_url) as store:
        assert [p.id for p in store.list_projects()] == [project.id]


def test_concurrent_migrations_serialise(db_url: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate(db_url)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_models_match_migrations(db_url: str) -> None:
    migrate(db_url)
    engine = create_store_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_sqlite_pragmas_make_commits_durable(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
    finally:
        engine.dispose()


def test_urls_are_normalised_to_the_supported_drivers() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite+pysqlite"
    for bad, words in [
        ("mysql://u@h/db", "unsupported database"),
        ("postgresql+psycopg2://u@h/db", "psycopg 3"),
        ("sqlite://", "needs a file"),
        ("not a url", "not a database URL"),
    ]:
        with pytest.raises(InvalidInput, match=words) as info:
            normalize_url(bad)
        assert info.value.field == "url"


def test_unreachable_database_is_reported_as_unavailable() -> None:
    url = "postgresql://postgres@127.0.0.1:1/test?connect_timeout=2"
    with pytest.raises(StoreUnavailable):
        open_store(url)
    with open_store(url, migrate=False) as store, pytest.raises(StoreUnavailable, match="database unavailable"):
        store.ping()


def test_sqlite_file_and_its_directory_are_created(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "recoup.db"
    with open_store(f"sqlite:///{path}") as store:
        store.ping()
    assert path.exists()


def test_the_no_diff_check_has_teeth(db_url: str) -> None:
    """A model column the migrations lack must show up as a difference."""
    migrate(db_url)
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["events"].append_column(Column("extra", String(10)))
    engine = create_store_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), changed)
    finally:
        engine.dispose()
    assert [d[0] for d in diff] == ["add_column"]
