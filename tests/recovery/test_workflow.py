"""Durable workflows against real stores (SQLite file and the PostgreSQL server), no mocks.

Every test runs on both stores. Side effects are counted in a file so "never repeats a completed
step" is checked from outside the process's memory.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from recoup.policies.errors import DeadlineExceeded
from recoup.policies.retry import Retry
from recoup.recovery.checkpoint import (
    AsyncEntry,
    CheckpointStore,
    Entry,
    InputsMismatch,
    LeaseLost,
    NotSerializableError,
    RunLeaseHeld,
    StepOutsideRun,
    Workflow,
    WorkflowMismatch,
    open_store,
)
from recoup.recovery.checkpoint.inspect import run_detail, runs_table
from recoup.recovery.checkpoint.store import StepWrite
from recoup.testing import FakeClock

PG_URL = os.environ.get("RECOUP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Backend:
    kind: str
    location: str
    schema: str

    def open(self) -> CheckpointStore:
        if self.kind == "postgres":
            return open_store(self.location, schema_name=self.schema)
        return open_store(self.location)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The same suite on both stores; PostgreSQL gets a fresh schema per test, dropped afterwards."""
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "checkpoints.db"), "")
        return
    schema = f"recoup_test_{uuid.uuid4().hex[:12]}"
    yield Backend("postgres", PG_URL, schema)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def store(backend: Backend) -> Iterator[CheckpointStore]:
    opened = backend.open()
    yield opened
    opened.close()


