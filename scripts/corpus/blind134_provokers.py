"""Hundred-and-thirty-fourth batch of blind provokers: the Bun and Deno runtimes and Node's built-in test runner
(`node --test`), running small programs of an orders service that fail for a cause provoked here
(blind134_support). Bun: fetch to a refused, resetting or hanging port and to the local status server's 401, 403,
429 and 503; Bun.file/Bun.write on a missing path, a read-only and a full tmpfs; malformed JSON, TOML and YAML
configs; bun:sqlite (a locked database, a UNIQUE constraint, an unopenable path); Bun.sql against a private
PostgreSQL (wrong password, no free connection slot, a refused port); `bun install` against a refused, 503 and
401 registry; a failing `bun test`; TypeError/ReferenceError; an allocation over RLIMIT_AS. Deno: the permission
sandbox refusing read, write, net and env access; the same fetch, file and parse failures; Deno KV on a missing
directory; `deno check` type errors, an unparsable module, a missing import; a failing `deno test`; the V8 heap
limit. node --test: failed assertions, TypeErrors, fetch to a refused port and to 401/503, missing and malformed
fixtures, a full disk, a read-only mount, a missing test file and the heap limit."""

from __future__ import annotations

from blind134_support import BUN, DENO, QUIET, Project, prepare_project
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND134_SOURCES = frozenset({"bun134", "deno134", "nodetest134"})

#: name, category, expected output token, file name, program
Program = tuple[str, str, str, str, str]

_FETCH_CHECKED = """const res = await fetch("@HTTP@/status/{status}?{query}");
if (!res.ok) {{
  throw new Error(`{what} failed: HTTP ${{res.status}} ${{res.statusText}}: ${{await res.text()}}`);
}}
console.log(await res.json());
"""


def _fetch_programs(prefix: str, ext: str) -> list[Program]:
    def checked(status: int, query: str, what: str) -> str:
        return _FETCH_CHECKED.format(status=status, query=query, what=what)

    return [
        (f"{prefix}_fetch_refused", "network", "refused|ECONNREFUSED|ConnectionRefused|Unable to connect",
         f"sync/pull-orders.{ext}",
         'const res = await fetch("http://127.0.0.1:@CLOSED@/api/v2/orders?since=2026-11-28T00:00:00Z");\n'
         "console.log((await res.json()).length);\n"),
        (f"{prefix}_fetch_reset", "network", "reset|ECONNRESET|ConnectionClosed|connection closed|socket",
         f"sync/push-invoices.{ext}",
         'const res = await fetch("http://127.0.0.1:@RESET@/api/v2/invoices", {method: "POST",\n'
         '  headers: {"content-type": "application/json"}, body: JSON.stringify({invoice: "INV-2026-11-0042"})});\n'
         "console.log(res.status);\n"),
        (f"{prefix}_fetch_timeout", "network", "TimeoutError|timed out|timeout",
         f"sync/warehouse-stock.{ext}",
         'const res = await fetch("http://127.0.0.1:@HANG@/v1/stock/levels?warehouse=ams-2",\n'
         "  {signal: AbortSignal.timeout(1500)});\nconsole.log(await res.json());\n"),
        (f"{prefix}_http_401", "auth", "401", f"sync/crm-contacts.{ext}",
         checked(401, "account=acme-eu&page=1", "GET /crm/contacts")),
        (f"{prefix}_http_403", "auth", "403", f"sync/payouts.{ext}",
         checked(403, "merchant=m_81234", "GET /payouts/pending")),
        (f"{prefix}_http_429", "resource", "429", f"sync/geocode.{ext}",
         checked(429, "address=Damrak+1+Amsterdam", "GET /geocode")),
        (f"{prefix}_http_503", "service", "503", f"sync/tax-rates.{ext}",
         checked(503, "country=NL&date=2026-11-29", "GET /tax/rates")),
    ]


