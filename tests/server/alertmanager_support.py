"""The real Prometheus Alertmanager for tests and benchmarks: a generated config, the Debian binary
(``prometheus-alertmanager``) on a free 127.0.0.1 port with clustering off and its storage in a temp dir,
and a client for its ``/api/v2/alerts``.

Run as a script to measure Alertmanager's own ingest rate (the anchor for recoup's)::

    .venv/bin/python tests/server/alertmanager_support.py --alerts 50000 --batch 250 --clients 1

Install the binaries with ``scripts/install_tools.sh`` (Debian/Ubuntu, as root).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import yaml
from psycopg import sql
from sqlalchemy.engine import make_url

INSTALL_HINT = "run scripts/install_tools.sh (as root) to install Debian's prometheus-alertmanager package"
ALERTMANAGER_NAMES = ("prometheus-alertmanager", "alertmanager")
AMTOOL_NAMES = ("amtool",)
WEBHOOK_PATH = "/api/v1/alertmanager"

T = TypeVar("T")


class AlertmanagerMissing(RuntimeError):
    """The alertmanager or amtool binary is not installed."""


def _find(names: Sequence[str]) -> str:
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
        if found:
            return found
    raise AlertmanagerMissing(f"none of {', '.join(names)} is installed; {INSTALL_HINT}")


def alertmanager_binary() -> str:
    return _find(ALERTMANAGER_NAMES)


def amtool_binary() -> str:
    return _find(AMTOOL_NAMES)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def config_yaml(
    webhook_url: str | None,
    *,
    credentials: str | None = None,
    credentials_file: Path | None = None,
    group_wait: str = "100ms",
    group_interval: str = "1s",
    repeat_interval: str = "1h",
    resolve_timeout: str = "5s",
    send_resolved: bool = True,
    max_alerts: int = 0,
    group_by: Sequence[str] = ("...",),
) -> str:
    """An Alertmanager config whose only receiver posts to ``webhook_url`` (none: a receiver that drops
    everything, for measuring Alertmanager alone). By default every alert forms its own group
    (``group_by: [...]``) so each is notified as soon as group_wait has passed."""
    receiver: dict[str, Any] = {"name": "recoup"}
    if webhook_url is not None:
        webhook: dict[str, Any] = {"url": webhook_url, "send_resolved": send_resolved, "max_alerts": max_alerts}
        if credentials is not None or credentials_file is not None:
            authorization: dict[str, Any] = {"type": "Bearer"}
            if credentials is not None:
                authorization["credentials"] = credentials
            else:
                authorization["credentials_file"] = str(credentials_file)
            webhook["http_config"] = {"authorization": authorization}
        receiver["webhook_configs"] = [webhook]
    config = {
        "global": {"resolve_timeout": resolve_timeout},
        "route": {
            "receiver": "recoup",
            "group_by": list(group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        },
        "receivers": [receiver],
    }
    return yaml.safe_dump(config, sort_keys=False)


def check_config(path: Path) -> str:
    """``amtool check-config``'s report; raises ValueError with it when the config is invalid."""
    done = subprocess.run([amtool_binary(), "check-config", str(path)], capture_output=True, text=True, timeout=30)
    report = done.stdout + done.stderr
    if done.returncode != 0:
        raise ValueError(f"amtool check-config rejected {path}:\n{report}")
    return report


@dataclass(frozen=True)
class Alertmanager:
    url: str  # http://127.0.0.1:PORT
    config_path: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def metric(self, name: str, **labels: str) -> float:
        """The sum of one metric's samples (matching ``labels``) on Alertmanager's /metrics."""
        total = 0.0
        for line in httpx.get(f"{self.url}/metrics", timeout=10).text.splitlines():
            if not line.startswith(name) or line[len(name):len(name) + 1] not in ("{", " "):
                continue
            head, _, value = line.rpartition(" ")
            if all(f'{k}="{v}"' in head for k, v in labels.items()):
                total += float(value)
        return total


@contextmanager
def running_alertmanager(workdir: Path, config_text: str, *, start_timeout: float = 20.0) -> Iterator[Alertmanager]:
    """Alertmanager serving ``config_text`` (checked with amtool first) until the block ends."""
    binary = alertmanager_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "alertmanager.yml"
    config_path.write_text(config_text)
    check_config(config_path)
    port = free_port()
    log_path = workdir / "alertmanager.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_path}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",  # no gossip: a single, isolated instance
                "--log.level=info",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    am = Alertmanager(f"http://127.0.0.1:{port}", config_path, log_path, process)
    with until_ready(process, am.url, "alertmanager", am.log, timeout=start_timeout):
        yield am


