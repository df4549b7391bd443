"""Fortieth batch of blind provokers: Node.js libraries new to the corpus, each failing the way a deploy script, a CI
job or a service calling another service meets it. undici and node-fetch against local servers answering
401/403/429/500/502/503 (the calling code throws on `!res.ok` with the status text, or undici's retry interceptor
gives up) and against refused, reset and silent ports; node-redis v4 (refused, WRONGTYPE, NOAUTH and WRONGPASS on a
private redis-server with a password, OOM under its maxmemory, a command on a client never connected); knex and
Sequelize over PostgreSQL (unique violation, missing column or table, a pool of one held by a transaction, too many
clients and a wrong password on a private cluster, refused); ws (handshake answered 401/503, refused, a send before
open); nats.js (no responders, request timeout, wrong password, a subscription its permissions refuse, max payload);
mqtt.js (wrong or missing credentials on a private mosquitto); zod, joi and ajv rejecting bad input (and ajv
refusing the program's own bad schema); yaml and csv-parse parse errors; simple-git in temporary repositories (not a
repository, merge conflict, unknown revision, local changes); execa (command not found, a non-zero exit on a missing
file, psql refused); fs-extra (ENOENT, EACCES as nobody, ENOSPC on a full tmpfs, existing destinations, bad JSON).
Scripts print what node prints for an uncaught error, or `console.error(err)` as apps do. Only 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from blind40_support import node40_ready, placeholders
from checked import ToolCase, problem, tool_records
from cloudapi import ANSWERS, cloud_api
from common import Env, Record, git_env, run, write_batch

BLIND40_SOURCES = frozenset({
    "undici40", "node-fetch40", "node-redis40", "knex40", "sequelize40", "ws40", "nats-js40", "mqtt-js40", "zod40",
    "joi40", "ajv40", "yaml-js40", "csv-parse40", "simple-git40", "execa40", "fs-extra40",
})
_GIT_ENV = git_env("blind40")

ANSWERS.update({
    "b40registry401": (401, "application/json", '{"errors": [{"code": "UNAUTHORIZED", "message": "authentication '
                       'required"}]}'),
    "b40billing403": (403, "application/json", '{"error": "forbidden", "message": "token lacks scope invoices:write"}'),
    "b40search429": (429, "application/json", '{"error": "Too Many Requests", "retry_after": 1}'),
    "b40gateway502": (502, "text/html", "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
                      "Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>"),
    "b40orders500": (500, "application/json", '{"error": "internal", "message": "unexpected error, see logs"}'),
    "b40maint503": (503, "application/json", '{"status": "maintenance", "message": "back soon"}'),
})

_FAIL_ON_STATUS = "if (!res.ok) throw new Error(`{what} failed: ${res.status} ${res.statusText}`);"

UNDICI: list[ToolCase] = [
    ("undici_fetch_401", "auth", "401", """
const { fetch } = require('undici');
async function latestRelease() {
  const res = await fetch('@API@/b40registry401/v2/acme/api/tags/list', { headers: { authorization: 'Bearer b40' } });
  """ + _FAIL_ON_STATUS.replace("{what}", "GET tags/list") + """
  return res.json();
}
latestRelease();
"""),
    ("undici_fetch_403", "auth", "403", """
const { fetch } = require('undici');
(async () => {
  const res = await fetch('@API@/b40billing403/v1/invoices', { method: 'POST', body: '{"amount": 10}' });
  if (!res.ok) {
    const body = await res.text();
    console.error(new Error(`invoice create: HTTP ${res.status} ${res.statusText}: ${body}`));
    process.exit(1);
  }
})();
"""),
    ("undici_request_429", "resource", "429", """
const { request } = require('undici');
(async () => {
  const { statusCode, body } = await request('@API@/b40search429/search?q=orders');
  if (statusCode >= 400) throw new Error(`search request failed with status ${statusCode}: ${await body.text()}`);
})();
"""),
    ("undici_fetch_500", "service", "500", """
const { fetch } = require('undici');
async function main() {
  const res = await fetch('@API@/b40orders500/v1/orders/981');
  """ + _FAIL_ON_STATUS.replace("{what}", "GET /v1/orders/981") + """
}
main().catch((err) => { console.error(err); process.exit(1); });
"""),
    ("undici_fetch_502", "service", "502", """
