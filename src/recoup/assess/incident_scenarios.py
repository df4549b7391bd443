"""What every incident scenario shares: the local dependency it breaks, how its telemetry reaches its own
project on the server, the watcher that sees alerts fire, and the measurement of one scenario's run.

A scenario (`recoup.assess.scenario_faults`) drives real library components, switches its fault on at
``t0``, waits for the server to declare an incident, heals at ``t_heal`` and waits for the incident to
resolve. `measure` then reads what the server and the local receiver saw:

* detection: ``t0`` -> the alert's ``fired_at`` (from ``/api/v1/alerts/live``, polled by `AlertWatcher`;
  when an alert fired and vanished between two polls, the incident timeline's ``alert_firing`` entry);
* severity path: the states and severities the alert went through (polled), then ``resolved``;
* incident: declared or not, ``declared_at`` - ``t0``; escalation steps and RTO breaches from the timeline;
* notifications: deliveries the local receiver verified (HMAC signature) for this scenario's project or
  incidents: count, kinds, first arrival - ``t0``;
* restoration: ``t_heal`` -> the incident's ``recovered_at`` (when the server saw the service's own signals
  healthy again, `recoup.incidents.recovery_watch`); resolution: ``t_heal`` -> ``resolved_at``, which lags it by
  the alerts' windows;
* RTO: the incident's (scaled) target against declared -> ``recovered_at``, the server's own verdict
  (``times.rto``); an RTO breach the server recorded (``rto_breached_at``) is reported with when it was.

Each scenario sends to its own project, so incidents of one never absorb alerts of another (the incident
manager relates alerts by project)."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from recoup.assess.receiver import Delivery, WebhookReceiver
from recoup.telemetry.events import TelemetryEvent

if TYPE_CHECKING:
    import httpx

    from recoup.telemetry.http_sink import HttpSink

# -- the local dependency ----------------------------------------------------------------------------------

#: Behaviours of a `Dependency` path: answer 200; answer 503; per ``?op=`` id, 503 to the first request and
#: 200 to the next after `Dependency.slow_seconds` (a recovery that succeeds, but slowly).
MODES = ("ok", "fail", "fail-once-then-slow")


class Dependency:
    """An HTTP service on 127.0.0.1 the scenarios' services call; each path has a switchable mode."""

    def __init__(self, *, slow_seconds: float = 0.1) -> None:
        self.slow_seconds = slow_seconds
        self._lock = threading.Lock()
        self._modes: dict[str, str] = {}
        self._seen_ops: set[str] = set()
        self.requests = 0
        dependency = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                status, delay = dependency._answer(self.path)
                if delay:
                    time.sleep(delay)
                body = b"ok" if status == 200 else b"unavailable"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="recoup-assess-dependency", daemon=True)

    def set_mode(self, path: str, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {', '.join(MODES)}, got {mode!r}")
        with self._lock:
            self._modes[path] = mode

    def _answer(self, raw_path: str) -> tuple[int, float]:
        parts = urlsplit(raw_path)
        with self._lock:
            self.requests += 1
            mode = self._modes.get(parts.path, "ok")
            if mode == "ok":
                return 200, 0.0
            if mode == "fail":
                return 503, 0.0
            op = parse_qs(parts.query).get("op", [""])[0]
            key = f"{parts.path}?{op}"
            if key in self._seen_ops:
                self._seen_ops.discard(key)
                return 200, self.slow_seconds
            self._seen_ops.add(key)
            return 503, 0.0

    def __enter__(self) -> Dependency:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- telemetry to a scenario's project -----------------------------------------------------------------------


class ServiceSink:
    """The sink one service's library components emit to: stamps the service (as the ``service`` tag, which
    the server reads when an event has no ``service`` field) and hands the event to the project's HttpSink."""

    def __init__(self, sink: HttpSink, service: str) -> None:
        self.sink = sink
        self.service = service

    def emit(self, event: TelemetryEvent) -> None:
        self.sink.emit(dataclasses.replace(event, tags={**event.tags, "service": self.service}))


class PolicyRouter:
    """The one sink `recoup.telemetry.bridge_policy_events` feeds while scenarios run side by side: policy
    events are process-wide, so each converted event goes to the sink registered for its breaker or
    operation name (the name a scenario gave its policy); events of other policies are counted and dropped."""

    def __init__(self) -> None:
        self._routes: dict[str, ServiceSink] = {}
        self._lock = threading.Lock()
        self.unrouted = 0

    def route(self, name: str, sink: ServiceSink) -> None:
        with self._lock:
            self._routes[name] = sink

    def emit(self, event: TelemetryEvent) -> None:
        name = getattr(event, "breaker", None) or getattr(event, "operation", None)
        with self._lock:
            sink = self._routes.get(str(name)) if name else None
            if sink is None:
                self.unrouted += 1
        if sink is not None:
            sink.emit(event)

    def flush(self, timeout: float | None = None) -> bool:
        """Nothing is held here: each scenario's HttpSink is flushed by the phase."""
        return True

    def close(self, timeout: float | None = None) -> None:
        """The phase closes the HttpSinks behind the routes."""


# -- watching the server -------------------------------------------------------------------------------------


@dataclass
class AlertTrace:
    """What polling saw of one alert (one fingerprint): first sighting, ``fired_at``, the states and
    severities it went through, and when it was last seen live."""

    rule: str
    project: str
    labels: dict[str, str]
    first_seen: float
    fired_at: float | None = None
    path: list[str] = field(default_factory=list)
    last_seen: float = 0.0
    gone_at: float | None = None  # first poll it was no longer live, after being live

    def step(self, state: str, severity: str) -> None:
        label = "pending" if state == "pending" else severity
        if not self.path or self.path[-1] != label:
            self.path.append(label)


class AlertWatcher:
    """Polls ``/api/v1/alerts/live`` every ``interval`` seconds from a thread and keeps an `AlertTrace` per
    fingerprint (a live alert's ``fired_at`` is only readable while it is live)."""

    def __init__(self, client: httpx.Client, *, interval: float = 0.05, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._traces: dict[str, AlertTrace] = {}
        self._stop = threading.Event()
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="recoup-assess-alert-watcher", daemon=True)

    def _poll(self) -> None:
        answer = self._client.get("/api/v1/alerts/live")
        if answer.status_code != 200:
            raise RuntimeError(f"GET /api/v1/alerts/live: HTTP {answer.status_code} {answer.text[:200]}")
        now = self._clock()
        live: set[str] = set()
        with self._lock:
            for alert in answer.json().get("alerts", []):
                fingerprint = str(alert["fingerprint"])
                live.add(fingerprint)
                labels = {str(k): str(v) for k, v in dict(alert.get("labels") or {}).items()}
                trace = self._traces.get(fingerprint)
                if trace is None or trace.gone_at is not None:
                    # a new episode of the same alert starts a new trace only if the old one never fired
                    if trace is None or trace.fired_at is None:
                        trace = AlertTrace(str(alert["rule"]), labels.get("project", ""), labels, now)
                        self._traces[fingerprint] = trace
                    trace.gone_at = None
                if trace.fired_at is None and alert.get("fired_at") is not None:
                    trace.fired_at = float(alert["fired_at"])
                trace.step(str(alert.get("state", "")), str(alert.get("severity", "")))
                trace.last_seen = now
            for fingerprint, trace in self._traces.items():
                if fingerprint not in live and trace.gone_at is None:
                    trace.gone_at = now

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll()
            except Exception as exc:  # a failed poll is a gap in the record, said in the report
                if len(self.errors) < 20:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(self._interval)

    def traces(self, project: str, rule: str | None = None) -> list[AlertTrace]:
        with self._lock:
            return [dataclasses.replace(t, path=list(t.path)) for t in self._traces.values()
                    if t.project == project and (rule is None or t.rule == rule)]

    def start(self) -> AlertWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)


