"""Twelfth batch of blind provokers, written after batches 6-11 had been folded into dev and the
rules generalised from them; scored once, blind, then folded into dev: websocket-client,
trio, httplib2, msgspec, ijson, jsonlines, zstandard, lz4, pexpect, tomli-w, stdlib corners, more CLI tools,
Node.js, Go, Java and git. Everything talks to 127.0.0.1 only (or .invalid names)."""

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

BLIND12_SOURCES = frozenset({"websocket-client", "trio", "httplib2", "msgspec", "ijson", "jsonlines", "zstandard",
                             "lz4", "pexpect", "tomli-w", "py-extra10", "node-extra10", "go-extra10", "java-extra10",
                             "git-extra9", "shell-extra9"})
_GIT_ENV = git_env("blind12")


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def wsc(url: str) -> Callable[[], None]:
        def fn() -> None:
            import websocket

            websocket.create_connection(url, timeout=2).close()

        return fn

    def trio_refused() -> None:
        import trio

        async def go() -> None:
            await trio.open_tcp_stream("127.0.0.1", env.closed_port)

        trio.run(go)

    def httplib2_dns() -> None:
        import httplib2

        httplib2.Http(timeout=2).request("http://catalog.recoup-corpus.invalid/items")

    def msgspec_bad_type() -> None:
        import msgspec

        class Item(msgspec.Struct):
            sku: str
            qty: int

        msgspec.json.decode(b'{"sku": "a", "qty": "two"}', type=Item)

    def msgspec_bad_json() -> None:
        import msgspec

        msgspec.json.decode(b'{"sku": "a",')

    def ijson_bad() -> None:
        import io

        import ijson

        list(ijson.items(io.BytesIO(b'[{"a": 1}, {"a": '), "item"))

    def jsonlines_bad() -> None:
        import io

        import jsonlines

        list(jsonlines.Reader(io.StringIO('{"a": 1}\nnot json\n')))

    def zstd_bad() -> None:
        import zstandard

        zstandard.ZstdDecompressor().decompress(b"definitely not zstd")

    def lz4_bad() -> None:
        import lz4.frame

        lz4.frame.decompress(b"definitely not lz4")

    def pexpect_missing() -> None:
        import pexpect

        pexpect.spawn("no-such-tool-blind12 --serve")

    def tomli_w_bad() -> None:
        import tomli_w

        tomli_w.dumps({"when": object()})

    def template_missing() -> None:
        import string

        string.Template("Hello $name, your order $order_id shipped").substitute(name="A")

    def reduce_empty() -> None:
        import functools

        functools.reduce(lambda a, b: a + b, [])

    def inet_aton_bad() -> None:
        import socket

        socket.inet_aton("999.1.1.1")

    def queue_full() -> None:
        import queue

        q: queue.Queue[int] = queue.Queue(maxsize=1)
        q.put(1)
        q.put(2, timeout=0.1)

    def disk_usage_missing() -> None:
        import shutil

        shutil.disk_usage("/srv/blind12/volume")

    return [
        ("wsc_503", "service", "websocket-client", wsc(f"ws://127.0.0.1:{env.http_port}/status/503")),
        ("wsc_401", "auth", "websocket-client", wsc(f"ws://127.0.0.1:{env.http_port}/status/401")),
        ("wsc_429", "resource", "websocket-client", wsc(f"ws://127.0.0.1:{env.http_port}/status/429")),
        ("wsc_refused", "network", "websocket-client", wsc(f"ws://127.0.0.1:{env.closed_port}/")),
        ("trio_refused", "network", "trio", trio_refused),
        ("httplib2_dns", "network", "httplib2", httplib2_dns),
        ("msgspec_bad_type", "validation", "msgspec", msgspec_bad_type),
        ("msgspec_bad_json", "validation", "msgspec", msgspec_bad_json),
        ("ijson_incomplete", "validation", "ijson", ijson_bad),
        ("jsonlines_bad", "validation", "jsonlines", jsonlines_bad),
        ("zstd_bad", "validation", "zstandard", zstd_bad),
        ("lz4_bad", "validation", "lz4", lz4_bad),
        ("pexpect_missing", "filesystem", "pexpect", pexpect_missing),
        ("tomli_w_unserializable", "programming", "tomli-w", tomli_w_bad),
        ("template_missing_key", "programming", "py-extra10", template_missing),
        ("reduce_empty", "programming", "py-extra10", reduce_empty),
        ("inet_aton_bad", "validation", "py-extra10", inet_aton_bad),
        ("queue_full", "resource", "py-extra10", queue_full),
        ("disk_usage_missing", "filesystem", "py-extra10", disk_usage_missing),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_write_proc_missing", "filesystem", "require('fs').writeFileSync('/srv/blind12/out/report.txt', 'x')"),
    ("node_udp_bad_port", "programming",
     "require('dgram').createSocket('udp4').send('x', 70000, '127.0.0.1')"),
    ("node_sign_bad_key", "validation", "require('crypto').createSign('SHA256').update('x').sign('not a key')"),
    ("node_fetch_abort_timeout", "network", "await fetch('HTTPURL/slow', { signal: AbortSignal.timeout(300) })"),
    ("node_emfile", "resource",
     "for (let i = 0; i < 200; i++) require('fs').openSync('/etc/hostname')"),
]

