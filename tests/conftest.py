"""Shared fixtures: a fake clock and a recorder of policy events (unsubscribed after each test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from recoup.policies.events import PolicyEvent, subscribe
from recoup.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """A clock at t=0 whose sleeps are instant and recorded in ``clock.sleeps``."""
    return FakeClock()


@pytest.fixture
def policy_events() -> Iterator[list[PolicyEvent]]:
    """Every policy event emitted during the test, in order."""
    collected: list[PolicyEvent] = []
    unsubscribe = subscribe(collected.append)
    try:
        yield collected
    finally:
        unsubscribe()
