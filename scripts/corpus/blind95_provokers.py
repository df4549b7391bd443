"""Ninety-fifth batch of blind provokers: notification and messaging SDKs pointed at fakes on 127.0.0.1. The
Twilio SDK (Verify and Voice) against Twilio-format errors (20003 authenticate, 21217 invalid number, 60203 max
send attempts, 20503); SendGrid's client (401, a missing subject, 429, a string for a message);
python-telegram-bot with `base_url` at the fake (Unauthorized, can't parse entities,
RetryAfter, a 502 from the proxy in front, a read timeout); discord-webhook (refused, an invalid token, an
embed colour out of range, a rate limit it logs, an attachment that is not there); pymsteams (bad payload,
throttled, a self-signed HTTPS endpoint); smtplib against aiosmtpd (STARTTLS to a self-signed certificate,
refused login, 421 busy, 452 out of storage, a missing CA bundle); and apprise's log of failed deliveries
(JSON/form/XML webhooks, mailto:// to aiosmtpd, discord://, mailgun://, tgram://, workflow:// with their API
roots at the fake). Only 127.0.0.1."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from blind92_support import smtp_servers
from blind95_support import LogCase, apprise_log_records, logger_records, notify_fake, smtp95_servers
from checked import PyCase, has_token, python_records
from common import Env, Record, write_batch
from servers import self_signed_https

BLIND95_SOURCES = frozenset({"twilio95", "sendgrid95", "python-telegram-bot95", "discord-webhook95", "pymsteams95",
                             "smtplib95", "apprise95"})

_SID = "AC" + "9f5e" * 8
_VERIFY_SID = "VA" + "3c1d" * 8
_TG_TOKEN = "7123456789:AAHk9x2QeVb3mN0pLr5sTu8wYz1aBcDeFgH"


# --------------------------------------------------------------------------- Twilio

def _twilio_cases(api: str, env: Env) -> list[PyCase]:
    def client(root: str) -> Any:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        twilio = Client(_SID, "3f0c9d2b7a6e4f1c8b5a0d9e2f7c4b1a", http_client=TwilioHttpClient(timeout=4))
        twilio.verify.base_url = root
        twilio.api.base_url = root
        return twilio

    def start_verification(root: str, to: str = "+4915112345678") -> Any:
        def go() -> Any:
            service = client(root).verify.v2.services(_VERIFY_SID)
            return service.verifications.create(to=to, channel="sms", locale="de")
        return go

    def call(root: str, to: str) -> Any:
        def go() -> Any:
            return client(root).calls.create(to=to, from_="+15005550006",
                                             twiml="<Response><Say>Your deployment to production failed."
                                                   "</Say></Response>")
        return go

    def verification_without_channel() -> Any:
        service = client(f"{api}/ok").verify.v2.services(_VERIFY_SID)
        return service.verifications.create(to="+4915112345678")  # type: ignore[call-arg]

    return [
        ("twilio_verify_authenticate", "auth", "twilio95", "TwilioRestException",
         start_verification(f"{api}/tw95auth")),
        ("twilio_call_invalid_number", "validation", "twilio95", "TwilioRestException",
         call(f"{api}/tw95number", "+49 151 1234")),
        ("twilio_verify_max_attempts", "resource", "twilio95", "TwilioRestException",
         start_verification(f"{api}/tw95attempts")),
        ("twilio_call_503", "service", "twilio95", "TwilioRestException", call(f"{api}/tw95down", "+4915112345678")),
        ("twilio_verify_no_channel", "programming", "twilio95", "TypeError", verification_without_channel),
    ]


# --------------------------------------------------------------------------- SendGrid

def _sendgrid_cases(api: str, env: Env) -> list[PyCase]:
    def mail(subject: str | None = "Your invoice INV-2026-0412") -> Any:
        from sendgrid.helpers.mail import Mail

        return Mail(from_email="billing@example.org", to_emails="customer@example.net", subject=subject,
                    html_content="<p>Your invoice is attached.</p>")

    def grid(host: str) -> Any:
        from sendgrid import SendGridAPIClient

        key = "SG.q3Xv9Lm2Rk8Tn4Wp7Yz1Ab.c5Dd6Ee7Ff8Gg9Hh0Ii1Jj2Kk3Ll4Mm5Nn6Oo7Pp8Q"
        return SendGridAPIClient(api_key=key, host=host)

    def post_raw() -> Any:
        return grid(f"{api}/sg95auth").client.mail.send.post(request_body=mail().get())

    def no_subject() -> Any:
        return grid(f"{api}/sg95subject").send(mail(subject=None))

    def bounces() -> Any:
        return grid(f"{api}/sg95rate").client.suppression.bounces.get(query_params={"limit": 500})

    def send_text() -> Any:
        return grid(f"{api}/ok").send("Your invoice INV-2026-0412 is attached.")

    return [
        ("sendgrid_post_unauthorized", "auth", "sendgrid95", "UnauthorizedError", post_raw),
        ("sendgrid_send_no_subject", "validation", "sendgrid95", "BadRequestsError", no_subject),
        ("sendgrid_bounces_429", "resource", "sendgrid95", "TooManyRequestsError", bounces),
        ("sendgrid_send_str", "programming", "sendgrid95", "AttributeError", send_text),
    ]


# --------------------------------------------------------------------------- python-telegram-bot

def _telegram_cases(api: str, env: Env) -> list[PyCase]:
    def bot(base: str, **timeouts: float) -> Any:
        import telegram
        from telegram.request import HTTPXRequest

        request = HTTPXRequest(**timeouts) if timeouts else None
        return telegram.Bot(_TG_TOKEN, base_url=base, request=request)

    def startup(base: str) -> Any:
        async def main() -> Any:
            async with bot(base) as b:
                return await b.send_message(chat_id=-1001234567890, text="deploy finished")
        return lambda: asyncio.run(main())

    def send(base: str, text: str = "Build <b>#4411</b> failed", **timeouts: float) -> Any:
        async def main() -> Any:
            b = bot(base, **timeouts)
            try:
                return await b.send_message(chat_id=-1001234567890, text=text, parse_mode="MarkdownV2")
            finally:
                await b.shutdown()
        return lambda: asyncio.run(main())

    def no_chat() -> Any:
        async def main() -> Any:
            b = bot(f"{api}/ok/bot")
            return await b.send_message(text="nightly report ready")  # type: ignore[call-arg]
        return asyncio.run(main())

    return [
        ("telegram_initialize_unauthorized", "auth", "python-telegram-bot95", "InvalidToken",
         startup(f"{api}/tg95token/bot")),
        ("telegram_send_cant_parse", "validation", "python-telegram-bot95", "BadRequest",
         send(f"{api}/tg95parse/bot", "*Build #4411 failed: see _logs")),
        ("telegram_send_retry_after", "resource", "python-telegram-bot95", "RetryAfter", send(f"{api}/tg95flood/bot")),
        ("telegram_send_bad_gateway", "service", "python-telegram-bot95", "NetworkError",
         send(f"{api}/tg95gateway/bot")),
        ("telegram_send_timed_out", "network", "python-telegram-bot95", "TimedOut",
         send(f"http://127.0.0.1:{env.hang_port}/bot", read_timeout=1.5, connect_timeout=2.0)),
        ("telegram_send_no_chat", "programming", "python-telegram-bot95", "TypeError", no_chat),
    ]


# --------------------------------------------------------------------------- discord-webhook

def _discord_cases(api: str, env: Env) -> list[PyCase]:
    def hook(url: str, **kw: Any) -> Any:
        from discord_webhook import DiscordWebhook

        return DiscordWebhook(url=url, content="Deploy of checkout 9f3c2e1 finished", rate_limit_retry=False,
                              timeout=4, **kw)

    def refused() -> Any:
        return hook(f"http://127.0.0.1:{env.closed_port}/api/webhooks/1187654321098765432/tok").execute()

    def bad_token() -> Any:
        response = hook(f"{api}/dc95token/api/webhooks/1187654321098765432/expired-token").execute()
        response.raise_for_status()
        return response

    def embed_colour() -> Any:
        from discord_webhook import DiscordEmbed

        webhook = hook(f"{api}/ok/api/webhooks/1187654321098765432/tok")
        brand = {"success": "2ecc71", "failure": "e74c3cff"}  # RGBA from the design tokens
        webhook.add_embed(DiscordEmbed(title="Release 4.12.0", description="rollout failed", color=brand["failure"]))
        return webhook.execute()

    def attachment() -> Any:
        webhook = hook(f"{api}/ok/api/webhooks/1187654321098765432/tok")
        with open(env.tmp / "reports" / "coverage-4411.html", "rb") as report:
            webhook.add_file(file=report.read(), filename="coverage.html")
        return webhook.execute()

    return [
        ("discord_webhook_refused", "network", "discord-webhook95", "ConnectionError", refused),
        ("discord_webhook_invalid_token", "auth", "discord-webhook95", "HTTPError", bad_token),
        ("discord_embed_colour_range", "validation", "discord-webhook95", "ColorNotInRangeException", embed_colour),
        ("discord_attachment_missing", "filesystem", "discord-webhook95", "FileNotFoundError", attachment),
    ]


def _discord_log_cases(api: str) -> list[LogCase]:
    def rate_limited() -> bool:
        from discord_webhook import DiscordWebhook

        response = DiscordWebhook(url=f"{api}/dc95rate/api/webhooks/1187654321098765432/tok",
                                  content="nightly e2e: 3 failures", rate_limit_retry=False, timeout=4).execute()
        return response.status_code in (200, 204)

    return [("discord_webhook_rate_limited_log", "resource", "discord-webhook95", "429", rate_limited)]


# --------------------------------------------------------------------------- pymsteams

def _teams_cases(api: str, env: Env) -> list[PyCase]:
    def card(url: str) -> Any:
        import pymsteams

        teams = pymsteams.connectorcard(url, http_timeout=4)
        teams.title("Nightly build 4411")
        teams.text("3 integration tests failed on main")
        return teams

    hook = "webhookb2/6f1c2d3e-0a4b-4c5d-9e8f-7a6b5c4d3e2f@9d8c7b6a/IncomingWebhook/a1b2c3d4e5f6/0f9e8d7c"

    def section_dict() -> Any:
        teams = card(f"{api}/ok/{hook}")
        teams.addSection({"activityTitle": "checkout", "activityText": "rollback started"})
        return teams.send()

    return [
        ("teams_bad_payload", "validation", "pymsteams95", "TeamsWebhookException",
         lambda: card(f"{api}/ms95payload/{hook}").send()),
        ("teams_throttled", "resource", "pymsteams95", "TeamsWebhookException",
         lambda: card(f"{api}/ms95throttle/{hook}").send()),
        ("teams_self_signed", "network", "pymsteams95", "SSLError",
         lambda: card(f"https://127.0.0.1:{self_signed_https(env)}/{hook}").send()),
        ("teams_section_dict", "programming", "pymsteams95", "AttributeError", section_dict),
    ]


# --------------------------------------------------------------------------- smtplib against aiosmtpd

def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "alerts@example.org"
    msg["To"] = "oncall@example.org"
    msg["Subject"] = "[ALERT] disk usage above 95% on db-02"
    msg.set_content("db-02:/var/lib/postgresql is 95% full.")
    return msg


def _smtp_cases(env: Env) -> list[PyCase]:
    busy_port, auth_port = smtp_servers(env)
    tls_port, full_port = smtp95_servers(env)

    def starttls() -> Any:
        with smtplib.SMTP("127.0.0.1", tls_port, timeout=5) as smtp:
            smtp.ehlo("alerts.example.org")
            smtp.starttls(context=ssl.create_default_context())
            return smtp.send_message(_message())

    def login() -> Any:
        with smtplib.SMTP("127.0.0.1", auth_port, timeout=5) as smtp:
            smtp.login("alerts@example.org", "wrong-app-password")
            return smtp.send_message(_message())

    def deliver(port: int) -> Any:
        def go() -> Any:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                return smtp.send_message(_message())
        return go

    def corporate_ca() -> Any:
        context = ssl.create_default_context(cafile=str(env.tmp / "certs" / "corp-root-ca.pem"))
        with smtplib.SMTP("127.0.0.1", tls_port, timeout=5) as smtp:
            smtp.starttls(context=context)
            return smtp.send_message(_message())

    def sendmail_message_only() -> Any:
        with smtplib.SMTP("127.0.0.1", busy_port, timeout=5) as smtp:
            return smtp.sendmail(_message().as_string())  # type: ignore[call-arg]

    return [
        ("smtplib_starttls_self_signed", "network", "smtplib95", "SSLCertVerificationError", starttls),
        ("smtplib_login_refused", "auth", "smtplib95", "SMTPAuthenticationError", login),
        ("smtplib_data_421", "service", "smtplib95", "SMTPDataError", deliver(busy_port)),
        ("smtplib_rcpt_452", "resource", "smtplib95", "SMTPRecipientsRefused", deliver(full_port)),
        ("smtplib_cafile_missing", "filesystem", "smtplib95", "FileNotFoundError", corporate_ca),
        ("smtplib_sendmail_one_arg", "programming", "smtplib95", "TypeError", sendmail_message_only),
    ]


# --------------------------------------------------------------------------- apprise (what it logs)

def _apprise_cases(api: str, env: Env) -> list[LogCase]:
    import apprise
    from apprise.plugins import discord, mailgun, telegram

    port = api.rsplit(":", 1)[1]
    discord.NotifyDiscord.notify_url = f"{api}/dc95form/api/webhooks"
    telegram.NotifyTelegram.notify_url = f"{api}/tg95internal/bot"
    for region in list(mailgun.MAILGUN_API_LOOKUP):
        mailgun.MAILGUN_API_LOOKUP[region] = f"{api}/mg95auth/v3/"
    _, auth_port = smtp_servers(env)
    tls_port, _ = smtp95_servers(env)

    def notify(url: str, title: str = "Deploy checkout 9f3c2e1", body: str = "rollout to prod finished") -> Any:
        apobj = apprise.Apprise()  # loaded here, so the captured log starts with the delivery
        added = apobj.add(url)

        def go() -> bool:
            if not added:
                return True  # not even a notification: nothing was delivered, and nothing failed for our cause
            return bool(apobj.notify(title=title, body=body))
        return go

    mail = "from=alerts@example.org&to=oncall@example.org&name=CI"
    return [
        ("apprise_json_401", "auth", "apprise95", "401|unauthorized", notify(f"json://127.0.0.1:{port}/hk95auth")),
        ("apprise_form_429", "resource", "apprise95", "429|too many", notify(f"form://127.0.0.1:{port}/hk95busy")),
        ("apprise_xml_503", "service", "apprise95", "503|unavailable", notify(f"xml://127.0.0.1:{port}/hk95down")),
        ("apprise_json_timeout", "network", "apprise95", "timed out|timeout",
         notify(f"json://127.0.0.1:{env.hang_port}/hooks/deploy?rto=2&cto=2")),
        ("apprise_mailto_login", "auth", "apprise95", "535|authentication",
         notify(f"mailto://alerts:wrong-password@127.0.0.1:{auth_port}?{mail}")),
        ("apprise_mailtos_starttls", "network", "apprise95", "certificate|ssl",
         notify(f"mailtos://alerts:app-password@127.0.0.1:{tls_port}?mode=starttls&{mail}")),
        ("apprise_discord_form_body", "validation", "apprise95", "400|bad request",
         notify("discord://1187654321098765432/Xk3vQ9mZr7LpW2sN8yT5uB1cD4eF6gH0jK-aS_dQwErTyUiOp")),
        ("apprise_mailgun_forbidden", "auth", "apprise95", "401|unauthorized|forbidden",
         notify("mailgun://alerts@mg.example.org/key-3ax6xnjp29jd6fds4gc373sgvjxteol0/oncall@example.org")),
        ("apprise_telegram_500", "service", "apprise95", "500|internal",
         notify(f"tgram://{_TG_TOKEN}/-1001234567890")),
        ("apprise_workflow_self_signed", "network", "apprise95", "certificate|ssl",
         notify(f"workflow://127.0.0.1:{self_signed_https(env)}/5c8e1f2a9b7d4e6f/kL3mN0pQ7rS2tU5vW8xY1zA4bC6dE9fG")),
    ]


#: exception types that every status of a provider shares: the one-line record must also carry the provoked cause
STATUS_TOKENS = {
    "twilio_verify_authenticate": "401", "twilio_call_invalid_number": "does not appear to be valid",
    "twilio_verify_max_attempts": "max send attempts", "twilio_call_503": "503", "telegram_send_bad_gateway": "502",
    "discord_webhook_invalid_token": "401", "teams_bad_payload": "bad payload", "teams_throttled": "429",
    "teams_self_signed": "certificate verify failed", "smtplib_data_421": "421", "smtplib_rcpt_452": "452",
    "smtplib_login_refused": "535", "smtplib_starttls_self_signed": "certificate verify failed",
}


def _with_status(records: list[Record]) -> list[Record]:
    """Drop both records of a case whose one-line exception lacks its token (see STATUS_TOKENS)."""
    lacking = {r["provoker"] for r in records if r["kind"] == "exception" and r["provoker"] in STATUS_TOKENS
               and not has_token(r["provoker"], r["text"], STATUS_TOKENS[r["provoker"]])}
    return [r for r in records if r["provoker"] not in lacking]


def make_records(env: Env) -> list[Record]:
    api = notify_fake(env)
    cases = (_twilio_cases(api, env) + _sendgrid_cases(api, env) + _telegram_cases(api, env)
             + _discord_cases(api, env) + _teams_cases(api, env) + _smtp_cases(env))
    out = _with_status(python_records(cases))
    out += logger_records("discord_webhook.webhook", _discord_log_cases(api))
    out += apprise_log_records(_apprise_cases(api, env), frozenset({
        "apprise_json_timeout", "apprise_mailto_login", "apprise_mailtos_starttls", "apprise_workflow_self_signed"}))
    assert {r["source"] for r in out} <= BLIND95_SOURCES
    return out


if __name__ == "__main__":
    write_batch(make_records)
