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
