"""Twenty-second batch of blind provokers, written after batch 21 had been scored, its misses read (empty pools,
507 Insufficient Storage), the rules generalised and the model retrained on batches 1-21; generated and scored
once, blind, before anyone read its texts. About half resource/auth/service: Java executor rejections, a
Redis at its memory cap seen by redis-cli, pip and npm against registries answering 401/403/429, MQTT v5
publishes the broker's ACL refuses, ssh-keygen/openssl/zipfile with wrong passphrases, PostgreSQL roles and
functions the user may not use, a MariaDB grant without GRANT OPTION, an XML-RPC server failing inside, psql
sessions terminated by an administrator; the rest stdlib, Node.js, Java, PostgreSQL and git failures of
every other kind. Only 127.0.0.1."""

from __future__ import annotations

import threading
from typing import Any

from checked import PyCase, ToolCase, has_token, python_records, tool_records
from common import Env, Record, git_env, run, write_batch
from runtime_provokers import java_records
from servers import private_mosquitto, private_redis

BLIND22_SOURCES = frozenset({"py-extra19", "pg8000-2", "mysql-connector3", "xmlrpc-server", "node-extra20",
                             "java-extra20", "shell-extra19", "git-extra19", "pip-extra", "npm-extra"})
_PW = "right-password"
_GIT_ENV = git_env("blind22")


def _xmlrpc_server(env: Env) -> int:
    """A real XML-RPC server whose `report` method fails inside the server."""
    from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

    class Quiet(SimpleXMLRPCRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

    server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=Quiet, logRequests=False)

    def report(rows: list[int]) -> float:
        return sum(rows) / len(rows)

    server.register_function(report)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.shutdown)
    return int(server.server_address[1])


def _py_cases(env: Env, rpc_port: int) -> list[PyCase]:
    import pg8000.native

    def pg() -> pg8000.native.Connection:
        return pg8000.native.Connection("blind22_reader", host="127.0.0.1", database="test", timeout=5)

    for sql in ("DO $$BEGIN CREATE ROLE blind22_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$",
                "DO $$BEGIN CREATE ROLE blind22_admin; EXCEPTION WHEN duplicate_object THEN NULL; END$$"):
        run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", sql])

    def zip_bad_password() -> None:
        import zipfile

        run(["bash", "-c", "cd /tmp && echo secret > blind22.txt && rm -f blind22.zip && "
                           "zip -q -P right blind22.zip blind22.txt"])
        with zipfile.ZipFile("/tmp/blind22.zip") as z:
            z.read("blind22.txt", pwd=b"wrong")

    def rpc_fault() -> None:
        import xmlrpc.client

        xmlrpc.client.ServerProxy(f"http://127.0.0.1:{rpc_port}/").report([])

    def frozen() -> None:
        import dataclasses

        @dataclasses.dataclass(frozen=True)
        class Limits:
            retries: int

        Limits(3).retries = 4  # type: ignore[misc]

    def abstract() -> None:
        import abc

        class Store(abc.ABC):
            @abc.abstractmethod
            def get(self) -> None: ...

        Store()  # type: ignore[abstract]

    def config_duplicate() -> None:
        import configparser

        configparser.ConfigParser().read_string("[db]\nhost = a\n[db]\nhost = b\n")

    def plist_bad() -> None:
        import plistlib

        plistlib.loads(b"not a plist at all")

    def unlink_dir() -> None:
        (env.tmp / "adir").mkdir(exist_ok=True)
        (env.tmp / "adir").unlink()

    def ftp_refused() -> None:
        import ftplib

        ftplib.FTP().connect("127.0.0.1", env.closed_port, timeout=3)

    return [
        ("pg8000_set_role_denied", "auth", "pg8000-2", "DatabaseError", lambda: pg().run("set role blind22_admin")),
        ("pg8000_read_file_denied", "auth", "pg8000-2", "DatabaseError",
         lambda: pg().run("select pg_read_file('/etc/hostname')")),
        ("pg8000_stack_depth", "programming", "pg8000-2", "DatabaseError",
         lambda: pg8000.native.Connection("postgres", host="127.0.0.1", database="test", timeout=5).run(
             "create or replace function pg_temp.f(n int) returns int as 'select pg_temp.f($1 + 1)' language sql; "
             "select pg_temp.f(1)")),
        ("zip_bad_password", "auth", "py-extra19", "RuntimeError", zip_bad_password),
        ("xmlrpc_server_fault", "service", "xmlrpc-server", "Fault", rpc_fault),
        ("dataclass_frozen", "programming", "py-extra19", "FrozenInstanceError", frozen),
        ("abstract_instance", "programming", "py-extra19", "TypeError", abstract),
        ("config_duplicate", "validation", "py-extra19", "DuplicateSectionError", config_duplicate),
        ("plist_bad", "validation", "py-extra19", "InvalidFileException", plist_bad),
        ("unlink_dir", "filesystem", "py-extra19", "IsADirectoryError|PermissionError", unlink_dir),
        ("ftp_refused", "network", "py-extra19", "ConnectionRefusedError", ftp_refused),
    ]


