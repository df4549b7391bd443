"""Hundred-and-nineteenth batch of blind provokers: Node.js data, crypto and archive libraries not yet sources of the
corpus, each run with `node -e` on files and mounts prepared here (blind119_support). xml2js and fast-xml-parser on
broken feeds and sitemaps, a document too big for a small V8 heap and wrong API use; papaparse on a CSV export with an
open quote and extra fields, a missing or closed file, a heap limit and a bad unparse input; yup and class-validator
(with class-transformer) on invalid payloads and on schemas or calls that are code defects; express-validator inside an
express app (what the app logs for a 422, and a message set before any validator); jose on expired, forged,
foreign-audience and malformed JWTs, a cut-off PEM, a remote JWKS refusing or missing the key id, and a string
secret; node-forge on a cut-off certificate, a PKCS#12 bundle with the wrong password and a certificate given as
a key; bcryptjs called with a missing hash or password; archiver, adm-zip and tar writing onto a full or
read-only tmpfs, reading missing, closed, corrupt or truncated archives, and used with the wrong API; sharp and pdfkit
on missing, unreadable or non-image inputs and full or read-only outputs; chokidar on a closed directory and with a
non-string path."""

from __future__ import annotations

from blind119_support import NodeCase, node_records, prepare
from common import Env, Record, write_batch

BLIND119_SOURCES = frozenset({"xml2js119", "fast-xml-parser119", "papaparse119", "yup119", "class-validator119",
                              "express-validator119", "jose-js119", "node-forge119", "bcryptjs119", "archiver119",
                              "adm-zip119", "node-tar119", "sharp119", "pdfkit119", "chokidar119"})

# --------------------------------------------------------------------------- XML

_XML2JS = "const fs = require('fs');\nconst xml2js = require('xml2js');\n"

XML2JS: list[NodeCase] = [
    ("xml2js_catalog_entity", "validation", "Invalid character|Unexpected close tag|Unclosed", _XML2JS + """
(async () => {
  const file = '__DATA__/feeds/nordwind-catalog-2026-11.xml';
  try {
    const doc = await xml2js.parseStringPromise(fs.readFileSync(file, 'utf8'), { explicitArray: false });
    console.log(Object.keys(doc.catalog.product).length);
  } catch (err) {
    console.error(`[feed-import] supplier=nordwind-textiles file=${file} rejected: ${err.message}`);
    process.exit(1);
  }
})();"""),
    ("xml2js_sitemap_close_tag", "validation", "Unexpected close tag|Unmatched", _XML2JS + """
const parser = new xml2js.Parser();
parser.parseString(fs.readFileSync('__DATA__/feeds/sitemap-de.xml'), (err, result) => {
  if (err) { console.error('sitemap-crawler: cannot read sitemap-de.xml', err); process.exit(1); }
  console.log(result.urlset.url.length);
});"""),
    ("xml2js_body_undefined", "programming", "Cannot read properties of undefined", _XML2JS + """
const res = { statusCode: 200, headers: { 'content-type': 'application/xml' }, data: '<rates/>' };
xml2js.parseString(res.body, (err, rates) => {
  if (err) throw err;
  console.log(rates);
});"""),
]

XML2JS_HEAP: list[NodeCase] = [
    ("xml2js_heap_limit", "resource", "heap out of memory|Allocation failed", _XML2JS + """
const xml = fs.readFileSync('__DATA__/exports/catalog-full.xml', 'utf8');
xml2js.parseString(xml, (err, doc) => {
  if (err) { console.error(err); process.exit(1); }
  console.log('products', doc.catalog.product.length);
});"""),
]

_FXP = "const fs = require('fs');\nconst { XMLParser, XMLValidator } = require('fast-xml-parser');\n"

FXP: list[NodeCase] = [
    ("fxp_sitemap_not_opened", "validation", "has not been opened|closing tag|InvalidTag", _FXP + """
const xml = fs.readFileSync('__DATA__/feeds/sitemap-de.xml', 'utf8');
const parser = new XMLParser({ ignoreAttributes: false });
const sitemap = parser.parse(xml, true);
console.log(sitemap.urlset.url.length);"""),
    ("fxp_validator_ampersand", "validation", "is not expected|InvalidChar|InvalidTag", _FXP + """
const file = '__DATA__/feeds/nordwind-catalog-2026-11.xml';
const result = XMLValidator.validate(fs.readFileSync(file, 'utf8'));
if (result !== true) {
  const { code, msg, line, col } = result.err;
  console.error(`catalog feed invalid (${code}) at ${file}:${line}:${col}: ${msg}`);
  process.exit(2);
}"""),
    ("fxp_webhook_repeated_attr", "validation", "is repeated|InvalidAttr", _FXP + """
const body = '<?xml version="1.0"?><orderNotification><order id="SO-88213" id="SO-88214" status="paid">' +
  '<amount currency="EUR">129.90</amount></order></orderNotification>';
try {
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(body, true);
  console.log(parsed);
} catch (err) {
  console.error(JSON.stringify({ level: 'warn', msg: 'webhook payload rejected', route: '/hooks/erp/orders',
    status: 400, error: err.message }));
  process.exit(1);
}"""),
    ("fxp_isarray_string", "programming", "is not a function", _FXP + """
const parser = new XMLParser({ ignoreAttributes: false, isArray: 'product' });
const catalog = parser.parse('<catalog><product sku="NW-4410-BLU"><title>Merino crew neck</title></product></catalog>');
console.log(catalog.catalog.product.length);"""),
]

