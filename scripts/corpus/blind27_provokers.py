"""Twenty-seventh batch of blind provokers, the first of round 2 (written after batch 26 had been scored; rules as
generalised from batches 18-22, the shipped model trained on batches 1-24). Weighted to what automation meets:
hosted-API error bodies on loopback (GitHub-, Google-, S3-, Stripe-, FastAPI- and Kubernetes-style) read by
SDK-style client code, kubectl and cargo against a registry or API server that refuses (Maven and a kubectl 503 were
dropped before scoring: their output lacked the provoked status), Node.js client
libraries (axios, node-postgres, ioredis, mysql2, amqplib), ORMs and migrations (peewee, SQLAlchemy ORM,
alembic), task queues (rq, dramatiq), shell pipelines, yq, Java. Only 127.0.0.1.

Node.js libraries come from `npm install --prefix /tmp/recoup-corpus-node axios@1 pg@8 ioredis@5 mysql2@3
amqplib@0` (done once; the batch skips those cases when missing)."""

from __future__ import annotations

import time
from pathlib import Path

from checked import PyCase, ToolCase, has_token, node_library_records, python_records, tool_records
from cloudapi import cloud_api
from common import Env, Record, write_batch
from runtime_provokers import java_records
from servers import private_postgres, private_redis

BLIND27_SOURCES = frozenset({"cloud-sdk27", "orm27", "queue27", "node-libs27", "kubectl27", "ci27", "shell27",
                             "java-extra27"})
_PW = "right-password"


class _ApiError(Exception):
    """What an SDK-style client raises from a provider's error body (module set to look like a client package)."""


_ApiError.__module__ = "deployctl.client"
_ApiError.__qualname__ = "ApiError"


class _ClientError(Exception):
    pass


_ClientError.__module__ = "objstore.exceptions"
_ClientError.__qualname__ = "ClientError"


class _InvalidRequestError(Exception):
    pass


_InvalidRequestError.__module__ = "payments.error"
_InvalidRequestError.__qualname__ = "InvalidRequestError"


def _cloud_cases(api: str) -> list[PyCase]:
    import requests

    def github_401() -> None:
        resp = requests.get(f"{api}/gh401/repos/acme/app/actions/runs", headers={"Authorization": "token expired"},
                            timeout=3)
        if not resp.ok:
            raise _ApiError(f"{resp.status_code}: {resp.json()['message']}")

    def google_style(name: str) -> None:
        resp = requests.get(f"{api}/{name}/v1/projects/acme/instances", timeout=3)
        if not resp.ok:
            err = resp.json()["error"]
            raise _ApiError(f"{err['status']}: {err['message']}")

    def s3_style(name: str, operation: str) -> None:
        import xml.etree.ElementTree as ET

        resp = requests.put(f"{api}/{name}/bucket/key.bin", data=b"x", timeout=3)
        if not resp.ok:
            root = ET.fromstring(resp.text)
            raise _ClientError(f"An error occurred ({root.findtext('Code')}) when calling the {operation} "
                               f"operation: {root.findtext('Message')}")

    def stripe_400() -> None:
        resp = requests.post(f"{api}/stripe400/v1/charges", data={"amount": "ten"}, timeout=3)
        if not resp.ok:
            raise _InvalidRequestError(resp.json()["error"]["message"])

    def fastapi_422() -> None:
        resp = requests.get(f"{api}/fastapi422/items", params={"limit": "ten"}, timeout=3)
        if resp.status_code == 422:
            raise ValueError(f"API rejected the request: {resp.json()['detail']}")

    def nginx_502() -> None:
        import httpx

        resp = httpx.post(f"{api}/nginx502/deploy", json={"ref": "main"}, timeout=3)
        if resp.is_error:
            raise RuntimeError(f"deploy failed: {resp.status_code} {resp.text[:200]}")

    return [
        ("sdk_github_401", "auth", "cloud-sdk27", "Exception", github_401),
        ("sdk_google_403", "auth", "cloud-sdk27", "Exception", lambda: google_style("gcp403")),
        ("sdk_google_429", "resource", "cloud-sdk27", "Exception", lambda: google_style("gcp429")),
        ("sdk_google_503", "service", "cloud-sdk27", "Exception", lambda: google_style("gcp503")),
        ("sdk_s3_slowdown", "resource", "cloud-sdk27", "Exception", lambda: s3_style("s3slow", "PutObject")),
        ("sdk_s3_denied", "auth", "cloud-sdk27", "Exception", lambda: s3_style("s3denied", "GetObject")),
        ("sdk_stripe_400", "validation", "cloud-sdk27", "Exception", stripe_400),
        ("sdk_fastapi_422", "validation", "cloud-sdk27", "ValueError", fastapi_422),
        ("sdk_nginx_502", "service", "cloud-sdk27", "RuntimeError", nginx_502),
    ]


