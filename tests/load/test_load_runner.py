"""The runner on a fake clock (exact schedules) and against a real HTTP server on 127.0.0.1 (real time)."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from load_server import LocalServer

from recoup.load.http import HttpTarget
from recoup.load.profiles import ClosedModel, OpenModel, Stage
from recoup.load.result import MICROS
from recoup.load.runner import LoadError, Progress, note_recoverable_fault, run_load, run_load_async
from recoup.testing import FakeClock


async def _noop() -> None:
    return None


def test_constant_rate_starts_exactly_on_schedule_on_a_fake_clock() -> None:
    clock = FakeClock(start=100.0)
    starts: list[float] = []

    async def op() -> None:
        starts.append(clock.monotonic())

    result = asyncio.run(run_load_async(op, OpenModel.constant(10, 1), clock=clock))
    assert result.scheduled == result.ok == 10 and result.errors == 0
    assert starts == pytest.approx([100.0 + k / 10 for k in range(10)])
    assert clock.sleeps == pytest.approx([0.1] * 10)  # nine gaps, then the schedule's last gap
    assert result.elapsed == pytest.approx(1.0)
    assert result.histogram.max == 0 and result.late == 0 and result.dropped == 0


def test_latency_counts_from_the_intended_start_when_the_target_stalls() -> None:
    """Operation 0 blocks the loop for 0.5 s of fake time: operations due meanwhile start late, and their
    latency includes the wait, exactly (0.5, 0.4, ..., 0.1 s), instead of looking instant."""
    clock = FakeClock()
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            clock.advance(0.5)

    result = asyncio.run(run_load_async(op, OpenModel.constant(10, 1), clock=clock))
    assert result.ok == 10
    assert result.late == 4  # due at 0.1 .. 0.4, started at 0.5
    assert result.max_start_lag == pytest.approx(0.4)
    assert result.histogram.max == round(0.5 * MICROS)
    assert result.histogram.mean * 10 == pytest.approx((0.5 + 0.4 + 0.3 + 0.2 + 0.1) * MICROS)


def test_ramp_stages_schedule_the_area_under_the_rate() -> None:
    clock = FakeClock()
    model = OpenModel.ramp(0, [Stage(20, 1), Stage(20, 1)])
    result = asyncio.run(run_load_async(_noop, model, clock=clock))
    assert result.mode == "ramp"
    assert result.scheduled == result.ok == 30  # 10 while ramping up, 20 at the plateau
    assert clock.slept == pytest.approx(2.0)


def test_starts_beyond_max_in_flight_are_dropped_and_stuck_ones_reported() -> None:
    clock = FakeClock()
    never = asyncio.Event

    async def stuck() -> None:
        await never().wait()

    result = asyncio.run(run_load_async(stuck, OpenModel.constant(10, 1), clock=clock, max_in_flight=3,
                                        drain_timeout=0.05))
    assert result.scheduled == 10 and result.dropped == 7
    assert result.unfinished == 3 and result.errors == 3 and result.ok == 0
    assert result.error_categories == {"unfinished": 3}
    assert result.histogram.count == 3


def test_failures_are_classified_and_timeouts_named() -> None:
    kinds = iter([ConnectionRefusedError("refused"), ValueError("bad input"), None, None] * 5)

    async def op() -> None:
        error = next(kinds)
        if error is not None:
            raise error

    result = asyncio.run(run_load_async(op, OpenModel.constant(20, 1), clock=FakeClock()))
    assert result.ok == 10 and result.errors == 10
    assert result.error_categories == {"network": 5, "validation": 5}
    assert result.error_rate == 0.5

    async def slow() -> None:
        await asyncio.sleep(5)

    timed = asyncio.run(run_load_async(slow, OpenModel.constant(50, 0.1), op_timeout=0.05))
    assert timed.error_categories == {"timeout": timed.errors} and timed.errors == 5


def test_recovery_is_the_success_ratio_of_operations_that_met_a_fault() -> None:
    rng = random.Random(1)

    async def op() -> None:
        if rng.random() < 0.5:  # met a fault; recovers 4 times in 5
            note_recoverable_fault()
            if rng.random() < 0.2:
                raise TimeoutError("gave up")

    result = asyncio.run(run_load_async(op, OpenModel.constant(400, 1), clock=FakeClock()))
    assert 150 < result.faulted < 250
    assert result.recovery == result.faulted_ok / result.faulted
    assert result.errors == result.faulted - result.faulted_ok
    assert 0.7 < result.recovery < 0.9
    note_recoverable_fault()  # outside a run: harmless


def test_progress_snapshots_reach_the_callback() -> None:
    seen: list[Progress] = []
    result = asyncio.run(run_load_async(_noop, OpenModel.constant(40, 1), clock=FakeClock(),
                                        on_progress=seen.append, progress_interval=0.25))
    assert seen and seen[-1].completed == result.completed == 40
    assert seen[-1].duration == 1 and seen[-1].in_flight == 0


def test_bad_runner_settings_are_refused() -> None:
    with pytest.raises(LoadError, match="max_in_flight"):
        run_load(_noop, OpenModel.constant(1, 1), max_in_flight=0)
    with pytest.raises(LoadError, match="vus \\(5\\) exceeds max_in_flight \\(2\\)"):
        run_load(_noop, ClosedModel(5, 1), max_in_flight=2)
    with pytest.raises(LoadError, match="op_timeout"):
        run_load(_noop, OpenModel.constant(1, 1), op_timeout=-1)
    with pytest.raises(LoadError, match="target must be"):
        run_load("nope", OpenModel.constant(1, 1))  # type: ignore[arg-type]


def test_constant_rate_against_a_real_http_server_counts_statuses(http_server: LocalServer) -> None:
    ok = run_load(HttpTarget(http_server.url + "/ok"), OpenModel.constant(50, 1))
    assert ok.scheduled == ok.ok == 50 and ok.status_codes == {200: 50}
    assert 30 < ok.throughput <= 55  # loose: the real clock on a shared machine
    assert http_server.hits() == 50
    failing = run_load(HttpTarget(http_server.url + "/status/503"), OpenModel.constant(40, 0.5))
    assert failing.errors == 20 and failing.status_codes == {503: 20}
    assert failing.error_categories == {"service": 20}
    refused = run_load(HttpTarget("http://127.0.0.1:9/"), OpenModel.constant(20, 0.25), op_timeout=2.0)
    assert refused.errors == 5 and refused.error_categories == {"network": 5}


def test_coordinated_omission_open_model_shows_a_stall_the_closed_loop_hides(http_server: LocalServer) -> None:
    """The server stalls every request arriving in a 1 s window. At a constant 100/s, half the run's
    requests arrive in the window and the open model's p99 shows the stall (~1 s); closed-loop users each
    meet it once, so their p99 is the quick answers' and the stall is hidden."""
    target = HttpTarget(http_server.url + "/ok")
    now = time.monotonic()
    http_server.stall(now + 0.5, now + 1.5)
    open_result = run_load(target, OpenModel.constant(100, 2))
    now = time.monotonic()
    http_server.stall(now + 0.5, now + 1.5)
    closed_result = run_load(target, ClosedModel(vus=1, duration=2))

    assert open_result.latency(99) >= 0.8
    slow_open = sum(c for low, _, c in open_result.histogram.buckets() if low >= 0.25 * MICROS)
    assert slow_open >= 50  # every request queued behind the first 3/4 of the stall
    slow_closed = sum(c for low, _, c in closed_result.histogram.buckets() if low >= 0.25 * MICROS)
    assert slow_closed <= 1  # one user, stuck once: a single sample
    assert closed_result.completed > 100  # ... among many quick ones
    assert closed_result.latency(99) < 0.25 < open_result.latency(99)
    # HdrHistogram's correction rebuilds what the closed loop missed, given the interval it usually kept
    corrected = closed_result.histogram.copy()
    corrected.reset()
    usual = closed_result.histogram.percentile(50)
    for low, _, count in closed_result.histogram.buckets():
        corrected.record_corrected(low, expected_interval=usual, count=count)
    assert corrected.percentile(99) >= 0.5 * MICROS


