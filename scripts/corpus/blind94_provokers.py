"""Ninety-fourth batch of blind provokers: Python HTTP client stacks not seen before, each against servers
started here on 127.0.0.1 (blind94_support): pycurl (refused trust, a 503, a missing CA file, a wrong option
type, a URL from input, a 407 from a CONNECT proxy, a SOCKS5 proxy refusing the password); niquests in a venv
of its own (a reset, a 401, HTML where JSON was expected, a 502 from the CONNECT proxy whose upstream is down);
requests-toolbelt (a non-multipart answer, a source address the host does not own, a download to a read-only
and to a full mount); grequests in a child process that gevent patches (a refused port, a 429); uplink (a 503,
a URI variable the method does not take); hishel's SQLite cache, whose logged storage errors are recorded (a
read-only cache dir, a full one, a locked database); h2 used directly (data on a closed stream, an HTTP/1.1
TE header); PySocks, httpx-socks and aiohttp-socks through the SOCKS5 proxy (its port closed, no acceptable
auth method, a target its ruleset refuses, a wrong password, a proxy that never answers, a refused target);
aiohttp-retry, backoff and stamina giving up on 503, 429 and a refused port."""

from __future__ import annotations

import asyncio
import io
import logging
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from blind94_support import (
    SOCKS_PASSWORD,
    SOCKS_USER,
    ChildCase,
    child_records,
    connect_proxy,
    content_server,
    socks5_server,
)
from checked import PyCase, has_token, problem, python_records
from common import Env, Record, record, write_batch
from servers import mount_tmpfs, self_signed_https

BLIND94_SOURCES = frozenset({"pycurl94", "niquests94", "toolbelt94", "grequests94", "uplink94", "hishel94", "h2py94",
                             "pysocks94", "httpxsocks94", "aiohttpsocks94", "aiohttpretry94", "backoff94",
                             "stamina94"})

#: niquests brings urllib3-future, which must not replace the project's urllib3: it lives in a venv of its own.
NIQUESTS_PYTHON = "/tmp/recoup-corpus-94/bin/python"

# --------------------------------------------------------------------------- pycurl


def _pycurl_cases(env: Env, tls_port: int, auth_proxy: int, socks_auth: int) -> list[PyCase]:
    import pycurl

    def fetch(url: str, **options: Any) -> bytes:
        buf = io.BytesIO()
        curl = pycurl.Curl()
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.WRITEDATA, buf)
        curl.setopt(pycurl.CONNECTTIMEOUT, 5)
        curl.setopt(pycurl.TIMEOUT, 10)
        for name, value in options.items():
            curl.setopt(getattr(pycurl, name), value)
        try:
            curl.perform()
        finally:
            curl.close()
        return buf.getvalue()

    def wrong_option_type() -> None:
        curl = pycurl.Curl()
        curl.setopt(pycurl.URL, f"{env.http}/ok")
        curl.setopt(pycurl.TIMEOUT, "30s")  # a config value passed through unparsed

    def url_from_input() -> None:
        order = "A 1042"  # an order number pasted from a ticket
        fetch(f"{env.http}/orders/{order}")

    return [
        ("pycurl_self_signed", "network", "pycurl94", "error", lambda: fetch(f"https://127.0.0.1:{tls_port}/")),
        ("pycurl_fail_503", "service", "pycurl94", "error", lambda: fetch(env.url(503), FAILONERROR=1)),
        ("pycurl_cafile_missing", "filesystem", "pycurl94", "error",
         lambda: fetch(f"https://127.0.0.1:{tls_port}/", CAINFO=str(env.tmp / "certs94" / "ca-bundle.pem"))),
        ("pycurl_setopt_wrong_type", "programming", "pycurl94", "TypeError", wrong_option_type),
        ("pycurl_url_from_input", "validation", "pycurl94", "error", url_from_input),
        ("pycurl_proxy_407", "auth", "pycurl94", "error",
         lambda: fetch(f"{env.http}/ok", PROXY=f"http://127.0.0.1:{auth_proxy}", HTTPPROXYTUNNEL=1)),
        ("pycurl_socks_wrong_password", "auth", "pycurl94", "error",
         lambda: fetch(f"{env.http}/ok", PROXY=f"socks5://127.0.0.1:{socks_auth}",
                       PROXYUSERPWD=f"{SOCKS_USER}:not-the-password")),
    ]


# --------------------------------------------------------------------------- niquests (own venv)


