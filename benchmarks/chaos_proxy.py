"""What the fault proxy costs with no toxics: added round-trip latency and bulk throughput, direct vs proxied.

Measured side by side in one run on 127.0.0.1: a small echo round trip, a bulk download from a byte source
and PostgreSQL ``SELECT 1``, each straight to the server, through a bare asyncio relay (the floor for any
asyncio proxy: no fault logic) and through `recoup.chaos.proxy`. toxiproxy itself has no package here, so
those two are the peers. The servers and the proxies run in their own processes so the client's timing
loop does not share a GIL with them.
Run: `.venv/bin/python benchmarks/chaos_proxy.py [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

PG = "127.0.0.1:5432"
ROUNDS = 10

# echo on one port, and a source on another: read an 8-byte length, send that many bytes
SERVERS = r"""
import json, socket, socketserver, sys, threading
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := sock.recv(65536):
            sock.sendall(data)
class Source(socketserver.BaseRequestHandler):
    def handle(self):
        size = int.from_bytes(self.request.recv(8), "big")
        block = b"x" * 262144
        while size > 0:
            self.request.sendall(block[: min(size, len(block))])
            size -= len(block)
class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
echo, source = Server(("127.0.0.1", 0), Echo), Server(("127.0.0.1", 0), Source)
for server in (echo, source):
    threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps({"echo": echo.server_address[1], "source": source.server_address[1]}), flush=True)
sys.stdin.read()
"""

PROXY = r"""
import json, sys
from recoup.chaos.proxy import ProxyServer
upstreams = json.loads(sys.argv[1])
with ProxyServer() as server:
    ports = {name: server.create_proxy(name, upstream=up).port for name, up in upstreams.items()}
    print(json.dumps(ports), flush=True)
    sys.stdin.read()
"""


# the floor for any asyncio proxy: bytes handed from one transport to the other, no fault logic at all
RELAY = r"""
import asyncio, json, sys

class Side(asyncio.Protocol):
    def __init__(self):
        self.peer, self.transport, self.pending = None, None, []
    def connection_made(self, transport):
        self.transport = transport
    def data_received(self, data):
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)
        else:
            self.pending.append(data)
    def pause_writing(self):
        self.peer.transport.pause_reading()
    def resume_writing(self):
        self.peer.transport.resume_reading()
    def eof_received(self):
        self.connection_lost(None)
    def connection_lost(self, exc):
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()

async def main():
    loop = asyncio.get_running_loop()
    ports = {}
    for name, upstream in json.loads(sys.argv[1]).items():
        host, port = upstream.rsplit(":", 1)
        def factory(host=host, port=int(port)):
            client = Side()
            async def connect():
                transport, server = await loop.create_connection(Side, host, port)
                client.peer, server.peer = server, client
                for data in client.pending:
                    transport.write(data)
            loop.create_task(connect())
            return client
        listener = await loop.create_server(factory, "127.0.0.1", 0)
        ports[name] = listener.sockets[0].getsockname()[1]
    print(json.dumps(ports), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


def _spawn(code: str, *args: str) -> tuple[subprocess.Popen[str], dict[str, int]]:
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def echo_round_trips(port: int, count: int) -> list[float]:
    payload = b"p" * 64
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        samples = []
        for _ in range(count + 20):
            started = time.perf_counter()
            sock.sendall(payload)
            got = 0
            while got < len(payload):
                got += len(sock.recv(65536))
            samples.append(time.perf_counter() - started)
    return samples[20:]  # warm-up dropped


def download_mb_s(port: int, size: int) -> float:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.perf_counter()
        sock.sendall(size.to_bytes(8, "big"))
        got = 0
        while got < size:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError(f"source closed after {got} of {size} bytes")
            got += len(chunk)
        return size / (time.perf_counter() - started) / 1e6


def pg_round_trips(port: int, count: int) -> list[float] | None:
    try:
        import psycopg
    except ImportError:
        return None
    try:
        conn = psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/test", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None
    with conn:
        samples = []
        for _ in range(count + 20):
            started = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            samples.append(time.perf_counter() - started)
    return samples[20:]


def _cell(samples: list[float]) -> str:
    p50, p99 = _percentiles(samples)
    return f"p50 {p50 * 1e6:.0f} / p99 {p99 * 1e6:.0f} µs"


def _ratio(samples: list[float], reference: list[float]) -> str:
    (p50, p99), (r50, r99) = _percentiles(samples), _percentiles(reference)
    return f"p50 ×{p50 / r50:.2f} / p99 ×{p99 / r99:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    args = parser.parse_args()
    trips, size, repeats = (300, 20_000_000, 2) if args.quick else (5000, 100_000_000, 5)

    servers, ports = _spawn(SERVERS)
    upstreams = {"echo": f"127.0.0.1:{ports['echo']}", "source": f"127.0.0.1:{ports['source']}", "pg": PG}
    proxy, proxied = _spawn(PROXY, json.dumps(upstreams))
    relay, relayed = _spawn(RELAY, json.dumps(upstreams))
    paths = {
        "direct": {"echo": ports["echo"], "source": ports["source"], "pg": int(PG.rpartition(":")[2])},
        "relay": relayed,
        "recoup": proxied,
    }
    rows: list[tuple[str, ...]] = []
    try:
        # the three paths are measured in alternating batches, so all see the same machine load
        latency_rows: list[tuple[str, str, Callable[[int, int], list[float] | None], int]] = [
            ("echo 64 B round trip", "echo", echo_round_trips, trips),
            ("PostgreSQL SELECT 1", "pg", pg_round_trips, trips // 3),
        ]
        for label, key, measure, count in latency_rows:
            samples: dict[str, list[float]] = {path: [] for path in paths}
            reachable = True
            for _ in range(ROUNDS):
                for path, path_ports in paths.items():
                    batch = measure(path_ports[key], count // ROUNDS)
                    if batch is None:
                        reachable = False
                        break
                    samples[path] += batch
            if not reachable:
                rows.append((label, "-", "-", "-", "-", "PostgreSQL not reachable"))
                continue
            added = statistics.median(samples["recoup"]) - statistics.median(samples["direct"])
            rows.append(
                (
                    label,
                    _cell(samples["direct"]),
                    _cell(samples["relay"]),
                    _cell(samples["recoup"]),
                    _ratio(samples["recoup"], samples["direct"]),
                    _ratio(samples["recoup"], samples["relay"]),
                    f"{added * 1e6:+.0f} µs at p50; {len(samples['direct'])} each",
                )
            )
        best = dict.fromkeys(paths, 0.0)
        for _ in range(repeats):
            for path, path_ports in paths.items():
                best[path] = max(best[path], download_mb_s(path_ports["source"], size))
        rows.append(
            (
                f"bulk download {size // 1_000_000} MB",
                f"{best['direct']:,.0f} MB/s",
                f"{best['relay']:,.0f} MB/s",
                f"{best['recoup']:,.0f} MB/s",
                f"×{best['recoup'] / best['direct']:.2f}",
                f"×{best['recoup'] / best['relay']:.2f}",
                f"best of {repeats}",
            )
        )
    finally:
        for process in (proxy, relay, servers):
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=10)

    table = Table(title="recoup fault proxy (no toxics) vs a direct connection and a bare asyncio relay, 127.0.0.1")
    for column in ("what", "direct", "bare asyncio relay", "recoup proxy", "recoup ÷ direct", "recoup ÷ relay", "note"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(width=170).print(table)
    summary: dict[str, Any] = {"rows": rows}
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
