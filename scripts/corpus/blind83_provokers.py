"""Eighty-third batch of blind provokers: Python networking stacks, each against servers started here on 127.0.0.1
(blind83_support). Twisted through treq and its endpoints (refused, a connect timeout on a full backlog, a reset,
an untrusted certificate, a .invalid name, 503/401 turned into twisted.web errors, a JSON export cut short, a
Deferred fired twice and one failing unhandled), each script run under `task.react` so Twisted prints the Failure;
gevent with monkey-patched sockets (refused, a Timeout around a silent peer, a DNS failure through its c-ares
resolver, a greenlet's own KeyError, too many open files under an rlimit, a 503 in a pool); eventlet likewise (a
Timeout, a DNS failure, a GreenPool TypeError, a 401, a tpool write to a read-only mount, an untrusted
certificate); aioftp against pyftpdlib on a tmpfs out of inodes (wrong password, a missing remote file, the share
out of space, a read-only account, a silent server, a local target that is a directory); aiodns against a dnslib
responder (NXDOMAIN, a bad query type); thriftpy2 (a method the server lacks, declared validation, auth and
unavailability exceptions, a closed port); Pyro5 (a remote ValueError, a rejected handshake, a method that is not
exposed); rpyc (remote KeyError and ValueError); httpx-sse against sse-starlette (a stream cut short, corrupt event
data, 401, 429, 503)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from blind83_support import (
    DNS_ZONE,
    FTP_PASSWORD,
    FTP_READER,
    FTP_READER_PASSWORD,
    FTP_USER,
    PYRO_TOKEN,
    THRIFT_TOKEN,
    dns_servers,
    ftp_server,
    pyro_daemon,
    rpyc_server,
    sse_server,
    thrift_server,
)
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import full_backlog_port, mount_tmpfs, self_signed_https

BLIND83_SOURCES = frozenset({"twisted83", "gevent83", "eventlet83", "aioftp83", "aiodns83", "thrift83", "pyro83",
                             "rpyc83", "sse83"})

# --------------------------------------------------------------------------- Twisted (scripts under task.react)

_TW_HEAD = """import sys
from twisted.internet import defer, task
import treq

"""
_TW_TAIL = "\ntask.react(lambda reactor: defer.ensureDeferred(main(reactor)))\n"


def _tw(body: str) -> str:
    return _TW_HEAD + body + _TW_TAIL


_TWISTED: list[ToolCase] = [
    ("tw_treq_refused", "network", "ConnectionRefusedError|Connection was refused", _tw("""
async def main(reactor):
    response = await treq.get("http://127.0.0.1:{{CLOSED}}/v1/ledger", timeout=5)
    print(await response.text())
""")),
    ("tw_endpoint_connect_timeout", "network", "TimeoutError|timeout", _tw("""
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory, Protocol

async def main(reactor):
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", {{BACKLOG}}, timeout=2)
    await endpoint.connect(Factory.forProtocol(Protocol))
""")),
    ("tw_treq_reset", "network", "ResponseNeverReceived|ConnectionLost|ConnectionDone", _tw("""
async def main(reactor):
    response = await treq.post("http://127.0.0.1:{{RESET}}/v1/ingest", json={"batch": 83}, timeout=5)
    print(response.code)
""")),
    ("tw_treq_tls_untrusted", "network", "certificate verify failed|SSL", _tw("""
async def main(reactor):
    response = await treq.get("https://127.0.0.1:{{TLS}}/health", timeout=5)
    print(response.code)
""")),
    ("tw_treq_dns_invalid", "network", "DNSLookupError", _tw("""
async def main(reactor):
    response = await treq.get("http://billing-api.invalid:8080/v1/invoices", timeout=5)
    print(response.code)
""")),
    ("tw_web_error_503", "service", "503", _tw("""
from twisted.web import error

