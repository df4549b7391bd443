"""Seventy-sixth batch of blind provokers: Node.js libraries not yet in the corpus, each run with `node -e` against
components on 127.0.0.1 (blind76_support). nodemailer against an smtp-server front (a closed port, a greeting
that never comes, a self-signed certificate, a wrong password, a size limit, a malformed recipient, 421, a
missing attachment); bullmq over Redis (a closed port, a wrong password, a full Redis, the calling code's queue
name and job id, a TypeError in a worker's processor); pg-promise and TypeORM over PostgreSQL (missing table or
property, constraint violations, bad input, a wrong password, slots and pool exhausted, a terminated backend, a
closed port); better-sqlite3 (locked, read-only mount, full tmpfs, missing file or directory, SQL defects,
constraints); mongodb and kafkajs against closed or silent ports; ky and needle against the status servers;
graphql-request against a graphql-http API; zod, joi, ajv, yup, express-validator, jsonwebtoken and jose; and
node's own fs/promises (ENOENT, EACCES, EISDIR, ENOTDIR, EEXIST, ENOTEMPTY, EROFS, EXDEV, ENOSPC, EMFILE)."""

from __future__ import annotations

from blind76_support import (
    PG_SCHEMA,
    full_redis,
    graphql_server,
    pg_schema,
    readonly_sqlite,
    redis_with_password,
    smtp_servers,
    stale_replica_redis,
)
from checked import NODE_MODULES, ToolCase, node_library_records, tool_records
from common import Env, Record, write_batch
from servers import full_backlog_port, mount_tmpfs, private_postgres, self_signed_https

BLIND76_SOURCES = frozenset({"nodemailer76", "bullmq76", "pgp76", "typeorm76", "bsqlite76", "mongodb76",
                             "kafkajs76", "ky76", "needle76", "gqlreq76", "schema-js76", "jwt76", "nodefs76"})

#: every script ends itself (silently, so a hang is reported as "no failure") before the harness's 30 s timeout
WATCHDOG = "setTimeout(() => process.exit(3), 20000).unref();\n"

#: name, category, expected output token, CommonJS script (placeholders __NAME__ filled per batch)
NodeCase = tuple[str, str, str, str]

# --------------------------------------------------------------------------- nodemailer

_MAIL = """const nodemailer = require('nodemailer');
const message = { from: 'billing@shop76.example', to: 'jane.doe@customer.example', subject: 'Invoice 2026-0412',
                  text: 'Your invoice is attached.' };
"""

NODEMAILER: list[NodeCase] = [
    ("nodemailer_refused", "network", "ECONNREFUSED", _MAIL + """
nodemailer.createTransport({ host: '127.0.0.1', port: __CLOSED__ }).sendMail(message)
  .catch((err) => { console.error('sendMail failed:', err); process.exit(1); });"""),
    ("nodemailer_greeting_timeout", "network", "Greeting never received|ETIMEDOUT", _MAIL + """
(async () => {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: __HANG__, greetingTimeout: 1500 });
  await transport.sendMail(message);
})();"""),
    ("nodemailer_self_signed", "network", "self-signed|self signed", _MAIL + """
(async () => {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: __TLS__, secure: true });
  await transport.verify();
})();"""),
    ("nodemailer_auth_failed", "auth", "535|EAUTH", _MAIL + """
const transport = nodemailer.createTransport({ host: '127.0.0.1', port: __SMTP_AUTH__, secure: false,
  ignoreTLS: true, auth: { user: 'app', pass: 'summer-2025' } });
transport.sendMail(message, (err, info) => {
  if (err) { console.error(err); process.exit(1); }
  console.log(info.messageId);
});"""),
    ("nodemailer_size_limit", "resource", "552|exceeds|larger than", _MAIL + """
(async () => {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: __SMTP_PLAIN__, ignoreTLS: true });
  const scan = Buffer.alloc(64 * 1024, 7);
  await transport.sendMail({ ...message, attachments: [{ filename: 'scan.bin', content: scan }] });
})();"""),
    ("nodemailer_bad_recipient", "validation", "553|EENVELOPE", _MAIL + """
(async () => {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: __SMTP_PLAIN__, ignoreTLS: true });
  const signupForm = { email: 'jane.doe@customer' };  // as typed into the sign-up form
  await transport.sendMail({ ...message, to: signupForm.email });
})();"""),
    ("nodemailer_service_421", "service", "Service not available", _MAIL + """
(async () => {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: __SMTP_DOWN__, ignoreTLS: true });
  try { await transport.sendMail(message); }
  catch (err) { console.error('mail relay error', err); process.exitCode = 1; }
})();"""),
    ("nodemailer_attachment_missing", "filesystem", "ENOENT", _MAIL + """
(async () => {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: __SMTP_PLAIN__, ignoreTLS: true });
  await transport.sendMail({ ...message, attachments: [{ path: '__TMP__/invoices/2026-0412.pdf' }] });
})();"""),
]

