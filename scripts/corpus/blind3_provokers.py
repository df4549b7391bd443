"""Third batch of held-out provokers, written after the second batch had been folded into dev: more
Node.js, Go and Java failures, Python libraries not used elsewhere (tenacity, pybreaker, circuitbreaker,
packaging, tomlkit, anyio, yarl, SQLAlchemy URL parsing), more PostgreSQL errors and more shell tools.
Evaluated once, blind (60% on this batch: see the report), then moved to dev."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from common import Env, Record, exception_records, failure_text, record, run
from runtime_provokers import go_records, java_records

BLIND3_SOURCES = frozenset({"node-extra", "go-extra", "java-extra", "py-thirdparty", "psycopg-extra",
                            "shell-extra"})

PG = "postgresql://postgres@127.0.0.1:5432/test"

NODE: list[tuple[str, str, str]] = [
    ("node_exec_missing", "filesystem", "require('child_process').execSync('blind-missing-tool --x', {stdio: 'pipe'})"),
    ("node_spawn_enoent", "filesystem",
     "require('child_process').spawn('blind-missing-bin').on('error', e => { throw e })"),
    ("node_gunzip", "validation", "require('zlib').gunzipSync(Buffer.from('plain text'))"),
    ("node_timezone", "validation", "new Intl.DateTimeFormat('en', {timeZone: 'Mars/Base'})"),
    ("node_circular", "programming", "const a = {}; a.self = a; JSON.stringify(a)"),
    ("node_uri_malformed", "validation", "decodeURIComponent('%E0%A4%A')"),
    ("node_write_proc", "filesystem", "require('fs').writeFileSync('/proc/version', 'x')"),
    ("node_const_assign", "programming", "const n = 1; n = 2"),
    ("node_undefined_call", "programming", "let handler; handler()"),
    ("node_connect_reset", "network",
     "const s = require('net').connect({reset}, '127.0.0.1', () => s.write('GET / HTTP/1.0\\r\\n\\r\\n')); "
     "s.on('error', e => {{ throw e }})"),
]

GO: dict[str, tuple[str, str]] = {
    "exec_missing": ("filesystem", 'err := exec.Command("blind-missing-tool").Run(); fail(err)'),
    "regexp_bad": ("programming", 'regexp.MustCompile("(unclosed")'),
    "base64_bad": ("validation", '_, err := base64.StdEncoding.DecodeString("!!not base64"); fail(err)'),
    "gzip_bad": ("validation", '_, err := gzip.NewReader(bytes.NewReader([]byte("plain"))); fail(err)'),
    "parse_bool": ("validation", '_, err := strconv.ParseBool("maybe"); fail(err)'),
    "timezone": ("validation", '_, err := time.LoadLocation("Mars/Base"); fail(err)'),
    "chdir_file": ("filesystem", 'err := os.Chdir("/etc/hostname"); fail(err)'),
    "close_closed": ("programming", 'ch := make(chan int); close(ch); close(ch)'),
    "ctx_deadline": ("network", 'ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond); '
                                'defer cancel(); req, _ := http.NewRequestWithContext(ctx, "GET", '
                                '"http://127.0.0.1:HANG/", nil); _, err := http.DefaultClient.Do(req); fail(err)'),
    "status_403": ("auth", 'r, err := http.Get("http://127.0.0.1:HTTP/status/403"); fail(err); '
                           'if r.StatusCode >= 400 { log.Fatalf("GET failed: %d %s", r.StatusCode, r.Status) }'),
}
GO_IMPORTS = '\t"bytes"\n\t"compress/gzip"\n\t"encoding/base64"\n\t"regexp"\n'

JAVA: dict[str, tuple[str, str]] = {
    "class_not_found": ("programming", 'Class.forName("com.blind.Missing");'),
    "pattern": ("programming", 'java.util.regex.Pattern.compile("(unclosed");'),
    "no_value": ("programming", 'java.util.Optional.empty().get();'),
    "input_mismatch": ("validation", 'new java.util.Scanner("abc").nextInt();'),
    "uuid": ("validation", 'java.util.UUID.fromString("not-a-uuid");'),
    "substring": ("programming", '"abc".substring(5);'),
    "zone": ("validation", 'java.time.ZoneId.of("Mars/Base");'),
    "write_dir": ("filesystem", 'new java.io.FileOutputStream("/etc");'),
    "http_reset": ("network", 'java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest'
                              '.newBuilder(java.net.URI.create("http://127.0.0.1:" + RESET + "/")).build(), '
                              'java.net.http.HttpResponse.BodyHandlers.ofString());'),
    "url_502": ("service", 'new java.net.URL("http://127.0.0.1:" + HTTP + "/status/502").openStream();'),
}


def _py_cases(env: Env) -> list[tuple[str, str, Callable[[], Any]]]:
    closed = env.closed_port

    def tenacity_refused() -> None:
        import socket

        import tenacity

        @tenacity.retry(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_none())
        def connect() -> None:
            socket.create_connection(("127.0.0.1", closed), timeout=1)

        connect()

    def pybreaker_open() -> None:
        import pybreaker

        breaker = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=60)

        def boom() -> None:
            raise ConnectionRefusedError(111, "Connection refused")

        for _ in range(3):
            with contextlib.suppress(ConnectionRefusedError):
                breaker.call(boom)
        breaker.call(boom)

    def circuitbreaker_open() -> None:
        import circuitbreaker

        @circuitbreaker.circuit(failure_threshold=1, recovery_timeout=60, expected_exception=ConnectionError)
        def call() -> None:
            raise ConnectionRefusedError(111, "Connection refused")

        for _ in range(2):
            with contextlib.suppress(ConnectionRefusedError):
                call()
        call()

    def anyio_refused() -> None:
        import anyio

        async def go() -> None:
            await anyio.connect_tcp("127.0.0.1", closed)

        anyio.run(go)

    def packaging_version() -> None:
        from packaging.version import Version

        Version("release-candidate-two")

    def packaging_specifier() -> None:
        from packaging.specifiers import SpecifierSet

        SpecifierSet("=>1.0")

    def tomlkit_bad() -> None:
        import tomlkit

        tomlkit.parse("name = \n[broken")

    def yarl_bad() -> None:
        import yarl

        yarl.URL("http://[::1/x")

    def sqlalchemy_url() -> None:
        import sqlalchemy

        sqlalchemy.create_engine("not a database url")

    def asyncio_wait_for() -> None:
        async def go() -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", env.hang_port)
            try:
                await asyncio.wait_for(reader.readline(), 0.2)
            finally:
                writer.close()

        asyncio.run(go())

    def pg(sql: str) -> Callable[[], None]:
        def go() -> None:
            import psycopg

            with psycopg.connect(PG, connect_timeout=3) as conn:
                conn.execute("CREATE TEMP TABLE blind_t (code varchar(3) CHECK (code <> 'bad'), n int)")
                statements = sql.split(";")
                for index, stmt in enumerate(statements):
                    try:
                        conn.execute(stmt)
                    except psycopg.Error:
                        if index == len(statements) - 1:
                            raise
        return go

    return [
        ("tenacity_refused", "network", tenacity_refused),
        ("pybreaker_open", "service", pybreaker_open),
        ("circuitbreaker_open", "service", circuitbreaker_open),
        ("anyio_refused", "network", anyio_refused),
        ("packaging_version", "validation", packaging_version),
        ("packaging_specifier", "validation", packaging_specifier),
        ("tomlkit_bad", "validation", tomlkit_bad),
        ("yarl_bad", "validation", yarl_bad),
        ("sqlalchemy_bad_url", "validation", sqlalchemy_url),
        ("asyncio_wait_for", "network", asyncio_wait_for),
        ("pg_check_violation", "validation", pg("INSERT INTO blind_t VALUES ('bad', 1)")),
        ("pg_string_too_long", "validation", pg("INSERT INTO blind_t VALUES ('toolong', 1)")),
        ("pg_aborted_transaction", "programming", pg("SELECT nope();SELECT 1")),
        ("pg_numeric_overflow", "validation", pg("INSERT INTO blind_t VALUES ('ok', 99999999999)")),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_base64", "validation", "echo '!!!not base64' | base64 -d"),
    ("shell_iconv", "validation", "printf '\\xff\\xfe' | iconv -f utf-8 -t ascii"),
    ("shell_dd_full", "resource", "dd if=/dev/zero of=/dev/full bs=1k count=1"),
    ("shell_keygen_missing", "filesystem", "ssh-keygen -y -f /etc/blind/missing_key"),
    ("shell_chmod_missing", "filesystem", "chmod 600 /srv/blind/missing.key"),
    ("shell_sh_not_found", "filesystem", "sh -c 'blind-missing-tool --help'"),
    ("shell_python_refused", "network",
     "python3 -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{closed}/')\""),
    ("shell_python_key", "programming", "python3 -c \"import os; print(os.environ['BLIND_MISSING_VAR'])\""),
    ("shell_sed_bad", "programming", "echo x | sed 's/unterminated'"),
    ("shell_awk_bad", "programming", "echo x | awk '{ print $1 '"),
]


def blind3_records(env: Env) -> list[Record]:
    out: list[Record] = []
    for name, category, script in NODE:
        text = failure_text(run(["node", "-e", script.replace("{reset}", str(env.reset_port))
                                 .replace("{{", "{").replace("}}", "}")], cwd=env.tmp))
        out.append(record(text, category, "node-extra", "stderr", name))
    go_modes = {k: (c, b.replace("HANG", str(env.hang_port)).replace("HTTP", str(env.http_port)))
                for k, (c, b) in GO.items()}
    out.extend(go_records(env, go_modes, "go-extra", GO_IMPORTS))
    java_modes = {k: (c, b.replace("RESET", str(env.reset_port)).replace("HTTP", str(env.http_port)))
                  for k, (c, b) in JAVA.items()}
    out.extend(java_records(env, java_modes, "java-extra"))
    for name, category, fn in _py_cases(env):
        try:
            fn()
        except BaseException as exc:  # the real exception, whatever it is
            source = "psycopg-extra" if name.startswith("pg_") else "py-thirdparty"
            out.extend(exception_records(exc, category, source, name))
        else:
            print(f"problem: {name}: no failure", file=sys.stderr)
    for name, category, script in SHELL:
        try:
            text = failure_text(run(["bash", "-c", script.replace("{closed}", str(env.closed_port))], cwd=env.tmp))
        except (RuntimeError, subprocess.TimeoutExpired) as harness:
            print(f"problem: {name}: {type(harness).__name__}", file=sys.stderr)
            continue
        if text:
            out.append(record(text, category, "shell-extra", "stderr", name))
    return out


__all__ = ["BLIND3_SOURCES", "blind3_records"]
