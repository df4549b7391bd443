"""Migrations: up from empty, idempotent, and the models and the migrations describe the same schema."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, insert, inspect, text
from sqlalchemy.exc import IntegrityError
from store_support import T0

from recoup.store import (
    AlertStatus,
    InvalidInput,
    NewAlert,
    StoreUnavailable,
    current_revision,
    head_revision,
    migrate,
    open_store,
)
from recoup.store.engine import BEGIN_MODE_OPTION, create_store_engine, normalize_url
from recoup.store.migrate import alembic_config
from recoup.store.models import Base, JsonDoc, UTCDateTime

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


# -- 0003: alerts unique per project -------------------------------------------------------------------

#: The alerts table as revision 0002 left it (no ``scope``), to write rows into an old database.
_ALERTS_0002 = sa.table(
    "alerts",
    sa.column("project_id", Integer()),
    sa.column("fingerprint", String()),
    sa.column("status", String()),
    sa.column("labels", JsonDoc),
    sa.column("annotations", JsonDoc),
    sa.column("starts_at", UTCDateTime()),
    sa.column("ends_at", UTCDateTime()),
    sa.column("generator_url", String()),
    sa.column("received_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)


def _alembic(db_url: str, step: Callable[[Config, str], None], revision: str) -> None:
    """Run one alembic command (upgrade/downgrade to ``revision``) in one transaction, as `migrate` does."""
    engine = create_store_engine(db_url)
    try:
        with engine.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"}).begin() as conn:
            step(alembic_config(conn), revision)
    finally:
        engine.dispose()


def _revision(db_url: str) -> str | None:
    engine = create_store_engine(db_url)
    try:
        with engine.connect() as conn:
            return current_revision(conn)
    finally:
        engine.dispose()


def _alerts(db_url: str) -> list[tuple[int, int | None, str, str]]:
    """(id, project_id, fingerprint, status) of every alert, read with plain SQL: works at any revision."""
    engine = create_store_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, project_id, fingerprint, status FROM alerts ORDER BY id"))
            return [(r.id, r.project_id, r.fingerprint, r.status) for r in rows]
    finally:
        engine.dispose()


def _old_alert(project_id: int | None, fingerprint: str) -> dict[str, Any]:
    return {
        "project_id": project_id, "fingerprint": fingerprint, "status": "firing", "labels": {"alertname": "A"},
        "annotations": {}, "starts_at": T0, "ends_at": None, "generator_url": "http://prom/graph",
        "received_at": T0, "updated_at": T0,
    }  # fmt: skip


def _new_alert(fingerprint: str, status: str = "firing") -> NewAlert:
    return NewAlert(
        fingerprint=fingerprint, status=AlertStatus(status), starts_at=T0,
        ends_at=T0 + timedelta(minutes=5) if status == "resolved" else None,
        labels={"alertname": "A"}, annotations={}, generator_url="http://prom/graph",
    )  # fmt: skip


def test_upgrading_a_0002_database_keeps_its_alerts_and_files_them_by_project(db_url: str) -> None:
    _alembic(db_url, command.upgrade, "0002")
    with open_store(db_url, migrate=False) as store:  # the projects table is unchanged since 0001
        shop, _ = store.create_project("shop")
        billing, _ = store.create_project("billing")
        with store.engine.begin() as conn:
            conn.execute(
                insert(_ALERTS_0002),
                [_old_alert(shop.id, "shared"), _old_alert(billing.id, "own"), _old_alert(None, "admin")],
            )
    before = _alerts(db_url)
    assert len(before) == 3

    assert migrate(db_url) == head_revision()
    with open_store(db_url) as store:
        assert _alerts(db_url) == before
        assert sorted((a.id, a.project_id, a.fingerprint, a.status.value) for a in store.list_alerts()) == before
        ids = {fingerprint: id_ for id_, _, fingerprint, _ in before}
        # the old rows got their scope: the same episode upserts them, in their own project or the admin scope
        (shared,) = store.record_alerts([_new_alert("shared", "resolved")], project_id=shop.id)
        (admin,) = store.record_alerts([_new_alert("admin", "resolved")])
        assert (shared.id, admin.id) == (ids["shared"], ids["admin"])
        # and another project sending the shop's episode now gets its own alert
        (billings,) = store.record_alerts([_new_alert("shared")], project_id=billing.id)
        assert billings.id not in ids.values() and billings.project_id == billing.id
        assert len(store.list_alerts()) == 4


def test_downgrading_0003_restores_the_old_key_unless_projects_share_an_episode(db_url: str) -> None:
    with open_store(db_url) as store:
        shop, _ = store.create_project("shop")
        billing, _ = store.create_project("billing")
        store.record_alerts([_new_alert("a")], project_id=shop.id)
        store.record_alerts([_new_alert("a")], project_id=billing.id)
    # two projects hold the same episode: the old unique key cannot be restored, and nothing changes
    with pytest.raises(IntegrityError):
        _alembic(db_url, command.downgrade, "0002")
    assert _revision(db_url) == head_revision()
    assert len(_alerts(db_url)) == 2

    with open_store(db_url) as store, store.engine.begin() as conn:
        conn.execute(text("DELETE FROM alerts WHERE project_id = :p"), {"p": billing.id})
    _alembic(db_url, command.downgrade, "0002")
    assert _revision(db_url) == "0002"
    engine = create_store_engine(db_url)
    try:
        with engine.connect() as conn:
            assert "scope" not in {c["name"] for c in inspect(conn).get_columns("alerts")}
            uniques = {u["name"]: u["column_names"] for u in inspect(conn).get_unique_constraints("alerts")}
            assert uniques == {"uq_alerts_fingerprint_starts_at": ["fingerprint", "starts_at"]}
            assert conn.execute(text("SELECT count(*) FROM alerts")).scalar() == 1
    finally:
        engine.dispose()
    assert migrate(db_url) == head_revision()  # and back up again
    assert [project_id for _, project_id, _, _ in _alerts(db_url)] == [shop.id]
