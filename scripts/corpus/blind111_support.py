"""Fixtures of the hundred-and-eleventh batch: Debian's Java libraries on one classpath, the batch's Java programs
compiled once with javac (each then started with `java -cp`, as a service's launcher script starts it), archives
and H2 database files (good, truncated and garbled), Log4j 2 configurations, a full and a read-only tmpfs, a big
file for a small heap, and private PostgreSQL clusters (a roomy one, one with three slots, a standby that refuses
connections)."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from checked import problem
from common import Env, run
from servers import mount_tmpfs, private_postgres, tls_server

SHARE = Path("/usr/share/java")
#: Debian's jars (libokhttp-java, libhikaricp-java, libpostgresql-jdbc-java, liblog4j2-java, libh2-java,
#: libcommons-compress-java, libcommons-io-java, libcommons-cli-java, libguava-java, libjetty9-java, slf4j)
JARS = ("okhttp", "okio", "HikariCP", "postgresql", "slf4j-api", "slf4j-simple", "log4j-api", "log4j-core", "h2",
        "commons-compress", "commons-io", "commons-cli", "guava", "jetty9-util", "jetty9-io", "jetty9-http",
        "jetty9-server", "jetty9-servlet", "jetty9-security", "servlet-api")
#: a JVM that starts quickly: the programs are short and fail early
FAST_JVM = "-XX:TieredStopAtLevel=1 -Xshare:auto -XX:-UsePerfData"


def classpath() -> str:
    return ":".join(str(SHARE / f"{jar}.jar") for jar in JARS if (SHARE / f"{jar}.jar").exists())


def compile_programs(workdir: Path, sources: Mapping[str, str], fill: Callable[[str], str]) -> str | None:
    """Write each `class name -> source` under workdir/src and compile them all; return the `java ...` prefix
    that runs one of them (None, and a note, when javac fails)."""
    src, classes = workdir / "src", workdir / "classes"
    src.mkdir(parents=True, exist_ok=True)
    classes.mkdir(exist_ok=True)
    files = []
    for name, text in sources.items():
        path = src / f"{name}.java"
        path.write_text(fill(text), encoding="utf-8")
        files.append(str(path))
    proc = run(["javac", "-nowarn", "-encoding", "UTF-8", "-d", str(classes), "-cp", classpath(), *files],
               timeout=300)
    if proc.returncode:
        problem("javac", proc.stderr[-3000:])
        return None
    return f"java {FAST_JVM} -cp {classes}:{classpath()}"


@dataclass
class Fixtures:
    """Paths and ports of the batch's fixtures."""

    root: Path
    full: Path
    ro: Path
    tls_port: int
    pg_port: int
    pg_small_port: int
    pg_standby_port: int


