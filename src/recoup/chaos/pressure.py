"""Resource pressure as context managers that always restore: memory ballast, file-descriptor exhaustion,
CPU hogs (disk full is in `pressure_disk`). Each one creates the real condition, so the code under test
meets the real errors (MemoryError from its own allocations, EMFILE from its own `open()`), not imitations.

All of them act on the whole process (every thread), as the real shortage would.
"""

from __future__ import annotations

import errno
import mmap
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["Ballast", "CpuHog", "FdExhaustion", "cpu_hog", "fd_exhaustion", "memory_ballast", "rss_bytes"]

PAGE = mmap.PAGESIZE


def rss_bytes() -> int:
    """Resident memory of this process now, from /proc/self/statm (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE


@dataclass
class Ballast:
    """Memory held by `memory_ballast`: an anonymous mapping with every page written, so it is resident."""

    size: int
    _map: mmap.mmap | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._map is not None:
            self._map.close()  # munmap: the pages go back to the system at once
            self._map = None

    @property
    def held(self) -> bool:
        return self._map is not None


@contextmanager
def memory_ballast(megabytes: float) -> Iterator[Ballast]:
    """Hold `megabytes` MB of really allocated, touched memory for the block; released on exit, even on error."""
    if isinstance(megabytes, bool) or not isinstance(megabytes, int | float) or not megabytes > 0:
        raise ValueError(f"memory_ballast megabytes must be a number > 0, got {megabytes!r}")
    size = max(PAGE, int(megabytes * 1024 * 1024) // PAGE * PAGE)
    mapping = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    ballast = Ballast(size, mapping)
    try:
        mapping[::PAGE] = b"\xa5" * (size // PAGE)  # one write per page faults every page in
        yield ballast
    finally:
        ballast.release()


# -- file descriptors ------------------------------------------------------------------------------------


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except FileNotFoundError:
        raise RuntimeError("fd_exhaustion needs /proc/self/fd (Linux)") from None


@dataclass
class FdExhaustion:
    """State of `fd_exhaustion`: the lowered soft limit, the limit it replaced, and the fillers it opened."""

    limit: int
    original: tuple[int, int]
    headroom: int
    fillers: list[int] = field(default_factory=list, repr=False)


@contextmanager
def fd_exhaustion(headroom: int = 0) -> Iterator[FdExhaustion]:
    """Leave exactly `headroom` free file descriptors: the next `open()` after those fails with EMFILE.

    The RLIMIT_NOFILE soft limit is lowered to just above the highest descriptor in use, the holes below it
    are filled with /dev/null, then the limit is raised by `headroom`. On exit the fillers are closed and
    the limit restored, even if the block raised. Child processes started inside inherit the low limit.
    """
    import resource

    if isinstance(headroom, bool) or not isinstance(headroom, int) or headroom < 0:
        raise ValueError(f"fd_exhaustion headroom must be an integer >= 0, got {headroom!r}")
    original = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft, hard = original
    state = FdExhaustion(limit=0, original=original, headroom=headroom)
    try:
        ceiling = max(_open_fds()) + 1
        if soft != resource.RLIM_INFINITY and ceiling + headroom > soft:
            raise ValueError(f"fd_exhaustion headroom {headroom} exceeds the current limit {soft}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
        while True:
            try:
                state.fillers.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
            except OSError as exc:
                if exc.errno != errno.EMFILE:
                    raise
                break
        state.limit = ceiling + headroom
        resource.setrlimit(resource.RLIMIT_NOFILE, (state.limit, hard))
        yield state
    finally:
        for fd in state.fillers:
            os.close(fd)
        state.fillers.clear()
        resource.setrlimit(resource.RLIMIT_NOFILE, original)


# -- CPU -------------------------------------------------------------------------------------------------


@dataclass
class CpuHog:
    """Busy workers of `cpu_hog`: spin counts per thread, and the pids of hog processes."""

    spins: list[int]
    pids: list[int]


@contextmanager
def cpu_hog(threads: int = 1, processes: int = 0) -> Iterator[CpuHog]:
    """Burn CPU for the block: `threads` spinning Python threads (they compete with the code under test for
    the GIL, the pressure a busy Python process feels) and `processes` spinning processes (they take other
    cores). Every worker is stopped and reaped on exit."""
    for name, value in (("threads", threads), ("processes", processes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"cpu_hog {name} must be an integer >= 0, got {value!r}")
    if threads + processes == 0:
        raise ValueError("cpu_hog needs at least one thread or process")
    stop = threading.Event()
    hog = CpuHog(spins=[0] * threads, pids=[])

    def spin(slot: int) -> None:
        count = 0
        while not stop.is_set():
            for _ in range(1000):
                count += 1
            hog.spins[slot] = count

    workers = [threading.Thread(target=spin, args=(i,), name=f"recoup-cpu-hog-{i}", daemon=True)
               for i in range(threads)]
    children: list[subprocess.Popen[bytes]] = []
    try:
        for worker in workers:
            worker.start()
        for _ in range(processes):
            child = subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
            children.append(child)
            hog.pids.append(child.pid)
        yield hog
    finally:
        stop.set()
        for child in children:
            child.kill()
        for child in children:
            child.wait()
        for worker in workers:
            if worker.is_alive():
                worker.join()