# -- one scenario -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What a scenario must show to pass. None: not judged (measured and reported only)."""

    detected: bool = True
    declared: bool = True
    notified: bool = True
    recovered: bool = True  # the incident resolves after the fault is cleared
    escalation_notice: bool | None = None
    rto_breached: bool | None = None
    severities: tuple[str, ...] = ()  # must all appear in the alert's severity path, in this order

    def describe(self) -> str:
        parts = []
        parts.append("detected" if self.detected else "not detected")
        parts.append("incident declared" if self.declared else "no incident")
        if self.severities:
            parts.append(" → ".join(self.severities))
        if self.notified:
            parts.append("notified")
        if self.escalation_notice:
            parts.append("escalation notice delivered")
        if self.rto_breached is not None:
            parts.append("RTO breached" if self.rto_breached else "RTO met")
        if self.recovered:
            parts.append("recovers")
        return ", ".join(parts)


@dataclass
class ScenarioEnv:
    """What a scenario driver gets: its project's sink, the server's admin API, the shared dependency, the
    policy-event router, and the timing of the scaled rules."""

    name: str
    project_id: int
    project: str  # the project label alerts carry
    sink: HttpSink
    client: httpx.Client
    dependency: Dependency
    router: PolicyRouter
    factor: float
    db_url: str | None
    work_dir: Path  # files the scenarios make (the pool scenario's SQLite database, the child's held file)
    ingest_key: str
    server_url: str
    incident_type: str
    rule: str  # the alert rule the scenario is built to trip
    watcher: AlertWatcher
    poll_interval: float = 0.1
    notes: list[str] = field(default_factory=list)

    def service_sink(self, service: str) -> ServiceSink:
        return ServiceSink(self.sink, service)

    def scaled(self, seconds: float) -> float:
        """A shipped-rule duration at this run's factor."""
        return seconds * self.factor

    def incidents(self) -> list[dict[str, Any]]:
        answer = self.client.get("/api/v1/incidents", params={"project_id": self.project_id, "limit": 100})
        if answer.status_code != 200:
            raise RuntimeError(f"GET /api/v1/incidents: HTTP {answer.status_code} {answer.text[:200]}")
        found: list[dict[str, Any]] = answer.json()["incidents"]
        return sorted(found, key=lambda i: (i["declared_at"], i["id"]))

    def primary(self) -> dict[str, Any] | None:
        """This scenario's incident: the first holding its rule's alert (another rule of the same service may
        have declared it first), else the first of its incident type, else the first at all."""
        found = self.incidents()
        holding = [i for i in found if any(a.get("alertname") == self.rule for a in i.get("alerts", []))]
        typed = [i for i in found if i.get("incident_type") == self.incident_type]
        chosen = holding or typed or found
        return chosen[0] if chosen else None

    def fired(self, since: float) -> bool:
        """The scenario's rule fired for its project at or after ``since`` (epoch seconds)."""
        return any(t.fired_at is not None and t.fired_at >= since - 0.5
                   for t in self.watcher.traces(self.project, self.rule))

    def wait(self, check: Callable[[], Any], timeout: float, stop: threading.Event | None = None) -> Any:
        """Poll ``check`` until it returns something truthy (returned) or ``timeout`` passes (None)."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                return None
            time.sleep(self.poll_interval)

    def wait_declared(self, timeout: float, since: float) -> dict[str, Any] | None:
        """Wait until the scenario's rule has fired (since ``since``) and an incident holds its alert."""
        def declared() -> dict[str, Any] | None:
            if not self.fired(since):
                return None
            incident = self.primary()
            holds = incident is not None and any(a.get("alertname") == self.rule for a in incident.get("alerts", []))
            return incident if holds else None

        incident: dict[str, Any] | None = self.wait(declared, timeout)
        return incident

    def wait_resolved(self, incident_id: int, timeout: float) -> dict[str, Any] | None:
        def resolved() -> dict[str, Any] | None:
            answer = self.client.get(f"/api/v1/incidents/{incident_id}")
            data: dict[str, Any] = answer.json() if answer.status_code == 200 else {}
            return data if data.get("status") == "resolved" else None

        result: dict[str, Any] | None = self.wait(resolved, timeout)
        return result


