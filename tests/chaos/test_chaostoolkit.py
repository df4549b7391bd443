"""recoup's Chaos Toolkit activities against real components: a recoup server (EmbeddedServer, uvicorn on
127.0.0.1, the example's alert rules), recoup's fault proxy with its toxiproxy-style control API, and a
plain HTTP service behind the proxy. Errors are checked through chaoslib's own `run_activity`, so the
messages are the ones an experiment's journal records."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from recoup.chaos.chaostoolkit import ActivityError, actions, discover, probes
from recoup.server import ServerSettings
from recoup.server.embedded import EmbeddedServer
from recoup.testing import FakeClock

proxy_module = pytest.importorskip("recoup.chaos.proxy", reason="recoup.chaos.proxy (the fault proxy) is not there")
chaoslib_activity = pytest.importorskip("chaoslib.activity", reason="the Chaos Toolkit is not installed")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "chaos"
INCIDENTS = EXAMPLES / "incidents.yaml"


class _Service(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the reset_peer toxic resets connections on purpose


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    """A service answering 200 "ok" on 127.0.0.1; yields its host:port."""
    server = _QuietServer(("127.0.0.1", 0), _Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def recoup(tmp_path: Path) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(db_url=f"sqlite:///{tmp_path / 'recoup.db'}", spool_dir=tmp_path / "spool",
                              incidents_config=INCIDENTS, evaluation_interval_seconds=0.25)
    with EmbeddedServer(settings) as server:
        yield server


@dataclass(frozen=True)
class Lab:
    """Where everything is, as an experiment's configuration and secrets would say it."""

    configuration: dict[str, Any]
    secrets: dict[str, Any]
    service_url: str  # the service, through the proxy "web"
    server: EmbeddedServer


@pytest.fixture
def lab(recoup: EmbeddedServer, service: str) -> Iterator[Lab]:
    with proxy_module.ProxyServer() as proxies, proxy_module.ControlServer(proxies, "127.0.0.1:0") as control:
        configuration = {"recoup_url": recoup.url, "recoup_proxy_url": control.url}
        created = actions.create_proxy("web", "127.0.0.1:0", service, configuration=configuration)
        yield Lab(configuration, {"recoup_admin_token": recoup.admin_token, "recoup_ingest_key": recoup.ingest_key},
                  f"http://{created['listen']}/", recoup)


def closed_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def run_activity(module: str, func: str, arguments: dict[str, Any], lab: Lab, secrets: dict[str, Any] | None = None,
                 kind: str = "probe") -> Any:
    """One activity through chaoslib, as `chaos run` plays it (secrets under the name "recoup")."""
    activity = {"type": kind, "name": func, "provider": {
        "type": "python", "module": f"recoup.chaos.chaostoolkit.{module}", "func": func, "arguments": arguments,
        "secrets": ["recoup"]}}
    chaoslib_activity.ensure_activity_is_valid(activity)
    return chaoslib_activity.run_activity(activity, lab.configuration,
                                          {"recoup": lab.secrets if secrets is None else secrets})


# -- the fault proxy ---------------------------------------------------------------------------------------


def test_a_latency_toxic_shows_in_the_response_time_and_reset_removes_it(lab: Lab) -> None:
    conf = lab.configuration
    assert probes.response_time(lab.service_url) < 0.2
    added = actions.add_toxic("web", "latency", {"latency": 300}, name="slow", configuration=conf)
    assert added == {"name": "slow", "type": "latency", "stream": "downstream", "toxicity": 1.0,
                     "attributes": {"latency": 300, "jitter": 0}}
    assert probes.proxy_toxics("web", configuration=conf) == [added]
    assert probes.response_time(lab.service_url) >= 0.3
    actions.update_toxic("web", "slow", {"latency": 0}, configuration=conf)
    assert probes.proxy_toxics("web", configuration=conf)[0]["attributes"]["latency"] == 0
    actions.add_toxic("web", "reset_peer", {"timeout": 0}, configuration=conf)
    failed = probes.service_check(lab.service_url)
    assert failed["ok"] is False and failed["status"] is None and "reset" in failed["error"].lower()
    with pytest.raises(ActivityError, match=r"GET http://127\.0\.0\.1:\d+/ failed"):
        probes.response_time(lab.service_url)
    actions.reset_proxies(configuration=conf)
    assert probes.proxy_toxics("web", configuration=conf) == []
    assert probes.service_check(lab.service_url)["status"] == 200


