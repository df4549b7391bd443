"""Forty-first batch of blind provokers: Go, the way services, deploy tools and data pipelines written in Go fail.
One program (`b41ctl`, see blind41_support.py) built with the Debian toolchain and Debian's Go libraries calls
HTTP APIs on loopback that answer 401/403/429/5xx, closed, resetting, half-answering and hanging ports, a
`.invalid` host and a TLS server whose certificate is self-signed, issued for another name or that demands a
client certificate; reads and writes files that are missing, locked (as nobody), on a full or read-only tmpfs,
across devices or under `ulimit -n`; parses bad JSON, CSV, XML, dates, durations and numbers; panics on its own
defects (nil map, index, nil pointer, closed channels, deadlock, concurrent map writes, interface conversion);
and talks to PostgreSQL through lib/pq, MariaDB through go-sql-driver/mysql and Redis through redigo (private
clusters and servers for the wrong password, full connection slots, a standby, NOAUTH and maxmemory). `go build`,
`go vet` and `go test` of broken sources are programming. Only 127.0.0.1."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from blind41_support import GO_ENV, build_program, program_prefix, write_broken
from checked import ToolCase, tool_records
from common import Env, Record, run, write_batch
from servers import client_cert_server, mount_tmpfs, private_mariadb, private_postgres, private_redis

BLIND41_SOURCES = frozenset({"go-http41", "go41", "go-pq41", "go-mysql41", "go-redis41", "go-build41"})
_REDIS_PASSWORD = "b41-" + secrets.token_hex(8)

HTTP: list[ToolCase] = [
    ("status401", "auth", "401", "PROG status401"),
    ("status403", "auth", "403", "PROG status403"),
    ("status429", "resource", "429", "PROG status429"),
    ("status500", "service", "500", "PROG status500"),
    ("status502", "service", "502", "PROG status502"),
    ("status503", "service", "503", "PROG status503"),
    ("status504", "service", "504", "PROG status504"),
    ("response_type", "validation", "cannot unmarshal", "PROG response_type"),
    ("http_refused", "network", "connection refused", "PROG http_refused"),
    ("http_reset", "network", "reset|EOF", "PROG http_reset"),
    ("http_client_timeout", "network", "Timeout", "PROG http_client_timeout"),
    ("http_ctx_deadline", "network", "deadline exceeded", "PROG http_ctx_deadline"),
    ("http_partial_body", "network", "unexpected EOF", "PROG http_partial_body"),
    ("dns_invalid", "network", "no such host|lookup", "PROG dns_invalid"),
    ("tls_unknown_ca", "network", "x509|certificate", "PROG tls_unknown_ca"),
    ("tls_wrong_name", "network", "x509|certificate is valid", "PROG tls_wrong_name"),
    ("tls_client_cert", "auth", "remote error|certificate required|bad certificate",
     # the server's close can race the alert (a plain reset): run again until the alert is what the client read
     "for i in 1 2 3 4 5; do out=$(PROG tls_client_cert 2>&1); case $out in *'remote error'*) break;; esac; done; "
     "printf '%s\\n' \"$out\" >&2; exit 1"),
]

LOCAL: list[ToolCase] = [
    ("config_missing", "filesystem", "no such file", "PROG config_missing"),
    ("write_locked", "filesystem", "permission denied", "runuser -u nobody -- PROG write_locked"),
    ("write_read_only", "filesystem", "read-only", "PROG write_read_only"),
    ("write_full_disk", "resource", "no space left", "PROG write_full_disk"),
    ("too_many_files", "resource", "too many open files", "ulimit -n 24; PROG too_many_files"),
    ("rename_cross_device", "filesystem", "cross-device", "PROG rename_cross_device"),
    ("write_directory", "filesystem", "is a directory", "PROG write_directory"),
    ("exec_missing", "filesystem", "executable file not found", "PROG exec_missing"),
    ("json_unknown_field", "validation", "unknown field", "PROG json_unknown_field"),
    ("json_truncated", "validation", "unexpected end", "PROG json_truncated"),
    ("csv_fields", "validation", "wrong number of fields", "PROG csv_fields"),
    ("csv_quote", "validation", "bare", "PROG csv_quote"),
    ("date_out_of_range", "validation", "out of range", "PROG date_out_of_range"),
    ("int_out_of_range", "validation", "out of range", "PROG int_out_of_range"),
    ("xml_syntax", "validation", "XML syntax error", "PROG xml_syntax"),
    ("nil_map", "programming", "nil map", "PROG nil_map"),
    ("index_range", "programming", "index out of range", "PROG index_range"),
    ("nil_pointer", "programming", "nil pointer", "PROG nil_pointer"),
    ("close_closed", "programming", "close of closed channel", "PROG close_closed"),
    ("send_closed", "programming", "send on closed channel", "PROG send_closed"),
    ("deadlock", "programming", "deadlock", "PROG deadlock"),
    ("concurrent_map", "programming", "concurrent map", "PROG concurrent_map"),
    ("iface_conversion", "programming", "interface conversion", "PROG iface_conversion"),
]

PQ: list[ToolCase] = [
    ("pq_unique", "validation", "duplicate key", "PROG pq_unique"),
    ("pq_not_null", "validation", "null value", "PROG pq_not_null"),
    ("pq_bad_integer", "validation", "invalid input syntax", "PROG pq_bad_integer"),
    ("pq_syntax", "programming", "syntax error", "PROG pq_syntax"),
    ("pq_permission", "auth", "permission denied", "PROG pq_permission"),
    ("pq_password", "auth", "password authentication failed", "PROG pq_password"),
    ("pq_too_many", "resource", "connection slots|too many clients", "PROG pq_too_many"),
    ("pq_refused", "network", "connection refused", "PROG pq_refused"),
    ("pq_standby", "service", "not accepting connections|starting up|hot standby", "PROG pq_standby"),
]

MYSQL: list[ToolCase] = [
    ("my_access_denied", "auth", "1045|Access denied", "PROG my_access_denied"),
    ("my_command_denied", "auth", "1142|command denied", "PROG my_command_denied"),
    ("my_duplicate", "validation", "1062|Duplicate entry", "PROG my_duplicate"),
    ("my_too_long", "validation", "1406|Data too long", "PROG my_too_long"),
    ("my_unknown_column", "programming", "1054|Unknown column", "PROG my_unknown_column"),
    ("my_lock_wait", "resource", "1205|Lock wait timeout", "PROG my_lock_wait"),
    ("my_refused", "network", "connection refused", "PROG my_refused"),
    ("my_too_many", "resource", "1040|Too many connections", "PROG my_too_many"),
]

REDIS: list[ToolCase] = [
    ("redis_noauth", "auth", "NOAUTH", "PROG redis_noauth"),
    ("redis_wrongpass", "auth", "WRONGPASS|invalid password", "PROG redis_wrongpass"),
    ("redis_wrongtype", "programming", "WRONGTYPE", "PROG redis_wrongtype"),
    ("redis_oom", "resource", "OOM", "PROG redis_oom"),
    ("redis_refused", "network", "connection refused", "PROG redis_refused"),
    ("redis_read_timeout", "network", "timeout", "PROG redis_read_timeout"),
]

BUILD: list[ToolCase] = [
    ("build_undefined", "programming", "undefined", "cd TMP/go41-undefined && GOCMD build -o /dev/null ."),
    ("build_not_used", "programming", "not used", "cd TMP/go41-not_used && GOCMD build -o /dev/null ."),
    ("build_cannot_use", "programming", "cannot use", "cd TMP/go41-cannot_use && GOCMD build -o /dev/null ."),
    ("build_syntax", "programming", "syntax error", "cd TMP/go41-syntax && GOCMD build -o /dev/null ."),
    ("build_missing_package", "programming", "cannot find package",
     "cd TMP/go41-missing_package && GOCMD build -o /dev/null ."),
    ("vet_printf", "programming", "format", "cd TMP/go41-vet_printf && GOCMD vet ."),
    ("test_fail", "programming", "FAIL", "cd TMP/go41-test_fail && GOCMD test -count=1 ."),
]

_SQL_SETUP = ("DROP TABLE IF EXISTS b41_ledger; CREATE TABLE b41_ledger (amount int); "
              "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'b41_reader') THEN "
              "CREATE ROLE b41_reader LOGIN; END IF; END $$;")
_SQL_CLEANUP = "DROP TABLE IF EXISTS b41_ledger; DROP ROLE IF EXISTS b41_reader;"
_MARIA_SETUP = ("DROP USER IF EXISTS 'b41_app'@'%'; CREATE USER 'b41_app'@'%' IDENTIFIED BY 'right-b41'; "
                "DROP TABLE IF EXISTS test.b41_jobs; CREATE TABLE test.b41_jobs (id int PRIMARY KEY, "
                "state varchar(16)) ENGINE=InnoDB; INSERT INTO test.b41_jobs VALUES (1, 'queued');")
_MARIA_CLEANUP = "DROP USER IF EXISTS 'b41_app'@'%'; DROP TABLE IF EXISTS test.b41_jobs;"


def _psql(sql: str) -> None:
    run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-c", sql])


def _mariadb(sql: str) -> None:
    run(["mariadb", "-h", "127.0.0.1", "-u", "root", "-e", sql])


def _shared_databases(env: Env) -> None:
    """The role, user and tables the pq and mysql cases fail against; dropped with the batch."""
    _psql(_SQL_SETUP)
    _mariadb(_MARIA_SETUP)
    env._closers.append(lambda: _psql(_SQL_CLEANUP))
    env._closers.append(lambda: _mariadb(_MARIA_CLEANUP))


def blind41_records(env: Env) -> list[Record]:
    binary = build_program(env)
    write_broken(env)
    locked = binary.parent / "reports"
    locked.mkdir(mode=0o755)
    work = env.tmp / "work41"
    work.mkdir()
    tls = client_cert_server(env)
    cafile = binary.parent / "ca.pem"
    cafile.write_bytes(tls.cafile.read_bytes())
    _shared_databases(env)
    pg = private_postgres(env, max_connections=4)
    standby = private_postgres(env, standby=True)
    maria_port, _ = private_mariadb(env, max_connections=3)
    run(["mariadb", "-h", "127.0.0.1", "-P", str(maria_port), "-u", "root", "-e",
         "CREATE USER 'b41_app'@'%' IDENTIFIED BY 'right-b41'"])  # not SUPER: no extra connection slot
    settings = {
        "HTTP": env.http, "CLOSED": str(env.closed_port), "RESET": str(env.reset_port),
        "HANG": str(env.hang_port), "PARTIAL": str(env.close_port), "TLS": str(tls.port), "CA": str(cafile),
        "MISSING": "/etc/deployd-b41/config.yaml", "LOCKED": str(locked), "WORK": str(work),
        "RO": str(mount_tmpfs(env, "ro41", "size=64k,ro")), "DISK": str(mount_tmpfs(env, "disk41", "size=256k")),
        "OTHER": str(mount_tmpfs(env, "other41", "size=64k")), "PG": str(pg.port), "PG_STANDBY": str(standby.port),
        "MARIADB": str(maria_port),
        "REDIS_AUTH": str(private_redis(env, "--requirepass", _REDIS_PASSWORD)), "REDIS_PASSWORD": _REDIS_PASSWORD,
        "REDIS_FULL": str(private_redis(env, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")),
    }
    prog = program_prefix(binary, settings)
    gocmd = "env " + " ".join(f"{k}={v}" for k, v in GO_ENV.items()) + " go"

    def fill(command: str) -> str:
        return command.replace("PROG", prog).replace("GOCMD", gocmd).replace("TMP", str(env.tmp))

    os.chmod(binary.parent, 0o755)
    out = tool_records(HTTP, "go-http41", env.tmp, fill, timeout=30)
    out += tool_records(LOCAL, "go41", env.tmp, fill, timeout=30)
    out += tool_records(PQ, "go-pq41", env.tmp, fill, timeout=30)
    out += tool_records(MYSQL, "go-mysql41", env.tmp, fill, timeout=30)
    out += tool_records(REDIS, "go-redis41", env.tmp, fill, timeout=30)
    out += tool_records(BUILD, "go-build41", Path(env.tmp), fill, timeout=120)
    return out


if __name__ == "__main__":
    write_batch(blind41_records)


__all__ = ["BLIND41_SOURCES", "blind41_records"]
