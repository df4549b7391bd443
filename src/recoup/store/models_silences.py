"""ORM tables of the alert silences (issue 5), on the store's shared `Base` so migrations and the
schema-drift test see them."""

from __future__ import annotations

from recoup.store.models import Base

__all__ = ["Base"]
