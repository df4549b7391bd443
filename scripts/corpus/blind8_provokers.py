"""Eighth batch of blind provokers, written after batches 6 and 7 had been folded into dev and the rules
generalised from them; scored once, blind, then folded into dev: asyncpg, grpcio, protobuf, pytz, semver,
itsdangerous, stdlib corners, compilers (go build, javac, node --check, py_compile), more CLI tools, Node.js,
Go, Java and git. Everything talks to 127.0.0.1 only."""

from __future__ import annotations

import os
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

BLIND8_SOURCES = frozenset({"asyncpg", "grpcio", "protobuf", "pytz", "semver", "itsdangerous", "py-extra6",
                            "node-extra6", "go-extra6", "java-extra6", "git-extra5", "shell-extra5", "compilers"})
_GIT_ENV = git_env("blind8")


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def apg(sql: str, dsn: str = "postgresql://postgres@127.0.0.1:5432/test") -> Callable[[], None]:
        def fn() -> None:
            import asyncio

            import asyncpg

            async def go() -> None:
                conn = await asyncpg.connect(dsn, timeout=3)
                try:
                    await conn.execute(sql)
                finally:
                    await conn.close()

            asyncio.run(go())

        return fn

    def grpc_call(port: int) -> Callable[[], None]:
        def fn() -> None:
            import grpc

            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                method = channel.unary_unary("/orders.Orders/Get")
                method(b"", timeout=1.5)

        return fn

    def protobuf_bad() -> None:
        from google.protobuf import struct_pb2

        struct_pb2.Struct().ParseFromString(b"\x0a\xff\xff\xff")

    def pytz_bad() -> None:
        import pytz

        pytz.timezone("Mars/Olympus_Mons")

    def semver_bad() -> None:
        import semver

        semver.Version.parse("1.2.beta")

    def signer_wrong_key() -> None:
        import itsdangerous

        token = itsdangerous.URLSafeSerializer("key-one").dumps({"user": 1})
        itsdangerous.URLSafeSerializer("key-two").loads(token)

    def signer_expired() -> None:
        import time

        import itsdangerous

        token = itsdangerous.URLSafeTimedSerializer("key").dumps({"user": 1})
        time.sleep(1.1)
        itsdangerous.URLSafeTimedSerializer("key").loads(token, max_age=0)

    def fraction_bad() -> None:
        import fractions

        fractions.Fraction("three quarters")

    def int_too_long() -> None:
        int("9" * 5000)

    def fromhex_bad() -> None:
        bytes.fromhex("zz10")

    def argparse_bad() -> None:
        import argparse

        parser = argparse.ArgumentParser(exit_on_error=False)
        parser.add_argument("--workers", type=int)
        parser.parse_args(["--workers", "several"])

    def mmap_huge() -> None:
        import mmap

        mmap.mmap(-1, 1 << 46)

    def symlink_loop() -> None:
        loop = env.tmp / "blind8-loop"
        os.symlink(loop, loop)
        try:
            loop.read_text()
        finally:
            loop.unlink()

    def copy_into_missing() -> None:
        import shutil

        shutil.copy("/etc/hostname", "/srv/blind8/missing/dir/hostname")

    return [
        ("asyncpg_refused", "network", "asyncpg", apg("select 1", f"postgresql://postgres@127.0.0.1:{env.closed_port}/t")),
        ("asyncpg_no_role", "auth", "asyncpg", apg("select 1", "postgresql://no_role_blind8@127.0.0.1:5432/test")),
        ("asyncpg_no_db", "validation", "asyncpg", apg("select 1", "postgresql://postgres@127.0.0.1:5432/no_db_blind8")),
        ("asyncpg_undefined_table", "programming", "asyncpg", apg("select * from no_table_blind8")),
        ("asyncpg_div_zero", "programming", "asyncpg", apg("select 1/0")),
        ("asyncpg_bad_cast", "validation", "asyncpg", apg("select 'twelve'::int")),
        ("grpc_refused", "network", "grpcio", grpc_call(env.closed_port)),
        ("grpc_hang_deadline", "network", "grpcio", grpc_call(env.hang_port)),
        ("protobuf_bad", "validation", "protobuf", protobuf_bad),
        ("pytz_unknown_zone", "validation", "pytz", pytz_bad),
        ("semver_bad", "validation", "semver", semver_bad),
        ("signer_wrong_key", "auth", "itsdangerous", signer_wrong_key),
        ("signer_expired", "auth", "itsdangerous", signer_expired),
        ("fraction_bad", "validation", "py-extra6", fraction_bad),
        ("int_too_long", "validation", "py-extra6", int_too_long),
        ("fromhex_bad", "validation", "py-extra6", fromhex_bad),
        ("argparse_bad", "validation", "py-extra6", argparse_bad),
        ("mmap_huge", "resource", "py-extra6", mmap_huge),
        ("symlink_loop", "filesystem", "py-extra6", symlink_loop),
        ("copy_into_missing", "filesystem", "py-extra6", copy_into_missing),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_text_decoder", "validation", "new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from([0xff, 0xfe]))"),
    ("node_stringify_bigint", "programming", "JSON.stringify({ id: 1n })"),
    ("node_brotli_bad", "validation", "require('zlib').brotliDecompressSync(Buffer.from('plain words'))"),
    ("node_kill_missing", "unknown", "process.kill(2000000000)"),
    ("node_buffer_read_oob", "programming", "Buffer.from('ab').readUInt32LE(0)"),
]

