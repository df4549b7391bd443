"""Eighteenth batch of blind provokers, weighted to the thin categories (resource, auth, service): written
after batch 17 had been folded in and the shipped model trained on batches 1-17, generated and scored once,
blind, before anyone read its texts. New sources: a private PostgreSQL cluster (password auth, reserved and
exhausted connection slots, a smart shutdown in progress) reached by psycopg, pg8000 and psql; MariaDB through
mysql-connector-python; psycopg_pool; a private Redis blocked by a script; RabbitMQ through pika (vhost refused,
a full queue nacking, connections force-closed by the broker); a TLS server demanding a client certificate;
joserfc JWTs; requests and tenacity retry wrappers; a password-only mosquitto; wget statuses; tiny full tmpfs
mounts (sqlite3, tar, git, touch); rlimits (file size, processes); Node.js, Java and git. Only 127.0.0.1."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from checked import PyCase, ToolCase, has_token, python_records, tool_records
from common import Env, Record, git_env, record, run, write_batch
from runtime_provokers import java_records
from servers import client_cert_server, mount_tmpfs, private_mosquitto, private_postgres, private_redis

BLIND18_SOURCES = frozenset({"pg-private", "pg8000", "mysql-connector", "psycopg-pool", "redis-server3", "pika-extra",
                             "joserfc", "requests-retry", "tenacity-httpx", "py-extra15", "node-extra16",
                             "java-extra16", "wget-extra", "shell-extra15", "git-extra15"})
_GIT_ENV = git_env("blind18")
_PW = "right-password"


def _rabbit(*args: str) -> None:
    run(["rabbitmqctl", "-q", *args], timeout=60)


def _mariadb(sql: str) -> None:
    proc = run(["mariadb", "-h", "127.0.0.1", "-u", "root", "-e", sql])
    if proc.returncode:
        raise RuntimeError(f"mariadb setup failed: {proc.stderr.strip()}")


def _postgres_records(env: Env) -> list[Record]:
    """The private cluster: passwords, then slots, then a shutdown, in that order."""
    import pg8000.native
    import psycopg

    pg = private_postgres(env, max_connections=4, reserved=1)
    port = pg.port

    def psy(user: str, password: str | None = None) -> Callable[[], Any]:
        return lambda: psycopg.connect(host="127.0.0.1", port=port, user=user, password=password, dbname="postgres",
                                       connect_timeout=3).close()

    def p8(user: str, password: str | None = None) -> Callable[[], Any]:
        return lambda: pg8000.native.Connection(user, host="127.0.0.1", port=port, password=password,
                                                database="postgres", timeout=3).close()

    def psql(user: str, password: str = "") -> list[str]:
        return ["env", f"PGPASSWORD={password}", "psql", "-h", "127.0.0.1", "-p", str(port), "-U", user,
                "-d", "postgres", "-c", "select 1"]

    out = python_records([
        ("pg_wrong_password", "auth", "pg-private", "OperationalError", psy("app", "wrong-password")),
        ("pg8000_wrong_password", "auth", "pg8000", "DatabaseError", p8("app", "wrong-password")),
    ])
    out += tool_records([("shell_psql_wrong_password", "auth", "password authentication failed",
                          psql("app", "wrong-password"))], "shell-extra15", env.tmp)
    held = [psycopg.connect(host="127.0.0.1", port=port, user="app", password=_PW, dbname="postgres")
            for _ in range(3)]
    out += python_records([("pg8000_reserved_slots", "resource", "pg8000", "DatabaseError", p8("app", _PW))])
    out += tool_records([("shell_psql_reserved_slots", "resource", "reserved", psql("app", _PW))],
                        "shell-extra15", env.tmp)
    held.append(psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres"))
    out += python_records([("pg_too_many_clients", "resource", "pg-private", "OperationalError", psy("postgres"))])
    out += tool_records([("shell_psql_too_many_clients", "resource", "too many clients", psql("postgres"))],
                        "shell-extra15", env.tmp)
    for conn in held[:3]:
        conn.close()
    stopping = pg.pg_ctl("-m", "smart", "stop", wait=False)
    time.sleep(1.0)
    out += python_records([
        ("pg8000_shutting_down", "service", "pg8000", "DatabaseError", p8("postgres")),
        ("pg_shutting_down", "service", "pg-private", "OperationalError", psy("postgres")),
    ])
    out += tool_records([("shell_psql_shutting_down", "service", "shutting down", psql("postgres"))],
                        "shell-extra15", env.tmp)
    held[3].close()
    stopping.wait(timeout=60)
    return out


def _pg8000_cases(env: Env) -> list[PyCase]:
    import pg8000.native

    def shared() -> pg8000.native.Connection:
        return pg8000.native.Connection("postgres", host="127.0.0.1", port=5432, database="test", timeout=5)

    def terminated() -> None:
        victim, admin = shared(), shared()
        pid = victim.run("select pg_backend_pid()")[0][0]
        admin.run("select pg_terminate_backend(:pid)", pid=pid)
        admin.close()
        time.sleep(0.2)
        victim.run("select 1")

    def temp_limit() -> None:
        conn = shared()
        conn.run("set temp_file_limit = '64kB'")
        conn.run("set work_mem = '64kB'")
        conn.run("select g from generate_series(1, 300000) g order by md5(g::text)")

    return [
        ("pg8000_terminated", "service", "pg8000", "InterfaceError|DatabaseError", terminated),
        ("pg8000_temp_file_limit", "resource", "pg8000", "DatabaseError", temp_limit),
        ("pg8000_syntax", "programming", "pg8000", "DatabaseError", lambda: shared().run("selec 1")),
        ("pg8000_bad_integer", "validation", "pg8000", "DatabaseError", lambda: shared().run("select 'twelve'::int")),
        ("pg8000_refused", "network", "pg8000", "InterfaceError",
         lambda: pg8000.native.Connection("app", host="127.0.0.1", port=env.closed_port, timeout=3)),
    ]


def _mysql_cases(env: Env) -> list[PyCase]:
    import mysql.connector

    for host in ("%", "localhost"):
        _mariadb(f"CREATE USER IF NOT EXISTS 'blind18'@'{host}' IDENTIFIED BY '{_PW}'")
        _mariadb(f"CREATE USER IF NOT EXISTS 'blind18cap'@'{host}' IDENTIFIED BY '{_PW}' WITH MAX_USER_CONNECTIONS 1")

    def connect(user: str, password: str, port: int = 3306) -> Any:
        return mysql.connector.connect(host="127.0.0.1", port=port, user=user, password=password,
                                       connection_timeout=3)

    def capped() -> None:
        first = connect("blind18cap", _PW)
        try:
            connect("blind18cap", _PW)
        finally:
            first.close()

    def query(user: str, password: str, sql: str) -> Callable[[], None]:
        def fn() -> None:
            conn = connect(user, password)
            try:
                conn.cursor().execute(sql)
            finally:
                conn.close()
        return fn

    return [
        ("mysql_wrong_password", "auth", "mysql-connector", "ProgrammingError|DatabaseError",
         lambda: connect("blind18", "wrong-password")),
        ("mysql_max_user_connections", "resource", "mysql-connector", "Error", capped),
        ("mysql_refused", "network", "mysql-connector", "InterfaceError|DatabaseError",
         lambda: connect("blind18", _PW, env.closed_port)),
        ("mysql_select_denied", "auth", "mysql-connector", "ProgrammingError",
         query("blind18", _PW, "select * from mysql.user")),
        ("mysql_unknown_column", "programming", "mysql-connector", "ProgrammingError",
         query("root", "", "select nope_blind18 from information_schema.tables")),
    ]


def _pool_cases() -> list[PyCase]:
    from psycopg_pool import ConnectionPool

    def exhausted() -> None:
        with ConnectionPool("host=127.0.0.1 user=postgres dbname=test", min_size=1, max_size=1, timeout=0.3,
                            open=True) as pool, pool.connection(), pool.connection():
            pass

    def closed() -> None:
        pool = ConnectionPool("host=127.0.0.1 user=postgres dbname=test", min_size=1, max_size=1, open=True)
        pool.close()
        with pool.connection():
            pass

    return [("pool_timeout", "resource", "psycopg-pool", "PoolTimeout", exhausted),
            ("pool_closed", "programming", "psycopg-pool", "PoolClosed", closed)]


def _redis_records(env: Env) -> list[Record]:
    """A private Redis: a blocking pool runs dry, then a script keeps the server busy."""
    import redis

    port = private_redis(env, "--busy-reply-threshold", "100")

    def pool_dry() -> None:
        pool = redis.BlockingConnectionPool(host="127.0.0.1", port=port, max_connections=1, timeout=0.3)
        held = pool.get_connection()
        try:
            redis.Redis(connection_pool=pool).ping()
        finally:
            pool.release(held)

    def blocker() -> None:
        with contextlib.suppress(Exception):
            redis.Redis(port=port, socket_timeout=8).eval("while true do end", 0)

    out = python_records([("redis_pool_exhausted", "resource", "redis-server3", "ConnectionError", pool_dry)])
    thread = threading.Thread(target=blocker, daemon=True)
    thread.start()
    time.sleep(0.6)
    try:
        out += python_records([("redis_busy_script", "service", "redis-server3", "ResponseError",
                                lambda: redis.Redis(port=port, socket_timeout=3).get("blind18:key"))])
        out += tool_records([("shell_redis_cli_busy", "service", "BUSY",
                              ["redis-cli", "-e", "-p", str(port), "get", "blind18:key"])], "shell-extra15", env.tmp)
    finally:
        run(["redis-cli", "-p", str(port), "script", "kill"])
        thread.join(timeout=10)
    return out


def _rabbit_cases(env: Env) -> list[PyCase]:
    import pika

    _rabbit("add_user", "blind18", _PW)
    _rabbit("add_user", "blind18op", _PW)
    _rabbit("set_permissions", "-p", "/", "blind18op", ".*", ".*", ".*")

    def params(user: str, port: int = 5672) -> pika.ConnectionParameters:
        return pika.ConnectionParameters("127.0.0.1", port, credentials=pika.PlainCredentials(user, _PW),
                                         connection_attempts=1, socket_timeout=3, blocked_connection_timeout=3)

    def queue_full() -> None:
        conn = pika.BlockingConnection(params("blind18op"))
        try:
            ch = conn.channel()
            ch.confirm_delivery()
            name = ch.queue_declare("", exclusive=True, arguments={"x-max-length": 1,
                                                                    "x-overflow": "reject-publish"}).method.queue
            for n in range(3):
                ch.basic_publish("", name, f"job {n}".encode())
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def forced_close() -> None:
        conn = pika.BlockingConnection(params("blind18op"))
        closer = threading.Timer(0.5, _rabbit, ("close_all_user_connections", "blind18op",
                                                "node going down for maintenance"))
        closer.start()
        try:
            for _ in range(300):
                conn.process_data_events(time_limit=0.1)
        finally:
            closer.join()

    return [
        ("pika_vhost_refused", "auth", "pika-extra", "AMQPConnectionError",
         lambda: pika.BlockingConnection(params("blind18"))),
        ("pika_queue_full", "resource", "pika-extra", "NackError", queue_full),
        ("pika_forced_close", "service", "pika-extra", "AMQPConnectionError", forced_close),
        ("pika_refused", "network", "pika-extra", "AMQPConnectionError",
         lambda: pika.BlockingConnection(params("blind18op", env.closed_port))),
    ]


def _tls_and_token_cases(env: Env, tls_port: int, cafile: str) -> list[PyCase]:
    def ssl_no_cert() -> None:
        import socket
        import ssl

        ctx = ssl.create_default_context(cafile=cafile)
        with socket.create_connection(("127.0.0.1", tls_port), timeout=3) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            tls.recv(1024)

    def httpx_no_cert() -> None:
        import httpx

        httpx.get(f"https://127.0.0.1:{tls_port}/", verify=cafile, timeout=3)

    def jwt_expired() -> None:
        from joserfc import jwt
        from joserfc.jwk import OctKey

        key = OctKey.import_key("blind18-signing-secret-0123456789abcdef")
        token = jwt.encode({"alg": "HS256"}, {"sub": "svc", "exp": int(time.time()) - 60}, key)
        jwt.JWTClaimsRegistry(exp={"essential": True}).validate(jwt.decode(token, key).claims)

    def jwt_bad_signature() -> None:
        from joserfc import jwt
        from joserfc.jwk import OctKey

        token = jwt.encode({"alg": "HS256"}, {"sub": "svc"}, OctKey.import_key("blind18-key-one-0123456789abcdef"))
        jwt.decode(token, OctKey.import_key("blind18-key-two-0123456789abcdef"))

    def jwt_malformed() -> None:
        from joserfc import jwt
        from joserfc.jwk import OctKey

        jwt.decode("not-a-token", OctKey.import_key("blind18-key-one-0123456789abcdef"))

    def retry(status: int) -> Callable[[], None]:
        def fn() -> None:
            import requests
            from requests.adapters import HTTPAdapter
            from urllib3.util.retry import Retry

            session = requests.Session()
            retries = Retry(total=1, backoff_factor=0, status_forcelist=[status], respect_retry_after_header=False)
            session.mount("http://", HTTPAdapter(max_retries=retries))
            session.get(env.url(status), timeout=3)
        return fn

    def tenacity_502() -> None:
        import httpx
        import tenacity

        @tenacity.retry(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_none())
        def fetch() -> None:
            httpx.get(env.url(502), timeout=3).raise_for_status()

        fetch()

    return [
        ("ssl_no_client_cert", "auth", "py-extra15", "SSLError", ssl_no_cert),
        ("httpx_no_client_cert", "auth", "py-extra15", "TransportError", httpx_no_cert),
        ("jwt_expired", "auth", "joserfc", "ExpiredTokenError", jwt_expired),
        ("jwt_bad_signature", "auth", "joserfc", "BadSignatureError", jwt_bad_signature),
        ("jwt_malformed", "validation", "joserfc", "JoseError", jwt_malformed),
        ("requests_retry_503", "service", "requests-retry", "RetryError", retry(503)),
        ("requests_retry_429", "resource", "requests-retry", "RetryError", retry(429)),
        ("tenacity_httpx_502", "service", "tenacity-httpx", "RetryError", tenacity_502),
    ]


NODE: list[ToolCase] = [
    ("node_arraybuffer", "resource", "allocation failed", "new ArrayBuffer(2 ** 40)"),
    ("node_http_503", "service", "503",
     "require('http').get('HTTPURL/status/503', (res) => { if (res.statusCode >= 500) "
     "throw new Error(`upstream error: HTTP ${res.statusCode} ${res.statusMessage}`); })"),
    ("node_http_401", "auth", "401",
     "require('http').get('HTTPURL/status/401', (res) => { if (res.statusCode !== 200) "
     "throw new Error('GET /status/401 -> ' + res.statusCode); })"),
    ("node_tls_client_cert", "auth", "certificate required",
     "const s = require('tls').connect({port: TLSPORT, host: '127.0.0.1', ca: require('fs').readFileSync('CAFILE')}, "
     "() => s.write('ping')); s.on('error', (e) => { throw e; })"),
    ("node_enotdir", "filesystem", "ENOTDIR", "require('fs').readdirSync('/etc/hostname')"),
    ("node_json_trailing_comma", "validation", "SyntaxError", "JSON.parse('{\"retries\": 3,}')"),
]

JAVA: dict[str, tuple[str, str]] = {
    "httpclient_502": ("service", 'var c = java.net.http.HttpClient.newHttpClient(); var r = c.send(java.net.http.'
                                  'HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:HTTP/status/502"))'
                                  '.build(), java.net.http.HttpResponse.BodyHandlers.ofString()); if (r.statusCode() '
                                  '>= 500) throw new java.io.IOException("server answered " + r.statusCode() '
                                  '+ " from " + r.uri());'),
    "httpclient_401": ("auth", 'var c = java.net.http.HttpClient.newHttpClient(); var r = c.send(java.net.http.'
                               'HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:HTTP/status/401"))'
                               '.build(), java.net.http.HttpResponse.BodyHandlers.ofString()); if (r.statusCode() '
                               '!= 200) throw new IllegalStateException("unexpected response status " '
                               '+ r.statusCode());'),
    "disk_full": ("resource", 'java.nio.file.Files.write(java.nio.file.Path.of("FULLDIR/java.bin"), '
                              'new byte[1 << 20]);'),
    "parse_double": ("validation", 'Double.parseDouble("1,5");'),
    "require_non_null": ("programming", 'java.util.Objects.requireNonNull(System.getenv("BLIND18_UNSET"), "config");'),
}
_JAVA_EXPECTED = {"httpclient_502": "502", "httpclient_401": "401", "disk_full": "No space left",
                  "parse_double": "NumberFormatException", "require_non_null": "NullPointerException"}

SHELL: list[ToolCase] = [
    ("shell_wget_401", "auth", "401|Authentication Failed",
     "wget -nv --tries=1 --user=app --password=wrong HTTPURL/status/401 -O /dev/null"),
    ("shell_wget_403", "auth", "403", "wget -nv --tries=1 HTTPURL/status/403 -O /dev/null"),
    ("shell_wget_429", "resource", "429", "wget -nv --tries=1 HTTPURL/status/429 -O /dev/null"),
    ("shell_wget_502", "service", "502", "wget -nv --tries=1 HTTPURL/status/502 -O /dev/null"),
    ("shell_wget_503", "service", "503", "wget -nv --tries=1 HTTPURL/status/503 -O /dev/null"),
    ("shell_curl_retry_503", "service", "503", "curl -sS -f --retry 1 --retry-delay 0 HTTPURL/status/503"),
    ("shell_curl_client_cert", "auth", "certificate required", "curl -sS --cacert CAFILE https://127.0.0.1:TLSPORT/"),
    ("shell_mosquitto_wrong_password", "auth", "not authori",
     "mosquitto_pub -h 127.0.0.1 -p MQTTPORT -u app -P wrong-password -t blind18 -m x"),
    ("shell_mosquitto_anonymous", "auth", "not authori", "mosquitto_pub -h 127.0.0.1 -p MQTTPORT -t blind18 -m x"),
    ("shell_mariadb_wrong_password", "auth", "Access denied",
     "mariadb -h 127.0.0.1 -u blind18 -pwrong-password -e 'select 1'"),
    ("shell_python_file_too_large", "resource", "File too large",
     "ulimit -f 4; PYEXE -c 'import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
     "open(\"big.bin\", \"wb\").write(bytes(1 << 20))'"),
    ("shell_head_file_size", "resource", "File size limit",
     "ulimit -f 1; head -c 100000 /dev/zero > big2.bin || exit 1"),
    ("shell_python_nproc", "resource", "Resource temporarily unavailable",
     "setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \"ulimit -u 6; cd /tmp; /usr/bin/python3 -c '"
     "import os, time\nfor _ in range(40):\n    if os.fork() == 0:\n        time.sleep(1); os._exit(0)'\""),
    ("shell_sqlite_disk_full", "resource", "full",
     "sqlite3 FULLDIR/app.db 'create table t (x); insert into t values (zeroblob(2000000));'"),
    ("shell_tar_disk_full", "resource", "No space left",
     "head -c 1000000 /dev/urandom > payload.bin && tar -cf payload.tar payload.bin && tar -xf payload.tar -C FULLDIR"),
    ("shell_git_init_no_inodes", "resource", "No space left", "git init -q INODEDIR/repo"),
    ("shell_touch_no_inodes", "resource", "No space left",
     "for i in $(seq 1 40); do touch INODEDIR/file$i || exit 1; done"),
]

GIT: list[ToolCase] = [
    ("git_http_bad_credentials", "auth", "Authentication failed",
     ["git", "ls-remote", "http://app:wrong@127.0.0.1:HTTPPORT/status/401/repo.git"]),
    ("git_stash_pop_empty", "git", "stash", ["git", "stash", "pop"]),
    ("git_merge_unknown", "git", "not something we can merge", ["git", "merge", "nope-blind18"]),
    ("git_tag_exists", "git", "already exists", ["git", "tag", "v1"]),
]


def blind18_records(env: Env) -> list[Record]:
    tls = client_cert_server(env)
    mqtt_port = private_mosquitto(env)
    full = mount_tmpfs(env, "full18", "size=256k")
    run(["bash", "-c", f"head -c 1000000 /dev/zero > {full}/filler"])
    inodes = mount_tmpfs(env, "inodes18", "nr_inodes=6")

    def fill(text: str) -> str:
        return (text.replace("HTTPURL", env.http).replace("HTTPPORT", str(env.http_port))
                .replace("TLSPORT", str(tls.port)).replace("CAFILE", str(tls.cafile))
                .replace("MQTTPORT", str(mqtt_port)).replace("FULLDIR", str(full)).replace("INODEDIR", str(inodes))
                .replace("PYEXE", sys.executable))

    out = _postgres_records(env)
    out += python_records(_pg8000_cases(env) + _mysql_cases(env) + _pool_cases())
    out += _redis_records(env)
    out += python_records(_rabbit_cases(env))
    out += python_records(_tls_and_token_cases(env, tls.port, str(tls.cafile)))
    out += tool_records([(n, c, t, ["node", "-e", fill(s)]) for n, c, t, s in NODE], "node-extra16", env.tmp)
    java = {mode: (cat, body.replace("FULLDIR", str(full))) for mode, (cat, body) in JAVA.items()}
    for rec in java_records(env, java, "java-extra16"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra16_")]):
            out.append(rec)
    out += tool_records(SHELL, "shell-extra15", env.tmp, fill)
    repo = env.tmp / "blind18-repo"
    repo.mkdir()
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "one"], ["tag", "v1"]):
        run(["git", *args], cwd=repo, env=_GIT_ENV)
    for name, category, token, argv in GIT:
        proc = run([fill(a) for a in argv], cwd=repo, env=_GIT_ENV)
        text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
        if not text:
            print(f"problem: {name}: no failure", file=sys.stderr)
        elif has_token(name, text, token):
            out.append(record(text, category, "git-extra15", "stderr", name))
    return out


if __name__ == "__main__":
    write_batch(blind18_records)


__all__ = ["BLIND18_SOURCES", "blind18_records"]
