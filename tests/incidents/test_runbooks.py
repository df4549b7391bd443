"""The operations docs stay true to the code, so an operator following them at 3 a.m. is not misled.

Checked: every default alert rule links a runbook that exists, opens with the rule's name and states its
metric, series, severity, incident type and the RTO target of the shipped policy (and no runbook is orphaned);
the manual tables every rule; links and anchors resolve; every `recoup ...` command line quoted is a
registered CLI command with real options; every HTTP path is a route of the app; every ``recoup_*`` series
and ``RECOUP_*`` variable exists in the code; the PromQL parses (the real ``promtool``); the rollback plan's
Alembic downgrade script really downgrades on SQLite and PostgreSQL, and refuses without changing anything
when r0003's downgrade cannot apply; the troubleshooting guide's rejected-batch replay script stores the
batch, once. The user's guide (INCIDENT_RESPONSE.md) is held to the same checks, and its complete example
incidents configuration is built from the page and parsed, its hand-written promtool test run. Nothing in the
docs may still be marked "(planned": everything they describe is built."""

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
MANUALS = ("OPERATIONS_MANUAL.md", "TROUBLESHOOTING.md", "ROLLBACK_PLAN.md", "INCIDENT_RESPONSE.md")
GUIDE = DOCS / "INCIDENT_RESPONSE.md"
PLANNED = "(planned"  # "(planned)" or "(planned: ...)": no longer allowed anywhere
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
            yield f"{path.name}:{number}", span


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


def test_nothing_is_left_planned() -> None:
    """Every part of incident response is wired in, so no doc (nor the README) may still call one planned."""
    left = [
        f"{path.name}:{number}"
        for path in [*doc_files(), ROOT / "README.md"]
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PLANNED in line
    ]
    assert not left, f"lines still marked {PLANNED!r}: {left}"


def test_every_quoted_recoup_command_is_registered(cli: Any) -> None:
    """In the docs and the README alike."""
    problems: list[str] = []
    checked = 0
    for path in [*doc_files(), ROOT / "README.md"]:
        for where, line in code_snippets(path):
            for args in recoup_invocations(line):
                checked += 1
                problem = command_problem(cli, args)
                if problem:
                    problems.append(f"{where}: `recoup {' '.join(args)}`: {problem}")
    assert checked >= 40, f"only {checked} recoup invocations found: is the extraction broken?"
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


@dataclass(frozen=True)
class Served:
    """What a real app (incident engine on, as `recoup serve` starts it) serves: its route paths and the
    families its /metrics registry exports."""

    paths: list[str]
    families: set[str]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    from recoup.server.app import create_app
    from recoup.server.settings import ServerSettings
    from recoup.store import open_store

    folder = tmp_path_factory.mktemp("routes")
    store = open_store(f"sqlite:///{folder / 'recoup.db'}")
    try:
        app = create_app(ServerSettings(db_url=f"sqlite:///{folder / 'recoup.db'}", spool_dir=folder), store=store)
        assert app.state.recoup.incidents is not None, "the incident engine should run with the default settings"
        paths = [str(getattr(route, "path", "")) for route in app.routes]
        families = {family.name for family in app.state.recoup.metrics.registry.collect()}
    finally:
        store.close()
    return Served(paths=[p for p in paths if p], families=families)


