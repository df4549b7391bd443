"""The `recoup` command as a user runs it: a real subprocess, real stdin/stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _recoup(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recoup", *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_classify_stdin_keeps_order_and_reports_bad_lines() -> None:
    lines = [
        json.dumps({"text": "curl: (7) Failed to connect to 127.0.0.1 port 9: Connection refused"}),
        "{not json",
        "",
        json.dumps({"text": "fatal: not a git repository (or any of the parent directories): .git"}),
        json.dumps({"message": "no text key"}),
    ]
    result = _recoup("classify", stdin="\n".join(lines) + "\n")
    assert result.returncode == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 4  # the blank line is skipped, every other line answered in order
    assert out[0]["category"] == "network" and out[0]["transient"] is True
    assert out[1]["error"].startswith("line 2:")
    assert out[2]["category"] == "git"
    assert "error" in out[3] and "text" in out[3]["error"]
    assert set(out[0]) == {"category", "transient", "confidence", "fingerprint", "reason"}
    assert "bad input line" in result.stderr


def test_classify_file_argument(tmp_path: Path) -> None:
    path = tmp_path / "errors.jsonl"
    path.write_text(json.dumps({"text": "MemoryError"}) + "\n", encoding="utf-8")
    result = _recoup("classify", str(path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["category"] == "resource"


def test_version_and_help() -> None:
    assert _recoup("version").stdout.strip()
    help_text = _recoup("--help").stdout
    assert "assess" in help_text and "classify" in help_text


def test_runs_lists_and_inspects_workflow_runs(tmp_path: Path) -> None:
    db = tmp_path / "ck.db"
    script = f"""
import recoup
from recoup.recovery.checkpoint import SQLiteStore
wf = recoup.Workflow("cli-demo", store=SQLiteStore({str(db)!r}))
@wf.step
def double(x: int) -> int:
    return 2 * x
@wf.main
def main(x: int) -> int:
    return double(x) + double(x + 1)
assert main.run("run-1", 3) == 14
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    listing = _recoup("runs", "--store", str(db), "--json")
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert [(r["run_id"], r["status"], r["steps_completed"]) for r in rows] == [("run-1", "completed", 2)]
    detail = json.loads(_recoup("runs", "run-1", "--store", str(db)).stdout)
    assert [s["step"] for s in detail["steps"]] == ["double", "double"]
    missing = _recoup("runs", "nope", "--store", str(db))
    assert missing.returncode == 1 and "no run 'nope'" in missing.stderr
    assert _recoup("runs", "--store", str(tmp_path / "absent.db")).returncode != 0
