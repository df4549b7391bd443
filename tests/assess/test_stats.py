from __future__ import annotations

import math

from recoup.assess.stats import Distribution, percentile, ratio, wilson_interval


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_distribution_of_empty_reports_none_not_zero() -> None:
    assert Distribution.of([]).to_dict()["mean"] is None


def test_ratio_of_nothing_is_not_measured() -> None:
    assert ratio(0, 0) is None
    assert ratio(3, 4) == 0.75


def test_wilson_interval_contains_estimate_and_narrows_with_trials() -> None:
    small = wilson_interval(9, 10)
    large = wilson_interval(900, 1000)
    assert small is not None and large is not None
    assert small[0] < 0.9 < small[1]
    assert (large[1] - large[0]) < (small[1] - small[0])
    assert wilson_interval(0, 0) is None