def _niquests_cases(env: Env, content: str, open_proxy: int) -> list[ChildCase]:
    return [
        ("niquests_reset", "network", "niquests94", "ConnectionError", f'''
import niquests
def main():
    niquests.get("http://127.0.0.1:{env.reset_port}/v1/orders", timeout=5)
'''),
        ("niquests_401", "auth", "niquests94", "HTTPError", f'''
import niquests
def main():
    resp = niquests.get("{env.url(401)}", headers={{"Authorization": "Bearer expired-94"}}, timeout=5)
    resp.raise_for_status()
'''),
        ("niquests_json_is_html", "validation", "niquests94", "JSONDecodeError", f'''
import niquests
def main():
    resp = niquests.get("{content}/api/v1/orders", timeout=5)
    return resp.json()["orders"]
'''),
        ("niquests_proxy_502", "service", "niquests94", "ProxyError", f'''
import niquests
def main():
    niquests.get("https://127.0.0.1:{env.closed_port}/v1/orders", timeout=5,
                 proxies={{"https": "http://127.0.0.1:{open_proxy}"}})
'''),
    ]


# --------------------------------------------------------------------------- requests-toolbelt


def _toolbelt_cases(env: Env, content: str, ro: Path, full: Path) -> list[PyCase]:
    import requests
    from requests_toolbelt.adapters.source import SourceAddressAdapter
    from requests_toolbelt.downloadutils.stream import stream_response_to_file
    from requests_toolbelt.multipart.decoder import MultipartDecoder

    def decode_non_multipart() -> None:
        resp = requests.get(f"{content}/export/parts", timeout=5)
        for part in MultipartDecoder.from_response(resp).parts:
            print(part.headers)

    def source_address() -> None:
        session = requests.Session()
        session.mount("http://", SourceAddressAdapter(("10.94.94.94", 0)))
        session.get(f"{env.http}/ok", timeout=5)

    def download_to(directory: Path) -> None:
        resp = requests.get(f"{content}/big/archive94.bin", stream=True, timeout=5)
        stream_response_to_file(resp, path=str(directory / "archive94.bin"))

    return [
        ("toolbelt_decoder_not_multipart", "validation", "toolbelt94", "NonMultipartContentTypeException",
         decode_non_multipart),
        ("toolbelt_source_address", "network", "toolbelt94", "ConnectionError", source_address),
        ("toolbelt_download_read_only", "filesystem", "toolbelt94", "OSError", lambda: download_to(ro)),
        ("toolbelt_download_full", "resource", "toolbelt94", "OSError", lambda: download_to(full)),
    ]


# --------------------------------------------------------------------------- grequests (child: gevent patches)


def _grequests_cases(env: Env) -> list[ChildCase]:
    return [
        ("grequests_refused", "network", "grequests94", "ConnectionError", f'''
import grequests
def reraise(request, exception):
    raise exception
def main():
    urls = ["http://127.0.0.1:{env.closed_port}/v1/stock/%d" % n for n in range(3)]
    grequests.map((grequests.get(u, timeout=5) for u in urls), size=3, exception_handler=reraise)
'''),
        ("grequests_429", "resource", "grequests94", "HTTPError", f'''
import grequests
def main():
    urls = ["{env.url(429)}?page=%d" % n for n in range(3)]
    for resp in grequests.map((grequests.get(u, timeout=5) for u in urls), size=3):
        resp.raise_for_status()
'''),
    ]


# --------------------------------------------------------------------------- uplink


def _uplink_cases(env: Env) -> list[PyCase]:
    import uplink

    def raise_for_status(response: Any) -> Any:
        response.raise_for_status()
        return response

    @uplink.response_handler(raise_for_status)
    class Inventory(uplink.Consumer):
        @uplink.args(sku=uplink.Query)
        @uplink.get("status/503")
        def stock(self, sku):  # type: ignore[no-untyped-def]
            """Stock level of one SKU."""

    def missing_uri_variable() -> None:
        class Orders(uplink.Consumer):  # the path names a variable the method does not take
            @uplink.args(page=uplink.Query)
            @uplink.get("orders/{order_id}/lines")
            def order_lines(self, page):  # type: ignore[no-untyped-def]
                """One page of an order's lines."""

        Orders(base_url=env.http + "/").order_lines(page=2)

    return [
        ("uplink_503", "service", "uplink94", "HTTPError",
         lambda: Inventory(base_url=env.http + "/").stock(sku="KB-94")),
        ("uplink_missing_uri_variable", "programming", "uplink94", "InvalidRequestDefinition|UplinkBuilderError",
         missing_uri_variable),
    ]


