"""Twentieth batch of blind provokers, written after batch 19 had been scored, its misses read (token claims are
auth), the rules generalised and the model retrained on batches 1-19; generated and scored once, blind, before
anyone read its texts. Weighted to resource/auth/service, from sources not yet in the corpus: a private
PostgreSQL as a standby refusing connections, refusing a database without CONNECT privilege, a pg_hba reject
line and a lock table too small; MariaDB locked and expired accounts and hourly update limits (PyMySQL and the
CLI); RabbitMQ queue permissions and a vhost queue limit; a Redis replica whose primary is gone; a real FTP
server (pyftpdlib: wrong password, connection cap, read-only user) seen by ftplib, curl and wget; a real SMTP
server (aiosmtpd: authentication required, message size limit); TLS client certificates refused by Java and
for an unknown CA; Java direct memory, Node.js spawn buffers; full and inode-starved tmpfs mounts (gzip, git
clone, mkdir, tempfile); git, stdlib, Node.js and Java input and code errors. Only 127.0.0.1."""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from checked import PyCase, ToolCase, has_token, python_records, tool_records
from common import Env, Record, free_port, git_env, run, write_batch
from runtime_provokers import java_records
from servers import client_cert_server, mount_tmpfs, private_postgres, private_redis

BLIND20_SOURCES = frozenset({"pg-private2", "pymysql2", "pika-extra3", "redis-replica2", "ftplib", "pyftpdlib-cli",
                             "aiosmtpd2", "py-extra17", "node-extra18", "java-extra18", "shell-extra17",
                             "git-extra17"})
_PW = "right-password"
_GIT_ENV = git_env("blind20")


def _mariadb(sql: str) -> None:
    proc = run(["mariadb", "-h", "127.0.0.1", "-u", "root", "-e", sql])
    if proc.returncode:
        raise RuntimeError(f"mariadb setup failed: {proc.stderr.strip()}")


def _pg_cases(env: Env) -> tuple[list[PyCase], list[ToolCase]]:
    import pg8000.native
    import psycopg

    standby = private_postgres(env, standby=True)
    main = private_postgres(env, max_connections=10, extra_hba="host all blocked 127.0.0.1/32 reject\n",
                            settings="-c max_locks_per_transaction=10")
    setup = ["CREATE ROLE blocked LOGIN", "CREATE ROLE visitor LOGIN", "CREATE DATABASE private_db",
             "REVOKE CONNECT ON DATABASE private_db FROM PUBLIC"]
    for sql in setup:
        run(["psql", "-h", "127.0.0.1", "-p", str(main.port), "-U", "postgres", "-d", "postgres", "-c", sql])

    def psy(port: int, user: str, db: str = "postgres") -> Callable[[], None]:
        return lambda: psycopg.connect(host="127.0.0.1", port=port, user=user, dbname=db, connect_timeout=3).close()

    def many_locks() -> None:
        with psycopg.connect(host="127.0.0.1", port=main.port, user="postgres", dbname="postgres") as conn:
            for n in range(400):
                conn.execute(f"create temp table blind20_t{n} (x int)")

    py: list[PyCase] = [
        ("pg_standby_refuses", "service", "pg-private2", "OperationalError", psy(standby.port, "postgres")),
        ("pg8000_standby_refuses", "service", "pg-private2", "DatabaseError|InterfaceError",
         lambda: pg8000.native.Connection("postgres", host="127.0.0.1", port=standby.port, timeout=3)),
        ("pg_no_connect_privilege", "auth", "pg-private2", "OperationalError", psy(main.port, "visitor", "private_db")),
        ("pg_hba_reject", "auth", "pg-private2", "OperationalError", psy(main.port, "blocked")),
        ("pg_out_of_shared_memory", "resource", "pg-private2", "OutOfMemory|OperationalError|Error", many_locks),
    ]

    def psql(port: int, user: str, db: str = "postgres") -> list[str]:
        return ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", db, "-c", "select 1"]

    tools: list[ToolCase] = [
        ("shell_psql_standby", "service", "not accepting connections|hot standby", psql(standby.port, "postgres")),
        ("shell_psql_no_connect_privilege", "auth", "CONNECT privilege", psql(main.port, "visitor", "private_db")),
    ]
    return py, tools


