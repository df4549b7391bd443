"""Detection and notification latency of recoup's in-process incident engine beside real Prometheus +
Alertmanager running recoup's exported rules, for the error-rate-spike scenario, in one run on one machine.

Method (one run; ``--repeat N`` does it N times on fresh processes and reports the median and the min):

1. A local HTTP receiver in this process timestamps every POST it gets (``time.time()``, the clock all
   processes here share). recoup's webhooks arrive under ``/recoup/<receiver>`` and are checked against
   their HMAC signature; Alertmanager's under ``/am/<receiver>``.
2. `recoup serve` runs as a subprocess on a fresh SQLite database, with ``--incidents-config`` giving the
   default rules (or ``--rules FILE``), the shipped routing and policy, and receivers ``oncall`` and
   ``default`` = signed webhooks to the receiver. The project comes from `recoup projects create`, the admin
   token from ``RECOUP_ADMIN_TOKEN``.
3. Real Prometheus scrapes recoup's ``/metrics`` and evaluates the rules of `recoup export
   prometheus-rules`; real Alertmanager runs the config of `recoup export alertmanager`, mirroring the same
   routing tree, its ``oncall``/``default`` channels being webhooks to the receiver. Production settings,
   shown in the output: scrape and evaluation interval 15s (Prometheus's own default is 1m; 15s is the
   common setting), the exported root ``group_wait`` (30s, Alertmanager's default) and the routing's page
   route ``group_wait`` (5s). Alertmanager also posts every alert to recoup's webhook (the exported config
   always does), so recoup opens or joins an incident from the Prometheus path too (reported as a bonus).
4. Traffic: a thread posts a native batch every 100 ms, ``--rate`` operations per second of service
   ``checkout``, ``--baseline`` of them with a ConnectionError (category network) that a retry recovered.
   The warm-up lasts until Prometheus holds at least two samples of every series the rule reads (so
   ``increase()`` has data) and the window holds ``min_count`` operations. At t0 the share of erroring
   operations jumps to ``--fault``; traffic goes on until both paths have notified, or ``--timeout``.
5. Measured from t0: *condition* = the rule's condition first holds (recoup: the alert's ``active_at``;
   Prometheus: its ``activeAt``); *detection* = the alert fires (recoup: ``fired_at`` from
   ``/api/v1/alerts/live``; Prometheus: polled every 100 ms on ``/api/v1/alerts``, timed by the rule's
   ``lastEvaluation`` of the evaluation that made it fire); *incident* = recoup's incident ``declared_at``
   (Prometheus path: when recoup attached Alertmanager's alert to an incident); *end to end* = the first
   notification about the alert arriving at the receiver. *notification* = end to end - detection.
   *data* = when an ideal evaluator could first see the fault: the trailing window of the traffic actually
   acknowledged crosses the threshold (a 5m window dilutes a jump, so this comes a few seconds after t0).

The dilution grows with the history in the window: after the ~20 s warm-up the 5m window crosses a few
seconds after t0; a service that ran 5 minutes at 1% errors (``--warmup 5m``) needs ~41 s of 30% errors
before its 5-minute ratio exceeds 5%. It is the rule's, and the same for both paths.

Target (issue 5): recoup end to end within 1 s plus the rule's ``for``, ahead of the Prometheus path. The
verdict is given from t0 and from the moment the data crosses the threshold.

    .venv/bin/python benchmarks/detection.py                          # one run, default rules, ~3 minutes
    .venv/bin/python benchmarks/detection.py --repeat 3 --json /tmp/detection.json
    .venv/bin/python benchmarks/detection.py --scrape-interval 5s --evaluation-interval 5s --group-wait 10s
    .venv/bin/python benchmarks/detection.py --page-group-wait 0s     # both routings page without waiting
    .venv/bin/python benchmarks/detection.py --warmup 5m              # a full window of history first (steady state)
    .venv/bin/python benchmarks/detection.py --rules my_rules.yaml --alert HighErrorRate
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detection_support import (  # the sibling module, found through the path set just above
    ArrivalReceiver,
    Process,
    Traffic,
    child_env,
    condition_holds_at,
    parse_project_create,
    recoup_command,
    run_checked,
    spawn,
    wait_ready,
)

from recoup.incidents.rules import Rule, RuleSet, default_rules, format_duration, load_rules, parse_duration

PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
DEFAULT_ROUTING = Path(__file__).resolve().parents[1] / "src" / "recoup" / "incidents" / "default_routing.yaml"
INGEST_KEY_ENV = "RECOUP_BENCH_INGEST_KEY"
POLL = 0.1
TARGET_SLACK = 1.0  # the "within 1 s plus the rule's for"


@dataclass(frozen=True)
class Options:
    rules: Path | None = None
    alert: str = "HighErrorRate"
    service: str = "checkout"
    rate: float = 50.0
    baseline: float = 0.01
    fault: float = 0.3
    scrape_interval: float = 15.0
    evaluation_interval: float = 15.0
    group_wait: float = 30.0
    page_group_wait: float | None = None  # None: the shipped routing's
    warmup: float = 0.0  # at least this long, beyond what Prometheus needs
    timeout: float = 240.0
    bonus_wait: float = 40.0  # after both paths notified, how long to wait for the Prometheus-path incident
    keep: bool = False


@dataclass
class RunResult:
    """One run; every time is seconds after t0 (None: not observed before the timeout)."""

    t0: float = 0.0
    warmup_s: float = 0.0
    data_crossed: float | None = None
    recoup_condition: float | None = None
    recoup_fired: float | None = None
    recoup_declared: float | None = None
    recoup_notified: float | None = None
    recoup_notified_kind: str = ""
    recoup_routed: float | None = None  # the routing's own "firing" notice (after group_wait)
    prom_condition: float | None = None
    prom_fired: float | None = None
    prom_fired_seen: float | None = None  # the poll that first saw it (fired + up to POLL)
    prom_notified: float | None = None
    prom_notified_receiver: str = ""
    prom_incident: float | None = None  # recoup attached Alertmanager's alert to an incident (bonus)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @staticmethod
    def minus(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a - b

    @property
    def recoup_notification(self) -> float | None:
        return self.minus(self.recoup_notified, self.recoup_fired)

    @property
    def prom_notification(self) -> float | None:
        return self.minus(self.prom_notified, self.prom_fired)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["recoup_notification"] = self.recoup_notification
        out["prom_notification"] = self.prom_notification
        return out


# -- setting up -----------------------------------------------------------------------------------------------


def ruleset(options: Options) -> RuleSet:
    return default_rules() if options.rules is None else load_rules(options.rules)


def routing_yaml(page_group_wait: float | None) -> str:
    """The shipped routing, with the critical (page) route's group_wait replaced when asked: one tree used
    by recoup and mirrored into Alertmanager, so both paths route alike."""
    data = yaml.safe_load(DEFAULT_ROUTING.read_text(encoding="utf-8"))
    if page_group_wait is not None:
        pages = [r for r in data["route"].get("routes", []) if 'severity="critical"' in r.get("matchers", [])]
        if not pages:
            raise ValueError(f"{DEFAULT_ROUTING}: no route matches severity=\"critical\" to set group_wait on")
        pages[0]["group_wait"] = format_duration(page_group_wait)
    return yaml.safe_dump(data, sort_keys=False)


def page_group_wait_of(routing_text: str) -> float:
    data = yaml.safe_load(routing_text)
    for route in data["route"].get("routes", []):
        if 'severity="critical"' in route.get("matchers", []) and "group_wait" in route:
            return parse_duration(route["group_wait"])
    return parse_duration(data["route"].get("group_wait", "30s"))


def write_configs(workdir: Path, options: Options, receiver: ArrivalReceiver) -> tuple[Path, Path, Path]:
    """incidents.yaml for recoup serve, channels.yaml for the Alertmanager export, routing.yaml for both."""
    routing = workdir / "routing.yaml"
    routing.write_text(routing_yaml(options.page_group_wait))
    incidents: dict[str, Any] = {
        "routing": str(routing),
        "receivers": [
            {"name": name, "webhook": {"url": f"{receiver.base}/recoup/{name}", "secret": receiver.secret}}
            for name in ("oncall", "default")
        ],
    }
    if options.rules is not None:
        incidents["rules"] = str(options.rules.resolve())
    incidents_path = workdir / "incidents.yaml"
    incidents_path.write_text(yaml.safe_dump(incidents, sort_keys=False))
    channels = {"channels": [{"name": name, "type": "webhook", "config": {"url": f"{receiver.base}/am/{name}"}}
                             for name in ("oncall", "default")]}
    channels_path = workdir / "channels.yaml"
    channels_path.write_text(yaml.safe_dump(channels, sort_keys=False))
    return incidents_path, channels_path, routing


def prometheus_config(options: Options, recoup_url: str, am_url: str, rules_path: Path) -> dict[str, Any]:
    return {
        "global": {
            "scrape_interval": format_duration(options.scrape_interval),
            "scrape_timeout": format_duration(min(10.0, options.scrape_interval)),
            "evaluation_interval": format_duration(options.evaluation_interval),
        },
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [am_url.removeprefix("http://")]}]}]},
        "rule_files": [str(rules_path)],
        "scrape_configs": [{"job_name": "recoup", "static_configs": [
            {"targets": [recoup_url.removeprefix("http://")]}]}],
    }


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- observing ------------------------------------------------------------------------------------------------


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def parse_time(text: str) -> float:
    """Prometheus's RFC 3339 times (nanoseconds; ``Z`` or an offset) as epoch seconds; ValueError otherwise."""
    m = _RFC3339.match(text)
    if m is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    whole, fraction, zone = m.groups()
    stamp = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone)).timestamp()
    return stamp + (float("0" + fraction) if fraction else 0.0)


