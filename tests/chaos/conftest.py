"""Fixtures for the fault proxy tests: a started `ProxyServer`, and real upstreams on 127.0.0.1 (a threaded
HTTP/1.1 server and a TCP echo server, from test_proxy_support) that record what reaches them."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from test_proxy_support import Upstream, echo_server, http_server

from recoup.chaos.proxy import ProxyServer


@pytest.fixture
def proxies() -> Iterator[ProxyServer]:
    """A started proxy server with a seeded random source."""
    with ProxyServer(rng=random.Random(7)) as server:
        yield server


@pytest.fixture
def http_upstream() -> Iterator[Upstream]:
    with http_server() as upstream:
        yield upstream


@pytest.fixture
def echo_upstream() -> Iterator[Upstream]:
    with echo_server() as upstream:
        yield upstream
