"""Real receivers on 127.0.0.1 for the notification tests: one HTTP server standing in for Slack, PagerDuty,
Twilio, a webhook consumer and an apprise ``json://`` target, and an aiosmtpd SMTP server.

Each HTTP endpoint VALIDATES what it receives against the service's documented format and answers 400 with
the problems when it is wrong (and records them in ``invalid``), so a test that delivers successfully has
also proved the payload well-formed. Any endpoint can be scripted to answer something else first
(`HttpReceivers.answer`): 429 with Retry-After, 500, 400...
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller

from recoup.incidents.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

SLACK_BLOCK_TYPES = {"header", "section", "context", "divider", "actions", "image", "rich_text", "markdown"}
PD_ACTIONS = {"trigger", "acknowledge", "resolve"}
PD_SEVERITIES = {"critical", "error", "warning", "info"}
APPRISE_TYPES = {"info", "success", "warning", "failure"}
NOTICE_FIELDS = {
    "kind", "key", "dedup_key", "title", "text", "severity", "created_at", "labels", "alerts", "incident_id", "url",
}  # fmt: skip


@dataclass
class Received:
    """One request as it arrived."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- validators: each returns the list of problems (empty when the request is valid) --------------------


def _text_object(obj: Any, where: str, *, kinds: set[str], limit: int) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where}: expected a text object"]
    problems = []
    if obj.get("type") not in kinds:
        problems.append(f"{where}.type: {obj.get('type')!r} not in {sorted(kinds)}")
    text = obj.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= limit:
        problems.append(f"{where}.text: expected 1-{limit} characters")
    return problems


def validate_slack(body: bytes, headers: dict[str, str]) -> list[str]:
    """Incoming webhook with Block Kit: top-level text fallback, 1-50 blocks of known types."""
    if not headers.get("content-type", "").startswith("application/json"):
        return ["content-type: expected application/json"]
    try:
        data = json.loads(body)
    except ValueError:
        return ["body: not JSON"]
    problems = []
    if not isinstance(data.get("text"), str) or not data["text"].strip():
        problems.append("text: the top-level fallback text is required with blocks")
    blocks = data.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        return [*problems, "blocks: expected a list of 1-50 blocks"]
    for i, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in SLACK_BLOCK_TYPES:
            problems.append(f"blocks[{i}].type: unknown {kind!r}")
        elif kind == "header":
            problems += _text_object(block.get("text"), f"blocks[{i}].text", kinds={"plain_text"}, limit=150)
        elif kind == "section":
            problems += _text_object(block.get("text"), f"blocks[{i}].text", kinds={"plain_text", "mrkdwn"}, limit=3000)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                problems.append(f"blocks[{i}].elements: expected 1-10 elements")
            else:
                for j, element in enumerate(elements):
                    where = f"blocks[{i}].elements[{j}]"
                    problems += _text_object(element, where, kinds={"plain_text", "mrkdwn"}, limit=3000)
    return problems


