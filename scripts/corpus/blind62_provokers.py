"""Sixty-second batch of blind provokers: Node.js tooling as a CI job prints it. TypeScript's compiler (type,
name, module and syntax errors, a tsconfig.json that does not parse or names an unknown option, a project path
that does not exist, an outDir on a full or read-only tmpfs), Vite builds (imports of a package or file that is
not there, a syntax error, a JSON asset that does not parse, a config that throws, an outDir on a
full or read-only tmpfs), Jest suites whose tests fail on a refused, reset or silent peer, on 401/403/429/5xx
answers (fetch and supertest), on a missing or malformed fixture, on code under test, and Express apps whose
error handler logs what a route hit (node-postgres refused, reset, pool exhausted, unique violation, bad SQL; a
body that is not JSON or too large; a missing file to send; an upstream that refuses or answers 401/503). Every
project lives in a temporary directory; only 127.0.0.1."""

from __future__ import annotations

from blind62_support import NodeCase, node62_ready, node_case_records, placeholders
from checked import problem
from common import Env, Record, write_batch

BLIND62_SOURCES = frozenset({"tsc62", "vite62", "jest62", "express62"})

# --------------------------------------------------------------------------- tsc

_TS_PKG = '{"name": "billing-service", "version": "1.4.0", "private": true, "scripts": {"build": "tsc -p ."}}\n'
_TSCONFIG = ('{\n  "compilerOptions": {\n    "target": "ES2022",\n    "module": "commonjs",\n    "strict": true,\n'
             '    "outDir": "dist",\n    "rootDir": "src"\n  },\n  "include": ["src"]\n}\n')


def _ts(src: str, tsconfig: str = _TSCONFIG, name: str = "src/index.ts") -> dict[str, str]:
    return {"package.json": _TS_PKG, "tsconfig.json": tsconfig, name: src}


_INVOICE = ("export interface Invoice {\n  id: string;\n  amountCents: number;\n  paidAt?: Date;\n}\n\n")

