"""Fifty-third batch of blind provokers: web servers and proxies other than nginx (which is batch 50), on the side of
the server that logs the failure and on the side of the client that meets it through the proxy. Private instances
of Apache httpd, HAProxy, Squid and Caddy (own roots in temp dirs, free loopback ports, never the system services)
fail their own config tests (a misspelt directive, a bad value, a missing include, certificate or error file) and
log upstreams that refuse, reset or never answer, health checks that get a 503 or time out, backends with no
server left, rate-limited and denied requests, failed basic-auth logins and missing or unreadable files; curl,
requests and httpx going through the Squid forward proxy meet a deny list (403), proxy authentication (407), a
proxy port nothing listens on, HAProxy's 503 and 429 answers, and client code that misuses the proxy settings.
Only 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from blind53_support import (
    APACHE_BROKEN,
    CADDY_BROKEN,
    HAPROXY_BROKEN,
    SQUID_BROKEN,
    Apache,
    Caddy,
    HAProxy,
    Squid,
    apache_root,
    caddy_root,
    caddy_validate,
    get,
    haproxy_root,
    installed,
    squid_root,
    start_apache,
    start_caddy,
    start_haproxy,
    start_squid,
)
from checked import PyCase, ToolCase, has_token, problem, python_records, tool_records
from common import Env, Record, record, run, write_batch

BLIND53_SOURCES = frozenset({"apache53", "haproxy53", "squid53", "caddy53", "proxyclient53"})

#: name, category, expected token (`A|B`), the action that provokes it
Case = tuple[str, str, str, Callable[[], Any]]

#: config-test cases: name -> (category, expected token)
CONFIG_CAUSES: dict[str, tuple[str, str]] = {
    "apache_config_typo": ("validation", "Invalid command"),
    "apache_config_listen_port": ("validation", "Port must be|Invalid address or port|port"),
    "apache_config_include_missing": ("filesystem", "No such file|Could not open"),
    "apache_config_ssl_cert_missing": ("filesystem", "does not exist"),
    "haproxy_config_keyword_typo": ("validation", "unknown keyword"),
    "haproxy_config_timeout_unit": ("validation", "unexpected character"),
    "haproxy_config_cert_missing": ("filesystem", "No such file"),
    "haproxy_config_errorfile_missing": ("filesystem", "error opening file"),
    "squid_parse_directive_typo": ("validation", "unrecognized"),
    "squid_parse_bad_acl": ("validation", "Bungled"),
    "squid_parse_include_missing": ("filesystem", "No such file"),
    "squid_parse_tls_cert_missing": ("filesystem", "unable to load certificate"),
    "caddy_validate_subdirective": ("validation", "unrecognized subdirective"),
    "caddy_validate_duration": ("validation", "missing unit"),
    "caddy_validate_import_missing": ("filesystem", "not found"),
    "caddy_validate_cert_missing": ("filesystem", "no such file"),
    "caddy_validate_json_type": ("validation", "cannot unmarshal"),
}


def _keep(out: list[Record], name: str, source: str, text: str) -> None:
    category, token = CONFIG_CAUSES.get(name, ("", ""))
    if not text.strip():
        problem(name, "nothing printed")
    elif has_token(name, text, token):
        out.append(record(text.strip(), category, source, "stderr", name))


def _logged(out: list[Record], name: str, category: str, source: str, text: str, token: str) -> None:
    if not text.strip():
        problem(name, "nothing logged")
    elif has_token(name, text, token):
        out.append(record(text.strip(), category, source, "stderr", name))


def _config_test(out: list[Record], name: str, source: str, argv: list[str], env: dict[str, str] | None = None,
                 proc_text: str | None = None) -> None:
    proc = run(argv, timeout=30, env=env or {})
    if proc.returncode == 0:
        problem(name, "no failure")
        return
    _keep(out, name, source, proc_text if proc_text is not None else (proc.stderr.strip() or proc.stdout.strip()))


# --------------------------------------------------------------------------- Apache httpd


def _apache_records(env: Env) -> list[Record]:
    if not installed("apache2"):
        return []
    apache: Apache = apache_root(env)
    out: list[Record] = []
    for name in APACHE_BROKEN:
        _config_test(out, name, "apache53", ["apachectl", "-t", "-f", str(apache.conf(name))])
    if not start_apache(env, apache):
        return out
    cases: list[Case] = [
        ("apache_proxy_refused", "network", "Connection refused", lambda: get(apache.port, "/api/orders/42")),
        ("apache_proxy_timeout", "network", "timeout specified has expired|timed out",
         lambda: get(apache.port, "/reports/daily")),
        ("apache_proxy_reset", "network", "reset by peer", lambda: get(apache.port, "/events/stream")),
        ("apache_client_denied", "auth", "client denied", lambda: get(apache.port, "/admin/users")),
        ("apache_password_mismatch", "auth", "Password Mismatch",
         lambda: get(apache.port, "/ops/", ("ops", "wrong-password"))),
        ("apache_user_not_found", "auth", "not found", lambda: get(apache.port, "/ops/", ("deploy", "secret"))),
        ("apache_htpasswd_missing", "filesystem", "Could not open password file",
         lambda: get(apache.port, "/billing/", ("ops", "right-password"))),
        ("apache_file_missing", "filesystem", "File does not exist", lambda: get(apache.port, "/assets/app.4f2c.css")),
        ("apache_file_permission", "filesystem", "permissions deny", lambda: get(apache.port, "/payroll.html")),
    ]
    for name, category, token, action in cases:
        apache.log.mark()
        action()
        _logged(out, name, category, "apache53", apache.log.wait(token), token)
    return out


# --------------------------------------------------------------------------- HAProxy


def _lines(text: str, needle: str) -> str:
    return "\n".join(line for line in text.splitlines() if needle in line)


def _haproxy_records(env: Env) -> tuple[list[Record], int]:
    """The batch's HAProxy records and the port of the running instance (0 when it did not start)."""
    if not installed("haproxy"):
        return [], 0
    haproxy: HAProxy = haproxy_root(env)
    out: list[Record] = []
    for name in HAPROXY_BROKEN:
        _config_test(out, name, "haproxy53", ["haproxy", "-c", "-f", str(haproxy.root / f"{name}.cfg")])
    if not start_haproxy(env, haproxy):
        return out, 0
    checks = [
        ("haproxy_check_refused", "network", "Connection refused", "orders53"),
        ("haproxy_check_503", "service", "code: 503", "inventory53"),
        ("haproxy_check_timeout", "network", "timeout", "reports53"),
    ]
    for name, category, token, backend in checks:
        text = haproxy.log.wait(f"backend {backend} has no server", timeout=8)
        _logged(out, name, category, "haproxy53", _lines(text, backend), token)
    access = [
        ("haproxy_access_no_server", "service", "NOSRV", "/inventory/17", lambda: get(haproxy.port, "/inventory/17")),
        ("haproxy_access_rate_limited", "resource", " 429 ", "/search?q=boots",
         lambda: (get(haproxy.port, "/search?q=shoes"), get(haproxy.port, "/search?q=boots"))),
    ]
    for name, category, token, path, action in access:
        haproxy.log.mark()
        action()
        _logged(out, name, category, "haproxy53", _lines(haproxy.log.wait(path), f" {path} "), token)
    return out, haproxy.port


