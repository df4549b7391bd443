"""PagerDuty Events API v2: ``trigger`` opens (or adds to) the alert keyed by ``dedup_key``; ``acknowledge``
and ``resolve`` with the same key act on it. The key is the notice's ``dedup_key`` (stable for one alert group
or incident); PagerDuty caps it at 255 characters, so a longer one is replaced by its SHA-256 -- still stable.

PagerDuty answers 202; 400 is an invalid event (permanent); 429 and 5xx are retried.
"""

from __future__ import annotations

import hashlib
from typing import Any

from recoup.incidents.model import Notice, NoticeKind, Severity
from recoup.incidents.notify.channels.base import Attempt
from recoup.incidents.notify.channels.http import post
from recoup.incidents.notify.config import PagerDutyChannel
from recoup.incidents.notify.render import iso_time, summary, truncate
from recoup.incidents.notify.result import SendResult

SUMMARY_MAX = 1024
DEDUP_MAX = 255
_ACTIONS = {
    NoticeKind.RESOLVED: "resolve",
    NoticeKind.INCIDENT_RESOLVED: "resolve",
    NoticeKind.INCIDENT_ACKNOWLEDGED: "acknowledge",
}
#: PagerDuty knows critical, error, warning and info; recoup has no "error" level.
_SEVERITY = {Severity.CRITICAL: "critical", Severity.WARNING: "warning", Severity.INFO: "info"}


def event_action(notice: Notice) -> str:
    return _ACTIONS.get(notice.kind, "trigger")


def dedup_key(notice: Notice) -> str:
    key = notice.dedup_key or notice.key
    return key if len(key) <= DEDUP_MAX else hashlib.sha256(key.encode("utf-8")).hexdigest()


def render(notice: Notice, config: PagerDutyChannel) -> dict[str, Any]:
    action = event_action(notice)
    event: dict[str, Any] = {"routing_key": config.routing_key, "event_action": action, "dedup_key": dedup_key(notice)}
    if action != "trigger":
        return event
    labels = dict(notice.labels)
    payload: dict[str, Any] = {
        "summary": truncate(summary(notice), SUMMARY_MAX),
        "source": labels.get("service") or labels.get("project") or config.source,
        "severity": _SEVERITY[notice.severity],
        "timestamp": iso_time(notice.created_at),
        "custom_details": {
            "kind": notice.kind.value,
            "text": notice.text,
            "labels": labels,
            "alerts": [dict(a) for a in notice.alerts],
            "incident_id": notice.incident_id,
        },
    }
    if "alertname" in labels:
        payload["class"] = labels["alertname"]
    if "project" in labels:
        payload["group"] = labels["project"]
    event["payload"] = payload
    event["client"] = "recoup"
    if notice.url:
        event["client_url"] = notice.url
        event["links"] = [{"href": notice.url, "text": "Open in recoup"}]
    return event


class PagerDutySender:
    kind = "pagerduty"

    def __init__(self, config: PagerDutyChannel) -> None:
        self.config = config

    async def send(self, notice: Notice, attempt: Attempt) -> SendResult:
        event = render(notice, self.config)
        cfg = self.config
        return await post(attempt.http, cfg.url, json=event, now=attempt.now, request_timeout=cfg.timeout)
