"""Notification channel configuration: named receivers, each with one or more channels, loaded from YAML.

    receivers:
      - name: oncall
        email: {host: smtp.example.com, port: 587, starttls: true, username: bot, password: ${SMTP_PASSWORD},
                from: recoup@example.com, to: [oncall@example.com]}
        slack: {webhook_url: ${SLACK_WEBHOOK_URL}}
        webhook: {url: https://hooks.example.com/recoup, secret: ${RECOUP_WEBHOOK_SECRET}}
        sms: {account_sid: AC..., auth_token: ${TWILIO_AUTH_TOKEN}, from: "+15550001111", to: ["+15550002222"]}
        pagerduty: {routing_key: ${PAGERDUTY_ROUTING_KEY}}
        apprise: {urls: ["mailto://...", "tgram://..."]}

Every endpoint is configurable (``base_url``, ``url``, ``host``/``port``) so tests point each channel at a real
server on 127.0.0.1. Secrets may be written as ``${ENV_VAR}`` and are resolved when the file is loaded; an
unset variable is an error naming the variable and the field. Errors name the receiver and the field:
``receivers[0] (oncall).email.port: ...``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CHANNEL_KINDS = ("email", "slack", "webhook", "sms", "pagerduty", "apprise")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


class NotifyConfigError(ValueError):
    """A channel configuration that cannot be used; the message lists every problem, each naming its field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class EmailChannel(_Model):
    """SMTP submission. ``starttls`` upgrades the connection before authenticating (port 587);
    ``ssl`` connects with TLS from the start (port 465)."""

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    from_: str = Field(alias="from", min_length=3)
    to: tuple[str, ...] = Field(min_length=1)
    timeout: float = Field(default=10.0, gt=0)

    @field_validator("from_")
    @classmethod
    def _from_address(cls, v: str) -> str:
        if "@" not in v:
            raise ValueError(f"expected an email address, got {v!r}")
        return v

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for address in v:
            if "@" not in address:
                raise ValueError(f"expected email addresses, got {address!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> EmailChannel:
        if self.ssl and self.starttls:
            raise ValueError("choose starttls (upgrade a plain connection) or ssl (TLS from the start), not both")
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither")
        return self


class SlackChannel(_Model):
    """A Slack incoming webhook URL (one channel per URL)."""

    webhook_url: HttpUrl = Field(repr=False)
    timeout: float = Field(default=10.0, gt=0)


class WebhookChannel(_Model):
    """A generic JSON webhook, signed with HMAC-SHA256 of ``secret`` (see `recoup.incidents.notify.signing`)."""

    url: HttpUrl
    secret: str = Field(min_length=16, repr=False)
    timeout: float = Field(default=10.0, gt=0)


class SmsChannel(_Model):
    """Twilio's Messages API: one message per recipient."""

    account_sid: str = Field(min_length=1)
    auth_token: str = Field(min_length=1, repr=False)
    from_: str = Field(alias="from", min_length=1)
    to: tuple[str, ...] = Field(min_length=1)
    base_url: HttpUrl = "https://api.twilio.com"
    timeout: float = Field(default=10.0, gt=0)


class PagerDutyChannel(_Model):
    """PagerDuty Events API v2 with the integration's routing key."""

    routing_key: str = Field(min_length=1, repr=False)
    url: HttpUrl = "https://events.pagerduty.com/v2/enqueue"
    source: str = "recoup"
    timeout: float = Field(default=10.0, gt=0)


class AppriseChannel(_Model):
    """Any service apprise knows, by URL (needs the ``notify`` extra)."""

    urls: tuple[str, ...] = Field(min_length=1, repr=False)


ChannelConfig = EmailChannel | SlackChannel | WebhookChannel | SmsChannel | PagerDutyChannel | AppriseChannel


class Receiver(_Model):
    """A named destination: one or more channels, each kind at most once (define another receiver for a
    second Slack channel)."""

    name: str
    email: EmailChannel | None = None
    slack: SlackChannel | None = None
    webhook: WebhookChannel | None = None
    sms: SmsChannel | None = None
    pagerduty: PagerDutyChannel | None = None
    apprise: AppriseChannel | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"expected 1-200 letters, digits, '_', '.', ':' or '-', got {v!r}")
        return v

    @model_validator(mode="after")
    def _some_channel(self) -> Receiver:
        if not self.channels():
            raise ValueError(f"receiver {self.name!r} has no channel; give one of {', '.join(CHANNEL_KINDS)}")
        return self

    def channels(self) -> dict[str, ChannelConfig]:
        """The configured channels by kind, in a fixed order."""
        found: dict[str, ChannelConfig] = {}
        for kind in CHANNEL_KINDS:
            value = getattr(self, kind)
            if value is not None:
                found[kind] = value
        return found


