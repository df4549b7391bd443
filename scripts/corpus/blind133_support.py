"""Servers and apps for blind133: WSGI apps (Flask-RESTful, django-ninja, spyne) served on free loopback ports in
threads, and the small app modules the tool cases (ariadne, robyn) run in a subprocess of the batch venv."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from common import Env, free_port

#: the batch's own venv (the frameworks would change versions pinned in the project venv)
PYTHON = sys.executable


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadedWSGI(WSGIServer):
    daemon_threads = True

    def process_request(self, request: Any, client_address: Any) -> None:
        threading.Thread(target=self._handle, args=(request, client_address), daemon=True).start()

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)


def serve_wsgi(env: Env, app: Callable[..., Any]) -> int:
    """Serve a WSGI app on a free loopback port until the batch ends; its port."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, server_class=_ThreadedWSGI, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.shutdown)
    env._closers.append(server.server_close)
    time.sleep(0.1)
    return port


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


__all__ = ["PYTHON", "serve_wsgi", "write"]
