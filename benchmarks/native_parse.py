"""Micro-benchmark of the native ingest route's CPU work per event, without HTTP or a database: decoding a
realistic ``{"events": [...]}`` body (`parse_json`), validating it into `NewEvent` values (`parse_batch`)
and enriching each error event with its category and fingerprint (`enrich`, as the pipeline's writer does).

Bodies come from `benchmarks/ingest_load.py`'s `NativePayloads` (what `HttpSink` sends: ErrorEvent dicts with
6-12 traceback frames drawn from a pool of realistic errors), a fresh body (new event ids) per round.
Enrichment is measured with warm caches (the steady state of a server that has seen the messages before),
on unseen variants (the same kinds of errors with other ids, hosts and values than those that warmed the
caches: what a server meets all day, and where a cache key that fails to mask what varies costs a
classification), and cold (caches cleared before every round: every message masked, classified and
fingerprinted anew).

    .venv/bin/python benchmarks/native_parse.py                # 250-event batches, best of 7 rounds of 40
    .venv/bin/python benchmarks/native_parse.py --batch 100 --rounds 5 --repeat 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_load import NativePayloads

from recoup.server import enrich as enrich_module
from recoup.server.routes.native import parse_batch, parse_json


def _clear_caches() -> None:
    for name in dir(enrich_module):
        cached = getattr(enrich_module, name)
        if callable(getattr(cached, "cache_clear", None)):
            cached.cache_clear()


def best_us_per_event(work: Callable[[], Any], events: int, rounds: int, repeat: int,
                      before: Callable[[], None] | None = None) -> tuple[float, float]:
    """(best, median) over ``rounds`` of the mean µs per event of ``repeat`` runs of ``work``."""
    results = []
    for _ in range(rounds):
        total = 0.0
        for _ in range(repeat):
            if before is not None:
                before()
            started = time.perf_counter()
            work()
            total += time.perf_counter() - started
        results.append(total / repeat / events * 1e6)
    return min(results), statistics.median(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args(argv)

    payloads = NativePayloads("bench-key", args.batch)
    bodies = [payloads.next().body for _ in range(args.repeat)]
    documents = [parse_json(body) for body in bodies]
    parsed = [parse_batch(document, args.batch) for document in documents]
    # other variants of the same errors: another seed, a pool as large as all the events measured
    fresh = NativePayloads("bench-key", args.batch, seed=99, pool=args.batch * args.repeat * args.rounds)
    unseen = []
    for start in range(0, len(fresh.pool), args.batch):  # each pool variant once
        parts = [head + fresh.ids.next() + tail for head, tail in fresh.pool[start:start + args.batch]]
        unseen.append(parse_batch(parse_json(('{"events":[' + ",".join(parts) + "]}").encode()), args.batch))
    index = {"i": 0}

    def nxt() -> int:
        index["i"] = (index["i"] + 1) % len(bodies)
        return index["i"]

    def decode() -> None:
        parse_json(bodies[nxt()])

    def validate() -> None:
        parse_batch(documents[nxt()], args.batch)

    def enrich_all() -> None:
        for event in parsed[nxt()]:
            enrich_module.enrich(event)

    def enrich_unseen() -> None:
        for event in unseen.pop():
            enrich_module.enrich(event)

    def everything() -> None:
        for event in parse_batch(parse_json(bodies[nxt()]), args.batch):
            enrich_module.enrich(event)

    for _ in range(2):  # warm the enrichment caches and the interpreter
        for events in parsed:
            for event in events:
                enrich_module.enrich(event)

    rows = [
        ("parse_json (body -> document)", decode, None),
        ("parse_batch (validate -> NewEvent)", validate, None),
        ("enrich, warm caches", enrich_all, None),
        ("enrich, unseen variants (warm caches)", enrich_unseen, None),
        ("enrich, cold caches", enrich_all, _clear_caches),
        ("total: parse_json + parse_batch + enrich (warm)", everything, None),
    ]
    print(f"batch of {args.batch} events, {len(bodies[0]) / args.batch:.0f} bytes/event; "
          f"best (median) of {args.rounds} rounds x {args.repeat} batches; Python {sys.version.split()[0]}")
    print(f"{'step':<50} {'µs/event':>10} {'median':>10}")
    for label, work, before in rows:
        best, median = best_us_per_event(work, args.batch, args.rounds, args.repeat, before)
        print(f"{label:<50} {best:>10.2f} {median:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
