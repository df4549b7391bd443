"""ORM tables of the alert silences (issue 5), on the store's shared `Base` so migrations and the
schema-drift test see them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from recoup.store.models import Base, JsonDoc, UTCDateTime

__all__ = ["Base", "SilenceRow"]


class SilenceRow(Base):
    """One silence (`recoup.incidents.silences.Silence`). Rows are kept after they expire, for the record;
    ``ends_at`` is indexed because the routers load the silences that have not ended yet."""

    __tablename__ = "silences"
    __table_args__ = (Index("ix_silences_ends_at", "ends_at"),)

    #: A UUID, as Alertmanager's silence ids are, so ids do not reveal how many silences exist.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: The matchers as Alertmanager writes them: ``['severity="warning"', 'service=~"api|web"']``.
    matchers: Mapped[list[Any]] = mapped_column(JsonDoc)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