TSC: list[NodeCase] = [
    ("tsc_type_mismatch", "programming", "TS2322", _ts(
        _INVOICE + "export function draft(id: string): Invoice {\n  const amountCents: number = \"1200\";\n"
        "  return { id, amountCents };\n}\n"), "npm run build"),
    ("tsc_cannot_find_name", "programming", "TS2304", _ts(
        _INVOICE + "export function total(items: Invoice[]): number {\n"
        "  return items.reduce((sum, i) => sum + i.amountCents, 0) * taxRate;\n}\n"), "npx tsc -p ."),
    ("tsc_cannot_find_module", "programming", "TS2307", _ts(
        "import { formatMoney } from './lib/money';\nimport { Invoice } from './models/invoice';\n\n"
        "export const show = (i: Invoice) => formatMoney(i.amountCents);\n",
        name="src/render.ts") | {"src/models/invoice.ts": _INVOICE}, "npm run build"),
    ("tsc_property_missing", "programming", "TS2339", _ts(
        _INVOICE + "export function paidOn(i: Invoice): string {\n  return i.paidOn.toISOString();\n}\n"),
     "tsc -p . --noEmit"),
    ("tsc_argument_type", "programming", "TS2345", _ts(
        "function retry(times: number, fn: () => Promise<void>): Promise<void> {\n  return fn();\n}\n\n"
        "const attempts = '3';\nexport const sync = () => retry(attempts, async () => {});\n"), "npm run build"),
    ("tsc_syntax_error", "programming", "TS1005|TS1128|TS1109", _ts(
        "export function handler(event: { body: string }) {\n  const payload = JSON.parse(event.body;\n"
        "  return { statusCode: 200, body: payload };\n}\n"), "npm run build"),
    ("tsc_tsconfig_parse", "validation", "tsconfig.json", _ts(
        "export const ok = true;\n",
        tsconfig='{\n  "compilerOptions": {\n    "target": "ES2022"\n    "rootDir": "src",\n    "outDir": "dist",\n'
        '  },\n'
        '  "include": ["src"]\n}\n'), "npm run build"),
    ("tsc_unknown_option", "validation", "TS5023|Unknown compiler option", _ts(
        "export const ok = true;\n",
        tsconfig='{\n  "compilerOptions": {\n    "target": "ES2022",\n    "outdirectory": "dist",\n'
        '    "strictNullCheck": true\n  },\n  "include": ["src"]\n}\n'), "npx tsc -p ."),
    ("tsc_project_missing", "filesystem", "TS5058|TS5057|TS5081|not exist|cannot find",
     _ts("export const ok = true;\n"), "npx tsc -p configs/tsconfig.release.json"),
    ("tsc_extends_missing", "filesystem", "TS5083|TS6053|cannot read file",
     _ts("export const ok = true;\n",
         tsconfig='{\n  "extends": "./tsconfig.base.json",\n  "compilerOptions": {\n    "outDir": "dist",\n'
         '    "rootDir": "src"\n  },\n'
         '  "include": ["src"]\n}\n'), "npm run build"),
    ("tsc_outdir_full", "resource", "ENOSPC|no space",
     _ts("export const banner = '" + "x" * 20000 + "';\n",
         tsconfig='{\n  "compilerOptions": {\n    "target": "ES2022",\n    "rootDir": "src",\n'
         '    "outDir": "@DISK@/tsc-out",\n'
         '    "declaration": true,\n    "sourceMap": true\n  },\n  "include": ["src"]\n}\n'), "npm run build"),
    ("tsc_outdir_read_only", "filesystem", "EROFS|read-only",
     _ts("export const ok = true;\n",
         tsconfig='{\n  "compilerOptions": {\n    "target": "ES2022",\n    "rootDir": "src",\n'
         '    "outDir": "@RO@/dist"\n  },\n'
         '  "include": ["src"]\n}\n'), "npx tsc -p ."),
]

# --------------------------------------------------------------------------- vite

_VITE_PKG = ('{"name": "storefront", "version": "2.1.0", "private": true, "type": "module", '
             '"scripts": {"build": "vite build"}}\n')
_HTML = ('<!doctype html>\n<html>\n  <head><title>Storefront</title></head>\n  <body>\n    <div id="app"></div>\n'
         '    <script type="module" src="/src/main.js"></script>\n  </body>\n</html>\n')


def _vite(main: str, config: str = "export default {};\n", **more: str) -> dict[str, str]:
    files = {"package.json": _VITE_PKG, "index.html": _HTML, "vite.config.js": config, "src/main.js": main}
    files.update({k.replace("__", "/").replace("_DOT_", "."): v for k, v in more.items()})
    return files


_MAIN = "import { renderCart } from './cart.js';\n\nrenderCart(document.querySelector('#app'));\n"
_CART = "export function renderCart(el) {\n  el.textContent = 'Cart: ' + '" + "c" * 30000 + "'.length;\n}\n"

