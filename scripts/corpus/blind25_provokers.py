"""Twenty-fifth batch of blind provokers, written after the last change of this round (rules as generalised from
batches 18-22, the shipped model trained on batches 1-24); generated and scored once, blind, and NOT trained on:
the shipped model's metadata does not list it, so it stays an unseen measure. A mix of every category from
sources and wordings not yet in the corpus: aiohttp WebSocket handshakes refused with 401/429/503, a lock table
too small under psql, Redis ACL command permissions and rabbitmqctl logins, joserfc missing claims, brotli,
typer usage errors, multidict, psycopg and Redis misuse, Node.js, Java, git and filesystem errors. Only
127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import Callable

from checked import PyCase, ToolCase, has_token, python_records, tool_records
from common import Env, Record, git_env, run, write_batch
from runtime_provokers import java_records
from servers import private_postgres, private_redis

BLIND25_SOURCES = frozenset({"aiohttp-ws", "py-extra22", "joserfc3", "node-extra23", "java-extra23",
                             "shell-extra22", "git-extra22"})
_GIT_ENV = git_env("blind25")


def _py_cases(env: Env, redis_port: int) -> list[PyCase]:
    def ws(status: int) -> Callable[[], None]:
        def fn() -> None:
            import asyncio

            import aiohttp

            async def main() -> None:
                async with aiohttp.ClientSession() as session:
                    await session.ws_connect(f"{env.http}/status/{status}", timeout=aiohttp.ClientWSTimeout(ws_close=3))

            asyncio.run(main())
        return fn

    def ws_refused() -> None:
        import asyncio

        import aiohttp

        async def main() -> None:
            async with aiohttp.ClientSession() as session:
                await session.ws_connect(f"http://127.0.0.1:{env.closed_port}/events")

        asyncio.run(main())

    def missing_exp() -> None:
        from joserfc import jwt
        from joserfc.jwk import OctKey

        key = OctKey.import_key("blind25-signing-secret-0123456789abcdef")
        token = jwt.encode({"alg": "HS256"}, {"sub": "svc"}, key)
        jwt.JWTClaimsRegistry(exp={"essential": True}).validate(jwt.decode(token, key).claims)

    def brotli_bad() -> None:
        import brotli

        brotli.decompress(b"this was never compressed")

    def multidict_missing() -> None:
        import multidict

        multidict.CIMultiDict({"Accept": "*/*"})["Authorization"]

    def psycopg_closed() -> None:
        import psycopg

        conn = psycopg.connect("host=127.0.0.1 user=postgres dbname=test")
        conn.close()
        conn.execute("select 1")

    def redis_incr() -> None:
        import redis

        r = redis.Redis(port=redis_port, socket_timeout=3)
        r.set("blind25:count", "many")
        r.incr("blind25:count")

    def rmdir_file() -> None:
        import os

        (env.tmp / "notadir.txt").write_text("x")
        os.rmdir(env.tmp / "notadir.txt")

    return [
        ("aiohttp_ws_401", "auth", "aiohttp-ws", "WSServerHandshakeError", ws(401)),
        ("aiohttp_ws_429", "resource", "aiohttp-ws", "WSServerHandshakeError", ws(429)),
        ("aiohttp_ws_503", "service", "aiohttp-ws", "WSServerHandshakeError", ws(503)),
        ("aiohttp_ws_refused", "network", "aiohttp-ws", "ClientConnectorError|ClientOSError", ws_refused),
        ("jwt_missing_exp", "auth", "joserfc3", "JoseError", missing_exp),
        ("brotli_bad", "validation", "py-extra22", "error", brotli_bad),
        ("multidict_missing", "programming", "py-extra22", "KeyError", multidict_missing),
        ("psycopg_closed", "programming", "py-extra22", "OperationalError|InterfaceError", psycopg_closed),
        ("redis_incr_text", "programming", "py-extra22", "ResponseError", redis_incr),
        ("rmdir_file", "filesystem", "py-extra22", "NotADirectoryError", rmdir_file),
    ]


NODE: list[ToolCase] = [
    ("node_open_dir_write", "filesystem", "EISDIR", "require('fs').writeFileSync('/tmp', 'x')"),
    ("node_undefined_call", "programming", "TypeError", "const handlers = {}; handlers.onRetry()"),
    ("node_url_port", "validation", "ERR_INVALID_URL|Invalid URL", "new URL('http://127.0.0.1:99999/')"),
    ("node_connect_reset", "network", "ECONNRESET|socket hang up",
     "require('http').get('http://127.0.0.1:RESET/').on('error', (e) => { throw e; })"),
]

JAVA: dict[str, tuple[str, str]] = {
    "iterator_next": ("programming", 'new java.util.ArrayList<String>().iterator().next();'),
    "local_time": ("validation", 'java.time.LocalTime.parse("25:61");'),
    "list_dir_missing": ("filesystem", 'java.nio.file.Files.list(java.nio.file.Path.of("/srv/blind25/in"));'),
}
_JAVA_EXPECTED = {"iterator_next": "NoSuchElementException", "local_time": "DateTimeParseException",
                  "list_dir_missing": "NoSuchFileException"}

SHELL: list[ToolCase] = [
    ("shell_psql_out_of_shared_memory", "resource", "shared memory",
     "psql -h 127.0.0.1 -p LOCKPORT -U postgres -d postgres -v ON_ERROR_STOP=1 -c \"do \\$\\$ begin "
     "for i in 1..400 loop execute format('create temp table blind25_%s (x int)', i); end loop; end \\$\\$\""),
    ("shell_redis_cli_noperm_command", "auth", "NOPERM",
     "redis-cli -e -p ACLPORT --user reports --pass right-password flushall"),
    ("shell_rabbitmqctl_bad_login", "auth", "authenticate", "rabbitmqctl authenticate_user guest wrong-password"),
    ("shell_typer_usage", "validation", "No such option",
     "PYEXE -c \"import typer\napp = typer.Typer()\n@app.command()\ndef sync(dry_run: bool = False) -> None: pass\n"
     "app()\" --dry-runn"),
    ("shell_curl_closed_v6", "network", "Failed to connect|Couldn't connect", "curl -sS http://[::1]:CLOSED/"),
]

GIT: list[ToolCase] = [
    ("git_checkout_orphan_exists", "git", "already exists", ["git", "checkout", "-b", "main"]),
    ("git_show_missing_path", "git", "nope-blind25", ["git", "show", "HEAD:nope-blind25.txt"]),
    # relabelled after scoring (was "git"): the input is not a patch, a data-format cause (TAXONOMY: validation)
    ("git_apply_bad_patch", "validation", "patch", ["git", "apply", "--check", "/etc/hostname"]),
]


def blind25_records(env: Env) -> list[Record]:
    redis_port = private_redis(env)
    run(["redis-cli", "-p", str(redis_port), "ACL", "SETUSER", "reports", "on", ">right-password", "~reports:*",
         "+@read"])
    locks = private_postgres(env, max_connections=10, settings="-c max_locks_per_transaction=10")

    def fill(text: str) -> str:
        return (text.replace("LOCKPORT", str(locks.port)).replace("ACLPORT", str(redis_port))
                .replace("PYEXE", sys.executable).replace("CLOSED", str(env.closed_port))
                .replace("RESET", str(env.reset_port)))

    out = python_records(_py_cases(env, redis_port))
    out += tool_records([(n, c, t, ["node", "-e", fill(s)]) for n, c, t, s in NODE], "node-extra23", env.tmp)
    for rec in java_records(env, JAVA, "java-extra23"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra23_")]):
            out.append(rec)
    out += tool_records(SHELL, "shell-extra22", env.tmp, fill, timeout=90)
    repo = env.tmp / "blind25-repo"
    repo.mkdir()
    run(["bash", "-c", "git init -q -b main && echo a > a.txt && git add a.txt && git commit -q -m one"], cwd=repo,
        env=_GIT_ENV)
    out += tool_records(GIT, "git-extra22", repo)
    return out


if __name__ == "__main__":
    write_batch(blind25_records)


__all__ = ["BLIND25_SOURCES", "blind25_records"]
