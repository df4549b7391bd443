"""The injector: decorators (sync/async), targets and tags, rate and schedules, records, switches, hangs."""

from __future__ import annotations

import asyncio
import threading
import urllib.error

import pytest

from recoup.chaos.inject import Chaos, ChaosConfigError
from recoup.chaos.inject_effects import Latency
from recoup.chaos.inject_rules import Rule
from recoup.chaos.schedule import During, EveryNth, FirstCalls
from recoup.testing import FakeClock


def outcomes(call: object, n: int) -> list[str]:
    """'ok' or the exception's type name for n calls."""
    out: list[str] = []
    for _ in range(n):
        try:
            call()  # type: ignore[operator]
            out.append("ok")
        except Exception as exc:
            out.append(type(exc).__name__)
    return out


def test_decorated_sync_function_fails_on_schedule_and_keeps_its_result() -> None:
    chaos = Chaos(Rule.fail("network.connection-refused", target="payments.charge", schedule=EveryNth(3)))

    @chaos.inject("payments.charge")
    def charge(amount: int) -> str:
        return f"charged {amount}"

    assert charge(5) == "charged 5"
    assert outcomes(lambda: charge(1), 5) == ["ok", "ConnectionRefusedError", "ok", "ok", "ConnectionRefusedError"]
    assert chaos.counts == {("payments.charge", "network.connection-refused"): 2}
    assert chaos.calls == {"payments.charge": 6}
    assert charge.__name__ == "charge"


def test_decorated_async_function_gets_the_async_form_of_the_fault() -> None:
    chaos = Chaos(Rule.fail("network.connection-refused", schedule=FirstCalls(1)))

    @chaos.inject
    async def fetch() -> str:
        return "body"

    async def scenario() -> tuple[str, str]:
        try:
            await fetch()
        except ConnectionRefusedError as exc:
            first = str(exc)
        return first, await fetch()

    first, second = asyncio.run(scenario())
    assert "Connect call failed" in first and second == "body"
    assert chaos.injected(point=f"{__name__}.test_decorated_async_function_gets_the_async_form_of_the_fault"
                                 ".<locals>.fetch") == 1


def test_targets_match_name_or_qualname_globs_and_required_tags() -> None:
    chaos = Chaos()

    @chaos.inject("payments.charge", tags=("db", "critical"))
    def charge() -> None: ...

    @chaos.inject("payments.refund", tags=("db",))
    def refund() -> None: ...

    @chaos.inject
    def report() -> None: ...

    with chaos.active(Rule.fail(KeyError, target="payments.*", tags=("critical",))):
        assert outcomes(charge, 1) == ["KeyError"] and outcomes(refund, 1) == ["ok"]
    with chaos.active(Rule.fail(KeyError, target="*.report")):  # matched through module.qualname
        assert outcomes(report, 1) == ["KeyError"] and outcomes(charge, 1) == ["ok"]
    with chaos.active(Rule.fail(KeyError, target="payments.refund")):
        assert outcomes(refund, 1) == ["KeyError"] and outcomes(charge, 1) == ["ok"]


def test_rate_is_seeded_and_reproducible() -> None:
    def run(seed: int) -> list[str]:
        chaos = Chaos(Rule.fail("service.http-503", rate=0.3), seed=seed)
        return outcomes(lambda: chaos.point("search"), 400)

    first = run(7)
    assert first == run(7) and first != run(8)
    assert 80 <= first.count("HTTPError") <= 160  # 30% of 400 = 120, far inside the binomial spread


def test_limit_first_raise_wins_and_latency_goes_first() -> None:
    clock = FakeClock()
    chaos = Chaos(
        Rule.delay(0.25),
        Rule.fail(TimeoutError("first"), limit=2),
        Rule.fail(ValueError("second")),
        clock=clock,
    )
    assert outcomes(lambda: chaos.point("job"), 3) == ["TimeoutError", "TimeoutError", "ValueError"]
    assert clock.sleeps == [0.25, 0.25, 0.25]
    assert chaos.counts == {("job", "latency"): 3, ("job", "TimeoutError"): 2, ("job", "ValueError"): 1}
    assert [(i.effect, i.seconds) for i in chaos.history][:2] == [("latency", 0.25), ("TimeoutError", 0.0)]
    assert chaos.delay_injected == pytest.approx(0.75)


def test_latency_distributions_use_the_clock_and_the_seed() -> None:
    clock = FakeClock()
    chaos = Chaos(Rule.delay(Latency.uniform(0.1, 0.5)), Rule.delay(Latency.lognormal(0.2, 0.5, cap=2.0)),
                  clock=clock, seed=3)
    for _ in range(50):
        chaos.point("db.query")
    uniform, lognormal = clock.sleeps[0::2], clock.sleeps[1::2]
    assert all(0.1 <= s <= 0.5 for s in uniform) and all(0 < s <= 2.0 for s in lognormal)
    again = FakeClock()
    replay = Chaos(Rule.delay(Latency.uniform(0.1, 0.5)), Rule.delay(Latency.lognormal(0.2, 0.5, cap=2.0)),
                   clock=again, seed=3)
    for _ in range(50):
        replay.point("db.query")
    assert again.sleeps == clock.sleeps


def test_time_windows_follow_the_injectable_clock() -> None:
    clock = FakeClock(start=100.0)
    chaos = Chaos(clock=clock)
    with chaos.active(Rule.fail("service.http-502", schedule=During(10.0, 20.0))):
        seen = []
        for _ in range(4):
            seen += outcomes(lambda: chaos.point("upstream"), 1)
            clock.advance(6.0)
    assert seen == ["ok", "ok", "HTTPError", "HTTPError"]  # at +0, +6, +12, +18 seconds


