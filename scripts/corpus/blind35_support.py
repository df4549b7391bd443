"""Loopback fakes for batch 35: an HTTP server that answers a chosen status, headers and provider-style body.

Unlike `cloudapi.py` it can also send the provider's own headers (GitHub's `X-RateLimit-*`, Azure's
`x-ms-error-code`, Kubernetes' `Retry-After`), and a server can answer one reply on every path, for clients that
cannot put a prefix in front of their own paths (the Docker SDK talks to `/v1.45/...` at the root, the Azure SDK
puts the account name first). The status is what we provoke; the label comes from it, never from the body."""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from common import Env


@dataclass(frozen=True)
class Reply:
    """One canned answer: status, content type, body, and extra headers."""

    status: int
    body: str
    ctype: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: Any, **headers: str) -> Reply:
    return Reply(status, json.dumps(payload), "application/json", {k.replace("_", "-"): v for k, v in headers.items()})


def xml_reply(status: int, code: str, message: str, extra: str = "", **headers: str) -> Reply:
    """An S3- or Azure-style `<Error><Code>...</Code><Message>...</Message></Error>` body."""
    body = (f'<?xml version="1.0" encoding="utf-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"{extra}</Error>")
    return Reply(status, body, "application/xml", {k.replace("_", "-"): v for k, v in headers.items()})


def _handler_for(routes: dict[str, Reply], fallback: Reply | None) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self._drain_chunks()
            first = self.path.lstrip("/").split("/")[0].split("?")[0]
            reply = routes.get(first, fallback) or Reply(200, "{}")
            data = reply.body.encode()
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", reply.ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _drain_chunks(self) -> None:
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                self.rfile.read(size + 2)
                if size == 0:
                    return

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _answer

    return Handler


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def fake_api(env: Env, routes: dict[str, Reply] | None = None, fallback: Reply | None = None) -> str:
    """Serve `routes` (first path segment -> reply) and `fallback` for any other path on a new port of
    127.0.0.1, stopped with the batch; returns the base URL."""
    server = _Server(("127.0.0.1", 0), _handler_for(routes or {}, fallback))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}"


__all__ = ["Reply", "fake_api", "json_reply", "xml_reply"]
