"""Hundred-and-sixth batch of blind provokers: Node.js libraries not yet sources of the corpus, each run with `node -e`
against components on 127.0.0.1 (blind106_support). axios, got and superagent against the status server (401, 403,
429, 503, 422, 400), a closed port, a resetting peer, a silent port and a self-signed certificate; ioredis against
private Redis servers (wrong or missing password, maxmemory, a port whose backlog is full, a replica whose master is
gone, a script keeping Redis busy, a WRONGTYPE in the calling code); mysql2 against a private MariaDB (access
denied, too many connections, a lock wait timeout, a duplicate key, a bad date, a SQL syntax error, a primary
switched to read-only); amqplib against the loopback RabbitMQ (wrong password, a vhost queue limit, a forced close,
a non-Buffer payload); ssh2 against an ssh2 server (wrong password, a key it does not accept, an unparsable key, a
missing key file, a closed port, a handshake that never comes); ldapjs against an ldapjs directory (invalid
credentials, no write access, size limit, busy, unavailable, a malformed filter); the CLI parsers yargs and
commander and the config loader convict on bad arguments and config files; @hapi/hapi route defects; cheerio
(selector syntax, a wrong argument, fromURL on a 503); winston and pino file logging onto a full disk (of blocks or
inodes), a read-only mount, a missing or closed directory, and a pino transport that is not installed."""

from __future__ import annotations

from blind106_support import (
    NodeCase,
    disks,
    ldap_server,
    mariadb,
    node_records,
    rabbit_vhosts,
    redis_servers,
    ssh_server,
)
from common import Env, Record, write_batch
from servers import full_backlog_port, self_signed_https

BLIND106_SOURCES = frozenset({"axios106", "got106", "superagent106", "ioredis106", "mysql2-106", "amqplib106",
                              "ssh2-106", "ldapjs106", "yargs106", "commander106", "convict106", "hapi106",
                              "cheerio106", "winston106", "pino106"})

# --------------------------------------------------------------------------- HTTP clients

_AXIOS = "const axios = require('axios');\n"

AXIOS: list[NodeCase] = [
    ("axios_401", "auth", "401", _AXIOS + """
(async () => {
  const api = axios.create({ baseURL: '__HTTP__', headers: { Authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.expired' } });
  try {
    await api.get('/status/401', { params: { resource: 'invoices', page: 3 } });
  } catch (err) {
    console.error(`[invoices-sync] ${err.name}: ${err.message}`, err.response && err.response.data);
    process.exit(1);
  }
})();"""),
    ("axios_403", "auth", "403", _AXIOS + """
axios.post('__HTTP__/status/403?project=acme-web', { member: 42, role: 'maintainer' })
  .catch((err) => { console.error(`add member failed: ${err.message}`); process.exit(1); });"""),
    ("axios_429", "resource", "429", _AXIOS + """
(async () => {
  try {
    await axios.post('__HTTP__/status/429?endpoint=/v2/geocode', { address: '1 Harbour Rd, Leith' });
  } catch (err) {
    console.error('geocoder rejected request', err.toJSON());
    process.exit(1);
  }
})();"""),
    ("axios_503", "service", "503", _AXIOS + """
(async () => {
  try {
    const { data } = await axios.get('__HTTP__/status/503?svc=inventory', { timeout: 5000 });
    console.log(data);
  } catch (err) {
    console.error('inventory lookup failed', err.stack, `status=${err.response.status}`);
    process.exit(1);
  }
})();"""),
    ("axios_refused", "network", "ECONNREFUSED", _AXIOS + """
axios.get('http://127.0.0.1:__CLOSED__/api/v1/health')
  .catch((err) => { console.error('[healthcheck]', err.code, err.message, err.stack); process.exit(1); });"""),
    ("axios_reset", "network", "ECONNRESET|socket hang up", _AXIOS + """
axios.put('http://127.0.0.1:__RESET__/api/v1/profiles/42', { locale: 'de-CH' })
  .catch((err) => { console.error(`profile update failed (${err.code})`, err.stack); process.exit(1); });"""),
    ("axios_timeout", "network", "timeout|ECONNABORTED", _AXIOS + """
axios.get('http://127.0.0.1:__HANG__/reports/daily.csv', { timeout: 1500 })
  .catch((err) => { console.error(`download failed: ${err.code}: ${err.message}`); process.exit(1); });"""),
    ("axios_self_signed", "network", "self-signed|self signed", _AXIOS + """
axios.get('https://127.0.0.1:__TLS__/metrics')
  .catch((err) => { console.error('metrics scrape failed:', err.cause || err); process.exit(1); });"""),
]

