"""Turn a run's raw outcomes into figures, each with the method that produced it, as JSON and Markdown."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recoup.assess.runner import OperationOutcome, RunResult
from recoup.assess.stats import Distribution, log_histogram, ratio, wilson_interval
from recoup.policies.events import EventKind

#: The figures of the report that inspired the assessment (their measurements, not ours), for comparison.
INSPIRING_REPORT: dict[str, float] = {
    "recovery_success_rate": 0.94,
    "throughput_ops_per_s": 33.9,
    "recovery_time_mean_ms": 29.5,
    "concurrency": 100,
}

#: The recovery target the issue sets for recoverable faults.
RECOVERY_TARGET = 0.999


def _timeline_bin(wall_seconds: float) -> float:
    """Bin width for the timeline: about 50 bins, never narrower than 0.1 s nor wider than 0.5 s."""
    return min(0.5, max(0.1, round(wall_seconds / 50 / 0.05) * 0.05))


def recovery_timeline(result: RunResult) -> list[dict[str, Any]]:
    """Per time bin since the run started: operations started, succeeded (recovered among them) and failed, and
    the breaker's state at the bin's end (from its STATE_CHANGED events; closed until the first)."""
    outcomes = result.outcomes
    if not outcomes:
        return []
    origin = result.started_monotonic
    span = max(o.finished for o in outcomes) - origin
    width = _timeline_bin(span)
    bins: list[dict[str, Any]] = [
        {"t": round(i * width, 3), "started": 0, "succeeded": 0, "recovered": 0, "failed": 0}
        for i in range(int(span // width) + 1)
    ]

    def slot(at: float) -> dict[str, Any]:
        return bins[min(len(bins) - 1, max(0, int((at - origin) // width)))]

    for o in outcomes:
        slot(o.started)["started"] += 1
        end = slot(o.finished)
        if o.succeeded:
            end["succeeded"] += 1
            end["recovered"] += o.recoverable
        else:
            end["failed"] += 1
    changes = sorted(
        (e.timestamp - result.started_wall, str(e.data.get("to_state")))
        for e in result.events
        if e.kind is EventKind.STATE_CHANGED and e.policy == "breaker"
    )
    state, i = "closed", 0
    for row in bins:
        end_t = row["t"] + width
        while i < len(changes) and changes[i][0] <= end_t:
            state = changes[i][1]
            i += 1
        row["breaker_state"] = state
    return bins


def _per_fault(outcomes: list[OperationOutcome]) -> dict[str, dict[str, Any]]:
    """Per injected fault kind: how its operations ended and how long recovery took."""
    grouped: defaultdict[str, list[OperationOutcome]] = defaultdict(list)
    for o in outcomes:
        if o.plan.fault is not None:
            grouped[o.plan.fault.name].append(o)
    rows: dict[str, dict[str, Any]] = {}
    for name, items in sorted(grouped.items()):
        fault = items[0].plan.fault
        assert fault is not None
        times = [o.recovery_time * 1000 for o in items if o.recovery_time is not None]
        rows[name] = {
            "category": fault.category.value,
            "transient": fault.transient,
            "operations": len(items),
            "succeeded": sum(1 for o in items if o.succeeded),
            "mean_attempts": sum(o.attempts for o in items) / len(items),
            "timeouts": sum(o.timeouts for o in items),
            "recovery_time_ms": Distribution.of(times).to_dict(),
        }
    return rows


def recovery_breakdown(recovered: list[OperationOutcome]) -> dict[str, Any]:
    """Where the recovered operations' recovery time went, as means per operation (ms): inside attempts (the
    failed ones among them, e.g. the hung upstream's timeouts), recoup's backoff after failures, recoup's waits
    for the breaker to admit, how much longer those waits really lasted (event-loop lag), and the rest (the
    policies' own work and the loop's scheduling between an attempt's end and the next one's start)."""
    timed = [o for o in recovered if o.recovery_time is not None]
    if not timed:
        return {"operations": 0}
    n = len(timed)

    def mean_ms(values: list[float]) -> float:
        return sum(values) * 1000 / n

    total = mean_ms([o.recovery_time or 0.0 for o in timed])
    attempts = mean_ms([o.attempt_seconds for o in timed])
    backoff = mean_ms([o.backoff_seconds for o in timed])
    admission = mean_ms([o.admission_seconds for o in timed])
    overshoot = mean_ms([max(0.0, o.waited_seconds - o.backoff_seconds - o.admission_seconds) for o in timed])
    return {
        "operations": n,
        "recovery_mean_ms": total,
        "attempts_ms": attempts,
        "failed_attempts_ms": mean_ms([o.failed_attempt_seconds for o in timed]),
        "successful_attempt_ms": mean_ms([o.attempt_seconds - o.failed_attempt_seconds for o in timed]),
        "backoff_wait_ms": backoff,
        "breaker_wait_ms": admission,
        "wait_overshoot_ms": overshoot,
        "other_ms": total - attempts - backoff - admission - overshoot,
    }


def summarise(result: RunResult) -> dict[str, Any]:
    """Every figure in the report, computed from this run's outcomes and events only."""
    outcomes = result.outcomes
    clean = [o for o in outcomes if o.plan.fault is None and not o.recoverable]
    recoverable = [o for o in outcomes if o.recoverable]
    outage_hit = [o for o in outcomes if o.outage_failures > 0]
    permanent = [o for o in outcomes if o.plan.permanent]
    recovered = [o for o in recoverable if o.succeeded]
    # Fail fast: the permanent fault was met once and not retried (0 attempts: the breaker refused it first).
    # Fail fast: no attempt after the one that met the permanent error (an attempt before it may have met a
    # timeout of the loaded loopback, which is transient and rightly retried); never met: the breaker refused it.
    fail_fast = [o for o in permanent if not o.succeeded and o.attempts <= (o.first_injected_attempt or 1)]
    timed_out_first = [o for o in permanent if (o.first_injected_attempt or 1) > 1]
    rejected = [o for o in outcomes if o.final_error_type == "CircuitOpenError"]
    recovery_ms = [o.recovery_time * 1000 for o in recovered if o.recovery_time is not None]
    latency_ms = [(o.finished - o.started) * 1000 for o in outcomes]
    healthy_ms = [(o.finished - o.started) * 1000 for o in clean if o.succeeded and o.attempts == 1]
    planned = [
        o
        for o in recovered
        if o.recovery_time is not None and o.plan.recoverable and not o.outage_failures and not o.breaker_rejections
    ]
    planned_recovery_ms = [o.recovery_time * 1000 for o in planned if o.recovery_time is not None]
    waited = [o for o in recoverable if o.breaker_rejections > 0]
    gave_up: Counter[str] = Counter()

    transitions: Counter[str] = Counter()
    event_counts: Counter[str] = Counter()
    for event in result.events:
        event_counts[f"{event.policy}.{event.kind.value}"] += 1
        if event.kind is EventKind.STATE_CHANGED:
            transitions[f"{event.data.get('from_state')}->{event.data.get('to_state')}"] += 1
        elif event.kind is EventKind.GAVE_UP and event.policy == "retry":
            gave_up[str(event.data.get("reason"))] += 1

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
        "wasted_retries": sum(max(0, o.attempts - (o.first_injected_attempt or 1)) for o in permanent),
        "permanent_retried_before_met": len(timed_out_first),
        "permanent_single_attempt": sum(1 for o in permanent if o.attempts <= 1),
        "ended_rejected_by_breaker": len(rejected),
        "permanent_that_succeeded": sum(1 for o in permanent if o.succeeded),
        "recovery_time_ms": Distribution.of(recovery_ms).to_dict(),
        "operation_latency_ms": Distribution.of(latency_ms).to_dict(),
        "healthy_latency_ms": Distribution.of(healthy_ms).to_dict(),
        "recovery_breakdown": recovery_breakdown(recovered),
        "recovery_breakdown_planned_faults": recovery_breakdown(planned),
        "event_loop_lag_ms": Distribution.of(result.loop_lag_ms).to_dict(),
        "fixture": dict(result.fixture),
        "wall_seconds": result.wall_seconds,
        "throughput_ops_per_s": len(outcomes) / result.wall_seconds if result.wall_seconds > 0 else None,
        "breaker_transitions": dict(transitions),
        "policy_events": dict(sorted(event_counts.items())),
        "classification_accuracy_on_injected": ratio(classified_total, faulted),
        "faults_met": faulted,
        "per_category": per_category,
        "per_fault": _per_fault(outcomes),
        "recovery_target": RECOVERY_TARGET,
        "recovery_target_met": (len(recovered) / len(recoverable) >= RECOVERY_TARGET) if recoverable else None,
        "recovery_time_planned_faults_ms": Distribution.of(planned_recovery_ms).to_dict(),
        "attempts_timed_out": sum(o.timeouts for o in outcomes),
        "breaker_rejections": sum(o.breaker_rejections for o in outcomes),
        "operations_that_waited_for_the_breaker": len(waited),
        "operations_that_waited_and_recovered": sum(1 for o in waited if o.succeeded),
        "retry_gave_up_reasons": dict(sorted(gave_up.items())),
        "breaker_store": result.breaker_store,
        "latency_histogram_ms": log_histogram(latency_ms),
        "recovery_timeline": recovery_timeline(result),
        "inspiring_report": dict(INSPIRING_REPORT),
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
    if summary.get("analytics"):
        from recoup.assess.analytics_phase import analytics_markdown

        extra += ["", analytics_markdown(summary["analytics"])]
    return _render_pipeline(config, summary, env) + "\n".join(extra) + "\n"


