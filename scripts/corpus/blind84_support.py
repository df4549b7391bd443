"""Local pieces for batch 84 (web scraping, feeds, HTML/XML tooling), all on 127.0.0.1: a small site served by
http.server (a catalog page, robots.txt, a login form that refuses its credentials, feeds as a publisher would
serve them: a truncated one and ones carrying entity attacks or a DTD, cacheable pages, a signed XML document),
the key pairs the signature cases sign and verify with, and the Scrapy spider and item pipelines the batch runs
with `scrapy runspider`."""

from __future__ import annotations

import http.server
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Env

CATALOG = """<!doctype html>
<html><head><title>Catalog 84</title></head><body>
<ul class="products">
  <li class="product"><a href="/p/kb-01">Keyboard</a><span class="price">49.90</span></li>
  <li class="product"><a href="/p/ms-02">Mouse</a><span class="price">19,90 EUR</span></li>
  <li class="product"><a href="/p/mn-03">Monitor</a><span class="price">189.00</span></li>
</ul>
<a class="next" href="/private/report">report</a>
</body></html>
"""

LOGIN = """<!doctype html>
<html><body>
<form id="signin" action="/session" method="post">
  <input name="username" type="text"><input name="password" type="password">
  <input type="submit" value="Sign in">
</form>
</body></html>
"""

ROBOTS = "User-agent: *\nDisallow: /private/\n"

FEED_TRUNCATED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Releases 84</title>
<item><title>v2.4.0</title><link>http://127.0.0.1/r/240</link><description>Fixes</description></item>
<item><title>v2.4.1</title><link>http://127.0.0.1/r/241</link><description>Security fixes for the <b>parser
</channel></rss>
"""

FEED_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rss version="2.0"><channel><title>&lol3;</title></channel></rss>
"""

FEED_EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<rss version="2.0"><channel><title>Partner feed</title><description>&secret;</description></channel></rss>
"""

FEED_DTD = """<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://127.0.0.1/rss-0.91.dtd">
<rss version="0.91"><channel><title>Legacy feed</title></channel></rss>
"""

PAGE_WITHOUT_TABLE = """<!doctype html><html><body><h1>Prices</h1>
<p>The price table is loaded by script.</p><div id="app"></div></body></html>"""

LEGACY = """<html><body><table><tr><td>Keyboard<td>49.90</tr><p>Prices incl. VAT</table>
<font size=2><b>Updated <i>monthly</b></i></font></body></html>"""

INVOICE = ('<Invoice xmlns="urn:b84:invoice" ID="inv-8841"><Customer>ACME</Customer>'
           '<Total currency="EUR">1250.00</Total></Invoice>')


@dataclass
class Site:
    base: str
    pages: dict[str, tuple[int, dict[str, str], bytes]]


def _handler(pages: dict[str, tuple[int, dict[str, str], bytes]]) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.split("?")[0]
            status, headers, body = pages.get(path, (404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = _answer
        do_POST = _answer
        do_HEAD = _answer

    return Handler


class _Quiet(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def site(env: Env) -> Site:
    """Serve the batch's pages on a free port (stopped with `env`); `pages` can still be filled afterwards."""
    html = {"Content-Type": "text/html; charset=utf-8"}
    xml = {"Content-Type": "application/rss+xml; charset=utf-8"}
    big = ("<html><body>" + "".join(f"<p class='row'>row {i} " + "x" * 90 + "</p>\n" for i in range(3000))
           + "</body></html>").encode()
    pages: dict[str, tuple[int, dict[str, str], bytes]] = {
        "/catalog": (200, html, CATALOG.encode()),
        "/robots.txt": (200, {"Content-Type": "text/plain"}, ROBOTS.encode()),
        "/private/report": (200, html, b"<html><body>internal</body></html>"),
        "/login": (200, html, LOGIN.encode()),
        "/session": (401, {**html, "WWW-Authenticate": 'Form realm="shop84"'},
                     b"<html><body><p class='error'>Invalid username or password</p></body></html>"),
        "/prices": (200, html, PAGE_WITHOUT_TABLE.encode()),
        "/legacy": (200, html, LEGACY.encode()),
        "/feed/releases.xml": (200, xml, FEED_TRUNCATED.encode()),
        "/feed/laughs.xml": (200, xml, FEED_LAUGHS.encode()),
        "/feed/partner.xml": (200, xml, FEED_EXTERNAL.encode()),
        "/feed/legacy.xml": (200, xml, FEED_DTD.encode()),
        "/archive/big": (200, {**html, "Cache-Control": "public, max-age=600"}, big),
        "/archive/small": (200, {**html, "Cache-Control": "public, max-age=600"}, CATALOG.encode()),
    }
    server = _Quiet(("127.0.0.1", 0), _handler(pages))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return Site(f"http://127.0.0.1:{server.server_address[1]}", pages)


@dataclass
class KeyPair:
    key: Path
    cert: Path


def key_pair(env: Env, name: str) -> KeyPair:
    """A fresh RSA key and its self-signed certificate under the batch directory."""
    key, cert = env.tmp / f"{name}.key", env.tmp / f"{name}.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return KeyPair(key, cert)


# --------------------------------------------------------------------------- Scrapy spider and pipelines

SPIDER = '''import scrapy


class Catalog84Spider(scrapy.Spider):
    name = "catalog84"

    def __init__(self, url, mode="items", **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [url]
        self.mode = mode

    def parse(self, response):
        if self.mode == "css":
            for link in response.css("ul.products > li.product a[href"):
                yield response.follow(link, callback=self.parse)
            return
        for li in response.css("li.product"):
            yield {"name": li.css("a::text").get(), "url": response.urljoin(li.css("a::attr(href)").get()),
                   "price": li.css(".price::text").get()}
        for link in response.css("a.next::attr(href)").getall():
            yield response.follow(link, callback=self.parse)
'''

SPIDER_BROKEN = '''import scrapy


class Broken84Spider(scrapy.Spider):
    name = "broken84"
    start_urls = ["URL"]

    def parse(self, response)
        for li in response.css("li.product"):
            yield {"name": li.css("a::text").get()}
'''

PIPELINES = '''from decimal import Decimal


class SkuPipeline:
    """Index items by the SKU the spider was supposed to extract."""

    def open_spider(self, spider):
        self.seen = {}

    def process_item(self, item, spider):
        self.seen[item["sku"]] = item
        return item


class PricePipeline:
    """Normalise the scraped price text to a number."""

    def process_item(self, item, spider):
        item["price"] = float(item["price"])
        return item
'''


def write_spiders(env: Env, url: str) -> None:
    (env.tmp / "catalog84_spider.py").write_text(SPIDER, encoding="utf-8")
    (env.tmp / "broken84_spider.py").write_text(SPIDER_BROKEN.replace("URL", url), encoding="utf-8")
    (env.tmp / "pipelines84.py").write_text(PIPELINES, encoding="utf-8")


__all__ = ["INVOICE", "KeyPair", "Site", "key_pair", "site", "write_spiders"]
