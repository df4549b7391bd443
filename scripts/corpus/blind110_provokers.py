"""Hundred-and-tenth batch of blind provokers: auth, secrets and data-format libraries not seen before, plus pygit2,
each failing for a cause provoked here (blind110_support). passlib (a malformed sha512_crypt hash, a missing
htpasswd file); python-jose (an expired and a forged token, claims passed as a list); pyotp (a secret that is not
base32); google-auth against a loopback token endpoint answering in Google's error format (invalid_grant,
invalid_client, 429, 503, a refused port) and a service-account file missing fields; MSAL (an http authority, an
untrusted certificate, a 503 from OIDC discovery served over TLS); fastavro (an unknown type in a schema, a full
tmpfs); pycapnp (a missing schema file, a truncated packed message, a misspelt field); tomlkit, json5, pyhocon and
python-hcl2 on malformed documents (and tomlkit dumping an arbitrary object); jsonnet (a missing import, a failed
assertion); pygit2 (not a repository, a locked index, a rejected non-fast-forward push, committing an unmerged
index, a refused, a 401 and a 503 remote)."""

from __future__ import annotations

import json
from typing import Any

from blind110_support import Fakes, prepare
from checked import PyCase, python_records
from common import Env, Record, write_batch

BLIND110_SOURCES = frozenset({"passlib110", "jose110", "pyotp110", "googleauth110", "msal110", "fastavro110",
                              "pycapnp110", "tomlkit110", "json5110", "pyhocon110", "hcl2110", "jsonnet110",
                              "pygit2110"})


def _passlib_cases(env: Env, f: Fakes) -> list[PyCase]:
    from passlib.apache import HtpasswdFile
    from passlib.hash import sha512_crypt

    stored = "$6$rounds=656000$Wq1cXbqk$not-a-valid-checksum!!"
    return [
        ("passlib_malformed_hash", "validation", "passlib110", "ValueError",
         lambda: sha512_crypt.verify("s3cret-Autumn", stored)),
        ("passlib_htpasswd_missing", "filesystem", "passlib110", "FileNotFoundError|OSError",
         lambda: HtpasswdFile(str(f.root / "etc" / "nginx" / ".htpasswd-grafana"))),
    ]


def _jose_cases(env: Env, f: Fakes) -> list[PyCase]:
    from jose import jwt

    secret = "hs256-signing-key-billing-2026"
    expired = jwt.encode({"sub": "svc-invoicer", "aud": "billing-api", "exp": 1_700_000_000}, secret)
    forged = jwt.encode({"sub": "svc-invoicer", "aud": "billing-api"}, "leaked-old-key")

    def claims_as_list() -> None:
        jwt.encode([("sub", "svc-invoicer"), ("scope", "invoices:write")], secret)

    return [
        ("jose_expired", "auth", "jose110", "ExpiredSignatureError",
         lambda: jwt.decode(expired, secret, algorithms=["HS256"], audience="billing-api")),
        ("jose_bad_signature", "auth", "jose110", "JWTError",
         lambda: jwt.decode(forged, secret, algorithms=["HS256"], audience="billing-api")),
        ("jose_claims_list", "programming", "jose110", "AttributeError|TypeError", claims_as_list),
    ]


def _pyotp_cases(env: Env, f: Fakes) -> list[PyCase]:
    import pyotp

    return [
        ("pyotp_secret_not_base32", "validation", "pyotp110", "Error|ValueError",
         lambda: pyotp.TOTP("ops-admin-2fa-seed-01!").now()),
    ]


def _google_cases(env: Env, f: Fakes) -> list[PyCase]:
    from google.auth.transport.requests import Request
    from google.oauth2 import credentials, service_account

    def service_account_via(token_uri: str) -> Any:
        def fn() -> None:
            info = {"type": "service_account", "project_id": "acme-billing-prod", "private_key_id": "3f9c0d1e",
                    "private_key": f.rsa_pem, "client_email": "invoicer@acme-billing-prod.iam.gserviceaccount.com",
                    "client_id": "108213440159723448811", "token_uri": token_uri}
            creds = service_account.Credentials.from_service_account_info(
                info, scopes=["https://www.googleapis.com/auth/cloud-platform"])
            creds.refresh(Request())
        return fn

    def user_refresh(token_uri: str) -> Any:
        def fn() -> None:
            creds = credentials.Credentials(None, refresh_token="1//0gLq-refresh-token-ci-runner",
                                            token_uri=token_uri, client_id="4481-ci.apps.googleusercontent.com",
                                            client_secret="GOCSPX-ci-runner-secret")
            creds.refresh(Request())
        return fn

    def missing_fields() -> None:
        path = f.root / "secrets" / "gcp-invoicer.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"type": "service_account", "project_id": "acme-billing-prod",
                                    "private_key_id": "3f9c0d1e", "private_key": f.rsa_pem}))
        service_account.Credentials.from_service_account_file(str(path))

    return [
        ("google_invalid_grant", "auth", "googleauth110", "RefreshError",
         service_account_via(f"{f.oauth}/sa-key-revoked/token")),
        ("google_invalid_client", "auth", "googleauth110", "RefreshError",
         user_refresh(f"{f.oauth}/client-deleted/token")),
        ("google_token_503", "service", "googleauth110", "RefreshError|TransportError",
         service_account_via(f"{f.oauth}/maintenance/token")),
        ("google_token_quota", "resource", "googleauth110", "RefreshError",
         user_refresh(f"{f.oauth}/quota/token")),
        ("google_token_refused", "network", "googleauth110", "TransportError",
         service_account_via(f"http://127.0.0.1:{env.closed_port}/token")),
        ("google_sa_missing_fields", "validation", "googleauth110", "ValueError|MalformedError", missing_fields),
    ]


