"""`recoup assess` end to end: real faults, a real local server, a report whose figures add up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def _assess(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-m", "recoup", "assess", "--out", str(out), "--no-incidents", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# recoup readiness assessment")
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data


def test_assess_small_run_reports_consistent_figures(tmp_path: Path) -> None:
    report = _assess(
        tmp_path, "--ops", "120", "--concurrency", "20", "--seed", "5", "--engine-ops", "16", "--workflows", "2"
    )
    r = report["results"]
    assert r["operations"] == 120
    assert r["recoverable_faults"] + r["permanent_faults"] + r["clean_operations"] == 120
    assert r["recoverable_faults"] > 0 and r["permanent_faults"] > 0
    assert r["recovery_success_rate"] == r["recovered"] / r["recoverable_faults"]
    assert r["fail_fast_rate"] == r["failed_fast"] / r["permanent_faults"]
    assert r["permanent_that_succeeded"] == 0
    assert r["clean_success_rate"] == 1.0
    assert r["recovery_time_ms"]["count"] == r["recovered"]
    assert r["throughput_ops_per_s"] > 0
    assert report["config"]["seed"] == 5
    engine = r["engine"]
    assert engine["operations"] == 16 and sum(c["operations"] for c in engine["cases"].values()) == 16
    assert engine["recoverable"] + engine["permanent"] == 16
    assert engine["permanent_failed"] == engine["permanent"]  # a KeyError is never "recovered"
    assert engine["repair_success_rate"] == engine["recovered_and_verified"] / engine["recoverable"]
    assert sum(row["calls"] for row in engine["strategies"].values()) == 16  # one outcome event per operation
    workflows = r["workflows"]
    assert workflows["workflows"] == 2 and workflows["killed"] == 1
    md = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "## Recovery through the engine" in md and "## Durable workflows killed with SIGKILL" in md


def test_assess_without_faults_says_not_measured(tmp_path: Path) -> None:
    report = _assess(
        tmp_path,
        *("--ops", "20", "--concurrency", "5", "--transient-rate", "0", "--permanent-rate", "0"),
        *("--outage-seconds", "0", "--engine-ops", "0", "--workflows", "0"),
    )
    assert report["results"]["recovery_success_rate"] is None
    md = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "not measured" in md


def test_assess_rejects_bad_settings_clearly(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "recoup", "assess", "--out", str(tmp_path), "--transient-rate", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "transient_rate must be between 0 and 1" in result.stderr
    assert not (tmp_path / "report.json").exists()
