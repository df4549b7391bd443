"""The machinery of `benchmarks/detection.py`: a local webhook receiver that timestamps each arrival, the load
thread that posts native batches and injects the fault, the engine-neutral moment the fault shows in the
data, and starting/stopping the real processes (recoup serve, Prometheus, Alertmanager).

Kept apart from the script so the smoke test and the script share one implementation and the script stays a
readable description of the method."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from recoup.errors.taxonomy import Category
from recoup.incidents.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from recoup.telemetry.events import ErrorEvent, Outcome, RecoveryOutcomeEvent

MAX_BODY = 2_000_000

# -- the webhook receiver -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """One POST as it arrived: ``path`` like ``/recoup/oncall`` or ``/am/oncall``; ``at`` is this machine's
    clock just after the body was read; ``verified`` is None for unsigned (Alertmanager) posts."""

    path: str
    at: float
    verified: bool | None
    body: Any

    @property
    def receiver(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def kind(self) -> str:
        """recoup's notice kind (``incident_triggered``, ``firing``...) or Alertmanager's group status."""
        if isinstance(self.body, dict):
            return str(self.body.get("kind") or self.body.get("status") or "")
        return ""

    def alertnames(self) -> set[str]:
        """The alert names the body is about (recoup: the notice's alerts and labels; Alertmanager: alerts)."""
        names: set[str] = set()
        if not isinstance(self.body, dict):
            return names
        for alert in self.body.get("alerts") or []:
            if isinstance(alert, dict):
                labels = alert.get("labels")
                if isinstance(labels, dict) and "alertname" in labels:
                    names.add(str(labels["alertname"]))
                for key in ("alertname", "rule", "name"):
                    if isinstance(alert.get(key), str):
                        names.add(str(alert[key]))
        labels = self.body.get("labels")
        if isinstance(labels, dict) and "alertname" in labels:
            names.add(str(labels["alertname"]))
        return names

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "at": self.at, "verified": self.verified, "kind": self.kind}


