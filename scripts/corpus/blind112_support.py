"""Fixtures of the hundred-and-twelfth batch: loopback fakes of search engines and vector databases. Each fake
answers every request with one fixed reply (status, body, content type) written in the product's own error format
(Meilisearch's `{message, code, type, link}`, Typesense's `{message}`, Qdrant's `{status: {error}, time}`,
Weaviate's `{error: [{message}]}`, Solr's `responseHeader`/`error` envelope or Jetty's HTML page, Algolia's
`{message, status}`), optionally after a delay so a client's read timeout fires."""

from __future__ import annotations

import http.server
import json
import threading
import time
from typing import Any

from common import Env, _QuietServer

#: (status, body, content type, extra headers, delay in seconds)
Reply = tuple[int, bytes, str, dict[str, str], float]


def reply(status: int, body: Any, content_type: str = "application/json", delay: float = 0,
          **headers: str) -> Reply:
    """A fixed reply; a dict or list body is sent as JSON."""
    data = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    return status, data, content_type, {k.replace("_", "-"): v for k, v in headers.items()}, delay


def serve(env: Env, answer: Reply, routes: dict[str, Reply] | None = None) -> str:
    """Start a loopback HTTP server that gives `answer` to every request (or the reply of the first `routes` path
    prefix the request path starts with); return its base URL."""
    special = routes or {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            picked = next((r for prefix, r in special.items() if self.path.startswith(prefix)), answer)
            status, data, ctype, extra, delay = picked
            if delay:
                time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

    server = _QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}"


def jetty_page(status: int, reason: str, uri: str, message: str) -> bytes:
    """The HTML error page Solr's Jetty serves."""
    return (f'<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
            f"<title>Error {status} {message}</title>\n</head>\n<body><h2>HTTP ERROR {status} {message}</h2>\n"
            f"<table>\n<tr><th>URI:</th><td>{uri}</td></tr>\n<tr><th>STATUS:</th><td>{status}</td></tr>\n"
            f"<tr><th>MESSAGE:</th><td>{message}</td></tr>\n<tr><th>SERVLET:</th><td>default</td></tr>\n"
            f"</table>\n\n</body>\n</html>\n").encode()


def solr_error(status: int, msg: str, error_class: str = "org.apache.solr.common.SolrException") -> dict[str, Any]:
    """Solr's JSON error envelope (wt=json)."""
    return {"responseHeader": {"status": status, "QTime": 3},
            "error": {"metadata": ["error-class", error_class, "root-error-class", error_class], "msg": msg,
                      "code": status}}


__all__ = ["Reply", "jetty_page", "reply", "serve", "solr_error"]
