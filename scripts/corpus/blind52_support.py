"""Local fixtures of batch 52: a fake S3 endpoint on 127.0.0.1 whose buckets each fail in one chosen way (403
AccessDenied or SignatureDoesNotMatch, 503 SlowDown or ServiceUnavailable, 500 InternalError, 400
InvalidBucketName), the backup tools' config files, and a process that holds a repository lock while a second
run wants it. The label of a case is the status we chose, never something read back from the text."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import Env

#: bucket -> (status, S3 error code, message)
BUCKETS: dict[str, tuple[int, str, str]] = {
    "denied52": (403, "AccessDenied", "Access Denied"),
    "badsig52": (403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                 "you provided. Check your key and signing method."),
    "slow52": (503, "SlowDown", "Please reduce your request rate."),
    "unavail52": (503, "ServiceUnavailable", "The service is temporarily unavailable. Please try again."),
    "broken52": (500, "InternalError", "We encountered an internal error. Please try again."),
    "Bad_Bucket52": (400, "InvalidBucketName", "The specified bucket is not valid."),
}


#: bucket whose objects can be read (`big.bin` is 2 MB, anything else a small dump): for downloads that then
#: fail locally (a full or read-only destination)
PUBLIC = "public52"
_OBJECTS = {"big.bin": bytes(range(256)) * 8192}
_SMALL = b"-- nightly dump\nCREATE TABLE t (id int);\n" * 20


def _bucket_of(path: str, host: str) -> str:
    """The bucket of a path-style request (`/bucket/key`), else of a virtual-host one (`bucket.127.0.0.1`)."""
    first = path.lstrip("/").split("/")[0].split("?")[0]
    if first:
        return first
    return host.split(".")[0] if host.count(".") > 3 else ""


class _S3Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        bucket = _bucket_of(self.path, self.headers.get("Host", ""))
        key = self.path.split("?")[0].lstrip("/").partition("/")[2]
        if bucket == PUBLIC and key and self.command in ("GET", "HEAD"):
            self._object(_OBJECTS.get(key, _SMALL))
            return
        status, code, message = BUCKETS.get(bucket, (404, "NoSuchBucket", "The specified bucket does not exist"))
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<BucketName>{bucket}</BucketName><RequestId>52A7C0FFEE52</RequestId>"
                "<HostId>b52/local</HostId></Error>").encode()
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/xml")
        self.send_header("x-amz-request-id", "52A7C0FFEE52")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _object(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("ETag", f'"{hashlib.md5(data).hexdigest()}"')
        self.send_header("Last-Modified", "Sun, 29 Nov 2026 02:00:00 GMT")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _answer


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def fake_s3(env: Env) -> int:
    """Start the fake S3 endpoint; returns its port (stopped by env.close())."""
    server = _Server(("127.0.0.1", 0), _S3Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    port: int = server.server_address[1]
    return port


def s3cmd_config(path: Path, port: int, retries: int = 1) -> Path:
    """An .s3cfg pointing s3cmd at a loopback endpoint, path-style, plain HTTP, few retries."""
    path.write_text("\n".join([
        "[default]", "access_key = AKIAB52EXAMPLE", "secret_key = b52secretb52secretb52secret",
        f"host_base = 127.0.0.1:{port}", f"host_bucket = 127.0.0.1:{port}", "use_https = False",
        "check_ssl_certificate = False", f"max_retries = {retries}", "socket_timeout = 5", "",
    ]))
    return path


def rclone_config(path: Path, s3_port: int, sftp_port: int, key: Path, known_hosts: Path) -> Path:
    """An rclone.conf with an S3 remote on the fake endpoint and an SFTP remote on the private sshd."""
    path.write_text("\n".join([
        "[objects]", "type = s3", "provider = Other", "access_key_id = AKIAB52EXAMPLE",
        "secret_access_key = b52secretb52secretb52secret", f"endpoint = http://127.0.0.1:{s3_port}",
        "force_path_style = true", "region = us-east-1", "",
        "[vault]", "type = sftp", "host = 127.0.0.1", "user = root", f"port = {sftp_port}", f"key_file = {key}",
        f"known_hosts_file = {known_hosts}", "",
    ]))
    return path


@contextlib.contextmanager
def holding(argv: list[str], ready: Path, env: dict[str, str] | None = None,
            timeout: float = 20) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` (a process that takes a lock and waits on its stdin) until ``ready`` exists, yield, then end
    it by closing its stdin (killed if it does not end)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if ready.exists() and (not ready.is_dir() or any(ready.iterdir())):
                break
            time.sleep(0.1)
        yield proc
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


__all__ = ["BUCKETS", "PUBLIC", "fake_s3", "holding", "rclone_config", "s3cmd_config"]
