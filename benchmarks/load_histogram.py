"""Load runner measurements: histogram cost and accuracy beside its peers, and the runner's top rate.

Usage: .venv/bin/python benchmarks/load_histogram.py [--values N] [--repeat N] [--seconds S] [--rates R,R,..]
       [--skip-runner]

1. Recording cost per value (ns, CPU time, best of --repeat interleaved passes) of
     recoup      recoup.load.Histogram.record (1 µs .. 1 h, 3 significant digits)
     hdrh        hdrhistogram's HdrHistogram.record_value (same range and digits)
     locust      locust's way: round the time in ms to about 2 significant digits (below 100 ms: to the
                 ms; then to 10, 100, 1000 ms) and count it in a dict (restated here, locust not imported)
2. Percentile error of each on a heavy-tailed latency sample (log-normal body, Pareto tail; in ms) against
   the exact nearest-rank percentiles of the raw values: the largest relative error at p50..p99.99.
3. The runner's max sustained constant rate against a no-op HTTP server in its own process (this file
   with --serve), for the aiohttp client (the default) and httpx: a rate is sustained when every due operation
   ran (no drops), 99% completed, throughput reached 95% of it and p99 latency, counted from the intended
   start, stayed under 50 ms. Beside it, the most a bare closed loop of httpx calls achieves flat out
   (best of 1, 10 and 50 concurrent tasks: httpcore's pool rescans every connection, with a syscall each,
   for every queued request, so it slows down as connections are added), and recoup's closed loop of 50
   users on the aiohttp client, flat out. benchmarks/load_clients.py compares the clients in more detail.
The machine is shared: rates are the best of what one run saw, not a property of the code alone.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import subprocess
import sys
import time
from collections.abc import Callable

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]
from rich.console import Console
from rich.table import Table

from recoup.load import ClosedModel, HttpTarget, OpenModel, run_load
from recoup.load.histogram import Histogram

HIGHEST_US = 3_600_000_000
PERCENTILES = (50.0, 90.0, 99.0, 99.9, 99.99)


def heavy_tailed_ms(n: int, seed: int = 1) -> list[float]:
    """Latencies in ms: 97% log-normal around 20 ms, 3% Pareto tail from 200 ms (seconds-long stalls)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() < 0.97:
            out.append(rng.lognormvariate(math.log(20), 0.8))
        else:
            out.append(min(200 * rng.paretovariate(1.5), 3_000_000.0))
    return out


def locust_round(ms: float) -> float:
    """locust's stored value: to the ms below 100 ms, then to 10 ms, 100 ms and 1 s."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return round(ms, -1)
    if ms < 10000:
        return round(ms, -2)
    return round(ms, -3)


def locust_percentile(counts: dict[float, int], total: int, percent: float) -> float:
    """locust's rule: walk the rounded values from the top until no more than ``percent`` of all are left."""
    allowed_below = int(total * percent / 100)
    seen = 0
    for value in sorted(counts, reverse=True):
        seen += counts[value]
        if total - seen <= allowed_below:
            return value
    return 0.0


def exact_percentile(sorted_values: list[float], percent: float) -> float:
    rank = max(math.ceil(percent * len(sorted_values) / 100 - 1e-9), 1)  # 99.9/100*n must not round up
    return sorted_values[rank - 1]


