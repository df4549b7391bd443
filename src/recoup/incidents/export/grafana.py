"""A Grafana dashboard over recoup's catalogue series (`recoup export grafana-dashboard`): ingest and error
rates, the error ratio, recovery success against its objective, recovery-time quantiles, open breakers,
resource use and the alerts firing in Prometheus. A ``datasource`` variable picks the Prometheus, and
``project``/``service`` variables filter every panel."""

from __future__ import annotations

import json
from typing import Any

from recoup.incidents.catalogue import CATALOGUE

SCHEMA_VERSION = 39
UID = "recoup-incidents"
_DS = {"type": "prometheus", "uid": "${datasource}"}
_FILTER = 'project=~"$project",service=~"$service"'


def _series(metric: str, suffix: str = "") -> str:
    return CATALOGUE[metric].series + suffix


def _panel(panel_id: int, title: str, targets: list[tuple[str, str]], x: int, y: int, *, unit: str = "short",
           description: str = "", kind: str = "timeseries", w: int = 12, h: int = 8,
           thresholds: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": _DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": {"mode": "absolute", "steps": thresholds or [{"color": "green", "value": None}]},
            },
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": _DS, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def _variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": _DS,
        "query": {"query": query, "refId": f"{name}-values"},
        "definition": query,
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def grafana_dashboard(*, slo: float = 0.999, title: str = "recoup: incidents and recovery") -> dict[str, Any]:
    """The dashboard JSON (Grafana's schema ~39), for import or file provisioning."""
    events = _series("events", "_total")
    errors = _series("errors", "_total")
    operations = _series("operations", "_total")
    rate_window = "$__rate_interval"
    success = "|".join(CATALOGUE["recovery_success_ratio"].numerator_match[0][1])
    recovery_bucket = _series("recovery_time", "_bucket")
    panels = [
        _panel(1, "Ingest rate", [(f"sum by (kind) (rate({events}{{{_FILTER}}}[{rate_window}]))", "{{kind}}")],
               0, 0, unit="reqps", description="Events received per second, by event type."),
        _panel(2, "Error rate by category",
               [(f"sum by (category) (rate({errors}{{{_FILTER}}}[{rate_window}]))", "{{category}}")],
               12, 0, unit="reqps", description="Error events per second, by recoup's error category."),
        _panel(3, "Error ratio",
               [(f"sum by (service) (increase({errors}{{{_FILTER}}}[{rate_window}])) / "
                 f"sum by (service) (increase({operations}{{{_FILTER}}}[{rate_window}]))", "{{service}}")],
               0, 8, unit="percentunit", description="Errors per finished operation (the HighErrorRate rule).",
               thresholds=[{"color": "green", "value": None}, {"color": "red", "value": 0.05}]),
        _panel(4, "Recovery success ratio vs SLO",
               [(f'sum by (service) (increase({operations}{{{_FILTER},outcome=~"{success}"}}[{rate_window}])) / '
                 f"sum by (service) (increase({operations}{{{_FILTER}}}[{rate_window}]))", "{{service}}"),
                (f"vector({slo})", "objective")],
               12, 8, unit="percentunit",
               description="Share of operations that delivered a result, against the recovery objective.",
               thresholds=[{"color": "red", "value": None}, {"color": "green", "value": slo}]),
        _panel(5, "Recovery time p50 / p95 / p99",
               [(f"histogram_quantile({q}, sum by (le) (rate({recovery_bucket}{{{_FILTER}}}[{rate_window}])))",
                 f"p{round(q * 100)}") for q in (0.5, 0.95, 0.99)],
               0, 16, unit="s", description="Seconds from first failure to recovery."),
        _panel(6, "Circuit breakers open",
               [(f"sum by (service, breaker) ({_series('breakers_open')}{{{_FILTER}}}) > 0",
                 "{{service}} {{breaker}}")],
               12, 16, description="Breakers currently open (1 each)."),
        _panel(7, "Resource usage",
               [(f"max by (service, resource) ({_series('resource_usage')}{{{_FILTER}}})",
                 "{{service}} {{resource}}")],
               0, 24, unit="percentunit", description="Resource use as a share of its limit.",
               thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 0.8},
                           {"color": "red", "value": 0.9}]),
        _panel(8, "Firing alerts",
               [('sum by (alertname, severity) (ALERTS{alertstate="firing",recoup_rule!=""})',
                 "{{alertname}} ({{severity}})")],
               12, 24, description="Alerts of recoup's rules firing in Prometheus."),
    ]
    return {
        "uid": UID,
        "title": title,
        "description": "recoup's incident metrics (recoup.incidents.catalogue) as Prometheus scrapes them.",
        "tags": ["recoup", "incidents"],
        "timezone": "utc",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
                 "current": {}, "hide": 0, "refresh": 1},
                _variable("project", "Project", f"label_values({events}, project)"),
                _variable("service", "Service", f'label_values({events}{{project=~"$project"}}, service)'),
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }


def grafana_dashboard_json(*, slo: float = 0.999) -> str:
    return json.dumps(grafana_dashboard(slo=slo), indent=2) + "\n"
