"""Thirtieth batch of blind provokers (round 4), written after batch 29 had been scored and folded in: rules as
generalised from it (Django ORM misuse, CMake scripts, struct/configparser input errors), the model retrained on
batches 1-29. Hosted-API SDKs reading provider error bodies from a loopback server: stripe, slack_sdk, hvac (Vault),
openai; Node.js pools running dry (node-postgres, mysql2) and ioredis giving up on a closed port; Java without a
JDBC driver and a CompletableFuture failing on a 503; rustc through cargo, a malformed Maven POM, rsync to a
closed port. Only 127.0.0.1. Needs stripe, slack_sdk, hvac and openai in the venv."""

from __future__ import annotations

import time
from pathlib import Path

from checked import PyCase, ToolCase, has_token, node_library_records, python_records, tool_records
from cloudapi import cloud_api
from common import Env, Record, write_batch
from runtime_provokers import java_records

BLIND30_SOURCES = frozenset({"stripe30", "slack30", "hvac30", "openai30", "node-libs30", "java-extra30", "ci30"})


def _sdk_cases(api: str, closed: int) -> list[PyCase]:
    def stripe_call(name: str) -> None:
        import stripe

        stripe.api_base = f"{api}/{name}"
        stripe.max_network_retries = 0
        stripe.Customer.create(api_key="sk_test_b30wxyz", email="ops@example.org")

    def slack_call(name: str) -> None:
        from slack_sdk import WebClient

        WebClient(token="xoxb-b30", base_url=f"{api}/{name}/api/", timeout=3).chat_postMessage(
            channel="#deploys", text="release 2026.11 is out")

    def vault_read(name: str) -> None:
        import hvac

        client = hvac.Client(url=f"{api}/{name}", token="s.b30", timeout=3)
        client.secrets.kv.v2.read_secret_version(path="ci/deploy-key", raise_on_deleted_version=True)

    def openai_call(name: str) -> None:
        import openai

        client = openai.OpenAI(api_key="sk-b30", base_url=f"{api}/{name}/v1", max_retries=0, timeout=3)
        client.chat.completions.create(model="gpt-b30", messages=[])

    def openai_refused() -> None:
        import openai

        client = openai.OpenAI(api_key="sk-b30", base_url=f"http://127.0.0.1:{closed}/v1", max_retries=0, timeout=3)
        client.chat.completions.create(model="gpt-b30", messages=[{"role": "user", "content": "hi"}])

    return [
        ("stripe_bad_key", "auth", "stripe30", "AuthenticationError|StripeError", lambda: stripe_call("stripe401")),
        ("stripe_rate_limited", "resource", "stripe30", "RateLimitError|StripeError", lambda: stripe_call("stripe429")),
        ("stripe_invalid_request", "validation", "stripe30", "InvalidRequestError|StripeError",
         lambda: stripe_call("stripe400")),
        ("slack_invalid_auth", "auth", "slack30", "SlackApiError", lambda: slack_call("slackauth")),
        ("slack_rate_limited", "resource", "slack30", "SlackApiError", lambda: slack_call("slackrate")),
        ("vault_permission_denied", "auth", "hvac30", "Forbidden|VaultError", lambda: vault_read("vault403")),
        ("vault_sealed", "service", "hvac30", "VaultDown|VaultError", lambda: vault_read("vault503")),
        ("openai_bad_key", "auth", "openai30", "AuthenticationError|APIStatusError", lambda: openai_call("openai401")),
        ("openai_rate_limited", "resource", "openai30", "RateLimitError|APIStatusError",
         lambda: openai_call("openai429")),
        ("openai_server_error", "service", "openai30", "InternalServerError|APIStatusError",
         lambda: openai_call("openai500")),
        ("openai_bad_request", "validation", "openai30", "BadRequestError|APIStatusError",
         lambda: openai_call("openai400")),
        ("openai_refused", "network", "openai30", "APIConnectionError", openai_refused),
    ]


