"""Sixth batch of blind provokers: libraries, tools and runtime calls the rules had never seen (marshmallow,
cattrs, attrs, msgpack, lxml, toml, orjson, pika/RabbitMQ, paho-mqtt, pymongo, botocore, Flask/
Werkzeug, Jinja2, numpy, pandas, dateutil, cryptography, paramiko, click, more CLI tools, Node.js, Go, Java,
git). Scored once, blind, before anyone read the texts; everything talks to 127.0.0.1 only."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from common import (
    Env,
    Record,
    failure_text,
    git_env,
    git_failure_records,
    python_case_records,
    record,
    run,
    write_batch,
)
from runtime_provokers import go_records, java_records

_GIT_ENV = git_env("blind6")


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def marshmallow_bad() -> None:
        import marshmallow

        class User(marshmallow.Schema):
            email = marshmallow.fields.Email(required=True)
            age = marshmallow.fields.Integer()

        User().load({"email": "nope", "age": "old"})

    def cattrs_bad() -> None:
        import attrs
        import cattrs

        @attrs.define
        class Point:
            x: int
            y: int

        cattrs.structure({"x": "one", "y": 2}, Point)

    def attrs_validator() -> None:
        import attrs

        @attrs.define
        class Port:
            number: int = attrs.field(validator=attrs.validators.instance_of(int))

        Port("8080")  # type: ignore[arg-type]

    def msgpack_bad() -> None:
        import msgpack

        msgpack.unpackb(b"\xc1\xc1\xc1")

    def msgpack_unserializable() -> None:
        import msgpack

        msgpack.packb({"when": object()})

    def lxml_bad() -> None:
        from lxml import etree

        etree.fromstring(b"<order><item></order>")

    def lxml_xpath() -> None:
        from lxml import etree

        etree.XPath("//item[@id=")

    def toml_bad() -> None:
        import toml

        toml.loads("name = \nport = 80")

    def orjson_bad() -> None:
        import orjson

        orjson.loads(b'{"a": 1,}')

    def orjson_unserializable() -> None:
        import orjson

        orjson.dumps({"when": object()})

    def pika_refused() -> None:
        import pika

        pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", env.closed_port, connection_attempts=1))

    def pika_bad_password() -> None:
        import pika

        creds = pika.PlainCredentials("guest", "wrong-password-blind6")
        pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672, credentials=creds,
                                                          connection_attempts=1))

    def mqtt_refused() -> None:
        import paho.mqtt.client as mqtt

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.connect("127.0.0.1", env.closed_port, keepalive=5)

    def mongo_refused() -> None:
        import pymongo

        pymongo.MongoClient("127.0.0.1", env.closed_port, serverSelectionTimeoutMS=500).admin.command("ping")

    def mongo_bad_uri() -> None:
        import pymongo

        pymongo.MongoClient("mongodb://127.0.0.1:notaport/db", connect=False)

    def _s3(endpoint: str) -> Any:
        import botocore.config
        import botocore.session

        session = botocore.session.get_session()
        return session.create_client(
            "s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="AKIDBLIND6",
            aws_secret_access_key="secret", config=botocore.config.Config(
                retries={"max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"},
                connect_timeout=2, read_timeout=2))

    def boto_refused() -> None:
        _s3(f"http://127.0.0.1:{env.closed_port}").list_objects_v2(Bucket="reports")

    def boto_status(status: int) -> Callable[[], None]:
        def fn() -> None:
            _s3(f"{env.http}/status/{status}").get_object(Bucket="reports", Key="q3.csv")

        return fn

    def flask_bad_json() -> None:
        import flask

        app = flask.Flask("blind6")
        with app.test_request_context("/orders", method="POST", data="{not json", content_type="application/json"):
            flask.request.get_json()

    def jinja_syntax() -> None:
        import jinja2

        jinja2.Environment().from_string("{% for x in items %}{{ x }}")

    def jinja_undefined() -> None:
        import jinja2

        jinja2.Environment(undefined=jinja2.StrictUndefined).from_string("{{ user.name }}").render()

    def numpy_broadcast() -> None:
        import numpy as np

        np.ones(3) + np.ones(4)

    def numpy_huge() -> None:
        import numpy as np

        np.ones((1 << 22, 1 << 22))

    def pandas_csv() -> None:
        import io

        import pandas as pd

        pd.read_csv(io.StringIO('id,name\n1,"unterminated\n'), engine="c")

    def pandas_missing_column() -> None:
        import pandas as pd

        pd.DataFrame({"a": [1]})["total"]

    def pandas_merge() -> None:
        import pandas as pd

        pd.DataFrame({"a": [1]}).merge(pd.DataFrame({"b": [1]}), on="key")

    def dateutil_bad() -> None:
        from dateutil import parser

        parser.parse("thirty-first of smarch")

    def crypto_bad_pem() -> None:
        from cryptography.hazmat.primitives import serialization

        serialization.load_pem_private_key(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                                           password=None)

    def paramiko_refused() -> None:
        import paramiko

        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect("127.0.0.1", port=env.closed_port, username="x", password="y", timeout=2,
                       allow_agent=False, look_for_keys=False)

    def paramiko_not_ssh() -> None:
        import paramiko

        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect("127.0.0.1", port=env.empty_port, username="x", password="y", timeout=2,
                       banner_timeout=2, allow_agent=False, look_for_keys=False)

    def click_bad_option() -> None:
        import click

        @click.command()
        @click.option("--count", type=int)
        def cli(count: int) -> None:
            pass

        cli.main(["--count", "many"], standalone_mode=False)

    def xmlrpc_500() -> None:
        import xmlrpc.client

        xmlrpc.client.ServerProxy(f"{env.http}/status/500").ping()

    def getpwnam_missing() -> None:
        import pwd

        pwd.getpwnam("no-such-user-blind6")

    return [
        ("marshmallow_invalid", "validation", "marshmallow", marshmallow_bad),
        ("cattrs_structure", "validation", "cattrs", cattrs_bad),
        ("attrs_validator", "validation", "attrs", attrs_validator),
        ("msgpack_bad", "validation", "msgpack", msgpack_bad),
        ("msgpack_unserializable", "programming", "msgpack", msgpack_unserializable),
        ("lxml_bad_xml", "validation", "lxml", lxml_bad),
        ("lxml_bad_xpath", "programming", "lxml", lxml_xpath),
        ("toml_lib_bad", "validation", "toml", toml_bad),
        ("orjson_bad", "validation", "orjson", orjson_bad),
        ("orjson_unserializable", "programming", "orjson", orjson_unserializable),
        ("pika_refused", "network", "pika", pika_refused),
        ("pika_bad_password", "auth", "pika", pika_bad_password),
        ("mqtt_refused", "network", "paho-mqtt", mqtt_refused),
        ("mongo_refused", "network", "pymongo", mongo_refused),
        ("mongo_bad_uri", "validation", "pymongo", mongo_bad_uri),
        ("boto_refused", "network", "botocore", boto_refused),
        ("boto_403", "auth", "botocore", boto_status(403)),
        ("boto_429", "resource", "botocore", boto_status(429)),
        ("boto_503", "service", "botocore", boto_status(503)),
        ("flask_bad_json", "validation", "flask", flask_bad_json),
        ("jinja_syntax", "programming", "jinja2", jinja_syntax),
        ("jinja_undefined", "programming", "jinja2", jinja_undefined),
        ("numpy_broadcast", "programming", "numpy", numpy_broadcast),
        ("numpy_huge", "resource", "numpy", numpy_huge),
        ("pandas_csv", "validation", "pandas", pandas_csv),
        ("pandas_missing_column", "programming", "pandas", pandas_missing_column),
        ("pandas_merge_key", "programming", "pandas", pandas_merge),
        ("dateutil_bad", "validation", "dateutil", dateutil_bad),
        ("crypto_bad_pem", "validation", "cryptography", crypto_bad_pem),
        ("paramiko_refused", "network", "paramiko", paramiko_refused),
        ("paramiko_not_ssh", "network", "paramiko", paramiko_not_ssh),
        ("click_bad_option", "validation", "click", click_bad_option),
        ("xmlrpc_500", "service", "py-extra4", xmlrpc_500),
        ("getpwnam_missing", "unknown", "py-extra4", getpwnam_missing),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_structured_clone", "programming", "structuredClone(() => 1)"),
    ("node_buffer_negative", "programming", "Buffer.alloc(-5)"),
    ("node_fetch_403", "auth",
     "const r = await fetch('HTTPURL/status/403'); if (!r.ok) throw new Error(`request failed: ${r.status} "
     "${r.statusText}`)"),
    ("node_fetch_503", "service",
     "const r = await fetch('HTTPURL/status/503'); if (!r.ok) throw new Error(`HTTP ${r.status}`)"),
    ("node_inflate_bad", "validation", "require('zlib').inflateSync(Buffer.from('plain text, not deflate'))"),
    ("node_rename_missing", "filesystem", "require('fs').renameSync('/srv/blind6/a', '/srv/blind6/b')"),
]

GO: dict[str, tuple[str, str]] = {
    "url_bad": ("validation", '_, err := url.Parse("http://[::1"); fail(err)'),
    "x509_bad": ("validation", '_, err := x509.ParseCertificate([]byte("not a certificate")); fail(err)'),
    "readdir_missing": ("filesystem", '_, err := os.ReadDir("/srv/blind6/missing"); fail(err)'),
    "status_502": ("service", 'r, err := http.Get("http://127.0.0.1:HTTP/status/502"); fail(err); '
                              'if r.StatusCode >= 400 { log.Fatalf("bad response: %s", r.Status) }'),
    "status_401": ("auth", 'r, err := http.Get("http://127.0.0.1:HTTP/status/401"); fail(err); '
                           'if r.StatusCode >= 400 { log.Fatalf("GET /status/401: %s", r.Status) }'),
}
GO_IMPORTS = '\t"crypto/x509"\n'

JAVA: dict[str, tuple[str, str]] = {
    "bad_local_date": ("validation", 'java.time.LocalDate.of(2024, 2, 30);'),
    "regex_bad": ("programming", 'java.util.regex.Pattern.compile("(unclosed");'),
    "socket_refused": ("network", 'new java.net.Socket("127.0.0.1", CLOSED);'),
}


def _git(env: Env) -> list[tuple[str, list[str]]]:
    return [
        ("git_log_no_commits", ["log"]),
        ("git_describe_no_tags", ["describe"]),
        ("git_branch_delete_missing", ["branch", "-d", "feature-blind6"]),
        ("git_remote_missing", ["remote", "remove", "origin"]),
        ("git_merge_missing_branch", ["merge", "feature-blind6"]),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_xz_bad", "validation", "xz -dc /etc/hostname"),
    ("shell_zstd_bad", "validation", "zstd -dc /etc/hostname"),
    ("shell_bzip2_bad", "validation", "bzip2 -dc /etc/hostname"),
    ("shell_tar_missing_archive", "filesystem", "tar -xf /srv/blind6/backup.tar"),
    ("shell_json_tool", "validation", "printf '{\"a\": [1, 2,' | python3 -m json.tool"),
    ("shell_grep_bad_regex", "programming", "grep -E 'a(b' /etc/hostname"),
    ("shell_find_missing", "filesystem", "find /srv/blind6/missing -name '*.log'"),
    ("shell_mv_missing", "filesystem", "mv /srv/blind6/old.log /tmp/new.log"),
    ("shell_ssh_keygen_not_key", "validation", "ssh-keygen -l -f /etc/hostname"),
    ("shell_mqtt_refused", "network", "mosquitto_pub -h 127.0.0.1 -p CLOSED -t t -m x"),
    ("shell_file_size_limit", "resource",
     "ulimit -f 1; dd if=/dev/zero of=BLINDTMP/big.bin bs=4096 count=100"),
    ("shell_keytool_missing", "filesystem", "keytool -list -keystore /srv/blind6/keystore.jks -storepass x"),
    ("shell_jar_not_zip", "validation", "jar tf /etc/hostname"),
    ("shell_id_missing", "unknown", "id no-such-user-blind6"),
    ("shell_unzip_bad_password", "auth",
     "cd BLINDTMP && echo secret > s.txt && zip -q -P right enc.zip s.txt && unzip -o -P wrong enc.zip"),
]


def blind6_records(env: Env) -> list[Record]:
    out: list[Record] = python_case_records(_py_cases(env))
    for name, category, script in NODE:
        flags = ["--input-type=module"] if "await" in script else []
        text = failure_text(run(["node", *flags, "-e", script.replace("HTTPURL", env.http)], cwd=env.tmp))
        out.append(record(text, category, "node-extra4", "stderr", name))
    out.extend(go_records(env, {k: (c, b.replace("HTTP", str(env.http_port))) for k, (c, b) in GO.items()},
                          "go-extra4", GO_IMPORTS))
    out.extend(java_records(env, {k: (c, b.replace("CLOSED", str(env.closed_port))) for k, (c, b) in JAVA.items()},
                            "java-extra4"))
    repo = env.tmp / "blind6-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)

    def set_up(name: str) -> None:
        if name == "git_describe_no_tags":
            run(["git", "commit", "-q", "--allow-empty", "-m", "one"], cwd=repo, env=_GIT_ENV)

    out.extend(git_failure_records(_git(env), repo, "git-extra3", _GIT_ENV, before=set_up))
    scratch = env.tmp / "blind6-scratch"
    scratch.mkdir()
    for name, category, script in SHELL:
        script = script.replace("CLOSED", str(env.closed_port)).replace("BLINDTMP", str(scratch))
        try:
            text = failure_text(run(["bash", "-c", script], cwd=env.tmp))
        except RuntimeError:
            print(f"problem: {name}: no failure", file=sys.stderr)
            continue
        if text:
            out.append(record(text, category, "shell-extra3", "stderr", name))
    return out


if __name__ == "__main__":
    write_batch(blind6_records)


__all__ = ["blind6_records"]
