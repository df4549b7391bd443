"""The incident engine of one `recoup serve` process: the pieces of `recoup.incidents` wired into a single
flow, with one rule about threads.

    ingest ack ──observe_events──► Evaluator.observe ──transitions──┐   (event loop: instant detection)
    timer ───────────────────────► Evaluator.tick ──────────────────┤
    Alertmanager webhook ─────────► external transitions ───────────┤
                                                                    ▼
                    one worker thread, one batch at a time: Router (grouping, inhibition, silences)
                                                            IncidentManager (declare, escalate, RTO)
                                                                    │ notices
                                                                    ▼
                                              NotificationQueue (durable) ──► NotificationWorker (async)

The evaluator lives in the event loop: it is pure in-memory work, cheap per observation, and that is what makes
detection immediate. Routing and incidents write to the store, so they run in a worker thread, serialised by
a lock; API calls that change them (acknowledge, silence, declare) take the same lock.

Recovery: the same observations also feed a `RecoveryWatch` (the rules over a short recovery window). Each pass
asks it which open incidents' signals are healthy again, records confirmed recoveries (``recovered_at``, what
the RTO is measured to) before the RTO check, and holds back the RTO breach of an incident healthy since before
its deadline until that is confirmed or broken."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from recoup.incidents.config import IncidentsConfig
from recoup.incidents.evaluator import Evaluator
from recoup.incidents.external import transitions_from_alertmanager
from recoup.incidents.incidents import IncidentManager
from recoup.incidents.model import AlertTransition, Notice
from recoup.incidents.notify import Delivery, NotificationQueue, NotificationWorker
from recoup.incidents.recovery_watch import RecoveryProbe, RecoveryWatch
from recoup.incidents.routing import Router
from recoup.incidents.signals import Observation, observe
from recoup.incidents.silences import SqlSilenceStore
from recoup.store import NewEvent, Store, StoreError
from recoup.store.values import NewAlert

_log = logging.getLogger(__name__)
T = TypeVar("T")
_MAX_UNFILED = 10_000  # transitions kept for the incident manager while the database is away
_WARN_EVERY = 60.0
#: Events whose actions are recovery actions on an incident's timeline.
_RECOVERY_TYPES = frozenset({"recovery_outcome", "breaker_transition"})

#: Called with every batch of transitions (after routing and incidents saw them): metrics, tests, benchmarks.
TransitionListener = Callable[[Sequence[AlertTransition]], None]


class ConfiguredSink:
    """The NoticeSink routing and incidents use: forwards to the durable queue the receivers that have
    channels, and counts the rest (the shipped routing names ``default`` and ``oncall``, which have no
    channel until the configuration gives them one)."""

    def __init__(self, queue: NotificationQueue, receivers: Sequence[str]) -> None:
        self.queue = queue
        self.receivers = frozenset(receivers)
        self.unrouted: dict[str, int] = {}
        self.sent: list[tuple[float, Notice, tuple[str, ...]]] = []

    def enqueue(self, notice: Notice, receivers: Sequence[str]) -> None:
        known = [r for r in receivers if r in self.receivers]
        for r in receivers:
            if r not in self.receivers:
                self.unrouted[r] = self.unrouted.get(r, 0) + 1
        if known:
            self.queue.enqueue(notice, known)


class IncidentEngine:
    def __init__(
        self,
        store: Store,
        config: IncidentsConfig,
        *,
        clock: Callable[[], float] = time.time,
        evaluation_interval: float = 1.0,
        project_label: Callable[[int], str] = str,
        url: Callable[[int], str] | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.evaluation_interval = evaluation_interval
        self.project_label = project_label
        self.queue = NotificationQueue(store, clock=clock, config=config.notify)
        self.sink = ConfiguredSink(self.queue, config.notify.names())
        self.evaluator = Evaluator(config.rules, clock=clock)
        self.silences = SqlSilenceStore(store, clock=clock, load=False)
        self.router = Router(config.routing, clock=clock, silences=self.silences, sink=self.sink)
        rto = config.policy.rto
        window = rto.recovery_window(floor=2 * evaluation_interval)
        self.recovery = RecoveryWatch(RecoveryProbe(config.rules, window, clock=clock),
                                      stable_for=rto.stable_for(window))
        self.incidents = IncidentManager(store, config.policy, clock=clock, sink=self.sink, url=url,
                                         recovery_hint=self.recovery.healthy_since)
        self.worker = NotificationWorker(self.queue, config.notify, clock=clock, on_delivered=self._delivered)
        self.listeners: list[TransitionListener] = []
        self._pending: list[AlertTransition] = []
        self._external: list[AlertTransition] = []
        self._unfiled: list[AlertTransition] = []
        self._recoveries: dict[tuple[int, str], dict[str, int]] = {}  # transitions the incident manager has yet to take
        self._last_warning = float("-inf")
        self._due: float | None = None  # the earliest time routing or incidents need a pass
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.observations = 0
        self.transitions = 0
        self.errors = 0

    def _delivered(self, delivery: Delivery, delivered_at: float) -> None:
        """A notice reached its receiver: the incident it belongs to records it on its timeline."""
        incident_id = delivery.payload.get("incident_id")
        if isinstance(incident_id, int):
            self.incidents.record_notification(incident_id, delivery.receiver, delivered_at, key=delivery.notice_key)

    # -- inputs -----------------------------------------------------------------------------------------

    def observe_events(self, project_id: int, events: Sequence[NewEvent]) -> None:
        """The ingest observer (`recoup.server.observers.EventObserver`): runs in the event loop."""
        from recoup.server.observers import telemetry_view

        project = self.project_label(project_id)
        observations: list[Observation] = []
        for event in events:
            view = telemetry_view(event)
            observations.extend(observe(view, project=project))
            if view.get("type") in _RECOVERY_TYPES and view.get("outcome") != "succeeded":
                self._note_recovery(project_id, view)
        self.observe(observations)

    def _note_recovery(self, project_id: int, view: Mapping[str, Any]) -> None:
        """Count what recovery did, per service, for the timelines of that service's open incidents (one
        summary entry per pass, not one per event)."""
        tags = view.get("tags")
        service = str(view.get("service") or (tags.get("service", "") if isinstance(tags, Mapping) else ""))
        if view.get("type") == "breaker_transition":
            action = f"breaker {view.get('breaker', '')} {view.get('from_state', '')} -> {view.get('to_state', '')}"
        else:
            action = f"{view.get('strategy', '')}: {view.get('outcome', '')}"
        per_service = self._recoveries.setdefault((project_id, service), {})
        per_service[action] = per_service.get(action, 0) + 1

    def observe(self, observations: Sequence[Observation]) -> None:
        self.observations += len(observations)
        self.recovery.observe(observations)
        transitions = self.evaluator.observe(observations)
        if transitions:
            self._queue(transitions)

    def alertmanager_alerts(self, alerts: Sequence[NewAlert], project_id: int | None = None) -> None:
        """Alerts Prometheus fired, delivered by Alertmanager's webhook: they open and resolve incidents
        like recoup's own (Alertmanager already notified its receivers, so they skip recoup's routing).
        ``project_id`` is the project whose key posted them (None for an admin token)."""
        project = None if project_id is None else self.project_label(project_id)
        transitions = transitions_from_alertmanager(alerts, now=self.clock(), project=project)
        if transitions:
            self._external.extend(transitions)
            self._wake.set()

    def _queue(self, transitions: Sequence[AlertTransition]) -> None:
        self._pending.extend(transitions)
        self._wake.set()

    # -- the loop ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self._run(), name="recoup-incidents"),
            asyncio.create_task(self.worker.run(self._stop), name="recoup-notify"),
        ]

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:
                _log.exception("incident engine task %s failed while stopping", task.get_name())
        self._tasks = []
        await self.worker.aclose()

    def _next_wait(self) -> float:
        now = self.clock()
        due = now + self.evaluation_interval
        if self._due is not None:
            due = min(due, self._due)
        return max(0.0, due - now)

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._next_wait())
            self._wake.clear()
            try:
                await self.step()
            except StoreError as exc:
                self.errors += 1
                if time.monotonic() - self._last_warning > _WARN_EVERY:  # one line per outage, not one per tick
                    self._last_warning = time.monotonic()
                    _log.warning("incident engine: the store failed (%s); retrying every tick", exc)
            except Exception:
                self.errors += 1
                _log.exception("incident engine: a step failed; retrying on the next tick")

    async def step(self) -> None:
        """One pass: the evaluator's time-driven work (in the loop), then routing and incidents (in a thread)."""
        transitions = self._pending + self.evaluator.tick()
        self._pending = []
        external, self._external = self._external, []
        async with self._lock:
            await asyncio.to_thread(self._process, transitions, external)

    def _process(self, transitions: list[AlertTransition], external: list[AlertTransition]) -> None:
        if transitions:
            self.transitions += len(transitions)
            self.router.on_transitions(transitions)  # in memory; its notices retry by themselves
        for_incidents = [*self._unfiled, *transitions, *external]
        if for_incidents:
            try:
                self.incidents.on_transitions(for_incidents)  # one transaction: all of it or nothing
            except Exception:
                # Keep them for the next pass (the database may be away): an alert must not lose its incident.
                self._unfiled = for_incidents[-_MAX_UNFILED:]
                raise
            self._unfiled = []
        self._file_recoveries()
        self._watch_recovery()
        self.router.tick()
        self.incidents.tick(recovering=self.recovery.pending())
        self._due = self._earliest_due()
        if transitions:
            for listener in self.listeners:
                listener(transitions)

    def _file_recoveries(self) -> None:
        """Recovery actions seen since the last pass go on the timeline of each open incident of their service
        (and project, when the incident has one)."""
        if not self._recoveries:
            return
        taken, self._recoveries = self._recoveries, {}
        open_incidents = [i for i in self.incidents.list_incidents(limit=1000) if i.is_open]
        for (project_id, service), actions in taken.items():
            if not service:
                continue
            summary = ", ".join(f"{n}x {action}" for action, n in sorted(actions.items()))
            for incident in open_incidents:
                if service in incident.services and incident.project_id in (None, project_id):
                    self.incidents.record_recovery_action(
                        incident.id, f"{service}: {summary}", {"service": service, "actions": actions}
                    )

    def _watch_recovery(self) -> None:
        """Record the recoveries the watch confirms (each open incident judged once per pass)."""
        now = self.clock()
        for recovery in self.recovery.update(self.incidents.open_incidents(), now):
            self.incidents.record_recovery(recovery.incident_id, recovery.recovered_at, recovery.evidence)

    def _earliest_due(self) -> float | None:
        waiting = self.recovery.pending()
        candidates = [t for t in (self.router.next_due(), self.incidents.next_due(exclude=waiting),
                                  self.recovery.next_due()) if t is not None]
        return min(candidates) if candidates else None

    async def call(self, work: Callable[[], T]) -> T:
        """Run ``work`` (an API change to routing, silences or incidents) in a thread, between passes."""
        async with self._lock:
            result = await asyncio.to_thread(work)
            self._due = await asyncio.to_thread(self._earliest_due)
        self._wake.set()
        return result

    # -- what the API shows -------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {
            "rules": len(self.config.rules.rules),
            "observations": self.observations,
            "transitions": self.transitions,
            "errors": self.errors,
            "unrouted_notices": dict(self.sink.unrouted),
        }