def test_closed_loop_users_against_a_real_server(http_server: LocalServer) -> None:
    result = run_load(HttpTarget(http_server.url + "/ok"), ClosedModel(vus=3, duration=0.5))
    assert result.mode == "closed" and result.peak_in_flight == 3
    assert result.ok == result.completed == http_server.hits() > 3
    assert result.dropped == 0


def test_closed_loop_user_stuck_past_the_drain_time_is_cut_off_and_counted() -> None:
    calls = 0

    async def sometimes_stuck() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            await asyncio.Event().wait()  # never answers
        await asyncio.sleep(0.01)

    result = run_load(sometimes_stuck, ClosedModel(vus=2, duration=0.2), drain_timeout=0.1)
    assert result.unfinished == 1 and result.error_categories == {"unfinished": 1}
    assert result.elapsed < 1.0
    assert result.histogram.max >= 0.1 * MICROS  # the stuck one's time so far is in the numbers


def test_a_second_without_completions_is_a_zero_in_the_series() -> None:
    clock = FakeClock()
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            clock.advance(2.5)  # the target hangs for 2.5 s: nothing completes in seconds 1 and 2

    result = asyncio.run(run_load_async(op, OpenModel.constant(1, 4), clock=clock))
    assert [(i.start, i.completed) for i in result.intervals] == [(0.0, 1), (1.0, 0), (2.0, 0), (3.0, 3)]
