"""Resource use of this process as ratios of its limits, so alert rules can see exhaustion coming.

`ResourceSampler.sample` returns `MetricEvent`s named ``memory_usage``, ``cpu_usage``, ``fd_usage`` and
``disk_usage`` (0..1, see `recoup.incidents.catalogue.RESOURCE_METRICS`) plus a ``heartbeat``;
`ResourceReporter` emits them from a daemon thread every ``interval`` seconds. Stdlib only.

Where the numbers come from (Linux; a figure that cannot be read is left out, never guessed):

- memory: the cgroup's usage / limit (v2 ``memory.current``/``memory.max``, v1 ``memory.usage_in_bytes``/
  ``memory.limit_in_bytes``) when the cgroup has a limit; else this process's RSS (``/proc/self/statm``)
  / ``MemTotal`` (``/proc/meminfo``).
- cpu: process CPU seconds per wall second since the previous sample, over the CPUs it may use (affinity,
  capped by a cgroup CPU quota). The first sample has no previous one, so it carries no cpu figure.
- file descriptors: entries of ``/proc/self/fd`` / the soft ``RLIMIT_NOFILE``.
- disk: used / (used + available to this user) of the filesystem holding ``disk_path``, like ``df``.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from recoup.telemetry.events import MetricEvent, TelemetryEvent

_log = logging.getLogger(__name__)

_UNLIMITED = 2**62  # cgroup v1 writes "no limit" as a huge page-aligned number


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _int(text: str | None) -> int | None:
    if text is None or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


class ResourceSampler:
    """Reads this process's resource use. ``proc`` and ``cgroup`` are the mount points (``/proc``,
    ``/sys/fs/cgroup``); ``clock`` gives wall seconds and ``cpu_time`` process CPU seconds (for the cpu
    ratio)."""

    def __init__(
        self,
        *,
        service: str = "",
        disk_path: str | os.PathLike[str] = "/",
        proc: str | os.PathLike[str] = "/proc",
        cgroup: str | os.PathLike[str] = "/sys/fs/cgroup",
        clock: Callable[[], float] = time.time,
        cpu_time: Callable[[], float] = time.process_time,
    ) -> None:
        self.service = service
        self.disk_path = Path(disk_path)
        self.proc = Path(proc)
        self.cgroup = Path(cgroup)
        self._clock = clock
        self._cpu_time = cpu_time
        self._last_cpu: tuple[float, float] | None = None

    # -- the figures, each (used, limit) or None ------------------------------------------------------

    def _cgroup_dirs(self, controller: str) -> list[Path]:
        """Candidate cgroup directories of this process for ``controller`` (v1) or the unified tree (v2)."""
        out: list[Path] = []
        text = _read(self.proc / "self" / "cgroup") or ""
        for line in text.splitlines():
            parts = line.split(":", 2)
            if len(parts) != 3:
                continue
            _hier, controllers, rel = parts
            rel = rel.lstrip("/")
            if controllers == "":
                out.append(self.cgroup / rel)
            elif controller in controllers.split(","):
                out.append(self.cgroup / controller / rel)
        out += [self.cgroup, self.cgroup / controller]  # inside a cgroup namespace the root is ours
        return out

    def memory(self) -> tuple[float, float] | None:
        """(bytes used, byte limit)."""
        total = self._mem_total()
        for d in self._cgroup_dirs("memory"):
            for used_name, limit_name in (("memory.current", "memory.max"),
                                          ("memory.usage_in_bytes", "memory.limit_in_bytes")):
                limit = _int(_read(d / limit_name))
                used = _int(_read(d / used_name))
                if limit is None or used is None or limit <= 0 or limit >= _UNLIMITED:
                    continue
                if total is not None and limit > total:
                    continue  # a limit above the machine's memory does not bind; RSS / MemTotal says more
                return float(used), float(limit)
        rss = self._rss()
        if rss is None or total is None:
            return None
        return rss, total

    def _mem_total(self) -> float | None:
        text = _read(self.proc / "meminfo")
        for line in (text or "").splitlines():
            if line.startswith("MemTotal:"):
                fields = line.split()
                if len(fields) >= 2 and fields[1].isdigit():
                    return float(int(fields[1]) * 1024)
        return None

    def _rss(self) -> float | None:
        fields = (_read(self.proc / "self" / "statm") or "").split()
        if len(fields) < 2 or not fields[1].isdigit():
            return None
        return float(int(fields[1]) * os.sysconf("SC_PAGE_SIZE"))

    def cpus(self) -> float:
        """CPUs this process may use: its affinity, capped by a cgroup quota."""
        try:
            count = float(len(os.sched_getaffinity(0)))
        except (AttributeError, OSError):
            count = float(os.cpu_count() or 1)
        for d in self._cgroup_dirs("cpu"):
            v2 = (_read(d / "cpu.max") or "").split()
            if len(v2) == 2 and v2[0] != "max" and v2[0].isdigit() and v2[1].isdigit() and int(v2[1]) > 0:
                return max(0.01, min(count, int(v2[0]) / int(v2[1])))
            quota, period = _int(_read(d / "cpu.cfs_quota_us")), _int(_read(d / "cpu.cfs_period_us"))
            if quota is not None and period and quota > 0:
                return max(0.01, min(count, quota / period))
        return count

    def cpu(self) -> float | None:
        """Share of the usable CPUs used since the previous call; None on the first call."""
        now, used = self._clock(), self._cpu_time()
        last, self._last_cpu = self._last_cpu, (now, used)
        if last is None or now <= last[0]:
            return None
        return max(0.0, min(1.0, (used - last[1]) / (now - last[0]) / self.cpus()))

    def fds(self) -> tuple[float, float] | None:
        """(open descriptors, soft limit)."""
        try:
            import resource

            soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        except (ImportError, OSError, ValueError):
            return None
        if soft <= 0 or soft == resource.RLIM_INFINITY:
            return None
        for fd_dir in (self.proc / "self" / "fd", Path("/dev/fd")):
            try:
                # listing opens one descriptor of its own, which the listing shows
                return float(max(0, len(os.listdir(fd_dir)) - 1)), float(soft)
            except OSError:
                continue
        return None

    def disk(self) -> tuple[float, float] | None:
        """(bytes used, bytes used + available) of the filesystem holding ``disk_path``."""
        try:
            usage = shutil.disk_usage(self.disk_path)
        except OSError:
            return None
        capacity = usage.used + usage.free
        return (float(usage.used), float(capacity)) if capacity > 0 else None

    # -- events ---------------------------------------------------------------------------------------

    def sample(self) -> list[TelemetryEvent]:
        """One event per readable figure, then a heartbeat."""
        now = self._clock()
        events: list[TelemetryEvent] = []

        def ratio(name: str, pair: tuple[float, float] | None) -> None:
            if pair is not None and pair[1] > 0:
                used, limit = pair
                events.append(MetricEvent(name=name, value=min(1.0, used / limit), service=self.service,
                                          unit="ratio", timestamp=now,
                                          tags={"used": f"{used:.0f}", "limit": f"{limit:.0f}"}))

        ratio("memory_usage", self.memory())
        cpu = self.cpu()
        if cpu is not None:
            events.append(MetricEvent(name="cpu_usage", value=cpu, service=self.service, unit="ratio",
                                      timestamp=now, tags={"cpus": f"{self.cpus():g}"}))
        ratio("fd_usage", self.fds())
        ratio("disk_usage", self.disk())
        events.append(MetricEvent(name="heartbeat", value=1.0, service=self.service, timestamp=now))
        return events


class ResourceReporter:
    """Emits `ResourceSampler.sample` every ``interval`` seconds from a daemon thread. Failures (of sampling
    or of ``emit``) are logged and the reporter carries on: it never raises into the application."""

    def __init__(
        self,
        emit: Callable[[TelemetryEvent], None],
        interval: float = 15.0,
        *,
        service: str = "",
        sampler: ResourceSampler | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval!r}")
        self.emit = emit
        self.interval = interval
        self.sampler = sampler or ResourceSampler(service=service)
        self.reports = 0  # samples emitted
        self.failures = 0  # samples or emits that raised (logged)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def report_once(self) -> int:
        """Sample and emit now; how many events were emitted."""
        try:
            events = self.sampler.sample()
        except Exception:
            self.failures += 1
            _log.exception("resource sampling failed; will try again in %ss", self.interval)
            return 0
        sent = 0
        for event in events:
            try:
                self.emit(event)
                sent += 1
            except Exception:
                self.failures += 1
                _log.exception("emitting resource event %s failed", getattr(event, "name", event))
        self.reports += 1
        return sent

    def _run(self) -> None:
        while not self._stop.is_set():
            self.report_once()
            self._stop.wait(self.interval)

    def start(self) -> ResourceReporter:
        """Start the thread (a no-op when running); the first sample is taken at once."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return self
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="recoup-resource-reporter", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the thread and wait up to ``timeout`` seconds for it."""
        with self._lock:
            thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> ResourceReporter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