const { fetch } = require('undici');
(async () => {
  const res = await fetch('@API@/b40gateway502/healthz');
  """ + _FAIL_ON_STATUS.replace("{what}", "health check") + """
})();
"""),
    ("undici_retry_503", "service", "503", """
const { Agent, interceptors, request } = require('undici');
const dispatcher = new Agent().compose(interceptors.retry({ maxRetries: 2, minTimeout: 50, maxTimeout: 100,
  statusCodes: [502, 503, 504] }));
(async () => {
  await request('@HTTP@/status/503', { dispatcher });
})();
"""),
    ("undici_fetch_refused", "network", "ECONNREFUSED", """
const { fetch } = require('undici');
(async () => {
  await fetch('http://127.0.0.1:@CLOSED@/api/v1/jobs');
})();
"""),
    ("undici_fetch_reset", "network", "ECONNRESET|other side closed|SocketError", """
const { fetch } = require('undici');
async function main() { await fetch('http://127.0.0.1:@RESET@/v1/webhooks', { method: 'POST', body: '{}' }); }
main().catch((err) => { console.error(err); process.exit(1); });
"""),
    ("undici_headers_timeout", "network", "Timeout", """
const { request } = require('undici');
(async () => {
  await request('http://127.0.0.1:@HANG@/v1/report', { headersTimeout: 1000 });
})();
"""),
    ("undici_fetch_abort_timeout", "network", "timeout", """
const { fetch } = require('undici');
(async () => {
  await fetch('http://127.0.0.1:@HANG@/v1/export', { signal: AbortSignal.timeout(1000) });
})();
"""),
]

NODE_FETCH: list[ToolCase] = [
    ("node_fetch_429", "resource", "429", """
const fetch = require('node-fetch');
async function sync() {
  const res = await fetch('@HTTP@/status/429');
  const wait = res.headers.get('retry-after');
  if (!res.ok) throw new Error(`sync failed (${res.status} ${res.statusText}), retry after ${wait}s`);
}
sync().catch((e) => { console.error(e); process.exit(1); });
"""),
    ("node_fetch_503", "service", "503", """
const fetch = require('node-fetch');
(async () => {
  const res = await fetch('@API@/b40maint503/v1/status');
  """ + _FAIL_ON_STATUS.replace("{what}", "status poll") + """
})();
"""),
    ("node_fetch_refused", "network", "ECONNREFUSED", """
const fetch = require('node-fetch');
(async () => { await fetch('http://127.0.0.1:@CLOSED@/graphql', { method: 'POST', body: '{}' }); })();
"""),
    ("node_fetch_timeout", "network", "timeout", """
const fetch = require('node-fetch');
fetch('http://127.0.0.1:@HANG@/v1/metrics', { timeout: 1000 }).catch((err) => { console.error(err); process.exit(1); });
"""),
]

_REDIS_PRIVATE = "redis://127.0.0.1:@REDIS@"
NODE_REDIS: list[ToolCase] = [
    ("node_redis_refused", "network", "ECONNREFUSED", """
const { createClient } = require('redis');
const client = createClient({ url: 'redis://127.0.0.1:@CLOSED@', socket: { reconnectStrategy: false } });
client.on('error', (err) => console.error('Redis Client Error', err));
(async () => { await client.connect(); })();
"""),
    ("node_redis_wrongtype", "programming", "WRONGTYPE", """
const { createClient } = require('redis');
(async () => {
  const client = createClient({ url: 'redis://127.0.0.1:6379' });
  await client.connect();
  await client.set('b40:queue', 'not-a-list');
  try { await client.lPush('b40:queue', 'job-1'); } finally { await client.del('b40:queue'); await client.quit(); }
})();
"""),
    ("node_redis_noauth", "auth", "NOAUTH", """
const { createClient } = require('redis');
(async () => {
  const client = createClient({ url: '""" + _REDIS_PRIVATE + """' });
  client.on('error', (err) => console.error('Redis Client Error', err));
  await client.connect();
  await client.get('session:42');
})();
"""),
    ("node_redis_wrongpass", "auth", "WRONGPASS|invalid username-password", """
const { createClient } = require('redis');
const client = createClient({ url: 'redis://default:wrong-password@127.0.0.1:@REDIS@',
  socket: { reconnectStrategy: false } });
client.connect().catch((err) => { console.error(err); process.exit(1); });
"""),
    ("node_redis_oom", "resource", "OOM", """