FXP_HEAP: list[NodeCase] = [
    ("fxp_heap_limit", "resource", "heap out of memory|Allocation failed", _FXP + """
const parser = new XMLParser({ ignoreAttributes: false });
const doc = parser.parse(fs.readFileSync('__DATA__/exports/catalog-full.xml'));
console.log(doc.catalog.product.length);"""),
]

# --------------------------------------------------------------------------- CSV

_PAPA = "const fs = require('fs');\nconst Papa = require('papaparse');\n"

PAPA: list[NodeCase] = [
    ("papaparse_row_errors", "validation", "MissingQuotes|TooManyFields|TooFewFields", _PAPA + """
const file = '__DATA__/imports/customers-2026-11.csv';
const { data, errors } = Papa.parse(fs.readFileSync(file, 'utf8'), { header: true, skipEmptyLines: true });
if (errors.length) {
  console.error(`customer import aborted: ${errors.length} row error(s) in ${file}`);
  for (const e of errors) console.error(`  row ${e.row}: ${e.type}/${e.code}: ${e.message}`);
  process.exit(1);
}
console.log(data.length);"""),
    ("papaparse_no_delimiter", "validation", "UndetectableDelimiter|auto-detect", _PAPA + """
const text = 'SKU;Bestand;Lager\\n'.replace(/;/g, ' ') + 'NW-4410-BLU 14 HAM-2\\nNW-4411-GRY 3 HAM-2\\n';
const result = Papa.parse(text, { header: true });
if (result.errors.length) {
  console.error('stock sync: unusable upload', JSON.stringify(result.errors, null, 2));
  process.exit(1);
}"""),
    ("papaparse_stream_missing", "filesystem", "ENOENT", _PAPA + """
const input = fs.createReadStream('/var/lib/crm/exports/leads-2026-11-28.csv');
Papa.parse(input, { header: true, step: (row) => console.log(row.data.email),
  complete: () => console.log('done'), error: (err) => { throw err; } });"""),
    ("papaparse_unparse_number", "programming", "Unable to serialize", _PAPA + """
const rows = [{ sku: 'NW-4410-BLU', qty: 14 }];
const csv = Papa.unparse(rows.length, { quotes: true });
fs.writeFileSync('__OUT__/stock-export.csv', csv);"""),
]

PAPA_CLOSED: list[NodeCase] = [
    ("papaparse_stream_closed", "filesystem", "EACCES|permission denied", _PAPA + """
Papa.parse(fs.createReadStream('__CLOSED__/statements/2026-11.csv'), {
  header: true,
  complete: (r) => console.log(r.data.length),
  error: (err, file) => { console.error(`statement import failed for ${file}:`, err); process.exit(1); },
});"""),
]

PAPA_HEAP: list[NodeCase] = [
    ("papaparse_heap_limit", "resource", "heap out of memory|Allocation failed", _PAPA + """
const { data } = Papa.parse(fs.readFileSync('__DATA__/exports/orders-full-2026.csv', 'utf8'),
  { header: true, dynamicTyping: true });
console.log('orders', data.length);"""),
]

# --------------------------------------------------------------------------- schemas

_YUP = "const yup = require('yup');\n"

YUP: list[NodeCase] = [
    ("yup_signup_errors", "validation", "ValidationError|errors occurred|must be", _YUP + """
const signup = yup.object({
  email: yup.string().email().required(),
  password: yup.string().min(12).required(),
  country: yup.string().oneOf(['DE', 'AT', 'CH']).required(),
  acceptTerms: yup.boolean().oneOf([true]),
});
signup.validate({ email: 'jana.kraus@', password: 'hunter2', country: 'FR', acceptTerms: false },
  { abortEarly: false })
  .catch((err) => { console.error(err.name, err.message, err.errors); process.exit(1); });"""),
    ("yup_quantity_nan", "validation", "must be a `number` type|ValidationError", _YUP + """
const line = yup.object({ sku: yup.string().required(), quantity: yup.number().integer().positive().required() });
try {
  line.validateSync({ sku: 'NW-4410-BLU', quantity: 'two' });
} catch (err) {
  console.error(err);
  process.exit(1);
}"""),
    ("yup_field_not_schema", "programming", "is not a function", _YUP + """
const address = yup.object({ street: yup.string().required(), zip: 'string', city: yup.string().required() });
address.validateSync({ street: 'Hafenstrasse 4', zip: '20359', city: 'Hamburg' });"""),
    ("yup_oneof_string", "programming", "is not a function", _YUP + """
const shipping = yup.string().oneOf('standard,express,pickup').required();
console.log(shipping.validateSync('express'));"""),
]