def _bun_programs() -> list[Program]:
    return [
        *_fetch_programs("bun", "ts"),
        ("bun_file_missing", "filesystem", "ENOENT|No such file", "src/flags.ts",
         'const flags = await Bun.file("@ROOT@/config/feature-flags.production.json").json();\n'
         "console.log(flags.checkout_v2);\n"),
        ("bun_write_read_only", "filesystem", "EROFS|read-only", "src/export.ts",
         'await Bun.write("@RO@/exports/orders-2026-11-29.csv", "order_id,total\\n1002,17.90\\n");\n'),
        ("bun_write_full", "resource", "ENOSPC|No space", "src/spool.ts",
         'await Bun.write("@FULL@/invoice-batch-0042.pdf", new Uint8Array(512 * 1024).fill(37));\n'),
        ("bun_json_config", "validation", "JSON|SyntaxError", "src/load-flags.ts",
         'const flags = await Bun.file("@ROOT@/config/feature-flags.json").json();\nconsole.log(flags);\n'),
        ("bun_toml_import", "validation", "Expected|toml", "src/deploy.ts",
         'import deploy from "../config/deploy.toml";\nconsole.log(deploy.database.pool_size);\n'),
        ("bun_yaml_parse", "validation", "YAML|SyntaxError|Expected|Unexpected", "src/queues.ts",
         'const text = await Bun.file("@ROOT@/config/queues.yaml").text();\n'
         "const cfg = Bun.YAML.parse(text);\nconsole.log(cfg.queues.billing);\n"),
        ("bun_type_error", "programming", "TypeError", "src/customer.ts",
         "const customers = [{id: 7, profile: {email: 'ops@acme.example'}}];\n"
         "const c = customers.find((x) => x.id === 8) as any;\nconsole.log(c.profile.email.toLowerCase());\n"),
        ("bun_reference_error", "programming", "ReferenceError", "src/totals.ts",
         "function invoiceTotal(lines: {amount: number}[]) {\n"
         "  return lines.reduce((sum, l) => sum + l.amount, 0) * (1 + vatRate);\n}\n"
         "console.log(invoiceTotal([{amount: 199}]));\n"),
        ("bun_sqlite_locked", "resource", "locked|SQLITE_BUSY", "src/queue-db.ts",
         'import { Database } from "bun:sqlite";\nconst path = "@ROOT@/jobs.sqlite3";\n'
         "const a = new Database(path);\n"
         'a.run("CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, kind TEXT, state TEXT)");\n'
         'a.run("BEGIN EXCLUSIVE");\na.run("INSERT INTO jobs (kind, state) VALUES (\'invoice\', \'running\')");\n'
         'const b = new Database(path);\nb.run("PRAGMA busy_timeout = 200");\n'
         'b.run("UPDATE jobs SET state = \'done\' WHERE kind = \'invoice\'");\n'),
        ("bun_sqlite_unique", "validation", "UNIQUE constraint", "src/customers-db.ts",
         'import { Database } from "bun:sqlite";\nconst db = new Database(":memory:");\n'
         'db.run("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)");\n'
         'const ins = db.prepare("INSERT INTO customers (email) VALUES (?)");\n'
         'ins.run("billing@acme.example");\nins.run("billing@acme.example");\n'),
        ("bun_sqlite_cantopen", "filesystem", "unable to open|SQLITE_CANTOPEN", "src/audit-db.ts",
         'import { Database } from "bun:sqlite";\n'
         'const db = new Database("@ROOT@/var/lib/audit/audit-2026-11.sqlite3");\n'
         'db.run("CREATE TABLE IF NOT EXISTS events (at TEXT, what TEXT)");\n'),
        ("bun_sql_bad_password", "auth", "password authentication failed|28P01", "src/pg-report.ts",
         'import { SQL } from "bun";\n'
         'const sql = new SQL("postgres://app:stale-password@127.0.0.1:@PG@/postgres");\n'
         "const rows = await sql`SELECT count(*) FROM pg_stat_activity`;\nconsole.log(rows);\n"),
        ("bun_sql_too_many_clients", "resource", "too many clients|remaining connection slots|53300",
         "src/pg-fanout.ts",
         'import { SQL } from "bun";\nconst conns = [];\nfor (let i = 0; i < 6; i++) {\n'
         '  const sql = new SQL({url: "postgres://postgres@127.0.0.1:@PG@/postgres", max: 1});\n'
         "  await sql`SELECT pg_backend_pid()`;\n  conns.push(sql);\n}\n"),
        ("bun_sql_refused", "network", "refused|ECONNREFUSED|ConnectionRefused", "src/pg-health.ts",
         'import { SQL } from "bun";\nconst sql = new SQL("postgres://orders@127.0.0.1:@CLOSED@/orders");\n'
         "console.log(await sql`SELECT 1`);\n"),
        ("bun_alloc_memory_limit", "resource", "Out of memory|OutOfMemory", "src/render-thumbs.ts",
         "const frames = new Uint8Array(6 * 1024 ** 3);\nframes.fill(255);\nconsole.log(frames.length);\n"),
    ]


