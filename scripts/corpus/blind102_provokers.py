"""Hundred-and-second batch of blind provokers: Node.js libraries not seen before, installed in their own prefix (see
blind102_support). porsager's `postgres`, kysely, drizzle-orm and objection against a private PostgreSQL cluster
(wrong passwords, a closed port, a full accept queue, too few connection slots, a backend terminated by an
administrator, a standby that refuses connections, missing tables, unique/not-null/check/foreign-key violations,
bad casts and syntax, exhausted client pools, unknown relations and JSON-schema validation); node-sqlite3 on real
files (constraints, a missing table, a locked database, a missing directory);
amqp-connection-manager against RabbitMQ with a wrong password and against a closed port; mocha, vitest, ava and
tap reporting failed assertions, defects and refused connections; fastify and koa handlers failing (defects, a full
and a read-only mount, a directory read as a file, schema validation, 401 and 503 answers) as the server logs them
and as a client sees them; valibot and superstruct rejecting data."""

from __future__ import annotations

import contextlib
import sqlite3

from blind102_support import NODE102_BIN, PG_SCHEMA, write_fixtures
from checked import ToolCase, problem, tool_records
from common import Env, Record, run, write_batch
from servers import full_backlog_port, mount_tmpfs, private_postgres, read_only_sqlite

BLIND102_SOURCES = frozenset({"postgresjs102", "kysely102", "drizzle102", "objection102", "sqlite3-node102",
                              "amqpcm102", "mocha102", "vitest102", "ava102", "tap102", "fastify102", "koa102",
                              "valibot102", "superstruct102"})

SQLITE_SCHEMA = "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL);\n" \
                "INSERT INTO accounts (email) VALUES ('ada@example.org');\n"

_N = "export NO_COLOR=1 FORCE_COLOR=0 CI=1; cd @W@ && node "

POSTGRESJS: list[ToolCase] = [
    ("pgjs_wrong_password", "auth", "password authentication failed", _N + "pgjs/wrong_password.mjs"),
    ("pgjs_refused", "network", "ECONNREFUSED", _N + "pgjs/refused.mjs"),
    ("pgjs_too_many_clients", "resource", "too many clients|remaining connection slots",
     _N + "pgjs/too_many.mjs"),
    ("pgjs_standby", "service", "starting up|not accepting|recovery|standby", _N + "pgjs/standby.mjs"),
    ("pgjs_missing_table", "programming", "does not exist", _N + "pgjs/missing_table.mjs"),
    ("pgjs_bad_integer", "validation", "invalid input syntax", _N + "pgjs/bad_integer.mjs"),
    ("pgjs_syntax", "programming", "syntax error", _N + "pgjs/syntax.mjs"),
    ("pgjs_connect_timeout", "network", "CONNECT_TIMEOUT|timeout", _N + "pgjs/connect_timeout.mjs"),
]

KYSELY: list[ToolCase] = [
    ("kysely_unique", "validation", "duplicate key", _N + "kysely/unique.mjs"),
    ("kysely_missing_table", "programming", "does not exist", _N + "kysely/missing_table.mjs"),
    ("kysely_wrong_password", "auth", "password authentication failed", _N + "kysely/wrong_password.mjs"),
    ("kysely_pool_timeout", "resource", "timeout", _N + "kysely/pool_timeout.mjs"),
    ("kysely_terminated", "service", "administrator command", _N + "kysely/terminated.mjs"),
    ("kysely_not_null", "validation", "null value", _N + "kysely/not_null.mjs"),
]

DRIZZLE: list[ToolCase] = [
    ("drizzle_unique", "validation", "duplicate key", _N + "drizzle/unique.mjs"),
    ("drizzle_missing_table", "programming", "does not exist", _N + "drizzle/missing_table.mjs"),
    ("drizzle_standby", "service", "starting up|not accepting|recovery|standby", _N + "drizzle/standby.mjs"),
    ("drizzle_refused", "network", "ECONNREFUSED", _N + "drizzle/refused.mjs"),
    ("drizzle_check", "validation", "check constraint", _N + "drizzle/check.mjs"),
    ("drizzle_foreign_key", "validation", "foreign key", _N + "drizzle/foreign_key.mjs"),
]