def _mariadb_cases() -> tuple[list[PyCase], list[ToolCase]]:
    import pymysql

    for host in ("%", "localhost"):
        _mariadb(f"CREATE USER IF NOT EXISTS 'blind20lock'@'{host}' IDENTIFIED BY '{_PW}' ACCOUNT LOCK")
        _mariadb(f"CREATE USER IF NOT EXISTS 'blind20exp'@'{host}' IDENTIFIED BY '{_PW}' PASSWORD EXPIRE")
        _mariadb(f"CREATE USER IF NOT EXISTS 'blind20upd'@'{host}' IDENTIFIED BY '{_PW}' "
                 "WITH MAX_UPDATES_PER_HOUR 1")
        _mariadb(f"GRANT ALL ON blind20.* TO 'blind20upd'@'{host}'")
    _mariadb("CREATE DATABASE IF NOT EXISTS blind20")
    _mariadb("CREATE TABLE IF NOT EXISTS blind20.t (x int)")

    def connect(user: str) -> Any:
        return pymysql.connect(host="127.0.0.1", user=user, password=_PW, connect_timeout=3)

    def expired() -> None:
        conn = connect("blind20exp")
        try:
            conn.cursor().execute("select 1")
        finally:
            conn.close()

    def updates() -> None:
        conn = connect("blind20upd")
        try:
            for n in range(3):
                conn.cursor().execute("insert into blind20.t values (%s)", (n,))
                conn.commit()
        finally:
            conn.close()

    py: list[PyCase] = [
        ("pymysql_account_locked", "auth", "pymysql2", "OperationalError", lambda: connect("blind20lock")),
        ("pymysql_password_expired", "auth", "pymysql2", "OperationalError|InternalError", expired),
        ("pymysql_updates_per_hour", "resource", "pymysql2", "OperationalError", updates),
    ]
    tools: list[ToolCase] = [
        ("shell_mariadb_account_locked", "auth", "locked",
         f"mariadb -h 127.0.0.1 -u blind20lock -p{_PW} -e 'select 1'"),
        ("shell_mariadb_password_expired", "auth", "password",
         f"mariadb -h 127.0.0.1 -u blind20exp -p{_PW} -e 'select 1'"),
    ]
    return py, tools


def _rabbit_cases() -> list[PyCase]:
    import pika

    for args in (["add_user", "blind20", _PW], ["add_vhost", "blind20"],
                 ["set_permissions", "-p", "/", "blind20", "^$", ".*", ".*"],
                 ["set_permissions", "-p", "blind20", "blind20", ".*", ".*", ".*"],
                 ["set_vhost_limits", "-p", "blind20", '{"max-queues": 1}']):
        run(["rabbitmqctl", "-q", *args], timeout=60)

    def connection(vhost: str) -> Any:
        return pika.BlockingConnection(pika.ConnectionParameters(
            "127.0.0.1", 5672, vhost, pika.PlainCredentials("blind20", _PW), connection_attempts=1, socket_timeout=3))

    def declare(vhost: str, names: list[str]) -> Callable[[], None]:
        def fn() -> None:
            conn = connection(vhost)
            try:
                ch = conn.channel()
                for name in names:
                    ch.queue_declare(name, auto_delete=True)
            finally:
                with contextlib.suppress(Exception):
                    conn.close()
        return fn

    return [("pika_queue_permission", "auth", "pika-extra3", "ChannelClosedByBroker", declare("/", ["blind20.jobs"])),
            ("pika_vhost_queue_limit", "resource", "pika-extra3", "ChannelClosedByBroker",
             declare("blind20", ["blind20.a", "blind20.b", "blind20.c"]))]