const { createClient } = require('redis');
(async () => {
  const client = createClient({ url: 'redis://default:@PW@@127.0.0.1:@REDIS@' });
  await client.connect();
  const blob = 'x'.repeat(64 * 1024);
  for (let i = 0; i < 200; i++) await client.set(`cache:page:${i}`, blob);
})();
"""),
    ("node_redis_client_closed", "programming", "closed", """
const { createClient } = require('redis');
const client = createClient({ url: 'redis://127.0.0.1:6379' });
async function handler() { return client.get('feature-flags'); }
handler().catch((err) => { console.error(err); process.exit(1); });
"""),
]

_KNEX_SHARED = "require('knex')({ client: 'pg', connection: 'postgres://postgres@127.0.0.1:5432/test'"
KNEX: list[ToolCase] = [
    ("knex_unique_violation", "validation", "duplicate key|unique", """
const knex = """ + _KNEX_SHARED + """ });
(async () => {
  try {
    await knex.schema.dropTableIfExists('b40_users');
    await knex.schema.createTable('b40_users', (t) => { t.increments('id'); t.string('email').unique(); });
    await knex('b40_users').insert({ email: 'ada@example.org' });
    await knex('b40_users').insert({ email: 'ada@example.org' });
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    await knex.schema.dropTableIfExists('b40_users');
    await knex.destroy();
  }
})();
"""),
    ("knex_missing_column", "programming", "does not exist", """
const knex = """ + _KNEX_SHARED + """ });
(async () => {
  await knex.schema.dropTableIfExists('b40_orders');
  await knex.schema.createTable('b40_orders', (t) => { t.increments('id'); t.integer('total'); });
  try {
    await knex('b40_orders').where({ customer_id: 7 }).select('id', 'total');
  } finally {
    await knex.schema.dropTableIfExists('b40_orders');
    await knex.destroy();
  }
})();
"""),
    ("knex_pool_timeout", "resource", "Timeout acquiring|pool", """
const knex = """ + _KNEX_SHARED + """, pool: { min: 0, max: 1 },
  acquireConnectionTimeout: 1000 });
(async () => {
  const trx = await knex.transaction();
  await trx.raw('select 1');
  try {
    await knex.raw('select count(*) from pg_stat_activity');
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
})();
"""),
    ("knex_too_many_clients", "resource", "too many clients|remaining connection slots", """
const knex = require('knex')({ client: 'pg', connection: { host: '127.0.0.1', port: @PGPRIV@, user: 'app',
  password: '@PW@', database: 'postgres' }, pool: { min: 0, max: 8 } });
(async () => {
  await Promise.all(Array.from({ length: 6 }, () => knex.raw('select pg_sleep(1)')));
})();
"""),
    ("knex_wrong_password", "auth", "password authentication failed", """
const knex = require('knex')({ client: 'pg', connection: { host: '127.0.0.1', port: @PGPRIV@, user: 'app',
  password: 'wrong-password', database: 'postgres' } });
knex.raw('select 1').catch((err) => { console.error(err); process.exit(1); });
"""),
    ("knex_refused", "network", "ECONNREFUSED", """
const knex = require('knex')({ client: 'pg', connection: 'postgres://app@127.0.0.1:@CLOSED@/orders' });
(async () => { await knex('jobs').where({ state: 'queued' }).first(); })();
"""),
]

_SEQ_SHARED = "new Sequelize('postgres://postgres@127.0.0.1:5432/test', { logging: false"
SEQUELIZE: list[ToolCase] = [
    ("sequelize_unique", "validation", "SequelizeUniqueConstraintError|UniqueConstraintError|must be unique", """
const { Sequelize, DataTypes } = require('sequelize');
const sequelize = """ + _SEQ_SHARED + """ });
const Account = sequelize.define('Account', { login: { type: DataTypes.STRING, unique: true } },
  { tableName: 'b40_accounts' });
(async () => {
  await Account.sync({ force: true });
  try {
    await Account.create({ login: 'deploy-bot' });
    await Account.create({ login: 'deploy-bot' });
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    await Account.drop();
    await sequelize.close();
  }
})();
"""),
    ("sequelize_model_validation", "validation", "ValidationError|Validation", """
