"""Slack incoming webhooks: a JSON POST with Block Kit ``blocks`` and a top-level ``text``, which Slack shows
in notifications and to clients that cannot render blocks (so it carries the whole summary, as plain text).

Slack answers 200 ``ok``; 400 (``invalid_payload``), 403, 404 (``no_service``) and 410 (channel archived)
cannot be fixed by retrying; 429 comes with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from recoup.incidents.model import Notice, Severity
from recoup.incidents.notify.channels.base import Attempt
from recoup.incidents.notify.channels.http import post
from recoup.incidents.notify.config import SlackChannel
from recoup.incidents.notify.render import alert_lines, is_resolution, labels_line, summary, truncate
from recoup.incidents.notify.result import SendResult

#: Block Kit limits: header text 150 characters, section text 3000, context elements 10.
HEADER_MAX = 150
SECTION_MAX = 3000
_ICON = {
    Severity.CRITICAL: ":red_circle:",
    Severity.WARNING: ":large_orange_circle:",
    Severity.INFO: ":information_source:",
}


def escape(text: str) -> str:
    """Slack reads ``&``, ``<`` and ``>`` as markup (``<!channel>`` pings everyone): escape them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(notice: Notice) -> dict[str, Any]:
    """The webhook body for ``notice``."""
    icon = ":large_green_circle:" if is_resolution(notice) else _ICON[notice.severity]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(summary(notice), HEADER_MAX), "emoji": True}}
    ]
    body = notice.text.strip()
    if notice.alerts:
        body = (body + "\n" if body else "") + "\n".join(alert_lines(notice))
    if body:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": truncate(escape(body), SECTION_MAX)}})
    context = [f"{icon} *{notice.severity.value}*", f"*kind:* {notice.kind.value}"]
    if notice.incident_id is not None:
        context.append(f"*incident:* #{notice.incident_id}")
    if notice.labels:
        context.append(truncate(escape(labels_line(notice)), SECTION_MAX))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": c} for c in context]})
    if notice.url:
        link = f"<{escape(notice.url)}|Open in recoup>"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": link}})
    fallback = summary(notice) + (f": {notice.text.strip()}" if notice.text.strip() else "")
    return {"text": truncate(escape(fallback), SECTION_MAX), "blocks": blocks}


class SlackSender:
    kind = "slack"

    def __init__(self, config: SlackChannel) -> None:
        self.config = config

    async def send(self, notice: Notice, attempt: Attempt) -> SendResult:
        cfg, body = self.config, render(notice)
        return await post(attempt.http, cfg.webhook_url, json=body, now=attempt.now, request_timeout=cfg.timeout)
