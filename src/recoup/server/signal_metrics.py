"""The catalogue metrics (`recoup.incidents.catalogue`) as Prometheus series on recoup's ``/metrics``.

The same observations the in-process evaluator reads (`recoup.incidents.signals.observe`) feed these series,
so a rule exported as PromQL (`recoup.incidents.export`) sees what the in-process rule sees: "one rule, two
engines". Counters become ``<series>_total``, distributions histograms with buckets in seconds, gauges
gauges, and ``last_seen`` a timestamp gauge. Ratio metrics have no series of their own: PromQL divides
their counters. Every series is labelled with the catalogue labels plus ``project``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from recoup.incidents.catalogue import CATALOGUE, MetricKind, MetricSpec
from recoup.incidents.signals import Observation, observe
from recoup.server.observers import EventObserver, telemetry_view
from recoup.store import NewEvent

_log = logging.getLogger(__name__)

#: Histogram buckets for the distributions (recovery and response times): 5 ms to 10 minutes.
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


#: What one labelled child of a counter/gauge/histogram does with an observed value.
_Child = Callable[[float], None]


def label_names(spec: MetricSpec) -> tuple[str, ...]:
    """The label names of ``spec``'s series, sorted (as `Observation.labels` are): catalogue labels + project."""
    return tuple(sorted({*spec.labels, "project"}))


class SignalMetrics:
    """Prometheus series for every non-ratio catalogue metric, registered on ``registry``.

    Per observation the cost is one dict lookup (label tuple -> bound child) and one update; the children
    are cached because ``.labels()`` of prometheus_client takes a lock and builds a tuple every call."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._metrics: dict[str, Counter | Gauge | Histogram] = {}
        self._names: dict[str, tuple[str, ...]] = {}
        self._children: dict[tuple[str, tuple[tuple[str, str], ...]], _Child] = {}
        self._last_seen: dict[tuple[tuple[str, str], ...], float] = {}
        self._lock = threading.Lock()
        for spec in CATALOGUE.values():
            names = label_names(spec)
            doc = spec.description
            made: Counter | Gauge | Histogram
            if spec.kind is MetricKind.COUNTER:
                made = Counter(spec.series, doc, names, registry=registry)
            elif spec.kind is MetricKind.DISTRIBUTION:
                made = Histogram(spec.series, doc, names, buckets=SECONDS_BUCKETS, registry=registry)
            elif spec.kind in (MetricKind.GAUGE, MetricKind.STALENESS):
                made = Gauge(spec.series, doc, names, registry=registry)
            else:  # RATIO: PromQL divides the numerator and denominator counters
                continue
            self._metrics[spec.name] = made
            self._names[spec.name] = names

    def _child(self, obs: Observation) -> _Child | None:
        key = (obs.metric, obs.labels)
        cached = self._children.get(key)
        if cached is not None:
            return cached
        metric = self._metrics.get(obs.metric)
        if metric is None:
            return None
        names = self._names[obs.metric]
        given = obs.label_dict
        bound = metric.labels(*(given.get(name, "") for name in names))
        child: _Child
        if isinstance(bound, Counter):
            child = bound.inc
        elif isinstance(bound, Histogram):
            child = bound.observe
        elif CATALOGUE[obs.metric].kind is MetricKind.STALENESS:
            child = self._seen(bound, obs.labels)
        else:
            child = bound.set
        self._children[key] = child
        return child

    def _seen(self, gauge: Gauge, labels: tuple[tuple[str, str], ...]) -> _Child:
        def seen(value: float) -> None:
            # events can arrive out of order (spool replay, batching): keep the latest time seen
            if value > self._last_seen.get(labels, float("-inf")):
                self._last_seen[labels] = value
                gauge.set(value)

        return seen

    def observe(self, observations: Iterable[Observation]) -> None:
        """Apply ``observations`` to the series (unknown metric names are ignored: ratios have no series)."""
        with self._lock:
            for obs in observations:
                child = self._child(obs)
                if child is None:
                    continue
                if obs.value < 0 and CATALOGUE[obs.metric].kind is MetricKind.COUNTER:
                    _log.warning("ignoring a negative increment %r of counter %s", obs.value, obs.metric)
                    continue
                child(obs.value)

    def observer(self, project_names: Callable[[int], str]) -> EventObserver:
        """An `recoup.server.observers.EventObserver` feeding these series: each stored event, as its
        telemetry view, observed with the name of its project (``project_names(project_id)``)."""

        def on_events(project_id: int, events: Sequence[NewEvent]) -> None:
            project = project_names(project_id)
            batch: list[Observation] = []
            for event in events:
                batch.extend(observe(telemetry_view(event), project=project))
            self.observe(batch)

        return on_events


class ProjectNames:
    """``project id -> name`` from the store, cached: names feed the ``project`` label and observers run in
    the event loop, so the database is asked once per project. A project that cannot be looked up is
    labelled with its id (and logged), so its events still count."""

    def __init__(self, lookup: Callable[[int], str | None]) -> None:
        self._lookup = lookup
        self._cache: dict[int, str] = {}

    def __call__(self, project_id: int) -> str:
        name = self._cache.get(project_id)
        if name is not None:
            return name
        try:
            found = self._lookup(project_id)
        except Exception:
            _log.exception("cannot look up the name of project %s; labelling its series with the id", project_id)
            return str(project_id)  # not cached: the next batch tries again
        name = found if found else str(project_id)
        self._cache[project_id] = name
        return name
