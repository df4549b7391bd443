"""A full disk for the block, as real as the machine allows, always cleaned up.

Methods, tried in this order by ``method="auto"``:

* ``tmpfs``: a tiny tmpfs mounted on a fresh folder (needs root / CAP_SYS_ADMIN) and filled to the last
  byte, so any write into the folder fails with ENOSPC, exactly as on a full volume. Unmounted on exit
  (lazily if something still holds a file open) and the folder removed.
* ``ext4`` (explicit only): an ext4 image of `size_bytes` (at least 256 KiB) loop-mounted and filled, for code
  that cares about a real disk filesystem; needs root, `mkfs.ext4`, `mount` and a free loop device.
* ``dev-full``: for the file names given in `files`, symlinks to /dev/full: writing them fails with a real
  ENOSPC. Other paths in the folder stay writable.
* ``rlimit-fsize``: no mount and no names: RLIMIT_FSIZE set to `size_bytes` with SIGXFSZ ignored, so a
  write that grows ANY file of the process past that size fails with EFBIG ("File too large"), not ENOSPC.
  Needs the main thread (signal handlers); the limit and the handler are restored on exit.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["DiskFull", "disk_full", "mounted"]

_MNT_DETACH = 2
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 2, 4, 8
_METHODS = ("auto", "tmpfs", "ext4", "dev-full", "rlimit-fsize")


@dataclass(frozen=True)
class DiskFull:
    """Where writes fail (`path`), how (`method`), and the errno they fail with (ENOSPC, or EFBIG)."""

    path: str
    method: str
    errno: int
    size_bytes: int


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount_tmpfs(target: str, size_bytes: int) -> None:
    options = f"size={size_bytes},nr_inodes=64,mode=0755".encode()
    if _libc().mount(b"tmpfs", target.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, options) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount tmpfs on {target}: {os.strerror(code)}", target)


def _unmount(target: str) -> None:
    libc = _libc()
    if libc.umount2(target.encode(), 0) == 0:
        return
    code = ctypes.get_errno()
    if code == errno.EBUSY and libc.umount2(target.encode(), _MNT_DETACH) == 0:
        return  # a file is still open in it: detach now, the kernel frees it when the file closes
    code = ctypes.get_errno()
    raise OSError(code, f"unmount {target}: {os.strerror(code)}", target)


def mounted(path: str) -> bool:
    """True when `path` is a mount point in this process's mount table."""
    real = os.path.realpath(path)
    with open("/proc/self/mounts", encoding="utf-8") as table:
        return any(line.split()[1] == real for line in table if len(line.split()) > 1)


def _fill(folder: str) -> None:
    """Write a ballast file until the filesystem refuses with ENOSPC."""
    chunk = b"\0" * 65536
    with open(os.path.join(folder, ".recoup-ballast"), "wb", buffering=0) as ballast:
        while True:
            try:
                written = ballast.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if len(chunk) == 1:
                    return
                chunk = chunk[: len(chunk) // 2]
                continue
            if not written:
                return


def _mount_point(size_bytes: int, *, required: bool) -> str | None:
    """A fresh folder with an empty tmpfs mounted on it; None when mounting is not permitted (and not required)."""
    folder = tempfile.mkdtemp(prefix="recoup-disk-full-")
    try:
        _mount_tmpfs(folder, size_bytes)
    except OSError as exc:
        os.rmdir(folder)
        if required or exc.errno not in (errno.EPERM, errno.EACCES, errno.ENODEV):
            raise
        return None
    return folder


def _run_tool(*command: str) -> None:
    import subprocess

    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise RuntimeError(f"disk_full(method='ext4') needs the {command[0]!r} command") from exc
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"disk_full(method='ext4'): {' '.join(command)} failed: {exc.stderr.strip()}") from exc


def _ext4_mount_point(size_bytes: int) -> tuple[str, str]:
    """(work folder, mount point) of a fresh ext4 image loop-mounted on it (the loop device frees itself)."""
    work = tempfile.mkdtemp(prefix="recoup-disk-full-")
    image, point = os.path.join(work, "disk.img"), os.path.join(work, "mnt")
    try:
        os.mkdir(point)
        with open(image, "wb") as handle:
            handle.truncate(size_bytes)
        _run_tool("mkfs.ext4", "-q", "-F", "-m", "0", "-b", "1024", "-N", "16", image)
        _run_tool("mount", "-o", "loop,nosuid,nodev,noexec", image, point)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return work, point


@contextmanager
def _filled(folder: str, method: str, size_bytes: int, work: str) -> Iterator[DiskFull]:
    try:
        _fill(folder)
        yield DiskFull(folder, method, errno.ENOSPC, size_bytes)
    finally:
        try:
            _unmount(folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)


@contextmanager
def _dev_full(files: Sequence[str], size_bytes: int) -> Iterator[DiskFull]:
    folder = tempfile.mkdtemp(prefix="recoup-disk-full-")
    try:
        for name in files:
            if not name or os.sep in name or name in (".", ".."):
                raise ValueError(f"disk_full files must be plain file names, got {name!r}")
            os.symlink("/dev/full", os.path.join(folder, name))
        yield DiskFull(folder, "dev-full", errno.ENOSPC, size_bytes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _rlimit_fsize(size_bytes: int) -> Iterator[DiskFull]:
    import resource
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("disk_full(method='rlimit-fsize') must run in the main thread (it ignores SIGXFSZ)")
    folder = tempfile.mkdtemp(prefix="recoup-disk-full-")
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    original = resource.getrlimit(resource.RLIMIT_FSIZE)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size_bytes, original[1]))
        yield DiskFull(folder, "rlimit-fsize", errno.EFBIG, size_bytes)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, original)
        signal.signal(signal.SIGXFSZ, previous_handler)
        shutil.rmtree(folder, ignore_errors=True)


def _can_mount() -> bool:
    return os.geteuid() == 0 and os.path.exists("/proc/self/mounts")


@contextmanager
def disk_full(size_bytes: int = 64 * 1024, *, method: str = "auto", files: Sequence[str] = ()) -> Iterator[DiskFull]:
    """A folder where writes fail for lack of space; see the module doc for the methods and their errors."""
    if method not in _METHODS:
        raise ValueError(f"disk_full method must be one of {', '.join(_METHODS)}, got {method!r}")
    if isinstance(size_bytes, bool) or not isinstance(size_bytes, int) or size_bytes < 4096:
        raise ValueError(f"disk_full size_bytes must be an integer >= 4096, got {size_bytes!r}")
    if isinstance(files, str):
        raise TypeError(f"disk_full files must be a sequence of names, not the string {files!r}")
    if method == "dev-full" and not files:
        raise ValueError("disk_full(method='dev-full') needs the file names to fail in `files`")
    chosen = method
    if method == "auto":
        chosen = "tmpfs" if _can_mount() else ("dev-full" if files else "rlimit-fsize")
    if chosen == "tmpfs":
        folder = _mount_point(size_bytes, required=method == "tmpfs")
        if folder is not None:
            with _filled(folder, "tmpfs", size_bytes, folder) as state:
                yield state
            return
        chosen = "dev-full" if files else "rlimit-fsize"
    if chosen == "ext4":
        if size_bytes < 256 * 1024:
            raise ValueError(f"disk_full(method='ext4') needs size_bytes >= 262144, got {size_bytes!r}")
        work, point = _ext4_mount_point(size_bytes)
        with _filled(point, "ext4", size_bytes, work) as state:
            yield state
        return
    fallback = _dev_full(files, size_bytes) if chosen == "dev-full" else _rlimit_fsize(size_bytes)
    with fallback as state:
        yield state
