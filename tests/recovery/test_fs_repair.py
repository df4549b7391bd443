"""Filesystem repairs on real files: folders only inside roots, no symlink escapes, owner-only chmod."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from recoup.recovery.actions.fs import ensure_dir, ensure_mode, ensure_parent, repair_for


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    r.mkdir()
    return r


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    o = tmp_path / "outside"
    o.mkdir()
    return o


def test_ensure_parent_creates_missing_folders_once(root: Path) -> None:
    target = root / "a" / "b" / "c.txt"
    report = ensure_parent(target, roots=[root])
    assert report.changed and report.ok
    assert report.details == (f"created folder {root / 'a'}", f"created folder {root / 'a' / 'b'}")
    assert (root / "a" / "b").is_dir() and not target.exists()
    again = ensure_parent(target, roots=[root])
    assert not again.changed and again.ok and again.details == ()


def test_ensure_parent_can_create_an_empty_file_without_clobbering(root: Path) -> None:
    target = root / "x" / "y.txt"
    assert ensure_parent(target, roots=[root], create_file=True).changed
    assert target.read_bytes() == b""
    target.write_text("user data\n")
    report = ensure_parent(target, roots=[root], create_file=True)
    assert not report.changed and target.read_text() == "user data\n"


def test_ensure_dir_and_relative_paths(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)
    assert ensure_dir("p/q", roots=[root]).changed
    assert (root / "p" / "q").is_dir()
    assert not ensure_dir(root / "p" / "q", roots=[str(root)]).changed


def test_outside_the_roots_is_refused(root: Path, outside: Path) -> None:
    report = ensure_parent(outside / "new" / "f.txt", roots=[root])
    assert report.refused and "outside the configured roots" in report.refused
    assert not report.changed and not (outside / "new").exists()


def test_dotdot_escape_is_refused(root: Path, outside: Path) -> None:
    sneaky = root / "a" / ".." / ".." / "outside" / "evil"
    report = ensure_dir(sneaky, roots=[root])
    assert report.refused and "escapes" in report.refused
    assert not (outside / "evil").exists()
    # '..' that stays inside the root is fine.
    assert ensure_dir(root / "a" / ".." / "b" / "c", roots=[root]).changed
    assert (root / "b" / "c").is_dir() and not (root / "a").exists()


def test_symlink_leading_outside_is_refused(root: Path, outside: Path) -> None:
    os.symlink(outside, root / "link")
    report = ensure_parent(root / "link" / "deep" / "f.txt", roots=[root], create_file=True)
    assert report.refused and "symlink leading outside" in report.refused
    assert list(outside.iterdir()) == []
    os.symlink("../outside", root / "rel")
    assert ensure_dir(root / "rel" / "x", roots=[root]).refused
    assert list(outside.iterdir()) == []


def test_symlink_inside_the_root_is_followed(root: Path) -> None:
    (root / "real").mkdir()
    os.symlink("real", root / "alias")
    report = ensure_parent(root / "alias" / "sub" / "f.txt", roots=[root], create_file=True)
    assert report.changed
    assert (root / "real" / "sub" / "f.txt").is_file()


def test_dangling_symlink_and_file_in_the_way_are_refused(root: Path) -> None:
    os.symlink("nowhere", root / "dangling")
    assert ensure_dir(root / "dangling" / "x", roots=[root]).refused
    assert os.path.islink(root / "dangling")
    (root / "file").write_text("data\n")
    report = ensure_dir(root / "file" / "x", roots=[root])
    assert report.refused and "not a folder" in report.refused
    assert (root / "file").read_text() == "data\n"


def test_ensure_mode_adds_owner_bits_once(root: Path) -> None:
    f = root / "f.txt"
    f.write_text("x\n")
    f.chmod(0o444)
    report = ensure_mode(f, "u+w", roots=[root])
    assert report.changed and stat.S_IMODE(f.stat().st_mode) == 0o644
    assert report.details == (f"changed mode of {f} from 0444 to 0644",)
    assert not ensure_mode(f, "u+w", roots=[root]).changed
    d = root / "d"
    d.mkdir()
    d.chmod(0o600)
    assert ensure_mode(d, "u+x", roots=[root]).changed
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    with pytest.raises(ValueError):
        ensure_mode(f, "g+w", roots=[root])


def test_ensure_mode_refuses_files_owned_by_someone_else(root: Path) -> None:
    f = root / "theirs.txt"
    f.write_text("x\n")
    f.chmod(0o444)
    os.chown(f, 12345, 12345)  # tests run as root, which may give files away
    report = ensure_mode(f, "u+w", roots=[root])
    assert report.refused and "uid 12345" in report.refused
    assert stat.S_IMODE(f.stat().st_mode) == 0o444
    # The ownership check is injectable: refusing even our own files.
    mine = root / "mine.txt"
    mine.write_text("x\n")
    mine.chmod(0o444)
    assert ensure_mode(mine, "u+w", roots=[root], is_owner=lambda st: False).refused
    assert stat.S_IMODE(mine.stat().st_mode) == 0o444


def test_ensure_mode_never_follows_symlinks_or_leaves_roots(root: Path, outside: Path) -> None:
    target = outside / "t.txt"
    target.write_text("x\n")
    target.chmod(0o444)
    os.symlink(target, root / "link")
    assert ensure_mode(root / "link", "u+w", roots=[root]).refused
    assert ensure_mode(target, "u+w", roots=[root]).refused
    assert stat.S_IMODE(target.stat().st_mode) == 0o444


def test_repair_for_real_file_not_found(root: Path) -> None:
    target = root / "logs" / "2026" / "run.log"
    with pytest.raises(FileNotFoundError) as info:
        open(target, "w").close()
    report = repair_for(info.value, roots=[root])
    assert report is not None and report.changed
    open(target, "w").close()  # the failed call now succeeds
    # The same error again: nothing left to do.
    assert repair_for(info.value, roots=[root]) is None


def test_repair_for_missing_file_only_with_create_file(root: Path) -> None:
    target = root / "config.ini"
    with pytest.raises(FileNotFoundError) as info:
        target.read_text()
    assert repair_for(info.value, roots=[root]) is None
    report = repair_for(info.value, roots=[root], create_file=True)
    assert report is not None and report.changed and target.read_text() == ""


def test_repair_for_rename_into_missing_folder(root: Path) -> None:
    src = root / "src.txt"
    src.write_text("x\n")
    dst = root / "archive" / "dst.txt"
    with pytest.raises(FileNotFoundError) as info:
        os.rename(src, dst)
    report = repair_for(info.value, roots=[root])
    assert report is not None and report.changed
    os.rename(src, dst)


def test_repair_for_outside_roots_is_refused(root: Path, outside: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        open(outside / "missing" / "f.txt", "w").close()
    report = repair_for(info.value, roots=[root])
    assert report is not None and report.refused and not (outside / "missing").exists()


def test_repair_for_not_a_directory_refuses_and_names_the_file(root: Path) -> None:
    (root / "data").write_text("a file, not a folder\n")
    with pytest.raises(NotADirectoryError) as info:
        open(root / "data" / "x.txt", "w").close()
    report = repair_for(info.value, roots=[root])
    assert report is not None and report.refused and str(root / "data") in report.refused
    assert (root / "data").read_text() == "a file, not a folder\n"


def test_repair_for_permission_error_adds_missing_bits(root: Path) -> None:
    locked_dir = root / "locked"
    locked_dir.mkdir()
    (locked_dir / "f.txt").write_text("x\n")
    locked_dir.chmod(0o600)  # no search permission: everything below is unreachable
    exc = PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(locked_dir / "f.txt"))
    report = repair_for(exc, roots=[root])
    assert report is not None and report.changed
    assert stat.S_IMODE(locked_dir.stat().st_mode) == 0o700
    ro = root / "ro.txt"
    ro.write_text("x\n")
    ro.chmod(0o444)
    report = repair_for(PermissionError(errno.EACCES, "Permission denied", str(ro)), roots=[root])
    assert report is not None and stat.S_IMODE(ro.stat().st_mode) == 0o644
    script = root / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    report = repair_for(PermissionError(errno.EACCES, "Permission denied", str(script)), roots=[root])
    assert report is not None and stat.S_IMODE(script.stat().st_mode) == 0o744
    assert repair_for(ValueError("not a filesystem error"), roots=[root]) is None


@pytest.fixture
def nobody_dir() -> Iterator[Path]:
    """A folder owned by uid 65534 that the unprivileged user can reach (tmp_path is root-only)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    top = Path(tempfile.mkdtemp(prefix="recoup-fs-"))
    top.chmod(0o755)
    d = top / "work"
    d.mkdir()
    os.chown(d, 65534, 65534)
    try:
        yield d
    finally:
        shutil.rmtree(top)


def test_repair_for_a_real_permission_error_as_an_unprivileged_owner(nobody_dir: Path) -> None:
    """A forked child drops to uid 65534, hits a real EACCES on its own file, repairs it, retries."""
    target = nobody_dir / "state.json"
    target.write_text("{}")
    os.chown(target, 65534, 65534)
    target.chmod(0o444)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        result: dict[str, object] = {}
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                open(target, "w").close()
            except PermissionError as exc:
                report = repair_for(exc, roots=[nobody_dir])
                result["report"] = None if report is None else list(report.details)
            with open(target, "w") as fh:
                fh.write('{"ok": true}')
            result["retry"] = "ok"
        except BaseException as exc:  # report anything back to the parent
            result["error"] = repr(exc)
        os.write(wfd, json.dumps(result).encode())
        os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd) as fh:
        result = json.loads(fh.read())
    os.waitpid(pid, 0)
    assert result.get("retry") == "ok", result
    assert result["report"] == [f"changed mode of {target} from 0444 to 0644"]
    assert target.read_text() == '{"ok": true}'
