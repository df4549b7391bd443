"""Strategy learning: convergence, exploration rate, persistence, hierarchy, threads, input checks."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from recoup.errors.taxonomy import Category
from recoup.recovery.learning import (
    SCHEMA_VERSION,
    Learner,
    MemoryLearningStore,
    SQLiteLearningStore,
)
from recoup.recovery.protocols import Learner as LearnerProtocol

SERVICE = Category.SERVICE
CANDIDATES = ("retry", "fallback", "wait")

# (success probability, seconds on success, seconds on failure) per strategy, per fingerprint.
WORLD: dict[str, dict[str, tuple[float, float, float]]] = {
    # overloaded: the default (retry) mostly fails; falling back is fast and sure.
    "fp-overloaded": {"retry": (0.2, 0.3, 0.4), "fallback": (0.97, 0.05, 0.1), "wait": (0.95, 1.0, 1.2)},
    # flaky: the default is right.
    "fp-flaky": {"retry": (0.98, 0.02, 0.3), "fallback": (0.9, 0.3, 0.3), "wait": (0.98, 0.5, 0.6)},
}


def simulate(learner: Learner, rounds: int, seed: int = 0) -> dict[str, list[str]]:
    """Feed the learner a mix of the two fingerprints; return its choices per fingerprint, in order."""
    rng = random.Random(seed)
    chosen: dict[str, list[str]] = {fp: [] for fp in WORLD}
    for _ in range(rounds):
        fp = rng.choice(sorted(WORLD))
        strategy = learner.choose(fp, SERVICE, CANDIDATES)
        p, t_ok, t_fail = WORLD[fp][strategy]
        ok = rng.random() < p
        seconds = (t_ok if ok else t_fail) * rng.uniform(0.8, 1.2)
        learner.record(fp, SERVICE, strategy, success=ok, attempts=2 if ok else 3, seconds=seconds)
        chosen[fp].append(strategy)
    return chosen


def test_satisfies_the_engine_protocol() -> None:
    assert isinstance(Learner(), LearnerProtocol)


def test_no_data_returns_the_default_candidate() -> None:
    learner = Learner(rng_seed=1, exploration=0.5)
    assert all(learner.choose("fp", SERVICE, CANDIDATES) == "retry" for _ in range(50))
    assert learner.choose("fp", SERVICE, ["only"]) == "only"


def test_converges_to_the_cheaper_strategy_per_fingerprint() -> None:
    learner = Learner(rng_seed=3, exploration=0.05, failure_penalty=5.0)
    chosen = simulate(learner, 600)
    last = {fp: seq[-80:] for fp, seq in chosen.items()}
    assert last["fp-overloaded"].count("fallback") >= 0.85 * len(last["fp-overloaded"])
    assert last["fp-flaky"].count("retry") >= 0.85 * len(last["fp-flaky"])
    assert learner.best("fp-overloaded", SERVICE, CANDIDATES) == "fallback"
    assert learner.best("fp-flaky", SERVICE, CANDIDATES) == "retry"
    # learning curve: the overloaded fingerprint picked the right strategy far more often late than early
    early = chosen["fp-overloaded"][:20].count("fallback")
    assert last["fp-overloaded"].count("fallback") / 80 > early / 20


def test_explores_at_the_configured_rate() -> None:
    store = MemoryLearningStore()
    seed = Learner(store)
    for _ in range(300):  # decisive evidence, so Thompson sampling itself stops exploring
        seed.record("fp", SERVICE, "good", success=True, attempts=1, seconds=0.1)
        seed.record("fp", SERVICE, "bad", success=False, attempts=3, seconds=2.0)
        seed.record("fp", SERVICE, "worse", success=False, attempts=3, seconds=4.0)
    for rate in (0.0, 0.1, 0.3):
        learner = Learner(store, rng_seed=11, exploration=rate)
        n = 4000
        picks = [learner.choose("fp", SERVICE, ["bad", "good", "worse"]) for _ in range(n)]
        off = sum(p != "good" for p in picks) / n
        assert abs(off - rate) < 4 * (rate * (1 - rate) / n) ** 0.5 + 0.005, (rate, off)
        if rate:  # exploration spreads over every non-best candidate
            assert picks.count("bad") > 0 and picks.count("worse") > 0


def test_seeded_choices_are_reproducible() -> None:
    a = simulate(Learner(rng_seed=5), 200, seed=2)
    b = simulate(Learner(rng_seed=5), 200, seed=2)
    assert a == b


def test_survives_restart_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "learn.db"
    first = Learner(SQLiteLearningStore(path), rng_seed=1, failure_penalty=5.0)
    simulate(first, 300)
    table_before = first.table()
    first.close()

    second = Learner(SQLiteLearningStore(path), rng_seed=9, failure_penalty=5.0)
    third = Learner(SQLiteLearningStore(path), rng_seed=9, failure_penalty=5.0)
    assert [(r.fingerprint, r.strategy, r.trials, r.successes) for r in second.table()] == [
        (r.fingerprint, r.strategy, r.trials, r.successes) for r in table_before
    ]
    for fp in WORLD:
        assert second.best(fp, SERVICE, CANDIDATES) == first.best(fp, SERVICE, CANDIDATES)
        # same seed, same stored evidence: the same sequence of choices
        assert [second.choose(fp, SERVICE, CANDIDATES) for _ in range(50)] == [
            third.choose(fp, SERVICE, CANDIDATES) for _ in range(50)
        ]
    second.close()
    third.close()


def test_survives_a_new_process_without_explicit_close(tmp_path: Path) -> None:
    """A child records a few outcomes (fewer than a batch) and exits: atexit flushes them."""
    path = tmp_path / "learn.db"
    code = (
        "import sys\n"
        "from recoup.errors.taxonomy import Category\n"
        "from recoup.recovery.learning import Learner, SQLiteLearningStore\n"
        "lr = Learner(SQLiteLearningStore(sys.argv[1], flush_every=1000, flush_interval=3600))\n"
        "for _ in range(5):\n"
        "    lr.record('fp', Category.NETWORK, 'retry', success=False, attempts=3, seconds=1.0)\n"
        "    lr.record('fp', Category.NETWORK, 'fallback', success=True, attempts=1, seconds=0.05)\n"
        "print(lr.best('fp', Category.NETWORK, ['retry', 'fallback']))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "fallback"
    with Learner(SQLiteLearningStore(path)) as learner:
        assert learner.best("fp", Category.NETWORK, ["retry", "fallback"]) == "fallback"
        rows = {r.strategy: r for r in learner.stats("fp")}
        assert rows["retry"].trials == 5 and rows["retry"].successes == 0
        assert rows["fallback"].trials == 5 and rows["fallback"].mean_seconds_to_recover == pytest.approx(0.05)
        assert [r.strategy for r in learner.stats("fp")] == ["fallback", "retry"]  # cheapest first


def test_sqlite_store_is_wal_and_schema_versioned(tmp_path: Path) -> None:
    path = tmp_path / "learn.db"
    store = SQLiteLearningStore(path)
    assert store.schema_version == SCHEMA_VERSION
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute("UPDATE learning_schema SET version = ?", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="newer"):
        SQLiteLearningStore(path)


def test_sqlite_store_batches_writes(tmp_path: Path) -> None:
    path = tmp_path / "learn.db"
    store = SQLiteLearningStore(path, flush_every=10, flush_interval=3600)
    learner = Learner(store)
    for _ in range(9):
        learner.record("fp", SERVICE, "retry", success=True, attempts=1, seconds=0.1)

    def on_disk() -> int:
        with sqlite3.connect(path) as conn:
            row = conn.execute("SELECT COALESCE(SUM(trials), 0) FROM learning_arms").fetchone()
        return int(row[0])

    assert on_disk() == 0  # pending, one batch not yet full
    assert sum(r.trials for r in learner.table()) == 9  # but the learner already uses them
    learner.record("fp", SERVICE, "retry", success=True, attempts=1, seconds=0.1)
    assert on_disk() == 10
    learner.close()


def test_hierarchical_fallback_to_category_statistics() -> None:
    learner = Learner(rng_seed=0, exploration=0.0)
    # Many fingerprints of the NETWORK category: "fallback" recovers, "retry" does not.
    for i in range(20):
        for _ in range(3):
            learner.record(f"fp{i}", Category.NETWORK, "retry", success=False, attempts=3, seconds=1.0)
            learner.record(f"fp{i}", Category.NETWORK, "fallback", success=True, attempts=1, seconds=0.1)
    # A new fingerprint of that category, never seen: the category's evidence decides.
    assert learner.best("new-fp", Category.NETWORK, ["retry", "fallback"]) == "fallback"
    picks = [learner.choose("new-fp", Category.NETWORK, ["retry", "fallback"]) for _ in range(100)]
    assert picks.count("fallback") >= 95
    # Another category has no evidence at all: the default (first candidate) is kept.
    assert learner.choose("new-fp", Category.AUTH, ["retry", "fallback"]) == "retry"
    # One contrary outcome is shrunk toward a consistent category, not believed outright...
    learner.record("once", Category.NETWORK, "fallback", success=False, attempts=1, seconds=0.5)
    assert learner.best("once", Category.NETWORK, ["retry", "fallback"]) == "fallback"
    # ...but a fingerprint's own evidence overrides the category once there is enough of it.
    for _ in range(15):
        learner.record("odd", Category.NETWORK, "retry", success=True, attempts=1, seconds=0.05)
        learner.record("odd", Category.NETWORK, "fallback", success=False, attempts=1, seconds=0.5)
    assert learner.best("odd", Category.NETWORK, ["retry", "fallback"]) == "retry"


def test_concurrent_record_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "learn.db"
    learner = Learner(SQLiteLearningStore(path, flush_every=7), rng_seed=0)
    threads_n, per_thread = 8, 250
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(per_thread):
                fp = f"fp{i % 3}"
                learner.record(fp, SERVICE, "retry" if t % 2 else "fallback", success=i % 4 != 0, attempts=1,
                               seconds=0.01)
                learner.choose(fp, SERVICE, CANDIDATES)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    learner.close()
    total = threads_n * per_thread
    with Learner(SQLiteLearningStore(path)) as again:
        rows = again.table()
        assert sum(r.trials for r in rows) == total
        assert sum(r.successes for r in rows) == threads_n * sum(i % 4 != 0 for i in range(per_thread))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"candidates": []}, "candidates must not be empty"),
        ({"candidates": "retry"}, "not one string"),
        ({"candidates": ["retry", ""]}, "non-empty strings"),
        ({"fingerprint": ""}, "fingerprint"),
        ({"category": "weather"}, "unknown category"),
    ],
)
def test_choose_rejects_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"fingerprint": "fp", "category": SERVICE, "candidates": ["retry"]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        Learner().choose(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seconds": -0.1}, "seconds must be finite and >= 0"),
        ({"seconds": float("nan")}, "seconds must be finite"),
        ({"seconds": float("inf")}, "seconds must be finite"),
        ({"seconds": "1"}, "seconds must be a number"),
        ({"attempts": -1}, "attempts"),
        ({"attempts": 1.5}, "attempts"),
        ({"strategy": ""}, "strategy"),
        ({"fingerprint": ""}, "fingerprint"),
        ({"category": "nope"}, "unknown category"),
    ],
)
def test_record_rejects_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "fingerprint": "fp", "category": SERVICE, "strategy": "retry",
        "success": True, "attempts": 1, "seconds": 0.5,
    }
    args.update(kwargs)
    learner = Learner()
    with pytest.raises(ValueError, match=match):
        learner.record(**args)  # type: ignore[arg-type]
    assert learner.table() == []  # nothing half-recorded


def test_constructor_rejects_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exploration"):
        Learner(exploration=1.5)
    with pytest.raises(ValueError, match="failure_penalty"):
        Learner(failure_penalty=-1)
    with pytest.raises(ValueError, match="prior_weight"):
        Learner(prior_weight=0)
    with pytest.raises(ValueError, match="flush_every"):
        SQLiteLearningStore(tmp_path / "x.db", flush_every=0)


def test_category_given_as_its_string_value() -> None:
    learner = Learner()
    learner.record("fp", "network", "retry", success=True, attempts=1, seconds=0.2)  # type: ignore[arg-type]
    (row,) = learner.stats("fp")
    assert row.category is Category.NETWORK and row.success_rate == 1.0
    assert row.mean_seconds_to_recover == pytest.approx(0.2) and row.mean_seconds_on_failure is None


def test_closed_store_refuses_writes(tmp_path: Path) -> None:
    store = SQLiteLearningStore(tmp_path / "learn.db")
    learner = Learner(store)
    learner.close()
    learner.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        learner.record("fp", SERVICE, "retry", success=True, attempts=1, seconds=0.1)


def _fill(learner: Learner, fp: str, strategy: str, ok: bool, n: int = 20) -> None:
    for _ in range(n):
        learner.record(fp, SERVICE, strategy, success=ok, attempts=1, seconds=0.05 if ok else 0.5)


def test_category_pull_depends_on_how_much_its_fingerprints_agree() -> None:
    both = ["retry", "fallback"]
    # Homogeneous category: every fingerprint says retry fails and fallback works.
    agree = Learner(failure_penalty=5.0)
    for i in range(6):
        _fill(agree, f"a{i}", "retry", False)
        _fill(agree, f"a{i}", "fallback", True)
    _fill(agree, "new", "retry", True, n=3)
    assert agree.best("new", SERVICE, both) == "fallback"  # three lucky retries do not outweigh six fingerprints

    # Heterogeneous category: fingerprints disagree, so the category predicts little and own data rules.
    split = Learner(failure_penalty=5.0)
    for i in range(6):
        _fill(split, f"a{i}", "retry", i % 2 == 0)
        _fill(split, f"a{i}", "fallback", i % 2 == 1)
    _fill(split, "new", "retry", True, n=3)
    assert split.best("new", SERVICE, both) == "retry"


def test_two_learners_share_one_file_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    a = Learner(SQLiteLearningStore(path, flush_every=1))
    b = Learner(SQLiteLearningStore(path, flush_every=1))
    a.record("fp", SERVICE, "retry", success=True, attempts=1, seconds=0.1)
    b.record("fp", SERVICE, "retry", success=False, attempts=3, seconds=0.3)
    assert [r.trials for r in a.stats("fp")] == [1]  # a has not re-read the file yet
    a.reload()
    (row,) = a.stats("fp")
    assert (row.trials, row.successes) == (2, 1)  # increments from both, neither overwritten
    assert row.mean_seconds_on_failure == pytest.approx(0.3)
    a.close()
    b.close()


def test_greedy_mode_explores_exactly_at_the_rate_even_when_uncertain() -> None:
    """``thompson=False``: the only departures from the posterior-mean best are the ε draws."""
    learner = Learner(rng_seed=4, exploration=0.1, thompson=False)
    learner.record("fp", SERVICE, "retry", success=True, attempts=1, seconds=0.2)  # one outcome: very uncertain
    n = 4000
    off = sum(learner.choose("fp", SERVICE, CANDIDATES) != "retry" for _ in range(n)) / n
    assert abs(off - 0.1) < 4 * (0.1 * 0.9 / n) ** 0.5
    thompson = Learner(MemoryLearningStore(), rng_seed=4, exploration=0.1)
    thompson.record("fp", SERVICE, "retry", success=True, attempts=1, seconds=0.2)
    off_t = sum(thompson.choose("fp", SERVICE, CANDIDATES) != "retry" for _ in range(n)) / n
    assert off_t > off  # Thompson sampling adds exploration while the evidence is thin
