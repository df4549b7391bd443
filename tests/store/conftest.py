"""Store fixtures; the databases themselves (`db_url`, `store`: a real SQLite file and the real PostgreSQL
on 127.0.0.1) come from tests/conftest.py."""

from __future__ import annotations

import pytest

from recoup.store import Project, Store


@pytest.fixture
def project(store: Store) -> Project:
    created, _key = store.create_project("Checkout API")
    return created
