"""Fixtures for batch 102: small ES-module scripts and test projects that use Node.js libraries installed in their
own prefix (`npm install --prefix /tmp/recoup-corpus-102-node drizzle-orm kysely objection knex pg postgres sqlite3
amqp-connection-manager amqplib mocha vitest ava tap fastify koa valibot superstruct`). The work directory gets a
`node_modules` link to that prefix so `import` resolves; placeholders (@PG@, @APP@, ...) are filled by the
provokers with the ports and paths of the servers started for the batch."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

NODE102 = Path("/tmp/recoup-corpus-102-node")
NODE102_BIN = NODE102 / "node_modules" / ".bin"

#: the table every PostgreSQL case uses (created by `postgres`, usable by `app`)
PG_SCHEMA = """
CREATE TABLE accounts (id serial PRIMARY KEY, email text UNIQUE NOT NULL, age int CHECK (age >= 0));
CREATE TABLE orders (id serial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id), total numeric);
INSERT INTO accounts (email, age) VALUES ('ada@example.org', 36);
GRANT ALL ON ALL TABLES IN SCHEMA public TO app;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO app;
"""

_PGJS = "import postgres from 'postgres';\n"
_KYSELY = ("import { Kysely, PostgresDialect } from 'kysely';\nimport pg from 'pg';\n"
           "const make = (cfg) => new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool(cfg) }) });\n")
_DRIZZLE = ("import { drizzle } from 'drizzle-orm/node-postgres';\n"
            "import { pgTable, serial, text, integer, numeric } from 'drizzle-orm/pg-core';\n"
            "const accounts = pgTable('accounts', { id: serial('id').primaryKey(), email: text('email').notNull(),"
            " age: integer('age') });\n"
            "const orders = pgTable('orders', { id: serial('id').primaryKey(), accountId: integer('account_id'),"
            " total: numeric('total') });\n"
            "const invoices = pgTable('invoices', { id: serial('id').primaryKey(), number: text('number') });\n")
_OBJECTION = ("import Knex from 'knex';\nimport { Model } from 'objection';\n"
              "class Account extends Model {\n  static tableName = 'accounts';\n"
              "  static jsonSchema = { type: 'object', required: ['email'], properties: {\n"
              "    id: { type: 'integer' }, email: { type: 'string', format: 'email', minLength: 3 },\n"
              "    age: { type: 'integer', minimum: 0 } } };\n"
              "  static relationMappings = () => ({ orders: { relation: Model.HasManyRelation, modelClass: Order,"
              " join: { from: 'accounts.id', to: 'orders.account_id' } } });\n}\n"
              "class Order extends Model { static tableName = 'orders'; }\n")
_SQLITE = "import sqlite3 from 'sqlite3';\nconst run = (db, sql, args = []) => new Promise((ok, ko) => " \
          "db.run(sql, args, (err) => err ? ko(err) : ok()));\n"
_AMQP = ("import amqp from 'amqp-connection-manager';\n"
         "const conn = amqp.connect([process.argv[2]], { reconnectTimeInSeconds: 60 });\n"
         "conn.on('connectFailed', ({ err }) => { console.error(err); process.exit(1); });\n"
         "conn.on('connect', () => { console.log('connected'); process.exit(0); });\n")

_FASTIFY = "import Fastify from 'fastify';\nimport fs from 'node:fs/promises';\n"
_FASTIFY_LOGGED = _FASTIFY + "const app = Fastify({ logger: { level: 'error', stream: process.stderr } });\n"
_KOA = "import Koa from 'koa';\nimport fs from 'node:fs/promises';\n"
_SERVE_KOA = ("const server = app.listen(0, '127.0.0.1');\nawait new Promise((r) => server.once('listening', r));\n"
              "const res = await fetch(`http://127.0.0.1:${server.address().port}/orders/7`, @INIT@);\n")

FILES: dict[str, str] = {
    # ---------------------------------------------------------------- postgres (porsager)
    "pgjs/wrong_password.mjs": _PGJS + "const sql = postgres({ host: '127.0.0.1', port: @PG@, user: 'app', "
    "password: 'wrong-password', database: 'postgres' });\nawait sql`select 1`;\n",
    "pgjs/refused.mjs": _PGJS + "const sql = postgres({ host: '127.0.0.1', port: @CLOSED@, user: 'postgres', "
    "database: 'postgres' });\nawait sql`select 1`;\n",
    "pgjs/too_many.mjs": _PGJS + "const sql = postgres({ host: '127.0.0.1', port: @PG@, user: 'app', "
    "password: 'right-password', database: 'postgres', max: 8 });\n"
    "await Promise.all(Array.from({ length: 8 }, () => sql`select pg_sleep(1)`));\n",
    "pgjs/standby.mjs": _PGJS + "const sql = postgres({ host: '127.0.0.1', port: @STANDBY@, user: 'postgres', "
    "database: 'postgres' });\nawait sql`select 1`;\n",
    "pgjs/missing_table.mjs": _PGJS + "const sql = postgres({ host: '127.0.0.1', port: @PG@, user: 'postgres', "
    "database: 'postgres' });\nawait sql`select * from invoices where id = ${1}`;\n",
    "pgjs/bad_integer.mjs": _PGJS + "const sql = postgres({ host: '127.0.0.1', port: @PG@, user: 'postgres', "
    "database: 'postgres' });\nconst age = 'thirty';\n"
    "await sql`update accounts set age = ${age}::int where email = ${'ada@example.org'}`;\n",
    "pgjs/syntax.mjs": _PGJS + "const sql = postgres({ host: '127.0.0.1', port: @PG@, user: 'postgres', "
    "database: 'postgres' });\nawait sql.unsafe('select email age from accounts wher id = 1');\n",
    "pgjs/connect_timeout.mjs": _PGJS + "const sql = postgres({ host: '127.0.0.1', port: @BACKLOG@, "
    "user: 'postgres', database: 'postgres', connect_timeout: 2 });\nawait sql`select 1`;\n",
    # ---------------------------------------------------------------- kysely (pg dialect)
    "kysely/unique.mjs": _KYSELY + "const db = make({ host: '127.0.0.1', port: @PG@, user: 'postgres', "
    "database: 'postgres' });\n"
    "await db.insertInto('accounts').values({ email: 'ada@example.org', age: 40 }).execute();\n",
    "kysely/missing_table.mjs": _KYSELY + "const db = make({ host: '127.0.0.1', port: @PG@, user: 'postgres', "
    "database: 'postgres' });\nawait db.selectFrom('invoices').selectAll().where('id', '=', 1).execute();\n",
    "kysely/wrong_password.mjs": _KYSELY + "const db = make({ host: '127.0.0.1', port: @PG@, user: 'app', "
    "password: 'wrong-password', database: 'postgres' });\nawait db.selectFrom('accounts').selectAll().execute();\n",
    "kysely/pool_timeout.mjs": _KYSELY + "const db = make({ host: '127.0.0.1', port: @PG@, user: 'postgres', "
    "database: 'postgres', max: 1, connectionTimeoutMillis: 500 });\n"
    "const held = db.transaction().execute(async (trx) => { await new Promise((r) => setTimeout(r, 3000)); });\n"
    "await new Promise((r) => setTimeout(r, 200));\n"
    "await db.selectFrom('accounts').selectAll().execute();\nawait held;\n",
    "kysely/not_null.mjs": _KYSELY + "const db = make({ host: '127.0.0.1', port: @PG@, user: 'postgres', "
    "database: 'postgres' });\nawait db.insertInto('accounts').values({ email: null, age: 3 }).execute();\n",
    "kysely/terminated.mjs": _KYSELY + "import { sql } from 'kysely';\nconst cfg = { host: '127.0.0.1', port: @PG@, "
    "user: 'postgres', database: 'postgres' };\nconst db = make(cfg);\nconst admin = make(cfg);\n"
    "const slow = sql`select pg_sleep(5) as report`.execute(db);\nsetTimeout(() => sql`select "
    "pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(5)%' and pid <> pg_backend_pid()`"
    ".execute(admin).catch(() => {}), 500);\nawait slow;\n",
    # ---------------------------------------------------------------- drizzle-orm (node-postgres)
    "drizzle/unique.mjs": _DRIZZLE + "const db = drizzle({ connection: { host: '127.0.0.1', port: @PG@, "
    "user: 'postgres', database: 'postgres' } });\n"
    "await db.insert(accounts).values({ email: 'ada@example.org', age: 22 });\n",
    "drizzle/missing_table.mjs": _DRIZZLE + "const db = drizzle({ connection: { host: '127.0.0.1', port: @PG@, "
    "user: 'postgres', database: 'postgres' } });\nawait db.select().from(invoices);\n",
    "drizzle/standby.mjs": _DRIZZLE + "const db = drizzle({ connection: { host: '127.0.0.1', port: @STANDBY@, "
    "user: 'postgres', database: 'postgres' } });\nawait db.select().from(accounts);\n",
    "drizzle/refused.mjs": _DRIZZLE + "const db = drizzle({ connection: { host: '127.0.0.1', port: @CLOSED@, "
    "user: 'postgres', database: 'postgres' } });\nawait db.select().from(accounts);\n",
    "drizzle/check.mjs": _DRIZZLE + "const db = drizzle({ connection: { host: '127.0.0.1', port: @PG@, "
    "user: 'postgres', database: 'postgres' } });\n"
    "await db.insert(accounts).values({ email: 'neg@example.org', age: -4 });\n",
    "drizzle/foreign_key.mjs": _DRIZZLE + "const db = drizzle({ connection: { host: '127.0.0.1', port: @PG@, "
    "user: 'postgres', database: 'postgres' } });\n"
    "await db.insert(orders).values({ accountId: 9999, total: '12.50' });\n",
    # ---------------------------------------------------------------- objection (knex, pg)
    "objection/schema.mjs": _OBJECTION + "Account.fromJson({ email: 'x', age: -1 });\n",
    "objection/unique.mjs": _OBJECTION + "const knex = Knex({ client: 'pg', connection: { host: '127.0.0.1', "
    "port: @PG@, user: 'postgres', database: 'postgres' } });\nModel.knex(knex);\n"
    "await Account.query().insert({ email: 'ada@example.org', age: 50 });\n",
    "objection/pool_timeout.mjs": _OBJECTION + "const knex = Knex({ client: 'pg', connection: { host: '127.0.0.1', "
    "port: @PG@, user: 'postgres', database: 'postgres' }, pool: { min: 0, max: 1 }, "
    "acquireConnectionTimeout: 800 });\nModel.knex(knex);\n"
    "const held = knex.transaction(async () => { await new Promise((r) => setTimeout(r, 3000)); });\n"
    "await new Promise((r) => setTimeout(r, 300));\nawait Account.query().where('age', '>', 18);\nawait held;\n",
    "objection/unknown_relation.mjs": _OBJECTION + "const knex = Knex({ client: 'pg', connection: { host: "
    "'127.0.0.1', port: @PG@, user: 'postgres', database: 'postgres' } });\nModel.knex(knex);\n"
    "await Account.query().withGraphFetched('invoices');\n",
    "objection/wrong_password.mjs": _OBJECTION + "const knex = Knex({ client: 'pg', connection: { host: "
    "'127.0.0.1', port: @PG@, user: 'app', password: 'wrong-password', database: 'postgres' } });\n"
    "Model.knex(knex);\nawait Account.query().findById(1);\n",
    # ---------------------------------------------------------------- sqlite3 (node-sqlite3)
    "sqlite/unique.mjs": _SQLITE + "const db = new sqlite3.Database('@W@/app.db');\n"
    "await run(db, 'insert into accounts (email) values (?)', ['ada@example.org']);\n",
    "sqlite/missing_table.mjs": _SQLITE + "const db = new sqlite3.Database('@W@/app.db');\n"
    "await run(db, 'delete from invoices where id = ?', [3]);\n",
    "sqlite/locked.mjs": _SQLITE + "const a = new sqlite3.Database('@W@/app.db');\n"
    "const b = new sqlite3.Database('@W@/app.db');\nb.configure('busyTimeout', 0);\n"
    "await run(a, 'begin exclusive');\nawait run(a, \"insert into accounts (email) values ('b@example.org')\");\n"
    "await run(b, \"insert into accounts (email) values ('c@example.org')\");\n",
    "sqlite/cantopen.mjs": _SQLITE + "const db = await new Promise((ok, ko) => { const d = new sqlite3.Database("
    "'@W@/no-such-dir/app.db', (err) => err ? ko(err) : ok(d)); });\n",
    "sqlite/not_null.mjs": _SQLITE + "const db = new sqlite3.Database('@W@/app.db');\n"
    "await run(db, 'insert into accounts (email) values (?)', [null]);\n",
    # ---------------------------------------------------------------- amqp-connection-manager
    "amqp/connect.mjs": _AMQP,
    # ---------------------------------------------------------------- fastify
    "fastify/handler_client.mjs": _FASTIFY + "const app = Fastify();\n"
    "app.get('/orders/:id', async (req) => { const order = undefined; return { total: order.total }; });\n"
    "await app.listen({ port: 0, host: '127.0.0.1' });\n"
    "const res = await fetch(`http://127.0.0.1:${app.server.address().port}/orders/7`);\n"
    "console.error(res.status, res.statusText, await res.text());\nprocess.exit(res.ok ? 0 : 1);\n",
    "fastify/handler_log.mjs": _FASTIFY_LOGGED + (
    "app.get('/orders/:id', async (req) => { const order = undefined; return { total: order.total }; });\n"
    "const res = await app.inject({ method: 'GET', url: '/orders/7' });\n"
    "process.exit(res.statusCode < 500 ? 0 : 1);\n"),
    "fastify/schema.mjs": _FASTIFY + "const app = Fastify();\n"
    "app.post('/accounts', { schema: { body: { type: 'object', required: ['email'], properties: {"
    " email: { type: 'string', format: 'email' }, age: { type: 'integer', minimum: 0 } } } } }, "
    "async (req) => req.body);\nawait app.listen({ port: 0, host: '127.0.0.1' });\n"
    "const res = await fetch(`http://127.0.0.1:${app.server.address().port}/accounts`, { method: 'POST', "
    "headers: { 'content-type': 'application/json' }, body: JSON.stringify({ age: 'old' }) });\n"
    "console.error(res.status, res.statusText, await res.text());\nprocess.exit(res.ok ? 0 : 1);\n",
    "fastify/unauthorized.mjs": _FASTIFY + "const app = Fastify();\n"
    "app.addHook('onRequest', async (req, reply) => { if (req.headers.authorization !== 'Bearer s3cret') "
    "{ reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'Unauthorized', message: "
    "'invalid bearer token' }); } });\napp.get('/orders/:id', async () => ({ id: 7 }));\n"
    "await app.listen({ port: 0, host: '127.0.0.1' });\n"
    "const res = await fetch(`http://127.0.0.1:${app.server.address().port}/orders/7`, { headers: "
    "{ authorization: 'Bearer expired' } });\n"
    "console.error(res.status, res.statusText, await res.text());\nprocess.exit(res.ok ? 0 : 1);\n",
    "fastify/disk_full.mjs": _FASTIFY_LOGGED + (
    "app.post('/upload', async (req) => { await fs.writeFile('@FULL@/upload.bin', Buffer.alloc(1 << 20, 7));"
    " return { ok: true }; });\nconst res = await app.inject({ method: 'POST', url: '/upload' });\n"
    "process.exit(res.statusCode < 500 ? 0 : 1);\n"),
    "fastify/read_only.mjs": _FASTIFY_LOGGED + (
    "app.post('/upload', async (req) => { await fs.writeFile('@RO@/upload.json', '{}'); return { ok: true }; });\n"
    "const res = await app.inject({ method: 'POST', url: '/upload' });\nprocess.exit(res.statusCode < 500 ? 0 : 1);\n"),
    "fastify/plugin_timeout.mjs": _FASTIFY + "const app = Fastify({ pluginTimeout: 300 });\n"
    "app.register(function metrics(instance, opts, done) { instance.decorate('metrics', {}); });\n"
    "await app.ready();\n",
    "fastify/unavailable.mjs": _FASTIFY + "const app = Fastify();\n"
    "app.get('/orders/:id', async (req, reply) => { reply.code(503).header('retry-after', '5');"
    " throw new Error('order store is in maintenance'); });\n"
    "await app.listen({ port: 0, host: '127.0.0.1' });\n"
    "const res = await fetch(`http://127.0.0.1:${app.server.address().port}/orders/7`);\n"
    "console.error(res.status, res.statusText, await res.text());\nprocess.exit(res.ok ? 0 : 1);\n",
    # ---------------------------------------------------------------- koa
    "koa/handler_log.mjs": _KOA + "const app = new Koa();\n"
    "app.use(async (ctx) => { const order = JSON.parse('{}'); ctx.body = order.lines.map((l) => l.total); });\n"
    + _SERVE_KOA.replace("@INIT@", "{}") + "server.close();\nprocess.exit(res.ok ? 0 : 1);\n",
    "koa/handler_client.mjs": _KOA + "const app = new Koa();\napp.silent = true;\n"
    "app.use(async (ctx) => { const order = JSON.parse('{}'); ctx.body = order.lines.map((l) => l.total); });\n"
    + _SERVE_KOA.replace("@INIT@", "{}")
    + "console.error(res.status, res.statusText, await res.text());\nserver.close();\nprocess.exit(res.ok ? 0 : 1);\n",
    "koa/unauthorized.mjs": _KOA + "const app = new Koa();\n"
    "app.use(async (ctx) => { if (ctx.get('authorization') !== 'Bearer s3cret') ctx.throw(401, 'invalid token');"
    " ctx.body = { id: 7 }; });\n" + _SERVE_KOA.replace("@INIT@", "{ headers: { authorization: 'Bearer old' } }")
    + "console.error(res.status, res.statusText, await res.text());\nserver.close();\nprocess.exit(res.ok ? 0 : 1);\n",
    "koa/is_directory.mjs": _KOA + "const app = new Koa();\n"
    "app.use(async (ctx) => { ctx.body = await fs.readFile('@W@'); });\n" + _SERVE_KOA.replace("@INIT@", "{}")
    + "server.close();\nprocess.exit(res.ok ? 0 : 1);\n",
    "koa/disk_full.mjs": _KOA + "const app = new Koa();\n"
    "app.use(async (ctx) => { await fs.writeFile('@FULL@/koa.bin', Buffer.alloc(1 << 20, 1)); ctx.body = 'ok'; });\n"
    + _SERVE_KOA.replace("@INIT@", "{ method: 'POST' }") + "server.close();\nprocess.exit(res.ok ? 0 : 1);\n",
    # ---------------------------------------------------------------- valibot / superstruct
    "valibot/object.mjs": "import * as v from 'valibot';\n"
    "const Account = v.object({ email: v.pipe(v.string(), v.email()), age: v.pipe(v.number(), v.minValue(0)) });\n"
    "v.parse(Account, { email: 'ada-at-example.org', age: -3 });\n",
    "valibot/missing_key.mjs": "import * as v from 'valibot';\n"
    "const Order = v.strictObject({ id: v.number(), total: v.string() });\n"
    "v.parse(Order, { id: '7', totl: '12.50' });\n",
    "valibot/undefined_schema.mjs": "import * as v from 'valibot';\nconst schemas = { account: v.object({}) };\n"
    "v.parse(schemas.acount, { email: 'ada@example.org' });\n",
    "superstruct/assert.mjs": "import { assert, object, string, number, min } from 'superstruct';\n"
    "const Account = object({ email: string(), age: min(number(), 0) });\n"
    "assert({ email: 'ada@example.org', age: 'forty' }, Account);\n",
    "superstruct/create.mjs": "import { create, object, string, array, integer, size } from 'superstruct';\n"
    "const Order = object({ sku: size(string(), 3, 8), qty: integer(), tags: array(string()) });\n"
    "create({ sku: 'X', qty: 2.5, tags: ['a', 4] }, Order);\n",
    "superstruct/enums.mjs": "import { assert, enums, object } from 'superstruct';\n"
    "assert({ status: 'shipped-ish' }, object({ status: enums(['new', 'paid', 'shipped']) }));\n",
    # ---------------------------------------------------------------- mocha
    "mocha/assertion.spec.cjs": "const assert = require('node:assert');\n"
    "function total(items) { return items.reduce((s, i) => s + i.price, 0); }\n"
    "describe('cart', () => { it('sums quantities', () => { "
    "assert.strictEqual(total([{ price: 3, qty: 2 }]), 6); }); });\n",
    "mocha/refused.spec.cjs": "describe('orders api', () => { it('lists orders', async () => { "
    "const res = await fetch('http://127.0.0.1:@CLOSED@/orders'); if (!res.ok) throw new Error(res.status); }); });\n",
    "mocha/typeerror.spec.cjs": "describe('invoice', () => { it('formats', () => { const inv = { lines: null };"
    " inv.lines.forEach((l) => l); }); });\n",
    # ---------------------------------------------------------------- vitest
    "vitest/assertion/cart.test.mjs": "import { test, expect } from 'vitest';\n"
    "const total = (items) => items.reduce((s, i) => s + i.price, 0);\n"
    "test('sums quantities', () => { expect(total([{ price: 3, qty: 2 }])).toBe(6); });\n",
    "vitest/refused/api.test.mjs": "import { test, expect } from 'vitest';\nimport pg from 'pg';\n"
    "test('loads accounts', async () => { const c = new pg.Client({ host: '127.0.0.1', port: @CLOSED@ });"
    " await c.connect(); expect(1).toBe(1); });\n",
    "vitest/missing/util.test.mjs": "import { test, expect } from 'vitest';\n"
    "import { money } from './helpers/money.mjs';\ntest('money', () => { expect(money(1)).toBe('1.00'); });\n",
    # ---------------------------------------------------------------- ava
    "ava/assertion/test.mjs": "import test from 'ava';\nconst slug = (s) => s.toLowerCase().replace(' ', '-');\n"
    "test('slug', (t) => { t.is(slug('Big Red Shoe'), 'big-red-shoe'); });\n",
    "ava/refused/test.mjs": "import test from 'ava';\nimport postgres from 'postgres';\n"
    "test('db', async (t) => { const sql = postgres({ host: '127.0.0.1', port: @CLOSED@ });"
    " const rows = await sql`select 1`; t.is(rows.length, 1); });\n",
    # ---------------------------------------------------------------- tap
    "tap/assertion.test.mjs": "import t from 'tap';\nconst vat = (n) => n * 0.2;\n"
    "t.equal(vat(100) + 100, 121, 'gross includes VAT');\n",
}


def write_fixtures(work: Path, fill: Callable[[str], str]) -> None:
    """Write every fixture (placeholders filled) under `work` and link `node_modules` there (ES modules resolve
    from the file)."""
    for rel, text in FILES.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fill(text))
    for d in ("", "vitest/assertion", "vitest/refused", "vitest/missing", "ava/assertion", "ava/refused"):
        if d:
            (work / d / "package.json").write_text('{"type": "module"}\n')
    os.symlink(NODE102 / "node_modules", work / "node_modules")


__all__ = ["FILES", "NODE102", "NODE102_BIN", "PG_SCHEMA", "write_fixtures"]