VITE: list[NodeCase] = [
    ("vite_missing_package", "programming", "dayjs", _vite(
        "import dayjs from 'dayjs';\n\ndocument.querySelector('#app').textContent = dayjs().format('YYYY');\n"),
     "npm run build"),
    ("vite_missing_relative_import", "programming", "resolve|cannot find|could not", _vite(
        "import { renderCart } from './components/Cart.js';\n\nrenderCart(document.querySelector('#app'));\n"),
     "npx vite build"),
    ("vite_syntax_error", "programming", "unexpected|expected|syntax|parse", _vite(
        "const items = [1, 2, 3;\n\ndocument.querySelector('#app').textContent = items.join(',');\n"),
     "npm run build"),
    ("vite_bad_json_asset", "validation", "json", _vite(
        "import prices from './prices.json';\n\ndocument.querySelector('#app').textContent = prices.eur;\n",
        src__prices_DOT_json='{\n  "eur": 12.5,\n  "usd": 13.1,\n}\n'), "npm run build"),
    ("vite_config_type_error", "programming", "TypeError", _vite(
        _MAIN, config="const env = process.env.DEPLOY_TARGET;\n\nexport default {\n"
        "  base: env.startsWith('/') ? env : '/',\n};\n", src__cart_DOT_js=_CART), "npm run build"),
    ("vite_outdir_full", "resource", "ENOSPC|no space", _vite(
        _MAIN, config="export default {\n  build: { outDir: '@DISK@/vite-dist', emptyOutDir: false },\n};\n",
        src__cart_DOT_js=_CART), "npm run build"),
    ("vite_outdir_read_only", "filesystem", "EROFS|read-only", _vite(
        _MAIN, config="export default {\n  build: { outDir: '@RO@/dist', emptyOutDir: false },\n};\n",
        src__cart_DOT_js=_CART), "npx vite build"),
]

# --------------------------------------------------------------------------- jest

_JEST_PKG = ('{"name": "orders-api", "version": "0.9.0", "private": true, "scripts": {"test": "jest --ci"}, '
             '"jest": {"testEnvironment": "node", "cacheDirectory": ".jest-cache"}}\n')


def _jest(test: str, test_name: str = "tests/api.test.js", **more: str) -> dict[str, str]:
    files = {"package.json": _JEST_PKG, test_name: test}
    files.update({k.replace("__", "/").replace("_DOT_", "."): v for k, v in more.items()})
    return files


def _status_test(path: str, what: str) -> str:
    return (f"describe('{what}', () => {{\n  test('answers 200', async () => {{\n"
            f"    const res = await fetch('@HTTP@{path}', {{ headers: {{ authorization: 'Bearer ci-token' }} }});\n"
            "    expect(res.status).toBe(200);\n  });\n});\n")


_CLIENT = ("const http = require('http');\n\nfunction getJson(url) {\n  return new Promise((resolve, reject) => {\n"
           "    http.get(url, (res) => {\n      let body = '';\n      res.on('data', (c) => (body += c));\n"
           "      res.on('end', () => resolve(JSON.parse(body)));\n    }).on('error', reject);\n  });\n}\n\n"
           "module.exports = { getJson };\n")

_CLIENT_STATUS = ("async function fetchInventory(base) {\n  const res = await fetch(`${base}/inventory`);\n"
                  "  if (!res.ok) {\n    const err = new Error(`inventory service responded ${res.status} "
                  "${res.statusText}`);\n    err.status = res.status;\n    throw err;\n  }\n  return res.json();\n}\n\n"
                  "module.exports = { fetchInventory };\n")

_APP = ("const express = require('express');\n\nconst app = express();\n"
        "app.get('/orders', (req, res) => {\n  if (!req.get('authorization')) return res.sendStatus(401);\n"
        "  res.json([]);\n});\napp.get('/health', (req, res) => res.sendStatus(503));\n\nmodule.exports = app;\n")

