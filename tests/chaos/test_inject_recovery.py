"""recoup's own policies against injected faults: transient ones are recovered, permanent ones fail fast."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

import recoup
from recoup.chaos.catalogue import CATALOGUE
from recoup.chaos.inject import Chaos
from recoup.chaos.inject_rules import Rule
from recoup.chaos.schedule import FirstCalls
from recoup.testing import FakeClock

TRANSIENT = [f.name for f in CATALOGUE.values() if f.transient]
PERMANENT = [f.name for f in CATALOGUE.values() if not f.transient]


@pytest.mark.parametrize("name", TRANSIENT)
def test_retry_recovers_from_two_injected_transient_faults(name: str) -> None:
    clock = FakeClock()
    chaos = Chaos(Rule.fail(name, target="orders.submit", schedule=FirstCalls(2)), clock=clock)

    @recoup.retry(attempts=3, backoff=recoup.Backoff.constant(0.5), clock=clock)
    @chaos.inject("orders.submit")
    def submit() -> str:
        return "accepted"

    assert submit() == "accepted"
    assert chaos.injected("orders.submit", name) == 2 and chaos.calls == {"orders.submit": 3}
    assert clock.sleeps == [0.5, 0.5]


@pytest.mark.parametrize("name", PERMANENT)
def test_retry_fails_fast_on_an_injected_permanent_fault(name: str) -> None:
    clock = FakeClock()
    chaos = Chaos(Rule.fail(name), clock=clock)

    @recoup.retry(attempts=5, clock=clock)
    @chaos.inject("orders.submit")
    def submit() -> str:
        return "accepted"

    with pytest.raises(CATALOGUE[name].expected):
        submit()
    assert chaos.calls == {"orders.submit": 1} and clock.sleeps == []


def test_async_pipeline_recovers_under_a_random_mix_of_refusals_and_503s() -> None:
    clock = FakeClock()
    chaos = Chaos(
        Rule.fail("network.connection-refused", target="search.*", rate=0.2),
        Rule.fail("service.http-503", target="search.*", rate=0.2),
        seed=11,
        clock=clock,
    )
    pipeline = recoup.Pipeline(
        recoup.Retry(attempts=8, backoff=recoup.Backoff.constant(0.01), clock=clock),
        recoup.CircuitBreaker("chaos-search", trip=recoup.ConsecutiveFailures(50), clock=clock),
    )

    @pipeline
    @chaos.inject("search.query")
    async def query(q: str) -> str:
        return q.upper()

    async def run_all() -> list[str]:
        return [await query(f"q{i}") for i in range(200)]

    assert asyncio.run(run_all()) == [f"Q{i}" for i in range(200)]
    injected = chaos.injected("search.query")
    assert injected > 40  # about 36% of the 200 first attempts fail, and some retries too
    assert chaos.calls["search.query"] == 200 + injected  # every injected failure cost exactly one retry
    assert len(clock.sleeps) == injected


def test_git_fault_reaches_the_caller_as_the_real_git_error() -> None:
    chaos = Chaos(Rule.fail("git.index-locked"))

    @recoup.retry(attempts=3, clock=FakeClock())
    @chaos.inject("deploy.stage")
    def stage() -> None: ...

    with pytest.raises(subprocess.CalledProcessError) as info:
        stage()
    assert recoup.classify(info.value).category == recoup.Category.GIT
    assert "Another git process seems to be running" in info.value.stderr
