"""Fixtures of the hundred-and-sixth batch: the Node.js libraries installed in the batch's own prefix
(`npm install --prefix /tmp/recoup-corpus-106-node axios@1 got@11 superagent@9 ioredis@5 mysql2@3 amqplib@0 ssh2@1
ldapjs@3 yargs@17 commander@12 convict@6 @hapi/hapi@21 cheerio@1.0.0 winston@3 pino@9`), a runner that records
what a failing `node -e` script printed, and the servers those scripts fail against: private Redis instances
(password, maxmemory, a replica whose master is gone), a private MariaDB with a `shop` schema and an
application user, a RabbitMQ vhost with a queue limit on the loopback broker, an SSH server and an LDAP directory
written with ssh2's and ldapjs's own server classes, tiny tmpfs mounts (full and read-only) and a log directory
closed to the `nobody` user."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

from checked import node_prefix_records
from common import Env, Record, run
from servers import mount_tmpfs, private_mariadb, private_redis

NODE_PREFIX = Path("/tmp/recoup-corpus-106-node")
NODE_MODULES = NODE_PREFIX / "node_modules"

#: name, category, expected output token (`A|B`), CommonJS script with __PLACEHOLDERS__
NodeCase = tuple[str, str, str, str]


def node_records(cases: Iterable[NodeCase], source: str, cwd: Path, fill: Callable[[str], str],
                 user: str = "") -> list[Record]:
    """The batch's scripts, run with its own npm prefix (checked.node_prefix_records)."""
    return node_prefix_records(cases, source, cwd, fill, NODE_MODULES, user=user)


def _node_server(env: Env, script: str, *args: str) -> int:
    """Start a Node.js server script that prints its port on the first line; stopped with `env`."""
    path = env.tmp / f"server-{len(env._closers)}.js"
    path.write_text(script)
    proc = subprocess.Popen(["node", str(path), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, NODE_PATH=str(NODE_MODULES)))
    env._closers.append(proc.wait)
    env._closers.append(proc.terminate)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.isdigit():
        raise RuntimeError("node server did not start")
    return int(line)


_SSH_SERVER = """const fs = require('fs');
const { Server } = require('ssh2');
const server = new Server({ hostKeys: [fs.readFileSync(process.argv[2])], ident: 'OpenSSH_9.2p1 Debian-2+deb12u3' },
  (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === 'deploy' && ctx.password === 'right-password') ctx.accept();
      else ctx.reject(['publickey', 'password']);
    });
    client.on('ready', () => client.on('session', (accept) => accept().on('exec', (ok) => {
      const ch = ok(); ch.exit(0); ch.end();
    })));
  });
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
"""


def ssh_server(env: Env) -> tuple[int, Path]:
    """An SSH server (ssh2's Server) that admits only deploy/right-password; returns its port and an ed25519 key
    it does not accept."""
    keys = env.tmp / "keys106"
    keys.mkdir()
    for name in ("host_ed25519", "id_ed25519"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-m", "PEM", "-f", str(keys / name)],
                       check=True, capture_output=True)
    return _node_server(env, _SSH_SERVER, str(keys / "host_ed25519")), keys / "id_ed25519"


_LDAP_SERVER = """const ldap = require('ldapjs');
const server = ldap.createServer();
const ADMIN = 'cn=admin,dc=corp,dc=example';
server.bind('dc=corp,dc=example', (req, res, next) => {
  if (req.dn.toString() === ADMIN && req.credentials === 'right-password') { res.end(); return next(); }
  if (req.dn.toString() === 'cn=replicator,dc=corp,dc=example') {
    return next(new ldap.UnavailableError('server is shutting down'));
  }
  return next(new ldap.InvalidCredentialsError());
});
server.search('ou=people,dc=corp,dc=example', (req, res, next) => next(new ldap.SizeLimitExceededError()));
server.search('ou=groups,dc=corp,dc=example',
  (req, res, next) => next(new ldap.BusyError('too many operations in progress')));
server.modify('dc=corp,dc=example',
  (req, res, next) => next(new ldap.InsufficientAccessRightsError('no write access to parent')));
server.listen(0, '127.0.0.1', () => console.log(server.port || server.address().port));
"""


