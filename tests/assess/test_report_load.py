"""The load phase's Markdown: the store, the per-fault table and the comparison with the inspiring report."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from recoup.assess.plan import AssessConfig
from recoup.assess.report import INSPIRING_REPORT, summarise, write_report
from recoup.assess.runner import run_assessment


def test_markdown_compares_with_the_inspiring_report_and_names_the_store(tmp_path: Path) -> None:
    config = AssessConfig(ops=40, concurrency=10, transient_rate=0.5, permanent_rate=0.3, seed=2, outage_seconds=0)
    summary = summarise(asyncio.run(run_assessment(config, lambda _o: None)))
    _json_path, md_path, _html_path = write_report(tmp_path, {"max_clears_after": 3, "concurrency": 10}, summary)
    md = md_path.read_text(encoding="utf-8")
    assert "the breaker's state lived in this process's memory." in md
    assert "## Load through the pipeline, per injected fault" in md and "| upstream-hang | network | yes |" in md
    assert "## Compared with the report that inspired this assessment" in md
    rate = summary["recovery_success_rate"] * 100
    assert f"| recovery success rate, recoverable faults | 94% | {rate:.2f}% |" in md
    assert f"| throughput | {INSPIRING_REPORT['throughput_ops_per_s']} ops/s |" in md
    assert "Target for recoverable faults: ≥ 99.9% (" in md
    b = summary["recovery_breakdown"]
    assert f"Of the {b['recovery_mean_ms']:.1f} ms mean recovery time (every recovered operation, " in md
    assert f"{b['backoff_wait_ms']:.1f} ms were recoup's backoff waits" in md
    assert "The HTTP upstream was an asyncio server in its own process (pid " in md
    hl = summary["healthy_latency_ms"]
    assert f"| healthy operation latency p50 / p99 | {hl['p50']:.2f} ms / {hl['p99']:.2f} ms |" in md
    assert "| event-loop lag mean / p99 / max |" in md
    assert "The telemetry server was embedded in this process" not in md  # this run sent no telemetry
    from recoup.assess.report import _render_pipeline

    env = {"finished_at": "now", "python": "3.11", "cpus": 2, "platform": "x"}
    embedded = {**summary, "server": {"target": "embedded"}}
    load_md = _render_pipeline({"max_clears_after": 3, "concurrency": 10}, embedded, env)
    assert "The telemetry server was embedded in this process" in load_md


def test_a_summary_from_before_the_breakdown_still_renders() -> None:
    from recoup.assess.report import render_markdown

    config = AssessConfig(ops=20, concurrency=5, transient_rate=0.5, permanent_rate=0.2, seed=5, outage_seconds=0)
    summary = summarise(asyncio.run(run_assessment(config, lambda _o: None)))
    for key in ("healthy_latency_ms", "recovery_breakdown", "recovery_breakdown_planned_faults", "event_loop_lag_ms",
                "fixture"):
        del summary[key]
    env = {"finished_at": "then", "python": "3.11", "cpus": 2, "platform": "x"}
    md = render_markdown({"max_clears_after": 3, "concurrency": 5}, summary, env)
    assert "| healthy operation latency p50 / p99 | n/a / n/a |" in md
    assert "Where the recovery time went" not in md and "The HTTP upstream was" not in md


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "recoup",
            "assess",
            "--out",
            str(tmp_path / "r"),
            "--no-server",
            "--no-incidents",
            "--engine-ops",
            "0",
            "--workflows",
            "0",
            "--ops",
            "30",
            "--concurrency",
            "10",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_redis_option_puts_the_breaker_in_real_redis_and_says_so(tmp_path: Path) -> None:
    result = _cli(tmp_path, "--redis", "redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert report["config"]["redis"] == "given"  # the URL itself (maybe with a password) stays out of the report
    assert report["results"]["breaker_store"].startswith("redis (redis://127.0.0.1:6379/0, key prefix ")
    assert "the breaker's state lived in redis (" in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")


def test_cli_refuses_a_bad_or_unreachable_redis_by_name(tmp_path: Path) -> None:
    bad = _cli(tmp_path, "--redis", "localhost:6379")
    assert bad.returncode != 0 and "--redis must be a redis://" in bad.stderr
    from recoup.assess.fixtures import closed_port

    down = _cli(tmp_path, "--redis", f"redis://127.0.0.1:{closed_port()}/0")
    assert down.returncode == 2 and "did not answer PING" in down.stderr
    assert not (tmp_path / "r" / "report.json").exists()
