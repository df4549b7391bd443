"""Checkpoint a git work tree before a risky step and put it back after a failure.

A checkpoint is one commit under ``refs/recoup/checkpoints/<id>`` whose tree holds
``files`` (tracked + untracked, never ignored, as they were on disk), ``index`` (what was staged; or
``index-file``, the index itself, while it holds merge conflicts) and ``protected`` (the ignored paths that
existed, so a restore never deletes them). It is built through a
private index file inside the git directory, so the user's ``.git/index`` is read but never written,
and the stash is never used (a stash misses untracked files, and it belongs to the user).

Nothing is ever renamed inside ``.git`` and no long-lived lock is taken: a process killed at any
moment leaves at most a temporary file named after its pid, which the next call removes. The only
write to the user's index (at restore) is git's own protocol: create ``index.lock`` exclusively,
atomically replace ``index``, drop the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from recoup.recovery.actions.base import ActionReport, ReportBuilder
from recoup.recovery.actions.git import (
    GitError,
    RepoPaths,
    git_out,
    head_branch,
    head_commit,
    locate,
    run_git,
)

REF_PREFIX = "refs/recoup/checkpoints/"
_TMP_PREFIX = "recoup-tmp-"
_LOCK_OWNER = b"recoup-lock pid="
_GITLINK = "160000"
_MAX_LISTED = 100


class CheckpointError(RuntimeError):
    """A checkpoint could not be taken (the repository is left exactly as it was)."""


@dataclass(frozen=True)
class Checkpoint:
    """A saved state of one work tree; everything needed to restore it is in the git objects."""

    id: str
    worktree: Path
    git_dir: Path
    ref: str
    commit: str
    files_tree: str
    index_tree: str
    head: str | None
    branch: str | None
    marker_ns: int
    protected: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # When the index held unresolved conflicts (no tree can express them): the index file itself, as a blob,
    # and ``index_tree`` is "".
    index_file: str | None = None

    @property
    def paths(self) -> RepoPaths:
        return RepoPaths(self.worktree, self.git_dir)

    def report(self) -> ActionReport:
        """What taking this checkpoint changed: one hidden ref (plus objects), nothing the user sees."""
        rb = ReportBuilder("git.checkpoint")
        rb.change(f"saved {self.worktree} (tracked, staged and untracked files) as {self.ref}")
        for warning in self.warnings:
            rb.note(f"not saved: {warning}")
        return rb.build()


# --- temporary files -------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_leftovers(repo: str | os.PathLike[str] | RepoPaths) -> ActionReport:
    """Remove what a killed recoup process left behind: its temporary index files and its index.lock.

    Only files that are provably ours (our name prefix or our lock marker) and whose process is dead.
    """
    paths = repo if isinstance(repo, RepoPaths) else locate(repo)
    rb = ReportBuilder("git.sweep_leftovers")
    for entry in paths.git_dir.glob(f"{_TMP_PREFIX}*"):
        pid_text = entry.name[len(_TMP_PREFIX) :].split("-", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                rb.change(f"removed leftover temporary file {entry}")
    ref_dir = paths.git_dir / REF_PREFIX
    if ref_dir.is_dir():
        for entry in ref_dir.glob("*.lock"):  # a ref lock left by a checkpoint killed inside update-ref
            pid_text = entry.name.split("-")[1] if entry.name.count("-") >= 2 else ""
            if pid_text.isdigit() and not _pid_alive(int(pid_text)):
                entry.unlink(missing_ok=True)
                rb.change(f"removed leftover ref lock {entry}")
    lock = paths.git_dir / "index.lock"
    try:
        with open(lock, "rb") as fh:
            content = fh.read(64)
    except OSError:
        content = b""
    if content.startswith(_LOCK_OWNER):
        pid_text = content[len(_LOCK_OWNER) :].split(b"\n", 1)[0].decode(errors="replace")
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
                rb.change(f"removed {lock} left by killed recoup process {pid_text}")
    return rb.build()


@contextlib.contextmanager
def _temp_index(paths: RepoPaths, seed: bool) -> Iterator[Path]:
    """A private index file in the git directory, optionally a copy of the user's index (for its stat cache)."""
    tmp = paths.git_dir / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}.index"
    if seed:
        with contextlib.suppress(FileNotFoundError):
            shutil.copyfile(paths.git_dir / "index", tmp)
    try:
        yield tmp
    finally:
        for leftover in (tmp, Path(f"{tmp}.lock")):
            leftover.unlink(missing_ok=True)