def _ftp(env: Env) -> tuple[int, int, Path]:
    """A pyftpdlib server (user `app`, read-only user `reader`) and a second one that takes one client."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.ioloop import IOLoop
    from pyftpdlib.servers import FTPServer

    home = env.tmp / "ftp-home"
    home.mkdir()
    ports: list[int] = []
    for cap in (0, 1):
        authorizer = DummyAuthorizer()
        authorizer.add_user("app", _PW, str(home), perm="elradfmw")
        authorizer.add_user("reader", _PW, str(home), perm="elr")
        handler = type(f"Handler{cap}", (FTPHandler,), {"authorizer": authorizer})
        server = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())  # one loop per server and thread
        server.max_cons = cap
        threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2, "handle_exit": False},
                         daemon=True).start()
        env._closers.append(server.close_all)
        ports.append(server.address[1])
    return ports[0], ports[1], home


def _ftp_cases(port: int, capped: int, home: Path) -> list[PyCase]:
    import ftplib
    import io

    (home / "report.txt").write_text("x")

    def login(user: str, password: str, at: int = port) -> ftplib.FTP:
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", at, timeout=10)  # pyftpdlib answers a wrong password after a delay
        ftp.login(user, password)
        return ftp

    def too_many() -> None:
        first = login("app", _PW, capped)
        try:
            login("app", _PW, capped)
        finally:
            first.close()

    def read_only() -> None:
        ftp = login("reader", _PW)
        try:
            ftp.storbinary("STOR upload.bin", io.BytesIO(b"data"))
        finally:
            ftp.close()

    return [("ftplib_wrong_password", "auth", "ftplib", "error_perm", lambda: login("app", "wrong-password")),
            ("ftplib_too_many_connections", "resource", "ftplib", "error_temp", too_many),
            ("ftplib_read_only_user", "auth", "ftplib", "error_perm", read_only)]


def _smtp_cases(env: Env) -> list[PyCase]:
    import smtplib

    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, auth_required=True, auth_require_tls=False,
                            data_size_limit=200)
    controller.start()
    env._closers.append(controller.stop)
    port2 = free_port()
    sized = Controller(Handler(), hostname="127.0.0.1", port=port2, data_size_limit=200)
    sized.start()
    env._closers.append(sized.stop)

    def send(at: int, body: str) -> Callable[[], None]:
        def fn() -> None:
            with smtplib.SMTP("127.0.0.1", at, timeout=5) as smtp:
                smtp.sendmail("a@example.org", ["b@example.org"], f"Subject: report\n\n{body}")
        return fn

    return [("smtp_auth_required", "auth", "aiosmtpd2", "SMTPSenderRefused|SMTPResponseException", send(port, "hi")),
            ("smtp_too_much_data", "resource", "aiosmtpd2", "SMTPResponseException|SMTPDataError",
             send(port2, "x" * 5000))]


def _unknown_ca_client(env: Env) -> tuple[str, str]:
    """A self-signed client certificate that the client-certificate server does not trust."""
    cert, key = env.tmp / "client.pem", env.tmp / "client.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=client",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


def _py_cases(env: Env, tls_port: int, cafile: str, client: tuple[str, str], inodes: str) -> list[PyCase]:
    def ssl_unknown_ca() -> None:
        import socket
        import ssl

        ctx = ssl.create_default_context(cafile=cafile)
        ctx.load_cert_chain(*client)
        with socket.create_connection(("127.0.0.1", tls_port), timeout=3) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"hello")
            tls.recv(1024)

    def mkstemp_no_inodes() -> None:
        import tempfile

        for _ in range(40):
            tempfile.mkstemp(dir=inodes)

    def strptime_bad() -> None:
        import datetime

        datetime.datetime.strptime("2024-02-30", "%Y-%m-%d")

    def urlsplit_bad() -> None:
        import urllib.parse

        urllib.parse.urlsplit("http://[::1/path")

    def link_cross_device() -> None:
        import os

        src = env.tmp / "link-src.txt"
        src.write_text("x")
        os.link(src, Path(inodes).parent / "full20" / "link.txt")

    def rmtree_file() -> None:
        import shutil

        (env.tmp / "plain.txt").write_text("x")
        shutil.rmtree(env.tmp / "plain.txt")

    def format_index() -> None:
        template = "{0} of {1}"
        template.format(1)

    return [
        ("ssl_unknown_ca_client", "auth", "py-extra17", "SSLError", ssl_unknown_ca),
        ("mkstemp_no_inodes", "resource", "py-extra17", "OSError", mkstemp_no_inodes),
        ("strptime_bad_day", "validation", "py-extra17", "ValueError", strptime_bad),
        ("urlsplit_bad_ipv6", "validation", "py-extra17", "ValueError", urlsplit_bad),
        ("link_cross_device", "filesystem", "py-extra17", "OSError", link_cross_device),
        ("rmtree_file", "filesystem", "py-extra17", "NotADirectoryError", rmtree_file),
        ("format_index", "programming", "py-extra17", "IndexError", format_index),
    ]


NODE: list[ToolCase] = [
    ("node_spawn_enobufs", "resource", "ENOBUFS",
     "const r = require('child_process').spawnSync('head', ['-c', '100000', '/dev/zero'], { maxBuffer: 1024 }); "
     "if (r.error) throw r.error;"),
    ("node_structured_clone", "programming", "DataCloneError|could not be cloned", "structuredClone(() => 1)"),
    ("node_url_bad", "validation", "ERR_INVALID_URL", "new URL('http//no-colon')"),
]

JAVA: dict[str, tuple[str, str]] = {
    "client_cert": ("auth", 'System.setProperty("javax.net.ssl.trustStore", "TRUSTSTORE"); '
                            'System.setProperty("javax.net.ssl.trustStorePassword", "changeit"); '
                            'var c = java.net.http.HttpClient.newHttpClient(); c.send(java.net.http.HttpRequest'
                            '.newBuilder(java.net.URI.create("https://127.0.0.1:TLSPORT/")).build(), '
                            'java.net.http.HttpResponse.BodyHandlers.ofString());'),
    "list_of_null": ("programming", 'java.util.List.of("a", null);'),
    "duration_bad": ("validation", 'java.time.Duration.parse("5 minutes");'),
}
_JAVA_EXPECTED = {"client_cert": "certificate", "list_of_null": "NullPointerException",
                  "duration_bad": "DateTimeParseException"}

SHELL: list[ToolCase] = [
    ("shell_curl_ftp_wrong_password", "auth", "530|denied", "curl -sS ftp://app:wrong@127.0.0.1:FTPPORT/"),
    ("shell_wget_ftp_wrong_password", "auth", "Login|530",
     "wget -nv --tries=1 ftp://app:wrong@127.0.0.1:FTPPORT/report.txt -O /dev/null"),
    ("shell_curl_unknown_ca_client", "auth", "alert|unknown ca",
     "curl -sS --cacert CAFILE --cert CLIENTCERT --key CLIENTKEY https://127.0.0.1:TLSPORT/"),
    ("shell_java_direct_memory", "resource", "direct buffer memory",
     "cd DIRECTDIR && java -XX:MaxDirectMemorySize=1m Direct.java"),
    ("shell_gzip_disk_full", "resource", "No space left", "head -c 2000000 /dev/urandom | gzip > FULLDIR/out.gz"),
    ("shell_git_clone_disk_full", "resource", "No space left|write error",
     "git clone -q SOURCEREPO FULLDIR/clone"),
    ("shell_mkdir_no_inodes", "resource", "No space left",
     "for i in $(seq 1 40); do mkdir INODEDIR/d$i || exit 1; done"),
    ("shell_redis_cli_masterdown", "service", "MASTERDOWN", "redis-cli -e -p REPLICA get blind20:k"),
]

GIT: list[ToolCase] = [
    ("git_notes_show_none", "git", "no note", ["git", "notes", "show"]),
    ("git_branch_not_merged", "git", "not fully merged", ["git", "branch", "-d", "topic"]),
    ("git_restore_bad_source", "git", "nope-blind20", ["git", "restore", "--source", "nope-blind20", "a.txt"]),
]


def blind20_records(env: Env) -> list[Record]:
    tls = client_cert_server(env)
    client = _unknown_ca_client(env)
    full = mount_tmpfs(env, "full20", "size=256k")
    run(["bash", "-c", f"head -c 1000000 /dev/zero > {full}/filler"])
    inodes = mount_tmpfs(env, "inodes20", "nr_inodes=6")
    truststore = env.tmp / "trust.jks"
    run(["keytool", "-importcert", "-noprompt", "-alias", "corpus", "-file", str(tls.cafile), "-keystore",
         str(truststore), "-storepass", "changeit"])
    direct = env.tmp / "direct"
    direct.mkdir()
    (direct / "Direct.java").write_text("public class Direct { public static void main(String[] a) { "
                                        "java.nio.ByteBuffer.allocateDirect(16 << 20); } }\n")
    source_repo = env.tmp / "blind20-source"
    source_repo.mkdir()
    run(["bash", "-c", "git init -q -b main && head -c 2000000 /dev/urandom > blob.bin && git add blob.bin && "
                       "git commit -q -m blob"], cwd=source_repo, env=_GIT_ENV)
    port = free_port()
    replica = private_redis(env, "--replicaof", "127.0.0.1", str(port), "--replica-serve-stale-data", "no")
    ftp_port, ftp_capped, ftp_home = _ftp(env)

    def fill(text: str) -> str:
        return (text.replace("FTPPORT", str(ftp_port)).replace("TLSPORT", str(tls.port))
                .replace("CAFILE", str(tls.cafile)).replace("CLIENTCERT", client[0]).replace("CLIENTKEY", client[1])
                .replace("DIRECTDIR", str(direct)).replace("FULLDIR", str(full)).replace("INODEDIR", str(inodes))
                .replace("SOURCEREPO", str(source_repo)).replace("REPLICA", str(replica))
                .replace("TRUSTSTORE", str(truststore)))

    import redis

    pg_py, pg_tools = _pg_cases(env)
    my_py, my_tools = _mariadb_cases()
    out = python_records(pg_py + my_py + _rabbit_cases() + _ftp_cases(ftp_port, ftp_capped, ftp_home)
                         + _smtp_cases(env) + _py_cases(env, tls.port, str(tls.cafile), client, str(inodes))
                         + [("redis_masterdown", "service", "redis-replica2", "MasterDownError|ResponseError",
                             lambda: redis.Redis(port=replica, socket_timeout=3).get("blind20:k"))])
    out += tool_records(pg_tools + my_tools, "shell-extra17", env.tmp)
    out += tool_records([(n, c, t, ["node", "-e", s]) for n, c, t, s in NODE], "node-extra18", env.tmp)
    java = {mode: (cat, fill(body)) for mode, (cat, body) in JAVA.items()}
    for rec in java_records(env, java, "java-extra18"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra18_")]):
            out.append(rec)
    time.sleep(0.1)
    out += tool_records(SHELL, "shell-extra17", env.tmp, fill)
    repo = env.tmp / "blind20-repo"
    repo.mkdir()
    run(["bash", "-c", "git init -q -b main && echo a > a.txt && git add a.txt && git commit -q -m one && "
                       "git checkout -q -b topic && echo b > b.txt && git add b.txt && git commit -q -m two && "
                       "git checkout -q main"], cwd=repo, env=_GIT_ENV)
    out += tool_records(GIT, "git-extra17", repo)
    return out


if __name__ == "__main__":
    write_batch(blind20_records)


__all__ = ["BLIND20_SOURCES", "blind20_records"]
