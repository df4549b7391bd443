"""Harness of batch 33: run small Ruby programs as real scripts and keep what Ruby printed when they died.

Each case is a Ruby source file written to its own working directory and run with ``ruby FILE``, so the
backtrace names a script and its lines as a CI job's would. A tiny preloaded file (``-r``) registers an
``at_exit`` hook that writes the class chain, the class name and the ``Class: message`` line of the exception
that ends the program to a side file, which is never part of the record: the class chain is the cause check (a
case that died of another exception is dropped), the line is the one-line form a ``rescue => e; logger.error``
prints.
The uncaught-exception print on stderr is the ``traceback`` record."""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from checked import has_token, problem
from common import Env, Record, record, run

_CAPTURE = """at_exit do
  e = $!
  if e && !e.is_a?(SystemExit)
    fields = [e.class.ancestors.map(&:to_s).join("|"), e.class.name, "#{e.class}: #{e.message}"]
    File.write(ENV.fetch("B33_SIDE"), fields.join("\\0"))
  end
end
"""


@dataclass
class RubyCase:
    """One Ruby program that fails for the provoked cause; `expected` lists class names (`A|B`) of which the
    exception must be an instance, `token` (optional, `A|B`) must appear in its message."""

    name: str
    category: str
    source: str
    expected: str
    script: str
    token: str = ""
    files: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    as_nobody: bool = False
    max_files: int = 0


def _limit_files(count: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))

    return apply


def ruby_records(env: Env, cases: Iterable[RubyCase], fill: Callable[[str], str], shared: Path,
                 extra_env: dict[str, str] | None = None) -> list[Record]:
    """Run each case and keep its two records when the exception is the provoked one. `shared` is a directory
    every user can read (cases run as `nobody` live there)."""
    capture = shared / "capture33.rb"
    capture.write_text(_CAPTURE)
    capture.chmod(0o644)
    out: list[Record] = []
    for case in cases:
        base = shared if case.as_nobody else env.tmp / "rb33"
        work = base / case.name
        work.mkdir(parents=True)
        for rel, text in case.files.items():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / rel).write_text(fill(text))
        script = work / f"{case.name}.rb"
        script.write_text(fill(case.script))
        side = shared / f"side-{case.name}"
        argv = ["ruby", "-r", str(capture), script.name, *case.args]
        if case.as_nobody:
            os.chmod(work, 0o755)
            script.chmod(0o644)
            os.chmod(shared, 0o1777)
            argv = ["runuser", "-u", "nobody", "--", *argv]
        run_env = {**(extra_env or {}), **case.env, "B33_SIDE": str(side)}
        kwargs = {"preexec_fn": _limit_files(case.max_files)} if case.max_files else {}
        try:
            proc = run(argv, cwd=work, timeout=40, env=run_env, **kwargs)
        except Exception as harness:  # a hang is the harness's problem, not a record
            problem(case.name, type(harness).__name__)
            continue
        text = proc.stderr.strip() if proc.returncode else ""
        if not text or not side.exists():
            problem(case.name, "no failure")
            continue
        chain, exc_type, line = side.read_text().split("\0", 2)
        if not set(case.expected.split("|")) & set(chain.split("|")):
            problem(case.name, f"not the provoked cause (expected {case.expected})")
            continue
        if case.token and not has_token(case.name, line, case.token):
            continue
        out.append(record(text, case.category, case.source, "traceback", case.name, exc_type=exc_type))
        out.append(record(line, case.category, case.source, "exception", case.name, exc_type=exc_type))
    return out


def shared_dir(env: Env) -> Path:
    """A directory outside the batch's private temp dir that the `nobody` user can enter (removed at the end)."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-rb33-"))
    os.chmod(root, 0o755)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    return root




__all__ = ["RubyCase", "ruby_records", "shared_dir"]