def _now_on_file_clock(paths: RepoPaths) -> int:
    """The current time as the filesystem stamps it (coarse kernel clock), for comparing ctimes."""
    marker = paths.git_dir / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}.marker"
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        return os.fstat(fd).st_ctime_ns
    finally:
        os.close(fd)
        marker.unlink(missing_ok=True)


# --- building blocks -------------------------------------------------------------------------------


def _staged_state(paths: RepoPaths, tmp: Path) -> tuple[str, str | None]:
    """(staged tree, None) of the copied index; ("", blob of the index file) when it holds conflicts.

    A tree cannot express conflict stages, so in the middle of a merge the index file itself is kept.
    """
    try:
        return git_out(paths.worktree, "write-tree", index=tmp), None
    except GitError as exc:
        if "unmerged" not in exc.stderr:
            raise CheckpointError(f"cannot record the staged state of {paths.worktree}: {exc.stderr.strip()}") from exc
    return "", git_out(paths.worktree, "hash-object", "-w", "--stdin", stdin=tmp.read_bytes())


def _files_tree(paths: RepoPaths, tmp: Path) -> tuple[str, tuple[str, ...]]:
    """Add every non-ignored file into the private index and write its tree; returns (tree, warnings)."""
    proc = run_git(paths.worktree, "add", "-A", "--ignore-errors", "--", ".", index=tmp, ok_codes=(0, 1))
    warnings = tuple(
        line for line in proc.stderr.decode(errors="replace").splitlines() if line.startswith(("error", "fatal"))
    )
    return git_out(paths.worktree, "write-tree", index=tmp), warnings


def _ignored_paths(paths: RepoPaths) -> tuple[str, ...]:
    """Ignored files and folders present now (folders collapsed, ending in '/')."""
    out = run_git(paths.worktree, "ls-files", "-z", "-o", "-i", "--exclude-standard", "--directory").stdout
    return tuple(os.fsdecode(p) for p in out.split(b"\0") if p)


def _new_id() -> str:
    """Sortable by time; carries our pid so a lock left on this ref by a killed process can be proven stale."""
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}-{secrets.token_hex(4)}"


# --- public API ------------------------------------------------------------------------------------


def checkpoint(repo: str | os.PathLike[str]) -> Checkpoint:
    """Save the work tree (tracked, staged and untracked files; not ignored ones) of the repo at ``repo``.

    The user's index, stash, branches and ignored files are not touched; a conflicted index (mid-merge) is
    saved as it is. Raises :class:`CheckpointError` when ``repo`` is not a work tree or its index is unreadable.
    """
    try:
        paths = locate(repo)
    except GitError as exc:
        raise CheckpointError(str(exc)) from exc
    sweep_leftovers(paths)
    head = head_commit(paths)
    branch = head_branch(paths)
    cid = _new_id()
    marker_ns = _now_on_file_clock(paths)
    with _temp_index(paths, seed=True) as tmp:
        index_tree, index_file = _staged_state(paths, tmp)
        files_tree, warnings = _files_tree(paths, tmp)
    protected = _ignored_paths(paths)
    wt = paths.worktree
    protected_blob = git_out(wt, "hash-object", "-w", "--stdin", stdin=b"\0".join(os.fsencode(p) for p in protected))
    entries = [f"040000 tree {files_tree}\tfiles", f"100644 blob {protected_blob}\tprotected"]
    if index_file is None:
        entries.append(f"040000 tree {index_tree}\tindex")
    else:
        entries.append(f"100644 blob {index_file}\tindex-file")
    tree = git_out(wt, "mktree", "-z", stdin="".join(e + "\x00" for e in entries).encode())
    meta = {"version": 1, "id": cid, "head": head, "branch": branch, "marker_ns": marker_ns, "warnings": warnings}
    message = f"recoup checkpoint {cid}\n\n{json.dumps(meta, sort_keys=True)}\n"
    parents = ["-p", head] if head else []
    commit = git_out(wt, "commit-tree", tree, *parents, "-F", "-", stdin=message.encode())
    ref = REF_PREFIX + cid
    run_git(wt, "update-ref", ref, commit, "")
    return Checkpoint(cid, wt, paths.git_dir, ref, commit, files_tree, index_tree, head, branch, marker_ns, protected,
                      warnings, index_file)


