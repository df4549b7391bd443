"""The resource sampler against this test process's real /proc (and cgroup files laid out like the kernel's),
and the reporter thread."""

from __future__ import annotations

import logging
import os
import resource
import shutil
import threading
import time
from pathlib import Path

import pytest

from recoup.incidents.signals import observe
from recoup.telemetry.events import MetricEvent, TelemetryEvent
from recoup.telemetry.resources import ResourceReporter, ResourceSampler


def by_name(events: list[TelemetryEvent]) -> dict[str, MetricEvent]:
    return {e.name: e for e in events if isinstance(e, MetricEvent)}


def test_fd_usage_rises_with_open_files(tmp_path: Path) -> None:
    sampler = ResourceSampler()
    before = sampler.fds()
    assert before is not None
    assert before[1] == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    files = [open(tmp_path / f"f{i}", "w") for i in range(50)]  # noqa: SIM115
    try:
        during = sampler.fds()
        assert during is not None and during[0] - before[0] == 50
        assert len(os.listdir("/proc/self/fd")) - 1 == during[0]
        ratio = by_name(sampler.sample())["fd_usage"].value
        assert ratio == pytest.approx(during[0] / during[1])
    finally:
        for f in files:
            f.close()
    after = sampler.fds()
    assert after is not None and after[0] == before[0]


def test_memory_rises_with_allocation() -> None:
    sampler = ResourceSampler()
    before = sampler.memory()
    assert before is not None and 0 < before[0] < before[1]
    block = b"\x01" * (64 * 1024 * 1024)
    after = sampler.memory()
    assert after is not None and after[0] - before[0] > 48 * 1024 * 1024
    del block


def test_cpu_ratio_over_usable_cpus() -> None:
    wall, used = [100.0], [5.0]
    sampler = ResourceSampler(clock=lambda: wall[0], cpu_time=lambda: used[0])
    assert sampler.cpu() is None  # nothing to compare with yet
    wall[0], used[0] = 110.0, 5.0 + 10 * sampler.cpus() / 4
    assert sampler.cpu() == pytest.approx(0.25)
    real = ResourceSampler()
    real.cpu()
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    busy = real.cpu()
    assert busy is not None and 0.05 < busy <= 1.0


def test_disk_usage_of_a_path(tmp_path: Path) -> None:
    got = ResourceSampler(disk_path=tmp_path).disk()
    usage = shutil.disk_usage(tmp_path)
    assert got is not None
    assert got[0] == pytest.approx(usage.used, rel=0.01) and got[1] == pytest.approx(usage.used + usage.free, rel=0.01)
    assert ResourceSampler(disk_path=tmp_path / "missing").disk() is None


def fake_tree(tmp_path: Path, cgroup_line: str, files: dict[str, str]) -> ResourceSampler:
    proc, cg = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text(cgroup_line + "\n")
    (proc / "self" / "statm").write_text("1000 256 10 1 0 100 0\n")
    (proc / "meminfo").write_text("MemTotal:        1000000 kB\nMemFree:   500000 kB\n")
    for rel, text in files.items():
        (cg / rel).parent.mkdir(parents=True, exist_ok=True)
        (cg / rel).write_text(text + "\n")
    return ResourceSampler(proc=proc, cgroup=cg)


def test_cgroup_v2_limit(tmp_path: Path) -> None:
    s = fake_tree(tmp_path, "0::/app.slice/web", {
        "app.slice/web/memory.max": "104857600", "app.slice/web/memory.current": "52428800",
        "app.slice/web/cpu.max": "50000 100000",
    })
    assert s.memory() == (52428800.0, 104857600.0)
    assert s.cpus() == pytest.approx(0.5)


def test_cgroup_v1_limit_and_fallbacks(tmp_path: Path) -> None:
    s = fake_tree(tmp_path, "4:memory:/job\n1:cpu,cpuacct:/job", {
        "memory/job/memory.limit_in_bytes": "200000000", "memory/job/memory.usage_in_bytes": "50000000",
        "cpu/job/cpu.cfs_quota_us": "-1", "cpu/job/cpu.cfs_period_us": "100000",
    })
    assert s.memory() == (50000000.0, 200000000.0)
    assert s.cpus() >= 1  # no quota: the affinity decides
    unlimited = fake_tree(tmp_path / "u", "0::/", {"memory.max": "max", "memory.current": "5"})
    page = os.sysconf("SC_PAGE_SIZE")
    assert unlimited.memory() == (256.0 * page, 1_024_000_000.0)  # RSS / MemTotal


def test_sample_events_feed_the_resource_metric() -> None:
    sampler = ResourceSampler(service="worker")
    sampler.cpu()
    events = sampler.sample()
    names = [e.name for e in events if isinstance(e, MetricEvent)]
    assert names == ["memory_usage", "cpu_usage", "fd_usage", "disk_usage", "heartbeat"]
    for e in events:
        assert isinstance(e, MetricEvent) and 0.0 <= e.value <= 1.0 and e.service == "worker"
    observed = [o for e in events for o in observe(e.to_dict(), project="p")]
    resources = sorted(o.label_dict["resource"] for o in observed if o.metric == "resource_usage")
    assert resources == ["cpu", "disk", "fds", "memory"]


def test_reporter_emits_periodically_and_stops() -> None:
    got: list[TelemetryEvent] = []
    two = threading.Event()

    def emit(event: TelemetryEvent) -> None:
        got.append(event)
        if sum(isinstance(e, MetricEvent) and e.name == "heartbeat" for e in got) >= 2:
            two.set()

    reporter = ResourceReporter(emit, interval=0.05, service="svc").start()
    assert reporter.start() is reporter  # starting twice is harmless
    try:
        assert two.wait(5)
    finally:
        reporter.stop()
    assert not reporter.running
    assert reporter.reports >= 2 and reporter.failures == 0
    assert all(isinstance(e, MetricEvent) and e.service == "svc" for e in got)
    assert not any(t.name == "recoup-resource-reporter" for t in threading.enumerate())


def test_reporter_survives_failing_emit_and_sampler(caplog: pytest.LogCaptureFixture) -> None:
    def bad_emit(event: TelemetryEvent) -> None:
        raise RuntimeError("sink down")

    reporter = ResourceReporter(bad_emit, interval=60)
    with caplog.at_level(logging.ERROR, logger="recoup.telemetry.resources"):
        assert reporter.report_once() == 0
    assert reporter.failures >= 4 and "sink down" in caplog.text

    class Broken(ResourceSampler):
        def sample(self) -> list[TelemetryEvent]:
            raise OSError("proc gone")

    broken = ResourceReporter(lambda e: None, interval=60, sampler=Broken())
    with caplog.at_level(logging.ERROR, logger="recoup.telemetry.resources"):
        assert broken.report_once() == 0
    assert broken.failures == 1 and "resource sampling failed" in caplog.text
    with pytest.raises(ValueError, match="interval must be positive"):
        ResourceReporter(lambda e: None, interval=0)