_CV = """require('reflect-metadata');
const cv = require('class-validator');
const { plainToInstance, Type } = require('class-transformer');
const decorate = (klass, prop, ...decorators) => decorators.forEach((d) => d(klass.prototype, prop));
"""

CLASS_VALIDATOR: list[NodeCase] = [
    ("cv_invoice_dto", "validation", "has failed the validation|constraints", _CV + """
class CreateInvoiceDto {}
decorate(CreateInvoiceDto, 'billingEmail', cv.IsEmail());
decorate(CreateInvoiceDto, 'amountCents', cv.IsInt(), cv.Min(1));
decorate(CreateInvoiceDto, 'dueDate', cv.IsISO8601());
decorate(CreateInvoiceDto, 'currency', cv.IsIn(['EUR', 'CHF']));
const dto = plainToInstance(CreateInvoiceDto,
  { billingEmail: 'accounts(at)kraus-moebel.example', amountCents: -4599, dueDate: '31.12.2026', currency: 'eur' });
cv.validateOrReject(dto).catch((errors) => {
  console.error('POST /invoices 400', errors.map((e) => e.toString()).join(''));
  process.exit(1);
});"""),
    ("cv_forbid_non_whitelisted", "validation", "should not exist", _CV + """
class UpdateProfileDto {}
decorate(UpdateProfileDto, 'displayName', cv.IsString(), cv.Length(2, 40));
decorate(UpdateProfileDto, 'locale', cv.IsLocale());
const body = { displayName: 'Jana K.', locale: 'de-DE', isAdmin: true, creditLimit: 100000 };
const errors = cv.validateSync(plainToInstance(UpdateProfileDto, body),
  { whitelist: true, forbidNonWhitelisted: true });
if (errors.length) {
  console.error(JSON.stringify({ statusCode: 400, message: errors.flatMap((e) => Object.values(e.constraints)),
    error: 'Bad Request' }));
  process.exit(1);
}"""),
    ("cv_nested_items", "validation", "has failed the validation|constraints", _CV + """
class OrderItemDto {}
decorate(OrderItemDto, 'sku', cv.Matches(/^NW-\\d{4}-[A-Z]{3}$/));
decorate(OrderItemDto, 'quantity', cv.IsInt(), cv.Max(50));
class CreateOrderDto {}
decorate(CreateOrderDto, 'items', cv.ValidateNested({ each: true }), cv.ArrayNotEmpty(), Type(() => OrderItemDto));
const order = plainToInstance(CreateOrderDto, { items: [{ sku: 'NW-4410-BLU', quantity: 2 },
  { sku: 'nw4411', quantity: 500 }] });
cv.validate(order).then((errors) => {
  if (errors.length) {
    console.error(errors.map((e) => e.toString(true, false, '', true)).join('\\n'));
    process.exit(1);
  }
});"""),
    ("cv_plain_object", "programming", "unknown value was passed", _CV + """
class CreateCustomerDto {}
decorate(CreateCustomerDto, 'email', cv.IsEmail());
const payload = JSON.parse('{"email": "jana.kraus@mail.example", "name": "Jana Kraus"}');
cv.validate(payload).then((errors) => {
  if (errors.length) { console.error('validation failed:', errors); process.exit(1); }
});"""),
]

_EXPRESS = """const express = require('express');
const { body, query, validationResult } = require('express-validator');
const app = express();
app.use(express.json());
const log = (req, status, extra) => console.error(
  `${new Date().toISOString()} ${req.method} ${req.originalUrl} ${status} ${JSON.stringify(extra)}`);
const reject = (req, res, next) => {
  const result = validationResult(req);
  if (!result.isEmpty()) {
    log(req, 422, { errors: result.array() });
    return res.status(422).json({ errors: result.array() });
  }
  next();
};
const call = (path, init) => {
  const server = app.listen(0, '127.0.0.1', async () => {
    const res = await fetch(`http://127.0.0.1:${server.address().port}${path}`, init);
    server.close();
    process.exit(res.status >= 400 ? 1 : 0);
  });
};
"""

