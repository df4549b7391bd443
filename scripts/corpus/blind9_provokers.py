"""Ninth batch of blind provokers, written after batches 6-8 had been folded into dev and the rules
generalised from them; scored once, blind, then folded into dev: tornado, kombu/RabbitMQ,
voluptuous, lark, pyparsing, xmltodict, ujson, plumbum, sqlglot, stdlib corners, more CLI tools, Node.js, Go,
Java and git. Everything talks to 127.0.0.1 only."""

from __future__ import annotations

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

BLIND9_SOURCES = frozenset({"tornado", "kombu", "voluptuous", "lark", "pyparsing", "xmltodict", "ujson", "plumbum",
                            "sqlglot", "py-extra7", "node-extra7", "go-extra7", "java-extra7", "git-extra6",
                            "shell-extra6"})
_GIT_ENV = git_env("blind9")


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def tornado_fetch(url: str) -> Callable[[], None]:
        def fn() -> None:
            from tornado.httpclient import HTTPClient

            client = HTTPClient()
            try:
                client.fetch(url, request_timeout=1.5, connect_timeout=1.5)
            finally:
                client.close()

        return fn

    def kombu_connect(url: str) -> Callable[[], None]:
        def fn() -> None:
            import kombu

            with kombu.Connection(url, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1)

        return fn

    def voluptuous_bad() -> None:
        import voluptuous

        voluptuous.Schema({voluptuous.Required("port"): int})({"port": "eighty"})

    def lark_bad() -> None:
        import lark

        lark.Lark('start: "GET" " " PATH\nPATH: /[a-z\\/]+/').parse("PUT /x")

    def pyparsing_bad() -> None:
        import pyparsing

        pyparsing.Word(pyparsing.nums).parse_string("abc")

    def xmltodict_bad() -> None:
        import xmltodict

        xmltodict.parse("<config><name>x</config>")

    def ujson_bad() -> None:
        import ujson

        ujson.loads('{"a": tru}')

    def plumbum_missing() -> None:
        from plumbum import local

        local["ls"]("/srv/blind9/missing")

    def sqlglot_bad() -> None:
        import sqlglot

        sqlglot.parse_one("SELECT id FROM WHERE id = 1")

    def queue_full() -> None:
        import asyncio

        q: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        q.put_nowait(1)
        q.put_nowait(2)

    def enum_bad() -> None:
        import enum

        class Color(enum.Enum):
            RED = "red"

        Color("purple")

    def urlsplit_bad() -> None:
        import urllib.parse

        urllib.parse.urlsplit("http://[::1/path")

    def pool_after_shutdown() -> None:
        import concurrent.futures

        pool = concurrent.futures.ThreadPoolExecutor(1)
        pool.shutdown()
        pool.submit(print)

    def replace_bad_field() -> None:
        import dataclasses

        @dataclasses.dataclass
        class Job:
            name: str

        dataclasses.replace(Job("a"), title="b")  # type: ignore[call-arg]

    def nofile_limit() -> None:
        import resource
        import socket

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
        socks: list[socket.socket] = []
        try:
            while len(socks) < 200:
                socks.append(socket.socket())
        finally:
            for s in socks:
                s.close()
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return [
        ("tornado_refused", "network", "tornado", tornado_fetch(f"http://127.0.0.1:{env.closed_port}/")),
        ("tornado_timeout", "network", "tornado", tornado_fetch(f"http://127.0.0.1:{env.hang_port}/")),
        ("tornado_503", "service", "tornado", tornado_fetch(env.url(503))),
        ("tornado_401", "auth", "tornado", tornado_fetch(env.url(401))),
        ("tornado_429", "resource", "tornado", tornado_fetch(env.url(429))),
        ("kombu_refused", "network", "kombu", kombu_connect(f"amqp://guest:guest@127.0.0.1:{env.closed_port}//")),
        ("kombu_bad_password", "auth", "kombu", kombu_connect("amqp://guest:wrong-blind9@127.0.0.1:5672//")),
        ("voluptuous_bad", "validation", "voluptuous", voluptuous_bad),
        ("lark_bad_input", "validation", "lark", lark_bad),
        ("pyparsing_bad", "validation", "pyparsing", pyparsing_bad),
        ("xmltodict_bad", "validation", "xmltodict", xmltodict_bad),
        ("ujson_bad", "validation", "ujson", ujson_bad),
        ("plumbum_ls_missing", "filesystem", "plumbum", plumbum_missing),
        ("sqlglot_bad_sql", "programming", "sqlglot", sqlglot_bad),
        ("asyncio_queue_full", "resource", "py-extra7", queue_full),
        ("enum_bad_value", "validation", "py-extra7", enum_bad),
        ("urlsplit_bad", "validation", "py-extra7", urlsplit_bad),
        ("pool_after_shutdown", "programming", "py-extra7", pool_after_shutdown),
        ("dataclass_replace_bad", "programming", "py-extra7", replace_bad_field),
        ("nofile_sockets", "resource", "py-extra7", nofile_limit),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_resolve_mx", "network", "require('dns').promises.resolveMx('mail.recoup-corpus.invalid')"),
    ("node_pbkdf2_digest", "programming", "require('crypto').pbkdf2Sync('pw', 'salt', 1, 32, 'sha999')"),
    ("node_rmdir_not_empty", "filesystem", "require('fs').rmdirSync('/etc')"),
    ("node_v8_deserialize", "validation", "require('v8').deserialize(Buffer.from('not serialized'))"),
]