JEST: list[NodeCase] = [
    ("jest_fetch_refused", "network", "ECONNREFUSED", _jest(
        "test('health endpoint is up', async () => {\n"
        "  const res = await fetch('http://127.0.0.1:@CLOSED@/health');\n  expect(res.ok).toBe(true);\n});\n"),
     "npm test"),
    ("jest_http_reset", "network", "ECONNRESET|socket hang up", _jest(
        "const { getJson } = require('../src/client');\n\n"
        "test('loads the price list', async () => {\n"
        "  const prices = await getJson('http://127.0.0.1:@RESET@/prices');\n"
        "  expect(prices).toHaveProperty('eur');\n});\n", src__client_DOT_js=_CLIENT), "npx jest --ci"),
    ("jest_fetch_timeout", "network", "timeout|aborted", _jest(
        "test('search answers within a second', async () => {\n"
        "  const res = await fetch('http://127.0.0.1:@HANG@/search?q=boots', "
        "{ signal: AbortSignal.timeout(1000) });\n  expect(res.status).toBe(200);\n});\n"), "npm test"),
    ("jest_peer_closed", "network", "closed|socket|ECONNRESET|UND_ERR", _jest(
        "test('posts the order', async () => {\n"
        "  const res = await fetch('http://127.0.0.1:@EMPTY@/orders', { method: 'POST', body: '{}' });\n"
        "  expect(res.status).toBe(201);\n});\n"), "npx jest --ci"),
    ("jest_tls_plain_port", "network", "EPROTO|SSL|TLS|wrong version", _jest(
        "const https = require('https');\n\ntest('fetches the feature flags over TLS', async () => {\n"
        "  const flags = await new Promise((resolve, reject) => {\n"
        "    https.get('https://127.0.0.1:' + new URL('@HTTP@').port + '/flags', (res) => resolve(res.statusCode))\n"
        "      .on('error', reject);\n  });\n  expect(flags).toBe(200);\n});\n"), "npm test"),
    ("jest_status_503", "service", "503", _jest(_status_test("/status/503", "payments gateway")), "npm test"),
    ("jest_client_502", "service", "502", _jest(
        "const { fetchInventory } = require('../src/inventory');\n\n"
        "test('inventory has boots', async () => {\n"
        "  const items = await fetchInventory('@HTTP@/status/502');\n  expect(items.length).toBeGreaterThan(0);\n"
        "});\n", src__inventory_DOT_js=_CLIENT_STATUS), "npm test"),
    ("jest_client_504", "service", "504", _jest(
        "const { fetchInventory } = require('../src/inventory');\n\n"
        "describe('inventory sync', () => {\n  it('imports the warehouse stock', async () => {\n"
        "    await expect(fetchInventory('@HTTP@/status/504')).resolves.toBeDefined();\n  });\n});\n",
        src__inventory_DOT_js=_CLIENT_STATUS), "npx jest --ci"),
    ("jest_supertest_503", "service", "503", _jest(
        "const request = require('supertest');\nconst app = require('../src/app');\n\n"
        "test('GET /health', () => request(app).get('/health').expect(200));\n", src__app_DOT_js=_APP),
     "npm test"),
    ("jest_status_401", "auth", "401", _jest(_status_test("/status/401", "account API")), "npm test"),
    ("jest_status_403", "auth", "403", _jest(_status_test("/status/403", "admin API")), "npx jest --ci"),
    ("jest_supertest_401", "auth", "401", _jest(
        "const request = require('supertest');\nconst app = require('../src/app');\n\n"
        "test('GET /orders lists orders', async () => {\n"
        "  const res = await request(app).get('/orders').expect(200);\n  expect(res.body).toEqual([]);\n});\n",
        src__app_DOT_js=_APP), "npm test"),
    ("jest_pg_password", "auth", "password authentication failed", _jest(
        "const { Client } = require('pg');\n\nlet db;\n\nbeforeAll(async () => {\n"
        "  db = new Client({ host: '127.0.0.1', port: @PGPORT@, user: 'app', password: 'ci-secret-rotated', "
        "database: 'postgres' });\n  await db.connect();\n});\n\nafterAll(() => db && db.end());\n\n"
        "test('migrations applied', async () => {\n  const { rows } = await db.query('SELECT 1 AS ok');\n"
        "  expect(rows[0].ok).toBe(1);\n});\n", test_name="tests/db.test.js"), "npm test"),
    ("jest_status_429", "resource", "429", _jest(_status_test("/status/429", "geocoding API")), "npm test"),
    ("jest_fixture_missing", "filesystem", "ENOENT", _jest(
        "const fs = require('fs');\nconst path = require('path');\n\n"
        "const orders = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'orders.json'), 'utf8'));\n\n"
        "test('has three orders', () => {\n  expect(orders).toHaveLength(3);\n});\n"), "npm test"),
    ("jest_fixture_bad_json", "validation", "JSON", _jest(
        "const fs = require('fs');\nconst path = require('path');\n\n"
        "test('fixture orders are valid', () => {\n"
        "  const orders = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'orders.json'), 'utf8'));\n"
        "  expect(orders).toHaveLength(2);\n});\n",
        tests__fixtures__orders_DOT_json='[\n  {"id": 1, "total": 12.5},\n  {"id": 2, "total": 9.99,}\n]\n'),
     "npm test"),
    ("jest_type_error", "programming", "TypeError", _jest(
        "const { orderTotal } = require('../src/totals');\n\n"
        "test('sums line items', () => {\n  expect(orderTotal({ id: 7 })).toBe(0);\n});\n",
        src__totals_DOT_js="function orderTotal(order) {\n"
        "  return order.lines.reduce((sum, l) => sum + l.qty * l.price, 0);\n}\n\nmodule.exports = { orderTotal };\n"),
     "npm test"),
    ("jest_module_missing", "programming", "Cannot find module", _jest(
        "const { slugify } = require('../src/utils/slug');\n\n"
        "test('slugifies', () => {\n  expect(slugify('Winter Boots')).toBe('winter-boots');\n});\n"), "npx jest --ci"),
    ("jest_report_disk_full", "resource", "ENOSPC|no space", _jest(
        "const fs = require('fs');\n\ntest('writes the coverage summary', () => {\n"
        "  fs.writeFileSync('@DISK@/reports/summary.json', JSON.stringify({ lines: 'x'.repeat(200000) }));\n"
        "});\n"), "npm test"),
    ("jest_report_read_only", "filesystem", "EROFS|read-only", _jest(
        "const fs = require('fs');\n\ntest('writes the junit report', () => {\n"
        "  fs.writeFileSync('@RO@/junit.xml', '<testsuites/>');\n});\n"), "npx jest --ci"),
    ("jest_config_bad_json", "validation", "JSON|Unexpected|parse", _jest(
        "test('noop', () => {});\n", jest_DOT_config_DOT_json='{\n  "testEnvironment": "node",\n'
        '  "testTimeout": 10000,\n}\n'), "npx jest --ci --config jest.config.json"),
]