def record_costs(values_ms: list[float], repeat: int) -> dict[str, float]:
    """ns per recorded value, best of ``repeat`` interleaved passes (process CPU time)."""
    micros = [min(round(v * 1000), HIGHEST_US) for v in values_ms]

    def ours() -> None:
        hist = Histogram(1, HIGHEST_US, 3)
        record = hist.record
        for v in micros:
            record(v)

    def hdrh() -> None:
        hist = HdrHistogram(1, HIGHEST_US, 3)
        record = hist.record_value
        for v in micros:
            record(v)

    def locust() -> None:
        counts: dict[float, int] = {}
        for v in values_ms:
            key = locust_round(v)
            counts[key] = counts.get(key, 0) + 1

    def loop_only() -> None:  # the cost of the for loop itself, subtracted from none, shown for scale
        for _v in micros:
            pass

    contenders: dict[str, Callable[[], None]] = {"recoup": ours, "hdrh": hdrh, "locust": locust,
                                                  "(empty loop)": loop_only}
    best = {name: math.inf for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            start = time.process_time_ns()
            fn()
            best[name] = min(best[name], (time.process_time_ns() - start) / len(micros))
    return best


def percentile_errors(values_ms: list[float]) -> dict[str, dict[float, float]]:
    """Relative error of each approach at each percentile (0.01 = 1 %)."""
    exact = sorted(values_ms)
    ours, hdrh = Histogram(1, HIGHEST_US, 3), HdrHistogram(1, HIGHEST_US, 3)
    counts: dict[float, int] = {}
    for v in values_ms:
        us = min(round(v * 1000), HIGHEST_US)
        ours.record(us)
        hdrh.record_value(us)
        key = locust_round(v)
        counts[key] = counts.get(key, 0) + 1
    errors: dict[str, dict[float, float]] = {"recoup": {}, "hdrh": {}, "locust": {}}
    for p in PERCENTILES:
        truth = exact_percentile(exact, p)
        errors["recoup"][p] = abs(ours.percentile(p) / 1000 - truth) / truth
        errors["hdrh"][p] = abs(hdrh.get_value_at_percentile(p) / 1000 - truth) / truth
        errors["locust"][p] = abs(locust_percentile(counts, len(values_ms), p) - truth) / truth
    return errors


# -- the runner against a local no-op server ------------------------------------------------------------


async def _serve() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def sustained(client: str, url: str, rate: float, seconds: float) -> dict[str, float | bool]:
    result = run_load(HttpTarget(url, client=client), OpenModel.constant(rate, seconds), max_in_flight=1000,
                      op_timeout=10.0)
    ok = (result.dropped == 0 and result.completed >= 0.99 * result.scheduled
          and result.throughput >= 0.95 * rate and result.latency(99) < 0.050 and result.errors == 0)
    return {"rate": rate, "throughput": result.throughput, "p50": result.latency(50), "p99": result.latency(99),
            "lag": result.max_start_lag, "dropped": result.dropped, "sustained": ok}


async def bare_httpx_loop(url: str, seconds: float, tasks: int = 50) -> float:
    import httpx

    done = 0
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=tasks)) as client:
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                response = await client.get(url)
                response.raise_for_status()
                done += 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        return done / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rates", default="50,100,250,500,1000,2000,3000,4000,6000")
    parser.add_argument("--skip-runner", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve())
        return
    console = Console(width=120)
    values = heavy_tailed_ms(args.values)

    costs = record_costs(values, args.repeat)
    table = Table(title=f"record cost per value ({args.values} values, best of {args.repeat}, CPU time)")
    for col in ("histogram", "ns/value", "vs recoup"):
        table.add_column(col, justify="right" if col != "histogram" else "left")
    for name, ns in costs.items():
        table.add_row(name, f"{ns:.0f}", f"{ns / costs['recoup']:.2f}x")
    console.print(table)

    errors = percentile_errors(values)
    table = Table(title="relative percentile error on a heavy-tailed sample (vs exact nearest-rank)")
    table.add_column("histogram")
    for p in PERCENTILES:
        table.add_column(f"p{p:g}", justify="right")
    table.add_column("worst", justify="right")
    for name, by_p in errors.items():
        table.add_row(name, *(f"{by_p[p] * 100:.3f}%" for p in PERCENTILES), f"{max(by_p.values()) * 100:.3f}%")
    console.print(table)

    if args.skip_runner:
        return
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}/"
        rates = [float(r) for r in args.rates.split(",")]
        table = Table(title=f"constant-rate runs against a local no-op HTTP server ({args.seconds:g} s each)")
        for col in ("client", "rate/s", "achieved/s", "p50", "p99", "max start lag", "dropped", "sustained"):
            table.add_column(col, justify="left" if col == "client" else "right")
        best: dict[str, float] = {}
        for client in ("aiohttp", "httpx"):
            for rate in rates:
                row = sustained(client, url, rate, args.seconds)
                table.add_row(client, f"{rate:g}", f"{row['throughput']:.0f}", f"{row['p50'] * 1000:.3g} ms",
                              f"{row['p99'] * 1000:.3g} ms", f"{row['lag'] * 1000:.3g} ms", f"{row['dropped']:g}",
                              "yes" if row["sustained"] else "no")
                if row["sustained"]:
                    best[client] = max(best.get(client, 0.0), rate)
                else:
                    break  # higher rates will not be sustained either
        console.print(table)
        closed = run_load(HttpTarget(url), ClosedModel(vus=50, duration=args.seconds), op_timeout=10.0)
        bare_by_tasks = {tasks: asyncio.run(bare_httpx_loop(url, args.seconds, tasks)) for tasks in (1, 10, 50)}
        bare_tasks = max(bare_by_tasks, key=lambda t: bare_by_tasks[t])
        bare = bare_by_tasks[bare_tasks]
        table = Table(title="max sustained constant rate (open model, p99 < 50 ms from intended start)")
        for col in ("runner", "ops/s", "vs best bare httpx loop"):
            table.add_column(col, justify="left" if col == "runner" else "right")
        for client in ("aiohttp", "httpx"):
            top = best.get(client, 0.0)
            table.add_row(f"recoup load, {client} client", f"{top:g}", f"{top / bare:.2f}x")
        table.add_row("recoup load --vus 50 (aiohttp client, closed loop, flat out)", f"{closed.throughput:.0f}",
                      f"{closed.throughput / bare:.2f}x")
        for tasks, per_second in bare_by_tasks.items():
            table.add_row(f"bare httpx closed loop, {tasks} task(s), flat out", f"{per_second:.0f}",
                          f"{per_second / bare:.2f}x")
        console.print(table)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
