"""Silences: validation, pending/active/expired over time, matching (regexes included), early expiry, and the
SQL store on SQLite and PostgreSQL (persistence, its in-memory cache, the migration matching the model)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from psycopg import sql
from sqlalchemy import event, inspect

from recoup.incidents.model import Matcher, MatchOp
from recoup.incidents.silences import (
    InMemorySilenceStore,
    SilenceError,
    SilenceState,
    SilenceStore,
    SqlSilenceStore,
    UnknownSilence,
)
from recoup.store import Store, open_store
from recoup.store.engine import BEGIN_MODE_OPTION, create_store_engine
from recoup.store.migrate import alembic_config, current_revision
from recoup.store.models import Base
from recoup.testing import FakeClock

T0 = 1_800_000_000.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=T0)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def silences(request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path) -> Iterator[SilenceStore]:
    """Both implementations behind the protocol, the SQL one on SQLite and on PostgreSQL (a fresh schema in
    the session's database, as tests/conftest.py's ``db_url`` makes them)."""
    if request.param == "memory":
        yield InMemorySilenceStore(clock=clock.monotonic)
        return
    if request.param == "sqlite":
        with open_store(f"sqlite:///{tmp_path / 'silences.db'}") as store:
            yield SqlSilenceStore(store, clock=clock.monotonic)
        return
    database: str = request.getfixturevalue("pg_database")
    conninfo = f"postgresql://postgres@127.0.0.1:5432/{database}"
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        with open_store(f"{conninfo}?options=-csearch_path%3D{schema}") as store:
            yield SqlSilenceStore(store, clock=clock.monotonic)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.mark.parametrize(
    ("matchers", "kwargs", "field", "words"),
    [
        ([], {}, "matchers", "at least one matcher"),
        (["service"], {}, "matchers[0]", "not a label matcher"),
        (["a=b", 'service=~"("'], {}, "matchers[1]", "bad regex"),
        (['service=~".*"'], {}, "matchers", "would silence every alert"),
        (['service=""', "team!=db"], {}, "matchers", "would silence every alert"),
        (["a=" + "x" * 1000], {}, "matchers[0]", "longer than 1000"),
        (["a=b"] * 33, {}, "matchers", "at most 32"),
        (["a=b"], {"created_by": ""}, "created_by", "who creates"),
        (["a=b"], {"created_by": "x" * 201}, "created_by", "longer than 200"),
        (["a=b"], {"comment": "x" * 2001}, "comment", "at most 2000"),
        (["a=b"], {"ends_at": T0 - 1}, "ends_at", "must be after"),
        (["a=b"], {"starts_at": T0 + 100, "ends_at": T0 + 50}, "ends_at", "must be after"),
        (["a=b"], {"ends_at": "tomorrow"}, "ends_at", "epoch seconds"),
        (["a=b"], {"ends_at": float("nan")}, "ends_at", "epoch seconds"),
    ],
)
def test_bad_silences_are_refused_naming_the_field(
    silences: SilenceStore, matchers: list[str], kwargs: dict[str, Any], field: str, words: str
) -> None:
    args: dict[str, Any] = {"ends_at": T0 + 3600, "created_by": "alice", **kwargs}
    with pytest.raises(SilenceError) as info:
        silences.create(matchers, **args)
    assert info.value.field == field
    assert words in info.value.problem
    assert silences.list() == []


def test_a_silence_is_pending_then_active_then_expired(silences: SilenceStore, clock: FakeClock) -> None:
    s = silences.create(['service="api"', 'severity=~"warn.*"'], starts_at=T0 + 60, ends_at=T0 + 120,
                        created_by="alice", comment="maintenance")
    labels = {"service": "api", "severity": "warning"}
    assert s.state(T0) is SilenceState.PENDING
    assert silences.silenced_by(labels, T0) == []
    assert [x.id for x in silences.list("pending")] == [s.id]
    clock.advance(60)
    assert silences.silenced_by(labels, T0 + 60) == [s.id]
    assert [x.id for x in silences.list(SilenceState.ACTIVE)] == [s.id]
    assert silences.silenced_by({"service": "api", "severity": "critical"}, T0 + 60) == []
    assert silences.silenced_by({"service": "web", "severity": "warning"}, T0 + 60) == []
    clock.advance(60)
    assert silences.silenced_by(labels, T0 + 120) == []
    assert [x.id for x in silences.list("expired")] == [s.id]
    assert silences.list("active") == []
    with pytest.raises(SilenceError, match="state: expected one of"):
        silences.list("gone")


def test_a_start_in_the_past_becomes_now(silences: SilenceStore) -> None:
    s = silences.create(["a=b"], starts_at=T0 - 500, ends_at=T0 + 10, created_by="alice")
    assert s.starts_at == T0
    got = silences.get(s.id)
    assert got is not None and got.starts_at == pytest.approx(T0)


def test_regex_and_negative_matchers(silences: SilenceStore) -> None:
    s = silences.create(['service=~"api|web-.*"', "team!=db", Matcher("env", MatchOp.NRE, "dev|test")],
                        ends_at=T0 + 10, created_by="alice")
    assert silences.silenced_by({"service": "web-eu", "team": "core", "env": "prod"}, T0) == [s.id]
    assert silences.silenced_by({"service": "api"}, T0) == [s.id]  # missing team and env match as empty
    assert silences.silenced_by({"service": "apis"}, T0) == []  # anchored: a full match is needed
    assert silences.silenced_by({"service": "api", "team": "db"}, T0) == []
    assert silences.silenced_by({"service": "api", "env": "test"}, T0) == []


def test_expire_ends_a_silence_now_and_is_idempotent(silences: SilenceStore, clock: FakeClock) -> None:
    s = silences.create(["a=b"], ends_at=T0 + 3600, created_by="alice")
    pending = silences.create(["a=b"], starts_at=T0 + 100, ends_at=T0 + 3600, created_by="alice")
    clock.advance(30)
    expired = silences.expire(s.id)
    assert expired.ends_at == T0 + 30 and expired.state(T0 + 30) is SilenceState.EXPIRED
    assert silences.silenced_by({"a": "b"}, T0 + 30) == []
    assert silences.expire(s.id).ends_at == pytest.approx(T0 + 30)
    never = silences.expire(pending.id)
    assert (never.starts_at, never.ends_at) == (T0 + 30, T0 + 30)
    with pytest.raises(UnknownSilence):
        silences.expire("no-such-silence")
    assert silences.get("no-such-silence") is None
    assert {x.id for x in silences.list("expired")} == {s.id, pending.id}


def test_to_dict_reports_the_state(silences: SilenceStore) -> None:
    s = silences.create(['severity="warning"'], ends_at=T0 + 10, created_by="alice", comment="why")
    d = s.to_dict(T0)
    assert d["matchers"] == ['severity="warning"']
    assert (d["state"], d["created_by"], d["comment"]) == ("active", "alice", "why")
    assert s.to_dict(T0 + 10)["state"] == "expired"


# -- the SQL store ---------------------------------------------------------------------------------------


@pytest.fixture
def queries(store: Store) -> Iterator[list[str]]:
    """Every SQL statement the store's engine runs while the test does."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    yield seen
    event.remove(store.engine, "before_cursor_execute", record)