def test_a_disabled_proxy_refuses_connections_until_enabled(lab: Lab) -> None:
    conf = lab.configuration
    assert actions.disable_proxy("web", configuration=conf)["enabled"] is False
    assert probes.proxy_enabled("web", configuration=conf) is False
    assert probes.service_check(lab.service_url, timeout=2)["ok"] is False
    actions.enable_proxy("web", configuration=conf)
    assert probes.proxy_enabled("web", configuration=conf) is True
    assert probes.service_check(lab.service_url)["ok"] is True


def test_a_match_makes_the_toxic_conditional(lab: Lab) -> None:
    actions.add_toxic("web", "http_status", {"status": 503}, stream="upstream", name="only_admin", match="/admin",
                      configuration=lab.configuration)
    assert probes.service_check(lab.service_url)["status"] == 200
    assert probes.service_check(lab.service_url + "admin")["status"] == 503


def test_proxy_errors_name_the_proxy_the_toxic_and_quote_the_api(lab: Lab) -> None:
    with pytest.raises(chaoslib_exceptions().ActivityFailed,
                       match=r"proxy 'nope': add toxic 'latency_downstream' \(latency\): POST .* answered 404"):
        run_activity("actions", "add_toxic", {"proxy": "nope", "type": "latency"}, lab, kind="action")
    with pytest.raises(ActivityError, match=r"answered 400: unknown attribute.*latncy"):
        actions.add_toxic("web", "latency", {"latncy": 5}, configuration=lab.configuration)
    with pytest.raises(ActivityError, match=r"proxy 'web': remove toxic 'ghost': DELETE .* answered 404"):
        actions.remove_toxic("web", "ghost", configuration=lab.configuration)
    with pytest.raises(ActivityError, match="stream must be 'upstream' or 'downstream', got 'sideways'"):
        actions.add_toxic("web", "latency", stream="sideways", configuration=lab.configuration)
    with pytest.raises(ActivityError, match=r"reset proxies: POST http://127\.0\.0\.1:\d+/reset failed"):
        actions.reset_proxies(configuration={"recoup_proxy_url": closed_url()})
    with pytest.raises(ActivityError, match="'recoup_proxy_url' must be an http:// or https:// URL, got '127"):
        actions.reset_proxies(configuration={"recoup_proxy_url": "127.0.0.1:8474"})


def chaoslib_exceptions() -> Any:
    import chaoslib.exceptions

    return chaoslib.exceptions


# -- the recoup server -------------------------------------------------------------------------------------


def test_an_error_burst_raises_the_alert_and_the_incident(lab: Lab) -> None:
    """(Both clearing again is checked by the example experiment's run below.)"""
    conf, sec = lab.configuration, lab.secrets
    assert probes.health(configuration=conf) is True
    assert probes.metric_value("recoup_errors_total", {"service": "checkout"}, configuration=conf) == 0.0
    assert probes.live_alert_count(severity="critical", configuration=conf, secrets=sec) == 0

    sent = run_activity("actions", "send_error_events", {"count": 25, "service": "checkout"}, lab, kind="action")
    assert sent == {"sent": 25, "accepted": 25, "duplicates": 0, "spooled": False}

    alerts = probes.wait_for_alert("ErrorBurst", "critical", timeout=10, configuration=conf, secrets=sec)
    assert [(a["alertname"], a["labels"]["service"], a["value"]) for a in alerts] == [("ErrorBurst", "checkout", 25)]
    incidents = probes.wait_for_incident(alertname="ErrorBurst", timeout=10, configuration=conf, secrets=sec)
    assert incidents[0]["severity"] == "critical" and incidents[0]["alerts"] == ["ErrorBurst"]
    assert probes.metric_value("recoup_errors", {"service": "checkout"}, configuration=conf) == 25.0
    assert probes.metric_value("recoup_alerts_live", {"severity": "critical"}, configuration=conf) == 1.0

    assert probes.open_incident_count(severity="critical", configuration=conf, secrets=sec) == 1
    assert probes.open_incident_count(alertname="HighErrorRate", configuration=conf, secrets=sec) == 0


