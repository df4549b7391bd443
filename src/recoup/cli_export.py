"""``recoup export ...``: recoup's alert rules for the Prometheus stack.

``prometheus-rules`` writes the rule file (and, with ``--tests``, unit tests for ``promtool test rules``),
``alertmanager`` a configuration routing every alert to recoup's webhook and on to the channels,
``grafana-dashboard`` a dashboard over recoup's ``/metrics``. Each writes to stdout, or atomically to
``--out``. Bad input (a rule file, channels, routing) is reported naming the file and field, exit code 1.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from recoup.incidents.rules import RuleSet

export_app = typer.Typer(help="Export recoup's alert rules to Prometheus, Alertmanager and Grafana.",
                         no_args_is_help=True)

RulesOption = Annotated[
    Path | None, typer.Option("--rules", help="A recoup rule file (YAML); the default rules when omitted.")
]
OutOption = Annotated[Path | None, typer.Option("--out", help="Write here (atomically) instead of stdout.")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"recoup: {message}", err=True)
    return typer.Exit(code=1)


def _write(text: str, out: Path | None) -> None:
    """``text`` to stdout, or to ``out`` through a temporary file renamed over it (never half-written)."""
    if out is None:
        typer.echo(text, nl=False)
        return
    folder = out.parent if str(out.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror or exc}") from None


def _rules(path: Path | None) -> RuleSet:
    from recoup.incidents.rules import RuleError, default_rules, load_rules

    try:
        return default_rules() if path is None else load_rules(path)
    except RuleError as exc:
        raise _fail(str(exc)) from None


def _duration(value: str, option: str) -> float:
    from recoup.incidents.rules import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise _fail(f"{option}: {exc}") from None


@export_app.command("prometheus-rules")
def prometheus_rules(
    rules: RulesOption = None,
    out: OutOption = None,
    tests: Annotated[
        Path | None,
        typer.Option("--tests", help="Also write `promtool test rules` unit tests here (needs --out)."),
    ] = None,
    group: Annotated[str, typer.Option(help="Name of the rule group.")] = "recoup",
    interval: Annotated[
        str | None, typer.Option(help="Evaluation interval of the group (default: Prometheus's global one).")
    ] = None,
) -> None:
    """Write recoup's rules as a Prometheus rule file (checked by `promtool check rules`)."""
    from recoup.incidents.export.prometheus_rules import prometheus_rules_yaml
    from recoup.incidents.export.promtool_tests import TestGenerationError, promtool_tests_yaml

    if tests is not None and out is None:
        raise _fail("--tests needs --out: the unit tests name the rule file they load")
    ruleset = _rules(rules)
    every = _duration(interval, "--interval") if interval is not None else None
    text = prometheus_rules_yaml(ruleset, group=group, interval=every)
    tests_text = None
    if tests is not None:
        assert out is not None
        relative = os.path.relpath(out.resolve(), tests.resolve().parent)
        try:
            tests_text = promtool_tests_yaml(ruleset, relative)
        except TestGenerationError as exc:
            raise _fail(f"cannot generate unit tests: {exc}") from None
    _write(text, out)
    if tests_text is not None:
        _write(tests_text, tests)


@export_app.command("alertmanager")
def alertmanager(
    recoup_url: Annotated[
        str, typer.Option("--recoup-url", envvar="RECOUP_PUBLIC_URL", help="Where Alertmanager reaches recoup.")
    ] = "http://recoup:8000",
    token_env: Annotated[
        str | None,
        typer.Option("--token-env", metavar="VAR",
                     help="Environment variable holding an admin token or ingest key, written into the config."),
    ] = None,
    token_file: Annotated[
        str | None,
        typer.Option("--token-file", metavar="PATH",
                     help="File Alertmanager reads the token from (credentials_file; e.g. a mounted secret)."),
    ] = None,
    channels: Annotated[
        Path | None,
        typer.Option("--channels", help="YAML: channels: [{name, type: slack|email|webhook|pagerduty, config, "
                                        "match}] in Alertmanager's receiver schema."),
    ] = None,
    routing: Annotated[
        Path | None, typer.Option("--routing", help="recoup's routing tree (YAML) to mirror below recoup's route.")
    ] = None,
    rules: RulesOption = None,
    group_wait: Annotated[str, typer.Option(help="How long a new group waits for more alerts.")] = "30s",
    group_interval: Annotated[str, typer.Option(help="How often a group reports changes.")] = "5m",
    repeat_interval: Annotated[str, typer.Option(help="How often a firing group repeats.")] = "4h",
    out: OutOption = None,
) -> None:
    """Write an Alertmanager config (checked by `amtool check-config`) sending alerts to recoup and the channels."""
    from recoup.incidents.export.alertmanager_config import (
        AlertmanagerExport,
        Channel,
        ConfigError,
        alertmanager_config_yaml,
        load_channels,
    )
    from recoup.incidents.routing_config import RoutingError, load_routing

    credentials = None
    if token_env is not None:
        credentials = os.environ.get(token_env)
        if not credentials:
            raise _fail(f"--token-env: the environment variable {token_env} is not set")
    found: list[Channel] = []
    try:
        if channels is not None:
            try:
                text = channels.read_text(encoding="utf-8")
            except OSError as exc:
                raise _fail(f"--channels: cannot read {channels}: {exc.strerror}") from None
            found = load_channels(text, source=str(channels))
        tree = None
        if routing is not None:
            tree = load_routing(routing, receivers=[c.name for c in found]).config
        export = AlertmanagerExport(
            recoup_url,
            credentials=credentials,
            credentials_file=token_file,
            channels=found,
            group_wait=_duration(group_wait, "--group-wait"),
            group_interval=_duration(group_interval, "--group-interval"),
            repeat_interval=_duration(repeat_interval, "--repeat-interval"),
        )
        text = alertmanager_config_yaml(export, _rules(rules), tree)
    except (ConfigError, RoutingError) as exc:
        raise _fail(str(exc)) from None
    _write(text, out)


@export_app.command("grafana-dashboard")
def grafana_dashboard(
    out: OutOption = None,
    slo: Annotated[float, typer.Option(min=0.0, max=1.0, help="Recovery objective drawn on the SLO panel.")] = 0.999,
) -> None:
    """Write a Grafana dashboard (JSON) over recoup's metrics."""
    from recoup.incidents.export.grafana import grafana_dashboard_json

    _write(grafana_dashboard_json(slo=slo), out)


def register(app: typer.Typer) -> None:
    """Add ``recoup export ...`` to the ``recoup`` command."""
    app.add_typer(export_app, name="export")
