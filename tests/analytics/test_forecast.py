"""Holt trend forecasts: time until a threshold on rising, falling, flat and noisy metrics."""

from __future__ import annotations

import random

import pytest

from recoup.analytics.forecast import HoltForecaster


def feed(values: list[float], step: float = 60.0, start: float = 1_000_000.0) -> HoltForecaster:
    model = HoltForecaster()
    for i, value in enumerate(values):
        model.update(start + i * step, value)
    return model


def test_a_steady_rise_gives_the_time_the_line_meets_the_threshold() -> None:
    # Error rate rising by 0.01 a minute from 0.10: reaches 0.50 forty minutes after 0.10.
    model = feed([0.10 + 0.01 * i for i in range(30)])
    breach = model.time_until(0.50)
    assert breach is not None
    # Last sample is 0.39 at minute 29: 0.11 more at 0.01/min = 11 minutes.
    assert breach.seconds == pytest.approx(660.0, rel=0.05)
    assert breach.at == pytest.approx(1_000_000.0 + 29 * 60 + 660.0, rel=1e-6)
    assert breach.slope == pytest.approx(0.01 / 60, rel=0.05)
    assert model.predict(1_000_000.0 + 29 * 60) == pytest.approx(0.39, abs=0.005)


def test_warn_only_within_the_horizon() -> None:
    model = feed([0.10 + 0.01 * i for i in range(30)])
    assert model.warn(0.50, horizon=900.0) is not None
    assert model.warn(0.50, horizon=300.0) is None


def test_a_falling_metric_breaches_a_lower_limit_and_not_an_upper_one() -> None:
    model = feed([100.0 - 2.0 * i for i in range(20)])
    below = model.time_until(20.0, above=False)
    assert below is not None and below.seconds == pytest.approx(1260.0, rel=0.05)  # 62 -> 20 at 2/min
    assert model.time_until(200.0) is None


def test_already_past_the_threshold_is_a_breach_now() -> None:
    model = feed([5.0, 6.0, 7.0, 8.0])
    breach = model.time_until(6.5)
    assert breach is not None and breach.seconds == 0.0


def test_flat_noise_raises_no_warning() -> None:
    rng = random.Random(4)
    model = feed([0.2 + rng.gauss(0.0, 0.03) for _ in range(200)])
    assert model.warn(0.5, horizon=3600.0) is None


def test_too_few_samples_or_none_give_no_forecast() -> None:
    assert feed([1.0, 2.0]).time_until(10.0) is None
    with pytest.raises(ValueError, match="no samples"):
        HoltForecaster().predict(0.0)


def test_irregular_timestamps_use_real_time() -> None:
    model = HoltForecaster()
    t = 0.0
    rng = random.Random(9)
    for _ in range(60):
        t += rng.choice([10.0, 30.0, 90.0])
        model.update(t, 2.0 * t)  # 2 units a second whatever the gaps
    assert model.slope == pytest.approx(2.0, rel=0.02)


def test_bad_input_is_named() -> None:
    model = feed([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="before the previous"):
        model.update(0.0, 1.0)
    with pytest.raises(ValueError, match="value"):
        model.update(2_000_000.0, float("inf"))
    with pytest.raises(ValueError, match="horizon"):
        model.warn(10.0, horizon=0.0)
    with pytest.raises(ValueError, match="alpha"):
        HoltForecaster(alpha=0.0)
    with pytest.raises(ValueError, match="beta"):
        HoltForecaster(beta=1.5)
