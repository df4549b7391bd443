"""Fakes of batch 95 (notification and messaging SDKs): the answers the imitated providers send (Twilio's
`code`/`more_info` errors, SendGrid `errors[]`, Telegram Bot API `ok:false` replies, Discord and Teams webhook
bodies, Mailgun and generic webhook errors) registered with batch 43's loopback fake, which answers the
status of whichever registered name is a segment of the path; SMTP servers built on aiosmtpd (STARTTLS with a
self-signed certificate, a mailbox store out of space); and the capture of what apprise and discord-webhook log
when a delivery fails (they log instead of raising). Everything listens on 127.0.0.1 and stops with the batch."""

from __future__ import annotations

import io
import json
import logging
import ssl
import warnings
from collections.abc import Callable
from typing import Any

from blind43_support import ANSWERS, saas_api
from checked import has_token, problem
from common import Env, Record, free_port, record
from servers import tls_server

JSON = "application/json"


def _twilio(code: int, message: str, status: int) -> tuple[int, str, str]:
    return status, JSON, json.dumps({"code": code, "message": message, "more_info":
                                     f"https://www.twilio.com/docs/errors/{code}", "status": status})


def _sendgrid(status: int, message: str, field: str | None = None) -> tuple[int, str, str]:
    return status, JSON, json.dumps({"errors": [{"message": message, "field": field, "help": None}]})


def _telegram(status: int, description: str, **parameters: Any) -> tuple[int, str, str]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, JSON, json.dumps(body)


_NGINX_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
              "</center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n")

#: name -> (status, content type, body), the answers of batch 95's providers
ANSWERS95: dict[str, tuple[int, str, str]] = {
    # Twilio (Verify and Voice APIs)
    "tw95auth": _twilio(20003, "Authenticate", 401),
    "tw95number": _twilio(21217, "Phone number does not appear to be valid", 400),
    "tw95attempts": _twilio(60203, "Max send attempts reached", 429),
    "tw95down": _twilio(20503, "Service Unavailable", 503),
    # SendGrid v3
    "sg95auth": _sendgrid(401, "The provided authorization grant is invalid, expired, or revoked"),
    "sg95subject": _sendgrid(400, "The subject is required. You can get around this requirement if you use a "
                                  "template with a subject defined or if every personalization has a subject "
                                  "defined.", "subject"),
    "sg95rate": _sendgrid(429, "too many requests"),
    # Telegram Bot API
    "tg95token": _telegram(401, "Unauthorized"),
    "tg95parse": _telegram(400, "Bad Request: can't parse entities: Can't find end of the entity starting at byte "
                                "offset 17"),
    "tg95flood": _telegram(429, "Too Many Requests: retry after 23", retry_after=23),
    "tg95gateway": (502, "text/html", _NGINX_502),
    "tg95internal": _telegram(500, "Internal Server Error"),
    # Discord webhooks
    "dc95token": (401, JSON, json.dumps({"message": "Invalid Webhook Token", "code": 50027})),
    "dc95form": (400, JSON, json.dumps({"code": 50035, "errors": {"embeds": {"0": {"fields": {"_errors": [
        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer in length."}]}}}},
        "message": "Invalid Form Body"})),
    "dc95rate": (429, JSON, json.dumps({"message": "You are being rate limited.", "retry_after": 64.57,
                                        "global": False})),
    # Microsoft Teams incoming webhooks
    "ms95payload": (400, "text/plain", "Bad payload received by generic incoming webhook."),
    "ms95throttle": (429, "text/plain", "Webhook message delivery failed with error: Microsoft Teams endpoint "
                                        "returned HTTP error 429 with ContextId tcid=0,server=msgapi-production-"
                                        "weu-azsc4-1-40,cv=5xN8sOH3kEeRpMnVdQb1AQ.0.."),
    # Slack incoming webhooks, Pushover, Mailgun, generic JSON/form receivers
    "mg95auth": (401, "text/plain", "Forbidden"),
    "hk95auth": (401, JSON, json.dumps({"error": "signature mismatch for this webhook"})),
    "hk95busy": (429, JSON, json.dumps({"error": "too many deliveries, slow down"})),
    "hk95down": (503, "text/html", "<html><body><h1>503 Service Unavailable</h1>The receiver is being deployed."
                                   "</body></html>"),
}


def notify_fake(env: Env) -> str:
    """Batch 43's loopback fake with batch 95's answers added; returns its base URL."""
    ANSWERS.update(ANSWERS95)
    api, _ = saas_api(env)
    return api


def smtp95_servers(env: Env) -> tuple[int, int]:
    """Two aiosmtpd servers: one offering STARTTLS with a self-signed certificate, one whose mailbox store is out
    of space (RCPT answered 452 4.3.1)."""
    from aiosmtpd.controller import Controller

    class Accept:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    class Full:
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                              rcpt_options: list[str]) -> str:
            return "452 4.3.1 Insufficient system storage"

    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", category=UserWarning, module="aiosmtpd")
    cert = tls_server(env).cafile  # only its self-signed certificate and key are used here
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, cert.with_name("server.key"))
    tls_port, full_port = free_port(), free_port()
    tls = Controller(Accept(), hostname="127.0.0.1", port=tls_port, tls_context=context)
    full = Controller(Full(), hostname="127.0.0.1", port=full_port)
    for controller in (tls, full):
        controller.start()
        env._closers.append(controller.stop)
    return tls_port, full_port


#: name, category, source, expected token, a call that returns whether the delivery succeeded
LogCase = tuple[str, str, str, str, Callable[[], Any]]


def apprise_log_records(cases: list[LogCase], verbose: frozenset[str] = frozenset()) -> list[Record]:
    """Run each apprise notification under `apprise.LogCapture` (warnings and errors, as a service's log shows
    them; the cases named in `verbose` at debug level, where apprise puts the socket and SMTP exception of a
    connection error) and record the log of a delivery that failed with the token of its cause."""
    import apprise

    out: list[Record] = []
    for name, category, source, token, send in cases:
        with apprise.LogCapture(level=logging.DEBUG if name in verbose else logging.WARNING) as log:
            ok = send()
        text = log.getvalue().strip()
        if ok or not text:
            problem(name, "no failure")
        elif has_token(name, text, token):
            out.append(record(text, category, source, "log", name))
    return out


def logger_records(logger_name: str, cases: list[LogCase]) -> list[Record]:
    """Like `apprise_log_records` for a library that logs a failed delivery through `logging.getLogger(name)`:
    a handler with the usual `LEVEL:name:message` format collects it."""
    out: list[Record] = []
    logger = logging.getLogger(logger_name)
    for name, category, source, token, send in cases:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
        logger.addHandler(handler)
        try:
            ok = send()
        finally:
            logger.removeHandler(handler)
        text = stream.getvalue().strip()
        if ok or not text:
            problem(name, "no failure")
        elif has_token(name, text, token):
            out.append(record(text, category, source, "log", name))
    return out


__all__ = ["ANSWERS95", "LogCase", "apprise_log_records", "logger_records", "notify_fake", "smtp95_servers"]
