"""Readiness scoring: every check is a function of numbers measured in the run, never of a checklist.

Each check reads its evidence from ``report.json`` (and, for runbook coverage, from the shipped rules and the
runbook files they name), applies the rule written next to it, and says pass / partial / fail, or
``not_measured`` when the evidence is missing. A check that was not measured is left out of the overall score
(so a skipped phase neither helps nor hurts) but is listed as a gap: an unmeasured property is not a ready one.
The overall score is the weighted mean of the measured checks, with the weights printed alongside.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The checks, their weights and what each rule is. One table, printed in every report.
#: Weights favour what loses data or users (data safety, recovery) over what slows the response.
WEIGHTS: dict[str, float] = {
    "monitoring": 1.0,
    "alert_coverage": 2.0,
    "runbook_coverage": 1.0,
    "notification_delivery": 1.0,
    "recovery": 3.0,
    "rto_compliance": 2.0,
    "data_safety": 3.0,
}

TITLES: dict[str, str] = {
    "monitoring": "Monitoring: metrics exported and scraped",
    "alert_coverage": "Alert coverage: every scenario detected by a rule",
    "runbook_coverage": "Runbook coverage: every rule has a runbook",
    "notification_delivery": "Notification delivery",
    "recovery": "Recovery",
    "rto_compliance": "RTO compliance",
    "data_safety": "Data safety: no acknowledged event lost",
}

#: Recovery: a source scores 1.0 at this recovered share or above ...
RECOVERY_FULL = 0.999
#: ... falling linearly to 0.0 at this share.
RECOVERY_ZERO = 0.90

PASS = "pass"
PARTIAL = "partial"
FAIL = "fail"
NOT_MEASURED = "not_measured"


@dataclass
class _Check:
    name: str
    score: float | None
    evidence: list[dict[str, Any]]
    method: str
    gap: str | None = None
    recommendation: str | None = None
    details: dict[str, Any] | None = None

    def to_dict(self, weight: float) -> dict[str, Any]:
        status = _status(self.score)
        out: dict[str, Any] = {
            "name": self.name,
            "title": TITLES[self.name],
            "score": None if self.score is None else round(self.score, 4),
            "weight": weight,
            "status": status,
            "evidence": self.evidence,
            "method": self.method,
        }
        if status != PASS:
            out["gap"] = self.gap or "below full score"
            out["recommendation"] = self.recommendation or "see the evidence"
        if self.details:
            out["details"] = self.details
        return out


def _status(score: float | None) -> str:
    if score is None:
        return NOT_MEASURED
    if score >= 0.9995:
        return PASS
    return FAIL if score <= 0.0 else PARTIAL


def _ev(source: str, value: Any) -> dict[str, Any]:
    return {"source": source, "value": value}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _scenarios(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    scenarios = _dict(results.get("incidents")).get("scenarios")
    return [s for s in scenarios if isinstance(s, dict)] if isinstance(scenarios, list) else []


def _name(scenario: Mapping[str, Any], index: int) -> str:
    return str(scenario.get("name") or scenario.get("title") or f"scenario {index}")


def _expects(scenario: Mapping[str, Any], words: str) -> bool:
    return words in str(scenario.get("expected", "")).lower()


# -- the checks -------------------------------------------------------------------------------------------


def check_monitoring(results: Mapping[str, Any]) -> _Check:
    method = ("series expected on /metrics that were there (catalogue series declared, load-fed series with samples) "
              "/ expected, × 1 when a real Prometheus scraped them (up == 1 and a recoup series queried back), "
              "× 0.5 when no Prometheus was available to prove the scrape, × 0 when the scrape failed")
    evidence = results.get("monitoring")
    if not isinstance(evidence, dict):
        return _Check("monitoring", None, [], method, "no /metrics evidence in this report (results.monitoring)",
                      "run recoup.assess.monitoring_check.check_monitoring against the assessment's server")
    facts = [_ev("results.monitoring.url", evidence.get("url"))]
    if not evidence.get("metrics_fetched"):
        facts.append(_ev("results.monitoring.error", evidence.get("error")))
        return _Check("monitoring", 0.0, facts, method, f"/metrics could not be read: {evidence.get('error')}",
                      "expose /metrics on the recoup server and make it reachable from the scraper")
    expected = int(evidence.get("expected", 0))
    ok = int(evidence.get("ok", 0))
    facts += [_ev("results.monitoring.ok", ok), _ev("results.monitoring.expected", expected)]
    prom = _dict(evidence.get("prometheus"))
    facts += [_ev("results.monitoring.prometheus.available", prom.get("available")),
              _ev("results.monitoring.prometheus.scraped", prom.get("scraped"))]
    if expected <= 0:
        return _Check("monitoring", None, facts, method, "no expected series were listed",
                      "list the expected series in check_monitoring")
    exported = ok / expected
    if prom.get("scraped"):
        factor = 1.0
    elif prom.get("available"):
        factor = 0.0
    else:
        factor = 0.5
    missing = [s["name"] for s in evidence.get("series", []) if isinstance(s, dict) and not s.get("ok")]
    gaps: list[str] = []
    advice: list[str] = []
    if missing:
        gaps.append(f"{len(missing)} expected series missing or empty: {', '.join(missing)}")
        advice.append("check that the telemetry feeding these series reaches the server (HttpSink, ingest key)")
    if factor == 0.5:
        gaps.append(f"no real scrape proved: {prom.get('reason') or 'prometheus not available'}")
        advice.append("install Prometheus (scripts/install_tools.sh) so the assessment proves a real scrape")
    elif factor == 0.0:
        gaps.append(f"Prometheus ran but did not scrape recoup: {prom.get('reason')}")
        advice.append("check the scrape config and that /metrics answers within the scrape timeout")
    return _Check("monitoring", exported * factor, facts, method, "; ".join(gaps) or None, "; ".join(advice) or None)


def check_alert_coverage(results: Mapping[str, Any]) -> _Check:
    method = "incident scenarios whose alert fired from a shipped rule (detected) / scenarios run"
    scenarios = _scenarios(results)
    if not scenarios:
        return _Check("alert_coverage", None, [], method, "no incident scenarios ran (results.incidents.scenarios)",
                      "run the assessment without --no-incidents")
    facts = []
    undetected = []
    for i, s in enumerate(scenarios):
        hit = bool(s.get("detected")) and bool(s.get("rule"))
        facts.append(_ev(f"results.incidents.scenarios[{i}].detected", s.get("detected")))
        if hit:
            facts.append(_ev(f"results.incidents.scenarios[{i}].detection_seconds", s.get("detection_seconds")))
        else:
            undetected.append(f"{_name(s, i)} (rule {s.get('rule')})")
    detected = len(scenarios) - len(undetected)
    missed = f"{len(undetected)} of {len(scenarios)} scenarios not detected: {', '.join(undetected)}"
    return _Check(
        "alert_coverage", detected / len(scenarios), facts, method, missed if undetected else None,
        "tune the rule's threshold, window or min_count so the fault fires it (the runbook lists them)"
        if undetected else None,
    )


def _runbook_has_content(path: Path) -> bool:
    """More than a title: at least one line of prose or table besides headings."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    return any(line and not line.startswith("#") for line in lines)


