"""Kill -9 checkpointed workflows mid-run and resume them: are completed steps ever repeated, and does
the resumed run end with the same result as an uninterrupted one?

Every workflow runs in a real child process (`recoup.assess.workflow_child`) on a SQLite checkpoint
store. Half of them are killed with SIGKILL right after a randomly chosen step was checkpointed, then
resumed in a fresh process; the other half run straight through as the control group.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from recoup.assess.workflow_child import STEPS, expected_result


@dataclass(frozen=True)
class WorkflowOutcome:
    key: str
    killed_after: int
    result_correct: bool
    repeated_steps: int
    missing_steps: int
    resume_seconds: float
    error: str | None = None


def _child(db: str, log: str, key: str, stop_after: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "recoup.assess.workflow_child", db, log, key, str(stop_after)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _one(db: str, folder: str, key: str, stop_after: int) -> WorkflowOutcome:
    log = os.path.join(folder, f"{key}.log")
    try:
        if stop_after:
            victim = _child(db, log, key, stop_after)
            assert victim.stdout is not None
            line = victim.stdout.readline()  # "stopped": step `stop_after` is durable
            if line.strip() != "stopped":
                victim.kill()
                return WorkflowOutcome(key, stop_after, False, 0, 0, 0.0, f"child said {line!r} before the kill")
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
        started = time.monotonic()
        survivor = _child(db, log, key, 0)
        out, err = survivor.communicate(timeout=120)
        seconds = time.monotonic() - started
        if survivor.returncode != 0:
            return WorkflowOutcome(key, stop_after, False, 0, 0, seconds, err.strip().splitlines()[-1][:300])
        result = json.loads(out.strip().splitlines()[-1])["result"]
        with open(log, encoding="utf-8") as handle:
            executed = Counter(line.strip() for line in handle if line.strip())
        repeated = sum(count - 1 for count in executed.values() if count > 1)
        missing = sum(1 for n in range(1, STEPS + 1) if executed[f"{key} step-{n}"] == 0)
        correct = result == expected_result(sum(map(ord, key)))
        return WorkflowOutcome(key, stop_after, correct, repeated, missing, seconds)
    except Exception as exc:  # recorded in the report, never hidden
        return WorkflowOutcome(key, stop_after, False, 0, 0, 0.0, f"{type(exc).__name__}: {exc}")


def run_workflow_phase(
    count: int, seed: int, on_done: Callable[[WorkflowOutcome], None] | None = None
) -> list[WorkflowOutcome]:
    """`count` workflows, every other one killed after a random step in 1..STEPS-1 and then resumed."""
    rng = random.Random(seed)
    folder = tempfile.mkdtemp(prefix="recoup-assess-workflows-")
    db = os.path.join(folder, "checkpoints.db")
    plans = [(f"wf-{i}", rng.randint(1, STEPS - 1) if i % 2 == 0 else 0) for i in range(count)]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(_one, db, folder, key, stop) for key, stop in plans]
            outcomes = []
            for future in futures:
                outcome = future.result()
                if on_done is not None:
                    on_done(outcome)
                outcomes.append(outcome)
        return outcomes
    finally:
        shutil.rmtree(folder, ignore_errors=True)
