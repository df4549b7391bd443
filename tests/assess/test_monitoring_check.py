"""Monitoring evidence against a real embedded recoup server and the real Prometheus binary: series read with
Prometheus's own parser, load-fed series required to carry samples, and a real scrape proved through
Prometheus's HTTP API."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from recoup.assess.monitoring_check import PROOF_SERIES, check_monitoring, expected_series, scrape_with_prometheus
from recoup.assess.readiness import check_monitoring as score_monitoring
from recoup.server.embedded import EmbeddedServer
from recoup.telemetry.events import ErrorEvent, Outcome, RecoveryOutcomeEvent


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    with EmbeddedServer(data_dir=tmp_path_factory.mktemp("recoup")) as running:
        yield running


def send_load(server: EmbeddedServer) -> None:
    now = time.time()
    events = [
        ErrorEvent(exception_type="ConnectionResetError", message="reset", service="shop", timestamp=now).to_dict(),
        RecoveryOutcomeEvent(operation="pay", strategy="retry", outcome=Outcome.RECOVERED,
                             tags={"service": "shop"}, timestamp=now).to_dict(),
    ]
    answer = httpx.post(f"{server.url}/api/v1/events", json={"events": events}, headers=server.ingest_headers,
                        timeout=10)
    assert answer.status_code in (200, 202), answer.text


def test_series_are_parsed_and_load_fed_ones_need_samples(server: EmbeddedServer) -> None:
    fresh = EmbeddedServer(data_dir=None)
    with fresh:
        before = check_monitoring(fresh.url, prometheus=None)
        assert before["metrics_fetched"] and before["expected"] == len(expected_series())
        missing = {s["name"] for s in before["series"] if not s["ok"]}
        assert {"recoup_events", "recoup_errors", "recoup_operations"} <= missing  # declared, but no samples yet
        assert all(s["declared"] for s in before["series"])  # every catalogue series is declared up front
        send_load(fresh)
        after = check_monitoring(fresh.url, prometheus=None)
    assert after["ok"] == after["expected"], [s for s in after["series"] if not s["ok"]]
    by_name = {s["name"]: s for s in after["series"]}
    assert by_name["recoup_errors"]["samples"] >= 1 and by_name["recoup_ingest_events"]["samples"] >= 1
    assert after["prometheus"] == {"available": False, "scraped": False, "reason": "scrape check switched off"}
    scored = score_monitoring({"monitoring": after})
    assert scored.score == 0.5  # series all there, scrape not proved
    assert score_monitoring({"monitoring": before}).score == pytest.approx(before["ok"] / before["expected"] * 0.5)


@pytest.mark.slow
def test_a_real_prometheus_scrapes_the_server(server: EmbeddedServer) -> None:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed; run scripts/install_tools.sh", pytrace=False)
    send_load(server)
    evidence = check_monitoring(server.url, timeout=30)
    prom = evidence["prometheus"]
    assert prom["scraped"], prom
    assert prom["up"] == 1.0 and prom["series_found"] >= 1 and prom["series_queried"] == PROOF_SERIES
    assert prom["stopped"] == "terminated" and prom["version"].startswith("prometheus")
    scored = score_monitoring({"monitoring": evidence})
    assert scored.score == 1.0, scored.gap


def test_a_prometheus_that_cannot_run_is_evidence_of_failure(server: EmbeddedServer, tmp_path: Path) -> None:
    broken = tmp_path / "prometheus"
    broken.write_text("#!/bin/sh\necho 'bad flag' >&2\nexit 3\n")
    broken.chmod(0o755)
    evidence = check_monitoring(server.url, prometheus=str(broken), timeout=5)
    prom = evidence["prometheus"]
    assert prom["available"] and not prom["scraped"]
    assert "prometheus exited with 3" in prom["reason"] and "bad flag" in prom["reason"]
    scored = score_monitoring({"monitoring": evidence})
    assert scored.score == 0.0 and "Prometheus ran but did not scrape" in (scored.gap or "")


def test_a_binary_that_cannot_start_is_recorded(server: EmbeddedServer, tmp_path: Path) -> None:
    not_executable = tmp_path / "prometheus"
    not_executable.write_text("not a program")
    prom = check_monitoring(server.url, prometheus=str(not_executable))["prometheus"]
    assert not prom["scraped"] and "Permission denied" in prom["reason"]


def test_an_unreachable_server_is_recorded_not_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens there
    evidence = check_monitoring(f"http://127.0.0.1:{port}", prometheus=None)
    assert not evidence["metrics_fetched"] and evidence["error"].startswith("ConnectError")
    assert score_monitoring({"monitoring": evidence}).score == 0.0


def test_bad_arguments_name_themselves(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="prometheus: '/nonexistent/prometheus' is not a file"):
        check_monitoring("http://127.0.0.1:1", prometheus="/nonexistent/prometheus")
    with pytest.raises(ValueError, match="base_url: 'ftp://x' is not an http"):
        scrape_with_prometheus("ftp://x", "/bin/true")
    with pytest.raises(ValueError, match=r"load_fed: unknown catalogue metric\(s\) \['nope'\]"):
        expected_series(["nope"])
