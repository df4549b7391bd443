"""Local servers for batch 83, all on 127.0.0.1 and stopped with the batch: an FTP server (pyftpdlib) whose home is
a tmpfs out of inodes, a DNS responder (dnslib) that knows one zone and answers NXDOMAIN for the rest plus a UDP port
that never answers, a Thrift service (thriftpy2), a Pyro5 daemon that checks a handshake token, an rpyc service and an
SSE endpoint (sse-starlette behind uvicorn) that can stream, cut a stream short or go quiet."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

from common import Env, free_port
from servers import _wait_port, accept_loop, mount_tmpfs

logging.getLogger("pyftpdlib").addHandler(logging.NullHandler())  # else pyftpdlib logs every session to stderr
for _name in ("pyftpdlib", "Pyro5", "rpyc", "thriftpy2", "sse_starlette", "uvicorn", "uvicorn.error"):
    logging.getLogger(_name).setLevel(logging.CRITICAL + 1)


# --------------------------------------------------------------------------- FTP (pyftpdlib)

FTP_USER, FTP_PASSWORD = "ingest", "ftp-right-83"
FTP_READER, FTP_READER_PASSWORD = "auditor", "audit-83"


def ftp_server(env: Env) -> int:
    """pyftpdlib with `ingest` (full rights) and `auditor` (read only), both at home on a tmpfs with no inode
    left."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import ThreadedFTPServer

    home = mount_tmpfs(env, "ftp83", "size=256k,nr_inodes=16,mode=0777")
    (home / "reports").mkdir()
    (home / "reports" / "2026-10.csv").write_text("day,total\n1,10\n")
    (home / "spool").mkdir()
    with contextlib.suppress(OSError):  # earlier uploads have used up every inode of the share
        for n in range(64):
            (home / "spool" / f"part-{n:03d}.tmp").touch()
    authorizer = DummyAuthorizer()
    authorizer.add_user(FTP_USER, FTP_PASSWORD, str(home), perm="elradfmw")
    authorizer.add_user(FTP_READER, FTP_READER_PASSWORD, str(home), perm="elr")

    class Handler(FTPHandler):
        pass

    Handler.authorizer = authorizer
    Handler.auth_failed_timeout = 0.1
    Handler.passive_ports = None
    port = free_port()
    server = ThreadedFTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2, "handle_exit": False}, daemon=True)
    thread.start()
    env._closers.append(server.close_all)
    _wait_port(port)
    return port


# --------------------------------------------------------------------------- DNS (dnslib)

DNS_ZONE = "corp83.test."


def dns_servers(env: Env) -> tuple[int, int]:
    """A dnslib UDP server answering A records under corp83.test. (NXDOMAIN for the rest of that zone, REFUSED
    outside it), and a bound UDP port that reads queries and never answers."""
    from dnslib import QTYPE, RCODE, RR, A
    from dnslib.server import BaseResolver, DNSLogger, DNSServer

    class Resolver(BaseResolver):
        def resolve(self, request: Any, handler: Any) -> Any:
            reply = request.reply()
            qname = str(request.q.qname)
            if not qname.endswith(DNS_ZONE):
                reply.header.rcode = RCODE.REFUSED
            elif qname == f"api.{DNS_ZONE}" and request.q.qtype == QTYPE.A:
                reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
            else:
                reply.header.rcode = RCODE.NXDOMAIN
            return reply

    port = free_port()
    server = DNSServer(Resolver(), port=port, address="127.0.0.1", logger=DNSLogger("-request,-reply,-truncated,"
                                                                                     "-error,-recv,-send,-data"))
    server.start_thread()
    env._closers.append(server.stop)
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    env._closers.append(silent.close)
    return port, silent.getsockname()[1]


# --------------------------------------------------------------------------- Thrift (thriftpy2)

THRIFT_IDL = """
exception InvalidOrder { 1: string message, 2: string field }
exception NotAuthorized { 1: string message }
exception Unavailable { 1: string message, 2: i32 retry_after }
struct Order { 1: i64 id, 2: string sku, 3: i32 quantity }
service Orders {
    Order place(1: string sku, 2: i32 quantity, 3: string token)
        throws (1: InvalidOrder invalid, 2: NotAuthorized denied),
    Order get(1: i64 id),
    i32 count_open() throws (1: Unavailable unavailable),
}
"""

#: the client's copy of the IDL: a newer version that also knows `cancel`, which the deployed server does not
THRIFT_CLIENT_IDL = THRIFT_IDL.replace("Order get(1: i64 id),", "Order get(1: i64 id),\n    bool cancel(1: i64 id),")

THRIFT_TOKEN = "orders-token-83"


def thrift_server(env: Env) -> tuple[int, Path]:
    """The Orders service on a threaded thriftpy2 server; returns its port and the client IDL path."""
    import thriftpy2
    from thriftpy2.rpc import make_server

    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-thrift-", dir=env.tmp))
    (root / "orders83.thrift").write_text(THRIFT_IDL)
    (root / "orders83_client.thrift").write_text(THRIFT_CLIENT_IDL)
    module = thriftpy2.load(str(root / "orders83.thrift"), module_name="orders83_thrift")

    class Handler:
        orders: ClassVar[dict[int, Any]] = {}

        def place(self, sku: str, quantity: int, token: str) -> Any:
            if token != THRIFT_TOKEN:
                raise module.NotAuthorized(message="token rejected for service Orders.place")
            if quantity <= 0:
                raise module.InvalidOrder(message=f"quantity must be positive, got {quantity}", field="quantity")
            return module.Order(id=1, sku=sku, quantity=quantity)

        def get(self, id: int) -> Any:
            return self.orders[id]

        def count_open(self) -> int:
            raise module.Unavailable(message="order store is in maintenance mode, try again later", retry_after=30)

    port = free_port()
    server = make_server(module.Orders, Handler(), "127.0.0.1", port, client_timeout=None)
    threading.Thread(target=server.serve, daemon=True).start()
    env._closers.append(server.close)
    _wait_port(port)
    return port, root / "orders83_client.thrift"