def list_checkpoints(repo: str | os.PathLike[str]) -> list[Checkpoint]:
    """The checkpoints kept in the repo (oldest first), e.g. to restore after the process that took one died."""
    paths = locate(repo)
    out = git_out(paths.worktree, "for-each-ref", "--sort=refname", "--format=%(refname) %(objectname)", REF_PREFIX)
    result = []
    for line in out.splitlines():
        ref, commit = line.split(" ", 1)
        result.append(_load(paths, ref, commit))
    return result


def _load(paths: RepoPaths, ref: str, commit: str) -> Checkpoint:
    wt = paths.worktree
    body = git_out(wt, "cat-file", "commit", commit).split("\n\n", 1)[1]
    meta = json.loads(body.split("\n\n", 1)[1])
    entries: dict[str, str] = {}
    for record in run_git(wt, "ls-tree", "-z", commit).stdout.decode().split("\0"):
        if record:
            info, name = record.split("\t", 1)
            entries[name] = info.split()[2]
    files_tree, index_tree, index_file = entries["files"], entries.get("index", ""), entries.get("index-file")
    raw = run_git(wt, "cat-file", "blob", f"{commit}:protected").stdout
    protected = tuple(os.fsdecode(p) for p in raw.split(b"\0") if p)
    return Checkpoint(meta["id"], wt, paths.git_dir, ref, commit, files_tree, index_tree, meta["head"], meta["branch"],
                      int(meta["marker_ns"]), protected, tuple(meta.get("warnings", ())), index_file)


def discard(cp: Checkpoint) -> ActionReport:
    """Drop the checkpoint's ref (idempotent); its objects become garbage for ``git gc``.

    ``git update-ref -d`` locks ``packed-refs``; a process killed then would leave a lock that blocks the
    user's own branch deletions. So when the ref is a plain loose file (the usual case: git packs refs
    only on gc), it is removed directly, which is atomic and takes no lock.
    """
    rb = ReportBuilder("git.discard_checkpoint")
    loose = cp.git_dir / cp.ref
    packed = cp.git_dir / "packed-refs"
    simple = not (cp.git_dir / "commondir").exists() and not (
        packed.exists() and cp.ref.encode() in packed.read_bytes()
    )
    if simple:
        try:
            loose.unlink()
        except FileNotFoundError:
            return rb.build()
        rb.change(f"deleted checkpoint ref {cp.ref}")
        return rb.build()
    proc = run_git(cp.worktree, "rev-parse", "-q", "--verify", cp.ref, ok_codes=(0, 1, 128))
    if proc.returncode == 0:
        run_git(cp.worktree, "update-ref", "-d", cp.ref, proc.stdout.decode().strip())
        rb.change(f"deleted checkpoint ref {cp.ref}")
    return rb.build()


