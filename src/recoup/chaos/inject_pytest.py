"""pytest plugin: a ``chaos`` fixture giving each test the process-wide injector (`recoup.chaos.inject.CHAOS`)
with no rules, no records, a seed derived from the test's id and a `FakeClock`, restored afterwards.

Enable it with ``pytest_plugins = ["recoup.chaos.inject_pytest"]`` in a conftest.py, then::

    def test_charge_survives_refusals(chaos):
        chaos.add(Rule.fail("network.connection-refused", target="payments.charge", schedule=FirstCalls(2)))
        ...
        assert chaos.injected("payments.charge") == 2
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import pytest

from recoup.chaos.inject import CHAOS, Chaos
from recoup.testing import FakeClock

__all__ = ["chaos"]


@pytest.fixture
def chaos(request: pytest.FixtureRequest) -> Iterator[Chaos]:
    """The process-wide `Chaos`, fresh for this test: same seed on every run of the same test."""
    seed = zlib.crc32(request.node.nodeid.encode("utf-8"))
    with CHAOS.fresh(seed=seed, clock=FakeClock()) as injector:
        yield injector