async def main(reactor):
    response = await treq.get("{{HTTP}}/status/503", timeout=5)
    if response.code >= 400:
        raise error.Error(response.code, response.phrase, await response.content())
""")),
    ("tw_web_error_401", "auth", "401", _tw("""
from twisted.web import error

async def main(reactor):
    response = await treq.get("{{HTTP}}/status/401", auth=("reporter", "expired-secret"), timeout=5)
    if response.code >= 400:
        raise error.Error(response.code, response.phrase, await response.content())
""")),
    ("tw_json_content_truncated", "validation", "JSONDecodeError|Expecting|Unterminated", _tw("""
async def main(reactor):
    response = await treq.get("{{SSE}}/export", timeout=5)
    prices = await treq.json_content(response)
    print(len(prices))
""")),
    ("tw_deferred_already_called", "programming", "AlreadyCalledError", _tw("""
class PriceFeed:
    def __init__(self):
        self.ready = defer.Deferred()

    def on_price(self, price):
        self.ready.callback(price)  # fires once per price, but a Deferred can fire only once

async def main(reactor):
    feed = PriceFeed()
    for price in (10, 11):
        feed.on_price(price)
    print(await feed.ready)
""")),
    ("tw_unhandled_error_in_deferred", "programming", "Unhandled error in Deferred|AttributeError", """import gc
import sys
from twisted.internet import defer
from twisted.python import log

log.startLogging(sys.stderr)


def summarize(rows):
    return rows.totals()  # rows is a plain list here


d = defer.succeed([{"sku": "KB-01", "total": 10}])
d.addCallback(summarize)
del d
gc.collect()
sys.exit(1)
"""),
]

# --------------------------------------------------------------------------- gevent (monkey-patched)

_GV_HEAD = "from gevent import monkey\nmonkey.patch_all()\nimport gevent\n"

_GEVENT: list[ToolCase] = [
    ("gv_requests_refused", "network", "ConnectionRefused|Connection refused", _GV_HEAD + """import requests

def fetch(n):
    return requests.get(f"http://127.0.0.1:{{CLOSED}}/v1/items/{n}", timeout=5).json()

jobs = [gevent.spawn(fetch, n) for n in range(3)]
gevent.joinall(jobs, raise_error=True)
"""),
    ("gv_timeout_silent_peer", "network", "Timeout", _GV_HEAD + """import socket

sock = socket.create_connection(("127.0.0.1", {{HANG}}), timeout=30)
sock.sendall(b"PING\\r\\n")
with gevent.Timeout(2):
    reply = sock.recv(1024)
"""),
    ("gv_dns_invalid", "network", "gaierror|not known|not found", "import os\nos.environ['GEVENT_RESOLVER'] = 'ares'\n"
     + _GV_HEAD + """import socket

def resolve(host):
    return socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)

job = gevent.spawn(resolve, "payments-gw.invalid")
job.join()
job.get()
"""),
    ("gv_greenlet_keyerror", "programming", "KeyError", _GV_HEAD + """
RATES = {"EUR": 1.0, "USD": 1.08}

def convert(amount, currency):
    return amount * RATES[currency.lower()]

jobs = [gevent.spawn(convert, 10, c) for c in ("EUR", "USD")]
gevent.joinall(jobs, raise_error=True)
"""),
    ("gv_too_many_open_files", "resource", "Too many open files", _GV_HEAD + """import resource
import socket

resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))
held = []

def connect(n):
    held.append(socket.create_connection(("127.0.0.1", {{HTTP_PORT}}), timeout=5))

jobs = [gevent.spawn(connect, n) for n in range(100)]
gevent.joinall(jobs, raise_error=True)
"""),
    ("gv_requests_503", "service", "503", _GV_HEAD + """import requests
from gevent.pool import Pool

def fetch(path):
    response = requests.get("{{HTTP}}" + path, timeout=5)
    response.raise_for_status()
    return response.json()

