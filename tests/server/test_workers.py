"""`recoup serve --workers N` as real processes over real databases: the workers share one port, each
owns a spool slot, every acknowledged event is stored exactly once, and a slot whose owner was killed
with SIGKILL is claimed and drained by a process that is still alive."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select as sa_select
from test_durability import PrivatePostgres, private_pg  # noqa: F401  (a fixture: a private cluster to stop)

from recoup.server.auth import KeyRateLimiter
from recoup.server.settings import ServerSettings
from recoup.server.spool import Spool, SpoolRecord, slot_directory
from recoup.store import EventKind, NewEvent, create_store_engine, open_store
from recoup.store.models import EventRow
from recoup.store.values import utcnow
from recoup.telemetry.events import ErrorEvent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(db_url: str, spool: Path, log: Path, *, workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`recoup serve --workers N` until the block ends (SIGINT, as an operator's Ctrl-C); yields (url, process)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "recoup", "serve", "--db", db_url, "--port", str(port), "--spool-dir", str(spool),
             "--workers", str(workers), "--log-level", "warning"],
            env=env, stdout=err, stderr=err,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"recoup serve exited {proc.returncode}:\n{log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"recoup serve did not become ready:\n{log.read_text()[-3000:]}"
            time.sleep(0.05)
        yield url, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def slot_is_held(spool: Path, slot: int) -> bool:
    """Whether some live process holds ``slot`` (probing takes and drops the lock when it is free)."""
    fd = os.open(spool / f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def slot_owner(spool: Path, slot: int) -> int | None:
    """The pid holding ``slot``'s lock, from /proc/locks (flock records the process that took the lock)."""
    inode = (spool / f"slot-{slot}.lock").stat().st_ino
    for line in Path("/proc/locks").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].rsplit(":", 1)[-1] == str(inode):
            return int(parts[4])
    return None


def stored_ids(db_url: str, project_id: int) -> list[str]:
    engine = create_store_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa_select(EventRow.event_id).where(EventRow.project_id == project_id)).scalars())
    finally:
        engine.dispose()


def group_total(db_url: str, project_id: int) -> int:
    store = open_store(db_url, migrate=False)
    try:
        return sum(g.count for g in store.list_groups(project_id, limit=1000))
    finally:
        store.close()


def assert_exactly_once(db_url: str, project_id: int, acked: set[str]) -> None:
    stored = stored_ids(db_url, project_id)
    assert len(stored) == len(set(stored)), "an event was stored twice"
    missing = acked - set(stored)
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:5]}"
    assert group_total(db_url, project_id) == len(stored), "group counters must count each event once"


def post_batches(url: str, key: str, prefix: str, *, threads: int, requests: int, batch: int,
                 allow: tuple[int, ...] = ()) -> set[str]:
    """``threads`` clients each POST ``requests`` batches (every other one re-sending its predecessor's ids,
    as a client retrying would); the ids of every batch answered 200. Any other status than ``allow`` fails."""
    acked: set[str] = set()
    failures: list[str] = []
    lock = threading.Lock()

    def client(t: int) -> None:
        with httpx.Client(timeout=20, headers={"Authorization": f"Bearer {key}"}) as http:
            for r in range(requests):
                n = r - r % 2  # r=1 repeats r=0's ids, r=3 repeats r=2's ...
                ids = [f"{prefix}-{t}-{n}-{i}" for i in range(batch)]
                events = [ErrorEvent(id=i, exception_type="ConnectionRefusedError", service="checkout",
                                     message=f"[Errno 111] Connection refused ({i})").to_dict() for i in ids]
                answer = http.post(f"{url}/api/v1/events", json={"events": events})
                with lock:
                    if answer.status_code == 200:
                        acked.update(ids)
                    elif answer.status_code not in allow:
                        failures.append(f"{answer.status_code} {answer.text[:200]}")

    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not failures, failures[:3]
    return acked


