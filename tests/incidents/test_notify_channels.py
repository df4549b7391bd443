"""Each channel against a real server on 127.0.0.1 that checks the payload against the documented format;
and how each classifies the answers it gets (delivered / retry with Retry-After / failed for good)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
import pytest
from receivers import HttpReceivers, SmtpReceiver, free_port

from recoup.incidents.model import Notice, NoticeKind, Severity
from recoup.incidents.notify.channels import Attempt, Channel, build_channel
from recoup.incidents.notify.channels.http import parse_retry_after
from recoup.incidents.notify.config import (
    AppriseChannel,
    EmailChannel,
    PagerDutyChannel,
    SlackChannel,
    SmsChannel,
    WebhookChannel,
)
from recoup.incidents.notify.result import Outcome, SendResult
from recoup.incidents.notify.signing import verify_signature

NOW = 1_800_000_000.0
T = TypeVar("T")


def notice(kind: NoticeKind = NoticeKind.FIRING, *, text: str = "error ratio 0.31 > 0.05 for 5m", **kw: Any) -> Notice:
    values: dict[str, Any] = {
        "kind": kind,
        "key": f"group:abc:{kind.value}:1",
        "dedup_key": "group:abc",
        "title": "HighErrorRate on checkout <!channel>",
        "text": text,
        "severity": Severity.CRITICAL,
        "created_at": NOW - 5,
        "labels": {"alertname": "HighErrorRate", "project": "checkout", "service": "api"},
        "alerts": ({"labels": {"alertname": "HighErrorRate", "service": "api"}, "state": "firing"},),
        "incident_id": 7,
        "url": "https://recoup.example.com/incidents/7",
    }
    values.update(kw)
    return Notice(**values)


@pytest.fixture
def http() -> Iterator[HttpReceivers]:
    receivers = HttpReceivers(clock=lambda: NOW).start()
    try:
        yield receivers
    finally:
        receivers.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


def send(channel: Channel, n: Notice, *, already_sent: frozenset[str] = frozenset()) -> SendResult:
    async def go() -> SendResult:
        async with httpx.AsyncClient() as client:
            attempt = Attempt(41, "oncall", 1, NOW, client, already_sent)
            return await channel.send(n, attempt)

    return asyncio.run(go())


def run(coro: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        return await coro()

    return asyncio.run(go())


# -- Slack ---------------------------------------------------------------------------------------------


def test_slack_sends_blocks_with_a_text_fallback(http: HttpReceivers) -> None:
    result = send(build_channel(SlackChannel(webhook_url=f"{http.base}/slack/T0/B0/x")), notice())
    assert result.outcome is Outcome.DELIVERED, (result, http.invalid)
    (req,) = http.delivered("/slack")
    body = req.json()
    assert body["text"].startswith("[CRITICAL] HighErrorRate on checkout &lt;!channel&gt;")  # escaped: no @channel
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context", "section"]
    assert body["blocks"][0]["text"]["type"] == "plain_text"
    assert "error ratio 0.31" in body["blocks"][1]["text"]["text"]
    assert body["blocks"][3]["text"]["text"] == "<https://recoup.example.com/incidents/7|Open in recoup>"


def test_slack_limits_are_respected_for_huge_notices(http: HttpReceivers) -> None:
    huge = notice(title="T" * 400, text="x" * 10_000, labels={f"l{i}": "v" * 50 for i in range(40)})
    assert send(build_channel(SlackChannel(webhook_url=f"{http.base}/slack/h")), huge).outcome is Outcome.DELIVERED
    assert http.invalid == []


def test_slack_429_carries_retry_after_and_404_is_permanent(http: HttpReceivers) -> None:
    channel = build_channel(SlackChannel(webhook_url=f"{http.base}/slack/x"))
    http.answer("/slack", 429, headers={"Retry-After": "30"}, body="rate_limited")
    limited = send(channel, notice())
    assert (limited.outcome, limited.retry_after) == (Outcome.RETRY, 30.0)
    assert "429" in limited.error and "rate_limited" in limited.error
    http.answer("/slack", 404, body="no_service")
    gone = send(channel, notice())
    assert gone.outcome is Outcome.FAILED and "no_service" in gone.error
    http.answer("/slack", 503)
    assert send(channel, notice()).outcome is Outcome.RETRY


# -- PagerDuty -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        (NoticeKind.FIRING, "trigger"),
        (NoticeKind.INCIDENT_TRIGGERED, "trigger"),
        (NoticeKind.ESCALATION, "trigger"),
        (NoticeKind.INCIDENT_ACKNOWLEDGED, "acknowledge"),
        (NoticeKind.RESOLVED, "resolve"),
        (NoticeKind.INCIDENT_RESOLVED, "resolve"),
    ],
)
def test_pagerduty_maps_notice_kinds_to_event_actions(http: HttpReceivers, kind: NoticeKind, action: str) -> None:
    config = PagerDutyChannel(routing_key=http.pagerduty_key, url=f"{http.base}/pagerduty/v2/enqueue")
    result = send(build_channel(config), notice(kind))
    assert result.outcome is Outcome.DELIVERED, (result, http.invalid)
    (req,) = http.delivered("/pagerduty")
    event = req.json()
    assert (event["event_action"], event["dedup_key"], event["routing_key"]) == (
        action,
        "group:abc",
        http.pagerduty_key,
    )
    if action == "trigger":
        assert event["payload"]["severity"] == "critical"
        assert event["payload"]["source"] == "api"
        assert event["payload"]["summary"].startswith("[CRITICAL] HighErrorRate")
        assert event["payload"]["custom_details"]["incident_id"] == 7
    else:
        assert "payload" not in event


def test_pagerduty_severities_and_long_dedup_keys(http: HttpReceivers) -> None:
    channel = build_channel(PagerDutyChannel(routing_key=http.pagerduty_key, url=f"{http.base}/pagerduty/v2/enqueue"))
    for severity in Severity:
        assert send(channel, notice(severity=severity, dedup_key="k" * 600)).outcome is Outcome.DELIVERED
    events = [r.json() for r in http.delivered("/pagerduty")]
    assert [e["payload"]["severity"] for e in events] == ["info", "warning", "critical"]
    assert len({e["dedup_key"] for e in events}) == 1 and len(events[0]["dedup_key"]) == 64  # stable hash


def test_pagerduty_rejects_a_wrong_routing_key_permanently(http: HttpReceivers) -> None:
    config = PagerDutyChannel(routing_key="not-the-key", url=f"{http.base}/pagerduty/v2/enqueue")
    result = send(build_channel(config), notice())
    assert result.outcome is Outcome.FAILED and "routing_key" in result.error


# -- Twilio --------------------------------------------------------------------------------------------


def sms_config(http: HttpReceivers, to: tuple[str, ...] = ("+15550002222", "+15550003333")) -> SmsChannel:
    return SmsChannel.model_validate(
        {
            "account_sid": http.twilio_sid,
            "auth_token": http.twilio_token,
            "from": "+15550001111",
            "to": list(to),
            "base_url": f"{http.base}/twilio",
        }
    )


def test_sms_sends_one_message_per_recipient_with_basic_auth(http: HttpReceivers) -> None:
    result = send(build_channel(sms_config(http)), notice(text="y" * 3000))
    assert result.outcome is Outcome.DELIVERED, (result, http.invalid)
    reqs = http.delivered("/twilio")
    assert [r.path for r in reqs] == [f"/twilio/2010-04-01/Accounts/{http.twilio_sid}/Messages.json"] * 2
    forms = [parse_qs(r.body.decode()) for r in reqs]
    assert [f["To"] for f in forms] == [["+15550002222"], ["+15550003333"]]
    assert all(f["From"] == ["+15550001111"] for f in forms)
    assert len(forms[0]["Body"][0]) == 1600 and forms[0]["Body"][0].endswith("…")
    auth = base64.b64decode(reqs[0].headers["authorization"].removeprefix("Basic ")).decode()
    assert auth == f"{http.twilio_sid}:{http.twilio_token}"


def test_sms_wrong_token_fails_and_a_partial_send_reports_who_was_reached(http: HttpReceivers) -> None:
    bad = sms_config(http).model_copy(update={"auth_token": "wrong"})
    assert send(build_channel(bad), notice()).outcome is Outcome.FAILED
    http.received.clear()
    # The first number gets through, the second is rate limited: the retry must text only the second.
    http.answer("/twilio", 201)
    http.answer("/twilio", 429, headers={"Retry-After": "7"})
    result = send(build_channel(sms_config(http)), notice())
    assert (result.outcome, result.retry_after, result.reached) == (Outcome.RETRY, 7.0, frozenset({"+15550002222"}))
    http.received.clear()
    again = send(build_channel(sms_config(http)), notice(), already_sent=result.reached)
    assert again.outcome is Outcome.DELIVERED
    assert [parse_qs(r.body.decode())["To"] for r in http.delivered("/twilio")] == [["+15550003333"]]


# -- webhook -------------------------------------------------------------------------------------------


def test_webhook_is_signed_and_carries_the_notice(http: HttpReceivers) -> None:
    config = WebhookChannel(url=f"{http.base}/webhook", secret=http.webhook_secret)
    result = send(build_channel(config), notice())
    assert result.outcome is Outcome.DELIVERED, (result, http.invalid)
    (req,) = http.delivered("/webhook")
    body = req.json()
    assert body["version"] == "1"
    assert Notice.from_dict(body) == notice()
    assert req.headers["x-recoup-delivery"] == "41"
    ts, sig = req.headers["x-recoup-timestamp"], req.headers["x-recoup-signature"]
    assert ts == str(int(NOW))
    assert verify_signature(http.webhook_secret, ts, req.body, sig, 300, now=NOW)
    assert not verify_signature("some-other-secret-value", ts, req.body, sig, 300, now=NOW)


def test_webhook_signed_with_the_wrong_secret_is_refused(http: HttpReceivers) -> None:
    config = WebhookChannel(url=f"{http.base}/webhook", secret="not-the-receivers-secret")
    result = send(build_channel(config), notice())
    assert result.outcome is Outcome.FAILED and "signature" in result.error


def test_connection_refused_and_timeouts_are_retried() -> None:
    config = WebhookChannel(url=f"http://127.0.0.1:{free_port()}/webhook", secret="x" * 20, timeout=0.5)
    result = send(build_channel(config), notice())
    assert result.outcome is Outcome.RETRY and "could not reach 127.0.0.1" in result.error


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Fri, 15 Jan 2027 08:00:30 GMT", NOW) == 30.0  # NOW is 08:00:00 that day
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


# -- apprise -------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # apprise imports the deprecated imghdr
def test_apprise_posts_to_a_json_url(http: HttpReceivers) -> None:
    pytest.importorskip("apprise")
    config = AppriseChannel(urls=(f"json://127.0.0.1:{http.port}/apprise",))
    result = send(build_channel(config), notice())
    assert result.outcome is Outcome.DELIVERED, (result, http.invalid)
    (req,) = http.delivered("/apprise")
    body = req.json()
    assert body["title"].startswith("[CRITICAL] HighErrorRate") and body["type"] == "failure"
    assert "error ratio 0.31" in body["message"]
    resolved = send(build_channel(config), notice(NoticeKind.RESOLVED))
    assert resolved.outcome is Outcome.DELIVERED and http.delivered("/apprise")[-1].json()["type"] == "success"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_apprise_failures_retry_and_unknown_urls_fail(http: HttpReceivers) -> None:
    pytest.importorskip("apprise")
    http.answer("/apprise", 500)
    failing = AppriseChannel(urls=(f"json://127.0.0.1:{http.port}/apprise",))
    assert send(build_channel(failing), notice()).outcome is Outcome.RETRY
    unknown = send(build_channel(AppriseChannel(urls=("nosuchscheme://x",))), notice())
    assert unknown.outcome is Outcome.FAILED and "urls[0]" in unknown.error


# -- email ---------------------------------------------------------------------------------------------


def email_config(smtp: SmtpReceiver) -> EmailChannel:
    return EmailChannel.model_validate(
        {
            "host": "127.0.0.1",
            "port": smtp.port,
            "starttls": False,
            "from": "recoup@example.com",
            "to": ["oncall@example.com", "lead@example.com"],
        }
    )


def test_email_is_a_multipart_message_with_the_headers(smtp: SmtpReceiver) -> None:
    result = send(build_channel(email_config(smtp)), notice())
    assert result.outcome is Outcome.DELIVERED, result
    (mail,) = smtp.mails
    msg = mail.message
    assert mail.mail_from == "recoup@example.com"
    assert mail.rcpt_tos == ["oncall@example.com", "lead@example.com"]
    assert msg["Subject"] == "[CRITICAL] HighErrorRate on checkout <!channel>"
    assert msg["From"] == "recoup@example.com"
    assert msg["To"] == "oncall@example.com, lead@example.com"
    assert parsedate_to_datetime(msg["Date"]).timestamp() == NOW
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@example.com>")
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert "error ratio 0.31 > 0.05 for 5m" in text.get_content()
    assert "Labels: alertname=HighErrorRate, project=checkout, service=api" in text.get_content()
    assert "&lt;!channel&gt;" in html.get_content()
    # The same delivery keeps its Message-ID across retries, so a mail system can drop a repeat.
    send(build_channel(email_config(smtp)), notice())
    assert smtp.mails[1].message["Message-ID"] == msg["Message-ID"]


def test_smtp_4xx_is_retried_5xx_fails_and_a_down_server_is_retried(smtp: SmtpReceiver) -> None:
    channel = build_channel(email_config(smtp))
    smtp.reply_next("451 4.3.0 try again later")
    soft = send(channel, notice())
    assert soft.outcome is Outcome.RETRY and "451" in soft.error
    smtp.reply_next("554 5.7.1 rejected")
    hard = send(channel, notice())
    assert hard.outcome is Outcome.FAILED and "554" in hard.error
    down = email_config(smtp).model_copy(update={"port": free_port(), "timeout": 1.0})
    assert send(build_channel(down), notice()).outcome is Outcome.RETRY
    assert smtp.mails == []


def test_notice_json_round_trips_through_the_webhook_body(http: HttpReceivers) -> None:
    n = notice(NoticeKind.TEST, labels={}, alerts=(), incident_id=None, url="")
    send(build_channel(WebhookChannel(url=f"{http.base}/webhook", secret=http.webhook_secret)), n)
    (req,) = http.delivered("/webhook")
    assert Notice.from_dict(json.loads(req.body)) == n