# --------------------------------------------------------------------------- hishel


def _hishel_records(env: Env, content: str, ro: Path, full: Path) -> list[Record]:
    """hishel never fails a request for its cache: it logs the storage error with its traceback and serves the
    response uncached, so what these cases record is that log, as the application's logging prints it."""
    import hishel
    from hishel.httpx import CacheClient

    def cached_get(db: Path, url: str) -> None:
        with CacheClient(storage=hishel.SqliteStorage(database_path=db), timeout=5) as client:
            client.get(url).raise_for_status()

    def locked() -> None:
        db = env.tmp / "hishel94.db"
        cached_get(db, f"{content}/catalog")
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # a second worker holds the cache for a long rebuild
        try:
            cached_get(db, f"{content}/catalog?page=2")
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    cases: list[tuple[str, str, str, Callable[[], None]]] = [
        ("hishel_cache_dir_read_only", "filesystem", "Read-only file system",
         lambda: cached_get(ro / "http-cache" / "cache.db", f"{content}/catalog")),
        ("hishel_cache_full", "resource", "disk is full",
         lambda: cached_get(full / "cache.db", f"{content}/big/catalog-export")),
        ("hishel_cache_locked", "resource", "database is locked", locked),
    ]
    out: list[Record] = []
    logger = logging.getLogger("hishel")
    for name, category, token, fn in cases:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
        try:
            fn()
        finally:
            logger.removeHandler(handler)
        text = stream.getvalue().strip()
        if not text:
            problem(name, "no failure")
        elif has_token(name, text, token):
            out.append(record(text, category, "hishel94", "log", name))
    return out


# --------------------------------------------------------------------------- h2 used directly


def _h2_cases() -> list[PyCase]:
    from h2.config import H2Configuration
    from h2.connection import H2Connection

    request = [(":method", "GET"), (":path", "/v1/orders"), (":scheme", "https"), (":authority", "api.local")]

    def data_after_end_stream() -> None:
        conn = H2Connection(H2Configuration(client_side=True))
        conn.initiate_connection()
        conn.send_headers(1, request, end_stream=True)
        conn.send_data(1, b'{"sku": "KB-94"}')

    def te_header() -> None:
        conn = H2Connection(H2Configuration(client_side=True))
        conn.initiate_connection()
        conn.send_headers(1, [*request, ("te", "gzip")], end_stream=True)  # carried over from the HTTP/1.1 client

    return [
        ("h2_data_on_closed_stream", "programming", "h2py94", "StreamClosedError|ProtocolError",
         data_after_end_stream),
        ("h2_te_header", "programming", "h2py94", "ProtocolError", te_header),
    ]


# --------------------------------------------------------------------------- SOCKS5 (PySocks, httpx/aiohttp-socks)