def matches(labels: dict[str, Any], alert: str, service: str) -> bool:
    return labels.get("alertname") == alert and labels.get("service") == service


class Observer:
    """Polls recoup's API, Prometheus's API and the receiver, filling a RunResult (times after t0)."""

    def __init__(self, result: RunResult, options: Options, recoup_url: str, admin: str, prom_url: str,
                 receiver: ArrivalReceiver) -> None:
        self.result = result
        self.options = options
        self.recoup_url = recoup_url
        self.prom_url = prom_url
        self.receiver = receiver
        self.client = httpx.Client(timeout=5)
        self.admin = {"Authorization": f"Bearer {admin}"}
        self._last_incidents = 0.0

    def close(self) -> None:
        self.client.close()

    def since_t0(self, at: float) -> float:
        return at - self.result.t0

    def poll_recoup(self) -> None:
        r, o = self.result, self.options
        if r.recoup_fired is None:
            live = self.client.get(f"{self.recoup_url}/api/v1/alerts/live", headers=self.admin)
            live.raise_for_status()
            for alert in live.json()["alerts"]:
                if matches(alert["labels"], o.alert, o.service) and alert["state"] in ("pending", "firing"):
                    r.recoup_condition = self.since_t0(float(alert["active_at"]))
                    if alert.get("fired_at") is not None:
                        r.recoup_fired = self.since_t0(float(alert["fired_at"]))
        now = time.time()
        want_declared = r.recoup_fired is not None and r.recoup_declared is None
        want_bonus = r.prom_fired_seen is not None and r.prom_incident is None
        if (want_declared or want_bonus) and now - self._last_incidents >= 0.5:
            self._last_incidents = now
            answer = self.client.get(f"{self.recoup_url}/api/v1/incidents", headers=self.admin)
            answer.raise_for_status()
            for incident in answer.json()["incidents"]:
                ours = [a for a in incident["alerts"] if a["alertname"] == o.alert and a["service"] == o.service]
                if any(not a["fingerprint"].startswith("am:") for a in ours) and r.recoup_declared is None:
                    r.recoup_declared = self.since_t0(float(incident["declared_at"]))
                via_am = [a for a in ours if a["fingerprint"].startswith("am:")]
                if via_am and r.prom_incident is None:
                    r.prom_incident = self.since_t0(min(float(a["attached_at"]) for a in via_am))

    def poll_prometheus(self) -> None:
        r, o = self.result, self.options
        if r.prom_fired_seen is not None:
            return
        answer = self.client.get(f"{self.prom_url}/api/v1/alerts")
        answer.raise_for_status()
        seen = time.time()
        for alert in answer.json()["data"]["alerts"]:
            if not matches(alert["labels"], o.alert, o.service):
                continue
            r.prom_condition = self.since_t0(parse_time(alert["activeAt"]))
            if alert["state"] == "firing":
                r.prom_fired_seen = self.since_t0(seen)
                r.prom_fired = self.since_t0(self.prom_fire_time(seen))

    def prom_fire_time(self, seen: float) -> float:
        """When the firing evaluation ran: the rule's lastEvaluation (the poll time when unknown or stale)."""
        answer = self.client.get(f"{self.prom_url}/api/v1/rules", params={"type": "alert"})
        answer.raise_for_status()
        for group in answer.json()["data"]["groups"]:
            for rule in group["rules"]:
                if rule.get("name") == self.options.alert and rule.get("lastEvaluation"):
                    evaluated = parse_time(rule["lastEvaluation"])
                    if seen - evaluated <= POLL + self.options.evaluation_interval / 2:
                        return min(evaluated, seen)
        self.result.notes.append("Prometheus firing time taken from the poll (rule's lastEvaluation unusable)")
        return seen

    def poll_receiver(self) -> None:
        r, o, t0 = self.result, self.options, self.result.t0
        if r.recoup_notified is None:
            first = next((a for a in sorted(self.receiver.arrivals("/recoup/"), key=lambda a: a.at)
                          if a.at >= t0 and o.alert in a.alertnames()), None)
            if first is not None:
                r.recoup_notified, r.recoup_notified_kind = self.since_t0(first.at), first.kind
        if r.recoup_routed is None:
            routed = next((a for a in sorted(self.receiver.arrivals("/recoup/"), key=lambda a: a.at)
                           if a.at >= t0 and a.kind == "firing" and o.alert in a.alertnames()), None)
            if routed is not None:
                r.recoup_routed = self.since_t0(routed.at)
        if r.prom_notified is None:
            first = next((a for a in sorted(self.receiver.arrivals("/am/"), key=lambda a: a.at)
                          if a.at >= t0 and a.kind == "firing" and o.alert in a.alertnames()), None)
            if first is not None:
                r.prom_notified, r.prom_notified_receiver = self.since_t0(first.at), first.receiver

    def poll(self) -> None:
        self.poll_recoup()
        self.poll_prometheus()
        self.poll_receiver()

    def done(self, now: float) -> bool:
        r = self.result
        if r.recoup_notified is None or r.prom_notified is None or r.recoup_declared is None:
            return False
        if r.recoup_routed is None:
            return False
        return r.prom_incident is not None or now - (r.t0 + r.prom_notified) >= self.options.bonus_wait