_GOT = "const got = require('got');\n"

GOT: list[NodeCase] = [
    ("got_401", "auth", "401", _GOT + """
(async () => {
  await got('__HTTP__/status/401', { searchParams: { repo: 'acme/infra' }, retry: { limit: 0 },
    username: 'ci-bot', password: 'revoked-token' }).json();
})();"""),
    ("got_429", "resource", "429", _GOT + """
got.post('__HTTP__/status/429', { json: { to: '+41790000000', body: 'Your code is 4411' }, retry: { limit: 0 } })
  .catch((err) => { console.error('sms gateway:', err); process.exit(1); });"""),
    ("got_503", "service", "503", _GOT + """
(async () => {
  try {
    await got('__HTTP__/status/503', { retry: { limit: 0 }, timeout: { request: 5000 } });
  } catch (err) {
    console.error(`search backend unavailable: ${err.name}: ${err.message}`);
    process.exit(1);
  }
})();"""),
    ("got_400", "validation", "400", _GOT + """
(async () => {
  await got.post('__HTTP__/status/400', { json: { sku: '', quantity: -2 }, retry: { limit: 0 } });
})();"""),
    ("got_refused", "network", "ECONNREFUSED", _GOT + """
(async () => { await got('http://127.0.0.1:__CLOSED__/v1/rates?base=EUR', { retry: { limit: 0 } }); })();"""),
    ("got_timeout", "network", "Timeout|ETIMEDOUT", _GOT + """
(async () => {
  await got('http://127.0.0.1:__HANG__/v1/feed.json', { retry: { limit: 0 }, timeout: { request: 1500 } });
})();"""),
]

_SA = "const request = require('superagent');\n"

SUPERAGENT: list[NodeCase] = [
    ("superagent_403", "auth", "Forbidden|403", _SA + """
(async () => {
  try {
    await request.get('__HTTP__/status/403').query({ bucket: 'acme-backups' }).set('X-Api-Key', 'ak_live_7f3a');
  } catch (err) {
    console.error(`list backups: HTTP ${err.status}`, err.stack);
    process.exit(1);
  }
})();"""),
    ("superagent_503", "service", "Service Unavailable|503", _SA + """
request.post('__HTTP__/status/503').send({ event: 'checkout', cart: 'c-8812' })
  .end((err) => {
    if (err) { console.error('analytics ingest failed:', err.status, err.message); process.exit(1); }
  });"""),
    ("superagent_422", "validation", "Unprocessable|422", _SA + """
request.post('__HTTP__/status/422').send({ email: 'jane.doe@', plan: 'gold-annual' })
  .catch((err) => { console.error('signup failed:', err.message, err.response.text); process.exit(1); });"""),
]

# --------------------------------------------------------------------------- ioredis

_IOREDIS = "const Redis = require('ioredis');\n"

