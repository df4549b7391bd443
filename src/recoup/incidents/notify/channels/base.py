"""What every channel implements, and what the worker hands it for one attempt."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import httpx

from recoup.incidents.model import Notice
from recoup.incidents.notify.result import SendResult


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt: which outbox row (``delivery_id``, stable across retries, so receivers can
    de-duplicate), for which receiver, the attempt number (1-based), the clock's time, the worker's HTTP client,
    and the recipients a previous attempt already reached (channels that fan out skip them)."""

    delivery_id: int
    receiver: str
    attempt: int
    now: float
    http: httpx.AsyncClient
    already_sent: frozenset[str] = field(default_factory=frozenset)


class Channel(Protocol):
    """Renders a `Notice` into one protocol and sends it. Never raises for a failed send: the outcome
    (delivered / retry / failed, with the server's answer) is the return value."""

    kind: str

    async def send(self, notice: Notice, attempt: Attempt) -> SendResult: ...
