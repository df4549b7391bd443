"""``recoup load``: drive a URL or an async function at a rate, report exact percentiles, gate CI on them.

Kept apart from `recoup.cli` so ``recoup --help`` never imports the runner, an HTTP client or the charts.
Exit codes: 0 all thresholds passed, 1 some threshold failed, 2 bad usage.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from recoup.load.http import HttpTarget
    from recoup.load.profiles import ClosedModel, OpenModel
    from recoup.load.runner import Operation


class Client(StrEnum):
    """`recoup.load.http.CLIENTS`, restated so that ``recoup --help`` imports nothing of the runner (a test
    checks the two agree)."""

    aiohttp = "aiohttp"
    httpx = "httpx"


def load(
    target: Annotated[str, typer.Argument(help="http(s):// URL, or module:function naming an async function.")],
    rate: Annotated[
        float | None, typer.Option("--rate", help="Constant arrival rate, operations per second (default 10).")
    ] = None,
    duration: Annotated[str, typer.Option("--duration", help="Run length for --rate and --vus: 30s, 2m, …")] = "10s",
    ramp: Annotated[
        list[str] | None,
        typer.Option("--ramp", help="Stage FROM:TO:DURATION (rate ramps FROM→TO over DURATION); later stages may "
                                    "be TO:DURATION. Repeat for several stages."),
    ] = None,
    vus: Annotated[
        int | None, typer.Option("--vus", help="Closed loop instead: N users, each waiting for its last answer.")
    ] = None,
    think_time: Annotated[
        str | None, typer.Option("--think-time", help="With --vus: pause between operations.")
    ] = None,
    max_in_flight: Annotated[
        int, typer.Option("--max-in-flight", help="Cap on operations running at once; starts beyond it are dropped.")
    ] = 1000,
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", "-t", help="Gate such as 'p99 < 2s', 'error_rate < 1%', 'throughput >= 100/s', "
                                               "'recovery >= 99.9%'. Repeatable; any failure exits 1."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for result.json, summary.md, report.html, histogram.txt.")
    ] = None,
    method: Annotated[str, typer.Option("--method", "-X", help="HTTP method.")] = "GET",
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="HTTP header 'Name: value' (repeatable).")
    ] = None,
    body: Annotated[str | None, typer.Option("--body", help="Request body, or @FILE to read it from a file.")] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="Per-operation time limit.")] = "30s",
    client: Annotated[
        Client, typer.Option("--client", help="HTTP client: aiohttp (the fastest) or httpx (a far lower top rate).")
    ] = Client.aiohttp,
    ca_file: Annotated[
        Path | None, typer.Option("--ca-file", help="Check the server's TLS certificate against this CA bundle.")
    ] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Do not check TLS certificates (self-signed test servers).")
    ] = False,
    live: Annotated[
        bool | None, typer.Option("--live/--no-live", help="Live progress display (default: when a terminal).")
    ] = None,
) -> None:
    """Run a load test: open-model arrival rate (constant or ramped) or closed-loop users; latency is measured
    from each operation's intended start, so a stalled target cannot hide (coordinated omission)."""
    from rich.console import Console

    from recoup.load.profiles import LoadProfileError, parse_duration
    from recoup.load.thresholds import ThresholdError, evaluate_thresholds, parse_threshold

    try:
        gates = [parse_threshold(text) for text in threshold or []]
    except ThresholdError as exc:
        raise typer.BadParameter(str(exc), param_hint="--threshold") from None
    try:
        model = _model(rate, duration, ramp or [], vus, think_time)
        limit = parse_duration(timeout, what="--timeout")
    except LoadProfileError as exc:
        raise typer.BadParameter(str(exc)) from None
    if max_in_flight < 1:
        raise typer.BadParameter(f"must be >= 1, got {max_in_flight}", param_hint="--max-in-flight")
    if insecure and ca_file is not None:
        raise typer.BadParameter("--insecure and --ca-file contradict each other: choose one")
    verify: bool | str = False if insecure else (str(ca_file) if ca_file is not None else True)
    operation = _target(target, method, header or [], body, client.value, verify)

    from recoup.load.live import LiveDisplay, result_table, threshold_table
    from recoup.load.runner import LoadError, run_load

    console = Console()
    show_live = console.is_terminal if live is None else live
    try:
        if show_live:
            with LiveDisplay(console, f"recoup load {target} — {model.describe()}") as display:
                result = run_load(operation, model, max_in_flight=max_in_flight, op_timeout=limit,
                                  on_progress=display.update, name=target)
        else:
            result = run_load(operation, model, max_in_flight=max_in_flight, op_timeout=limit, name=target)
    except LoadError as exc:
        raise typer.BadParameter(str(exc)) from None
    outcomes = evaluate_thresholds(result, gates)
    if not show_live:
        console.print(f"[bold]recoup load {target}[/bold] — {model.describe()}")
    console.print(result_table(result))
    if outcomes:
        console.print(threshold_table(outcomes))
    if out is not None:
        from recoup.load.report import write_outputs

        paths = write_outputs(result, outcomes, out)
        console.print(f"wrote {paths['json']}, {paths['markdown']}, {paths['html']}")
    if not all(o.passed for o in outcomes):
        failed = sum(not o.passed for o in outcomes)
        console.print(f"[bold red]{failed} of {len(outcomes)} thresholds failed")
        raise typer.Exit(code=1)


