"""Helpers for batch 85 (embedded key-value stores, no server): a case that must also carry a message token,
remounting a tmpfs read-only, a lowered open-files limit, and a second
process that holds a store open (and its lock) while the batch tries to open it again."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from checked import problem


class NotTheProvokedCause(Exception):
    """Raised instead of the real exception when its message lacks the provoked cause's token, so that
    `python_records` drops the case and reports it."""


def expect(token: str, fn: Callable[[], Any], name: str = "") -> Callable[[], Any]:
    """`fn`, whose exception must also name the cause (`A|B`: either token, case-insensitive) in its text;
    for stores whose exception types say nothing (rocksdict raises bare `Exception`)."""

    def checked() -> Any:
        try:
            return fn()
        except Exception as exc:
            text = str(exc).lower()
            if any(t.lower() in text for t in token.split("|")):
                raise
            problem(name or getattr(fn, "__name__", "case"), f"message lacks {token!r}")
            raise NotTheProvokedCause(token) from None

    return checked


def remount_read_only(mountpoint: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mountpoint)], check=True, capture_output=True)


@contextlib.contextmanager
def few_open_files(spare: int) -> Iterator[None]:
    """Lower this process's soft RLIMIT_NOFILE to what is open now plus `spare`; restore it afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + spare, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@contextlib.contextmanager
def holder(code: str, python: str = sys.executable) -> Iterator[None]:
    """Run `code` in another Python process until it prints a line (it opened the store and keeps it open);
    kill that process (by its own id) on exit."""
    proc = subprocess.Popen([python, "-c", code + "\nimport sys, time\nprint('ready', flush=True)\ntime.sleep(60)"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        if proc.stdout is None or not proc.stdout.readline():
            raise RuntimeError("holder process did not open the store")
        yield
    finally:
        proc.kill()
        proc.wait(timeout=10)


def lmdb_dump(path: Path, entries: int, mapsize: int) -> None:
    """An `mdb_dump`-format file (bytevalue) whose header asks for a small map size."""
    lines = ["VERSION=3", "format=bytevalue", "type=btree", f"mapsize={mapsize}", "maxreaders=126", "HEADER=END"]
    for i in range(entries):
        lines.append(" " + (b"sku-%06d" % i).hex())
        lines.append(" " + (b"{\"stock\": %d, \"bin\": \"A-%04d\"}" % (i * 7 % 113, i)).hex() + "00" * 48)
    lines.append("DATA=END")
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


__all__ = ["NotTheProvokedCause", "expect", "few_open_files", "holder", "lmdb_dump", "remount_read_only"]
