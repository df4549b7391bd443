"""Rolling windows: counters, gauges, distributions (sketch accuracy), expiry, retention and grouping."""

from __future__ import annotations

import random

import pytest

from recoup.incidents.model import Matcher
from recoup.incidents.signals import Observation
from recoup.incidents.windows import BUCKETS_PER_WINDOW, SeriesGroups, Sketch, Span, WindowStore


def obs(metric: str, value: float, at: float, **labels: str) -> Observation:
    return Observation(metric, value, tuple(sorted(labels.items())), at)


def test_sketch_quantiles_within_one_percent() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(0, 1.5) for _ in range(20_000)]
    sketch = Sketch()
    for v in values:
        sketch.add(v)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.95, 0.99):
        exact = ordered[int(q * (len(ordered) - 1))]
        got = sketch.quantile(q)
        assert got is not None
        assert abs(got - exact) / exact <= 0.0101, (q, got, exact)
    assert len(sketch.counts) < 1000  # compact: keys grow with the log of the range, not with samples


def test_sketch_zero_and_subtract() -> None:
    s = Sketch()
    assert s.quantile(0.5) is None
    for v in (0.0, 0.0, 0.0, 5.0):
        s.add(v)
    assert s.quantile(0.5) == 0.0
    other = Sketch()
    other.add(5.0)
    s.merge(other, -1)
    assert s.n == 3 and not s.counts


def test_counter_window_sums_increments_and_expires() -> None:
    store = WindowStore({"errors": [Span(60)]})
    span = Span(60)
    for t in range(0, 30):
        store.add(obs("errors", 1.0, float(t), service="a"), float(t))
    series = store.all_series()
    assert store.stats(series, span, 30.0).count == 30
    assert store.stats(series, span, 75.0).count == pytest.approx(14, abs=1)  # t=16..29 left
    assert store.stats(series, span, 200.0).count == 0
    store.add(obs("errors", 2.0, 200.0, service="a"), 200.0)  # running aggregate rebuilt after a long idle
    assert store.stats(series, span, 200.0).count == 2


def test_counter_window_accuracy_is_one_bucket() -> None:
    store = WindowStore({"errors": [Span(300)]})
    width = 300 / BUCKETS_PER_WINDOW
    store.add(obs("errors", 1.0, 1000.0), 1000.0)
    s = store.all_series()
    assert store.stats(s, Span(300), 1000.0 + 300 - width - 0.001).count == 1  # still inside
    assert store.stats(s, Span(300), 1000.0 + 300 + 0.001).count == 0  # gone by L


def test_late_and_future_observations() -> None:
    store = WindowStore({"errors": [Span(60)]})
    store.add(obs("errors", 1.0, 100.0), 100.0)
    store.add(obs("errors", 1.0, 90.0), 100.0)  # late but inside the window
    store.add(obs("errors", 1.0, 10.0), 100.0)  # older than retention: ignored
    store.add(obs("errors", 1.0, 500.0), 100.0)  # future: clamped to now
    assert store.stats(store.all_series(), Span(60), 100.0).count == 3


def test_gauge_last_min_avg_max() -> None:
    store = WindowStore({"resource_usage": [Span(60)]})
    for t, v in ((0, 0.5), (10, 0.9), (20, 0.7)):
        store.add(obs("resource_usage", v, float(t), resource="memory"), float(t))
    (s,) = store.all_series()
    st = store.stats([s], Span(60), 20.0)
    assert (st.n, st.lo, st.hi) == (3, 0.5, 0.9)
    assert st.avg == pytest.approx(0.7)
    assert s.last_value == 0.7
    later = store.stats([s], Span(60), 500.0)
    assert later.n == 0 and later.avg is None
    assert s.last_value == 0.7  # a gauge's level holds until the next sample
    store.gc(10_000.0)
    assert store.all_series() == [s]  # gauges keep their last value through gc


def test_distribution_quantiles_and_max() -> None:
    store = WindowStore({"response_time": [Span(300)]})
    for i in range(100):
        store.add(obs("response_time", (i + 1) / 100, float(i)), float(i))
    st = store.stats(store.all_series(), Span(300), 100.0)
    assert st.n == 100 and st.hi == 1.0
    p95 = st.quantile(0.95)
    assert p95 is not None and p95 == pytest.approx(0.95, rel=0.011)
    assert st.avg == pytest.approx(0.505)


def test_distribution_across_series_merges_without_changing_either() -> None:
    store = WindowStore({"response_time": [Span(60)]})
    store.add(obs("response_time", 1.0, 0.0, service="a"), 0.0)
    store.add(obs("response_time", 9.0, 0.0, service="b"), 0.0)
    both = store.stats(store.all_series(), Span(60), 1.0)
    assert both.n == 2 and both.hi == 9.0
    a = store.stats(store.all_series()[:1], Span(60), 1.0)
    assert a.n == 1 and a.sketch is not None and a.sketch.n == 1