def _orm_cases(env: Env) -> list[PyCase]:
    def peewee_duplicate() -> None:
        import peewee

        db = peewee.PostgresqlDatabase("test", user="postgres", host="127.0.0.1", port=5432)

        class Account(peewee.Model):
            email = peewee.CharField(unique=True)

            class Meta:
                database = db
                table_name = "blind27_account"

        db.connect()
        try:
            db.drop_tables([Account])
            db.create_tables([Account])
            Account.create(email="ops@example.org")
            Account.create(email="ops@example.org")
        finally:
            db.drop_tables([Account])
            db.close()

    def peewee_refused() -> None:
        import peewee

        peewee.PostgresqlDatabase("test", user="postgres", host="127.0.0.1", port=env.closed_port).connect()

    def peewee_no_database() -> None:
        import peewee

        peewee.PostgresqlDatabase("billing_blind27", user="postgres", host="127.0.0.1", port=5432).connect()

    def sa_detached() -> None:
        from sqlalchemy import Column, ForeignKey, Integer, create_engine
        from sqlalchemy.orm import Session, declarative_base, relationship

        base = declarative_base()

        class Team(base):  # type: ignore[valid-type,misc]
            __tablename__ = "team"
            id = Column(Integer, primary_key=True)
            members = relationship("Member")

        class Member(base):  # type: ignore[valid-type,misc]
            __tablename__ = "member"
            id = Column(Integer, primary_key=True)
            team_id = Column(Integer, ForeignKey("team.id"))

        engine = create_engine("sqlite://")
        base.metadata.create_all(engine)
        with Session(engine) as s:
            s.add(Team(id=1))
            s.commit()
            team = s.get(Team, 1)
        print(len(team.members))

    def sa_no_primary_key() -> None:
        from sqlalchemy import Column, Integer, String, Table
        from sqlalchemy.orm import registry

        reg = registry()
        table = Table("audit_log", reg.metadata, Column("at", Integer), Column("what", String))

        class AuditLog:
            pass

        reg.map_imperatively(AuditLog, table)

    def alembic_refused() -> None:
        from alembic import command
        from alembic.config import Config

        root = env.tmp / "migrations27"
        cfg = Config(str(env.tmp / "alembic27.ini"))
        command.init(cfg, str(root), template="generic")
        cfg = Config(str(env.tmp / "alembic27.ini"))
        cfg.set_main_option("sqlalchemy.url", f"postgresql+psycopg://app:pw@127.0.0.1:{env.closed_port}/app")
        command.upgrade(cfg, "head")

    return [
        ("peewee_duplicate", "validation", "orm27", "IntegrityError", peewee_duplicate),
        ("peewee_refused", "network", "orm27", "OperationalError", peewee_refused),
        ("peewee_no_database", "validation", "orm27", "OperationalError", peewee_no_database),
        ("sqlalchemy_detached", "programming", "orm27", "DetachedInstanceError", sa_detached),
        ("sqlalchemy_no_primary_key", "programming", "orm27", "ArgumentError", sa_no_primary_key),
        ("alembic_refused", "network", "orm27", "OperationalError", alembic_refused),
    ]


