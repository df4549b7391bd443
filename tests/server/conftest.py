"""Server fixtures: `server` is a real uvicorn-served recoup on 127.0.0.1, once over a SQLite file and
once over the real PostgreSQL (``db_url`` from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from server_support import LiveServer, live_server

from recoup.server import ServerSettings


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(ServerSettings(db_url=db_url, spool_dir=tmp_path / "spool")) as running:
        yield running
