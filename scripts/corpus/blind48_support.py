"""Local fixtures of batch 48: a fake package registry on 127.0.0.1 and the tiny artifacts the publishing tools
are fed (a wheel, an npm package, a gem, a Maven project).

The registry answers by the first path segment: a name registered in `REPLIES` answers that status, reason
phrase and body for every method and sub-path (so twine's upload POST, npm's publish PUT, RubyGems' index GET,
Maven's artifact GET and git-lfs's batch POST all get it); `/pypi-MODE/...` is a PEP 503 simple index whose one
wheel link is served good, truncated, or with a chosen status; `/npm-tarballs/...` serves a real npm tarball.
The label of a record comes from the status or the artifact we chose, never from the text. Only 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import tarfile
import threading
import zipfile
from pathlib import Path
from typing import Any

from common import Env

WHEEL = "demo48-0.1.0-py3-none-any.whl"
NPM_TGZ = "demo48-pkg-1.0.0.tgz"

#: name -> (status, reason phrase, content type, body)
REPLIES: dict[str, tuple[int, str, str, str]] = {
    "pypi403": (403, "Invalid or non-existent authentication information. See https://pypi.example.org/help/#invalid-auth"
                " for more information.", "text/html", "<html><body><h1>403 Invalid or non-existent authentication "
                "information.</h1></body></html>"),
    "pypi401": (401, "Unauthorized", "text/html", "<html><body><h1>401 Unauthorized</h1></body></html>"),
    "pypi400dup": (400, "File already exists ('demo48-0.1.0-py3-none-any.whl', with blake2_256 hash "
                   "'3f1b2c0d'). See https://pypi.example.org/help/#file-name-reuse for more information.",
                   "text/html", "<html><body><h1>400 File already exists</h1></body></html>"),
    "pypi400meta": (400, "'0.1.0-final-b' is an invalid value for Version. Error: Start and end with a letter or "
                    "numeral containing only ASCII numeric and '.', '_' and '-'. See https://packaging.python.org/"
                    "specifications/core-metadata for more information.", "text/html",
                    "<html><body><h1>400 invalid value for Version</h1></body></html>"),
    "pypi503": (503, "Service Unavailable", "text/html", "<html><body><h1>503 Service Unavailable</h1>"
                "<p>No server is available to handle this request.</p></body></html>"),
    "pypi429": (429, "Too Many Requests", "text/html", "<html><body><h1>429 Too Many Requests</h1><p>Too many new "
                "projects created</p></body></html>"),
    "npm429": (429, "Too Many Requests", "application/json", json.dumps({"error": "rate limited, slow down"})),
    "gem429": (429, "Too Many Requests", "text/plain", "Rate limit exceeded. Try again later.\n"),
    "mvn429": (429, "Too Many Requests", "text/plain", "Too Many Requests\n"),
    "npm401": (401, "Unauthorized", "application/json", json.dumps({"error": "You must be logged in to publish "
                                                                             "packages."})),
    "npm403": (403, "Forbidden", "application/json", json.dumps({
        "error": "You do not have permission to publish \"demo48-pkg\". Are you logged in as the correct user?"})),
    "npm409": (409, "Conflict", "application/json", json.dumps({
        "error": "Cannot publish over previously published version \"1.0.0\"."})),
    "npm503": (503, "Service Unavailable", "text/html", "<html><body><h1>503 Service Unavailable</h1></body></html>"),
    "gem401": (401, "Unauthorized", "text/plain", "HTTP Basic: Access denied.\n"),
    "gem403": (403, "Forbidden", "text/plain", "You do not have permission to push to this gem.\n"),
    "gem503": (503, "Service Unavailable", "text/plain", "Service Unavailable\n"),
    "mvn401": (401, "Unauthorized", "text/plain", "Unauthorized\n"),
    "mvn403": (403, "Forbidden", "text/plain", "Forbidden\n"),
    "mvn503": (503, "Service Unavailable", "text/plain", "Service Unavailable\n"),
    "lfs401": (401, "Unauthorized", "application/vnd.git-lfs+json", json.dumps({"message": "Credentials needed"})),
    "lfs403": (403, "Forbidden", "application/vnd.git-lfs+json", json.dumps({
        "message": "You must have push access to verify locks", "documentation_url": "https://lfs.example.org"})),
    "lfs503": (503, "Service Unavailable", "application/vnd.git-lfs+json", json.dumps({
        "message": "LFS is temporarily unavailable"})),
}


def build_wheel(directory: Path, version: str = "0.1.0") -> Path:
    """A minimal, valid pure-Python wheel (one module, METADATA, WHEEL, RECORD)."""
    name = f"demo48-{version}-py3-none-any.whl"
    info = f"demo48-{version}.dist-info"
    files = {
        "demo48/__init__.py": "VALUE = 48\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: demo48\nVersion: {version}\nSummary: corpus wheel\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: corpus48\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    lines = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*lines, f"{info}/RECORD,,"]) + "\n"
    target = directory / name
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return target


def build_npm_tarball(directory: Path) -> Path:
    """A real npm package tarball (package/package.json, package/index.js)."""
    target = directory / NPM_TGZ
    with tarfile.open(target, "w:gz") as archive:
        for name, text in {"package/package.json": json.dumps({"name": "demo48-pkg", "version": "1.0.0",
                                                               "main": "index.js"}),
                           "package/index.js": "module.exports = 48;\n"}.items():
            data = text.encode()
            member = tarfile.TarInfo(name)
            member.size = len(data)
            member.mode = 0o644
            archive.addfile(member, io.BytesIO(data))
    return target


class _Registry(http.server.ThreadingHTTPServer):
    daemon_threads = True
    wheel: bytes = b""
    tarball: bytes = b""

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Registry

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, ctype: str, data: bytes, reason: str | None = None, length: int | None = None) -> None:
        self.send_response(status, reason)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="corpus48"')
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True

    def _pypi(self, mode: str, rest: list[str]) -> None:
        if rest[:1] == ["simple"]:
            page = (f'<!DOCTYPE html><html><body><a href="/pypi-{mode}/files/{WHEEL}">{WHEEL}</a></body></html>')
            self._send(200, "text/html", page.encode())
        elif mode == "trunc":
            self._send(200, "application/octet-stream", self.server.wheel[: len(self.server.wheel) // 2])
        elif mode.startswith("f") and mode[1:].isdigit():
            status = int(mode[1:])
            self._send(status, "text/plain", f"{status} {self.responses[status][0]}\n".encode())
        else:
            self._send(200, "application/octet-stream", self.server.wheel)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        head = parts[0] if parts else ""
        if head.startswith("pypi-"):
            self._pypi(head.removeprefix("pypi-"), parts[1:])
        elif head == "npm-tarballs":
            self._send(200, "application/octet-stream", self.server.tarball)
        elif head in REPLIES:
            status, reason, ctype, body = REPLIES[head]
            self._send(status, ctype, body.encode(), reason)
        else:
            self._send(404, "text/plain", b"Not Found\n")

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _answer


def fake_registry(env: Env, wheel: Path, tarball: Path) -> str:
    """Start the registry for the batch; returns its base URL (`http://127.0.0.1:PORT`)."""
    server = _Registry(("127.0.0.1", 0), _Handler)
    server.wheel = wheel.read_bytes()
    server.tarball = tarball.read_bytes()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}"


__all__ = ["NPM_TGZ", "REPLIES", "WHEEL", "build_npm_tarball", "build_wheel", "fake_registry"]
