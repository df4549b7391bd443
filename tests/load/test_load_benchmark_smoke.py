"""benchmarks/load_histogram.py still runs and its accuracy claims hold on a small sample."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "load_histogram.py"


def test_histogram_part_of_the_benchmark_runs() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--skip-runner", "--values", "3000", "--repeat", "1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ns/value" in done.stdout and "locust" in done.stdout
    recoup_row = next(line for line in done.stdout.splitlines() if "recoup " in line and "%" in line)
    # the HDR-style histogram keeps 3 significant digits: no percentile off by 0.1 % or more
    errors = [float(cell.strip().rstrip("%")) for cell in recoup_row.split("│")[2:-1] if cell.strip()]
    assert errors and max(errors) < 0.1, recoup_row


def test_the_client_comparison_runs_on_a_tiny_ladder() -> None:
    bench = BENCH.with_name("load_clients.py")
    done = subprocess.run([sys.executable, str(bench), "--seconds", "0.3", "--rates", "50", "--reference-rate", "50",
                           "--tries", "1", "--vus", "2"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    summary = done.stdout.split("summary", 1)[1]
    assert "aiohttp" in summary and "httpx" in summary and "1.00x" in summary
    stall_rows = [line for line in done.stdout.split("stall:", 1)[1].splitlines() if "aiohttp" in line]
    assert stall_rows and "200" in stall_rows[0]  # all 200 operations of the stall run answered