# --------------------------------------------------------------------------- express

_EXPRESS_PKG = '{"name": "checkout-api", "version": "3.0.2", "private": true, "main": "app.js"}\n'


def _express(routes: str, request: str, log: str = "console.error(err);") -> dict[str, str]:
    """An app whose error handler logs the error of the route, started on a free port and sent one request."""
    app = ("const express = require('express');\nconst { Pool } = require('pg');\n\n"
           "const app = express();\napp.use(express.json({ limit: '2kb' }));\n\n" + routes +
           "\n\napp.use((err, req, res, next) => {\n  " + log + "\n"
           "  res.status(err.status || err.statusCode || 500).json({ error: 'request failed' });\n});\n\n"
           "const server = app.listen(0, '127.0.0.1', async () => {\n"
           "  const base = `http://127.0.0.1:${server.address().port}`;\n  try {\n    " + request + "\n"
           "  } finally {\n    process.exit(1);\n  }\n});\n")
    return {"package.json": _EXPRESS_PKG, "app.js": app}


_POST_ORDER = ("await fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, "
               "body: BODY });")
_LOG_REQ = "console.error(`[checkout] ${req.method} ${req.originalUrl} failed:`, err);"
_LOG_STACK = "console.error(new Date(0).toISOString(), 'ERROR', err.stack);"

