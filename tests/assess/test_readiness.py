"""Readiness scoring rules on hand-built reports: each check passes, is partial, fails, or is not measured
exactly when its written rule says so, and the overall score is the weighted mean of the measured checks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from recoup.assess.readiness import WEIGHTS, readiness_markdown, score_readiness


def scenario(name: str, *, detected: bool = True, delivered: int = 3, met: bool = True,
             expected: str = "detected, incident declared, notified, recovers",
             recovered: bool = True) -> dict[str, Any]:
    return {
        "name": name, "title": name.replace("_", " "), "rule": f"Rule{name}", "expected": expected,
        "detected": detected, "detection_seconds": 0.5 if detected else None,
        "fault_seconds": 1.0, "recovered": recovered, "recovered_seconds": 0.4 if recovered else None,
        "incident": {"declared": detected, "declared_after_seconds": 0.6 if detected else None},
        "notifications": {"delivered": delivered, "first_after_seconds": 0.9 if delivered else None,
                          "signatures_verified": True},
        "escalation_notices_delivered": 1,
        "escalations": [],
        "rto": {"target_seconds": 2.0, "restored_after_seconds": 1.5 if met else 3.0, "met": met, "breached": not met},
    }


def monitoring(ok: int = 15, expected: int = 15, scraped: bool | None = True) -> dict[str, Any]:
    prom: dict[str, Any] = ({"available": False, "scraped": False, "reason": "no prometheus on PATH"}
                            if scraped is None else {"available": True, "scraped": scraped, "reason": None})
    return {"url": "http://127.0.0.1:1", "metrics_fetched": True, "error": None, "expected": expected, "ok": ok,
            "series": [{"name": f"s{i}", "ok": i < ok} for i in range(expected)], "prometheus": prom}


def good_report() -> dict[str, Any]:
    return {
        "config": {"seed": 1},
        "environment": {"python": "3.11"},
        "results": {
            "recovered": 1000, "recoverable_faults": 1000,
            "engine": {"recovered_and_verified": 50, "recoverable": 50},
            "workflows": {"resumed_correctly": 3, "killed": 3, "steps_missing": 0},
            "server": {"events_acknowledged": 500, "events_lost": 0},
            "monitoring": monitoring(),
            "incidents": {"scenarios": [scenario("spike"), scenario("pool"),
                                        scenario("rto", met=False, expected="detected, notified, escalation notice "
                                                 "delivered, RTO breached, recovers")]},
        },
    }


def check(readiness: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in readiness["checks"] if c["name"] == name)
    return found


def test_a_good_run_passes_every_check_and_scores_one() -> None:
    readiness = score_readiness(good_report())
    assert {c["name"]: c["status"] for c in readiness["checks"]} == dict.fromkeys(WEIGHTS, "pass")
    assert readiness["overall"]["score"] == 1.0
    assert readiness["gaps"] == []
    assert readiness["weights"] == WEIGHTS
    # evidence names where each number came from in report.json
    sources = {e["source"] for e in check(readiness, "data_safety")["evidence"]}
    assert {"results.server.events_lost", "results.server.events_acknowledged"} <= sources


def test_recovery_is_linear_between_90_and_99_9_percent_and_takes_the_weakest_phase() -> None:
    report = good_report()
    report["results"]["recovered"] = 945  # 94.5 %: (0.945 - 0.90) / 0.099
    c = check(score_readiness(report), "recovery")
    assert c["status"] == "partial"
    assert c["score"] == pytest.approx((0.945 - 0.90) / (0.999 - 0.90), abs=1e-4)
    assert "load pipeline 945 of 1000" in c["gap"] and c["recommendation"].startswith("weakest: load pipeline")
    report["results"]["recovered"] = 999
    assert check(score_readiness(report), "recovery")["status"] == "pass"
    report["results"]["engine"]["recovered_and_verified"] = 40  # 80 %: below the floor
    c = check(score_readiness(report), "recovery")
    assert c["status"] == "fail" and c["score"] == 0.0
    assert c["details"]["phases"]["engine repairs"]["rate"] == 0.8


def test_data_safety_is_all_or_nothing() -> None:
    report = good_report()
    report["results"]["server"]["events_lost"] = 1
    c = check(score_readiness(report), "data_safety")
    assert (c["status"], c["score"]) == ("fail", 0.0)
    assert "1 acknowledged event(s) lost of 500" in c["gap"]
    report = good_report()
    report["results"]["server"]["events_acknowledged"] = 0  # nothing acknowledged proves nothing
    assert check(score_readiness(report), "data_safety")["status"] == "fail"
    report = good_report()
    report["results"]["workflows"]["steps_missing"] = 2
    assert "2 checkpointed workflow step(s) missing" in check(score_readiness(report), "data_safety")["gap"]
    del report["results"]["server"]
    assert check(score_readiness(report), "data_safety")["status"] == "not_measured"


def test_alert_coverage_counts_detected_scenarios() -> None:
    report = good_report()
    report["results"]["incidents"]["scenarios"][1] = scenario("pool", detected=False)
    c = check(score_readiness(report), "alert_coverage")
    assert c["status"] == "partial" and c["score"] == pytest.approx(2 / 3, abs=1e-4)
    assert "pool (rule Rulepool)" in c["gap"]
    for s in report["results"]["incidents"]["scenarios"]:
        s["detected"] = False
    assert check(score_readiness(report), "alert_coverage")["status"] == "fail"
    report["results"]["incidents"] = {"scenarios": []}
    assert check(score_readiness(report), "alert_coverage")["status"] == "not_measured"


def test_notification_delivery_needs_verified_deliveries_and_escalation_notices() -> None:
    report = good_report()
    scenarios = report["results"]["incidents"]["scenarios"]
    scenarios[0]["notifications"]["delivered"] = 0
    scenarios[2]["escalation_notices_delivered"] = 0
    c = check(score_readiness(report), "notification_delivery")
    # expectations: 3 × notified + 1 escalation notice; two missed
    assert c["score"] == pytest.approx(2 / 4) and c["status"] == "partial"
    assert "spike: 0 delivered" in c["gap"] and "rto: no escalation notice delivered" in c["gap"]
    scenarios[1]["notifications"]["signatures_verified"] = False
    assert check(score_readiness(report), "notification_delivery")["score"] == pytest.approx(1 / 4)


def test_rto_compliance_leaves_out_scenarios_built_to_breach() -> None:
    report = good_report()  # the "rto" scenario breaches by design and is not counted
    assert check(score_readiness(report), "rto_compliance")["status"] == "pass"
    report["results"]["incidents"]["scenarios"][0] = scenario("spike", met=False)
    c = check(score_readiness(report), "rto_compliance")
    assert c["score"] == 0.5 and c["status"] == "partial"
    assert "spike restored 3.0 s after declared vs target 2.0 s" in c["gap"]
    report["results"]["incidents"]["scenarios"][1] = scenario("pool", met=False)
    assert check(score_readiness(report), "rto_compliance")["status"] == "fail"


def test_monitoring_scores_series_times_scrape_proof() -> None:
    report = good_report()
    report["results"]["monitoring"] = monitoring(scraped=None)  # no Prometheus to prove the scrape
    c = check(score_readiness(report), "monitoring")
    assert c["score"] == 0.5 and c["status"] == "partial" and "no real scrape proved" in c["gap"]
    report["results"]["monitoring"] = monitoring(ok=12, expected=15, scraped=True)
    c = check(score_readiness(report), "monitoring")
    assert c["score"] == pytest.approx(0.8) and "3 expected series missing or empty: s12, s13, s14" in c["gap"]
    report["results"]["monitoring"] = monitoring(scraped=False)  # Prometheus ran and could not scrape
    assert check(score_readiness(report), "monitoring")["status"] == "fail"
    report["results"]["monitoring"] = {"url": "http://127.0.0.1:1", "metrics_fetched": False, "error": "refused"}
    c = check(score_readiness(report), "monitoring")
    assert c["status"] == "fail" and "refused" in c["gap"]
    del report["results"]["monitoring"]
    assert check(score_readiness(report), "monitoring")["status"] == "not_measured"


def test_runbook_coverage_reads_the_files_the_rules_name(tmp_path: Path) -> None:
    real = check(score_readiness(good_report()), "runbook_coverage")  # this checkout's docs/runbooks
    assert real["status"] == "pass"
    rule_count = next(e["value"] for e in real["evidence"] if e["source"] == "default_rules.yaml rules")
    books = tmp_path / "docs" / "runbooks"
    books.mkdir(parents=True)
    (books / "HighErrorRate.md").write_text("# HighErrorRate\n\nWhat to do: look at the errors.\n")
    (books / "ApplicationDown.md").write_text("# ApplicationDown\n\n## Steps\n")  # headings only
    c = check(score_readiness(good_report(), runbook_root=tmp_path), "runbook_coverage")
    assert c["status"] == "partial"
    assert c["score"] == pytest.approx(1 / rule_count, abs=1e-4)
    assert "ApplicationDown: docs/runbooks/ApplicationDown.md has no content beyond headings" in c["gap"]
    assert "SlowRecovery: docs/runbooks/SlowRecovery.md does not exist" in c["gap"]
    c = check(score_readiness(good_report(), runbook_root=tmp_path / "nowhere"), "runbook_coverage")
    assert c["status"] == "not_measured" and "docs/runbooks/ not found" in c["gap"]


def test_overall_is_the_weighted_mean_of_measured_checks() -> None:
    report = good_report()
    report["results"]["server"]["events_lost"] = 3  # data_safety 0, weight 3
    del report["results"]["monitoring"]  # not measured: out of the mean
    readiness = score_readiness(report)
    measured = sum(w for n, w in WEIGHTS.items() if n != "monitoring")
    assert readiness["overall"]["score"] == pytest.approx((measured - WEIGHTS["data_safety"]) / measured, abs=1e-4)
    assert readiness["overall"]["measured_weight"] == measured
    assert readiness["overall"]["not_measured"] == ["monitoring"]
    assert [g["check"] for g in readiness["gaps"]] == ["monitoring", "data_safety"]
    weighted = score_readiness(report, weights={"data_safety": 0})
    assert weighted["overall"]["score"] == 1.0


def test_an_empty_report_is_all_not_measured_except_runbooks() -> None:
    readiness = score_readiness({"results": {}})
    statuses = {c["name"]: c["status"] for c in readiness["checks"]}
    assert statuses.pop("runbook_coverage") == "pass"  # measured from the source tree, not the run
    assert set(statuses.values()) == {"not_measured"}
    assert readiness["overall"]["score"] == 1.0 and readiness["overall"]["measured_weight"] == 1.0


def test_bad_weights_and_reports_are_refused() -> None:
    with pytest.raises(ValueError, match="weights: unknown check 'speed'"):
        score_readiness(good_report(), weights={"speed": 1})
    with pytest.raises(ValueError, match=r"weights\['recovery'\]: -1 must be a number >= 0"):
        score_readiness(good_report(), weights={"recovery": -1})
    with pytest.raises(TypeError, match=r"report: expected the report\.json dict, got list"):
        score_readiness([])  # type: ignore[arg-type]


def test_markdown_lists_weights_checks_and_gaps() -> None:
    report = copy.deepcopy(good_report())
    report["results"]["server"]["events_lost"] = 2
    text = readiness_markdown(score_readiness(report))
    assert text.startswith("## Readiness\n")
    for name, weight in WEIGHTS.items():
        assert f"| {weight:g} |" in text
        assert name in text or name.replace("_", " ") in text.lower()
    assert "- **data_safety** (fail): 2 acknowledged event(s) lost of 500" in text
    assert "No gaps" in readiness_markdown(score_readiness(good_report()))
