"""Per-call overhead of recoup's policies beside tenacity, stamina, backoff, pybreaker and circuitbreaker.

Everything is measured side by side in one run on this machine: each wrapper's cost is the time of
a wrapped call minus the time of the bare call, taking the minimum over several repeats (the least
disturbed sample on a shared machine). Run: `.venv/bin/python benchmarks/overhead.py [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from typing import Any

import backoff
import circuitbreaker
import pybreaker
import stamina
import tenacity
from rich.console import Console
from rich.table import Table

import recoup
from recoup.policies.backoff import Backoff
from recoup.policies.bulkhead import Bulkhead

Sync = Callable[[int], int]


def _time_sync(fn: Sync, number: int, repeats: int) -> float:
    """Best-of-`repeats` seconds per call of `fn`."""
    best = float("inf")
    for _ in range(repeats):
        gc.disable()
        start = time.perf_counter()
        for i in range(number):
            fn(i)
        elapsed = time.perf_counter() - start
        gc.enable()
        best = min(best, elapsed / number)
    return best


def _time_async(fn: Callable[[int], Awaitable[int]], number: int, repeats: int) -> float:
    async def loop() -> float:
        best = float("inf")
        for _ in range(repeats):
            gc.disable()
            start = time.perf_counter()
            for i in range(number):
                await fn(i)
            elapsed = time.perf_counter() - start
            gc.enable()
            best = min(best, elapsed / number)
        return best

    return asyncio.run(loop())


def bare(x: int) -> int:
    return x


async def abare(x: int) -> int:
    return x


def happy_path_sync() -> dict[str, Sync]:
    def plain_wrapper(fn: Sync) -> Sync:
        def wrapper(*args: Any, **kwargs: Any) -> int:
            return fn(*args, **kwargs)

        return wrapper

    pipeline = recoup.Pipeline(
        recoup.Retry(attempts=3), recoup.CircuitBreaker("bench-pipeline"), Bulkhead(max_concurrent=10)
    )
    return {
        "bare wrapper (*args, **kwargs)": plain_wrapper(bare),
        "recoup retry": recoup.retry(attempts=3)(bare),
        "recoup breaker": recoup.CircuitBreaker("bench-breaker")(bare),
        "recoup retry+breaker+bulkhead": pipeline.wrap(bare),
        "tenacity retry": tenacity.retry(stop=tenacity.stop_after_attempt(3))(bare),
        "stamina retry": stamina.retry(on=Exception, attempts=3)(bare),
        "backoff retry": backoff.on_exception(backoff.expo, Exception, max_tries=3)(bare),
        "pybreaker breaker": pybreaker.CircuitBreaker()(bare),
        "circuitbreaker breaker": circuitbreaker.circuit(failure_threshold=5)(bare),
    }


def happy_path_async() -> dict[str, Callable[[int], Awaitable[int]]]:
    pipeline = recoup.Pipeline(
        recoup.Retry(attempts=3), recoup.CircuitBreaker("bench-apipeline"), Bulkhead(max_concurrent=10)
    )
    return {
        "recoup retry": recoup.retry(attempts=3)(abare),
        "recoup breaker": recoup.CircuitBreaker("bench-abreaker")(abare),
        "recoup retry+breaker+bulkhead": pipeline.wrap_async(abare),
        "tenacity retry": tenacity.retry(stop=tenacity.stop_after_attempt(3))(abare),
        "stamina retry": stamina.retry(on=Exception, attempts=3)(abare),
        "backoff retry": backoff.on_exception(backoff.expo, Exception, max_tries=3)(abare),
        "circuitbreaker breaker": circuitbreaker.circuit(failure_threshold=5)(abare),
    }


class Flaky:
    """Fails every other call with a real ConnectionRefusedError-like error, then succeeds."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: int) -> int:
        self.calls += 1
        if self.calls % 2:
            raise ConnectionRefusedError(111, "Connection refused")
        return x


def fail_then_succeed() -> dict[str, Sync]:
    flaky = Flaky()

    def hand_written(x: int) -> int:
        for attempt in range(3):
            try:
                return flaky(x)
            except ConnectionError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    zero = Backoff.constant(0.0)
    return {
        "hand-written loop": hand_written,
        "recoup retry": recoup.retry(attempts=3, backoff=zero)(Flaky()),
        "tenacity retry": tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_none())(Flaky()),
        "stamina retry": stamina.retry(
            on=ConnectionError, attempts=3, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0
        )(Flaky()),
        "backoff retry": backoff.on_exception(
            backoff.constant, ConnectionError, max_tries=3, interval=0, jitter=None, logger=None
        )(Flaky()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (noisier)")
    args = parser.parse_args()
    stamina.instrumentation.set_on_retry_hooks([])  # measure retrying, not stamina's log lines
    number, repeats = (20_000, 5) if args.quick else (200_000, 7)
    console = Console()

    base = _time_sync(bare, number, repeats)
    table = Table(title=f"Sync happy path: overhead over a bare call ({base * 1e9:.0f} ns), best of {repeats}")
    table.add_column("wrapper")
    table.add_column("overhead µs/call", justify="right")
    table.add_column("× recoup retry", justify="right")
    rows = {name: _time_sync(fn, number, repeats) - base for name, fn in happy_path_sync().items()}
    ref = max(rows["recoup retry"], 1e-9)
    for name, cost in rows.items():
        table.add_row(name, f"{cost * 1e6:.3f}", f"{cost / ref:.1f}")
    console.print(table)

    abase = _time_async(abare, number, repeats)
    atable = Table(title=f"Async happy path: overhead over awaiting a bare coroutine ({abase * 1e9:.0f} ns)")
    atable.add_column("wrapper")
    atable.add_column("overhead µs/call", justify="right")
    atable.add_column("× recoup retry", justify="right")
    arows = {name: _time_async(fn, number, repeats) - abase for name, fn in happy_path_async().items()}
    aref = max(arows["recoup retry"], 1e-9)
    for name, cost in arows.items():
        atable.add_row(name, f"{cost * 1e6:.3f}", f"{cost / aref:.1f}")
    console.print(atable)

    fnumber = max(number // 10, 2_000)
    frows = {name: _time_sync(fn, fnumber, repeats) for name, fn in fail_then_succeed().items()}
    hand = frows["hand-written loop"]
    ftable = Table(title="One fail-then-succeed call with zero wait (cost per call, and over a hand-written loop)")
    ftable.add_column("retry")
    ftable.add_column("µs/call", justify="right")
    ftable.add_column("over hand-written µs", justify="right")
    ftable.add_column("× recoup", justify="right")
    fref = max(frows["recoup retry"] - hand, 1e-9)
    for name, cost in frows.items():
        ftable.add_row(name, f"{cost * 1e6:.2f}", f"{(cost - hand) * 1e6:.2f}", f"{(cost - hand) / fref:.1f}")
    console.print(ftable)


if __name__ == "__main__":
    main()