NODE_LIBS: list[ToolCase] = [
    ("pg_pool_timeout", "resource", "timeout", "const { Pool } = require('pg'); (async () => { "
     "const pool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 1, "
     "connectionTimeoutMillis: 300 }); const held = await pool.connect(); await pool.connect(); })();"),
    ("mysql2_queue_limit", "resource", "Queue limit|queue", "const mysql = require('mysql2/promise'); (async () => { "
     "const pool = mysql.createPool({ host: '127.0.0.1', port: 3306, user: 'root', connectionLimit: 1, "
     "queueLimit: 1 }); const a = await pool.getConnection(); const waiting = pool.getConnection(); "
     "await pool.getConnection(); })();"),
    ("ioredis_max_retries", "network", "ECONNREFUSED|max retries", "const Redis = require('ioredis'); (async () => { "
     "const r = new Redis({ host: '127.0.0.1', port: CLOSED, maxRetriesPerRequest: 1, "
     "retryStrategy: (n) => (n > 2 ? null : 50) }); await r.get('deploy:lock'); })();"),
]

JAVA: dict[str, tuple[str, str]] = {
    "no_jdbc_driver": ("programming", 'java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test",'
                                      ' "postgres", "");'),
    "future_503": ("service", 'java.util.concurrent.CompletableFuture.supplyAsync(() -> { var c = java.net.http.'
                              'HttpClient.newHttpClient(); try { var r = c.send(java.net.http.HttpRequest.newBuilder('
                              'java.net.URI.create("http://127.0.0.1:HTTP/status/503")).build(), java.net.http.'
                              'HttpResponse.BodyHandlers.ofString()); if (r.statusCode() != 200) throw new '
                              'RuntimeException("inventory service answered " + r.statusCode()); return r.body(); } '
                              'catch (java.io.IOException | InterruptedException e) { throw new RuntimeException(e); }'
                              ' }).join();'),
}
_JAVA_EXPECTED = {"no_jdbc_driver": "SQLException", "future_503": "503"}

TOOLS: list[ToolCase] = [
    ("cargo_rustc_error", "programming", "error[", "cd TMP/rust30 && CARGO_HOME=TMP/cargo-home30 cargo build "
     "--offline -q"),
    ("mvn_bad_pom", "validation", "Non-parseable|parse|POM", "cd TMP/mvn30 && mvn -B -o -q validate"),
    ("rsync_refused", "network", "refused", "mkdir -p TMP/rs30 && rsync -a TMP/rs30/ rsync://127.0.0.1:CLOSED/backup/"),
]


def _prepare(tmp: Path) -> None:
    rust = tmp / "rust30"
    (rust / "src").mkdir(parents=True)
    (rust / "Cargo.toml").write_text('[package]\nname = "svc30"\nversion = "0.1.0"\nedition = "2021"\n')
    (rust / "src" / "main.rs").write_text('fn main() {\n    let retries: u32 = "3";\n    println!("{}", retries);\n}\n')
    (tmp / "cargo-home30").mkdir()
    mvn = tmp / "mvn30"
    mvn.mkdir()
    (mvn / "pom.xml").write_text('<project xmlns="http://maven.apache.org/POM/4.0.0">\n  <modelVersion>4.0.0'
                                 '</modelVersion>\n  <groupId>org.example</groupId>\n  <artifactId>svc30<artifactId>\n'
                                 '  <version>1.0</version>\n</project>\n')


def blind30_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    _prepare(env.tmp)

    def fill(text: str) -> str:
        return text.replace("CLOSED", str(env.closed_port)).replace("TMP", str(env.tmp))

    out = python_records(_sdk_cases(api, env.closed_port))
    time.sleep(0.2)
    out += node_library_records(NODE_LIBS, "node-libs30", env.tmp, fill)
    out += tool_records(TOOLS, "ci30", env.tmp, fill, timeout=180)
    for rec in java_records(env, JAVA, "java-extra30"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra30_")]):
            out.append(rec)
    return out


if __name__ == "__main__":
    write_batch(blind30_records)


__all__ = ["BLIND30_SOURCES", "blind30_records"]