GO: dict[str, tuple[str, str]] = {
    "cidr_bad": ("validation", '_, _, err := net.ParseCIDR("10.0.0.0/33"); fail(err)'),
    "mail_bad": ("validation", '_, err := mail.ParseAddress("not an address"); fail(err)'),
    "rel_bad": ("programming", '_, err := filepath.Rel("/srv/app", "relative/path"); fail(err)'),
    "status_500": ("service", 'r, err := http.Get("http://127.0.0.1:HTTP/status/500"); fail(err); '
                              'if r.StatusCode >= 500 { log.Fatalf("%s: %s", r.Request.URL, r.Status) }'),
    "mkdir_missing_parent": ("filesystem", 'err := os.Mkdir("/srv/blind9/a/b", 0o755); fail(err)'),
}
GO_IMPORTS = '\t"net/mail"\n\t"path/filepath"\n'

JAVA: dict[str, tuple[str, str]] = {
    "queue_full": ("resource", 'var q = new java.util.concurrent.ArrayBlockingQueue<Integer>(1); q.add(1); q.add(2);'),
    "malformed_input": ("validation", 'try { java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode('
                                      'java.nio.ByteBuffer.wrap(new byte[]{(byte) 0xff})); } '
                                      'catch (java.nio.charset.CharacterCodingException e) '
                                      '{ throw new RuntimeException(e); }'),
    "date_format": ("validation", 'try { new java.text.SimpleDateFormat("yyyy-MM-dd").parse("tomorrow"); } '
                                  'catch (java.text.ParseException e) { throw new RuntimeException(e); }'),
    "read_dir": ("filesystem", 'try { java.nio.file.Files.readAllLines(java.nio.file.Path.of("/etc")); } '
                               'catch (java.io.IOException e) { throw new java.io.UncheckedIOException(e); }'),
}


def _git(env: Env) -> list[tuple[str, list[str]]]:
    return [
        ("git_rebase_dirty", ["rebase", "HEAD"]),
        ("git_stash_apply_missing", ["stash", "apply", "stash@{3}"]),
        ("git_am_not_patch", ["am", "/etc/hostname"]),
        ("git_upstream_missing", ["branch", "--set-upstream-to=origin/nope-blind9"]),
        ("git_remote_exists", ["remote", "add", "origin", "/srv/blind9/other.git"]),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_seq_zero_step", "validation", "seq 1 0 5"),
    ("shell_printf_number", "validation", "printf '%d\\n' twelve"),
    ("shell_kill_bad_signal", "validation", "kill -s BOGUS $$"),
    ("shell_sed_missing_file", "filesystem", "sed -i s/a/b/ /srv/blind9/conf.ini"),
    ("shell_java_jar_missing", "filesystem", "java -jar /srv/blind9/app.jar"),
    ("shell_java_heap", "resource", "ulimit -v 200000; java -Xmx1g -version"),
    ("shell_zipfile_module", "validation", "python3 -m zipfile -l /etc/hostname"),
    ("shell_keytool_printcert", "validation", "keytool -printcert -file /etc/hostname"),
]


def blind9_records(env: Env) -> list[Record]:
    out: list[Record] = python_case_records(_py_cases(env))
    for name, category, script in NODE:
        text = failure_text(run(["node", "-e", script], cwd=env.tmp))
        out.append(record(text, category, "node-extra7", "stderr", name))
    out.extend(go_records(env, {k: (c, b.replace("HTTP", str(env.http_port))) for k, (c, b) in GO.items()},
                          "go-extra7", GO_IMPORTS))
    out.extend(java_records(env, JAVA, "java-extra7"))
    repo = env.tmp / "blind9-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)
    (repo / "a.txt").write_text("one\n")
    run(["git", "add", "a.txt"], cwd=repo, env=_GIT_ENV)
    run(["git", "commit", "-q", "-m", "one"], cwd=repo, env=_GIT_ENV)
    run(["git", "remote", "add", "origin", str(env.tmp / "blind9-origin.git")], cwd=repo, env=_GIT_ENV)
    (repo / "a.txt").write_text("two\n")
    out.extend(git_failure_records(_git(env), repo, "git-extra6", _GIT_ENV))
    out.extend(shell_failure_records(SHELL, env.tmp, "shell-extra6"))
    return out


if __name__ == "__main__":
    write_batch(blind9_records)


__all__ = ["BLIND9_SOURCES", "blind9_records"]