def test_offset_span_reads_history() -> None:
    store = WindowStore({"auth_failures": [Span(300), Span(3600, 300)]})
    for t in range(0, 3600, 60):
        store.add(obs("auth_failures", 1.0, float(t)), float(t))
    s = store.all_series()
    base = store.stats(s, Span(3600, 300), 3600.0)
    assert base.count == pytest.approx(55, abs=1)  # t in [0, 3300)
    assert store.stats(s, Span(300), 3600.0).count == pytest.approx(5, abs=1)


def test_offset_span_sees_late_observations() -> None:
    store = WindowStore({"operations": [Span(60), Span(600, 60)]})
    store.add(obs("operations", 1.0, 100.0), 100.0)
    s = store.all_series()
    assert store.stats(s, Span(600, 60), 400.0).count == 1
    store.add(obs("operations", 5.0, 200.0), 400.0)  # late, into the baseline range
    assert store.stats(s, Span(600, 60), 400.0).count == 6
    store.add(obs("operations", 1.0, 400.0), 400.0)  # current: not in the baseline
    assert store.stats(s, Span(600, 60), 400.0).count == 6
    assert store.stats(s, Span(600, 60), 470.0).count == 7


def test_gauge_extremes_follow_the_window() -> None:
    store = WindowStore({"resource_usage": [Span(60)]})
    store.add(obs("resource_usage", 0.9, 0.0), 0.0)
    store.add(obs("resource_usage", 0.5, 30.0), 30.0)
    store.add(obs("resource_usage", 0.7, 40.0), 40.0)
    s = store.all_series()
    st = store.stats(s, Span(60), 40.0)
    assert (st.lo, st.hi) == (0.5, 0.9)
    st = store.stats(s, Span(60), 65.0)  # the 0.9 left
    assert (st.lo, st.hi, st.n) == (0.5, 0.7, 2)
    store.add(obs("resource_usage", 0.95, 66.0), 66.0)
    st = store.stats(s, Span(60), 95.0)  # the 0.5 left
    assert (st.lo, st.hi) == (0.7, 0.95)


def test_distribution_quantile_drops_when_slow_samples_leave() -> None:
    store = WindowStore({"response_time": [Span(60)]})
    for i in range(20):
        store.add(obs("response_time", 10.0, float(i)), float(i))
    for i in range(20):
        store.add(obs("response_time", 0.1, 40.0 + i), 40.0 + i)
    s = store.all_series()
    p95 = store.stats(s, Span(60), 59.0).quantile(0.95)
    assert p95 == pytest.approx(10.0, rel=0.011)
    later = store.stats(s, Span(60), 79.0)
    assert later.n == 20 and later.hi == 0.1
    assert later.quantile(0.95) == pytest.approx(0.1, rel=0.011)


def test_retention_bounds_memory() -> None:
    store = WindowStore({"errors": [Span(60)]})
    for t in range(0, 100_000, 1):
        store.add(obs("errors", 1.0, float(t)), float(t))
    (s,) = store.all_series()
    ring = next(iter(s.rings.values()))
    assert len(ring.buckets) <= BUCKETS_PER_WINDOW + 2
    assert store.stats([s], Span(60), 99_999.0).count == pytest.approx(60, abs=1)


def test_gc_drops_idle_counter_series() -> None:
    store = WindowStore({"errors": [Span(60)], "last_seen": []})
    store.add(obs("errors", 1.0, 0.0), 0.0)
    store.add(obs("last_seen", 0.0, 0.0), 0.0)
    dropped = store.gc(1000.0)
    assert [d.metric for d in dropped] == ["errors"]
    assert [s.metric for s in store.all_series()] == ["last_seen"]


def test_unwatched_metric_is_ignored() -> None:
    store = WindowStore({"errors": [Span(60)]})
    assert store.add(obs("operations", 1.0, 0.0), 0.0) is None
    assert len(store) == 0


def test_series_groups_filter_and_group() -> None:
    store = WindowStore({"errors": [Span(60)]})
    groups = SeriesGroups([Matcher.parse('category!="validation"')], ["service"])
    keys = []
    for cat, svc in (("network", "a"), ("validation", "a"), ("timeout", "a"), ("network", "b")):
        added = store.add(obs("errors", 1.0, 0.0, category=cat, service=svc), 0.0)
        assert added is not None
        keys.append(groups.admit(added[0]))
    assert keys == [("a",), None, ("a",), ("b",)]
    assert len(groups.members(("a",))) == 2
    assert store.stats(groups.members(("a",)), Span(60), 1.0).count == 2
    groups.discard(groups.members(("b",))[0])
    assert groups.keys() == [("a",)]