pool = Pool(4)
print(pool.map(fetch, ["/ok", "/status/503", "/ok"]))
"""),
]

# --------------------------------------------------------------------------- eventlet (monkey-patched)

_EV_HEAD = "import eventlet\neventlet.monkey_patch()\n"

_EVENTLET: list[ToolCase] = [
    ("ev_timeout_silent_peer", "network", "Timeout", _EV_HEAD + """
sock = eventlet.connect(("127.0.0.1", {{HANG}}))
sock.sendall(b"STATUS\\r\\n")
with eventlet.Timeout(2):
    reply = sock.recv(1024)
"""),
    ("ev_dns_invalid", "network", "gaierror|not known|NXDOMAIN|does not exist", _EV_HEAD + """import socket

pool = eventlet.GreenPool()
job = pool.spawn(socket.getaddrinfo, "inventory-db.invalid", 5432)
print(job.wait())
"""),
    ("ev_greenpool_typeerror", "programming", "TypeError", _EV_HEAD + """
def reserve(sku, quantity):
    return {"sku": sku, "reserved": quantity}

pool = eventlet.GreenPool(4)
orders = [("KB-01", 2), ("MS-02",)]
jobs = [pool.spawn(reserve, *order) for order in orders]
print([job.wait() for job in jobs])
"""),
    ("ev_urlopen_401", "auth", "401", _EV_HEAD + """import base64
import urllib.request

request = urllib.request.Request("{{HTTP}}/status/401",
                                 headers={"Authorization": "Basic " + base64.b64encode(b"ops:old-pass").decode()})
pool = eventlet.GreenPool()
print(pool.spawn(urllib.request.urlopen, request, timeout=5).wait().read())
"""),
    ("ev_tpool_read_only", "filesystem", "Read-only", _EV_HEAD + """from eventlet import tpool

def write_snapshot(path, data):
    with open(path, "w") as fh:
        fh.write(data)

tpool.execute(write_snapshot, "{{RODIR}}/snapshot-83.json", '{"orders": []}')
"""),
    ("ev_tls_untrusted", "network", "CERTIFICATE_VERIFY_FAILED|certificate verify failed",
     _EV_HEAD + """import urllib.request