EXPRESS_VALIDATOR: list[NodeCase] = [
    ("ev_signup_422", "validation", "Invalid value|msg", _EXPRESS + """
app.post('/api/v1/signup',
  body('email').isEmail().normalizeEmail(),
  body('password').isLength({ min: 12 }).withMessage('password must be at least 12 characters'),
  body('birthDate').isISO8601().toDate(),
  reject, (req, res) => res.status(201).end());
call('/api/v1/signup', { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: 'jana.kraus@', password: 'hunter2', birthDate: '31/02/1990' }) });"""),
    ("ev_orders_query_422", "validation", "Invalid value|msg", _EXPRESS + """
app.get('/api/v1/orders',
  query('limit').isInt({ min: 1, max: 100 }),
  query('since').isISO8601(),
  query('status').isIn(['new', 'paid', 'shipped']),
  reject, (req, res) => res.json([]));
call('/api/v1/orders?limit=5000&since=yesterday&status=lost');"""),
    ("ev_message_before_validator", "programming", "Cannot set properties of undefined", _EXPRESS + """
app.post('/api/v1/newsletter',
  body('email').trim().withMessage('please enter a valid e-mail address').isEmail(),
  reject, (req, res) => res.status(204).end());
call('/api/v1/newsletter', { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: 'jana.kraus@mail.example' }) });"""),
]

# --------------------------------------------------------------------------- crypto

_JOSE = """const jose = require('jose');
const secret = new TextEncoder().encode('sso-signing-key-2026-11-rotation-0f3a9c');
const sign = (claims, exp, key = secret) => new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' })
  .setIssuer('https://sso.nordwind.example').setAudience('billing-api').setIssuedAt().setExpirationTime(exp).sign(key);
const fail = (err) => {
  console.error(`auth middleware: rejected bearer token: ${err.code} ${err.message}`);
  console.error(err.stack);
  process.exit(1);
};
"""

_JWKS_SERVER = """const http = require('http');
const jwksServer = (jwks) => new Promise((resolve) => {
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwks));
  });
  srv.listen(0, '127.0.0.1', () => resolve(srv));
});
"""

JOSE: list[NodeCase] = [
    ("jose_expired", "auth", "exp|expired", _JOSE + """
(async () => {
  const now = Math.floor(Date.now() / 1000);
  const token = await new jose.SignJWT({ sub: 'user-10441', scope: 'invoices:read' })
    .setProtectedHeader({ alg: 'HS256' }).setIssuer('https://sso.nordwind.example').setAudience('billing-api')
    .setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(secret);
  await jose.jwtVerify(token, secret, { issuer: 'https://sso.nordwind.example', audience: 'billing-api' });
})().catch(fail);"""),
    ("jose_forged_signature", "auth", "signature verification failed", _JOSE + """
(async () => {
  const forged = await sign({ sub: 'user-10441', role: 'admin' }, '1h',
    new TextEncoder().encode('guessed-secret-from-leaked-env-file!!'));
  await jose.jwtVerify(forged, secret, { issuer: 'https://sso.nordwind.example', audience: 'billing-api' });
})().catch(fail);"""),
    ("jose_unsecured_alg_none", "auth", "alg|JOSEAlgNotAllowed|Unsupported", _JOSE + """
(async () => {
  const unsecured = new jose.UnsecuredJWT({ sub: 'user-10441', role: 'admin' }).setIssuer('https://sso.nordwind.example')
    .setAudience('billing-api').setExpirationTime('1h').encode();
  await jose.jwtVerify(unsecured, secret, { algorithms: ['HS256'] });
})().catch(fail);"""),
    ("jose_wrong_audience", "auth", "aud", _JOSE + """
(async () => {
  const token = await new jose.SignJWT({ sub: 'svc-reporting' }).setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://sso.nordwind.example').setAudience('reporting-api').setExpirationTime('10m').sign(secret);
  await jose.jwtVerify(token, secret, { issuer: 'https://sso.nordwind.example', audience: 'billing-api' });
})().catch(fail);"""),
    ("jose_malformed_token", "validation", "Invalid Compact JWS|JWSInvalid|Invalid JWT", _JOSE + """
const header = 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEwNDQxIn0';
jose.jwtVerify(header.slice('Bearer '.length), secret).catch(fail);"""),
    ("jose_cut_pem", "validation", "keyData|spki|SPKI|Invalid", """const jose = require('jose');
const pem = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo
4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u
-----END PUBLIC KEY-----`;
jose.importSPKI(pem, 'RS256').catch((err) => {
  console.error('failed to load JWT_PUBLIC_KEY from /etc/billing-api/jwt.pub:', err);
  process.exit(1);
});"""),
    ("jose_jwks_refused", "network", "ECONNREFUSED|fetch failed", _JOSE + """
(async () => {
  const JWKS = jose.createRemoteJWKSet(new URL('http://127.0.0.1:__REFUSED__/realms/nordwind/protocol/openid-connect/certs'));
  const token = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjJmN2MifQ.eyJzdWIiOiJ1c2VyLTEwNDQxIn0.c2lnbmF0dXJl';
  await jose.jwtVerify(token, JWKS);
})().catch((err) => { console.error('jwks fetch failed', err, err.cause); process.exit(1); });"""),
    ("jose_jwks_unknown_kid", "auth", "no applicable key|JWKSNoMatchingKey", _JOSE + _JWKS_SERVER + """
(async () => {
  const signing = await jose.generateKeyPair('RS256');
  const published = await jose.generateKeyPair('RS256');
  const jwk = { ...(await jose.exportJWK(published.publicKey)), kid: 'nordwind-2026-10', alg: 'RS256', use: 'sig' };
  const srv = await jwksServer({ keys: [jwk] });
  const token = await new jose.SignJWT({ sub: 'user-10441' })
    .setProtectedHeader({ alg: 'RS256', kid: 'attacker-key-1' }).setExpirationTime('5m').sign(signing.privateKey);
  const JWKS = jose.createRemoteJWKSet(
    new URL(`http://127.0.0.1:${srv.address().port}/realms/nordwind/protocol/openid-connect/certs`));
  try { await jose.jwtVerify(token, JWKS); } finally { srv.close(); }
})().catch(fail);"""),
    ("jose_string_secret", "programming", "Uint8Array|must be|KeyObject", """const jose = require('jose');
(async () => {
  const token = await new jose.SignJWT({ sub: 'user-10441' }).setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h').sign(process.env.JWT_SECRET || 'sso-signing-key-2026-11-rotation-0f3a9c');
  console.log(token);
})();"""),
]

