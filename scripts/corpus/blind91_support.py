"""Helpers for batch 91 (identity and secrets tooling): a private MIT Kerberos realm (krb5kdc + kadmind from
Debian, its database, config and ports in a temporary directory, never /etc), a small OAuth2/OpenID Connect
provider and a fake Keycloak API (both plain http.server on free 127.0.0.1 ports), and a GnuPG home with a
throwaway key for pass."""

from __future__ import annotations

import base64
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from common import Env, _QuietServer, free_port
from servers import _wait_port

REALM = "B91.TEST"
KADMIN_PASSWORD = "admin-pw-91"
RIGHT_PASSWORD = "right-pw-91"


@dataclass
class Realm:
    """A running KDC (and kadmind) for REALM; `env` holds KRB5_CONFIG/KRB5_KDC_PROFILE for the clients."""

    root: Path
    kdc_port: int
    kadmin_port: int
    env: dict[str, str]

    def config_for(self, name: str, kdc: str) -> Path:
        """A krb5.conf for the same realm whose KDC is `kdc` (host:port), e.g. a closed or hanging port."""
        path = self.root / f"{name}.conf"
        path.write_text(_krb5_conf(kdc, f"127.0.0.1:{self.kadmin_port}", extra=" kdc_timeout = 1s\n max_retries = 1\n"))
        return path


def _krb5_conf(kdc: str, admin: str, extra: str = "") -> str:
    return (f"[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n"
            f" udp_preference_limit = 1\n{extra}[realms]\n {REALM} = {{\n  kdc = {kdc}\n  admin_server = {admin}\n"
            f"  kpasswd_server = {admin.rsplit(':', 1)[0]}:{int(admin.rsplit(':', 1)[1]) + 1}\n }}\n")


