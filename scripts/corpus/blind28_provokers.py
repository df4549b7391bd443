"""Twenty-eighth batch of blind provokers (round 2), written after batch 27 had been scored and folded in: the
rules as generalised from it (SQLAlchemy ORM misuse, go-yaml parse errors, no bare "loading"), the model
retrained on batches 1-27 with the innermost-frame feature. Weighted to the line between validation and
programming (ValueError and its kin raised by stdlib parsers vs by the calling code; JavaScript TypeErrors for
bad input; Java IllegalArgumentExceptions), plus CI wording (make recipes, npm scripts and registries, cargo
manifests, sha256sum -c, terraform's HTTP state backend, docker CLI), PostgreSQL lock and deadlock errors
through SQLAlchemy, Node.js client libraries against hosted-API bodies and databases. Only 127.0.0.1."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from checked import PyCase, ToolCase, has_token, node_library_records, python_records, tool_records
from cloudapi import cloud_api
from common import Env, Record, write_batch
from runtime_provokers import java_records

BLIND28_SOURCES = frozenset({"stdlib28", "sqlalchemy28", "ci28", "node-libs28", "node28", "java-extra28",
                             "shell28"})
_DSN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _stdlib_cases() -> list[PyCase]:
    def fromisoformat() -> None:
        import datetime

        datetime.date.fromisoformat("2026-02-30")

    def ipv6_url() -> None:
        import urllib.parse

        urllib.parse.urlsplit("http://[::1/metrics")

    def fromhex() -> None:
        bytes.fromhex("deadbeefzz")

    def int_base() -> None:
        int("ff", 37)

    def format_index() -> None:
        "{} -> {}".format("primary")  # noqa: F524 (the defect we provoke)

    def remove_missing() -> None:
        hosts = ["db1", "db2"]
        hosts.remove("db3")

    def unpack() -> None:
        pairs = ["retries=3", "timeout"]
        dict(p.split("=") for p in pairs)

    def enum_value() -> None:
        import enum

        class Tier(enum.Enum):
            GOLD = "gold"
            SILVER = "silver"

        Tier("platinum")

    def relative_to() -> None:
        from pathlib import PurePosixPath

        PurePosixPath("/srv/app/logs").relative_to("/var/lib")

    def bad_regex() -> None:
        import re

        re.compile(r"^v(\d+)\.(\d+{2,1}")

    def ip_network() -> None:
        import ipaddress

        ipaddress.ip_network("10.0.0.7/24")

    def parsedate() -> None:
        import email.utils

        email.utils.parsedate_to_datetime("yesterday at noon")

    def substring() -> None:
        "release-2026.11".index("rc")

    def unicodedata_name() -> None:
        import unicodedata

        unicodedata.lookup("LATIN SMALL LETTER RECOUP")

    return [
        ("date_fromisoformat", "validation", "stdlib28", "ValueError", fromisoformat),
        ("urlsplit_ipv6", "validation", "stdlib28", "ValueError", ipv6_url),
        ("bytes_fromhex", "validation", "stdlib28", "ValueError", fromhex),
        ("int_bad_base", "programming", "stdlib28", "ValueError", int_base),
        ("format_missing_arg", "programming", "stdlib28", "IndexError", format_index),
        ("list_remove_missing", "programming", "stdlib28", "ValueError", remove_missing),
        ("dict_unpack", "programming", "stdlib28", "ValueError", unpack),
        ("enum_bad_value", "validation", "stdlib28", "ValueError", enum_value),
        ("relative_to_other", "programming", "stdlib28", "ValueError", relative_to),
        ("regex_bad_repeat", "programming", "stdlib28", "error|PatternError", bad_regex),
        ("ip_network_host_bits", "validation", "stdlib28", "ValueError", ip_network),
        ("parsedate_words", "validation", "stdlib28", "ValueError|TypeError", parsedate),
        ("str_index_missing", "programming", "stdlib28", "ValueError", substring),
        ("unicodedata_lookup", "validation", "stdlib28", "KeyError", unicodedata_name),
    ]


def _sqlalchemy_cases() -> list[PyCase]:
    def lock_timeout() -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(_DSN)
        try:
            with engine.begin() as setup:
                setup.execute(sa.text("DROP TABLE IF EXISTS blind28_job"))
                setup.execute(sa.text("CREATE TABLE blind28_job (id int primary key, state text)"))
                setup.execute(sa.text("INSERT INTO blind28_job VALUES (1, 'queued')"))
            with engine.connect() as holder, engine.connect() as waiter:
                holder.execute(sa.text("SELECT * FROM blind28_job WHERE id = 1 FOR UPDATE"))
                waiter.execute(sa.text("SET lock_timeout = '300ms'"))
                waiter.execute(sa.text("UPDATE blind28_job SET state = 'running' WHERE id = 1"))
        finally:
            with engine.begin() as cleanup:
                cleanup.execute(sa.text("DROP TABLE IF EXISTS blind28_job"))
            engine.dispose()

    def deadlock() -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(_DSN)
        with engine.begin() as setup:
            setup.execute(sa.text("DROP TABLE IF EXISTS blind28_acct"))
            setup.execute(sa.text("CREATE TABLE blind28_acct (id int primary key, balance int)"))
            setup.execute(sa.text("INSERT INTO blind28_acct VALUES (1, 100), (2, 100)"))
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def transfer(first: int, second: int) -> None:
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text("UPDATE blind28_acct SET balance = balance - 1 WHERE id = :i"), {"i": first})
                    barrier.wait()
                    conn.execute(sa.text("UPDATE blind28_acct SET balance = balance + 1 WHERE id = :i"),
                                 {"i": second})
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=transfer, args=(1, 2)), threading.Thread(target=transfer, args=(2, 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with engine.begin() as cleanup:
            cleanup.execute(sa.text("DROP TABLE IF EXISTS blind28_acct"))
        engine.dispose()
        if errors:
            raise errors[0]

    def data_error() -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(_DSN)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT CAST(:v AS integer)"), {"v": "12 apples"})
        finally:
            engine.dispose()

    def queue_pool() -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(_DSN, pool_size=1, max_overflow=0, pool_timeout=0.5)
        try:
            with engine.connect(), engine.connect():
                pass
        finally:
            engine.dispose()

    return [
        ("sqlalchemy_lock_timeout", "resource", "sqlalchemy28", "OperationalError", lock_timeout),
        ("sqlalchemy_deadlock", "resource", "sqlalchemy28", "OperationalError|DBAPIError", deadlock),
        ("sqlalchemy_data_error", "validation", "sqlalchemy28", "DataError", data_error),
        ("sqlalchemy_queue_pool", "resource", "sqlalchemy28", "TimeoutError", queue_pool),
    ]


#: name, category, token, CommonJS script
NODE_LIBS: list[ToolCase] = [
    ("axios_s3_slowdown", "resource", "SlowDown", "const axios = require('axios'); (async () => { "
     "await axios.put('API/s3slow/bucket/key', 'x'); })();"),
    ("axios_k8s_403", "auth", "403", "const axios = require('axios'); (async () => { "
     "await axios.get('API/k8s403/api/v1/namespaces/default/pods'); })();"),
    ("axios_reset", "network", "ECONNRESET|socket hang up", "const axios = require('axios'); (async () => { "
     "await axios.get('http://127.0.0.1:RESET/health'); })();"),
    ("pg_syntax", "programming", "syntax", "const { Client } = require('pg'); (async () => { "
     "const c = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' }); "
     "await c.connect(); await c.query('SELEC 1'); })();"),
    ("pg_missing_relation", "programming", "does not exist", "const { Client } = require('pg'); (async () => { "
     "const c = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' }); "
     "await c.connect(); await c.query('SELECT * FROM invoices_blind28'); })();"),
    ("pg_refused", "network", "ECONNREFUSED", "const { Client } = require('pg'); (async () => { "
     "await new Client({ host: '127.0.0.1', port: CLOSED, user: 'postgres' }).connect(); })();"),
    ("mysql2_unknown_db", "validation", "Unknown database", "const mysql = require('mysql2/promise'); "
     "(async () => { await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', "
     "database: 'orders_blind28' }); })();"),
    ("ioredis_wrongtype", "programming", "WRONGTYPE", "const Redis = require('ioredis'); (async () => { "
     "const r = new Redis({ host: '127.0.0.1', port: 6379 }); await r.set('blind28:k', 'v'); "
     "try { await r.lpush('blind28:k', 'x'); } finally { await r.del('blind28:k'); r.disconnect(); } })();"),
]

NODE: list[ToolCase] = [
    ("node_invalid_url", "validation", "ERR_INVALID_URL|Invalid URL", "new URL('127.0.0.1:8080/health');"),
    ("node_bigint_parse", "validation", "BigInt", "BigInt('12.5');"),
    ("node_structured_clone", "programming", "DataCloneError|could not be cloned",
     "structuredClone({ onDone: () => 1 });"),
    ("node_buffer_negative", "programming", "ERR_OUT_OF_RANGE|RangeError", "Buffer.alloc(-1);"),
    ("node_abort_timeout", "network", "TimeoutError|aborted", "await fetch('http://127.0.0.1:HANG/slow', "
     "{ signal: AbortSignal.timeout(500) });"),
]

TOOLS: list[ToolCase] = [
    ("make_missing_tool", "filesystem", "not found|No such file", "cd TMP/make28 && make build"),
    ("make_curl_503", "service", "503", "cd TMP/make28 && make deploy"),
    ("npm_script_missing_bin", "filesystem", "not found", "cd TMP/npm28 && npm run --silent typecheck"),
    ("npm_bad_package_json", "validation", "EJSONPARSE|JSON", "cd TMP/npmbad28 && npm install --offline"),
    ("npm_registry_503", "service", "503", "cd TMP && npm view left-pad --registry API/reg503/ "
     "--fetch-retries=0 --cache TMP/npm-cache"),
    ("npm_registry_401", "auth", "401|E401", "cd TMP && npm view left-pad --registry API/reg401/ "
     "--fetch-retries=0 --cache TMP/npm-cache"),
    ("cargo_bad_manifest", "validation", "manifest|TOML|parse", "cd TMP/cargobad28 && CARGO_HOME=TMP/cargo-home "
     "cargo metadata --offline --format-version 1"),
    ("sha256_mismatch", "validation", "FAILED|did NOT match", "cd TMP && printf 'release' > app.tgz && "
     "echo '0000000000000000000000000000000000000000000000000000000000000000  app.tgz' > app.tgz.sha256 && "
     "sha256sum -c app.tgz.sha256"),
    ("terraform_state_401", "auth", "401|auth|Unauthorized", "cd TMP/tf401 && terraform init -input=false "
     "-no-color"),
    ("terraform_state_503", "service", "503|unavailable", "cd TMP/tf503 && terraform init -input=false -no-color"),
    ("docker_refused", "network", "connect|refused", "docker -H tcp://127.0.0.1:CLOSED ps"),
    ("awk_syntax", "programming", "syntax", "printf 'a 1\\nb 2\\n' | awk '{ sum += $2 ' "),
    ("pipeline_grep_missing", "filesystem", "No such file", "set -o pipefail; grep -c ERROR TMP/logs28/app.log | "
     "tee TMP/count.txt"),
]

JAVA: dict[str, tuple[str, str]] = {
    "uuid_parse": ("validation", 'java.util.UUID.fromString("order-42");'),
    "uri_syntax": ("validation", 'new java.net.URI("http://api.internal/v1/items?q=a b");'),
    "base64_illegal": ("validation", 'java.util.Base64.getDecoder().decode("c2VjcmV0@@");'),
    "optional_empty": ("programming", 'java.util.Optional.empty().orElseThrow();'),
    "require_non_null": ("programming", 'java.util.Objects.requireNonNull(System.getenv("NOPE_B28"), '
                                        '"config.endpoint");'),
}
_JAVA_EXPECTED = {"uuid_parse": "IllegalArgumentException", "uri_syntax": "URISyntaxException",
                  "base64_illegal": "IllegalArgumentException", "optional_empty": "NoSuchElementException",
                  "require_non_null": "NullPointerException"}


def _prepare(tmp: Path, api: str) -> None:
    make = tmp / "make28"
    make.mkdir()
    (make / "Makefile").write_text(f"build:\n\tprotoc-gen-b28 --out=gen api.proto\n\ndeploy:\n\tcurl -sSf -X POST "
                                   f"{api}/gcp503/v1/deployments\n")
    npm = tmp / "npm28"
    npm.mkdir()
    (npm / "package.json").write_text('{"name": "svc28", "version": "1.0.0", "scripts": {"typecheck": '
                                      '"tsc-b28 --noEmit"}}\n')
    bad = tmp / "npmbad28"
    bad.mkdir()
    (bad / "package.json").write_text('{"name": "svc28", "version": "1.0.0",\n  "dependencies": {"left-pad": '
                                      '"1.3.0",}\n}\n')
    cargo = tmp / "cargobad28"
    (cargo / "src").mkdir(parents=True)
    (cargo / "src" / "main.rs").write_text("fn main() {}\n")
    (cargo / "Cargo.toml").write_text('[package]\nname = "svc28"\nversion = "0.1.0\nedition = "2021"\n')
    (tmp / "cargo-home").mkdir(exist_ok=True)
    for name, answer in (("tf401", "reg401"), ("tf503", "gcp503")):
        d = tmp / name
        d.mkdir()
        (d / "main.tf").write_text(f'terraform {{\n  backend "http" {{\n    address = "{api}/{answer}/state"\n'
                                   f'    retry_max = 0\n  }}\n}}\n')


def blind28_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    _prepare(env.tmp, api)

    def fill(text: str) -> str:
        return (text.replace("API", api).replace("CLOSED", str(env.closed_port)).replace("HANG", str(env.hang_port))
                .replace("RESET", str(env.reset_port)).replace("TMP", str(env.tmp)))

    out = python_records(_stdlib_cases() + _sqlalchemy_cases())
    time.sleep(0.2)
    out += node_library_records(NODE_LIBS, "node-libs28", env.tmp, fill)
    node: list[ToolCase] = [(n, c, t, ["node", *(["--input-type=module"] if "await" in s else []), "-e", fill(s)])
                            for n, c, t, s in NODE]
    out += tool_records(node, "node28", env.tmp)
    ci = [c for c in TOOLS if c[0].startswith(("make", "npm", "cargo", "terraform", "docker"))]
    shell = [c for c in TOOLS if c not in ci]
    out += tool_records(ci, "ci28", env.tmp, fill, timeout=120)
    out += tool_records(shell, "shell28", env.tmp, fill)
    for rec in java_records(env, JAVA, "java-extra28"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra28_")]):
            out.append(rec)
    return out


if __name__ == "__main__":
    write_batch(blind28_records)


__all__ = ["BLIND28_SOURCES", "blind28_records"]
