"""Typed policy events and the bus that delivers them, free when nobody listens.

Policies check ``has_subscribers()`` (a truthiness test of a module-level list) before they
build an event, so an unobserved policy pays one global lookup per decision and nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

_log = logging.getLogger("recoup.events")


class EventKind(StrEnum):
    ATTEMPT = "attempt"
    RETRY_SCHEDULED = "retry_scheduled"
    GAVE_UP = "gave_up"
    SUCCEEDED = "succeeded"
    STATE_CHANGED = "state_changed"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    FALLBACK_USED = "fallback_used"
    STORE_DEGRADED = "store_degraded"
    STORE_RESTORED = "store_restored"


@dataclass(frozen=True, slots=True)
class PolicyEvent:
    """One thing a policy did. `policy` is the policy type (retry, breaker, ...), `name` its instance name.

    `data` holds kind-specific fields, e.g. ``attempt``, ``delay``, ``error``, ``from_state``/``to_state``.
    """

    kind: EventKind
    policy: str
    name: str
    timestamp: float
    data: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[PolicyEvent], None]

_subscribers: list[Subscriber] = []


def subscribe(handler: Subscriber) -> Callable[[], None]:
    """Deliver every policy event to `handler`; returns a function that unsubscribes it."""
    _subscribers.append(handler)

    def unsubscribe() -> None:
        if handler in _subscribers:
            _subscribers.remove(handler)

    return unsubscribe


def has_subscribers() -> bool:
    return bool(_subscribers)


def emit(event: PolicyEvent) -> None:
    """Deliver to each subscriber; a failing subscriber is logged, never breaks the policy."""
    for handler in tuple(_subscribers):
        try:
            handler(event)
        except Exception:
            _log.exception("recoup event subscriber %r failed on %s", handler, event.kind)
