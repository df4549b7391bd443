"""ORM tables of the notification outbox (issue 5), on the store's shared `Base` so migrations and the
schema-drift test see them.

One row per (notice key, receiver, channel): the unique key is what makes enqueueing the same notice twice
deliver it once. A row moves pending -> sending (claimed under a lease) -> delivered, back to pending for a
retry, or to dead after the last try; a row whose lease expired (its worker crashed) is claimed again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recoup.store.models import Base, BigId, JsonDoc, UTCDateTime

__all__ = ["Base", "NotificationRow"]

NOTICE_KEY_MAX = 255
RECEIVER_MAX = 200


class NotificationRow(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("notice_key", "receiver", "channel"),
        Index("ix_notifications_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_notifications_receiver_channel_dedup", "receiver", "channel", "dedup_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notice_key: Mapped[str] = mapped_column(String(NOTICE_KEY_MAX))
    receiver: Mapped[str] = mapped_column(String(RECEIVER_MAX))
    channel: Mapped[str] = mapped_column(String(32))
    #: The notice's dedup_key: rows of one key go out in order, per receiver and channel (a PagerDuty resolve
    #: must not overtake its trigger), so a row waits while an older row of its key is still undelivered.
    dedup_key: Mapped[str] = mapped_column(String(NOTICE_KEY_MAX))
    #: The notice's kind (firing, resolved...), for listing without opening the payload.
    kind: Mapped[str] = mapped_column(String(32))
    #: pending, sending, delivered or dead.
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Which worker holds a ``sending`` row, and until when; after that another worker may take it.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    #: Recipients already reached by a fanning-out channel (SMS), so a retry does not repeat them.
    reached: Mapped[list[str]] = mapped_column(JsonDoc)
    #: The notice itself (`Notice.to_dict()`), so delivery survives a restart.
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Seconds from enqueue to delivery.
    latency_seconds: Mapped[float | None] = mapped_column(Float)
