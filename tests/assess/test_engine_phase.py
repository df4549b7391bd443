"""The engine phase against the real peers: every case's repair happens and is checked afterwards."""

from __future__ import annotations

import asyncio

from recoup.assess.engine_phase import CASES, run_engine_phase
from recoup.assess.phase_reports import summarise_engine, summarise_workflows
from recoup.assess.workflows import run_workflow_phase


def test_every_repair_case_recovers_and_is_verified() -> None:
    result = asyncio.run(run_engine_phase(len(CASES) * 2, 8, seed=3))
    summary = summarise_engine(result)
    assert set(summary["cases"]) == set(CASES)
    for name, row in summary["cases"].items():
        if row["recoverable"]:
            assert row["verified"] == row["operations"], (name, row["failed_examples"])
        else:
            assert row["succeeded"] == 0
    strategies = {row["strategy"] for row in summary["strategies"].values()}
    assert {"repair", "restore", "fix", "refresh", "fail_fast"} <= strategies


def test_killed_workflows_resume_without_repeating_steps() -> None:
    outcomes = run_workflow_phase(4, seed=2)
    summary = summarise_workflows(outcomes)
    assert summary["killed"] == 2
    assert summary["resumed_correctly"] == 2, summary["errors"]
    assert summary["completed_steps_repeated"] == 0 and summary["steps_missing"] == 0
