"""Memory-bounded rolling windows over metric observations, keyed by (metric, label set).

Each series keeps time buckets, not samples: a window of length L is read from ``BUCKETS_PER_WINDOW`` (60)
buckets of width L/60, so memory per series is fixed whatever the event rate. Accuracy: the current bucket
is partial and the oldest is dropped whole, so a window of L covers the last L - L/60 to L seconds (events
leave a 5m window up to 5s early). Quantiles come from a log-bucketed sketch with 1% relative error
(`Sketch`), never from a list of samples. History is kept only as long as the longest span (window plus
baseline offset) a rule asked for.

Reading the common span (offset 0) is O(1) amortised: a running aggregate per span absorbs each new
observation and gives back each bucket that leaves the span. Offset spans (baselines) are summed from
their buckets when read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from recoup.incidents.catalogue import CATALOGUE, MetricKind
from recoup.incidents.model import Matcher, matches_all
from recoup.incidents.signals import Observation

#: Buckets per window: the resolution of every window (1/60 of its length).
BUCKETS_PER_WINDOW = 60
#: Relative error of sketch quantiles.
SKETCH_ACCURACY = 0.01

_GAMMA = (1 + SKETCH_ACCURACY) / (1 - SKETCH_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
_MIN_POSITIVE = 1e-9  # smaller values (and zero, negatives) count in the zero bucket
_MAX_VALUE = 1e12  # larger values are clamped, which bounds the sketch to ~2,400 keys

LabelKey = tuple[tuple[str, str], ...]
GroupKey = tuple[str, ...]


class Sketch:
    """Log-bucketed quantile sketch: a value v lands in bucket ceil(log_gamma(v)), and a bucket reads back as
    the value within ``SKETCH_ACCURACY`` of all it holds. Counts can be added and subtracted, so windows can
    merge and expire sketches. Values at or below 1e-9 (including negatives) read back as 0."""

    __slots__ = ("counts", "n", "zeros")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.zeros = 0
        self.n = 0

    @staticmethod
    def key(value: float) -> int | None:
        if value <= _MIN_POSITIVE:
            return None
        return math.ceil(math.log(min(value, _MAX_VALUE)) / _LOG_GAMMA)

    def add(self, value: float) -> None:
        k = self.key(value)
        if k is None:
            self.zeros += 1
        else:
            self.counts[k] = self.counts.get(k, 0) + 1
        self.n += 1

    def merge(self, other: Sketch, sign: int = 1) -> None:
        """Add (sign 1) or remove (sign -1) every count of ``other``."""
        counts = self.counts
        for k, c in other.counts.items():
            left = counts.get(k, 0) + sign * c
            if left > 0:
                counts[k] = left
            else:
                counts.pop(k, None)
        self.zeros += sign * other.zeros
        self.n += sign * other.n

    def copy(self) -> Sketch:
        out = Sketch()
        out.counts = dict(self.counts)
        out.zeros = self.zeros
        out.n = self.n
        return out

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0..1) of what was added, within 1%; None when empty."""
        if self.n <= 0:
            return None
        rank = q * (self.n - 1)
        seen = self.zeros
        if seen > rank:
            return 0.0
        for k in sorted(self.counts):
            seen += self.counts[k]
            if seen > rank:
                return 2.0 * _GAMMA**k / (_GAMMA + 1.0)
        return 2.0 * _GAMMA ** max(self.counts) / (_GAMMA + 1.0) if self.counts else 0.0


class _Bucket:
    """What one time bucket of one series holds. ``n`` counts observations; ``count`` is the sum of counter
    increments (counters) or the number of samples (gauges, distributions)."""

    __slots__ = ("count", "hi", "lo", "n", "sketch", "total")

    def __init__(self, with_sketch: bool) -> None:
        self.n = 0
        self.count = 0.0
        self.total = 0.0
        self.lo = math.inf
        self.hi = -math.inf
        self.sketch: Sketch | None = Sketch() if with_sketch else None


@dataclass(slots=True)
class WindowStats:
    """A window's aggregate over one or more series. ``lo``/``hi`` are inf/-inf when empty."""

    n: int = 0
    count: float = 0.0
    total: float = 0.0
    lo: float = math.inf
    hi: float = -math.inf
    sketch: Sketch | None = None
    shared: bool = False  # ``sketch`` is a series' running sketch: copy before changing it

    @property
    def avg(self) -> float | None:
        return self.total / self.count if self.count > 0 else None

    def quantile(self, q: float) -> float | None:
        """Sketch quantile, never above the exact maximum."""
        if self.sketch is None or self.n == 0:
            return None
        value = self.sketch.quantile(q)
        return None if value is None else min(value, self.hi)

    def absorb(self, n: int, count: float, total: float, lo: float, hi: float, sketch: Sketch | None) -> None:
        self.n += n
        self.count += count
        self.total += total
        self.lo = min(self.lo, lo)
        self.hi = max(self.hi, hi)
        if sketch is not None:
            if self.sketch is None:
                self.sketch = Sketch()
            elif self.shared:
                self.sketch = self.sketch.copy()
                self.shared = False
            self.sketch.merge(sketch)