@pytest.fixture(scope="module")
def route_patterns(served: Served) -> list[re.Pattern[str]]:
    return [re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$") for p in served.paths]


def test_the_route_matcher_can_fail(route_patterns: list[re.Pattern[str]]) -> None:
    assert any(p.match("/api/v1/projects/1/groups") for p in route_patterns)
    assert not any(p.match("/api/v1/nothing-here") for p in route_patterns)


def test_every_documented_path_is_a_route(route_patterns: list[re.Pattern[str]]) -> None:
    problems, checked = [], 0
    for path in doc_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for found in _PATH.findall(line):
                concrete = re.sub(r"\$\{?\w+\}?|<[^>]+>|\{[^}]+\}", "1", found.split("?", 1)[0]).rstrip(".,")
                checked += 1
                if not any(p.match(concrete) for p in route_patterns):
                    problems.append(f"{path.name}:{number}: {found}")
    assert checked >= 20
    assert not problems, "documented paths that are no route of the app:\n" + "\n".join(problems)


def known_series(served: Served) -> set[str]:
    """Every family the server's /metrics exports (its own, the catalogue's, the incident engine's), the
    library's exporter, and the label the rule export adds (it sits beside series names in promtool tests)."""
    from prometheus_client import CollectorRegistry

    from recoup.incidents.export.prometheus_rules import RULE_LABEL
    from recoup.telemetry.prometheus import PrometheusMetrics

    library = CollectorRegistry()
    PrometheusMetrics(registry=library)
    names = {family.name for family in library.collect()} | served.families
    for spec in CATALOGUE.values():
        if spec.kind is not MetricKind.RATIO:
            names.add(spec.series)
    suffixed = {name + suffix for name in names for suffix in ("", "_total", "_bucket", "_sum", "_count", "_created")}
    return suffixed | {RULE_LABEL}


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


def test_every_documented_series_exists(served: Served) -> None:
    known = known_series(served)
    assert "recoup_ingest_events_total" in known and "recoup_nothing_total" not in known
    assert {"recoup_alerts_live", "recoup_notifications", "recoup_incident_engine_errors_total"} <= known
    assert series_names("grep -E '^recoup_spool_(replayed|x)_events_total'") == [
        "recoup_spool_replayed_events_total", "recoup_spool_x_events_total"]
    assert is_known("recoup_spool_*", known) and not is_known("recoup_spoon_*", known)
    problems = []
    for path in doc_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            problems += [f"{path.name}:{number}: {s}" for s in series_names(line) if not is_known(s, known)]
    assert not problems, "series no code exports:\n" + "\n".join(problems)


def test_every_documented_environment_variable_exists() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src" / "recoup").rglob("*.py"))
    problems = []
    for path in doc_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
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
    """Every ``python -c ...`` line of the docs runs as written (in a folder holding the ``recoup.db``,
    ``rules.yaml`` and ``incidents.yaml`` they name, the example's secrets set), with the project's
    interpreter first on PATH."""
    from recoup.store import migrate

    migrate(f"sqlite:///{tmp_path / 'recoup.db'}")
    build_example(tmp_path)
    env = example_env()
    lines = sorted({
        (line.strip(), where)
        for path in doc_files()
        for where, line in code_snippets(path)
        if line.strip().startswith("python -c ")
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


# -- the user's guide's example configuration -----------------------------------------------------------------

#: Values for the secrets the example incidents.yaml names as ``${VAR}``.
EXAMPLE_SECRETS = {
    "SLACK_WEBHOOK_URL": "https://hooks.slack.example/services/T000/B000/XXXX",
    "SMTP_PASSWORD": "smtp-secret",
    "PAGERDUTY_ROUTING_KEY": "R0123456789abcdef0123456789abcdef",
    "AUDIT_WEBHOOK_SECRET": "0123456789abcdef0123456789abcdef",
}


def guide_block(first_line: str) -> Block:
    """The one fenced block of INCIDENT_RESPONSE.md whose first line is ``first_line`` (or, for a shell
    block, that holds it)."""
    found = [
        b for b in fenced_blocks(GUIDE)
        if b.text.splitlines()[0] == first_line or (b.lang in SHELL_LANGS and first_line in b.text)
    ]
    assert len(found) == 1, f"INCIDENT_RESPONSE.md should hold exactly one block with {first_line!r}"
    return found[0]


def example_env() -> dict[str, str]:
    import os

    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, **EXAMPLE_SECRETS, "PATH": path}


def build_example(folder: Path) -> Path:
    """Run the guide's rule-file commands in ``folder`` and write its incidents.yaml there; its path."""
    commands = guide_block("cat >> rules.yaml <<'EOF'").text
    done = subprocess.run(["bash", "-e", "-c", commands], cwd=folder, env=example_env(), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    path = folder / "incidents.yaml"
    path.write_text(guide_block("# incidents.yaml").text, encoding="utf-8")
    return path


def test_the_example_incidents_config_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guide's complete example is a working configuration: the shipped rules plus the custom one,
    Slack, PagerDuty, signed-webhook and email receivers with their secrets from the environment, and a
    routing and a policy of its own."""
    from recoup.incidents.config import IncidentsConfigError, parse_incidents_config
    from recoup.incidents.incidents import default_policy
    from recoup.incidents.notify.config import PagerDutyChannel, WebhookChannel
    from recoup.incidents.routing_config import default_routing

    path = build_example(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(EXAMPLE_SECRETS)
    for name, value in EXAMPLE_SECRETS.items():
        monkeypatch.setenv(name, value)
    config = parse_incidents_config(yaml.safe_load(text), base=tmp_path, source="incidents.yaml")

    names = [rule.name for rule in config.rules.rules]
    assert names == [rule.name for rule in default_rules().rules] + ["CheckoutServerErrors"]
    custom = config.rules.rules[-1]
    assert custom.labels["incident_type"] in config.policy.rto.targets, "the custom rule's type has no RTO target"

    kinds = {kind for receiver in config.notify.receivers for kind in receiver.channels()}
    assert {"slack", "pagerduty", "webhook", "email"} <= kinds
    pagerduty = config.notify.receiver("pagerduty").pagerduty
    assert isinstance(pagerduty, PagerDutyChannel)
    assert pagerduty.routing_key == EXAMPLE_SECRETS["PAGERDUTY_ROUTING_KEY"]
    webhook = config.notify.receiver("audit").webhook
    assert isinstance(webhook, WebhookChannel) and webhook.secret == EXAMPLE_SECRETS["AUDIT_WEBHOOK_SECRET"]

    routed = {route.receiver for route in config.routing.route.walk()}
    assert routed <= set(config.notify.names()), "the routing names a receiver without channels"
    assert config.routing.config != default_routing(receivers=config.notify.names()).config
    assert config.policy != default_policy()
    assert [s.people for s in config.policy.schedules] == [("alice", "bob")]

    monkeypatch.delenv("PAGERDUTY_ROUTING_KEY")
    with pytest.raises(IncidentsConfigError, match="PAGERDUTY_ROUTING_KEY"):
        parse_incidents_config(yaml.safe_load(text), base=tmp_path, source="incidents.yaml")


def test_the_server_starts_with_the_example_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`recoup serve --incidents-config incidents.yaml` builds its engine from the example (the app's own
    loader, not just the parser)."""
    from recoup.server.app import create_app
    from recoup.server.settings import ServerSettings
    from recoup.store import open_store

    path = build_example(tmp_path)
    for name, value in EXAMPLE_SECRETS.items():
        monkeypatch.setenv(name, value)
    url = f"sqlite:///{tmp_path / 'recoup.db'}"
    store = open_store(url)
    try:
        app = create_app(ServerSettings(db_url=url, spool_dir=tmp_path / "spool", incidents_config=path), store=store)
        engine = app.state.recoup.incidents
        assert engine is not None
        assert engine.config.notify.names() == ("team", "pagerduty", "audit", "alice", "bob")
        assert engine.config.rules.rules[-1].name == "CheckoutServerErrors"
    finally:
        store.close()


def test_the_guides_promtool_test_passes_on_the_exported_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hand-written `promtool test rules` file of the guide passes against what `recoup export
    prometheus-rules` writes for the example rule file."""
    from typer.testing import CliRunner

    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (scripts/install_tools.sh installs it)")
    build_example(tmp_path)
    monkeypatch.chdir(tmp_path)
    args = ["export", "prometheus-rules", "--rules", "rules.yaml", "--out", "recoup-rules.yml"]
    export = CliRunner().invoke(cli_app, args)
    assert export.exit_code == 0, export.output
    (tmp_path / "checkout-rules.test.yml").write_text(guide_block("# checkout-rules.test.yml").text, encoding="utf-8")
    done = subprocess.run([promtool, "test", "rules", "checkout-rules.test.yml"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_readme_links_the_incident_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Incident response", 1)
    assert len(section) == 2, "README.md has no 'Incident response' section"
    targets = re.findall(r"\]\(([^)\s]+)\)", section[1].split("\n## ", 1)[0])
    assert "docs/INCIDENT_RESPONSE.md" in targets
    for target in targets:
        if "://" not in target:
            assert (ROOT / target.partition("#")[0]).exists(), f"README.md links a missing {target}"