@dataclass
class Marks:
    """The times a driver took (epoch seconds): fault switched on, fault cleared."""

    t0: float | None = None
    t_heal: float | None = None
    notes: list[str] = field(default_factory=list)


#: How much earlier than the fault's clearing a restoration may be recorded, as a share of the RTO target,
#: before the judge calls it wrong: a sparse failure signal (one slow recovery a second) ends at its last
#: failure, which can come a little before the fix.
RESTORE_SLACK = 0.25
#: ...and never less than this many seconds: at the small time scales the tests run at (a 30 s target scaled to
#: 0.25 s) a share of the target is shorter than the scenarios' own grain (a pool scenario's connections are held
#: 100-300 ms, so its last timeout can come that long before the fix) and than scheduling noise on 2 loaded cores.
RESTORE_SLACK_FLOOR_SECONDS = 0.2


def _since(later: float | None, earlier: float | None) -> float | None:
    return None if later is None or earlier is None else later - earlier


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def measure(env: ScenarioEnv, marks: Marks, *, expected: Expectation, receiver: WebhookReceiver) -> dict[str, Any]:
    """The scenario's figures and its pass/fail against ``expected`` (JSON-ready)."""
    t0 = marks.t0
    rule, watcher = env.rule, env.watcher
    incidents = env.incidents()
    primary = env.primary()
    detail: dict[str, Any] = {}
    if primary is not None:
        answer = env.client.get(f"/api/v1/incidents/{primary['id']}")
        detail = answer.json() if answer.status_code == 200 else {}
    timeline: list[dict[str, Any]] = list(detail.get("timeline", []))

    traces = sorted(watcher.traces(env.project, rule), key=lambda t: t.first_seen)
    fired = [t for t in traces if t.fired_at is not None and (t0 is None or t.fired_at >= t0 - 1.0)]
    fired_at: float | None = fired[0].fired_at if fired else None
    detected_by = "alerts/live fired_at" if fired_at is not None else None
    if fired_at is None:
        firing = [e for e in timeline if e["kind"] == "alert_firing" and dict(e.get("data") or {}).get(
            "labels", {}).get("alertname") == rule]
        if firing:
            fired_at, detected_by = float(firing[0]["at"]), "incident timeline alert_firing"
    path = list(fired[0].path) if fired else []
    # A severity the alert held between two polls is still on the incident's timeline: add it in its place.
    for severity in _timeline_severities(timeline, rule):
        if severity not in path:
            path.append(severity)
    resolved_on_timeline = any(e["kind"] == "alert_resolved" and str(e.get("text", "")).startswith(f"{rule} resolved")
                               for e in timeline)
    if path and ((fired and fired[0].gone_at is not None) or resolved_on_timeline):
        path.append("resolved")

    ids = {i["id"] for i in incidents}
    deliveries = [d for d in receiver.deliveries() if _belongs(d, ids, env.project)]
    first_delivery = min((d.at for d in deliveries), default=None)
    by_kind: dict[str, int] = {}
    by_receiver: dict[str, int] = {}
    for d in deliveries:
        by_kind[d.kind] = by_kind.get(d.kind, 0) + 1
        by_receiver[d.receiver] = by_receiver.get(d.receiver, 0) + 1
    primary_id = primary["id"] if primary else None
    escalation_notices = [d for d in deliveries if d.kind == "escalation" and d.incident_id == primary_id]

    escalations = [
        {"after_seconds": _round(_since(float(e["at"]), t0)), "kind": e["kind"], "text": e["text"]}
        for e in timeline if e["kind"] in ("escalation_step", "rto_breached")
    ]
    declared_at = float(primary["declared_at"]) if primary else None
    resolved_at = detail.get("resolved_at") if detail else None
    restored_at = detail.get("recovered_at") if detail else None
    target = float(primary["rto_target_seconds"]) if primary else None
    times = dict(detail.get("times") or {}) if detail else {}
    verdict = times.get("rto") if primary else None
    breach_recorded_at = detail.get("rto_breached_at") if detail else None
    recovered_in = _since(resolved_at, marks.t_heal)
    restored_in = _since(restored_at, marks.t_heal)
    restored_entries = [e for e in timeline if e["kind"] == "recovered"]
    restored_by = str(dict(restored_entries[0].get("data") or {}).get("source", "")) if restored_entries else None
    incident_severities = [str(e.get("data", {}).get("severity")) for e in timeline if e["kind"] == "declared"]
    if any(e["kind"] == "rto_breached" for e in timeline) and incident_severities[-1:] != ["critical"]:
        incident_severities.append("critical")

    result: dict[str, Any] = {
        "name": env.name,
        "rule": rule,
        "incident_type": env.incident_type,
        "project_id": env.project_id,
        "expected": expected.describe(),
        "fault_started_at": t0,
        "fault_seconds": _round(_since(marks.t_heal, t0)),
        "detected": fired_at is not None,
        "detection_seconds": _round(_since(fired_at, t0)),
        "detected_by": detected_by,
        "severity_path": path,
        "incident": {
            "declared": primary is not None,
            "id": primary_id,
            "declared_after_seconds": _round(_since(declared_at, t0)),
            "severity": detail.get("severity") if detail else None,
            "severity_path": incident_severities,
            "status": detail.get("status") if detail else None,
            "alerts": sorted({a.get("alertname", "") for a in detail.get("alerts", [])}) if detail else [],
        },
        "other_incidents": [
            {"id": i["id"], "incident_type": i.get("incident_type"), "title": i.get("title")}
            for i in incidents if i["id"] != primary_id
        ],
        "escalations": escalations,
        "escalation_notices_delivered": len(escalation_notices),
        "notifications": {
            "delivered": len(deliveries),
            "first_after_seconds": _round(_since(first_delivery, t0)),
            "by_kind": by_kind,
            "by_receiver": by_receiver,
            "signatures_verified": all(d.verified for d in deliveries),
        },
        "recovered": resolved_at is not None,
        "recovered_seconds": _round(recovered_in),
        "restored": restored_at is not None,
        "restored_seconds": _round(restored_in),
        "restored_by": restored_by,
        "rto": {
            "target_seconds": _round(target),
            "measured": "declared_at → recovered_at",
            "restored_after_seconds": _round(times.get("restore")),
            "fault_held_after_declared_seconds": _round(_since(marks.t_heal, declared_at)),
            "breached": verdict == "breached",
            "met": None if primary is None else verdict == "met",
            "breach_recorded_after_seconds": _round(_since(breach_recorded_at, declared_at)),
            "incident_open_seconds": _round(_since(resolved_at, declared_at)),
        },
        "unscaled_seconds": {
            "detection": _round(None if fired_at is None or t0 is None else (fired_at - t0) / env.factor),
            "recovered": _round(None if recovered_in is None else recovered_in / env.factor),
            "restored": _round(None if restored_in is None else restored_in / env.factor),
            "restored_after_declared": _round(None if times.get("restore") is None
                                              else float(times["restore"]) / env.factor),
            "rto_target": _round(None if target is None else target / env.factor),
        },
        "notes": [*env.notes, *marks.notes],
    }
    failures = judge(result, expected)
    result["passed"] = not failures
    result["failures"] = failures
    return result