# --------------------------------------------------------------------------- Squid (config) and Caddy


def _squid_records(squid: Squid) -> list[Record]:
    out: list[Record] = []
    for name in SQUID_BROKEN:
        _config_test(out, name, "squid53", ["squid", "-k", "parse", "-f", str(squid.root / f"{name}.conf"),
                                             "-n", "recoup53parse"])
    return out


def _caddy_records(env: Env) -> list[Record]:
    if not installed("caddy"):
        return []
    caddy: Caddy = caddy_root(env)
    out: list[Record] = []
    for name in CADDY_BROKEN:
        proc = caddy_validate(caddy, name)
        if proc.returncode == 0:
            problem(name, "no failure")
        else:
            _keep(out, name, "caddy53", (proc.stderr + proc.stdout).strip())
    proc = caddy_validate(caddy, "caddy53.json", adapter=False)
    if proc.returncode == 0:
        problem("caddy_validate_json_type", "no failure")
    else:
        _keep(out, "caddy_validate_json_type", "caddy53", (proc.stderr + proc.stdout).strip())
    if not start_caddy(env, caddy):
        return out
    time.sleep(1.0)  # let the active health check of /inventory/ see the 503 first

    def errors(text: str) -> str:
        lines = []
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") == "error":
                lines.append(line)
        return "\n".join(lines)

    cases: list[Case] = [
        ("caddy_upstream_refused", "network", "connection refused", lambda: get(caddy.port, "/api/orders/42")),
        ("caddy_upstream_timeout", "network", "timeout", lambda: get(caddy.port, "/reports/daily")),
        ("caddy_upstream_reset", "network", "reset", lambda: get(caddy.port, "/events/stream")),
        ("caddy_no_upstreams", "service", "no upstreams available", lambda: get(caddy.port, "/inventory/17")),
    ]
    for name, category, token, action in cases:
        caddy.log.mark()
        action()
        _logged(out, name, category, "caddy53", errors(caddy.log.wait(token)), token)
    return out


