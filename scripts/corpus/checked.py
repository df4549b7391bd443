"""Record real failures only when they carry the evidence of the cause we provoked.

Batches 15 and 16 had harness bugs (a provoker failed for another reason than the intended one and was scored
under the wrong label). Since batch 17 each case names the exception type, or an output token, that its cause
must produce; a case whose failure lacks it is dropped and reported as a problem (a yes/no check: no text of
the batch is shown, so scoring stays blind)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from common import Record, exception_records, record, run

#: name, category, source, expected exception type names (`A|B`: the class or any base is one of them), fn
PyCase = tuple[str, str, str, str, Callable[[], Any]]
#: name, category, expected output token (case-insensitive), argv or bash script
ToolCase = tuple[str, str, str, "str | Sequence[str]"]


def problem(name: str, why: str) -> None:
    print(f"problem: {name}: {why}", file=sys.stderr)


def python_records(cases: Iterable[PyCase]) -> list[Record]:
    """Each case's real exception as two records, if its type (or a base) is the expected one."""
    out: list[Record] = []
    for name, category, source, expected, fn in cases:
        try:
            fn()
        except BaseException as exc:  # the real exception, whatever it is
            if not set(expected.split("|")) & {k.__name__ for k in type(exc).__mro__}:
                problem(name, f"not the provoked cause (expected {expected})")
                continue
            out.extend(exception_records(exc, category, source, name))
        else:
            problem(name, "no failure")
    return out


def has_token(name: str, text: str, token: str) -> bool:
    if any(t.lower() in text.lower() for t in token.split("|")):  # `A|B`: either token
        return True
    problem(name, f"not the provoked cause (no {token!r})")
    return False


#: Where the Node.js client libraries some batches provoke are installed (`npm install --prefix
#: /tmp/recoup-corpus-node ...`, see tests/corpus/README.md).
NODE_MODULES = Path("/tmp/recoup-corpus-node/node_modules")


def node_library_records(cases: Iterable[tuple[str, str, str, str]], source: str, cwd: Path,
                         fill: Callable[[str], str] = str) -> list[Record]:
    """Run each CommonJS script with the corpus's Node.js libraries on NODE_PATH and record what it printed
    when it failed with the token; nothing (and a note why) when the libraries are not installed."""
    if not NODE_MODULES.is_dir():
        problem("node", "libraries missing, node library cases skipped")
        return []
    node_env = dict(os.environ, NODE_PATH=str(NODE_MODULES))
    out: list[Record] = []
    for name, category, token, script in cases:
        proc = run(["node", "-e", fill(script)], cwd=cwd, env=node_env, timeout=30)
        text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
        if not text:
            problem(name, "no failure")
        elif has_token(name, text, token):
            out.append(record(text, category, source, "stderr", name))
    return out


def tool_records(cases: Iterable[ToolCase], source: str, cwd: Path, fill: Callable[[str], str] = str,
                 timeout: float = 60) -> list[Record]:
    """Run each case (a bash script, or an argv list) and record what it printed when it failed with the token."""
    out: list[Record] = []
    for name, category, token, command in cases:
        argv = ["bash", "-c", fill(command)] if isinstance(command, str) else [fill(a) for a in command]
        try:
            proc = run(argv, cwd=cwd, timeout=timeout)
        except Exception as harness:  # a hang or a missing tool is the harness's problem, not a record
            problem(name, type(harness).__name__)
            continue
        text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
        if not text:
            problem(name, "no failure")
        elif has_token(name, text, token):
            out.append(record(text, category, source, "stderr", name))
    return out


__all__ = ["NODE_MODULES", "PyCase", "ToolCase", "has_token", "node_library_records", "problem", "python_records",
           "tool_records"]
