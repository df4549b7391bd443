"""Threshold expressions: parsing, units, clear refusals, and evaluation against a real run's result."""

from __future__ import annotations

import asyncio

import pytest

from recoup.load.profiles import OpenModel
from recoup.load.result import LoadResult
from recoup.load.runner import note_recoverable_fault, run_load_async
from recoup.load.thresholds import ThresholdError, evaluate_thresholds, parse_threshold
from recoup.testing import FakeClock


@pytest.mark.parametrize(("text", "metric", "op", "bound"), [
    ("p99 < 2s", "p99", "<", 2.0),
    ("p99.9<=500ms", "p99.9", "<=", 0.5),
    ("error_rate < 1%", "error_rate", "<", 0.01),
    ("error_rate<0.05", "error_rate", "<", 0.05),
    ("throughput >= 100/s", "throughput", ">=", 100.0),
    ("throughput > 6000/min", "throughput", ">", 100.0),
    ("recovery >= 99.9%", "recovery", ">=", 0.999),
    ("mean < 20ms", "mean", "<", 0.02),
    ("P50 < 250us", "p50", "<", 0.00025),
    ("dropped == 0", "dropped", "==", 0.0),
])
def test_expressions_parse_to_base_units(text: str, metric: str, op: str, bound: float) -> None:
    threshold = parse_threshold(text)
    assert (threshold.metric, threshold.op) == (metric, op)
    assert threshold.bound == pytest.approx(bound, rel=1e-12)


def test_a_percentage_bound_is_exactly_the_ratio() -> None:
    assert parse_threshold("recovery >= 99.9%").check(999 / 1000)  # 0.999 >= 0.999, no float residue


@pytest.mark.parametrize(("text", "message"), [
    ("p99 < 2", "give p99's bound a unit"),
    ("p99 < 5%", "'%' is not a duration unit"),
    ("latency < 1s", "unknown metric 'latency'"),
    ("p101 < 1s", "not a percentile from p0 to p100"),
    ("error_rate < 5", "did you mean 5%"),
    ("error_rate < 5ms", "is a ratio"),
    ("p99 2s", "expected METRIC OP VALUE"),
    ("p99 =< 2s", "expected METRIC OP VALUE"),
    ("throughput > 2s", "not a rate unit"),
    ("errors < 3ms", "is a count and takes no unit"),
    ("recovery >= 120%", "between 0% and 100%"),
    ("  ", "empty threshold"),
])
def test_bad_expressions_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ThresholdError, match=message):
        parse_threshold(text)


def _result() -> LoadResult:
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        if calls % 10 == 0:
            note_recoverable_fault()
            raise ConnectionResetError("reset")
        if calls % 10 == 1:
            note_recoverable_fault()  # met a fault, recovered

    return asyncio.run(run_load_async(op, OpenModel.constant(100, 1), clock=FakeClock()))


def test_evaluation_against_a_run() -> None:
    result = _result()
    assert result.completed == 100 and result.errors == 10
    outcomes = evaluate_thresholds(result, ["error_rate < 5%", "error_rate <= 10%", "recovery >= 50%",
                                            "recovery > 50%", "throughput >= 99/s", "p99 < 1ms", "errors == 10"])
    assert [o.passed for o in outcomes] == [False, True, True, False, True, True, True]
    assert outcomes[0].measured == pytest.approx(0.1) and outcomes[0].measured_text == "10.0%"
    assert outcomes[2].measured == 0.5  # 10 of the 20 operations that met a fault succeeded
    assert outcomes[5].measured_text == "0 ms"


def test_caller_supplied_metrics_override_the_run() -> None:
    result = _result()
    [outcome] = evaluate_thresholds(result, [parse_threshold("recovery >= 99.9%")], extra_metrics={"recovery": 1.0})
    assert outcome.passed and outcome.measured == 1.0 and outcome.to_dict()["threshold"] == "recovery >= 99.9%"


def test_a_run_where_nothing_completed_passes_no_latency_or_ratio_gate() -> None:
    empty = LoadResult(target="t", mode="constant", profile="p", planned_duration=1.0, scheduled=10, dropped=10)
    outcomes = evaluate_thresholds(empty, ["p99 < 2s", "mean < 1s", "error_rate < 1%", "dropped == 0"])
    assert [o.passed for o in outcomes] == [False, False, False, False]
    assert outcomes[0].measured_text == "n/a (nothing completed)"