def _msal_cases(env: Env, f: Fakes) -> list[PyCase]:
    import msal
    import requests

    def app(authority: str, cafile: str | None = None) -> Any:
        def fn() -> None:
            session = requests.Session()
            session.trust_env = False  # the CA bundle of the environment would override ours
            if cafile:
                session.verify = cafile
            msal.ConfidentialClientApplication("6f1d2c4b-invoicer", client_credential="entra-client-secret",
                                               authority=authority, http_client=session, instance_discovery=False,
                                               timeout=5)
        return fn

    return [
        ("msal_http_authority", "validation", "msal110", "ValueError",
         app("http://login.microsoftonline.com/contoso.onmicrosoft.com")),
        ("msal_untrusted_certificate", "network", "msal110", "SSLError", app(f"{f.untrusted}/contoso-prod")),
        ("msal_discovery_503", "service", "msal110", "MsalServiceError|HTTPError", app(f"{f.entra}/contoso-maintenance",
                                                                       str(f.cafile))),
    ]


def _fastavro_cases(env: Env, f: Fakes) -> list[PyCase]:
    import fastavro

    schema = {"type": "record", "name": "Invoice", "namespace": "com.acme.billing",
              "fields": [{"name": "invoice_id", "type": "string"}, {"name": "amount_cents", "type": "long"},
                         {"name": "currency", "type": "string"}]}

    def bad_schema() -> None:
        fastavro.parse_schema({"type": "record", "name": "Payment",
                               "fields": [{"name": "paid_at", "type": "timestamp"}]})

    def full_disk() -> None:
        rows = ({"invoice_id": f"INV-2026-{i:06d}", "amount_cents": i * 7, "currency": "EUR"} for i in range(20000))
        with open(f.full / "invoices-2026-12.avro", "wb") as out:
            fastavro.writer(out, fastavro.parse_schema(schema), rows, codec="null")

    return [
        ("fastavro_unknown_type", "validation", "fastavro110", "SchemaParseException|UnknownType|ValueError",
         bad_schema),
        ("fastavro_full_disk", "resource", "fastavro110", "OSError", full_disk),
    ]


