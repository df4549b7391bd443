"""The operations docs stay true to the code, so an operator following them at 3 a.m. is not misled.

Checked: every default alert rule links a runbook that exists, opens with the rule's name and states its
metric, series, severity, incident type and the RTO target of the shipped policy (and no runbook is orphaned);
the manual tables every rule; links and anchors resolve; every `recoup ...` command line quoted is a
registered CLI command with real options; every HTTP path is a route of the app; every ``recoup_*`` series
and ``RECOUP_*`` variable exists in the code; the PromQL parses (the real ``promtool``); the rollback plan's
Alembic downgrade script really downgrades on SQLite and PostgreSQL, and refuses without changing anything
when r0003's downgrade cannot apply; the troubleshooting guide's rejected-batch replay script stores the
batch, once.

A line marked ``(planned`` describes work still being wired in elsewhere: its paths, series and variables are
not checked, and its commands only against the written-but-unregistered ones (`recoup.cli_export`)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from recoup.cli import app as cli_app
from recoup.incidents.catalogue import CATALOGUE, MetricKind
from recoup.incidents.rules import Rule, default_rules, parse_duration

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RUNBOOKS = DOCS / "runbooks"
MANUALS = ("OPERATIONS_MANUAL.md", "TROUBLESHOOTING.md", "ROLLBACK_PLAN.md")
PLANNED = "(planned"  # "(planned)" or "(planned: ...)"
SHELL_LANGS = {"", "bash", "sh", "shell", "console"}


# -- reading the docs ------------------------------------------------------------------------------------


def doc_files() -> list[Path]:
    return [DOCS / name for name in MANUALS] + sorted(RUNBOOKS.glob("*.md"))


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    path: Path
    line: int


_FENCE = re.compile(r"^[ \t]*```([\w+-]*)[^\n]*\n(.*?)^[ \t]*```", re.S | re.M)
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def fenced_blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return [
        Block(m.group(1).lower(), textwrap.dedent(m.group(2)), path, text.count("\n", 0, m.start()) + 1)
        for m in _FENCE.finditer(text)
    ]


def prose_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Lines outside fenced blocks, numbered."""
    inside = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            inside = not inside
            continue
        if not inside:
            yield number, line


def code_snippets(path: Path) -> Iterator[tuple[str, str]]:
    """(where, shell text) for every line of a shell block and every inline code span of the prose."""
    for block in fenced_blocks(path):
        if block.lang not in SHELL_LANGS:
            continue
        joined = block.text.replace("\\\n", " ")
        for offset, line in enumerate(joined.splitlines()):
            yield f"{path.name}:{block.line + 1 + offset}", line
    for number, line in prose_lines(path):
        for span in _INLINE.findall(line):
            yield f"{path.name}:{number}", span + ("  " + PLANNED if PLANNED in line else "")


# -- the CLI check ---------------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"\$\(|&&|\|\||[;|`()]")


def recoup_invocations(line: str) -> list[list[str]]:
    """The argument lists of every ``recoup`` invocation on a shell line (``recoup``, ``.venv/bin/recoup``,
    ``python -m recoup``), after environment assignments and ``sudo``/``exec``; ``# comments`` are not commands."""
    out: list[list[str]] = []
    for segment in _SEPARATORS.split(line.split(" #", 1)[0].removeprefix("$ ")):
        try:
            tokens = shlex.split(segment, comments=True)
        except ValueError:
            tokens = segment.split()
        while tokens and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[0]):
            tokens = tokens[1:]
        while tokens and tokens[0] in ("sudo", "exec", "time", "nohup"):
            tokens = tokens[1:]
        if tokens and Path(tokens[0]).name == "recoup":
            args = tokens[1:]
        elif len(tokens) >= 3 and Path(tokens[0]).name.startswith("python") and tokens[1:3] == ["-m", "recoup"]:
            args = tokens[3:]
        else:
            continue
        if not (args and args[0].endswith(":")):  # "recoup serve: cannot reach ..." is a quoted message
            out.append(args)
    return out