def restore(
    cp: Checkpoint,
    *,
    remove_new_files: bool = True,
    move_head: bool = False,
    keep: bool = False,
) -> ActionReport:
    """Bring files and index back to the checkpoint; idempotent.

    Files created after the checkpoint are removed when ``remove_new_files`` (never ignored files, never a
    file that existed at checkpoint time, never a nested repository). HEAD is moved back only with
    ``move_head``; otherwise a moved HEAD is reported. The checkpoint ref is discarded unless ``keep``.
    """
    rb = ReportBuilder("git.restore_checkpoint")
    paths = cp.paths
    sweep = sweep_leftovers(paths)
    for detail in sweep.details:
        rb.change(detail)
    if (paths.git_dir / "index.lock").exists():
        return rb.build(refused=f"{paths.git_dir / 'index.lock'} exists: a git process may be running; nothing touched")
    with _temp_index(paths, seed=True) as tmp:
        try:
            current_index: str | None = git_out(paths.worktree, "write-tree", index=tmp)
        except GitError:
            current_index = None  # conflicts in the index: it differs from the checkpoint's
        current_files, _ = _files_tree(paths, tmp)
    complete = current_files == cp.files_tree or _restore_files(cp, current_files, rb, remove_new_files)
    if _index_differs(cp, current_index):
        refusal = _restore_index(cp)
        if refusal:
            return rb.build(refused=refusal)
        rb.change("restored the index (what was staged) to its state at the checkpoint")
    _handle_head(cp, rb, move_head)
    if not complete:
        rb.note(f"kept {cp.ref}: some paths could not be restored safely (see above)")
    elif not keep:
        for detail in discard(cp).details:
            rb.note(detail)
    return rb.build()


@contextlib.contextmanager
def guarded(
    repo: str | os.PathLike[str], *, remove_new_files: bool = True, move_head: bool = False
) -> Iterator[Checkpoint]:
    """Checkpoint ``repo``, run the block, restore if it raises (then re-raise), discard if it succeeds."""
    cp = checkpoint(repo)
    try:
        yield cp
    except BaseException:
        restore(cp, remove_new_files=remove_new_files, move_head=move_head)
        raise
    discard(cp)


# --- restore internals -----------------------------------------------------------------------------


def _diff(cp: Checkpoint, current: str) -> list[tuple[str, str, str, str]]:
    """(status, old mode, new mode, path) for every path that differs between now and the checkpoint."""
    raw = run_git(cp.worktree, "diff-tree", "-r", "-z", "--no-renames", current, cp.files_tree).stdout
    fields = raw.split(b"\0")
    result = []
    for i in range(0, len(fields) - 1, 2):
        head, path = fields[i].decode(), os.fsdecode(fields[i + 1])
        old_mode, new_mode, _old, _new, status = head.lstrip(":").split(" ")
        result.append((status[0], old_mode, new_mode, path))
    return result


def _is_protected(cp: Checkpoint, path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in cp.protected)


def _remove_new_file(cp: Checkpoint, path: str, rb: ReportBuilder) -> None:
    full = cp.worktree / path
    if _is_protected(cp, path):
        rb.note(f"kept {full}: it existed (ignored) at the checkpoint")
        return
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        rb.note(f"kept folder {full}")
        return
    if st.st_ctime_ns <= cp.marker_ns:
        rb.note(f"kept {full}: it existed before the checkpoint")
        return
    full.unlink()
    rb.change(f"removed {full} (created after the checkpoint)")


def _blocked(cp: Checkpoint, path: str) -> str | None:
    """Why ``path`` cannot be written without destroying something, or None when it can."""
    parts = path.split("/")
    cur = cp.worktree
    for part in parts[:-1]:
        cur = cur / part
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            return None
        if not stat.S_ISDIR(st.st_mode):
            return f"{cur} is in the way (not a folder)"
    full = cp.worktree / path
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        # A folder where the checkpoint had a file was created afterwards; remove it only if it holds nothing.
        for root, dirs, _files in os.walk(full, topdown=False):
            for d in dirs:
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(root, d))
        try:
            os.rmdir(full)
        except OSError:
            return f"folder {full} with files in it is in the way"
    return None