def _queue_cases(redis_port: int) -> list[PyCase]:
    def rq_wrong_password() -> None:
        import redis
        from rq import Queue

        conn = redis.Redis(host="127.0.0.1", port=redis_port, password="wrong-password")
        Queue("reports", connection=conn).enqueue("reports.build", 7)

    def dramatiq_wrong_password() -> None:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url="amqp://guest:wrong-password@127.0.0.1:5672/%2F")
        broker.declare_queue("reports27")
        broker.channel.queue_declare(queue="reports27", durable=True)

    def dramatiq_rate_limited() -> None:
        from dramatiq.rate_limits import WindowRateLimiter
        from dramatiq.rate_limits.backends import RedisBackend

        backend = RedisBackend(url=f"redis://:{_PW}@127.0.0.1:{redis_port}/0")
        limiter = WindowRateLimiter(backend, "send-invoice-27", limit=1, window=60)
        for _ in range(2):
            with limiter.acquire():
                pass

    return [
        ("rq_wrong_password", "auth", "queue27", "AuthenticationError", rq_wrong_password),
        ("dramatiq_wrong_password", "auth", "queue27",
         "AMQPConnectionError|ProbableAuthenticationError|ConnectionClosed|ConnectionError", dramatiq_wrong_password),
        ("dramatiq_rate_limited", "resource", "queue27", "RateLimitExceeded", dramatiq_rate_limited),
    ]


#: name, category, token, CommonJS script (an unhandled rejection ends node with the library's error)
NODE: list[ToolCase] = [
    ("axios_503", "service", "503", "const axios = require('axios'); (async () => { "
     "await axios.get('API/gcp503/v1/instances'); })();"),
    ("axios_401", "auth", "401", "const axios = require('axios'); (async () => { "
     "await axios.get('API/gh401/user', { headers: { Authorization: 'token expired' } }); })();"),
    ("axios_429", "resource", "429", "const axios = require('axios'); (async () => { "
     "await axios.get('API/gcp429/v1/objects'); })();"),
    ("axios_refused", "network", "ECONNREFUSED", "const axios = require('axios'); (async () => { "
     "await axios.get('http://127.0.0.1:CLOSED/health'); })();"),
    ("axios_timeout", "network", "timeout", "const axios = require('axios'); (async () => { "
     "await axios.get('http://127.0.0.1:HANG/slow', { timeout: 500 }); })();"),
    ("pg_wrong_password", "auth", "password", "const { Client } = require('pg'); (async () => { "
     "const c = new Client({ host: '127.0.0.1', port: PGPORT, user: 'app', password: 'wrong', database: 'postgres' });"
     " await c.connect(); })();"),
    ("pg_no_database", "validation", "does not exist", "const { Client } = require('pg'); (async () => { "
     "const c = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'orders_blind27' }); "
     "await c.connect(); })();"),
    ("pg_too_many_clients", "resource", "too many|remaining connection", "const { Client } = require('pg'); "
     "(async () => { const held = []; for (let i = 0; i < 5; i++) { const c = new Client({ host: '127.0.0.1', "
     "port: PGPORT, user: 'app', password: 'right-password', database: 'postgres' }); await c.connect(); "
     "held.push(c); } })();"),
    ("ioredis_wrong_password", "auth", "WRONGPASS|invalid", "const Redis = require('ioredis'); (async () => { "
     "const r = new Redis({ host: '127.0.0.1', port: REDISPORT, password: 'wrong-password', lazyConnect: true, "
     "retryStrategy: () => null, maxRetriesPerRequest: 0 }); await r.connect(); await r.get('k'); })();"),
    ("mysql2_access_denied", "auth", "Access denied", "const mysql = require('mysql2/promise'); (async () => { "
     "await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'deploy_blind27', password: 'nope' }); "
     "})();"),
    ("amqplib_wrong_password", "auth", "ACCESS_REFUSED|403", "const amqp = require('amqplib'); (async () => { "
     "await amqp.connect('amqp://guest:wrong-password@127.0.0.1:5672'); })();"),
]

