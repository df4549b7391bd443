"""recoup.load.histogram against the hdrhistogram package (the reference implementation's Python port)."""

from __future__ import annotations

import itertools
import json
import math
import random
import statistics

import pytest
from hdrh.histogram import HdrHistogram

from recoup.load.histogram import Histogram, HistogramError

PERCENTILES = (0.0, 1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0)


def _samples(seed: int, n: int, highest: int) -> list[int]:
    rng = random.Random(seed)
    values = []
    for i in range(n):
        if i % 3 == 0:
            v = rng.lognormvariate(8, 2.5)  # heavy tail over many decades
        elif i % 3 == 1:
            v = rng.paretovariate(1.2) * 100
        else:
            v = rng.uniform(0, 5000)
        values.append(min(int(v), highest))
    return values


@pytest.mark.parametrize(("lowest", "highest", "digits"), [
    (1, 3_600_000_000, 3), (1, 10_000_000, 2), (1, 100_000_000, 4), (1000, 3_600_000_000, 3),
    (1, 1_000_000, 1), (1, 1_000_000_000, 5),
])
def test_percentiles_match_hdrhistogram_on_random_data(lowest: int, highest: int, digits: int) -> None:
    ours, ref = Histogram(lowest, highest, digits), HdrHistogram(lowest, highest, digits)
    for v in _samples(lowest + digits, 20_000, highest):
        ours.record(v)
        ref.record_value(v)
    assert ours.count == ref.get_total_count()
    for p in PERCENTILES:
        theirs = ref.get_value_at_percentile(p)
        mine = ours.percentile(p)
        # the same bucket; ours is capped at the exact max, so it can only be lower in the top bucket
        assert ours.lowest_equivalent(mine) == ref.get_lowest_equivalent_value(theirs), p
        if p not in (0.0, 100.0):
            assert mine == theirs or mine == ours.max, p


def test_every_value_is_kept_to_three_significant_digits() -> None:
    hist = Histogram(1, 3_600_000_000, 3)
    rng = random.Random(7)
    for _ in range(2000):
        v = int(10 ** rng.uniform(0, 9.5))
        low, high = hist.lowest_equivalent(v), hist.highest_equivalent(v)
        assert low <= v <= high
        # any value in the bucket reads the same to 3 significant digits: relative width below 1/1000
        assert (high - low + 1) <= max(1, v / 1000), v
    for v in range(0, 2048):  # small values are exact
        assert hist.lowest_equivalent(v) == hist.highest_equivalent(v) == v


def test_bucket_geometry_matches_hdrhistogram() -> None:
    ours, ref = Histogram(1, 1 << 40, 3), HdrHistogram(1, 1 << 40, 3)
    rng = random.Random(3)
    for v in [0, 1, 2047, 2048, 2049, 4095, 4096, 123_456_789, 1 << 39, *(rng.randrange(1 << 40) for _ in range(500))]:
        assert ours.lowest_equivalent(v) == ref.get_lowest_equivalent_value(v), v
        assert ours.highest_equivalent(v) == ref.get_highest_equivalent_value(v), v


def test_mean_stdev_min_max_are_exact() -> None:
    values = _samples(11, 5000, 3_600_000_000)
    hist = Histogram()
    for v in values:
        hist.record(v)
    assert hist.min == min(values) and hist.max == max(values)
    assert hist.mean == pytest.approx(statistics.fmean(values), rel=1e-12)
    assert hist.stdev == pytest.approx(statistics.pstdev(values), rel=1e-9)


def test_record_with_count_and_float_values() -> None:
    hist = Histogram()
    hist.record(1500, count=3)
    hist.record(2.6)  # rounded to 3
    hist.record(7, count=0)  # nothing
    assert hist.count == 4 and hist.min == 3 and hist.max == 1500
    assert hist.percentile(50) == 1500


