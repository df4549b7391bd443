"""Alertmanager's webhook payload (``version: "4"``) as pydantic models, and its conversion to `NewAlert`.

Alertmanager posts one notification per alert group::

    {"version": "4", "groupKey": "...", "truncatedAlerts": 0, "status": "firing", "receiver": "recoup",
     "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...}, "externalURL": "http://am:9093",
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...}, "startsAt": "<RFC 3339>",
                 "endsAt": "<RFC 3339>", "generatorURL": "...", "fingerprint": "c6eadffa33fcdf37"}]}

An alert is one episode of a label set: Alertmanager's ``fingerprint`` (a hash of the labels) and its
``startsAt`` together identify it, so the "resolved" notification updates the row the "firing" one created.
Go's zero time (``0001-01-01T00:00:00Z``) stands for an unset ``endsAt``. Unknown top-level and per-alert
fields are ignored, so a newer Alertmanager adding fields keeps working; a different ``version`` is refused.

Every limit the store enforces is checked here too, so a bad payload is a 422 naming the field
(``alerts[3].startsAt``) before anything is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from recoup.store import AlertStatus, NewAlert
from recoup.store.values import FINGERPRINT_MAX, URL_MAX, InvalidInput

# Alertmanager label names are short identifiers; values can be long (instance URLs, descriptions).
LABEL_NAME_MAX = 1_000
LABEL_VALUE_MAX = 65_536
TEXT_MAX = 65_536  # receiver, groupKey, externalURL: echoed context, not stored


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _labels(value: dict[str, str]) -> dict[str, str]:
    for name, text in value.items():
        if not name:
            raise ValueError("label names must not be empty")
        if len(name) > LABEL_NAME_MAX:
            raise ValueError(f"label name {name[:40]!r}... is longer than {LABEL_NAME_MAX} characters")
        if len(text) > LABEL_VALUE_MAX:
            raise ValueError(f"the value of {name!r} is longer than {LABEL_VALUE_MAX} characters")
        if "\x00" in name or "\x00" in text:
            raise ValueError(f"{name!r} must not contain NUL characters")
    return value


Text = Annotated[str, Field(max_length=TEXT_MAX), AfterValidator(_no_nul)]
Labels = Annotated[dict[str, str], AfterValidator(_labels)]


def _utc(value: datetime, name: str) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{name} is out of range") from None


class WebhookAlert(BaseModel):
    """One alert of the notification."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=False)

    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    startsAt: datetime  # the payload's own (camelCase) field names
    endsAt: datetime | None = None
    generatorURL: Annotated[str, Field(max_length=URL_MAX), AfterValidator(_no_nul)] = ""
    fingerprint: Annotated[str, Field(min_length=1, max_length=FINGERPRINT_MAX), AfterValidator(_no_nul)]

    @field_validator("startsAt")
    @classmethod
    def _starts_at(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must carry a timezone (RFC 3339)")
        if value.year <= 1:
            raise ValueError("must be set (got Go's zero time)")
        return _utc(value, "startsAt")

    @field_validator("endsAt")
    @classmethod
    def _ends_at(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must carry a timezone (RFC 3339)")
        if value.year <= 1:
            return None  # Go's zero time: not set
        return _utc(value, "endsAt")

    @field_validator("fingerprint")
    @classmethod
    def _fingerprint(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    def to_new_alert(self) -> NewAlert:
        return NewAlert(
            fingerprint=self.fingerprint,
            status=AlertStatus(self.status),
            starts_at=self.startsAt,
            labels=self.labels,
            annotations=self.annotations,
            ends_at=self.endsAt,
            generator_url=self.generatorURL,
        )


class WebhookPayload(BaseModel):
    """The whole notification. Only ``version`` and ``alerts`` are needed to store anything; the rest is
    validated for shape so a malformed sender is told, not half-trusted."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal["4"]
    alerts: list[WebhookAlert]
    status: Literal["firing", "resolved"] = "firing"
    receiver: Text = ""
    groupLabels: Labels = Field(default_factory=dict)
    commonLabels: Labels = Field(default_factory=dict)
    commonAnnotations: Labels = Field(default_factory=dict)
    externalURL: Text = ""
    groupKey: Text = ""
    truncatedAlerts: Annotated[int, Field(ge=0)] = 0


# The store's snake_case field names, as the payload spells them (for errors raised by `NewAlert`).
_PAYLOAD_NAMES = {"starts_at": "startsAt", "ends_at": "endsAt", "generator_url": "generatorURL"}


class PayloadError(ValueError):
    """The payload is unusable; ``problems`` pairs each offending field (``alerts[0].startsAt``) with why."""

    def __init__(self, problems: list[tuple[str, str]], *, too_many: bool = False) -> None:
        self.problems = problems
        self.too_many = too_many  # more alerts than allowed per request (a 413, not a 422)
        super().__init__("; ".join(f"{where}: {why}" for where, why in problems))


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def parse_payload(body: bytes, *, max_alerts: int | None = None) -> tuple[WebhookPayload, list[NewAlert]]:
    """Validate a raw webhook body and convert its alerts; raises `PayloadError` naming every bad field
    (at most 20), or the ``alerts`` count when it exceeds ``max_alerts``."""
    try:
        payload = WebhookPayload.model_validate_json(body)
    except ValidationError as exc:
        problems: list[tuple[str, str]] = []
        for error in exc.errors(include_url=False)[:20]:
            loc = tuple(error["loc"])
            if error["type"] == "json_invalid":
                problems.append(("body", f"is not valid JSON: {error['msg']}"))
            elif error["type"] == "model_type" and not loc:
                problems.append(("body", "must be a JSON object"))
            else:
                problems.append((_location(loc), error["msg"].removeprefix("Value error, ")))
        raise PayloadError(problems) from None
    if max_alerts is not None and len(payload.alerts) > max_alerts:
        raise PayloadError([
            ("alerts", f"holds {len(payload.alerts)} alerts, at most {max_alerts} allowed per request; "
                       "set max_alerts in the webhook_config")
        ], too_many=True)
    converted: list[NewAlert] = []
    for index, alert in enumerate(payload.alerts):
        try:
            converted.append(alert.to_new_alert())
        except InvalidInput as exc:
            head, dot, rest = exc.field.partition(".")
            name = _PAYLOAD_NAMES.get(head, head) + dot + rest
            raise PayloadError([(f"alerts[{index}].{name}", exc.problem)]) from None
    return payload, converted
