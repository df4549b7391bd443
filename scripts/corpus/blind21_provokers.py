"""Twenty-first batch of blind provokers, written after batch 20 had been scored, its misses read (FTP reply codes
taken for HTTP statuses, peer TLS alerts about our certificate, pg_hba rejects, errno names, broker limits), the
rules generalised and the model retrained on batches 1-20; generated and scored once, blind, before anyone read
its texts. About half resource/auth/service, half the other categories, from sources and wordings not yet in
the corpus: connection pools of httpx, urllib3 and redis-py running dry; a private PostgreSQL with a database
connection limit and no pg_hba line for a user; RabbitMQ per-user channel limits; Redis ACL key permissions;
client certificates from an unknown CA seen by httpx, Node.js and wget; HTTP statuses whose numbers and reason
phrases say different things (507, 511) and clients that print only the reason phrase; full tmpfs under sort;
stdlib, PyYAML, pydantic, Jinja2, Node.js, Java and git failures of every other kind. Only 127.0.0.1."""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from checked import PyCase, ToolCase, has_token, python_records, tool_records
from common import Env, Record, git_env, run, write_batch
from runtime_provokers import java_records
from servers import client_cert_server, mount_tmpfs, private_postgres, private_redis

BLIND21_SOURCES = frozenset({"httpx-pool", "urllib3-pool", "redis-pool", "pg-private3", "pika-extra4",
                             "redis-acl", "py-extra18", "node-extra19", "java-extra19", "shell-extra18",
                             "git-extra18"})
_PW = "right-password"
_GIT_ENV = git_env("blind21")


def _pool_cases(env: Env) -> list[PyCase]:
    slow = f"{env.http}/slow"

    def background(fn: Callable[[], Any]) -> None:
        def quiet() -> None:
            with contextlib.suppress(Exception):
                fn()
        threading.Thread(target=quiet, daemon=True).start()
        time.sleep(0.3)

    def httpx_pool() -> None:
        import httpx

        client = httpx.Client(limits=httpx.Limits(max_connections=1), timeout=httpx.Timeout(8.0, pool=0.3))
        background(lambda: client.get(slow))
        client.get(env.url(200))

    def urllib3_pool() -> None:
        import urllib3

        pool = urllib3.HTTPConnectionPool("127.0.0.1", env.http_port, maxsize=1, block=True)
        background(lambda: pool.urlopen("GET", "/slow", timeout=8))
        pool.urlopen("GET", "/ok", pool_timeout=0.3)

    def redis_pool() -> None:
        import redis

        port = private_redis(env)
        pool = redis.ConnectionPool(host="127.0.0.1", port=port, max_connections=1)
        held = pool.get_connection()
        try:
            redis.Redis(connection_pool=pool).ping()
        finally:
            pool.release(held)

    return [("httpx_pool_timeout", "resource", "httpx-pool", "PoolTimeout", httpx_pool),
            ("urllib3_empty_pool", "resource", "urllib3-pool", "EmptyPoolError", urllib3_pool),
            ("redis_too_many_connections", "resource", "redis-pool", "ConnectionError|MaxConnectionsError",
             redis_pool)]


