"""Twenty-ninth batch of blind provokers (round 3), written after batch 28 had been scored and folded in: rules
as generalised from it (builtins misused by the calling code, S3-style throttling bodies, "endpoint requires
auth", checksum mismatches, `re.error`), the model retrained on batches 1-28. New sources: boto3/botocore against
an S3-style endpoint on loopback (throttling, denial, a plain 500, no credentials, a closed port), the Django ORM
(sqlite and PostgreSQL), Node.js got and superagent and fetch with the usual `res.ok` check, kubectl timing out,
cmake, a git server hook declining a push, Java TLS against plain HTTP and a full disk, and stdlib errors on the
validation/programming line. Only 127.0.0.1.

Needs boto3 and Django in the venv and `npm install --prefix /tmp/recoup-corpus-node got@11 superagent@8`."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from checked import PyCase, ToolCase, has_token, node_library_records, python_records, tool_records
from cloudapi import cloud_api
from common import Env, Record, git_env, run, write_batch
from runtime_provokers import java_records
from servers import mount_tmpfs

BLIND29_SOURCES = frozenset({"boto3-29", "django29", "stdlib29", "node-libs29", "ci29", "git29", "java-extra29"})
_GIT_ENV = git_env("blind29")


def _boto_cases(api: str, closed: int) -> list[PyCase]:
    def s3(endpoint: str, credentials: bool = True) -> Any:
        import boto3
        from botocore.config import Config

        keys = {"aws_access_key_id": "AKIDEXAMPLE29", "aws_secret_access_key": "secret29"} if credentials else {}
        return boto3.session.Session(region_name="us-east-1", **keys).client(
            "s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                                       connect_timeout=2, read_timeout=3))

    def no_credentials() -> None:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            os.environ.pop(name, None)
        os.environ.update({"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent-b29/credentials",
                           "AWS_CONFIG_FILE": "/nonexistent-b29/config", "AWS_EC2_METADATA_DISABLED": "true"})
        s3(f"{api}/s3denied", credentials=False).list_objects_v2(Bucket="reports")

    return [
        ("boto3_slowdown", "resource", "boto3-29", "ClientError",
         lambda: s3(f"{api}/s3slow").get_object(Bucket="reports", Key="2026/11/summary.csv")),
        ("boto3_access_denied", "auth", "boto3-29", "ClientError",
         lambda: s3(f"{api}/s3denied").list_objects_v2(Bucket="reports")),
        ("boto3_internal_500", "service", "boto3-29", "ClientError",
         lambda: s3(f"{api}/plain500").head_bucket(Bucket="reports")),
        ("boto3_no_credentials", "auth", "boto3-29", "NoCredentialsError", no_credentials),
        ("boto3_refused", "network", "boto3-29", "EndpointConnectionError",
         lambda: s3(f"http://127.0.0.1:{closed}").list_buckets()),
    ]


_DJANGO: dict[str, Any] = {}


def _django_models() -> dict[str, Any]:
    """Configure Django once (sqlite in memory plus a PostgreSQL alias on a closed port) and create one model."""
    if _DJANGO:
        return _DJANGO
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
                   "pg": {"ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1", "PORT": _DJANGO_PG_PORT[0],
                          "NAME": "app", "USER": "app", "PASSWORD": "pw", "CONN_MAX_AGE": 0}},
        INSTALLED_APPS=[], USE_TZ=True)
    django.setup()
    from django.db import connection, models

    class Customer(models.Model):
        email = models.EmailField(unique=True)
        name = models.CharField(max_length=40)

        class Meta:
            app_label = "billing"

    with connection.schema_editor() as editor:
        editor.create_model(Customer)
    _DJANGO["Customer"] = Customer
    return _DJANGO


_DJANGO_PG_PORT: list[int] = [0]


def _django_cases(closed: int) -> list[PyCase]:
    _DJANGO_PG_PORT[0] = closed

    def unique() -> None:
        customer = _django_models()["Customer"]
        customer.objects.create(email="ops@example.org", name="Ops")
        customer.objects.create(email="ops@example.org", name="Ops again")

    def field_error() -> None:
        customer = _django_models()["Customer"]
        list(customer.objects.filter(nmae="Ops"))

    def full_clean() -> None:
        customer = _django_models()["Customer"]
        customer(email="not-an-address", name="X").full_clean()

    def refused() -> None:
        _django_models()
        from django.db import connections

        connections["pg"].ensure_connection()

    def async_context() -> None:
        import asyncio

        customer = _django_models()["Customer"]

        async def handler() -> int:
            return int(customer.objects.count())

        asyncio.run(handler())

    return [
        ("django_unique", "validation", "django29", "IntegrityError", unique),
        ("django_field_error", "programming", "django29", "FieldError", field_error),
        ("django_full_clean", "validation", "django29", "ValidationError", full_clean),
        ("django_pg_refused", "network", "django29", "OperationalError", refused),
        ("django_async_context", "programming", "django29", "SynchronousOnlyOperation", async_context),
    ]


def _stdlib_cases() -> list[PyCase]:
    def choice_empty() -> None:
        import random

        random.choice([])

    def percent_format() -> None:
        print("retry %d of %d" % ("2", 5))  # noqa: UP031 (the defect we provoke)

    def struct_short() -> None:
        import struct

        struct.unpack("<IH", b"\x01\x00\x00")

    def duplicate_option() -> None:
        import configparser

        configparser.ConfigParser().read_string("[server]\nport = 80\nport = 8080\n")

    def fraction() -> None:
        import fractions

        fractions.Fraction("3/x")

    def reduce_empty() -> None:
        import functools
        import operator

        functools.reduce(operator.add, [])

    def plist() -> None:
        import plistlib

        plistlib.loads(b"<plist><dict><key>a</key></plist>")

    def replace_field() -> None:
        import dataclasses

        @dataclasses.dataclass
        class Endpoint:
            host: str
            port: int

        dataclasses.replace(Endpoint("db", 5432), hostname="db2")

    return [
        ("random_choice_empty", "programming", "stdlib29", "IndexError", choice_empty),
        ("percent_format_str", "programming", "stdlib29", "TypeError", percent_format),
        ("struct_short_buffer", "validation", "stdlib29", "error", struct_short),
        ("configparser_duplicate", "validation", "stdlib29", "DuplicateOptionError", duplicate_option),
        ("fraction_literal", "validation", "stdlib29", "ValueError", fraction),
        ("reduce_empty", "programming", "stdlib29", "TypeError", reduce_empty),
        ("plist_bad", "validation", "stdlib29", "InvalidFileException|ExpatError|ParseError|ValueError", plist),
        ("dataclass_replace_unknown", "programming", "stdlib29", "TypeError", replace_field),
    ]


NODE_LIBS: list[ToolCase] = [
    ("got_503", "service", "503", "const got = require('got'); (async () => { "
     "await got('API/gcp503/v1/instances', { retry: 0 }); })();"),
    ("got_401", "auth", "401", "const got = require('got'); (async () => { "
     "await got('API/gh401/user', { retry: 0, headers: { authorization: 'token expired' } }); })();"),
    ("got_timeout", "network", "Timeout", "const got = require('got'); (async () => { "
     "await got('http://127.0.0.1:HANG/slow', { retry: 0, timeout: 500 }); })();"),
    ("superagent_429", "resource", "Too Many Requests|429", "const request = require('superagent'); (async () => { "
     "await request.get('API/gcp429/v1/objects'); })();"),
    ("superagent_502", "service", "Bad Gateway|502", "const request = require('superagent'); (async () => { "
     "await request.post('API/nginx502/deploy').send({ ref: 'main' }); })();"),
    ("superagent_refused", "network", "ECONNREFUSED", "const request = require('superagent'); (async () => { "
     "await request.get('http://127.0.0.1:CLOSED/health'); })();"),
    ("fetch_ok_check_403", "auth", "403", "(async () => { const res = await fetch('API/gcp403/v1/instances'); "
     "if (!res.ok) throw new Error(`GET /v1/instances failed: ${res.status} ${await res.text()}`); })();"),
    ("fetch_ok_check_422", "validation", "422", "(async () => { const res = await fetch("
     "'API/fastapi422/items?limit=ten'); if (!res.ok) throw new Error("
     "`listing items failed (${res.status}): ${await res.text()}`); })();"),
]

TOOLS: list[ToolCase] = [
    ("kubectl_timeout", "network", "timeout|deadline|awaiting headers|Unable to connect",
     "kubectl --server=http://127.0.0.1:HANG --request-timeout=1s get pods"),
    ("cmake_no_lists", "filesystem", "CMakeLists.txt", "mkdir -p TMP/cmake29-empty && cmake -S TMP/cmake29-empty "
     "-B TMP/cmake29-build-a"),
    ("cmake_parse_error", "programming", "Parse error|parse", "mkdir -p TMP/cmake29 && printf 'cmake_minimum_required("
     "VERSION 3.10)\\nproject(svc29 C\\nadd_executable(svc main.c)\\n' > TMP/cmake29/CMakeLists.txt && "
     "cmake -S TMP/cmake29 -B TMP/cmake29-build-b"),
]

GIT: list[ToolCase] = [
    ("git_push_hook_declined", "git", "hook declined|declined", "git push -q origin main"),
]

JAVA: dict[str, tuple[str, str]] = {
    "tls_plain": ("network", 'var u = new java.net.URL("https://127.0.0.1:HTTP/status/200"); var c = (javax.net.ssl.'
                             'HttpsURLConnection) u.openConnection(); c.getResponseCode();'),
    "disk_full": ("resource", 'try (var out = new java.io.FileOutputStream("DISK/report.bin")) { byte[] b = new '
                              'byte[65536]; for (int i = 0; i < 64; i++) out.write(b); }'),
}
_JAVA_EXPECTED = {"tls_plain": "SSL", "disk_full": "space"}


def _git_server(tmp: Path) -> Path:
    """A bare repository whose pre-receive hook declines every push, and a clone of it with one commit."""
    bare = tmp / "server29.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], env=_GIT_ENV)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: pushes to main must go through a merge request' >&2\nexit 1\n")
    hook.chmod(0o755)
    work = tmp / "work29"
    run(["git", "clone", "-q", str(bare), str(work)], env=_GIT_ENV)
    run(["bash", "-c", "git checkout -q -b main && echo a > a.txt && git add a.txt && git commit -q -m one"], cwd=work,
        env=_GIT_ENV)
    return work


def blind29_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    disk = mount_tmpfs(env, "disk29", "size=256k")

    def fill(text: str) -> str:
        return (text.replace("API", api).replace("CLOSED", str(env.closed_port)).replace("HANG", str(env.hang_port))
                .replace("TMP", str(env.tmp)))

    out = python_records(_boto_cases(api, env.closed_port) + _django_cases(env.closed_port) + _stdlib_cases())
    time.sleep(0.2)
    out += node_library_records(NODE_LIBS, "node-libs29", env.tmp, fill)
    out += tool_records(TOOLS, "ci29", env.tmp, fill)
    out += tool_records([(n, c, t, ["bash", "-c", s]) for n, c, t, s in GIT], "git29", _git_server(env.tmp))
    java = {name: (cat, body.replace("DISK", str(disk))) for name, (cat, body) in JAVA.items()}
    for rec in java_records(env, java, "java-extra29"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra29_")]):
            out.append(rec)
    return out


if __name__ == "__main__":
    write_batch(blind29_records)


__all__ = ["BLIND29_SOURCES", "blind29_records"]