def prometheus_samples(client: httpx.Client, prom_url: str, selectors: Sequence[str]) -> int:
    """The fewest samples any of ``selectors``'s series has over the last 5 minutes in Prometheus (0: none)."""
    fewest: int | None = None
    for selector in selectors:
        answer = client.get(f"{prom_url}/api/v1/query", params={"query": f"count_over_time({selector}[5m])"})
        answer.raise_for_status()
        values = [int(float(item["value"][1])) for item in answer.json()["data"]["result"]]
        count = min(values) if values else 0
        fewest = count if fewest is None else min(fewest, count)
    return fewest or 0


def warm_up(options: Options, rule: Rule, traffic: Traffic, prom_url: str) -> float:
    """Until Prometheus has ≥ 2 samples of the series the rule reads and the window holds min_count operations;
    how long it took (from the first batch)."""
    started = time.time()
    service = f'service="{options.service}"'
    selectors = [f"recoup_errors_total{{{service}}}", f"recoup_operations_total{{{service}}}"]
    limit = options.warmup + 4 * options.scrape_interval + 30
    with httpx.Client(timeout=5) as client:
        while True:
            elapsed = time.time() - started
            ops = sum(b.operations for b in traffic.batches)
            errors = sum(b.errors for b in traffic.batches)
            if (elapsed >= options.warmup and ops >= rule.min_count and errors > 0
                    and prometheus_samples(client, prom_url, selectors) >= 2):
                return elapsed
            if elapsed > limit:
                raise RuntimeError(f"warm-up: after {elapsed:.0f}s Prometheus still has < 2 samples of "
                                   f"{', '.join(selectors)} (traffic failures: {traffic.failures[:3]})")
            time.sleep(0.25)