def test_error_ratio_divides_errors_by_operations(lab: Lab) -> None:
    conf, sec = lab.configuration, lab.secrets
    assert probes.error_ratio("billing", configuration=conf) == 0.0
    actions.send_error_events(2, service="billing", configuration=conf, secrets=sec)
    with pytest.raises(ActivityError, match="'billing' has 2 errors but no operations"):
        probes.error_ratio("billing", configuration=conf)
    outcomes = [{"type": "recovery_outcome", "operation": "pay", "strategy": "retry", "outcome": "succeeded",
                 "tags": {"service": "billing"}} for _ in range(8)]
    assert actions.send_events(outcomes, configuration=conf, secrets=sec)["accepted"] == 8
    actions.send_error_events(1, service="billing", category="validation", configuration=conf, secrets=sec)
    assert probes.error_ratio("billing", configuration=conf) == 0.25  # validation errors do not count
    assert probes.error_ratio("billing", exclude_categories=[], configuration=conf) == 3 / 8


def test_declared_incidents_and_silences_round_trip(lab: Lab) -> None:
    conf, sec = lab.configuration, lab.secrets
    incident = actions.declare_incident("checkout is slow", severity="warning", configuration=conf, secrets=sec)
    assert incident["status"] == "triggered" and incident["declared_by"] == "chaostoolkit"
    assert [i["id"] for i in probes.open_incidents(configuration=conf, secrets=sec)] == [incident["id"]]
    assert actions.resolve_incident(incident["id"], configuration=conf, secrets=sec)["status"] == "resolved"
    second = actions.declare_incident("again", configuration=conf, secrets=sec)
    assert actions.resolve_open_incidents(configuration=conf, secrets=sec) == [second["id"]]
    assert probes.open_incident_count(configuration=conf, secrets=sec) == 0

    silence = actions.silence_alerts(['service="checkout"'], duration="10m", configuration=conf, secrets=sec)
    assert silence["state"] in ("pending", "active") and silence["created_by"] == "chaostoolkit"
    assert actions.expire_silences(configuration=conf, secrets=sec) == [silence["id"]]
    assert actions.expire_silences(configuration=conf, secrets=sec) == []


def test_a_wrong_admin_token_fails_the_activity_with_the_servers_reason(lab: Lab) -> None:
    failed = chaoslib_exceptions().ActivityFailed
    with pytest.raises(failed, match=r"recoup live alerts: GET http://127\.0\.0\.1:\d+/api/v1/alerts/live answered "
                                     r"403: invalid or revoked admin token"):
        run_activity("probes", "live_alerts", {}, lab, secrets={"recoup_admin_token": "not-the-token"})
    with pytest.raises(failed, match=r"recoup ingest \(events 0\.\.2\): POST .*/api/v1/events answered 401: unknown "
                                     r"ingest key"):
        run_activity("actions", "send_error_events", {"count": 3}, lab, secrets={"recoup_ingest_key": "nope"},
                     kind="action")
    with pytest.raises(failed, match=r"recoup's admin API needs 'recoup_admin_token'"):
        run_activity("probes", "open_incidents", {}, lab, secrets={})


def test_bad_arguments_are_refused_before_anything_is_sent(lab: Lab) -> None:
    conf, sec = lab.configuration, lab.secrets
    with pytest.raises(ActivityError, match=r"category must be one of network, service, .* got 'netwrk'"):
        actions.send_error_events(5, category="netwrk", configuration=conf, secrets=sec)
    with pytest.raises(ActivityError, match="count must be an integer from 1 to 100000, got 0"):
        actions.send_error_events(0, configuration=conf, secrets=sec)
    with pytest.raises(ActivityError, match="state must be 'pending' or 'firing'"):
        probes.live_alerts(state="resolved", configuration=conf, secrets=sec)
    with pytest.raises(ActivityError, match="no series 'recoup_eror_total' on /metrics; did you mean: recoup_errors,"):
        probes.metric_value("recoup_eror_total", configuration=conf)
    with pytest.raises(ActivityError, match="'recoup_ingest_request_seconds' is a histogram on recoup's /metrics: "
                                            "ask for recoup_ingest_request_seconds_count, "):
        probes.metric_value("recoup_ingest_request_seconds", configuration=conf)
    with pytest.raises(ActivityError, match="'recoup_timeout' must be a number of seconds, got 'soon'"):
        probes.metric_value("recoup_errors", configuration={**conf, "recoup_timeout": "soon"})
    assert probes.metric_value("recoup_ingest_request_seconds_count", configuration=conf) == 0.0