def test_injected_exception_says_where_it_came_from() -> None:
    chaos = Chaos(Rule.fail("service.http-500", name="flaky-upstream"))
    with pytest.raises(urllib.error.HTTPError) as info:
        chaos.point("inventory.get")
    assert info.value.code == 500
    assert info.value.__notes__ == [
        "recoup.chaos: injected 'service.http-500' at 'inventory.get' (rule 'flaky-upstream', call 1)"
    ]


def test_an_exception_instance_is_raised_as_a_fresh_copy_each_time() -> None:
    template = ConnectionResetError(104, "Connection reset by peer")
    chaos = Chaos(Rule.fail(template))
    raised = []
    for _ in range(2):
        with pytest.raises(ConnectionResetError) as info:
            chaos.point("feed")
        raised.append(info.value)
    assert raised[0] is not raised[1] and template not in raised
    assert [len(e.__notes__) for e in raised] == [1, 1] and raised[1].errno == 104
    assert not hasattr(template, "__notes__")


def test_env_switch_disables_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    chaos = Chaos(Rule.fail(KeyError))
    monkeypatch.setenv("RECOUP_CHAOS", "0")
    assert outcomes(lambda: chaos.point("x"), 2) == ["ok", "ok"] and chaos.calls == {}
    monkeypatch.setenv("RECOUP_CHAOS", "off")
    with chaos.active(Rule.fail(ValueError)):
        assert outcomes(lambda: chaos.point("x"), 1) == ["ok"]
    monkeypatch.setenv("RECOUP_CHAOS", "1")
    assert outcomes(lambda: chaos.point("x"), 1) == ["KeyError"]
    monkeypatch.setenv("RECOUP_CHAOS", "maybe")
    with pytest.raises(ChaosConfigError, match="RECOUP_CHAOS='maybe' is not a switch"):
        chaos.point("x")


def test_switched_off_injector_only_injects_inside_active() -> None:
    chaos = Chaos(enabled=False)

    @chaos.inject("cache.get")
    def get() -> int:
        return 1

    always = Rule.fail("resource.memory-error")
    chaos.add(always)
    assert outcomes(get, 1) == ["ok"]
    with chaos.active():
        assert outcomes(get, 1) == ["MemoryError"]
    assert outcomes(get, 1) == ["ok"] and not chaos.enabled


async def _hung(chaos: Chaos) -> str:
    await chaos.apoint("slow.api")
    return "done"


def test_async_hang_blocks_until_cancelled() -> None:
    chaos = Chaos(Rule.hang())

    async def scenario() -> bool:
        task = asyncio.create_task(_hung(chaos))
        await asyncio.sleep(0.01)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return True

    assert asyncio.run(scenario())
    assert chaos.counts == {("slow.api", "hang"): 1}


def test_async_hang_released_by_leaving_active() -> None:
    chaos = Chaos()

    async def scenario() -> str:
        rule = Rule.hang()
        chaos.add(rule)
        task = asyncio.create_task(_hung(chaos))
        await asyncio.sleep(0.01)
        chaos.remove(rule)
        return await asyncio.wait_for(task, 5)

    assert asyncio.run(scenario()) == "done"


def test_sync_hang_is_released_from_another_thread() -> None:
    chaos = Chaos(Rule.hang(), clock=FakeClock())
    results: list[str] = []

    def batch() -> None:
        chaos.point("batch")
        results.append("returned")

    worker = threading.Thread(target=batch)
    worker.start()
    worker.join(0.05)
    assert worker.is_alive() and results == []
    chaos.release_hangs()
    worker.join(5)
    assert results == ["returned"]


def test_bounded_hang_with_fake_clock_then_times_out() -> None:
    clock = FakeClock()
    chaos = Chaos(Rule.hang(30.0, then="network.read-timeout"), clock=clock)
    with pytest.raises(TimeoutError, match="timed out"):
        chaos.point("report.render")
    assert clock.sleeps == [30.0] and chaos.delay_injected == 30.0


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: Rule.fail(KeyError, rate=1.5), ValueError, "Rule.rate must be a probability between 0 and 1"),
        (lambda: Rule.fail(KeyError, target=""), ValueError, "Rule.target must be a non-empty glob"),
        (lambda: Rule.fail(KeyError, tags="db"), TypeError, "not the string 'db'"),
        (lambda: Rule.fail(KeyError, limit=0), ValueError, "Rule.limit must be a positive integer"),
        (lambda: Rule.fail(42), TypeError, "Raise\\(\\) takes a catalogue fault"),  # type: ignore[arg-type]
        (lambda: Rule.fail("network.nope"), KeyError, "no fault named 'network.nope'"),
        (lambda: Rule.delay(-1), ValueError, "Latency.fixed seconds must be a finite number of seconds >= 0"),
        (lambda: Latency.uniform(2, 1), ValueError, "Latency.uniform high \\(1\\) must be >= low \\(2\\)"),
    ],
)
def test_bad_rules_name_the_field(build: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        build()  # type: ignore[operator]


def test_the_same_rule_cannot_be_armed_twice() -> None:
    rule = Rule.fail(KeyError)
    chaos = Chaos(rule)
    with pytest.raises(ChaosConfigError, match="already armed"):
        chaos.add(rule)
