"""Helpers for batch 80 (Python packaging, developer tooling and HTTP load tools): the small projects each case
builds, type-checks or lints, written under the batch directory; the mounts a case writes to (a read-only one
filled before it is made read-only, a full one); and a gate for the load tools that exit 0 whatever happened,
the way a CI step fails a load test whose own summary shows failed requests."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from common import Env
from servers import mount_tmpfs

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
#: pyright is installed from npm into a prefix of this batch (`npm install --prefix /tmp/recoup-corpus-80-node
#: pyright`), falling back to the shared corpus prefix
PYRIGHT = next((p for p in (Path("/tmp/recoup-corpus-80-node/node_modules/.bin/pyright"),
                            Path("/tmp/recoup-corpus-node/node_modules/.bin/pyright")) if p.exists()),
               Path("pyright"))

SETUPTOOLS_HEADER = '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
HATCH_HEADER = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'


def project(root: Path, name: str, files: dict[str, str | bytes]) -> Path:
    """A project directory `root/name` with these files (relative paths; text or bytes)."""
    base = root / name
    for rel, content in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    base.mkdir(parents=True, exist_ok=True)
    return base


def read_only_mount(env: Env, name: str, files: dict[str, str]) -> Path:
    """A small tmpfs holding these files, then remounted read-only (unmounted with the batch)."""
    target = mount_tmpfs(env, name, "size=256k")
    for rel, content in files.items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_text(content, encoding="utf-8")
    subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True, capture_output=True)
    return target


def tool_env(env: Env) -> str:
    """`export` line giving the tools a private HOME and caches (nothing read or written in root's home), and pip
    no configuration beyond the case's own options."""
    home = env.tmp / "home80"
    home.mkdir(exist_ok=True)
    values = {"HOME": home, "POETRY_CACHE_DIR": home / "poetry", "POETRY_NO_INTERACTION": "1",
              "HATCH_DATA_DIR": home / "hatch-data", "HATCH_CACHE_DIR": home / "hatch-cache",
              "PDM_CACHE_DIR": home / "pdm", "PDM_NON_INTERACTIVE": "1", "PDM_CHECK_UPDATE": "false",
              "PIP_CONFIG_FILE": os.devnull, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    return "export " + " ".join(f"{k}={shlex.quote(str(v))}" for k, v in values.items()) + "; unset PIP_FIND_LINKS; "


def gated(command: str, failure_pattern: str) -> str:
    """Run `command` (a load tool that exits 0 even when every request failed), show all it printed on stderr, and
    fail when its own output matches `failure_pattern` (an extended regex), as a CI load-test step would."""
    return (f"out=$({command} 2>&1); printf '%s\\n' \"$out\" >&2; "
            f"if grep -qE -- {shlex.quote(failure_pattern)} <<<\"$out\"; then exit 1; fi")


__all__ = ["HATCH_HEADER", "PYRIGHT", "SETUPTOOLS_HEADER", "VENV_BIN", "gated", "project", "read_only_mount",
           "tool_env"]
