"""Pydantic models of what the native, read and management routes accept and answer; they are also what
the OpenAPI document shows, so clients can be generated from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from recoup.store import (
    Alert,
    AlertStatus,
    ErrorGroup,
    EventKind,
    GroupStatus,
    Level,
    Project,
    ProjectKey,
    StoredEvent,
)
from recoup.store.values import NAME_MAX

NATIVE_EVENTS_PATH = "/api/v1/events"


def project_dsn(public_url: str, public_key: str, project_id: int) -> str:
    """The Sentry DSN ``http://KEY@HOST:PORT/ID`` (keeping any path prefix of ``public_url``)."""
    parts = urlsplit(public_url)
    return f"{parts.scheme}://{public_key}@{parts.netloc}{parts.path.rstrip('/')}/{project_id}"


def native_ingest_url(public_url: str) -> str:
    """Where the native ingest endpoint is (`HttpSink` takes ``public_url`` and appends the path itself)."""
    return public_url.rstrip("/") + NATIVE_EVENTS_PATH


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class _In(BaseModel):
    # Unknown fields are refused rather than ignored: a typo ("stauts") must not silently do nothing.
    model_config = ConfigDict(extra="forbid")


# -- native ingest -------------------------------------------------------------------------------------


class IngestResponse(_Out):
    """Sent once the batch is durable (committed, or fsynced to the spool when ``spooled``)."""

    accepted: int = Field(description="Events stored (or spooled) by this request.")
    duplicates: int = Field(description="Events already stored earlier (a retried batch), or repeated within it.")
    spooled: bool = Field(description="True when the database was unreachable and the batch waits in the spool.")


INGEST_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["events"],
    "properties": {
        "events": {
            "type": "array",
            "description": "Telemetry events as recoup.telemetry.events.TelemetryEvent.to_dict() produces them.",
            "items": {
                "type": "object",
                "required": ["type", "id", "timestamp"],
                "properties": {
                    "type": {
                        "type": "string",
                        "enum": [
                            "error", "recovery_attempt", "recovery_outcome", "breaker_transition", "checkpoint",
                            "metric",
                        ],
                    },
                    "schema": {"type": "integer"},
                    "id": {"type": "string", "maxLength": 64},
                    "timestamp": {"type": "number", "description": "Epoch seconds (UTC)."},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "additionalProperties": True,
            },
        }
    },
}


# -- projects and keys ---------------------------------------------------------------------------------


class ProjectCreate(_In):
    name: str = Field(min_length=1, max_length=NAME_MAX)
    rate_limit_per_minute: int | None = Field(default=None, gt=0, description="Events per minute for its first key.")

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        # PostgreSQL refuses NUL and SQLite would keep it: refuse it (and other control characters) on both.
        if not value.isprintable():
            raise ValueError("must not contain control characters")
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class KeyCreate(_In):
    rate_limit_per_minute: int | None = Field(default=None, gt=0)


class ProjectOut(_Out):
    id: int
    name: str
    slug: str
    created_at: datetime

    @classmethod
    def of(cls, project: Project) -> ProjectOut:
        return cls(id=project.id, name=project.name, slug=project.slug, created_at=project.created_at)


class KeyOut(_Out):
    id: int
    project_id: int
    public_key: str
    active: bool
    rate_limit_per_minute: int | None
    created_at: datetime
    dsn: str = Field(description="Sentry DSN for this key.")

    @classmethod
    def of(cls, key: ProjectKey, public_url: str) -> KeyOut:
        return cls(
            id=key.id,
            project_id=key.project.id,
            public_key=key.public_key,
            active=key.active,
            rate_limit_per_minute=key.rate_limit_per_minute,
            created_at=key.created_at,
            dsn=project_dsn(public_url, key.public_key, key.project.id),
        )


class ProjectCreated(ProjectOut):
    """A new project with everything a client needs to start sending."""

    public_key: str
    dsn: str = Field(description="Sentry DSN: http://KEY@HOST:PORT/PROJECT_ID.")
    ingest_url: str = Field(description="Native ingest endpoint (HttpSink takes the server's base URL).")


class ProjectList(_Out):
    projects: list[ProjectOut]


class KeyList(_Out):
    keys: list[KeyOut]


# -- groups, events, alerts ----------------------------------------------------------------------------


class GroupOut(_Out):
    id: int
    project_id: int
    fingerprint: str
    title: str
    category: str | None
    status: GroupStatus
    count: int
    first_seen: datetime
    last_seen: datetime

    @classmethod
    def of(cls, group: ErrorGroup) -> GroupOut:
        return cls(
            id=group.id,
            project_id=group.project_id,
            fingerprint=group.fingerprint,
            title=group.title,
            category=group.category,
            status=group.status,
            count=group.count,
            first_seen=group.first_seen,
            last_seen=group.last_seen,
        )


class GroupList(_Out):
    groups: list[GroupOut]
    limit: int
    offset: int


class GroupUpdate(_In):
    status: GroupStatus


class EventOut(_Out):
    id: int
    project_id: int
    event_id: str
    kind: EventKind
    level: Level
    received_at: datetime
    occurred_at: datetime
    group_id: int | None
    category: str | None
    fingerprint: str | None
    message: str
    exception_type: str | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, event: StoredEvent) -> EventOut:
        return cls(
            id=event.id,
            project_id=event.project_id,
            event_id=event.event_id,
            kind=event.kind,
            level=event.level,
            received_at=event.received_at,
            occurred_at=event.occurred_at,
            group_id=event.group_id,
            category=event.category,
            fingerprint=event.fingerprint,
            message=event.message,
            exception_type=event.exception_type,
            payload=dict(event.payload),
        )


class EventList(_Out):
    events: list[EventOut]


class AlertOut(_Out):
    id: int
    project_id: int | None
    fingerprint: str
    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str
    updated_at: datetime

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        return cls(
            id=alert.id,
            project_id=alert.project_id,
            fingerprint=alert.fingerprint,
            status=alert.status,
            labels=dict(alert.labels),
            annotations=dict(alert.annotations),
            starts_at=alert.starts_at,
            ends_at=alert.ends_at,
            generator_url=alert.generator_url,
            updated_at=alert.updated_at,
        )


class AlertList(_Out):
    alerts: list[AlertOut]