def find_runbook_root(start: Path | None = None) -> Path | None:
    """The folder holding ``docs/runbooks/``: the source tree recoup runs from (an editable or checkout install).
    An installed wheel ships no docs, so this returns None rather than guess."""
    import recoup

    candidates = [start] if start is not None else [*Path(recoup.__file__).resolve().parents, Path.cwd()]
    for folder in candidates:
        if folder is not None and (folder / "docs" / "runbooks").is_dir():
            return folder
    return None


def check_runbook_coverage(results: Mapping[str, Any], runbook_root: Path | None = None) -> _Check:
    method = ("shipped rules (recoup.incidents default_rules.yaml) whose `runbook` annotation names a file that "
              "exists in the source tree and has content beyond headings / shipped rules")
    from recoup.incidents.rules import default_rules

    rules = default_rules().rules
    root = find_runbook_root(runbook_root)
    if root is None:
        where = runbook_root if runbook_root is not None else "the installed package's parents or the working folder"
        return _Check("runbook_coverage", None, [_ev("default_rules.yaml rules", len(rules))], method,
                      f"docs/runbooks/ not found in {where} (an installed package ships no docs)",
                      "run the assessment from a recoup checkout, or pass the checkout as runbook_root")
    fired = {str(s.get("rule")) for s in _scenarios(results)}
    facts: list[dict[str, Any]] = [_ev("runbook root", str(root)), _ev("default_rules.yaml rules", len(rules))]
    missing: list[str] = []
    for rule in rules:
        link = rule.runbook
        problem = None
        if not link:
            problem = "no runbook annotation"
        elif "://" in link:
            problem = f"{link} is a URL, not checked offline"
        else:
            path = root / link
            if not path.is_file():
                problem = f"{link} does not exist"
            elif not _runbook_has_content(path):
                problem = f"{link} has no content beyond headings"
        facts.append(_ev(f"default_rules.yaml {rule.name}.annotations.runbook",
                         f"{link}: {'ok' if problem is None else problem}"
                         + (" (fired in this run)" if rule.name in fired else "")))
        if problem is not None:
            missing.append(f"{rule.name}: {problem}")
    score = (len(rules) - len(missing)) / len(rules) if rules else None
    return _Check(
        "runbook_coverage", score, facts, method,
        f"{len(missing)} rule(s) without a usable runbook: {'; '.join(missing)}" if missing else None,
        "write docs/runbooks/<rule>.md (what fired, how to confirm, how to mitigate) and link it from the rule"
        if missing else None,
    )


