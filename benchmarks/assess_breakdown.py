"""Where the assessment's recovery time goes, for the old fixture and the new one, side by side.

Usage: .venv/bin/python benchmarks/assess_breakdown.py [--ops N] [--rounds R] [--telemetry embedded,process,none]

The load phase of `recoup assess` (same plan, seed and pipeline) runs once per fixture and telemetry setting,
interleaved round by round so machine noise hits all alike; each figure is the median over the rounds:

* fixtures: ``before`` (a `ThreadingHTTPServer` in this process, urllib calls in a 64-thread pool: the fixture
  the assessment used to have), ``process+urllib`` (the upstream in its own process, the same threaded client)
  and ``after`` (the upstream in its own process, aiohttp on the event loop: what `recoup assess` now runs);
* telemetry: ``embedded`` sends every policy event and error to an `EmbeddedServer` in this process (uvicorn
  in a thread, as `recoup assess` used to); ``process`` sends them to a `recoup serve` in a child process,
  which `recoup assess` now starts by default; ``none`` sends nothing (``--no-server``).

Columns: recovery time (first failure → success) mean/p50/p95/p99 and the planned faults' mean; healthy
operation latency p50/p99 (no fault, one attempt); throughput; event-loop lag (how late a 10 ms sleep woke
up); then, per recovered operation (means, ms), the breakdown: recoup's backoff waits, its waits for the
breaker, the overshoot of those waits (event-loop lag), time inside attempts (failed ones in brackets) and
the rest. Ratios are against ``before`` with the same telemetry setting, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time

from rich.console import Console
from rich.table import Table

from recoup.assess.plan import AssessConfig
from recoup.assess.report import summarise
from recoup.assess.runner import Fixture, RunResult, run_assessment

FIXTURES: dict[str, Fixture] = {
    "before": Fixture("thread", "urllib"),
    "process+urllib": Fixture("process", "urllib"),
    "after": Fixture("process", "aiohttp"),
}


def _run(config: AssessConfig, fixture: Fixture, telemetry: str) -> RunResult:
    if telemetry == "none":
        return asyncio.run(run_assessment(config, lambda _o: None, fixture=fixture))
    from recoup.assess.server_phase import ServerPhase, ServerPhaseConfig

    with contextlib.ExitStack() as stack:
        server = ServerPhaseConfig()  # process: ServerPhase starts `recoup serve` in a child process itself
        if telemetry == "embedded":  # uvicorn in a thread of this process, as `recoup assess` used to run it
            from recoup.server.embedded import EmbeddedServer

            embedded = stack.enter_context(EmbeddedServer())
            server = ServerPhaseConfig(url=embedded.url, admin_token=embedded.admin_token)
        phase = stack.enter_context(ServerPhase(server))
        result = asyncio.run(run_assessment(config, lambda _o: None, phase.record_error, fixture=fixture))
        phase.finish()
    return result


def _figures(result: RunResult) -> dict[str, float]:
    s = summarise(result)
    rt, pt, hl, lag = (s[k] for k in ("recovery_time_ms", "recovery_time_planned_faults_ms", "healthy_latency_ms",
                                      "event_loop_lag_ms"))
    b = s["recovery_breakdown"]
    return {
        "recovery": s["recovery_success_rate"] or 0.0, "fail_fast": s["fail_fast_rate"] or 0.0,
        "rt_mean": rt["mean"], "rt_p50": rt["p50"], "rt_p95": rt["p95"], "rt_p99": rt["p99"],
        "planned": float("nan") if pt["mean"] is None else pt["mean"],
        "healthy_p50": hl["p50"], "healthy_p99": hl["p99"], "throughput": s["throughput_ops_per_s"],
        "lag_mean": lag["mean"], "lag_p99": lag["p99"], "backoff": b["backoff_wait_ms"],
        "breaker": b["breaker_wait_ms"], "overshoot": b["wait_overshoot_ms"], "attempts": b["attempts_ms"],
        "failed": b["failed_attempts_ms"], "other": b["other_ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--telemetry", default="embedded,process,none",
                        help="comma-separated: embedded, process, none (default: all three)")
    args = parser.parse_args()
    if args.ops < 1 or args.rounds < 1:
        parser.error(f"--ops and --rounds must be at least 1, got {args.ops} and {args.rounds}")
    settings = [t.strip() for t in args.telemetry.split(",") if t.strip()]
    unknown = sorted(set(settings) - {"embedded", "process", "none"})
    if unknown or not settings:
        parser.error(f"--telemetry takes embedded, process and/or none, got {args.telemetry!r}")
    config = AssessConfig(ops=args.ops)
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    console = Console(width=230)
    for round_no in range(args.rounds):
        for telemetry in settings:
            for name, fixture in FIXTURES.items():
                started = time.monotonic()
                runs.setdefault((telemetry, name), []).append(_figures(_run(config, fixture, telemetry)))
                took = time.monotonic() - started
                console.print(f"round {round_no + 1}: {name}, telemetry {telemetry}: {took:.1f} s", style="dim")
    median = {key: {k: statistics.median(r[k] for r in rows) for k in rows[0]} for key, rows in runs.items()}
    _print(console, config, args.rounds, median)


Figures = dict[tuple[str, str], dict[str, float]]


def _print(console: Console, config: AssessConfig, rounds: int, median: Figures) -> None:
    table = Table(title=f"recoup assess load phase: {config.ops} ops at concurrency {config.concurrency}, "
                        f"median of {rounds} round(s)")
    for column in ("telemetry", "fixture", "recovered", "fail-fast", "recovery mean / p50 / p95 / p99 ms",
                   "planned mean", "healthy p50 / p99", "ops/s", "loop lag mean / p99",
                   "backoff | breaker | overshoot | attempts (failed) | other", "vs before: mean, healthy p50, ops/s"):
        table.add_column(column)
    for (telemetry, name), f in median.items():
        base = median[(telemetry, "before")]
        table.add_row(
            telemetry, name, f"{f['recovery'] * 100:.1f}%", f"{f['fail_fast'] * 100:.0f}%",
            f"{f['rt_mean']:.0f} / {f['rt_p50']:.0f} / {f['rt_p95']:.0f} / {f['rt_p99']:.0f}",
            f"{f['planned']:.0f}", f"{f['healthy_p50']:.1f} / {f['healthy_p99']:.1f}", f"{f['throughput']:.0f}",
            f"{f['lag_mean']:.1f} / {f['lag_p99']:.0f}",
            f"{f['backoff']:.0f} | {f['breaker']:.0f} | {f['overshoot']:.0f} | {f['attempts']:.0f} "
            f"({f['failed']:.0f}) | {f['other']:.0f}",
            f"{_ratio(f['rt_mean'], base['rt_mean'])}, {_ratio(f['healthy_p50'], base['healthy_p50'])}, "
            f"{_ratio(f['throughput'], base['throughput'])}",
        )
    console.print(table)


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "n/a"


if __name__ == "__main__":
    main()