_FORGE = "const fs = require('fs');\nconst forge = require('node-forge');\n"

FORGE: list[NodeCase] = [
    ("forge_cut_certificate", "validation", "Too few bytes|ASN.1|Invalid PEM", _FORGE + """
const path = '__DATA__/certs/partner-ca.pem';
try {
  const ca = forge.pki.certificateFromPem(fs.readFileSync(path, 'utf8'));
  console.log(ca.subject.getField('CN').value);
} catch (err) {
  console.error(`mTLS setup: cannot load partner CA ${path}:`, err);
  process.exit(1);
}"""),
    ("forge_p12_wrong_password", "auth", "Invalid password|MAC could not be verified", _FORGE + """
const der = fs.readFileSync('__DATA__/certs/payments-client.p12', 'binary');
const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der), false, process.env.P12_PASSWORD || 'Vault-2026');
console.log(p12.safeContents.length);"""),
    ("forge_cert_as_key", "validation", "Could not convert private key|PEM header type", _FORGE + """
const keyPath = '__DATA__/certs/client.crt';  // SIGNING_KEY_PATH in /etc/payments/gateway.env
const key = forge.pki.privateKeyFromPem(fs.readFileSync(keyPath, 'utf8'));
console.log(key.n.bitLength());"""),
]

_BCRYPT = "const bcrypt = require('bcryptjs');\n"

BCRYPT: list[NodeCase] = [
    ("bcryptjs_hash_undefined", "programming", "Illegal arguments", _BCRYPT + """
const user = { id: 10441, email: 'jana.kraus@mail.example', password_digest: '$2b$12$C6UzMDM.H6dfI/f/IKcEeO' };
bcrypt.compare('correct horse battery staple', user.passwordHash)
  .then((ok) => console.log(ok))
  .catch((err) => { console.error('POST /login 500', err); process.exit(1); });"""),
    ("bcryptjs_password_undefined", "programming", "Illegal arguments", _BCRYPT + """
const req = { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: {} };
async function register(req) {
  const hash = await bcrypt.hash(req.body.password, 12);
  return { email: req.body.email, passwordHash: hash };
}
register(req).then(console.log, (err) => { console.error('POST /register failed:', err); process.exit(1); });"""),
]

# --------------------------------------------------------------------------- archives

_ARCH = "const fs = require('fs');\nconst { ZipArchive, TarArchive } = require('archiver');\n"

