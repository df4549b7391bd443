"""The exported Grafana dashboard: its structure, and every panel query is PromQL the real promtool parses
(once Grafana's variables are substituted) over series recoup exports."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from recoup.incidents.export.grafana import SCHEMA_VERSION, grafana_dashboard, grafana_dashboard_json
from recoup.server.signal_metrics import SignalMetrics

TITLES = [
    "Ingest rate", "Error rate by category", "Error ratio", "Recovery success ratio vs SLO",
    "Recovery time p50 / p95 / p99", "Circuit breakers open", "Resource usage", "Firing alerts",
]


def test_dashboard_structure() -> None:
    board = json.loads(grafana_dashboard_json(slo=0.995))
    assert board["schemaVersion"] == SCHEMA_VERSION == 39
    assert board["uid"] == "recoup-incidents"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["service"]["includeAll"] and "$project" in variables["service"]["query"]["query"]
    panels = board["panels"]
    assert [p["title"] for p in panels] == TITLES
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"] and all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
    slo = next(p for p in panels if p["title"] == "Recovery success ratio vs SLO")
    assert [t["expr"] for t in slo["targets"]][1] == "vector(0.995)"
    assert {t["legendFormat"] for t in panels[4]["targets"]} == {"p50", "p95", "p99"}
    assert 'ALERTS{alertstate="firing"' in panels[-1]["targets"][0]["expr"]


def test_panel_queries_are_valid_promql_over_recoups_series(tmp_path: Path) -> None:
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    exprs = [t["expr"] for p in grafana_dashboard()["panels"] for t in p["targets"]]
    substituted = [e.replace("$__rate_interval", "1m").replace("$project", ".*").replace("$service", ".*")
                   for e in exprs]
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(substituted)]}]}
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump(rules))
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr

    registry = CollectorRegistry()
    SignalMetrics(registry)
    exported = {m.name for m in registry.collect()}
    for expr in exprs:
        used = [name for name in ("recoup_events", "recoup_errors", "recoup_operations", "recoup_recovery_seconds",
                                  "recoup_breaker_open", "recoup_resource_usage_ratio") if name in expr]
        assert used or "ALERTS" in expr or expr.startswith("vector(")
        assert all(name in exported for name in used)


@pytest.mark.parametrize("slo", [0.9, 0.999])
def test_slo_threshold_is_drawn(slo: float) -> None:
    panel = next(p for p in grafana_dashboard(slo=slo)["panels"] if p["title"].startswith("Recovery success"))
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[-1] == {"color": "green", "value": slo}