class NotifyConfig(_Model):
    receivers: tuple[Receiver, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> NotifyConfig:
        seen: set[str] = set()
        for receiver in self.receivers:
            if receiver.name in seen:
                raise ValueError(f"two receivers are named {receiver.name!r}; names must be unique")
            seen.add(receiver.name)
        return self

    def receiver(self, name: str) -> Receiver:
        for receiver in self.receivers:
            if receiver.name == name:
                return receiver
        raise KeyError(name)

    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.receivers)


def resolve_env(data: Any, environ: Mapping[str, str], path: str = "") -> Any:
    """Replace ``${VAR}`` in every string of ``data`` from ``environ``; `NotifyConfigError` naming the field
    and the variable when one is unset."""
    if isinstance(data, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise NotifyConfigError(f"{path or '(file)'}: environment variable {name} is not set")
            return environ[name]

        return _ENV_REF.sub(substitute, data)
    if isinstance(data, Mapping):
        return {k: resolve_env(v, environ, f"{path}.{k}" if path else str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [resolve_env(v, environ, f"{path}[{i}]") for i, v in enumerate(data)]
    return data


def _describe(exc: ValidationError, data: Mapping[str, Any]) -> str:
    receivers = data.get("receivers")
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        if len(loc) >= 2 and loc[0] == "receivers" and isinstance(loc[1], int):
            index = loc[1]
            entry = receivers[index] if isinstance(receivers, list) and index < len(receivers) else None
            name = entry.get("name") if isinstance(entry, Mapping) else None
            where = f"receivers[{index}]" + (f" ({name})" if name else "")
            rest = [str(p) for p in loc[2:]]
            if rest:
                where += "." + ".".join("from" if p == "from_" else p for p in rest)
        else:
            where = ".".join(str(p) for p in loc) or "(file)"
        lines.append(f"{where}: {str(err['msg']).removeprefix('Value error, ')}")
    return "\n".join(lines)


def parse_notify_config(
    data: object, *, source: str = "notifications", environ: Mapping[str, str] | None = None
) -> NotifyConfig:
    """A validated `NotifyConfig` from parsed YAML/JSON, with ``${VAR}`` resolved from ``environ``
    (default: the process environment); `NotifyConfigError` listing every problem otherwise."""
    if data is None:
        return NotifyConfig()
    if not isinstance(data, Mapping):
        raise NotifyConfigError(f"{source}: expected a mapping with a 'receivers' list")
    try:
        resolved = resolve_env(data, os.environ if environ is None else environ)
    except NotifyConfigError as exc:
        raise NotifyConfigError(f"{source}: {exc}") from None
    try:
        return NotifyConfig.model_validate(resolved)
    except ValidationError as exc:
        raise NotifyConfigError(f"{source}:\n{_describe(exc, resolved)}") from None


def loads_notify_config(
    text: str, *, source: str = "notifications", environ: Mapping[str, str] | None = None
) -> NotifyConfig:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise NotifyConfigError(f"{source}: not valid YAML: {exc}") from None
    return parse_notify_config(data, source=source, environ=environ)


def load_notify_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> NotifyConfig:
    """Read and validate a YAML channel file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotifyConfigError(f"{p}: cannot read: {exc.strerror}") from None
    return loads_notify_config(text, source=str(p), environ=environ)
