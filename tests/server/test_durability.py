"""The issue's acceptance tests: nothing acknowledged is lost, nor stored twice, when

(a) PostgreSQL stops mid-ingest and comes back (a PRIVATE cluster: the shared one on 5432 is in use by
    other tests), the server answering from the spool meanwhile;
(b) the server is killed with SIGKILL mid-ingest and restarted, on SQLite and on PostgreSQL;
(c) both: the server is killed while PostgreSQL is down and its acknowledgements are only in the spool.

Servers run as real child processes (tests/server/serve_child.py) fed by a real HTTP client thread that
records the ids of every batch answered 200; afterwards every recorded id must be in the database once,
and the group counters must equal the number of stored events (each counted exactly once).

Also here: retention prunes old events and survives database errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import select as sa_select

from recoup.server.metrics import ServerMetrics
from recoup.server.retention import RetentionTask
from recoup.server.settings import ServerSettings
from recoup.store import EventKind, NewEvent, ProjectKey, Store, create_store_engine, open_store
from recoup.store.models import EventRow
from recoup.telemetry.events import ErrorEvent

SERVE_CHILD = Path(__file__).with_name("serve_child.py")
pytestmark = pytest.mark.slow


# -- a private PostgreSQL cluster ------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found and shutil.which("runuser") else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrivatePostgres:
    """A throw-away cluster owned by the postgres user, trust auth on 127.0.0.1:``port``."""

    bin: Path
    base: Path
    port: int

    @property
    def data(self) -> Path:
        return self.base / "data"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.data), *args],
            check=True, capture_output=True, timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
        self._ctl("-o", options, "-l", str(self.base / "log"), "-w", "start")

    def stop_immediately(self) -> None:
        """Like a crash: no checkpoint, clients cut off mid-transaction."""
        self._ctl("-m", "immediate", "-w", "stop")

    def new_database(self) -> str:
        name = f"d_{secrets.token_hex(4)}"
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    pg_bin = _pg_bin()
    if pg_bin is None or os.geteuid() != 0:
        pytest.skip("needs root, runuser and PostgreSQL's initdb to run a private cluster")
    base = Path(tempfile.mkdtemp(prefix="recoup-pg-"))
    shutil.chown(base, "postgres", "postgres")
    cluster = PrivatePostgres(pg_bin, base, _free_port())
    try:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(pg_bin / "initdb"), "-D", str(cluster.data), "-A", "trust",
             "-U", "postgres", "--no-sync", "--no-instructions"],
            check=True, capture_output=True, timeout=120,
        )
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            cluster.stop_immediately()
        shutil.rmtree(base, ignore_errors=True)


# -- a server in a child process, and a client recording acknowledgements --------------------------------


@dataclass
class Child:
    proc: subprocess.Popen[str]
    url: str

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def spawn(db_url: str, spool: Path, log: Path) -> Child:
    with log.open("a") as err:
        proc = subprocess.Popen(
            [sys.executable, str(SERVE_CHILD), "--db", db_url, "--spool", str(spool)],
            stdout=subprocess.PIPE, stderr=err, text=True,
        )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            line = proc.stdout.readline()
            if line.startswith("PORT "):
                return Child(proc, f"http://127.0.0.1:{int(line.split()[1])}")
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"the server child did not start; see {log}:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def running(db_url: str, spool: Path, log: Path) -> Iterator[list[Child]]:
    """Yields a one-element list holding the current child (tests replace it after a restart)."""
    children = [spawn(db_url, spool, log)]
    try:
        yield children
    finally:
        for child in children:
            if child.proc.poll() is None:
                child.proc.terminate()
                try:
                    child.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()


@dataclass
class Sender:
    """Posts batches of error events to the current child until stopped; keeps the ids answered 200."""

    children: list[Child]
    key: ProjectKey
    batch: int = 25
    acked: list[str] = field(default_factory=list)
    spooled: int = 0
    refused: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Sender:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=30)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key.public_key}"}
        n = 0
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                ids = [f"ev-{n + i:07d}" for i in range(self.batch)]
                n += self.batch
                body = {"events": [ErrorEvent(id=i, exception_type="ConnectionRefusedError",
                                              message=f"[Errno 111] Connection refused (attempt {i})",
                                              service="checkout").to_dict() for i in ids]}
                try:
                    answer = client.post(f"{self.children[0].url}/api/v1/events", json=body, headers=headers)
                except httpx.HTTPError:
                    self.refused += 1
                    time.sleep(0.01)
                    continue
                if answer.status_code == 200:
                    self.acked.extend(ids)
                    self.spooled += bool(answer.json().get("spooled"))
                else:
                    self.refused += 1
                    time.sleep(0.01)

    def wait_for(self, acked: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < acked:
            assert time.monotonic() < deadline, f"only {len(self.acked)} events acknowledged"
            time.sleep(0.01)


def wait_drained(child: Child, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            last = httpx.get(f"{child.url}/readyz", timeout=5).json()
            if isinstance(last, dict) and last.get("status") == "ready" and last.get("queue_depth") == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"the server did not drain its queue and spool: {last}")


def assert_exactly_once(db_url: str, project_id: int, acked: list[str]) -> None:
    engine = create_store_engine(db_url)
    try:
        with engine.connect() as conn:
            stored = list(conn.execute(sa_select(EventRow.event_id).where(EventRow.project_id == project_id)).scalars())
    finally:
        engine.dispose()
    assert len(stored) == len(set(stored))
    missing = set(acked) - set(stored)
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:5]}"
    store = open_store(db_url, migrate=False)
    try:
        counted = sum(g.count for g in store.list_groups(project_id, limit=1000))
    finally:
        store.close()
    assert counted == len(stored), "group counters must count every stored event exactly once"


def seeded(db_url: str) -> tuple[int, ProjectKey]:
    store = open_store(db_url)
    try:
        project, key = store.create_project("durable")
        return project.id, key
    finally:
        store.close()


# -- the acceptance tests --------------------------------------------------------------------------------


def test_postgresql_outage_mid_ingest(private_pg: PrivatePostgres, tmp_path: Path) -> None:
    db_url = private_pg.new_database()
    project_id, key = seeded(db_url)
    with running(db_url, tmp_path / "spool", tmp_path / "server.log") as children:
        with Sender(children, key) as sender:
            sender.wait_for(100)
            private_pg.stop_immediately()
            sender.wait_for(len(sender.acked) + 150)  # answered from the spool while the database is down
            assert sender.spooled > 0
            private_pg.start()
            sender.wait_for(len(sender.acked) + 200)
        wait_drained(children[0])
    assert_exactly_once(db_url, project_id, sender.acked)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_mid_ingest(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'recoup.db'}" if backend == "sqlite" else _shared_pg_url(request)
    project_id, key = seeded(db_url)
    with running(db_url, tmp_path / "spool", tmp_path / "server.log") as children:
        with Sender(children, key) as sender:
            sender.wait_for(150)
            children[0].kill()
            children[0] = spawn(db_url, tmp_path / "spool", tmp_path / "server.log")
            sender.wait_for(len(sender.acked) + 200)
        wait_drained(children[0])
    assert_exactly_once(db_url, project_id, sender.acked)


def test_kill_9_while_postgresql_is_down(private_pg: PrivatePostgres, tmp_path: Path) -> None:
    """The acknowledgements exist only in the spool when the server dies; its successor replays them."""
    db_url = private_pg.new_database()
    project_id, key = seeded(db_url)
    spool = tmp_path / "spool"
    with running(db_url, spool, tmp_path / "server.log") as children:
        with Sender(children, key) as sender:
            sender.wait_for(100)
            private_pg.stop_immediately()
            sender.wait_for(len(sender.acked) + 150)
            children[0].kill()
        assert sender.spooled > 0 and list(spool.glob("segment-*.spool"))
        private_pg.start()
        children[0] = spawn(db_url, spool, tmp_path / "server.log")
        wait_drained(children[0])
    assert_exactly_once(db_url, project_id, sender.acked)
    assert not list(spool.glob("segment-*.spool"))


def _shared_pg_url(request: pytest.FixtureRequest) -> str:
    """A fresh schema on the shared PostgreSQL (never stopped here), via tests/conftest.py's database."""
    database: str = request.getfixturevalue("pg_database")
    schema = f"t_{secrets.token_hex(6)}"
    conninfo = f"postgresql://postgres@127.0.0.1:5432/{database}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return f"{conninfo}?options=-csearch_path%3D{schema}"