def command_problem(root: Any, args: list[str]) -> str | None:
    """Why ``recoup ARGS`` is not a real command line (unknown subcommand or option), or None. ``root`` is
    the click command typer builds (typer vendors click, so groups are told apart by their ``commands``)."""
    command = root
    path = ["recoup"]
    rest = list(args)
    while isinstance(getattr(command, "commands", None), dict):
        while rest and rest[0].startswith("-"):
            if rest[0] not in ("--help", "-h"):
                return f"{' '.join(path)} has no option {rest[0]!r} before its subcommand"
            rest.pop(0)
        if not rest:
            return None
        name = rest.pop(0)
        if name in ("...", "…"):  # "recoup projects ...": any of the group's commands
            return None
        sub = command.commands.get(name)
        if sub is None:
            known = ", ".join(sorted(command.commands))
            return f"{' '.join(path)} has no command {name!r} (it has: {known})"
        command, path = sub, [*path, name]
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)} | {"--help"}
    for token in rest:
        if token == "--":
            break
        if token.startswith("-") and len(token) > 1 and not token[1:2].isdigit():
            name = token.split("=", 1)[0]
            if name not in options:
                return f"{' '.join(path)} has no option {name!r} (it has: {', '.join(sorted(options))})"
    return None


@pytest.fixture(scope="module")
def cli() -> Any:
    return typer.main.get_command(cli_app)


def test_the_cli_checker_can_fail(cli: Any) -> None:
    """The check below means something: it refuses made-up commands and options, accepts real ones."""
    assert command_problem(cli, ["frobnicate"]) is not None
    assert command_problem(cli, ["serve", "--no-such-flag"]) is not None
    assert command_problem(cli, ["projects", "delete", "x"]) is not None
    assert command_problem(cli, ["serve", "--db", "postgresql://x/y", "--workers", "2"]) is None
    assert command_problem(cli, ["projects", "create", "checkout", "--rate-limit=600"]) is None
    assert recoup_invocations('export T=$(recoup admin create-token --name ops) && recoup serve --port 1 # x') == [
        ["admin", "create-token", "--name", "ops"],
        ["serve", "--port", "1"],
    ]
    assert recoup_invocations(".venv/bin/python -m recoup version | cat") == [["version"]]
    assert recoup_invocations("pip install 'recoup[server]'") == []
    assert recoup_invocations("recoup serve: cannot reach the database") == []


def pending_cli() -> Any | None:
    """The commands written but not yet registered in ``recoup`` (``recoup export`` from `recoup.cli_export`),
    as their own click group, so the docs' "(planned)" commands are checked against them too."""
    try:
        from recoup import cli_export
    except ImportError:
        return None
    holder = typer.Typer()
    cli_export.register(holder)
    return typer.main.get_command(holder)


def test_every_quoted_recoup_command_is_registered(cli: Any) -> None:
    """Registered commands are checked everywhere; a "(planned)" line's command is checked against the
    written-but-unregistered commands when it is one of them, and skipped only when it exists nowhere yet."""
    problems: list[str] = []
    checked = 0
    pending = pending_cli()
    for path in doc_files():
        for where, line in code_snippets(path):
            for args in recoup_invocations(line):
                root = cli
                if PLANNED in line and (not args or args[0] not in cli.commands):
                    if pending is None or not args or args[0] not in pending.commands:
                        continue
                    root = pending
                checked += 1
                problem = command_problem(root, args)
                if problem:
                    problems.append(f"{where}: `recoup {' '.join(args)}`: {problem}")
    assert checked >= 30, f"only {checked} recoup invocations found: is the extraction broken?"
    assert not problems, "\n".join(problems)


# -- rules <-> runbooks ----------------------------------------------------------------------------------


def test_every_default_rule_links_an_existing_runbook_about_it() -> None:
    rules = default_rules().rules
    assert len(rules) >= 10
    for rule in rules:
        assert rule.runbook == f"docs/runbooks/{rule.name}.md", f"{rule.name}: runbook annotation {rule.runbook!r}"
        path = ROOT / rule.runbook
        assert path.is_file(), f"{rule.name}: {rule.runbook} does not exist"
        text = path.read_text(encoding="utf-8")
        assert text.splitlines()[0] == f"# {rule.name}", f"{path.name} must open with the heading '# {rule.name}'"
        for fact in runbook_facts(rule):
            assert fact in text, f"{path.name} does not state {fact!r} of the rule"


