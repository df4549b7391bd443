"""Local fixtures of batch 50: log files we can read back after provoking a failure, and the private servers that
write them (an nginx reverse proxy with its own prefix, an sshd, Redis and app servers on free loopback ports).
Everything listens on 127.0.0.1 only and is stopped and removed by ``Env.close()``."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from checked import problem
from common import Env, free_port


class LogTail:
    """A log file read from a mark on: ``mark()`` before provoking, ``wait(token)`` after, for what was appended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pos = 0

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def mark(self) -> None:
        self.pos = self._size()

    def new(self) -> str:
        if not self.path.exists():
            return ""
        with self.path.open("rb") as fh:
            fh.seek(self.pos)
            return fh.read().decode("utf-8", "replace")

    def wait(self, token: str, timeout: float = 5.0) -> str:
        """What was appended since the mark, once it holds the token (or whatever there is at the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.new()
            if _has(text, token) or time.monotonic() > deadline:
                time.sleep(0.15)  # let the writer finish the lines of that event
                return self.new()
            time.sleep(0.05)


def _has(text: str, token: str) -> bool:
    return any(t.lower() in text.lower() for t in token.split("|"))


def entries(text: str, start: re.Pattern[str]) -> list[str]:
    """Split a log into entries: a line matching ``start`` opens one, other lines continue it."""
    out: list[str] = []
    for line in text.splitlines():
        if start.match(line) or not out:
            out.append(line)
        else:
            out[-1] += "\n" + line
    return [e for e in out if e.strip()]


def by_id(text: str, token: str, start: re.Pattern[str], ident: re.Pattern[str]) -> str:
    """The entries of the process or connection (``ident``'s first group) that wrote the first entry with the token."""
    items = entries(text, start)
    hit = next((e for e in items if _has(e, token)), None)
    if hit is None:
        return ""
    found = ident.search(hit)
    if found is None:
        return hit
    return "\n".join(e for e in items if (m := ident.search(e)) and m.group(1) == found.group(1))


def window(text: str, token: str, start: re.Pattern[str], stop: re.Pattern[str] | None = None) -> str:
    """From the last line matching ``start`` at or before the first line with the token, up to (not including)
    the next line matching ``stop`` after the token line (to the end without ``stop``)."""
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if _has(line, token)), None)
    if at is None:
        return ""
    first = next((i for i in range(at, -1, -1) if start.search(lines[i])), at)
    last = len(lines)
    if stop is not None:
        last = next((i for i in range(at + 1, len(lines)) if stop.search(lines[i])), len(lines))
    return "\n".join(lines[first:last]).strip()


def wait_port(port: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
        time.sleep(0.05)
    return False


def open_dir(prefix: str, env: Env) -> Path:
    """A world-readable temp dir (servers that drop privileges must traverse it), removed by ``env.close()``."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    return root


def spawn(env: Env, argv: Sequence[str], log: Path | None = None, cwd: Path | None = None,
          extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a server process (its stdout and stderr to ``log``); terminated and reaped by ``env.close()``."""
    import os

    out = log.open("ab") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                            env=dict(os.environ, **(extra_env or {})))

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if log is not None and not isinstance(out, int):
            out.close()

    env._closers.append(stop)
    return proc


# --------------------------------------------------------------------------- nginx

NGINX_CONF = """user nobody nogroup;
worker_processes 1;
error_log {root}/logs/error.log error;
pid {root}/logs/nginx.pid;
events {{ worker_connections 24; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    limit_req_zone $binary_remote_addr zone=search50:1m rate=1r/m;
    upstream orders50 {{
        server 127.0.0.1:{closed_a} max_fails=1 fail_timeout=60s;
        server 127.0.0.1:{closed_b} max_fails=1 fail_timeout=60s;
    }}
    server {{
        listen 127.0.0.1:{port};
        server_name shop50.internal;
        root {root}/html;
        client_max_body_size 1k;
        location /api/ {{ proxy_pass http://127.0.0.1:{closed}; }}
        location /reports/ {{ proxy_pass http://127.0.0.1:{hang}; proxy_read_timeout 1s; }}
        location /feed/ {{ proxy_pass http://127.0.0.1:{empty}; }}
        location /events/ {{ proxy_pass http://127.0.0.1:{reset}; }}
        location /orders/ {{ proxy_pass http://orders50; }}
        location /upload {{ proxy_pass http://127.0.0.1:{http}/ok; }}
        location /search {{ limit_req zone=search50; limit_req_status 429; proxy_pass http://127.0.0.1:{http}/ok; }}
        location /admin/ {{ allow 10.0.0.0/8; deny all; }}
        location /ops/ {{ auth_basic "ops"; auth_basic_user_file {root}/conf/htpasswd; }}
    }}
}}
"""