# -- retention -------------------------------------------------------------------------------------------

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_retention_prunes_old_events_and_keeps_counters(store: Store, tmp_path: Path) -> None:
    project, _ = store.create_project("retention")
    old = [NewEvent(event_id=f"old-{i}", kind=EventKind.ERROR, occurred_at=T0, fingerprint="fp") for i in range(5)]
    new = [NewEvent(event_id=f"new-{i}", kind=EventKind.ERROR, occurred_at=T0, fingerprint="fp") for i in range(3)]
    store.ingest_events(project.id, old, received_at=T0)
    store.ingest_events(project.id, new, received_at=T0 + timedelta(days=20))
    metrics = ServerMetrics()
    settings = ServerSettings(spool_dir=tmp_path, retention_days=10)
    task = RetentionTask(store, settings, metrics, now=lambda: T0 + timedelta(days=25))
    assert task.prune_once() == 5
    assert store.count_events(project.id) == 3
    assert store.list_groups(project.id)[0].count == 8
    assert metrics.registry.get_sample_value("recoup_retention_pruned_events_total") == 5
    assert task.prune_once() == 0


def test_retention_survives_database_errors_and_runs_in_the_background(tmp_path: Path) -> None:
    dead = Store(create_store_engine(f"postgresql://postgres@127.0.0.1:{_free_port()}/none"))
    metrics = ServerMetrics()
    task = RetentionTask(dead, ServerSettings(spool_dir=tmp_path, prune_interval_seconds=0.01), metrics)

    async def main() -> None:
        await task.start()
        await asyncio.sleep(0.3)  # ~30 intervals; three failed rounds are plenty
        await task.stop()

    try:
        asyncio.run(asyncio.wait_for(main(), 10))
    finally:
        dead.close()
    assert (metrics.registry.get_sample_value("recoup_database_errors_total", {"operation": "prune"}) or 0) >= 3
