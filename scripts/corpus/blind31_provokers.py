"""Thirty-first batch of blind provokers, the first of the two batches scored after the last change of round 2
(rules as generalised from batches 27-30, the model trained on batches 1-30) and NOT trained on: with batch 32
they measure the shipped classifier on texts it never saw. Python libraries in wordings not yet in the corpus
(SDK timeouts and refusals from openai, stripe, hvac; SQLAlchemy bind parameters; mysql-connector's pool; asgiref;
boto3's service registry), Node.js client libraries (got, superagent, axios, node-postgres, mysql2, crypto),
Java and coreutils. Only 127.0.0.1."""

from __future__ import annotations

import time

from checked import PyCase, ToolCase, has_token, node_library_records, python_records, tool_records
from cloudapi import cloud_api
from common import Env, Record, write_batch
from runtime_provokers import java_records

BLIND31_SOURCES = frozenset({"sdk31", "db31", "node-libs31", "java-extra31", "shell31"})


def _py_cases(api: str, env: Env) -> list[PyCase]:
    def openai_timeout() -> None:
        import openai

        client = openai.OpenAI(api_key="sk-b31", base_url=f"http://127.0.0.1:{env.hang_port}/v1", max_retries=0,
                               timeout=0.5)
        client.embeddings.create(model="embed-b31", input="hello")

    def stripe_refused() -> None:
        import stripe

        stripe.api_base = f"http://127.0.0.1:{env.closed_port}"
        stripe.max_network_retries = 0
        stripe.PaymentIntent.create(api_key="sk_test_b31", amount=1000, currency="eur")

    def vault_401() -> None:
        import hvac

        hvac.Client(url=f"{api}/gh401", token="s.expired", timeout=3).secrets.kv.v2.read_secret_version(
            path="ci/npm-token", raise_on_deleted_version=True)

    def missing_bind() -> None:
        import sqlalchemy as sa

        engine = sa.create_engine("sqlite://")
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT :tenant_id AS tenant"))

    def mysql_pool() -> None:
        from mysql.connector import pooling

        pool = pooling.MySQLConnectionPool(pool_name="b31", pool_size=1, host="127.0.0.1", port=3306, user="root")
        held = pool.get_connection()
        try:
            pool.get_connection()
        finally:
            held.close()

    def async_to_sync_in_loop() -> None:
        import asyncio

        from asgiref.sync import async_to_sync

        async def fetch_user() -> str:
            return "u"

        async def handler() -> str:
            return str(async_to_sync(fetch_user)())

        asyncio.run(handler())

    def unknown_service() -> None:
        import boto3

        boto3.session.Session(region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b").client(
            "s3-archive-b31")

    def psycopg_too_long() -> None:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test") as conn:
            conn.execute("CREATE TEMP TABLE b31_country (code varchar(2))")
            conn.execute("INSERT INTO b31_country VALUES (%s)", ("DEU",))

    return [
        ("openai_timeout", "network", "sdk31", "APITimeoutError|APIConnectionError", openai_timeout),
        ("stripe_refused", "network", "sdk31", "APIConnectionError|StripeError", stripe_refused),
        ("vault_unauthorized", "auth", "sdk31", "Unauthorized|VaultError", vault_401),
        ("sqlalchemy_missing_bind", "programming", "db31", "StatementError|InvalidRequestError", missing_bind),
        ("mysql_connector_pool_exhausted", "resource", "db31", "PoolError", mysql_pool),
        ("asgiref_async_to_sync_in_loop", "programming", "sdk31", "RuntimeError", async_to_sync_in_loop),
        ("boto3_unknown_service", "programming", "sdk31", "UnknownServiceError", unknown_service),
        ("psycopg_value_too_long", "validation", "db31", "StringDataRightTruncation|DataError", psycopg_too_long),
    ]


NODE_LIBS: list[ToolCase] = [
    ("got_429", "resource", "429", "const got = require('got'); (async () => { "
     "await got.post('API/openai429/v1/chat/completions', { retry: 0, json: { model: 'm' } }); })();"),
    ("superagent_401", "auth", "Unauthorized|401", "const request = require('superagent'); (async () => { "
     "await request.get('API/k8s401/api/v1/pods').set('Authorization', 'Bearer expired'); })();"),
    ("axios_400_body", "validation", "400", "const axios = require('axios'); (async () => { try { "
     "await axios.post('API/stripe400/v1/charges', 'amount=ten'); } catch (e) { "
     "throw new Error(`charge failed: ${e.response.status} ${JSON.stringify(e.response.data)}`); } })();"),
    ("pg_unique", "validation", "duplicate key", "const { Client } = require('pg'); (async () => { "
     "const c = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' }); "
     "await c.connect(); await c.query('CREATE TEMP TABLE b31_user (email text UNIQUE)'); "
     "await c.query(\"INSERT INTO b31_user VALUES ('a@example.org')\"); "
     "await c.query(\"INSERT INTO b31_user VALUES ('a@example.org')\"); })();"),
    ("mysql2_syntax", "programming", "SQL syntax|ER_PARSE_ERROR", "const mysql = require('mysql2/promise'); "
     "(async () => { const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' }); "
     "await c.query('SELECT * FORM mysql.user'); })();"),
    ("node_bad_decrypt", "auth", "bad decrypt|decrypt", "const crypto = require('crypto'); "
     "const key = crypto.randomBytes(32), other = crypto.randomBytes(32), iv = crypto.randomBytes(16); "
     "const c = crypto.createCipheriv('aes-256-cbc', key, iv); "
     "const data = Buffer.concat([c.update('deploy-token'), c.final()]); "
     "const d = crypto.createDecipheriv('aes-256-cbc', other, iv); Buffer.concat([d.update(data), d.final()]);"),
]