def validate_pagerduty(body: bytes, routing_key: str) -> list[str]:
    """Events API v2: routing_key, event_action, dedup_key; a trigger's payload summary/source/severity."""
    try:
        data = json.loads(body)
    except ValueError:
        return ["body: not JSON"]
    problems = []
    if data.get("routing_key") != routing_key:
        problems.append("routing_key: wrong or missing")
    action = data.get("event_action")
    if action not in PD_ACTIONS:
        problems.append(f"event_action: {action!r} not in {sorted(PD_ACTIONS)}")
    dedup = data.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        problems.append("dedup_key: expected a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup:
        problems.append("dedup_key: required for acknowledge and resolve")
    if action == "trigger":
        payload = data.get("payload")
        if not isinstance(payload, dict):
            return [*problems, "payload: required for trigger"]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not 1 <= len(summary) <= 1024:
            problems.append("payload.summary: expected 1-1024 characters")
        if not isinstance(payload.get("source"), str) or not payload["source"]:
            problems.append("payload.source: required")
        if payload.get("severity") not in PD_SEVERITIES:
            problems.append(f"payload.severity: {payload.get('severity')!r} not in {sorted(PD_SEVERITIES)}")
        if "timestamp" in payload:
            try:
                datetime.fromisoformat(str(payload["timestamp"]).replace("Z", "+00:00"))
            except ValueError:
                problems.append("payload.timestamp: not ISO 8601")
        if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
            problems.append("payload.custom_details: expected an object")
        for i, link in enumerate(data.get("links", [])):
            if not isinstance(link, dict) or not link.get("href"):
                problems.append(f"links[{i}].href: required")
    return problems


def validate_twilio(path: str, body: bytes, headers: dict[str, str], sid: str, token: str) -> list[str]:
    """Messages API: the account's path, HTTP basic auth, form-encoded To/From/Body (Body at most 1600)."""
    if path != f"/2010-04-01/Accounts/{sid}/Messages.json":
        return [f"path: {path!r} is not this account's Messages.json"]
    expected = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()
    if headers.get("authorization") != expected:
        return ["authorization: wrong or missing basic auth"]
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return ["content-type: expected application/x-www-form-urlencoded"]
    form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    problems = [
        f"{name}: exactly one non-empty value required"
        for name in ("To", "From", "Body")
        if len(form.get(name, [])) != 1 or not form[name][0]
    ]
    if "Body" in form and len(form["Body"][0]) > 1600:
        problems.append("Body: longer than 1600 characters")
    return problems


def validate_webhook(body: bytes, headers: dict[str, str], secret: str, now: float) -> list[str]:
    """recoup's webhook: a valid HMAC signature, and the notice's fields plus ``version``."""
    timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
    signature = headers.get(SIGNATURE_HEADER.lower(), "")
    if not verify_signature(secret, timestamp, body, signature, tolerance=300, now=now):
        return ["signature: does not verify"]
    data = json.loads(body)
    problems = []
    if data.get("version") != "1":
        problems.append("version: expected '1'")
    missing = NOTICE_FIELDS - set(data)
    if missing:
        problems.append(f"missing fields: {sorted(missing)}")
    if not headers.get("x-recoup-delivery", "").isdigit():
        problems.append("X-Recoup-Delivery: expected the delivery id")
    return problems


def validate_apprise_json(body: bytes) -> list[str]:
    """apprise's json:// format: version, title, message, type."""
    data = json.loads(body)
    problems = []
    if data.get("version") != "1.0":
        problems.append("version: expected '1.0'")
    if not isinstance(data.get("message"), str) or not data["message"]:
        problems.append("message: required")
    if not isinstance(data.get("title"), str):
        problems.append("title: expected a string")
    if data.get("type") not in APPRISE_TYPES:
        problems.append(f"type: {data.get('type')!r} not in {sorted(APPRISE_TYPES)}")
    return problems


class HttpReceivers:
    """Slack at ``/slack``, PagerDuty at ``/pagerduty/v2/enqueue``, Twilio at ``/twilio`` (its base URL),
    webhooks at ``/webhook``, apprise JSON at ``/apprise``."""

    def __init__(
        self,
        *,
        pagerduty_key: str = "R0UT1NGKEY0123456789abcdefABCDEF",
        twilio_sid: str = "AC0123456789abcdef0123456789abcdef",
        twilio_token: str = "twilio-auth-token",
        webhook_secret: str = "a-webhook-secret-of-some-length",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pagerduty_key = pagerduty_key
        self.twilio_sid = twilio_sid
        self.twilio_token = twilio_token
        self.webhook_secret = webhook_secret
        #: The receivers' own clock, for the webhook timestamp tolerance (tests with a fake clock share it).
        self.clock = clock
        self.received: list[Received] = []
        self.invalid: list[tuple[str, list[str]]] = []
        self._script: dict[str, deque[Answer]] = {}
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = receivers._handle(self.path, headers, body)
                payload = answer.body.encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, name="receivers", daemon=True
        )

    # -- control ---------------------------------------------------------------------------------------

    def start(self) -> HttpReceivers:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(
        self, prefix: str, status: int, *, headers: dict[str, str] | None = None, body: str = "", times: int = 1
    ) -> None:
        """Answer the next ``times`` requests under ``prefix`` with ``status`` instead of validating them."""
        with self._lock:
            queue = self._script.setdefault(prefix, deque())
            for _ in range(times):
                queue.append(Answer(status, headers or {}, body))

    def at(self, prefix: str, *, status: int | None = None) -> list[Received]:
        """Requests received under ``prefix`` (only those answered ``status``, when given)."""
        with self._lock:
            return [r for r in self.received if r.path.startswith(prefix) and (status is None or r.status == status)]

    def delivered(self, prefix: str) -> list[Received]:
        """Requests under ``prefix`` that were accepted (2xx)."""
        with self._lock:
            return [r for r in self.received if r.path.startswith(prefix) and 200 <= r.status < 300]

    def wait_for(self, prefix: str, count: int = 1, timeout: float = 5.0) -> list[Received]:
        """Block until ``count`` accepted requests arrived under ``prefix`` (or ``timeout``); returns them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [r for r in self.received if r.path.startswith(prefix) and 200 <= r.status < 300]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    return found
                self._arrived.wait(remaining)

    # -- handling --------------------------------------------------------------------------------------

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        answer: Answer | None = None
        with self._lock:
            for prefix, queue in self._script.items():
                if path.startswith(prefix) and queue:
                    answer = queue.popleft()
                    break
        if answer is None:
            answer = self._validate(path, headers, body)
        with self._arrived:
            self.received.append(Received(path, headers, body, answer.status, time.time()))
            self._arrived.notify_all()
        return answer

    def _validate(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if path.startswith("/slack"):
            problems = validate_slack(body, headers)
            ok = Answer(200, {"Content-Type": "text/plain"}, "ok")
        elif path.startswith("/pagerduty"):
            problems = validate_pagerduty(body, self.pagerduty_key)
            dedup = "" if problems else json.loads(body).get("dedup_key", "")
            answer = {"status": "success", "message": "Event processed", "dedup_key": dedup}
            ok = Answer(202, {"Content-Type": "application/json"}, json.dumps(answer))
        elif path.startswith("/twilio"):
            problems = validate_twilio(path.removeprefix("/twilio"), body, headers, self.twilio_sid, self.twilio_token)
            message = {"sid": "SM" + "0" * 32, "status": "queued"}
            ok = Answer(201, {"Content-Type": "application/json"}, json.dumps(message))
        elif path.startswith("/webhook"):
            problems = validate_webhook(body, headers, self.webhook_secret, self.clock())
            ok = Answer(204)
        elif path.startswith("/apprise"):
            problems = validate_apprise_json(body)
            ok = Answer(200)
        else:
            return Answer(404, body="no such receiver")
        if problems:
            with self._lock:
                self.invalid.append((path, problems))
            return Answer(400, {"Content-Type": "text/plain"}, "; ".join(problems))
        return ok


# -- SMTP ----------------------------------------------------------------------------------------------


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1, keeping every message; `reply_next` scripts an SMTP reply to the next DATA."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self._replies: deque[str] = deque()
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                if receiver._replies:
                    return receiver._replies.popleft()
                message = message_from_bytes(envelope.content, policy=policy.default)
                assert isinstance(message, EmailMessage)
                receiver.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
                return "250 Message accepted for delivery"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def reply_next(self, reply: str) -> None:
        self._replies.append(reply)

    def start(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