# --------------------------------------------------------------------------- bullmq

_BULL = "const { Queue, Worker } = require('bullmq');\n"

BULLMQ: list[NodeCase] = [
    ("bullmq_refused", "network", "ECONNREFUSED|Connection is closed", _BULL + """
(async () => {
  const queue = new Queue('emails76', { connection: { host: '127.0.0.1', port: __CLOSED__,
    maxRetriesPerRequest: 1, retryStrategy: () => null } });
  queue.on('error', (err) => console.error('queue error:', err.message));
  await queue.add('welcome', { userId: 42 });
})();"""),
    ("bullmq_wrong_password", "auth", "WRONGPASS|NOAUTH", _BULL + """
(async () => {
  const queue = new Queue('emails76', { connection: { host: '127.0.0.1', port: __REDIS_AUTH__,
    password: 'wrong-password', maxRetriesPerRequest: 1, retryStrategy: () => null } });
  await queue.add('welcome', { userId: 42 });
})();"""),
    ("bullmq_redis_oom", "resource", "OOM", _BULL + """
(async () => {
  const queue = new Queue('reports76', { connection: { host: '127.0.0.1', port: __REDIS_OOM__ } });
  try {
    await queue.add('monthly', { month: '2026-10', rows: 'x'.repeat(4096) });
  } catch (err) {
    console.error(`[reports] could not enqueue monthly report: ${err.stack}`);
    process.exit(1);
  }
})();"""),
    ("bullmq_replica_masterdown", "service", "MASTERDOWN", _BULL + """
(async () => {
  const queue = new Queue('emails76', { connection: { host: '127.0.0.1', port: __REDIS_REPLICA__,
    maxRetriesPerRequest: 1 } });
  const job = await queue.add('welcome', { userId: 42 });
  console.log('queued', job.id);
})();"""),
    ("bullmq_queue_name_colon", "programming", "Queue name", _BULL + """
const queue = new Queue('billing:invoices', { connection: { host: '127.0.0.1', port: 6379 } });
queue.add('send', { invoice: 1 }).then(() => queue.close());"""),
    ("bullmq_processor_typeerror", "programming", "TypeError", _BULL + """
const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const name = 'b76-notify-' + process.pid;
const queue = new Queue(name, { connection });
const worker = new Worker(name, async (job) => {
  const to = job.data.customer.email.toLowerCase();
  return { to };
}, { connection });
worker.on('failed', async (job, err) => {
  console.error(`job ${job.id} (${job.name}) failed: ${err.stack}`);
  await queue.obliterate({ force: true });
  process.exit(1);
});
queue.add('order-shipped', { orderId: 991, customerId: 17 });"""),
]

# --------------------------------------------------------------------------- pg-promise

_PGP = """const pgp = require('pg-promise')();
const db = pgp({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
"""