NGINX_TLS_CONF = """error_log stderr error;
pid {root}/logs/tls.pid;
events {{ }}
http {{
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {root}/conf/tls/shop50.crt;
        ssl_certificate_key {root}/conf/tls/shop50.key;
    }}
}}
"""


@dataclass
class Nginx:
    root: Path
    port: int
    log: LogTail

    def request(self, path: str, method: str = "GET", body: bytes | None = None,
                headers: dict[str, str] | None = None) -> None:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            conn.getresponse().read()
        except OSError:
            pass
        finally:
            conn.close()


def start_nginx(env: Env) -> Nginx | None:
    root = open_dir("recoup-corpus-nginx-", env)
    for sub in ("conf", "logs", "html", "tmp"):
        (root / sub).mkdir()
    (root / "html" / "index.html").write_text("<h1>shop</h1>\n")
    report = root / "html" / "report.html"
    report.write_text("<h1>report</h1>\n")
    report.chmod(0o000)
    (root / "conf" / "htpasswd").write_text("ops:{PLAIN}right-password\n")
    port = free_port()
    conf = NGINX_CONF.format(root=root, port=port, closed=env.closed_port, closed_a=free_port(), closed_b=free_port(),
                             hang=env.hang_port, empty=env.empty_port, reset=env.reset_port, http=env.http_port)
    (root / "conf" / "nginx.conf").write_text(conf)
    (root / "conf" / "tls.conf").write_text(NGINX_TLS_CONF.format(root=root, port=free_port()))
    spawn(env, ["nginx", "-p", str(root), "-c", str(root / "conf" / "nginx.conf"), "-e", str(root / "logs" /
                "error.log"), "-g", "daemon off;"], log=root / "logs" / "master.out")
    if not wait_port(port):
        problem("nginx", "did not start")
        return None
    return Nginx(root, port, LogTail(root / "logs" / "error.log"))


# --------------------------------------------------------------------------- sshd


@dataclass
class Sshd:
    root: Path
    port: int
    log: LogTail

    def key(self, name: str) -> Path:
        path = self.root / name
        if not path.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True,
                           capture_output=True)
        return path

    def ssh(self, user: str, *keys: Path) -> list[str]:
        argv = ["ssh", "-p", str(self.port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o",
                f"UserKnownHostsFile={self.root / 'known_hosts'}", "-o", "IdentitiesOnly=yes", "-o",
                "PasswordAuthentication=no", "-o", "ConnectTimeout=5", "-F", "/dev/null"]
        for key in keys:
            argv += ["-i", str(key)]
        return [*argv, f"{user}@127.0.0.1", "true"]


def start_sshd(env: Env) -> Sshd | None:
    Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)  # privilege-separation dir, never removed
    root = open_dir("recoup-corpus-sshd-", env)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "host_key")], check=True,
                   capture_output=True)
    port = free_port()
    server = Sshd(root, port, LogTail(root / "sshd.log"))
    authorized = server.key("deploy_key")
    (root / "authorized_keys").write_text(authorized.with_suffix(".pub").read_text())
    (root / "sshd_config").write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {root / 'host_key'}", f"PidFile {root / 'sshd.pid'}",
        f"AuthorizedKeysFile {root / 'authorized_keys'}", "StrictModes no", "UsePAM no", "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no", "PermitRootLogin yes", "AllowUsers root", "MaxAuthTries 3",
        "LogLevel INFO", "",
    ]))
    spawn(env, ["/usr/sbin/sshd", "-D", "-f", str(root / "sshd_config"), "-E", str(root / "sshd.log")])
    if not wait_port(port):
        problem("sshd", "did not start")
        return None
    return server


# --------------------------------------------------------------------------- redis


def redis_server(env: Env, name: str, workdir: Path, *args: str, wait: bool = True) -> tuple[int, LogTail]:
    """A redis-server on a free port logging to its own file (``--dir`` defaults to ``workdir``)."""
    port = free_port()
    log = env.tmp / f"redis-{name}.log"
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--logfile", str(log), "--dir", str(workdir), *args]
    spawn(env, argv)
    if wait and not wait_port(port):
        problem(name, "redis did not start")
    return port, LogTail(log)


# --------------------------------------------------------------------------- python app servers


def app_server(env: Env, argv: Sequence[str], log: Path, port: int, cwd: Path) -> bool:
    """Start a gunicorn or uvicorn process writing its error log to ``log``; True once it listens."""
    spawn(env, argv, log=log, cwd=cwd)
    return wait_port(port, timeout=20)


def poll(fn: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return False


__all__ = ["LogTail", "Nginx", "Sshd", "app_server", "by_id", "entries", "open_dir", "poll", "redis_server", "spawn",
           "start_nginx", "start_sshd", "wait_port", "window"]
