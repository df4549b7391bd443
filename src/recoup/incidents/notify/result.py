"""What one delivery attempt came to: delivered, retry later (maybe when the server said), or failed for good."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SendResult:
    """``retry_after`` is the server's own wait (429/503 ``Retry-After``) in seconds, when it gave one;
    ``error`` says what went wrong, with the server's answer, for the dead-letter list. ``reached`` names the
    recipients this attempt did reach when a channel fans out (one SMS per number) and stopped part-way, so the
    retry skips them instead of texting them twice."""

    outcome: Outcome
    retry_after: float | None = None
    error: str = ""
    reached: frozenset[str] = frozenset()

    @classmethod
    def delivered(cls, note: str = "") -> SendResult:
        return cls(Outcome.DELIVERED, None, note)

    @classmethod
    def retry(cls, error: str, retry_after: float | None = None, reached: frozenset[str] = frozenset()) -> SendResult:
        return cls(Outcome.RETRY, retry_after, error, reached)

    @classmethod
    def failed(cls, error: str, reached: frozenset[str] = frozenset()) -> SendResult:
        return cls(Outcome.FAILED, None, error, reached)