PGP: list[NodeCase] = [
    ("pgp_missing_table", "programming", "does not exist", _PGP + """
(async () => {
  const rows = await db.any('SELECT id, total FROM invoice_lines76 WHERE invoice_id = $1', [4]);
  console.log(rows);
})();"""),
    ("pgp_invalid_integer", "validation", "invalid input syntax", _PGP + """
(async () => {
  const orderNumber = 'A-1042';  // from the support ticket form
  await db.oneOrNone('SELECT $1::integer AS id', [orderNumber]);
})();"""),
    ("pgp_wrong_password", "auth", "password authentication failed", """
const pgp = require('pg-promise')();
const db = pgp({ host: '127.0.0.1', port: __PGPRIV__, user: 'app', password: 'wrong-password', database: 'postgres' });
db.connect().then((c) => c.done()).catch((err) => { console.error(err); process.exit(1); });"""),
    ("pgp_too_many_clients", "resource", "too many clients|remaining connection slots|reserved", """
const pgp = require('pg-promise')();
(async () => {
  const held = [];
  for (let i = 0; i < 6; i++) {
    const db = pgp({ host: '127.0.0.1', port: __PGPRIV__, user: 'app', password: 'right-password',
                     database: 'postgres', application_name: 'worker-' + i });
    held.push(await db.connect());
  }
})();"""),
    ("pgp_pool_timeout", "resource", "timeout exceeded", """
const pgp = require('pg-promise')();
const db = pgp({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 1,
                 connectionTimeoutMillis: 1000 });
(async () => {
  const slow = db.any('SELECT pg_sleep(3)');
  await db.one('SELECT count(*) FROM pg_class');
  await slow;
})();"""),
    ("pgp_refused", "network", "ECONNREFUSED", """
const pgp = require('pg-promise')();
const db = pgp('postgres://postgres@127.0.0.1:__CLOSED__/test');
db.one('SELECT 1 AS ok').catch((err) => { console.error(err); process.exit(1); });"""),
    ("pgp_backend_terminated", "service", "administrator command", _PGP + """
const admin = pgp({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', application_name: 'dba' });
(async () => {
  await db.task(async (t) => {
    const { pid } = await t.one('SELECT pg_backend_pid() AS pid');
    setTimeout(() => admin.one('SELECT pg_terminate_backend($1)', [pid]), 500);
    await t.any('SELECT pg_sleep(10)');
  });
})();"""),
    ("pgp_standby_refuses", "service", "not accepting|starting up|recovery|standby", """
const pgp = require('pg-promise')();
const db = pgp({ host: '127.0.0.1', port: __PGSTANDBY__, user: 'postgres', database: 'postgres' });
(async () => { await db.none('INSERT INTO audit_log (actor, action) VALUES ($1, $2)', ['jane', 'login']); })();"""),
    ("pgp_task_typeerror", "programming", "TypeError", _PGP + """
(async () => {
  const summary = await db.task(async (t) => {
    const customer = await t.oneOrNone('SELECT 1 AS id WHERE false');
    return { id: customer.id, orders: await t.any('SELECT 1 AS n') };
  });
  console.log(summary);
})();"""),
]

# --------------------------------------------------------------------------- TypeORM

_ORM = """require('reflect-metadata');
const { DataSource, EntitySchema } = require('typeorm');
const Invoice = new EntitySchema({ name: 'Invoice', tableName: 'invoice',
  columns: { id: { type: Number, primary: true, generated: true }, number: { type: String, unique: true },
             customer: { type: String, nullable: false } } });
const options = { type: 'postgres', host: '127.0.0.1', port: 5432, username: 'postgres', database: 'test',
                  schema: '__SCHEMA__', entities: [Invoice], synchronize: true, logging: false };
"""