# --------------------------------------------------------------------------- clients through the proxies


def _curl_cases(squid: Squid, haproxy_port: int, env: Env) -> list[ToolCase]:
    proxy = squid.url
    return [
        ("curl_proxy_denied", "auth", "403", f"curl -sS -f -D - -o /dev/null -x {proxy} "
         "http://paste.pastebin53.invalid/raw/k3y 2>&1"),
        ("curl_proxy_tunnel_denied", "auth", "403", f"curl -sS -f -o /dev/null -x {proxy} "
         "https://paste.pastebin53.invalid/raw/k3y"),
        ("curl_proxy_auth_required", "auth", "407", f"curl -sS -f -D - -o /dev/null -x {proxy} "
         "http://api.vendor53.invalid/v1/quotes 2>&1"),
        ("curl_proxy_wrong_password", "auth", "407", f"curl -sS -f -o /dev/null -x {proxy} -U ci:wrong-password "
         "http://api.vendor53.invalid/v1/quotes"),
        ("curl_proxy_closed", "network", "connect", f"curl -sS -f -o /dev/null --connect-timeout 5 "
         f"-x http://127.0.0.1:{env.closed_port} http://api.vendor53.invalid/v1/quotes"),
        ("curl_haproxy_no_server", "service", "503", f"curl -sS --fail-with-body "
         f"http://127.0.0.1:{haproxy_port}/inventory/18 2>&1"),
        ("curl_haproxy_rate_limited", "resource", "429", f"curl -sS -o /dev/null http://127.0.0.1:{haproxy_port}"
         f"/search?q=a; curl -sS --fail-with-body http://127.0.0.1:{haproxy_port}/search?q=b 2>&1"),
    ]


class WrongCause(Exception):
    """Raised instead of a client's exception that lacks the provoked status, so the cause check drops the case."""