def test_record_corrected_adds_the_samples_a_stalled_tester_missed() -> None:
    hist = Histogram()
    hist.record_corrected(1000, expected_interval=100)
    # 1000 itself, then 900, 800, ..., 100 (HdrHistogram's Java definition)
    assert hist.count == 10
    assert [low for low, _, _ in hist.buckets()] == list(range(100, 1001, 100))
    quick = Histogram()
    quick.record_corrected(50, expected_interval=100)
    quick.record_corrected(50, expected_interval=0)
    assert quick.count == 2


def test_merge_equals_recording_everything_in_one() -> None:
    values = _samples(5, 6000, 3_600_000_000)
    one, a, b = Histogram(), Histogram(), Histogram()
    for i, v in enumerate(values):
        one.record(v)
        (a if i % 2 else b).record(v)
    a.merge(b)
    assert a == one
    assert a.percentiles(PERCENTILES) == one.percentiles(PERCENTILES)
    with pytest.raises(HistogramError, match="digits=2"):
        a.merge(Histogram(digits=2))


def test_percentiles_in_one_pass_agree_with_single_calls() -> None:
    hist = Histogram()
    for v in _samples(9, 3000, 3_600_000_000):
        hist.record(v)
    assert hist.percentiles(PERCENTILES) == {p: hist.percentile(p) for p in PERCENTILES}
    assert Histogram().percentiles([50.0, 99.0]) == {50.0: 0, 99.0: 0}


def test_serialisation_round_trips_and_is_json_safe() -> None:
    hist = Histogram()
    for v in _samples(2, 10_000, 3_600_000_000):
        hist.record(v)
    data = json.loads(json.dumps(hist.to_dict()))
    assert data["version"] == 1
    assert Histogram.from_dict(data) == hist
    token = hist.to_string()
    assert token.startswith("HISTv1:") and token.isascii() and len(token) < 20_000
    assert Histogram.from_string(token) == hist
    assert Histogram.from_string(Histogram().to_string()) == Histogram()


def test_corrupt_or_foreign_serialisations_are_refused_clearly() -> None:
    good = Histogram()
    good.record(5)
    data = good.to_dict()
    with pytest.raises(HistogramError, match="version 99"):
        Histogram.from_dict({**data, "version": 99})
    with pytest.raises(HistogramError, match="lacks the field 'counts'"):
        Histogram.from_dict({k: v for k, v in data.items() if k != "counts"})
    with pytest.raises(HistogramError, match="add up to 1, not 2"):
        Histogram.from_dict({**data, "count": 2})
    with pytest.raises(HistogramError, match="corrupt"):
        Histogram.from_dict({**data, "counts": "!!!not base64"})
    with pytest.raises(HistogramError, match="prefix"):
        Histogram.from_string("hello")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lowest": 0}, "lowest must be an integer >= 1"),
    ({"highest": 1}, "highest must be an integer >= 2"),
    ({"digits": 6}, "digits must be an integer from 1 to 5"),
    ({"digits": 0}, "digits must be an integer from 1 to 5"),
])
def test_bad_settings_name_the_setting(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(HistogramError, match=message):
        Histogram(**kwargs)


def test_values_outside_the_range_are_refused() -> None:
    hist = Histogram(1, 1000, 3)
    hist.record(1000)
    with pytest.raises(HistogramError, match=r"outside the trackable range 0\.\.1000"):
        hist.record(1001)
    with pytest.raises(HistogramError, match="outside"):
        hist.record(-1)
    with pytest.raises(HistogramError, match=r"percent must be within 0\.\.100"):
        hist.percentile(101)
    with pytest.raises(HistogramError, match="count must be >= 0"):
        hist.record(5, count=-1)


def test_buckets_cover_every_count_in_order() -> None:
    hist = Histogram()
    values = _samples(4, 2000, 3_600_000_000)
    for v in values:
        hist.record(v)
    buckets = list(hist.buckets())
    assert sum(c for _, _, c in buckets) == len(values)
    assert all(low <= high < next_low for (low, high, _), (next_low, _, _) in itertools.pairwise(buckets))
    assert not math.isnan(hist.stdev)
