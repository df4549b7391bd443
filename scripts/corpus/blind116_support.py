"""Fixtures of the hundred-and-sixteenth batch: a PHP application tree under /srv whose `vendor/autoload.php`
loads Debian's PHP libraries (/usr/share/php), a fake JSON API answering in a Laravel-style error format, private
Redis servers (a password, maxclients 1 taken, maxmemory full, a replica whose master is down, a busy Lua
script), RabbitMQ vhosts and users on the shared broker, private PostgreSQL clusters (a primary with few slots and
a standby) and a private MariaDB, and full and read-only tmpfs mounts. Each PHP case is a script body written at a
deployment-like path of that tree and run with the `php` CLI (uncaught exceptions go to stderr as `PHP Fatal
error:  Uncaught ...`), as root or as `nobody`."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from checked import problem, tool_records
from common import Env, Record, run
from servers import full_backlog_port, mount_tmpfs, private_mariadb, private_postgres, private_redis, serve_http

#: name, category, expected output token (`A|B`), script path inside the app, script body (no `<?php` line)
PhpCase = tuple[str, str, str, str, str]

AUTOLOAD = """<?php
// Debian's packaged libraries stand in for Composer's vendor tree.
foreach (['GuzzleHttp', 'Monolog', 'Predis', 'PhpAmqpLib', 'Twig', 'Doctrine/DBAL', 'Psr/Log',
          'Symfony/Component/Yaml', 'Symfony/Component/Console', 'Symfony/Component/HttpClient',
          'Symfony/Component/Process'] as $lib) {
    require_once '/usr/share/php/' . $lib . '/autoload.php';
}
"""

#: Frameworks (Laravel, Symfony) turn every warning and notice into an ErrorException.
STRICT = """set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    throw new ErrorException($message, 0, $severity, $file, $line);
});
"""

RABBIT_PASSWORD = "amqp-Wk3e-116"
VHOST = "billing116"
CAPPED_VHOST = "reports116"
LOCKED_VHOST = "ledger116"
RABBIT_USER = "billing_worker116"
REDIS_PASSWORD = "c4che-116-prod"
PG_PASSWORD = "right-password"
MY_PASSWORD = "portal-db-116"

_ERR = {"Content-Type": "application/json"}
#: path prefix -> status, extra headers, body (as a Laravel / nginx deployment answers)
ROUTES: dict[str, tuple[int, dict[str, str], str]] = {
    "/api/v2/invoices": (401, {**_ERR, "WWW-Authenticate": 'Bearer error="invalid_token", '
                               'error_description="The access token expired"'}, json.dumps({"message":
                                                                                         "Unauthenticated."})),
    "/api/v2/admin/tenants": (403, _ERR, json.dumps({"message": "This action is unauthorized."})),
    "/api/v2/geocode": (429, {**_ERR, "Retry-After": "60", "X-RateLimit-Limit": "60",
                              "X-RateLimit-Remaining": "0"}, json.dumps({"message": "Too Many Attempts."})),
    "/api/v2/payments": (503, {**_ERR, "Retry-After": "120"}, json.dumps({"message": "Service Unavailable",
                                                                          "reason": "maintenance"})),
    "/checkout/session": (502, {"Content-Type": "text/html", "Server": "nginx/1.22.1"},
                          "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
                          "Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"),
    "/api/v2/customers": (422, _ERR, json.dumps({"message": "The email field must be a valid email address.",
                                                 "errors": {"email": ["The email field must be a valid email "
                                                                      "address."]}})),
    "/api/v1/shipments": (401, {**_ERR, "WWW-Authenticate": 'Basic realm="carrier-api"'},
                          json.dumps({"error": "invalid_credentials"})),
    "/api/v1/warehouses": (403, _ERR, json.dumps({"error": "forbidden", "message": "API key lacks scope "
                                                  "warehouse:write"})),
    "/api/v1/labels": (429, {**_ERR, "Retry-After": "30"}, json.dumps({"error": "rate_limited"})),
    "/api/v1/tracking": (503, {**_ERR, "Retry-After": "30"}, json.dumps({"error": "upstream carrier unavailable"})),
    "/api/v1/rates": (500, _ERR, json.dumps({"error": "internal_error", "request_id": "req_7Hc2kQ"})),
}


class _ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, headers, body = next((v for k, v in ROUTES.items() if self.path.startswith(k)),
                                     (404, _ERR, json.dumps({"message": "Not Found"})))
        data = body.encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _answer
    do_POST = _answer
    do_PUT = _answer


def api_server(env: Env) -> int:
    return serve_http(env, _ApiHandler)


# --------------------------------------------------------------------------- Redis


def _cli(port: int, *args: str) -> None:
    run(["redis-cli", "-p", str(port), *args], timeout=30)


def _redis_servers(env: Env) -> dict[str, str]:
    auth = private_redis(env, "--requirepass", REDIS_PASSWORD)
    full = private_redis(env, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
    _cli(full, "eval", "for i=1,200 do redis.call('set','catalog:page:'..i,string.rep('x',65536)) end", "0")
    crowded = private_redis(env, "--maxclients", "1")
    for _ in range(50):  # the probe of private_redis may still hold the slot for a moment
        holder = socket.create_connection(("127.0.0.1", crowded))
        holder.sendall(b"PING\r\n")
        if holder.recv(64).startswith(b"+PONG"):
            env._closers.append(holder.close)
            break
        holder.close()
        time.sleep(0.1)
    replica = private_redis(env, "--replicaof", "127.0.0.1", str(env.closed_port), "--replica-serve-stale-data", "no")
    busy = private_redis(env, "--busy-reply-threshold", "100")
    script = subprocess.Popen(["redis-cli", "-p", str(busy), "eval", "while true do end", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    env._closers.append(script.wait)
    env._closers.append(lambda: _cli(busy, "script", "kill"))
    return {"REDIS_AUTH": str(auth), "REDIS_FULL": str(full), "REDIS_CROWDED": str(crowded),
            "REDIS_REPLICA": str(replica), "REDIS_BUSY": str(busy)}


# --------------------------------------------------------------------------- RabbitMQ


def _rabbit(*args: str) -> None:
    run(["rabbitmqctl", "-q", *args], timeout=60)


def _rabbit_setup(env: Env) -> None:
    """A vhost the worker may use (at most two queues), one it has no permission on, one admitting no
    connection; deleted with the batch."""
    _rabbit("add_user", RABBIT_USER, RABBIT_PASSWORD)
    for vhost in (VHOST, CAPPED_VHOST, LOCKED_VHOST):
        _rabbit("add_vhost", vhost)
    for vhost in (VHOST, CAPPED_VHOST):
        _rabbit("set_permissions", "-p", vhost, RABBIT_USER, ".*", ".*", ".*")
    _rabbit("set_vhost_limits", "-p", VHOST, '{"max-queues": 2}')
    _rabbit("set_vhost_limits", "-p", CAPPED_VHOST, '{"max-connections": 0}')

    def drop() -> None:
        for vhost in (VHOST, CAPPED_VHOST, LOCKED_VHOST):
            _rabbit("delete_vhost", vhost)
        _rabbit("delete_user", RABBIT_USER)

    env._closers.append(drop)


# --------------------------------------------------------------------------- databases

PG_SCHEMA = """CREATE TABLE subscriptions (id serial PRIMARY KEY, customer_email text NOT NULL UNIQUE,
  plan text NOT NULL, renews_on date);