def _timeline_severities(timeline: list[dict[str, Any]], rule: str) -> list[str]:
    """The severities the timeline shows ``rule``'s alert firing at or escalating to, in order."""
    out: list[str] = []
    for entry in timeline:
        data = dict(entry.get("data") or {})
        labels = dict(data.get("labels") or {})
        if entry["kind"] == "alert_firing" and labels.get("alertname") == rule:
            out.append(str(labels.get("severity", "")))
        elif entry["kind"] == "alert_escalated" and str(entry.get("text", "")).startswith(f"{rule} escalated to "):
            out.append(str(entry["text"]).rsplit(" ", 1)[-1])
    return [s for i, s in enumerate(out) if s and s not in out[:i]]


def _belongs(delivery: Delivery, incident_ids: set[int], project: str) -> bool:
    if delivery.incident_id is not None:
        return delivery.incident_id in incident_ids
    if delivery.labels.get("project") == project:
        return True
    alerts = delivery.notice.get("alerts")
    return isinstance(alerts, list) and any(
        isinstance(a, Mapping) and dict(a.get("labels") or {}).get("project") == project for a in alerts
    )


def judge(result: Mapping[str, Any], expected: Expectation) -> list[str]:
    """Why ``result`` misses ``expected`` (empty when it meets it)."""
    out: list[str] = []
    incident = result["incident"]
    if result["detected"] != expected.detected:
        out.append(f"expected detected={expected.detected}, got {result['detected']}")
    if incident["declared"] != expected.declared:
        out.append(f"expected incident declared={expected.declared}, got {incident['declared']}")
    delivered = result["notifications"]["delivered"] > 0
    if expected.notified and not delivered:
        out.append("expected a notification delivered to the local receiver, none arrived")
    if expected.recovered and not result["recovered"]:
        out.append("expected the incident to resolve after the fault cleared; it did not within the time allowed")
    elif expected.recovered and (result["recovered_seconds"] or 0.0) < 0:
        out.append("the incident resolved while the fault was still on: its alerts stopped holding mid-fault")
    early, target = result.get("restored_seconds"), result["rto"].get("target_seconds")
    if early is not None and target is not None and early < -max(RESTORE_SLACK * target, RESTORE_SLACK_FLOOR_SECONDS):
        out.append(f"the server recorded the service restored {-early:.2f} s before the fault was cleared: its "
                   "recovery signal read a quiet moment as a recovery")
    if expected.escalation_notice and not result["escalation_notices_delivered"]:
        out.append("expected an escalation notice delivered to the local receiver, none arrived")
    if expected.rto_breached is not None and result["rto"]["breached"] != expected.rto_breached:
        out.append(f"expected rto breached={expected.rto_breached}, got {result['rto']['breached']}")
    path = list(result["severity_path"])
    position = 0
    for wanted in expected.severities:
        try:
            position = path.index(wanted, position) + 1
        except ValueError:
            out.append(f"expected severity path to pass through {' → '.join(expected.severities)}, got "
                       f"{' → '.join(path) or 'nothing'}")
            break
    return out


@contextlib.contextmanager
def running(threads: list[threading.Thread], stop: threading.Event) -> Iterator[None]:
    """Start ``threads``; on leaving, set ``stop`` and join them."""
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(10.0)
