"""The assessment's own telemetry server runs `recoup serve` in a child process: it becomes ready, says why
when it cannot, and never outlives the assessment (normal exit, an exception, Ctrl-C, or the parent killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from recoup.assess.server_phase import ServerPhase, ServerPhaseConfig, ServerPhaseError
from recoup.assess.server_process import ServerProcess, ServerProcessError


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_server_process_is_ready_then_stopped_and_its_folder_removed() -> None:
    with ServerProcess() as server:
        pid, folder = server.pid, server.folder
        assert pid is not None and _alive(pid) and folder.is_dir()
        ready = httpx.get(f"{server.url}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["database"] == "sqlite"
        # the admin token it was given in its environment works
        projects = httpx.get(f"{server.url}/api/v1/projects", timeout=5,
                             headers={"Authorization": f"Bearer {server.admin_token}"})
        assert projects.status_code == 200
    assert not _alive(pid) and not folder.exists()
    server.stop()  # idempotent


def test_a_server_that_cannot_start_is_reported_with_its_stderr(tmp_path: Path) -> None:
    (tmp_path / "recoup.db").mkdir()  # SQLite cannot open a folder
    with pytest.raises(ServerPhaseError, match=r"exited with code 1 before it was ready.*cannot reach the database"):
        ServerPhase(ServerPhaseConfig(data_dir=tmp_path)).__enter__()
    assert tmp_path.is_dir()  # a folder we were given is not ours to remove


def test_a_server_that_is_not_ready_in_time_is_killed(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, start_timeout=0.05)
    with pytest.raises(ServerProcessError, match=r"not ready at http://127\.0\.0\.1:\d+/readyz within 0\.05 s"):
        server.start()
    assert server.pid is None
    with pytest.raises(ValueError, match="start_timeout must be > 0"):
        ServerProcess(start_timeout=0)


def test_ctrl_c_during_the_phase_stops_the_server() -> None:
    with pytest.raises(KeyboardInterrupt), ServerPhase(ServerPhaseConfig()) as phase:
        own = phase._own
        assert own is not None and own.pid is not None
        pid, folder = own.pid, own.folder
        raise KeyboardInterrupt
    assert not _alive(pid) and not folder.exists()


_PARENT = """
import sys, time
from pathlib import Path
from recoup.assess.server_process import ServerProcess
server = ServerProcess(Path(sys.argv[1])).start()
print(server.pid, flush=True)
time.sleep(120)
"""


def test_the_server_dies_when_the_assessment_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line.strip().isdigit(), f"the parent did not start its server: {line!r}"
        child = int(line)
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert _gone_within(child, 15.0), f"recoup serve (pid {child}) outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_the_child_refuses_a_parent_that_is_already_gone() -> None:
    done = subprocess.run([sys.executable, "-m", "recoup.assess.server_child", str(os.getpid() + 10**6), "serve"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "is gone" in done.stderr
    bad = subprocess.run([sys.executable, "-m", "recoup.assess.server_child", "serve"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "usage:" in bad.stderr
