"""dbt projects for batch 67: each case is a tiny project in its own directory (dbt_project.yml, profiles.yml,
models, schema files, sources) run with the dbt CLI of its own virtualenv (dbt-core pins versions the project's
venv must not take; see DBT_BIN). Only 127.0.0.1; telemetry and version checks are off."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from checked import has_token, problem
from common import Record, record, run

#: dbt-core 1.10 + dbt-postgres, installed with `python3 -m venv /tmp/recoup-corpus-dbt &&
#: /tmp/recoup-corpus-dbt/bin/pip install "dbt-core>=1.10,<1.11" "dbt-postgres>=1.10,<1.11"`.
DBT_BIN = Path(os.environ.get("RECOUP_DBT", "/tmp/recoup-corpus-dbt/bin/dbt"))
_DBT_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", "DBT_VERSION_CHECK": "false",
            "DBT_USE_COLORS": "false", "DBT_PRINTER_WIDTH": "100"}


@dataclass
class DbtCase:
    """One failing dbt invocation: `files` are written into the project (paths relative to it)."""

    name: str
    category: str
    token: str
    args: list[str]
    files: dict[str, str] = field(default_factory=dict)
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    schema: str = "b67_dbt"
    profile: bool = True


def write_project(root: Path, case: DbtCase) -> None:
    """Write the case's project (and its profiles.yml unless `profile` is off) into `root`."""
    root.mkdir(parents=True)
    (root / "models").mkdir()
    (root / "dbt_project.yml").write_text("name: b67_warehouse\nversion: '1.0'\nconfig-version: 2\n"
                                          "profile: b67_warehouse\nmodel-paths: ['models']\n")
    if case.profile:
        (root / "profiles.yml").write_text(
            "b67_warehouse:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n"
            f"      port: {case.port}\n      user: {case.user}\n      password: '{case.password}'\n"
            f"      dbname: test\n      schema: {case.schema}\n      threads: 1\n      connect_timeout: 5\n"
            "      retries: 0\n")
    for rel, text in case.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run_case(root: Path, case: DbtCase, source: str) -> list[Record]:
    """Run dbt in the project at `root`; its output is a record when it failed with the case's token."""
    argv = [str(DBT_BIN), *case.args, "--project-dir", str(root), "--profiles-dir", str(root)]
    try:
        proc = run(argv, cwd=root, env=_DBT_ENV, timeout=90)
    except Exception as harness:  # a hang is the harness's problem, not a record
        problem(case.name, type(harness).__name__)
        return []
    text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
    if not text:
        problem(case.name, "no failure")
        return []
    return [record(text, case.category, source, "stderr", case.name)] if has_token(case.name, text, case.token) else []


def dbt_records(cases: list[DbtCase], base: Path, source: str) -> list[Record]:
    """Run each case in a fresh project under `base`."""
    if not DBT_BIN.exists():
        problem("dbt", "dbt not installed, dbt cases skipped")
        return []
    out: list[Record] = []
    for case in cases:
        root = base / f"dbt_{case.name}"
        write_project(root, case)
        out += run_case(root, case, source)
    return out


__all__ = ["DBT_BIN", "DbtCase", "dbt_records", "run_case", "write_project"]