IOREDIS: list[NodeCase] = [
    ("ioredis_wrong_password", "auth", "WRONGPASS", _IOREDIS + """
const redis = new Redis({ port: __REDIS_AUTH__, host: '127.0.0.1', password: 'old-cache-pass',
  maxRetriesPerRequest: 0, retryStrategy: () => null });
redis.on('error', (err) => { console.error('[session-store] redis error', err); process.exit(1); });
redis.get('sess:9f1c');"""),
    ("ioredis_noauth", "auth", "NOAUTH", _IOREDIS + """
(async () => {
  const redis = new Redis(__REDIS_AUTH__, '127.0.0.1', { maxRetriesPerRequest: 0 });
  await redis.hgetall('cart:user:42');
})();"""),
    ("ioredis_oom", "resource", "OOM", _IOREDIS + """
(async () => {
  const redis = new Redis({ port: __REDIS_OOM__, host: '127.0.0.1' });
  for (let i = 0; i < 20000; i++) {
    await redis.set(`render-cache:/catalog/page/${i}`, '<li>'.repeat(100), 'EX', 3600);
  }
})();"""),
    ("ioredis_connect_timeout", "network", "ETIMEDOUT", _IOREDIS + """
const redis = new Redis({ port: __BACKLOG__, host: '127.0.0.1', connectTimeout: 1500, maxRetriesPerRequest: 0,
  retryStrategy: () => null });
redis.on('error', (err) => { console.error('[queue] redis connection error:', err); process.exit(1); });
redis.lpush('jobs:thumbnails', JSON.stringify({ upload: 'u-5521' }));"""),
    ("ioredis_masterdown", "service", "MASTERDOWN", _IOREDIS + """
(async () => {
  const redis = new Redis({ port: __REDIS_REPLICA__, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  const flags = await redis.hgetall('feature-flags:web');
  console.log(flags);
})();"""),
    ("ioredis_wrongtype", "programming", "WRONGTYPE", _IOREDIS + """
(async () => {
  const redis = new Redis({ port: __REDIS_AUTH__, host: '127.0.0.1', password: 's3ssion-cache-106' });
  await redis.hset('user:42', 'name', 'Jane');
  const recent = await redis.lrange('user:42', 0, 9);
  console.log(recent);
})();"""),
    ("ioredis_busy_script", "service", "BUSY", _IOREDIS + """
(async () => {
  const opts = { port: __REDIS_AUTH__, host: '127.0.0.1', password: 's3ssion-cache-106', maxRetriesPerRequest: 0 };
  const admin = new Redis(opts);
  admin.eval('local t = redis.call("TIME")[1] while redis.call("TIME")[1] - t < 3 do end return 1', 0).catch(() => {});
  await new Promise((r) => setTimeout(r, 400));
  const app = new Redis(opts);
  try { await app.incr('rate:ip:203.0.113.9'); }
  catch (err) { console.error('rate limiter:', err); process.exit(1); }
})();"""),
    ("ioredis_refused", "network", "ECONNREFUSED", _IOREDIS + """
(async () => {
  const redis = new Redis({ port: __CLOSED__, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', (err) => { console.error('redis:', err); process.exit(1); });
  await redis.publish('orders.created', JSON.stringify({ id: 7781 }));
})();"""),
]

# --------------------------------------------------------------------------- mysql2

_MYSQL = """const mysql = require('mysql2/promise');
const cfg = { host: '127.0.0.1', port: __MARIADB__, user: 'billing', password: 'right-password', database: 'shop' };
"""