INSERT INTO subscriptions (customer_email, plan) VALUES ('ops@northwind.example', 'team');
"""

MY_SCHEMA = f"""CREATE DATABASE portal;
CREATE TABLE portal.accounts (id int PRIMARY KEY, email varchar(64) NOT NULL UNIQUE, balance int NOT NULL)
  ENGINE=InnoDB;
INSERT INTO portal.accounts VALUES (1, 'finance@northwind.example', 100), (2, 'ops@northwind.example', 200);
CREATE USER 'portal'@'%' IDENTIFIED BY '{MY_PASSWORD}';
CREATE USER 'portal'@'localhost' IDENTIFIED BY '{MY_PASSWORD}';
GRANT ALL ON portal.* TO 'portal'@'%';
GRANT ALL ON portal.* TO 'portal'@'localhost';
"""


def _databases(env: Env) -> dict[str, str]:
    pg = private_postgres(env, max_connections=5, reserved=1)
    psql = ["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
    for argv in ([*psql, "-d", "postgres", "-c", "CREATE DATABASE billing OWNER app"],
                 [*psql, "-d", "billing", "-c", "SET ROLE app", "-c", PG_SCHEMA]):
        proc = run(argv)
        if proc.returncode:
            problem("postgres_fixtures", "setup failed, its cases will fail the cause check")
    standby = private_postgres(env, standby=True)
    my_port, _ = private_mariadb(env, max_connections=4)
    if run(["mariadb", "-h", "127.0.0.1", "-P", str(my_port), "-u", "root", "-e", MY_SCHEMA]).returncode:
        problem("mariadb_fixtures", "setup failed, its cases will fail the cause check")
    return {"PG": str(pg.port), "PG_STANDBY": str(standby.port), "MY": str(my_port)}


# --------------------------------------------------------------------------- the application tree


def php_app(env: Env) -> tuple[Path, dict[str, str]]:
    """/srv/northwind-portal-XXXX with vendor/autoload.php, templates, config, a git checkout, a full and
    a read-only mount; the placeholders every case may use."""
    app = Path(tempfile.mkdtemp(prefix="northwind-portal-", dir="/srv" if Path("/srv").is_dir() else None))
    env._closers.append(lambda: shutil.rmtree(app, ignore_errors=True))
    app.chmod(0o755)
    for sub in ("vendor", "bin", "src", "config", "templates/emails", "storage/logs", "tests", "deploy"):
        (app / sub).mkdir(parents=True)
    (app / "vendor" / "autoload.php").write_text(AUTOLOAD)
    full = mount_tmpfs(env, "full116", "size=64k")
    with contextlib.suppress(OSError):
        (full / "filler.bin").write_bytes(b"\0" * 64 * 1024)
    ro = mount_tmpfs(env, "ro116", "size=256k")
    (ro / "logs").mkdir()
    (ro / "twig-cache").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    env.tmp.chmod(0o755)
    values = {"APP": str(app), "FULL": str(full), "RO": str(ro), "CLOSED": str(env.closed_port),
              "HANG": str(env.hang_port), "RESET": str(env.reset_port), "API": f"http://127.0.0.1:{api_server(env)}",
              "BACKLOG": str(full_backlog_port(env)), "RABBIT_PASSWORD": RABBIT_PASSWORD, "VHOST": VHOST,
              "CAPPED_VHOST": CAPPED_VHOST, "LOCKED_VHOST": LOCKED_VHOST, "RABBIT_USER": RABBIT_USER,
              "REDIS_PASSWORD": REDIS_PASSWORD, "PG_PASSWORD": PG_PASSWORD, "MY_PASSWORD": MY_PASSWORD}
    values.update(_redis_servers(env))
    _rabbit_setup(env)
    values.update(_databases(env))
    return app, values


def fill(code: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        code = code.replace(f"%{key}%", value)
    return code


def write_files(app: Path, files: Mapping[str, str], values: Mapping[str, str]) -> None:
    """Write fixture files (templates, configs, classes, tests) into the app tree, placeholders filled."""
    for rel, text in files.items():
        path = app / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fill(text, values))
        path.chmod(0o644)


def php_records(cases: Iterable[PhpCase], source: str, app: Path, values: Mapping[str, str],
                as_nobody: frozenset[str] = frozenset(), argv: Mapping[str, list[str]] | None = None) -> list[Record]:
    """Write each case to its path in the app and record what php printed when it failed with the token; a case
    in `as_nobody` runs as `nobody`; `argv` gives a case arguments after the script."""
    out: list[Record] = []
    for name, category, token, rel, body in cases:
        script = app / rel
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text("<?php\n\nrequire __DIR__ . '/" + "../" * (len(Path(rel).parts) - 1)
                          + "vendor/autoload.php';\n\n" + fill(body, values))
        script.chmod(0o644)
        command = ["php", str(script), *(argv or {}).get(name, [])]
        if name in as_nobody:
            command = ["runuser", "-u", "nobody", "--", *command]
        out += tool_records([(name, category, token, command)], source, app, timeout=60)
    return out


def command_records(cases: Iterable[tuple[str, str, str, list[str]]], source: str, app: Path,
                    values: Mapping[str, str]) -> list[Record]:
    """Run argv cases (php bin/console ..., phpunit ...) in the app and record what failed with the token."""
    return tool_records([(n, c, t, [fill(a, values) for a in argv]) for n, c, t, argv in cases], source, app,
                        timeout=60)


__all__ = ["STRICT", "PhpCase", "command_records", "fill", "php_app", "php_records", "write_files"]