def _tar_gz(path: Path, files: Mapping[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _archives(root: Path) -> None:
    arch = root / "releases"
    arch.mkdir()
    noise = bytes(range(256)) * 400  # 100 KiB that gzip does not shrink to nothing
    payload = {f"site-2026.11/assets/app-{i}.js": noise[i:] + b"//" for i in range(4)}
    payload["site-2026.11/index.html"] = b"<!doctype html><title>shop</title>\n" * 50
    _tar_gz(arch / "site-2026.11.tar.gz", payload)
    with tarfile.open(arch / "backup-2026-11-28.tar", "w") as tar:
        for name, data in payload.items():
            info = tarfile.TarInfo(name.replace("site-2026.11", "backup"))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    whole = (arch / "backup-2026-11-28.tar").read_bytes()
    (arch / "backup-2026-11-29.tar").write_bytes(whole[: len(whole) // 3])  # cut off mid-entry
    html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>\n" * 20
    (arch / "site-2026.12.tar.gz").write_bytes(html)  # what a proxy error page saved as an archive looks like
    (arch / "invoices-november.zip").write_bytes(b"PK\x03\x04" + html)


def _log4j_configs(root: Path, env: Env, full: Path, ro: Path) -> None:
    etc = root / "etc"
    etc.mkdir()
    pattern = '<PatternLayout pattern="%d{ISO8601} %-5level [%t] %c{1} - %msg%n"/>'
    configs = {
        "malformed": '<?xml version="1.0"?>\n<Configuration status="warn">\n  <Appenders>\n'
                     f'    <Console name="audit" target="SYSTEM_OUT">{pattern}\n  </Appenders>\n'
                     '  <Loggers><Root level="info"><AppenderRef ref="audit"/></Root></Loggers>\n</Configuration>\n',
        "pattern": '<?xml version="1.0"?>\n<Configuration status="warn">\n  <Appenders>\n'
                   '    <Console name="audit" target="SYSTEM_OUT">\n'
                   '      <PatternLayout pattern="%d{ISO8601} %-5level %Q{merchant} %c{1} - %msg%n"/>\n'
                   '    </Console>\n  </Appenders>\n'
                   '  <Loggers><Root level="info"><AppenderRef ref="audit"/></Root></Loggers>\n</Configuration>\n',
        "readonly": '<?xml version="1.0"?>\n<Configuration status="warn">\n  <Appenders>\n'
                    f'    <File name="audit" fileName="{ro}/payments/audit.log">{pattern}</File>\n  </Appenders>\n'
                    '  <Loggers><Root level="info"><AppenderRef ref="audit"/></Root></Loggers>\n</Configuration>\n',
        "full": '<?xml version="1.0"?>\n<Configuration status="warn">\n  <Appenders>\n'
                f'    <File name="audit" fileName="{full}/payments-audit.log" ignoreExceptions="false" '
                f'immediateFlush="true" bufferedIO="false">{pattern}</File>\n  </Appenders>\n'
                '  <Loggers><Root level="info"><AppenderRef ref="audit"/></Root></Loggers>\n</Configuration>\n',
        "socket": '<?xml version="1.0"?>\n<Configuration status="warn">\n  <Appenders>\n'
                  f'    <Socket name="audit" host="127.0.0.1" port="{env.closed_port}" protocol="TCP" '
                  f'ignoreExceptions="false" immediateFail="true">{pattern}</Socket>\n  </Appenders>\n'
                  '  <Loggers><Root level="info"><AppenderRef ref="audit"/></Root></Loggers>\n</Configuration>\n',
    }
    for status in (401, 503):
        configs[f"http{status}"] = (
            '<?xml version="1.0"?>\n<Configuration status="warn">\n  <Appenders>\n'
            f'    <Http name="audit" url="{env.url(status)}?index=payments-audit" ignoreExceptions="false" '
            f'connectTimeoutMillis="2000" readTimeoutMillis="2000">\n'
            f'      <Property name="X-Tenant" value="eu-west"/>{pattern}\n    </Http>\n  </Appenders>\n'
            '  <Loggers><Root level="info"><AppenderRef ref="audit"/></Root></Loggers>\n</Configuration>\n')
    for name, text in configs.items():
        (etc / f"log4j2-{name}.xml").write_text(text, encoding="utf-8")


def prepare(env: Env) -> Fixtures:
    root = env.tmp / "b111"
    root.mkdir()
    full = mount_tmpfs(env, "full111", "size=256k")
    subprocess.run(["bash", "-c", f"head -c 240000 /dev/urandom > {full}/filler.bin"], check=False,
                   capture_output=True)
    ro = mount_tmpfs(env, "ro111", "size=256k")
    (ro / "payments").mkdir()
    (ro / "restore").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    _archives(root)
    _log4j_configs(root, env, full, ro)
    h2 = root / "h2" / "corrupt"
    h2.mkdir(parents=True)
    (h2 / "ledger.mv.db").write_bytes(b"H:2,block:3,blockSize:1000,chunk:7,format:2\n" + bytes(range(256)) * 64)
    exports = root / "exports"
    exports.mkdir()
    rows = b"1000001,77812,129.90\n" * 2_000_000  # 42 MB: more than a 32 MB heap holds
    (exports / "orders-2026-11.csv").write_bytes(b"order_id,customer_id,total\n" + rows)
    (exports / "orders-2026-10.csv").write_text("order_id,customer_id,total\n1,2,3\n", encoding="utf-8")
    (exports / "archive").mkdir()
    (exports / "archive" / "orders-2026-10.csv").write_text("order_id,customer_id,total\n", encoding="utf-8")
    spool = root / "spool"
    spool.mkdir()
    for i in range(300):
        (spool / f"msg-{i:05d}.eml").write_text(f"Subject: order {i}\n\nshipped\n", encoding="utf-8")
    tls = tls_server(env)
    pg = private_postgres(env, max_connections=20, reserved=2)
    small = private_postgres(env, max_connections=4, reserved=1)
    standby = private_postgres(env, standby=True)
    return Fixtures(root, full, ro, tls.port, pg.port, small.port, standby.port)


__all__ = ["FAST_JVM", "JARS", "Fixtures", "classpath", "compile_programs", "prepare"]
