"""The `recoup` command. Heavy imports happen inside each command, so `recoup --help` stays quick."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from recoup.cli_analytics import register as register_analytics_commands
from recoup.cli_chaos import register as register_chaos_commands
from recoup.cli_export import register as register_export_commands
from recoup.cli_load import register as register_load_commands
from recoup.cli_server import register as register_server_commands

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from recoup.assess.incident_phase import IncidentPhaseConfig

app = typer.Typer(
    name="recoup",
    help="Classify errors, recover from them, and measure how ready a system is for incidents.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def assess(
    out: Annotated[Path, typer.Option(help="Folder for report.json and report.md.")] = Path("report"),
    ops: Annotated[int | None, typer.Option(help="Operations to run (default 1000; 300 with --quick).")] = None,
    concurrency: Annotated[int, typer.Option(help="Operations in flight at once.")] = 100,
    transient_rate: Annotated[float, typer.Option(help="Fraction of operations hit by a transient fault.")] = 0.30,
    permanent_rate: Annotated[float, typer.Option(help="Fraction hit by a permanent fault.")] = 0.10,
    max_clears_after: Annotated[int, typer.Option(help="A transient fault clears after 1..N failures.")] = 3,
    attempts: Annotated[int, typer.Option(help="Retry attempts per operation.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed for the fault plan and jitter.")] = 1,
    outage_seconds: Annotated[float, typer.Option(help="Length of a full upstream outage mid-run (0: none).")] = 0.5,
    outage_at: Annotated[float, typer.Option(help="Where in the plan the outage starts (0..1).")] = 0.5,
    engine_ops: Annotated[
        int | None,
        typer.Option(help="Operations through RecoveryEngine with repairable faults (default 400; 120 quick)."),
    ] = None,
    workflows: Annotated[
        int | None,
        typer.Option(help="Checkpointed workflows, half killed with SIGKILL and resumed (default 20; 6 quick)."),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="A smaller run that finishes within a minute.")] = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Send the fault load's telemetry to this running recoup server (default: an embedded one on SQLite).",
        ),
    ] = None,
    server_key: Annotated[
        str | None, typer.Option("--server-key", help="Ingest key of a project on --server.")
    ] = None,
    server_token: Annotated[
        str | None,
        typer.Option(
            "--server-token",
            help="Admin token for --server (default $RECOUP_ADMIN_TOKEN): reads events back; creates a project "
            "when no --server-key is given.",
        ),
    ] = None,
    no_server: Annotated[
        bool, typer.Option("--no-server", help="Skip the server phase (no telemetry is sent anywhere).")
    ] = False,
    sink_flush_interval: Annotated[
        float, typer.Option(help="HttpSink flush interval in seconds for the server phase (its default: 1.0).")
    ] = 1.0,
    no_analytics: Annotated[
        bool, typer.Option("--no-analytics", help="Skip the analytics phase (classifier accuracy on texts the "
                           "shipped model never saw, grouping of provoked error families).")
    ] = False,
    no_incidents: Annotated[
        bool, typer.Option("--no-incidents", help="Skip the incident scenarios (error spike, resource, pool, "
                           "breaker cascade, RTO breach).")
    ] = False,
    incident_time_scale: Annotated[
        float | None,
        typer.Option(help="Multiply every rule duration of the incident scenarios by this (default 1/30; 1/120 "
                     "with --quick)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database for the incident scenarios' embedded server and the pool-exhaustion "
                     "scenario, e.g. postgresql://user@host/db (default: a SQLite file in a temporary folder)."),
    ] = None,
    redis: Annotated[
        str | None,
        typer.Option("--redis", help="Keep the load phase's circuit-breaker state in this Redis, e.g. "
                     "redis://127.0.0.1:6379/0, shared as between workers (default: process memory). Keys use a "
                     "prefix unique to the run and are deleted afterwards."),
    ] = None,
) -> None:
    """Run concurrent operations through a recoup pipeline under injected faults and report what was measured.

    The operations' telemetry goes to a recoup server (embedded by default, or --server), which reports
    ingest rate, end-to-end event latency and lost events. Then five incident scenarios run end to end on an
    embedded server whose shipped rules run on a scaled clock (--incident-time-scale), each measured from
    fault to detection, incident, escalation, notification and recovery. --db, --redis and --server point it at
    real infrastructure."""
    import contextlib
    import os

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from recoup.assess.plan import AssessConfig
    from recoup.assess.report import summarise, write_report
    from recoup.assess.runner import BreakerStoreError, OperationOutcome, run_assessment
    from recoup.assess.server_phase import ServerPhase, ServerPhaseConfig, ServerPhaseError

    console = Console(stderr=True)
    config = AssessConfig(
        ops=ops if ops is not None else (300 if quick else 1000),
        concurrency=concurrency,
        transient_rate=transient_rate,
        permanent_rate=permanent_rate,
        max_clears_after=max_clears_after,
        attempts=attempts,
        seed=seed,
        outage_seconds=outage_seconds,
        outage_at=outage_at,
    )
    engine_count = engine_ops if engine_ops is not None else (120 if quick else 400)
    workflow_count = workflows if workflows is not None else (6 if quick else 20)
    try:
        config.validate()
        if engine_count < 0 or workflow_count < 0:
            raise ValueError(f"engine_ops and workflows must not be negative, got {engine_count}, {workflow_count}")
        if no_server and (server or server_key or server_token):
            raise ValueError("--no-server cannot be combined with --server, --server-key or --server-token")
        # The environment's admin token is for a --server only; an embedded server makes its own.
        token = server_token or (os.environ.get("RECOUP_ADMIN_TOKEN", "").strip() or None if server else None)
        server_config = ServerPhaseConfig(
            url=server, ingest_key=server_key, admin_token=token, flush_interval=sink_flush_interval
        )
        server_config.validate()
        if redis is not None and not redis.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"--redis must be a redis://, rediss:// or unix:// URL, got {redis!r}")
        if (db is not None or incident_time_scale is not None) and (no_incidents or no_server):
            raise ValueError("--db and --incident-time-scale are for the incident scenarios: they cannot be combined "
                             "with --no-incidents or --no-server")
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    incident_config = None
    incident_skip: str | None = None
    if no_incidents:
        incident_skip = "skipped: --no-incidents"
    elif no_server:
        incident_skip = "skipped: --no-server (the scenarios need a server to send telemetry to)"
    else:
        incident_config = _incident_config(quick, incident_time_scale, db, server, console)

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("operations", total=config.ops)

        def on_done(_outcome: OperationOutcome) -> None:
            progress.advance(task)

        server_summary = None
        monitoring: dict[str, Any] | None = None
        phase = None
        try:
            with contextlib.ExitStack() as stack:
                sending = None if no_server else stack.enter_context(ServerPhase(server_config))
                result = asyncio.run(
                    run_assessment(config, on_done, sending.record_error if sending else None, redis_url=redis)
                )
                if engine_count:
                    from recoup.assess.engine_phase import run_engine_phase

                    repairs = progress.add_task("repairs", total=engine_count)
                    phase = asyncio.run(
                        run_engine_phase(
                            engine_count,
                            min(config.concurrency, 50),
                            config.seed,
                            lambda _o: progress.advance(repairs),
                            forward=sending.emit if sending else None,
                        )
                    )
                if sending is not None:
                    from recoup.assess.phase_reports import summarise_server

                    server_summary = summarise_server(sending.finish())
                    from recoup.assess.monitoring_check import check_monitoring

                    # While the server still runs: its /metrics, and a real Prometheus scrape when one is on PATH.
                    monitoring = check_monitoring(sending.url)
        except ServerPhaseError as exc:
            console.print(f"[red]recoup assess: the server phase cannot run: {exc}[/red]")
            raise typer.Exit(code=2) from exc
        except ImportError as exc:
            console.print(f"[red]recoup assess: the server phase needs the server extra ({exc}); "
                          "install recoup[server] or pass --no-server[/red]")
            raise typer.Exit(code=2) from exc
        except BreakerStoreError as exc:
            console.print(f"[red]recoup assess: {exc}[/red]")
            raise typer.Exit(code=2) from exc
        summary = summarise(result)
        if server_summary is not None:
            summary["server"] = server_summary
        if monitoring is not None:
            summary["monitoring"] = monitoring
        if phase is not None:
            from recoup.assess.phase_reports import summarise_engine

            summary["engine"] = summarise_engine(phase)
        if workflow_count:
            from recoup.assess.phase_reports import summarise_workflows
            from recoup.assess.workflows import run_workflow_phase

            resumes = progress.add_task("workflows", total=workflow_count)
            outcomes = run_workflow_phase(workflow_count, config.seed, lambda _o: progress.advance(resumes))
            summary["workflows"] = summarise_workflows(outcomes)
        if incident_config is not None:
            summary["incidents"] = _run_incidents(incident_config, progress)
        else:
            summary["incidents"] = {"skipped": incident_skip}
        if no_analytics:
            summary["analytics"] = {"skipped": "skipped: --no-analytics"}
        else:
            from recoup.assess.analytics_phase import STEPS, run_analytics_phase

            steps = progress.add_task("analytics", total=len(STEPS))
            summary["analytics"] = run_analytics_phase(
                quick=quick, seed=config.seed, on_step=lambda _s: progress.advance(steps)
            )

    report_config = {**dataclasses.asdict(config), "engine_ops": engine_count, "workflows": workflow_count}
    report_config["redis"] = "given" if redis else None
    report_config["server"] = (
        None if no_server else {"url": server or "embedded", "sink_flush_interval": sink_flush_interval}
    )
    report_config["incidents"] = (
        None if incident_config is None else {"time_scale": incident_config.factor, "db": "given" if db else None}
    )
    report_config["analytics"] = None if no_analytics else {"quick": quick}
    json_path, md_path, html_path = write_report(out, report_config, summary)
    rate = summary["recovery_success_rate"]
    console.print(
        f"recovery success {'n/a' if rate is None else f'{rate * 100:.2f}%'} of {summary['recoverable_faults']}"
        f" recoverable, fail-fast {summary['failed_fast']}/{summary['permanent_faults']},"
        f" {summary['throughput_ops_per_s']:.1f} ops/s"
    )
    if server_summary is not None:
        ss = server_summary
        hi, lo = ss["visible_latency_ms"], ss["visible_latency_lower_bound_ms"]
        stored = "n/a" if ss["events_stored"] is None else ss["events_stored"]
        latency = (
            f"end-to-end p50 {lo['p50']:.0f}–{hi['p50']:.0f} ms, p99 {lo['p99']:.0f}–{hi['p99']:.0f} ms"
            if hi["count"]
            else "end-to-end latency not measured"
        )
        console.print(
            f"server: {ss['events_acknowledged']} of {ss['events_emitted']} events acknowledged, {stored} stored,"
            f" {(ss['ingest_rate_events_per_s'] or 0):.1f} events/s, {latency}"
        )
    incidents = summary["incidents"]
    if "scenarios" in incidents:
        console.print(
            f"incidents: {incidents['passed']} of {incidents['total']} scenarios met their expectation "
            f"(rule durations scaled by {incidents['time_scale']:.4g}), {incidents['wall_seconds']:.1f} s"
        )
    overall = json.loads(json_path.read_text(encoding="utf-8"))["readiness"]["overall"]
    not_measured = ", ".join(overall["not_measured"]) or "none"
    console.print(
        f"readiness {overall['score'] * 100:.1f}/100 (weighted mean of the measured checks; not measured: "
        f"{not_measured})"
    )
    written = ", ".join(str(p) for p in (json_path, md_path, html_path) if p is not None)
    console.print(f"wrote {written}")


def _incident_config(
    quick: bool, time_scale: float | None, db: str | None, server: str | None, console: Console
) -> IncidentPhaseConfig:
    """The incident phase's settings from the options (BadParameter naming the option when one is wrong)."""
    try:
        from recoup.assess.incident_config import DEFAULT_FACTOR, QUICK_FACTOR
        from recoup.assess.incident_phase import IncidentPhaseConfig
    except ImportError as exc:
        console.print(f"[red]recoup assess: the incident scenarios need the server extra ({exc}); "
                      "install recoup[server] or pass --no-incidents[/red]")
        raise typer.Exit(code=2) from exc
    notes = (f"ran on an embedded server of its own, not on {server}: the scenarios need the shipped rules on a "
             "scaled clock, which a remote server does not run",) if server else ()
    factor = time_scale if time_scale is not None else (QUICK_FACTOR if quick else DEFAULT_FACTOR)
    config = IncidentPhaseConfig(factor=factor, db_url=db, notes=notes)
    try:
        config.validate()
    except ValueError as exc:
        option = "--db" if str(exc).startswith("db:") else "--incident-time-scale"
        raise typer.BadParameter(str(exc), param_hint=option) from exc
    return config


