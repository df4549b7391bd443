"""What a checkpoint store must do, and the records it hands back.

A store keeps one row per run (status, lease, final result) and one per step call (result or error,
attempts, timings). Every write that records a completed step is committed durably (fsync) before
it returns, and is fenced by the run's lease owner so a runner that lost its lease cannot write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from recoup.recovery.checkpoint.errors import InputsMismatch, WorkflowMismatch

RunStatus = Literal["running", "completed", "failed"]
StepStatus = Literal["completed", "failed"]
ClaimOutcome = Literal["acquired", "completed", "held"]

StepKey = tuple[str, int]
"""A step call's identity inside a run: (step name, how many earlier calls of that step the run made)."""


@dataclass(frozen=True, slots=True)
class StepWrite:
    """One step call's outcome as the workflow hands it to the store (result already JSON text)."""

    name: str
    call_index: int
    seq: int
    status: StepStatus
    result: str | None
    error: str | None
    attempts: int
    started: float
    finished: float


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to "may I execute this run?": acquired (with the steps done so far), completed, or held."""

    outcome: ClaimOutcome
    attempt: int = 0
    result: str | None = None
    holder: str | None = None
    lease_until: float = 0.0
    steps: dict[StepKey, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepRecord:
    """A stored step call, decoded, for inspection."""

    name: str
    call_index: int
    seq: int
    status: StepStatus
    result: Any
    error: str | None
    attempts: int
    started: float
    finished: float

    @property
    def duration(self) -> float:
        return self.finished - self.started


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A stored run, decoded, for inspection; `steps` is filled by `get_run`, empty from `list_runs`."""

    run_id: str
    workflow: str
    status: RunStatus
    inputs: Any
    result: Any
    error: str | None
    owner: str | None
    lease_until: float | None
    attempts: int
    created: float
    updated: float
    finished: float | None
    completed_steps: int
    steps: tuple[StepRecord, ...] = ()


@runtime_checkable
class CheckpointStore(Protocol):
    """Durable run and step records. Implementations: `SQLiteStore` (default) and `PostgresStore`."""

    def claim(
        self,
        run_id: str,
        workflow: str,
        owner: str,
        inputs: str,
        now: float,
        lease_seconds: float,
        reclaim: str | None = None,
    ) -> Claim:
        """Atomically create or take over the run for `owner` unless it is completed or leased to a live owner.

        `reclaim` names a holder known to be dead (a local process that no longer exists): its
        lease is taken over at once instead of after it expires.
        """
        ...

    def save_step(self, run_id: str, owner: str, step: StepWrite, now: float, lease_until: float) -> None:
        """Durably record a step call and extend the lease; raise `LeaseLost` if `owner` no longer owns the run."""
        ...

    def renew(self, run_id: str, owner: str, now: float, lease_until: float) -> None:
        """Extend the lease; raise `LeaseLost` if `owner` no longer owns the run."""
        ...

    def finish(
        self, run_id: str, owner: str, status: RunStatus, result: str | None, error: str | None, now: float
    ) -> None:
        """Durably record the run's end and release its lease (fenced like `save_step`)."""
        ...

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run with all its step calls in execution order, or None."""
        ...

    def list_runs(
        self, workflow: str | None = None, status: RunStatus | None = None, limit: int = 100
    ) -> list[RunRecord]:
        """Newest runs first, optionally filtered by workflow and status."""
        ...

    def delete_run(self, run_id: str) -> bool:
        """Forget a run and its steps (e.g. to re-execute a completed key); True if it existed."""
        ...

    def prune(self, finished_before: float) -> int:
        """Delete finished runs that ended before `finished_before` (wall time); how many were deleted."""
        ...

    def close(self) -> None: ...


def decode(text: str | None) -> Any:
    """JSON text from the store back to a value (None stays None)."""
    return None if text is None else json.loads(text)


RUN_COLUMNS = (
    "run_id, workflow, status, inputs, result, error, owner, lease_until, attempts, created, updated, finished"
)
STEP_COLUMNS = "step, call_index, seq, status, result, error, attempts, started, finished"


def run_record(row: tuple[Any, ...], completed_steps: int, steps: tuple[StepRecord, ...] = ()) -> RunRecord:
    """Build a `RunRecord` from a row selected as `RUN_COLUMNS`."""
    return RunRecord(
        run_id=row[0],
        workflow=row[1],
        status=row[2],
        inputs=decode(row[3]),
        result=decode(row[4]),
        error=row[5],
        owner=row[6],
        lease_until=row[7],
        attempts=row[8],
        created=row[9],
        updated=row[10],
        finished=row[11],
        completed_steps=completed_steps,
        steps=steps,
    )


def step_record(row: tuple[Any, ...]) -> StepRecord:
    """Build a `StepRecord` from a row selected as `STEP_COLUMNS`."""
    return StepRecord(
        name=row[0],
        call_index=row[1],
        seq=row[2],
        status=row[3],
        result=decode(row[4]),
        error=row[5],
        attempts=row[6],
        started=row[7],
        finished=row[8],
    )


CLAIM_COLUMNS = "workflow, status, owner, lease_until, attempts, result, inputs"


def decide(
    row: tuple[str, str, str | None, float | None, int, str | None, str | None],
    workflow: str,
    run_id: str,
    owner: str,
    now: float,
    inputs: str,
    reclaim: str | None = None,
) -> ClaimOutcome:
    """The claim rule both stores share, from a row selected as `CLAIM_COLUMNS`.

    Completed runs are never re-executed; a running run whose lease is still live belongs to its owner;
    anything else (failed, or running under an expired lease or a holder known dead) may be taken over.
    A key reused with other inputs is refused: its stored steps were computed from the old ones.
    """
    found_workflow, status, holder, lease_until, _attempts, _result, found_inputs = row
    if found_workflow != workflow:
        raise WorkflowMismatch(run_id, workflow, found_workflow)
    if found_inputs is not None and found_inputs != inputs:
        old, new = json.loads(found_inputs), json.loads(inputs)
        if isinstance(old, dict) and isinstance(new, dict) and "args" in old and "args" in new and old != new:
            raise InputsMismatch(run_id, old, new)
    if status == "completed":
        return "completed"
    if status == "running" and holder is not None and holder not in (owner, reclaim) and (lease_until or 0.0) > now:
        return "held"
    return "acquired"