def _socks_cases(env: Env, socks_auth: int, socks_open: int) -> list[PyCase]:
    import httpx
    import socks
    from aiohttp import ClientSession, ClientTimeout
    from aiohttp_socks import ProxyConnector
    from httpx_socks import SyncProxyTransport

    def pysocks_get(proxy_port: int, target_port: int, reply: type[Exception] | None = None, **auth: str) -> bytes:
        """GET /ok through the proxy; PySocks wraps the proxy's reply in GeneralProxyError, kept only when the
        wrapped reply is the provoked one."""
        sock = socks.socksocket()
        sock.set_proxy(socks.SOCKS5, "127.0.0.1", proxy_port, **auth)
        sock.settimeout(5)
        try:
            sock.connect(("127.0.0.1", target_port))
            sock.sendall(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(4096)
        except socks.GeneralProxyError as exc:
            if reply is not None and not isinstance(exc.socket_err, reply):
                raise RuntimeError("the proxy failed otherwise") from None
            raise
        finally:
            sock.close()

    def httpx_socks_get(proxy: str, url: str) -> None:
        with httpx.Client(transport=SyncProxyTransport.from_url(proxy), timeout=3) as client:
            client.get(url).raise_for_status()

    def aiohttp_socks_get(proxy: str, url: str) -> None:
        async def go() -> None:
            async with ClientSession(connector=ProxyConnector.from_url(proxy),
                                     timeout=ClientTimeout(total=5)) as session, session.get(url) as resp:
                resp.raise_for_status()

        asyncio.run(go())

    authed = f"socks5://{SOCKS_USER}:{SOCKS_PASSWORD}@127.0.0.1:{socks_auth}"
    return [
        ("pysocks_proxy_closed", "network", "pysocks94", "ProxyConnectionError",
         lambda: pysocks_get(env.closed_port, env.http_port)),
        ("pysocks_no_credentials", "auth", "pysocks94", "GeneralProxyError",
         lambda: pysocks_get(socks_auth, env.http_port, socks.SOCKS5AuthError)),
        ("pysocks_ruleset_denies_target", "auth", "pysocks94", "GeneralProxyError",
         lambda: pysocks_get(socks_open, 5432, socks.SOCKS5Error)),
        ("httpx_socks_wrong_password", "auth", "httpxsocks94", "ProxyError",
         lambda: httpx_socks_get(f"socks5://{SOCKS_USER}:letmein@127.0.0.1:{socks_auth}", f"{env.http}/ok")),
        ("httpx_socks_proxy_silent", "network", "httpxsocks94", "ProxyTimeoutError|TimeoutException|TimeoutError",
         lambda: httpx_socks_get(f"socks5://127.0.0.1:{env.hang_port}", f"{env.http}/ok")),
        ("aiohttp_socks_target_refused", "network", "aiohttpsocks94", "ProxyError|ClientConnectorError",
         lambda: aiohttp_socks_get(authed, f"http://127.0.0.1:{env.closed_port}/v1/orders")),
    ]


# --------------------------------------------------------------------------- retry wrappers giving up


def _retry_cases(env: Env) -> list[PyCase]:
    import urllib.error
    import urllib.request

    import aiohttp
    import backoff
    import httpx
    import stamina
    from aiohttp_retry import ExponentialRetry, RetryClient

    def aiohttp_retry_get(url: str, status: int) -> None:
        async def go() -> None:
            options = ExponentialRetry(attempts=3, start_timeout=0.05, statuses={status})
            async with RetryClient(retry_options=options, timeout=aiohttp.ClientTimeout(total=5)) as client, \
                    client.get(url) as resp:
                resp.raise_for_status()

        asyncio.run(go())

    @backoff.on_exception(backoff.expo, urllib.error.HTTPError, max_tries=3, factor=0.05)
    def backoff_fetch(url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=5) as resp:
            body: bytes = resp.read()
            return body

    @stamina.retry(on=(httpx.HTTPStatusError, httpx.ConnectError), attempts=3, wait_initial=0.02, wait_max=0.1)
    def stamina_fetch(url: str) -> Any:
        resp = httpx.get(url, timeout=5)
        resp.raise_for_status()
        return resp.json()

    return [
        ("aiohttp_retry_503", "service", "aiohttpretry94", "ClientResponseError",
         lambda: aiohttp_retry_get(env.url(503), 503)),
        ("aiohttp_retry_429", "resource", "aiohttpretry94", "ClientResponseError",
         lambda: aiohttp_retry_get(env.url(429), 429)),
        ("backoff_gives_up_503", "service", "backoff94", "HTTPError", lambda: backoff_fetch(env.url(503))),
        ("stamina_gives_up_429", "resource", "stamina94", "HTTPStatusError", lambda: stamina_fetch(env.url(429))),
        ("stamina_gives_up_refused", "network", "stamina94", "ConnectError",
         lambda: stamina_fetch(f"http://127.0.0.1:{env.closed_port}/v1/rates")),
    ]


def blind94_records(env: Env) -> list[Record]:
    content = content_server(env)
    tls_port = self_signed_https(env)
    auth_proxy = connect_proxy(env, auth=True)
    open_proxy = connect_proxy(env)
    socks_auth = socks5_server(env, auth=True)
    socks_open = socks5_server(env, auth=False, deny_ports={5432})
    ro = mount_tmpfs(env, "ro94", "size=64k,ro")
    full = mount_tmpfs(env, "full94", "size=64k")
    out = python_records(_pycurl_cases(env, tls_port, auth_proxy, socks_auth))
    out += child_records(NIQUESTS_PYTHON, _niquests_cases(env, content, open_proxy), str(env.tmp))
    out += python_records(_toolbelt_cases(env, content, ro, full))
    out += child_records(sys.executable, _grequests_cases(env), str(env.tmp))
    out += python_records(_uplink_cases(env))
    for leftover in full.iterdir():  # the toolbelt download left its partial file
        leftover.unlink()
    out += _hishel_records(env, content, ro, full)
    out += python_records(_h2_cases())
    out += python_records(_socks_cases(env, socks_auth, socks_open))
    out += python_records(_retry_cases(env))
    return out


if __name__ == "__main__":
    write_batch(blind94_records)


__all__ = ["BLIND94_SOURCES", "blind94_records"]