const { Sequelize, DataTypes } = require('sequelize');
const sequelize = new Sequelize('postgres://postgres@127.0.0.1:5432/test', { logging: false });
const Customer = sequelize.define('Customer', {
  email: { type: DataTypes.STRING, allowNull: false, validate: { isEmail: true } },
  age: { type: DataTypes.INTEGER, validate: { min: 0 } },
}, { tableName: 'b40_customers' });
(async () => {
  await Customer.build({ email: 'not-an-email', age: -3 }).validate();
})();
"""),
    ("sequelize_eager_loading", "programming", "not associated|EagerLoadingError", """
const { Sequelize, DataTypes } = require('sequelize');
const sequelize = new Sequelize('postgres://postgres@127.0.0.1:5432/test', { logging: false });
const User = sequelize.define('User', { name: DataTypes.STRING });
const Project = sequelize.define('Project', { title: DataTypes.STRING });
(async () => {
  await User.findAll({ include: Project });
})();
"""),
    ("sequelize_missing_table", "programming", "does not exist", """
const { Sequelize, DataTypes } = require('sequelize');
const sequelize = """ + _SEQ_SHARED + """ });
const Invoice = sequelize.define('Invoice', { total: DataTypes.INTEGER }, { tableName: 'b40_invoices_never_made' });
Invoice.findAll({ where: { total: 10 } }).catch((err) => { console.error(err); process.exit(1); });
"""),
    ("sequelize_pool_acquire", "resource", "ConnectionAcquireTimeoutError|acquire", """
const { Sequelize } = require('sequelize');
const sequelize = """ + _SEQ_SHARED + """, pool: { max: 1, acquire: 1000 } });
(async () => {
  const t = await sequelize.transaction();
  await sequelize.query('select 1', { transaction: t });
  await sequelize.query('select now()');
})();
"""),
    ("sequelize_wrong_password", "auth", "password authentication failed", """
const { Sequelize } = require('sequelize');
const sequelize = new Sequelize('postgres', 'app', 'wrong-password', { host: '127.0.0.1', port: @PGPRIV@,
  dialect: 'postgres', logging: false });
sequelize.authenticate().catch((err) => { console.error('Unable to connect to the database:', err); process.exit(1); });
"""),
    ("sequelize_refused", "network", "ECONNREFUSED|ConnectionRefusedError", """
const { Sequelize } = require('sequelize');
const sequelize = new Sequelize('postgres://app:secret@127.0.0.1:@CLOSED@/orders', { logging: false });
(async () => { await sequelize.authenticate(); })();
"""),
]

WS: list[ToolCase] = [
    ("ws_handshake_401", "auth", "401", """
const WebSocket = require('ws');
const ws = new WebSocket('ws://127.0.0.1:@HTTP_PORT@/status/401', { headers: { authorization: 'Bearer b40' } });
ws.on('open', () => ws.send('subscribe'));
"""),
    ("ws_handshake_503", "service", "503", """
const WebSocket = require('ws');
const ws = new WebSocket('@WSAPI@/b40maint503/stream');
ws.on('error', (err) => { console.error('websocket error:', err); process.exit(1); });
"""),
    ("ws_refused", "network", "ECONNREFUSED", """
const WebSocket = require('ws');
const ws = new WebSocket('ws://127.0.0.1:@CLOSED@/events');
ws.on('error', (err) => { console.error(err); process.exit(1); });
"""),
    ("ws_send_before_open", "programming", "not open|CONNECTING", """
const WebSocket = require('ws');
const ws = new WebSocket('ws://127.0.0.1:@HANG@/live');
ws.send(JSON.stringify({ op: 'subscribe', channel: 'orders' }));
"""),
]

NATS: list[ToolCase] = [
    ("nats_js_auth", "auth", "AUTHORIZATION_VIOLATION|Authorization", """
const { connect } = require('nats');
connect({ servers: '127.0.0.1:@NATS@', user: 'app', pass: 'wrong-password' })
  .catch((err) => { console.error(err); process.exit(1); });
"""),
    ("nats_js_no_responders", "service", "503|NO_RESPONDERS|no responders", """
const { connect, StringCodec } = require('nats');
(async () => {
  const nc = await connect({ servers: '127.0.0.1:@NATS@', user: 'app', pass: '@PW@' });
  await nc.request('orders.create', StringCodec().encode('{"sku": "A-1"}'), { timeout: 2000 });
})();
"""),
    ("nats_js_timeout", "network", "TIMEOUT", """
