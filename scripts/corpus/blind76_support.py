"""Local servers for batch 76, all on 127.0.0.1 and stopped with the batch: an SMTP front built on the smtp-server
package (one listener demanding a password, one with a message size limit and a recipient syntax check, one that
answers 421 on connect) and a GraphQL API (graphql + graphql-http over node's http, with a bearer-token protected
path), both as node processes; a private Redis with a password and one with a tiny maxmemory that is already
full; a schema of its own in the shared PostgreSQL test database for TypeORM's tables."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from checked import NODE_MODULES
from common import Env, free_port, run
from servers import _wait_port, private_redis

GQL_TOKEN = "b76-ops-token"
PG_SCHEMA = "b76"

_SMTP = r"""
const { SMTPServer } = require('smtp-server');
const ports = JSON.parse(process.argv[1]);
const consume = (stream, cb) => { stream.on('data', () => {}); stream.on('end', () => cb(null, 'queued')); };
new SMTPServer({
  disabledCommands: ['STARTTLS'], allowInsecureAuth: true, authMethods: ['PLAIN', 'LOGIN'],
  onAuth(auth, session, cb) {
    if (auth.username === 'app' && auth.password === 'right-password') return cb(null, { user: 'app' });
    const err = new Error('5.7.8 Authentication credentials invalid'); err.responseCode = 535; cb(err);
  },
  onData: consume,
}).listen(ports.auth, '127.0.0.1');
new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'], size: 4096,
  onRcptTo(address, session, cb) {
    if (!/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(address.address)) {
      const err = new Error('5.1.3 Bad recipient address syntax'); err.responseCode = 553; return cb(err);
    }
    cb();
  },
  onData(stream, session, cb) {
    stream.on('data', () => {});
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        const err = new Error('5.3.4 Message size exceeds fixed maximum message size'); err.responseCode = 552;
        return cb(err);
      }
      cb(null, 'queued');
    });
  },
}).listen(ports.plain, '127.0.0.1');
new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'],
  onConnect(session, cb) {
    const err = new Error('4.3.2 Service not available, closing transmission channel'); err.responseCode = 421;
    cb(err);
  },
}).listen(ports.down, '127.0.0.1');
"""

_GRAPHQL = r"""
const http = require('http');
const { createHandler } = require('graphql-http/lib/use/http');
const { buildSchema, GraphQLError } = require('graphql');
const [port, token] = [Number(process.argv[1]), process.argv[2]];
const schema = buildSchema(`
  type Order { id: Int! status: String! total: Float! }
  type Query { order(id: Int!): Order! }
  type Mutation { createOrder(quantity: Int!, sku: String!): Order! }
`);
const rootValue = {
  order: ({ id }) => ({ id, status: 'paid', total: 12.5 }),
  createOrder: ({ quantity, sku }) => {
    if (quantity <= 0) {
      throw new GraphQLError(`quantity must be a positive integer, got ${quantity}`,
                             { extensions: { code: 'BAD_USER_INPUT', field: 'quantity' } });
    }
    return { id: 1, status: 'new', total: 0 };
  },
};
const handler = createHandler({ schema, rootValue });
http.createServer((req, res) => {
  if (req.url.startsWith('/secure') && req.headers.authorization !== `Bearer ${token}`) {
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' });
    return res.end(JSON.stringify({ errors: [{ message: 'invalid or expired access token' }] }));
  }
  handler(req, res);
}).listen(port, '127.0.0.1');
"""


def _node_server(env: Env, source: str, *args: str) -> None:
    proc = subprocess.Popen(["node", "-e", source, *args], env=dict(os.environ, NODE_PATH=str(NODE_MODULES)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=10)

    env._closers.append(stop)


def smtp_servers(env: Env) -> dict[str, int]:
    """Ports of the three SMTP listeners: `auth`, `plain` (size 4096, recipient syntax check), `down` (421)."""
    ports = {"auth": free_port(), "plain": free_port(), "down": free_port()}
    _node_server(env, _SMTP, json.dumps(ports))
    for port in ports.values():
        _wait_port(port)
    return ports


def graphql_server(env: Env) -> str:
    """Base URL of the GraphQL API (`/graphql` open, `/secure/graphql` wants GQL_TOKEN)."""
    port = free_port()
    _node_server(env, _GRAPHQL, str(port), GQL_TOKEN)
    _wait_port(port)
    return f"http://127.0.0.1:{port}"


def redis_with_password(env: Env) -> int:
    return private_redis(env, "--requirepass", "right-password")


def full_redis(env: Env) -> int:
    """A Redis with 2 MB maxmemory and noeviction, filled until it refuses writes."""
    port = private_redis(env, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
    run(["redis-cli", "-p", str(port), "eval",
         "for i=1,200 do redis.call('set','fill76:'..i,string.rep('x',65536)) end", "0"])
    return port


def stale_replica_redis(env: Env, master_port: int) -> int:
    """A Redis replica of a master that is not there, told not to serve stale data: every command is refused."""
    return private_redis(env, "--replicaof", "127.0.0.1", str(master_port), "--replica-serve-stale-data", "no")


def pg_schema(env: Env) -> None:
    """A schema of the batch's own in the shared test database, dropped with the batch."""
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-c"]
    run([*psql, f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE; CREATE SCHEMA {PG_SCHEMA}"])
    def drop() -> None:
        run([*psql, f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"])

    env._closers.append(drop)


def readonly_sqlite(mount: Path) -> Path:
    """A SQLite database with one table on `mount`, which is then remounted read-only."""
    import sqlite3

    db = mount / "ledger76.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, amount INTEGER NOT NULL)")
    conn.commit()
    conn.close()
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True, capture_output=True)
    return db


__all__ = ["GQL_TOKEN", "PG_SCHEMA", "full_redis", "graphql_server", "pg_schema", "readonly_sqlite",
           "redis_with_password", "smtp_servers", "stale_replica_redis"]
