"""Fixtures running every store test against a real SQLite file and the real PostgreSQL on 127.0.0.1.

PostgreSQL isolation: one throw-away database per test session (``recoup_test_<random>``, dropped at the
end), and inside it one fresh schema per test, selected through the connection's ``search_path`` — so
every test, the migration tests included, starts from an empty database without the cost of a
``CREATE DATABASE`` each time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from recoup.store import Project, Store, open_store

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


@pytest.fixture
def project(store: Store) -> Project:
    created, _key = store.create_project("Checkout API")
    return created