print(urllib.request.urlopen("https://127.0.0.1:{{TLS}}/health", timeout=5).read())
"""),
]

# --------------------------------------------------------------------------- aioftp against pyftpdlib


def _aioftp_cases(port: int, env: Env) -> list[PyCase]:
    import aioftp

    def ftp(user: str, password: str, action: Any, target_port: int = port, timeout: float = 5) -> None:
        async def go() -> None:
            client = aioftp.Client(socket_timeout=timeout, connection_timeout=timeout)
            await client.connect("127.0.0.1", target_port)
            try:
                await client.login(user, password)
                await action(client)
            finally:
                client.close()

        asyncio.run(go())

    async def noop(client: Any) -> None:
        await client.list("/")

    async def download_missing(client: Any) -> None:
        await client.download("reports/2026-11.csv", env.tmp / "dl83", write_into=True)

    big = env.tmp / "ledger83_export.bin"
    big.write_bytes(bytes(range(256)) * 1024)  # 256 KiB, more than the 48 KiB disk

    async def upload_big(client: Any) -> None:
        await client.upload(big, "ledger83_export.bin", write_into=True)

    small = env.tmp / "note83.txt"
    small.write_text("closing note\n")

    async def upload_small(client: Any) -> None:
        await client.upload(small, "note83.txt", write_into=True)

    inbox = env.tmp / "inbox83"
    inbox.mkdir()

    async def download_onto_directory(client: Any) -> None:
        await client.download("reports/2026-10.csv", inbox, write_into=True)  # the target is the inbox itself

    return [
        ("ftp_wrong_password", "auth", "aioftp83", "StatusCodeError",
         lambda: ftp(FTP_USER, "ftp-wrong-83", noop)),
        ("ftp_remote_file_missing", "filesystem", "aioftp83", "StatusCodeError",
         lambda: ftp(FTP_USER, FTP_PASSWORD, download_missing)),
        ("ftp_disk_full", "resource", "aioftp83", "StatusCodeError|OSError",
         lambda: ftp(FTP_USER, FTP_PASSWORD, upload_big)),
        ("ftp_read_only_account", "auth", "aioftp83", "StatusCodeError",
         lambda: ftp(FTP_READER, FTP_READER_PASSWORD, upload_small)),
        ("ftp_silent_server_timeout", "network", "aioftp83", "TimeoutError",
         lambda: ftp(FTP_USER, FTP_PASSWORD, noop, target_port=env.hang_port, timeout=2)),
        ("ftp_local_target_is_directory", "filesystem", "aioftp83", "IsADirectoryError|PathIOError",
         lambda: ftp(FTP_USER, FTP_PASSWORD, download_onto_directory)),
    ]


# --------------------------------------------------------------------------- aiodns against dnslib


def _aiodns_cases(dns_port: int) -> list[PyCase]:
    import aiodns

    def query(name: str, qtype: str) -> Any:
        async def go() -> Any:
            resolver = aiodns.DNSResolver(nameservers=[f"127.0.0.1:{dns_port}"], timeout=2, tries=1)
            try:
                return await resolver.query_dns(name, qtype)
            finally:
                await resolver.close()

        return asyncio.run(go())

    return [
        ("dns_nxdomain", "network", "aiodns83", "DNSError", lambda: query(f"billing.{DNS_ZONE}", "A")),
        ("dns_bad_query_type", "programming", "aiodns83", "ValueError|KeyError|TypeError",
         lambda: query(f"api.{DNS_ZONE}", "AAAAA")),
    ]


# --------------------------------------------------------------------------- thriftpy2


def _thrift_cases(port: int, client_idl: Path, env: Env) -> list[PyCase]:
    import thriftpy2
    from thriftpy2.rpc import make_client

    module = thriftpy2.load(str(client_idl), module_name="orders83_client_thrift")

    def call(method: str, *args: Any, target: int = port) -> Any:
        client = make_client(module.Orders, "127.0.0.1", target, timeout=3000)
        try:
            return getattr(client, method)(*args)
        finally:
            client.close()

    return [
        ("thrift_unknown_method", "programming", "thrift83", "TApplicationException", lambda: call("cancel", 7)),
        ("thrift_invalid_order", "validation", "thrift83", "InvalidOrder",
         lambda: call("place", "KB-01", -2, THRIFT_TOKEN)),
        ("thrift_not_authorized", "auth", "thrift83", "NotAuthorized",
         lambda: call("place", "KB-01", 2, "orders-token-82")),
        ("thrift_unavailable", "service", "thrift83", "Unavailable", lambda: call("count_open")),
        ("thrift_refused", "network", "thrift83", "TTransportException",
         lambda: call("count_open", target=env.closed_port)),
    ]


# --------------------------------------------------------------------------- Pyro5


def _pyro_cases(uri: str) -> list[PyCase]:
    import Pyro5.api

    def proxy(token: str = PYRO_TOKEN) -> Any:
        p = Pyro5.api.Proxy(uri)
        p._pyroHandshake = token
        p._pyroTimeout = 5
        return p

    def reserve_from_form() -> None:
        with proxy() as inventory:
            inventory.reserve("KB-01", "two")

    def bad_token() -> None:
        with proxy("pyro-handshake-82") as inventory:
            inventory.reserve("KB-01", "2")

    def not_exposed() -> None:
        with proxy() as inventory:
            inventory.reserve_all("KB-01")

    return [
        ("pyro_remote_value_error", "validation", "pyro83", "ValueError", reserve_from_form),
        ("pyro_handshake_rejected", "auth", "pyro83", "CommunicationError", bad_token),
        ("pyro_unknown_method", "programming", "pyro83", "AttributeError", not_exposed),
    ]


# --------------------------------------------------------------------------- rpyc


def _rpyc_cases(port: int) -> list[PyCase]:
    import rpyc

    def call(method: str, *args: Any) -> Any:
        conn = rpyc.connect("127.0.0.1", port, config={"sync_request_timeout": 5})
        try:
            return getattr(conn.root, method)(*args)
        finally:
            conn.close()

    return [
        ("rpyc_remote_key_error", "programming", "rpyc83", "KeyError", lambda: call("balance", "acct-1")),
        ("rpyc_remote_value_error", "validation", "rpyc83", "ValueError", lambda: call("credit", "acct-1", "12,50")),
    ]


# --------------------------------------------------------------------------- httpx-sse against sse-starlette


def _sse_cases(base: str, cut: str, env: Env) -> list[PyCase]:
    import httpx
    from httpx_sse import connect_sse

    def consume(url: str, parse: bool = False) -> list[Any]:
        with httpx.Client(timeout=5) as client, connect_sse(client, "GET", url) as source:
            source.response.raise_for_status()
            return [event.json() if parse else event.data for event in source.iter_sse()]

    return [
        ("sse_stream_cut_short", "network", "sse83", "RemoteProtocolError|ReadError", lambda: consume(f"{cut}/prices")),
        ("sse_corrupt_event_json", "validation", "sse83", "JSONDecodeError",
         lambda: consume(f"{base}/corrupt", parse=True)),
        ("sse_401", "auth", "sse83", "HTTPStatusError", lambda: consume(f"{base}/denied")),
        ("sse_429", "resource", "sse83", "HTTPStatusError", lambda: consume(env.url(429))),
        ("sse_503", "service", "sse83", "HTTPStatusError", lambda: consume(env.url(503))),
    ]


# --------------------------------------------------------------------------- batch


def blind83_records(env: Env) -> list[Record]:
    ftp_port = ftp_server(env)
    dns_port, _silent_dns = dns_servers(env)
    thrift_port, client_idl = thrift_server(env)
    pyro_uri = pyro_daemon(env)
    rpyc_port = rpyc_server(env)
    sse_base, cut_base = sse_server(env).split("|")
    backlog = full_backlog_port(env)
    tls = self_signed_https(env)
    ro = mount_tmpfs(env, "ro83", "size=64k,ro")
    python = sys.executable
    marks = {"{{CLOSED}}": str(env.closed_port), "{{HANG}}": str(env.hang_port), "{{RESET}}": str(env.reset_port),
             "{{BACKLOG}}": str(backlog), "{{TLS}}": str(tls), "{{HTTP_PORT}}": str(env.http_port),
             "{{HTTP}}": env.http, "{{SSE}}": sse_base, "{{RODIR}}": str(ro)}

    def fill(text: str) -> str:
        for mark, value in marks.items():
            text = text.replace(mark, value)
        return text

    def argv(cases: list[ToolCase]) -> list[ToolCase]:
        return [(name, category, token, [python, "-c", str(script)]) for name, category, token, script in cases]

    out = tool_records(argv(_TWISTED), "twisted83", env.tmp, fill, timeout=30)
    out += tool_records(argv(_GEVENT), "gevent83", env.tmp, fill, timeout=30)
    out += tool_records(argv(_EVENTLET), "eventlet83", env.tmp, fill, timeout=30)
    out += python_records(_aioftp_cases(ftp_port, env))
    out += python_records(_aiodns_cases(dns_port))
    out += python_records(_thrift_cases(thrift_port, client_idl, env))
    out += python_records(_pyro_cases(pyro_uri))
    out += python_records(_rpyc_cases(rpyc_port))
    out += python_records(_sse_cases(sse_base, cut_base, env))
    return out


if __name__ == "__main__":
    write_batch(blind83_records)


__all__ = ["BLIND83_SOURCES", "blind83_records"]
