"""Helpers of batch 66: git remotes served on 127.0.0.1 the way a small self-hosted forge serves them.

`git daemon` exports bare repositories over git:// (only those with `git-daemon-export-ok`, push disabled), and a
tiny threaded HTTP server runs `git http-backend` as a CGI behind path prefixes that decide what the "forge" does:
`/open/` serves anyone, `/auth/` wants basic auth `ci:s3cret`, `/ro/` refuses pushes with 403, `/broken/` runs a
backend wrapper that crashes (500), `/maint/` answers 503, `/limit/` 429 and `/gateway/` 502. The bare
repositories (hooks, receive settings, one on a full tmpfs) are built by `serve_forge`. Everything is stopped and
removed with the batch's `Env`."""

from __future__ import annotations

import base64
import http.server
import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Env, free_port, git_env, run
from servers import mount_tmpfs

GIT_ENV66 = git_env("blind66")
USER, PASSWORD = "ci", "s3cret"
_BACKEND = "/usr/lib/git-core/git-http-backend"
_STATIC = {"maint": (503, "Service Unavailable: repository maintenance"), "limit": (429, "Too Many Requests"),
           "gateway": (502, "Bad Gateway")}


@dataclass
class Forge:
    """Where the batch's remotes live: git:// and http:// base URLs, the served root, a closed port."""

    root: Path
    daemon_port: int
    http_port: int
    closed_port: int
    disk: Path

    def git(self, repo: str) -> str:
        return f"git://127.0.0.1:{self.daemon_port}/{repo}"

    def http(self, prefix: str, repo: str, creds: str = "") -> str:
        at = f"{creds}@" if creds else ""
        return f"http://{at}127.0.0.1:{self.http_port}/{prefix}/{repo}"


def _read_body(handler: http.server.BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(parts)
            parts.append(handler.rfile.read(size))
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


def _handler(root: Path) -> type[http.server.BaseHTTPRequestHandler]:
    class GitCgi(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _plain(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
            body = (text + "\n").encode()
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _serve(self) -> None:
            body = _read_body(self) if self.command == "POST" else b""
            path, _, query = self.path.partition("?")
            prefix, _, rest = path.lstrip("/").partition("/")
            if prefix in _STATIC:
                status, text = _STATIC[prefix]
                self._plain(status, text, {"Retry-After": "30"})
                return
            pushing = "git-receive-pack" in path or "service=git-receive-pack" in query
            if prefix == "auth":
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self._plain(401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="forge66"'})
                    return
            if prefix == "ro" and pushing:
                self._plain(403, "Forbidden: read-only deploy token")
                return
            backend = ["false"] if prefix == "broken" else [_BACKEND]
            cgi_env = dict(os.environ, GIT_PROJECT_ROOT=str(root), GIT_HTTP_EXPORT_ALL="1", REMOTE_USER=USER,
                           REMOTE_ADDR="127.0.0.1", REQUEST_METHOD=self.command, PATH_INFO="/" + rest,
                           QUERY_STRING=query, CONTENT_TYPE=self.headers.get("Content-Type", ""),
                           CONTENT_LENGTH=str(len(body)), GATEWAY_INTERFACE="CGI/1.1",
                           HTTP_CONTENT_ENCODING=self.headers.get("Content-Encoding", ""),
                           HTTP_GIT_PROTOCOL=self.headers.get("Git-Protocol", ""))
            proc = subprocess.run(backend, input=body, capture_output=True, env=cgi_env, check=False)
            head, sep, payload = proc.stdout.partition(b"\r\n\r\n")
            if not sep:
                head, sep, payload = proc.stdout.partition(b"\n\n")
            if proc.returncode != 0 and not sep:
                self._plain(500, "Internal Server Error")
                return
            status, headers = 200, []
            for line in head.decode("latin-1").splitlines():
                key, _, value = line.partition(":")
                if key.lower() == "status":
                    status = int(value.split()[0])
                elif key:
                    headers.append((key, value.strip()))
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _serve
        do_POST = _serve

    return GitCgi


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def _wait(port: int) -> None:
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)


def _sh(script: str, cwd: Path) -> None:
    proc = run(["bash", "-ec", script], cwd=cwd, env=GIT_ENV66)
    if proc.returncode:
        raise RuntimeError(f"forge setup failed: {proc.stderr[-300:]}")


def _hook(repo: Path, name: str, script: str) -> None:
    hook = repo / "hooks" / name
    hook.write_text("#!/bin/sh\n" + script)
    hook.chmod(0o755)


def serve_forge(env: Env) -> Forge:
    """Build the bare repositories and start git daemon and the http-backend server."""
    root = env.tmp / "forge66"
    root.mkdir()
    seed = env.tmp / "seed66"
    seed.mkdir()
    _sh("git init -q -b main . && echo 'service: api' > deploy.yml && git add . && git commit -q -m init && "
        "echo 'replicas: 2' >> deploy.yml && git commit -q -am scale && echo 'image: api:1.4' >> deploy.yml && "
        "git commit -q -am image && git tag v1.4", seed)
    for name in ("app", "hooked", "protected", "strict", "lib", "private", "empty"):
        bare = root / f"{name}.git"
        if name == "empty":
            _sh(f"git init -q --bare -b main {bare}", env.tmp)
        else:
            _sh(f"git clone -q --bare {seed} {bare}", env.tmp)
        if name != "private":
            (bare / "git-daemon-export-ok").touch()
    _hook(root / "hooked.git", "pre-receive", "echo 'pre-receive: commit message must reference a ticket' >&2\n"
          "exit 1\n")
    _hook(root / "protected.git", "update", 'if [ "$1" = refs/heads/main ]; then\n'
          "  echo \"update: $1 is a protected branch, open a merge request\" >&2\n  exit 1\nfi\n")
    _sh("git config receive.denyNonFastForwards true && git config receive.denyDeletes true",
        root / "strict.git")
    disk = mount_tmpfs(env, "disk66", "size=300k")
    _sh(f"git clone -q --bare {seed} {disk}/full.git && head -c 2000000 /dev/zero > {disk}/filler || true", env.tmp)
    (root / "full.git").symlink_to(disk / "full.git")
    daemon_port = free_port()
    daemon = subprocess.Popen(["git", "daemon", f"--base-path={root}", f"--port={daemon_port}",
                               "--listen=127.0.0.1", "--reuseaddr", str(root)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, **GIT_ENV66))

    def stop_daemon() -> None:
        daemon.terminate()
        daemon.wait(timeout=10)

    env._closers.append(stop_daemon)
    server = _Server(("127.0.0.1", 0), _handler(root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    _wait(daemon_port)
    return Forge(root=root, daemon_port=daemon_port, http_port=server.server_address[1],
                 closed_port=env.closed_port, disk=disk)


__all__ = ["GIT_ENV66", "PASSWORD", "USER", "Forge", "serve_forge"]
