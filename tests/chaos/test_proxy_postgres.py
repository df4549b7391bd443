"""Real PostgreSQL through the fault proxy: psycopg sees the added latency and raises its real errors."""

from __future__ import annotations

import time

import psycopg
import pytest

from recoup.chaos.proxy import ProxyHandle, ProxyServer

PG = "127.0.0.1:5432"


def _url(proxy: ProxyHandle) -> str:
    return f"postgresql://postgres@127.0.0.1:{proxy.port}/test?connect_timeout=5"


def _select_one(conn: psycopg.Connection[tuple[int]]) -> float:
    started = time.perf_counter()
    row = conn.execute("SELECT 1").fetchone()
    assert row == (1,)
    return time.perf_counter() - started


def test_latency_adds_at_least_the_configured_delay_to_select_1(proxies: ProxyServer) -> None:
    pg = proxies.create_proxy("pg", upstream=PG)
    with psycopg.connect(_url(pg), autocommit=True) as conn:
        baseline = min(_select_one(conn) for _ in range(3))
        with pg.toxic("latency", latency=150, jitter=0):
            slowed = _select_one(conn)
        after = _select_one(conn)
    assert slowed >= 0.150
    assert slowed < 0.150 + 2.0  # generous: a loaded machine, never the point of the test
    assert after < 0.150 and baseline < 0.150  # removed on the live connection


def test_reset_peer_breaks_new_and_open_connections(proxies: ProxyServer) -> None:
    pg = proxies.create_proxy("pg", upstream=PG)
    with psycopg.connect(_url(pg), autocommit=True) as conn:
        _select_one(conn)
        pg.add_toxic("reset_peer", timeout=0)  # applies to the idle open connection at once
        with pytest.raises(psycopg.OperationalError):
            _select_one(conn)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_url(pg))
    pg.remove_toxic("reset_peer_downstream")
    with psycopg.connect(_url(pg), autocommit=True) as conn:
        _select_one(conn)


def test_down_refuses_connections_and_drops_open_ones(proxies: ProxyServer) -> None:
    pg = proxies.create_proxy("pg", upstream=PG)
    conn = psycopg.connect(_url(pg), autocommit=True)
    try:
        _select_one(conn)
        with pg.down():
            with pytest.raises(psycopg.OperationalError, match="refused"):
                psycopg.connect(_url(pg))
            with pytest.raises(psycopg.OperationalError):
                _select_one(conn)
    finally:
        conn.close()
    with psycopg.connect(_url(pg), autocommit=True) as again:  # same port once enabled
        _select_one(again)


def test_match_breaks_only_update_statements(proxies: ProxyServer) -> None:
    pg = proxies.create_proxy("pg", upstream=PG)
    pg.add_toxic("reset_peer", stream="upstream", match=r"(?i)\bUPDATE\b")
    with psycopg.connect(_url(pg), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE chaos_t (x int)")
        conn.execute("INSERT INTO chaos_t VALUES (1)")
        _select_one(conn)
        with pytest.raises(psycopg.OperationalError):
            conn.execute("UPDATE chaos_t SET x = 2")
    with psycopg.connect(_url(pg), autocommit=True) as conn:  # other connections and statements unaffected
        _select_one(conn)
        assert conn.execute("SELECT 'UPDATED' IS NOT NULL").fetchone() == (True,)  # \b: not the whole word