def test_waiting_gives_up_after_the_timeout_and_says_what_it_saw(lab: Lab) -> None:
    clock = FakeClock()
    with pytest.raises(ActivityError, match=r"no live alert matching alertname='ErrorBurst'.* after 3 s; last seen: "
                                            r"\[\]"):
        probes.wait_for_alert("ErrorBurst", timeout=3, interval=1, configuration=lab.configuration,
                              secrets=lab.secrets, clock=clock)
    assert clock.sleeps == [1.0, 1.0, 1.0]
    with pytest.raises(ActivityError, match="timeout must be a positive number of seconds, got 0"):
        probes.wait_for_incident(timeout=0, configuration=lab.configuration, secrets=lab.secrets, clock=clock)


def test_an_unreachable_server_is_unhealthy_not_an_error() -> None:
    assert probes.health(configuration={"recoup_url": closed_url()}) is False
    answer = probes.service_check(closed_url() + "/")
    assert answer["ok"] is False and answer["status"] is None and "refused" in answer["error"]


# -- discovery ---------------------------------------------------------------------------------------------


def test_discover_lists_every_activity_with_its_arguments_and_the_system(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECOUP_URL", lab.server.url)
    monkeypatch.setenv("RECOUP_PROXY_URL", lab.configuration["recoup_proxy_url"])
    found = discover(discover_system=True)
    assert found["extension"]["name"] == "recoup"
    by_name = {a["name"]: a for a in found["activities"]}
    assert set(by_name) == {*actions.__all__, *probes.__all__}
    assert all(by_name[n]["type"] == "action" for n in actions.__all__)
    assert all(by_name[n]["type"] == "probe" for n in probes.__all__)
    assert [a["name"] for a in by_name["add_toxic"]["arguments"]] == [
        "proxy", "type", "attributes", "stream", "toxicity", "name", "match"]  # configuration is not an argument
    assert by_name["live_alert_count"]["return_type"] == "integer"
    assert found["system"]["recoup"] == {"url": lab.server.url, "reachable": True}
    assert [p["name"] for p in found["system"]["proxy"]["proxies"]] == ["web"]
    monkeypatch.setenv("RECOUP_URL", closed_url())
    assert discover(discover_system=True)["system"]["recoup"]["reachable"] is False
    assert discover(discover_system=False)["system"] is None


# -- the real `chaos` CLI ----------------------------------------------------------------------------------

CHAOS = Path(sys.executable).parent / "chaos"


def chaos(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The Chaos Toolkit CLI as a user runs it (no version check: no network; settings and log in ``cwd``)."""
    if not CHAOS.exists():
        pytest.skip(f"the chaos CLI is not installed next to {sys.executable}")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RECOUP_", "CHAOS_"))}
    command = [str(CHAOS), "--no-version-check", "--no-log-file", "--settings", str(cwd / "settings.yaml"), *args]
    return subprocess.run(command, cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True,
                          timeout=90, check=False)


def journal_runs(journal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {run["activity"]["name"]: run for run in journal["run"]}


def test_chaos_run_plays_the_example_experiment_end_to_end(lab: Lab, tmp_path: Path) -> None:
    env = {"RECOUP_URL": lab.server.url, "RECOUP_PROXY_URL": lab.configuration["recoup_proxy_url"],
           "CHAOS_SERVICE_URL": lab.service_url, "RECOUP_ADMIN_TOKEN": lab.server.admin_token,
           "RECOUP_INGEST_KEY": lab.server.ingest_key, "CHAOS_RECOVERY_TIMEOUT": "20"}
    done = chaos(["run", "--journal-path", str(tmp_path / "journal.json"), str(EXAMPLES / "experiment.json")],
                 tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    journal = json.loads((tmp_path / "journal.json").read_text())
    assert (journal["status"], journal["deviated"]) == ("completed", False)
    runs = journal_runs(journal)
    assert {name: run["status"] for name, run in runs.items() if run["status"] != "succeeded"} == {}
    assert runs["measure-the-latency-through-the-proxy"]["output"] >= 0.5  # the 500 ms latency toxic
    failed = runs["the-service-fails-through-the-proxy"]["output"]
    assert failed["ok"] is False and failed["status"] is None  # the reset_peer toxic
    assert runs["the-service-reports-an-error-burst"]["output"]["accepted"] == 30
    [alert] = runs["recoup-raises-a-critical-alert"]["output"]
    assert (alert["alertname"], alert["severity"], alert["state"], alert["value"]) == ("ErrorBurst", "critical",
                                                                                       "firing", 30)
    assert alert["labels"]["service"] == "checkout"
    [incident] = runs["recoup-opens-an-incident"]["output"]
    assert incident["severity"] == "critical" and incident["alerts"] == ["ErrorBurst"]
    assert runs["recoup-clears-the-alert"]["output"] == 0
    assert runs["recoup-resolves-the-incident"]["output"] == 0
    for moment in ("before", "after"):
        outputs = {p["activity"]["name"]: p["output"] for p in journal["steady_states"][moment]["probes"]}
        assert journal["steady_states"][moment]["steady_state_met"] is True
        assert outputs["no-critical-alert-is-live"] == 0 and outputs["service-answers-through-the-proxy"]["ok"]
    assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [("remove-every-fault", "succeeded")]
    assert probes.proxy_toxics("web", configuration=lab.configuration) == []


def _probe(name: str, func: str, arguments: dict[str, Any], tolerance: Any = None, *,
           module: str = "probes") -> dict[str, Any]:
    probe: dict[str, Any] = {"type": "probe" if module == "probes" else "action", "name": name, "provider": {
        "type": "python", "module": f"recoup.chaos.chaostoolkit.{module}", "func": func, "arguments": arguments}}
    if tolerance is not None:
        probe["tolerance"] = tolerance
    return probe


def test_chaos_run_reports_a_deviation_the_failed_activity_and_still_rolls_back(lab: Lab, tmp_path: Path) -> None:
    """A fault left in place breaks the hypothesis after the method (deviated, exit 1); a probe with a wrong
    admin token fails with the server's reason in the journal; the rollback removes the fault anyway."""
    experiment = {
        "version": "1.0.0", "title": "latency left behind", "description": "generated by the test",
        "configuration": {**lab.configuration, "recoup_admin_token": "not-the-token"},
        "steady-state-hypothesis": {"title": "the service answers quickly", "probes": [
            _probe("fast", "response_time", {"url": lab.service_url}, {"type": "range", "range": [0, 0.3]})]},
        "method": [
            _probe("slow-down", "add_toxic", {"proxy": "web", "type": "latency", "attributes": {"latency": 400}},
                   module="actions"),
            _probe("alerts-with-a-wrong-token", "live_alerts", {}),
        ],
        "rollbacks": [_probe("reset", "reset_proxies", {}, module="actions")],
    }
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(experiment))
    done = chaos(["run", "--journal-path", str(tmp_path / "journal.json"), str(path)], tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    journal = json.loads((tmp_path / "journal.json").read_text())
    assert (journal["status"], journal["deviated"]) == ("completed", True)
    [after] = journal["steady_states"]["after"]["probes"]
    assert after["tolerance_met"] is False and after["output"] >= 0.4
    wrong = journal_runs(journal)["alerts-with-a-wrong-token"]
    assert wrong["status"] == "failed"
    assert "answered 403: invalid or revoked admin token" in wrong["exception"][-1]
    assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [("reset", "succeeded")]
    assert probes.proxy_toxics("web", configuration=lab.configuration) == []


def _distribution(site: Path, name: str, top_level: str) -> None:
    """Installed-package metadata naming ``top_level`` as the distribution's import package. `chaos discover`
    finds an extension's package through it; recoup's editable install in this venv records none."""
    info = site / f"{name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "top_level.txt").write_text(top_level + "\n")


def test_chaos_discover_finds_every_activity(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _distribution(site, "recoup-chaostoolkit", "recoup.chaos.chaostoolkit")
    done = chaos(["discover", "--no-install", "--no-system-info", "--discovery-path", str(tmp_path / "d.json"),
                  "recoup-chaostoolkit"], tmp_path, {"PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads((tmp_path / "d.json").read_text())
    assert found["extension"] == {"name": "recoup", "version": recoup_version()}
    assert found["system"] is None
    kinds = {(a["type"], a["name"]) for a in found["activities"]}
    assert kinds == {("action", n) for n in actions.__all__} | {("probe", n) for n in probes.__all__}


def recoup_version() -> str:
    import recoup

    return recoup.__version__


def test_chaos_discover_recoup_by_its_distribution_name(tmp_path: Path) -> None:
    """`chaos discover recoup` imports the top-level package `recoup` and calls its `discover`."""
    site = tmp_path / "site"
    _distribution(site, "recoup", "recoup")  # what a wheel install records (an editable one records nothing)
    done = chaos(["discover", "--no-install", "--no-system-info", "--discovery-path", str(tmp_path / "d.json"),
                  "recoup"], tmp_path, {"PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads((tmp_path / "d.json").read_text())
    assert {a["name"] for a in found["activities"]} == {*actions.__all__, *probes.__all__}