def _capnp_cases(env: Env, f: Fakes) -> list[PyCase]:
    import capnp

    path = f.root / "schema" / "telemetry.capnp"
    path.parent.mkdir(exist_ok=True)
    path.write_text("@0xbf5147cbbecf40c1;\nstruct Reading {\n  sensorId @0 :Text;\n  value @1 :Float64;\n"
                    "  takenAt @2 :UInt64;\n}\n")
    telemetry = capnp.load(str(path))

    def truncated_packed() -> None:
        frame = telemetry.Reading.new_message(sensorId="boiler-3/inlet", value=71.5).to_bytes_packed()
        with telemetry.Reading.from_bytes_packed(frame[: len(frame) // 2]) as reading:
            print(reading.sensorId)

    return [
        ("capnp_schema_missing", "filesystem", "pycapnp110", "KjException|FileNotFoundError|OSError",
         lambda: capnp.load(str(f.root / "schema" / "billing" / "invoice.capnp"))),
        ("capnp_truncated_packed", "validation", "pycapnp110", "KjException", truncated_packed),
        ("capnp_unknown_field", "programming", "pycapnp110", "AttributeError|KjException",
         lambda: telemetry.Reading.new_message(sensorID="boiler-3/inlet", value=71.5)),
    ]


def _document_cases(env: Env, f: Fakes) -> list[PyCase]:
    import hcl2
    import json5
    import tomlkit
    from pyhocon import ConfigFactory

    pyproject = '[tool.poetry]\nname = "billing-api"\nversion = 0.4.1\n'
    hocon_sub = 'akka {\n  remote.artery.canonical.port = ${?ARTERY_PORT}\n  cluster.seed-nodes = ${SEED_NODES}\n}\n'
    tf = ('resource "aws_s3_bucket" "invoices" {\n  bucket = "acme-invoices-prod"\n  tags = {\n'
          '    Team = "payments"\n}\n')
    tsconfig = '{\n  // build settings\n  "compilerOptions": {\n    "target": "es2022",\n    "strict": true,,\n  }\n}\n'

    def toml_custom_object() -> None:
        doc = tomlkit.document()
        doc["deploy"] = {"started": object()}
        tomlkit.dumps(doc)

    return [
        ("tomlkit_bare_version", "validation", "tomlkit110", "ParseError|TOMLKitError",
         lambda: tomlkit.parse(pyproject)),
        ("tomlkit_dump_object", "programming", "tomlkit110", "ConvertError|TypeError|ValueError", toml_custom_object),
        ("json5_double_comma", "validation", "json5110", "ValueError", lambda: json5.loads(tsconfig)),
        ("pyhocon_unresolved", "validation", "pyhocon110", "ConfigSubstitutionException|ConfigException",
         lambda: ConfigFactory.parse_string(hocon_sub)),
        ("hcl2_unclosed_block", "validation", "hcl2110", "UnexpectedToken|UnexpectedInput|UnexpectedEOF|LarkError",
         lambda: hcl2.loads(tf)),
    ]


def _jsonnet_cases(env: Env, f: Fakes) -> list[PyCase]:
    import _jsonnet

    def evaluate(name: str, text: str, **kw: Any) -> Any:
        def fn() -> None:
            path = f.root / "deploy" / "jsonnet" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            _jsonnet.evaluate_file(str(path), **kw)
        return fn

    missing_import = 'local k = import "vendor/k8s-libsonnet/1.29/main.libsonnet";\n{ deployment: k.apps.v1 }\n'
    assertion = ('local replicas = "three";\n{\n  assert std.isNumber(replicas) : "replicas must be a number, got "'
                 ' + std.type(replicas),\n  spec: { replicas: replicas },\n}\n')
    return [
        ("jsonnet_missing_import", "filesystem", "jsonnet110", "RuntimeError",
         evaluate("billing-api.jsonnet", missing_import)),
        ("jsonnet_assertion", "validation", "jsonnet110", "RuntimeError", evaluate("replicas.jsonnet", assertion)),
    ]


def _pygit2_cases(env: Env, f: Fakes) -> list[PyCase]:
    import pygit2

    def repo() -> pygit2.Repository:
        return pygit2.Repository(str(f.work))

    def index_locked() -> None:
        r = repo()
        (f.work / ".git" / "index.lock").write_text("")
        try:
            (f.work / "CHANGELOG.md").write_text("## 0.4.2\n- retry invoice delivery\n")
            r.index.add("CHANGELOG.md")
            r.index.write()
        finally:
            (f.work / ".git" / "index.lock").unlink()

    def push_non_ff() -> None:
        repo().remotes["origin"].push(["refs/heads/main:refs/heads/main"])

    def push_to(url: str, name: str) -> Any:
        def fn() -> None:
            r = repo()
            remote = r.remotes.create(name, url)
            remote.push(["refs/heads/main:refs/heads/main"])
        return fn

    def fetch_from(url: str, name: str) -> Any:
        def fn() -> None:
            repo().remotes.create(name, url).fetch()
        return fn

    def merge_conflict() -> None:
        r = repo()
        r.merge(r.branches.local["feature/invoice-retries"].target)
        try:
            tree = r.index.write_tree()
            sig = pygit2.Signature("CI Bot", "ci@acme.example")
            r.create_commit("HEAD", sig, sig, "Merge feature/invoice-retries", tree, [r.head.target])
        finally:
            r.state_cleanup()
            r.checkout_head(strategy=pygit2.enums.CheckoutStrategy.FORCE)

    return [
        ("pygit2_not_a_repository", "git", "pygit2110", "GitError", lambda: pygit2.Repository(str(f.plain_dir))),
        ("pygit2_index_locked", "git", "pygit2110", "GitError", index_locked),
        ("pygit2_push_non_fast_forward", "git", "pygit2110", "GitError", push_non_ff),
        ("pygit2_merge_conflict_commit", "git", "pygit2110", "GitError", merge_conflict),
        ("pygit2_push_refused", "network", "pygit2110", "GitError",
         push_to(f"http://127.0.0.1:{env.closed_port}/platform/billing-api.git", "mirror")),
        ("pygit2_fetch_401", "auth", "pygit2110", "GitError",
         fetch_from(f"{env.url(401)}/platform/billing-api.git", "gitea")),
        ("pygit2_fetch_503", "service", "pygit2110", "GitError",
         fetch_from(f"{env.url(503)}/platform/billing-api.git", "gitlab")),
    ]


def blind110_records(env: Env) -> list[Record]:
    f = prepare(env)
    cases: list[PyCase] = []
    for make in (_passlib_cases, _jose_cases, _pyotp_cases, _google_cases, _msal_cases, _fastavro_cases,
                 _capnp_cases, _document_cases, _jsonnet_cases, _pygit2_cases):
        cases += make(env, f)
    return python_records(cases)


if __name__ == "__main__":
    write_batch(blind110_records)


__all__ = ["BLIND110_SOURCES", "blind110_records"]