@contextmanager
def until_ready(
    process: subprocess.Popen[bytes], url: str, name: str, log: Callable[[], str], *, timeout: float = 20.0
) -> Iterator[None]:
    """Wait for ``url``/-/ready (Prometheus and Alertmanager both answer it), run the block, then stop the
    process (terminate, then kill). A process that exits or never gets ready raises with its log."""
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log()}")
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not become ready in {timeout}s:\n{log()}")
            time.sleep(0.02)
        yield
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def postable_alert(
    labels: Mapping[str, str],
    *,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    annotations: Mapping[str, str] | None = None,
    generator_url: str = "",
) -> dict[str, Any]:
    """One alert in the shape Alertmanager's POST /api/v2/alerts takes (what Prometheus sends)."""
    alert: dict[str, Any] = {"labels": dict(labels), "annotations": dict(annotations or {})}
    if starts_at is not None:
        alert["startsAt"] = iso(starts_at)
    if ends_at is not None:
        alert["endsAt"] = iso(ends_at)
    if generator_url:
        alert["generatorURL"] = generator_url
    return alert


def post_alerts(client: httpx.Client, am_url: str, alerts: Sequence[Mapping[str, Any]]) -> None:
    answer = client.post(f"{am_url}/api/v2/alerts", json=list(alerts))
    if answer.status_code != 200:
        raise RuntimeError(f"alertmanager refused the alerts: {answer.status_code} {answer.text}")


def wait_for(probe: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Poll ``probe`` until it returns something other than None, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@contextmanager
def postgres_outage(db_url: str) -> Iterator[None]:
    """A real outage of the PostgreSQL database behind ``db_url`` for the block: new connections are
    refused (``ALLOW_CONNECTIONS false``) and the open ones are terminated; restored on exit."""
    url = make_url(db_url)
    if url.get_backend_name() != "postgresql" or not url.database:
        raise ValueError(f"not a PostgreSQL URL: {db_url}")
    admin = url.set(database="postgres", query={}).render_as_string(hide_password=False)
    admin = admin.replace("postgresql+psycopg://", "postgresql://")
    name = sql.Identifier(url.database)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
        try:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (url.database,),
            )
            yield
        finally:
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))


# -- measuring Alertmanager's own ingest rate --------------------------------------------------------------


@dataclass(frozen=True)
class IngestRate:
    alerts: int
    batch: int
    clients: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.alerts / self.seconds


def _batches(total: int, batch: int, run: str) -> list[list[dict[str, Any]]]:
    now = datetime.now(UTC)
    alerts = [
        postable_alert(
            {"alertname": "IngestBench", "run": run, "instance": f"host-{i}", "severity": "warning"},
            starts_at=now,
            annotations={"summary": f"bench alert {i}"},
            generator_url="http://prometheus.example:9090/graph",
        )
        for i in range(total)
    ]
    return [alerts[i:i + batch] for i in range(0, total, batch)]


def measure_ingest_rate(am_url: str, *, alerts: int = 50_000, batch: int = 250, clients: int = 1) -> IngestRate:
    """Post ``alerts`` distinct alerts to ``am_url``/api/v2/alerts in batches of ``batch`` from ``clients``
    threads (each with its own keep-alive connection); the payloads are built before the clock starts."""
    batches = _batches(alerts, batch, run=str(time.time_ns()))
    bodies = [httpx.Request("POST", "/", json=b).content for b in batches]
    shares = [bodies[i::clients] for i in range(clients)]

    def send(share: list[bytes]) -> None:
        with httpx.Client(timeout=60, headers={"Content-Type": "application/json"}) as client:
            for body in share:
                answer = client.post(f"{am_url}/api/v2/alerts", content=body)
                if answer.status_code != 200:
                    raise RuntimeError(f"alertmanager answered {answer.status_code}: {answer.text}")

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(send, share) for share in shares]:
            future.result()
    return IngestRate(alerts=alerts, batch=batch, clients=clients, seconds=time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Measure the real Alertmanager's /api/v2/alerts ingest rate.")
    parser.add_argument("--alerts", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--group-by", default="alertname", help="comma-separated; '...' makes a group per alert")
    args = parser.parse_args(argv)
    config = config_yaml(None, group_by=args.group_by.split(","))
    rates = []
    for _ in range(args.repeat):  # a fresh Alertmanager each time: its in-memory alert count stays comparable
        with tempfile.TemporaryDirectory(prefix="am-bench-") as tmp, running_alertmanager(Path(tmp), config) as am:
            measure_ingest_rate(am.url, alerts=2_500, batch=args.batch, clients=args.clients)  # warm up
            rate = measure_ingest_rate(am.url, alerts=args.alerts, batch=args.batch, clients=args.clients)
        rates.append(rate.per_second)
        print(f"alertmanager /api/v2/alerts: {rate.alerts} alerts in batches of {rate.batch} from "
              f"{rate.clients} client(s), group_by={args.group_by}: {rate.seconds:.2f}s = "
              f"{rate.per_second:,.0f} alerts/s")
    print(f"median {sorted(rates)[len(rates) // 2]:,.0f} alerts/s over {len(rates)} runs")


if __name__ == "__main__":
    main()
