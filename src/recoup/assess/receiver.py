"""A local webhook receiver for `recoup assess`: where the incident scenarios' notifications are delivered.

It listens on 127.0.0.1, checks each POST's HMAC signature the way a real consumer would
(`recoup.incidents.notify.signing.verify_signature`), answers 204 when it verifies and 401 when it does not,
and keeps every delivery with the time it arrived, so the phase can say which notifications reached
someone, and when."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from recoup.incidents.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

MAX_BODY = 1_000_000


@dataclass(frozen=True)
class Delivery:
    """One POST as it arrived: ``receiver`` is the last path segment (``/webhook/oncall`` -> ``oncall``)."""

    receiver: str
    at: float  # epoch seconds, this machine's clock
    verified: bool
    notice: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.notice.get("kind", ""))

    @property
    def incident_id(self) -> int | None:
        value = self.notice.get("incident_id")
        return value if isinstance(value, int) else None

    @property
    def labels(self) -> dict[str, str]:
        labels = self.notice.get("labels")
        return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}

    def to_dict(self) -> dict[str, Any]:
        return {"receiver": self.receiver, "at": self.at, "verified": self.verified, "kind": self.kind,
                "incident_id": self.incident_id, "title": self.notice.get("title")}


class WebhookReceiver:
    """Use as a context manager, or `start` / `stop`. ``clock`` stamps arrivals and checks the signature's
    timestamp tolerance."""

    def __init__(self, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 16:
            raise ValueError("secret: the webhook channel needs at least 16 characters")
        self.secret = secret
        self.clock = clock
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self.rejected = 0  # POSTs whose signature did not verify, or that were not JSON
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # the phase reports what arrived; no access log on the terminal

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                status = receiver._accept(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="recoup-assess-receiver",
            daemon=True,
        )

    def _accept(self, path: str, headers: dict[str, str], body: bytes) -> int:
        lowered = {k.lower(): v for k, v in headers.items()}
        at = self.clock()
        ok = verify_signature(
            self.secret, lowered.get(TIMESTAMP_HEADER.lower(), ""), body, lowered.get(SIGNATURE_HEADER.lower(), ""),
            now=at,
        )
        try:
            notice = json.loads(body) if ok else {}
        except ValueError:
            ok, notice = False, {}
        with self._lock:
            if not ok or not isinstance(notice, dict):
                self.rejected += 1
                return 401
            self._deliveries.append(Delivery(path.rstrip("/").rsplit("/", 1)[-1], at, True, notice))
        return 204

    def deliveries(self) -> list[Delivery]:
        """Every verified delivery so far, in arrival order."""
        with self._lock:
            return list(self._deliveries)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