def _status(token: str, fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn``, whose exception only counts when its message carries ``token`` (the status we provoked)."""

    def checked() -> Any:
        try:
            return fn()
        except Exception as exc:
            if token not in str(exc):
                raise WrongCause(token) from None
            raise

    return checked


def _py_cases(squid: Squid, haproxy_port: int, env: Env) -> list[PyCase]:
    closed_proxy = f"http://127.0.0.1:{env.closed_port}"

    def requests_proxy_closed() -> None:
        import requests

        requests.get("http://api.vendor53.invalid/v1/quotes", proxies={"http": closed_proxy}, timeout=5)

    def requests_tunnel_407() -> None:
        import requests

        requests.get("https://api.vendor53.invalid/v1/quotes", proxies={"https": squid.url}, timeout=5)

    def requests_http_407() -> None:
        import requests

        proxy = squid.url.replace("http://", "http://ci:wrong-password@")
        requests.get("http://api.vendor53.invalid/v1/quotes", proxies={"http": proxy}, timeout=5).raise_for_status()

    def httpx_tunnel_403() -> None:
        import httpx

        with httpx.Client(proxy=squid.url, timeout=5) as client:
            client.get("https://paste.pastebin53.invalid/raw/k3y")

    def httpx_proxy_closed() -> None:
        import httpx

        with httpx.Client(proxy=closed_proxy, timeout=5) as client:
            client.get("http://api.vendor53.invalid/v1/quotes")

    def httpx_haproxy_503() -> None:
        import httpx

        httpx.get(f"http://127.0.0.1:{haproxy_port}/inventory/19", timeout=5).raise_for_status()

    def requests_haproxy_429() -> None:
        import requests

        requests.get(f"http://127.0.0.1:{haproxy_port}/search?q=c", timeout=5)
        requests.get(f"http://127.0.0.1:{haproxy_port}/search?q=d", timeout=5).raise_for_status()

    def requests_proxy_port_typo() -> None:
        import requests

        requests.get("http://api.vendor53.invalid/v1/quotes", proxies={"http": "http://127.0.0.1:31z8"}, timeout=5)

    def requests_proxies_string() -> None:
        import requests

        requests.get("http://api.vendor53.invalid/v1/quotes", proxies=squid.url, timeout=5)  # type: ignore[arg-type]

    def httpx_proxies_kwarg() -> None:
        import httpx

        kwargs: dict[str, Any] = {"proxies": {"http://": squid.url}}
        httpx.Client(**kwargs)

    def httpx_socks_missing() -> None:
        import httpx

        httpx.get("http://api.vendor53.invalid/v1/quotes", proxy=f"socks5://127.0.0.1:{env.closed_port}", timeout=5)

    src = "proxyclient53"
    return [
        ("requests_proxy_closed", "network", src, "ProxyError", requests_proxy_closed),
        ("requests_tunnel_407", "auth", src, "ProxyError", _status("407", requests_tunnel_407)),
        ("requests_http_407", "auth", src, "HTTPError", _status("407", requests_http_407)),
        ("httpx_tunnel_403", "auth", src, "ProxyError", _status("403", httpx_tunnel_403)),
        ("httpx_proxy_closed", "network", src, "ConnectError", httpx_proxy_closed),
        ("httpx_haproxy_503", "service", src, "HTTPStatusError", _status("503", httpx_haproxy_503)),
        ("requests_haproxy_429", "resource", src, "HTTPError", _status("429", requests_haproxy_429)),
        ("requests_proxy_port_typo", "validation", src, "InvalidURL", requests_proxy_port_typo),
        ("requests_proxies_string", "programming", src, "AttributeError|TypeError", requests_proxies_string),
        ("httpx_proxies_kwarg", "programming", src, "TypeError", httpx_proxies_kwarg),
        ("httpx_socks_missing", "programming", src, "ImportError", httpx_socks_missing),
    ]


def _client_records(env: Env, haproxy_port: int) -> list[Record]:
    if not installed("squid"):
        return []
    squid = squid_root(env)
    out = _squid_records(squid)
    if not start_squid(env, squid):
        return out
    curl = [case for case in _curl_cases(squid, haproxy_port, env) if haproxy_port or "haproxy" not in case[0]]
    out += tool_records(curl, "proxyclient53", env.tmp)
    out += python_records([case for case in _py_cases(squid, haproxy_port, env)
                           if haproxy_port or "haproxy" not in case[0]])
    return out


def blind53_records(env: Env) -> list[Record]:
    out = _apache_records(env)
    haproxy, haproxy_port = _haproxy_records(env)
    out += haproxy
    out += _caddy_records(env)
    out += _client_records(env, haproxy_port)
    return out


if __name__ == "__main__":
    write_batch(blind53_records)


__all__ = ["BLIND53_SOURCES", "blind53_records"]
