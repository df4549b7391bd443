"""Repairs for a repository whose state blocks work: stale lock files and half-finished operations.

A lock file is removed only when no live process could own it: no process has it open, no running git
process works in (or names) the repository, and it is older than ``min_age`` seconds (a git that has just
started may not be visible yet). Half-finished merges, rebases, cherry-picks, reverts and ``git am``
sessions are ended with git's own ``--abort``, which puts HEAD, index and files back as they were
before the operation started. Submodules and nested repositories are never entered.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from recoup.recovery.actions.base import ActionReport, ReportBuilder
from recoup.recovery.actions.git import GitError, RepoPaths, locate, run_git

_TOP_LOCKS = ("index.lock", "HEAD.lock", "ORIG_HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock")


@dataclass(frozen=True)
class ProcessInfo:
    """A running process that may be using a repository, and why we think so."""

    pid: int
    command: str
    reason: str


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def processes_using(paths: RepoPaths, lock_files: tuple[Path, ...] = ()) -> list[ProcessInfo]:
    """Processes (found in /proc) that hold one of ``lock_files`` open, or git processes tied to the repo.

    A git process is tied to the repo when its working folder is inside it, or an argument or its
    GIT_DIR / GIT_WORK_TREE / GIT_INDEX_FILE names a path inside it.
    """
    roots = tuple({str(paths.worktree), str(paths.git_dir), os.path.realpath(paths.worktree),
                   os.path.realpath(paths.git_dir)})
    locks = {os.path.realpath(p) for p in lock_files}
    found: list[ProcessInfo] = []
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        base = f"/proc/{name}"
        argv = [os.fsdecode(a) for a in _read(f"{base}/cmdline").split(b"\0") if a]
        command = " ".join(argv) or _read(f"{base}/comm").decode(errors="replace").strip()
        reason = _holds(base, locks)
        if reason is None and _is_git(base, argv):
            reason = _git_ties(base, argv, roots)
        if reason is not None:
            found.append(ProcessInfo(int(name), command, reason))
    return found


def _holds(base: str, locks: set[str]) -> str | None:
    if not locks:
        return None
    try:
        fds = os.listdir(f"{base}/fd")
    except OSError:
        return None
    for fd in fds:
        with contextlib.suppress(OSError):
            target = os.readlink(f"{base}/fd/{fd}")
            if target in locks:
                return f"has {target} open"
    return None


def _is_git(base: str, argv: list[str]) -> bool:
    comm = _read(f"{base}/comm").decode(errors="replace").strip()
    return comm.startswith("git") or (bool(argv) and os.path.basename(argv[0]).startswith("git"))


def _git_ties(base: str, argv: list[str], roots: tuple[str, ...]) -> str | None:
    with contextlib.suppress(OSError):
        cwd = os.readlink(f"{base}/cwd")
        if _under(cwd, roots):
            return f"git process working in {cwd}"
    for arg in argv[1:]:
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        if value.startswith("/") and _under(os.path.normpath(value), roots):
            return f"git process with argument {arg}"
    for item in _read(f"{base}/environ").split(b"\0"):
        key, _, value = os.fsdecode(item).partition("=")
        if key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE") and _under(os.path.normpath(value), roots):
            return f"git process with {key}={value}"
    return None


def _lock_files(paths: RepoPaths) -> list[Path]:
    found = [paths.git_dir / n for n in _TOP_LOCKS if (paths.git_dir / n).exists()]
    refs = paths.git_dir / "refs"
    if refs.is_dir():
        found.extend(sorted(refs.rglob("*.lock")))
    return found


def remove_stale_locks(repo: str | os.PathLike[str], *, min_age: float = 5.0) -> ActionReport:
    """Remove git lock files (``index.lock``, ``HEAD.lock``, ref locks, ...) that nothing alive holds.

    Refuses while any process holds a lock or any git process works on this repository; keeps locks
    younger than ``min_age`` seconds. Idempotent: with no stale lock it reports no change.
    """
    rb = ReportBuilder("git.remove_stale_locks")
    paths = locate(repo)
    locks = _lock_files(paths)
    if not locks:
        return rb.build()
    users = processes_using(paths, tuple(locks))
    if users:
        for p in users:
            rb.note(f"pid {p.pid} ({p.command}): {p.reason}")
        return rb.build(refused="a live process may own the lock: " + ", ".join(str(p.pid) for p in users))
    now = time.time()
    for lock in locks:
        try:
            age = now - os.lstat(lock).st_mtime
        except FileNotFoundError:
            continue
        if age < min_age:
            rb.note(f"kept {lock}: only {age:.1f}s old (a git process may just have started)")
            continue
        lock.unlink(missing_ok=True)
        rb.change(f"removed stale lock {lock} ({age:.0f}s old, no process holds it)")
    return rb.build()


def operation_in_progress(repo: str | os.PathLike[str] | RepoPaths) -> str | None:
    """The half-finished operation recorded in the git directory (``rebase``, ``am``, ``merge``,
    ``cherry-pick`` or ``revert``), or None."""
    paths = repo if isinstance(repo, RepoPaths) else locate(repo)
    g = paths.git_dir
    if (g / "rebase-apply" / "applying").exists():
        return "am"
    if (g / "rebase-merge").is_dir() or (g / "rebase-apply").is_dir():
        return "rebase"
    if (g / "MERGE_HEAD").exists():
        return "merge"
    if (g / "CHERRY_PICK_HEAD").exists():
        return "cherry-pick"
    if (g / "REVERT_HEAD").exists():
        return "revert"
    return None


def abort_in_progress(repo: str | os.PathLike[str]) -> ActionReport:
    """End a half-finished merge / rebase / cherry-pick / revert / am with ``git <op> --abort``.

    Idempotent (no operation in progress: no change). Refuses while ``index.lock`` exists; run
    :func:`remove_stale_locks` first when it is stale.
    """
    rb = ReportBuilder("git.abort_in_progress")
    paths = locate(repo)
    tried: set[str] = set()
    while (op := operation_in_progress(paths)) is not None:
        if op in tried:
            return rb.build(refused=f"`git {op} --abort` ran but the {op} is still in progress")
        tried.add(op)
        if (paths.git_dir / "index.lock").exists():
            return rb.build(refused=f"{paths.git_dir / 'index.lock'} exists; not aborting the {op}")
        try:
            run_git(paths.worktree, op, "--abort")
        except GitError as exc:
            return rb.build(refused=f"`git {op} --abort` failed: {exc.stderr.strip()}")
        rb.change(f"aborted the {op} in progress in {paths.worktree} (git {op} --abort)")
    return rb.build()
