"""A real HTTP server on 127.0.0.1 for the load tests, in its own process (see serve_http.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from load_server import LocalServer, running_server


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    with running_server() as server:
        yield server
