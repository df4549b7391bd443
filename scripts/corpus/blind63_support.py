"""Harness of batch 63: run small R programs the way a scheduled data pipeline does (``Rscript job.R``) and keep
what R printed when the job stopped.

Each case is written to its own directory under a scratch directory every user can enter (cases run as
`nobody` need that), with the input files a pipeline would have been handed placed in a shared `data`
directory. The output is recorded only when Rscript exited non-zero and printed the token of the cause we
provoked (the cause check of ``checked.has_token``)."""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from checked import has_token, problem
from common import Env, Record, record, run

#: Packages are loaded quietly, as the top of a pipeline script does.
R_PRELUDE = "options(warn = 1)\n"


@dataclass
class RCase:
    """One R program that fails for the provoked cause; `token` (`A|B`) must be in what Rscript printed.
    `nobody` runs it as that user; `max_memory` (bytes) limits its address space before it starts."""

    name: str
    category: str
    source: str
    token: str
    script: str
    nobody: bool = False
    max_memory: int = 0


def _limits(case: RCase) -> Callable[[], None]:
    def apply() -> None:
        if case.max_memory:
            resource.setrlimit(resource.RLIMIT_AS, (case.max_memory, case.max_memory))

    return apply


def scratch_dir(env: Env) -> Path:
    """A world-enterable directory outside the batch's private temp dir (removed at the end)."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-b63-"))
    os.chmod(root, 0o755)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    return root


def write_inputs(scratch: Path, files: dict[str, tuple[bytes, int]]) -> Path:
    """The pipeline's input files (name -> (content, mode)) in `scratch/data`; returns that directory."""
    data = scratch / "data"
    data.mkdir()
    os.chmod(data, 0o755)
    for name, (content, mode) in files.items():
        path = data / name
        path.write_bytes(content)
        os.chmod(path, mode)
    return data


def r_records(cases: Iterable[RCase], scratch: Path, fill: Callable[[str], str]) -> list[Record]:
    """Run each case with Rscript; what it printed when it stopped is one `stderr` record."""
    out: list[Record] = []
    for case in cases:
        work = scratch / case.name
        work.mkdir()
        os.chmod(work, 0o755)
        script = work / f"{case.name.replace('_', '-')}.R"
        script.write_text(R_PRELUDE + fill(case.script))
        script.chmod(0o644)
        argv = ["Rscript", script.name]
        if case.nobody:
            argv = ["runuser", "-u", "nobody", "--", *argv]
        kwargs = {"preexec_fn": _limits(case)} if case.max_memory else {}
        try:
            proc = run(argv, cwd=work, timeout=40, env={"R_LIBS_USER": "/nonexistent-r-libs"}, **kwargs)
        except Exception as harness:  # a hang is the harness's problem, not a record
            problem(case.name, type(harness).__name__)
            continue
        text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
        if not text:
            problem(case.name, "no failure")
        elif has_token(case.name, text, case.token):
            out.append(record(text, case.category, case.source, "stderr", case.name))
    return out


__all__ = ["R_PRELUDE", "RCase", "r_records", "scratch_dir", "write_inputs"]