def _mysql_cases() -> list[PyCase]:
    import mysql.connector

    for host in ("%", "localhost"):
        run(["mariadb", "-h", "127.0.0.1", "-u", "root", "-e",
             f"CREATE USER IF NOT EXISTS 'blind22'@'{host}' IDENTIFIED BY '{_PW}'"])

    def grant() -> None:
        conn = mysql.connector.connect(host="127.0.0.1", user="blind22", password=_PW, connection_timeout=3)
        try:
            conn.cursor().execute("GRANT SELECT ON mysql.* TO 'blind22'@'%'")
        finally:
            conn.close()

    return [("mysql_grant_denied", "auth", "mysql-connector3", "ProgrammingError|DatabaseError", grant)]


NODE: list[ToolCase] = [
    ("node_intl_currency", "programming", "TypeError", "new Intl.NumberFormat('en', { style: 'currency' })"),
    ("node_uri_malformed", "validation", "URIError", "decodeURIComponent('%E0%A4%A')"),
    ("node_http_timeout", "network", "timed out|timeout",
     "const r = require('http').get('http://127.0.0.1:HANG/', { timeout: 300 }); "
     "r.on('timeout', () => r.destroy(new Error('request to 127.0.0.1:HANG timed out'))); "
     "r.on('error', (e) => { throw e; })"),
]

JAVA: dict[str, tuple[str, str]] = {
    "executor_rejected": ("resource", 'var ex = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0L, '
                                      'java.util.concurrent.TimeUnit.SECONDS, '
                                      'new java.util.concurrent.ArrayBlockingQueue<Runnable>(1)); '
                                      'try { for (int i = 0; i < 3; i++) ex.execute(() -> { try { Thread.sleep(2000); '
                                      '} catch (InterruptedException e) { } }); } finally { ex.shutdownNow(); }'),
    "url_407": ("auth", 'new java.net.URL("http://127.0.0.1:HTTP/status/407").openStream();'),
    "pattern_bad": ("programming", 'java.util.regex.Pattern.compile("(retry");'),
    "date_invalid": ("validation", 'java.time.LocalDate.of(2024, 2, 30);'),
    "read_dir": ("filesystem", 'java.nio.file.Files.readAllLines(java.nio.file.Path.of("/etc"));'),
    "reset": ("network", 'var c = java.net.http.HttpClient.newHttpClient(); c.send(java.net.http.HttpRequest'
                         '.newBuilder(java.net.URI.create("http://127.0.0.1:RESET/")).build(), '
                         'java.net.http.HttpResponse.BodyHandlers.ofString());'),
}
_JAVA_EXPECTED = {"executor_rejected": "RejectedExecution", "url_407": "407", "pattern_bad": "PatternSyntax",
                  "date_invalid": "DateTimeException", "read_dir": "directory", "reset": "IOException"}