TYPEORM: list[NodeCase] = [
    ("typeorm_entity_not_registered", "programming", "EntityMetadataNotFound|No metadata", _ORM + """
(async () => {
  const ds = await new DataSource(options).initialize();
  await ds.getRepository('CreditNote').find();
})();"""),
    ("typeorm_duplicate", "validation", "duplicate key", _ORM + """
(async () => {
  const ds = await new DataSource(options).initialize();
  const repo = ds.getRepository('Invoice');
  await repo.clear();
  const imported = [{ number: '2026-0412', customer: 'ACME' }, { number: '2026-0412', customer: 'ACME GmbH' }];
  for (const row of imported) await repo.insert(row);
})();"""),
    ("typeorm_wrong_password", "auth", "password authentication failed", """
require('reflect-metadata');
const { DataSource } = require('typeorm');
new DataSource({ type: 'postgres', host: '127.0.0.1', port: __PGPRIV__, username: 'app', password: 'hunter2',
                 database: 'postgres' }).initialize().catch((err) => { console.error(err); process.exit(1); });"""),
]

# --------------------------------------------------------------------------- better-sqlite3

_SQL = "const Database = require('better-sqlite3');\n"

BSQLITE: list[NodeCase] = [
    ("bsqlite_locked", "resource", "locked|SQLITE_BUSY", _SQL + """
const file = '__TMP__/jobs76.db';
const writer = new Database(file);
writer.exec('CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, state TEXT)');
writer.exec('BEGIN EXCLUSIVE');
writer.prepare('INSERT INTO jobs (state) VALUES (?)').run('running');
const reporter = new Database(file, { timeout: 250 });
reporter.prepare('UPDATE jobs SET state = ? WHERE id = ?').run('done', 1);"""),
    ("bsqlite_readonly_mount", "filesystem", "readonly|read-only", _SQL + """
const db = new Database('__SQLRO__');
db.prepare('INSERT INTO entries (amount) VALUES (?)').run(1250);"""),
    ("bsqlite_disk_full", "resource", "disk is full|SQLITE_FULL", _SQL + """
const db = new Database('__SMALL__/cache76.db');
db.exec('CREATE TABLE IF NOT EXISTS blobs (k INTEGER PRIMARY KEY, v BLOB)');
const put = db.prepare('INSERT INTO blobs (v) VALUES (randomblob(8192))');
for (let i = 0; i < 1000; i++) put.run();"""),
    ("bsqlite_file_must_exist", "filesystem", "unable to open|SQLITE_CANTOPEN", _SQL + """
require('fs').mkdirSync('__TMP__/data', { recursive: true });
const db = new Database('__TMP__/data/catalog76.db', { fileMustExist: true });
console.log(db.prepare('SELECT count(*) AS n FROM products').get());"""),
    ("bsqlite_directory_missing", "filesystem", "directory does not exist", _SQL + """
const db = new Database('__TMP__/var/lib/app76/state.db');
db.exec('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT)');"""),
    ("bsqlite_syntax_error", "programming", "syntax error", _SQL + """
const db = new Database(':memory:');
db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)');
const byEmail = db.prepare('SELECT id, email FROM users WHERE email = ? ORDER id');
console.log(byEmail.get('jane@customer.example'));"""),
    ("bsqlite_unique", "validation", "UNIQUE constraint", _SQL + """
const db = new Database(':memory:');
db.exec('CREATE TABLE sku (code TEXT PRIMARY KEY, title TEXT)');
const insert = db.prepare('INSERT INTO sku (code, title) VALUES (@code, @title)');
const importRows = db.transaction((rows) => { for (const row of rows) insert.run(row); });
importRows([{ code: 'KB-01', title: 'Keyboard' }, { code: 'MS-02', title: 'Mouse' },
            { code: 'KB-01', title: 'Keyboard DE' }]);"""),
]

# --------------------------------------------------------------------------- mongodb, kafkajs