def test_sql_silences_survive_a_restart(store: Store, clock: FakeClock) -> None:
    first = SqlSilenceStore(store, clock=clock.monotonic)
    s = first.create(['service=~"api|web"'], ends_at=T0 + 600, created_by="alice", comment="deploy")
    again = SqlSilenceStore(store, clock=clock.monotonic)
    got = again.get(s.id)
    assert got == s
    assert again.silenced_by({"service": "web"}, T0) == [s.id]


def test_the_hot_path_uses_the_cache(store: Store, clock: FakeClock, queries: list[str]) -> None:
    silences = SqlSilenceStore(store, clock=clock.monotonic, refresh_every=15.0)
    s = silences.create(["service=api"], ends_at=T0 + 600, created_by="alice")
    queries.clear()
    for _ in range(50):
        assert silences.silenced_by({"service": "api"}, T0) == [s.id]
    assert queries == []
    clock.advance(16)  # older than refresh_every: one reload, then the cache again
    assert silences.silenced_by({"service": "api"}, T0 + 16) == [s.id]
    assert silences.silenced_by({"service": "api"}, T0 + 16) == [s.id]
    assert len([q for q in queries if "silences" in q]) == 1


def test_another_process_silences_are_seen_after_refresh_every(store: Store, clock: FakeClock) -> None:
    here = SqlSilenceStore(store, clock=clock.monotonic, refresh_every=10.0)
    there = SqlSilenceStore(store, clock=clock.monotonic, refresh_every=10.0)
    s = there.create(["service=api"], ends_at=T0 + 600, created_by="bob")
    assert here.silenced_by({"service": "api"}, T0) == []  # its cache is fresh: not reloaded yet
    clock.advance(11)
    assert here.silenced_by({"service": "api"}, T0 + 11) == [s.id]
    there.expire(s.id)
    here.refresh()
    assert here.silenced_by({"service": "api"}, T0 + 11) == []


def test_a_failed_write_changes_nothing(store: Store, clock: FakeClock) -> None:
    silences = SqlSilenceStore(store, clock=clock.monotonic)
    with pytest.raises(SilenceError):
        silences.create(["a=b"], ends_at=T0 - 1, created_by="alice")
    assert silences.list() == []
    assert silences.silenced_by({"a": "b"}, T0) == []


def test_purge_deletes_long_expired_silences(store: Store, clock: FakeClock) -> None:
    silences = SqlSilenceStore(store, clock=clock.monotonic)
    old = silences.create(["a=b"], ends_at=T0 + 10, created_by="alice")
    kept = silences.create(["a=c"], ends_at=T0 + 10_000, created_by="alice")
    clock.advance(100)
    assert silences.purge(T0 + 50) == 1
    assert silences.get(old.id) is None
    assert silences.get(kept.id) is not None


def test_the_silences_table_matches_the_model(store: Store, db_url: str) -> None:
    assert "silences" in Base.metadata.tables
    engine = create_store_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    assert [d for d in diff if "silences" in repr(d)] == []


def test_migration_0006_downgrades_and_upgrades_again(db_url: str, clock: FakeClock) -> None:
    with open_store(db_url) as store:
        SqlSilenceStore(store, clock=clock.monotonic).create(["a=b"], ends_at=T0 + 10, created_by="alice")
    engine = create_store_engine(db_url)
    try:
        for revision, step in (("0005", command.downgrade), ("0006", command.upgrade)):
            with engine.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"}).begin() as conn:
                step(alembic_config(conn), revision)
            with engine.connect() as conn:
                assert current_revision(conn) == revision
                assert ("silences" in inspect(conn).get_table_names()) is (revision == "0006")
    finally:
        engine.dispose()
    with open_store(db_url) as store:
        assert SqlSilenceStore(store, clock=clock.monotonic).list() == []
