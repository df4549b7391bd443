"""Ingest-path cost of the incident recovery watch: `Evaluator.observe` alone vs the evaluator plus the
`RecoveryProbe` that re-checks firing rules over a short window, on the shipped rules and the same batches of
observations (from realistic events through `signals.observe`), side by side in one run.

Run: `.venv/bin/python benchmarks/recovery_watch.py` (prints µs per observation and the ratio; best of 3).
"""

from __future__ import annotations

import time
from typing import Any

from recoup.incidents.evaluator import Evaluator
from recoup.incidents.recovery_watch import RecoveryProbe
from recoup.incidents.rules import default_rules
from recoup.incidents.signals import Observation, observe

SERVICES = 20
EVENTS_PER_KIND = 200


class _Clock:
    """A clock the benchmark moves forward by one evaluation step per batch."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _batch(now: float) -> list[Observation]:
    events: list[dict[str, Any]] = []
    for i in range(EVENTS_PER_KIND):
        service = f"svc{i % SERVICES}"
        events += [
            {"type": "recovery_outcome", "outcome": "succeeded" if i % 10 else "failed", "service": service,
             "timestamp": now, "time_to_recover": 0.2},
            {"type": "error", "category": "service", "exception_type": "psycopg.OperationalError",
             "service": service, "timestamp": now},
            {"type": "metric", "name": "requests", "value": 1, "tags": {"status": "200"}, "service": service,
             "timestamp": now},
        ]
    return [o for e in events for o in observe(e, project="1")]


def _per_observation(with_probe: bool, rounds: int = 200) -> float:
    rules = default_rules()
    clock = _Clock()
    batch = _batch(clock.now)
    evaluator = Evaluator(rules, clock=clock)
    probe = RecoveryProbe(rules, 3.0, clock=clock) if with_probe else None
    started = time.perf_counter()
    for _ in range(rounds):
        clock.now += 0.05
        evaluator.observe(batch)
        if probe is not None:
            probe.observe(batch)
    return (time.perf_counter() - started) / (rounds * len(batch)) * 1e6


def main() -> None:
    alone = min(_per_observation(False) for _ in range(3))
    watched = min(_per_observation(True) for _ in range(3))
    print("| path | µs per observation |\n|---|---|")
    print(f"| evaluator only | {alone:.2f} |\n| evaluator + recovery probe | {watched:.2f} |")
    print(f"| ratio | {watched / alone:.2f}x |")


if __name__ == "__main__":
    main()