const { connect, StringCodec } = require('nats');
(async () => {
  const nc = await connect({ servers: '127.0.0.1:4222' });
  nc.subscribe('b40.pricing.quote', { callback: () => {} });
  await nc.flush();
  try {
    await nc.request('b40.pricing.quote', StringCodec().encode('{}'), { timeout: 800 });
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
})();
"""),
    ("nats_js_permission", "auth", "PERMISSIONS_VIOLATION|Permissions Violation", """
const { connect } = require('nats');
(async () => {
  const nc = await connect({ servers: '127.0.0.1:@NATS@', user: 'app', pass: '@PW@' });
  const sub = nc.subscribe('payments.>');
  for await (const m of sub) console.log(m.subject);
})();
"""),
    ("nats_js_max_payload", "validation", "MAX_PAYLOAD|payload", """
const { connect } = require('nats');
(async () => {
  const nc = await connect({ servers: '127.0.0.1:@NATS@', user: 'app', pass: '@PW@' });
  nc.publish('orders.bulk', new Uint8Array(4096));
})();
"""),
]

MQTT: list[ToolCase] = [
    ("mqtt_js_bad_password", "auth", "Bad username or password|Not authorized", """
const mqtt = require('mqtt');
const client = mqtt.connect('mqtt://127.0.0.1:@MQTT@', { username: 'app', password: 'wrong-password',
  reconnectPeriod: 0 });
client.on('error', (err) => { console.error('mqtt error', err); process.exit(1); });
"""),
    ("mqtt_js_no_credentials", "auth", "Not authorized|Bad username", """
const mqtt = require('mqtt');
(async () => { await mqtt.connectAsync('mqtt://127.0.0.1:@MQTT@', { reconnectPeriod: 0, clientId: 'sensor-b40' }); })();
"""),
]

SCHEMAS: list[tuple[str, ToolCase]] = [
    ("zod40", ("zod_payload", "validation", "ZodError|invalid", """
const { z } = require('zod');
const Deploy = z.object({ service: z.string().min(1), replicas: z.number().int().positive(),
  image: z.string().regex(/^[a-z0-9./-]+:[\\w.-]+$/) });
Deploy.parse({ service: '', replicas: '3', image: 'registry.local/api' });
""")),
    ("zod40", ("zod_env", "validation", "invalid|ZodError", """
const { z } = require('zod');
const Env = z.object({ DATABASE_URL: z.string().url(), PORT: z.coerce.number().int().max(65535),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']) });
const result = Env.safeParse({ DATABASE_URL: 'localhost/db', PORT: '80800', LOG_LEVEL: 'verbose' });
if (!result.success) { console.error('Invalid environment variables:', result.error); process.exit(1); }
""")),
    ("joi40", ("joi_body", "validation", "ValidationError|must be", """
const Joi = require('joi');
const schema = Joi.object({ email: Joi.string().email().required(), plan: Joi.string().valid('free', 'pro') });
Joi.assert({ email: 'ops@@example', plan: 'enterprise' }, schema);
""")),
    ("joi40", ("joi_config_abort_early", "validation", "must be|required", """
const Joi = require('joi');
const schema = Joi.object({ retries: Joi.number().integer().min(0).max(10), timeoutMs: Joi.number().required() });
const { error } = schema.validate({ retries: 50, extra: true }, { abortEarly: false });
if (error) { console.error(error); process.exit(1); }
""")),
    ("ajv40", ("ajv_errors_text", "validation", "must", """
const Ajv = require('ajv');
const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile({ type: 'object', required: ['id', 'qty'], properties: { id: { type: 'string' },
  qty: { type: 'integer', minimum: 1 } }, additionalProperties: false });
const item = { id: 17, qty: 0, colour: 'red' };
if (!validate(item)) throw new Error('invalid order line: ' + ajv.errorsText(validate.errors));
""")),
    ("ajv40", ("ajv_validation_error", "validation", "validation failed|ValidationError|must", """
const Ajv = require('ajv');
const ajv = new Ajv();
const validate = ajv.compile({ $async: true, type: 'object', properties: { port: { type: 'integer',
  maximum: 65535 } }, required: ['port'] });
validate({ port: 70000 }).catch((err) => { console.error(err); process.exit(1); });
""")),
    ("ajv40", ("ajv_invalid_schema", "programming", "schema is invalid", """
const Ajv = require('ajv');
new Ajv().compile({ type: 'object', properties: { port: { type: 'int' } } });
""")),
    ("ajv40", ("ajv_strict_unknown_keyword", "programming", "strict mode|unknown keyword", """
const Ajv = require('ajv');
new Ajv().compile({ type: 'object', requried: ['name'], properties: { name: { type: 'string' } } });
""")),
    ("yaml-js40", ("yaml_bad_indent", "validation", "YAMLParseError", """
const YAML = require('yaml');
YAML.parse('services:\\n  web:\\n    image: nginx\\n   ports:\\n    - 80:80\\n');
""")),
    ("yaml-js40", ("yaml_duplicate_key", "validation", "YAMLParseError|unique|duplicate", """
const YAML = require('yaml');
try {
  YAML.parse('jobs:\\n  build:\\n    runs-on: ubuntu\\n  build:\\n    runs-on: debian\\n');
} catch (err) {
  console.error('failed to load workflow:', err);
  process.exit(1);
}
""")),
    ("csv-parse40", ("csv_record_length", "validation", "Invalid Record Length|CSV_RECORD", """
const { parse } = require('csv-parse/sync');
parse('sku,qty,price\\nA-1,3,9.99\\nA-2,4\\n', { columns: true });
""")),
    ("csv-parse40", ("csv_unclosed_quote", "validation", "quote|CSV_", """
const { parse } = require('csv-parse');
parse('id,name\\n1,"Widget\\n2,Gadget\\n', {}, (err, rows) => {
  if (err) { console.error(err); process.exit(1); }
  console.log(rows);
});
""")),
]

GIT: list[ToolCase] = [
    ("simple_git_not_repo", "git", "not a git repository", """
const { simpleGit } = require('simple-git');
(async () => { await simpleGit('@TMP@/plain40').status(); })();
"""),
    ("simple_git_merge_conflict", "git", "CONFLICT|conflict", """
const { simpleGit } = require('simple-git');
simpleGit('@TMP@/repo40').merge(['feature/b40']).catch((err) => { console.error(err); process.exit(1); });
"""),
    ("simple_git_unknown_revision", "git", "unknown revision|bad revision|ambiguous argument", """
const { simpleGit } = require('simple-git');
(async () => { await simpleGit('@TMP@/repo40').log({ from: 'v9.9.9', to: 'HEAD' }); })();
"""),
    ("simple_git_checkout_dirty", "git", "would be overwritten|local changes", """
const { simpleGit } = require('simple-git');
(async () => { await simpleGit('@TMP@/repo40').checkout('feature/b40'); })();
"""),
]

EXECA: list[ToolCase] = [
    ("execa_not_found", "filesystem", "ENOENT", """
const execa = require('execa');
(async () => { await execa('helm-b40', ['upgrade', '--install', 'api', './chart']); })();
"""),
    ("execa_missing_file", "filesystem", "No such file", """
const execa = require('execa');
execa('cat', ['/etc/b40/release.env']).catch((err) => { console.error(err); process.exit(1); });
"""),
    ("execa_psql_refused", "network", "refused", """
const execa = require('execa');
(async () => {
  await execa('psql', ['-h', '127.0.0.1', '-p', '@CLOSED@', '-U', 'postgres', '-c', 'select 1'],
    { env: { PGCONNECT_TIMEOUT: '3' } });
})();
"""),
]

FS_EXTRA: list[ToolCase] = [
    ("fs_extra_read_json_missing", "filesystem", "ENOENT", """
const fs = require('fs-extra');
(async () => { const cfg = await fs.readJson('@TMP@/config/app.json'); console.log(cfg); })();
"""),
    ("fs_extra_enospc", "resource", "ENOSPC", """
const fs = require('fs-extra');
fs.outputFile('@DISK@/dist/bundle.js', 'x'.repeat(512 * 1024)).catch((err) => { console.error(err); process.exit(1); });
"""),
    ("fs_extra_copy_exists", "filesystem", "already exists|EEXIST", """
const fs = require('fs-extra');
(async () => {
  await fs.outputFile('@TMP@/b40copy/src/app.js', '1');
  await fs.outputFile('@TMP@/b40copy/out/app.js', '2');
  await fs.copy('@TMP@/b40copy/src', '@TMP@/b40copy/out', { overwrite: false, errorOnExist: true });
})();
"""),
    ("fs_extra_move_exists", "filesystem", "already exists|EEXIST", """
const fs = require('fs-extra');
(async () => {
  await fs.outputFile('@TMP@/b40move/release.tgz', 'a');
  await fs.outputFile('@TMP@/b40move/archive/release.tgz', 'b');
  await fs.move('@TMP@/b40move/release.tgz', '@TMP@/b40move/archive/release.tgz');
})();
"""),
    ("fs_extra_ensure_dir_file", "filesystem", "EEXIST|ENOTDIR", """
const fs = require('fs-extra');
(async () => {
  await fs.outputFile('@TMP@/b40logs', 'a file where the directory should be');
  await fs.ensureDir('@TMP@/b40logs/2026/11');
})();
"""),
    ("fs_extra_read_json_bad", "validation", "JSON|Unexpected", """
const fs = require('fs-extra');
fs.outputFileSync('@TMP@/b40pkg/package.json', '{ "name": "api", "version": "1.0.0", }');
fs.readJsonSync('@TMP@/b40pkg/package.json');
"""),
]

FS_NOBODY: ToolCase = ("fs_extra_eacces_nobody", "filesystem", "EACCES", """
const fs = require('fs-extra');
fs.readJson('@SECRET@/deploy.json').catch((err) => { console.error(err); process.exit(1); });
""")


def _node(cases: list[ToolCase]) -> list[ToolCase]:
    return [(name, category, token, ["node", "-e", script.strip()]) for name, category, token, script in cases]


def _git_repos(tmp: Path) -> None:
    """`plain40` is no repository; `repo40` has main and feature/b40 editing the same line, and main is checked
    out with that line changed in the worktree only after the merge case has run (see blind40_records)."""
    (tmp / "plain40").mkdir()
    repo = tmp / "repo40"
    repo.mkdir()
    run(["bash", "-c", "git init -q -b main && printf 'timeout: 10\\n' > app.yml && git add app.yml && "
         "git commit -q -m base && git checkout -q -b feature/b40 && printf 'timeout: 30\\n' > app.yml && "
         "git commit -q -am slower && git checkout -q main && printf 'timeout: 5\\n' > app.yml && "
         "git commit -q -am faster"], cwd=repo, env=_GIT_ENV)


def blind40_records(env: Env) -> list[Record]:
    if not node40_ready():
        problem("node40", "libraries missing, batch skipped")
        return []
    api = cloud_api(env)
    base_fill = placeholders(env, api)

    def fill(text: str) -> str:
        text = text.replace("@HTTP_PORT@", str(env.http_port)).replace("@WSAPI@", api.replace("http:", "ws:"))
        return base_fill(text)

    _git_repos(env.tmp)
    out: list[Record] = []
    for source, cases in (("undici40", UNDICI), ("node-fetch40", NODE_FETCH), ("node-redis40", NODE_REDIS),
                          ("knex40", KNEX), ("sequelize40", SEQUELIZE), ("ws40", WS), ("nats-js40", NATS),
                          ("mqtt-js40", MQTT)):
        out += tool_records(_node(cases), source, env.tmp, fill, timeout=30)
    for source, case in SCHEMAS:
        out += tool_records(_node([case]), source, env.tmp, fill, timeout=30)
    git_cases = _node(GIT)
    out += tool_records(git_cases[:3], "simple-git40", env.tmp, fill, timeout=30)
    run(["bash", "-c", "git merge --abort; printf 'timeout: 1\\n' > app.yml"], cwd=env.tmp / "repo40", env=_GIT_ENV)
    out += tool_records(git_cases[3:], "simple-git40", env.tmp, fill, timeout=30)
    out += tool_records(_node(EXECA), "execa40", env.tmp, fill, timeout=30)
    out += tool_records(_node(FS_EXTRA), "fs-extra40", env.tmp, fill, timeout=30)
    name, category, token, script = FS_NOBODY
    out += tool_records([(name, category, token, ["runuser", "-u", "nobody", "--", "node", "-e", script.strip()])],
                        "fs-extra40", Path("/"), fill, timeout=30)
    return out


if __name__ == "__main__":
    write_batch(blind40_records)


__all__ = ["BLIND40_SOURCES", "blind40_records"]
