"""Helpers of batch 59: Ant and Gradle projects written into temporary directories, and private Tomcat instances.

Each Tomcat runs from the Debian package's CATALINA_HOME with its own CATALINA_BASE in a temporary directory
(a minimal server.xml with the shutdown port disabled and one HTTP connector on a free 127.0.0.1 port), never
the system service. `run_tomcat` starts it in the foreground (`catalina.sh run`), waits until it finished
starting (or exited, for a server.xml that does not parse), stops it by its own process id and returns what it
logged at WARNING or SEVERE level: each such record with the stack trace that follows it, as a log shipper would forward
them (from catalina.out, and from the localhost log where the webapps' own errors go)."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from pathlib import Path

from common import free_port, run

CATALINA_HOME = Path("/usr/share/tomcat10")
SERVLET_API = CATALINA_HOME / "lib" / "servlet-api.jar"
PG_JAR = Path("/usr/share/java/postgresql.jar")
JUNIT_JARS = (Path("/usr/share/java/junit4.jar"), Path("/usr/share/java/hamcrest-core.jar"))
FAST_JVM = "-XX:TieredStopAtLevel=1 -Xss512k"

_SERVER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="{port}" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="5000"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
"""

_LOGGING = """handlers = 1catalina.org.apache.juli.FileHandler, 2localhost.org.apache.juli.FileHandler, \
java.util.logging.ConsoleHandler
.handlers = 1catalina.org.apache.juli.FileHandler, java.util.logging.ConsoleHandler
1catalina.org.apache.juli.FileHandler.level = FINE
1catalina.org.apache.juli.FileHandler.directory = ${catalina.base}/logs
1catalina.org.apache.juli.FileHandler.prefix = catalina.
2localhost.org.apache.juli.FileHandler.level = FINE
2localhost.org.apache.juli.FileHandler.directory = ${catalina.base}/logs
2localhost.org.apache.juli.FileHandler.prefix = localhost.
java.util.logging.ConsoleHandler.level = FINE
java.util.logging.ConsoleHandler.formatter = org.apache.juli.OneLineFormatter
org.apache.catalina.core.ContainerBase.[Catalina].[localhost].level = INFO
org.apache.catalina.core.ContainerBase.[Catalina].[localhost].handlers = 2localhost.org.apache.juli.FileHandler
"""

_RECORD_START = re.compile(r"^\d{2}-\w{3}-\d{4} \d{2}:\d{2}:\d{2}\.\d+ ")


def tomcat_base(root: Path, name: str) -> Path:
    """A fresh CATALINA_BASE under `root` with the package's default conf, our server.xml and logging."""
    base = root / f"tomcat-{name}"
    for sub in ("conf", "lib", "logs", "temp", "webapps", "work"):
        (base / sub).mkdir(parents=True)
    for conf in (CATALINA_HOME / "etc").iterdir():
        shutil.copy(conf, base / "conf" / conf.name)
    (base / "conf" / "server.xml").write_text(_SERVER_XML.format(port=free_port()))
    (base / "conf" / "logging.properties").write_text(_LOGGING)
    return base


def severe_records(log: str, limit: int = 160) -> str:
    """The WARNING and SEVERE records of a Tomcat log, each with the lines (stack trace) that follow it."""
    out: list[str] = []
    keep = False
    for line in log.splitlines():
        if _RECORD_START.match(line):
            keep = " SEVERE " in line[:40] or " WARNING " in line[:40]
        if keep:
            out.append(line)
    return "\n".join(out[:limit]).strip()


def run_tomcat(base: Path, timeout: float = 40) -> str:
    """Start the instance in the foreground, wait for the end of its startup, stop it; its WARNING and SEVERE
    records."""
    console = base / "logs" / "catalina.out"
    environment = {"CATALINA_HOME": str(CATALINA_HOME), "CATALINA_BASE": str(base),
                   "CATALINA_TMPDIR": str(base / "temp"), "CATALINA_OPTS": FAST_JVM, "LC_ALL": "C.UTF-8",
                   "PATH": "/usr/local/bin:/usr/bin:/bin"}
    with console.open("w") as sink:
        proc = subprocess.Popen([str(CATALINA_HOME / "bin" / "catalina.sh"), "run"], cwd=base, env=environment,
                                stdout=sink, stderr=subprocess.STDOUT)
    logs = [console]
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if "Server startup in" in console.read_text(errors="replace"):
                break
            time.sleep(0.2)
        # read before stopping: what the shutdown logs (leak warnings) is not the provoked failure
        logs += sorted((base / "logs").glob("localhost.*.log"))
        texts = [severe_records(log.read_text(errors="replace")) for log in logs]
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return "\n".join(filter(None, texts))


def webapp(base: Path, name: str, web_xml: str, context_xml: str | None = None,
           classes: Path | None = None) -> Path:
    """An exploded webapp `name` in the instance's appBase, with its web.xml, optional META-INF/context.xml and
    the compiled classes copied into WEB-INF/classes."""
    app = base / "webapps" / name
    (app / "WEB-INF").mkdir(parents=True)
    (app / "WEB-INF" / "web.xml").write_text(web_xml)
    (app / "index.html").write_text("<p>ok</p>\n")
    if context_xml is not None:
        (app / "META-INF").mkdir()
        (app / "META-INF" / "context.xml").write_text(context_xml)
    if classes is not None:
        shutil.copytree(classes, app / "WEB-INF" / "classes")
    return app


def compile_java(sources: dict[str, str], out: Path, classpath: list[Path]) -> None:
    """javac the `{relative path: source}` files into `out` (a harness step: it must succeed)."""
    src = out.parent / f"{out.name}-src"
    for rel, text in sources.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    out.mkdir(parents=True)
    proc = run(["javac", "-nowarn", "-d", str(out), "-cp", ":".join(map(str, classpath)),
                *[str(src / rel) for rel in sources]])
    if proc.returncode:
        raise RuntimeError(f"harness: javac of the helper classes failed ({proc.returncode})")


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write `{relative path: text}` under `root` (created); returns `root`."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def stop_gradle_daemons(gradle_home: Path) -> None:
    """Stop the daemons of our private Gradle user home only (never anyone else's)."""
    with contextlib.suppress(Exception):
        run(["gradle", "--stop", "-g", str(gradle_home)], timeout=30)


__all__ = ["CATALINA_HOME", "FAST_JVM", "JUNIT_JARS", "PG_JAR", "SERVLET_API", "compile_java",
           "run_tomcat", "severe_records", "stop_gradle_daemons", "tomcat_base", "webapp", "write_tree"]
