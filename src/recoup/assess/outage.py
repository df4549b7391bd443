"""A full upstream outage in the middle of the run, so breakers must open, shed load and close again.

The outage starts when the operation at `start_fraction` of the plan begins, and lasts `seconds` on
the monotonic clock. While it lasts, every attempt that would reach the upstream gets a real refused
connection instead (the same closed loopback port as the network fault).
"""

from __future__ import annotations

import time


class Outage:
    """When the upstream is down. `seconds == 0` means no outage at all."""

    def __init__(self, seconds: float, start_index: int) -> None:
        self.seconds = seconds
        self.start_index = start_index
        self.started_at: float | None = None

    def operation_started(self, index: int) -> None:
        """Start the outage clock when the chosen operation begins (once)."""
        if self.seconds > 0 and self.started_at is None and index >= self.start_index:
            self.started_at = time.monotonic()

    def active(self) -> bool:
        started = self.started_at
        return started is not None and time.monotonic() - started < self.seconds
