"""Notifications: channels (email, Slack, signed webhooks, Twilio SMS, PagerDuty, apprise) and the durable
outbox that delivers to them.

    config = load_notify_config("notifications.yaml")
    queue = NotificationQueue(store, clock=time.time, config=config)     # a NoticeSink
    queue.enqueue(notice, ["oncall"])                                    # one row per channel, de-duplicated
    async with NotificationWorker(queue, config) as worker:
        await worker.run(stop_event)                                     # wakes on enqueue; retries; dead-letters

Module map: `config` (YAML receivers and channels), `channels/` (one module per protocol), `render` (shared
wording), `signing` (webhook HMAC), `result` (send outcomes), `outbox` (the queue), `worker` (delivery).
"""

from __future__ import annotations

from recoup.incidents.notify.config import (
    NotifyConfig,
    NotifyConfigError,
    Receiver,
    load_notify_config,
    loads_notify_config,
    parse_notify_config,
)
from recoup.incidents.notify.outbox import Delivery, DeliveryStatus, NotificationQueue
from recoup.incidents.notify.result import Outcome, SendResult
from recoup.incidents.notify.signing import sign, verify_signature
from recoup.incidents.notify.worker import NotificationWorker

__all__ = [
    "Delivery",
    "DeliveryStatus",
    "NotificationQueue",
    "NotificationWorker",
    "NotifyConfig",
    "NotifyConfigError",
    "Outcome",
    "Receiver",
    "SendResult",
    "load_notify_config",
    "loads_notify_config",
    "parse_notify_config",
    "sign",
    "verify_signature",
]