ARCHIVER: list[NodeCase] = [
    ("archiver_full_disk", "resource", "ENOSPC|no space", _ARCH + """
const crypto = require('crypto');
const out = fs.createWriteStream('__FULL__/invoices-2026-11.zip');
const archive = new ZipArchive({ zlib: { level: 9 } });
out.on('error', (err) => { console.error('invoice export failed:', err); process.exit(1); });
archive.on('error', (err) => { throw err; });
archive.pipe(out);
for (let i = 0; i < 8; i++) {
  archive.append(crypto.randomBytes(64 * 1024), { name: `invoices/RE-2026-11-${1000 + i}.pdf` });
}
archive.finalize();"""),
    ("archiver_read_only", "filesystem", "EROFS|read-only", _ARCH + """
const out = fs.createWriteStream('__RO__/invoices/invoices-2026-11.tar');
out.on('error', (err) => { console.error('invoice export failed:', err); process.exit(1); });
const archive = new TarArchive();
archive.pipe(out);
archive.append('RE-2026-11-1000;129.90;EUR\\n', { name: 'invoices/summary.csv' });
archive.finalize();"""),
    ("archiver_missing_file", "filesystem", "ENOENT", _ARCH + """
const archive = new ZipArchive();
archive.on('warning', (err) => { console.error('archiver warning', err); process.exit(1); });
archive.on('error', (err) => { throw err; });
archive.pipe(fs.createWriteStream('__OUT__/support-bundle-119.zip'));
archive.file('/var/log/billing-api/app-2026-11-28.log', { name: 'logs/app.log' });
archive.file('/etc/billing-api/config.yaml', { name: 'config.yaml' });
archive.finalize();"""),
    ("archiver_non_buffer", "programming", "Stream or Buffer|INPUTSTEAMBUFFERREQUIRED", _ARCH + """
const archive = new ZipArchive();
archive.on('error', (err) => { throw err; });
archive.pipe(fs.createWriteStream('__OUT__/report-bundle-119.zip'));
const report = { period: '2026-11', revenue: 182340.5 };
archive.append(report, { name: 'report.json' });
archive.finalize();"""),
    ("archiver_after_finalize", "programming", "QUEUECLOSED|queue closed", _ARCH + """
const archive = new ZipArchive();
archive.on('error', (err) => { console.error(err); process.exit(1); });
archive.pipe(fs.createWriteStream('__OUT__/late-append-119.zip'));
archive.finalize();
archive.append('late entry', { name: 'README.txt' });"""),
]

ARCHIVER_CLOSED: list[NodeCase] = [
    ("archiver_closed_dir", "filesystem", "EACCES|permission denied", _ARCH + """
const archive = new ZipArchive();
archive.on('warning', (err) => { throw err; });
archive.on('error', (err) => { console.error('statement bundle failed:', err); process.exit(1); });
archive.pipe(fs.createWriteStream('__OUT__/statements-119-' + process.pid + '.zip'));
archive.directory('__CLOSED__/statements', 'statements');
archive.finalize();"""),
]

_ZIP = "const AdmZip = require('adm-zip');\n"

ADM_ZIP: list[NodeCase] = [
    ("admzip_not_a_zip", "validation", "No END header|Invalid or unsupported zip", _ZIP + """
const backup = '__DATA__/backups/site-2026-11-28.zip';
try {
  new AdmZip(backup).extractAllTo('__OUT__/restore-119', true);
} catch (err) {
  console.error(`restore of ${backup} failed:`, err);
  process.exit(1);
}"""),
    ("admzip_bad_crc", "validation", "CRC32|checksum|BAD_CRC", _ZIP + """
const zip = new AdmZip('__DATA__/backups/wordpress-uploads-2026-11.zip');
zip.extractAllTo('__OUT__/wp-restore-119-' + process.pid, true);
console.log('restored', zip.getEntries().length);"""),
    ("admzip_write_full", "resource", "ENOSPC|no space", _ZIP + """
const crypto = require('crypto');
const zip = new AdmZip();
for (let i = 0; i < 6; i++) zip.addFile(`scans/lieferschein-${4400 + i}.tif`, crypto.randomBytes(48 * 1024));
zip.writeZip('__FULL__/lieferscheine-2026-11.zip');"""),
    ("admzip_extract_read_only", "filesystem", "EROFS|read-only", _ZIP + """
const zip = new AdmZip();
zip.addFile('invoices/RE-2026-11-1000.xml', Buffer.from('<invoice id="RE-2026-11-1000"/>'));
zip.extractAllTo('__RO__/invoices', true);"""),
    ("admzip_local_file_missing", "filesystem", "File not found|ENOENT", _ZIP + """
const zip = new AdmZip();
zip.addLocalFile('/var/backups/postgres/shop-2026-11-28.dump');
zip.writeZip('__OUT__/db-backup-119.zip');"""),
]

ADM_ZIP_CLOSED: list[NodeCase] = [
    ("admzip_closed_target", "filesystem", "EACCES|permission denied", _ZIP + """
const zip = new AdmZip();
zip.addFile('2026-12.csv', Buffer.from('iban,amount\\n'));
zip.extractAllTo('__CLOSED__/statements/incoming', true);"""),
]

