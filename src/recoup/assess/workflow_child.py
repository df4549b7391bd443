"""A child process for the workflow-resume check: runs a 5-step checkpointed workflow, optionally
stopping dead (waiting to be killed with SIGKILL) right after a chosen step has been checkpointed.

Usage: python -m recoup.assess.workflow_child DB LOG RUN_KEY STOP_AFTER   (STOP_AFTER 0 = run to the end)
Each step appends "RUN_KEY step-N" to LOG *as its side effect*, so the parent can count executions.
"""

from __future__ import annotations

import json
import sys
import time

from recoup.recovery.checkpoint import SQLiteStore, Workflow

STEPS = 5


def expected_result(seed: int) -> int:
    """What an uninterrupted run returns, computed without any checkpointing."""
    value = seed
    for n in range(1, STEPS + 1):
        value = value * 31 + n
    return value


def main(db: str, log: str, key: str, stop_after: int) -> None:
    wf = Workflow("assess-resume", store=SQLiteStore(db), lease_seconds=5.0)
    completed = 0

    @wf.step
    def advance(value: int, n: int) -> int:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{key} step-{n}\n")
        return value * 31 + n

    @wf.main
    def pipeline(seed: int) -> int:
        nonlocal completed
        value = seed
        for n in range(1, STEPS + 1):
            if stop_after and completed == stop_after:
                print("stopped", flush=True)
                time.sleep(3600)  # the parent kills us here, after step `stop_after` is durable
            value = advance(value, n)
            completed += 1
        return value

    seed = sum(map(ord, key))
    print(json.dumps({"result": pipeline.run(key, seed)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
