"""``recoup export ...`` from the command line (typer's runner over the real commands, the tools for real),
and the committed deploy/ files being exactly what the exporters produce today."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from recoup.cli_export import register

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    """A ``recoup``-like app with only the export commands (the lead registers them on the real one)."""
    app = typer.Typer()

    @app.command()
    def version() -> None:  # a second command keeps `export` a sub-command group, as in `recoup`
        typer.echo("0")

    register(app)
    return app


def _tool(name: str) -> str:
    found = shutil.which(name) or f"/usr/bin/{name}"
    if not Path(found).exists():
        pytest.fail(f"{name} is not installed; run scripts/install_tools.sh", pytrace=False)
    return found


def test_prometheus_rules_to_stdout_and_to_files_with_tests(cli: typer.Typer, tmp_path: Path) -> None:
    shown = runner.invoke(cli, ["export", "prometheus-rules"])
    assert shown.exit_code == 0, shown.output
    assert yaml.safe_load(shown.stdout)["groups"][0]["name"] == "recoup"

    out, tests = tmp_path / "rules" / "recoup.yml", tmp_path / "tests" / "recoup.test.yml"
    done = runner.invoke(cli, ["export", "prometheus-rules", "--out", str(out), "--tests", str(tests),
                               "--group", "mine", "--interval", "30s"])
    assert done.exit_code == 0, done.output
    assert yaml.safe_load(out.read_text())["groups"][0] == {**yaml.safe_load(out.read_text())["groups"][0],
                                                           "name": "mine", "interval": "30s"}
    assert yaml.safe_load(tests.read_text())["rule_files"] == ["../rules/recoup.yml"]
    assert not list(out.parent.glob(".*"))  # no temporary file left behind
    promtool = _tool("promtool")
    checked = subprocess.run([promtool, "check", "rules", str(out)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([promtool, "test", "rules", str(tests)], capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_prometheus_rules_from_a_rule_file_and_its_errors(cli: typer.Typer, tmp_path: Path) -> None:
    good = tmp_path / "rules.yml"
    good.write_text("rules: [{name: Down, metric: last_seen, threshold: 120, severity: critical}]\n")
    done = runner.invoke(cli, ["export", "prometheus-rules", "--rules", str(good)])
    assert done.exit_code == 0, done.output
    assert [r["alert"] for r in yaml.safe_load(done.stdout)["groups"][0]["rules"]] == ["Down"]

    bad = tmp_path / "bad.yml"
    bad.write_text("rules: [{name: Bad, metric: nope}]\n")
    out = tmp_path / "out.yml"
    refused = runner.invoke(cli, ["export", "prometheus-rules", "--rules", str(bad), "--out", str(out)])
    assert refused.exit_code == 1
    assert "rules[0] (Bad).metric: unknown metric 'nope'" in refused.stderr
    assert not out.exists()  # nothing half-written

    lonely = runner.invoke(cli, ["export", "prometheus-rules", "--tests", str(tmp_path / "t.yml")])
    assert lonely.exit_code == 1 and "--tests needs --out" in lonely.stderr
    odd = runner.invoke(cli, ["export", "prometheus-rules", "--interval", "soon"])
    assert odd.exit_code == 1 and "--interval: expected a duration" in odd.stderr


def test_alertmanager_export_passes_amtool(cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    channels = tmp_path / "channels.yml"
    channels.write_text("channels: [{name: oncall, type: webhook, config: {url: 'https://pager.example/hook'}}]\n")
    routing = tmp_path / "routing.yml"
    routing.write_text("receivers: [oncall]\nroute:\n  receiver: oncall\n  group_by: [alertname]\n")
    monkeypatch.setenv("RECOUP_TEST_TOKEN", "s3cret-admin-token")
    out = tmp_path / "am.yml"
    done = runner.invoke(cli, [
        "export", "alertmanager", "--recoup-url", "http://recoup.internal:8000", "--token-env", "RECOUP_TEST_TOKEN",
        "--channels", str(channels), "--routing", str(routing), "--group-wait", "10s", "--out", str(out),
    ])
    assert done.exit_code == 0, done.output
    config = yaml.safe_load(out.read_text())
    webhook = config["receivers"][0]["webhook_configs"][0]
    assert webhook["url"] == "http://recoup.internal:8000/api/v1/alertmanager"
    assert webhook["http_config"]["authorization"]["credentials"] == "s3cret-admin-token"
    assert config["route"]["group_wait"] == "10s"
    assert config["route"]["routes"][1]["receiver"] == "oncall"
    checked = subprocess.run([_tool("amtool"), "check-config", str(out)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_alertmanager_export_errors(cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECOUP_UNSET_TOKEN", raising=False)
    unset = runner.invoke(cli, ["export", "alertmanager", "--token-env", "RECOUP_UNSET_TOKEN"])
    assert unset.exit_code == 1 and "RECOUP_UNSET_TOKEN is not set" in unset.stderr
    missing = runner.invoke(cli, ["export", "alertmanager"])
    assert missing.exit_code == 1 and "needs an admin token or an ingest key" in missing.stderr
    channels = tmp_path / "channels.yml"
    channels.write_text("channels: [{name: x, type: slack, config: {}}]\n")
    bad = runner.invoke(cli, ["export", "alertmanager", "--token-file", "/t", "--channels", str(channels)])
    assert bad.exit_code == 1 and "channel 'x'.config.api_url: required" in bad.stderr
    routing = tmp_path / "routing.yml"
    routing.write_text("receivers: [oncall]\nroute: {receiver: nobody}\n")
    unknown = runner.invoke(cli, ["export", "alertmanager", "--token-file", "/t", "--routing", str(routing)])
    assert unknown.exit_code == 1 and "nobody" in unknown.stderr


def test_grafana_dashboard(cli: typer.Typer, tmp_path: Path) -> None:
    done = runner.invoke(cli, ["export", "grafana-dashboard", "--slo", "0.99"])
    assert done.exit_code == 0, done.output
    board = json.loads(done.stdout)
    assert board["schemaVersion"] == 39 and "vector(0.99)" in done.stdout
    refused = runner.invoke(cli, ["export", "grafana-dashboard", "--slo", "2"])
    assert refused.exit_code != 0


def test_committed_deploy_files_are_up_to_date_and_valid() -> None:
    """deploy/generate.py --check fails when an exporter changed and the files were not regenerated."""
    check = subprocess.run([sys.executable, str(ROOT / "deploy" / "generate.py"), "--check"], capture_output=True,
                           text=True, timeout=120, cwd=ROOT)
    assert check.returncode == 0, check.stderr
    documents = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / "monitoring.yaml").read_text()))
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    for name in ("recoup", "prometheus", "alertmanager", "grafana"):
        assert ("Deployment", name) in kinds and ("Service", name) in kinds
    assert ("Namespace", "recoup") in kinds
    maps = {d["metadata"]["name"]: d["data"] for d in documents if d["kind"] == "ConfigMap"}
    assert maps["prometheus-config"]["recoup-rules.yml"] == (ROOT / "deploy/prometheus/recoup-rules.yml").read_text()
    assert yaml.safe_load(maps["prometheus-config"]["prometheus.yml"])["scrape_configs"][0]["static_configs"] == [
        {"targets": ["recoup:8000"]}]
    assert maps["alertmanager-config"]["alertmanager.yml"] == (
        ROOT / "deploy/alertmanager/alertmanager.yml").read_text()
    assert json.loads(maps["grafana-dashboards"]["recoup-dashboard.json"])["uid"] == "recoup-incidents"
    recoup = next(d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "recoup")
    container = recoup["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["serve"] and container["readinessProbe"]["httpGet"]["path"] == "/readyz"

    rules_dir = ROOT / "deploy" / "prometheus"
    promtool = _tool("promtool")
    checked = subprocess.run([promtool, "check", "rules", "recoup-rules.yml"], capture_output=True, text=True,
                             timeout=60, cwd=rules_dir)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    amtool = subprocess.run([_tool("amtool"), "check-config", str(ROOT / "deploy/alertmanager/alertmanager.yml")],
                            capture_output=True, text=True, timeout=30)
    assert amtool.returncode == 0, amtool.stdout + amtool.stderr


def test_generate_check_notices_a_stale_file(tmp_path: Path) -> None:
    """--check really compares: a copy of deploy/ with one file edited is reported stale."""
    copy = tmp_path / "deploy"
    shutil.copytree(ROOT / "deploy", copy)
    target = copy / "grafana" / "recoup-dashboard.json"
    target.write_text(target.read_text().replace("recoup-incidents", "edited"))
    check = subprocess.run([sys.executable, str(copy / "generate.py"), "--check"], capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 1
    assert "grafana/recoup-dashboard.json" in check.stderr