def check_notification_delivery(results: Mapping[str, Any]) -> _Check:
    method = ("notification expectations met / expectations, from the incident scenarios: a scenario expecting "
              "'notified' needs ≥ 1 delivery with verified signatures, one expecting an escalation notice needs ≥ 1 "
              "escalation notice delivered (no stated expectation: every declared incident must notify)")
    scenarios = _scenarios(results)
    facts: list[dict[str, Any]] = []
    expected = 0
    unmet: list[str] = []
    explicit = any(_expects(s, "notified") for s in scenarios)
    for i, s in enumerate(scenarios):
        notes = _dict(s.get("notifications"))
        wants_notice = _expects(s, "notified") if explicit else bool(_dict(s.get("incident")).get("declared"))
        if wants_notice:
            expected += 1
            delivered = int(notes.get("delivered") or 0)
            verified = notes.get("signatures_verified")
            facts.append(_ev(f"results.incidents.scenarios[{i}].notifications.delivered", delivered))
            facts.append(_ev(f"results.incidents.scenarios[{i}].notifications.signatures_verified", verified))
            if delivered < 1 or verified is False:
                unmet.append(f"{_name(s, i)}: {delivered} delivered, signatures verified: {verified}")
        if _expects(s, "escalation notice"):
            expected += 1
            notices = int(s.get("escalation_notices_delivered") or 0)
            facts.append(_ev(f"results.incidents.scenarios[{i}].escalation_notices_delivered", notices))
            if notices < 1:
                unmet.append(f"{_name(s, i)}: no escalation notice delivered")
    if expected == 0:
        return _Check("notification_delivery", None, facts, method,
                      "no incident scenario expected a notification (results.incidents.scenarios)",
                      "run the assessment without --no-incidents")
    return _Check(
        "notification_delivery", (expected - len(unmet)) / expected, facts, method,
        f"{len(unmet)} of {expected} expected notifications missing: {'; '.join(unmet)}" if unmet else None,
        "check the routing tree sends the incident's severity to a receiver with a channel, and the outbox's "
        "dead letters (recoup_notifications{status=\"dead\"})" if unmet else None,
    )


def _recovery_score(rate: float) -> float:
    return max(0.0, min(1.0, (rate - RECOVERY_ZERO) / (RECOVERY_FULL - RECOVERY_ZERO)))


