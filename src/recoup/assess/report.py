"""Turn a run's raw outcomes into figures, each with the method that produced it, as JSON and Markdown."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recoup.assess.runner import RunResult
from recoup.assess.stats import Distribution, ratio, wilson_interval
from recoup.policies.events import EventKind


def summarise(result: RunResult) -> dict[str, Any]:
    """Every figure in the report, computed from this run's outcomes and events only."""
    outcomes = result.outcomes
    clean = [o for o in outcomes if o.plan.fault is None and not o.recoverable]
    recoverable = [o for o in outcomes if o.recoverable]
    outage_hit = [o for o in outcomes if o.outage_failures > 0]
    permanent = [o for o in outcomes if o.plan.permanent]
    recovered = [o for o in recoverable if o.succeeded]
    # Fail fast: the permanent fault was met once and not retried (0 attempts: the breaker refused it first).
    fail_fast = [o for o in permanent if not o.succeeded and o.attempts <= 1]
    rejected = [o for o in outcomes if o.final_error_type == "CircuitOpenError"]
    recovery_ms = [o.recovery_time * 1000 for o in recovered if o.recovery_time is not None]
    latency_ms = [(o.finished - o.started) * 1000 for o in outcomes]

    transitions: Counter[str] = Counter()
    event_counts: Counter[str] = Counter()
    for event in result.events:
        event_counts[f"{event.policy}.{event.kind.value}"] += 1
        if event.kind is EventKind.STATE_CHANGED:
            transitions[f"{event.data.get('from_state')}->{event.data.get('to_state')}"] += 1

    per_category: dict[str, dict[str, Any]] = {}
    grouped: defaultdict[str, list[Any]] = defaultdict(list)
    for o in outcomes:
        if o.plan.fault is not None:
            grouped[o.plan.fault.category.value].append(o)
    for category, items in sorted(grouped.items()):
        met = [o for o in items if o.first_error_category is not None]
        classified_right = sum(1 for o in met if o.first_error_category == category)
        per_category[category] = {
            "operations": len(items),
            "transient": items[0].plan.fault.transient,
            "succeeded": sum(1 for o in items if o.succeeded),
            "mean_attempts": sum(o.attempts for o in items) / len(items),
            "faults_met": len(met),
            "classified_correctly": classified_right,
            "classification_accuracy": ratio(classified_right, len(met)),
        }
    classified_total = sum(v["classified_correctly"] for v in per_category.values())
    faulted = sum(v["faults_met"] for v in per_category.values())
    interval = wilson_interval(len(recovered), len(recoverable))

    return {
        "operations": len(outcomes),
        "clean_operations": len(clean),
        "clean_success_rate": ratio(sum(1 for o in clean if o.succeeded), len(clean)),
        "recoverable_faults": len(recoverable),
        "recovered": len(recovered),
        "recovery_success_rate": ratio(len(recovered), len(recoverable)),
        "recovery_success_rate_95ci": list(interval) if interval else None,
        "unrecovered_examples": [o.final_error for o in recoverable if not o.succeeded][:5],
        "outage_seconds": result.config.outage_seconds,
        "outage_operations": len(outage_hit),
        "outage_recovered": sum(1 for o in outage_hit if o.succeeded),
        "outage_failed_attempts": sum(o.outage_failures for o in outage_hit),
        "permanent_faults": len(permanent),
        "failed_fast": len(fail_fast),
        "fail_fast_rate": ratio(len(fail_fast), len(permanent)),
        "wasted_retries": sum(max(0, o.attempts - 1) for o in permanent),
        "ended_rejected_by_breaker": len(rejected),
        "permanent_that_succeeded": sum(1 for o in permanent if o.succeeded),
        "recovery_time_ms": Distribution.of(recovery_ms).to_dict(),
        "operation_latency_ms": Distribution.of(latency_ms).to_dict(),
        "wall_seconds": result.wall_seconds,
        "throughput_ops_per_s": len(outcomes) / result.wall_seconds if result.wall_seconds > 0 else None,
        "breaker_transitions": dict(transitions),
        "policy_events": dict(sorted(event_counts.items())),
        "classification_accuracy_on_injected": ratio(classified_total, faulted),
        "faults_met": faulted,
        "per_category": per_category,
    }


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _pct(value: float | None) -> str:
    return "not measured (no such operations)" if value is None else f"{value * 100:.2f}%"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def render_markdown(config: dict[str, Any], summary: dict[str, Any], env: dict[str, Any]) -> str:
    from recoup.assess.phase_reports import engine_markdown, server_markdown, workflows_markdown

    extra: list[str] = []
    if summary.get("server"):
        extra += server_markdown(summary["server"])
    if summary.get("engine"):
        extra += engine_markdown(summary["engine"])
    if summary.get("workflows"):
        extra += workflows_markdown(summary["workflows"])
    incidents = summary.get("incidents")
    if incidents and "scenarios" in incidents:
        from recoup.assess.incident_phase import incidents_markdown

        extra += incidents_markdown(incidents)
    elif incidents and incidents.get("skipped"):
        extra += ["", "## Incident scenarios", "", f"Not run ({incidents['skipped']}).", ""]
    return _render_pipeline(config, summary, env) + "\n".join(extra) + "\n"


