"""A real HTTP server and a TCP echo server behind the proxy: HTTP status faults, shaping, RST, truncation."""

from __future__ import annotations

import asyncio
import http.client
import random
import socket
import threading
import time

import pytest
from test_proxy_support import BIG_BODY, Upstream

from recoup.chaos.proxy import ProxyServer
from recoup.testing import FakeClock


def _recv_until_closed(sock: socket.socket) -> tuple[bytes, int]:
    """All bytes until EOF, and how many recv calls returned data."""
    data, calls = b"", 0
    while chunk := sock.recv(65536):
        data += chunk
        calls += 1
    return data, calls


def test_http_status_answers_matching_paths_and_passes_the_rest(proxies: ProxyServer, http_upstream: Upstream) -> None:
    proxy = proxies.create_proxy("web", upstream=http_upstream.address)
    proxy.add_toxic("http_status", stream="upstream", status=503, retry_after=7, path="/api/pay*", body="try later")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)  # one keep-alive connection
    try:
        conn.request("GET", "/api/pay?id=1")
        refused = conn.getresponse()
        assert (refused.status, refused.getheader("Retry-After"), refused.read()) == (503, "7", b"try later")
        conn.request("GET", "/api/orders")
        passed = conn.getresponse()
        assert (passed.status, passed.read()) == (200, b"ok GET /api/orders")
        conn.request("POST", "/api/pay", body=b"x" * 5000)  # its body is dropped, not leaked into the next request
        assert conn.getresponse().read() == b"try later"
        conn.request("POST", "/echo", body=b"after")
        assert conn.getresponse().read() == b"ok POST /echo"
    finally:
        conn.close()
    assert [(method, path) for method, path, _ in http_upstream.requests] == [
        ("GET", "/api/orders"),
        ("POST", "/echo"),
    ]  # the answered requests never reached the upstream


def test_http_status_with_content_match_and_method(proxies: ProxyServer, http_upstream: Upstream) -> None:
    proxy = proxies.create_proxy("web", upstream=http_upstream.address)
    proxy.add_toxic("http_status", stream="upstream", status=429, method="POST", match="card=4242")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    try:
        for body, expected in ((b"card=1111", 200), (b"card=4242", 429), (b"card=1111", 200)):
            conn.request("POST", "/pay", body=body)
            response = conn.getresponse()
            response.read()
            assert response.status == expected
    finally:
        conn.close()


def test_toxicity_is_drawn_once_per_connection_from_the_seeded_source(http_upstream: Upstream) -> None:
    with ProxyServer(rng=random.Random(11)) as server:
        proxy = server.create_proxy("web", upstream=http_upstream.address)
        proxy.add_toxic("http_status", stream="upstream", status=500, toxicity=0.5)
        statuses = []
        for _ in range(20):
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
            conn.request("GET", "/")
            first = conn.getresponse()
            first.read()
            conn.request("GET", "/")  # the same connection keeps its draw
            second = conn.getresponse()
            second.read()
            assert second.status == first.status
            statuses.append(first.status)
            conn.close()
    expected_rng = random.Random(11)
    assert statuses == [500 if expected_rng.random() < 0.5 else 200 for _ in range(20)]
    assert 0 < statuses.count(500) < 20


def test_bandwidth_schedule_for_a_200kb_body_on_the_injected_clock(http_upstream: Upstream) -> None:
    clock = FakeClock()
    with ProxyServer(clock=clock) as server:
        proxy = server.create_proxy("web", upstream=http_upstream.address)
        proxy.add_toxic("bandwidth", rate=100)  # 100 KB/s downstream
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            response, _ = _recv_until_closed(sock)
    assert response.endswith(BIG_BODY)
    # every byte waited its share at 100,000 bytes/s, in slices of at most 0.1 s worth
    assert clock.slept == pytest.approx(len(response) / 100_000)
    assert max(clock.sleeps) <= 0.1 + 1e-9 and len(clock.sleeps) >= 20


def test_bandwidth_really_throttles(proxies: ProxyServer, http_upstream: Upstream) -> None:
    proxy = proxies.create_proxy("web", upstream=http_upstream.address)
    proxy.add_toxic("bandwidth", rate=1000)  # 1 MB/s: 200 KB take >= 0.2 s
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        response, _ = _recv_until_closed(sock)
    assert response.endswith(BIG_BODY)
    assert time.perf_counter() - started >= 0.2


def test_slicer_delivers_in_pieces(proxies: ProxyServer, echo_upstream: Upstream) -> None:
    proxy = proxies.create_proxy("echo", upstream=echo_upstream.address)
    proxy.add_toxic("slicer", average_size=100, size_variation=20, delay=20_000)
    payload = bytes(range(256)) * 4  # 1024 bytes -> about 10 pieces 20 ms apart
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(payload)
        received, calls = b"", 0
        while len(received) < len(payload):
            chunk = sock.recv(65536)
            assert chunk, "closed early"
            received += chunk
            calls += 1
    assert received == payload
    assert calls >= 3  # one write would have arrived in one or two recvs


