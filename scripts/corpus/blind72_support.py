"""Local pieces for batch 72: a tiny OCI image laid out on disk, private `docker-registry` servers (plain, htpasswd,
TLS, storage on a full tmpfs) and a fake registry answering one chosen status. Only 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import os
import subprocess
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

from common import Env, free_port

USER, PASSWORD = "ci-deploy", "s3cret-b72"


def _blob(root: Path, data: bytes) -> tuple[str, int]:
    digest = hashlib.sha256(data).hexdigest()
    (root / "blobs" / "sha256" / digest).write_bytes(data)
    return f"sha256:{digest}", len(data)


def oci_layout(root: Path, payload: bytes, tag: str = "1.0") -> Path:
    """An OCI image layout with one gzip layer holding `payload` as /app/data.bin, tagged `tag`."""
    (root / "blobs" / "sha256").mkdir(parents=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("app/data.bin")
        info.size = len(payload)
        info.mtime = 1_700_000_000
        tar.addfile(info, io.BytesIO(payload))
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    layer, layer_size = _blob(root, gzip.compress(raw.getvalue(), mtime=0))
    config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/app/data.bin"]},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
    cfg, cfg_size = _blob(root, json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": cfg_size},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer,
                            "size": layer_size}]}
    man, man_size = _blob(root, json.dumps(manifest).encode())
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                 "digest": man, "size": man_size,
                                                 "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return root


def registry_config(root: Path, port: int, storage: Path, auth: Path | None = None,
                    tls: tuple[Path, Path] | None = None) -> Path:
    lines = ["version: 0.1", "log:", "  level: error", "storage:", "  filesystem:", f"    rootdirectory: {storage}",
             "http:", f"  addr: 127.0.0.1:{port}", "  secret: b72-local-secret"]
    if tls is not None:
        lines += ["  tls:", f"    certificate: {tls[0]}", f"    key: {tls[1]}"]
    if auth is not None:
        lines += ["auth:", "  htpasswd:", "    realm: b72-registry", f"    path: {auth}"]
    path = root / f"config-{port}.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 10) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("registry exited at start")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("registry did not listen")


def start_registry(env: Env, name: str, storage: Path | None = None, auth: bool = False,
                   tls: tuple[Path, Path] | None = None) -> int:
    """A private `docker-registry serve` on a free loopback port, stopped at the end; returns the port."""
    root = env.tmp / f"registry-{name}"
    root.mkdir()
    store = storage if storage is not None else root / "storage"
    htpasswd = None
    if auth:
        import bcrypt

        htpasswd = root / "htpasswd"
        htpasswd.write_text(f"{USER}:{bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()}\n")
    port = free_port()
    config = registry_config(root, port, store, htpasswd, tls)
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=root)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    env._closers.append(stop)
    _wait_port(port, proc)
    return port


def self_signed(root: Path) -> tuple[Path, Path]:
    cert, key = root / "registry.pem", root / "registry.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
                    str(cert)], check=True, capture_output=True)
    return cert, key


def status_registry(env: Env, status: int, body: dict[str, Any]) -> int:
    """A fake registry answering every /v2/ request with `status` and a distribution-style error body."""
    payload = json.dumps(body).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
            if status == 503:
                self.send_header("Retry-After", "30")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = answer

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return int(server.server_address[1])


def env_without_auth_files(tmp: Path) -> dict[str, str]:
    """Keep skopeo and podman away from any credentials or configuration of the user (no REGISTRY_AUTH_FILE:
    docker-registry reads every REGISTRY_* variable as a configuration override)."""
    home = tmp / "home72"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "XDG_RUNTIME_DIR": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


__all__ = ["PASSWORD", "USER", "env_without_auth_files", "oci_layout", "registry_config", "self_signed",
           "start_registry", "status_registry"]