MONGO_KAFKA: list[tuple[str, NodeCase]] = [
    ("mongodb76", ("mongodb_refused", "network", "ECONNREFUSED", """
const { MongoClient } = require('mongodb');
(async () => {
  const client = new MongoClient('mongodb://127.0.0.1:__CLOSED__/shop', { serverSelectionTimeoutMS: 1500 });
  await client.connect();
  await client.db().collection('orders').findOne({ _id: 7 });
})();""")),
    ("mongodb76", ("mongodb_connect_timeout", "network", "timed out|timeout", """
const { MongoClient } = require('mongodb');
const client = new MongoClient('mongodb://127.0.0.1:__BACKLOG__/shop?connectTimeoutMS=1000&serverSelectionTimeoutMS=2000');
client.db().collection('orders').insertOne({ sku: 'KB-01', qty: 1 })
  .catch((err) => { console.error(err); process.exit(1); });""")),
    ("kafkajs76", ("kafkajs_refused", "network", "ECONNREFUSED|Connection error", """
const { Kafka, logLevel } = require('kafkajs');
const kafka = new Kafka({ clientId: 'orders76', brokers: ['127.0.0.1:__CLOSED__'], logLevel: logLevel.ERROR,
                          retry: { retries: 1, initialRetryTime: 100 } });
(async () => {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'orders', messages: [{ key: '991', value: 'shipped' }] });
})();""")),
    ("kafkajs76", ("kafkajs_request_timeout", "network", "timeout|timed out", """
const { Kafka, logLevel } = require('kafkajs');
const kafka = new Kafka({ clientId: 'orders76', brokers: ['127.0.0.1:__HANG__'], logLevel: logLevel.NOTHING,
                          connectionTimeout: 1000, requestTimeout: 1500, retry: { retries: 0 } });
kafka.admin().connect().catch((err) => { console.error(err); process.exit(1); });""")),
]

# --------------------------------------------------------------------------- ky, needle

KY: list[NodeCase] = [
    ("ky_503", "service", "Service Unavailable", """
const ky = require('ky').default;
(async () => { console.log(await ky.get('__HTTP__/status/503', { retry: 0 }).json()); })();"""),
    ("ky_429", "resource", "Too Many Requests", """
const ky = require('ky').default;
(async () => {
  const api = ky.create({ prefixUrl: '__HTTP__', retry: { limit: 1, methods: ['get'], maxRetryAfter: 100 } });
  await api.get('status/429').json();
})();"""),
    ("ky_401", "auth", "Unauthorized", """
const ky = require('ky').default;
ky.post('__HTTP__/status/401', { json: { sku: 'KB-01' }, headers: { authorization: 'Bearer expired' } }).json()
  .catch((err) => { console.error(err); process.exit(1); });"""),
    ("ky_422", "validation", "Unprocessable", """
const ky = require('ky').default;
(async () => { await ky.post('__HTTP__/status/422', { json: { email: 'not-an-address' }, retry: 0 }).json(); })();"""),
]

NEEDLE: list[NodeCase] = [
    ("needle_reset", "network", "ECONNRESET|socket hang up", """
const needle = require('needle');
needle('get', 'http://127.0.0.1:__RESET__/feed.json', { json: true })
  .then((res) => console.log(res.statusCode))
  .catch((err) => { console.error(err); process.exit(1); });"""),
]

# --------------------------------------------------------------------------- graphql-request

_GQL = "const { request, gql, GraphQLClient } = require('graphql-request');\n"