SHELL: list[ToolCase] = [
    ("shell_redis_cli_oom", "resource", "OOM", "redis-cli -e -p MEMPORT set blind22:big \"$(head -c 3000000 /dev/zero "
                                               "| tr '\\0' x)\""),
    ("shell_mqtt5_publish_denied", "auth", "not authori",
     "mosquitto_pub -V mqttv5 -q 1 -h 127.0.0.1 -p MQTTPORT -u app -P right-password -t secret/payroll -m x"),
    ("shell_ssh_keygen_passphrase", "auth", "passphrase",
     "rm -f /tmp/blind22_key* && ssh-keygen -q -t ed25519 -N right-pass -f /tmp/blind22_key && "
     "ssh-keygen -y -P wrong-pass -f /tmp/blind22_key"),
    ("shell_openssl_rsa_passphrase", "auth", "decrypt|unable to load",
     "openssl genpkey -algorithm RSA -aes-256-cbc -pass pass:right -out /tmp/blind22.key 2>/dev/null && "
     "openssl pkey -in /tmp/blind22.key -passin pass:wrong -noout"),
    ("shell_psql_terminated", "service", "administrator command",
     "psql -h 127.0.0.1 -U postgres -d test -c 'select pg_terminate_backend(pg_backend_pid())'"),
    ("shell_psql_permission_function", "auth", "permission denied",
     "psql -h 127.0.0.1 -U blind22_reader -d test -c \"select pg_ls_dir('/')\""),
    ("shell_pip_401", "auth", "401", "PYEXE -m pip download --no-input --no-cache-dir --retries 0 -d /tmp/blind22-pip "
                                     "--index-url HTTPURL/status/401/simple blind22pkg"),
    ("shell_pip_429", "resource", "429", "PYEXE -m pip download --no-input --no-cache-dir --retries 0 "
                                         "-d /tmp/blind22-pip --index-url HTTPURL/status/429/simple blind22pkg"),
    ("shell_npm_403", "auth", "403", "npm view blind22pkg --registry HTTPURL/status/403/ --fetch-retries 0"),
    ("shell_npm_429", "resource", "429", "npm view blind22pkg --registry HTTPURL/status/429/ --fetch-retries 0"),
]

GIT: list[ToolCase] = [
    ("git_switch_unknown", "git", "nope-blind22", ["git", "switch", "nope-blind22"]),
    ("git_stash_apply_missing", "git", "stash", ["git", "stash", "apply", "stash@{5}"]),
    ("git_remote_exists", "git", "already exists", ["git", "remote", "add", "origin", "/tmp/blind22-elsewhere"]),
]


def blind22_records(env: Env) -> list[Record]:
    import sys

    mem_port = private_redis(env, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
    mqtt_port = private_mosquitto(env, acl="user app\ntopic readwrite public/#\n")
    rpc_port = _xmlrpc_server(env)

    def fill(text: str) -> str:
        return (text.replace("HTTPURL", env.http).replace("HANG", str(env.hang_port)).replace("MEMPORT", str(mem_port))
                .replace("MQTTPORT", str(mqtt_port)).replace("PYEXE", sys.executable))

    out = python_records(_py_cases(env, rpc_port) + _mysql_cases())
    out += tool_records([(n, c, t, ["node", "-e", fill(s)]) for n, c, t, s in NODE], "node-extra20", env.tmp)
    for rec in java_records(env, JAVA, "java-extra20"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra20_")]):
            out.append(rec)
    shell: list[ToolCase] = [(n, c, t, s) for n, c, t, s in SHELL if not n.startswith(("shell_pip", "shell_npm"))]
    out += tool_records(shell, "shell-extra19", env.tmp, fill)
    for prefix, source in (("shell_pip", "pip-extra"), ("shell_npm", "npm-extra")):
        cases: list[ToolCase] = [(n, c, t, s) for n, c, t, s in SHELL if n.startswith(prefix)]
        out += tool_records(cases, source, env.tmp, fill, timeout=120)
    repo = env.tmp / "blind22-repo"
    repo.mkdir()
    run(["bash", "-c", "git init -q -b main && echo a > a.txt && git add a.txt && git commit -q -m one && "
                       "git remote add origin /tmp/blind22-origin"], cwd=repo, env=_GIT_ENV)
    out += tool_records(GIT, "git-extra19", repo)
    return out


if __name__ == "__main__":
    write_batch(blind22_records)


__all__ = ["BLIND22_SOURCES", "blind22_records"]
