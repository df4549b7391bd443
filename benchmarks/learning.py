"""Does strategy learning pay? Recovery success and time to recover, default strategy vs the learner.

A real HTTP server on 127.0.0.1 (stdlib ``http.server`` in a thread) serves three kinds of fault, one
error fingerprint each, and a secondary endpoint (a far replica: always up, ~30 ms away):

* ``overloaded``: the primary answers 503 with ``Retry-After: 0.4`` for the first 0.4 s of an
  operation (fractional seconds, which recoup parses; real servers send whole seconds);
* ``slow``: the primary is degraded and answers after 200 ms, past the client's 50 ms timeout;
* ``flaky``: the primary drops one request with a 502, then answers at once.

Every operation's first call to the primary fails; the error is classified (`recoup.errors.classify`)
and recovered with one of three strategies built from recoup's real policies (default first):

* ``retry-fast``: `Retry` (3 attempts, exponential backoff from 20 ms, Retry-After ignored);
* ``wait-retry-after``: wait as the pure `Backoff` says (it honours Retry-After), then `Retry`;
* ``fallback-secondary``: `Fallback` substituting the secondary endpoint's answer.

The default is right for ``flaky`` and wrong for the other two. The same operation sequence runs
twice: with the default strategy only, then with a `Learner` (SQLite store in a temp dir, ε = 0.1,
failure penalty 0.5 s, about what the retry strategies spend before giving up) choosing per
fingerprint. Time to recover counts from the first failure to the
answer. The table shows, per fingerprint, success and mean/p95 time to recover for the default, for
the learner overall, and for the learner's first and last N operations (the learning curve); then the
learner's own statistics, and a restart check (a new `Learner` on the same file chooses the same).
Run: `.venv/bin/python benchmarks/learning.py [--ops 150] [--seed 7] [--exploration 0.1]` (about 25 s).
"""

from __future__ import annotations

import argparse
import http.server
import random
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from recoup.errors import classify
from recoup.errors.taxonomy import Category
from recoup.policies.backoff import Backoff
from recoup.policies.fallback import Fallback
from recoup.policies.retry import Retry
from recoup.recovery.learning import Learner, SQLiteLearningStore

HOLD = 0.4  # seconds the overloaded primary refuses an operation, announced in Retry-After
SLOW = 0.2  # seconds the degraded primary takes to answer
CLIENT_TIMEOUT = 0.05
SECONDARY_LATENCY = 0.03
KINDS = ("overloaded", "slow", "flaky")
CANDIDATES = ("retry-fast", "wait-retry-after", "fallback-secondary")
FAILURE_PENALTY = 0.5