def _pg_cases(env: Env) -> tuple[list[PyCase], list[ToolCase]]:
    import pg8000.native
    import psycopg

    pg = private_postgres(env, max_connections=10)
    (pg.datadir / "pg_hba.conf").write_text("local all all trust\nhost all postgres 127.0.0.1/32 trust\n"
                                            "host all app 127.0.0.1/32 scram-sha-256\n")
    pg.pg_ctl("reload")
    time.sleep(0.5)
    run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "postgres", "-c",
         "CREATE DATABASE capped CONNECTION LIMIT 0"])
    run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "postgres", "-c",
         "GRANT ALL ON DATABASE capped TO app"])
    py: list[PyCase] = [
        ("pg_database_connection_limit", "resource", "pg-private3", "OperationalError",
         lambda: psycopg.connect(host="127.0.0.1", port=pg.port, user="app", password=_PW, dbname="capped",
                                 connect_timeout=3).close()),
        ("pg8000_no_hba_entry", "auth", "pg-private3", "DatabaseError|InterfaceError",
         lambda: pg8000.native.Connection("reporting", host="127.0.0.1", port=pg.port, timeout=3)),
    ]
    tools: list[ToolCase] = [
        ("shell_psql_no_hba_entry", "auth", "pg_hba",
         ["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "reporting", "-d", "postgres", "-c", "select 1"]),
    ]
    return py, tools


def _rabbit_cases() -> list[PyCase]:
    import pika

    for args in (["add_user", "blind21", _PW], ["set_permissions", "-p", "/", "blind21", ".*", ".*", ".*"],
                 ["set_user_limits", "blind21", '{"max-channels": 1}']):
        run(["rabbitmqctl", "-q", *args], timeout=60)

    def channels() -> None:
        conn = pika.BlockingConnection(pika.ConnectionParameters(
            "127.0.0.1", 5672, credentials=pika.PlainCredentials("blind21", _PW), connection_attempts=1))
        try:
            conn.channel()
            conn.channel()
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    return [("pika_channel_limit", "resource", "pika-extra4", "AMQPError", channels)]


def _redis_acl(env: Env) -> tuple[list[PyCase], int]:
    import redis

    port = private_redis(env)
    run(["redis-cli", "-p", str(port), "ACL", "SETUSER", "reports", "on", f">{_PW}", "~reports:*", "+@all"])
    return [("redis_acl_key_denied", "auth", "redis-acl", "NoPermissionError|ResponseError",
             lambda: redis.Redis(port=port, username="reports", password=_PW, socket_timeout=3).get("billing:1"))], port


def _py_cases(env: Env, tls_port: int, cafile: str, client: tuple[str, str]) -> list[PyCase]:
    def requests_status(status: int) -> Callable[[], None]:
        def fn() -> None:
            import requests

            requests.get(env.url(status), timeout=3).raise_for_status()
        return fn

    def httpx_unknown_ca() -> None:
        import ssl

        import httpx

        ctx = ssl.create_default_context(cafile=cafile)
        ctx.load_cert_chain(*client)
        httpx.get(f"https://127.0.0.1:{tls_port}/", verify=ctx, timeout=3)

    def yaml_tag() -> None:
        import yaml

        yaml.safe_load("retries: !!python/object:os.system ['id']")

    def pydantic_int() -> None:
        import pydantic

        class Settings(pydantic.BaseModel):
            port: int

        Settings(port="eighty")  # type: ignore[arg-type]

    def jinja_undefined() -> None:
        import jinja2

        jinja2.Environment(undefined=jinja2.StrictUndefined).from_string("{{ user.name }}").render()

    def int_hex() -> None:
        int("0x1A")

    def json_complex() -> None:
        import json

        json.dumps({"ratio": 1j})

    def regex_bad() -> None:
        import re

        re.compile("(unclosed")

    def copytree_exists() -> None:
        import shutil

        (env.tmp / "tree-a").mkdir(exist_ok=True)
        (env.tmp / "tree-b").mkdir(exist_ok=True)
        shutil.copytree(env.tmp / "tree-a", env.tmp / "tree-b")

    def dns_invalid() -> None:
        import socket

        socket.getaddrinfo("db.blind21.invalid", 5432)

    def smtp_reset() -> None:
        import smtplib

        smtplib.SMTP("127.0.0.1", env.reset_port, timeout=3)

    return [
        ("requests_507", "resource", "py-extra18", "HTTPError", requests_status(507)),
        ("requests_511", "auth", "py-extra18", "HTTPError", requests_status(511)),
        ("httpx_unknown_ca_client", "auth", "py-extra18", "TransportError", httpx_unknown_ca),
        ("yaml_python_tag", "validation", "py-extra18", "YAMLError", yaml_tag),
        ("pydantic_int", "validation", "py-extra18", "ValidationError", pydantic_int),
        ("jinja_undefined", "programming", "py-extra18", "UndefinedError", jinja_undefined),
        ("int_hex", "validation", "py-extra18", "ValueError", int_hex),
        ("json_complex", "programming", "py-extra18", "TypeError", json_complex),
        ("regex_bad", "programming", "py-extra18", "error|PatternError", regex_bad),
        ("copytree_exists", "filesystem", "py-extra18", "FileExistsError", copytree_exists),
        ("dns_invalid", "network", "py-extra18", "gaierror", dns_invalid),
        ("smtp_reset", "network", "py-extra18", "SMTPServerDisconnected|ConnectionResetError|OSError", smtp_reset),
    ]


NODE: list[ToolCase] = [
    ("node_fetch_reason_429", "resource", "Too Many Requests",
     "const r = await fetch('HTTPURL/status/429'); if (!r.ok) throw new Error(r.statusText);"),
    ("node_fetch_reason_401", "auth", "Unauthorized",
     "const r = await fetch('HTTPURL/status/401'); if (!r.ok) throw new Error(r.statusText);"),
    ("node_fetch_reason_502", "service", "Bad Gateway",
     "const r = await fetch('HTTPURL/status/502'); if (!r.ok) throw new Error(r.statusText);"),
    ("node_https_unknown_ca_client", "auth", "unknown ca",
     "const fs = require('fs'); const req = require('https').get({host: '127.0.0.1', port: TLSPORT, path: '/', "
     "ca: fs.readFileSync('CAFILE'), cert: fs.readFileSync('CLIENTCERT'), key: fs.readFileSync('CLIENTKEY')}, "
     "(res) => res.resume()); req.on('error', (e) => { throw e; })"),
    ("node_json_unquoted", "validation", "SyntaxError", "JSON.parse('{retries: 3}')"),
    ("node_null_length", "programming", "TypeError", "const cfg = null; console.log(cfg.length)"),
    ("node_rmdir_not_empty", "filesystem", "ENOTEMPTY|EBUSY|EPERM", "require('fs').rmdirSync('/etc')"),
    ("node_refused", "network", "ECONNREFUSED",
     "require('net').connect(CLOSED, '127.0.0.1').on('error', (e) => { throw e; })"),
]

JAVA: dict[str, tuple[str, str]] = {
    "parse_empty": ("validation", 'Integer.parseInt("");'),
    "substring": ("programming", 'String s = "abc"; int n = Integer.parseInt("5"); s.substring(n);'),
    "delete_missing": ("filesystem", 'java.nio.file.Files.delete(java.nio.file.Path.of("/srv/blind21/x.lock"));'),
    "unknown_host": ("network", 'new java.net.Socket("db.blind21.invalid", 5432);'),
}
_JAVA_EXPECTED = {"parse_empty": "NumberFormatException", "substring": "StringIndexOutOfBounds",
                  "delete_missing": "NoSuchFileException", "unknown_host": "UnknownHostException"}

SHELL: list[ToolCase] = [
    ("shell_wget_unknown_ca_client", "auth", "alert|unknown ca|certificate",
     "wget -nv --tries=1 --ca-certificate=CAFILE --certificate=CLIENTCERT --private-key=CLIENTKEY "
     "https://127.0.0.1:TLSPORT/ -O /dev/null"),
    ("shell_sort_disk_full", "resource", "No space left",
     "seq 1 200000 > numbers.txt && sort -o FULLDIR/sorted.txt numbers.txt"),
    ("shell_redis_cli_acl_denied", "auth", "NOPERM",
     "redis-cli -e -p ACLPORT --user reports --pass right-password get billing:1"),
    ("shell_curl_507", "resource", "507", "curl -sS -f HTTPURL/status/507"),
    ("shell_wget_511", "auth", "511", "wget -nv --tries=1 HTTPURL/status/511 -O /dev/null"),
]

GIT: list[ToolCase] = [
    ("git_rm_missing", "git", "did not match", ["git", "rm", "nope-blind21.txt"]),
    ("git_cherry_pick_unknown", "git", "nope-blind21", ["git", "cherry-pick", "nope-blind21"]),
    ("git_commit_nothing", "git", "nothing", ["git", "commit", "-m", "empty"]),
]


def blind21_records(env: Env) -> list[Record]:
    tls = client_cert_server(env)
    client = (str(env.tmp / "client.pem"), str(env.tmp / "client.key"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=client",
                    "-keyout", client[1], "-out", client[0]], check=True, capture_output=True)
    full = mount_tmpfs(env, "full21", "size=256k")
    run(["bash", "-c", f"head -c 1000000 /dev/zero > {full}/filler"])
    pg_py, pg_tools = _pg_cases(env)
    acl_cases, acl_port = _redis_acl(env)

    def fill(text: str) -> str:
        return (text.replace("HTTPURL", env.http).replace("TLSPORT", str(tls.port)).replace("CAFILE", str(tls.cafile))
                .replace("CLIENTCERT", client[0]).replace("CLIENTKEY", client[1]).replace("FULLDIR", str(full))
                .replace("ACLPORT", str(acl_port)).replace("CLOSED", str(env.closed_port)))

    out = python_records(_pool_cases(env) + pg_py + _rabbit_cases() + acl_cases
                         + _py_cases(env, tls.port, str(tls.cafile), client))
    out += tool_records(pg_tools, "shell-extra18", env.tmp)
    node = [(n, c, t, ["node", *(["--input-type=module"] if "await" in s else []), "-e", fill(s)])
            for n, c, t, s in NODE]
    out += tool_records(node, "node-extra19", env.tmp)
    for rec in java_records(env, JAVA, "java-extra19"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra19_")]):
            out.append(rec)
    out += tool_records(SHELL, "shell-extra18", env.tmp, fill)
    repo = env.tmp / "blind21-repo"
    repo.mkdir()
    run(["bash", "-c", "git init -q -b main && echo a > a.txt && git add a.txt && git commit -q -m one"], cwd=repo,
        env=_GIT_ENV)
    out += tool_records(GIT, "git-extra18", repo)
    return out


if __name__ == "__main__":
    write_batch(blind21_records)


__all__ = ["BLIND21_SOURCES", "blind21_records"]
