"""The incident engine's state on /metrics: live alerts by state and severity, notifications by delivery
status (dead letters visible to Prometheus), and the engine's own counters. Read at scrape time."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from recoup.incidents.engine import IncidentEngine
from recoup.store import StoreError

_log = logging.getLogger(__name__)


class IncidentCollector(Collector):
    def __init__(self, engine: IncidentEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        engine = self.engine
        alerts = GaugeMetricFamily(
            "recoup_alerts_live", "Alerts of recoup's own rules now pending or firing.", labels=["state", "severity"]
        )
        for (state, severity), n in sorted(Counter(
            (a.state.value, a.severity.value) for a in engine.evaluator.alerts()
        ).items()):
            alerts.add_metric([state, severity], n)
        yield alerts
        deliveries = GaugeMetricFamily(
            "recoup_notifications", "Notification deliveries in the outbox by status (dead = dead letters).",
            labels=["status"],
        )
        try:
            for status, n in sorted(engine.queue.counts().items()):
                deliveries.add_metric([status], n)
        except StoreError as exc:  # the scrape still answers; the database error is visible elsewhere
            _log.warning("cannot count notifications for /metrics: %s", exc)
        yield deliveries
        yield CounterMetricFamily(
            "recoup_rule_observations", "Metric observations the rule evaluator received.", value=engine.observations
        )
        yield CounterMetricFamily(
            "recoup_alert_transitions", "Alert state and severity changes.", value=engine.transitions
        )
        yield CounterMetricFamily(
            "recoup_incident_engine_errors", "Engine passes that failed (and were retried).", value=engine.errors
        )
        unrouted = CounterMetricFamily(
            "recoup_notices_unrouted", "Notices for receivers that have no channel configured.", labels=["receiver"]
        )
        for receiver, n in sorted(engine.sink.unrouted.items()):
            unrouted.add_metric([receiver], n)
        yield unrouted