@dataclass(frozen=True, slots=True)
class Span:
    """The part of history a rule reads: ``length`` seconds ending ``offset`` seconds ago."""

    length: float
    offset: float = 0.0

    @property
    def width(self) -> float:
        return self.length / BUCKETS_PER_WINDOW


class _Running:
    """Running aggregate of the buckets with index >= ``low`` (a span with offset 0). ``lo``/``hi`` are kept
    as values arrive and recomputed only after the bucket holding one of them leaves (``exact`` False)."""

    __slots__ = ("count", "exact", "hi", "lo", "low", "n", "sketch", "total")

    def __init__(self, with_sketch: bool) -> None:
        self.low = -(2**62)
        self.n = 0
        self.count = 0.0
        self.total = 0.0
        self.lo = math.inf
        self.hi = -math.inf
        self.exact = True
        self.sketch: Sketch | None = Sketch() if with_sketch else None

    def take(self, b: _Bucket, sign: int) -> None:
        self.n += sign * b.n
        self.count += sign * b.count
        self.total += sign * b.total
        if self.sketch is not None and b.sketch is not None:
            self.sketch.merge(b.sketch, sign)
        if sign > 0:
            self.lo = min(self.lo, b.lo)
            self.hi = max(self.hi, b.hi)
        elif b.lo <= self.lo or b.hi >= self.hi:
            self.exact = False
        if self.n <= 0:  # exact zero again: no float drift survives an empty window
            self.n, self.count, self.total = 0, 0.0, 0.0
            self.lo, self.hi, self.exact = math.inf, -math.inf, True
            if self.sketch is not None:
                self.sketch = Sketch()