def test_two_workers_share_the_port_and_store_every_acknowledged_event_once(db_url: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    with serving(db_url, spool, tmp_path / "serve.log", workers=2) as (url, _proc):
        # The database was empty: the parent migrated it once before starting the workers (which do not).
        store = open_store(db_url, migrate=False)
        try:
            project, key = store.create_project("workers")
        finally:
            store.close()
        deadline = time.monotonic() + 10
        while not (slot_is_held(spool, 0) and slot_is_held(spool, 1)):  # each worker has claimed its own slot
            assert time.monotonic() < deadline, "the two workers did not claim two slots"
            time.sleep(0.05)
        assert not slot_is_held(spool, 2)
        acked = post_batches(url, key.public_key, "w", threads=12, requests=6, batch=20)
    assert len(acked) == 12 * 3 * 20
    assert_exactly_once(db_url, project.id, acked)
    assert not slot_is_held(spool, 0) and not slot_is_held(spool, 1)  # released at shutdown
    assert not list(spool.rglob("segment-*.spool"))
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


# A process that claims the first free slot, spools (fsynced) batches into it as a server would while the
# database is unreachable, says which slot it got, and then waits to be killed.
_SPOOLING_CHILD = textwrap.dedent("""
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from recoup.server.spool import Spool, SpoolRecord, claim_slot
    from recoup.store import EventKind, NewEvent
    spool_dir, project_id, prefix = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    lease = claim_slot(spool_dir)
    spool = Spool(lease.directory)
    spool.open()
    now = datetime.now(UTC)
    for b in range(5):
        events = tuple(NewEvent(event_id=f"{prefix}-{b}-{i}", kind=EventKind.ERROR, occurred_at=now,
                                message="spooled while the database was down", fingerprint="spooled")
                       for i in range(10))
        spool.append([SpoolRecord(project_id, now, events)])
    print(f"SLOT {lease.slot}", flush=True)
    time.sleep(600)
""")


def test_a_killed_owners_slot_is_claimed_and_drained_by_a_survivor(tmp_path: Path) -> None:
    # SQLite only: PostgreSQL is covered with real workers by the outage test below, and time is short.
    db_url = f"sqlite:///{tmp_path / 'orphans.db'}"
    store = open_store(db_url)
    try:
        project, key = store.create_project("orphans")
    finally:
        store.close()
    spool = tmp_path / "spool"
    # Left by an earlier single-process version (segments straight in spool_dir) -- but a live process holds
    # slot 0 now, so it is that process's to replay, not an orphan.
    legacy = Spool(spool)
    legacy.open()
    now = utcnow()
    legacy.append([SpoolRecord(project.id, now, tuple(
        NewEvent(event_id=f"legacy-{i}", kind=EventKind.ERROR, occurred_at=now, fingerprint="legacy")
        for i in range(7)))])
    legacy.close()
    child = subprocess.Popen([sys.executable, "-c", _SPOOLING_CHILD, str(spool), str(project.id), "dead"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "SLOT 0"
        with serving(db_url, spool, tmp_path / "serve.log", workers=1) as (url, _proc):
            assert slot_is_held(spool, 1)  # the server got the next free slot: two processes, two slots
            acked = post_batches(url, key.public_key, "live", threads=4, requests=2, batch=10)
            time.sleep(0.5)  # past the start-up orphan scan (and likely a periodic one): a live owner's slot stays
            assert not any(i.startswith(("dead-", "legacy-")) for i in stored_ids(db_url, project.id))
            assert list(slot_directory(spool, 0).glob("segment-*.spool"))

            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
            spooled = {f"dead-{b}-{i}" for b in range(5) for i in range(10)} | {f"legacy-{i}" for i in range(7)}
            expected = acked | spooled
            deadline = time.monotonic() + 10
            while not expected <= set(stored_ids(db_url, project.id)):
                assert time.monotonic() < deadline, "the dead owner's slot was not drained"
                time.sleep(0.1)
            assert not list(spool.glob("segment-*.spool"))  # deleted only once committed
            assert not slot_is_held(spool, 0)  # released after draining
            assert slot_is_held(spool, 1)
            acked |= post_batches(url, key.public_key, "after", threads=2, requests=2, batch=10)
        assert_exactly_once(db_url, project.id, expected | acked)
        assert len(stored_ids(db_url, project.id)) == len(expected | acked)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.slow
def test_a_worker_killed_while_the_database_is_down_loses_nothing(
    private_pg: PrivatePostgres,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """The worker's acknowledgements exist only in its spool slot when it is killed; uvicorn starts a new
    worker, and between it and the survivor the slot is replayed once the database is back."""
    db_url = private_pg.new_database()
    spool = tmp_path / "spool"
    with serving(db_url, spool, tmp_path / "serve.log", workers=2) as (url, proc):
        store = open_store(db_url, migrate=False)
        try:
            project, key = store.create_project("outage")
        finally:
            store.close()
        acked = post_batches(url, key.public_key, "up", threads=8, requests=4, batch=10)  # both workers know the key
        private_pg.stop_immediately()
        try:
            acked |= post_batches(url, key.public_key, "down", threads=8, requests=4, batch=10, allow=(503,))
            victim = next(slot for slot in (0, 1) if list(slot_directory(spool, slot).glob("segment-*.spool")))
            pid = slot_owner(spool, victim)
            assert pid is not None and pid != proc.pid
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 15
            while slot_owner(spool, victim) in (pid, None) and not slot_is_held(spool, 2):
                assert time.monotonic() < deadline, "no worker took over after the kill"
                time.sleep(0.05)
        finally:
            private_pg.start()
        deadline = time.monotonic() + 15
        while list(spool.rglob("segment-*.spool")):
            assert time.monotonic() < deadline, f"spool not drained: {list(spool.rglob('segment-*.spool'))}"
            time.sleep(0.1)
        assert any(i.startswith("down-") for i in acked)
    assert_exactly_once(db_url, project.id, acked)


@pytest.mark.parametrize("workers", [0, -1])
def test_a_bad_worker_count_is_refused(workers: int, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "recoup", "serve", "--db", f"sqlite:///{tmp_path / 'x.db'}",
                          "--workers", str(workers)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and "--workers" in run.stderr


def test_settings_reach_the_workers_through_the_environment_without_the_admin_token(tmp_path: Path) -> None:
    settings = ServerSettings(db_url="sqlite:///x.db", spool_dir=tmp_path / "spool", workers=3,
                              default_rate_limit_per_minute=90, admin_token="secret-token", retention_days=2.5)
    text = settings.to_json()
    assert "secret-token" not in text
    again = ServerSettings.from_json(text)
    assert again.spool_dir == tmp_path / "spool" and again.workers == 3 and again.retention_days == 2.5
    with pytest.raises(ValueError, match="unknown server settings: colour"):
        ServerSettings.from_json('{"colour": "blue"}')
    with pytest.raises(ValueError, match="workers"):
        ServerSettings(workers=0)


def test_each_worker_admits_its_share_of_a_keys_limit(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'limits.db'}")
    try:
        _, limited = store.create_project("limited", rate_limit_per_minute=60)
        _, default = store.create_project("default")
    finally:
        store.close()
    limiter = KeyRateLimiter(default_per_minute=9, workers=2)
    assert [limiter.admit(limited, 10) for _ in range(3)] == [None, None, None]
    assert limiter.admit(limited, 1) is not None  # 30 of 60 per minute in each of 2 workers
    assert limiter.admit(limited, 31) == 60.0  # more than one worker's minute never fits
    assert limiter.admit(default, 5) is None and limiter.admit(default, 1) is not None  # ceil(9 / 2) = 5
