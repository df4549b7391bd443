"""Arrival schedules are pure functions of the stages: checked exactly, without any clock."""

from __future__ import annotations

import pytest

from recoup.load.profiles import ClosedModel, LoadProfileError, OpenModel, Stage, arrival_times, parse_duration


def test_constant_rate_schedule_is_exact() -> None:
    times = list(arrival_times(OpenModel.constant(200, 30)))
    assert len(times) == 6000
    assert times[:3] == [0.0, 0.005, 0.01]
    assert all(t == pytest.approx(k / 200) for k, t in enumerate(times))


def test_linear_ramp_from_zero_follows_the_area_under_the_rate() -> None:
    model = OpenModel.ramp(0, [Stage(10, 2)])  # 0 -> 10/s over 2 s: area 10
    times = list(arrival_times(model))
    assert len(times) == 10
    # arrival k is due when 10/(2*2) * t^2 = k, i.e. t = sqrt(0.4 k)
    assert times == pytest.approx([(0.4 * k) ** 0.5 for k in range(10)])


def test_stages_chain_like_k6_and_include_ramp_down() -> None:
    model = OpenModel.ramp(10, [Stage(10, 1), Stage(100, 1), Stage(0, 1)])
    times = list(arrival_times(model))
    assert model.expected_operations == 115
    assert len(times) == 115
    assert sum(1 for t in times if t < 1) == 10
    assert sum(1 for t in times if 1 <= t < 2) == 55
    assert sum(1 for t in times if t >= 2) == 50
    assert times == sorted(times) and times[-1] < 3
    assert model.rate_at(1.5) == pytest.approx(55) and model.rate_at(2.5) == pytest.approx(50)
    assert model.describe() == "ramp 10→10/s over 1s, 10→100/s over 1s, 100→0/s over 1s"


def test_a_pause_stage_schedules_nothing() -> None:
    model = OpenModel.ramp(5, [Stage(5, 1), Stage(0, 0.001), Stage(0, 2), Stage(5, 0.001), Stage(5, 1)])
    times = list(arrival_times(model))
    assert not any(1.01 < t < 3.0 for t in times)
    assert len(times) == pytest.approx(model.expected_operations, abs=1)


@pytest.mark.parametrize(("build", "message"), [
    (lambda: OpenModel.constant(0, 10), "rate must be"),
    (lambda: OpenModel.constant(10, 0), "duration must be"),
    (lambda: Stage(-1, 1), "target rate must be"),
    (lambda: OpenModel(0, (Stage(0, 1),)), "every rate is 0"),
    (lambda: OpenModel(1, ()), "at least one stage"),
    (lambda: ClosedModel(0, 1), "vus must be an integer >= 1"),
    (lambda: ClosedModel(1, 1, think_time=-1), "think time"),
])
def test_bad_profiles_are_refused_with_the_reason(build: object, message: str) -> None:
    with pytest.raises(LoadProfileError, match=message):
        build()  # type: ignore[operator]


def test_durations_parse_with_units() -> None:
    assert parse_duration("30s") == 30
    assert parse_duration("500ms") == 0.5
    assert parse_duration("2m") == 120
    assert parse_duration("1m30s") == 90
    assert parse_duration("1.5") == 1.5
    for bad in ("", "fast", "10 parsecs", "-3s", "0"):
        with pytest.raises(LoadProfileError, match="duration"):
            parse_duration(bad)