def _restore_files(cp: Checkpoint, current: str, rb: ReportBuilder, remove_new_files: bool) -> bool:
    """Write back what differs; False when some path had to be left as it is."""
    to_write: list[str] = []
    for status, old_mode, new_mode, path in _diff(cp, current):
        full = cp.worktree / path
        if _GITLINK in (old_mode, new_mode):
            rb.note(f"left nested repository/submodule {full} intact")
        elif status == "D":
            if remove_new_files:
                _remove_new_file(cp, path, rb)
            else:
                rb.note(f"kept {full} (created after the checkpoint; remove_new_files=False)")
        else:
            to_write.append(path)
    written = []
    for path in to_write:
        why = _blocked(cp, path)
        if why:
            rb.note(f"did not restore {cp.worktree / path}: {why}")
        else:
            written.append(path)
    if not written:
        return len(written) == len(to_write)
    with _temp_index(cp.paths, seed=False) as tmp:
        run_git(cp.worktree, "read-tree", cp.files_tree, index=tmp)
        run_git(cp.worktree, "checkout-index", "-f", "-z", "--stdin", index=tmp,
                stdin=b"\0".join(os.fsencode(p) for p in written))
    for path in written[:_MAX_LISTED]:
        rb.change(f"restored {cp.worktree / path}")
    if len(written) > _MAX_LISTED:
        rb.change(f"... and {len(written) - _MAX_LISTED} more files restored")
    return len(written) == len(to_write)


def _index_differs(cp: Checkpoint, current_tree: str | None) -> bool:
    if cp.index_file is None:
        return current_tree != cp.index_tree
    try:
        current = (cp.git_dir / "index").read_bytes()
    except FileNotFoundError:
        return True
    return current != run_git(cp.worktree, "cat-file", "blob", cp.index_file).stdout


def _restore_index(cp: Checkpoint) -> str | None:
    """Replace the user's index with the checkpoint's staged state, by git's own lock protocol."""
    paths = cp.paths
    with _temp_index(paths, seed=cp.index_file is None) as tmp:
        if cp.index_file is not None:
            tmp.write_bytes(run_git(paths.worktree, "cat-file", "blob", cp.index_file).stdout)
        else:
            try:  # a one-tree merge keeps the stat cache of unchanged entries, so `git status` stays fast
                run_git(paths.worktree, "read-tree", "-m", cp.index_tree, index=tmp)
            except GitError:
                tmp.unlink(missing_ok=True)
                run_git(paths.worktree, "read-tree", cp.index_tree, index=tmp)
        lock = paths.git_dir / "index.lock"
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return f"{lock} exists: a git process may be running; the index was not restored"
        try:
            os.write(fd, _LOCK_OWNER + str(os.getpid()).encode() + b"\n")
            os.close(fd)
            os.replace(tmp, paths.git_dir / "index")
        finally:
            lock.unlink(missing_ok=True)
    return None


def _short(commit: str | None) -> str:
    return commit[:12] if commit else "(no commit)"


def _handle_head(cp: Checkpoint, rb: ReportBuilder, move_head: bool) -> None:
    paths = cp.paths
    now_head, now_branch = head_commit(paths), head_branch(paths)
    if now_head == cp.head and now_branch == cp.branch:
        return
    moved = (
        f"HEAD moved since the checkpoint: {cp.branch or 'detached'} at {_short(cp.head)} -> "
        f"{now_branch or 'detached'} at {_short(now_head)}"
    )
    if not move_head:
        rb.note(moved + "; left it (restore with move_head=True to move it back)")
        return
    wt = paths.worktree
    msg = f"recoup: restore checkpoint {cp.id}"
    if cp.branch is None:
        assert cp.head is not None  # a detached HEAD always names a commit
        run_git(wt, "update-ref", "--no-deref", "-m", msg, "HEAD", cp.head)
    else:
        if cp.head is None:
            run_git(wt, "update-ref", "-d", cp.branch)
        else:
            run_git(wt, "update-ref", "-m", msg, cp.branch, cp.head)
        if now_branch != cp.branch:
            run_git(wt, "symbolic-ref", "-m", msg, "HEAD", cp.branch)
    rb.change(moved + "; moved it back")
