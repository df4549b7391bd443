"""Helpers of batch 64: run Groovy and Clojure scripts on the JVM, a few at a time, each from its own file in the
batch directory (as a CI job or a Jenkins shared-library step runs one), and keep what a failing one printed when
it carries the token of the cause we provoked. `@NAME@` placeholders of a script are filled before it is written."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from checked import has_token, problem
from common import Record, record, run

#: Debian's PostgreSQL JDBC driver (libpostgresql-jdbc-java)
PG_JAR = Path("/usr/share/java/postgresql.jar")
#: a JVM that starts quickly: the scripts are short and fail early
FAST_JVM = "-XX:TieredStopAtLevel=1 -Xshare:auto"

#: name, category, expected output token (`A|B`), script text, extra JVM options ("" for none)
JvmCase = tuple[str, str, str, str, str]


def clojure_command() -> list[str] | None:
    """How to start Clojure here: Debian's `clojure` launcher (clojure.main, PostgreSQL's driver on the classpath),
    else `java -cp clojure.jar clojure.main`."""
    launcher = shutil.which("clojure")
    if launcher:
        return [launcher, "-cp", str(PG_JAR)]
    jar = next(iter(sorted(Path("/usr/share/java").glob("clojure*.jar"))), None)
    if jar is not None and shutil.which("java"):
        return ["java", "-cp", f"{jar}:{PG_JAR}", "clojure.main"]
    return None


def _one(argv: list[str], cwd: Path, java_opts: str, timeout: float) -> str:
    environment = {"JAVA_OPTS": f"{FAST_JVM} {java_opts}".strip(), "CI": "true"}
    proc = run(argv, cwd=cwd, timeout=timeout, env=environment)
    return (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""


def jvm_script_records(cases: Iterable[JvmCase], source: str, workdir: Path, launcher: list[str], suffix: str,
                       fill: Callable[[str], str] = str, workers: int = 6, timeout: float = 45) -> list[Record]:
    """Write each case's script to `workdir/<name><suffix>`, run `launcher + [script]` (JVM options of the case
    through JAVA_OPTS, or `-J` style for a bare `java` launcher), and record what it printed when it failed with
    the expected token; a case that did not fail, hung, or failed without the token is reported and dropped."""
    workdir.mkdir(parents=True, exist_ok=True)
    todo: list[tuple[str, str, str, list[str], str]] = []
    for name, category, token, script, java_opts in cases:
        argv = list(launcher)
        if argv[0] == "java":
            argv[1:1] = [*FAST_JVM.split(), *java_opts.split()]
        if script:  # an empty script: the launcher's own arguments name what to run
            path = workdir / f"{name}{suffix}"
            path.write_text(fill(script), encoding="utf-8")
            argv.append(path.name)
        todo.append((name, category, token, argv, java_opts))

    def go(item: tuple[str, str, str, list[str], str]) -> Record | None:
        name, category, token, argv, java_opts = item
        try:
            text = _one(argv, workdir, java_opts, timeout)
        except Exception as harness:  # a hang or a missing tool is the harness's problem, not a record
            problem(name, type(harness).__name__)
            return None
        if not text:
            problem(name, "no failure")
            return None
        return record(text, category, source, "stderr", name) if has_token(name, text, token) else None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(go, todo))
    return [r for r in results if r is not None]


def filler(values: Mapping[str, object]) -> Callable[[str], str]:
    """Replace each `@NAME@` of a script by its value."""
    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(f"@{key}@", str(value))
        return text
    return fill


def cpu_count() -> int:
    return max(2, min(8, os.cpu_count() or 2))


__all__ = ["FAST_JVM", "PG_JAR", "JvmCase", "clojure_command", "cpu_count", "filler", "jvm_script_records"]