def _render_pipeline(config: dict[str, Any], summary: dict[str, Any], env: dict[str, Any]) -> str:
    """The human report: each figure next to how it was measured, and the evidence behind it."""
    s = summary
    ci = s["recovery_success_rate_95ci"]
    ci_text = f" (95% CI {ci[0] * 100:.2f}–{ci[1] * 100:.2f}%)" if ci else ""
    rt, lat = s["recovery_time_ms"], s["operation_latency_ms"]
    lines = [
        "# recoup readiness assessment",
        "",
        f"Run finished {env['finished_at']} on Python {env['python']}, {env['cpus']} CPUs ({env['platform']}).",
        f"Configuration: `{json.dumps(config, sort_keys=True)}`.",
        "",
        "Every figure below was measured in this run: faults were provoked for real (refused loopback",
        "connections, HTTP 5xx/429/401 from a local server, a real MemoryError, missing files, invalid JSON,",
        "git run outside a repository, an AttributeError) and each operation went through a recoup pipeline",
        "(classification-driven retry → circuit breaker → bulkhead).",
        "",
        "| figure | value | how it was measured |",
        "|---|---|---|",
        f"| operations | {s['operations']} | planned from the seed; {s['clean_operations']} met no fault |",
        f"| recovery success rate | {_pct(s['recovery_success_rate'])}{ci_text} | "
        f"{s['recovered']} of {s['recoverable_faults']} operations whose transient fault clears after 1–"
        f"{config['max_clears_after']} failures, or that the outage or the breaker's load shedding hit, "
        "ended in success |",
        f"| upstream outage | {s['outage_recovered']} of {s['outage_operations']} operations hit recovered | "
        f"the upstream refused every connection for {s['outage_seconds']:.2f} s mid-run; "
        f"{s['outage_failed_attempts']} attempts failed on it |",
        f"| fail-fast rate | {_pct(s['fail_fast_rate'])} | {s['failed_fast']} of {s['permanent_faults']} "
        f"operations with a permanent fault failed after exactly one attempt; wasted retries: "
        f"{s['wasted_retries']} |",
        f"| clean success rate | {_pct(s['clean_success_rate'])} | operations that met no fault, outage or "
        "breaker rejection and succeeded |",
        f"| recovery time mean / p50 / p95 / p99 | {_ms(rt['mean'])} / {_ms(rt['p50'])} / {_ms(rt['p95'])} / "
        f"{_ms(rt['p99'])} | first failure → success, monotonic clock, nearest-rank over "
        f"{rt['count']} recovered operations |",
        f"| operation latency p50 / p99 | {_ms(lat['p50'])} / {_ms(lat['p99'])} | start → end of every operation |",
        f"| throughput | {s['throughput_ops_per_s']:.1f} ops/s | {s['operations']} operations / "
        f"{s['wall_seconds']:.2f} s wall time at concurrency {config['concurrency']} |",
        f"| classification accuracy on injected faults | {_pct(s['classification_accuracy_on_injected'])} | "
        f"recoup.classify(first injected error) compared with the injected cause, over the {s['faults_met']} "
        "operations whose fault was met |",
        f"| breaker transitions | {s['breaker_transitions'] or 'none'} | STATE_CHANGED events observed |",
        f"| ended rejected by the breaker | {s['ended_rejected_by_breaker']} | operations whose final error was "
        "CircuitOpenError after every retry |",
        "",
        "## Load through the pipeline, per injected category",
        "",
        "| category | transient | operations | succeeded | mean attempts | classified correctly |",
        "|---|---|---|---|---|---|",
    ]
    for category, row in s["per_category"].items():
        lines.append(
            f"| {category} | {'yes' if row['transient'] else 'no'} | {row['operations']} | {row['succeeded']} | "
            f"{row['mean_attempts']:.2f} | {row['classified_correctly']} of {row['faults_met']} "
            f"({_pct(row['classification_accuracy'])}) |"
        )
    lines += ["", "## Policy events", "", "| event | count |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in s["policy_events"].items()]
    if s["unrecovered_examples"]:
        lines += ["", "## Recoverable faults that were not recovered (first five)", ""]
        lines += [f"- `{text}`" for text in s["unrecovered_examples"]]
    lines.append("")
    return "\n".join(lines)


def write_report(out_dir: Path, config: dict[str, Any], summary: dict[str, Any]) -> tuple[Path, Path]:
    """Write report.json and report.md atomically (temp file + rename), so a crash leaves no half report."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = environment()
    payload = {"config": config, "environment": env, "results": summary}
    paths = (out_dir / "report.json", out_dir / "report.md")
    contents = (json.dumps(payload, indent=2, sort_keys=True) + "\n", render_markdown(config, summary, env))
    for path, text in zip(paths, contents, strict=True):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return paths