class _Ring:
    """The buckets of one width for one series, the running spans read from them, and retention."""

    __slots__ = ("buckets", "cache", "keep", "late", "running", "width", "with_sketch")

    def __init__(self, width: float, keep: int, lengths: Iterable[int], with_sketch: bool) -> None:
        self.width = width
        self.keep = keep  # buckets retained, counting the current one
        self.with_sketch = with_sketch
        self.buckets: dict[int, _Bucket] = {}
        self.running: dict[int, _Running] = {n: _Running(with_sketch) for n in lengths}
        self.late = 0  # writes into a bucket older than the current one: they invalidate `cache`
        # (n, offset_n) -> (now_idx, late, aggregate) of an offset span (a baseline), reused until either moves
        self.cache: dict[tuple[int, int], tuple[int, int, WindowStats]] = {}

    def add(self, at: float, value: float, kind: MetricKind, now_idx: int) -> None:
        idx = int(at // self.width)
        if idx <= now_idx - self.keep:
            return  # older than anything a rule reads
        if idx < now_idx:
            self.late += 1
        b = self.buckets.get(idx)
        if b is None:
            b = self.buckets[idx] = _Bucket(self.with_sketch)
            self._purge(now_idx)
        b.n += 1
        counter = kind is MetricKind.COUNTER
        if counter:
            b.count += value
        else:
            b.count += 1
            b.total += value
            b.lo = min(b.lo, value)
            b.hi = max(b.hi, value)
            if b.sketch is not None:
                b.sketch.add(value)
        for r in self.running.values():
            if idx >= r.low:
                r.n += 1
                if counter:
                    r.count += value
                else:
                    r.count += 1
                    r.total += value
                    if value < r.lo:
                        r.lo = value
                    if value > r.hi:
                        r.hi = value
                    if r.sketch is not None:
                        r.sketch.add(value)

    def _purge(self, now_idx: int) -> None:
        oldest = now_idx - self.keep
        buckets = self.buckets
        while buckets:
            idx = next(iter(buckets))
            if idx > oldest:
                break
            b = buckets.pop(idx)
            for r in self.running.values():
                if idx >= r.low:
                    r.take(b, -1)

    def stats(self, n: int, offset_n: int, now_idx: int, into: WindowStats) -> None:
        """Aggregate the n buckets ending offset_n buckets before now into ``into``."""
        r = self.running.get(n) if offset_n == 0 else None
        if r is None:
            self._span(n, offset_n, now_idx, into)
            return
        low = now_idx - n + 1
        if low > r.low:
            if low - r.low > self.keep:  # idle long enough that rebuilding is cheaper
                fresh = _Running(self.with_sketch)
                fresh.low = low
                for idx, kept in self.buckets.items():
                    if idx >= low:
                        fresh.take(kept, 1)
                self.running[n] = r = fresh
            else:
                for idx in range(r.low, low):
                    gone = self.buckets.get(idx)
                    if gone is not None:
                        r.take(gone, -1)
                r.low = low
        if not r.exact:
            r.lo, r.hi = math.inf, -math.inf
            for idx, held in self.buckets.items():
                if idx >= low:
                    r.lo = min(r.lo, held.lo)
                    r.hi = max(r.hi, held.hi)
            r.exact = True
        if into.n == 0 and into.sketch is None:
            # the common single-series read: share the running sketch instead of copying it
            into.n, into.count, into.total, into.lo, into.hi = r.n, r.count, r.total, r.lo, r.hi
            into.sketch, into.shared = r.sketch, r.sketch is not None
            return
        into.absorb(r.n, r.count, r.total, r.lo, r.hi, r.sketch)

    def _span(self, n: int, offset_n: int, now_idx: int, into: WindowStats) -> None:
        hit = self.cache.get((n, offset_n)) if offset_n > 0 else None  # the current bucket still changes
        if hit is None or hit[0] != now_idx or hit[1] != self.late:
            agg = WindowStats()
            top = now_idx - offset_n
            for idx in range(top - n + 1, top + 1):
                b = self.buckets.get(idx)
                if b is not None:
                    agg.absorb(b.n, b.count, b.total, b.lo, b.hi, b.sketch)
            self.cache[(n, offset_n)] = hit = (now_idx, self.late, agg)
        agg = hit[2]
        into.absorb(agg.n, agg.count, agg.total, agg.lo, agg.hi, agg.sketch)


@dataclass(eq=False, slots=True)
class Series:
    """One (metric, label set): its buckets, and its last value and time (gauges: the level that holds until
    the next sample; staleness: when it was last seen)."""

    metric: str
    key: LabelKey
    kind: MetricKind
    labels: dict[str, str]
    rings: dict[float, _Ring] = field(default_factory=dict)
    last_value: float | None = None
    last_at: float | None = None


class WindowStore:
    """Series of the metrics rules watch, with the spans each metric needs. ``spans`` maps a metric name to
    the spans read from it; metrics not in it are ignored by `add`."""

    def __init__(self, spans: Mapping[str, Iterable[Span]]) -> None:
        self._plans: dict[str, list[tuple[float, int, tuple[int, ...]]]] = {}
        self._kinds: dict[str, MetricKind] = {}
        self._horizon: dict[str, float] = {}
        for metric, metric_spans in spans.items():
            kind = CATALOGUE[metric].kind
            self._kinds[metric] = kind
            by_width: dict[float, list[Span]] = {}
            for span in metric_spans:
                by_width.setdefault(span.width, []).append(span)
            plan = []
            horizon = 0.0
            for width, group in sorted(by_width.items()):
                keep = max(math.ceil((s.offset + s.length) / width) for s in group) + 1
                lengths = tuple(sorted({_n(s.length, width) for s in group if s.offset == 0}))
                plan.append((width, keep, lengths))
                horizon = max(horizon, keep * width)
            self._plans[metric] = plan
            self._horizon[metric] = horizon
        self._series: dict[tuple[str, LabelKey], Series] = {}
        self._shapes: dict[Span, tuple[float, int, int]] = {}  # span -> (bucket width, buckets, offset buckets)

    def watches(self, metric: str) -> bool:
        return metric in self._kinds

    def __len__(self) -> int:
        return len(self._series)

    def all_series(self) -> list[Series]:
        return list(self._series.values())

    def add(self, obs: Observation, now: float) -> tuple[Series, bool] | None:
        """Record one observation (its time clamped to ``now``); the series and whether it is new, or None
        for a metric no rule reads."""
        kind = self._kinds.get(obs.metric)
        if kind is None:
            return None
        key = (obs.metric, obs.labels)
        series = self._series.get(key)
        created = series is None
        if series is None:
            series = Series(obs.metric, obs.labels, kind, dict(obs.labels))
            with_sketch = kind is MetricKind.DISTRIBUTION
            for width, keep, lengths in self._plans[obs.metric]:
                series.rings[width] = _Ring(width, keep, lengths, with_sketch)
            self._series[key] = series
        at = min(obs.at, now)
        if kind is MetricKind.STALENESS:
            seen = min(obs.value, now)
            if series.last_at is None or seen > series.last_at:
                series.last_at = seen
            return series, created
        if series.last_at is None or at >= series.last_at:
            series.last_at = at
            series.last_value = obs.value
        for ring in series.rings.values():
            ring.add(at, obs.value, kind, int(now // ring.width))
        return series, created

    def stats(self, series: Iterable[Series], span: Span, now: float) -> WindowStats:
        """The aggregate of ``span`` over ``series`` (all of one metric) at ``now``."""
        out = WindowStats()
        shape = self._shapes.get(span)
        if shape is None:
            width = span.width
            shape = self._shapes[span] = (width, _n(span.length, width), _n(span.offset, width))
        width, n, offset_n = shape
        now_idx = int(now // width)
        for s in series:
            ring = s.rings.get(width)
            if ring is None:
                raise KeyError(f"{s.metric}: no window of {span.length}s was planned (spans come from the rules)")
            ring.stats(n, offset_n, now_idx, out)
        return out

    def gc(self, now: float) -> list[Series]:
        """Drop buckets past retention, and counter/distribution series with nothing left; returns the
        series dropped. Gauges keep their last value and staleness series their last-seen time."""
        dropped = []
        for key, s in list(self._series.items()):
            for ring in s.rings.values():
                ring._purge(int(now // ring.width))
            if s.kind in (MetricKind.COUNTER, MetricKind.DISTRIBUTION) and (
                s.last_at is None or s.last_at < now - self._horizon[s.metric]
            ):
                del self._series[key]
                dropped.append(s)
        return dropped


def _n(seconds: float, width: float) -> int:
    return max(0, round(seconds / width))


class SeriesGroups:
    """The series of one metric that ``matchers`` select, grouped by the values of the ``by`` labels (a
    missing label groups as the empty string)."""

    def __init__(self, matchers: Sequence[Matcher], by: Sequence[str]) -> None:
        self.matchers = tuple(matchers)
        self.by = tuple(by)
        self._groups: dict[GroupKey, list[Series]] = {}

    def admit(self, series: Series) -> GroupKey | None:
        """Add ``series`` to its group when the matchers select it; its group key, or None."""
        if not matches_all(self.matchers, series.labels):
            return None
        key = self.group_key(series.labels)
        self._groups.setdefault(key, []).append(series)
        return key

    def group_key(self, labels: Mapping[str, str]) -> GroupKey:
        return tuple(labels.get(name, "") for name in self.by)

    def discard(self, series: Series) -> None:
        key = self.group_key(series.labels)
        members = self._groups.get(key)
        if members is not None and series in members:
            members.remove(series)
            if not members:
                del self._groups[key]

    def members(self, key: GroupKey) -> Sequence[Series]:
        return self._groups.get(key, ())

    def keys(self) -> list[GroupKey]:
        return list(self._groups)


# -- per-group streams of sampled rule values (anomaly and forecast rules) ----------------------------------

#: A group's stream is dropped after this long without a sample (its series left every window).
STREAM_RETENTION = 86400.0


class AnomalyStream:
    """One label group of an anomaly rule: a `StreamingDetector` fed the rule's value once per sample, and
    until when the condition holds. Memory is the detector's (``memory`` floats) plus a few numbers."""

    def __init__(self, memory: int, warmup: int) -> None:
        from recoup.analytics.anomaly import DetectorConfig, StreamingDetector  # lazy: the analytics layer

        self.detector = StreamingDetector(DetectorConfig(memory=memory, warmup=warmup))
        self.mean: float | None = None  # slow moving average of earlier samples: which side a value lies on
        self.score = 0.0
        self.value: float | None = None
        self.sampled_at: float | None = None
        self.anomalous_at: float | None = None
        self.anomalous_score = 0.0  # the score of the sample at anomalous_at
        self.anomalous_until = -math.inf

    def sample(self, value: float, now: float, threshold: float, direction: str, hold: float) -> float:
        """Fold in one sample; returns its score. An anomalous sample on the watched side holds the
        condition until ``now + hold``."""
        score = self.detector.update(value)
        side_ok = (
            direction == "both" or self.mean is None
            or (value > self.mean if direction == "up" else value < self.mean)
        )
        self.mean = value if self.mean is None else self.mean + 0.05 * (value - self.mean)
        self.score, self.value, self.sampled_at = score, value, now
        if score >= threshold and side_ok:
            self.anomalous_at, self.anomalous_until, self.anomalous_score = now, now + hold, score
        return score


class ForecastStream:
    """One label group of a forecast rule: a Holt trend of the rule's value and the breach it predicts."""

    def __init__(self) -> None:
        from recoup.analytics.forecast import Breach, HoltForecaster  # lazy: the analytics layer

        self.forecaster = HoltForecaster()
        self.breach: Breach | None = None
        self.value: float | None = None
        self.sampled_at: float | None = None

    def sample(self, value: float, now: float, threshold: float, above: bool, horizon: float,
               min_history: int) -> None:
        self.forecaster.update(now, value)
        self.value, self.sampled_at = value, now
        enough = self.forecaster.samples >= min_history
        self.breach = self.forecaster.warn(threshold, horizon, above) if enough else None
