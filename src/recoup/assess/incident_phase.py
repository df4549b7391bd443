"""`recoup assess`'s incident phase: the five incident scenarios of issue 5, run end to end through library →
service → rules → incident → escalation → notification, on one embedded server with the shipped rules on a
shorter clock (`recoup.assess.incident_config`).

One embedded server (SQLite in a temporary folder, or ``db_url``) runs the scaled configuration; a local
webhook receiver (`recoup.assess.receiver`) is both ``oncall`` and ``default``. Each scenario gets its own
project and runs in its own thread, all five side by side, so the phase lasts about as long as its longest
scenario (the RTO breach, which must outlast its RTO target). Results: `run_incident_phase`'s JSON-ready
summary, rendered by `incidents_markdown`.

Usage::

    summary = run_incident_phase(IncidentPhaseConfig(factor=1 / 30), progress=lambda name, stage: ...)
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recoup.assess.incident_config import DEFAULT_FACTOR, scaled_config, scaling_note, validate_factor, write_config
from recoup.assess.incident_scenarios import AlertWatcher, Dependency, PolicyRouter, ScenarioEnv, measure
from recoup.assess.receiver import WebhookReceiver
from recoup.assess.scenario_faults import BILLING_SLOW, SCENARIO_NAMES, SPECS, ScenarioSpec

#: How long a scenario waits, besides a scaled minute, for its incidents' notices to be delivered.
SETTLE_SECONDS = 5.0
#: Called with (scenario name, stage text) as scenarios progress; "done" ends a scenario.
PhaseProgress = Callable[[str, str], None]

METHOD = (
    "Each scenario drives real recoup components (policies, RecoveryEngine, ResourceReporter, a real "
    "SQLAlchemy pool) against a real fault (a local HTTP dependency on 127.0.0.1 answering 503, file "
    "descriptors held open in a child process, pool timeouts), and sends their telemetry through HttpSink to "
    "its own project on an embedded recoup server running the shipped rules, routing and policy on a scaled "
    "clock. No alert is injected by hand.",
    "t0 is taken when the fault is switched on. Detected in: t0 → the alert's fired_at (polled from "
    "/api/v1/alerts/live every 50 ms; the incident timeline when the alert came and went between polls).",
    "Severity path: the alert's states as polled (pending, warning, critical; a severity held between two polls "
    "is taken from the incident timeline), then resolved. Incident: declared or not, and t0 → declared_at (the "
    "incident holding the scenario's alert; another rule of the same service may have opened it first). "
    "Escalations: the incident timeline's escalation steps and RTO breaches.",
    "Notifications: webhook deliveries the local receiver verified (HMAC-SHA256 signature), for this scenario's "
    "project or incidents; first arrival measured from t0 on the receiver's clock.",
    "Each scenario holds its fault for a quarter of its incident's RTO target after the declaration (the "
    "RTO-breach scenario: one and a half times the target), then clears it: the rest of the target is the "
    "system's, to restore the service and show it.",
    "Restored in: fault cleared → the incident's recovered_at, when the server's recovery watch saw the "
    "service's own signals (its firing rules re-evaluated over a short recovery window) healthy again and "
    "stable. Resolved in: fault cleared → resolved_at, which lags by the rules' windows and keep_firing_for.",
    "RTO: declared_at → recovered_at against the incident's scaled target, the server's own verdict; an "
    "incident that restored in time is met even if it resolves later. Breach: recorded (and paged) when the "
    "target passed with the service not restored.",
)


@dataclass(frozen=True)
class IncidentPhaseConfig:
    """``factor`` scales every rule duration; ``db_url`` is the server's database and the pool scenario's
    (a SQLite file in ``data_dir``, a temporary folder, when None)."""

    factor: float = DEFAULT_FACTOR
    db_url: str | None = None
    data_dir: Path | None = None
    scenarios: tuple[str, ...] = SCENARIO_NAMES
    poll_interval: float = 0.1
    watch_interval: float = 0.05
    evaluation_interval: float | None = None  # default: max(0.05, min(0.25, 3 * factor))
    notes: tuple[str, ...] = field(default=())

    def validate(self) -> None:
        validate_factor(self.factor)
        unknown = [s for s in self.scenarios if s not in SPECS]
        if unknown or not self.scenarios:
            raise ValueError(f"scenarios: unknown {unknown or '(none given)'}; known: {', '.join(SCENARIO_NAMES)}")
        if self.db_url is not None and not self.db_url.startswith(("sqlite:///", "postgresql://", "postgres://",
                                                                   "postgresql+psycopg://")):
            raise ValueError(f"db: expected sqlite:///FILE or postgresql://..., got {self.db_url!r}")
        if self.poll_interval <= 0 or self.watch_interval <= 0:
            raise ValueError("poll_interval and watch_interval must be positive")

    @property
    def tick(self) -> float:
        if self.evaluation_interval is not None:
            return self.evaluation_interval
        return max(0.05, min(0.25, 3 * self.factor))


def _run_one(spec: ScenarioSpec, env: ScenarioEnv, stop: threading.Event, receiver: WebhookReceiver,
             progress: PhaseProgress) -> dict[str, Any]:
    started = time.monotonic()
    try:
        marks = spec.run(env, stop, lambda stage: progress(spec.name, stage))
        env.sink.flush(10.0)
        _settle(env)
        result = measure(env, marks, expected=spec.expected, receiver=receiver)
    except Exception as exc:  # one broken scenario is reported as failed; the others still run
        result = {
            "name": spec.name, "rule": spec.rule, "incident_type": spec.incident_type,
            "expected": spec.expected.describe(), "passed": False,
            "failures": [f"the scenario raised {type(exc).__name__}: {exc}"],
            "traceback": traceback.format_exc(limit=8),
        }
    result["title"] = spec.title
    result["method"] = spec.method
    result["wall_seconds"] = round(time.monotonic() - started, 3)
    progress(spec.name, "done")
    return result


def _settle(env: ScenarioEnv) -> None:
    """Wait (bounded) until every notice the scenario's incidents queued has been delivered, then a scaled
    group interval for routing's resolved notices, so the counts are complete: on a busy machine the delivery
    queue can trail the incidents by a moment."""

    def undelivered() -> int:
        missing = 0
        for incident in env.incidents():
            answer = env.client.get(f"/api/v1/incidents/{incident['id']}")
            if answer.status_code != 200:
                return 1
            queued: set[tuple[str, str]] = set()
            delivered: set[tuple[str, str]] = set()
            for entry in answer.json()["timeline"]:
                data = entry.get("data") or {}
                if entry["kind"] == "notification_queued":
                    queued.update((str(data.get("key")), str(r)) for r in data.get("receivers", []))
                elif entry["kind"] == "notification_delivered":
                    delivered.add((str(data.get("key")), str(data.get("receiver"))))
            missing += len(queued - delivered)
        return missing

    env.wait(lambda: undelivered() == 0, SETTLE_SECONDS + env.scaled(60))
    # Routing reports a resolved group after its group_interval (1 minute shipped on the default route).
    time.sleep(env.scaled(60))


def run_incident_phase(config: IncidentPhaseConfig, progress: PhaseProgress | None = None) -> dict[str, Any]:
    """Run the scenarios side by side on one embedded server; the JSON-ready summary."""
    import httpx

    from recoup.server.embedded import EmbeddedServer
    from recoup.server.settings import ServerSettings
    from recoup.telemetry.bridge import bridge_policy_events
    from recoup.telemetry.http_sink import HttpSink

    config.validate()
    report: PhaseProgress = progress or (lambda _name, _stage: None)
    started = time.monotonic()
    temp = None if config.data_dir is not None else tempfile.mkdtemp(prefix="recoup-assess-incidents-")
    folder = config.data_dir if config.data_dir is not None else Path(str(temp))
    folder.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(24)
    sinks: list[HttpSink] = []
    unbridge: Callable[[], None] | None = None
    results: list[dict[str, Any]] = []
    router = PolicyRouter()
    stop = threading.Event()
    database: str | None = None
    watcher: AlertWatcher | None = None
    watcher_errors: list[str] = []
    rejected = 0
    try:
        with WebhookReceiver(secret) as receiver, Dependency(slow_seconds=BILLING_SLOW) as dependency:
            path = write_config(scaled_config(config.factor, receiver_url=receiver.url, secret=secret),
                                folder / "incidents.yaml")
            settings = ServerSettings(
                db_url=config.db_url or f"sqlite:///{folder / 'recoup.db'}", spool_dir=folder / "spool",
                incidents_config=path, evaluation_interval_seconds=config.tick, admin_token=None,
            )
            with EmbeddedServer(settings, project_name="recoup assess incidents") as server, httpx.Client(
                base_url=server.url, headers=server.admin_headers, timeout=10.0
            ) as client:
                watcher = AlertWatcher(client, interval=config.watch_interval).start()
                unbridge = bridge_policy_events(router)
                envs: list[tuple[ScenarioSpec, ScenarioEnv]] = []
                for name in config.scenarios:
                    spec = SPECS[name]
                    project, key = server.store.create_project(f"assess incident {name} {secrets.token_hex(3)}")
                    sink = HttpSink(server.url, api_key=key.public_key, batch_size=100, flush_interval=0.05,
                                    name=f"assess-{name}", close_at_exit=None)
                    sinks.append(sink)
                    envs.append((spec, ScenarioEnv(
                        name=name, project_id=project.id, project=str(project.id), sink=sink, client=client,
                        dependency=dependency, router=router, factor=config.factor, db_url=config.db_url,
                        work_dir=folder, ingest_key=key.public_key, server_url=server.url,
                        incident_type=spec.incident_type, rule=spec.rule, watcher=watcher,
                        poll_interval=config.poll_interval,
                    )))
                collected: dict[str, dict[str, Any]] = {}
                lock = threading.Lock()

                def run(spec: ScenarioSpec, env: ScenarioEnv) -> None:
                    outcome = _run_one(spec, env, stop, receiver, report)
                    with lock:
                        collected[spec.name] = outcome

                threads = [threading.Thread(target=run, args=pair, name=f"recoup-assess-{pair[0].name}", daemon=True)
                           for pair in envs]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                watcher.stop()
                results = [collected[name] for name in config.scenarios if name in collected]
                database = server.store.dialect
                watcher_errors = list(watcher.errors)
                rejected = receiver.rejected
    finally:
        stop.set()
        if watcher is not None:
            watcher.stop()
        if unbridge is not None:
            unbridge()
        for sink in sinks:
            sink.close(2.0)
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    notes = list(config.notes)
    if watcher_errors:
        notes.append(f"{len(watcher_errors)} polls of /api/v1/alerts/live failed, e.g. {watcher_errors[0]}")
    if rejected:
        notes.append(f"the local receiver refused {rejected} request(s) whose signature did not verify")
    return {
        "time_scale": config.factor,
        "scaling_note": scaling_note(config.factor),
        "server": {"target": "embedded", "database": database, "evaluation_interval_seconds": config.tick},
        "method": list(METHOD),
        "scenarios": results,
        "passed": sum(1 for r in results if r.get("passed")),
        "total": len(results),
        "wall_seconds": round(time.monotonic() - started, 3),
        "notes": notes,
    }


# -- report ---------------------------------------------------------------------------------------------------


def _s(value: Any, factor: float) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} s (≈ {value / factor:.0f} s unscaled)"


def _row(r: dict[str, Any], factor: float) -> str:
    if "incident" not in r:
        return f"| {r.get('title', r['name'])} | {r['expected']} | — | — | — | — | — | — | — | — | **FAIL** |"
    inc = r["incident"]
    incident = (f"#{inc['id']} {inc['severity']} after {inc['declared_after_seconds']:.2f} s"
                if inc["declared"] and inc["declared_after_seconds"] is not None else "not declared")
    escalations = f"{len(r['escalations'])} step(s), {r['escalation_notices_delivered']} escalation notice(s)"
    n = r["notifications"]
    notes = (f"{n['delivered']} delivered, first after {n['first_after_seconds']:.2f} s"
             if n["first_after_seconds"] is not None else "none delivered")
    rto = r["rto"]
    state = "breached" if rto["breached"] else "met" if rto["met"] else "open"
    restored = rto.get("restored_after_seconds")
    rto_text = "—" if rto["target_seconds"] is None else (
        f"restored {restored:.2f} s after declared vs target {rto['target_seconds']:.2f} s: {state}"
        if restored is not None else f"target {rto['target_seconds']:.2f} s: {state}")
    path = " → ".join(r["severity_path"]) or "—"
    verdict = "pass" if r["passed"] else "**FAIL**"
    return (f"| {r['title']} | {r['expected']} | {_s(r['detection_seconds'], factor)} | {path} | {incident} | "
            f"{escalations} | {notes} | {_s(r.get('restored_seconds'), factor)} | "
            f"{_s(r['recovered_seconds'], factor)} | {rto_text} | {verdict} |")


_RESTORED_BY = {"recovery_watch": "the server's recovery watch", "resolved": "the incident resolving",
                "manual": "hand"}


def incidents_markdown(summary: dict[str, Any]) -> list[str]:
    """The "Incident scenarios" section of report.md."""
    factor = float(summary["time_scale"])
    lines = [
        "",
        "## Incident scenarios",
        "",
        f"{summary['passed']} of {summary['total']} scenarios met their expectation, in "
        f"{summary['wall_seconds']:.1f} s on an embedded server ({summary['server']['database']}, rules "
        f"evaluated every {summary['server']['evaluation_interval_seconds']:.2f} s besides on every event).",
        "",
        f"**Time scale.** {summary['scaling_note']}",
        "",
        *[f"- {line}" for line in summary["method"]],
        "",
        "| scenario | expected | detected in | severity path | incident | escalations | notifications | "
        "restored in | resolved in | RTO | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *[_row(r, factor) for r in summary["scenarios"]],
        "",
    ]
    for r in summary["scenarios"]:
        details = [f"fault: {r['method']}"]
        if r.get("incident", {}).get("alerts"):
            details.append("alerts in the incident: " + ", ".join(r["incident"]["alerts"]))
        details += [f"did not meet its expectation: {f}" for f in r.get("failures", [])]
        details += [f"also declared: #{o['id']} {o['incident_type']} ({o['title']})"
                    for o in r.get("other_incidents", [])]
        if r.get("notifications"):
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(r["notifications"]["by_kind"].items()))
            details.append(f"notifications by kind: {kinds or 'none'}")
        details += [f"escalation after {e['after_seconds']} s: {e['text']}" for e in r.get("escalations", [])]
        rto = r.get("rto") or {}
        if rto.get("fault_held_after_declared_seconds") is not None:
            how = _RESTORED_BY.get(str(r.get("restored_by")), "nothing yet")
            details.append(f"fault held {rto['fault_held_after_declared_seconds']} s after the declaration; "
                           f"restoration recorded by {how}")
        details += list(r.get("notes", []))
        lines.append(f"**{r.get('title', r['name'])}** (rule {r['rule']}, incident type {r['incident_type']})")
        lines.append("")
        lines += [f"- {d}" for d in details]
        lines.append("")
    lines += [f"- {note}" for note in summary.get("notes", [])]
    return lines