def _deno_programs() -> list[Program]:
    return [
        *_fetch_programs("deno", "ts"),
        ("deno_no_read_permission", "auth", "NotCapable|Requires read access", "worker/flags.ts",
         'const flags = JSON.parse(await Deno.readTextFile("@ROOT@/config/feature-flags.json"));\n'),
        ("deno_no_write_permission", "auth", "NotCapable|Requires write access", "worker/export.ts",
         'await Deno.writeTextFile("@ROOT@/exports-2026-11-29.csv", "order_id,total\\n");\n'),
        ("deno_no_net_permission", "auth", "NotCapable|Requires net access", "worker/ping.ts",
         'const res = await fetch("@HTTP@/ok?probe=billing-worker");\nconsole.log(res.status);\n'),
        ("deno_no_env_permission", "auth", "NotCapable|Requires env access", "worker/env.ts",
         'const url = Deno.env.get("BILLING_DATABASE_URL");\nconsole.log(url);\n'),
        ("deno_read_missing", "filesystem", "NotFound|No such file", "worker/load.ts",
         'const text = await Deno.readTextFile("@ROOT@/config/billing.production.json");\n'),
        ("deno_write_read_only", "filesystem", "Read-only|os error 30|EROFS", "worker/archive.ts",
         'await Deno.writeTextFile("@RO@/exports/orders-2026-11-29.csv", "order_id,total\\n1002,17.90\\n");\n'),
        ("deno_write_full", "resource", "No space|os error 28|ENOSPC", "worker/spool.ts",
         'await Deno.writeFile("@FULL@/invoice-batch-0043.pdf", new Uint8Array(512 * 1024).fill(37));\n'),
        ("deno_json_import", "validation", "JSON|SyntaxError|Unexpected", "worker/invoice.ts",
         'import invoice from "../fixtures/invoice-2026-11.json" with { type: "json" };\n'
         "console.log(invoice.lines.length);\n"),
        ("deno_kv_missing_dir", "filesystem", "unable to open|No such file", "worker/kv.ts",
         'const kv = await Deno.openKv("@ROOT@/var/lib/billing/kv.sqlite3");\n'
         'await kv.set(["invoice", "INV-2026-11-0042"], {state: "sent"});\n'),
        ("deno_type_error", "programming", "TypeError", "worker/customer.ts",
         "const byId = new Map<number, {email: string}>();\nconst c: any = byId.get(8);\n"
         "console.log(c.email.toLowerCase());\n"),
        ("deno_module_not_found", "programming", "Module not found", "worker/main.ts",
         'import { chargeCard } from "./lib/payments.ts";\nawait chargeCard("cus_123", 1999);\n'),
        ("deno_parse_error", "programming", "could not be parsed|Expected|Unexpected", "worker/broken.ts",
         "export function total(lines: {amount: number}[]) {\n  return lines.reduce((s, l) => s + l.amount, 0;\n}\n"),
        ("deno_heap_limit", "resource", "out of memory|heap limit", "worker/cache.js",
         'const cache = [];\nwhile (true) cache.push(new Array(1e5).fill("order-" + cache.length));\n'),
    ]


def _deno_command(name: str, path: str) -> str:
    flags = {
        "deno_no_read_permission": "",
        "deno_no_write_permission": "",
        "deno_no_net_permission": "",
        "deno_no_env_permission": "",
        "deno_kv_missing_dir": "-A --unstable-kv",
        "deno_heap_limit": "--v8-flags=--max-old-space-size=48",
    }.get(name, "-A")
    return f"{QUIET} {DENO} run --no-prompt {flags} {path}"


