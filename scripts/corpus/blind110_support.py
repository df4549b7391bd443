"""Fixtures of the hundred-and-tenth batch: a loopback OAuth/OIDC fake (plain HTTP for google-auth, TLS with its own
CA for MSAL) answering in Google's and Microsoft Entra's own token-endpoint error formats, a throwaway RSA service
account key, git repositories for pygit2 (a working clone with a feature branch, a bare remote that moved on, a
diverged local branch) and a full tmpfs."""

from __future__ import annotations

import http.server
import json
import ssl
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Env, _QuietServer, git_env, run
from servers import mount_tmpfs

#: token endpoint mode -> (status, body) as Google's OAuth 2.0 server answers
GOOGLE = {
    "sa-key-revoked": (400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
    "client-deleted": (401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}),
    "refresh-expired": (400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
    "quota": (429, {"error": "rate_limit_exceeded",
                    "error_description": "Quota exceeded for quota metric 'Token requests' and limit "
                                         "'Token requests per minute' of service 'oauth2.googleapis.com'."}),
    "maintenance": (503, {"error": {"code": 503, "message": "The service is currently unavailable.",
                                    "status": "UNAVAILABLE"}}),
}
#: Entra tenant -> (status, body) of its OIDC discovery document
ENTRA = {
    "contoso-maintenance": (503, {"error": "temporarily_unavailable",
                                  "error_description": "AADSTS90033: A transient error has occurred. Please try "
                                                       "again."}),
}


class _OAuthHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        if status in (429, 503):
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = self.path.strip("/").split("/")
        if parts[0] in GOOGLE:
            self._send(*GOOGLE[parts[0]])
        elif parts[0] in ENTRA:
            self._send(*ENTRA[parts[0]])
        else:
            self._send(404, {"error": "not_found"})

    do_GET = _answer
    do_POST = _answer


@dataclass
class Fakes:
    """Where the batch's fakes listen and the fixtures live."""

    root: Path
    oauth: str  # http://127.0.0.1:PORT
    entra: str  # https://127.0.0.1:PORT (certificate signed by `cafile`)
    cafile: Path
    untrusted: str  # https://127.0.0.1:PORT whose self-signed certificate nobody trusts
    rsa_pem: str
    public_pem: str
    full: Path
    work: Path  # a clone of `remote` with a feature branch and a diverged main
    remote: Path  # the bare origin
    plain_dir: Path  # a directory that is not a repository


def _serve(env: Env, context: ssl.SSLContext | None = None) -> int:
    server = _QuietServer(("127.0.0.1", 0), _OAuthHandler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.shutdown)
    env._closers.append(server.server_close)
    port: int = server.server_address[1]
    return port


def _cert(root: Path, name: str) -> tuple[Path, Path]:
    cert, key = root / f"{name}.pem", root / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def _keys() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _git(cwd: Path, *args: str) -> None:
    proc = run(["git", *args], cwd=cwd, env=git_env("b110"))
    if proc.returncode:
        raise RuntimeError(f"git {args[0]} failed in the fixture")


def _repos(root: Path) -> tuple[Path, Path]:
    remote = root / "git.internal" / "platform" / "billing-api.git"
    remote.mkdir(parents=True)
    _git(remote, "init", "-q", "--bare", "-b", "main")
    seed = root / "seed"
    _git(root, "clone", "-q", str(remote), str(seed))
    (seed / "settings.yaml").write_text("replicas: 2\nregion: eu-west-1\n")
    (seed / "README.md").write_text("# billing-api\n")
    _git(seed, "add", ".")
    _git(seed, "commit", "-q", "-m", "Initial service skeleton")
    _git(seed, "push", "-q", "origin", "main")
    work = root / "src" / "billing-api"
    _git(root, "clone", "-q", str(remote), str(work))
    _git(work, "checkout", "-q", "-b", "feature/invoice-retries")
    (work / "settings.yaml").write_text("replicas: 4\nregion: eu-west-1\nretries: 5\n")
    _git(work, "commit", "-q", "-am", "Retry invoice delivery")
    _git(work, "checkout", "-q", "main")
    (work / "settings.yaml").write_text("replicas: 3\nregion: eu-central-1\n")
    _git(work, "commit", "-q", "-am", "Move to eu-central-1")
    (seed / "README.md").write_text("# billing-api\n\nOwned by the payments team.\n")
    _git(seed, "commit", "-q", "-am", "Document ownership")
    _git(seed, "push", "-q", "origin", "main")
    return work, remote


def prepare(env: Env) -> Fakes:
    root = Path(tempfile.mkdtemp(prefix="b110-", dir=env.tmp))
    ca, ca_key = _cert(root, "entra")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca, ca_key)
    other, other_key = _cert(root, "untrusted")
    context_other = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context_other.load_cert_chain(other, other_key)
    private, public = _keys()
    full = mount_tmpfs(env, "full110", "size=64k")
    (full / "filler.bin").write_bytes(b"\0" * 60 * 1024)
    work, remote = _repos(root)
    plain = root / "srv" / "deploy" / "releases" / "2026-11-30"
    plain.mkdir(parents=True)
    (plain / "manifest.json").write_text("{}")
    return Fakes(root, f"http://127.0.0.1:{_serve(env)}", f"https://127.0.0.1:{_serve(env, context)}", ca,
                 f"https://127.0.0.1:{_serve(env, context_other)}", private, public, full, work, remote, plain)


__all__ = ["ENTRA", "GOOGLE", "Fakes", "prepare"]