def human_duration(seconds: float) -> str:
    """120.0 -> ``'2 minutes'``, 30.0 -> ``'30 seconds'``: how the runbooks write RTO targets."""
    for size, unit in ((3600, "hour"), (60, "minute"), (1, "second")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return f"{seconds:g} seconds"


def rto_target(incident_type: str) -> float:
    """The RTO target the shipped incident policy gives ``incident_type`` (its fallback when it names none)."""
    policy = yaml.safe_load((ROOT / "src/recoup/incidents/default_policy.yaml").read_text(encoding="utf-8"))
    rto = policy["rto"]
    return parse_duration(rto["targets"].get(incident_type, rto["fallback"]))


def test_runbooks_state_the_rto_target_of_the_shipped_policy() -> None:
    assert human_duration(30.0) == "30 seconds" and human_duration(60.0) == "1 minute"
    for rule in default_rules().rules:
        text = (ROOT / str(rule.runbook)).read_text(encoding="utf-8")
        target = f"RTO target {human_duration(rto_target(rule.labels['incident_type']))}"
        assert target in text, f"{rule.name}: its runbook should say {target!r} (default_policy.yaml)"


def runbook_facts(rule: Rule) -> list[str]:
    """What a runbook must state about its rule, verbatim: metric, severity, incident type, and the series."""
    facts = [f"`{rule.metric}`", f"`{rule.severity.value}`", f"`{rule.labels['incident_type']}`"]
    spec = CATALOGUE[rule.metric]
    series = [spec.series] if spec.numerator is None else [CATALOGUE[spec.numerator].series]
    facts += series
    if rule.escalate is not None:
        facts.append("escalat")
    return facts


def test_no_orphan_runbooks() -> None:
    names = {rule.name for rule in default_rules().rules}
    orphans = [p.name for p in RUNBOOKS.glob("*") if p.is_file() and p.stem not in names]
    assert not orphans, f"runbooks without a default rule: {orphans}"


def test_the_manuals_exist_and_the_manual_tables_every_default_rule() -> None:
    for name in MANUALS:
        text = (DOCS / name).read_text(encoding="utf-8")
        assert len(text) > 2000, f"{name} is nearly empty"
    manual = (DOCS / "OPERATIONS_MANUAL.md").read_text(encoding="utf-8")
    for rule in default_rules().rules:
        row = re.search(rf"^\|[^\n]*\[{rule.name}\]\(runbooks/{rule.name}\.md\)[^\n]*\|$", manual, re.M)
        assert row is not None, f"OPERATIONS_MANUAL.md has no table row linking runbooks/{rule.name}.md"
        assert f"`{rule.severity.value}`" in row.group(0), f"the row of {rule.name} does not give its severity"


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    return {
        re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for _number, line in prose_lines(path)
        if line.startswith("#")
    }


def test_relative_links_and_anchors_resolve() -> None:
    broken = []
    for path in doc_files():
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part) if file_part else path
            if not linked.exists():
                broken.append(f"{path.name}: {target}")
            elif anchor and linked.is_file() and anchor not in anchors(linked):
                broken.append(f"{path.name}: {target} (no such heading)")
    assert not broken, broken


# -- endpoints, series and variables ---------------------------------------------------------------------

#: A path of the server: bare (after a space, quote, backtick, bracket, "=" or at line start), after
#: ``$SERVER`` or after the default port; other hosts' paths (Alertmanager's own API...) are not ours.
_PATH = re.compile(
    r"(?:^|(?<=[\s`'\"(=])|(?<=\$SERVER)|(?<=:8000))"
    r"(/(?:api/[\w{}<>$./%-]*|healthz|readyz|metrics|openapi\.json))"
)


