"""Forty-ninth batch of blind provokers: small C programs compiled with gcc into a temporary directory and run, the
C client libraries automation links against, and gcc/make on broken projects (see `blind49_support.py` for the
programs).

* `c49`: plain POSIX and BSD sockets: `connect` to a closed port, to a listener whose accept queue is full (a
  `poll` deadline), reads that time out or are reset, an upload to a peer that hangs up, too many sockets under
  `ulimit -n`; `fopen`/`open`/`mkdir`/`rmdir`/`rename` failures (missing paths, permission denied as `nobody` via
  runuser, a full tmpfs, a read-only tmpfs, already exists, is a directory, not empty, cross-device), too many
  open files, `malloc` failing under `ulimit -v`; defects killed by a signal that bash reports (NULL
  dereference, a failed `assert`, division by zero, a double `free`); OpenSSL `SSL_connect` errors
  (`ERR_error_string`) against a self-signed server, a name mismatch and a plain HTTP port.
* `libcurl49`: the easy API with `CURLOPT_FAILONERROR` (`curl_easy_strerror` and the error buffer): refused, a
  timeout, a `.invalid` host, a self-signed certificate, a reset, HTTP 401/403/429/500/502/503 from a local API
  server, a download filling a tmpfs.
* `libpq49`: `PQerrorMessage` for a wrong password, a `pg_hba.conf` reject, too many clients and a standby that
  accepts no connections (private clusters), and a table permission, a unique violation, bad integer input and a
  syntax error on the shared server.
* `sqlite-c49`: `sqlite3_errmsg` for a locked database, a full tmpfs, a missing directory, a read-only database
  (as `nobody`), a file that is not a database, constraint and STRICT type failures, a missing table.
* `hiredis49`: refused, a read timeout, NOAUTH and a wrong password and OOM on a private redis-server, WRONGTYPE.
* `asan49`: AddressSanitizer (heap-buffer-overflow, heap-use-after-free, stack-buffer-overflow), LeakSanitizer and
  UndefinedBehaviorSanitizer reports.
* `gcc49`: compile and link errors (undefined reference, implicit declaration, missing header, undeclared
  identifier and multiple definition under make, a forgotten `-lcurl`, incompatible pointer types with
  `-Werror`).

Only 127.0.0.1. The label is the cause provoked; the cause check of `checked.py` drops a case whose output lacks
the provoked cause's token."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3

from blind49_support import blob_server, build, write_broken
from checked import ToolCase, tool_records
from cloudapi import ANSWERS, cloud_api
from common import Env, Record, run, write_batch
from servers import client_cert_server, mount_tmpfs, private_postgres, private_redis
from servers import full_backlog_port as full_backlog

BLIND49_SOURCES = frozenset({"c49", "libcurl49", "libpq49", "sqlite-c49", "hiredis49", "gcc49", "asan49"})

ANSWERS.update({
    "reg49": (401, "application/json", json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                                                "message": "authentication required"}]})),
    "obj49": (403, "application/xml", "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>"),
    "hook49": (429, "application/json", json.dumps({"message": "rate limit exceeded"})),
    "inv49": (500, "application/json", json.dumps({"error": "internal"})),
    "gw49": (502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "pay49": (503, "application/json", json.dumps({"status": "maintenance"})),
})

_PG = "host=127.0.0.1 port=5432 user=postgres dbname=test"

NET: list[ToolCase] = [
    ("netprobe_refused", "network", "refused", "@BIN@/netprobe ping 127.0.0.1 @CLOSED@"),
    ("netprobe_connect_timeout", "network", "timed out", "@BIN@/netprobe ping 127.0.0.1 @BACKLOG@"),
    ("netprobe_read_timeout", "network", "timed out", "@BIN@/netprobe get 127.0.0.1 @HANG@ /healthz"),
    ("netprobe_reset", "network", "reset", "@BIN@/netprobe get 127.0.0.1 @RESET@ /v1/status"),
    ("netprobe_upload_dropped", "network", "broken pipe|reset", "@BIN@/netprobe push 127.0.0.1 @EMPTY@ 4096"),
    ("netprobe_fanout_emfile", "resource", "too many open files",
     "ulimit -n 12; @BIN@/netprobe fanout 127.0.0.1 @HANG@ 64"),
    ("tls_self_signed", "network", "certificate verify failed|self-signed|self signed",
     "@BIN@/tlsprobe 127.0.0.1 @TLS@"),
    ("tls_name_mismatch", "network", "hostname mismatch|verify failed",
     "@BIN@/tlsprobe 127.0.0.1 @TLS@ @CA@ deploy.internal"),
    ("tls_plain_http_port", "network", "wrong version|packet length|error:", "@BIN@/tlsprobe 127.0.0.1 @HTTP@"),
]

FILES: list[ToolCase] = [
    ("filetool_missing", "filesystem", "No such file", "@BIN@/filetool show @TMP@/deploy/manifest.json"),
    ("filetool_read_as_nobody", "filesystem", "Permission denied",
     "runuser -u nobody -- @BIN@/filetool show @TMP@/secrets/db-password"),
    ("filetool_write_as_nobody", "filesystem", "Permission denied",
     "runuser -u nobody -- @BIN@/filetool write @TMP@/reports/nightly.csv 100"),
    ("filetool_disk_full", "resource", "No space left", "@BIN@/filetool write @DISK1@/bundle.tar 400000"),
    ("filetool_read_only", "filesystem", "Read-only", "@BIN@/filetool mkdir @RO@/release-49"),
    ("filetool_exists", "filesystem", "File exists", "@BIN@/filetool mkdir @TMP@/releases/v49.0.0"),
    ("filetool_is_dir", "filesystem", "Is a directory", "@BIN@/filetool show @TMP@/conf.d"),
    ("filetool_not_empty", "filesystem", "not empty", "@BIN@/filetool rmdir @TMP@/cache"),
    ("filetool_cross_device", "filesystem", "cross-device", "@BIN@/filetool move @TMP@/image.bin @DISK2@/image.bin"),
    ("filetool_emfile", "resource", "Too many open files", "ulimit -n 16; @BIN@/filetool open-all @TMP@/shards"),
    ("filetool_malloc", "resource", "Cannot allocate memory", "ulimit -v 200000; @BIN@/filetool alloc 512"),
]

#: bash runs the program as a child (not the last command), so it reports the signal itself
CRASH: list[ToolCase] = [
    ("worker_null_deref", "programming", "Segmentation fault",
     "cd @CORE@ && ulimit -c unlimited; @BIN@/worker retries; exit $?"),
    ("worker_assert", "programming", "Assertion", "cd @CORE@ && ulimit -c unlimited; @BIN@/worker batch 0; exit $?"),
    ("worker_divide_zero", "programming", "Floating point exception", "@BIN@/worker average 0; exit $?"),
    ("worker_double_free", "programming", "double free", "@BIN@/worker release; exit $?"),
]

ASAN: list[ToolCase] = [
    ("asan_heap_overflow", "programming", "heap-buffer-overflow", "@BIN@/memcheck name"),
    ("asan_use_after_free", "programming", "heap-use-after-free", "@BIN@/memcheck session"),
    ("asan_stack_overflow", "programming", "stack-buffer-overflow", "@BIN@/memcheck sum"),
    ("asan_leak", "programming", "detected memory leaks", "@BIN@/memcheck cache"),
    ("ubsan_signed_overflow", "programming", "signed integer overflow", "@BIN@/ubcheck"),
]

CURL: list[ToolCase] = [
    ("curl_refused", "network", "Couldn't connect|refused", "@BIN@/fetch http://127.0.0.1:@CLOSED@/v1/health"),
    ("curl_timeout", "network", "Timeout", "FETCH_TIMEOUT_MS=1000 @BIN@/fetch http://127.0.0.1:@HANG@/v1/status"),
    ("curl_dns_invalid", "network", "resolve", "@BIN@/fetch http://artifacts.build49.invalid/v1/index.json"),
    ("curl_self_signed", "network", "SSL|certificate", "@BIN@/fetch https://127.0.0.1:@TLS@/v1/packages"),
    ("curl_reset", "network", "reset|Recv failure", "@BIN@/fetch http://127.0.0.1:@RESET@/v1/events"),
    ("curl_401", "auth", "401", "FETCH_TOKEN=b49-expired @BIN@/fetch @API@/reg49/v2/app/manifests/latest"),
    ("curl_403", "auth", "403", "@BIN@/fetch @API@/obj49/backups/2026-11-29.tar.gz"),
    ("curl_429", "resource", "429", "@BIN@/fetch @API@/hook49/v1/notify"),
    ("curl_500", "service", "500", "@BIN@/fetch @API@/inv49/v1/stock/sku-49"),
    ("curl_502", "service", "502", "@BIN@/fetch @API@/gw49/healthz"),
    ("curl_503", "service", "503", "@BIN@/fetch @API@/pay49/v1/charges"),
    ("curl_download_disk_full", "resource", "No space left",
     "@BIN@/fetch http://127.0.0.1:@BLOB@/artifacts/app-49.tar.gz @DISK3@/app-49.tar.gz"),
]

PG: list[ToolCase] = [
    ("libpq_wrong_password", "auth", "password authentication failed",
     "@BIN@/pgq 'host=127.0.0.1 port=@PGP@ user=app password=wrong-password dbname=postgres' 'SELECT 1'"),
    ("libpq_hba_reject", "auth", "rejects",
     "@BIN@/pgq 'host=127.0.0.1 port=@PGP@ user=intruder dbname=postgres' 'SELECT 1'"),
    ("libpq_too_many_clients", "resource", "too many clients",
     "@BIN@/pgq --hold 4 'host=127.0.0.1 port=@PGP@ user=postgres dbname=postgres'"),
    ("libpq_standby", "service", "not accepting connections|starting up",
     "@BIN@/pgq 'host=127.0.0.1 port=@PGS@ user=postgres dbname=postgres' 'SELECT 1'"),
    ("libpq_table_permission", "auth", "permission denied",
     "@BIN@/pgq 'host=127.0.0.1 port=5432 user=b49_reader dbname=test' 'SELECT amount FROM b49_payroll'"),
    ("libpq_unique_violation", "validation", "duplicate key",
     f"@BIN@/pgq '{_PG}' 'CREATE TEMP TABLE b49_users (email text PRIMARY KEY)' "
     "\"INSERT INTO b49_users VALUES ('ops@example.org')\" \"INSERT INTO b49_users VALUES ('ops@example.org')\""),
    ("libpq_invalid_integer", "validation", "invalid input syntax",
     f"@BIN@/pgq '{_PG}' 'CREATE TEMP TABLE b49_quota (max_jobs int)' \"INSERT INTO b49_quota VALUES ('12k')\""),
    ("libpq_syntax_error", "programming", "syntax error",
     f"@BIN@/pgq '{_PG}' 'SELECT id, FROM pg_class WHERE relname = $$x$$'"),
]

SQLITE: list[ToolCase] = [
    ("sqlite_locked", "resource", "locked",
     "@BIN@/sq --hold 2 @SQ@/app.db & sleep 0.6; @BIN@/sq @SQ@/app.db \"INSERT INTO jobs(name) VALUES ('nightly')\";"
     " s=$?; wait; exit $s"),
    ("sqlite_disk_full", "resource", "full",
     "@BIN@/sq @DISK4@/cache.db 'CREATE TABLE blobs(b BLOB); INSERT INTO blobs VALUES (randomblob(400000))'"),
    ("sqlite_missing_dir", "filesystem", "unable to open",
     "@BIN@/sq --no-create @SQ@/state/queue.db 'SELECT count(*) FROM jobs'"),
    ("sqlite_readonly_nobody", "filesystem", "readonly",
     "runuser -u nobody -- @BIN@/sq @SQ@/app.db \"INSERT INTO jobs(name) VALUES ('from-nobody')\""),
    ("sqlite_not_a_database", "filesystem", "not a database", "@BIN@/sq @SQ@/export.db 'SELECT * FROM jobs'"),
    ("sqlite_unique", "validation", "UNIQUE constraint",
     "@BIN@/sq @SQ@/app.db \"INSERT INTO jobs(name) VALUES ('backup')\""),
    ("sqlite_not_null", "validation", "NOT NULL constraint",
     "@BIN@/sq @SQ@/app.db 'INSERT INTO jobs(name) VALUES (NULL)'"),
    ("sqlite_strict_type", "validation", "cannot store",
     "@BIN@/sq @SQ@/app.db \"INSERT INTO metrics(name, value) VALUES ('latency_ms', 'n/a')\""),
    ("sqlite_no_such_table", "programming", "no such table", "@BIN@/sq @SQ@/app.db 'SELECT * FROM job_runs'"),
]

REDIS: list[ToolCase] = [
    ("hiredis_refused", "network", "refused", "@BIN@/rq @CLOSED@ PING"),
    ("hiredis_read_timeout", "network", "temporarily unavailable|timed out", "@BIN@/rq @HANG@ GET deploy:lock"),
    ("hiredis_noauth", "auth", "NOAUTH", "@BIN@/rq @RP@ SET deploy:lock worker-49"),
    ("hiredis_wrong_password", "auth", "WRONGPASS|invalid password", "@BIN@/rq -a wrong-password @RP@ PING"),
    ("hiredis_oom", "resource", "OOM", "@BIN@/rq -a right-password-49 @RP@ SET b49:cache:manifest "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ("hiredis_wrongtype", "programming", "WRONGTYPE",
     "@BIN@/rq 6379 SET b49:deploy:queue held && @BIN@/rq 6379 LPUSH b49:deploy:queue job-1; s=$?; "
     "@BIN@/rq 6379 DEL b49:deploy:queue; exit $s"),
]


def _fixtures(env: Env) -> None:
    """The files the filetool and sq cases fail on (as root; the `nobody` cases cannot write or read them)."""
    tmp = env.tmp
    (tmp / "secrets").mkdir(mode=0o755)
    (tmp / "secrets" / "db-password").write_text("b49-secret\n")
    os.chmod(tmp / "secrets" / "db-password", 0o600)
    (tmp / "reports").mkdir(mode=0o755)
    (tmp / "releases" / "v49.0.0").mkdir(parents=True)
    (tmp / "conf.d").mkdir()
    (tmp / "cache").mkdir()
    (tmp / "cache" / "layer-01.tar").write_bytes(b"\0" * 512)
    (tmp / "image.bin").write_bytes(os.urandom(200_000))
    (tmp / "shards").mkdir()
    for i in range(60):
        (tmp / "shards" / f"part-{i:05d}.parquet").write_bytes(b"PAR1")
    (tmp / "core49").mkdir()
    sq = tmp / "sq"
    sq.mkdir(mode=0o755)
    with contextlib.closing(sqlite3.connect(sq / "app.db")) as db:
        db.executescript("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
                         "INSERT INTO jobs(name) VALUES ('backup');"
                         "CREATE TABLE metrics (name TEXT NOT NULL, value INTEGER) STRICT;")
    os.chmod(sq / "app.db", 0o644)
    (sq / "export.db").write_text("id,name,created\n1,backup,2026-11-29\n2,nightly,2026-11-29\n" * 40)


def _psql(sql: str) -> None:
    run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-c", sql])


def blind49_records(env: Env) -> list[Record]:
    bindir = build(env)
    _fixtures(env)
    broken = write_broken(env)
    api = cloud_api(env)
    tls = client_cert_server(env)
    disks = [mount_tmpfs(env, f"disk49{i}", "size=64k") for i in (1, 2, 3, 4)]
    ro = mount_tmpfs(env, "ro49", "size=64k,ro")
    pg = private_postgres(env, max_connections=4, reserved=1,
                          extra_hba="host all intruder 127.0.0.1/32 reject\n")
    standby = private_postgres(env, standby=True)
    redis_port = private_redis(env, "--requirepass", "right-password-49", "--maxmemory", "100kb",
                               "--maxmemory-policy", "noeviction")
    places = {"@BIN@": str(bindir), "@TMP@": str(env.tmp), "@API@": api, "@CLOSED@": str(env.closed_port),
              "@HANG@": str(env.hang_port), "@RESET@": str(env.reset_port), "@EMPTY@": str(env.empty_port),
              "@HTTP@": str(env.http_port), "@BACKLOG@": str(full_backlog(env)), "@TLS@": str(tls.port),
              "@CA@": str(tls.cafile), "@BLOB@": str(blob_server(env)), "@RO@": str(ro), "@PGP@": str(pg.port),
              "@PGS@": str(standby.port), "@RP@": str(redis_port), "@SQ@": str(env.tmp / "sq"),
              "@CORE@": str(env.tmp / "core49"), **{f"@DISK{i}@": str(d) for i, d in enumerate(disks, 1)}}

    def fill(text: str) -> str:
        for key, value in places.items():
            text = text.replace(key, value)
        return text

    _psql("DROP TABLE IF EXISTS b49_payroll; CREATE TABLE b49_payroll (amount int); "
          "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'b49_reader') THEN "
          "CREATE ROLE b49_reader LOGIN; END IF; END $$")
    try:
        out = tool_records(NET, "c49", env.tmp, fill)
        out += tool_records(FILES, "c49", env.tmp, fill)
        out += tool_records(CRASH, "c49", env.tmp, fill)
        out += tool_records(ASAN, "asan49", env.tmp, fill)
        out += tool_records(CURL, "libcurl49", env.tmp, fill)
        out += tool_records(PG, "libpq49", env.tmp, fill)
        out += tool_records(SQLITE, "sqlite-c49", env.tmp, fill)
        out += tool_records(REDIS, "hiredis49", env.tmp, fill)
        gcc_tokens = {"gcc_undefined_reference": "undefined reference", "gcc_implicit_declaration": "implicit",
                      "gcc_missing_header": "frame.h", "make_undeclared_identifier": "undeclared",
                      "make_multiple_definition": "multiple definition",
                      "make_missing_libcurl_link": "undefined reference", "gcc_incompatible_pointer": "incompatible"}
        out += tool_records([(name, "programming", gcc_tokens[name], cmd) for name, cmd in broken.items()],
                            "gcc49", env.tmp)
    finally:
        _psql("DROP TABLE IF EXISTS b49_payroll; DROP ROLE IF EXISTS b49_reader")
    return out


if __name__ == "__main__":
    write_batch(blind49_records)


__all__ = ["BLIND49_SOURCES", "blind49_records"]
