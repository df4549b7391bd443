"""Cost of recoup's in-process rule evaluation: µs per event and per observation through
`recoup.incidents.evaluator.Evaluator` with the shipped default rules, and ms per `tick()`.

The ingest path calls `Evaluator.observe` on every acknowledged batch (this is what makes detection
event-driven), so its cost is added to every event the server stores. A synthetic but realistic stream:
``--services`` services at 50 events/s of simulated time — half finished operations (2% gave up), a tenth
network errors, response times and memory gauges — turned into observations by `recoup.incidents.signals`
exactly as the server does, fed in batches of 1 and of 100, with a tick every simulated second. Simulated
time (an injected clock) keeps windows and alerts realistic without waiting.

    .venv/bin/python benchmarks/rule_eval.py                 # 200,000 events (about 67 minutes simulated)
    .venv/bin/python benchmarks/rule_eval.py --events 50000

There is no peer to compare with side by side: Prometheus evaluates rules on scraped series, a different
cost model (see benchmarks/detection.py for the latency comparison).
"""

from __future__ import annotations

import argparse
import random
import time

from recoup.errors.taxonomy import Category
from recoup.incidents.evaluator import Evaluator
from recoup.incidents.rules import default_rules
from recoup.incidents.signals import Observation, observe
from recoup.telemetry.events import ErrorEvent, MetricEvent, Outcome, RecoveryOutcomeEvent, TelemetryEvent


def stream(n: int, services: int, seed: int, start: float) -> list[tuple[float, list[Observation]]]:
    rng = random.Random(seed)
    names = [f"svc{i}" for i in range(services)]
    out = []
    for i in range(n):
        now = start + i * 0.02
        s = rng.choice(names)
        r = rng.random()
        event: TelemetryEvent
        if r < 0.5:
            outcome = Outcome.SUCCEEDED if rng.random() > 0.02 else Outcome.GAVE_UP
            event = RecoveryOutcomeEvent(operation="op", strategy="retry", outcome=outcome, timestamp=now,
                                         tags={"service": s})
        elif r < 0.6:
            event = ErrorEvent(exception_type="ConnectionError", message="refused", service=s,
                               category=Category.NETWORK, timestamp=now)
        elif r < 0.9:
            event = MetricEvent(name="response_time", value=rng.lognormvariate(-2, 1), service=s, timestamp=now)
        else:
            event = MetricEvent(name="memory_usage", value=0.5, service=s, timestamp=now)
        out.append((now, observe(event.to_dict(), project="1")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    clock = [1_700_000_000.0]
    events = stream(args.events, args.services, args.seed, clock[0])
    observations = sum(len(obs) for _, obs in events)
    print(f"{args.events} events ({observations} observations, {observations / args.events:.1f} per event), "
          f"{args.services} services, {len(default_rules().rules)} default rules")
    print(f"{'batch':>5} {'µs/event':>9} {'µs/observation':>15} {'ms/tick':>8} {'live alerts':>12}")
    for batch in (1, 100):
        clock[0] = events[0][0]
        evaluator = Evaluator(default_rules(), clock=lambda: clock[0])
        ticking = 0.0
        ticks = 0
        last_tick = events[0][0]
        started = time.perf_counter()
        for i in range(0, len(events), batch):
            chunk = events[i:i + batch]
            clock[0] = chunk[-1][0]
            evaluator.observe([o for _, obs in chunk for o in obs])
            if clock[0] - last_tick >= 1.0:
                t = time.perf_counter()
                evaluator.tick()
                ticking += time.perf_counter() - t
                ticks += 1
                last_tick = clock[0]
        observing = time.perf_counter() - started - ticking
        print(f"{batch:>5} {observing / args.events * 1e6:>9.1f} {observing / observations * 1e6:>15.2f} "
              f"{ticking / max(ticks, 1) * 1e3:>8.2f} {len(evaluator.alerts()):>12}")


if __name__ == "__main__":
    main()
