"""Helpers for batch 88 (configuration checkers and admin tools that validate files before a deploy): the
configuration files the checkers read, all in the batch directory, and private instances of sshd, nginx and
haproxy started on free 127.0.0.1 ports with those files (stopped with the batch). sshd runs in a private mount
namespace whose own tmpfs /run holds its privilege separation directory, so nothing of the system is touched."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

from blind80_support import project
from common import Env, free_port, run
from servers import _wait_port, mount_tmpfs

#: Run a command in a private mount namespace with its own /run (and /run/sshd), e.g. for `sshd -t`.
PRIVATE_RUN = ["unshare", "-m", "sh", "-c", 'mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd && exec "$@"', "sh"]

NGINX_MAIN = """error_log {root}/logs/error.log;
pid {root}/logs/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
{body}
}}
"""

HAPROXY_HEAD = """global
    log stderr local0
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
"""


def nginx_conf(root: Path, name: str, body: str) -> Path:
    """`root/name`: an nginx main file whose logs, pid and temporary files stay under `root`."""
    for sub in ("logs", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_text(NGINX_MAIN.format(root=root, body=body), encoding="utf-8")
    return path


def serve_nginx(env: Env, root: Path, body: str) -> int:
    """Start nginx in the foreground (one process) with `body` in its http block, LISTEN standing for a free port."""
    port = free_port()
    conf = nginx_conf(root, "serve88.conf", body.replace("LISTEN", f"127.0.0.1:{port}"))
    proc = subprocess.Popen(["nginx", "-p", f"{root}/", "-e", f"{root}/logs/error.log", "-c", str(conf), "-g",
                             "daemon off; master_process off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(lambda: stop(proc))
    _wait_port(port)
    return port


def serve_haproxy(env: Env, root: Path, body: str) -> int:
    """Start haproxy in the foreground with this configuration after the defaults, LISTEN standing for a free port."""
    port = free_port()
    cfg = project(root, "", {"serve88.cfg": HAPROXY_HEAD + body.replace("LISTEN", f"127.0.0.1:{port}")}) / "serve88.cfg"
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(lambda: stop(proc))
    _wait_port(port)
    return port


def host_key(path: Path) -> Path:
    """A fresh ed25519 key pair at `path` (private, 0600) and `path.pub`."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True,
                   capture_output=True)
    return path


def serve_sshd(env: Env, root: Path) -> int:
    """A private sshd that accepts only the key in `root/authorized_keys` (public keys, no passwords)."""
    port = free_port()
    conf = root / "sshd_serve88"
    conf.write_text(f"ListenAddress 127.0.0.1:{port}\nHostKey {root / 'host_ed25519'}\nPidFile {root / 'sshd.pid'}\n"
                    f"AuthorizedKeysFile {root / 'authorized_keys'}\nStrictModes no\nUsePAM no\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\n", encoding="utf-8")
    proc = subprocess.Popen([*PRIVATE_RUN, "/usr/sbin/sshd", "-D", "-e", "-f", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    env._closers.append(lambda: stop(proc))
    _wait_port(port)
    return port


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server this batch started and reap it."""
    proc.terminate()
    proc.wait(timeout=30)


def full_mount_with(env: Env, name: str, files: dict[str, str | bytes]) -> Path:
    """A 128 kB tmpfs holding these files, then filled to the last byte (ENOSPC for anything written next)."""
    target = mount_tmpfs(env, name, "size=128k")
    project(target, "", files)
    with contextlib.suppress(OSError), (target / ".filler").open("wb") as filler:
        while True:
            filler.write(b"\0" * 4096)
            filler.flush()
    return target


def rndc_conf(root: Path, port: int) -> Path:
    """An rndc client configuration (with a fresh key) whose default server is 127.0.0.1:`port`."""
    root.mkdir(parents=True, exist_ok=True)
    key = root / "rndc88.key"
    run(["rndc-confgen", "-a", "-c", str(key), "-k", "deploy88-key"])
    conf = root / "rndc88.conf"
    conf.write_text(f'include "{key}";\noptions {{ default-key "deploy88-key"; default-server 127.0.0.1; '
                    f"default-port {port}; }};\n", encoding="utf-8")
    return conf


__all__ = ["HAPROXY_HEAD", "PRIVATE_RUN", "full_mount_with", "host_key", "nginx_conf", "rndc_conf", "serve_haproxy",
           "serve_nginx", "serve_sshd", "stop"]