GO: dict[str, tuple[str, str]] = {
    "readlink_not_link": ("filesystem", '_, err := os.Readlink("/etc/hostname"); fail(err)'),
    "float_range": ("validation", '_, err := strconv.ParseFloat("1e999", 64); fail(err)'),
    "client_timeout": ("network", 'c := &http.Client{Timeout: 300 * time.Millisecond}; '
                                  '_, err := c.Get("http://127.0.0.1:HTTP/slow"); fail(err)'),
    "unmarshal_nil": ("programming", 'err := json.Unmarshal([]byte(`{"a": 1}`), nil); fail(err)'),
}

JAVA: dict[str, tuple[str, str]] = {
    "bad_radix": ("programming", 'Integer.parseInt("12", 99);'),
    "negative_capacity": ("programming", 'new java.util.ArrayList<Integer>(-1);'),
    "create_dir_missing": ("filesystem", 'try { java.nio.file.Files.createDirectory(java.nio.file.Path.of('
                                         '"/srv/blind12/a/b")); } catch (java.io.IOException e) '
                                         '{ throw new java.io.UncheckedIOException(e); }'),
    "zoned_parse": ("validation", 'java.time.ZonedDateTime.parse("2024-01-01");'),
}


def _git(env: Env) -> list[tuple[str, list[str]]]:
    return [
        ("git_fixup_missing", ["commit", "--fixup=nope-blind12"]),
        ("git_blame_missing", ["blame", "nope-blind12.txt"]),
        ("git_show_missing_path", ["show", "HEAD:nope-blind12.txt"]),
        ("git_am_continue", ["am", "--continue"]),
        ("git_rebase_no_upstream", ["rebase"]),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_xargs_zero", "validation", "echo a | xargs -n 0 echo"),
    ("shell_split_zero", "validation", "split -b 0 /etc/hostname BLINDTMP/part"),
    ("shell_tee_missing_dir", "filesystem", "echo x | tee /srv/blind12/missing/out.txt"),
    ("shell_install_bad_mode", "validation", "install -m 9999 /etc/hostname BLINDTMP/x"),
    ("shell_sort_bad_size", "validation", "sort -S 1Z /etc/hostname"),
    ("shell_df_missing", "filesystem", "df /srv/blind12/volume"),
    ("shell_psql_missing_table", "programming",
     "psql -h 127.0.0.1 -U postgres -d test -c 'select * from nosuch_blind12'"),
    ("shell_sqlite_missing_function", "programming", "sqlite3 :memory: 'select nosuch_fn_blind12(1)'"),
]


def blind12_records(env: Env) -> list[Record]:
    out: list[Record] = python_case_records(_py_cases(env))
    for name, category, script in NODE:
        flags = ["--input-type=module"] if "await" in script else []
        try:
            text = failure_text(run(["node", *flags, "-e", script.replace("HTTPURL", env.http)], cwd=env.tmp,
                                    env={"NODE_OPTIONS": ""}, preexec_fn=_low_nofile if name == "node_emfile"
                                    else None))
        except RuntimeError:
            print(f"problem: {name}: no failure", file=sys.stderr)
            continue
        out.append(record(text, category, "node-extra10", "stderr", name))
    out.extend(go_records(env, {k: (c, b.replace("HTTP", str(env.http_port))) for k, (c, b) in GO.items()},
                          "go-extra10"))
    out.extend(java_records(env, JAVA, "java-extra10"))
    repo = env.tmp / "blind12-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)
    run(["git", "commit", "-q", "--allow-empty", "-m", "one"], cwd=repo, env=_GIT_ENV)
    out.extend(git_failure_records(_git(env), repo, "git-extra9", _GIT_ENV))
    scratch = env.tmp / "blind12-scratch"
    scratch.mkdir()
    out.extend(shell_failure_records(SHELL, env.tmp, "shell-extra9",
                                     prepare=lambda s: s.replace("BLINDTMP", str(scratch))))
    return out


def _low_nofile() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))


if __name__ == "__main__":
    write_batch(blind12_records)


__all__ = ["BLIND12_SOURCES", "blind12_records"]
