"""The pytest fixture: each test gets the process-wide injector fresh, seeded from its id, then restored."""

from __future__ import annotations

from recoup.chaos.inject import CHAOS, Chaos
from recoup.chaos.inject_pytest import chaos  # noqa: F401 - the fixture under test
from recoup.chaos.inject_rules import Rule
from recoup.chaos.schedule import AfterCalls
from recoup.testing import FakeClock


def outcomes(chaos: Chaos, n: int) -> list[str]:  # noqa: F811
    out: list[str] = []
    for _ in range(n):
        try:
            chaos.point("p")
            out.append("ok")
        except Exception as exc:
            out.append(type(exc).__name__)
    return out


def test_pytest_fixture_gives_a_fresh_seeded_injector(chaos: Chaos) -> None:  # noqa: F811
    assert chaos.rules == () and chaos.counts == {} and isinstance(chaos.clock, FakeClock)
    chaos.add(Rule.fail(KeyError, schedule=AfterCalls(1)))
    assert outcomes(chaos, 2) == ["ok", "KeyError"]
    report = chaos.report()
    assert report["injected"] == [{"point": "p", "effect": "KeyError", "count": 1}]
    assert report["rules"][0]["calls"] == 2
    assert chaos is CHAOS


def test_the_fixture_left_nothing_armed_from_the_previous_test() -> None:
    assert CHAOS.rules == () and CHAOS.counts == {} and not isinstance(CHAOS.clock, FakeClock)