JAVA: dict[str, tuple[str, str]] = {
    "aead_tag": ("auth", 'var g = javax.crypto.KeyGenerator.getInstance("AES"); g.init(128); var k1 = g.generateKey();'
                         ' var k2 = g.generateKey(); var iv = new byte[12]; var c = javax.crypto.Cipher.getInstance('
                         '"AES/GCM/NoPadding"); c.init(javax.crypto.Cipher.ENCRYPT_MODE, k1, new javax.crypto.spec.'
                         'GCMParameterSpec(128, iv)); var ct = c.doFinal("token".getBytes()); c.init(javax.crypto.'
                         'Cipher.DECRYPT_MODE, k2, new javax.crypto.spec.GCMParameterSpec(128, iv)); c.doFinal(ct);'),
    "executor_refused": ("network", 'var ex = java.util.concurrent.Executors.newSingleThreadExecutor(); try { '
                                    'ex.submit(() -> new java.net.Socket("127.0.0.1", CLOSED)).get(); } finally { '
                                    'ex.shutdown(); }'),
    "http_429": ("resource", 'var c = java.net.http.HttpClient.newHttpClient(); var r = c.send(java.net.http.'
                             'HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:HTTP/status/429")).build(), '
                             'java.net.http.HttpResponse.BodyHandlers.ofString()); if (r.statusCode() == 429) throw '
                             'new java.io.IOException("quota service refused the request: " + r.statusCode() + " "'
                             ' + r.headers().firstValue("Retry-After").orElse("?"));'),
}
_JAVA_EXPECTED = {"aead_tag": "AEADBadTagException|Tag mismatch", "executor_refused": "ConnectException|refused",
                  "http_429": "429"}

SHELL: list[ToolCase] = [
    ("join_unsorted", "validation", "not in sorted order|sorted",
     "printf 'b 1\\na 2\\n' > TMP/j1 && printf 'a x\\nb y\\n' > TMP/j2 && join --check-order TMP/j1 TMP/j2"),
    ("sort_check_disorder", "validation", "disorder", "printf 'web-2\\nweb-1\\n' | sort -c"),
    ("iconv_ascii", "validation", "cannot convert|illegal|invalid",
     "printf 'caf\\xc3\\xa9\\n' | iconv -f utf-8 -t ascii"),
    ("make_missing_source", "filesystem", "No rule to make target", "mkdir -p TMP/make31 && printf 'build: "
     "src/main.c\\n\\tcc -o app src/main.c\\n' > TMP/make31/Makefile && make -C TMP/make31 build"),
    ("gpg_no_secret_key", "auth", "secret key|decryption failed", "export GNUPGHOME=TMP/gnupg31 && mkdir -p -m 700 "
     "$GNUPGHOME && printf -- '-----BEGIN PGP MESSAGE-----\\n\\nhQEMA8hdYYgNb9Z5AQf/Ye1t7oA4\\n=AAAA\\n-----END PGP "
     "MESSAGE-----\\n' > TMP/secret.asc && gpg --batch --decrypt TMP/secret.asc"),
    ("terraform_state_refused", "network", "refused", "mkdir -p TMP/tf31 && printf 'terraform {\\n  backend \"http\" "
     "{\\n    address = \"http://127.0.0.1:CLOSED/state\"\\n    retry_max = 0\\n  }\\n}\\n' > TMP/tf31/main.tf && "
     "cd TMP/tf31 && terraform init -input=false -no-color"),
]


def blind31_records(env: Env) -> list[Record]:
    api = cloud_api(env)

    def fill(text: str) -> str:
        return text.replace("API", api).replace("CLOSED", str(env.closed_port)).replace("TMP", str(env.tmp))

    out = python_records(_py_cases(api, env))
    time.sleep(0.2)
    out += node_library_records(NODE_LIBS, "node-libs31", env.tmp, fill)
    for rec in java_records(env, JAVA, "java-extra31"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra31_")]):
            out.append(rec)
    out += tool_records(SHELL, "shell31", env.tmp, fill, timeout=120)
    return out


if __name__ == "__main__":
    write_batch(blind31_records)


__all__ = ["BLIND31_SOURCES", "blind31_records"]