GO: dict[str, tuple[str, str]] = {
    "int_range": ("validation", '_, err := strconv.ParseInt("99999999999999999999", 10, 64); fail(err)'),
    "query_escape": ("validation", '_, err := url.ParseQuery("q=%zz"); fail(err)'),
    "exit_status": ("unknown", 'err := exec.Command("sh", "-c", "exit 2").Run(); fail(err)'),
    "remove_missing": ("filesystem", 'err := os.Remove("/srv/blind8/cache.db"); fail(err)'),
    "status_403": ("auth", 'r, err := http.Get("http://127.0.0.1:HTTP/status/403"); fail(err); '
                           'if r.StatusCode != 200 { log.Fatalf("unexpected status %d", r.StatusCode) }'),
}

JAVA: dict[str, tuple[str, str]] = {
    "duration_parse": ("validation", 'java.time.Duration.parse("5 minutes");'),
    "no_cipher": ("programming", 'try { javax.crypto.Cipher.getInstance("NOPE/NONE"); } '
                                 'catch (Exception e) { throw new RuntimeException(e); }'),
    "hex_parse": ("validation", 'java.util.HexFormat.of().parseHex("zz");'),
    "url_504": ("service", 'try { new java.net.URL("http://127.0.0.1:HTTP/status/504").openStream(); } '
                           'catch (java.io.IOException e) { throw new RuntimeException(e); }'),
}


def _git(env: Env) -> list[tuple[str, list[str]]]:
    return [
        ("git_branch_rename_missing", ["branch", "-m", "nope-blind8", "new-blind8"]),
        ("git_tag_delete_missing", ["tag", "-d", "v9.9.9-blind8"]),
        ("git_worktree_remove_missing", ["worktree", "remove", str(env.tmp / "no-worktree-blind8")]),
        ("git_notes_missing", ["notes", "show"]),
        ("git_pull_no_tracking", ["pull"]),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_cp_dev_full", "resource", "cp /etc/hostname /dev/full"),
    ("shell_chmod_bad_mode", "validation", "chmod 999 BLINDTMP"),
    ("shell_ls_bad_sort", "validation", "ls --sort=bogus"),
    ("shell_stat_missing", "filesystem", "stat /srv/blind8/data.csv"),
    ("shell_mkfifo_exists", "filesystem", "mkfifo /etc/hostname"),
    ("shell_env_missing_cmd", "filesystem", "env no-such-command-blind8 --version"),
    ("shell_tr_missing_operand", "validation", "echo x | tr a"),
]

COMPILERS: list[tuple[str, str, str, str]] = [
    # (provoker, file name, source, command)
    ("javac_type_error", "Calc.java", "class Calc { int f() { return \"text\"; } }\n", "javac Calc.java"),
    ("node_check_syntax", "app.js", "function f( { return 1 }\n", "node --check app.js"),
    ("py_compile_syntax", "job.py", "def run(:\n    pass\n", "python3 -m py_compile job.py"),
    ("go_build_undefined", "main.go", "package main\n\nfunc main() { undefinedHelper() }\n",
     "printf 'module b8\\n\\ngo 1.19\\n' > go.mod && GOPROXY=off GOCACHE=/tmp/recoup-corpus-gocache go build ."),
]


def blind8_records(env: Env) -> list[Record]:
    out: list[Record] = python_case_records(_py_cases(env))
    for name, category, script in NODE:
        text = failure_text(run(["node", "-e", script], cwd=env.tmp))
        out.append(record(text, category, "node-extra6", "stderr", name))
    out.extend(go_records(env, {k: (c, b.replace("HTTP", str(env.http_port))) for k, (c, b) in GO.items()},
                          "go-extra6"))
    out.extend(java_records(env, JAVA, "java-extra6"))
    repo = env.tmp / "blind8-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)
    run(["git", "commit", "-q", "--allow-empty", "-m", "one"], cwd=repo, env=_GIT_ENV)
    out.extend(git_failure_records(_git(env), repo, "git-extra5", _GIT_ENV))
    scratch = env.tmp / "blind8-scratch"
    scratch.mkdir()
    out.extend(shell_failure_records(SHELL, env.tmp, "shell-extra5",
                                     prepare=lambda s: s.replace("BLINDTMP", str(scratch))))
    for name, filename, source, command in COMPILERS:
        d = env.tmp / f"blind8-{name}"
        d.mkdir()
        (d / filename).write_text(source)
        try:
            text = failure_text(run(["bash", "-c", command], cwd=d, timeout=120))
        except (RuntimeError, OSError) as harness:
            print(f"problem: {name}: {type(harness).__name__}", file=sys.stderr)
            continue
        if text:
            out.append(record(text, "programming", "compilers", "stderr", name))
    return out


if __name__ == "__main__":
    write_batch(blind8_records)


__all__ = ["BLIND8_SOURCES", "blind8_records"]