# --------------------------------------------------------------------------- Pyro5

PYRO_TOKEN = "pyro-handshake-83"


def pyro_daemon(env: Env) -> str:
    """A Pyro5 daemon serving `inventory83`; a client must send the handshake token. Returns the object's URI."""
    import Pyro5.api
    import Pyro5.errors

    @Pyro5.api.expose
    class Inventory:
        def reserve(self, sku: str, quantity: str) -> int:
            return int(quantity)  # the quantity arrives as text from the shop form

        def restock_report(self) -> str:
            time.sleep(4)
            return "ok"

    class Daemon(Pyro5.api.Daemon):
        def validateHandshake(self, conn: Any, data: Any) -> Any:
            if data != PYRO_TOKEN:
                raise ValueError("handshake token rejected: client is not authorized for this daemon")
            return "welcome"

    daemon = Daemon(host="127.0.0.1", port=0)
    uri = daemon.register(Inventory(), "inventory83")
    threading.Thread(target=daemon.requestLoop, daemon=True).start()
    env._closers.append(daemon.close)
    env._closers.append(daemon.shutdown)
    return str(uri)


# --------------------------------------------------------------------------- rpyc


def rpyc_server(env: Env) -> int:
    """An rpyc service with a ledger whose methods fail on their own data or wait."""
    import rpyc
    from rpyc.utils.server import ThreadedServer

    class LedgerService(rpyc.Service):
        balances: ClassVar[dict[str, int]] = {"acct-1": 100}

        def exposed_balance(self, account: str) -> int:
            return self.balances[account.upper()]  # the service's own key bug: keys are lower-case

        def exposed_credit(self, account: str, amount: str) -> int:
            return self.balances[account] + int(amount)

        def exposed_close_period(self) -> str:
            time.sleep(4)
            return "closed"

    port = free_port()
    server = ThreadedServer(LedgerService, hostname="127.0.0.1", port=port,
                            protocol_config={"allow_public_attrs": False}, logger=logging.getLogger("rpyc"))
    threading.Thread(target=server.start, daemon=True).start()
    env._closers.append(server.close)
    _wait_port(port)
    return port


# --------------------------------------------------------------------------- SSE (sse-starlette + uvicorn)


def sse_server(env: Env) -> str:
    """`/events` streams three events; `/cut` sends one event and then drops the connection; `/quiet` sends one
    event and goes silent; `/corrupt` sends an event whose JSON data is cut short; `/denied` answers 401;
    `/export` answers a JSON body cut short."""
    import uvicorn
    from sse_starlette.sse import EventSourceResponse
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def events(request: Request) -> EventSourceResponse:
        async def gen() -> AsyncIterator[dict[str, str]]:
            for i in range(3):
                yield {"event": "price", "data": json.dumps({"sku": "KB-01", "price": 10 + i})}

        return EventSourceResponse(gen())

    async def quiet(request: Request) -> EventSourceResponse:
        async def gen() -> AsyncIterator[dict[str, str]]:
            yield {"event": "price", "data": json.dumps({"sku": "KB-01", "price": 10})}
            await asyncio.sleep(30)

        return EventSourceResponse(gen(), ping=60)

    async def corrupt(request: Request) -> EventSourceResponse:
        async def gen() -> AsyncIterator[dict[str, str]]:
            yield {"event": "price", "data": json.dumps({"sku": "KB-01", "price": 10})[:-6]}

        return EventSourceResponse(gen())

    async def denied(request: Request) -> JSONResponse:
        return JSONResponse({"detail": "invalid bearer token for stream"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})

    async def export(request: Request) -> Response:
        body = json.dumps([{"sku": f"KB-{i:02d}", "price": 10 + i} for i in range(40)])
        return Response(body[: len(body) * 2 // 3], media_type="application/json")  # an export cut short

    app = Starlette(routes=[Route("/events", events), Route("/quiet", quiet), Route("/corrupt", corrupt),
                            Route("/denied", denied), Route("/export", export)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)

    env._closers.append(stop)
    _wait_port(port)
    cut = _cut_stream_server(env)
    return f"http://127.0.0.1:{port}|http://127.0.0.1:{cut}"


def _cut_stream_server(env: Env) -> int:
    """A raw SSE responder that sends a chunked event stream head and one event, then closes (a proxy that drops
    the upstream mid-stream)."""

    def cut(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(1)
            conn.recv(4096)
            event = b'event: price\r\ndata: {"sku": "KB-01", "price": 10}\r\n\r\n'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
                         b"Cache-Control: no-store\r\n\r\n" + f"{len(event):x}\r\n".encode() + event + b"\r\n")
            time.sleep(0.3)
        conn.close()

    return accept_loop(env, cut)


__all__ = ["DNS_ZONE", "FTP_PASSWORD", "FTP_READER", "FTP_READER_PASSWORD", "FTP_USER", "PYRO_TOKEN",
           "THRIFT_TOKEN", "dns_servers", "ftp_server", "pyro_daemon", "rpyc_server", "sse_server", "thrift_server"]
