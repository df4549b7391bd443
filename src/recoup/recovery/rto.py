"""Recovery-time objectives: how long recovering from one category may take, and what it actually took."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from recoup.errors.taxonomy import Category


@dataclass(frozen=True, slots=True)
class RtoRecord:
    """One recovery: seconds from the first failure to the end, and whether that met the objective.

    `recovered` is False when the operation gave up (or was degraded); `met` is None without an objective.
    """

    operation: str
    category: Category
    seconds: float
    objective: float | None
    recovered: bool

    @property
    def met(self) -> bool | None:
        if self.objective is None:
            return None
        return self.recovered and self.seconds <= self.objective


def can_still_meet(objective: float | None, elapsed: float, next_delay: float) -> bool:
    """False when waiting `next_delay` more seconds would already end past the objective."""
    if objective is None:
        return True
    return objective - elapsed >= next_delay


class RtoTracker:
    """The most recent `maxlen` recovery records (thread-safe), with a per-category summary."""

    def __init__(self, maxlen: int = 1000) -> None:
        self._lock = threading.Lock()
        self._records: deque[RtoRecord] = deque(maxlen=maxlen)

    def add(self, record: RtoRecord) -> None:
        with self._lock:
            self._records.append(record)

    @property
    def records(self) -> tuple[RtoRecord, ...]:
        with self._lock:
            return tuple(self._records)

    def compliance(self, category: Category) -> float | None:
        """Share of this category's recoveries (with an objective) that met it; None when there are none."""
        judged = [r.met for r in self.records if r.category is category and r.met is not None]
        return sum(judged) / len(judged) if judged else None