# -- one run --------------------------------------------------------------------------------------------------


def run_once(options: Options, log: Callable[[str], None] = print) -> RunResult:
    rules = ruleset(options)
    rule = rules.by_name(options.alert)
    result = RunResult()
    workdir = Path(tempfile.mkdtemp(prefix="recoup-detection-"))
    receiver = ArrivalReceiver(secrets.token_hex(16)).start()
    processes: list[Process] = []
    traffic: Traffic | None = None
    observer: Observer | None = None
    try:
        incidents_path, channels_path, routing_path = write_configs(workdir, options, receiver)
        db = f"sqlite:///{workdir / 'recoup.db'}"
        project_id, ingest_key = parse_project_create(run_checked(
            recoup_command("projects", "create", "detection-bench", "--db", db), env=child_env()))
        admin = secrets.token_hex(16)
        port = free_port()
        recoup_url = f"http://127.0.0.1:{port}"
        recoup = spawn("recoup serve", recoup_command(
            "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port), "--spool-dir", str(workdir / "spool"),
            "--incidents-config", str(incidents_path), "--log-level", "warning"),
            workdir / "recoup.log", env=child_env(RECOUP_ADMIN_TOKEN=admin))
        processes.append(recoup)
        wait_ready(recoup, f"{recoup_url}/readyz")

        rules_args = [] if options.rules is None else ["--rules", str(options.rules)]
        prom_rules = workdir / "prometheus" / "rules.yml"
        run_checked(recoup_command("export", "prometheus-rules", *rules_args, "--out", str(prom_rules)),
                    env=child_env())
        am_config = workdir / "alertmanager" / "alertmanager.yml"
        run_checked(recoup_command(
            "export", "alertmanager", "--recoup-url", recoup_url, "--token-env", INGEST_KEY_ENV,
            "--channels", str(channels_path), "--routing", str(routing_path), *rules_args,
            "--group-wait", format_duration(options.group_wait), "--out", str(am_config)),
            env=child_env(**{INGEST_KEY_ENV: ingest_key}))

        am_url = f"http://127.0.0.1:{free_port()}"
        am = spawn("alertmanager", [
            ALERTMANAGER, f"--config.file={am_config}", f"--storage.path={workdir / 'alertmanager' / 'data'}",
            f"--web.listen-address={am_url.removeprefix('http://')}", "--cluster.listen-address=",
            "--log.level=info"], workdir / "alertmanager" / "alertmanager.log")
        processes.append(am)
        wait_ready(am, f"{am_url}/-/ready")
        prom_url = f"http://127.0.0.1:{free_port()}"
        prom_config = workdir / "prometheus" / "prometheus.yml"
        prom_config.write_text(yaml.safe_dump(prometheus_config(options, recoup_url, am_url, prom_rules),
                                              sort_keys=False))
        prom = spawn("prometheus", [
            PROMETHEUS, f"--config.file={prom_config}", f"--storage.tsdb.path={workdir / 'prometheus' / 'data'}",
            f"--web.listen-address={prom_url.removeprefix('http://')}", "--log.level=info"],
            workdir / "prometheus" / "prometheus.log")
        processes.append(prom)
        wait_ready(prom, f"{prom_url}/-/ready")

        traffic = Traffic(recoup_url, ingest_key, service=options.service, rate=options.rate,
                          baseline=options.baseline, fault=options.fault).start()
        log(f"warming up (project {project_id}, {options.rate:g} ops/s, {options.baseline:.0%} errors) ...")
        result.warmup_s = warm_up(options, rule, traffic, prom_url)
        observer = Observer(result, options, recoup_url, admin, prom_url, receiver)
        observer.poll()
        if result.recoup_condition is not None or result.prom_condition is not None:
            result.notes.append("the alert was already pending before the fault: lower --baseline")
            result.recoup_condition = result.prom_condition = None
        result.t0 = traffic.inject()
        log(f"fault injected after {result.warmup_s:.1f}s of warm-up: {options.fault:.0%} of operations error; "
            f"waiting for both paths (up to {options.timeout:.0f}s) ...")
        deadline = result.t0 + options.timeout
        while True:
            observer.poll()
            now = time.time()
            if observer.done(now):
                break
            if now > deadline:
                result.notes.append(f"timed out after {options.timeout:.0f}s")
                break
            for process in processes:
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.name} exited with {process.popen.returncode}:\n"
                                       f"{process.log_tail()}")
            time.sleep(POLL)
        result.data_crossed = None
        if rule.metric == "error_ratio" and rule.type == "threshold":
            crossed = condition_holds_at(traffic.batches, since=result.t0, window=rule.window,
                                         threshold=rule.threshold, min_count=rule.min_count)
            result.data_crossed = None if crossed is None else crossed - result.t0
        if traffic.failures:
            result.notes.append(f"{len(traffic.failures)} batches failed, e.g. {traffic.failures[0]}")
        if receiver.rejected:
            result.notes.append(f"receiver rejected {len(receiver.rejected)} posts, e.g. {receiver.rejected[0]}")
        result.deliveries = [{**a.to_dict(), "after_t0": a.at - result.t0} for a in receiver.arrivals()]
        return result
    finally:
        if observer is not None:
            observer.close()
        if traffic is not None:
            traffic.stop()
        for process in reversed(processes):
            process.stop()
        receiver.stop()
        if options.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# -- reporting ------------------------------------------------------------------------------------------------


