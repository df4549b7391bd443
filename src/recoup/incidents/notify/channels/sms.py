"""SMS through Twilio's Messages API: ``POST {base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json``,
form-encoded ``To``, ``From``, ``Body``, HTTP basic auth (account SID, auth token). One message per recipient;
a body is at most 1600 characters (Twilio's limit), cut with an ellipsis.

When one recipient fails after others were reached, the attempt reports who was reached, and the retry texts
only the rest.
"""

from __future__ import annotations

from urllib.parse import quote

from recoup.incidents.model import Notice
from recoup.incidents.notify.channels.base import Attempt
from recoup.incidents.notify.channels.http import post
from recoup.incidents.notify.config import SmsChannel
from recoup.incidents.notify.render import iso_time, summary, truncate
from recoup.incidents.notify.result import Outcome, SendResult

BODY_MAX = 1600


def render(notice: Notice) -> str:
    lines = [summary(notice)]
    if notice.text.strip():
        lines.append(notice.text.strip())
    lines.append(iso_time(notice.created_at))
    if notice.url:
        lines.append(notice.url)
    return truncate("\n".join(lines), BODY_MAX)


def messages_url(config: SmsChannel) -> str:
    return f"{config.base_url.rstrip('/')}/2010-04-01/Accounts/{quote(config.account_sid, safe='')}/Messages.json"


class SmsSender:
    kind = "sms"

    def __init__(self, config: SmsChannel) -> None:
        self.config = config

    async def send(self, notice: Notice, attempt: Attempt) -> SendResult:
        body = render(notice)
        url = messages_url(self.config)
        reached: set[str] = set()
        for to in self.config.to:
            if to in attempt.already_sent:
                continue
            result = await post(
                attempt.http,
                url,
                data={"To": to, "From": self.config.from_, "Body": body},
                auth=(self.config.account_sid, self.config.auth_token),
                now=attempt.now,
                request_timeout=self.config.timeout,
            )
            if result.outcome is not Outcome.DELIVERED:
                error = f"to {to}: {result.error}"
                if result.outcome is Outcome.RETRY:
                    return SendResult.retry(error, result.retry_after, frozenset(reached))
                return SendResult.failed(error, frozenset(reached))
            reached.add(to)
        return SendResult.delivered()