MYSQL2: list[NodeCase] = [
    ("mysql2_access_denied", "auth", "Access denied", _MYSQL + """
(async () => {
  const conn = await mysql.createConnection({ ...cfg, password: 'Billing2025!' });
  await conn.query('SELECT 1');
})();"""),
    ("mysql2_too_many_connections", "resource", "Too many connections", _MYSQL + """
(async () => {
  const held = [];
  try {
    for (let i = 0; i < 16; i++) held.push(await mysql.createConnection(cfg));
  } catch (err) {
    console.error(`[invoice-worker] db connect failed after ${held.length} connections:`, err);
    process.exit(1);
  }
})();"""),
    ("mysql2_lock_wait", "resource", "Lock wait timeout", _MYSQL + """
(async () => {
  const a = await mysql.createConnection(cfg);
  const b = await mysql.createConnection(cfg);
  await a.beginTransaction();
  await a.query('SELECT * FROM orders WHERE id = 1 FOR UPDATE');
  await b.query('SET SESSION innodb_lock_wait_timeout = 1');
  await b.execute('UPDATE orders SET status = ? WHERE id = ?', ['shipped', 1]);
})();"""),
    ("mysql2_duplicate_email", "validation", "Duplicate entry", _MYSQL + """
(async () => {
  const db = mysql.createPool(cfg);
  const signup = { email: 'jane.doe@customer.example', fullName: 'Jane D.' };
  await db.execute('INSERT INTO customers (email, full_name) VALUES (?, ?)', [signup.email, signup.fullName]);
})();"""),
    ("mysql2_bad_date", "validation", "Incorrect date value", _MYSQL + """
(async () => {
  const db = mysql.createPool(cfg);
  const row = { customerId: 1, placedOn: '31/11/2026', totalCents: 1999 };  // from the CSV import
  try {
    await db.execute('INSERT INTO orders (customer_id, placed_on, total_cents) VALUES (?, ?, ?)',
      [row.customerId, row.placedOn, row.totalCents]);
  } catch (err) {
    console.error(`import row 18 rejected: ${err.code} ${err.message}`);
    process.exit(1);
  }
})();"""),
    ("mysql2_syntax", "programming", "SQL syntax", _MYSQL + """
(async () => {
  const conn = await mysql.createConnection(cfg);
  const [rows] = await conn.query('SELECT id, total_cents FROM orders WHERE status = ? ORDER id DESC', ['new']);
  console.log(rows);
})();"""),
    ("mysql2_refused", "network", "ECONNREFUSED", _MYSQL + """
mysql.createConnection({ ...cfg, port: __CLOSED__ })
  .catch((err) => { console.error('db unavailable:', err.message, err.stack); process.exit(1); });"""),
    ("mysql2_read_only_failover", "service", "read-only|read_only", _MYSQL + """
(async () => {
  const dba = await mysql.createConnection({ host: '127.0.0.1', port: __MARIADB__, user: 'root' });
  await dba.query('SET GLOBAL read_only = 1');  // the primary is being demoted for a failover
  const db = mysql.createPool(cfg);
  try {
    await db.execute('UPDATE orders SET status = ? WHERE id = ?', ['paid', 1]);
  } catch (err) {
    console.error('payment webhook: could not mark order 1 paid', err);
    process.exit(1);
  }
})();"""),
]

# --------------------------------------------------------------------------- amqplib

_AMQP = "const amqp = require('amqplib');\n"

AMQPLIB: list[NodeCase] = [
    ("amqplib_wrong_password", "auth", "ACCESS_REFUSED|403", _AMQP + """
(async () => { await amqp.connect('amqp://guest:not-the-password@127.0.0.1:5672/'); })();"""),
    ("amqplib_vhost_queue_limit", "resource", "queue limit", _AMQP + """
(async () => {
  const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672/__VH_QUEUES__');
  const ch = await conn.createChannel();
  await ch.assertQueue('reports.monthly.render', { durable: true });
})();"""),
    ("amqplib_connection_forced", "service", "CONNECTION_FORCED", _AMQP + """
const { execFile } = require('child_process');
(async () => {
  const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672/__VH_QUEUES__');
  conn.on('close', (err) => { console.error('[consumer] broker closed the connection', err); process.exit(1); });
  await conn.createChannel();
  execFile('rabbitmqctl', ['close_all_connections', '-p', '__VH_QUEUES__', 'Node rabbit@mq-2 is shutting down']);
})();"""),
    ("amqplib_payload_not_buffer", "programming", "TypeError|Buffer", _AMQP + """
(async () => {
  const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672/');
  const ch = await conn.createChannel();
  ch.sendToQueue('amq.rabbitmq.reply-to', { orderId: 7781, status: 'paid' }, { persistent: true });
})();"""),
]

# --------------------------------------------------------------------------- ssh2

_SSH = "const { Client } = require('ssh2');\nconst fs = require('fs');\n"

