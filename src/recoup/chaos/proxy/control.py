"""The run-time control API: toxiproxy's REST API (paths, JSON shapes, status codes) on the stdlib HTTP server.

Mirroring it means toxiproxy's clients and scripts (Ruby/Go/Python clients, chaostoolkit-toxiproxy,
curl recipes) drive this proxy unchanged. Binds loopback only: whoever reaches it can break connections.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from recoup.chaos.proxy.errors import BadRequest, ProxyAPIError, format_address, parse_address
from recoup.chaos.proxy.server import ProxyServer

#: What GET /version answers: a toxiproxy 2.x API version (clients check the major), marked as ours.
API_VERSION = "2.0.0+recoup"

_LOOPBACK = ("127.", "localhost", "::1")

log = logging.getLogger("recoup.chaos.proxy")

Handler = Callable[["_Request", dict[str, str]], tuple[int, Any]]


class _Request:
    def __init__(self, method: str, body: bytes) -> None:
        self.method = method
        self.body = body

    def json(self) -> Any:
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise BadRequest(f"bad request body: {exc}") from None


class ControlServer:
    """Serves the control API for a `ProxyServer` on a thread; `address` is the real ``host:port``."""

    def __init__(self, proxies: ProxyServer, address: str = "127.0.0.1:8474") -> None:
        host, port = parse_address(address, "control address")
        if not host.startswith(_LOOPBACK):
            raise BadRequest(f"control address {address!r} must be a loopback address (127.0.0.1, ::1, localhost)")
        self.proxies = proxies
        self._routes = _routes(proxies)
        control = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the proxy's own log says what changed; per-request lines are noise

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.headers.get("User-Agent", "").startswith("Mozilla/"):
                    # like toxiproxy: a web page must not be able to break connections through the browser
                    status, payload = 403, {"error": "User agent not allowed", "status": 403}
                else:
                    status, payload = control.dispatch(self.command, self.path, body)
                data = b"" if status == 204 else json.dumps(payload).encode("utf-8")
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_OPTIONS = _serve

        self._http = ThreadingHTTPServer((host, port), RequestHandler)
        self._http.daemon_threads = True
        self.address = format_address(host, int(self._http.server_address[1]))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def dispatch(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        """Route one request; API errors become toxiproxy's ``{"error", "status"}`` bodies."""
        path = path.split("?", 1)[0].rstrip("/") or "/"
        allowed: list[str] = []
        for pattern, methods in self._routes:
            found = pattern.fullmatch(path)
            if found is None:
                continue
            allowed.extend(methods)
            handler = methods.get(method)
            if handler is None:
                continue
            try:
                return handler(_Request(method, body), found.groupdict())
            except ProxyAPIError as exc:
                return exc.status, {"error": str(exc), "status": exc.status}
            except Exception as exc:  # a bug or a stuck loop: answer 500 and log it, never drop the request
                log.exception("control API: %s %s failed", method, path)
                return 500, {"error": f"internal error: {type(exc).__name__}: {exc}", "status": 500}
        if allowed:
            message = f"method {method} not allowed on {path} (allowed: {', '.join(allowed)})"
            return 405, {"error": message, "status": 405}
        return 404, {"error": f"no such endpoint: {path}", "status": 404}

    def start(self) -> ControlServer:
        self._thread = threading.Thread(
            target=self._http.serve_forever, args=(0.05,), name="recoup-proxy-control", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._http.serve_forever()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ControlServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _routes(proxies: ProxyServer) -> list[tuple[re.Pattern[str], dict[str, Handler]]]:
    def create_proxy(request: _Request, _: dict[str, str]) -> tuple[int, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise BadRequest(f"bad request body: a proxy must be a JSON object, got {type(body).__name__}")
        unknown = set(body) - {"name", "listen", "upstream", "enabled"}
        if unknown:
            raise BadRequest(f"unknown proxy field(s): {', '.join(sorted(unknown))}")
        for key in ("name", "upstream"):
            if not body.get(key):
                raise BadRequest(f"missing required field: {key}")
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise BadRequest(f"enabled must be true or false, got {enabled!r}")
        listen = body.get("listen") or "127.0.0.1:0"
        handle = proxies.create_proxy(body["name"], listen, body["upstream"], enabled=enabled)
        return 201, proxies.describe(handle.name)

    def populate(request: _Request, _: dict[str, str]) -> tuple[int, Any]:
        body = request.json()
        if not isinstance(body, list):
            raise BadRequest(f"bad request body: /populate takes a JSON list of proxies, got {type(body).__name__}")
        return 201, {"proxies": proxies.populate(body)}

    def update_proxy(request: _Request, args: dict[str, str]) -> tuple[int, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise BadRequest(f"bad request body: a proxy update must be a JSON object, got {type(body).__name__}")
        return 200, proxies.update_proxy(args["proxy"], body)

    def delete_proxy(_: _Request, args: dict[str, str]) -> tuple[int, Any]:
        proxies.delete_proxy(args["proxy"])
        return 204, None

    def add_toxic(request: _Request, args: dict[str, str]) -> tuple[int, Any]:
        proxies.describe(args["proxy"])  # 404 for an unknown proxy before a 400 for its body
        return 200, proxies.add_toxic(args["proxy"], request.json())

    def update_toxic(request: _Request, args: dict[str, str]) -> tuple[int, Any]:
        return 200, proxies.update_toxic(args["proxy"], args["toxic"], request.json())

    def remove_toxic(_: _Request, args: dict[str, str]) -> tuple[int, Any]:
        proxies.remove_toxic(args["proxy"], args["toxic"])
        return 204, None

    def reset(_: _Request, __: dict[str, str]) -> tuple[int, Any]:
        proxies.reset()
        return 204, None

    name = r"[^/]+"
    return [
        (re.compile(r"/version"), {"GET": lambda r, a: (200, {"version": API_VERSION})}),
        (re.compile(r"/reset"), {"POST": reset}),
        (re.compile(r"/populate"), {"POST": populate}),
        (re.compile(r"/proxies"), {"GET": lambda r, a: (200, proxies.proxies()), "POST": create_proxy}),
        (
            re.compile(rf"/proxies/(?P<proxy>{name})"),
            {
                "GET": lambda r, a: (200, proxies.describe(a["proxy"])),
                "POST": update_proxy,
                "PATCH": update_proxy,
                "DELETE": delete_proxy,
            },
        ),
        (
            re.compile(rf"/proxies/(?P<proxy>{name})/toxics"),
            {"GET": lambda r, a: (200, proxies.toxics(a["proxy"])), "POST": add_toxic},
        ),
        (
            re.compile(rf"/proxies/(?P<proxy>{name})/toxics/(?P<toxic>{name})"),
            {
                "GET": lambda r, a: (200, proxies.get_toxic(a["proxy"], a["toxic"])),
                "POST": update_toxic,
                "PATCH": update_toxic,
                "DELETE": remove_toxic,
            },
        ),
    ]
