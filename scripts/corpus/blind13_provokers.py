"""Thirteenth and last batch of blind provokers, written after batches 6-12 had been folded into dev and the
rules generalised from them; kept in heldout.jsonl, never tuned on, and scored once, blind: argon2-cffi, bcrypt,
PyNaCl, pycryptodome, hjson, json5, configobj, iso8601, pymemcache, aiosmtplib, stdlib corners, more CLI
tools, Node.js, Go, Java and git. Everything talks to 127.0.0.1 only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common import (
    Env,
    Record,
    git_env,
    git_failure_records,
    node_script_records,
    python_case_records,
    run,
    shell_failure_records,
    write_batch,
)
from runtime_provokers import go_records, java_records

BLIND13_SOURCES = frozenset({"argon2-cffi", "bcrypt", "pynacl", "pycryptodome", "hjson", "json5", "configobj",
                             "iso8601", "pymemcache", "aiosmtplib", "py-extra11", "node-extra11", "go-extra11",
                             "java-extra11", "git-extra10", "shell-extra10"})
_GIT_ENV = git_env("blind13")


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def argon_mismatch() -> None:
        import argon2

        hasher = argon2.PasswordHasher()
        hasher.verify(hasher.hash("correct horse"), "wrong horse")

    def argon_bad_hash() -> None:
        import argon2

        argon2.PasswordHasher().verify("not-a-hash", "pw")

    def bcrypt_bad_salt() -> None:
        import bcrypt

        bcrypt.hashpw(b"pw", b"not a salt")

    def nacl_bad_signature() -> None:
        import nacl.signing

        key = nacl.signing.SigningKey.generate()
        signed = key.sign(b"payload")
        nacl.signing.SigningKey.generate().verify_key.verify(signed)

    def crypto_padding() -> None:
        from Crypto.Cipher import AES
        from Crypto.Util.Padding import unpad

        unpad(AES.new(b"k" * 16, AES.MODE_ECB).decrypt(b"x" * 16), 16)

    def hjson_bad() -> None:
        import hjson

        hjson.loads("{ a: [1, 2 }")

    def json5_bad() -> None:
        import json5

        json5.loads("{a: 1,, b: 2}")

    def configobj_bad() -> None:
        import configobj

        configobj.ConfigObj(["[server", "port = 80"])

    def iso_bad() -> None:
        import iso8601

        iso8601.parse_date("2024-13-45T99:00")

    def memcache_refused() -> None:
        from pymemcache.client.base import Client

        Client(("127.0.0.1", env.closed_port), connect_timeout=1).get("k")

    def smtp_refused() -> None:
        import asyncio

        import aiosmtplib

        asyncio.run(aiosmtplib.send("Subject: x\n\nbody", sender="a@example.org", recipients=["b@example.org"],
                                    hostname="127.0.0.1", port=env.closed_port, timeout=2))

    def weakref_dead() -> None:
        import weakref

        class Node:
            pass

        proxy = weakref.proxy(Node())
        proxy.name  # noqa: B018

    def frozenset_add() -> None:
        frozenset({1}).add(2)  # type: ignore[attr-defined]

    def tomllib_bad() -> None:
        import tomllib

        tomllib.loads("[server]\nport = 80\nport = 81\n")

    return [
        ("argon_mismatch", "auth", "argon2-cffi", argon_mismatch),
        ("argon_bad_hash", "validation", "argon2-cffi", argon_bad_hash),
        ("bcrypt_bad_salt", "validation", "bcrypt", bcrypt_bad_salt),
        ("nacl_bad_signature", "auth", "pynacl", nacl_bad_signature),
        ("crypto_padding", "validation", "pycryptodome", crypto_padding),
        ("hjson_bad", "validation", "hjson", hjson_bad),
        ("json5_bad", "validation", "json5", json5_bad),
        ("configobj_bad", "validation", "configobj", configobj_bad),
        ("iso8601_bad", "validation", "iso8601", iso_bad),
        ("memcache_refused", "network", "pymemcache", memcache_refused),
        ("smtp_async_refused", "network", "aiosmtplib", smtp_refused),
        ("weakref_dead", "programming", "py-extra11", weakref_dead),
        ("frozenset_add", "programming", "py-extra11", frozenset_add),
        ("toml_duplicate_key", "validation", "py-extra11", tomllib_bad),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_readlink_missing", "filesystem", "require('fs').readlinkSync('/srv/blind13/current')"),
    ("node_fetch_429", "resource",
     "const r = await fetch('HTTPURL/status/429'); if (!r.ok) throw new Error(`quota call: ${r.status} "
     "${r.statusText}`)"),
    ("node_abort_refused", "network", "await fetch('http://127.0.0.1:CLOSED/healthz')"),
    ("node_const_reassign_fn", "programming", "const f = () => 1; f = 2"),
]

GO: dict[str, tuple[str, str]] = {
    "rename_missing": ("filesystem", 'err := os.Rename("/srv/blind13/a.txt", "/tmp/blind13-b.txt"); fail(err)'),
    "atoi_space": ("validation", '_, err := strconv.Atoi(" 42"); fail(err)'),
    "status_502": ("service", 'r, err := http.Get("http://127.0.0.1:HTTP/status/502"); fail(err); '
                              'if r.StatusCode >= 500 { log.Fatalf("proxy said %d", r.StatusCode) }'),
    "dial_closed_udp_unix": ("network", '_, err := net.Dial("unix", "/tmp/recoup-blind13-missing.sock"); fail(err)'),
}

JAVA: dict[str, tuple[str, str]] = {
    "enum_value": ("validation", 'java.util.concurrent.TimeUnit.valueOf("FORTNIGHTS");'),
    "sublist": ("programming", 'java.util.List.of(1, 2).subList(1, 5);'),
    "url_503": ("service", 'try { new java.net.URL("http://127.0.0.1:HTTP/status/503").openStream(); } '
                           'catch (java.io.IOException e) { throw new java.io.UncheckedIOException(e); }'),
}


def _git(env: Env) -> list[tuple[str, list[str]]]:
    return [
        ("git_checkout_missing_file_rev", ["checkout", "nope-blind13", "--", "a.txt"]),
        ("git_log_bad_range", ["log", "nope-blind13..HEAD"]),
        ("git_merge_abort_none", ["merge", "--abort"]),
        ("git_stash_show_none", ["stash", "show"]),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_date_bad_format", "validation", "date -d '32/13/2024'"),
    ("shell_ln_missing_target_dir", "filesystem", "ln -s /etc/hostname /srv/blind13/missing/link"),
    ("shell_touch_bad_date", "validation", "touch -d 'not a date' /tmp/blind13-touch"),
    ("shell_head_missing", "filesystem", "head /srv/blind13/access.log"),
    ("shell_psql_bad_sql", "programming", "psql -h 127.0.0.1 -U postgres -d test -c 'selec 1'"),
    ("shell_node_json_file", "validation",
     "printf '{\"name\": \"x\",}' > /tmp/blind13.json && node -e \"require('/tmp/blind13.json')\""),
    ("shell_redis_refused", "network", "redis-cli -h 127.0.0.1 -p CLOSED set k v"),
]


def blind13_records(env: Env) -> list[Record]:
    out: list[Record] = python_case_records(_py_cases(env))
    out.extend(node_script_records(env, NODE, "node-extra11"))
    out.extend(go_records(env, {k: (c, b.replace("HTTP", str(env.http_port))) for k, (c, b) in GO.items()},
                          "go-extra11"))
    out.extend(java_records(env, JAVA, "java-extra11"))
    repo = env.tmp / "blind13-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)
    run(["git", "commit", "-q", "--allow-empty", "-m", "one"], cwd=repo, env=_GIT_ENV)
    out.extend(git_failure_records(_git(env), repo, "git-extra10", _GIT_ENV))
    out.extend(shell_failure_records(SHELL, env.tmp, "shell-extra10",
                                     prepare=lambda s: s.replace("CLOSED", str(env.closed_port))))
    return out


if __name__ == "__main__":
    write_batch(blind13_records)


__all__ = ["BLIND13_SOURCES", "blind13_records"]