OBJECTION: list[ToolCase] = [
    ("objection_json_schema", "validation", "ValidationError|must", _N + "objection/schema.mjs"),
    ("objection_unique", "validation", "UniqueViolation|duplicate key", _N + "objection/unique.mjs"),
    ("objection_pool_timeout", "resource", "Timeout acquiring", _N + "objection/pool_timeout.mjs"),
    ("objection_unknown_relation", "programming", "unknown relation", _N + "objection/unknown_relation.mjs"),
    ("objection_wrong_password", "auth", "password authentication failed", _N + "objection/wrong_password.mjs"),
]

SQLITE: list[ToolCase] = [
    ("sqlite3_unique", "validation", "UNIQUE constraint", _N + "sqlite/unique.mjs"),
    ("sqlite3_missing_table", "programming", "no such table", _N + "sqlite/missing_table.mjs"),
    ("sqlite3_locked", "resource", "database is locked|SQLITE_BUSY", _N + "sqlite/locked.mjs"),
    ("sqlite3_cantopen", "filesystem", "SQLITE_CANTOPEN|unable to open", _N + "sqlite/cantopen.mjs"),
    ("sqlite3_not_null", "validation", "NOT NULL constraint", _N + "sqlite/not_null.mjs"),
]

AMQP: list[ToolCase] = [
    ("amqpcm_wrong_password", "auth", "ACCESS_REFUSED|403",
     _N + "amqp/connect.mjs amqp://guest:wrong-password@127.0.0.1:5672"),
    ("amqpcm_refused", "network", "ECONNREFUSED", _N + "amqp/connect.mjs amqp://guest:guest@127.0.0.1:@CLOSED@"),
]

_T = "export NO_COLOR=1 FORCE_COLOR=0 CI=1; cd @W@/"

MOCHA: list[ToolCase] = [
    ("mocha_assertion", "programming", "AssertionError", _T + "mocha && @B@/mocha assertion.spec.cjs"),
    ("mocha_refused", "network", "ECONNREFUSED|fetch failed", _T + "mocha && @B@/mocha refused.spec.cjs"),
    ("mocha_typeerror", "programming", "TypeError", _T + "mocha && @B@/mocha typeerror.spec.cjs"),
    ("mocha_missing_spec", "filesystem", "No test files|not found|ENOENT",
     _T + "mocha && @B@/mocha orders.spec.cjs"),
]

VITEST: list[ToolCase] = [
    ("vitest_assertion", "programming", "AssertionError|expected", _T + "vitest/assertion && @B@/vitest run"),
    ("vitest_refused", "network", "ECONNREFUSED", _T + "vitest/refused && @B@/vitest run"),
    ("vitest_missing_import", "programming", "Failed to load|Cannot find|Failed to resolve|does not exist",
     _T + "vitest/missing && @B@/vitest run"),
]

AVA: list[ToolCase] = [
    ("ava_assertion", "programming", "Difference|not the same|t.is", _T + "ava/assertion && @B@/ava test.mjs"),
    ("ava_refused", "network", "ECONNREFUSED", _T + "ava/refused && @B@/ava test.mjs"),
]

TAP: list[ToolCase] = [
    ("tap_assertion", "programming", "not ok|should be equal|gross includes", _T + "tap && @B@/tap assertion.test.mjs"),
]

