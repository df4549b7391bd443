"""Duck-typed interfaces the recovery engine accepts (structural: no base class to inherit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from recoup.errors.taxonomy import Category
from recoup.telemetry.events import TelemetryEvent


@runtime_checkable
class Learner(Protocol):
    """Chooses a strategy per error fingerprint from measured outcomes (see `recoup.recovery.learning`)."""

    def choose(self, fingerprint: str, category: Category, candidates: Sequence[str]) -> str: ...

    def record(
        self, fingerprint: str, category: Category, strategy: str, *, success: bool, attempts: int, seconds: float
    ) -> None: ...


@runtime_checkable
class EventSink(Protocol):
    """Anything with ``emit(event)``: a `recoup.telemetry.EventBus` or any telemetry sink."""

    def emit(self, event: TelemetryEvent) -> None: ...