_EXPRESS: list[tuple[str, str, str, dict[str, str]]] = [
    ("express_pg_refused", "network", "ECONNREFUSED", _express(
        "const pool = new Pool({ host: '127.0.0.1', port: @CLOSED@, user: 'checkout', database: 'shop' });\n"
        "app.get('/orders/:id', async (req, res) => {\n"
        "  const { rows } = await pool.query('SELECT * FROM orders WHERE id = $1', [req.params.id]);\n"
        "  res.json(rows[0]);\n});", "await fetch(`${base}/orders/42`);", _LOG_REQ)),
    ("express_pg_reset", "network", "terminated|ECONNRESET|closed", _express(
        "const pool = new Pool({ host: '127.0.0.1', port: @RESET@, user: 'checkout', database: 'shop' });\n"
        "app.get('/carts/:id', async (req, res) => {\n"
        "  const { rows } = await pool.query('SELECT * FROM carts WHERE id = $1', [req.params.id]);\n"
        "  res.json(rows);\n});", "await fetch(`${base}/carts/9`);")),
    ("express_pg_connect_timeout", "network", "timeout", _express(
        "const { Client } = require('pg');\n"
        "app.get('/stock/:sku', async (req, res) => {\n"
        "  const db = new Client({ host: '127.0.0.1', port: @HANG@, user: 'checkout', database: 'shop', "
        "connectionTimeoutMillis: 1500 });\n  await db.connect();\n"
        "  const { rows } = await db.query('SELECT qty FROM stock WHERE sku = $1', [req.params.sku]);\n"
        "  res.json(rows[0]);\n});", "await fetch(`${base}/stock/BOOT-42`);", _LOG_REQ)),
    ("express_upstream_refused", "network", "ECONNREFUSED", _express(
        "app.get('/quote', async (req, res) => {\n"
        "  const r = await fetch('http://127.0.0.1:@CLOSED@/v1/rates?currency=EUR');\n  res.json(await r.json());\n"
        "});", "await fetch(`${base}/quote`);", _LOG_REQ)),
    ("express_upstream_503", "service", "503", _express(
        "app.post('/payments', async (req, res) => {\n"
        "  const r = await fetch('@HTTP@/status/503', { method: 'POST', body: JSON.stringify(req.body) });\n"
        "  if (!r.ok) throw Object.assign(new Error(`payment provider returned ${r.status} ${r.statusText}`), "
        "{ status: 502 });\n  res.json(await r.json());\n});",
        _POST_ORDER.replace("/orders", "/payments").replace("BODY", "JSON.stringify({ amount: 1200 })"), _LOG_STACK)),
    ("express_upstream_401", "auth", "401", _express(
        "app.get('/shipping/:zip', async (req, res) => {\n"
        "  const r = await fetch('@HTTP@/status/401', { headers: { authorization: 'Bearer expired-ci-token' } });\n"
        "  if (!r.ok) throw Object.assign(new Error(`carrier API ${r.status} ${r.statusText}`), "
        "{ upstream: 'carrier', status: 502 });\n  res.json(await r.json());\n});",
        "await fetch(`${base}/shipping/10115`);", _LOG_REQ)),
    ("express_pg_pool_exhausted", "resource", "timeout exceeded", _express(
        "const pool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 1, "
        "connectionTimeoutMillis: 800 });\nconst held = [];\n"
        "app.get('/report', async (req, res) => {\n  held.push(await pool.connect());\n"
        "  const { rows } = await pool.query('SELECT count(*) FROM pg_stat_activity');\n  res.json(rows);\n});",
        "await fetch(`${base}/report`);", _LOG_STACK)),
    ("express_pg_too_many_clients", "resource", "too many clients|connection slots", _express(
        "const pool = new Pool({ host: '127.0.0.1', port: @PGPORT@, user: 'app', password: 'right-password', "
        "database: 'postgres', max: 10 });\n"
        "app.get('/dashboard', async (req, res) => {\n"
        "  const parts = await Promise.all(['orders', 'refunds', 'carts', 'users', 'stock', 'payouts'].map((t) =>\n"
        "    pool.query('SELECT $1::text AS part, pg_sleep(1)', [t])));\n"
        "  res.json(parts.map((p) => p.rows[0].part));\n});", "await fetch(`${base}/dashboard`);", _LOG_STACK)),
    ("express_upstream_429", "resource", "429", _express(
        "app.post('/geocode', async (req, res) => {\n"
        "  const r = await fetch('@HTTP@/status/429', { method: 'POST', body: JSON.stringify(req.body) });\n"
        "  if (!r.ok) throw Object.assign(new Error(`geocoder returned ${r.status} ${r.statusText}`), "
        "{ retryAfter: r.headers.get('retry-after'), status: 503 });\n  res.json(await r.json());\n});",
        _POST_ORDER.replace("/orders", "/geocode").replace("BODY", "JSON.stringify({ zip: '10115' })"), _LOG_REQ)),
    ("express_pg_unique", "validation", "duplicate key|unique", _express(
        "const pool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });\n"
        "app.post('/signup', async (req, res) => {\n  const c = await pool.connect();\n  try {\n"
        "    await c.query('CREATE TEMP TABLE b62_accounts (email text PRIMARY KEY)');\n"
        "    await c.query('INSERT INTO b62_accounts VALUES ($1)', [req.body.email]);\n"
        "    await c.query('INSERT INTO b62_accounts VALUES ($1)', [req.body.email]);\n"
        "    res.status(201).end();\n  } finally {\n    c.release(true);\n  }\n});",
        _POST_ORDER.replace("/orders", "/signup").replace("BODY", "JSON.stringify({ email: 'ann@example.org' })"))),
    ("express_pg_syntax", "programming", "syntax error", _express(
        "const pool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });\n"
        "app.get('/products', async (req, res) => {\n"
        "  const { rows } = await pool.query('SELECT id, name, FROM pg_catalog.pg_class LIMIT 5');\n"
        "  res.json(rows);\n});", "await fetch(`${base}/products`);", _LOG_REQ)),
    ("express_json_malformed", "validation", "JSON|Unexpected", _express(
        "app.post('/orders', (req, res) => res.status(201).json(req.body));",
        _POST_ORDER.replace("BODY", "'{\"sku\": \"BOOT-42\", \"qty\": 2,}'"))),
    ("express_payload_too_large", "validation", "too large", _express(
        "app.post('/orders', (req, res) => res.status(201).json(req.body));",
        _POST_ORDER.replace("BODY", "JSON.stringify({ note: 'n'.repeat(5000) })"), _LOG_REQ)),
    ("express_type_error", "programming", "TypeError", _express(
        "app.post('/orders', (req, res) => {\n"
        "  const total = req.body.items.map((i) => i.qty * i.price).reduce((a, b) => a + b, 0);\n"
        "  res.status(201).json({ total });\n});",
        _POST_ORDER.replace("BODY", "JSON.stringify({ sku: 'BOOT-42' })"), _LOG_STACK)),
    ("express_sendfile_missing", "filesystem", "ENOENT", _express(
        "const path = require('path');\n"
        "app.get('/invoices/:id.pdf', (req, res, next) => {\n"
        "  res.sendFile(path.join(__dirname, 'storage', 'invoices', `${req.params.id}.pdf`), (err) => err && "
        "next(err));\n});", "await fetch(`${base}/invoices/INV-2031.pdf`);", _LOG_REQ)),
]


EXPRESS: list[NodeCase] = [(name, category, token, files, "node app.js") for name, category, token, files in _EXPRESS]


def blind62_records(env: Env) -> list[Record]:
    if not node62_ready():
        problem("node62", "toolchain missing (npm install --prefix /tmp/recoup-corpus-node62 ...), batch skipped")
        return []
    fill = placeholders(env)
    out: list[Record] = []
    for cases, source in ((TSC, "tsc62"), (VITE, "vite62"), (JEST, "jest62"), (EXPRESS, "express62")):
        out += node_case_records(env, cases, source, fill)
    return out


if __name__ == "__main__":
    write_batch(blind62_records)


__all__ = ["BLIND62_SOURCES", "blind62_records"]
