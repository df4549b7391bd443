"""Shared fixtures: a fake clock, a recorder of policy events (unsubscribed after each test), and real
databases (a SQLite file, the real PostgreSQL on 127.0.0.1) for the store and server tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from recoup.policies.events import PolicyEvent, subscribe
from recoup.store import Store, open_store
from recoup.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """A clock at t=0 whose sleeps are instant and recorded in ``clock.sleeps``."""
    return FakeClock()


@pytest.fixture
def policy_events() -> Iterator[list[PolicyEvent]]:
    """Every policy event emitted during the test, in order."""
    collected: list[PolicyEvent] = []
    unsubscribe = subscribe(collected.append)
    try:
        yield collected
    finally:
        unsubscribe()


# -- real databases (store and server tests) ---------------------------------------------------------
# PostgreSQL isolation: one throw-away database per test session (``recoup_test_<random>``, dropped at the
# end), and inside it one fresh schema per test, selected through the connection's ``search_path``.

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; yields its name."""
    name = f"recoup_test_{secrets.token_hex(6)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema in the session's database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'recoup.db'}"
        return
    database: str = request.getfixturevalue("pg_database")
    schema = f"t_{secrets.token_hex(6)}"
    conninfo = f"postgresql://postgres@127.0.0.1:5432/{database}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield f"{conninfo}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on ``db_url``."""
    opened = open_store(db_url)
    try:
        yield opened
    finally:
        opened.close()
