"""Helpers of batch 40: where its Node.js libraries live, the private servers its clients fail against (a Redis
with a password and a tiny maxmemory, a password-only PostgreSQL cluster, nats-server and mosquitto with
passwords), a directory only root can read, and the cleanup of the tables it makes in the shared PostgreSQL."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from blind36_support import private_nats
from common import Env, run
from servers import mount_tmpfs, private_mosquitto, private_postgres, private_redis

#: `npm install --prefix /tmp/recoup-corpus-node40 undici redis@4 knex sequelize ws nats mqtt zod joi ajv yaml
#: csv-parse simple-git execa@5 fs-extra node-fetch@2 pg`
NODE40_MODULES = Path("/tmp/recoup-corpus-node40/node_modules")
#: the password every private server of the batch accepts; the cases that fail on auth send another
GOOD_PASSWORD = "right-password"
#: tables the batch creates in the shared PostgreSQL database `test` (dropped at the end, whatever happened)
SHARED_TABLES = ("b40_users", "b40_orders", "b40_accounts", "b40_customers")


def node40_ready() -> bool:
    """Put the batch's libraries on NODE_PATH for every node the cases start; False when they are missing."""
    if not (NODE40_MODULES / "undici").is_dir():
        return False
    os.environ["NODE_PATH"] = str(NODE40_MODULES)
    return True


def drop_shared_tables() -> None:
    run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-c",
         "DROP TABLE IF EXISTS " + ", ".join(SHARED_TABLES) + " CASCADE"])


def root_only_dir(env: Env) -> Path:
    """A directory `nobody` can enter, holding a root-owned 0600 `deploy.json` it cannot read."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-b40-"))
    root.chmod(0o755)
    secret = root / "deploy.json"
    secret.write_text('{"token": "x"}\n')
    secret.chmod(0o600)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    return root


def placeholders(env: Env, api: str) -> Callable[[str], str]:
    """Start the private servers and return the function that fills `@NAME@` placeholders in the case scripts."""
    redis_port = private_redis(env, "--requirepass", GOOD_PASSWORD, "--maxmemory", "3mb",
                               "--maxmemory-policy", "noeviction")
    pg = private_postgres(env)
    nats_port = private_nats(env)
    mqtt_port = private_mosquitto(env)
    disk = mount_tmpfs(env, "disk40", "size=64k")
    secret = root_only_dir(env)
    env._closers.append(drop_shared_tables)
    values = {
        "@HTTP@": env.http, "@API@": api, "@CLOSED@": str(env.closed_port), "@RESET@": str(env.reset_port),
        "@HANG@": str(env.hang_port), "@REDIS@": str(redis_port),
        "@PGPRIV@": str(pg.port), "@NATS@": str(nats_port), "@MQTT@": str(mqtt_port), "@TMP@": str(env.tmp),
        "@DISK@": str(disk), "@SECRET@": str(secret), "@PW@": GOOD_PASSWORD,
    }

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    return fill


__all__ = ["GOOD_PASSWORD", "NODE40_MODULES", "SHARED_TABLES", "drop_shared_tables", "node40_ready", "placeholders",
           "root_only_dir"]