SSH2: list[NodeCase] = [
    ("ssh2_wrong_password", "auth", "authentication methods failed", _SSH + """
const conn = new Client();
conn.on('error', (err) => { console.error(`deploy to web-3 failed: ${err.level}: ${err.message}`); process.exit(1); });
conn.connect({ host: '127.0.0.1', port: __SSH__, username: 'deploy', password: 'Winter2025' });"""),
    ("ssh2_key_not_accepted", "auth", "authentication methods failed", _SSH + """
const conn = new Client();
conn.on('ready', () => conn.exec('systemctl restart api', () => conn.end()));
conn.connect({ host: '127.0.0.1', port: __SSH__, username: 'deploy', privateKey: fs.readFileSync('__SSHKEY__') });"""),
    ("ssh2_bad_key", "validation", "Cannot parse privateKey|Unsupported key format", _SSH + """
const keyText = ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAA==',
  '-----END OPENSSH PRIVATE KEY-----', ''].join('\\n');
new Client().connect({ host: '127.0.0.1', port: __SSH__, username: 'deploy', privateKey: keyText });"""),
    ("ssh2_key_file_missing", "filesystem", "ENOENT", _SSH + """
new Client().connect({ host: '127.0.0.1', port: __SSH__, username: 'deploy',
  privateKey: fs.readFileSync('/home/deploy/.ssh/id_ed25519_prod') });"""),
    ("ssh2_refused", "network", "ECONNREFUSED", _SSH + """
const conn = new Client();
conn.on('error', (err) => { console.error(err); process.exit(1); });
conn.connect({ host: '127.0.0.1', port: __CLOSED__, username: 'deploy', password: 'right-password' });"""),
    ("ssh2_handshake_timeout", "network", "Timed out while waiting for handshake", _SSH + """
const conn = new Client();
conn.on('error', (err) => { console.error('bastion:', err.message, err.level || ''); process.exit(1); });
conn.connect({ host: '127.0.0.1', port: __HANG__, username: 'deploy', password: 'right-password',
  readyTimeout: 1500 });"""),
]

# --------------------------------------------------------------------------- ldapjs

_LDAP = """const ldap = require('ldapjs');
const client = ldap.createClient({ url: 'ldap://127.0.0.1:__LDAP__', connectTimeout: 2000 });
client.on('error', (err) => { console.error('ldap client error', err); process.exit(1); });
"""

LDAPJS: list[NodeCase] = [
    ("ldapjs_invalid_credentials", "auth", "Invalid Credentials|InvalidCredentials", _LDAP + """
client.bind('cn=admin,dc=corp,dc=example', 'password123', (err) => {
  if (err) { console.error('LDAP bind failed:', err); process.exit(1); }
});"""),
    ("ldapjs_insufficient_access", "auth", "InsufficientAccessRights|Insufficient", _LDAP + """
client.bind('cn=admin,dc=corp,dc=example', 'right-password', (err) => {
  const change = new ldap.Change({ operation: 'replace',
    modification: new ldap.Attribute({ type: 'telephoneNumber', values: ['+41 44 000 00 00'] }) });
  client.modify('uid=jdoe,ou=people,dc=corp,dc=example', change, (e) => {
    if (e) { console.error(`modify uid=jdoe: ${e.name}: ${e.message} (code ${e.code})`); process.exit(1); }
  });
});"""),
    ("ldapjs_size_limit", "resource", "SizeLimitExceeded|Size Limit", _LDAP + """
client.search('ou=people,dc=corp,dc=example', { scope: 'sub', filter: '(objectClass=inetOrgPerson)' }, (err, res) => {
  res.on('error', (e) => { console.error('directory sync failed:', e); process.exit(1); });
});"""),
    ("ldapjs_busy", "service", "Busy", _LDAP + """
client.search('ou=groups,dc=corp,dc=example', { filter: '(member=uid=jdoe,ou=people,dc=corp,dc=example)' },
  (err, res) => { res.on('error', (e) => { console.error(e); process.exit(1); }); });"""),
    ("ldapjs_unavailable", "service", "Unavailable", _LDAP + """
client.bind('cn=replicator,dc=corp,dc=example', 'right-password', (err) => {
  if (err) { console.error(`[replication] bind: ${err.name}: ${err.message}`); process.exit(1); }
});"""),
    ("ldapjs_bad_filter", "validation", "filter|paren", _LDAP + """
const typed = 'jdoe)(mail=*';  // from the admin search box
client.search('ou=people,dc=corp,dc=example', { filter: `(uid=${typed}` }, (err, res) => {
  if (err) { console.error('search rejected:', err); process.exit(1); }
});"""),
]

# --------------------------------------------------------------------------- CLI parsers and config

