"""Email over SMTP: a multipart/alternative message (plain text, and the same as simple HTML) with Subject,
From, To, Date and a Message-ID that is the same on every retry of one delivery (so a mail system that saw it
once can drop the repeat). smtplib runs in a worker thread so the event loop never blocks on the server.

Outcomes: connection failures, timeouts and 4xx replies are retried (SMTP's "try again later"); 5xx replies and
refused authentication fail for good.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from recoup.incidents.model import Notice
from recoup.incidents.notify.channels.base import Attempt
from recoup.incidents.notify.config import EmailChannel
from recoup.incidents.notify.render import plain_text, summary, truncate
from recoup.incidents.notify.result import SendResult

SUBJECT_MAX = 200


def message_id(notice: Notice, receiver: str, sender: str) -> str:
    digest = hashlib.sha256(f"{notice.key}\x00{receiver}".encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2].strip(" >") or "recoup.invalid"
    return f"<{digest}@{domain}>"


def render(notice: Notice, config: EmailChannel, *, receiver: str, now: float) -> EmailMessage:
    text = plain_text(notice)
    msg = EmailMessage()
    msg["Subject"] = truncate(summary(notice).replace("\n", " "), SUBJECT_MAX)
    msg["From"] = config.from_
    msg["To"] = ", ".join(config.to)
    msg["Date"] = formatdate(now, usegmt=True)
    msg["Message-ID"] = message_id(notice, receiver, config.from_)
    msg["X-Recoup-Notice"] = notice.key
    msg.set_content(text)
    msg.add_alternative(f"<html><body><pre>{html.escape(text)}</pre></body></html>", subtype="html")
    return msg


def _code_outcome(code: int, what: str) -> SendResult:
    return SendResult.retry(what) if 400 <= code < 500 else SendResult.failed(what)


class EmailSender:
    kind = "email"

    def __init__(self, config: EmailChannel) -> None:
        self.config = config

    async def send(self, notice: Notice, attempt: Attempt) -> SendResult:
        msg = render(notice, self.config, receiver=attempt.receiver, now=attempt.now)
        return await asyncio.to_thread(self._send_sync, msg)

    def _send_sync(self, msg: EmailMessage) -> SendResult:
        cfg = self.config
        where = f"{cfg.host}:{cfg.port}"
        try:
            smtp: smtplib.SMTP
            if cfg.ssl:
                smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            with smtp:
                if cfg.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if cfg.username is not None and cfg.password is not None:
                    smtp.login(cfg.username, cfg.password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            what = f"SMTP {where} refused every recipient: {_describe_refused(exc.recipients)}"
            return SendResult.retry(what) if any(400 <= c < 500 for c in codes) else SendResult.failed(what)
        except smtplib.SMTPNotSupportedError as exc:
            return SendResult.failed(f"SMTP {where}: {exc}")
        except smtplib.SMTPResponseException as exc:  # includes authentication, sender refused, data errors
            reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            return _code_outcome(exc.smtp_code, f"SMTP {where} answered {exc.smtp_code}: {reply}")
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, refused connections, timeouts, TLS errors
            return SendResult.retry(f"SMTP {where}: {type(exc).__name__}: {exc}")
        if refused:
            return SendResult.delivered(f"some recipients refused: {_describe_refused(refused)}")
        return SendResult.delivered()


def _describe_refused(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{addr} ({code} {reply.decode('utf-8', 'replace')})" for addr, (code, reply) in refused.items())
