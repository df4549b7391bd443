"""Fixtures of the hundred-and-twenty-first batch: a private sshd and a private memcached on free ports, a
RabbitMQ vhost pair with its users (created on the shared broker, deleted with the batch), a private MariaDB
and two private Redis servers (one with a password, one with a tiny maxmemory), an HTTP peer answering broken
JSON, a self-signed TLS server, a full and a read-only tmpfs, and the Ruby project tree (scripts, a Thor CLI,
RSpec specs, a Rakefile, a Rack app) the cases run."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import Env, free_port, run
from servers import (
    _wait_port,
    accept_loop,
    full_backlog_port,
    mount_tmpfs,
    private_mariadb,
    private_redis,
    self_signed_https,
)

VHOST = "ledger-sync-121"
LIMITED_VHOST = "ledger-archive-121"
RABBIT_USER = "ledger_sync121"
RABBIT_READER = "reporting121"
RABBIT_PASSWORD = "s3ync-Ledger-121"


@dataclass
class Rig:
    """Ports and paths the batch's Ruby cases fail against; `subs` replaces @NAME@ in their sources."""

    root: Path
    subs: dict[str, str] = field(default_factory=dict)

    def fill(self, text: str) -> str:
        for key, value in self.subs.items():
            text = text.replace(f"@{key}@", value)
        return text

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.fill(text))
        return path


def _sshd(env: Env) -> int:
    """An OpenSSH server on a free port that admits nobody (its users have no keys, passwords are refused)."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-sshd-"))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    Path("/run/sshd").mkdir(exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "host_ed25519")], check=True,
                   capture_output=True)
    port = free_port()
    (root / "sshd_config").write_text(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'host_ed25519'}\n"
                                      f"PidFile {root / 'sshd.pid'}\nPasswordAuthentication yes\nUsePAM no\n"
                                      "KbdInteractiveAuthentication no\nMaxAuthTries 3\n")
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(root / "sshd_config"), "-E", str(root / "log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(proc.wait)
    env._closers.append(proc.terminate)
    _wait_port(port)
    return port


def _memcached(env: Env, *args: str) -> int:
    port = free_port()
    proc = subprocess.Popen(["memcached", "-l", "127.0.0.1", "-p", str(port), "-u", "nobody", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(proc.wait)
    env._closers.append(proc.terminate)
    _wait_port(port)
    return port


def _ctl(*args: str) -> None:
    proc = run(["rabbitmqctl", *args], timeout=60)
    if proc.returncode:
        raise RuntimeError(f"rabbitmqctl {args[0]} failed")


def _rabbit(env: Env) -> None:
    """Two vhosts and two users on the shared broker: the sync user may configure only `ledger.*` objects, the
    reporting user has no permission on the vhost, the archive vhost admits one connection at a time."""
    for vhost in (VHOST, LIMITED_VHOST):
        _ctl("add_vhost", vhost)
        env._closers.append(lambda v=vhost: _ctl("delete_vhost", v))  # type: ignore[misc]
    for user in (RABBIT_USER, RABBIT_READER):
        _ctl("add_user", user, RABBIT_PASSWORD)
        env._closers.append(lambda u=user: _ctl("delete_user", u))  # type: ignore[misc]
    _ctl("set_permissions", "-p", VHOST, RABBIT_USER, "^ledger\\.", ".*", ".*")
    _ctl("set_permissions", "-p", LIMITED_VHOST, RABBIT_USER, ".*", ".*", ".*")
    _ctl("set_vhost_limits", "-p", LIMITED_VHOST, '{"max-connections": 1}')


def _broken_json(env: Env) -> int:
    """An HTTP peer whose 200 answer says JSON and sends a cut-off document."""
    body = b'{"invoices": [{"id": "INV-2026-0412", "total": 1840.50, "currency": "EUR"}, {"id": "INV-2026-04'

    def answer(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(1)
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        conn.close()

    return accept_loop(env, answer)


def _busy_port(env: Env) -> int:
    """A port something else already listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    env._closers.append(sock.close)
    port: int = sock.getsockname()[1]
    return port


def prepare(env: Env) -> Rig:
    root = env.tmp / "ledger-platform"
    root.mkdir()
    rig = Rig(root)
    maria_port, _ = private_mariadb(env, max_connections=3)
    full = mount_tmpfs(env, "exports121", "size=64k")
    (full / "ledger-2026-10.csv").write_bytes(b"0" * 60 * 1024)
    ro = mount_tmpfs(env, "releases121", "size=128k")
    (ro / "current").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    _rabbit(env)
    rig.subs.update({
        "ROOT": str(root),
        "HTTP": env.http,
        "CLOSED": str(env.closed_port),
        "HANG": str(env.hang_port),
        "RESET": str(env.reset_port),
        "EMPTY": str(env.empty_port),
        "BACKLOG": str(full_backlog_port(env)),
        "TLS": str(self_signed_https(env)),
        "BADJSON": str(_broken_json(env)),
        "BUSY": str(_busy_port(env)),
        "SSHD": str(_sshd(env)),
        "MEMCACHED_FULL": str(_memcached(env, "-m", "2", "-M")),
        "MYSQL": str(maria_port),
        "REDIS_AUTH": str(private_redis(env, "--requirepass", "q-worker-secret-121")),
        "REDIS_FULL": str(private_redis(env, "--maxmemory", "1mb", "--maxmemory-policy", "noeviction")),
        "FULL": str(full),
        "RO": str(ro),
        "VHOST": VHOST,
        "LIMITED_VHOST": LIMITED_VHOST,
        "RABBIT_USER": RABBIT_USER,
        "RABBIT_READER": RABBIT_READER,
        "RABBIT_PASSWORD": RABBIT_PASSWORD,
    })
    _mysql_schema(rig)
    time.sleep(0.2)
    return rig


def _mysql_schema(rig: Rig) -> None:
    sql = ("CREATE DATABASE ledger; CREATE TABLE ledger.accounts (id INT PRIMARY KEY, email VARCHAR(64) UNIQUE, "
           "iban VARCHAR(34) NOT NULL, balance_cents BIGINT NOT NULL) ENGINE=InnoDB; "
           "INSERT INTO ledger.accounts VALUES (1, 'ops@northwind-ledger.example', 'DE89370400440532013000', 125000),"
           " (2, 'billing@northwind-ledger.example', 'FR1420041010050500013M02606', 990);"
           "CREATE USER 'ledger_app'@'127.0.0.1' IDENTIFIED BY 'ledger-app-pass'; "
           "GRANT ALL ON ledger.* TO 'ledger_app'@'127.0.0.1';")
    proc = run(["mariadb", "-h", "127.0.0.1", "-P", rig.subs["MYSQL"], "-u", "root", "-e", sql])
    if proc.returncode:
        raise RuntimeError("mariadb schema setup failed")


__all__ = ["LIMITED_VHOST", "RABBIT_PASSWORD", "RABBIT_READER", "RABBIT_USER", "VHOST", "Rig", "prepare"]