YARGS: list[NodeCase] = [
    ("yargs_unknown_argument", "validation", "Unknown argument", """
process.argv = ['node', 'deploy.js', 'release', '--env', 'prod', '--dryrun'];
require('yargs')(process.argv.slice(2)).scriptName('deploy')
  .command('release', 'release the current build', (y) => y.option('env', { choices: ['staging', 'prod'] })
    .option('dry-run', { type: 'boolean' }))
  .strict().parse();"""),
    ("yargs_missing_required", "validation", "Missing required argument", """
require('yargs')(['import', '--file', 'customers-2026-11.csv']).scriptName('crm')
  .command('import', 'import a CSV export', (y) => y.option('file', { type: 'string' })
    .option('tenant', { type: 'string', demandOption: true, describe: 'tenant slug' }))
  .strict().parse();"""),
]

COMMANDER: list[NodeCase] = [
    ("commander_unknown_option", "validation", "unknown option", """
const { program } = require('commander');
program.name('backup').option('-d, --dest <dir>', 'destination').option('--keep <n>', 'snapshots to keep');
program.parse(['node', 'backup', '--dest', '/mnt/nas/backups', '--retention', '7']);"""),
    ("commander_invalid_argument", "validation", "invalid argument|not a number", """
const { Command, InvalidArgumentError } = require('commander');
const program = new Command('worker');
program.option('-c, --concurrency <n>', 'parallel jobs', (value) => {
  const n = Number.parseInt(value, 10);
  if (Number.isNaN(n)) throw new InvalidArgumentError('Not a number.');
  return n;
});
program.parse(['node', 'worker', '--concurrency', 'eight']);"""),
]

_CONVICT = """const convict = require('convict');
const config = convict({
  env: { doc: 'application environment', format: ['production', 'staging', 'test'], default: 'test', env: 'NODE_ENV' },
  port: { doc: 'HTTP port', format: 'port', default: 8080, env: 'PORT' },
  db: { host: { format: String, default: '127.0.0.1' }, poolSize: { format: 'nat', default: 10 } },
});
"""

CONVICT: list[NodeCase] = [
    ("convict_bad_port", "validation", "port", _CONVICT + """
config.load({ port: 70000, db: { poolSize: 20 } });
config.validate({ allowed: 'strict' });"""),
    ("convict_unknown_key", "validation", "not declared in the schema|configuration param", _CONVICT + """
config.load({ env: 'production', db: { host: '10.0.3.7', pool_size: 25 } });
config.validate({ allowed: 'strict' });"""),
    ("convict_missing_file", "filesystem", "ENOENT", _CONVICT + """
config.loadFile('/etc/billing-api/config.production.json');"""),
    ("convict_invalid_json", "validation", "JSON|Unexpected", _CONVICT + """
require('fs').writeFileSync('__TMP__/config.staging.json', '{ "env": "staging", "port": 8081, }\\n');
config.loadFile('__TMP__/config.staging.json');"""),
]

# --------------------------------------------------------------------------- hapi, cheerio

_HAPI = "const Hapi = require('@hapi/hapi');\n"

HAPI: list[NodeCase] = [
    ("hapi_handler_typeerror", "programming", "TypeError", _HAPI + """
(async () => {
  const server = Hapi.server({ port: 0, host: '127.0.0.1', debug: { request: ['error'] } });
  server.route({ method: 'GET', path: '/orders/{id}', handler: (request) => {
    const order = { id: request.params.id, lines: undefined };
    return { id: order.id, count: order.lines.length };
  } });
  const res = await server.inject('/orders/7781');
  process.exit(res.statusCode === 500 ? 1 : 0);
})();"""),
    ("hapi_route_conflict", "programming", "conflicts", _HAPI + """
const server = Hapi.server({ port: 0 });
server.route({ method: 'GET', path: '/users/{id}', handler: () => 'user' });
server.route({ method: 'GET', path: '/users/{userId}', handler: () => 'profile' });"""),
    ("hapi_invalid_route_options", "programming", "Invalid route options|must be", _HAPI + """
const server = Hapi.server({ port: 0 });
server.route({ method: 'GET', path: '/health', handler: () => 'ok', options: { timeout: { server: 'fast' } } });"""),
]

_CHEERIO = "const cheerio = require('cheerio');\n"

