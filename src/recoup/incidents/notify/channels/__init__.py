"""The notification channels, one module each, and `build_channel` to make one from its configuration."""

from __future__ import annotations

from recoup.incidents.notify.channels.apprise_channel import AppriseSender
from recoup.incidents.notify.channels.base import Attempt, Channel
from recoup.incidents.notify.channels.email import EmailSender
from recoup.incidents.notify.channels.pagerduty import PagerDutySender
from recoup.incidents.notify.channels.slack import SlackSender
from recoup.incidents.notify.channels.sms import SmsSender
from recoup.incidents.notify.channels.webhook import WebhookSender
from recoup.incidents.notify.config import (
    AppriseChannel,
    ChannelConfig,
    EmailChannel,
    NotifyConfig,
    PagerDutyChannel,
    SlackChannel,
    SmsChannel,
    WebhookChannel,
)

__all__ = ["Attempt", "Channel", "build_channel", "build_channels"]


def build_channel(config: ChannelConfig) -> Channel:
    """The sender for one channel entry."""
    if isinstance(config, EmailChannel):
        return EmailSender(config)
    if isinstance(config, SlackChannel):
        return SlackSender(config)
    if isinstance(config, WebhookChannel):
        return WebhookSender(config)
    if isinstance(config, SmsChannel):
        return SmsSender(config)
    if isinstance(config, PagerDutyChannel):
        return PagerDutySender(config)
    if isinstance(config, AppriseChannel):
        return AppriseSender(config)
    raise TypeError(f"not a channel configuration: {type(config).__name__}")


def build_channels(config: NotifyConfig) -> dict[tuple[str, str], Channel]:
    """Every configured channel, keyed by (receiver name, channel kind) -- the outbox's row identity."""
    return {
        (receiver.name, kind): build_channel(entry)
        for receiver in config.receivers
        for kind, entry in receiver.channels().items()
    }
