"""The engine phase hands every telemetry event of its RecoveryEngine to ``forward`` (the server phase),
so the server sees the repair load too."""

from __future__ import annotations

import asyncio

from recoup.assess.engine_phase import run_engine_phase
from recoup.telemetry.events import RecoveryOutcomeEvent, TelemetryEvent


def test_every_engine_event_is_forwarded() -> None:
    forwarded: list[TelemetryEvent] = []
    phase = asyncio.run(run_engine_phase(24, 4, seed=7, forward=forwarded.append))
    outcomes = [e for e in forwarded if isinstance(e, RecoveryOutcomeEvent)]
    assert len(outcomes) == len(phase.events) == 24  # one outcome per operation, each forwarded
    assert {e.id for e in outcomes} == {e.id for e in phase.events}
    assert len(forwarded) > len(outcomes)  # the errors and attempts went along too