def _bun_command(name: str, path: str) -> str:
    if name == "bun_alloc_memory_limit":
        return f"ulimit -v 3000000; {QUIET} {BUN} run {path}"
    return f"{QUIET} {BUN} run {path}"


def _program_cases(p: Project, programs: list[Program], command: object) -> list[ToolCase]:
    cases: list[ToolCase] = []
    for name, category, token, file, code in programs:
        path = p.script(file, code)
        cases.append((name, category, token, f"cd {p.root} && " + command(name, str(path.relative_to(p.root)))))  # type: ignore[operator]
    return cases


def _bun_tool_cases(p: Project, env: Env) -> list[ToolCase]:
    cases: list[ToolCase] = []
    for name, category, token, registry in (
        ("bun_install_refused", "network", "refused|ConnectionRefused", f"http://127.0.0.1:{env.closed_port}/"),
        ("bun_install_503", "service", "503", env.url(503) + "/"),
        ("bun_install_401", "auth", "401", env.url(401) + "/"),
    ):
        app = p.root / "apps" / name
        app.mkdir(parents=True)
        (app / "package.json").write_text('{"name": "orders-dashboard", "version": "1.4.0", "private": true,\n'
                                          ' "dependencies": {"date-fns": "^4.1.0", "zod": "^3.23.8"}}\n')
        (app / "bunfig.toml").write_text(f'[install]\nregistry = "{registry}"\n')
        cases.append((name, category, token,
                      f"cd {app} && {QUIET} BUN_INSTALL_CACHE_DIR={app}/.cache {BUN} install --no-cache"))
    tests = p.root / "tests-bun"
    tests.mkdir()
    (tests / "pricing.test.ts").write_text(
        'import { expect, test } from "bun:test";\n\n'
        "function applyDiscount(total: number, percent: number) {\n  return Math.round(total * (1 - percent)) ;\n}\n\n"
        'test("annual plan gets 15% off", () => {\n  expect(applyDiscount(199, 15)).toBe(169.15);\n});\n')
    cases.append(("bun_test_expect", "programming", "toBe|expect(", f"cd {tests} && {QUIET} {BUN} test"))
    return cases


def _deno_tool_cases(p: Project) -> list[ToolCase]:
    d = p.root / "deno-checks"
    d.mkdir()
    (d / "pricing.ts").write_text(
        "export interface Plan { id: string; monthly: number }\n"
        "export function yearly(plan: Plan): number {\n  return plan.monthly * 12;\n}\n"
        'const total: number = yearly({ id: "pro", monthly: "19.90" });\nconsole.log(total);\n')
    (d / "pricing_test.ts").write_text(
        'import assert from "node:assert";\n\n'
        'Deno.test("vat is added to the invoice total", () => {\n'
        "  const total = 110 * 1.1;\n  assert.strictEqual(total, 121);\n});\n")
    return [
        ("deno_check_type_error", "programming", "TS2322|TS2345|error", f"cd {d} && {QUIET} {DENO} check pricing.ts"),
        ("deno_test_assert", "programming", "AssertionError|assert",
         f"cd {d} && {QUIET} {DENO} test --no-prompt pricing_test.ts 2>&1"),
    ]


