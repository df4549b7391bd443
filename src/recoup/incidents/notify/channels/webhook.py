"""Generic JSON webhook: the notice as JSON (``notice.to_dict()`` plus ``version``), signed with HMAC-SHA256
(see `recoup.incidents.notify.signing`). ``X-Recoup-Delivery`` is the outbox row id, the same on every retry,
so a receiver can drop a repeat."""

from __future__ import annotations

import json
from typing import Any

from recoup.incidents.model import Notice
from recoup.incidents.notify.channels.base import Attempt
from recoup.incidents.notify.channels.http import post
from recoup.incidents.notify.config import WebhookChannel
from recoup.incidents.notify.result import SendResult
from recoup.incidents.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

#: Version of the webhook body; bumped when a field changes meaning or goes away (added fields do not bump it).
WEBHOOK_VERSION = "1"
DELIVERY_HEADER = "X-Recoup-Delivery"


def render(notice: Notice) -> dict[str, Any]:
    return {"version": WEBHOOK_VERSION, **notice.to_dict()}


class WebhookSender:
    kind = "webhook"

    def __init__(self, config: WebhookChannel) -> None:
        self.config = config

    async def send(self, notice: Notice, attempt: Attempt) -> SendResult:
        body = json.dumps(render(notice), separators=(",", ":"), sort_keys=True).encode("utf-8")
        timestamp = int(attempt.now)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "recoup-notify/1",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self.config.secret, timestamp, body),
            DELIVERY_HEADER: str(attempt.delivery_id),
        }
        cfg = self.config
        return await post(
            attempt.http, cfg.url, content=body, headers=headers, now=attempt.now, request_timeout=cfg.timeout
        )