def _run_incidents(config: IncidentPhaseConfig, progress: Progress) -> dict[str, Any]:
    """The incident phase under the assessment's progress display: one bar, a step per finished scenario."""
    import threading

    from recoup.assess.incident_phase import run_incident_phase

    task = progress.add_task("incidents", total=len(config.scenarios))
    stages: dict[str, str] = {}
    lock = threading.Lock()  # the scenarios run in threads of their own

    def on_stage(name: str, stage: str) -> None:
        with lock:
            stages[name] = stage
            waiting = sorted(f"{n}: {s}" for n, s in stages.items() if s != "done")
        if stage == "done":
            progress.advance(task)
        progress.update(task, description=f"incidents ({'; '.join(waiting)})" if waiting else "incidents")

    return run_incident_phase(config, on_stage)


@app.command()
def classify(
    file: Annotated[
        Path | None, typer.Argument(help="JSON lines {\"text\": ...}; standard input when omitted.")
    ] = None,
) -> None:
    """Classify error texts: one JSON line in, one JSON line out, same order. With the analytics extra
    installed, the rules are combined with recoup's learned model (rules win when confident)."""
    import importlib.util

    from recoup.errors.jsonl import JsonlClassifier

    if importlib.util.find_spec("numpy") is not None:  # the model needs numpy (the analytics extra)
        from recoup.analytics.combined import classify_combined

        classifier = JsonlClassifier(classify_combined)
    else:
        classifier = JsonlClassifier()
    stream = sys.stdin if file is None else file.open(encoding="utf-8")
    try:
        for line in classifier.classify_lines(stream):
            sys.stdout.write(line + "\n")
    finally:
        if file is not None:
            stream.close()
    sys.stdout.flush()
    if classifier.bad_lines:
        typer.echo(f"recoup classify: {classifier.bad_lines} bad input line(s), see the error objects", err=True)
        raise typer.Exit(code=1)