def _node_test_programs() -> list[Program]:
    head = 'import { test } from "node:test";\nimport assert from "node:assert/strict";\n' \
           'import { readFile, writeFile } from "node:fs/promises";\n\n'
    return [
        ("nodetest_assert_deep", "programming", "AssertionError|ERR_ASSERTION", "test/cart.test.mjs",
         head + "function cartLines(items) {\n  return items.map(({ sku, qty }) => ({ sku, qty: String(qty) }));\n}\n"
         'test("cart lines keep quantities", () => {\n'
         '  assert.deepStrictEqual(cartLines([{ sku: "PRO-ANNUAL", qty: 2 }]), [{ sku: "PRO-ANNUAL", qty: 2 }]);\n'
         "});\n"),
        ("nodetest_type_error", "programming", "TypeError", "test/address.test.mjs",
         head + "function shippingCity(order) {\n  return order.shipping.address.city.toUpperCase();\n}\n"
         'test("pickup orders have no city", () => {\n'
         '  assert.equal(shippingCity({ id: 1001, shipping: { method: "pickup" } }), undefined);\n});\n'),
        ("nodetest_fetch_refused", "network", "ECONNREFUSED|refused", "test/api.test.mjs",
         head + 'import { get } from "node:http";\n\n'
         'test("orders API lists today\'s orders", async () => {\n'
         "  const status = await new Promise((resolve, reject) => {\n"
         '    get("http://127.0.0.1:@CLOSED@/api/v2/orders?day=2026-11-29", (res) => resolve(res.statusCode))\n'
         '      .on("error", reject);\n  });\n  assert.equal(status, 200);\n});\n'),
        ("nodetest_http_503", "service", "503", "test/tax.test.mjs",
         head + 'test("tax rates service answers", async () => {\n'
         '  const res = await fetch("@HTTP@/status/503?country=NL");\n'
         "  if (!res.ok) throw new Error(`tax-rates: HTTP ${res.status} ${res.statusText}`);\n});\n"),
        ("nodetest_http_401", "auth", "401", "test/crm.test.mjs",
         head + 'test("crm contacts sync", async () => {\n'
         '  const res = await fetch("@HTTP@/status/401?account=acme-eu", {headers: {authorization: "Bearer exp"}});\n'
         "  if (!res.ok) throw new Error(`crm: HTTP ${res.status} ${res.statusText}`);\n});\n"),
        ("nodetest_fixture_missing", "filesystem", "ENOENT", "test/invoice-pdf.test.mjs",
         head + 'test("renders the November invoice", async () => {\n'
         '  const tpl = await readFile("@ROOT@/fixtures/templates/invoice.hbs", "utf8");\n'
         "  assert.ok(tpl.length > 0);\n});\n"),
        ("nodetest_fixture_json", "validation", "SyntaxError|JSON", "test/invoice-total.test.mjs",
         head + 'test("invoice fixture totals 199", async () => {\n'
         '  const inv = JSON.parse(await readFile("@ROOT@/fixtures/invoice-2026-11.json", "utf8"));\n'
         "  assert.equal(inv.lines[0].amount, 199);\n});\n"),
        ("nodetest_write_full", "resource", "ENOSPC", "test/report.test.mjs",
         head + 'test("writes the monthly report", async () => {\n'
         '  await writeFile("@FULL@/report-2026-11.csv", "x".repeat(512 * 1024));\n});\n'),
        ("nodetest_write_read_only", "filesystem", "EROFS", "test/exports.test.mjs",
         head + 'test("writes the daily export", async () => {\n'
         '  await writeFile("@RO@/exports/orders-2026-11-29.csv", "order_id,total\\n1002,17.90\\n");\n});\n'),
        ("nodetest_heap_limit", "resource", "heap out of memory|out of memory", "test/cache.test.mjs",
         head + 'test("warms the product cache", () => {\n  const cache = [];\n'
         '  while (true) cache.push(new Array(1e5).fill("sku-" + cache.length));\n});\n'),
    ]


def _node_command(name: str, path: str) -> str:
    if name == "nodetest_heap_limit":
        return f"{QUIET} node --max-old-space-size=48 --test {path}"
    return f"{QUIET} node --test {path}"


def blind134_records(env: Env) -> list[Record]:
    p = prepare_project(env)
    out: list[Record] = []
    out += tool_records(_program_cases(p, _bun_programs(), _bun_command) + _bun_tool_cases(p, env), "bun134",
                        p.root, timeout=90)
    out += tool_records(_program_cases(p, _deno_programs(), _deno_command) + _deno_tool_cases(p), "deno134",
                        p.root, timeout=90)
    node_cases = _program_cases(p, _node_test_programs(), _node_command)
    node_cases.append(("nodetest_missing_file", "filesystem", "Could not find|ENOENT",
                       f"cd {p.root} && {QUIET} node --test test/refunds.test.mjs"))
    out += tool_records(node_cases, "nodetest134", p.root, timeout=90)
    return out


if __name__ == "__main__":
    write_batch(blind134_records)


__all__ = ["BLIND134_SOURCES", "blind134_records"]