def summary(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """min and median of the observed values, and how many runs observed one."""
    seen = [v for v in values if v is not None]
    return {"min": min(seen) if seen else None, "median": statistics.median(seen) if seen else None,
            "n": len(seen)}


METRICS = (
    "data_crossed", "recoup_condition", "recoup_fired", "recoup_notification", "recoup_declared", "recoup_notified",
    "recoup_routed", "prom_condition", "prom_fired", "prom_notification", "prom_incident", "prom_notified",
    "warmup_s",
)


def summarise(runs: Sequence[RunResult]) -> dict[str, dict[str, float | int | None]]:
    return {name: summary([getattr(r, name) for r in runs]) for name in METRICS}


def verdicts(stats: dict[str, dict[str, float | int | None]], rule: Rule) -> dict[str, bool | None]:
    """The issue's targets on the median run: recoup end to end ≤ for + 1 s (from t0, and from the moment
    the data crossed the threshold), and recoup ahead of the Prometheus path."""
    def med(name: str) -> float | None:
        value = stats[name]["median"]
        return None if value is None else float(value)

    limit = rule.for_ + TARGET_SLACK
    e2e, prom, crossed = med("recoup_notified"), med("prom_notified"), med("data_crossed")
    return {
        "recoup_e2e_within_for_plus_1s_from_t0": None if e2e is None else e2e <= limit,
        "recoup_e2e_within_for_plus_1s_from_data": None if e2e is None or crossed is None
        else e2e - crossed <= limit,
        "recoup_ahead_of_prometheus": None if e2e is None else (prom is None or e2e < prom),
    }


def cell(stat: dict[str, float | int | None], repeat: int) -> str:
    median, low = stat["median"], stat["min"]
    if median is None or low is None:
        return "-"
    return f"{median:.2f}" if repeat == 1 else f"{median:.2f} ({low:.2f})"


def settings_line(options: Options, page_wait: float) -> str:
    return (f"Prometheus scrape_interval {format_duration(options.scrape_interval)}, evaluation_interval "
            f"{format_duration(options.evaluation_interval)}; Alertmanager group_wait "
            f"{format_duration(options.group_wait)} (root, recoup's webhook), {format_duration(page_wait)} "
            f"(page route, mirrored routing); recoup: same routing, evaluation on every batch + 1s ticks")


def report(runs: Sequence[RunResult], options: Options, rule: Rule, page_wait: float) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    stats = summarise(runs)
    verdict = verdicts(stats, rule)
    n = len(runs)
    console = Console(width=max(Console().width, 150))
    title = (f"{options.alert} (window {format_duration(rule.window)}, for {format_duration(rule.for_)}): "
             f"seconds after the fault (t0), {'median (min) of ' + str(n) + ' runs' if n > 1 else 'one run'}, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    table = Table(title=title, caption=settings_line(options, page_wait))
    for column in ("path", "condition s", "detection s", "notification s", "incident s", "end-to-end s",
                   "rule for", "notes"):
        table.add_column(column, justify="left" if column in ("path", "notes") else "right")
    kinds = sorted({r.recoup_notified_kind for r in runs if r.recoup_notified_kind})
    table.add_row("recoup (in-process)", cell(stats["recoup_condition"], n), cell(stats["recoup_fired"], n),
                  cell(stats["recoup_notification"], n), cell(stats["recoup_declared"], n),
                  cell(stats["recoup_notified"], n), format_duration(rule.for_),
                  f"first: {'/'.join(kinds) or '-'}; routed alert notice {cell(stats['recoup_routed'], n)}s")
    receivers = sorted({r.prom_notified_receiver for r in runs if r.prom_notified_receiver})
    table.add_row("Prometheus + Alertmanager", cell(stats["prom_condition"], n), cell(stats["prom_fired"], n),
                  cell(stats["prom_notification"], n), cell(stats["prom_incident"], n),
                  cell(stats["prom_notified"], n), format_duration(rule.for_),
                  f"first: {'/'.join(receivers) or '-'}; incident = recoup via Alertmanager's webhook")
    console.print(table)
    console.print(f"data: the {format_duration(rule.window)} window crossed the threshold "
                  f"{cell(stats['data_crossed'], n)}s after t0 (warm-up {cell(stats['warmup_s'], n)}s, "
                  f"{options.rate:g} ops/s, errors {options.baseline:.0%} -> {options.fault:.0%})")
    limit = format_duration(rule.for_ + TARGET_SLACK)
    for key, text in (("recoup_e2e_within_for_plus_1s_from_t0", f"recoup end to end <= for + 1 s ({limit}) from t0"),
                      ("recoup_e2e_within_for_plus_1s_from_data",
                       f"recoup end to end <= for + 1 s ({limit}) from the data crossing"),
                      ("recoup_ahead_of_prometheus", "recoup ahead of Prometheus + Alertmanager")):
        value = verdict[key]
        console.print(f"{text}: {'-' if value is None else ('MET' if value else 'NOT MET')}")
    if verdict["recoup_e2e_within_for_plus_1s_from_t0"] is False and verdict["recoup_e2e_within_for_plus_1s_from_data"]:
        console.print(f"  the miss from t0 is the rule's {format_duration(rule.window)} window diluting the jump "
                      f"(the data crossed {cell(stats['data_crossed'], n)}s after t0, for every evaluator alike), "
                      "not recoup's latency")
    for i, run in enumerate(runs, 1):
        for note in run.notes:
            console.print(f"[yellow]run {i}: {note}[/]")
    return {"summary": stats, "verdicts": verdict}


def options_from(args: argparse.Namespace) -> Options:
    def duration(value: str, flag: str) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise SystemExit(f"detection.py: {flag}: {exc}") from None

    return Options(
        rules=args.rules, alert=args.alert, service=args.service, rate=args.rate, baseline=args.baseline,
        fault=args.fault, scrape_interval=duration(args.scrape_interval, "--scrape-interval"),
        evaluation_interval=duration(args.evaluation_interval, "--evaluation-interval"),
        group_wait=duration(args.group_wait, "--group-wait"),
        page_group_wait=None if args.page_group_wait is None else duration(args.page_group_wait,
                                                                            "--page-group-wait"),
        warmup=duration(args.warmup, "--warmup"), timeout=duration(args.timeout, "--timeout"),
        bonus_wait=duration(args.bonus_wait, "--bonus-wait"), keep=args.keep,
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rules", type=Path, help="a recoup rule file (default: the shipped rules)")
    p.add_argument("--alert", default="HighErrorRate", help="the rule whose alert is measured")
    p.add_argument("--service", default="checkout")
    p.add_argument("--rate", type=float, default=50.0, help="operations per second (default 50)")
    p.add_argument("--baseline", type=float, default=0.01, help="share of operations erroring before t0")
    p.add_argument("--fault", type=float, default=0.3, help="share of operations erroring from t0")
    p.add_argument("--scrape-interval", default="15s", help="Prometheus scrape_interval (default 15s)")
    p.add_argument("--evaluation-interval", default="15s", help="Prometheus evaluation_interval (default 15s)")
    p.add_argument("--group-wait", default="30s", help="`recoup export alertmanager --group-wait` (default 30s)")
    p.add_argument("--page-group-wait", help="group_wait of the critical route, in both routings "
                                             "(default: the shipped 5s)")
    p.add_argument("--warmup", default="0s", help="minimum warm-up beyond what Prometheus needs")
    p.add_argument("--timeout", default="4m", help="give up this long after the fault (default 4m)")
    p.add_argument("--bonus-wait", default="40s",
                   help="after both paths notified, wait this long for recoup's incident from the Prometheus path")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    p.add_argument("--keep", action="store_true", help="keep the work directory (configs and logs)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.repeat < 1:
        raise SystemExit("detection.py: --repeat: must be at least 1")
    for name in ("baseline", "fault"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            raise SystemExit(f"detection.py: --{name}: a share between 0 and 1, got {getattr(args, name)}")
    if args.rate <= 0:
        raise SystemExit("detection.py: --rate: must be above 0")
    for binary in (PROMETHEUS, ALERTMANAGER):
        if not Path(binary).exists():
            raise SystemExit(f"detection.py: {binary} is not installed; run scripts/install_tools.sh")
    options = options_from(args)
    try:
        rules = ruleset(options)
    except ValueError as exc:
        raise SystemExit(f"detection.py: --rules: {exc}") from None
    try:
        rule = rules.by_name(options.alert)
    except KeyError:
        names = ", ".join(r.name for r in rules.rules)
        raise SystemExit(f"detection.py: --alert: no rule named {options.alert!r} (rules: {names})") from None
    page_wait = page_group_wait_of(routing_yaml(options.page_group_wait))
    runs = []
    for i in range(args.repeat):
        print(f"run {i + 1}/{args.repeat}: {settings_line(options, page_wait)}")
        runs.append(run_once(options))
    out = report(runs, options, rule, page_wait)
    if args.json:
        args.json.write_text(json.dumps({
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "alert": options.alert, "for": rule.for_, "window": rule.window, "threshold": rule.threshold,
            "settings": {"scrape_interval": options.scrape_interval,
                         "evaluation_interval": options.evaluation_interval,
                         "group_wait": options.group_wait, "page_group_wait": page_wait},
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "json"},
            **out,
            "runs": [r.to_dict() for r in runs],
        }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
