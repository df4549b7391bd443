"""Any service apprise supports, by URL. apprise is an optional extra (``recoup[notify]``), imported only when
such a channel sends; its `notify` is synchronous, so it runs in a worker thread.

apprise reports only success or failure, not why, so a failure is retried (and dead-lettered after the last
try); a URL apprise does not understand fails at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from recoup.incidents.model import Notice, Severity
from recoup.incidents.notify.channels.base import Attempt
from recoup.incidents.notify.config import AppriseChannel
from recoup.incidents.notify.render import is_resolution, plain_text, summary
from recoup.incidents.notify.result import SendResult


def _import_apprise() -> Any:
    try:
        import apprise
    except ImportError:
        return None
    return apprise


class AppriseSender:
    kind = "apprise"

    def __init__(self, config: AppriseChannel) -> None:
        self.config = config

    async def send(self, notice: Notice, attempt: Attempt) -> SendResult:
        apprise = _import_apprise()
        if apprise is None:
            return SendResult.failed("the apprise channel needs the apprise package: pip install 'recoup[notify]'")
        client = apprise.Apprise()
        for index, url in enumerate(self.config.urls):
            if not client.add(url):
                return SendResult.failed(f"apprise does not understand urls[{index}] (scheme {url.split(':', 1)[0]!r})")
        if is_resolution(notice):
            kind = apprise.NotifyType.SUCCESS
        elif notice.severity is Severity.CRITICAL:
            kind = apprise.NotifyType.FAILURE
        elif notice.severity is Severity.WARNING:
            kind = apprise.NotifyType.WARNING
        else:
            kind = apprise.NotifyType.INFO
        ok = await asyncio.to_thread(client.notify, body=plain_text(notice), title=summary(notice), notify_type=kind)
        if ok:
            return SendResult.delivered()
        return SendResult.retry("apprise reported a failure for at least one URL (it does not say why)")
