"""Readiness and the HTML report on a real assessment: `recoup assess --quick` runs once (real faults, a real
embedded server, the incident scenarios), then its report.json is scored and rendered."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from recoup.assess.html_report import render_html
from recoup.assess.readiness import WEIGHTS, readiness_markdown, score_readiness

NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("assess") / "report"
    result = subprocess.run([sys.executable, "-m", "recoup", "assess", "--quick", "--out", str(out)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_real_run_is_scored_from_its_own_numbers(real_report: dict[str, Any]) -> None:
    readiness = score_readiness(real_report)
    checks = {c["name"]: c for c in readiness["checks"]}
    assert list(checks) == list(WEIGHTS)
    results = real_report["results"]
    scenarios = results["incidents"]["scenarios"]
    # alert coverage is exactly detected / scenarios of this run
    detected = sum(1 for s in scenarios if s["detected"])
    assert checks["alert_coverage"]["score"] == pytest.approx(detected / len(scenarios), abs=1e-4)
    # data safety follows the server's own loss count
    server = results["server"]
    assert checks["data_safety"]["score"] == (1.0 if server["events_lost"] == 0 and server["events_acknowledged"] > 0
                                             and results["workflows"]["steps_missing"] == 0 else 0.0)
    # recovery names every phase it judged, with the run's counts
    phases = checks["recovery"]["details"]["phases"]
    assert phases["load pipeline"]["recovered"] == results["recovered"]
    assert phases["engine repairs"]["recoverable"] == results["engine"]["recoverable"]
    assert checks["runbook_coverage"]["status"] == "pass"  # this checkout's runbooks
    # monitoring evidence comes from check_monitoring during the run (wired in the CLI); absent: not measured
    if "monitoring" in results:
        assert results["monitoring"]["metrics_fetched"], results["monitoring"]
        assert checks["monitoring"]["status"] in ("pass", "partial"), checks["monitoring"]
    else:
        assert checks["monitoring"]["status"] == "not_measured"
    assert readiness["overall"]["score"] is not None
    measured = [c for c in checks.values() if c["score"] is not None]
    mean = sum(c["score"] * c["weight"] for c in measured) / sum(c["weight"] for c in measured)
    assert readiness["overall"]["score"] == pytest.approx(mean, abs=1e-3)
    text = readiness_markdown(readiness)
    assert all(c["title"] in text for c in checks.values())


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_html_of_a_real_run_has_its_phases_and_charts(real_report: dict[str, Any], tmp_path: Path) -> None:
    page = render_html(real_report, score_readiness(real_report))
    assert "could not be rendered" not in page  # report.py's own tables, with their method column
    assert "how it was measured" in page and "Incident scenarios" in page
    charts = {c.findtext(f"{NS}title"): c for c in
              (ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", page, flags=re.S))}
    timeline = charts["Detection timeline per scenario"]
    lanes = timeline.findall(f".//{NS}g[@class='lane']")
    assert len(lanes) == len(real_report["results"]["incidents"]["scenarios"])
    first = real_report["results"]["incidents"]["scenarios"][0]
    tips = {t.text for t in timeline.iter(f"{NS}title")}
    assert f"{first['title']}: alert firing at {float(first['detection_seconds']):.3g}" in tips
    latency = charts.get("Operation latency") or charts["Latency percentiles"]
    assert len(latency.findall(f".//{NS}rect")) + len(list(latency.iter(f"{NS}circle"))) > 2
    (tmp_path / "report.html").write_text(page, encoding="utf-8")
