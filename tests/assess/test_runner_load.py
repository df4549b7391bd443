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


def test_the_upstream_runs_in_its_own_process_and_the_client_is_async(
    memory_run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, s = memory_run
    assert result.fixture["upstream"].startswith("asyncio server in its own process (pid ")
    assert result.fixture["client"] == "aiohttp (async, keep-alive pool)" and "note" not in result.fixture
    assert s["fixture"] == result.fixture
    assert len(result.loop_lag_ms) > 0 and min(result.loop_lag_ms) >= 0
    assert s["event_loop_lag_ms"]["count"] == len(result.loop_lag_ms)
    assert 0 < s["healthy_latency_ms"]["count"] <= s["clean_operations"]


def test_each_recovery_is_accounted_for_by_attempts_and_recoups_waits(
    memory_run: tuple[RunResult, dict[str, Any]],
) -> None:
    result, s = memory_run
    recovered = [o for o in result.outcomes if o.recovery_time is not None]
    assert recovered
    for o in recovered:
        assert o.recovery_time is not None
        assert 0 <= o.failed_attempt_seconds <= o.attempt_seconds
        assert o.attempt_seconds > 0  # the attempt that succeeded came after the first failure
        assert o.backoff_seconds + o.admission_seconds <= o.waited_seconds + 0.001  # a wait never ends early
        assert o.attempt_seconds + o.waited_seconds <= o.recovery_time + 0.001  # nothing counted twice
        assert (o.admission_seconds > 0) == (o.breaker_rejections > 0)
    b = s["recovery_breakdown"]
    assert b["operations"] == len(recovered)
    parts = b["attempts_ms"] + b["backoff_wait_ms"] + b["breaker_wait_ms"] + b["wait_overshoot_ms"] + b["other_ms"]
    assert parts == pytest.approx(b["recovery_mean_ms"])
    # Between attempts an operation is in one of recoup's waits; outside them only the policies' own work runs.
    assert b["other_ms"] < 0.25 * b["recovery_mean_ms"]
    assert s["recovery_breakdown_planned_faults"]["breaker_wait_ms"] == 0.0
    assert s["recovery_breakdown"]["breaker_wait_ms"] > 0  # the outage opened the breaker


SMALL = AssessConfig(ops=30, concurrency=10, transient_rate=0.5, permanent_rate=0.2, seed=3, outage_seconds=0)


def test_the_old_in_process_fixture_still_runs_for_comparison() -> None:
    from recoup.assess.runner import Fixture

    result = asyncio.run(run_assessment(SMALL, lambda _o: None, fixture=Fixture("thread", "urllib")))
    assert result.fixture == {"upstream": "ThreadingHTTPServer in this process", "client": "urllib in a thread pool"}
    s = summarise(result)
    assert s["recovery_success_rate"] == 1.0 and s["clean_success_rate"] == 1.0


def test_without_aiohttp_the_threaded_client_runs_and_the_report_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "aiohttp", None)  # importing aiohttp now fails, as when it is not installed
    result = asyncio.run(run_assessment(SMALL, lambda _o: None))
    assert result.fixture["client"] == "urllib in a thread pool"
    assert "aiohttp is not installed" in result.fixture["note"]
    assert summarise(result)["recovery_success_rate"] == 1.0


def test_bad_fixture_choices_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from recoup.assess.runner import Fixture

    with pytest.raises(ValueError, match="upstream must be 'process' or 'thread', got 'docker'"):
        asyncio.run(run_assessment(SMALL, lambda _o: None, fixture=Fixture("docker")))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"client must be .* got 'curl'"):
        Fixture(client="curl").validate()  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "aiohttp", None)
    with pytest.raises(ValueError, match=r"needs aiohttp \(pip install 'recoup\[load\]'\)"):
        Fixture(client="aiohttp").validate()
