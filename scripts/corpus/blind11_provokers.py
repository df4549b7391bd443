"""Eleventh batch of blind provokers, written after batches 6-10 had been folded into dev and the
rules generalised from them; scored once, blind, then folded into dev: aio-pika, aiokafka,
minio, schema, arrow, sh, xmlschema, jsonpatch, aiofiles, invoke, stdlib corners, more CLI tools, Node.js, Go,
Java and git. Everything talks to 127.0.0.1 only."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from common import (
    Env,
    Record,
    failure_text,
    git_env,
    git_failure_records,
    python_case_records,
    record,
    run,
    shell_failure_records,
    write_batch,
)
from runtime_provokers import go_records, java_records

BLIND11_SOURCES = frozenset({"aio-pika", "aiokafka", "minio", "schema", "arrow", "sh", "xmlschema", "jsonpatch",
                             "aiofiles", "invoke", "py-extra9", "node-extra9", "go-extra9", "java-extra9",
                             "git-extra8", "shell-extra8"})
_GIT_ENV = git_env("blind11")


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def amqp(url: str) -> Callable[[], None]:
        def fn() -> None:
            import asyncio

            import aio_pika

            async def go() -> None:
                conn = await aio_pika.connect(url, timeout=3)
                await conn.close()

            asyncio.run(go())

        return fn

    def kafka_refused() -> None:
        import asyncio

        import aiokafka

        async def go() -> None:
            producer = aiokafka.AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{env.closed_port}",
                                                 request_timeout_ms=1500)
            try:
                await producer.start()
            finally:
                await producer.stop()

        asyncio.run(go())

    def minio_call(endpoint: str) -> Callable[[], None]:
        def fn() -> None:
            import minio
            import urllib3

            http = urllib3.PoolManager(timeout=2, retries=False)
            client = minio.Minio(endpoint, access_key="AKIDBLIND11", secret_key="secret-blind11", secure=False,
                                 http_client=http, region="us-east-1")
            client.get_object("reports", "q4.csv")

        return fn

    def schema_bad() -> None:
        import schema

        schema.Schema({"name": str, "age": schema.And(int, lambda n: n >= 0)}).validate({"name": "a", "age": -3})

    def arrow_bad() -> None:
        import arrow

        arrow.get("31st of Octember 2024", "Do of MMMM YYYY")

    def sh_missing() -> None:
        import sh

        sh.ls("/srv/blind11/reports")

    def xmlschema_bad() -> None:
        import xmlschema

        xsd = xmlschema.XMLSchema('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
                                  '<xs:element name="qty" type="xs:integer"/></xs:schema>')
        xsd.validate("<qty>many</qty>")

    def jsonpatch_bad() -> None:
        import jsonpatch

        jsonpatch.apply_patch({"a": 1}, [{"op": "replace", "path": "/b", "value": 2}])

    def aiofiles_missing() -> None:
        import asyncio

        import aiofiles

        async def go() -> None:
            async with aiofiles.open("/srv/blind11/settings.toml") as f:
                await f.read()

        asyncio.run(go())

    def invoke_missing() -> None:
        import invoke

        invoke.run("cat /srv/blind11/motd", hide=True)

    def memoryview_bad() -> None:
        memoryview(b"abc")[0] = 1  # type: ignore[index]

    def bisect_bad() -> None:
        import bisect

        bisect.insort([1, 2], "x")  # type: ignore[misc]

    def plistlib_bad() -> None:
        import plistlib

        plistlib.loads(b"<plist><dict><key>a</key></plist>")

    return [
        ("aiopika_refused", "network", "aio-pika", amqp(f"amqp://guest:guest@127.0.0.1:{env.closed_port}/")),
        ("aiopika_bad_password", "auth", "aio-pika", amqp("amqp://guest:wrong-blind11@127.0.0.1:5672/")),
        ("aiokafka_refused", "network", "aiokafka", kafka_refused),
        ("minio_refused", "network", "minio", minio_call(f"127.0.0.1:{env.closed_port}")),
        ("schema_bad", "validation", "schema", schema_bad),
        ("arrow_bad", "validation", "arrow", arrow_bad),
        ("sh_ls_missing", "filesystem", "sh", sh_missing),
        ("xmlschema_bad", "validation", "xmlschema", xmlschema_bad),
        ("jsonpatch_bad_path", "validation", "jsonpatch", jsonpatch_bad),
        ("aiofiles_missing", "filesystem", "aiofiles", aiofiles_missing),
        ("invoke_cat_missing", "filesystem", "invoke", invoke_missing),
        ("memoryview_readonly", "programming", "py-extra9", memoryview_bad),
        ("bisect_mixed", "programming", "py-extra9", bisect_bad),
        ("plistlib_bad", "validation", "py-extra9", plistlib_bad),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_exec_missing_file", "filesystem",
     "require('child_process').execSync('ls /srv/blind11/uploads', { stdio: 'pipe' })"),
    ("node_listen_bad_port", "programming", "require('net').createServer().listen(-1)"),
    ("node_wasm_bad", "validation", "new WebAssembly.Module(Buffer.from('not wasm'))"),
    ("node_bad_header", "programming",
     "await fetch('HTTPURL/ok', { headers: { 'x-trace': 'a\\nb' } })"),
    ("node_fetch_bad_url", "validation", "await fetch('http://[::1:80/x')"),
]

GO: dict[str, tuple[str, str]] = {
    "parse_uint": ("validation", '_, err := strconv.ParseUint("-1", 10, 64); fail(err)'),
    "mac_bad": ("validation", '_, err := net.ParseMAC("zz:zz"); fail(err)'),
    "chtimes_missing": ("filesystem", 'err := os.Chtimes("/srv/blind11/stamp", time.Now(), time.Now()); fail(err)'),
    "status_503_json": ("service", 'r, err := http.Get("http://127.0.0.1:HTTP/status/503"); fail(err); '
                                   'if r.StatusCode != 200 { log.Fatalf("health check: got %d from %s", r.StatusCode, '
                                   'r.Request.URL) }'),
}

JAVA: dict[str, tuple[str, str]] = {
    "format_unknown": ("programming", 'String.format("%q", 1);'),
    "repeat_negative": ("programming", '"ab".repeat(-1);'),
    "huge_array": ("resource", 'long[] a = new long[Integer.MAX_VALUE - 8]; System.out.println(a.length);'),
    "local_time": ("validation", 'java.time.LocalTime.parse("25:61");'),
}


def _git(env: Env) -> list[tuple[str, list[str]]]:
    return [
        ("git_copy_missing_branch", ["branch", "-c", "nope-blind11", "copy-blind11"]),
        ("git_mv_bad_source", ["mv", "nope-blind11.txt", "x.txt"]),
        ("git_push_delete_missing", ["push", "--delete", "origin", "nope-blind11"]),
        ("git_switch_bad_name", ["switch", "-c", "bad..name"]),
        ("git_cherry_pick_empty", ["cherry-pick", "HEAD"]),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_tarfile_module", "validation", "python3 -m tarfile -l /etc/hostname"),
    ("shell_http_server_bad_port", "validation", "python3 -m http.server notaport"),
    ("shell_rmdir_not_empty", "filesystem", "rmdir /etc"),
    ("shell_chown_bad_user", "validation", "chown no-such-user-blind11 /tmp"),
    ("shell_shuf_bad", "validation", "shuf -n lots /etc/hostname"),
    ("shell_tail_bad", "validation", "tail -n +x /etc/hostname"),
    ("shell_psql_div_zero", "programming", "psql -h 127.0.0.1 -U postgres -d test -c 'select 1/0'"),
    ("shell_mariadb_unknown_db", "validation", "mariadb -h 127.0.0.1 -u root -e 'select * from nosuch_blind11.t'"),
]


def blind11_records(env: Env) -> list[Record]:
    out: list[Record] = python_case_records(_py_cases(env))
    for name, category, script in NODE:
        flags = ["--input-type=module"] if "await" in script else []
        try:
            text = failure_text(run(["node", *flags, "-e", script.replace("HTTPURL", env.http)], cwd=env.tmp))
        except RuntimeError:
            print(f"problem: {name}: no failure", file=sys.stderr)
            continue
        out.append(record(text, category, "node-extra9", "stderr", name))
    out.extend(go_records(env, {k: (c, b.replace("HTTP", str(env.http_port))) for k, (c, b) in GO.items()},
                          "go-extra9"))
    out.extend(java_records(env, JAVA, "java-extra9"))
    origin = env.tmp / "blind11-origin.git"
    run(["git", "init", "-q", "--bare", str(origin)], cwd=env.tmp, env=_GIT_ENV)
    repo = env.tmp / "blind11-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)
    run(["git", "commit", "-q", "--allow-empty", "-m", "one"], cwd=repo, env=_GIT_ENV)
    run(["git", "remote", "add", "origin", str(origin)], cwd=repo, env=_GIT_ENV)
    run(["git", "push", "-q", "origin", "main"], cwd=repo, env=_GIT_ENV)
    out.extend(git_failure_records(_git(env), repo, "git-extra8", _GIT_ENV))
    out.extend(shell_failure_records(SHELL, env.tmp, "shell-extra8"))
    return out


if __name__ == "__main__":
    write_batch(blind11_records)


__all__ = ["BLIND11_SOURCES", "blind11_records"]
