"""Figures for the engine-repair and workflow-resume phases, and their Markdown sections."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from recoup.assess.engine_phase import EnginePhaseResult
from recoup.assess.server_phase import OWN_SERVER, ServerPhaseResult
from recoup.assess.stats import Distribution, ratio
from recoup.assess.workflows import WorkflowOutcome
from recoup.telemetry.events import Outcome


def summarise_engine(result: EnginePhaseResult) -> dict[str, Any]:
    """Per injected case (with the post-condition check) and per strategy (from the engine's own events)."""
    cases: dict[str, dict[str, Any]] = {}
    by_case: defaultdict[str, list[Any]] = defaultdict(list)
    for o in result.outcomes:
        by_case[o.case].append(o)
    for name, items in sorted(by_case.items()):
        cases[name] = {
            "category": items[0].category.value,
            "recoverable": items[0].recoverable,
            "operations": len(items),
            "succeeded": sum(o.succeeded for o in items),
            "verified": sum(o.verified for o in items),
            "failed_examples": sorted({o.error for o in items if o.error})[:3],
        }
    strategies: dict[str, dict[str, Any]] = {}
    by_strategy: defaultdict[tuple[str, str], list[Any]] = defaultdict(list)
    for e in result.events:
        by_strategy[(e.category.value if e.category else "none", e.strategy)].append(e)
    for (category, strategy), events in sorted(by_strategy.items()):
        recovered = [e for e in events if e.outcome is Outcome.RECOVERED]
        ttr_ms = [e.time_to_recover * 1000 for e in recovered if e.time_to_recover is not None]
        strategies[f"{category}/{strategy}"] = {
            "category": category,
            "strategy": strategy,
            "calls": len(events),
            "recovered": len(recovered),
            "outcomes": {o.value: sum(1 for e in events if e.outcome is o) for o in Outcome if any(
                e.outcome is o for e in events)},
            "mean_attempts": sum(e.attempts for e in events) / len(events),
            "time_to_recover_ms": Distribution.of(ttr_ms).to_dict(),
        }
    recoverable = [o for o in result.outcomes if o.recoverable]
    permanent = [o for o in result.outcomes if not o.recoverable]
    return {
        "operations": len(result.outcomes),
        "recoverable": len(recoverable),
        "recovered_and_verified": sum(1 for o in recoverable if o.succeeded and o.verified),
        "repair_success_rate": ratio(sum(1 for o in recoverable if o.succeeded and o.verified), len(recoverable)),
        "permanent": len(permanent),
        "permanent_failed": sum(1 for o in permanent if not o.succeeded),
        "wall_seconds": result.wall_seconds,
        "cases": cases,
        "strategies": strategies,
    }


def summarise_workflows(outcomes: list[WorkflowOutcome]) -> dict[str, Any]:
    killed = [o for o in outcomes if o.killed_after]
    control = [o for o in outcomes if not o.killed_after]
    good = [o for o in killed if o.result_correct and o.repeated_steps == 0 and o.missing_steps == 0]
    return {
        "workflows": len(outcomes),
        "killed": len(killed),
        "resumed_correctly": len(good),
        "resume_success_rate": ratio(len(good), len(killed)),
        "completed_steps_repeated": sum(o.repeated_steps for o in outcomes),
        "steps_missing": sum(o.missing_steps for o in outcomes),
        "control_correct": sum(1 for o in control if o.result_correct),
        "control": len(control),
        "resume_seconds": Distribution.of([o.resume_seconds for o in killed]).to_dict(),
        "errors": [o.error for o in outcomes if o.error][:5],
    }


def _pct(value: float | None) -> str:
    return "not measured" if value is None else f"{value * 100:.2f}%"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def engine_markdown(s: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Recovery through the engine: repairs, not just retries",
        "",
        f"{s['operations']} operations through `RecoveryEngine` (defaults as shipped, waits scaled to loopback),",
        "each meeting one real fault whose cure is the category's strategy. *Verified* means the operation",
        "checked the repair afterwards (the folder exists, `git status` is clean, the token is accepted, the",
        "parsed value is right).",
        "",
        f"Repair success: **{_pct(s['repair_success_rate'])}** ({s['recovered_and_verified']} of {s['recoverable']} "
        f"recoverable operations recovered and verified); permanent faults failed: {s['permanent_failed']} of "
        f"{s['permanent']}.",
        "",
        "| injected case | category | operations | succeeded | verified |",
        "|---|---|---|---|---|",
    ]
    for name, row in s["cases"].items():
        lines.append(
            f"| {name} | {row['category']} | {row['operations']} | {row['succeeded']} | {row['verified']} |"
        )
    lines += [
        "",
        "Per strategy, from the engine's own `RecoveryOutcomeEvent`s (time to recover: first failure → success):",
        "",
        "| category / strategy | calls | outcomes | mean attempts | ttr mean ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, row in s["strategies"].items():
        ttr = row["time_to_recover_ms"]
        outcomes = ", ".join(f"{k} {v}" for k, v in row["outcomes"].items())
        lines.append(
            f"| {key} | {row['calls']} | {outcomes} | {row['mean_attempts']:.2f} | {_ms(ttr['mean'])} | "
            f"{_ms(ttr['p95'])} | {_ms(ttr['p99'])} |"
        )
    for name, row in s["cases"].items():
        for example in row["failed_examples"]:
            lines.append(f"\n- {name} failed: `{example}`")
    return lines


def workflows_markdown(s: dict[str, Any]) -> list[str]:
    rt = s["resume_seconds"]
    lines = [
        "",
        "## Durable workflows killed with SIGKILL mid-run",
        "",
        f"{s['workflows']} five-step workflows on a SQLite checkpoint store, each in a real child process; "
        f"{s['killed']} were killed with SIGKILL right after a random step was checkpointed and resumed in a fresh "
        "process, the rest ran straight through as a control.",
        "",
        "| figure | value | how it was measured |",
        "|---|---|---|",
        f"| resumed correctly | {s['resumed_correctly']} of {s['killed']} ({_pct(s['resume_success_rate'])}) | "
        "final result equal to an uninterrupted run's, no completed step executed twice, none missing |",
        f"| completed steps repeated | {s['completed_steps_repeated']} | side-effect log lines counted per step |",
        f"| control runs correct | {s['control_correct']} of {s['control']} | same checks, never killed |",
        f"| resume time mean / p95 | {_ms(None if rt['mean'] is None else rt['mean'] * 1000)} ms / "
        f"{_ms(None if rt['p95'] is None else rt['p95'] * 1000)} ms | start of the resuming process → its result |",
    ]
    lines += [f"\n- error: `{e}`" for e in s["errors"]]
    return lines


def summarise_server(r: ServerPhaseResult) -> dict[str, Any]:
    """Ingest rate, end-to-end latency, loss and HTTP errors of the telemetry sent during the fault load."""
    emitted = len(r.emitted_ids)
    stored = len(r.stored) if r.read_back else None
    window = r.drained_at - r.first_emit if r.first_emit is not None else None
    load = r.last_emit - r.first_emit if r.first_emit is not None and r.last_emit is not None else None
    visible = [s for s in r.samples if s.latency is not None]
    lower = [s.latency_lower * 1000 for s in visible if s.latency_lower is not None]
    request_mean = (
        r.server_request_seconds[0] / r.server_request_seconds[1] * 1000 if r.server_request_seconds else None
    )
    return {
        "target": r.target,
        "url": r.url,
        "database": r.database,
        "sink": r.sink_settings,
        "probe": r.probe_settings,
        "events_emitted": emitted,
        "emitted_by_type": dict(sorted(r.emitted_by_type.items())),
        "events_acknowledged": r.acknowledged,
        "events_stored": stored,
        "events_lost": None if stored is None else emitted - stored,
        "loss_rate": None if stored is None else ratio(emitted - stored, emitted),
        "sink_failed_events": r.failed,
        "sink_dropped_events": r.dropped,
        "sink_retried_requests": r.retried,
        "sink_warning_count": len(r.sink_warnings),
        "sink_warnings": r.sink_warnings[:5],
        "sink_drained": r.drained,
        "server_requests_by_status": {k: int(v) for k, v in sorted(r.server_requests.items())},
        "server_events_by_outcome": {k: int(v) for k, v in sorted(r.server_events.items())},
        "server_request_mean_ms": request_mean,
        "load_seconds": load,
        "ingest_window_seconds": window,
        "offered_rate_events_per_s": emitted / load if load else None,
        "ingest_rate_events_per_s": r.acknowledged / window if window else None,
        "visible_latency_ms": Distribution.of([s.latency * 1000 for s in visible if s.latency is not None]).to_dict(),
        "visible_sampled": len(r.samples),
        "visible_never_seen": len(r.samples) - len(visible),
        "visible_latency_lower_bound_ms": Distribution.of(lower).to_dict(),
        "visible_polls": sum(s.polls for s in r.samples),
        "received_latency_ms": Distribution.of([(rec - occ) * 1000 for occ, rec in r.stored.values()]).to_dict(),
        "probe_errors": dict(r.probe_errors),
        "setup_seconds": r.setup_seconds,
        "readback_seconds": r.readback_seconds,
        "notes": r.notes,
    }


def _rate(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.1f} events/s"


def _lat(d: dict[str, Any]) -> str:
    if not d["count"]:
        return "not measured"
    return f"{d['p50']:.1f} / {d['p95']:.1f} / {d['p99']:.1f} ms (max {d['max']:.1f})"


def server_markdown(s: dict[str, Any]) -> list[str]:
    sink = s["sink"]
    if s["target"] == "embedded":  # reports written before the server got its own process
        where = (f"an embedded server (uvicorn in a thread of this process, sharing its CPUs with the load; "
                 f"{s['database']} in a temporary folder)")
    elif s["target"] == OWN_SERVER:
        where = (f"a server of its own (`recoup serve` in a child process, so it shares the machine's cores with "
                 f"the load but not its interpreter; {s['database']} in a temporary folder)")
    else:
        where = f"the server at {s['url']}" + (f" ({s['database']}, as its `/readyz` says)" if s["database"] else "")
    stored = "not measured (no admin token)" if s["events_stored"] is None else str(s["events_stored"])
    lost = "not measured" if s["events_lost"] is None else f"{s['events_lost']} ({_pct(s['loss_rate'])})"
    statuses = ", ".join(f"{k}: {v}" for k, v in s["server_requests_by_status"].items()) or "not measured"
    vis, rec = s["visible_latency_ms"], s["received_latency_ms"]
    low = s["visible_latency_lower_bound_ms"]
    if vis["count"]:
        vis_text = " / ".join(f"{low[q]:.0f}–{vis[q]:.0f}" for q in ("p50", "p95", "p99")) + " ms"
    else:
        vis_text = "not measured"
    window = s["ingest_window_seconds"]
    window_text = "n/a" if window is None else f"{window:.2f} s"
    mean = s["server_request_mean_ms"]
    mean_text = "not measured" if mean is None else f"{mean:.2f} ms mean"
    probe = s["probe"]
    lines = [
        "",
        "## Telemetry to a recoup server under the fault load",
        "",
        "While the operations above ran (the pipeline phase, then the engine phase), the library's telemetry went to",
        f"{where}: policy events through `bridge_policy_events`, one classified `ErrorEvent` per error an attempt",
        "met, and the `RecoveryEngine`'s own events (errors, attempts, outcomes), all into an `HttpSink`",
        f"(batch_size {sink['batch_size']}, flush_interval {sink['flush_interval']:g} s, max_attempts "
        f"{sink['max_attempts']}) posting to `POST /api/v1/events` with an ingest key. Events were read back",
        "through the read API with an admin token. The pipeline figures above were measured with this telemetry",
        "switched on (`--no-server` measures them without it).",
        "",
        "| figure | value | how it was measured |",
        "|---|---|---|",
        f"| events emitted | {s['events_emitted']} | handed to the sink, counted by a recording sink in front of it; "
        f"by type: {s['emitted_by_type']} |",
        f"| events acknowledged | {s['events_acknowledged']} | in batches the server answered 2xx "
        "(`HttpSink.stats.sent`) |",
        f"| events stored | {stored} | emitted ids found by paging `GET /api/v1/projects/{{id}}/events` after the "
        "sink drained |",
        f"| events lost | {lost} | emitted − stored |",
        f"| ingest rate | {_rate(s['ingest_rate_events_per_s'])} | acknowledged events / "
        f"{window_text} from the first emit to the sink's queue drained; "
        f"offered {_rate(s['offered_rate_events_per_s'])} over the load: the rate this load produced and the "
        "server kept up with, not the server's maximum |",
        f"| end-to-end latency (visible) p50 / p95 / p99 | {vis_text} | per sampled event, library creation time "
        "(`event.timestamp`) → readable through `GET /api/v1/projects/{id}/events/{event_id}`, polled from "
        f"{probe['pollers']} other threads with the admin token: every {probe['sample_every']}th emitted event "
        f"(at most {probe['samples']}; "
        f"{probe['skipped_busy']} skipped while {probe['probes_in_flight']} were awaited), {vis['count']} of "
        f"{s['visible_sampled']} seen after {s['visible_polls']} polls. Polling brackets each value: upper = the "
        "first 200 came back, lower = the later of the last 404's request and the server's `received_at` |",
        f"| end-to-end latency (received) p50 / p95 / p99 | {_lat(rec)} | every stored event: the server's "
        "`received_at` (stamped when it writes the batch) − the event's `timestamp`"
        + (" (one clock: same host)" if s["target"] in ("embedded", OWN_SERVER)
           else " (two hosts' clocks: skew included)")
        + " |",
        f"| ingest request time (server) | {mean_text} | the server's `recoup_ingest_request_seconds` histogram, "
        "sum / count over the phase |",
        f"| HTTP errors | sink: {s['sink_failed_events']} events failed, {s['sink_dropped_events']} dropped, "
        f"{s['sink_retried_requests']} requests retried, {s['sink_warning_count']} warnings | `HttpSink.stats` and "
        f"its logged warnings; server-side requests by status: {statuses} (`/metrics` delta) |",
    ]
    lines += [f"\n- sink warning: `{w}`" for w in s["sink_warnings"]]
    lines += [f"\n- note: {n}" for n in s["notes"]]
    if s["probe_errors"]:
        lines.append(f"\n- polling errors: {s['probe_errors']}")
    return lines
