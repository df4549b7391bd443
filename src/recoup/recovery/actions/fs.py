"""Filesystem repairs confined to configured roots: missing folders and missing owner permission bits.

Paths are walked one component at a time from a root: a symlink is followed only when it resolves inside
that root, ``..`` may never climb above it, and a file where a folder should be stops the walk. Nothing is
ever deleted. Permission bits are added only to files the process owns (``is_owner``, injectable so tests
running as root can exercise the refusal) and never through a symlink.

Limit: the checks use lstat/realpath then act by path, so a hostile process swapping a component for a
symlink between the check and the mkdir is not defended against (that would need dir-fd walking).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from recoup.recovery.actions.base import ActionReport, ReportBuilder

StrPath = str | os.PathLike[str]
OwnerCheck = Callable[[os.stat_result], bool]

_BITS = {"r": stat.S_IRUSR, "w": stat.S_IWUSR, "x": stat.S_IXUSR}


def owned_by_me(st: os.stat_result) -> bool:
    """The default ownership test: the file belongs to the effective user."""
    return st.st_uid == os.geteuid()


class _Refused(Exception):
    pass


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _split_under_root(path: StrPath, roots: Sequence[StrPath]) -> tuple[Path, tuple[str, ...]]:
    """(resolved root, components below it) for the first root that ``path`` starts with, lexically."""
    p = _absolute(path)
    for root in roots:
        for form in (Path(os.path.abspath(os.fspath(root))), Path(os.path.realpath(root))):
            if p.parts[: len(form.parts)] == form.parts:
                return Path(os.path.realpath(root)), p.parts[len(form.parts) :]
    raise _Refused(f"{path} is outside the configured roots")


def _absolute(path: StrPath) -> Path:
    """Absolute, but keeping '..' components (abspath would collapse them lexically, hiding an escape)."""
    p = Path(path)
    return p if p.is_absolute() else Path.cwd() / p


def _walk(path: StrPath, roots: Sequence[StrPath], last: str, rb: ReportBuilder, create: bool = True) -> Path:
    """Resolve ``path`` safely inside its root, then create what is missing when ``create``.

    Everything is checked before anything is created, so a refused path leaves no trace. ``last`` says
    what a missing final component becomes: "dir", "file" or "none" (leave it missing). Returns the
    resolved path (or, without ``create``, the first missing one).
    """
    root, parts = _split_under_root(path, roots)
    cur, cur_is_dir = root, True
    pending: list[str] = []  # missing components below ``cur``; no symlink can hide among them
    for part in parts:
        if part in ("", "."):
            continue
        if part == "..":
            if pending:
                pending.pop()
                continue
            if not cur_is_dir:
                raise _Refused(f"{cur} is not a folder")
            cur = cur.parent
            if not _inside(cur, root):
                raise _Refused(f"'..' in {path} escapes the root {root}")
            continue
        if pending:
            pending.append(part)
            continue
        if not cur_is_dir:
            raise _Refused(f"{cur} is not a folder")
        cand = cur / part
        try:
            st = os.lstat(cand)
        except FileNotFoundError:
            pending.append(part)
            continue
        if stat.S_ISLNK(st.st_mode):
            target = Path(os.path.realpath(cand))
            if not _inside(target, root):
                raise _Refused(f"{cand} is a symlink leading outside the root {root} (to {target})")
            if not target.exists():
                raise _Refused(f"{cand} is a dangling symlink (to {target})")
            cand, st = target, os.stat(target)
        cur, cur_is_dir = cand, stat.S_ISDIR(st.st_mode)
    if not pending:
        if last == "dir" and not cur_is_dir:
            raise _Refused(f"{cur} exists and is not a folder")
        return cur
    if not create:
        return cur / pending[0]
    for i, part in enumerate(pending):
        cur = cur / part
        if i == len(pending) - 1 and last == "none":
            break
        if i == len(pending) - 1 and last == "file":
            fd = os.open(cur, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
            os.close(fd)
            rb.change(f"created empty file {cur}")
            break
        os.mkdir(cur)
        rb.change(f"created folder {cur}")
    return cur


def ensure_dir(path: StrPath, *, roots: Sequence[StrPath]) -> ActionReport:
    """Create folder ``path`` and its missing parents, only inside ``roots``; idempotent."""
    rb = ReportBuilder("fs.ensure_dir")
    try:
        _walk(path, roots, "dir", rb)
    except _Refused as exc:
        return rb.build(refused=str(exc))
    return rb.build()


def ensure_parent(path: StrPath, *, roots: Sequence[StrPath], create_file: bool = False) -> ActionReport:
    """Create the missing parent folders of ``path`` (and an empty file at ``path`` if asked), inside ``roots``."""
    rb = ReportBuilder("fs.ensure_parent")
    try:
        _walk(path, roots, "file" if create_file else "none", rb)
    except _Refused as exc:
        return rb.build(refused=str(exc))
    return rb.build()


def _parse_bits(bits: str) -> int:
    spec = bits.removeprefix("u+")
    if not spec or any(c not in _BITS for c in spec):
        raise ValueError(f"expected owner bits like 'u+w' or 'u+rx', got {bits!r}")
    mode = 0
    for c in spec:
        mode |= _BITS[c]
    return mode


def ensure_mode(
    path: StrPath, bits: str, *, roots: Sequence[StrPath], is_owner: OwnerCheck = owned_by_me
) -> ActionReport:
    """Add the owner permission ``bits`` (``"u+w"``, ``"u+rx"``, ...) to ``path`` if missing; idempotent.

    Refuses outside ``roots``, for symlinks, and for files the process does not own.
    """
    rb = ReportBuilder("fs.ensure_mode")
    want = _parse_bits(bits)
    try:
        target = _walk(path, roots, "none", rb, create=False)
    except _Refused as exc:
        return rb.build(refused=str(exc))
    return _add_bits(target, want, is_owner, rb)


def _add_bits(target: Path, want: int, is_owner: OwnerCheck, rb: ReportBuilder) -> ActionReport:
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return rb.build(refused=f"{target} does not exist")
    if stat.S_ISLNK(st.st_mode):
        return rb.build(refused=f"{target} is a symlink; not changing permissions through it")
    if st.st_mode & want == want:
        return rb.build()
    if not is_owner(st):
        return rb.build(refused=f"{target} belongs to uid {st.st_uid}, not to this process")
    old = stat.S_IMODE(st.st_mode)
    os.chmod(target, old | want, follow_symlinks=False)
    rb.change(f"changed mode of {target} from {old:04o} to {old | want:04o}")
    return rb.build()


def _needed_bits(st: os.stat_result, target: Path) -> int:
    """The owner bits a PermissionError on ``target`` most likely lacked."""
    if stat.S_ISDIR(st.st_mode):
        return stat.S_IRUSR | stat.S_IWUSR | stat.S_IXUSR
    need = stat.S_IRUSR | stat.S_IWUSR
    if st.st_mode & need == need:
        try:
            with open(target, "rb") as fh:
                if fh.read(2) == b"#!":
                    need |= stat.S_IXUSR  # a script that could not be executed
        except OSError:
            pass
    return need


def repair_for(
    exc: BaseException,
    *,
    roots: Sequence[StrPath],
    create_file: bool = False,
    is_owner: OwnerCheck = owned_by_me,
) -> ActionReport | None:
    """Pick and run the repair for a filesystem error; None when no repair applies.

    FileNotFoundError: create the missing parent folders (and the file itself only with ``create_file``).
    PermissionError: add missing owner bits to the first folder on the way lacking search (x) permission,
    else to the path itself (folders get rwx, files r and w, scripts also x). NotADirectoryError: nothing
    can be done without deleting a file, so a refusal naming the blocking file is returned.
    """
    if not isinstance(exc, OSError) or exc.filename is None:
        return None
    target = Path(os.fsdecode(exc.filename))
    if isinstance(exc, FileNotFoundError):
        return _repair_missing(exc, target, roots, create_file)
    if isinstance(exc, PermissionError) and exc.errno in (errno.EACCES, errno.EPERM):
        return _repair_permission(target, roots, is_owner)
    if isinstance(exc, NotADirectoryError):
        rb = ReportBuilder("fs.not_a_directory")
        blocker = next((p for p in reversed(target.parents) if p.exists() and not p.is_dir()), None)
        return rb.build(refused=f"{blocker or target} is a file where a folder is expected; not deleting it")
    return None


def _repair_missing(
    exc: FileNotFoundError, target: Path, roots: Sequence[StrPath], create_file: bool
) -> ActionReport | None:
    # For a two-path call (rename, copy, link) the destination's folder is the usual missing piece.
    candidates = [target]
    if exc.filename2 is not None:
        candidates.insert(0, Path(os.fsdecode(exc.filename2)))
    for cand in candidates:
        parent = Path(os.path.abspath(cand)).parent
        if not parent.exists():
            return ensure_parent(cand, roots=roots, create_file=create_file)
    if create_file and not os.path.lexists(target):
        return ensure_parent(target, roots=roots, create_file=True)
    return None


def _repair_permission(target: Path, roots: Sequence[StrPath], is_owner: OwnerCheck) -> ActionReport:
    rb = ReportBuilder("fs.fix_permission")
    try:
        resolved_root, parts = _split_under_root(target, roots)
    except _Refused as exc:
        return rb.build(refused=str(exc))
    cur = resolved_root
    for part in parts[:-1]:  # a folder on the way without search permission blocks everything below it
        cur = cur / part
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            break
        if stat.S_ISDIR(st.st_mode) and not st.st_mode & stat.S_IXUSR:
            return ensure_mode(cur, "u+x", roots=roots, is_owner=is_owner)
    try:
        real = _walk(target, roots, "none", rb, create=False)
    except _Refused as exc:
        return rb.build(refused=str(exc))
    if not os.path.lexists(real):  # creating a new entry: the folder must be writable and searchable
        real = real.parent
    try:
        st = os.lstat(real)
    except FileNotFoundError:
        return rb.build(refused=f"{real} does not exist")
    return _add_bits(real, _needed_bits(st, real), is_owner, rb)
