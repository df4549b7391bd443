"""Real Redis through the fault proxy: redis-py times out on a timeout toxic, limit_data cuts the reply."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from recoup.chaos.proxy import ProxyHandle, ProxyServer

pytestmark = pytest.mark.redis

REDIS = "127.0.0.1:6379"


@pytest.fixture
def key() -> Iterator[str]:
    name = f"recoup:chaos:{secrets.token_hex(6)}"
    direct = redis.Redis.from_url(f"redis://{REDIS}/0")
    direct.set(name, b"v" * 1000)
    yield name
    direct.delete(name)
    direct.close()


def _client(proxy: ProxyHandle) -> redis.Redis:
    # no client retries: the test is about what one request meets
    return redis.Redis(
        host="127.0.0.1", port=proxy.port, socket_timeout=0.3, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
    )


def test_timeout_toxic_makes_redis_py_time_out(proxies: ProxyServer, key: str) -> None:
    proxy = proxies.create_proxy("redis", upstream=REDIS)
    client = _client(proxy)
    assert client.get(key) == b"v" * 1000
    with proxy.toxic("timeout", timeout=0), pytest.raises(redis.exceptions.TimeoutError):
        client.get(key)
    client.close()
    fresh = _client(proxy)  # the toxic is gone: data flows again
    assert fresh.get(key) == b"v" * 1000
    fresh.close()


def test_timeout_toxic_closes_the_connection_after_its_timeout(proxies: ProxyServer, key: str) -> None:
    proxy = proxies.create_proxy("redis", upstream=REDIS)
    proxy.add_toxic("timeout", timeout=50)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(f"GET {key}\r\n".encode())
        assert sock.recv(100) == b""  # nothing came through, then the proxy closed the connection


def test_limit_data_closes_after_exactly_n_bytes(proxies: ProxyServer, key: str) -> None:
    proxy = proxies.create_proxy("redis", upstream=REDIS)
    proxy.add_toxic("limit_data", bytes=100)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(f"GET {key}\r\n".encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received == b"$1000\r\n" + b"v" * 93  # the first 100 bytes of the real reply, then EOF
    client = _client(proxy)
    with pytest.raises(redis.exceptions.ConnectionError):
        client.get(key)
    client.close()
