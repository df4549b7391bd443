"""Rows for `recoup runs`: one plain dict per run, ready for a table or JSON."""

from __future__ import annotations

from typing import Any

from recoup.recovery.checkpoint.store import CheckpointStore, RunRecord, RunStatus


def run_row(run: RunRecord) -> dict[str, Any]:
    """A run summarised for a table: what ran, how it ended, how far it got and how long it took."""
    end = run.finished if run.finished is not None else run.updated
    return {
        "run_id": run.run_id,
        "workflow": run.workflow,
        "status": run.status,
        "steps_completed": run.completed_steps,
        "attempts": run.attempts,
        "created": run.created,
        "duration_s": round(end - run.created, 6),
        "owner": run.owner,
        "lease_until": run.lease_until,
        "error": run.error,
    }


def runs_table(
    store: CheckpointStore, workflow: str | None = None, status: RunStatus | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest runs as dicts (see `run_row`), for `recoup runs`."""
    return [run_row(run) for run in store.list_runs(workflow=workflow, status=status, limit=limit)]


def run_detail(store: CheckpointStore, run_id: str) -> dict[str, Any] | None:
    """One run with every step call (status, attempts, timings, error), for `recoup runs <id>`."""
    run = store.get_run(run_id)
    if run is None:
        return None
    row = run_row(run)
    row["inputs"] = run.inputs
    row["result"] = run.result
    row["steps"] = [
        {
            "step": s.name,
            "call_index": s.call_index,
            "seq": s.seq,
            "status": s.status,
            "attempts": s.attempts,
            "started": s.started,
            "duration_s": round(s.duration, 6),
            "error": s.error,
        }
        for s in run.steps
    ]
    return row