FASTIFY: list[ToolCase] = [
    ("fastify_handler_client", "service", "500", _N + "fastify/handler_client.mjs"),
    ("fastify_handler_log", "programming", "TypeError", _N + "fastify/handler_log.mjs"),
    ("fastify_schema", "validation", "400", _N + "fastify/schema.mjs"),
    ("fastify_unauthorized", "auth", "401", _N + "fastify/unauthorized.mjs"),
    ("fastify_disk_full", "resource", "ENOSPC", _N + "fastify/disk_full.mjs"),
    ("fastify_read_only", "filesystem", "EROFS", _N + "fastify/read_only.mjs"),
    ("fastify_plugin_timeout", "programming", "PLUGIN_EXEC_TIMEOUT|did not start in time|timeout",
     _N + "fastify/plugin_timeout.mjs"),
    ("fastify_unavailable", "service", "503", _N + "fastify/unavailable.mjs"),
]

KOA: list[ToolCase] = [
    ("koa_handler_log", "programming", "TypeError", _N + "koa/handler_log.mjs"),
    ("koa_handler_client", "service", "500", _N + "koa/handler_client.mjs"),
    ("koa_unauthorized", "auth", "401", _N + "koa/unauthorized.mjs"),
    ("koa_is_directory", "filesystem", "EISDIR", _N + "koa/is_directory.mjs"),
    ("koa_disk_full", "resource", "ENOSPC", _N + "koa/disk_full.mjs"),
]

VALIBOT: list[ToolCase] = [
    ("valibot_object", "validation", "ValiError", _N + "valibot/object.mjs"),
    ("valibot_strict_object", "validation", "ValiError", _N + "valibot/missing_key.mjs"),
    ("valibot_undefined_schema", "programming", "TypeError", _N + "valibot/undefined_schema.mjs"),
]

SUPERSTRUCT: list[ToolCase] = [
    ("superstruct_assert", "validation", "StructError", _N + "superstruct/assert.mjs"),
    ("superstruct_create", "validation", "StructError", _N + "superstruct/create.mjs"),
    ("superstruct_enums", "validation", "StructError", _N + "superstruct/enums.mjs"),
]

GROUPS: list[tuple[str, list[ToolCase]]] = [
    ("postgresjs102", POSTGRESJS), ("kysely102", KYSELY), ("drizzle102", DRIZZLE), ("objection102", OBJECTION),
    ("sqlite3-node102", SQLITE), ("amqpcm102", AMQP), ("mocha102", MOCHA), ("vitest102", VITEST), ("ava102", AVA),
    ("tap102", TAP), ("fastify102", FASTIFY), ("koa102", KOA), ("valibot102", VALIBOT),
    ("superstruct102", SUPERSTRUCT),
]


def make_records(env: Env) -> list[Record]:
    if not NODE102_BIN.is_dir():
        problem("node102", "libraries missing (npm install --prefix /tmp/recoup-corpus-102-node ...)")
        return []
    pg = private_postgres(env, max_connections=4, reserved=1)
    setup = run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "postgres",
                 "-v", "ON_ERROR_STOP=1", "-c", PG_SCHEMA])
    if setup.returncode:
        problem("pg102_setup", "schema not created")
    standby = private_postgres(env, standby=True)
    backlog = full_backlog_port(env)
    full = mount_tmpfs(env, "full", "size=64k")
    read_only_db = read_only_sqlite(env, "ro", SQLITE_SCHEMA)
    work = env.tmp / "w102"
    work.mkdir()
    with contextlib.closing(sqlite3.connect(work / "app.db")) as db:
        db.executescript(SQLITE_SCHEMA)
        db.commit()

    def fill(text: str) -> str:
        for key, value in {"@PG@": str(pg.port), "@STANDBY@": str(standby.port), "@CLOSED@": str(env.closed_port),
                           "@BACKLOG@": str(backlog), "@FULL@": str(full), "@RO@": str(read_only_db.parent),
                           "@W@": str(work), "@B@": str(NODE102_BIN)}.items():
            text = text.replace(key, value)
        return text

    write_fixtures(work, fill)
    out: list[Record] = []
    for source, cases in GROUPS:
        out.extend(tool_records(cases, source, work, fill, timeout=90))
    return out


if __name__ == "__main__":
    write_batch(make_records)
