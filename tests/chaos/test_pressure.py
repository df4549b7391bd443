"""Resource pressure is real (RSS, EMFILE, ENOSPC/EFBIG, CPU time) and always undone, even when the block raises."""

from __future__ import annotations

import errno
import os
import resource
import time

import pytest

import recoup
from recoup.chaos.pressure import cpu_hog, fd_exhaustion, memory_ballast, rss_bytes
from recoup.chaos.pressure_disk import disk_full, mounted

MB = 1024 * 1024


def test_memory_ballast_is_resident_and_released() -> None:
    before = rss_bytes()
    with memory_ballast(64) as ballast:
        inside = rss_bytes()
        assert ballast.held and ballast.size == 64 * MB
    after = rss_bytes()
    assert inside - before >= 60 * MB
    assert after - before < 8 * MB and not ballast.held


def test_memory_ballast_is_released_when_the_block_raises() -> None:
    before = rss_bytes()
    with pytest.raises(RuntimeError, match="boom"), memory_ballast(32):
        raise RuntimeError("boom")
    assert rss_bytes() - before < 8 * MB


def test_fd_exhaustion_gives_emfile_after_exactly_the_headroom_and_is_restored() -> None:
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    opened: list[int] = []
    with pytest.raises(RuntimeError, match="body failed"), fd_exhaustion(headroom=3) as state:
        assert state.original == limits
        opened.extend(os.open(os.devnull, os.O_RDONLY) for _ in range(3))
        with pytest.raises(OSError) as info:
            open(os.devnull, "rb")  # noqa: SIM115 - must fail
        assert info.value.errno == errno.EMFILE
        for fd in opened:
            os.close(fd)
        assert recoup.classify(info.value).category == recoup.Category.RESOURCE  # imports need the freed fds
        raise RuntimeError("body failed")
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == limits
    assert state.fillers == []
    with open(os.devnull, "rb"):
        pass


def test_disk_full_tmpfs_gives_enospc_and_is_unmounted_even_when_the_block_raises() -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    with pytest.raises(RuntimeError, match="after the write"), disk_full(method="tmpfs") as disk:
        assert disk.method == "tmpfs" and mounted(disk.path)
        with pytest.raises(OSError) as info, open(os.path.join(disk.path, "out.log"), "wb") as handle:
            handle.write(b"x" * 8192)
            handle.flush()
        assert info.value.errno == errno.ENOSPC == disk.errno
        assert recoup.classify(info.value).category == recoup.Category.RESOURCE
        raise RuntimeError("after the write")
    assert not mounted(disk.path) and not os.path.exists(disk.path)


def test_disk_full_auto_uses_a_tmpfs_when_running_as_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    with disk_full() as disk:
        assert disk.method == "tmpfs"
    assert not os.path.exists(disk.path)


def test_disk_full_dev_full_fails_the_named_files_with_enospc() -> None:
    with disk_full(method="dev-full", files=["journal.db"]) as disk:
        with pytest.raises(OSError) as info, open(os.path.join(disk.path, "journal.db"), "wb") as handle:
            handle.write(b"page")
        assert info.value.errno == errno.ENOSPC
    assert not os.path.exists(disk.path)


def test_disk_full_rlimit_fallback_gives_efbig_and_restores_the_limit() -> None:
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    with disk_full(8192, method="rlimit-fsize") as disk:
        assert disk.errno == errno.EFBIG
        path = os.path.join(disk.path, "big.bin")
        with open(path, "wb", buffering=0) as handle:
            handle.write(b"a" * 8192)
            with pytest.raises(OSError) as info:
                handle.write(b"b")
        assert info.value.errno == errno.EFBIG
    assert resource.getrlimit(resource.RLIMIT_FSIZE) == limits and not os.path.exists(disk.path)


def test_disk_full_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="must be one of auto, tmpfs, ext4, dev-full, rlimit-fsize, got 'nfs'"), \
            disk_full(method="nfs"):
        pass
    with pytest.raises(ValueError, match="needs the file names"), disk_full(method="dev-full"):
        pass
    with pytest.raises(ValueError, match=r"plain file names, got '\.\./x'"), \
            disk_full(method="dev-full", files=["../x"]):
        pass


def test_cpu_hog_threads_and_processes_burn_cpu_and_stop() -> None:
    with cpu_hog(threads=1, processes=1) as hog:
        pid = hog.pids[0]
        deadline = time.monotonic() + 5
        while hog.spins[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert hog.spins[0] > 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped
    spins = hog.spins[0]
    time.sleep(0.01)
    assert hog.spins[0] == spins  # the thread stopped


def test_pressure_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="megabytes must be a number > 0, got 0"), memory_ballast(0):
        pass
    with pytest.raises(ValueError, match="headroom must be an integer >= 0, got -1"), fd_exhaustion(-1):
        pass
    with pytest.raises(ValueError, match="needs at least one thread or process"), cpu_hog(0):
        pass


def test_disk_full_ext4_image_gives_enospc_and_is_unmounted() -> None:
    if os.geteuid() != 0 or not os.path.exists("/dev/loop-control"):
        pytest.skip("loop-mounting an ext4 image needs root and loop devices")
    with disk_full(512 * 1024, method="ext4") as disk:
        assert disk.method == "ext4" and mounted(disk.path)
        with pytest.raises(OSError) as info, open(os.path.join(disk.path, "wal.log"), "wb") as handle:
            handle.write(b"x" * 65536)
        assert info.value.errno == errno.ENOSPC
    assert not mounted(disk.path) and not os.path.exists(os.path.dirname(disk.path))
