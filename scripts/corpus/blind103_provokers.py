"""Hundred-and-third batch of blind provokers: Python pipeline and workflow tools failing for real causes on
127.0.0.1. luigi with the local scheduler (a missing external input, a missing manifest read in run(), a refused
and a password-refusing PostgreSQL, HTTP 503/401/429 and a hanging rates server, defects in run(), a full and a
read-only tmpfs for the target, a corrupt settings file, a bad integer parameter); snakemake (a missing input,
a rule syntax error, shell commands failing on a missing file, a refused port, a full disk, a missing module,
a defect in a run block, a missing config key, a broken config file, a read-only output, a locked working
directory); doit (a missing file_dep, defects, a dodo syntax error, a refused and a password-refusing database,
a full disk, a corrupt JSON file, HTTP 503); nox sessions (a missing module, a refused port, a full disk, a
broken TOML file, HTTP 401/503, a noxfile syntax error, an envdir on a read-only mount); papermill running
notebooks whose cells fail for each cause, plus a missing and a corrupt notebook.

luigi and snakemake run from their own venv (/tmp/recoup-corpus-103): installing them into the project venv
would downgrade python-dateutil, packaging, docutils and SQLAlchemy."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from blind103_support import DODOS, LUIGI_CFG, LUIGI_MODULE, NOX_SYNTAX, NOXFILE, SNAKEFILES, write_tree
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs, private_postgres

BLIND103_SOURCES = frozenset({"luigi103", "snakemake103", "doit103", "nox103", "papermill103"})

PRIVATE_VENV = Path("/tmp/recoup-corpus-103/bin")
PROJECT_VENV = Path(__file__).resolve().parents[2] / ".venv" / "bin"


def _filler(env: Env, full: Path, ro: Path, pg_port: int) -> Callable[[str], str]:
    def fill(text: str) -> str:
        return (text.replace("@CLOSED@", str(env.closed_port)).replace("@HTTP@", env.http)
                .replace("@FULL@", str(full)).replace("@RO@", str(ro)).replace("@PGPORT@", str(pg_port))
                .replace("@HANG@", str(env.hang_port)).replace("@PV@", str(PRIVATE_VENV))
                .replace("@VB@", str(PROJECT_VENV)).replace("@TMP@", str(env.tmp)))
    return fill


# --------------------------------------------------------------------------- luigi


def _luigi_cases() -> list[ToolCase]:
    def luigi(task: str, *args: str) -> str:
        return (f"cd @TMP@/luigi && PYTHONPATH=. LUIGI_CONFIG_PATH=luigi.cfg @PV@/python -m luigi --module tasks103 "
                f"{task} --local-scheduler {' '.join(args)}")

    return [
        ("luigi_missing_external_input", "filesystem", "missing external dependenc|RawOrders",
         luigi("LoadOrders", "--src data/orders_2026-11-28.csv", "--out out/orders.csv")),
        ("luigi_manifest_missing", "filesystem", "FileNotFoundError",
         luigi("ReadManifest", "--manifest conf/manifest.txt", "--out out/names.txt")),
        ("luigi_db_refused", "network", "Connection refused", luigi("ExportToWarehouse", "--port @CLOSED@")),
        ("luigi_db_password", "auth", "password authentication failed",
         luigi("ExportToWarehouse", "--port @PGPORT@", "--user app", "--password stale-password")),
        ("luigi_http_503", "service", "503", luigi("FetchRates", "--url @HTTP@/status/503", "--out out/r503.json")),
        ("luigi_http_401", "auth", "401", luigi("FetchRates", "--url @HTTP@/status/401", "--out out/r401.json")),
        ("luigi_http_429", "resource", "429", luigi("FetchRates", "--url @HTTP@/status/429", "--out out/r429.json")),
        ("luigi_read_timeout", "network", "timed out",
         luigi("FetchRates", "--url http://127.0.0.1:@HANG@/rates", "--out out/rhang.json")),
        ("luigi_run_keyerror", "programming", "KeyError", luigi("AggregateDaily")),
        ("luigi_run_typeerror", "programming", "TypeError", luigi("BuildReport")),
        ("luigi_disk_full", "resource", "No space left", luigi("WriteExtract", "--out @FULL@/extract.csv")),
        ("luigi_read_only_target", "filesystem", "Read-only", luigi("WriteExtract", "--out @RO@/extract.csv")),
        ("luigi_corrupt_settings", "validation", "JSONDecodeError",
         luigi("ParseSettings", "--settings conf/settings.json")),
        ("luigi_bad_int_parameter", "validation", "invalid literal", luigi("Partition", "--batch-size ten")),
    ]


def _prepare_luigi(env: Env) -> None:
    root = write_tree(env.tmp / "luigi", {"tasks103.py": LUIGI_MODULE, "luigi.cfg": LUIGI_CFG,
                                          "conf/settings.json": '{"batch": 500, "targets": ["eu", "us"],\n'},
                      str)
    (root / "out").mkdir()


# --------------------------------------------------------------------------- snakemake


def _snakemake_cases() -> list[ToolCase]:
    def sm(case: str, *args: str) -> str:
        return (f"cd @TMP@/{case} && HOME=@TMP@/home XDG_CACHE_HOME=@TMP@/home/.cache @PV@/snakemake --cores 1 "
                f"--quiet rules {' '.join(args)}")

    locked = ("cd @TMP@/sm_locked && export HOME=@TMP@/home XDG_CACHE_HOME=@TMP@/home/.cache && "
              "@PV@/snakemake --cores 1 >/dev/null 2>&1 & first=$!; sleep 4; "
              "cd @TMP@/sm_locked && @PV@/snakemake --cores 1 --quiet rules; rc=$?; kill $first; wait $first; "
              "exit $rc")
    return [
        ("sm_missing_input", "filesystem", "MissingInputException|Missing input", sm("sm_missing_input")),
        ("sm_syntax_error", "programming", "SyntaxError", sm("sm_syntax_error")),
        ("sm_shell_missing_file", "filesystem", "No such file", sm("sm_shell_missing_file")),
        ("sm_shell_refused", "network", "Couldn't connect|Connection refused|Failed to connect",
         sm("sm_shell_refused")),
        ("sm_shell_disk_full", "resource", "No space left", sm("sm_shell_disk_full")),
        ("sm_run_defect", "programming", "TypeError", sm("sm_run_defect")),
        ("sm_config_key", "programming", "KeyError", sm("sm_config_key")),
        ("sm_bad_configfile", "validation", "yaml|mapping values|could not be parsed",
         sm("sm_bad_configfile", "--configfile config.yaml")),
        ("sm_output_read_only", "filesystem", "Read-only", sm("sm_output_read_only")),
        ("sm_module_missing", "programming", "ModuleNotFoundError", sm("sm_module_missing")),
        ("sm_locked", "resource", "LockException|cannot be locked", locked),
    ]


# --------------------------------------------------------------------------- doit


def _doit_cases() -> list[ToolCase]:
    def doit(case: str) -> str:
        return f"cd @TMP@/{case} && @VB@/doit --backend json --db-file .doit103.json"

    return [
        ("doit_file_dep_missing", "filesystem", "does not exist|No such file", doit("doit_file_dep_missing")),
        ("doit_python_defect", "programming", "AttributeError", doit("doit_python_defect")),
        ("doit_dodo_syntax", "programming", "SyntaxError", doit("doit_dodo_syntax")),
        ("doit_cmd_missing_file", "filesystem", "No such file", doit("doit_cmd_missing_file")),
        ("doit_refused", "network", "Connection refused", doit("doit_refused")),
        ("doit_pg_auth", "auth", "password authentication failed", doit("doit_pg_auth")),
        ("doit_disk_full", "resource", "No space left", doit("doit_disk_full")),
        ("doit_json_invalid", "validation", "JSONDecodeError", doit("doit_json_invalid")),
        ("doit_http_503", "service", "503", doit("doit_http_503")),
        ("doit_invalid_task", "programming", "InvalidTask|must contain", doit("doit_invalid_task")),
    ]


# --------------------------------------------------------------------------- nox


def _nox_cases() -> list[ToolCase]:
    def nox(session: str, *args: str, case: str = "nox") -> str:
        return f"cd @TMP@/{case} && @VB@/nox --no-color -s {session} {' '.join(args)} 2>&1"

    return [
        ("nox_missing_module", "programming", "ModuleNotFoundError", nox("missing_module")),
        ("nox_refused", "network", "Connection refused", nox("refused")),
        ("nox_disk_full", "resource", "No space left", nox("disk_full")),
        ("nox_bad_toml", "validation", "TOMLDecodeError", nox("bad_toml")),
        ("nox_http_401", "auth", "401", nox("http_401")),
        ("nox_http_503", "service", "503", nox("http_503")),
        ("nox_noxfile_syntax", "programming", "SyntaxError|invalid syntax", nox("lint", case="nox_syntax")),
        ("nox_envdir_read_only", "filesystem", "Read-only", nox("tests", "--envdir @RO@/nox-envs")),
    ]


# --------------------------------------------------------------------------- papermill


def _papermill_cases(env: Env, full: Path) -> list[PyCase]:
    import nbformat
    import papermill

    nbdir = env.tmp / "notebooks"
    nbdir.mkdir()

    def notebook(name: str, *cells: str) -> Path:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
        path = nbdir / f"{name}.ipynb"
        nbformat.write(nb, str(path))
        return path

    def execute(path: Path, expected_ename: str) -> Callable[[], Any]:
        def go() -> None:
            try:
                papermill.execute_notebook(str(path), str(nbdir / f"{path.stem}.out.ipynb"), kernel_name="python3",
                                           progress_bar=False, log_output=False, cwd=str(nbdir))
            except Exception as exc:
                if getattr(exc, "ename", None) not in expected_ename.split("|"):
                    raise RuntimeError("the cell failed for another cause") from None
                raise
        return go

    def corrupt_notebook() -> None:
        path = nbdir / "truncated.ipynb"
        good = notebook("truncated_src", "print('hello')").read_text(encoding="utf-8")
        path.write_text(good[: len(good) // 2], encoding="utf-8")
        papermill.execute_notebook(str(path), str(nbdir / "truncated.out.ipynb"), kernel_name="python3",
                                   progress_bar=False)

    url = env.http
    cases: list[tuple[str, str, str, str, tuple[str, ...]]] = [
        ("pm_zero_division", "programming", "ZeroDivisionError",
         ("orders = []", "average = sum(orders) / len(orders)\naverage")),
        ("pm_name_error", "programming", "NameError", ("import math", "summary = build_summary(math.pi)")),
        ("pm_input_missing", "filesystem", "FileNotFoundError",
         ("import csv", "rows = list(csv.reader(open('data/sales_2026-11.csv')))")),
        ("pm_refused", "network", "ConnectionRefusedError|URLError",
         ("import urllib.request", f"urllib.request.urlopen('http://127.0.0.1:{env.closed_port}/api', timeout=3)")),
        ("pm_http_503", "service", "HTTPError",
         ("import urllib.request", f"urllib.request.urlopen('{url}/status/503')")),
        ("pm_http_403", "auth", "HTTPError", ("import urllib.request", f"urllib.request.urlopen('{url}/status/403')")),
        ("pm_parse_input", "validation", "ValueError",
         ("raw_quantity = '12 units'  # as typed in the order form", "quantity = int(raw_quantity)")),
        ("pm_disk_full", "resource", "OSError",
         (f"with open('{full}/pm_export.parquet', 'wb') as out:\n    out.write(bytes(4_000_000))",)),
    ]
    out: list[PyCase] = []
    for name, category, ename, cells in cases:
        out.append((name, category, "papermill103", "PapermillExecutionError", execute(notebook(name, *cells), ename)))
    out.append(("pm_notebook_missing", "filesystem", "papermill103", "FileNotFoundError",
                lambda: papermill.execute_notebook(str(nbdir / "reports" / "weekly_kpis.ipynb"),
                                                   str(nbdir / "weekly.out.ipynb"), progress_bar=False)))
    out.append(("pm_notebook_corrupt", "validation", "papermill103", "NotJSONError|JSONDecodeError|ValueError",
                corrupt_notebook))
    return out


# --------------------------------------------------------------------------- batch


def blind103_records(env: Env) -> list[Record]:
    ro = mount_tmpfs(env, "ro103", "size=64k,ro")
    fulls = {tool: mount_tmpfs(env, f"full103_{tool}", "size=64k") for tool in ("luigi", "sm", "doit", "nox", "pm")}
    pg = private_postgres(env)
    (env.tmp / "home").mkdir()
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

    out: list[Record] = []
    fill = _filler(env, fulls["luigi"], ro, pg.port)
    _prepare_luigi(env)
    out += tool_records(_luigi_cases(), "luigi103", env.tmp, fill)

    fill = _filler(env, fulls["sm"], ro, pg.port)
    for case, files in SNAKEFILES.items():
        write_tree(env.tmp / case, files, fill)
    out += tool_records(_snakemake_cases(), "snakemake103", env.tmp, fill, timeout=90)

    fill = _filler(env, fulls["doit"], ro, pg.port)
    for case, text in DODOS.items():
        write_tree(env.tmp / case, {"dodo.py": text}, fill)
    (env.tmp / "doit_json_invalid" / "pipeline.json").write_text('{"stages": ["extract", "load"]\n "retries": 3}\n')
    out += tool_records(_doit_cases(), "doit103", env.tmp, fill)

    fill = _filler(env, fulls["nox"], ro, pg.port)
    write_tree(env.tmp / "nox", {"noxfile.py": NOXFILE,
                                 "settings.toml": '[report]\ntitle = "weekly\nformat = "pdf"\n'}, fill)
    write_tree(env.tmp / "nox_syntax", {"noxfile.py": NOX_SYNTAX}, fill)
    out += tool_records(_nox_cases(), "nox103", env.tmp, fill, timeout=120)

    out += python_records(_papermill_cases(env, fulls["pm"]))
    return out


if __name__ == "__main__":
    write_batch(blind103_records)


__all__ = ["BLIND103_SOURCES", "blind103_records"]