class Effects:
    """Appends one line per step execution to a file, so repeats are visible after any crash."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, label: str) -> None:
        with self.path.open("a") as f:
            f.write(label + "\n")

    def counts(self) -> Counter[str]:
        if not self.path.exists():
            return Counter()
        return Counter(self.path.read_text().split())


def ten_steps(
    store: CheckpointStore, effects: Effects, *, fail_at: Path | None = None, clock: FakeClock | None = None
) -> Workflow:
    """A 10-step workflow whose step `i` maps x -> 3x + i; step 4 raises while `fail_at` exists."""
    wf = Workflow("ten", store=store) if clock is None else Workflow("ten", store=store, clock=clock)

    @wf.step
    def work(i: int, x: int) -> int:
        effects.record(f"work{i}")
        if i == 4 and fail_at is not None and fail_at.exists():
            raise ConnectionError("upstream refused step 4")
        return 3 * x + i

    @wf.main
    def main(seed: int) -> dict[str, int]:
        x = seed
        for i in range(10):
            x = work(i, x)
        return {"final": x}

    return wf


def expected_final(seed: int) -> int:
    x = seed
    for i in range(10):
        x = 3 * x + i
    return x


def test_run_returns_main_result_and_checkpoints_every_step(store: CheckpointStore, tmp_path: Path) -> None:
    effects = Effects(tmp_path / "effects")
    wf = ten_steps(store, effects)
    assert wf.run("r1", 7) == {"final": expected_final(7)}
    run = store.get_run("r1")
    assert run is not None
    assert run.status == "completed"
    assert run.result == {"final": expected_final(7)}
    assert run.inputs == {"args": [7], "kwargs": {}}
    assert [(s.name, s.call_index, s.seq, s.status) for s in run.steps] == [
        ("ten_steps.<locals>.work", i, i, "completed") for i in range(10)
    ]
    assert all(s.attempts == 1 and s.finished >= s.started for s in run.steps)
    assert run.completed_steps == 10 and run.owner is None and run.finished is not None


def test_completed_key_returns_stored_result_without_executing_anything(store: CheckpointStore, tmp_path: Path) -> None:
    effects = Effects(tmp_path / "effects")
    wf = ten_steps(store, effects)
    first = wf.run("order-42", 1)
    assert wf.run("order-42", 1) == first
    # A fresh Workflow object (as after a restart) also executes nothing for a completed key.
    assert ten_steps(store, effects).run("order-42", 1) == first
    assert set(effects.counts().values()) == {1}
    run = store.get_run("order-42")
    assert run is not None and run.attempts == 1


def test_failed_run_is_recorded_and_rerun_resumes_after_last_completed_step(
    store: CheckpointStore, tmp_path: Path
) -> None:
    effects = Effects(tmp_path / "effects")
    flag = tmp_path / "fail"
    flag.touch()
    wf = ten_steps(store, effects, fail_at=flag)
    with pytest.raises(ConnectionError, match="upstream refused"):
        wf.run("r", 2)
    run = store.get_run("r")
    assert run is not None
    assert run.status == "failed" and run.owner is None
    assert run.error == "ConnectionError: upstream refused step 4"
    assert run.completed_steps == 4
    assert run.steps[-1].status == "failed" and run.steps[-1].error == "ConnectionError: upstream refused step 4"

    flag.unlink()
    assert wf.run("r", 2) == {"final": expected_final(2)}
    counts = effects.counts()
    assert [counts[f"work{i}"] for i in range(10)] == [1, 1, 1, 1, 2, 1, 1, 1, 1, 1]
    run = store.get_run("r")
    assert run is not None
    assert run.status == "completed" and run.attempts == 2 and run.error is None
    assert [s.status for s in run.steps] == ["completed"] * 10


def test_step_result_that_is_not_json_fails_naming_the_step(store: CheckpointStore) -> None:
    wf = Workflow("bad", store=store)

    @wf.step
    def opens_a_set() -> Any:
        return {1, 2}

    @wf.main
    def main() -> Any:
        return opens_a_set()

    with pytest.raises(NotSerializableError, match=r"step 'test_step_result_that_is_not_json.*opens_a_set'.*set"):
        wf.run("r")
    run = store.get_run("r")
    assert run is not None and run.status == "failed"
    assert run.steps[0].status == "failed" and "NotSerializableError" in (run.steps[0].error or "")


def test_main_result_that_is_not_json_fails_the_run(store: CheckpointStore) -> None:
    wf = Workflow("bad-main", store=store)

    @wf.main
    def main() -> Any:
        return object()

    with pytest.raises(NotSerializableError, match="main function of workflow 'bad-main'"):
        wf.run("r")
    run = store.get_run("r")
    assert run is not None and run.status == "failed"


def test_results_are_returned_as_replayed_so_fresh_and_resumed_runs_agree(store: CheckpointStore) -> None:
    wf = Workflow("shapes", store=store)

    @wf.step
    def pair() -> Any:
        return (1, 2)

    @wf.main
    def main() -> Any:
        value = pair()
        assert value == [1, 2]  # a tuple comes back as the list a replay would give
        return value

    assert wf.run("r") == [1, 2]


def test_step_called_outside_a_run_raises(store: CheckpointStore) -> None:
    wf = Workflow("w", store=store)

    @wf.step
    def one() -> int:
        return 1

    with pytest.raises(StepOutsideRun, match="called outside a run"):
        one()


def test_run_id_of_another_workflow_is_rejected(store: CheckpointStore, tmp_path: Path) -> None:
    ten_steps(store, Effects(tmp_path / "e")).run("shared", 0)
    other = Workflow("other", store=store)

    @other.main
    def main() -> int:
        return 0

    with pytest.raises(WorkflowMismatch, match="belongs to workflow 'ten'"):
        other.run("shared")


def test_live_lease_blocks_second_runner_and_expired_lease_is_taken_over(
    store: CheckpointStore, tmp_path: Path
) -> None:
    clock = FakeClock()
    effects = Effects(tmp_path / "effects")
    wf = ten_steps(store, effects, clock=clock)
    # Another host claimed the run and did one step, then went silent.
    dead = "elsewhere:4242:abc"
    claim = store.claim("r", "ten", dead, "{}", clock.wall(), 60.0)
    assert claim.outcome == "acquired"
    store.save_step(
        "r",
        dead,
        StepWrite("ten_steps.<locals>.work", 0, 0, "completed", "15", None, 1, 0.0, 0.0),
        clock.wall(),
        clock.wall() + 60.0,
    )
    with pytest.raises(RunLeaseHeld, match="'elsewhere:4242:abc'") as held:
        wf.run("r", 5)
    assert held.value.holder == dead
    assert effects.counts() == Counter()

    clock.advance(61.0)
    result = wf.run("r", 5)
    assert result == {"final": expected_final(5)}
    assert "work0" not in effects.counts()  # the dead owner's completed step is reused
    with pytest.raises(LeaseLost):
        store.save_step(
            "r", dead, StepWrite("x", 0, 0, "completed", "1", None, 1, 0.0, 0.0), clock.wall(), clock.wall() + 60
        )


def test_waiting_runner_takes_over_once_the_lease_expires(store: CheckpointStore, tmp_path: Path) -> None:
    clock = FakeClock()
    wf = Workflow("ten", store=store, clock=clock, lease_wait=120.0, poll_interval=5.0)

    @wf.main
    def main() -> str:
        return "done"

    store.claim("r", "ten", "elsewhere:1:x", "{}", clock.wall(), 30.0)
    assert wf.run("r") == "done"
    assert 30.0 <= clock.slept <= 35.0


def test_concurrent_runners_of_one_key_never_both_execute_a_step(backend: Backend, tmp_path: Path) -> None:
    effects = Effects(tmp_path / "effects")
    second_tried = threading.Event()
    outcomes: dict[str, Any] = {}

    def runner(label: str, block: bool) -> None:
        store = backend.open()
        wf = Workflow("race", store=store)

        @wf.step
        def step(i: int) -> int:
            effects.record(f"step{i}")
            if block and i == 0:
                assert second_tried.wait(10)
            return i

        @wf.main
        def main() -> int:
            return sum(step(i) for i in range(3))

        try:
            outcomes[label] = wf.run("same-key")
        except RunLeaseHeld as exc:
            outcomes[label] = exc
        finally:
            second_tried.set()
            store.close()

    first = threading.Thread(target=runner, args=("first", True))
    first.start()
    while not effects.path.exists():  # the first runner holds the lease and is inside step 0
        threading.Event().wait(0.005)
    runner("second", False)
    first.join(10)
    assert outcomes["first"] == 3
    assert isinstance(outcomes["second"], RunLeaseHeld)
    assert effects.counts() == Counter({"step0": 1, "step1": 1, "step2": 1})


def test_retry_policy_retries_a_step_before_its_result_is_checkpointed(store: CheckpointStore) -> None:
    clock = FakeClock()
    calls: list[int] = []
    wf = Workflow("flaky", store=store, clock=clock)

    @wf.step(policy=Retry(attempts=3, on=ConnectionError, clock=clock))
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("reset by peer")
        return "ok"

    @wf.main
    def main() -> str:
        return flaky()

    assert wf.run("r") == "ok"
    run = store.get_run("r")
    assert run is not None
    assert run.steps[0].attempts == 3 and run.steps[0].status == "completed"


def test_workflow_default_policy_applies_and_exhausted_retries_fail_the_run(store: CheckpointStore) -> None:
    clock = FakeClock()
    wf = Workflow("down", store=store, clock=clock, policy=Retry(attempts=2, on=ConnectionError, clock=clock))

    @wf.step
    def down() -> str:
        raise ConnectionError("still down")

    @wf.main
    def main() -> str:
        return down()

    with pytest.raises(ConnectionError):
        wf.run("r")
    run = store.get_run("r")
    assert run is not None
    assert run.status == "failed" and run.steps[0].attempts == 2 and run.steps[0].status == "failed"


def test_sync_step_past_its_deadline_fails_and_its_result_is_not_stored(store: CheckpointStore) -> None:
    clock = FakeClock()
    wf = Workflow("slow", store=store, clock=clock)

    @wf.step(timeout=1.0)
    def slow() -> str:
        clock.advance(5.0)
        return "late"

    @wf.main
    def main() -> str:
        return slow()

    with pytest.raises(DeadlineExceeded, match=r"'slow\..*slow' exceeded its deadline of 1.000s"):
        wf.run("r")
    run = store.get_run("r")
    assert run is not None
    assert run.status == "failed" and run.steps[0].status == "failed" and run.steps[0].result is None


def test_async_workflow_mixes_sync_and_async_steps_and_resumes(store: CheckpointStore, tmp_path: Path) -> None:
    effects = Effects(tmp_path / "effects")
    flag = tmp_path / "fail"
    flag.touch()
    wf = Workflow("async", store=store)

    @wf.step
    async def fetch(i: int) -> dict[str, int]:
        effects.record(f"fetch{i}")
        await asyncio.sleep(0)
        return {"i": i, "square": i * i}

    @wf.step
    def total(parts: list[dict[str, int]]) -> int:
        effects.record("total")
        if flag.exists():
            raise RuntimeError("total not ready")
        return sum(p["square"] for p in parts)

    @wf.main
    async def main(n: int) -> int:
        parts = await asyncio.gather(*(fetch(i) for i in range(n)))
        return total(list(parts))

    with pytest.raises(RuntimeError, match="not ready"):
        asyncio.run(wf.arun("a", 4))
    flag.unlink()
    assert asyncio.run(wf.arun("a", 4)) == 14
    assert asyncio.run(wf.arun("a", 4)) == 14
    counts = effects.counts()
    assert [counts[f"fetch{i}"] for i in range(4)] == [1, 1, 1, 1]
    assert counts["total"] == 2


def test_async_step_timeout_cancels_the_step(store: CheckpointStore) -> None:
    wf = Workflow("hang", store=store)

    @wf.step(timeout=0.05)
    async def hang() -> str:
        await asyncio.sleep(30)
        return "never"

    @wf.main
    async def main() -> str:
        return await hang()

    with pytest.raises(DeadlineExceeded):
        asyncio.run(wf.arun("r"))
    run = store.get_run("r")
    assert run is not None
    assert run.status == "failed" and (run.steps[0].error or "").startswith("DeadlineExceeded")


def test_arun_runs_a_sync_main_too(store: CheckpointStore, tmp_path: Path) -> None:
    wf = ten_steps(store, Effects(tmp_path / "e"))
    assert asyncio.run(wf.arun("r", 3)) == {"final": expected_final(3)}


def test_run_refuses_an_async_main(store: CheckpointStore) -> None:
    wf = Workflow("am", store=store)

    @wf.main
    async def main() -> int:
        return 1

    with pytest.raises(TypeError, match="arun"):
        wf.run("r")


def test_old_runner_that_lost_its_lease_cannot_write(store: CheckpointStore, tmp_path: Path) -> None:
    clock = FakeClock()
    wf = Workflow("stolen", store=store, clock=clock, lease_seconds=10.0)

    @wf.step
    def stall() -> int:
        clock.advance(11.0)  # longer than the lease: someone else takes the run over meanwhile
        assert store.claim("r", "stolen", "elsewhere:7:y", "{}", clock.wall(), 10.0).outcome == "acquired"
        return 1

    @wf.main
    def main() -> int:
        return stall()

    with pytest.raises(LeaseLost, match="lost its lease"):
        wf.run("r")
    run = store.get_run("r")
    assert run is not None
    assert run.status == "running" and run.owner == "elsewhere:7:y" and run.steps == ()


def test_inspection_lists_runs_with_steps_statuses_timings_and_errors(store: CheckpointStore, tmp_path: Path) -> None:
    flag = tmp_path / "fail"
    wf = ten_steps(store, Effects(tmp_path / "e"), fail_at=flag)
    wf.run("ok-1", 1)
    flag.touch()
    with pytest.raises(ConnectionError):
        wf.run("bad-1", 1)
    rows = runs_table(store)
    assert {row["run_id"]: row["status"] for row in rows} == {"ok-1": "completed", "bad-1": "failed"}
    by_id = {row["run_id"]: row for row in rows}
    assert by_id["ok-1"]["steps_completed"] == 10 and by_id["bad-1"]["steps_completed"] == 4
    assert by_id["bad-1"]["error"] == "ConnectionError: upstream refused step 4"
    assert by_id["ok-1"]["duration_s"] >= 0
    assert [r.run_id for r in store.list_runs(status="failed")] == ["bad-1"]
    assert store.list_runs(workflow="nope") == []
    assert len(store.list_runs(limit=1)) == 1
    detail = run_detail(store, "bad-1")
    assert detail is not None
    assert [s["status"] for s in detail["steps"]] == ["completed"] * 4 + ["failed"]
    assert detail["steps"][4]["error"] == "ConnectionError: upstream refused step 4"
    assert run_detail(store, "missing") is None


def test_duplicate_step_names_and_second_main_are_rejected(store: CheckpointStore) -> None:
    wf = Workflow("dup", store=store)

    @wf.step(name="s")
    def a() -> int:
        return 1

    with pytest.raises(ValueError, match="already has a step named 's'"):

        @wf.step(name="s")
        def b() -> int:
            return 2

    @wf.main
    def main() -> int:
        return a()

    with pytest.raises(ValueError, match="already has a main function"):
        wf.main(lambda: 0)


def test_heartbeat_keeps_the_lease_of_a_step_longer_than_the_lease(backend: Backend) -> None:
    store = backend.open()
    other = backend.open()
    wf = Workflow("long", store=store, lease_seconds=0.3)  # system clock: heartbeat on by default
    seen: list[str] = []

    @wf.step
    def long_step() -> str:
        time.sleep(0.7)  # more than twice the lease
        seen.append(other.claim("r", "long", "elsewhere:9:z", "{}", time.time(), 0.3).outcome)
        return "done"

    @wf.main
    def main() -> str:
        return long_step()

    try:
        assert wf.heartbeat is True
        assert wf.run("r") == "done"
        assert seen == ["held"]
    finally:
        store.close()
        other.close()


def test_main_returns_typed_handles_for_sync_and_async_mains(store: CheckpointStore) -> None:
    sync_wf = Workflow("typed-sync", store=store)
    async_wf = Workflow("typed-async", store=store)

    @sync_wf.step
    def double(x: int) -> int:
        return 2 * x

    @sync_wf.main
    def twice(x: int, *, plus: int = 0) -> int:
        return double(x) + plus

    @async_wf.main
    async def listing(n: int) -> list[int]:
        return list(range(n))

    assert isinstance(twice, Entry) and isinstance(listing, AsyncEntry)
    assert twice.run("s", 4, plus=1) == 9
    assert asyncio.run(twice.arun("s", 4, plus=1)) == 9  # completed: the stored result
    assert asyncio.run(listing.arun("a", 3)) == [0, 1, 2]
    run = store.get_run("s")
    assert run is not None and run.inputs == {"args": [4], "kwargs": {"plus": 1}}


def test_database_outage_mid_run_fails_the_run_and_a_retry_in_the_same_process_resumes(tmp_path: Path) -> None:
    """PostgreSQL drops the connection while step 2 commits: nothing after step 1 is durable, so step 2
    runs again on retry; the retry reclaims at once the lease its failed predecessor (same process) left."""
    from recoup.recovery.checkpoint.postgres_store import PostgresStore

    store = PostgresStore(PG_URL, schema_name=f"recoup_test_{uuid.uuid4().hex[:12]}")
    effects = Effects(tmp_path / "effects")
    outage = [True]
    wf = Workflow("outage", store=store)

    @wf.step
    def work(i: int) -> int:
        effects.record(f"work{i}")
        if i == 2 and outage[0]:
            outage[0] = False
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))
        return i * i

    @wf.main
    def main() -> int:
        return sum(work(i) for i in range(5))

    try:
        with pytest.raises(psycopg.OperationalError):
            main.run("r")
        assert main.run("r") == 30
        counts = effects.counts()
        assert [counts[f"work{i}"] for i in range(5)] == [1, 1, 2, 1, 1]
        run = store.get_run("r")
        assert run is not None and run.status == "completed" and run.attempts == 2
    finally:
        store.drop_schema()
        store.close()


def test_a_key_reused_with_other_inputs_is_refused_before_anything_runs(store: CheckpointStore, tmp_path: Path) -> None:
    effects = Effects(tmp_path / "effects")
    flag = tmp_path / "fail"
    flag.touch()
    wf = ten_steps(store, effects, fail_at=flag)
    with pytest.raises(ConnectionError):
        wf.run("k", 1)
    with pytest.raises(InputsMismatch, match=r"run 'k' was started with inputs .*\[1\].*not .*\[2\]"):
        wf.run("k", 2)  # resuming would reuse steps 0-3 computed from seed 1
    run = store.get_run("k")
    assert run is not None and run.status == "failed" and run.attempts == 1  # the refused claim changed nothing
    flag.unlink()
    assert wf.run("k", 1) == {"final": expected_final(1)}
    with pytest.raises(InputsMismatch):
        wf.run("k", 3)  # a completed key, too, only answers for its own inputs