class ArrivalReceiver:
    """A ThreadingHTTPServer on 127.0.0.1 keeping every POST with its arrival time. Paths under
    ``/recoup/`` must carry recoup's webhook signature (checked with ``secret``, answered 401 otherwise, as a
    real consumer would); paths under ``/am/`` are Alertmanager's unsigned webhooks."""

    def __init__(self, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 16:
            raise ValueError("secret: recoup's webhook channel needs at least 16 characters")
        self.secret = secret
        self.clock = clock
        self._lock = threading.Lock()
        self._arrivals: list[Arrival] = []
        self.rejected: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # the benchmark reports what arrived; no access log on the terminal

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                status = receiver._accept(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self, path: str, headers: dict[str, str], body: bytes) -> int:
        at = self.clock()
        verified: bool | None = None
        if path.startswith("/recoup/"):
            verified = verify_signature(self.secret, headers.get(TIMESTAMP_HEADER.lower(), ""), body,
                                        headers.get(SIGNATURE_HEADER.lower(), ""), now=at)
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            with self._lock:
                self.rejected.append(f"{path}: body is not JSON")
            return 400
        if verified is False:
            with self._lock:
                self.rejected.append(f"{path}: signature did not verify")
            return 401
        with self._lock:
            self._arrivals.append(Arrival(path, at, verified, parsed))
        return 204

    def arrivals(self, prefix: str = "/") -> list[Arrival]:
        with self._lock:
            return [a for a in self._arrivals if a.path.startswith(prefix)]

    def first(self, prefix: str, *, after: float = 0.0, kinds: Sequence[str] = ()) -> Arrival | None:
        """The earliest arrival under ``prefix`` at or after ``after`` (of one of ``kinds``, when given)."""
        found = [a for a in self.arrivals(prefix) if a.at >= after and (not kinds or a.kind in kinds)]
        return min(found, key=lambda a: a.at) if found else None

    def start(self) -> ArrivalReceiver:
        self._thread = threading.Thread(target=self._server.serve_forever, name="detection-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


# -- traffic ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    sent_at: float  # epoch seconds the batch's events were stamped with
    operations: int
    errors: int


@dataclass
class Traffic:
    """Posts a native batch every ``tick`` seconds: ``rate`` operations per second (recovery outcomes), of
    which a share hits an error — ``baseline`` before the fault, ``fault`` after `inject` — each such operation
    a ConnectionError (category network) plus its ``recovered`` outcome (retried), as an instrumented client
    sends them. Recovered, not given up: only the error ratio moves, so HighErrorRate is the rule under test
    (failed outcomes would also burn the recovery SLO and trip RecoverySLOBurnFast, another measurement).
    Fractions carry over between batches, so the shares hold exactly over time."""

    url: str
    ingest_key: str
    service: str = "checkout"
    rate: float = 50.0
    baseline: float = 0.01
    fault: float = 0.3
    tick: float = 0.1
    clock: Callable[[], float] = time.time
    batches: list[Batch] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    fault_at: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _ops_due: float = 0.0
    _errors_due: float = 0.0

    def inject(self) -> float:
        """Start the fault now; the time it started (t0)."""
        self.fault_at = self.clock()
        return self.fault_at

    def events(self, now: float) -> tuple[list[dict[str, Any]], int, int]:
        """The next batch's wire events and its (operations, errors) counts."""
        share = self.fault if self.fault_at is not None and now >= self.fault_at else self.baseline
        self._ops_due += self.rate * self.tick
        ops = math.floor(self._ops_due)
        self._ops_due -= ops
        self._errors_due += ops * share
        errors = min(ops, math.floor(self._errors_due + 1e-9))
        self._errors_due -= errors
        out: list[dict[str, Any]] = []
        for i in range(ops):
            if i < errors:
                out.append(ErrorEvent(
                    exception_type="ConnectionError", message="connection refused by payments:443",
                    service=self.service, operation="pay", category=Category.NETWORK, timestamp=now).to_dict())
                out.append(RecoveryOutcomeEvent(
                    operation="pay", strategy="retry", outcome=Outcome.RECOVERED, attempts=2, timestamp=now,
                    category=Category.NETWORK, error_type="ConnectionError",
                    tags={"service": self.service}).to_dict())
            else:
                out.append(RecoveryOutcomeEvent(operation="pay", strategy="retry", outcome=Outcome.SUCCEEDED,
                                                timestamp=now, tags={"service": self.service}).to_dict())
        return out, ops, errors

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.ingest_key}"}
        with httpx.Client(timeout=10, headers=headers) as client:
            next_at = time.monotonic()
            while not self._stop.is_set():
                now = self.clock()
                events, ops, errors = self.events(now)
                if events:
                    try:
                        answer = client.post(f"{self.url}/api/v1/events", json={"events": events})
                        if answer.status_code != 200:
                            self.failures.append(f"{answer.status_code} {answer.text[:200]}")
                        else:
                            self.batches.append(Batch(now, ops, errors))
                    except httpx.HTTPError as exc:
                        self.failures.append(f"{type(exc).__name__}: {exc}")
                next_at += self.tick
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> Traffic:
        self._thread = threading.Thread(target=self._run, name="detection-traffic", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)


def condition_holds_at(batches: Sequence[Batch], *, since: float, window: float, threshold: float,
                       min_count: int) -> float | None:
    """The first moment at or after ``since`` when the error ratio over the trailing ``window`` (in the
    traffic actually acknowledged) exceeds ``threshold`` with at least ``min_count`` operations: when an ideal
    evaluator of the rule could first see the fault. A long window dilutes a jump, so this is later than t0."""
    in_window: deque[Batch] = deque()
    ops = errors = 0
    for batch in sorted(batches, key=lambda b: b.sent_at):
        in_window.append(batch)
        ops += batch.operations
        errors += batch.errors
        while in_window and in_window[0].sent_at <= batch.sent_at - window:
            gone = in_window.popleft()
            ops -= gone.operations
            errors -= gone.errors
        if batch.sent_at >= since and ops >= max(min_count, 1) and errors / ops > threshold:
            return batch.sent_at
    return None


# -- processes ----------------------------------------------------------------------------------------------


@dataclass
class Process:
    """A child process with its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError as exc:
            return f"(cannot read {self.log_path}: {exc})"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


def spawn(name: str, command: Sequence[str], log_path: Path, env: dict[str, str] | None = None) -> Process:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        popen = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT, env=env)
    return Process(name, popen, log_path)


def wait_ready(process: Process, url: str, *, timeout: float = 60.0) -> None:
    """Until ``url`` answers 200, or raise with the process's log when it exits or the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited with {process.popen.returncode}:\n{process.log_tail()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{process.name} did not answer {url} within {timeout:.0f}s:\n{process.log_tail()}")
        time.sleep(0.05)


def run_checked(command: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 60.0) -> str:
    """Run a command to completion; its stdout, or RuntimeError with its output when it fails."""
    done = subprocess.run(list(command), capture_output=True, text=True, env=env, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def recoup_command(*args: str) -> list[str]:
    """The `recoup` CLI of this interpreter (the checkout's, when run from its venv)."""
    import sys

    return [sys.executable, "-m", "recoup", *args]


def parse_project_create(output: str) -> tuple[int, str]:
    """(project id, ingest key) from the output of `recoup projects create`."""
    project_id: int | None = None
    key: str | None = None
    for line in output.splitlines():
        head, _, rest = line.partition(":")
        if head.strip() == "project" and rest.split():
            project_id = int(rest.split()[0])
        elif head.strip() == "ingest key" and rest.strip():
            key = rest.strip()
    if project_id is None or key is None:
        raise ValueError(f"`recoup projects create` printed no project id and ingest key:\n{output}")
    return project_id, key


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    env.update(extra)
    return env