_NOT_MEASURED: dict[str, Any] = {"count": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}

#: Figures added to the summary after its first version, with what a summary without them means.
_ADDED_LATER: dict[str, Any] = {
    "recovery_time_planned_faults_ms": _NOT_MEASURED,
    "operations_that_waited_for_the_breaker": 0,
    "operations_that_waited_and_recovered": 0,
    "breaker_rejections": 0,
    "attempts_timed_out": 0,
    "per_fault": {},
    "breaker_store": "process memory (not recorded)",
    "recovery_target_met": None,
    "permanent_single_attempt": 0,
    "permanent_retried_before_met": 0,
    "healthy_latency_ms": _NOT_MEASURED,
    "recovery_breakdown": {"operations": 0},
    "recovery_breakdown_planned_faults": {"operations": 0},
    "event_loop_lag_ms": _NOT_MEASURED,
    "fixture": {},
}


def _store_text(store: str) -> str:
    return "this process's memory" if store == "memory" else store


def _render_pipeline(config: dict[str, Any], summary: dict[str, Any], env: dict[str, Any]) -> str:
    """The human report: each figure next to how it was measured, and the evidence behind it."""
    s = {**_ADDED_LATER, **summary}  # a summary written before these figures existed still renders
    ci = s["recovery_success_rate_95ci"]
    ci_text = f" (95% CI {ci[0] * 100:.2f}–{ci[1] * 100:.2f}%)" if ci else ""
    rt, lat, pt = s["recovery_time_ms"], s["operation_latency_ms"], s["recovery_time_planned_faults_ms"]
    hl, lag = s["healthy_latency_ms"], s["event_loop_lag_ms"]
    lines = [
        "# recoup readiness assessment",
        "",
        f"Run finished {env['finished_at']} on Python {env['python']}, {env['cpus']} CPUs ({env['platform']}).",
        f"Configuration: `{json.dumps(config, sort_keys=True)}`.",
        "",
        "Every figure below was measured in this run: faults of every category were provoked for real (refused",
        "loopback connections, an upstream that accepts the connection and never answers, HTTP 5xx/429/401 from",
        "a local server, a real MemoryError, missing files, invalid JSON, git run outside a repository, an",
        "AttributeError, a tool exiting non-zero without a word) and each operation went through a recoup",
        "pipeline: classification-driven retry → circuit breaker → bulkhead → per-attempt timeout. A breaker's",
        "refusal is waited out (its `retry_after`) without spending an attempt, for at most 30 s per operation;",
        f"the breaker's state lived in {_store_text(s['breaker_store'])}.",
        *_fixture_lines(s["fixture"]),
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
        "operations with a permanent fault made no attempt after the one that met their permanent error "
        f"(wasted retries: {s['wasted_retries']}); {s['permanent_single_attempt']} made exactly one attempt, "
        f"{s['permanent_retried_before_met']} met a transient timeout first and retried it |",
        f"| clean success rate | {_pct(s['clean_success_rate'])} | operations that met no fault, outage or "
        "breaker rejection and succeeded |",
        f"| recovery time mean / p50 / p95 / p99 | {_ms(rt['mean'])} / {_ms(rt['p50'])} / {_ms(rt['p95'])} / "
        f"{_ms(rt['p99'])} | first failure → success, monotonic clock, nearest-rank over "
        f"{rt['count']} recovered operations |",
        f"| recovery time, planned faults only, mean / p95 / p99 | {_ms(pt['mean'])} / {_ms(pt['p95'])} / "
        f"{_ms(pt['p99'])} | the {pt['count']} recovered operations that neither the outage nor the breaker touched |",
        f"| waited for the breaker | {s['operations_that_waited_and_recovered']} of "
        f"{s['operations_that_waited_for_the_breaker']} recovered | recoverable operations the breaker refused at "
        f"least once ({s['breaker_rejections']} refusals in all, each waited out for its `retry_after`) |",
        f"| attempts ended by the timeout | {s['attempts_timed_out']} | the per-attempt `Timeout` cancelled them "
        "(the hung upstream) |",
        f"| operation latency p50 / p99 | {_ms(lat['p50'])} / {_ms(lat['p99'])} | start → end of every operation |",
        f"| healthy operation latency p50 / p99 | {_ms(hl['p50'])} / {_ms(hl['p99'])} | start → end of the "
        f"{hl['count']} operations that met no fault and succeeded at the first attempt: one round trip through "
        "the pipeline |",
        f"| event-loop lag mean / p99 / max | {_ms(lag['mean'])} / {_ms(lag['p99'])} / {_ms(lag['max'])} | how late "
        f"a 10 ms sleep woke up, {lag['count']} samples during the load: the delay every wait and every I/O "
        "callback of the run suffered |",
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
    lines += [
        "",
        "## Load through the pipeline, per injected fault",
        "",
        "| fault | category | transient | operations | succeeded | mean attempts | timeouts | recovery mean / p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in s["per_fault"].items():
        frt = row["recovery_time_ms"]
        lines.append(
            f"| {name} | {row['category']} | {'yes' if row['transient'] else 'no'} | {row['operations']} | "
            f"{row['succeeded']} | {row['mean_attempts']:.2f} | {row['timeouts']} | "
            f"{_ms(frt['mean'])} / {_ms(frt['p95'])} |"
        )
    lines += _comparison(config, s)
    lines += ["", "## Policy events", "", "| event | count |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in s["policy_events"].items()]
    if s["unrecovered_examples"]:
        lines += ["", "## Recoverable faults that were not recovered (first five)", ""]
        lines += [f"- `{text}`" for text in s["unrecovered_examples"]]
    lines.append("")
    return "\n".join(lines)


def _fixture_lines(fixture: dict[str, str]) -> list[str]:
    if not fixture:
        return []
    lines = [f"The HTTP upstream was an {fixture['upstream']}, reached with {fixture['client']}."
             if fixture["upstream"].startswith("asyncio") else
             f"The HTTP upstream was a {fixture['upstream']}, reached with {fixture['client']}."]
    if fixture.get("note"):
        lines.append(f"**Note:** {fixture['note']}.")
    return lines


def breakdown_sentence(b: dict[str, Any], what: str) -> str:
    """"Of the N ms mean, X ms were ..." for one `recovery_breakdown`; empty when nothing was recovered."""
    if not b.get("operations"):
        return ""
    return (
        f"Of the {b['recovery_mean_ms']:.1f} ms mean recovery time ({what}, {b['operations']} operations), "
        f"{b['backoff_wait_ms']:.1f} ms were recoup's backoff waits, {b['breaker_wait_ms']:.1f} ms waiting out the "
        f"breaker's refusals (its `retry_after`), {b.get('wait_overshoot_ms', 0.0):.1f} ms more that those waits "
        f"lasted because the event loop woke them late, {b['attempts_ms']:.1f} ms inside attempts "
        f"({b['failed_attempts_ms']:.1f} ms in attempts that failed again, the hung upstream's timeouts among them; "
        f"{b['successful_attempt_ms']:.1f} ms in the attempt that succeeded) and {b['other_ms']:.1f} ms between "
        "attempts outside any wait (the policies' own work and the loop's turn-taking among the operations)."
    )


def _comparison(config: dict[str, Any], s: dict[str, Any]) -> list[str]:
    """Our measured figures beside the inspiring report's own (theirs are quoted, not re-measured here)."""
    ref = s.get("inspiring_report") or INSPIRING_REPORT
    rate = s["recovery_success_rate"]
    met = s.get("recovery_target_met")
    target = "not measured" if met is None else ("met" if met else "NOT met")
    interval = s.get("recovery_success_rate_95ci")
    if met and interval and interval[0] < s.get("recovery_target", RECOVERY_TARGET):
        target = (f"met by the point estimate; the 95% interval {interval[0] * 100:.2f}–{interval[1] * 100:.2f}% "
                  f"is too wide to show it with {s['recoverable_faults']} recoverable operations — raise --ops")
    return [
        "",
        "## Compared with the report that inspired this assessment",
        "",
        f"Their figures are quoted from that report (100 concurrent operations); ours were measured above, at "
        f"concurrency {config['concurrency']} on {os.cpu_count()} CPUs shared with the telemetry server, so the two "
        "rows are not a benchmark of the same workload. Target for recoverable faults: "
        f"≥ {s.get('recovery_target', RECOVERY_TARGET) * 100:.1f}% ({target}).",
        "",
        "| figure | theirs (quoted) | ours (measured) |",
        "|---|---|---|",
        f"| recovery success rate, recoverable faults | {ref['recovery_success_rate'] * 100:.0f}% | {_pct(rate)} |",
        f"| throughput | {ref['throughput_ops_per_s']} ops/s | {s['throughput_ops_per_s']:.1f} ops/s |",
        f"| mean recovery time | {ref['recovery_time_mean_ms']} ms | {_ms(s['recovery_time_ms']['mean'])} (all); "
        f"{_ms(s['recovery_time_planned_faults_ms']['mean'])} (planned faults only) |",
        *_where_recovery_time_went(config, s),
    ]


def _where_recovery_time_went(config: dict[str, Any], s: dict[str, Any]) -> list[str]:
    """The recovery-time breakdown, in words, under the comparison table."""
    sentences = [
        breakdown_sentence(s["recovery_breakdown"], "every recovered operation"),
        breakdown_sentence(s["recovery_breakdown_planned_faults"], "planned faults only"),
    ]
    lines = [text for text in sentences if text]
    if not lines:
        return []
    lag, hl = s["event_loop_lag_ms"], s["healthy_latency_ms"]
    context = (
        f"For scale: a healthy operation took {_ms(hl['p50'])} at the median (p99 {_ms(hl['p99'])}) and the event "
        f"loop woke up {_ms(lag['mean'])} late on average (p99 {_ms(lag['p99'])}), at concurrency "
        f"{config.get('concurrency', 'as configured')}; a hung-upstream attempt lasts the per-attempt timeout by "
        "design."
    )
    target = (s.get("server") or {}).get("target")
    if target == "embedded (own process)":
        context += (
            " The telemetry server ran in a process of its own, so it shared the machine's cores with the load but"
            " not its interpreter (`benchmarks/assess_breakdown.py` runs the same load with the server in this"
            " process, in its own and with none, side by side)."
        )
    if target == "embedded":  # reports from before the server got its own process
        context += (
            " The telemetry server was embedded in this process, so its threads competed with the operations' event"
            " loop for the interpreter: most of the late wake-ups are its doing (`benchmarks/assess_breakdown.py`"
            " runs the same load with the server in its own process and with none, side by side)."
        )
    return ["", "Where the recovery time went (measured per operation, recovery window = first failure → success):",
            "", *[f"- {line}" for line in lines], f"- {context}"]


def write_report(out_dir: Path, config: dict[str, Any], summary: dict[str, Any]) -> tuple[Path, Path, Path | None]:
    """Score readiness from the results, then write report.json, report.md and report.html atomically (temp
    file + rename), so a crash leaves no half report. The HTML needs Jinja2 (the server extra): without it
    the path returned is None and the reason is printed."""
    from recoup.assess.readiness import readiness_markdown, score_readiness

    out_dir.mkdir(parents=True, exist_ok=True)
    env = environment()
    payload: dict[str, Any] = {"config": config, "environment": env, "results": summary}
    readiness = score_readiness(payload)
    payload["readiness"] = readiness
    json_path, md_path = out_dir / "report.json", out_dir / "report.md"
    markdown = render_markdown(config, summary, env) + "\n" + readiness_markdown(readiness)
    for path, text in ((json_path, json.dumps(payload, indent=2, sort_keys=True) + "\n"), (md_path, markdown)):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    if importlib.util.find_spec("jinja2") is None:
        print("recoup assess: no report.html: it needs Jinja2 (pip install 'recoup[server]')", file=sys.stderr)
        return json_path, md_path, None
    from recoup.assess.html_report import write_html

    html_path = out_dir / "report.html"
    write_html(payload, readiness, html_path)
    return json_path, md_path, html_path