def check_recovery(results: Mapping[str, Any]) -> _Check:
    method = (f"per phase, recovered / recoverable scored 1.0 at ≥ {RECOVERY_FULL:.1%}, linear down to 0 at "
              f"{RECOVERY_ZERO:.0%}; the check takes the weakest phase (load pipeline, engine repairs, killed "
              "workflows resumed, incident scenarios recovered)")
    engine = _dict(results.get("engine"))
    workflows = _dict(results.get("workflows"))
    scenarios = _scenarios(results)
    sources: list[tuple[str, str, str, Any, Any, str]] = [
        ("load pipeline", "results.recovered", "results.recoverable_faults",
         results.get("recovered"), results.get("recoverable_faults"),
         "the breaker and retry budget give up on recoverable operations: raise attempts or the breaker's "
         "failure threshold, or add a fallback for shed load"),
        ("engine repairs", "results.engine.recovered_and_verified", "results.engine.recoverable",
         engine.get("recovered_and_verified"), engine.get("recoverable"),
         "look at the failing cases in results.engine.cases and their category's strategy"),
        ("killed workflows", "results.workflows.resumed_correctly", "results.workflows.killed",
         workflows.get("resumed_correctly"), workflows.get("killed"),
         "look at results.workflows.errors: a resumed workflow repeated or skipped a step"),
    ]
    if scenarios:
        sources.append(("incident scenarios", "results.incidents.scenarios[*].recovered",
                        "results.incidents.scenarios (count)", sum(1 for s in scenarios if s.get("recovered")),
                        len(scenarios), "an incident did not resolve after its fault cleared: check the rules' "
                        "keep_firing_for and the incident's auto-resolve"))
    facts: list[dict[str, Any]] = []
    parts: dict[str, Any] = {}
    weakest: tuple[float, str, str] | None = None
    for label, num_path, den_path, num, den, advice in sources:
        if not isinstance(num, int) or not isinstance(den, int) or den <= 0:
            continue
        rate = num / den
        sub = _recovery_score(rate)
        facts += [_ev(num_path, num), _ev(den_path, den)]
        parts[label] = {"recovered": num, "recoverable": den, "rate": round(rate, 6), "score": round(sub, 4)}
        if weakest is None or sub < weakest[0]:
            weakest = (sub, label, advice)
    if weakest is None:
        return _Check("recovery", None, facts, method, "no phase reported recovered / recoverable counts",
                      "run the assessment's load, engine or workflow phase")
    low = [f"{label} {p['recovered']} of {p['recoverable']} ({p['rate']:.1%})" for label, p in parts.items()
           if p["score"] < 1]
    return _Check("recovery", weakest[0], facts, method,
                  f"recovered below {RECOVERY_FULL:.1%}: {', '.join(low)}" if low else None,
                  f"weakest: {weakest[1]}: {weakest[2]}" if low else None, details={"phases": parts})


def check_rto_compliance(results: Mapping[str, Any]) -> _Check:
    method = ("incident scenarios whose service the server recorded restored within its incident type's RTO "
              "target (rto.met: declared → recovered_at, the server's recovery watch; resolution comes later) / "
              "scenarios with a target, leaving out scenarios built to breach it (expected: 'RTO breached')")
    facts: list[dict[str, Any]] = []
    judged = 0
    breached: list[str] = []
    for i, s in enumerate(_scenarios(results)):
        rto = _dict(s.get("rto"))
        if rto.get("target_seconds") is None or _expects(s, "rto breached"):
            continue
        judged += 1
        met = rto.get("met") if rto.get("met") is not None else not rto.get("breached")
        facts += [_ev(f"results.incidents.scenarios[{i}].rto.target_seconds", rto.get("target_seconds")),
                  _ev(f"results.incidents.scenarios[{i}].rto.restored_after_seconds",
                      rto.get("restored_after_seconds")),
                  _ev(f"results.incidents.scenarios[{i}].rto.met", met)]
        if not met:
            held = f", fault held {s['fault_seconds']} s" if s.get("fault_seconds") is not None else ""
            breached.append(f"{_name(s, i)} restored {rto.get('restored_after_seconds')} s after declared vs "
                            f"target {rto.get('target_seconds')} s{held}")
    if judged == 0:
        return _Check("rto_compliance", None, facts, method, "no incident scenario carried an RTO target to judge",
                      "run the assessment without --no-incidents")
    return _Check(
        "rto_compliance", (judged - len(breached)) / judged, facts, method,
        f"{len(breached)} of {judged} scenarios breached their RTO: {'; '.join(breached)}" if breached else None,
        "shorten the time to restore the service (recovery policies, breaker reset timeouts, failover), or set "
        "an RTO target the service can meet (incidents policy)" if breached else None,
    )


def check_data_safety(results: Mapping[str, Any]) -> _Check:
    method = ("1.0 iff the server lost no acknowledged event (events_lost == 0 with events_acknowledged > 0) and, "
              "when workflows ran, no checkpointed step went missing; else 0")
    server = _dict(results.get("server"))
    lost, acked = server.get("events_lost"), server.get("events_acknowledged")
    if not isinstance(lost, int) or not isinstance(acked, int):
        return _Check("data_safety", None, [], method, "the server phase did not run (results.server)",
                      "run the assessment without --no-server")
    facts = [_ev("results.server.events_acknowledged", acked), _ev("results.server.events_lost", lost)]
    problems = []
    if acked <= 0:
        problems.append("no event was acknowledged, so nothing was proved")
    if lost != 0:
        problems.append(f"{lost} acknowledged event(s) lost of {acked}")
    steps_missing = _dict(results.get("workflows")).get("steps_missing")
    if isinstance(steps_missing, int):
        facts.append(_ev("results.workflows.steps_missing", steps_missing))
        if steps_missing:
            problems.append(f"{steps_missing} checkpointed workflow step(s) missing after SIGKILL")
    return _Check("data_safety", 0.0 if problems else 1.0, facts, method, "; ".join(problems) or None,
                  "find where acknowledged data is dropped (server spool, sink retries, checkpoint commit) before "
                  "relying on it" if problems else None)