_KUBECONFIG_BAD = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: local\n" \
                  "contexts: [\n  - context: {cluster: local}\n"

TOOLS: list[ToolCase] = [
    ("kubectl_401", "auth", "Unauthorized|logged in", "kubectl --server=API/k8s401 --token=expired get pods"),
    ("kubectl_403", "auth", "forbidden", "kubectl --server=API/k8s403 get pods"),
    ("kubectl_refused", "network", "refused", "kubectl --server=http://127.0.0.1:CLOSED get pods"),
    ("kubectl_bad_kubeconfig", "validation", "yaml|error loading", "kubectl --kubeconfig=TMP/kubeconfig-bad get pods"),
    ("cargo_registry_503", "service", "503", "cd TMP/cargo503 && CARGO_NET_RETRY=0 CARGO_HOME=TMP/cargo-home "
     "cargo fetch"),
    ("cargo_registry_401", "auth", "401", "cd TMP/cargo401 && CARGO_NET_RETRY=0 CARGO_HOME=TMP/cargo-home "
     "cargo fetch"),
    ("curl_fail_with_body_401", "auth", "401", "curl -sS --fail-with-body -H 'Authorization: Bearer x' "
     "API/gh401/user"),
    ("pipeline_curl_jq_503", "service", "503", "set -o pipefail; curl -sSf API/gcp503/v1/status | jq -r .state"),
    ("bash_dev_tcp_refused", "network", "refused", "exec 3<>/dev/tcp/127.0.0.1/CLOSED"),
    ("pipeline_cat_missing", "filesystem", "No such file", "set -euo pipefail; cat TMP/logs27/app.log | sort | "
     "uniq -c"),
    ("yq_bad_yaml", "validation", "yaml|error", "printf 'services:\\n  web:\\n    image: nginx\\n   ports: [80\\n' "
     "> TMP/compose27.yaml && yq '.services.web.image' TMP/compose27.yaml"),
]

JAVA: dict[str, tuple[str, str]] = {
    "http_timeout": ("network", 'var c = java.net.http.HttpClient.newHttpClient(); c.send(java.net.http.HttpRequest'
                                '.newBuilder(java.net.URI.create("http://127.0.0.1:HANG/slow")).timeout(java.time.'
                                'Duration.ofMillis(500)).build(), java.net.http.HttpResponse.BodyHandlers'
                                '.ofString());'),
    "date_parse": ("validation", 'java.time.LocalDate.parse("2026-13-45");'),
    "zip_garbage": ("validation", 'var f = java.nio.file.Files.createTempFile("b27", ".zip"); java.nio.file.Files.'
                                  'writeString(f, "not a zip archive"); new java.util.zip.ZipFile(f.toFile());'),
    "read_missing": ("filesystem", 'java.nio.file.Files.readString(java.nio.file.Path.of("/srv/blind27/app.yml"));'),
}
_JAVA_EXPECTED = {"http_timeout": "HttpTimeoutException", "date_parse": "DateTimeParseException",
                  "zip_garbage": "ZipException", "read_missing": "NoSuchFileException"}


def _prepare_ci(tmp: Path, api: str) -> None:
    (tmp / "kubeconfig-bad").write_text(_KUBECONFIG_BAD)
    (tmp / "cargo-home").mkdir()
    for name, answer in (("cargo503", "reg503"), ("cargo401", "reg401")):
        d = tmp / name
        (d / "src").mkdir(parents=True)
        (d / "src" / "main.rs").write_text("fn main() {}\n")
        (d / "Cargo.toml").write_text(f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n\n'
                                      '[dependencies]\nserde = { version = "1", registry = "corp" }\n')
        (d / ".cargo").mkdir()
        (d / ".cargo" / "config.toml").write_text(f'[registries.corp]\nindex = "sparse+{api}/{answer}/index/"\n')


def blind27_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    pg = private_postgres(env, max_connections=4, reserved=1)
    redis_port = private_redis(env, "--requirepass", _PW)
    _prepare_ci(env.tmp, api)

    def fill(text: str) -> str:
        return (text.replace("API", api).replace("CLOSED", str(env.closed_port)).replace("HANG", str(env.hang_port))
                .replace("PGPORT", str(pg.port)).replace("REDISPORT", str(redis_port)).replace("TMP", str(env.tmp)))

    out = python_records(_cloud_cases(api) + _orm_cases(env) + _queue_cases(redis_port))
    time.sleep(0.2)
    out += node_library_records(NODE, "node-libs27", env.tmp, fill)
    kube = [c for c in TOOLS if c[0].startswith("kubectl")]
    ci = [c for c in TOOLS if c[0].startswith(("cargo", "mvn"))]
    shell = [c for c in TOOLS if c not in kube and c not in ci]
    out += tool_records(kube, "kubectl27", env.tmp, fill, timeout=60)
    out += tool_records(ci, "ci27", env.tmp, fill, timeout=180)
    out += tool_records(shell, "shell27", env.tmp, fill)
    for rec in java_records(env, JAVA, "java-extra27"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra27_")]):
            out.append(rec)
    return out


if __name__ == "__main__":
    write_batch(blind27_records)


__all__ = ["BLIND27_SOURCES", "blind27_records"]
