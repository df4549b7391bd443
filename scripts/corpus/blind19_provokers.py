"""Nineteenth batch of blind provokers, written after batch 18 had been scored, its misses read, the rules
generalised (client-certificate alerts, MQTT refusals, pool phrasings, busy servers, size limits, EFBIG, the
pg8000 SQLSTATE dict), the model retrained on batches 1-18 and the combination thresholds re-chosen; generated
and scored once, blind, before anyone read its texts. Weighted to resource/auth/service again, with new sources:
SQLAlchemy over pg8000 and mysql-connector against a private PostgreSQL, a Redis replica, RabbitMQ exclusive-queue
locks and per-user connection limits, MariaDB hourly query limits, client-certificate refusals seen by
urllib/requests/openssl/wget, joserfc claims, Node.js worker heap limits, memory and process rlimits on sort,
git and Python, a full tmpfs under sqlite3 (Python), git over HTTP, Java and stdlib input errors. Only
127.0.0.1."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from checked import PyCase, ToolCase, has_token, python_records, tool_records
from common import Env, Record, run, write_batch
from runtime_provokers import java_records
from servers import client_cert_server, mount_tmpfs, private_postgres, private_redis

BLIND19_SOURCES = frozenset({"sqlalchemy-pg8000", "sqlalchemy-mysql", "redis-replica", "pika-extra2",
                             "mysql-connector2", "py-extra16", "joserfc2", "node-extra17", "java-extra17",
                             "shell-extra16"})
_PW = "right-password"


def _mariadb(sql: str) -> None:
    proc = run(["mariadb", "-h", "127.0.0.1", "-u", "root", "-e", sql])
    if proc.returncode:
        raise RuntimeError(f"mariadb setup failed: {proc.stderr.strip()}")


def _sqlalchemy_cases(env: Env) -> list[PyCase]:
    import sqlalchemy

    pg = private_postgres(env, max_connections=3, reserved=0)
    held: list[Any] = []

    def select(url: str, sql: str = "select 1") -> Callable[[], None]:
        def fn() -> None:
            engine = sqlalchemy.create_engine(url, pool_pre_ping=False)
            try:
                with engine.connect() as conn:
                    conn.execute(sqlalchemy.text(sql))
            finally:
                engine.dispose()
        return fn

    def crowded() -> None:
        engine = sqlalchemy.create_engine(f"postgresql+pg8000://postgres@127.0.0.1:{pg.port}/postgres",
                                          pool_size=5)
        held.extend(engine.connect() for _ in range(4))

    for host in ("%", "localhost"):
        _mariadb(f"CREATE USER IF NOT EXISTS 'blind19'@'{host}' IDENTIFIED BY '{_PW}'")
    return [
        ("sa_pg8000_wrong_password", "auth", "sqlalchemy-pg8000", "DatabaseError",
         select(f"postgresql+pg8000://app:wrong-password@127.0.0.1:{pg.port}/postgres")),
        ("sa_pg8000_too_many_clients", "resource", "sqlalchemy-pg8000", "DatabaseError", crowded),
        ("sa_pg8000_no_table", "programming", "sqlalchemy-pg8000", "DatabaseError|ProgrammingError",
         select("postgresql+pg8000://postgres@127.0.0.1:5432/test", "select * from nope_blind19")),
        ("sa_pg8000_hang", "network", "sqlalchemy-pg8000", "InterfaceError|DBAPIError",
         select(f"postgresql+pg8000://postgres@127.0.0.1:{env.hang_port}/test?timeout=1")),
        ("sa_mysql_wrong_password", "auth", "sqlalchemy-mysql", "DatabaseError|ProgrammingError",
         select("mysql+mysqlconnector://blind19:wrong-password@127.0.0.1:3306/mysql")),
        ("sa_mysql_syntax", "programming", "sqlalchemy-mysql", "ProgrammingError",
         select("mysql+mysqlconnector://root@127.0.0.1:3306/mysql", "selct 1")),
    ]


def _redis_cases(env: Env) -> tuple[list[PyCase], int]:
    import redis

    primary = private_redis(env)
    replica = private_redis(env, "--replicaof", "127.0.0.1", str(primary))
    return [("redis_replica_readonly", "service", "redis-replica", "ReadOnlyError|ResponseError",
             lambda: redis.Redis(port=replica, socket_timeout=3).set("blind19:key", "v"))], replica


def _rabbit_cases() -> list[PyCase]:
    import pika

    for args in (["add_user", "blind19", _PW], ["set_permissions", "-p", "/", "blind19", ".*", ".*", ".*"],
                 ["set_user_limits", "blind19", '{"max-connections": 1}']):
        run(["rabbitmqctl", "-q", *args], timeout=60)
    params = pika.ConnectionParameters("127.0.0.1", 5672, credentials=pika.PlainCredentials("blind19", _PW),
                                       connection_attempts=1, socket_timeout=3)

    def locked() -> None:
        owner = pika.BlockingConnection(params)
        try:
            owner.channel().queue_declare("blind19.exclusive", exclusive=True)
            other = pika.BlockingConnection(pika.ConnectionParameters(
                "127.0.0.1", 5672, credentials=pika.PlainCredentials("guest", "guest"), connection_attempts=1))
            try:
                other.channel().basic_consume("blind19.exclusive", lambda *a: None)
            finally:
                with contextlib.suppress(Exception):
                    other.close()
        finally:
            owner.close()

    def over_limit() -> None:
        first = pika.BlockingConnection(params)
        try:
            pika.BlockingConnection(params)
        finally:
            first.close()

    return [("pika_exclusive_locked", "resource", "pika-extra2", "ChannelClosedByBroker", locked),
            ("pika_user_connection_limit", "resource", "pika-extra2", "AMQPConnectionError", over_limit)]


def _mysql_cases() -> list[PyCase]:
    import mysql.connector

    for host in ("%", "localhost"):
        _mariadb(f"CREATE USER IF NOT EXISTS 'blind19q'@'{host}' IDENTIFIED BY '{_PW}' WITH MAX_QUERIES_PER_HOUR 1")

    def queries() -> None:
        conn = mysql.connector.connect(host="127.0.0.1", user="blind19q", password=_PW, connection_timeout=3)
        try:
            for _ in range(3):
                cur = conn.cursor()
                cur.execute("select 1")
                cur.fetchall()
        finally:
            conn.close()

    return [("mysql_queries_per_hour", "resource", "mysql-connector2", "Error", queries)]


def _py_cases(env: Env, tls_port: int, cafile: str, full: str) -> list[PyCase]:
    def urllib_no_cert() -> None:
        import ssl
        import urllib.request

        urllib.request.urlopen(f"https://127.0.0.1:{tls_port}/", context=ssl.create_default_context(cafile=cafile),
                               timeout=3).read()

    def requests_no_cert() -> None:
        import requests

        requests.get(f"https://127.0.0.1:{tls_port}/", verify=cafile, timeout=3)

    def sqlite_full() -> None:
        import sqlite3

        db = sqlite3.connect(f"{full}/py.db")
        db.execute("create table t (x)")
        db.execute("insert into t values (zeroblob(2000000))")
        db.commit()

    def claims(**options: Any) -> Callable[[], None]:
        def fn() -> None:
            from joserfc import jwt
            from joserfc.jwk import OctKey

            key = OctKey.import_key("blind19-signing-secret-0123456789abcdef")
            token = jwt.encode({"alg": "HS256"}, {"sub": "svc", "iss": "other-issuer", "aud": "billing",
                                                  "nbf": int(time.time()) + 3600}, key)
            jwt.JWTClaimsRegistry(**options).validate(jwt.decode(token, key).claims)
        return fn

    def ip_bad() -> None:
        import ipaddress

        ipaddress.ip_address("300.1.1.1")

    def zone_bad() -> None:
        import zoneinfo

        zoneinfo.ZoneInfo("Mars/Olympus_Mons")

    def b64_bad() -> None:
        import base64

        base64.b64decode("not base64!", validate=True)

    def struct_short() -> None:
        import struct

        struct.unpack(">I", b"ab")

    def reduce_empty() -> None:
        import functools

        functools.reduce(lambda a, b: a + b, [])

    def rename_missing() -> None:
        import os

        os.rename(env.tmp / "blind19-nope.txt", env.tmp / "out.txt")

    return [
        ("urllib_no_client_cert", "auth", "py-extra16", "URLError|SSLError", urllib_no_cert),
        ("requests_no_client_cert", "auth", "py-extra16", "RequestException", requests_no_cert),
        ("sqlite_disk_full", "resource", "py-extra16", "OperationalError", sqlite_full),
        ("jwt_wrong_issuer", "auth", "joserfc2", "JoseError", claims(iss={"essential": True, "value": "auth.local"})),
        ("jwt_not_yet_valid", "auth", "joserfc2", "JoseError", claims()),
        ("ip_bad", "validation", "py-extra16", "ValueError", ip_bad),
        ("zone_bad", "validation", "py-extra16", "ZoneInfoNotFoundError", zone_bad),
        ("b64_bad", "validation", "py-extra16", "Error", b64_bad),
        ("struct_short", "validation", "py-extra16", "error", struct_short),
        ("reduce_empty", "programming", "py-extra16", "TypeError", reduce_empty),
        ("rename_missing", "filesystem", "py-extra16", "FileNotFoundError", rename_missing),
    ]


NODE: list[ToolCase] = [
    ("node_worker_oom", "resource", "ERR_WORKER_OUT_OF_MEMORY",
     "const { Worker } = require('worker_threads'); const w = new Worker('const a = []; "
     "for (;;) a.push(new Array(100000).fill(1));', { eval: true, resourceLimits: { maxOldGenerationSizeMb: 8 } }); "
     "w.on('error', (e) => { throw e; })"),
    ("node_http_502", "service", "502",
     "require('http').get('HTTPURL/status/502', (res) => { if (res.statusCode >= 500) { "
     "const e = new Error('request failed'); e.status = res.statusCode; e.statusText = res.statusMessage; "
     "throw e; } })"),
    ("node_http_429", "resource", "429",
     "require('http').get('HTTPURL/status/429', (res) => { throw new Error(`rejected: ${res.statusCode} "
     "${res.statusMessage}, retry after ${res.headers['retry-after']} s`); })"),
    ("node_rename_missing", "filesystem", "ENOENT", "require('fs').renameSync('/srv/blind19/a', '/srv/blind19/b')"),
    ("node_bigint", "validation", "SyntaxError", "BigInt('12.5')"),
]

JAVA: dict[str, tuple[str, str]] = {
    "httpurl_403": ("auth", 'var c = (java.net.HttpURLConnection) new java.net.URL("http://127.0.0.1:HTTP/status/403")'
                            '.openConnection(); if (c.getResponseCode() != 200) throw new RuntimeException('
                            '"request rejected: " + c.getResponseCode() + " " + c.getResponseMessage());'),
    "httpurl_503": ("service", 'var c = (java.net.HttpURLConnection) new java.net.URL("http://127.0.0.1:HTTP/status/'
                               '503").openConnection(); c.getInputStream();'),
    "move_missing": ("filesystem", 'java.nio.file.Files.move(java.nio.file.Path.of("/srv/blind19/a.txt"), '
                                   'java.nio.file.Path.of("/tmp/b.txt"));'),
    "parse_int": ("validation", 'Integer.valueOf("4O96");'),
}
_JAVA_EXPECTED = {"httpurl_403": "403", "httpurl_503": "503", "move_missing": "NoSuchFileException",
                  "parse_int": "NumberFormatException"}

SHELL: list[ToolCase] = [
    ("shell_openssl_no_client_cert", "auth", "certificate required",
     "echo Q | openssl s_client -connect 127.0.0.1:TLSPORT -CAfile CAFILE -quiet 2>&1 >/dev/null; exit 1"),
    ("shell_wget_no_client_cert", "auth", "certificate|alert|SSL",
     "wget -nv --tries=1 --ca-certificate=CAFILE https://127.0.0.1:TLSPORT/ -O /dev/null"),
    ("shell_sort_memory", "resource", "memory exhausted",
     "head -c 20000000 /dev/urandom | od -An -tx1 > big.txt; ulimit -v 60000; sort -S 40M big.txt > /dev/null"),
    ("shell_python_nproc_pool", "resource", "Resource temporarily unavailable",
     "setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \"ulimit -u 4; cd /tmp; /usr/bin/python3 -c '"
     "import multiprocessing as m\nif __name__ == \\\"__main__\\\":\n    m.set_start_method(\\\"fork\\\")\n"
     "    m.Pool(16)'\""),
    ("shell_mariadb_admin_wrong_password", "auth", "Access denied",
     "mariadb-admin -h 127.0.0.1 -u blind19 -pwrong-password ping"),
    ("shell_git_fetch_429", "resource", "429", "git ls-remote HTTPURL/status/429/repo.git"),
    ("shell_git_ls_remote_502", "service", "502", "git ls-remote HTTPURL/status/502/repo.git"),
    ("shell_redis_cli_readonly", "service", "READONLY", "redis-cli -e -p REPLICA set blind19:k v"),
]


def blind19_records(env: Env) -> list[Record]:
    tls = client_cert_server(env)
    full = mount_tmpfs(env, "full19", "size=256k")
    run(["bash", "-c", f"head -c 1000000 /dev/zero > {full}/filler"])
    out = python_records(_sqlalchemy_cases(env))
    redis_cases, replica_port = _redis_cases(env)
    out += python_records(redis_cases + _rabbit_cases() + _mysql_cases()
                          + _py_cases(env, tls.port, str(tls.cafile), str(full)))

    def fill(text: str) -> str:
        return (text.replace("HTTPURL", env.http).replace("TLSPORT", str(tls.port)).replace("CAFILE", str(tls.cafile))
                .replace("REPLICA", str(replica_port)))

    out += tool_records([(n, c, t, ["node", "-e", fill(s)]) for n, c, t, s in NODE], "node-extra17", env.tmp)
    for rec in java_records(env, JAVA, "java-extra17"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra17_")]):
            out.append(rec)
    out += tool_records(SHELL, "shell-extra16", env.tmp, fill)
    return out


if __name__ == "__main__":
    write_batch(blind19_records)


__all__ = ["BLIND19_SOURCES", "blind19_records"]