_CHECKS: dict[str, Callable[[Mapping[str, Any]], _Check]] = {
    "monitoring": check_monitoring,
    "alert_coverage": check_alert_coverage,
    "notification_delivery": check_notification_delivery,
    "recovery": check_recovery,
    "rto_compliance": check_rto_compliance,
    "data_safety": check_data_safety,
}


def score_readiness(
    report: Mapping[str, Any], *, weights: Mapping[str, float] | None = None, runbook_root: Path | None = None
) -> dict[str, Any]:
    """Every check scored from ``report`` (the report.json dict), the weights, and the overall weighted mean."""
    if not isinstance(report, Mapping):
        raise TypeError(f"report: expected the report.json dict, got {type(report).__name__}")
    table = dict(WEIGHTS)
    for name, weight in (weights or {}).items():
        if name not in table:
            raise ValueError(f"weights: unknown check {name!r}; known: {', '.join(table)}")
        if not isinstance(weight, int | float) or weight < 0:
            raise ValueError(f"weights[{name!r}]: {weight!r} must be a number >= 0")
        table[name] = float(weight)
    results = _dict(report.get("results"))
    checks: list[dict[str, Any]] = []
    for name in table:
        check = check_runbook_coverage(results, runbook_root) if name == "runbook_coverage" else _CHECKS[name](results)
        checks.append(check.to_dict(table[name]))
    measured = [c for c in checks if c["score"] is not None]
    measured_weight = sum(c["weight"] for c in measured)
    overall = (sum(c["score"] * c["weight"] for c in measured) / measured_weight) if measured_weight > 0 else None
    gaps = [{"check": c["name"], "status": c["status"], "gap": c["gap"], "recommendation": c["recommendation"]}
            for c in checks if c["status"] != PASS]
    return {
        "overall": {
            "score": None if overall is None else round(overall, 4),
            "measured_weight": measured_weight,
            "total_weight": sum(table.values()),
            "not_measured": [c["name"] for c in checks if c["status"] == NOT_MEASURED],
            "method": "weighted mean of the measured checks' scores (weights below); not_measured checks are "
                      "left out of the mean and listed as gaps",
        },
        "weights": table,
        "thresholds": {"pass": "score = 1", "partial": "0 < score < 1", "fail": "score = 0",
                       "not_measured": "evidence missing from the report"},
        "checks": checks,
        "gaps": gaps,
    }


# -- Markdown ---------------------------------------------------------------------------------------------


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _evidence_text(evidence: list[dict[str, Any]], limit: int = 4) -> str:
    shown = [f"`{e['source']}` = {e['value']}" for e in evidence[:limit]]
    if len(evidence) > limit:
        shown.append(f"… {len(evidence) - limit} more in report.json")
    return "; ".join(shown) or "none"


def readiness_markdown(readiness: Mapping[str, Any]) -> str:
    """The readiness section for report.md: overall score, one row per check with its weight, evidence and
    method, then the gaps with their recommendations."""
    overall = readiness["overall"]
    score = overall["score"]
    lines = [
        "## Readiness",
        "",
        f"Overall readiness: **{'not measured' if score is None else f'{score * 100:.1f} / 100'}** "
        f"({overall['method']}; measured weight {overall['measured_weight']:g} of {overall['total_weight']:g}).",
        "",
        "| check | weight | score | status | evidence | method |",
        "|---|---|---|---|---|---|",
    ]
    for c in readiness["checks"]:
        shown = "n/a" if c["score"] is None else f"{c['score']:.2f}"
        lines.append(f"| {_md(c['title'])} | {c['weight']:g} | {shown} | {c['status']} | "
                     f"{_md(_evidence_text(c['evidence']))} | {_md(c['method'])} |")
    lines += ["", "### Gaps and recommendations", ""]
    if not readiness["gaps"]:
        lines.append("No gaps: every check passed on measured evidence.")
    for gap in readiness["gaps"]:
        lines.append(f"- **{gap['check']}** ({gap['status']}): {gap['gap']}. *Recommendation:* "
                     f"{gap['recommendation']}.")
    return "\n".join(lines) + "\n"