GRAPHQL: list[NodeCase] = [
    ("gqlreq_field_typo", "programming", "Cannot query field", _GQL + """
(async () => {
  const query = gql`query Order($id: Int!) { order(id: $id) { id status totl } }`;
  const data = await request('__GQL__/graphql', query, { id: 7 });
  console.log(data.order);
})();"""),
    ("gqlreq_variable_from_input", "validation", "Int cannot represent|invalid value", _GQL + """
(async () => {
  const fromTicket = 'A-1042';
  await request('__GQL__/graphql', gql`query Order($id: Int!) { order(id: $id) { id status } }`, { id: fromTicket });
})();"""),
    ("gqlreq_unauthorized", "auth", "expired access token", _GQL + """
(async () => {
  const client = new GraphQLClient('__GQL__/secure/graphql', { headers: { authorization: 'Bearer b76-revoked' } });
  await client.request(gql`{ order(id: 7) { id total } }`);
})();"""),
    ("gqlreq_503", "service", "Code: 503", _GQL + """
(async () => { await request('__HTTP__/status/503', gql`{ order(id: 7) { id } }`); })();"""),
    ("gqlreq_refused", "network", "ECONNREFUSED|fetch failed", _GQL + """
(async () => { await request('http://127.0.0.1:__CLOSED__/graphql', gql`{ order(id: 7) { id } }`); })();"""),
]

# --------------------------------------------------------------------------- schema validators

SCHEMA_JS: list[NodeCase] = [
    ("zod_parse_signup", "validation", "invalid_format|Invalid email|too_small", """
const { z } = require('zod');
const Signup = z.object({ email: z.string().email(), age: z.number().int().min(18), plan: z.enum(['free', 'pro']) });
const body = JSON.parse('{"email": "jane.doe@", "age": 16, "plan": "enterprise"}');
console.log(Signup.parse(body));"""),
    ("joi_assert_payload", "validation", "ValidationError", """
const Joi = require('joi');
const schema = Joi.object({ sku: Joi.string().pattern(/^[A-Z]{2}-\\d{2}$/).required(),
                            quantity: Joi.number().integer().min(1) });
Joi.assert({ sku: 'keyboard', quantity: 0 }, schema, 'order line', { abortEarly: false });"""),
    ("joi_schema_misuse", "programming", "limit must be", """
const Joi = require('joi');
const schema = Joi.object({ name: Joi.string().min('three') });
console.log(schema.validate({ name: 'Jo' }));"""),
    ("ajv_async_validation", "validation", "validation failed|ValidationError", """
const Ajv = require('ajv');
const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile({ $async: true, type: 'object', required: ['id', 'amount'],
  properties: { id: { type: 'integer' }, amount: { type: 'number', minimum: 0 } } });
(async () => { await validate({ id: '17', amount: -5 }); })();"""),
    ("ajv_strict_unknown_keyword", "programming", "strict mode|unknown keyword", """
const Ajv = require('ajv');
const ajv = new Ajv();
const validate = ajv.compile({ type: 'object', properties: { name: { type: 'string', minLenght: 1 } } });
console.log(validate({ name: '' }));"""),
    ("yup_validate_form", "validation", "ValidationError|must be", """
const yup = require('yup');
const schema = yup.object({ email: yup.string().email().required(),
                            age: yup.number().required().positive().integer() });
(async () => { await schema.validate({ email: 'jane@', age: 'forty' }, { abortEarly: false }); })();"""),
    ("express_validator_throw", "validation", "Invalid value|at least 12", """
const { body, validationResult } = require('express-validator');
(async () => {
  const req = { body: { email: 'jane.doe@', password: 'short' } };
  await body('email').isEmail().run(req);
  await body('password').isLength({ min: 12 }).withMessage('password must be at least 12 characters').run(req);
  try { validationResult(req).throw(); } catch (err) {
    console.error('422 Unprocessable Entity', JSON.stringify(err.mapped(), null, 2)); process.exit(1);
  }
})();"""),
]

# --------------------------------------------------------------------------- jsonwebtoken, jose