def _model(rate: float | None, duration: str, ramp: list[str], vus: int | None,
           think_time: str | None) -> OpenModel | ClosedModel:
    from recoup.load.profiles import ClosedModel, LoadProfileError, OpenModel, Stage, parse_duration

    chosen = [name for name, given in (("--rate", rate is not None), ("--ramp", bool(ramp)), ("--vus", vus is not None))
              if given]
    if len(chosen) > 1:
        raise LoadProfileError(f"choose one of --rate, --ramp and --vus (got {' and '.join(chosen)})")
    if think_time is not None and vus is None:
        raise LoadProfileError("--think-time only applies to closed-loop users (--vus)")
    if vus is not None:
        pause = parse_duration(think_time, what="--think-time") if think_time is not None else 0.0
        return ClosedModel(vus, parse_duration(duration, what="--duration"), pause)
    if not ramp:
        return OpenModel.constant(10.0 if rate is None else rate, parse_duration(duration, what="--duration"))
    start: float | None = None
    previous: float | None = None
    stages = []
    for text in ramp:
        parts = text.split(":")
        try:
            numbers = [float(p) for p in parts[:-1]]
        except ValueError:
            raise LoadProfileError(f"--ramp {text!r}: rates must be numbers, as in 10:200:30s") from None
        if len(parts) == 3:
            begin, target = numbers
            if previous is not None and begin != previous:
                raise LoadProfileError(
                    f"--ramp {text!r}: starts at {begin:g}/s but the previous stage ended at {previous:g}/s; "
                    f"write it as {target:g}:{parts[2]} or start it at {previous:g}"
                )
            if start is None:
                start = begin
        elif len(parts) == 2 and previous is not None:
            (target,) = numbers
        else:
            raise LoadProfileError(
                f"--ramp {text!r}: expected FROM:TO:DURATION (e.g. 10:200:30s); later stages may be TO:DURATION"
            )
        stages.append(Stage(target, parse_duration(parts[-1], what=f"--ramp {text!r} duration")))
        previous = target
    return OpenModel.ramp(start if start is not None else 0.0, stages)


def _target(target: str, method: str, headers: list[str], body: str | None,
            client: str = Client.aiohttp.value, verify: bool | str = True) -> Operation | HttpTarget:
    if target.startswith(("http://", "https://")):
        from recoup.load.http import HttpTarget

        parsed: dict[str, str] = {}
        for line in headers:
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise typer.BadParameter(f"{line!r} is not 'Name: value'", param_hint="--header")
            parsed[name.strip()] = value.strip()
        content: bytes | None = None
        if body is not None:
            if body.startswith("@"):
                try:
                    content = Path(body[1:]).read_bytes()
                except OSError as exc:
                    raise typer.BadParameter(f"cannot read {body[1:]}: {exc}", param_hint="--body") from None
            else:
                content = body.encode("utf-8")
        try:
            return HttpTarget(target, method=method, headers=parsed, body=content, client=client, verify=verify)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    if headers or body is not None or method != "GET" or client != Client.aiohttp.value or verify is not True:
        raise typer.BadParameter(
            "--method, --header, --body, --client, --ca-file and --insecure only apply to an http(s):// URL target"
        )
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise typer.BadParameter(f"{target!r} is neither an http(s):// URL nor module:function", param_hint="TARGET")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # like `python -m`: modules next to the user are found
    try:
        found: object = importlib.import_module(module_name)
        for part in attr.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise typer.BadParameter(f"cannot load {target!r}: {exc}", param_hint="TARGET") from None
    if not callable(found):
        raise typer.BadParameter(f"{target!r} is not callable", param_hint="TARGET")
    if not inspect.iscoroutinefunction(found) and not inspect.iscoroutinefunction(type(found).__call__):
        raise typer.BadParameter(f"{target!r} must be an async function (async def …)", param_hint="TARGET")
    return found


def register(app: typer.Typer) -> None:
    """Add ``recoup load`` to ``app``."""
    app.command("load")(load)