def ldap_server(env: Env) -> int:
    """An LDAP directory (ldapjs's server) for dc=corp,dc=example that refuses in the ways slapd does."""
    return _node_server(env, _LDAP_SERVER)


def redis_servers(env: Env) -> dict[str, int]:
    """Private Redis servers: password, tiny maxmemory and a replica of a master that is gone."""
    return {
        "REDIS_AUTH": private_redis(env, "--requirepass", "s3ssion-cache-106", "--busy-reply-threshold", "100"),
        "REDIS_OOM": private_redis(env, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction"),
        "REDIS_REPLICA": private_redis(env, "--replicaof", "127.0.0.1", str(env.closed_port),
                                       "--replica-serve-stale-data", "no"),
    }


_SHOP_SCHEMA = """
CREATE DATABASE shop;
CREATE TABLE shop.customers (id INT PRIMARY KEY AUTO_INCREMENT, email VARCHAR(190) NOT NULL UNIQUE,
  full_name VARCHAR(120) NOT NULL) ENGINE=InnoDB;
CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL, placed_on DATE NOT NULL,
  total_cents INT NOT NULL, status VARCHAR(20) NOT NULL DEFAULT 'new') ENGINE=InnoDB;
INSERT INTO shop.customers (email, full_name) VALUES ('jane.doe@customer.example', 'Jane Doe');
INSERT INTO shop.orders (customer_id, placed_on, total_cents) VALUES (1, '2026-11-02', 4599);
CREATE USER 'billing'@'%' IDENTIFIED BY 'right-password';
GRANT ALL ON shop.* TO 'billing'@'%';
"""


def mariadb(env: Env) -> int:
    """A private MariaDB (3 connections) with the `shop` schema and the `billing` user."""
    port, _ = private_mariadb(env, max_connections=3)
    proc = run(["mariadb", "-h", "127.0.0.1", "-P", str(port), "-u", "root", "-e", _SHOP_SCHEMA])
    if proc.returncode:
        raise RuntimeError("private mariadb schema failed")
    return port


def rabbit_vhosts(env: Env) -> dict[str, str]:
    """A vhost on the loopback broker that admits no new queue; removed at the end."""
    names = {"VH_QUEUES": "reports-106"}
    for vhost, limits in (("reports-106", '{"max-queues": 0}'),):
        for args in (["add_vhost", vhost], ["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                     ["set_vhost_limits", "-p", vhost, limits]):
            subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)
        env._closers.append(lambda v=vhost: subprocess.run(["rabbitmqctl", "delete_vhost", v], check=False,
                                                           capture_output=True, timeout=60))
    return names


def disks(env: Env) -> dict[str, Path]:
    """A full tmpfs, one without free inodes, a read-only tmpfs and a log directory the `nobody` user cannot write."""
    full = mount_tmpfs(env, "full106", "size=64k")
    (full / "var-log-filler.bin").write_bytes(b"\0" * 60 * 1024)
    inodes = mount_tmpfs(env, "inodes106", "size=256k,nr_inodes=6")
    with contextlib.suppress(OSError):
        for i in range(16):
            (inodes / f"rotated-{i:02d}.log.gz").write_bytes(b"")
    ro = mount_tmpfs(env, "ro106", "size=64k,ro")
    env.tmp.chmod(0o755)
    closed = env.tmp / "srv106" / "logs"
    closed.mkdir(parents=True)
    closed.chmod(0o755)  # owned by root: nobody may list it, not create files in it
    shutil.chown(env.tmp / "srv106", "root", "root")
    return {"FULL": full, "INODES": inodes, "RO": ro, "LOGS_CLOSED": closed}


__all__ = ["NODE_MODULES", "NodeCase", "disks", "ldap_server", "mariadb", "node_records", "rabbit_vhosts",
           "redis_servers", "ssh_server"]