JWT: list[NodeCase] = [
    ("jsonwebtoken_expired", "auth", "TokenExpiredError|jwt expired", """
const jwt = require('jsonwebtoken');
const token = jwt.sign({ sub: 'user-17', exp: Math.floor(Date.now() / 1000) - 3600 }, 'b76-secret');
console.log(jwt.verify(token, 'b76-secret'));"""),
    ("jsonwebtoken_bad_signature", "auth", "invalid signature", """
const jwt = require('jsonwebtoken');
const token = jwt.sign({ sub: 'user-17', role: 'admin' }, 'key-of-another-service');
jwt.verify(token, 'b76-secret', (err, claims) => {
  if (err) { console.error(err); process.exit(1); }
  console.log(claims);
});"""),
    ("jsonwebtoken_no_secret", "programming", "secretOrPrivateKey|must have a value", """
const jwt = require('jsonwebtoken');
const config = { jwtSecret: process.env.B76_UNSET_JWT_SECRET };
console.log(jwt.sign({ sub: 'user-17' }, config.jwtSecret));"""),
    ("jose_expired", "auth", "\"exp\" claim|JWTExpired", """
const jose = require('jose');
(async () => {
  const secret = new TextEncoder().encode('b76-secret-b76-secret-b76-secret!');
  const token = await new jose.SignJWT({ sub: 'user-17' }).setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(Math.floor(Date.now() / 1000) - 7200).setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
    .sign(secret);
  await jose.jwtVerify(token, secret);
})();"""),
    ("jose_signature_failed", "auth", "signature verification failed|JWSSignatureVerificationFailed", """
const jose = require('jose');
(async () => {
  const { privateKey } = await jose.generateKeyPair('ES256');
  const { publicKey: otherPublic } = await jose.generateKeyPair('ES256');
  const token = await new jose.SignJWT({ sub: 'user-17' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
  await jose.jwtVerify(token, otherPublic);
})();"""),
]

# --------------------------------------------------------------------------- node fs/promises

NODEFS: list[NodeCase] = [
    ("fs_enoent", "filesystem", "ENOENT", """
const fs = require('fs/promises');
(async () => { const cfg = JSON.parse(await fs.readFile('__TMP__/config/app76.json', 'utf8')); })();"""),
    ("fs_enotdir", "filesystem", "ENOTDIR", """
const fs = require('fs/promises');
(async () => {
  await fs.writeFile('__TMP__/uploads76', 'placeholder');
  await fs.writeFile('__TMP__/uploads76/avatar.png', Buffer.alloc(16));
})();"""),
    ("fs_eexist", "filesystem", "EEXIST", """
const fs = require('fs/promises');
(async () => {
  await fs.writeFile('__TMP__/release76.lock', String(process.pid));
  const handle = await fs.open('__TMP__/release76.lock', 'wx');
})();"""),
    ("fs_erofs", "filesystem", "EROFS", """
const fs = require('fs/promises');
(async () => { await fs.writeFile('__RO__/report76.csv', 'id,total\\n1,12.50\\n'); })();"""),
    ("fs_exdev", "filesystem", "EXDEV", """
const fs = require('fs/promises');
(async () => {
  await fs.writeFile('__TMP__/upload76.part', 'data');
  await fs.rename('__TMP__/upload76.part', '__SMALL__/upload76.bin');
})();"""),
    ("fs_enospc", "resource", "ENOSPC", """
const fs = require('fs/promises');
(async () => { await fs.writeFile('__SMALL__/dump76.bin', Buffer.alloc(512 * 1024, 1)); })();"""),
    ("fs_config_json_invalid", "validation", "SyntaxError|JSON", """
const fs = require('fs');
fs.writeFileSync('__TMP__/settings76.json', '{"port": 8080, "hosts": ["a", "b",], }');
const settings = JSON.parse(fs.readFileSync('__TMP__/settings76.json', 'utf8'));"""),
    ("fs_callback_reference_error", "programming", "ReferenceError", """
const fs = require('fs');
fs.writeFileSync('__TMP__/prefs76.json', '{"theme": "dark"}');
fs.readFile('__TMP__/prefs76.json', 'utf8', (err, text) => {
  if (err) throw err;
  const prefs = JSN.parse(text);
  console.log(prefs.theme);
});"""),
]

