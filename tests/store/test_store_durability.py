"""A returned ingest call is committed: kill -9 the writer mid-stream, every acknowledged event is there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from recoup.store import Project, Store

WRITER = """
import sys
sys.path.insert(0, {support!r})
from store_support import error
from recoup.store import open_store

store = open_store({url!r}, migrate=False)
for b in range(100000):
    ids = [f"k{{b}}-{{i}}" for i in range(20)]
    store.ingest_events({project}, [error(i, "fp-kill") for i in ids])
    print(b, flush=True)  # acknowledged: the call returned
"""


def test_acknowledged_batches_survive_kill_9(store: Store, project: Project, db_url: str) -> None:
    code = WRITER.format(support=str(Path(__file__).parent), url=db_url, project=project.id)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acked = -1
    deadline = time.monotonic() + 30
    while acked < 30 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert acked >= 30, "the writer did not get going"
    for line in proc.stdout:  # acknowledgements printed before the kill landed
        acked = max(acked, int(line))
    proc.stdout.close()
    for b in range(acked + 1):
        stored = store.get_event(project.id, f"k{b}-19")
        assert stored is not None, f"acknowledged batch {b} is missing"
    # Nothing half-written: the group counts exactly the events that are stored.
    (group,) = store.list_groups(project.id)
    assert group.count == store.count_events(project.id)
    assert group.count % 20 == 0 and group.count >= (acked + 1) * 20
