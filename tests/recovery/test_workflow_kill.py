"""kill -9 mid-workflow, then resume in a new process: on SQLite and on PostgreSQL.

A child process runs a 10-step workflow and blocks inside step K (after steps 0..K-1 are
checkpointed). The parent checks the checkpoints are there, SIGKILLs the child, and resumes the run
in a fresh process. Completed steps must not run again and the result must equal an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from recoup.recovery.checkpoint import open_store

PG_URL = os.environ.get("RECOUP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BLOCK_AT = 6

CHILD = """
import json, os, sys, time
from pathlib import Path
from recoup.recovery.checkpoint import Workflow, open_store

kind, location, schema, run_id, effects, block_at, marker = sys.argv[1:8]
store = open_store(location, schema_name=schema) if kind == "postgres" else open_store(location)
wf = Workflow("ten", store=store)

@wf.step
def work(i: int, x: int) -> int:
    with open(effects, "a") as f:
        f.write(f"work{i}\\n")
        f.flush()
        os.fsync(f.fileno())
    if i == int(block_at):
        Path(marker).write_text(str(os.getpid()))
        time.sleep(120)
    return 3 * x + i

@wf.main
def main(seed: int) -> dict:
    x = seed
    for i in range(10):
        x = work(i, x)
    return {"final": x, "seed": seed}

print(json.dumps(wf.run(run_id, 11)))
"""


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    if request.param == "sqlite":
        yield ("sqlite", str(tmp_path / "checkpoints.db"), "")
        return
    schema = f"recoup_test_{uuid.uuid4().hex[:12]}"
    yield ("postgres", PG_URL, schema)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _child(
    script: Path, location: tuple[str, str, str], run_id: str, effects: Path, block_at: int, marker: Path
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), *location, run_id, str(effects), str(block_at), str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> object:
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_sigkill_mid_workflow_resumes_without_repeating_completed_steps(
    location: tuple[str, str, str], tmp_path: Path
) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    marker = tmp_path / "blocked"
    effects = tmp_path / "effects"

    victim = _child(script, location, "victim", effects, BLOCK_AT, marker)
    reference = _child(script, location, "reference", tmp_path / "reference-effects", -1, tmp_path / "unused")
    store = open_store(location[1], schema_name=location[2]) if location[0] == "postgres" else open_store(location[1])
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert victim.poll() is None, victim.stderr.read() if victim.stderr else ""
            assert time.monotonic() < deadline, "child never reached the blocking step"
            time.sleep(0.01)

        before = store.get_run("victim")
        assert before is not None
        assert before.status == "running" and before.completed_steps == BLOCK_AT

        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        assert victim.returncode == -signal.SIGKILL

        # A new process resumes at once: the killed holder was local and is gone, so its lease is reclaimed.
        resumed = _finish(_child(script, location, "victim", effects, -1, tmp_path / "unused"))
        expected = _finish(reference)
        assert resumed == expected
        counts = Counter(effects.read_text().split())
        assert [counts[f"work{i}"] for i in range(10)] == [1] * BLOCK_AT + [2] + [1] * (9 - BLOCK_AT)

        after = store.get_run("victim")
        assert after is not None
        assert after.status == "completed" and after.attempts == 2 and after.completed_steps == 10
        # Running the finished key again executes nothing.
        assert _finish(_child(script, location, "victim", effects, -1, marker)) == expected
        assert sum(Counter(effects.read_text().split()).values()) == 11
    finally:
        store.close()
        for proc in (victim, reference):
            if proc.poll() is None:  # only if an assertion failed before the kill
                proc.kill()
                proc.wait(10)
