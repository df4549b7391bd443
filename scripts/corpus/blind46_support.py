"""Harness of batch 46: run small Perl and Lua programs as real script files and keep what they printed when they
died, plus the one local server the batch needs that the shared modules lack (HTTPS with a self-signed
certificate).

Each case is written to its own directory under a scratch directory every user can enter (cases run as
`nobody` need that) and run with ``perl FILE`` or ``lua5.4 FILE``, so the message names a script and its line
as a CI job's would. The output is recorded only when the process failed and printed the token of the cause
we provoked (the cause check of ``checked.has_token``)."""

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

_RUNNERS = {"perl": ("pl", ["perl"]), "lua": ("lua", ["lua5.4"])}


@dataclass
class ScriptCase:
    """One Perl or Lua program that fails for the provoked cause; `token` (`A|B`) must be in what it printed.
    `nobody` runs it as that user, `max_files` and `max_memory` (bytes) set rlimits before it starts."""

    name: str
    category: str
    source: str
    token: str
    lang: str
    script: str
    nobody: bool = False
    max_files: int = 0
    max_memory: int = 0


def _limits(case: ScriptCase) -> Callable[[], None]:
    def apply() -> None:
        if case.max_files:
            resource.setrlimit(resource.RLIMIT_NOFILE, (case.max_files, case.max_files))
        if case.max_memory:
            resource.setrlimit(resource.RLIMIT_AS, (case.max_memory, case.max_memory))

    return apply


def scratch_dir(env: Env) -> Path:
    """A world-enterable directory outside the batch's private temp dir (removed at the end)."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-b46-"))
    os.chmod(root, 0o755)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    return root


def script_records(cases: Iterable[ScriptCase], scratch: Path, fill: Callable[[str], str]) -> list[Record]:
    """Run each case; a Perl death is a `stderr` record, a Lua death with its stack traceback a `traceback`."""
    out: list[Record] = []
    for case in cases:
        ext, interpreter = _RUNNERS[case.lang]
        work = scratch / case.name
        work.mkdir()
        os.chmod(work, 0o755)
        script = work / f"{case.name.replace('_', '-')}.{ext}"
        script.write_text(fill(case.script))
        script.chmod(0o644)
        argv = [*interpreter, script.name]
        if case.nobody:
            argv = ["runuser", "-u", "nobody", "--", *argv]
        kwargs = {"preexec_fn": _limits(case)} if case.max_files or case.max_memory else {}
        try:
            proc = run(argv, cwd=work, timeout=40, **kwargs)
        except Exception as harness:  # a hang is the harness's problem, not a record
            problem(case.name, type(harness).__name__)
            continue
        text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
        if not text:
            problem(case.name, "no failure")
        elif has_token(case.name, text, case.token):
            kind = "traceback" if "stack traceback:" in text else "stderr"
            out.append(record(text, case.category, case.source, kind, case.name))
    return out




__all__ = ["ScriptCase", "scratch_dir", "script_records"]
