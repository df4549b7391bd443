"""Local servers batch 38 fails against: a FastAPI app served by a real uvicorn on 127.0.0.1 (each route answers
the status we provoke: a real 422 from FastAPI's own query validation, 401/403 from credential checks, 429, 502,
503, an unhandled exception that uvicorn turns into a 500, a JSON body cut short), and TLS servers whose
certificates are wrong for the client (issued for another host name, or expired)."""

from __future__ import annotations

import datetime
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import Env, free_port
from servers import serve_tls

#: the one bearer token and basic password the app accepts; the provokers send others
GOOD_TOKEN = "b38-" + secrets.token_hex(8)
GOOD_PASSWORD = "b38-" + secrets.token_hex(8)


def make_app() -> Any:
    """The service a pipeline calls; each route fails with the cause its name says."""
    from fastapi import Depends, FastAPI, Header, HTTPException, Response
    from fastapi.security import HTTPBasic, HTTPBasicCredentials

    app = FastAPI(title="inventory-b38")
    basic = HTTPBasic()

    @app.get("/v1/orders")
    def orders(limit: int = 50) -> dict[str, Any]:
        return {"orders": [], "limit": limit}

    @app.get("/v1/admin/jobs")
    def admin_jobs(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        if authorization != f"Bearer {GOOD_TOKEN}":
            raise HTTPException(status_code=401, detail="Invalid or expired token",
                                headers={"WWW-Authenticate": "Bearer"})
        return {"jobs": []}

    @app.get("/v1/login")
    def login(credentials: HTTPBasicCredentials = Depends(basic)) -> dict[str, str]:  # noqa: B008
        if not secrets.compare_digest(credentials.password, GOOD_PASSWORD):
            raise HTTPException(status_code=401, detail="Incorrect username or password",
                                headers={"WWW-Authenticate": "Basic"})
        return {"user": credentials.username}

    @app.get("/v1/reports/{report_id}")
    def report(report_id: int) -> dict[str, Any]:
        raise HTTPException(status_code=403, detail="Not enough permissions")

    @app.post("/v1/search")
    def search() -> dict[str, Any]:
        raise HTTPException(status_code=429, detail="Rate limit exceeded", headers={"Retry-After": "30"})

    @app.get("/v1/inventory")
    def inventory() -> dict[str, Any]:
        raise HTTPException(status_code=503, detail="Inventory backend unavailable", headers={"Retry-After": "5"})

    @app.get("/v1/prices")
    def prices() -> dict[str, Any]:
        raise HTTPException(status_code=502, detail="Bad Gateway")

    @app.get("/v1/export")
    def export() -> dict[str, Any]:
        totals: dict[str, int] = {}
        return {"ratio": totals["shipped"] / totals["ordered"]}  # the server's own bug: a real 500

    @app.get("/v1/feed")
    def feed() -> Response:
        body = '{"items": [{"sku": "A-1", "qty": 3}, {"sku": "B-2", "qty": '  # the upstream cut its body short
        return Response(content=body, media_type="application/json")

    return app


def serve_app(env: Env) -> str:
    """Run the app under uvicorn in a thread; returns its base URL; stopped when the batch ends."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(make_app(), host="127.0.0.1", port=port, log_level="critical", access_log=False,
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    else:
        raise RuntimeError("uvicorn did not start")

    def stop() -> None:
        server.should_exit = True
        thread.join(5)

    env._closers.append(stop)
    return f"http://127.0.0.1:{port}"


def _write_cert(root: Path, name: str, hostname: str, not_before: datetime.datetime,
                not_after: datetime.datetime) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = root / f"{name}.pem", root / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def tls_server(env: Env, hostname: str, *, expired: bool = False) -> tuple[int, Path]:
    """A TLS server on 127.0.0.1 with a self-signed certificate for `hostname` (valid now, or expired last
    year); returns its port and the certificate, which a client can trust as its CA file."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-tls38-"))
    now = datetime.datetime.now(datetime.UTC)
    if expired:
        start, end = now - datetime.timedelta(days=400), now - datetime.timedelta(days=35)
    else:
        start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=2)
    cert, key = _write_cert(root, "server", hostname, start, end)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    return serve_tls(env, cert, key), cert


__all__ = ["GOOD_PASSWORD", "GOOD_TOKEN", "make_app", "serve_app", "tls_server"]