@pytest.fixture(scope="module")
def route_patterns(tmp_path_factory: pytest.TempPathFactory) -> list[re.Pattern[str]]:
    from recoup.server.app import create_app
    from recoup.server.settings import ServerSettings
    from recoup.store import open_store

    folder = tmp_path_factory.mktemp("routes")
    store = open_store(f"sqlite:///{folder / 'recoup.db'}")
    try:
        app = create_app(ServerSettings(db_url=f"sqlite:///{folder / 'recoup.db'}", spool_dir=folder), store=store)
        paths = [str(getattr(route, "path", "")) for route in app.routes]
    finally:
        store.close()
    return [re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$") for p in paths if p]


def test_the_route_matcher_can_fail(route_patterns: list[re.Pattern[str]]) -> None:
    assert any(p.match("/api/v1/projects/1/groups") for p in route_patterns)
    assert not any(p.match("/api/v1/nothing-here") for p in route_patterns)


def test_every_documented_path_is_a_route(route_patterns: list[re.Pattern[str]]) -> None:
    problems, checked = [], 0
    for path in doc_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PLANNED in line:
                continue
            for found in _PATH.findall(line):
                concrete = re.sub(r"\$\{?\w+\}?|<[^>]+>|\{[^}]+\}", "1", found.split("?", 1)[0]).rstrip(".,")
                checked += 1
                if not any(p.match(concrete) for p in route_patterns):
                    problems.append(f"{path.name}:{number}: {found}")
    assert checked >= 20
    assert not problems, "documented paths that are no route of the app:\n" + "\n".join(problems)


def known_series() -> set[str]:
    from prometheus_client import CollectorRegistry

    from recoup.server.metrics import ServerMetrics
    from recoup.telemetry.prometheus import PrometheusMetrics

    names: set[str] = set()
    library = CollectorRegistry()
    PrometheusMetrics(registry=library)
    for registry in (ServerMetrics().registry, library):
        names |= {family.name for family in registry.collect()}
    for spec in CATALOGUE.values():
        if spec.kind is not MetricKind.RATIO:
            names.add(spec.series)
    return {name + suffix for name in names for suffix in ("", "_total", "_bucket", "_sum", "_count", "_created")}


_SERIES = re.compile(r"\brecoup_[a-z0-9_]*(?:\(([a-z0-9_|]+)\)[a-z0-9_]*)?\*?")


def series_names(line: str) -> list[str]:
    """``recoup_*`` names on a line; a grep alternation ``recoup_ingest_(requests|events)_total`` is expanded,
    a trailing ``*`` (a family, ``recoup_spool_*``) is kept for a prefix check."""
    names = []
    for m in _SERIES.finditer(line):
        text = m.group(0)
        if m.group(1) is None:
            names.append(text)
            continue
        head, _, tail = text.partition("(")
        names += [head + choice + tail.split(")", 1)[1] for choice in m.group(1).split("|")]
    return names


def is_known(name: str, known: set[str]) -> bool:
    if name.endswith("*"):
        return any(k.startswith(name[:-1]) for k in known)
    return name in known


def test_every_documented_series_exists() -> None:
    known = known_series()
    assert "recoup_ingest_events_total" in known and "recoup_nothing_total" not in known
    assert series_names("grep -E '^recoup_spool_(replayed|x)_events_total'") == [
        "recoup_spool_replayed_events_total", "recoup_spool_x_events_total"]
    assert is_known("recoup_spool_*", known) and not is_known("recoup_spoon_*", known)
    problems = []
    for path in doc_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PLANNED in line:
                continue
            problems += [f"{path.name}:{number}: {s}" for s in series_names(line) if not is_known(s, known)]
    assert not problems, "series no code exports:\n" + "\n".join(problems)


def test_every_documented_environment_variable_exists() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src" / "recoup").rglob("*.py"))
    problems = []
    for path in doc_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PLANNED not in line:
                names = re.findall(r"\bRECOUP_[A-Z_]+\b", line)
                problems += [f"{path.name}:{number}: {v}" for v in names if v not in source]
    assert not problems, problems


def test_runbook_promql_parses_with_promtool(tmp_path: Path) -> None:
    """Every ```promql block of the runbooks and manuals, checked by the real Prometheus parser."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (scripts/install_tools.sh installs it)")
    rules: list[dict[str, object]] = []
    for path in doc_files():
        for block in fenced_blocks(path):
            if block.lang == "promql":
                rules.append({"record": f"doc:check_{len(rules)}", "expr": block.text.strip(),
                              "labels": {"where": f"{path.name}:{block.line}"}})
    assert len(rules) >= len(default_rules().rules), "every runbook should give its rule in PromQL"
    def check(rules: list[dict[str, object]]) -> subprocess.CompletedProcess[str]:
        rule_file = tmp_path / "docs.rules.yml"
        rule_file.write_text(yaml.safe_dump({"groups": [{"name": "docs", "rules": rules}]}), encoding="utf-8")
        return subprocess.run([promtool, "check", "rules", str(rule_file)], capture_output=True, text=True, timeout=60)

    done = check(rules)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = check([{"record": "doc:broken", "expr": "sum by (service (rate(recoup_errors_total[5m]))"}])
    assert broken.returncode != 0, "promtool accepted broken PromQL: the check above proves nothing"


# -- the rollback plan's downgrade script -----------------------------------------------------------------


def downgrade_script() -> str:
    blocks = [b for b in fenced_blocks(DOCS / "ROLLBACK_PLAN.md") if b.lang == "python" and "downgrade.py" in b.text]
    assert len(blocks) == 1, "ROLLBACK_PLAN.md should hold exactly one downgrade.py block"
    return blocks[0].text


def run_downgrade(tmp_path: Path, url: str, target: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "downgrade.py"
    script.write_text(downgrade_script(), encoding="utf-8")
    return subprocess.run([sys.executable, str(script), url, target], capture_output=True, text=True, timeout=120)


def revision_of(url: str) -> str | None:
    from recoup.store import create_store_engine, current_revision

    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    finally:
        engine.dispose()


def test_documented_downgrade_runs_and_upgrade_returns_to_head(db_url: str, tmp_path: Path) -> None:
    from recoup.store import head_revision, migrate

    migrate(db_url)
    done = run_downgrade(tmp_path, db_url, "0002")
    assert done.returncode == 0, done.stdout + done.stderr
    assert revision_of(db_url) == "0002"
    assert "0002" in done.stdout
    assert migrate(db_url) == head_revision()


def test_documented_r0003_caveat_refuses_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    """Two projects holding the same alert episode: the downgrade past 0003 fails and the schema stays."""
    from recoup.store import AlertStatus, NewAlert, head_revision, open_store

    store = open_store(db_url)
    try:
        starts = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
        for name in ("checkout", "billing"):
            project, _ = store.create_project(name)
            alert = NewAlert(fingerprint="c6eadffa33fcdf37", status=AlertStatus.FIRING, starts_at=starts,
                             labels={"alertname": "Same"})
            store.record_alerts([alert], project_id=project.id)
    finally:
        store.close()
    done = run_downgrade(tmp_path, db_url, "0002")
    assert done.returncode != 0
    assert revision_of(db_url) == head_revision()


# -- the troubleshooting guide's replay script ------------------------------------------------------------


def test_documented_rejected_replay_script_stores_the_kept_batch(db_url: str, tmp_path: Path) -> None:
    """A batch the spool kept in rejected.jsonl is stored by the script of TROUBLESHOOTING.md, once."""
    from recoup.server.spool import REJECTED, Spool, SpoolRecord
    from recoup.store import new_event_from_telemetry, open_store
    from recoup.telemetry.events import ErrorEvent

    store = open_store(db_url)
    try:
        project, _ = store.create_project("checkout")
        events = tuple(
            new_event_from_telemetry(ErrorEvent(exception_type="psycopg.OperationalError", message=f"refused {i}"))
            for i in range(3)
        )
        spool = Spool(tmp_path / "spool")
        spool.open()
        spool.reject(SpoolRecord(project.id, datetime.now(UTC), events), "project 99 does not exist")
        spool.close()
        blocks = [b for b in fenced_blocks(DOCS / "TROUBLESHOOTING.md") if "replay_rejected.py" in b.text]
        assert len(blocks) == 1
        script = tmp_path / "replay_rejected.py"
        script.write_text(blocks[0].text, encoding="utf-8")
        rejected = str(tmp_path / "spool" / REJECTED)
        for expected in ("3 stored, 0 already there", "0 stored, 3 already there"):
            done = subprocess.run([sys.executable, str(script), rejected, db_url], capture_output=True, text=True,
                                  timeout=120)
            assert done.returncode == 0, done.stdout + done.stderr
            assert expected in done.stdout and "project 99 does not exist" in done.stdout
        assert {e.event_id for e in store.list_events(project.id, limit=10)} == {e.event_id for e in events}
    finally:
        store.close()


# -- the python one-liners ---------------------------------------------------------------------------------


def test_documented_python_one_liners_run(tmp_path: Path) -> None:
    """Every ``python -c ...`` line of the docs runs as written (in a folder holding the ``recoup.db`` and
    ``rules.yaml`` they name), with the project's interpreter first on PATH."""
    import os

    from recoup.incidents.rules import default_rules_text
    from recoup.store import migrate

    migrate(f"sqlite:///{tmp_path / 'recoup.db'}")
    (tmp_path / "rules.yaml").write_text(default_rules_text(), encoding="utf-8")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    lines = sorted({
        (line.strip(), where)
        for path in doc_files()
        for where, line in code_snippets(path)
        if line.strip().startswith("python -c ") and PLANNED not in line
    })
    assert len(lines) >= 5, f"only {len(lines)} python one-liners found: is the extraction broken?"
    for line, where in lines:
        done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{where}: {line}\n{done.stdout}{done.stderr}"


def test_each_runbook_gives_its_rule_as_the_prometheus_export_writes_it() -> None:
    """The first PromQL block of a runbook is the rule's exported expression (whitespace aside), so what the
    operator reads is what Prometheus evaluates."""
    promql = pytest.importorskip("recoup.incidents.export.promql")
    for rule in default_rules().rules:
        blocks = [b for b in fenced_blocks(ROOT / str(rule.runbook)) if b.lang == "promql"]
        assert blocks, f"{rule.runbook} gives no PromQL"
        expected = promql.alert_expr(rule)
        assert re.sub(r"\s+", "", blocks[0].text) == re.sub(r"\s+", "", expected), (
            f"{rule.runbook}: the first promql block should be the exported expression:\n{expected}"
        )