class _State:
    """What the server remembers per operation id: when it first saw it and how often."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.first_seen: dict[str, float] = {}
        self.hits: dict[str, int] = {}

    def seen(self, op: str) -> tuple[float, int]:
        with self.lock:
            now = time.monotonic()
            first = self.first_seen.setdefault(op, now)
            self.hits[op] = self.hits.get(op, 0) + 1
            return now - first, self.hits[op]


STATE = _State()


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _send(self, code: int, body: bytes = b"ok", headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass

    def do_GET(self) -> None:
        _, role, kind, op = self.path.split("/", 3)
        if role == "secondary":
            time.sleep(SECONDARY_LATENCY)
            return self._send(200, b"from secondary")
        age, hits = STATE.seen(f"{kind}/{op}")
        if kind == "overloaded" and age < HOLD:
            return self._send(503, b"overloaded", {"Retry-After": f"{HOLD - age:.2f}"})
        if kind == "slow":
            time.sleep(SLOW)
            return self._send(200)
        if kind == "flaky" and hits == 1:
            return self._send(502, b"bad gateway")
        return self._send(200)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=CLIENT_TIMEOUT) as resp:
        body: bytes = resp.read()
        return body


# -- the strategies: recoup's real policies, run after the first failure -----------------------------

Strategy = Callable[[str, str, BaseException], bytes]


def _retry_fast(primary: str, secondary: str, first: BaseException) -> bytes:
    backoff = Backoff.exponential(0.02, cap=0.1, honor_retry_after=False)
    return Retry(attempts=3, backoff=backoff, on=Exception).call(_get, primary)


def _wait_retry_after(primary: str, secondary: str, first: BaseException) -> bytes:
    backoff = Backoff.constant(0.05, honor_retry_after=True, max_retry_after=2.0)
    time.sleep(backoff.delay(1, None, first))  # the pure policy reads the server's Retry-After
    return Retry(attempts=3, backoff=backoff, on=Exception).call(_get, primary)


def _fallback_secondary(primary: str, secondary: str, first: BaseException) -> bytes:
    use, value = Fallback(function=lambda exc: _get(secondary)).substitute(first)
    if not use:
        raise first
    return bytes(value)


STRATEGIES: dict[str, Strategy] = {
    "retry-fast": _retry_fast,
    "wait-retry-after": _wait_retry_after,
    "fallback-secondary": _fallback_secondary,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str
    fingerprint: str
    strategy: str
    success: bool
    seconds: float


def run_op(base: str, kind: str, op: str, choose: Callable[[str, Category], str]) -> tuple[Outcome, Category]:
    primary = f"{base}/primary/{kind}/{op}"
    secondary = f"{base}/secondary/{kind}/{op}"
    try:
        _get(primary)
    except Exception as exc:
        started = time.monotonic()
        cls = classify(exc)
        strategy = choose(cls.fingerprint, cls.category)
        try:
            STRATEGIES[strategy](primary, secondary, exc)
            ok = True
        except Exception:
            ok = False
        return Outcome(kind, cls.fingerprint, strategy, ok, time.monotonic() - started), cls.category
    raise RuntimeError(f"{kind}: the primary did not fail on its first call")


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summary(outcomes: list[Outcome]) -> tuple[str, str, str, str]:
    """(n, success %, mean TTR ms, p95 TTR ms); time to recover over the recovered operations."""
    if not outcomes:
        return ("0", "-", "-", "-")
    ttr = [o.seconds for o in outcomes if o.success]
    rate = 100.0 * len(ttr) / len(outcomes)
    if not ttr:
        return (str(len(outcomes)), f"{rate:.0f}%", "-", "-")
    return (str(len(outcomes)), f"{rate:.0f}%", f"{1000 * statistics.fmean(ttr):.0f}", f"{1000 * p95(ttr):.0f}")


def overhead(calls: int = 3000) -> tuple[float, float]:
    """Mean µs per `record` and per `choose` against a SQLite store holding 300 fingerprints."""
    with tempfile.TemporaryDirectory() as tmp:
        learner = Learner(SQLiteLearningStore(Path(tmp) / "overhead.db"), rng_seed=1)
        rng = random.Random(1)
        fps = [f"fp{i}" for i in range(300)]
        t0 = time.perf_counter()
        for i in range(calls):
            learner.record(fps[i % 300], Category.SERVICE, rng.choice(CANDIDATES), success=rng.random() < 0.7,
                           attempts=2, seconds=rng.random())
        t1 = time.perf_counter()
        for i in range(calls):
            learner.choose(fps[i % 300], Category.SERVICE, CANDIDATES)
        t2 = time.perf_counter()
        learner.close()
    return 1e6 * (t1 - t0) / calls, 1e6 * (t2 - t1) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=150, help="operations per run (a random mix of the kinds)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--exploration", type=float, default=0.1, help="the learner's exploration rate ε")
    parser.add_argument("--window", type=int, default=15, help="N of the first/last-N learning curve, per kind")
    args = parser.parse_args()
    console = Console()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    mix = random.Random(args.seed)
    sequence = [mix.choice(KINDS) for _ in range(args.ops)]
    started = time.monotonic()

    default_runs = [run_op(base, k, f"d{i}", lambda fp, cat: CANDIDATES[0])[0] for i, k in enumerate(sequence)]

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "learning.db"
        learner = Learner(
            SQLiteLearningStore(db), rng_seed=args.seed, exploration=args.exploration, failure_penalty=FAILURE_PENALTY
        )
        learned_runs: list[Outcome] = []
        categories: dict[str, Category] = {}
        for i, kind in enumerate(sequence):
            outcome, cat = run_op(base, kind, f"l{i}", lambda fp, cat: learner.choose(fp, cat, CANDIDATES))
            learner.record(
                outcome.fingerprint, cat, outcome.strategy, success=outcome.success, attempts=1,
                seconds=outcome.seconds,
            )
            learned_runs.append(outcome)
            categories[outcome.fingerprint] = cat
        learner.close()
        restarted = Learner(SQLiteLearningStore(db), failure_penalty=FAILURE_PENALTY)
        picks = {fp: (learner.best(fp, cat, CANDIDATES), restarted.best(fp, cat, CANDIDATES))
                 for fp, cat in categories.items()}
        rows = restarted.table()
        restarted.close()
    elapsed = time.monotonic() - started
    server.shutdown()
    record_us, choose_us = overhead()

    n = args.window
    table = Table(title=f"Recovery per fingerprint: default strategy vs learner ({args.ops} ops, seed {args.seed})")
    for col in ("fault (fingerprint)", "run", "ops", "recovered", "mean TTR ms", "p95 TTR ms", "learner's pick"):
        table.add_column(col, justify="left" if col in ("fault (fingerprint)", "run", "learner's pick") else "right")
    for kind in (*KINDS, "all"):
        d = [o for o in default_runs if kind in ("all", o.kind)]
        lr = [o for o in learned_runs if kind in ("all", o.kind)]
        fps = sorted({o.fingerprint for o in lr})
        label = "all" if kind == "all" else f"{kind} ({', '.join(fp[:8] for fp in fps)})"
        pick = "" if kind == "all" else ", ".join(picks[fp][0] for fp in fps)
        table.add_row(label, f"default only ({CANDIDATES[0]})", *summary(d), "")
        table.add_row("", "learner: overall", *summary(lr), pick)
        table.add_row("", f"learner: first {n}", *summary(lr[:n]), "")
        table.add_row("", f"learner: last {n}", *summary(lr[-n:]), "", end_section=True)
    console.print(table)

    stats = Table(title="Learner statistics after the run (read back from the SQLite file by a new Learner)")
    for col in ("fingerprint", "category", "strategy", "trials", "success", "mean TTR ms", "expected cost s"):
        stats.add_column(col, justify="left" if col in ("fingerprint", "category", "strategy") else "right")
    for r in rows:
        kind = next(o.kind for o in learned_runs if o.fingerprint == r.fingerprint)
        ttr = "-" if r.mean_seconds_to_recover is None else f"{1000 * r.mean_seconds_to_recover:.0f}"
        stats.add_row(f"{r.fingerprint[:8]} ({kind})", r.category.value, r.strategy, str(r.trials),
                      f"{100 * r.success_rate:.0f}%", ttr, f"{r.expected_cost:.3f}")
    console.print(stats)
    same = all(a == b for a, b in picks.values())
    console.print(f"restart: a new Learner on the same file picks the same best strategy per fingerprint: {same}")
    console.print(
        f"learner overhead on the failure path (SQLite store, {len(CANDIDATES)} candidates, 300 fingerprints): "
        f"record {record_us:.0f} µs, choose {choose_us:.0f} µs (mean per call)"
    )
    console.print(f"wall time {elapsed:.1f} s; TTR = time from the first failure to the answer (recovered ops only)")


if __name__ == "__main__":
    main()
