"""The whole Prometheus round trip with the real binaries (Debian's ``prometheus`` and
``prometheus-alertmanager``): recoup serves the catalogue series on /metrics, real Prometheus scrapes them
every second and evaluates a rule exported by `recoup.incidents.export`, real Alertmanager (with the
exported config) posts the firing alert to recoup's webhook, and recoup records it.

The rule is the default HighErrorRate with a 10 s window (exported by the same code), so the test takes
seconds, not minutes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from alertmanager_support import free_port, running_alertmanager, until_ready, wait_for

from recoup.incidents.export.alertmanager_config import AlertmanagerExport, alertmanager_config_yaml
from recoup.incidents.export.prometheus_rules import prometheus_rules_yaml
from recoup.incidents.rules import RuleSet, default_rules
from recoup.server.embedded import EmbeddedServer
from recoup.telemetry.events import ErrorEvent, Outcome, RecoveryOutcomeEvent

PROMETHEUS = "/usr/bin/prometheus"


@dataclass(frozen=True)
class Prometheus:
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_prometheus(workdir: Path, config: dict[str, Any], rules_text: str) -> Iterator[Prometheus]:
    """Real Prometheus on a free 127.0.0.1 port with ``config`` and the rule file, until the block ends."""
    if not Path(PROMETHEUS).exists():
        pytest.fail(f"{PROMETHEUS} is not installed; run scripts/install_tools.sh", pytrace=False)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "rules.yml").write_text(rules_text)
    config = {**config, "rule_files": [str(workdir / "rules.yml")]}
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    log_path = workdir / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--rules.alert.resend-delay=1s", "--log.level=info"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    prom = Prometheus(f"http://127.0.0.1:{port}", log_path)
    with until_ready(process, prom.url, "prometheus", prom.log):
        yield prom


def _fast_high_error_rate() -> RuleSet:
    """The default HighErrorRate, with a 10 s window and short for/min_count (exported by the same code)."""
    rule = default_rules().by_name("HighErrorRate")
    fast = rule.model_copy(update={"window": 10.0, "for_": 1.0, "keep_firing_for": 0.0, "min_count": 4})
    return RuleSet(rules=(fast,))


def _firing(server: EmbeddedServer) -> dict[str, Any] | None:
    answer = httpx.get(f"{server.url}/api/v1/alerts", headers=server.admin_headers, timeout=10)
    answer.raise_for_status()
    found = [a for a in answer.json()["alerts"]
             if a["labels"].get("alertname") == "HighErrorRate" and a["status"] == "firing"]
    return found[0] if found else None


def _open_incident(server: EmbeddedServer) -> dict[str, Any] | None:
    answer = httpx.get(f"{server.url}/api/v1/incidents", headers=server.admin_headers, timeout=10)
    answer.raise_for_status()
    found = [i for i in answer.json()["incidents"] if i["status"] != "resolved"
             and any(a["alertname"] == "HighErrorRate" for a in i["alerts"])]
    return found[0] if found else None


@pytest.mark.slow
def test_prometheus_fires_an_exported_rule_and_alertmanager_delivers_it_to_recoup(tmp_path: Path) -> None:
    with EmbeddedServer(data_dir=tmp_path / "recoup", project_name="shop") as server:
        am_config = alertmanager_config_yaml(
            AlertmanagerExport(server.url, credentials=server.ingest_key, group_wait=0.1, group_interval=1.0,
                               repeat_interval=3600.0),
            _fast_high_error_rate(),
        )
        with running_alertmanager(tmp_path / "alertmanager", am_config) as am:
            prom_config = {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [am.url.removeprefix("http://")]}]}]},
                "scrape_configs": [{"job_name": "recoup", "static_configs": [
                    {"targets": [server.url.removeprefix("http://")]}]}],
            }
            rules_text = prometheus_rules_yaml(_fast_high_error_rate(), interval=1.0)
            with running_prometheus(tmp_path / "prometheus", prom_config, rules_text) as prom, \
                    httpx.Client(timeout=10) as client:
                assert _firing(server) is None
                deadline = time.monotonic() + 25
                alert = None
                while alert is None:
                    # failures keep coming (a counter's first scrape is its baseline, so one burst is not enough)
                    now = time.time()
                    events = [
                        ErrorEvent(exception_type="ConnectionResetError", message="reset", service="checkout",
                                   timestamp=now).to_dict(),
                        # operations that succeed: the in-process recovery-SLO rules stay quiet, so the
                        # incident below can only come from Prometheus's alert
                        RecoveryOutcomeEvent(operation="pay", strategy="retry", outcome=Outcome.SUCCEEDED,
                                             tags={"service": "checkout"}, timestamp=now).to_dict(),
                    ] * 2
                    sent = client.post(f"{server.url}/api/v1/events", json={"events": events},
                                       headers=server.ingest_headers)
                    assert sent.status_code in (200, 202), sent.text
                    alert = _firing(server)
                    if alert is None and time.monotonic() > deadline:
                        raise AssertionError(
                            "recoup never recorded HighErrorRate; prometheus alerts: "
                            f"{client.get(f'{prom.url}/api/v1/alerts').text}\nprometheus log:\n{prom.log()}\n"
                            f"alertmanager log:\n{am.log()}")
                    time.sleep(0.3)
                # Prometheus itself evaluated the exported expression over recoup's series
                rules = client.get(f"{prom.url}/api/v1/rules").json()["data"]["groups"][0]["rules"]
                assert rules[0]["name"] == "HighErrorRate" and rules[0]["health"] == "ok"
                project = server.project
                assert alert["project_id"] == project.id  # the exported webhook credentials are the ingest key
                labels = alert["labels"]
                assert labels["project"] == str(project.id)  # series carry the project id (create_app's choice)
                assert labels["service"] == "checkout"
                assert labels["severity"] == "critical" and labels["recoup_rule"] == "HighErrorRate"
                assert labels["incident_type"] == "error_rate_spike"
                assert alert["annotations"]["summary"] == "Error rate of checkout above 5%"
                assert alert["generator_url"].startswith("http://")  # Prometheus's link to the expression
                # ... and recoup opens the incident for it
                incident = wait_for(lambda: _open_incident(server), timeout=10, what="recoup to open the incident")
    assert incident["incident_type"] == "error_rate_spike" and incident["severity"] == "critical"
    attached = next(a for a in incident["alerts"] if a["alertname"] == "HighErrorRate")
    assert attached["fingerprint"].startswith("am:")  # the alert Alertmanager delivered, not an in-process one
    assert attached["service"] == "checkout"
