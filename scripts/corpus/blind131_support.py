"""Fixtures of the hundred-and-thirty-first batch: a private moto S3 server (`moto_server` on 127.0.0.1) with a
few buckets, objects and IAM users whose keys and policies are created before IAM authentication is switched on
(`/moto-api/reset-auth`), small HTTP fakes answering every request with an S3 XML error (500 InternalError,
503 ServiceUnavailable), a full and a read-only tmpfs for local caches and downloads, and corrupt data files
(a garbled zip, tar, gzip and parquet) uploaded next to good ones."""

from __future__ import annotations

import http.server
import io
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port
from servers import mount_tmpfs, serve_http

PY = sys.executable
MOTO = str(Path(PY).parent / "moto_server")
REGION = "us-east-1"


@dataclass
class Keys:
    key: str
    secret: str


@dataclass
class S3Lab:
    """Endpoints, credentials and local paths of the batch."""

    endpoint: str
    admin: Keys
    reader: Keys
    err500: str
    err503: str
    root: Path
    full: Path
    ro: Path
    garbage_zip: Path


class _S3ErrorHandler(http.server.BaseHTTPRequestHandler):
    status = 500
    code = "InternalError"
    message = "We encountered an internal error. Please try again."

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code><Message>{self.message}'
                f"</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>s3-gw-2.internal</HostId></Error>"
                ).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amz-request-id", "4442587FB7D0A2F9")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

    def log_message(self, *args: object) -> None:
        pass


def _error_server(env: Env, status: int, code: str, message: str) -> str:
    handler = type(f"S3Error{status}", (_S3ErrorHandler,), {"status": status, "code": code, "message": message})
    return f"http://127.0.0.1:{serve_http(env, handler)}"


def _start_moto(env: Env) -> str:
    port = free_port()
    log = open(env.tmp / "moto131.log", "wb")  # noqa: SIM115 - closed with the server
    proc = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    env._closers.append(log.close)
    env._closers.append(proc.wait)
    env._closers.append(proc.terminate)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/moto-api/data.json", timeout=1).read()
            return url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto_server did not start")


def _parquet_bytes() -> bytes:
    """A parquet footer magic around junk: looks like parquet, is not."""
    return b"PAR1" + b"\x15\x04\x15\x80\x01" * 40 + b"PAR1"


def _seed(url: str) -> tuple[Keys, Keys]:
    import json

    import boto3

    s3 = boto3.client("s3", endpoint_url=url, region_name=REGION, aws_access_key_id="bootstrap",
                      aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", endpoint_url=url, region_name=REGION, aws_access_key_id="bootstrap",
                       aws_secret_access_key="bootstrap")
    for bucket in ("analytics-exports", "billing-archive", "ml-feature-store"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="analytics-exports", Key="daily/2026-11-28/orders.csv",
                  Body=b"order_id,customer_id,total\n1001,77,19.90\n1002,81,5.00\n")
    s3.put_object(Bucket="analytics-exports", Key="daily/2026-11-28/events.json.gz",
                  Body=b"{\"event\": \"checkout\", \"ts\": 1764316800}\n" * 20)  # named .gz, not gzipped
    s3.put_object(Bucket="analytics-exports", Key="bundles/reports-2026-11.zip",
                  Body=b"PK\x03\x04" + b"\x00truncated-upload" * 30)
    s3.put_object(Bucket="analytics-exports", Key="bundles/logs-2026-11.tar",
                  Body=b"this is an html error page, not a tar archive\n" * 30)
    s3.put_object(Bucket="ml-feature-store", Key="features/users/part-0000.parquet", Body=_parquet_bytes())
    s3.put_object(Bucket="billing-archive", Key="invoices/2026/INV-20931.pdf", Body=b"%PDF-1.7\n" + b"x" * 200_000)
    s3.put_object(Bucket="ml-feature-store", Key="snapshots/embeddings-v3.npy", Body=b"\x93NUMPY" + b"\0" * 400_000)
    out = []
    for user, policy in (
        ("etl-admin", {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]}),
        ("reports-reader", {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                            "Resource": ["arn:aws:s3:::analytics-exports", "arn:aws:s3:::analytics-exports/*"]}),
    ):
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName=f"{user}-s3",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [policy]}))
        k = iam.create_access_key(UserName=user)["AccessKey"]
        out.append(Keys(k["AccessKeyId"], k["SecretAccessKey"]))
    req = urllib.request.Request(url + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req, timeout=5).read()
    return out[0], out[1]


def prepare_lab(env: Env) -> S3Lab:
    url = _start_moto(env)
    admin, reader = _seed(url)
    root = env.tmp / "s3lab131"
    root.mkdir()
    full = mount_tmpfs(env, "cache131", "size=64k")
    (full / "filler.bin").write_bytes(b"\0" * 60 * 1024)
    ro = mount_tmpfs(env, "ro131", "size=256k")
    (ro / "exports").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    garbage = root / "nightly-bundle.zip"
    buf = io.BytesIO(b"PK\x05\x06" + b"\xff" * 10)
    garbage.write_bytes(b"<html>502 Bad Gateway</html>\n" * 20 + buf.getvalue())
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    return S3Lab(url, admin, reader,
                 _error_server(env, 500, "InternalError", "We encountered an internal error. Please try again."),
                 _error_server(env, 503, "ServiceUnavailable", "Service is unable to handle request."),
                 root, full, ro, garbage)


__all__ = ["PY", "REGION", "Keys", "S3Lab", "prepare_lab"]
