"""Helpers of batch 81: build Kotlin and Scala programs with Debian's kotlinc and scalac the way a CI job does
(every runtime case of a language compiled in one go into one jar or class directory, each in its own package),
then run each program on the JVM and keep what a failing one printed when it carries the token of the cause we
provoked; compile-error cases are compiled one by one and the compiler's report is the record. `@NAME@`
placeholders are filled (blind64_support.filler) before a source is written."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from blind64_support import FAST_JVM, PG_JAR
from checked import has_token, problem
from common import Record, record, run

#: Debian's Scala 2.11 runtime
SCALA_LIB = Path("/usr/share/scala/lib")
SCALA_JARS = ("scala-library.jar", "scala-xml.jar")

#: name, category, expected output token (`A|B`), source text, JVM options, shell prefix run before the JVM
#: (e.g. `ulimit -n 128;`)
ProgCase = tuple[str, str, str, str, str, str]
#: name, category, expected output token, source text
CompileCase = tuple[str, str, str, str]


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _kotlin_source(name: str, code: str) -> str:
    return f"package b81.{name}\n\n{code}"


def _scala_source(name: str, code: str) -> str:
    body = "\n".join(f"    {line}" if line else "" for line in code.splitlines())
    return (f"package b81.{name}\n\nobject {camel(name)} {{\n  def main(args: Array[String]): Unit = {{\n{body}\n"
            "  }\n}\n")


def _outcome(name: str, category: str, token: str, source: str, argv: list[str], cwd: Path,
             timeout: float) -> Record | None:
    try:
        proc = run(argv, cwd=cwd, timeout=timeout)
    except Exception as harness:  # a hang or a missing tool is the harness's problem, not a record
        problem(name, type(harness).__name__)
        return None
    text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
    if not text:
        problem(name, "no failure")
        return None
    return record(text, category, source, "stderr", name) if has_token(name, text, token) else None


def _pool(items: list[Callable[[], Record | None]], workers: int) -> list[Record]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda f: f(), items))
    return [r for r in results if r is not None]


def _build(name: str, argv: list[str], cwd: Path) -> bool:
    proc = run(argv, cwd=cwd, timeout=300)
    if proc.returncode:
        problem(name, "build of the runtime cases failed, they are skipped")
        return False
    return True


def kotlin_program_records(cases: Iterable[ProgCase], source: str, workdir: Path, fill: Callable[[str], str],
                           extra: dict[str, str] | None = None, workers: int = 3) -> list[Record]:
    """Compile every case (and the `extra` programs, name: source, that are built but not run) into one jar with
    its runtime (`kotlinc -include-runtime`, `workdir/app81.jar`), then run each case's main class with `java`
    (its JVM options, PostgreSQL's driver on the classpath) under its shell prefix."""
    cases = list(cases)
    workdir.mkdir(parents=True, exist_ok=True)
    sources = {name: code for name, _c, _t, code, _o, _p in cases} | (extra or {})
    for name, code in sources.items():
        (workdir / f"{camel(name)}.kt").write_text(_kotlin_source(name, fill(code)), encoding="utf-8")
    jar = workdir / "app81.jar"
    files = [f"{camel(name)}.kt" for name in sources]
    if not _build("kotlin", ["kotlinc", *files, "-include-runtime", "-d", jar.name], workdir):
        return []

    def job(case: ProgCase) -> Callable[[], Record | None]:
        name, category, token, _code, opts, prefix = case
        java = f"exec java {FAST_JVM} {opts} -cp {jar}:{PG_JAR} b81.{name}.{camel(name)}Kt"
        return lambda: _outcome(name, category, token, source, ["bash", "-c", f"{prefix} {java}"], workdir, 60)

    return _pool([job(c) for c in cases], workers)


def scala_program_records(cases: Iterable[ProgCase], source: str, workdir: Path, fill: Callable[[str], str],
                          workers: int = 3) -> list[Record]:
    """Compile every case (the body of an object's main) with one `scalac -d classes`, then run each object with
    `java` on the classes and Debian's Scala runtime, as a packaged Scala application runs (Debian's `scala` runner
    of 2.11 hides the JDK's java.sql module on JDK 17), PostgreSQL's driver on the classpath."""
    cases = list(cases)
    workdir.mkdir(parents=True, exist_ok=True)
    for name, _c, _t, code, _o, _p in cases:
        (workdir / f"{camel(name)}.scala").write_text(_scala_source(name, fill(code)), encoding="utf-8")
    classes = workdir / "classes"
    classes.mkdir(exist_ok=True)
    files = [f"{camel(c[0])}.scala" for c in cases]
    if not _build("scala", ["scalac", "-nowarn", "-d", classes.name, *files], workdir):
        return []

    def job(case: ProgCase) -> Callable[[], Record | None]:
        name, category, token, _code, opts, prefix = case
        classpath = ":".join([str(classes), *(str(SCALA_LIB / j) for j in SCALA_JARS), str(PG_JAR)])
        java = f"exec java {FAST_JVM} {opts} -cp {classpath} b81.{name}.{camel(name)}"
        return lambda: _outcome(name, category, token, source, ["bash", "-c", f"{prefix} {java}"], workdir, 60)

    return _pool([job(c) for c in cases], workers)


def compile_error_records(cases: Iterable[CompileCase], source: str, workdir: Path, language: str,
                          workers: int = 2) -> list[Record]:
    """Compile each case on its own (`kotlinc File.kt -d out` or `scalac -d out File.scala`) and record the
    compiler's report when it carries the token."""
    workdir.mkdir(parents=True, exist_ok=True)

    def job(case: CompileCase) -> Callable[[], Record | None]:
        name, category, token, code = case
        out = workdir / f"out-{name}"
        out.mkdir(exist_ok=True)
        if language == "kotlin":
            path = workdir / f"{camel(name)}.kt"
            path.write_text(_kotlin_source(name, code), encoding="utf-8")
            argv = ["kotlinc", path.name, "-d", out.name]
        else:
            path = workdir / f"{camel(name)}.scala"
            path.write_text(f"package b81.{name}\n\n{code}", encoding="utf-8")
            argv = ["scalac", "-d", out.name, path.name]
        return lambda: _outcome(name, category, token, source, argv, workdir, 180)

    return _pool([job(c) for c in cases], workers)


__all__ = ["CompileCase", "ProgCase", "camel", "compile_error_records", "kotlin_program_records",
           "scala_program_records"]