CHEERIO: list[NodeCase] = [
    ("cheerio_selector_syntax", "programming", "selector", _CHEERIO + """
const $ = cheerio.load('<ul class="products"><li data-sku="A-1">Kettle</li></ul>');
console.log($('li[data-sku="A-1"').text());"""),
    ("cheerio_load_undefined", "programming", "TypeError|expects a string", _CHEERIO + """
const page = { status: 200, body: '<html></html>' };
const $ = cheerio.load(page.html);
console.log($('title').text());"""),
    ("cheerio_fromurl_503", "service", "503", _CHEERIO + """
(async () => { const $ = await cheerio.fromURL('__HTTP__/status/503?page=/catalog/kettles'); })();"""),
]

# --------------------------------------------------------------------------- winston, pino

_WINSTON = "const winston = require('winston');\n"

WINSTON: list[NodeCase] = [
    ("winston_no_inodes", "resource", "ENOSPC", _WINSTON + """
const month = new Date().toISOString().slice(0, 7);
const logger = winston.createLogger({ format: winston.format.json(),
  transports: [new winston.transports.File({ filename: `__INODES__/${month}/api-access.log` })] });
logger.info('GET /api/v1/orders 200', { reqId: 'r-1' });"""),
    ("winston_read_only", "filesystem", "EROFS|ENOENT", _WINSTON + """
const logger = winston.createLogger({ level: 'info', transports: [
  new winston.transports.Console(),
  new winston.transports.File({ filename: '__RO__/worker/error.log', level: 'error' })] });
logger.info('worker started', { pid: process.pid });"""),
]

WINSTON_NOBODY: list[NodeCase] = [
    ("winston_eacces", "filesystem", "EACCES", _WINSTON + """
const logger = winston.createLogger({
  transports: [new winston.transports.File({ filename: '__LOGS_CLOSED__/billing/billing-api.log' })] });
logger.info('billing-api listening', { port: 8080 });"""),
]

_PINO = "const pino = require('pino');\n"

PINO: list[NodeCase] = [
    ("pino_missing_dir", "filesystem", "ENOENT", _PINO + """
const logger = pino(pino.destination({ dest: '/var/log/checkout-svc/app.log', sync: true }));
logger.info({ port: 8080 }, 'checkout-svc up');"""),
    ("pino_full_disk", "resource", "ENOSPC", _PINO + """
const logger = pino(pino.destination({ dest: '__FULL__/audit.log', sync: true }));
for (let i = 0; i < 500; i++) {
  logger.info({ user: 'jdoe', action: 'export', rows: i, filter: 'y'.repeat(200) }, 'audit');
}"""),
    ("pino_transport_missing", "programming", "unable to determine transport target|Cannot find module", _PINO + """
const logger = pino({ transport: { target: 'pino-elasticsearch', options: { node: 'http://127.0.0.1:9200' } } });
logger.info('hello');"""),
]


def blind106_records(env: Env) -> list[Record]:
    ssh_port, ssh_key = ssh_server(env)
    values: dict[str, object] = {
        "TMP": env.tmp, "CLOSED": env.closed_port, "HANG": env.hang_port, "RESET": env.reset_port,
        "HTTP": env.http, "TLS": self_signed_https(env), "BACKLOG": full_backlog_port(env), "SSH": ssh_port,
        "SSHKEY": ssh_key,
        "LDAP": ldap_server(env), "MARIADB": mariadb(env), **redis_servers(env), **rabbit_vhosts(env), **disks(env),
    }

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(f"__{key}__", str(value))
        return text

    out: list[Record] = []
    for cases, source in ((AXIOS, "axios106"), (GOT, "got106"), (SUPERAGENT, "superagent106"),
                          (IOREDIS, "ioredis106"), (MYSQL2, "mysql2-106"), (AMQPLIB, "amqplib106"),
                          (SSH2, "ssh2-106"), (LDAPJS, "ldapjs106"), (YARGS, "yargs106"),
                          (COMMANDER, "commander106"), (CONVICT, "convict106"), (HAPI, "hapi106"),
                          (CHEERIO, "cheerio106"), (WINSTON, "winston106"), (PINO, "pino106")):
        out += node_records(cases, source, env.tmp, fill)
    out += node_records(WINSTON_NOBODY, "winston106", env.tmp, fill, user="nobody")
    return out


if __name__ == "__main__":
    write_batch(blind106_records)


__all__ = ["BLIND106_SOURCES", "blind106_records"]
