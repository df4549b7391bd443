"""Fiftieth batch of blind provokers: errors as server and application LOG LINES, the way monitoring meets them.
Each record is what a real component wrote to its own log (read back from the log file or its stderr after the
failure was provoked, cut to the lines of that one event). A private nginx reverse proxy (own prefix, free port)
logs refused, timed-out, reset and prematurely closed upstreams, no live upstreams, a too large body, limit_req
rejections, missing and unreadable files, deny rules, basic-auth failures, exhausted worker_connections and a
missing TLS certificate; a private PostgreSQL cluster logs failed logins, pg_hba rejections, unknown roles,
privilege, syntax, division, input and unique errors, a deadlock, a lock timeout, too many clients and a
shutdown; private Redis servers log bgsave into read-only and full directories, replication to a closed port or
a password-protected master, and startup failures; a private sshd logs failed passwords, invalid and disallowed
users and a reset connection; gunicorn and uvicorn log workers that fail to boot and handlers that raise; and
stdlib logging, structlog (JSON) and loguru log caught exceptions with ``logger.exception``. Only 127.0.0.1."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from blind50_support import (
    LogTail,
    Nginx,
    Sshd,
    app_server,
    by_id,
    open_dir,
    redis_server,
    start_nginx,
    start_sshd,
    window,
)
from checked import has_token, problem
from common import Env, Record, free_port, record, run, write_batch
from servers import mount_tmpfs, private_postgres

BLIND50_SOURCES = frozenset({"nginx50", "pglog50", "redislog50", "sshdlog50", "gunicorn50", "applog50"})

#: one case: name, category, expected token (`A|B`), and the action that provokes it
Case = tuple[str, str, str, Callable[[], Any]]


def _keep(out: list[Record], name: str, category: str, source: str, text: str, token: str) -> None:
    if not text.strip():
        problem(name, "nothing logged")
    elif has_token(name, text, token):
        out.append(record(text.strip(), category, source, "stderr", name))


# --------------------------------------------------------------------------- nginx

_NGINX_START = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ")
_NGINX_CONN = re.compile(r"\*(\d+) ")


def _nginx_records(env: Env) -> list[Record]:
    nginx = start_nginx(env)
    if nginx is None:
        return []
    out: list[Record] = []

    def basic(user: str, password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    def flood(ngx: Nginx) -> None:
        # requests waiting on a silent upstream hold two connections each (client and upstream), so these run the
        # worker's connections out
        workers = [threading.Thread(target=ngx.request, args=(f"/reports/{i}",)) for i in range(16)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=15)

    cases: list[Case] = [
        ("nginx_upstream_refused", "network", "Connection refused", lambda: nginx.request("/api/orders/42")),
        ("nginx_upstream_timeout", "network", "timed out", lambda: nginx.request("/reports/daily")),
        ("nginx_upstream_prematurely_closed", "network", "prematurely closed", lambda: nginx.request("/feed/latest")),
        ("nginx_upstream_reset", "network", "reset by peer", lambda: nginx.request("/events/stream")),
        ("nginx_no_live_upstreams", "network", "no live upstreams",
         lambda: (nginx.request("/orders/7"), nginx.request("/orders/8"))),
        ("nginx_body_too_large", "validation", "too large body",
         lambda: nginx.request("/upload", "POST", b"x" * 8000, {"Content-Type": "application/octet-stream"})),
        ("nginx_limit_req", "resource", "limiting requests",
         lambda: (nginx.request("/search?q=shoes"), nginx.request("/search?q=boots"))),
        ("nginx_missing_file", "filesystem", "No such file", lambda: nginx.request("/assets/app.4f2c.css")),
        ("nginx_permission_denied", "filesystem", "Permission denied", lambda: nginx.request("/report.html")),
        ("nginx_access_forbidden", "auth", "access forbidden", lambda: nginx.request("/admin/users")),
        ("nginx_basic_auth_mismatch", "auth", "password mismatch",
         lambda: nginx.request("/ops/", headers=basic("ops", "wrong-password"))),
        ("nginx_basic_auth_unknown_user", "auth", "was not found",
         lambda: nginx.request("/ops/", headers=basic("deploy", "right-password"))),
        ("nginx_worker_connections", "resource", "worker_connections are not enough", lambda: flood(nginx)),
    ]
    for name, category, token, action in cases:
        nginx.log.mark()
        action()
        text = by_id(nginx.log.wait(token), token, _NGINX_START, _NGINX_CONN)
        _keep(out, name, category, "nginx50", text, token)

    proc = run(["nginx", "-t", "-p", str(nginx.root), "-c", str(nginx.root / "conf" / "tls.conf"), "-e", "stderr"])
    token = "No such file"
    if proc.returncode == 0:
        problem("nginx_tls_cert_missing", "no failure")
    else:
        _keep(out, "nginx_tls_cert_missing", "filesystem", "nginx50", proc.stderr, token)
    return out


# --------------------------------------------------------------------------- PostgreSQL server log

_PG_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_PG_PID = re.compile(r"^\S+ \S+ \S+ \[(\d+)\]")


def _pg_records(env: Env) -> list[Record]:
    import psycopg

    try:
        pg = private_postgres(env, max_connections=5, reserved=1,
                              extra_hba="host all blocked50 127.0.0.1/32 reject\n")
    except (subprocess.CalledProcessError, RuntimeError) as exc:
        problem("pglog", f"private postgres did not start ({type(exc).__name__})")
        return []
    log = LogTail(pg.datadir.parent / "log")
    admin_dsn = f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute("CREATE TABLE payroll50 (employee text, amount int)")
        admin.execute("CREATE TABLE stock50 (sku text PRIMARY KEY, qty int NOT NULL)")
        admin.execute("INSERT INTO stock50 VALUES ('A-100', 4), ('B-200', 9)")

    def psql(user: str, sql: str = "SELECT 1", password: str = "") -> None:
        conninfo = f"host=127.0.0.1 port={pg.port} user={user} dbname=postgres"
        run(["psql", conninfo, "-X", "-v", "ON_ERROR_STOP=1", "-c", sql], env={"PGPASSWORD": password}, timeout=20)

    def deadlock() -> None:
        one = psycopg.connect(admin_dsn)
        two = psycopg.connect(admin_dsn)
        try:
            one.execute("UPDATE stock50 SET qty = qty - 1 WHERE sku = 'A-100'")
            two.execute("UPDATE stock50 SET qty = qty - 1 WHERE sku = 'B-200'")
            errors: list[BaseException] = []

            def first() -> None:
                try:
                    one.execute("UPDATE stock50 SET qty = qty + 1 WHERE sku = 'B-200'")
                except psycopg.Error as exc:
                    errors.append(exc)

            worker = threading.Thread(target=first)
            worker.start()
            time.sleep(0.3)
            try:
                two.execute("UPDATE stock50 SET qty = qty + 1 WHERE sku = 'A-100'")
            except psycopg.Error as exc:
                errors.append(exc)
            worker.join(timeout=10)
        finally:
            one.close()
            two.close()

    def lock_timeout() -> None:
        holder = psycopg.connect(admin_dsn)
        waiter = psycopg.connect(admin_dsn)
        try:
            holder.execute("SELECT * FROM stock50 WHERE sku = 'A-100' FOR UPDATE")
            waiter.execute("SET lock_timeout = '300ms'")
            with contextlib.suppress(psycopg.Error):
                waiter.execute("UPDATE stock50 SET qty = 0 WHERE sku = 'A-100'")
        finally:
            holder.close()
            waiter.close()

    def too_many() -> None:
        held = []
        try:
            for _ in range(10):
                try:
                    held.append(psycopg.connect(admin_dsn, connect_timeout=5))
                except psycopg.Error:
                    break
        finally:
            for conn in held:
                conn.close()

    def shutting_down() -> None:
        held = psycopg.connect(admin_dsn)
        stopper = pg.pg_ctl("-m", "smart", "-W", "stop")
        stopper.wait(timeout=30)
        time.sleep(0.5)
        psql("postgres")
        held.close()

    cases: list[Case] = [
        ("pg_password_failed", "auth", "password authentication failed",
         lambda: psql("app", password="wrong-password")),
        ("pg_hba_reject", "auth", "pg_hba.conf rejects", lambda: psql("blocked50")),
        ("pg_role_missing", "auth", "does not exist", lambda: psql("reporting50")),
        ("pg_permission_denied", "auth", "permission denied",
         lambda: psql("app", "SELECT employee, amount FROM payroll50", password="right-password")),
        ("pg_syntax_error", "programming", "syntax error", lambda: psql("postgres", "SELECT sku, FROM stock50")),
        ("pg_division_by_zero", "programming", "division by zero",
         lambda: psql("postgres", "SELECT sum(qty) / (count(*) - 2) FROM stock50")),
        ("pg_invalid_input", "validation", "invalid input syntax",
         lambda: psql("postgres", "UPDATE stock50 SET qty = 'twelve' WHERE sku = 'A-100'")),
        ("pg_unique_violation", "validation", "duplicate key",
         lambda: psql("postgres", "INSERT INTO stock50 (sku, qty) VALUES ('A-100', 1)")),
        ("pg_deadlock", "resource", "deadlock detected", deadlock),
        ("pg_lock_timeout", "resource", "lock timeout", lock_timeout),
        ("pg_too_many_clients", "resource", "too many clients|connection slots", too_many),
        ("pg_shutting_down", "service", "shutting down", shutting_down),
    ]
    out: list[Record] = []
    for name, category, token, action in cases:
        log.mark()
        action()
        text = by_id(log.wait(token), token, _PG_START, _PG_PID)
        _keep(out, name, category, "pglog50", text, token)
    return out


# --------------------------------------------------------------------------- Redis server log


def _redis_records(env: Env) -> list[Record]:
    import redis

    out: list[Record] = []
    ro = mount_tmpfs(env, "redis-ro50", "size=64k,ro")
    full = mount_tmpfs(env, "redis-full50", "size=64k")

    def bgsave(name: str, category: str, workdir: Path, token: str, fill: bool) -> None:
        port, log = redis_server(env, name, workdir, "--rdbcompression", "no")
        client = redis.Redis(host="127.0.0.1", port=port)
        if fill:
            client.set("report:blob", os.urandom(300_000))
        log.mark()
        client.bgsave()
        text = log.wait("Background saving error|Background saving terminated", timeout=10)
        _keep(out, name, category, "redislog50", window(text, token, re.compile("Background saving started")), token)

    bgsave("redis_bgsave_readonly", "filesystem", ro, "Read-only file system", False)
    bgsave("redis_bgsave_disk_full", "resource", full, "No space left", True)

    retry = re.compile("onnecting to MASTER")
    master_port, _ = redis_server(env, "redis-master50", env.tmp, "--requirepass", "right-password")
    replicas = [
        ("redis_replica_refused", "network", "Connection refused", ["--replicaof", "127.0.0.1", str(env.closed_port)]),
        ("redis_replica_noauth", "auth", "NOAUTH|Authentication required",
         ["--replicaof", "127.0.0.1", str(master_port)]),
        ("redis_replica_wrong_password", "auth", "WRONGPASS|invalid password|invalid username-password",
         ["--replicaof", "127.0.0.1", str(master_port), "--masterauth", "wrong-password"]),
    ]
    for name, category, token, args in replicas:
        _, log = redis_server(env, name, env.tmp, *args)
        text = log.wait(token, timeout=8)
        _keep(out, name, category, "redislog50", window(text, token, retry, retry), token)

    startups = [
        ("redis_dir_missing", "filesystem", "No such file", "FATAL CONFIG FILE ERROR",
         ["--dir", "/nonexistent-b50/redis"]),
        ("redis_aof_readonly", "filesystem", "Read-only file system", "Read-only file system",
         ["--dir", str(ro), "--appendonly", "yes"]),
    ]
    for name, category, token, first, args in startups:
        proc = run(["redis-server", "--port", str(free_port()), "--bind", "127.0.0.1", "--save", "", *args],
                   timeout=20)
        if proc.returncode == 0:
            problem(name, "no failure")
            continue
        lines = (proc.stdout + proc.stderr).strip()
        _keep(out, name, category, "redislog50", window(lines, token, re.compile(re.escape(first))), token)
    return out


# --------------------------------------------------------------------------- sshd log


def _sshd_records(env: Env) -> list[Record]:
    import paramiko

    server = start_sshd(env)
    if server is None:
        return []
    stranger = server.key("ci_key")
    extra = [server.key(f"old_key{i}") for i in range(4)]

    def password_login(user: str) -> None:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            client.connect("127.0.0.1", port=server.port, username=user, password="wrong-password",
                           allow_agent=False, look_for_keys=False, timeout=10)
        except (paramiko.SSHException, OSError):
            pass
        finally:
            client.close()

    def reset() -> None:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.recv(256)  # the server's banner
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def ssh(srv: Sshd, user: str, *keys: Path) -> None:
        run(srv.ssh(user, *keys), timeout=20)

    cases: list[Case] = [
        ("sshd_invalid_user", "auth", "Invalid user", lambda: password_login("deploy")),
        ("sshd_failed_password", "auth", "Failed password", lambda: password_login("root")),
        ("sshd_closed_by_authenticating_user", "auth", "Connection closed by authenticating user",
         lambda: ssh(server, "root", stranger)),
        ("sshd_max_auth_tries", "auth", "maximum authentication attempts", lambda: ssh(server, "root", *extra)),
        ("sshd_not_in_allowusers", "auth", "not listed in AllowUsers",
         lambda: ssh(server, "nobody", server.root / "deploy_key")),
        ("sshd_connection_reset", "network", "reset", reset),
    ]
    out: list[Record] = []
    for name, category, token, action in cases:
        server.log.mark()
        action()
        time.sleep(0.3)
        text = server.log.wait(token)
        _keep(out, name, category, "sshdlog50", text, token)
    return out


# --------------------------------------------------------------------------- gunicorn and uvicorn

WSGI_APP = '''import json
import urllib.request

SETTINGS = "/srv/shop50/settings.json"


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/totals":
        counts = []
        body = str(sum(counts) / len(counts))
    elif path == "/rates":
        body = urllib.request.urlopen("http://127.0.0.1:{closed}/v1/rates", timeout=5).read().decode()
    elif path == "/inventory":
        body = urllib.request.urlopen("{http}/status/503", timeout=5).read().decode()
    elif path == "/settings":
        with open(SETTINGS) as fh:
            body = fh.read()
    elif path == "/orders":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        order = json.loads(environ["wsgi.input"].read(size))
        body = str(order["sku"])
    else:
        body = "ok"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]
'''

BROKEN_WSGI = '''from payments50.gateway import charge


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(charge).encode()]
'''

ASGI_APP = '''import httpx
from fastapi import FastAPI

app = FastAPI()
EXPORTS = "{ro}"


@app.get("/cart/total")
def cart_total():
    items = [{{"sku": "A-100", "price": "19.90"}}]
    return {{"total": sum(item["price"] for item in items)}}


@app.get("/profile")
def profile():
    return httpx.get("http://127.0.0.1:{closed}/users/7", timeout=5).json()


@app.get("/billing")
def billing():
    response = httpx.get("{http}/status/401", timeout=5)
    response.raise_for_status()
    return response.json()


@app.post("/export")
def export():
    with open(EXPORTS + "/orders.csv", "w") as fh:
        fh.write("sku,qty\\n")
    return {{"ok": True}}
'''

_GUNICORN_NEXT = re.compile(r"^\[\d{4}-\d\d-\d\d ")
_UVICORN_NEXT = re.compile(r"^(INFO|ERROR|WARNING|DEBUG|CRITICAL):")


def _http(port: int, path: str, method: str = "GET", body: bytes | None = None) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        conn.getresponse().read()
    except OSError:
        pass
    finally:
        conn.close()


def _appserver_records(env: Env) -> list[Record]:
    out: list[Record] = []
    work = open_dir("recoup-corpus-apps-", env)
    ro = mount_tmpfs(env, "exports-ro50", "size=64k,ro")
    (work / "wsgi50.py").write_text(WSGI_APP.format(closed=env.closed_port, http=env.http))
    (work / "billing50.py").write_text(BROKEN_WSGI)
    (work / "asgi50.py").write_text(ASGI_APP.format(closed=env.closed_port, http=env.http, ro=ro))
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "sync", "--chdir", str(work)]
    uvicorn = [sys.executable, "-m", "uvicorn", "--app-dir", str(work), "--no-access-log", "--host", "127.0.0.1"]

    boots = [
        ("gunicorn_worker_import_error", "programming", "No module named",
         [*gunicorn, "--bind", f"127.0.0.1:{free_port()}", "billing50:app"], "Exception in worker process"),
        ("gunicorn_app_attribute_missing", "programming", "Failed to find attribute",
         [*gunicorn, "--bind", f"127.0.0.1:{free_port()}", "wsgi50:application"], "Failed to find attribute"),
        ("uvicorn_import_error", "programming", "Could not import module",
         [*uvicorn, "--port", str(free_port()), "checkout50:app"], "Error loading ASGI app"),
    ]
    for name, category, token, argv, start in boots:
        try:
            proc = run(argv, cwd=work, timeout=30)
        except subprocess.TimeoutExpired:
            problem(name, "TimeoutExpired")
            continue
        if proc.returncode == 0:
            problem(name, "no failure")
            continue
        text = window(proc.stderr + proc.stdout, token, re.compile(re.escape(start)))
        _keep(out, name, category, "gunicorn50", text, token)

    gport, uport = free_port(), free_port()
    glog, ulog = LogTail(work / "gunicorn.log"), LogTail(work / "uvicorn.log")
    gunicorn_up = app_server(env, [*gunicorn, "--bind", f"127.0.0.1:{gport}", "--error-logfile", str(glog.path),
                                   "--timeout", "30", "wsgi50:app"], work / "gunicorn.out", gport, work)
    uvicorn_up = app_server(env, [*uvicorn, "--port", str(uport), "asgi50:app"], ulog.path, uport, work)
    if not gunicorn_up:
        problem("gunicorn", "did not start")
    if not uvicorn_up:
        problem("uvicorn", "did not start")
    handlers: list[tuple[str, str, str, bool, str, str, bytes | None]] = [
        ("gunicorn_handler_zero_division", "programming", "ZeroDivisionError", True, "/totals", "GET", None),
        ("gunicorn_handler_refused", "network", "Connection refused", True, "/rates", "GET", None),
        ("gunicorn_handler_upstream_503", "service", "503", True, "/inventory", "GET", None),
        ("gunicorn_handler_missing_settings", "filesystem", "No such file", True, "/settings", "GET", None),
        ("gunicorn_handler_bad_json", "validation", "JSONDecodeError", True, "/orders", "POST", b"{'sku': 'A-100'}"),
        ("uvicorn_handler_type_error", "programming", "TypeError", False, "/cart/total", "GET", None),
        ("uvicorn_handler_refused", "network", "ConnectError|Connection refused", False, "/profile", "GET", None),
        ("uvicorn_handler_401", "auth", "401", False, "/billing", "GET", None),
        ("uvicorn_handler_read_only", "filesystem", "Read-only file system", False, "/export", "POST", b"{}"),
    ]
    for name, category, token, is_gunicorn, path, method, body in handlers:
        if not (gunicorn_up if is_gunicorn else uvicorn_up):
            continue
        log = glog if is_gunicorn else ulog
        log.mark()
        _http(gport if is_gunicorn else uport, path, method, body)
        raw = log.wait(token)
        if is_gunicorn:
            text = window(raw, token, re.compile(r"\] \[(ERROR|CRITICAL)\] "), _GUNICORN_NEXT)
        else:
            text = window(raw, token, re.compile(r"^ERROR:\s+Exception in ASGI application"), _UVICORN_NEXT)
        _keep(out, name, category, "gunicorn50", text, token)
    return out


# --------------------------------------------------------------------------- application logs


def _app_log_records(env: Env) -> list[Record]:
    import logging

    import loguru
    import requests
    import structlog

    disk = mount_tmpfs(env, "applog-disk50", "size=256k")
    logs = open_dir("recoup-corpus-applogs-", env)

    def refused() -> None:
        requests.get(f"http://127.0.0.1:{env.closed_port}/v1/payments/sync", timeout=5)

    def status(code: int) -> Callable[[], None]:
        def call() -> None:
            requests.get(env.url(code), timeout=5).raise_for_status()
        return call

    def bad_json() -> None:
        json.loads('{"orders": [{"sku": "A-100", "qty": 2},]}')

    def missing_file() -> None:
        (env.tmp / "exports" / "2026-11-29" / "orders.csv").read_text()

    def disk_full() -> None:
        with (disk / "report50.parquet").open("wb") as fh:
            fh.write(os.urandom(600_000))

    # stdlib logging, the format most services start from
    std_path = logs / "worker.log"
    std_logger = logging.getLogger("shop50.worker")
    std_logger.propagate = False
    handler = logging.FileHandler(std_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
    std_logger.addHandler(handler)

    # structlog rendering JSON lines
    sl_path = logs / "api.jsonl"
    sl_file = sl_path.open("a")
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso"),
                    structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        logger_factory=structlog.WriteLoggerFactory(file=sl_file), cache_logger_on_first_use=False)
    sl_logger = structlog.get_logger("shop50.api")

    # loguru with its default format
    lg_path = logs / "etl.log"
    loguru.logger.remove()
    sink = loguru.logger.add(str(lg_path), colorize=False)

    def std(task: str) -> None:
        std_logger.exception("task %s failed", task)
        handler.flush()

    def sl(task: str) -> None:
        sl_logger.exception("task failed", task=task)
        sl_file.flush()

    def lg(task: str) -> None:
        loguru.logger.exception("task {} failed", task)

    loggers: dict[str, tuple[Path, Callable[[str], None]]] = {"std": (std_path, std), "structlog": (sl_path, sl),
                                                               "loguru": (lg_path, lg)}
    cases: list[tuple[str, str, str, Callable[[], None], tuple[str, ...]]] = [
        ("refused", "network", "Connection refused|ConnectionError", refused, ("std", "structlog", "loguru")),
        ("http_503", "service", "503", status(503), ("std", "structlog", "loguru")),
        ("bad_json", "validation", "JSONDecodeError|Expecting", bad_json, ("std", "structlog", "loguru")),
        ("missing_file", "filesystem", "No such file", missing_file, ("std", "structlog", "loguru")),
        ("http_401", "auth", "401", status(401), ("std", "structlog")),
        ("disk_full", "resource", "No space left", disk_full, ("std", "loguru")),
    ]
    out: list[Record] = []
    try:
        for case, category, token, fn, kinds in cases:
            for kind in kinds:
                name = f"applog_{kind}_{case}"
                path, log_it = loggers[kind]
                tail = LogTail(path)
                tail.mark()
                try:
                    fn()
                except Exception:  # the real failure, logged as the application would
                    log_it(f"{case.replace('_', '-')}-{kind}")
                else:
                    problem(name, "no failure")
                    continue
                text = tail.wait(token, timeout=2)
                _keep(out, name, category, "applog50", text, token)
                for leftover in disk.iterdir():
                    leftover.unlink()
    finally:
        loguru.logger.remove(sink)
        std_logger.removeHandler(handler)
        handler.close()
        sl_file.close()
        structlog.reset_defaults()
    return out


def blind50_records(env: Env) -> list[Record]:
    out: list[Record] = []
    for part in (_nginx_records, _pg_records, _redis_records, _sshd_records, _appserver_records, _app_log_records):
        out += part(env)
    return out


if __name__ == "__main__":
    write_batch(blind50_records)


__all__ = ["BLIND50_SOURCES", "blind50_records"]
