"""Policy events become telemetry events: mapped by hand, and end to end from the real policies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from recoup.errors.taxonomy import Category
from recoup.policies.breaker import CircuitBreaker
from recoup.policies.errors import CircuitOpenError
from recoup.policies.events import EventKind, PolicyEvent
from recoup.policies.retry import Retry
from recoup.policies.trip import ConsecutiveFailures
from recoup.telemetry.bridge import bridge_policy_events, from_policy_event
from recoup.telemetry.events import (
    BreakerTransitionEvent,
    Outcome,
    RecoveryAttemptEvent,
    RecoveryOutcomeEvent,
    TelemetryEvent,
)
from recoup.telemetry.sinks import EventBus
from recoup.testing import FakeClock


def _pe(kind: EventKind, policy: str = "retry", **data: object) -> PolicyEvent:
    return PolicyEvent(kind, policy, "fetch", 1_700_000_000.0, dict(data))


def test_retry_scheduled_becomes_an_attempt_numbered_for_the_next_try() -> None:
    event = from_policy_event(_pe(EventKind.RETRY_SCHEDULED, attempt=1, delay=0.5, error="ConnectionError: refused"))
    assert isinstance(event, RecoveryAttemptEvent)
    assert (event.operation, event.strategy, event.attempt, event.delay) == ("fetch", "retry", 2, 0.5)
    assert event.error_type == "ConnectionError"
    assert event.timestamp == 1_700_000_000.0


def test_live_exception_is_classified_when_no_category_came() -> None:
    event = from_policy_event(_pe(EventKind.GAVE_UP, attempts=3, error=TimeoutError("slow")))
    assert isinstance(event, RecoveryOutcomeEvent)
    assert (event.outcome, event.attempts, event.category, event.error_type) == (
        Outcome.GAVE_UP,
        3,
        Category.NETWORK,
        "TimeoutError",
    )


@pytest.mark.parametrize(
    ("policy_event", "outcome"),
    [
        (_pe(EventKind.SUCCEEDED, attempts=3, elapsed=1.25), Outcome.RECOVERED),
        (_pe(EventKind.REJECTED, "breaker", state="open", retry_after=3.0), Outcome.FAILED_FAST),
        (_pe(EventKind.FALLBACK_USED, "fallback", error="KeyError: 'x'", category="validation"), Outcome.DEGRADED),
    ],
)
def test_outcomes(policy_event: PolicyEvent, outcome: Outcome) -> None:
    event = from_policy_event(policy_event)
    assert isinstance(event, RecoveryOutcomeEvent)
    assert event.outcome is outcome
    assert event.strategy == policy_event.policy
    if outcome is Outcome.RECOVERED:
        assert event.time_to_recover == 1.25
    if outcome is Outcome.DEGRADED:
        assert (event.category, event.error_type) == (Category.VALIDATION, "KeyError")


@pytest.mark.parametrize(
    "policy_event",
    [
        _pe(EventKind.SUCCEEDED, attempts=1),  # nothing was recovered
        _pe(EventKind.ATTEMPT, attempt=1),
        _pe(EventKind.TIMED_OUT, timeout=1.0),
        _pe(EventKind.STATE_CHANGED, "bulkhead", from_state="a", to_state="b"),
        _pe(EventKind.STORE_DEGRADED, "breaker"),
    ],
)
def test_events_that_mean_nothing_to_telemetry_are_skipped(policy_event: PolicyEvent) -> None:
    assert from_policy_event(policy_event) is None


@pytest.fixture
def bridged() -> Iterator[list[TelemetryEvent]]:
    bus = EventBus()
    received: list[TelemetryEvent] = []
    bus.subscribe(received.append)
    stop = bridge_policy_events(bus)
    try:
        yield received
    finally:
        stop()


def test_real_retry_reports_attempts_and_recovery(bridged: list[TelemetryEvent]) -> None:
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("refused")
        return "ok"

    assert Retry(attempts=5, clock=FakeClock(), name="fetch").call(flaky) == "ok"
    attempts = [e for e in bridged if isinstance(e, RecoveryAttemptEvent)]
    outcomes = [e for e in bridged if isinstance(e, RecoveryOutcomeEvent)]
    assert [a.attempt for a in attempts] == [2, 3]
    assert all(a.operation == "fetch" and a.error_type == "ConnectionError" for a in attempts)
    assert len(outcomes) == 1
    assert (outcomes[0].outcome, outcomes[0].attempts) == (Outcome.RECOVERED, 3)


def test_real_retry_gives_up(bridged: list[TelemetryEvent]) -> None:
    def down() -> None:
        raise ConnectionError("refused")

    with pytest.raises(ConnectionError):
        Retry(attempts=2, clock=FakeClock(), name="fetch").call(down)
    outcomes = [e for e in bridged if isinstance(e, RecoveryOutcomeEvent)]
    assert [(o.outcome, o.attempts) for o in outcomes] == [(Outcome.GAVE_UP, 2)]


def test_real_breaker_reports_transitions_and_rejections(bridged: list[TelemetryEvent]) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("db", trip=ConsecutiveFailures(2), reset_timeout=5.0, clock=clock)

    def down() -> None:
        raise ConnectionError("refused")

    for _ in range(2):
        with pytest.raises(ConnectionError):
            breaker.call(down)
    with pytest.raises(CircuitOpenError):
        breaker.call(down)
    clock.advance(6.0)
    assert breaker.call(lambda: 1) == 1

    transitions = [e for e in bridged if isinstance(e, BreakerTransitionEvent)]
    assert [(t.breaker, t.from_state, t.to_state) for t in transitions] == [
        ("db", "closed", "open"),
        ("db", "open", "half_open"),
        ("db", "half_open", "closed"),
    ]
    assert transitions[0].reason == "2 consecutive failures"
    rejected = [e for e in bridged if isinstance(e, RecoveryOutcomeEvent)]
    assert [(r.outcome, r.strategy, r.operation) for r in rejected] == [(Outcome.FAILED_FAST, "breaker", "db")]
