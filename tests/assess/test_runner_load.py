"""The load phase end to end on real peers: every fault category, the hung upstream ended by the timeout,
the breaker's state in memory or in a real Redis, and the report's histogram and timeline adding up."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from recoup.assess.plan import AssessConfig, OperationPlan
from recoup.assess.report import recovery_timeline, summarise
from recoup.assess.runner import OperationOutcome, RunResult, run_assessment
from recoup.assess.stats import log_histogram
from recoup.policies.events import EventKind, PolicyEvent

REDIS_URL = "redis://127.0.0.1:6379/0"
# Many faults of every kind in few operations; a short outage so the breaker opens and must close again.
CONFIG = AssessConfig(ops=120, concurrency=30, transient_rate=0.55, permanent_rate=0.35, seed=4, outage_seconds=0.3)


def _run(redis_url: str | None = None) -> tuple[RunResult, dict[str, Any]]:
    result = asyncio.run(run_assessment(CONFIG, lambda _o: None, redis_url=redis_url))
    return result, summarise(result)


@pytest.fixture(scope="module")
def memory_run() -> tuple[RunResult, dict[str, Any]]:
    return _run()


def test_every_category_is_provoked_and_handled(memory_run: tuple[RunResult, dict[str, Any]]) -> None:
    _result, s = memory_run
    categories = set(s["per_category"])
    assert categories == {
        "network",
        "service",
        "resource",
        "filesystem",
        "git",
        "validation",
        "auth",
        "programming",
        "unknown",
    }
    assert s["classification_accuracy_on_injected"] == 1.0
    assert s["permanent_that_succeeded"] == 0
    assert s["fail_fast_rate"] == 1.0 and s["wasted_retries"] == 0  # unknown included: never retried
    assert s["per_fault"]["unexplained-exit"]["mean_attempts"] <= 1.0


def test_the_hung_upstream_is_ended_by_the_timeout_and_recovered(memory_run: tuple[RunResult, dict[str, Any]]) -> None:
    result, s = memory_run
    hang = s["per_fault"]["upstream-hang"]
    assert hang["category"] == "network" and hang["operations"] > 0
    assert hang["timeouts"] >= hang["operations"]  # each one met at least one timeout
    assert hang["succeeded"] == hang["operations"]
    hung = [o for o in result.outcomes if o.plan.fault is not None and o.plan.fault.name == "upstream-hang"]
    assert all(o.first_error_category == "network" for o in hung)


def test_recoverable_faults_recover_and_the_breaker_waits_are_not_spent_attempts(
    memory_run: tuple[RunResult, dict[str, Any]],
) -> None:
    _result, s = memory_run
    assert s["recovery_success_rate"] == 1.0, s["unrecovered_examples"]
    assert s["ended_rejected_by_breaker"] == 0
    assert s["breaker_store"] == "memory"
    assert s["retry_gave_up_reasons"].get("attempts", 0) == 0


def test_histogram_and_timeline_account_for_every_operation(memory_run: tuple[RunResult, dict[str, Any]]) -> None:
    _result, s = memory_run
    hist = s["latency_histogram_ms"]
    assert sum(count for _bound, count in hist) == CONFIG.ops
    bounds = [bound for bound, _count in hist]
    assert bounds == sorted(bounds) and len(bounds) == len(set(bounds))
    assert bounds[-1] >= s["operation_latency_ms"]["max"]
    timeline = s["recovery_timeline"]
    assert sum(row["started"] for row in timeline) == CONFIG.ops
    assert sum(row["succeeded"] + row["failed"] for row in timeline) == CONFIG.ops
    assert sum(row["recovered"] for row in timeline) == s["recovered"]
    assert {row["breaker_state"] for row in timeline} <= {"closed", "open", "half_open"}
    widths = {round(b["t"] - a["t"], 6) for a, b in itertools.pairwise(timeline)}
    assert len(widths) == 1 and 0.1 <= widths.pop() <= 0.5


def test_breaker_state_shared_through_real_redis_and_cleaned_up() -> None:
    redis = pytest.importorskip("redis")
    result, s = _run(REDIS_URL)
    assert s["breaker_store"].startswith("redis (redis://127.0.0.1:6379/0, key prefix recoup-assess-")
    prefix = s["breaker_store"].rsplit("key prefix ", 1)[1].rstrip(")")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert list(client.scan_iter(match=f"{prefix}:*")) == []
    finally:
        client.close()
    assert len(result.outcomes) == CONFIG.ops
    assert s["permanent_that_succeeded"] == 0


def test_unreachable_redis_is_a_clear_error() -> None:
    from recoup.assess.fixtures import closed_port
    from recoup.assess.runner import BreakerStoreError

    with pytest.raises(BreakerStoreError, match="did not answer PING"):
        asyncio.run(
            run_assessment(AssessConfig(ops=1), lambda _o: None, redis_url=f"redis://127.0.0.1:{closed_port()}/0")
        )


def test_log_histogram_buckets() -> None:
    assert log_histogram([]) == []
    hist = log_histogram([0.2, 1.0, 1.1, 10.0, 10.5])
    assert hist[0] == [1.0, 2] and hist[1] == [1.258925, 1]
    assert [b for b, c in hist if c] == [1.0, 1.258925, 10.0, 12.589254]
    assert sum(c for _b, c in hist) == 5
    with pytest.raises(ValueError, match="smallest"):
        log_histogram([1.0], smallest=0)


def test_timeline_takes_the_breaker_state_at_each_bin_end() -> None:
    config = AssessConfig(ops=3)

    def outcome(i: int, start: float, end: float, ok: bool) -> OperationOutcome:
        plan = OperationPlan(i, None, 0)
        return OperationOutcome(plan, ok, 1, 100.0 + start, 100.0 + end, None, None, None)

    def changed(at: float, to: str) -> PolicyEvent:
        return PolicyEvent(EventKind.STATE_CHANGED, "breaker", "b", 5000.0 + at, {"to_state": to})

    result = RunResult(
        config,
        [outcome(0, 0.0, 0.05, True), outcome(1, 0.0, 0.25, False), outcome(2, 0.15, 0.45, True)],
        0.45,
        [changed(0.12, "open"), changed(0.33, "half_open"), changed(0.35, "closed")],
        started_monotonic=100.0,
        started_wall=5000.0,
    )
    rows = recovery_timeline(result)
    assert [r["t"] for r in rows] == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert [r["started"] for r in rows] == [2, 1, 0, 0, 0]
    assert [r["succeeded"] for r in rows] == [1, 0, 0, 0, 1]
    assert [r["failed"] for r in rows] == [0, 0, 1, 0, 0]
    assert [r["breaker_state"] for r in rows] == ["closed", "open", "open", "closed", "closed"]


def test_fail_fast_counts_no_attempt_after_the_permanent_error() -> None:
    from recoup.assess.faults import PERMANENT_FAULTS

    fault = PERMANENT_FAULTS[0]

    def permanent(i: int, attempts: int, met_at: int | None) -> OperationOutcome:
        plan = OperationPlan(i, fault, 0)
        return OperationOutcome(
            plan, False, attempts, 0.0, 1.0, 0.5, fault.category.value, "x", first_injected_attempt=met_at
        )

    outcomes = [permanent(0, 1, 1), permanent(1, 2, 2), permanent(2, 3, 1), permanent(3, 0, None)]
    s = summarise(RunResult(AssessConfig(ops=4), outcomes, 1.0, started_monotonic=0.0, started_wall=0.0))
    # 0: one attempt; 1: a timeout first, then the permanent error, not retried; 3: refused before any attempt
    assert s["failed_fast"] == 3 and s["wasted_retries"] == 2
    assert s["permanent_single_attempt"] == 2 and s["permanent_retried_before_met"] == 1


def test_refusing_port_refuses_and_stays_taken() -> None:
    import socket

    from recoup.assess.faults import RefusingPort

    with RefusingPort() as refusing:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", refusing.port), timeout=1).close()
        other = socket.socket()
        try:
            with pytest.raises(OSError, match="in use"):
                other.bind(("127.0.0.1", refusing.port))  # nobody else can listen there during the run
        finally:
            other.close()
