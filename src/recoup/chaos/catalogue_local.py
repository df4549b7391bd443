"""Faults provoked inside the process or on local files: exhausted resources, path problems, bad input,
defects, and failures whose cause nothing identifies (category unknown)."""

from __future__ import annotations

import concurrent.futures
import datetime
import errno
import gc
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from recoup.chaos.catalogue import Fault, ProvocationError, caught
from recoup.errors.taxonomy import Category

__all__ = ["LOCAL_FAULTS", "scratch"]


@contextmanager
def scratch() -> Iterator[str]:
    """A fresh folder, removed afterwards, for faults that need real files."""
    folder = tempfile.mkdtemp(prefix="recoup-chaos-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _in_scratch(action: Callable[[str], object]) -> Callable[[], BaseException]:
    def provoke() -> BaseException:
        with scratch() as folder:
            return caught(lambda: action(folder))

    return provoke


# -- resource -------------------------------------------------------------------------------------------


def _memory_error() -> BaseException:
    # An impossible size is refused by the allocator at once: a real MemoryError, nothing allocated.
    return caught(lambda: bytearray(1 << 62))


def _disk_full() -> BaseException:
    def write() -> None:
        with open("/dev/full", "wb", buffering=0) as device:  # Linux: every write fails with ENOSPC
            device.write(b"checkpoint")

    return caught(write)


def _too_many_open_files() -> BaseException:
    """Lower RLIMIT_NOFILE to the lowest free descriptor for one `open()`, then restore it at once."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for _ in range(5):  # another thread may free a lower descriptor in between: try again
        probe = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        os.close(probe)
        resource.setrlimit(resource.RLIMIT_NOFILE, (probe, hard))
        try:
            try:
                handle = open(os.devnull, "rb")  # noqa: SIM115 - closed below if it unexpectedly opens
            except OSError as exc:
                if exc.errno == errno.EMFILE:
                    exc.__traceback__ = None
                    return exc
                raise
            handle.close()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    raise ProvocationError("could not provoke EMFILE: free descriptors kept appearing below the lowered limit")


def _database_locked(folder: str) -> None:
    path = os.path.join(folder, "jobs.db")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY)")
        holder.execute("BEGIN EXCLUSIVE")
        contender = sqlite3.connect(path, timeout=0)
        try:
            contender.execute("INSERT INTO jobs DEFAULT VALUES")
        finally:
            contender.close()
    finally:
        holder.close()


# -- filesystem -----------------------------------------------------------------------------------------


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _touch(path: str) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("data\n")
    return path


def _not_executable(folder: str) -> None:
    # Executing a file without any x bit is refused even for root: a real EACCES anywhere.
    tool = _touch(os.path.join(folder, "deploy.sh"))
    os.chmod(tool, 0o644)
    subprocess.run([tool], check=False)


def _not_empty(folder: str) -> None:
    _touch(os.path.join(folder, "keep.txt"))
    os.rmdir(folder)


# -- unknown: real failures that say nothing about their cause --------------------------------------------


def _inappropriate_ioctl(folder: str) -> None:
    import fcntl
    import termios

    with open(_touch(os.path.join(folder, "plain.txt")), "rb") as handle:
        fcntl.ioctl(handle, termios.TIOCGWINSZ, b"\0" * 8)


def _broken_barrier() -> None:
    barrier = threading.Barrier(2)
    barrier.abort()
    barrier.wait()


def _cancelled_future() -> None:
    future: concurrent.futures.Future[None] = concurrent.futures.Future()
    future.cancel()
    future.result()


# -- programming ----------------------------------------------------------------------------------------


def _recurse(depth: int) -> int:
    return _recurse(depth + 1) + 1


def _runaway_recursion() -> int:
    """Recurse until Python's limit, with garbage collection paused: a finalizer the collector ran at the
    bottom of the stack would hit the limit too and fail as an unraisable exception."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _recurse(0)
    finally:
        if collecting:
            gc.enable()


def _raising(action: Callable[[], object]) -> Callable[[], BaseException]:
    return lambda: caught(action)


_payload: dict[str, object] = {"id": 42}
_nothing: object = None
_count: object = 3

F, R, V, P, U = Category.FILESYSTEM, Category.RESOURCE, Category.VALIDATION, Category.PROGRAMMING, Category.UNKNOWN

LOCAL_FAULTS: tuple[Fault, ...] = (
    Fault("resource.memory-error", R, True, MemoryError, "allocate an impossibly large buffer", _memory_error),
    Fault("resource.disk-full", R, True, OSError, "write to /dev/full (ENOSPC)", _disk_full, errno=errno.ENOSPC),
    Fault("resource.too-many-open-files", R, True, OSError,
          "open() with RLIMIT_NOFILE at the descriptors in use (EMFILE)", _too_many_open_files, errno=errno.EMFILE),
    Fault("resource.database-locked", R, True, sqlite3.OperationalError,
          "write to a SQLite database another connection holds exclusively", _in_scratch(_database_locked)),
    Fault("filesystem.missing-file", F, False, FileNotFoundError, "read a file that does not exist",
          _in_scratch(lambda d: _read(os.path.join(d, "config", "settings.json")))),
    Fault("filesystem.not-a-directory", F, False, NotADirectoryError, "use a regular file as a folder",
          _in_scratch(lambda d: _read(os.path.join(_touch(os.path.join(d, "report.txt")), "part-1")))),
    Fault("filesystem.is-a-directory", F, False, IsADirectoryError, "open a folder as a file",
          _in_scratch(lambda d: _read(d))),
    Fault("filesystem.file-exists", F, False, FileExistsError, "create a folder that already exists",
          _in_scratch(lambda d: os.mkdir(d))),
    Fault("filesystem.directory-not-empty", F, False, OSError, "remove a folder that still has files",
          _in_scratch(_not_empty), errno=errno.ENOTEMPTY),
    Fault("filesystem.permission-denied", F, False, PermissionError, "execute a file with no execute bit",
          _in_scratch(_not_executable)),
    Fault("validation.bad-json", V, False, json.JSONDecodeError, "json.loads of a truncated document",
          _raising(lambda: json.loads('{"id": 1, "name": '))),
    Fault("validation.bad-integer", V, False, ValueError, "int() of text that is not a number",
          _raising(lambda: int("12a"))),
    Fault("validation.bad-toml", V, False, tomllib.TOMLDecodeError, "tomllib.loads of a key without a value",
          _raising(lambda: tomllib.loads("retries = \n"))),
    Fault("validation.bad-utf8", V, False, UnicodeDecodeError, "decode bytes that are not UTF-8",
          _raising(lambda: b"\xff\xfeid".decode("utf-8"))),
    Fault("validation.bad-date", V, False, ValueError, "date.fromisoformat of a month 13",
          _raising(lambda: datetime.date.fromisoformat("2026-13-01"))),
    Fault("programming.attribute-error", P, False, AttributeError, "call a method on None",
          _raising(lambda: _nothing.upper())),  # type: ignore[attr-defined]
    Fault("programming.type-error", P, False, TypeError, "add an int to a str",
          _raising(lambda: "total: " + _count)),  # type: ignore[operator]
    Fault("programming.key-error", P, False, KeyError, "read a key the program's own dict lacks",
          _raising(lambda: _payload["user_id"])),
    Fault("programming.index-error", P, False, IndexError, "index an empty list",
          _raising(lambda: [][0])),
    Fault("programming.zero-division", P, False, ZeroDivisionError, "divide by zero",
          _raising(lambda: len(_payload) / (len(_payload) - 1))),
    Fault("programming.name-error", P, False, NameError, "use a name that is not defined",
          _raising(lambda: eval("undefined_total + 1", {}))),
    Fault("programming.recursion-error", P, False, RecursionError, "recurse without a base case",
          _raising(_runaway_recursion)),
    Fault("programming.assertion-error", P, False, AssertionError, "a failed assert with its message",
          _raising(lambda: exec("assert len(rows) == 2, 'expected 2 rows'", {"rows": [1]}))),
    Fault("unknown.inappropriate-ioctl", U, False, OSError, "a terminal ioctl on a regular file (ENOTTY)",
          _in_scratch(_inappropriate_ioctl), errno=errno.ENOTTY),
    Fault("unknown.broken-barrier", U, False, threading.BrokenBarrierError, "wait on an aborted barrier",
          _raising(_broken_barrier)),
    Fault("unknown.future-cancelled", U, False, concurrent.futures.CancelledError,
          "result() of a cancelled future", _raising(_cancelled_future)),
)
