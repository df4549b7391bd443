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
        found = failure_record(name, category, token, source, ["node", "-e", fill(script)], cwd, env=node_env,
                               timeout=30)
        if found:
            out.append(found)
    return out


#: prepended to every script of `node_prefix_records`: it ends itself (silently, so a hang is reported as "no
#: failure") before the harness's timeout
NODE_WATCHDOG = "setTimeout(() => process.exit(3), 20000).unref();\n"


def node_prefix_records(cases: Iterable[tuple[str, str, str, str]], source: str, cwd: Path,
                        fill: Callable[[str], str], modules: Path, *, user: str = "",
                        node_args: tuple[str, ...] = ()) -> list[Record]:
    """Like `node_library_records`, for a batch with its own npm prefix (`modules` is its node_modules): each
    script runs with a watchdog, as `user` and with extra node flags when given."""
    if not modules.is_dir():
        problem(source, "node libraries missing, cases skipped")
        return []
    out: list[Record] = []
    for name, category, token, script in cases:
        argv = ["node", *node_args, "-e", fill(NODE_WATCHDOG + script)]
        if user:
            argv = ["runuser", "-u", user, "--", "env", f"NODE_PATH={modules}", *argv]
        found = failure_record(name, category, token, source, argv, cwd, env={"NODE_PATH": str(modules)}, timeout=40)
        if found:
            out.append(found)
    return out


def failure_record(name: str, category: str, token: str, source: str, argv: Sequence[str], cwd: Path, *,
                   env: dict[str, str] | None = None, timeout: float = 60) -> Record | None:
    """Run one case; its record when it failed and its output shows the token, else None (and a problem line)."""
    try:
        proc = run(argv, cwd=cwd, timeout=timeout, **({"env": env} if env is not None else {}))
    except Exception as harness:  # a hang or a missing tool is the harness's problem, not a record
        problem(name, type(harness).__name__)
        return None
    text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
    if not text:
        problem(name, "no failure")
        return None
    return record(text, category, source, "stderr", name) if has_token(name, text, token) else None


def tool_records(cases: Iterable[ToolCase], source: str, cwd: Path, fill: Callable[[str], str] = str,
                 timeout: float = 60) -> list[Record]:
    """Run each case (a bash script, or an argv list) and record what it printed when it failed with the token."""
    out: list[Record] = []
    for name, category, token, command in cases:
        argv = ["bash", "-c", fill(command)] if isinstance(command, str) else [fill(a) for a in command]
        found = failure_record(name, category, token, source, argv, cwd, timeout=timeout)
        if found:
            out.append(found)
    return out


__all__ = ["NODE_MODULES", "PyCase", "ToolCase", "has_token", "node_library_records", "problem", "python_records",
           "tool_records"]
