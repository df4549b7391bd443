"""ORM tables of the incidents, their alerts and timelines (issue 5), on the store's shared `Base` so migrations and the
schema-drift test see them.

* ``incidents`` holds the current state of each incident, including its escalation state (policy, step, repeat,
  next due time), so a restarted manager continues escalating where the last one stopped.
* ``incident_alerts`` records which alert fingerprints are attached (first and last state seen).
* ``incident_candidates`` holds firing warning alerts not yet in an incident, so "N related warnings within a
  window" survives a restart.
* ``incident_timeline`` is append-only: every alert, notification, acknowledgement, recovery action and note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recoup.store.models import Base, BigId, JsonDoc, UTCDateTime
from recoup.store.values import FINGERPRINT_MAX, NAME_MAX, TITLE_MAX

__all__ = ["Base", "IncidentAlertRow", "IncidentCandidateRow", "IncidentResponderRow", "IncidentRow", "TimelineRow"]

#: Short identifiers: incident types, statuses, severities, timeline kinds, alert states.
KIND_MAX = 64


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status_next_escalation", "status", "next_escalation_at"),
        Index("ix_incidents_scope_status", "scope", "status"),
        Index("ix_incidents_declared_at", "declared_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: The alerts' ``project`` label ("" when none): what "same project" compares when relating alerts.
    scope: Mapped[str] = mapped_column(String(NAME_MAX))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    incident_type: Mapped[str | None] = mapped_column(String(KIND_MAX))
    declared_by: Mapped[str] = mapped_column(String(NAME_MAX))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the fault began, if a scenario or the first alert says so (the MTTD reference point).
    fault_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(NAME_MAX))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(NAME_MAX))
    rto_target_seconds: Mapped[float] = mapped_column(Float)
    #: When the incident's services were restored (their signals healthy again, or recorded by hand): what the
    #: RTO is measured to; resolution usually comes later.
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rto_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    commander: Mapped[str | None] = mapped_column(String(NAME_MAX))
    scribe: Mapped[str | None] = mapped_column(String(NAME_MAX))
    escalation_policy: Mapped[str | None] = mapped_column(String(NAME_MAX))
    escalation_step: Mapped[int] = mapped_column(Integer)
    escalation_repeat: Mapped[int] = mapped_column(Integer)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentResponderRow(Base):
    __tablename__ = "incident_responders"
    __table_args__ = (UniqueConstraint("incident_id", "person"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(BigId, ForeignKey("incidents.id", ondelete="CASCADE"))
    person: Mapped[str] = mapped_column(String(NAME_MAX))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentAlertRow(Base):
    __tablename__ = "incident_alerts"
    __table_args__ = (
        UniqueConstraint("incident_id", "fingerprint"),
        Index("ix_incident_alerts_fingerprint", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(BigId, ForeignKey("incidents.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_MAX))
    alertname: Mapped[str] = mapped_column(String(NAME_MAX))
    service: Mapped[str] = mapped_column(String(NAME_MAX))
    severity: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    first_state: Mapped[str] = mapped_column(String(16))
    last_state: Mapped[str] = mapped_column(String(16))
    active_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IncidentCandidateRow(Base):
    __tablename__ = "incident_candidates"
    __table_args__ = (Index("ix_incident_candidates_scope_fired", "scope", "fired_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_MAX), unique=True)
    scope: Mapped[str] = mapped_column(String(NAME_MAX))
    incident_type: Mapped[str] = mapped_column(String(KIND_MAX))
    service: Mapped[str] = mapped_column(String(NAME_MAX))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The alert as `recoup.incidents.model.Alert.to_dict` wrote it, to attach it when an incident opens.
    alert: Mapped[dict[str, Any]] = mapped_column(JsonDoc)


class TimelineRow(Base):
    __tablename__ = "incident_timeline"
    __table_args__ = (Index("ix_incident_timeline_incident_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(BigId, ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(KIND_MAX))
    actor: Mapped[str | None] = mapped_column(String(NAME_MAX))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