_EACCES = """const fs = require('fs/promises');
(async () => { const key = await fs.readFile('__TMP__/secrets76/api.key', 'utf8'); })();"""

_EMFILE = """const fs = require('fs/promises');
(async () => {
  const handles = [];
  for (let i = 0; i < 200; i++) handles.push(await fs.open('__TMP__/shard76-' + i + '.log', 'a'));
})();"""


def _fs_tools() -> list[ToolCase]:
    """fs cases that need another user or a lower descriptor limit than the batch's own process."""
    return [
        ("fs_eacces", "filesystem", "EACCES", ["runuser", "-u", "nobody", "--", "node", "-e", _EACCES]),
        ("fs_emfile", "resource", "EMFILE", ["prlimit", "--nofile=48:48", "node", "-e", _EMFILE]),
    ]


def blind76_records(env: Env) -> list[Record]:
    if not NODE_MODULES.is_dir():
        return node_library_records([], "node76", env.tmp)  # reports the missing libraries
    env.tmp.chmod(0o755)  # the EACCES case's user must reach TMP; only secrets76 is closed to it
    secrets = env.tmp / "secrets76"
    secrets.mkdir(mode=0o700)
    (secrets / "api.key").write_text("b76")
    smtp = smtp_servers(env)
    gql_base = graphql_server(env)
    pg = private_postgres(env, max_connections=4, reserved=1)
    pg_schema(env)
    ro = mount_tmpfs(env, "ro76", "size=64k,ro")
    small = mount_tmpfs(env, "small76", "size=64k")
    sqlro = readonly_sqlite(mount_tmpfs(env, "sqlro76", "size=256k"))
    values = {
        "TMP": env.tmp, "CLOSED": env.closed_port, "HANG": env.hang_port, "RESET": env.reset_port,
        "HTTP": env.http, "TLS": self_signed_https(env), "BACKLOG": full_backlog_port(env),
        "SMTP_AUTH": smtp["auth"], "SMTP_PLAIN": smtp["plain"], "SMTP_DOWN": smtp["down"], "GQL": gql_base,
        "PGPRIV": pg.port, "SCHEMA": PG_SCHEMA, "REDIS_AUTH": redis_with_password(env),
        "REDIS_OOM": full_redis(env), "REDIS_REPLICA": stale_replica_redis(env, env.closed_port),
        "PGSTANDBY": private_postgres(env, standby=True).port, "RO": ro, "SMALL": small, "SQLRO": sqlro,
    }

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(f"__{key}__", str(value))
        return text

    def fill_node(text: str) -> str:
        return fill(WATCHDOG + text)

    out = node_library_records(NODEMAILER, "nodemailer76", env.tmp, fill_node)
    out += node_library_records(BULLMQ, "bullmq76", env.tmp, fill_node)
    out += node_library_records(PGP, "pgp76", env.tmp, fill_node)
    out += node_library_records(TYPEORM, "typeorm76", env.tmp, fill_node)
    out += node_library_records(BSQLITE, "bsqlite76", env.tmp, fill_node)
    for source, case in MONGO_KAFKA:
        out += node_library_records([case], source, env.tmp, fill_node)
    out += node_library_records(KY, "ky76", env.tmp, fill_node)
    out += node_library_records(NEEDLE, "needle76", env.tmp, fill_node)
    out += node_library_records(GRAPHQL, "gqlreq76", env.tmp, fill_node)
    out += node_library_records(SCHEMA_JS, "schema-js76", env.tmp, fill_node)
    out += node_library_records(JWT, "jwt76", env.tmp, fill_node)
    out += node_library_records(NODEFS, "nodefs76", env.tmp, fill_node)
    out += tool_records(_fs_tools(), "nodefs76", env.tmp, fill, timeout=30)
    return out


if __name__ == "__main__":
    write_batch(blind76_records)


__all__ = ["BLIND76_SOURCES", "blind76_records"]
