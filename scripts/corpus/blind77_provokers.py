"""Seventy-seventh batch of blind provokers: Python web frameworks and their ASGI/WSGI servers, every one started
here on 127.0.0.1 (blind77_support). Starlette through its TestClient (a pydantic body check, a disk-full upload,
a missing static directory) and under a real uvicorn (a handler defect seen by requests and logged by uvicorn's
own process, a slow handler timing httpx out, an untrusted TLS certificate, a closed port); uvicorn's CLI
failing to start (port already in use, a wrong import string, a module that raises, a missing key file); a
private nginx in front of an upstream that is gone (502) or too slow (504); Falcon behind waitress (a bad query
parameter, a marshmallow body answered 422 as curl shows it); Bottle behind waitress (a broken JSON body,
basic auth) and under waitress-serve with a crashing handler; Sanic's server (a broken JSON body, a refused
token, a handler defect in its log); Quart under hypercorn (403, a handler defect in its log, a missing
certificate, a wrong app path); Litestar under uvicorn (a msgspec body, a guard, the rate-limit middleware, a
handler without a return annotation); Django REST framework behind waitress (serializer errors, a bad token, a
staff-only view, the anonymous throttle, `.data` read before `.is_valid()`)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

from blind77_support import (
    BOTTLE_CRASH_MODULE,
    DRF_TOKEN,
    QUART_MODULE,
    SANIC_MODULE,
    SANIC_PYTHON,
    VENV_BIN,
    bottle_app,
    django_app,
    drf_serializers,
    falcon_app,
    litestar_app,
    private_nginx,
    server_process,
    starlette_app,
    stop_process,
    thread_uvicorn,
    thread_waitress,
)
from checked import PyCase, ToolCase, has_token, problem, python_records, tool_records
from common import Env, Record, free_port, record, write_batch
from servers import mount_tmpfs, tls_server

BLIND77_SOURCES = frozenset({"starlette77", "uvicorn77", "httpx77", "nginx77", "falcon77", "bottle77", "waitress77",
                             "sanic77", "quart77", "hypercorn77", "litestar77", "drf77"})

UVICORN_MODULE = '''from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


class Cache:
    backend = None


async def stock(request):
    return JSONResponse({"on_hand": Cache.backend.get(request.query_params.get("sku", "KB-01"))})


app = Starlette(routes=[Route("/stock", stock)])
'''

RAISING_MODULE = '''from starlette.applications import Starlette
from starlette.routing import Route

from starlette.responses import PlainTextResponse


async def health(request):
    return PlainTextResponse("ok")


routes = [Route("/health", health)]
app = Starlette(routes=routes, debug=DEBUG)
'''


def _get(url: str, **kw: Any) -> Any:
    import requests

    response = requests.get(url, timeout=kw.pop("timeout", 5), **kw)
    response.raise_for_status()
    return response.json()


def _post(url: str, **kw: Any) -> Any:
    import requests

    response = requests.post(url, timeout=5, **kw)
    response.raise_for_status()
    return response.json()


# --------------------------------------------------------------------------- Starlette + uvicorn


def _starlette_cases(env: Env) -> list[PyCase]:
    from starlette.staticfiles import StaticFiles
    from starlette.testclient import TestClient

    disk = mount_tmpfs(env, "uploads77", "size=64k")
    app = starlette_app(disk)

    def upload_disk_full() -> None:
        with TestClient(app) as client:
            sheet = b"sku,qty\n" + b"KB-01,4\n" * 40000
            client.post("/upload", files={"sheet": ("stock-2026-11.csv", sheet, "text/csv")})

    def pydantic_body() -> None:
        with TestClient(app) as client:
            client.post("/orders", json={"sku": "KB-01", "quantity": -2})

    def static_missing() -> None:
        StaticFiles(directory=env.tmp / "frontend" / "dist")

    port = thread_uvicorn(env, app)
    key_dir = tls_server(env).cafile.parent  # a self-signed certificate and its key, for uvicorn's TLS
    tls_port = thread_uvicorn(env, app, ssl_keyfile=str(key_dir / "server.key"),
                              ssl_certfile=str(key_dir / "server.pem"))

    def slow_report() -> None:
        import httpx

        httpx.get(f"http://127.0.0.1:{port}/slow", timeout=1.0)

    def slow_aiohttp() -> None:
        import aiohttp

        async def go() -> None:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=2, sock_read=1)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.get(
                    f"http://127.0.0.1:{port}/slow") as resp:
                await resp.json()

        asyncio.run(go())

    def refused() -> None:
        import httpx

        httpx.get(f"http://127.0.0.1:{env.closed_port}/sku/KB-01", timeout=3.0).raise_for_status()

    return [
        ("starlette_upload_disk_full", "resource", "starlette77", "OSError", upload_disk_full),
        ("starlette_pydantic_body", "validation", "starlette77", "ValidationError", pydantic_body),
        ("starlette_static_dir_missing", "filesystem", "starlette77", "RuntimeError", static_missing),
        ("requests_starlette_500", "service", "starlette77", "HTTPError",
         lambda: _get(f"http://127.0.0.1:{port}/stock?sku=KB-01")),
        ("requests_uvicorn_tls_untrusted", "network", "uvicorn77", "SSLError",
         lambda: _get(f"https://127.0.0.1:{tls_port}/sku/KB-01")),
        ("httpx_uvicorn_read_timeout", "network", "httpx77", "ReadTimeout", slow_report),
        ("aiohttp_uvicorn_read_timeout", "network", "uvicorn77", "ServerTimeoutError|TimeoutError", slow_aiohttp),
        ("httpx_uvicorn_refused", "network", "httpx77", "ConnectError", refused),
    ]


def _uvicorn_tools(busy_port: int) -> list[ToolCase]:
    uv = "VENV/uvicorn --host 127.0.0.1"
    return [
        ("uvicorn_port_in_use", "resource", "address already in use", f"{uv} --port {busy_port} inventory77:app"),
        ("uvicorn_module_not_found", "programming", "Could not import module",
         f"{uv} --port {free_port()} inventroy77:app"),
        ("uvicorn_app_module_raises", "programming", "NameError", f"{uv} --port {free_port()} health77:app"),
        ("uvicorn_ssl_keyfile_missing", "filesystem", "No such file",
         f"{uv} --port {free_port()} --ssl-keyfile TMP/certs77/key.pem --ssl-certfile TMP/certs77/cert.pem "
         "inventory77:app"),
    ]


def _served_log(env: Env, name: str, category: str, source: str, token: str, argv: list[str], port: int,
                request: Any, python: Path | None = None) -> list[Record]:
    """Start a server process, send the request that hits its defect, stop it, and record what it logged."""
    log = env.tmp / f"{name}.log"
    try:
        proc = server_process(env, argv, port, env.tmp, log)
    except RuntimeError:
        problem(name, "server did not start")
        return []
    with contextlib.suppress(Exception):  # the client's side of the failure is not this record
        request()
    time.sleep(0.5)
    stop_process(proc)
    text = log.read_text(encoding="utf-8", errors="replace").strip()
    if not text:
        problem(name, "nothing logged")
        return []
    return [record(text, category, source, "stderr", name)] if has_token(name, text, token) else []


# --------------------------------------------------------------------------- nginx in front


def _nginx_cases(proxy: int) -> list[PyCase]:

    def gateway_timeout() -> None:
        import httpx

        httpx.get(f"http://127.0.0.1:{proxy}/reports/slow", timeout=10).raise_for_status()

    def bad_gateway_aiohttp() -> None:
        import aiohttp

        async def go() -> None:
            async with aiohttp.ClientSession(raise_for_status=True) as session, session.get(
                    f"http://127.0.0.1:{proxy}/inventory/stock?sku=KB-01") as resp:
                await resp.json()

        asyncio.run(go())

    return [
        ("requests_nginx_502", "service", "nginx77", "HTTPError",
         lambda: _get(f"http://127.0.0.1:{proxy}/inventory/sku/KB-01")),
        ("httpx_nginx_504", "service", "nginx77", "HTTPStatusError", gateway_timeout),
        ("aiohttp_nginx_502", "service", "nginx77", "ClientResponseError", bad_gateway_aiohttp),
    ]


# --------------------------------------------------------------------------- Falcon, Bottle, waitress


def _falcon_cases(base: str) -> list[PyCase]:
    return [
        ("falcon_invalid_query_param", "validation", "falcon77", "HTTPError",
         lambda: _get(f"{base}/items?limit=ten")),
    ]


def _bottle_cases(env: Env) -> list[PyCase]:
    base = f"http://127.0.0.1:{thread_waitress(env, bottle_app())}"
    return [
        ("bottle_invalid_json_body", "validation", "bottle77", "HTTPError",
         lambda: _post(f"{base}/notes", data=b'{"title": "standup", "body": "notes from ',
                       headers={"Content-Type": "application/json"})),
        ("bottle_basic_auth_refused", "auth", "bottle77", "HTTPError",
         lambda: _get(f"{base}/admin/export", auth=("admin", "wrong-password"))),
    ]


def _waitress_tools() -> list[ToolCase]:
    return [
        ("waitress_unix_socket_dir_missing", "filesystem", "No such file",
         "VENV/waitress-serve --unix-socket=TMP/run77/notes.sock converter77:app"),
    ]


# --------------------------------------------------------------------------- Sanic, Quart + hypercorn


def _sanic_records(env: Env) -> list[Record]:
    if not SANIC_PYTHON.exists():
        problem("sanic", "the sanic venv is missing, sanic cases skipped")
        return []
    port = free_port()
    argv = [str(SANIC_PYTHON), "-m", "sanic", "shop77:app", "--host", "127.0.0.1", "--port", str(port),
            "--single-process", "--no-motd"]
    base = f"http://127.0.0.1:{port}"
    out = _served_log(env, "sanic_handler_typeerror_logged", "programming", "sanic77", "TypeError", argv, port,
                      lambda: _get(f"{base}/discount?percent=15"))
    log = env.tmp / "sanic_clients.log"
    try:
        proc = server_process(env, argv, port, env.tmp, log)
    except RuntimeError:
        problem("sanic", "server did not start")
        return out
    try:
        out += python_records([
            ("sanic_invalid_json_body", "validation", "sanic77", "HTTPError",
             lambda: _post(f"{base}/carts", data=b'{"items": [{"sku": "KB-01", "qty": 2},',
                           headers={"Content-Type": "application/json"})),
            ("sanic_unauthorized", "auth", "sanic77", "HTTPError",
             lambda: _get(f"{base}/wallet", headers={"Authorization": "Bearer b77-expired"})),
        ])
    finally:
        stop_process(proc)
    return out


def _quart_records(env: Env) -> list[Record]:
    port = free_port()
    argv = [str(VENV_BIN / "hypercorn"), "--bind", f"127.0.0.1:{port}", "--error-logfile", "-", "projects77:app"]
    base = f"http://127.0.0.1:{port}"
    out = _served_log(env, "quart_handler_attributeerror_logged", "programming", "quart77", "AttributeError", argv,
                      port, lambda: _get(f"{base}/profile/4"))
    out += _served_log(env, "quart_send_file_missing_logged", "filesystem", "quart77", "FileNotFoundError", argv,
                       port, lambda: _get(f"{base}/exports/march-2026.csv"))
    log = env.tmp / "quart_clients.log"
    try:
        proc = server_process(env, argv, port, env.tmp, log)
    except RuntimeError:
        problem("quart", "server did not start")
        return out

    def delete_project() -> None:
        import requests

        requests.delete(f"{base}/projects/3", headers={"X-Role": "viewer"}, timeout=5).raise_for_status()

    try:
        out += python_records([("quart_forbidden", "auth", "quart77", "HTTPError", delete_project)])
    finally:
        stop_process(proc)
    return out


def _hypercorn_tools() -> list[ToolCase]:
    hc = f"VENV/hypercorn -w 0 --bind 127.0.0.1:{free_port()}"
    return [
        ("hypercorn_certfile_missing", "filesystem", "No such file",
         f"{hc} --certfile TMP/tls77/cert.pem --keyfile TMP/tls77/key.pem projects77:app"),
        ("hypercorn_app_not_found", "programming", "NoAppError|Cannot load|not found", f"{hc} projects77:application"),
    ]


# --------------------------------------------------------------------------- Litestar


def _litestar_cases(base: str) -> list[PyCase]:
    import httpx


    def create_order() -> None:
        httpx.post(f"{base}/orders", json={"sku": "KB-01", "quantity": "two", "unit_price": 49.0},
                   timeout=5).raise_for_status()

    def payouts() -> None:
        httpx.get(f"{base}/payouts", headers={"Authorization": "Bearer b77-old"}, timeout=5).raise_for_status()

    def search() -> None:
        for term in ("keyboard", "mouse", "monitor"):
            httpx.get(f"{base}/search", params={"q": term}, timeout=5).raise_for_status()

    def unannotated_handler() -> None:
        from litestar import Litestar, get

        @get("/health")
        async def health():  # type: ignore[no-untyped-def]
            return {"ok": True}

        Litestar(route_handlers=[health])

    return [
        ("litestar_msgspec_body", "validation", "litestar77", "HTTPStatusError", create_order),
        ("litestar_guard_not_authorized", "auth", "litestar77", "HTTPStatusError", payouts),
        ("litestar_rate_limited", "resource", "litestar77", "HTTPStatusError", search),
        ("litestar_missing_return_annotation", "programming", "litestar77", "ImproperlyConfiguredException",
         unannotated_handler),
    ]


# --------------------------------------------------------------------------- Django REST framework


def _drf_cases(base: str) -> list[PyCase]:

    def throttled() -> None:
        for vat in ("DE811907980", "FR40303265045", "IT00743110157"):
            _get(f"{base}/api/vat-lookup/", params={"vat_id": vat})

    def data_before_is_valid() -> None:
        serializer = drf_serializers()(data={"customer": "ACME", "amount": "12.50", "due": "2026-12-01",
                                             "currency": "EUR"})
        print(serializer.data)

    return [
        ("drf_serializer_errors", "validation", "drf77", "HTTPError",
         lambda: _post(f"{base}/api/invoices/", json={"customer": "ACME GmbH", "amount": "-12.5",
                                                      "due": "2026-13-01", "currency": "GBP"})),
        ("drf_invalid_token", "auth", "drf77", "HTTPError",
         lambda: _get(f"{base}/api/me/", headers={"Authorization": "Token " + DRF_TOKEN[::-1]})),
        ("drf_permission_denied", "auth", "drf77", "HTTPError",
         lambda: _get(f"{base}/api/audit-log/", headers={"Authorization": f"Token {DRF_TOKEN}"})),
        ("drf_throttled", "resource", "drf77", "HTTPError", throttled),
        ("drf_data_before_is_valid", "programming", "drf77", "AssertionError", data_before_is_valid),
    ]


# --------------------------------------------------------------------------- JSON error bodies through curl


def _curl_body_records(env: Env, falcon: str, litestar: str, drf: str) -> list[Record]:
    """curl --fail-with-body prints the framework's JSON error body, then its own error line (both on stdout)."""
    curl = "curl -sS --fail-with-body -m 10 -H 'Content-Type: application/json'"

    def case(name: str, category: str, source: str, token: str, url: str, body: str = "") -> list[Record]:
        data = f" --data '{body}'" if body else ""
        return tool_records([(name, category, token, f"{curl}{data} '{url}' 2>&1")], source, env.tmp)

    out = case("curl_falcon_marshmallow_422", "validation", "falcon77", "422", f"{falcon}/orders",
               '{"sku": "KB-01", "quantity": 0, "ship_date": "31/11/2026"}')
    out += case("curl_litestar_msgspec_400", "validation", "litestar77", "400", f"{litestar}/orders",
                '{"sku": "KB-01", "quantity": 2, "unit_price": "forty-nine"}')
    out += case("curl_drf_serializer_400", "validation", "drf77", "400", f"{drf}/api/invoices/",
                '{"customer": "", "amount": "12.505", "due": "tomorrow"}')
    out += case("curl_drf_throttled_429", "resource", "drf77", "429", f"{drf}/api/vat-lookup/?vat_id=NL859048466B01")
    return out