def test_slicer_schedule_on_the_injected_clock(echo_upstream: Upstream) -> None:
    clock = FakeClock()
    with ProxyServer(clock=clock, rng=random.Random(5)) as server:
        proxy = server.create_proxy("echo", upstream=echo_upstream.address)
        proxy.add_toxic("slicer", average_size=100, size_variation=0, delay=500)
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(b"a" * 1000)
            received = b""
            while len(received) < 1000:
                received += sock.recv(65536)
    assert received == b"a" * 1000
    assert clock.sleeps == [0.0005] * 10  # ten 100-byte pieces, 500 µs after each


def test_blackhole_hangs_until_the_client_times_out(proxies: ProxyServer, http_upstream: Upstream) -> None:
    proxy = proxies.create_proxy("web", upstream=http_upstream.address)
    proxy.add_toxic("blackhole", stream="upstream")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=0.3)
    try:
        conn.request("GET", "/anything")
        with pytest.raises(TimeoutError):
            conn.getresponse()
    finally:
        conn.close()
    assert http_upstream.requests == []  # the request was swallowed


def test_partial_write_truncates_a_chunk_then_closes(proxies: ProxyServer, echo_upstream: Upstream) -> None:
    proxy = proxies.create_proxy("echo", upstream=echo_upstream.address)
    proxy.add_toxic("partial_write", bytes=10)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"0123456789abcdefghij")
        received, _ = _recv_until_closed(sock)
    assert received == b"0123456789"


def test_reset_peer_sends_a_tcp_reset(proxies: ProxyServer, echo_upstream: Upstream) -> None:
    proxy = proxies.create_proxy("echo", upstream=echo_upstream.address)
    proxy.add_toxic("reset_peer", timeout=50)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"ping")
        assert sock.recv(4) == b"ping"  # data flows until the timeout
        with pytest.raises(ConnectionResetError):
            while sock.recv(100):
                pass


def test_slow_close_delays_the_close(proxies: ProxyServer, http_upstream: Upstream) -> None:
    proxy = proxies.create_proxy("web", upstream=http_upstream.address)
    proxy.add_toxic("slow_close", delay=300)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        first = sock.recv(65536)
        answered = time.perf_counter()
        rest, _ = _recv_until_closed(sock)
        closed = time.perf_counter()
    assert (first + rest).endswith(b"ok GET /small")
    assert closed - answered >= 0.25


def test_match_on_the_request_delays_only_its_response(proxies: ProxyServer, http_upstream: Upstream) -> None:
    proxy = proxies.create_proxy("web", upstream=http_upstream.address)
    # a downstream latency toxic conditional on the upstream bytes: only responses to /api/slow wait
    proxy.add_toxic("latency", latency=250, match=r"^GET /api/slow ", match_stream="upstream")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    try:
        timings: dict[str, list[float]] = {}
        for path in ("/api/fast", "/api/slow", "/api/fast"):
            started = time.perf_counter()
            conn.request("GET", path)
            assert conn.getresponse().read() == f"ok GET {path}".encode()
            timings.setdefault(path, []).append(time.perf_counter() - started)
    finally:
        conn.close()
    assert timings["/api/slow"][0] >= 0.25
    assert max(timings["/api/fast"]) < 0.25


@pytest.mark.parametrize("toxic", [None, "latency"], ids=["fast-path", "toxic-path"])
def test_bulk_transfers_in_parallel_arrive_intact(
    proxies: ProxyServer, echo_upstream: Upstream, toxic: str | None
) -> None:
    """8 MB echoed on each of 4 connections at once: flow control must neither lose, reorder nor stall."""
    proxy = proxies.create_proxy("echo", upstream=echo_upstream.address)
    if toxic is not None:
        proxy.add_toxic(toxic, latency=0)  # every chunk goes through the queued toxic path
    payload = bytes(range(251)) * (8_000_000 // 251)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=20) as sock:
                sender = threading.Thread(target=sock.sendall, args=(payload,))
                sender.start()
                received = bytearray()
                while len(received) < len(payload):
                    chunk = sock.recv(1 << 20)
                    assert chunk, f"closed after {len(received)} bytes"
                    received += chunk
                sender.join()
                assert received == payload
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=one) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []


def test_fault_proxy_on_the_callers_own_event_loop(echo_upstream: Upstream) -> None:
    """`FaultProxy` used directly from async code: start, a live toxic, disable, re-enable, stop."""
    from recoup.chaos.proxy import FaultProxy, Toxic

    async def scenario() -> None:
        async with FaultProxy("echo", upstream=echo_upstream.address) as proxy:
            host, port = proxy.listen_address.split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"hello")
            assert await reader.readexactly(5) == b"hello"
            proxy.add_toxic(Toxic.create("partial_write", bytes=2))
            writer.write(b"world")
            assert await reader.read() == b"wo"
            writer.close()
            await proxy.set_enabled(False)
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection(host, int(port))
            proxy.reset_toxics()
            await proxy.set_enabled(True)
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"again")
            assert await reader.readexactly(5) == b"again"
            writer.close()
            assert proxy.accepted == 2

    asyncio.run(scenario())
