"""Eighty-fourth batch of blind provokers: web scraping, feeds and HTML/XML tooling against a small site served on
127.0.0.1 (blind84_support). Scrapy spiders run with `scrapy runspider` (status codes the crawl does not handle,
retries given up, a robots.txt disallow, a refused, reset, hanging and truncated peer, a selector broken in the
spider's code, item pipelines failing on the code's own data and on scraped prices, a feed export to a read-only
mount, an HTTP cache on a full tmpfs, a spider file missing or not valid Python); MechanicalSoup against a login
form; BeautifulSoup, html5lib and lxml on missing parsers, misused results and malformed pages; parsel and
cssselect with bad selectors; feedparser's bozo exceptions (a truncated feed, a refused peer, no descriptors
left); w3lib; urllib.robotparser; requests-cache and CacheControl with their caches on a read-only mount, and a
full one; xmlsec and signxml rejecting wrong-key, tampered and untrusted signatures; defusedxml refusing entity
attacks in fetched feeds."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shlex
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from blind84_support import INVOICE, Site, key_pair, site, write_spiders
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND84_SOURCES = frozenset({"scrapy84", "mechanicalsoup84", "bs4-84", "html5lib84", "lxml84", "parsel84",
                             "cssselect84", "feedparser84", "w3lib84", "robotparser84", "requests-cache84",
                             "cachecontrol84", "xmlsec84", "signxml84", "defusedxml84"})

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"

# --------------------------------------------------------------------------- Scrapy


def _scrapy(name: str, spider: str, url: str | None, evidence: str, *settings: str, mode: str = "items") -> str:
    """A shell step that runs the spider and fails (printing Scrapy's log) when the log shows the evidence, as a
    CI job that checks a crawl's log would; `scrapy runspider` itself exits 0 after most crawl errors."""
    args = [str(VENV_BIN / "scrapy"), "runspider", spider, "-L", "INFO", "-s", "TELNETCONSOLE_ENABLED=False"]
    if url is not None:
        args += ["-a", f"url={url}", "-a", f"mode={mode}"]
    for setting in settings:
        args += ["-s", setting]
    log = f"TMP/{name}.log"
    return (f"cd TMP && PYTHONPATH=TMP {shlex.join(args)} 2>{log}; cat {log} >&2; "
            f"! grep -qE {shlex.quote(evidence)} {log}")


def _scrapy_cases(env: Env, web: Site, http_cache: Path, ro: Path) -> list[ToolCase]:
    spider = "catalog84_spider.py"
    no_retry = "RETRY_ENABLED=False"
    pipe = 'ITEM_PIPELINES={{"pipelines84.{}": 300}}'
    return [
        ("scrapy_http_503", "service", "503", _scrapy("s503", spider, env.url(503), "Ignoring response", no_retry)),
        ("scrapy_retry_gave_up_500", "service", "500",
         _scrapy("s500", spider, env.url(500), "Gave up retrying", "RETRY_TIMES=1")),
        ("scrapy_retry_gave_up_504", "service", "504",
         _scrapy("s504", spider, env.url(504), "Gave up retrying", "RETRY_TIMES=1")),
        ("scrapy_http_429", "resource", "429",
         _scrapy("s429", spider, env.url(429), "Ignoring response|Gave up retrying", "RETRY_TIMES=1")),
        ("scrapy_http_401", "auth", "401", _scrapy("s401", spider, env.url(401), "Ignoring response", no_retry)),
        ("scrapy_http_403", "auth", "403", _scrapy("s403", spider, env.url(403), "Ignoring response", no_retry)),
        ("scrapy_robots_denied", "auth", "robotstxt/forbidden",
         _scrapy("srobots", spider, f"{web.base}/private/report", "robotstxt/forbidden", "ROBOTSTXT_OBEY=True")),
        ("scrapy_refused", "network", "refused",
         _scrapy("srefused", spider, f"http://127.0.0.1:{env.closed_port}/catalog", " ERROR: ", no_retry)),
        ("scrapy_reset", "network", "ConnectionLost|ResponseNeverReceived|connection was closed|reset",
         _scrapy("sreset", spider, f"http://127.0.0.1:{env.reset_port}/catalog", " ERROR: ", no_retry)),
        ("scrapy_timeout", "network", "took longer than",
         _scrapy("stimeout", spider, f"http://127.0.0.1:{env.hang_port}/catalog", " ERROR: ", no_retry,
                 "DOWNLOAD_TIMEOUT=2")),
        ("scrapy_data_loss", "network", "data loss|dataloss",
         _scrapy("sdataloss", spider, f"http://127.0.0.1:{env.close_port}/catalog", " ERROR: ", no_retry)),
        ("scrapy_css_syntax", "programming", "SelectorSyntaxError|Expected",
         _scrapy("scss", spider, f"{web.base}/catalog", " ERROR: ", mode="css")),
        ("scrapy_pipeline_keyerror", "programming", "KeyError",
         _scrapy("skey", spider, f"{web.base}/catalog", " ERROR: ", pipe.format("SkuPipeline"))),
        ("scrapy_pipeline_price_parse", "validation", "could not convert",
         _scrapy("sprice", spider, f"{web.base}/catalog", " ERROR: ", pipe.format("PricePipeline"))),
        ("scrapy_feed_read_only", "filesystem", "Read-only file system",
         _scrapy("sfeed", spider, f"{web.base}/catalog", " ERROR: |Errno", f"FEEDS={{\"{ro}/items.jsonl\": "
                 "{\"format\": \"jsonlines\"}}")),
        ("scrapy_httpcache_full", "resource", "No space left",
         _scrapy("scache", spider, f"{web.base}/archive/big", " ERROR: |Errno", "HTTPCACHE_ENABLED=True",
                 f"HTTPCACHE_DIR={http_cache}")),
        ("scrapy_spider_missing", "filesystem", "not found|No such file",
         _scrapy("smissing", "spiders/catalog84_v2.py", None, "not found|No such file")),
        ("scrapy_spider_syntax", "programming", "SyntaxError",
         _scrapy("ssyntax", "broken84_spider.py", None, "SyntaxError")),
    ]

# --------------------------------------------------------------------------- MechanicalSoup, BeautifulSoup, lxml


def _page_cases(env: Env, web: Site) -> list[PyCase]:
    import html5lib
    import mechanicalsoup
    from bs4 import BeautifulSoup
    from lxml import etree

    def browser() -> mechanicalsoup.StatefulBrowser:
        return mechanicalsoup.StatefulBrowser(user_agent="shop84-bot/1.0", raise_on_404=True)

    def form_not_found() -> None:
        b = browser()
        b.open(f"{web.base}/login", timeout=5)
        b.select_form("form#login")

    def login_refused() -> None:
        b = browser()
        b.open(f"{web.base}/login", timeout=5)
        b.select_form("form#signin")
        b["username"] = "ops84"
        b["password"] = "not-the-password"
        b.submit_selected().raise_for_status()

    def open_503() -> None:
        browser().open(env.url(503), timeout=5).raise_for_status()

    def open_429() -> None:
        browser().open(env.url(429), timeout=5).raise_for_status()

    def feature_typo() -> None:
        BeautifulSoup(requests.get(f"{web.base}/catalog", timeout=5).text, "html_parser")

    def table_missing() -> None:
        soup = BeautifulSoup(requests.get(f"{web.base}/prices", timeout=5).text, "lxml")
        for row in soup.find("table", id="price-table").find_all("tr"):
            print(row.get_text())

    def html5lib_strict() -> None:
        html5lib.HTMLParser(strict=True).parse(requests.get(f"{web.base}/legacy", timeout=5).content)

    def lxml_truncated_feed() -> None:
        etree.fromstring(requests.get(f"{web.base}/feed/releases.xml", timeout=5).content)

    def lxml_file_missing() -> None:
        etree.parse(str(env.tmp / "snapshots" / "catalog-2026-11-29.xml"))

    return [
        ("mechanicalsoup_form_not_found", "programming", "mechanicalsoup84", "LinkNotFoundError", form_not_found),
        ("mechanicalsoup_login_refused", "auth", "mechanicalsoup84", "HTTPError", login_refused),
        ("mechanicalsoup_503", "service", "mechanicalsoup84", "HTTPError", open_503),
        ("mechanicalsoup_429", "resource", "mechanicalsoup84", "HTTPError", open_429),
        ("bs4_feature_not_found", "programming", "bs4-84", "FeatureNotFound", feature_typo),
        ("bs4_find_returned_none", "programming", "bs4-84", "AttributeError", table_missing),
        ("html5lib_strict_parse_error", "validation", "html5lib84", "ParseError", html5lib_strict),
        ("lxml_truncated_feed", "validation", "lxml84", "XMLSyntaxError", lxml_truncated_feed),
        ("lxml_snapshot_missing", "filesystem", "lxml84", "OSError", lxml_file_missing),
    ]


# --------------------------------------------------------------------------- parsel, cssselect, w3lib


def _selector_cases(env: Env, web: Site) -> list[PyCase]:
    import w3lib.url
    from cssselect import GenericTranslator
    from parsel import Selector

    def undefined_prefix() -> None:
        feed = Selector(text=requests.get(f"{web.base}/archive/small", timeout=5).text)
        feed.xpath("//atom:entry/atom:title/text()").getall()

    def rules_from_file() -> None:
        # the selectors of each shop live in a rules file the operators edit by hand
        rules_path = env.tmp / "shop84_rules.json"
        rules_path.write_text(json.dumps({"name": "li.product a::text", "price": "li.product span.price:::text"}),
                              encoding="utf-8")
        rules = json.loads(rules_path.read_text(encoding="utf-8"))
        page = Selector(text=requests.get(f"{web.base}/catalog", timeout=5).text)
        print({field: page.css(css).getall() for field, css in rules.items()})

    def pseudo_element() -> None:
        GenericTranslator().css_to_xpath("li.product a::text")

    def data_uri() -> None:
        thumb = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR42mN"  # cut short
        w3lib.url.parse_data_uri(thumb)

    return [
        ("parsel_undefined_prefix", "programming", "parsel84", "ValueError", undefined_prefix),
        ("parsel_rules_file_selector", "validation", "parsel84", "SelectorSyntaxError|SelectorError", rules_from_file),
        ("cssselect_pseudo_element", "programming", "cssselect84", "ExpressionError", pseudo_element),
        ("w3lib_truncated_data_uri", "validation", "w3lib84", "Error|ValueError", data_uri),
    ]


# --------------------------------------------------------------------------- feeds, robots.txt, HTTP caches


def _without_descriptors(fn: Callable[[], Any]) -> Any:
    """Run `fn` with the soft RLIMIT_NOFILE at the lowest free descriptor (as a crawler that leaked its sockets
    would be), so its next socket or file fails with EMFILE; the limit is restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    probe = os.open(os.devnull, os.O_RDONLY)  # the lowest free descriptor
    os.close(probe)
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(5)
    resource.setrlimit(resource.RLIMIT_NOFILE, (probe, hard))
    try:
        return fn()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        socket.setdefaulttimeout(previous_timeout)


def _fill_up(mount: Path) -> None:
    """Fill the mount with an older crawl's cache file until no space is left."""
    fd = os.open(mount / "older-crawl-cache.bin", os.O_WRONLY | os.O_CREAT, 0o644)
    with contextlib.suppress(OSError):
        while os.write(fd, b"\0" * 4096):
            pass
    os.close(fd)


def _feed_cases(env: Env, web: Site, ro: Path, cc_full: Path) -> list[PyCase]:
    import urllib.robotparser

    import feedparser
    import requests_cache
    from cachecontrol import CacheControl
    from cachecontrol.caches import FileCache

    def parse_feed(url: str) -> Any:
        parsed = feedparser.parse(url)
        if parsed.bozo:
            raise parsed.bozo_exception
        return parsed

    def robots_reset() -> None:
        robots = urllib.robotparser.RobotFileParser(f"http://127.0.0.1:{env.reset_port}/robots.txt")
        robots.read()

    def cached_get(cache: Path, backend: str, path: str) -> None:
        session = requests_cache.CachedSession(str(cache / "shop84"), backend=backend, expire_after=600)
        session.get(f"{web.base}{path}", timeout=5)

    def cc_get(cache: Path, path: str) -> None:
        session = CacheControl(requests.Session(), cache=FileCache(str(cache / "web84")))
        session.get(f"{web.base}{path}", timeout=5).raise_for_status()

    return [
        ("feedparser_truncated_feed", "validation", "feedparser84", "SAXParseException|SAXException",
         lambda: parse_feed(f"{web.base}/feed/releases.xml")),
        ("feedparser_refused", "network", "feedparser84", "URLError|ConnectionRefusedError",
         lambda: parse_feed(f"http://127.0.0.1:{env.closed_port}/feed/releases.xml")),
        ("feedparser_too_many_open_files", "resource", "feedparser84", "URLError|OSError",
         lambda: _without_descriptors(lambda: parse_feed(f"{web.base}/feed/releases.xml"))),
        ("robotparser_reset", "network", "robotparser84", "ConnectionResetError|RemoteDisconnected|URLError",
         robots_reset),
        ("requests_cache_read_only", "filesystem", "requests-cache84", "OSError",
         lambda: cached_get(ro, "filesystem", "/archive/small")),
        ("cachecontrol_read_only", "filesystem", "cachecontrol84", "OSError", lambda: cc_get(ro, "/archive/small")),
        ("cachecontrol_disk_full", "resource", "cachecontrol84", "OSError", lambda: cc_get(cc_full, "/archive/big")),
    ]


# --------------------------------------------------------------------------- signatures and defused parsing


def _signature_cases(env: Env, web: Site) -> list[PyCase]:
    import xmlsec
    from defusedxml import ElementTree as DefusedET
    from lxml import etree
    from signxml import XMLSigner, XMLVerifier

    issuer, other = key_pair(env, "issuer84"), key_pair(env, "other84")

    # the issuer signs invoice 8841 twice (xmlsec enveloped template, signxml) and publishes both on the site
    doc = etree.fromstring(INVOICE.encode())
    signature = xmlsec.template.create(doc, xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformRsaSha256)
    doc.append(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.constants.TransformSha256, uri="")
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
    sign_ctx = xmlsec.SignatureContext()
    sign_ctx.key = xmlsec.Key.from_file(str(issuer.key), xmlsec.constants.KeyDataFormatPem)
    sign_ctx.sign(signature)
    xmlsec_signed = etree.tostring(doc)
    signxml_signed = etree.tostring(XMLSigner().sign(etree.fromstring(INVOICE.encode()), key=issuer.key.read_bytes(),
                                                     cert=issuer.cert.read_text()))
    xml = {"Content-Type": "application/xml"}
    web.pages["/invoices/8841.xml"] = (200, xml, xmlsec_signed)
    web.pages["/invoices/8841.signed.xml"] = (200, xml, signxml_signed)
    web.pages["/invoices/8841-tampered.xml"] = (200, xml, xmlsec_signed.replace(b">1250.00<", b">12.50<"))

    def fetch(path: str) -> bytes:
        return requests.get(f"{web.base}{path}", timeout=5).content

    def xmlsec_verify(path: str, cert: Path) -> None:
        received = etree.fromstring(fetch(path))
        node = xmlsec.tree.find_node(received, xmlsec.constants.NodeSignature)
        ctx = xmlsec.SignatureContext()
        ctx.key = xmlsec.Key.from_file(str(cert), xmlsec.constants.KeyDataFormatCertPem)
        ctx.verify(node)

    def signxml_wrong_cert() -> None:
        XMLVerifier().verify(fetch("/invoices/8841.signed.xml"), x509_cert=other.cert.read_text())

    def signxml_untrusted() -> None:
        XMLVerifier().verify(fetch("/invoices/8841.signed.xml"), ca_pem_file=str(other.cert))

    def defused(path: str, **options: bool) -> None:
        DefusedET.fromstring(fetch(path), **options)

    return [
        ("xmlsec_wrong_key", "auth", "xmlsec84", "VerificationError",
         lambda: xmlsec_verify("/invoices/8841.xml", other.cert)),
        ("xmlsec_tampered", "auth", "xmlsec84", "VerificationError",
         lambda: xmlsec_verify("/invoices/8841-tampered.xml", issuer.cert)),
        ("signxml_wrong_cert", "auth", "signxml84", "InvalidSignature", signxml_wrong_cert),
        ("signxml_untrusted_ca", "auth", "signxml84", "InvalidCertificate", signxml_untrusted),
        ("defusedxml_billion_laughs", "validation", "defusedxml84", "EntitiesForbidden",
         lambda: defused("/feed/laughs.xml")),
        ("defusedxml_external_entity", "validation", "defusedxml84", "ExternalReferenceForbidden",
         lambda: defused("/feed/partner.xml", forbid_entities=False)),
    ]


def blind84_records(env: Env) -> list[Record]:
    web = site(env)
    write_spiders(env, f"{web.base}/catalog")
    ro = mount_tmpfs(env, "ro84", "size=64k,ro")
    http_cache = mount_tmpfs(env, "httpcache84", "size=16k")
    cc_full = mount_tmpfs(env, "ccfull84", "size=16k")
    _fill_up(cc_full)

    def fill(text: str) -> str:
        return text.replace("TMP", str(env.tmp))

    out = tool_records(_scrapy_cases(env, web, http_cache, ro), "scrapy84", env.tmp, fill, timeout=90)
    out += python_records(_page_cases(env, web))
    out += python_records(_selector_cases(env, web))
    out += python_records(_feed_cases(env, web, ro, cc_full))
    out += python_records(_signature_cases(env, web))
    return out


if __name__ == "__main__":
    write_batch(blind84_records)


__all__ = ["BLIND84_SOURCES", "blind84_records"]
