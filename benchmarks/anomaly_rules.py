"""Cost of the sampled alert rules: `Evaluator.tick` per label group for a plain threshold rule, an anomaly
rule (`type: anomaly`) and a threshold rule with a `forecast`, every group sampled on every tick (interval 1s,
the worst case; the default interval is 1m), and the memory each group holds once the detector is full.

Each group is one `resource_usage` gauge reported once per (fake-clock) second with Gaussian noise. Only
`tick()` is timed. Memory is `tracemalloc` after the run divided by the groups (a separate run, since
tracing slows everything). There is no peer: Prometheus has no streaming detector to compare against.
Run: `.venv/bin/python benchmarks/anomaly_rules.py [--ticks N] [--memory-ticks N]`
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from typing import Any

from recoup.incidents.evaluator import Evaluator
from recoup.incidents.rules import parse_rules
from recoup.incidents.signals import Observation


def _rule(kind: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": "R", "metric": "resource_usage", "aggregation": "last", "window": "1m"}
    if kind == "anomaly":
        return rule | {"type": "anomaly", "anomaly": {"interval": "1s"}}
    rule |= {"op": ">", "threshold": 0.9}
    if kind == "forecast":
        rule["forecast"] = {"horizon": "15m", "interval": "1s"}
    return rule


def run(kind: str, groups: int, ticks: int, trace: bool) -> tuple[float, float]:
    """(seconds per tick, bytes per group after the run; 0 unless traced)."""
    now = [1e6]
    ev = Evaluator(parse_rules({"rules": [_rule(kind)]}), clock=lambda: now[0])
    rng = random.Random(0)
    labels = [(("project", "p"), ("resource", "memory"), ("service", f"s{g}")) for g in range(groups)]
    if trace:
        tracemalloc.start()
    spent = 0.0
    for _ in range(ticks):
        now[0] += 1.0
        ev.observe([Observation("resource_usage", 0.5 + rng.gauss(0.0, 0.02), lab, now[0]) for lab in labels])
        start = time.perf_counter()
        ev.tick()
        spent += time.perf_counter() - start
    memory = tracemalloc.get_traced_memory()[0] if trace else 0
    if trace:
        tracemalloc.stop()
    return spent / ticks, memory / groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=300)
    parser.add_argument("--memory-ticks", type=int, default=1500, help="ticks before measuring memory (the "
                        "default anomaly memory is 1440 samples)")
    args = parser.parse_args()
    print(f"{'rule':<10}{'groups':>8}{'ticks':>7}{'ms/tick':>10}{'us/group':>10}{'x threshold':>13}")
    for groups in (100, 1000):
        base = 0.0
        for kind in ("threshold", "anomaly", "forecast"):
            per_tick, _ = run(kind, groups, args.ticks, trace=False)
            base = base or per_tick
            print(f"{kind:<10}{groups:>8}{args.ticks:>7}{per_tick * 1e3:>10.2f}{per_tick / groups * 1e6:>10.1f}"
                  f"{per_tick / base:>13.2f}")
    print(f"\n{'rule':<10}{'groups':>8}{'ticks':>7}{'KiB/group':>11}")
    for kind in ("threshold", "anomaly", "forecast"):
        _, per_group = run(kind, 100, args.memory_ticks, trace=True)
        print(f"{kind:<10}{100:>8}{args.memory_ticks:>7}{per_group / 1024:>11.1f}")


if __name__ == "__main__":
    main()
