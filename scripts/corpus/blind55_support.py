"""Local pieces batch 55 drives browsers against: a small web app (a login page with a form, a file input and
two buttons, JSON endpoints answering a chosen status or a malformed body), the same app over TLS with a
self-signed certificate, the Chromium flags every browser of the batch launches with (headless, no sandbox, and
a host resolver that resolves nothing but 127.0.0.1, so no name ever leaves the machine), and the runner for
the Puppeteer scripts. Only 127.0.0.1."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import os
import shutil
import ssl
import tempfile
import threading
from collections.abc import Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from checked import has_token, problem
from common import Env, Record, record, run

#: Debian's Chromium itself, not its /usr/bin/chromium launcher script (whose /etc/chromium.d snippets print a
#: shell warning on every start); the same browser, started with the flags below.
CHROMIUM = "/usr/lib/chromium/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: Every browser of the batch: no sandbox (root in a container), and no DNS at all except for 127.0.0.1.
CHROME_FLAGS = ["--no-sandbox", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
#: Where `npm install --prefix /tmp/recoup-corpus-puppeteer puppeteer-core@24` put puppeteer-core.
PUPPETEER_MODULES = Path("/tmp/recoup-corpus-puppeteer/node_modules")

LOGIN_PAGE = """<!doctype html>
<html><head><title>Sign in - Orders</title></head>
<body>
<form id="login" action="/api/session" method="post">
  <input id="username" name="username"> <input id="password" name="password" type="password">
  <input id="report" name="report" type="file">
  <button type="submit" id="submit">Sign in</button>
  <button type="button" id="forgot">Forgot password</button>
</form>
<div class="toast success" hidden>Saved</div>
</body></html>
"""


class _AppHandler(http.server.BaseHTTPRequestHandler):
    """`/login` the page; `/api/status/NNN` answers NNN with a JSON body; `/api/orders.json` a truncated JSON
    document; anything else 200."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, ctype: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        if status in (429, 503):
            self.send_header("Retry-After", "30")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="orders"')
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?")[0]
        if path.startswith("/api/status/"):
            status = int(path.rsplit("/", 1)[1])
            self._send(status, "application/json", json.dumps({"status": status,
                                                               "error": HTTPStatus(status).phrase}))
        elif path == "/api/orders.json":
            self._send(200, "application/json", '{"orders": [{"id": 1, "total": 12.5}, {"id": 2, "total": ')
        else:
            self._send(200, "text/html; charset=utf-8", LOGIN_PAGE)

    do_GET = do_POST = do_HEAD = _answer


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def _serve(env: Env, server: _Server) -> int:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    port: int = server.server_address[1]
    return port


def app_server(env: Env) -> str:
    """The web app on plain HTTP; returns its base URL."""
    return f"http://127.0.0.1:{_serve(env, _Server(('127.0.0.1', 0), _AppHandler))}"


def _self_signed(root: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "orders.local"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "b55 staging")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = root / "staging.pem", root / "staging.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def tls_app_server(env: Env) -> str:
    """The same app over HTTPS with a self-signed certificate no browser trusts; returns its base URL."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-tls55-"))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    cert, key = _self_signed(root)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = _Server(("127.0.0.1", 0), _AppHandler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    return f"https://127.0.0.1:{_serve(env, server)}"


PUPPETEER_PRELUDE = """const puppeteer = require('puppeteer-core');
const fs = require('fs');
async function main() {
  const browser = await puppeteer.launch({ executablePath: EXECUTABLE, headless: true, args: FLAGS });
  try {
    const page = await browser.newPage();
    BODY
  } finally {
    await browser.close();
  }
}
main();
"""


def puppeteer_records(cases: Iterable[tuple[str, str, str, str]], source: str, cwd: Path,
                      fill: Any = str) -> list[Record]:
    """Run each (name, category, token, body) as a Node.js script that launches Chromium with puppeteer-core and
    runs `body` with `page` and `browser` in scope, the error left unhandled as a test job leaves it; record what
    Node printed when it failed with the token. EXECUTABLE in a body's case name `*_missing_browser` is a path
    that does not exist."""
    if not PUPPETEER_MODULES.is_dir():
        problem("puppeteer", "puppeteer-core missing, puppeteer cases skipped")
        return []
    node_env = dict(os.environ, NODE_PATH=str(PUPPETEER_MODULES))
    out: list[Record] = []
    for name, category, token, body in cases:
        executable = "/opt/b55/chrome-linux/chrome" if name.endswith("missing_browser") else CHROMIUM
        script = (PUPPETEER_PRELUDE.replace("EXECUTABLE", json.dumps(executable))
                  .replace("FLAGS", json.dumps(CHROME_FLAGS)).replace("BODY", fill(body)))
        path = cwd / f"{name}.e2e.js"
        path.write_text(script, encoding="utf-8")
        try:
            proc = run(["node", path.name], cwd=cwd, env=node_env, timeout=40)
        except Exception as harness:  # a hang is the harness's problem, not a record
            problem(name, type(harness).__name__)
            continue
        text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
        if not text:
            problem(name, "no failure")
        elif has_token(name, text, token):
            out.append(record(text, category, source, "stderr", name))
    return out


__all__ = ["CHROMEDRIVER", "CHROME_FLAGS", "CHROMIUM", "PUPPETEER_MODULES", "app_server", "puppeteer_records",
           "tls_app_server"]