def private_realm(env: Env) -> Realm:
    """Create REALM's database in a temp dir, add the principals the batch needs and start krb5kdc and kadmind
    on free loopback ports (stopped, by their own pids, with `env`)."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-krb5-"))
    kdc_port, kadmin_port = free_port(), free_port()
    kpasswd_port = kadmin_port + 1
    (root / "krb5.conf").write_text(_krb5_conf(f"127.0.0.1:{kdc_port}", f"127.0.0.1:{kadmin_port}"))
    (root / "kdc.conf").write_text(
        f"[kdcdefaults]\n kdc_ports = {kdc_port}\n kdc_tcp_ports = {kdc_port}\n[realms]\n {REALM} = {{\n"
        f"  database_name = {root}/principal\n  key_stash_file = {root}/stash\n  acl_file = {root}/kadm5.acl\n"
        f"  admin_keytab = FILE:{root}/kadm5.keytab\n  kadmind_port = {kadmin_port}\n  kpasswd_port = {kpasswd_port}\n"
        f"  max_life = 10h\n }}\n[logging]\n kdc = FILE:{root}/kdc.log\n admin_server = FILE:{root}/kadmind.log\n")
    (root / "kadm5.acl").write_text(f"admin/admin@{REALM} *\n")
    kenv = dict(os.environ, KRB5_CONFIG=str(root / "krb5.conf"), KRB5_KDC_PROFILE=str(root / "kdc.conf"),
                KRB5CCNAME=f"FILE:{root}/ccache")

    def local(query: str) -> None:
        subprocess.run(["kadmin.local", "-q", query], env=kenv, check=True, capture_output=True, timeout=30)

    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    subprocess.run(["kdb5_util", "create", "-s", "-r", REALM, "-P", "master-pw-91"], env=kenv, check=True,
                   capture_output=True, timeout=60)
    local(f"addprinc -pw {KADMIN_PASSWORD} admin/admin")
    local(f"addprinc -pw {RIGHT_PASSWORD} alice")
    local(f"addprinc -pw {RIGHT_PASSWORD} -pwexpire 2001-01-01 bob")
    local(f"addprinc -pw {RIGHT_PASSWORD} +requires_preauth grace")
    local("addpol -minlength 12 -minclasses 3 strict")
    local(f"addprinc -pw {RIGHT_PASSWORD}-Long1 -policy strict erin")
    local("addprinc -randkey HTTP/web.b91.test")
    for argv in (["krb5kdc", "-n", "-r", REALM], ["kadmind", "-nofork", "-r", REALM]):
        proc = subprocess.Popen(argv, env=kenv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env._closers.append(lambda p=proc: p.wait(timeout=10))
        env._closers.append(proc.terminate)
    _wait_port(kdc_port)
    _wait_port(kadmin_port)
    return Realm(root, kdc_port, kadmin_port, {k: kenv[k] for k in ("KRB5_CONFIG", "KRB5_KDC_PROFILE", "KRB5CCNAME")})


# --------------------------------------------------------------------------- OAuth2 / OIDC provider


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Provider:
    """Keys and clients of the local OpenID Connect provider: client `app91` with secret `s3cret-91`; user `alice`
    with password RIGHT_PASSWORD; authorization code `code-91` (once)."""

    def __init__(self) -> None:
        from authlib.jose import JsonWebKey

        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k91"})
        self.rotated = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k91"})
        self.base = ""

    def id_token(self, *, exp_in: int = 300, key: Any = None, aud: str = "app91") -> str:
        from authlib.jose import jwt

        now = int(time.time())
        claims = {"iss": self.base, "sub": "alice", "aud": aud, "iat": now - 600, "exp": now + exp_in,
                  "nonce": "n-91"}
        return jwt.encode({"alg": "RS256", "kid": "k91"}, claims, key or self.key).decode()


def _oidc_handler(provider: Provider) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = urlparse(self.path).path
            if path == "/.well-known/openid-configuration":
                b = provider.base
                self._send(200, {"issuer": b, "authorization_endpoint": f"{b}/authorize",
                                 "token_endpoint": f"{b}/token", "jwks_uri": f"{b}/jwks",
                                 "id_token_signing_alg_values_supported": ["RS256"]})
            elif path == "/down/.well-known/openid-configuration":
                self._send(503, {"error": "temporarily_unavailable"}, {"Retry-After": "30"})
            elif path == "/jwks":
                self._send(200, {"keys": [provider.key.as_dict(is_private=False)]})
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            client_id, secret = form.get("client_id"), form.get("client_secret")
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            if path == "/busy/token":
                self._send(429, {"error": "slow_down", "error_description": "rate limit exceeded"},
                           {"Retry-After": "20"})
                return
            if path == "/broken/token":
                self._send(500, {"error": "server_error", "error_description": "token store unavailable"})
                return
            if path != "/token":
                self._send(404, {"error": "not_found"})
                return
            if client_id != "app91" or secret != "s3cret-91":
                self._send(401, {"error": "invalid_client", "error_description": "Client authentication failed"},
                           {"WWW-Authenticate": 'Basic realm="b91"'})
                return
            grant = form.get("grant_type")
            if grant not in ("authorization_code", "password", "refresh_token", "client_credentials"):
                self._send(400, {"error": "unsupported_grant_type"})
                return
            if grant == "client_credentials" and form.get("scope", "") not in ("", "read"):
                self._send(400, {"error": "invalid_scope",
                                 "error_description": f"Scope '{form.get('scope')}' is not valid for this client"})
                return
            ok = ((grant == "authorization_code" and form.get("code") == "code-91")
                  or (grant == "password" and form.get("password") == RIGHT_PASSWORD)
                  or (grant == "refresh_token" and form.get("refresh_token") == "rt-91")
                  or grant == "client_credentials")
            if not ok:
                what = {"authorization_code": "Authorization code is invalid or expired",
                        "password": "Invalid user credentials",
                        "refresh_token": "Refresh token expired"}[grant]
                self._send(400, {"error": "invalid_grant", "error_description": what})
                return
            self._send(200, {"access_token": "at-91", "token_type": "Bearer", "expires_in": 300,
                             "refresh_token": "rt-91", "id_token": provider.id_token()})

    return Handler


def oidc_provider(env: Env) -> Provider:
    provider = Provider()
    server = _QuietServer(("127.0.0.1", 0), _oidc_handler(provider))
    provider.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return provider


# --------------------------------------------------------------------------- fake Keycloak


def _keycloak_handler() -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            body = self._body()
            if path.endswith("/protocol/openid-connect/token"):
                realm = path.split("/")[2]
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                if realm == "maint":
                    self._send(503, {"error": "temporarily_unavailable"})
                elif form.get("client_id") not in ("app91", "admin-cli"):
                    self._send(401, {"error": "unauthorized_client",
                                     "error_description": "Invalid client or Invalid client credentials"})
                elif form.get("grant_type") == "password" and form.get("password") != RIGHT_PASSWORD:
                    self._send(401, {"error": "invalid_grant", "error_description": "Invalid user credentials"})
                else:
                    token = "kc-admin-91" if form.get("username") == "admin" else "kc-user-91"
                    self._send(200, {"access_token": token, "expires_in": 300, "refresh_expires_in": 1800,
                                     "refresh_token": "kc-rt-91", "token_type": "Bearer"})
                return
            if path.endswith("/users"):
                auth = self.headers.get("Authorization", "")
                if auth != "Bearer kc-admin-91":
                    self._send(403, {"error": "unknown_error", "error_description": "HTTP 403 Forbidden"})
                    return
                user = json.loads(body or b"{}")
                if "@" not in user.get("email", "@"):
                    self._send(400, {"field": "email", "errorMessage": "invalidEmailMessage",
                                     "params": [user.get("email")]})
                elif path.split("/")[3] == "busy":
                    self._send(429, {"error": "Too many requests"}, {"Retry-After": "10"})
                else:
                    self._send(201, None, {"Location": f"{self.path}/3f1c0b5e-91"})
                return
            self._send(404, {"error": "Unable to find matching target resource method"})

    return Handler


def fake_keycloak(env: Env) -> str:
    server = _QuietServer(("127.0.0.1", 0), _keycloak_handler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}/"


# --------------------------------------------------------------------------- GnuPG home for pass


def gnupg_home(env: Env, name: str) -> tuple[Path, str]:
    """A GNUPGHOME with one fresh passphrase-less key; returns the home and the key's fingerprint. Its agent is
    stopped (gpgconf --kill, for this home only) with `env`."""
    home = env.tmp / name
    home.mkdir(mode=0o700)
    genv = dict(os.environ, GNUPGHOME=str(home))
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"{name} <{name}@b91.test>",
                    "rsa2048", "encr", "1d"], env=genv, check=True, capture_output=True, timeout=120)
    out = subprocess.run(["gpg", "--batch", "--with-colons", "--list-keys"], env=genv, check=True,
                         capture_output=True, text=True).stdout
    fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
    env._closers.append(lambda: subprocess.run(["gpgconf", "--kill", "all"], env=genv, check=False,
                                               capture_output=True))
    return home, fpr


__all__ = ["KADMIN_PASSWORD", "REALM", "RIGHT_PASSWORD", "Provider", "Realm", "fake_keycloak", "gnupg_home",
           "oidc_provider", "private_realm"]