_TAR = "const tar = require('tar');\n"

TAR: list[NodeCase] = [
    ("tar_truncated", "validation", "unexpected end|TAR_BAD_ARCHIVE|TAR_ABORT|zlib", _TAR + """
const fs = require('fs');
fs.mkdirSync('__OUT__/deploy-119-' + process.pid, { recursive: true });
tar.x({ file: '__DATA__/releases/billing-api-3.4.1.tgz', cwd: '__OUT__/deploy-119-' + process.pid, strict: true })
  .then(() => console.log('unpacked'))
  .catch((err) => { console.error('deploy: unpacking release failed', err); process.exit(1); });"""),
    ("tar_create_full", "resource", "ENOSPC|no space", _TAR + """
tar.c({ file: '__FULL__/billing-api-3.4.1.tgz', gzip: false, cwd: '__DATA__/build' }, ['billing-api-3.4.1'])
  .catch((err) => { console.error('packaging release failed:', err); process.exit(1); });"""),
    ("tar_extract_read_only", "filesystem", "EROFS|read-only", _TAR + """
tar.x({ file: '__DATA__/releases/reports-2026-11.tar', cwd: '__RO__/reports', strict: true })
  .catch((err) => { console.error(err); process.exit(1); });"""),
    ("tar_missing_input", "filesystem", "ENOENT", _TAR + """
tar.c({ gzip: true, file: '__OUT__/logs-119.tgz', cwd: '/var/log' },
  ['billing-api/app-2026-11-28.log', 'billing-api/gc.log'])
  .then(() => console.log('archived logs'))
  .catch((err) => { console.error('log rotation: archiving failed', err); process.exit(1); });"""),
]

TAR_CLOSED: list[NodeCase] = [
    ("tar_closed_dir", "filesystem", "EACCES|permission denied", _TAR + """
tar.c({ gzip: true, file: '__OUT__/statements-119-' + process.pid + '.tgz', cwd: '__CLOSED__' }, ['statements'])
  .catch((err) => { console.error(err); process.exit(1); });"""),
]

# --------------------------------------------------------------------------- images, PDF, watching

_SHARP = "const sharp = require('sharp');\n"

SHARP: list[NodeCase] = [
    ("sharp_not_an_image", "validation", "unsupported image format", _SHARP + """
sharp('__DATA__/uploads/avatar-8812.jpg').resize(256, 256).webp().toFile('__OUT__/avatar-8812-256.webp')
  .catch((err) => { console.error('thumbnail job 8812 failed:', err); process.exit(1); });"""),
    ("sharp_missing", "filesystem", "Input file is missing|ENOENT", _SHARP + """
sharp('/srv/media/products/NW-4410-BLU/front.jpg').resize({ width: 1200 }).jpeg({ quality: 82 }).toBuffer()
  .catch((err) => { console.error(err); process.exit(1); });"""),
    ("sharp_write_full", "resource", "No space|ENOSPC", _SHARP + """
sharp({ create: { width: 2400, height: 2400, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
  .png({ compressionLevel: 0 }).toFile('__FULL__/banner-winter-sale.png')
  .catch((err) => { console.error('banner render failed:', err.message); process.exit(1); });"""),
    ("sharp_write_read_only", "filesystem", "Read-only|EROFS", _SHARP + """
sharp({ create: { width: 64, height: 64, channels: 4, background: '#0a3d62' } }).png()
  .toFile('__RO__/reports/logo-64.png')
  .catch((err) => { console.error(err); process.exit(1); });"""),
    ("sharp_number_input", "programming", "Unsupported input", _SHARP + """
const product = { id: 4410, imageId: 88213 };
sharp(product.imageId).resize(300).toBuffer().then((b) => console.log(b.length));"""),
]

_PDF = "const fs = require('fs');\nconst PDFDocument = require('pdfkit');\n"

