"""Fixtures of the hundred-and-fifth batch: private Redis servers each broken in one way (a password with an ACL
user that may only read, a tiny maxmemory with noeviction already filled, a maxclients of one already taken, a
replica of a master that is not there, one blocked by a busy Lua script), a RabbitMQ vhost and users of the
batch's own on the shared broker (one user without permissions, a vhost whose connection limit is zero), a full
and a read-only tmpfs, and the interpreter of the separate venv where nameko (and eventlet) is installed."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from common import Env, run
from servers import mount_tmpfs, private_redis

#: nameko 2 pins eventlet and kombu: it lives in a venv of its own, run as a subprocess
NAMEKO_PY = "/tmp/recoup-corpus-105/bin/python"
REDIS_PASSWORD = "orders-redis-2f9c"
RABBIT_PASSWORD = "billing-amqp-77d1"
VHOST = "billing105"
CAPPED_VHOST = "reports105"


@dataclass
class Fixtures:
    """Ports and paths the batch's provokers fail against."""

    root: Path
    plain: int
    secured: int
    full: int
    crowded: int
    stale: int
    busy: int
    full_fs: Path
    ro_fs: Path


def _cli(port: int, *args: str, password: str = "") -> None:
    argv = ["redis-cli", "-p", str(port)]
    if password:
        argv += ["--no-auth-warning", "-a", password]
    run([*argv, *args])


def _secured_redis(env: Env) -> int:
    port = private_redis(env, "--requirepass", REDIS_PASSWORD)
    _cli(port, "ACL", "SETUSER", "dashboard", "on", ">dashboard-ro-51", "~*", "+@read", "+ping", "+info",
         password=REDIS_PASSWORD)
    return port


def _full_redis(env: Env) -> int:
    port = private_redis(env, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
    _cli(port, "eval", "for i=1,200 do redis.call('set','sessions:blob:'..i,string.rep('x',65536)) end", "0")
    return port


def _crowded_redis(env: Env) -> int:
    """maxclients 1, and that one slot held by a connection of ours until the batch ends."""
    port = private_redis(env, "--maxclients", "1")
    for _ in range(50):  # the probe of private_redis may still hold the slot for a moment
        holder = socket.create_connection(("127.0.0.1", port))
        holder.sendall(b"PING\r\n")
        if holder.recv(64).startswith(b"+PONG"):
            env._closers.append(holder.close)
            return port
        holder.close()
        time.sleep(0.1)
    raise RuntimeError("could not take the only client slot")


def _busy_redis(env: Env) -> int:
    """A Redis running an endless read-only Lua script: every other client is answered BUSY."""
    port = private_redis(env, "--busy-reply-threshold", "100")
    script = subprocess.Popen(["redis-cli", "-p", str(port), "eval", "while true do end", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    env._closers.append(script.wait)
    env._closers.append(lambda: _cli(port, "script", "kill"))
    return port


def _rabbit(*args: str) -> None:
    run(["rabbitmqctl", "-q", *args], timeout=60)


def rabbit_setup(env: Env) -> None:
    """A vhost with a user allowed on it, a user with no permission anywhere and a vhost admitting no
    connection; deleted with the batch."""
    _rabbit("add_vhost", VHOST)
    _rabbit("add_user", "billing105", RABBIT_PASSWORD)
    _rabbit("set_permissions", "-p", VHOST, "billing105", ".*", ".*", ".*")
    _rabbit("add_user", "auditor105", "auditor-amqp-3b")
    _rabbit("add_vhost", CAPPED_VHOST)
    _rabbit("set_permissions", "-p", CAPPED_VHOST, "billing105", ".*", ".*", ".*")
    _rabbit("set_vhost_limits", "-p", CAPPED_VHOST, '{"max-connections": 0}')

    def drop() -> None:
        for vhost in (VHOST, CAPPED_VHOST):
            _rabbit("delete_vhost", vhost)
        for user in ("billing105", "auditor105"):
            _rabbit("delete_user", user)

    env._closers.append(drop)


def prepare(env: Env) -> Fixtures:
    root = env.tmp / "jobs105"
    root.mkdir()
    plain = private_redis(env)
    full_fs = mount_tmpfs(env, "cachefull105", "size=64k")
    with contextlib.suppress(OSError):
        (full_fs / "filler.bin").write_bytes(b"\0" * 64 * 1024)
    ro_fs = mount_tmpfs(env, "cachero105", "size=256k")
    (ro_fs / "dogpile").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro_fs)], check=True, capture_output=True)
    stale = private_redis(env, "--replicaof", "127.0.0.1", str(env.closed_port), "--replica-serve-stale-data", "no")
    return Fixtures(root, plain, _secured_redis(env), _full_redis(env), _crowded_redis(env), stale,
                    _busy_redis(env), full_fs, ro_fs)


__all__ = ["CAPPED_VHOST", "NAMEKO_PY", "RABBIT_PASSWORD", "REDIS_PASSWORD", "VHOST", "Fixtures", "prepare",
           "rabbit_setup"]