# --------------------------------------------------------------------------- the batch


def blind77_records(env: Env) -> list[Record]:
    (env.tmp / "inventory77.py").write_text(UVICORN_MODULE, encoding="utf-8")
    (env.tmp / "health77.py").write_text(RAISING_MODULE, encoding="utf-8")
    (env.tmp / "converter77.py").write_text(BOTTLE_CRASH_MODULE, encoding="utf-8")
    (env.tmp / "projects77.py").write_text(QUART_MODULE, encoding="utf-8")
    (env.tmp / "shop77.py").write_text(SANIC_MODULE, encoding="utf-8")

    def fill(text: str) -> str:
        return text.replace("TMP", str(env.tmp)).replace("VENV", str(VENV_BIN))

    out = python_records(_starlette_cases(env))
    uv_port = free_port()
    uv_argv = [str(VENV_BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(uv_port), "inventory77:app"]
    out += _served_log(env, "uvicorn_handler_attributeerror_logged", "programming", "uvicorn77", "AttributeError",
                       uv_argv, uv_port, lambda: _get(f"http://127.0.0.1:{uv_port}/stock?sku=KB-01"))
    slow_port = thread_uvicorn(env, starlette_app(env.tmp))
    out += tool_records(_uvicorn_tools(slow_port), "uvicorn77", env.tmp, fill, timeout=30)
    proxy = private_nginx(env, {"inventory": env.closed_port, "reports": slow_port})
    out += python_records(_nginx_cases(proxy))
    out += tool_records([("curl_nginx_504", "service", "504",
                          f"curl -sS --fail -m 10 http://127.0.0.1:{proxy}/reports/slow")],
                        "nginx77", env.tmp)
    falcon_base = f"http://127.0.0.1:{thread_waitress(env, falcon_app())}"
    out += python_records(_falcon_cases(falcon_base))
    out += python_records(_bottle_cases(env))
    wt_port = free_port()
    out += _served_log(env, "waitress_handler_typeerror_logged", "programming", "waitress77", "TypeError",
                       [str(VENV_BIN / "waitress-serve"), f"--listen=127.0.0.1:{wt_port}", "converter77:app"],
                       wt_port, lambda: _get(f"http://127.0.0.1:{wt_port}/convert?amount=25"))
    out += tool_records(_waitress_tools(), "waitress77", env.tmp, fill, timeout=30)
    out += _sanic_records(env)
    out += _quart_records(env)
    out += tool_records(_hypercorn_tools(), "hypercorn77", env.tmp, fill, timeout=30)
    litestar_base = f"http://127.0.0.1:{thread_uvicorn(env, litestar_app())}"
    out += python_records(_litestar_cases(litestar_base))
    drf_base = f"http://127.0.0.1:{thread_waitress(env, django_app(env.tmp))}"
    out += python_records(_drf_cases(drf_base))
    out += _curl_body_records(env, falcon_base, litestar_base, drf_base)
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    write_batch(blind77_records)


__all__ = ["BLIND77_SOURCES", "blind77_records"]