PDFKIT: list[NodeCase] = [
    ("pdfkit_image_missing", "filesystem", "ENOENT", _PDF + """
const doc = new PDFDocument({ size: 'A4' });
doc.pipe(fs.createWriteStream('__OUT__/RE-2026-11-1000.pdf'));
doc.image('/srv/billing/assets/letterhead-nordwind.png', 50, 40, { width: 180 });
doc.text('Rechnung RE-2026-11-1000');
doc.end();"""),
    ("pdfkit_image_garbage", "validation", "Unknown image format", _PDF + """
const doc = new PDFDocument();
doc.pipe(fs.createWriteStream('__OUT__/customer-card-8812.pdf'));
try {
  doc.image(fs.readFileSync('__DATA__/uploads/avatar-8812.jpg'), { fit: [120, 120] });
} catch (err) {
  console.error('customer card 8812:', err.stack);
  process.exit(1);
}"""),
    ("pdfkit_font_garbage", "validation", "Unknown font format", _PDF + """
const doc = new PDFDocument();
doc.registerFont('Inter', '__DATA__/fonts/Inter-Regular.ttf');
doc.font('Inter').fontSize(11).text('Lieferschein 4400');
doc.end();"""),
    ("pdfkit_write_full", "resource", "ENOSPC|no space", _PDF + """
const doc = new PDFDocument({ compress: false });
const out = fs.createWriteStream('__FULL__/statement-2026-11.pdf');
out.on('error', (err) => { console.error('statement export failed', err); process.exit(1); });
doc.pipe(out);
for (let p = 0; p < 40; p++) {
  doc.text(`Kontoauszug Seite ${p + 1}\\n` + 'DE89370400440532013000  120,00 EUR\\n'.repeat(40));
  doc.addPage();
}
doc.end();"""),
    ("pdfkit_write_read_only", "filesystem", "EROFS|read-only", _PDF + """
const doc = new PDFDocument();
doc.pipe(fs.createWriteStream('__RO__/invoices/RE-2026-11-1001.pdf'));
doc.text('Rechnung RE-2026-11-1001');
doc.end();"""),
    ("pdfkit_text_after_end", "programming", "after EOF|write after end|ERR_STREAM", _PDF + """
const doc = new PDFDocument();
doc.pipe(fs.createWriteStream('__OUT__/RE-2026-11-1002.pdf'));
doc.text('Rechnung RE-2026-11-1002');
doc.end();
doc.addPage().text('Zahlungsbedingungen: 14 Tage netto');
doc.end();"""),
]

_CHOKIDAR = "const chokidar = require('chokidar');\n"

CHOKIDAR_CLOSED: list[NodeCase] = [
    ("chokidar_closed_dir", "filesystem", "EACCES|permission denied", _CHOKIDAR + """
const watcher = chokidar.watch('__CLOSED__/statements', { ignoreInitial: false });
watcher.on('error', (err) => { console.error('statement watcher:', err); process.exit(1); });
watcher.on('ready', () => setTimeout(() => process.exit(0), 500));"""),
]

CHOKIDAR: list[NodeCase] = [
    ("chokidar_number_path", "programming", "Non-string provided", _CHOKIDAR + """
const config = { watch: { paths: [4410], debounceMs: 200 } };
chokidar.watch(config.watch.paths).on('change', (p) => console.log('changed', p));"""),
]

HEAP = ("--max-old-space-size=48",)


def blind119_records(env: Env) -> list[Record]:
    fx = prepare(env)
    fill = fx.fill(env)
    root = fx.root
    out: list[Record] = []
    out += node_records(XML2JS, "xml2js119", root, fill)
    out += node_records(XML2JS_HEAP, "xml2js119", root, fill, node_args=HEAP)
    out += node_records(FXP, "fast-xml-parser119", root, fill)
    out += node_records(FXP_HEAP, "fast-xml-parser119", root, fill, node_args=HEAP)
    out += node_records(PAPA, "papaparse119", root, fill)
    out += node_records(PAPA_CLOSED, "papaparse119", root, fill, user="nobody")
    out += node_records(PAPA_HEAP, "papaparse119", root, fill, node_args=HEAP)
    out += node_records(YUP, "yup119", root, fill)
    out += node_records(CLASS_VALIDATOR, "class-validator119", root, fill)
    out += node_records(EXPRESS_VALIDATOR, "express-validator119", root, fill)
    out += node_records(JOSE, "jose-js119", root, fill)
    out += node_records(FORGE, "node-forge119", root, fill)
    out += node_records(BCRYPT, "bcryptjs119", root, fill)
    out += node_records(ARCHIVER, "archiver119", root, fill)
    out += node_records(ARCHIVER_CLOSED, "archiver119", root, fill, user="nobody")
    out += node_records(ADM_ZIP, "adm-zip119", root, fill)
    out += node_records(ADM_ZIP_CLOSED, "adm-zip119", root, fill, user="nobody")
    out += node_records(TAR, "node-tar119", root, fill)
    out += node_records(TAR_CLOSED, "node-tar119", root, fill, user="nobody")
    out += node_records(SHARP, "sharp119", root, fill)
    out += node_records(PDFKIT, "pdfkit119", root, fill)
    out += node_records(CHOKIDAR_CLOSED, "chokidar119", root, fill, user="nobody")
    out += node_records(CHOKIDAR, "chokidar119", root, fill)
    return out


if __name__ == "__main__":
    write_batch(blind119_records)


__all__ = ["BLIND119_SOURCES", "blind119_records"]