@app.command()
def runs(
    run_id: Annotated[str | None, typer.Argument(help="Show one run with every step.")] = None,
    store: Annotated[
        str | None,
        typer.Option(help="sqlite path or postgresql:// URL (default: $RECOUP_CHECKPOINTS or .recoup/checkpoints.db)."),
    ] = None,
    workflow: Annotated[str | None, typer.Option(help="Only runs of this workflow.")] = None,
    status: Annotated[str | None, typer.Option(help="running, completed or failed.")] = None,
    limit: Annotated[int, typer.Option(help="Newest N runs.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """List durable workflow runs, or inspect one."""
    import json
    import os

    from rich.console import Console
    from rich.table import Table

    from recoup.recovery.checkpoint import open_store
    from recoup.recovery.checkpoint.inspect import run_detail, runs_table
    from recoup.recovery.checkpoint.workflow import DEFAULT_STORE_ENV

    if status is not None and status not in ("running", "completed", "failed"):
        raise typer.BadParameter(f"status must be running, completed or failed, got {status!r}")
    url = store or os.environ.get(DEFAULT_STORE_ENV, ".recoup/checkpoints.db")
    if "://" not in url and not os.path.exists(url):
        raise typer.BadParameter(f"no checkpoint store at {url!r}")
    checkpoint_store = open_store(url)
    console = Console()
    if run_id is not None:
        detail = run_detail(checkpoint_store, run_id)
        if detail is None:
            typer.echo(f"recoup runs: no run {run_id!r} in {url}", err=True)
            raise typer.Exit(code=1)
        typer.echo(json.dumps(detail, indent=2, default=str))
        return
    rows = runs_table(checkpoint_store, workflow=workflow, status=status, limit=limit)  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps(rows, default=str))
        return
    columns = ("run_id", "workflow", "status", "steps_completed", "attempts", "duration_s", "error")
    table = Table(title=f"workflow runs in {url}")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    console.print(table)


@app.command()
def version() -> None:
    """Print recoup's version."""
    from recoup import __version__

    typer.echo(__version__)


register_server_commands(app)  # serve, projects, admin (recoup.cli_server)
register_export_commands(app)  # export prometheus-rules / alertmanager / grafana-dashboard (recoup.cli_export)
register_analytics_commands(app)  # templates (recoup.cli_analytics)
register_chaos_commands(app)  # chaos proxy (recoup.cli_chaos)
register_load_commands(app)  # load (recoup.cli_load)


def main() -> None:
    app()
