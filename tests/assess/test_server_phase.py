"""The server phase: the fault load's telemetry goes to a real recoup server (our own child process, or one already
running on SQLite or PostgreSQL) and is read back; the figures must add up against the run itself."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from recoup.assess.fixtures import closed_port
from recoup.assess.phase_reports import server_markdown, summarise_server
from recoup.assess.plan import AssessConfig
from recoup.assess.runner import RunResult, run_assessment
from recoup.assess.server_phase import (
    OWN_SERVER,
    ServerPhase,
    ServerPhaseConfig,
    ServerPhaseError,
    ServerPhaseResult,
)
from recoup.cli import app
from recoup.server import ServerSettings
from recoup.server.embedded import EmbeddedServer

LOAD = AssessConfig(ops=60, concurrency=10, seed=3, outage_seconds=0.2)


def _run(config: ServerPhaseConfig) -> tuple[RunResult, ServerPhaseResult]:
    with ServerPhase(config) as phase:
        run = asyncio.run(run_assessment(LOAD, lambda _o: None, phase.record_error))
        return run, phase.finish()


def test_embedded_server_receives_every_event_of_the_fault_load() -> None:
    run, result = _run(ServerPhaseConfig(flush_interval=0.2))
    s = summarise_server(result)
    assert s["target"] == OWN_SERVER == "embedded (own process)" and s["database"] == "sqlite"
    assert not s["notes"]  # the project it creates on its own server is no news
    # one ErrorEvent per failed attempt: attempts that did not end in success
    failed_attempts = sum(o.attempts - (1 if o.succeeded else 0) for o in run.outcomes)
    assert s["emitted_by_type"]["error"] == failed_attempts > 0
    assert s["emitted_by_type"]["recovery_attempt"] > 0
    assert s["events_emitted"] == sum(s["emitted_by_type"].values())
    assert s["events_acknowledged"] == s["events_stored"] == s["events_emitted"]
    assert s["events_lost"] == 0 and s["loss_rate"] == 0.0
    assert s["sink_failed_events"] == s["sink_dropped_events"] == 0
    assert s["server_events_by_outcome"] == {"stored": s["events_emitted"]}
    assert set(s["server_requests_by_status"]) == {"200"}
    assert s["ingest_rate_events_per_s"] > 0
    visible = s["visible_latency_ms"]
    assert 0 < visible["count"] == s["visible_sampled"] - s["visible_never_seen"]
    assert 0 < visible["p50"] <= visible["p95"] <= visible["p99"] <= visible["max"]
    received = s["received_latency_ms"]
    assert received["count"] == s["events_stored"] and received["p50"] >= 0
    # a sampled event cannot be visible before the server received it
    for sample in result.samples:
        assert sample.visible is not None and sample.received_at is not None
        assert sample.created <= sample.received_at <= sample.visible
        assert sample.latency is not None and sample.latency_lower is not None
        assert 0 <= sample.latency_lower <= sample.latency
    lower = s["visible_latency_lower_bound_ms"]
    assert lower["count"] == visible["count"] and lower["p50"] <= visible["p50"]
    md = "\n".join(server_markdown(s))
    assert "## Telemetry to a recoup server under the fault load" in md
    assert "| events lost | 0 (0.00%) |" in md
    assert "`recoup serve` in a child process" in md and "(one clock: same host)" in md


def test_running_server_with_admin_token_gets_a_new_project(db_url: str, tmp_path: Path) -> None:
    settings = ServerSettings(db_url=db_url, spool_dir=tmp_path / "spool")
    with EmbeddedServer(settings) as server:
        _, result = _run(ServerPhaseConfig(url=server.url + "/", admin_token=server.admin_token, flush_interval=0.2))
        s = summarise_server(result)
        assert s["target"] == "remote" and s["events_stored"] == s["events_emitted"] > 0
        projects = {p.id for p in server.store.list_projects()}
        assert len(projects) == 2 and server.store.count_events(server.project.id) == 0
        (created,) = projects - {server.project.id}
        assert server.store.count_events(created) == s["events_emitted"]
        assert any("created project" in note for note in s["notes"])


def test_running_server_with_ingest_key_and_token_uses_the_keys_project(tmp_path: Path) -> None:
    with EmbeddedServer(data_dir=tmp_path) as server:
        config = ServerPhaseConfig(
            url=server.url, ingest_key=server.ingest_key, admin_token=server.admin_token, flush_interval=0.2
        )
        _, result = _run(config)
        assert server.store.count_events(server.project.id) == len(result.stored) == len(result.emitted_ids) > 0


def test_ingest_key_alone_sends_but_cannot_read_back(tmp_path: Path) -> None:
    with EmbeddedServer(data_dir=tmp_path) as server:
        _, result = _run(ServerPhaseConfig(url=server.url, ingest_key=server.ingest_key, flush_interval=0.2))
        s = summarise_server(result)
        assert s["events_acknowledged"] == s["events_emitted"] > 0
        assert s["events_stored"] is None and s["events_lost"] is None
        assert s["visible_latency_ms"]["count"] == 0 and s["visible_sampled"] == 0
        assert server.store.count_events(server.project.id) == s["events_emitted"]
        md = "\n".join(server_markdown(s))
        assert "not measured (no admin token)" in md


def test_wrong_ingest_key_is_counted_as_failed_http_requests(tmp_path: Path) -> None:
    with EmbeddedServer(data_dir=tmp_path) as server:
        _, result = _run(ServerPhaseConfig(url=server.url, ingest_key="not-a-key", flush_interval=0.2))
        s = summarise_server(result)
        assert s["events_acknowledged"] == 0 and s["sink_failed_events"] == s["events_emitted"] > 0
        assert s["sink_warning_count"] > 0 and "HTTP 401" in s["sink_warnings"][0]


def test_unreachable_server_or_bad_token_stops_the_phase_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServerPhaseError, match="cannot reach"):
        ServerPhase(ServerPhaseConfig(url=f"http://127.0.0.1:{closed_port()}", admin_token="x")).__enter__()
    with EmbeddedServer(data_dir=tmp_path) as server, pytest.raises(ServerPhaseError, match="HTTP 403"):
        ServerPhase(ServerPhaseConfig(url=server.url, admin_token="wrong-token")).__enter__()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (ServerPhaseConfig(url="ftp://x"), "must start with http"),
        (ServerPhaseConfig(url="http://127.0.0.1:1"), "needs --server-key"),
        (ServerPhaseConfig(ingest_key="k"), "need --server URL"),
        (ServerPhaseConfig(probes_in_flight=0), "probes_in_flight"),
    ],
)
def test_bad_settings_are_refused(config: ServerPhaseConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config.validate()


class _Done:
    def __init__(self, code: int, output: str) -> None:
        self.returncode, self.stderr = code, output


def _assess(tmp_path: Path, *args: str) -> _Done:
    """`recoup assess` in this process (typer's runner: no interpreter start-up per run)."""
    result = CliRunner().invoke(app, ["assess", "--out", str(tmp_path / "report"), "--no-incidents", *args])
    return _Done(result.exit_code, result.output)


SMALL = ("--ops", "40", "--concurrency", "10", "--engine-ops", "0", "--workflows", "0", "--sink-flush-interval", "0.2")


def test_cli_reports_the_server_phase_by_default(tmp_path: Path) -> None:
    done = _assess(tmp_path, *SMALL)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    s = report["results"]["server"]
    assert report["config"]["server"]["url"] == "embedded"
    assert s["events_stored"] == s["events_acknowledged"] == s["events_emitted"] > 0
    assert "server:" in done.stderr and "stored" in done.stderr
    md = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "## Telemetry to a recoup server under the fault load" in md


def test_cli_against_a_running_server_and_without_one(tmp_path: Path) -> None:
    with EmbeddedServer(data_dir=tmp_path / "db") as server:
        done = _assess(tmp_path, *SMALL, "--server", server.url, "--server-key", server.ingest_key,
                       "--server-token", server.admin_token)
        assert done.returncode == 0, done.stderr
        s = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))["results"]["server"]
        assert s["target"] == "remote" and s["events_stored"] == s["events_emitted"] > 0
        assert server.store.count_events(server.project.id) == s["events_emitted"]
    done = _assess(tmp_path, *SMALL, "--no-server")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    assert "server" not in report["results"] and report["config"]["server"] is None
    refused = _assess(tmp_path, *SMALL, "--server-key", "abc")
    assert refused.returncode != 0 and "need --server URL" in refused.stderr


def test_cli_says_why_an_unreachable_server_cannot_be_used(tmp_path: Path) -> None:
    done = _assess(tmp_path, *SMALL, "--server", f"http://127.0.0.1:{closed_port()}", "--server-token", "t")
    assert done.returncode == 2
    assert "cannot reach the server" in done.stderr
    assert not (tmp_path / "report" / "report.json").exists()


def test_report_without_http_stays_importable() -> None:
    # the phase module must not pull httpx or the server in at import time (recoup assess --no-server)
    code = "import sys, recoup.assess.server_phase, recoup.assess.phase_reports; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
    _ = httpx  # the tests themselves use it
