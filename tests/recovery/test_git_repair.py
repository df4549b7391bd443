"""Git repairs against real repositories: stale locks (with real live lock holders) and aborts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from recoup.recovery.actions.git import locate
from recoup.recovery.actions.git_repair import (
    abort_in_progress,
    operation_in_progress,
    processes_using,
    remove_stale_locks,
)


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(var, "Test")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "test@example.com")


def git(repo: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", "-c", "protocol.file.allow=always", *args], cwd=repo, capture_output=True,
                          text=True, check=False)
    if check and proc.returncode:
        raise AssertionError(proc.stderr)
    return proc.stdout


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "f.txt").write_text("base\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "base")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_stale_index_lock_is_removed_and_fresh_one_kept(repo: Path) -> None:
    lock = repo / ".git" / "index.lock"
    assert not remove_stale_locks(repo).changed  # nothing to do
    lock.write_bytes(b"")
    fresh = remove_stale_locks(repo, min_age=60)
    assert not fresh.changed and lock.exists()
    age(lock, 120)
    report = remove_stale_locks(repo, min_age=60)
    assert report.changed and not lock.exists()
    assert f"removed stale lock {lock}" in report.details[0]
    git(repo, "commit", "-q", "--allow-empty", "-m", "git works again")
    assert not remove_stale_locks(repo).changed


def test_stale_ref_lock_is_removed(repo: Path) -> None:
    lock = repo / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("")
    age(lock, 600)
    assert remove_stale_locks(repo).changed
    assert not lock.exists()


@pytest.fixture
def live_commit(repo: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A real `git commit -a` holding index.lock while its editor (which we control) waits."""
    started, release = tmp_path / "editor-started", tmp_path / "editor-release"
    editor = tmp_path / "editor.sh"
    editor.write_text(
        f'#!/bin/sh\ntouch "{started}"\nwhile [ ! -e "{release}" ]; do sleep 0.02; done\necho "from editor" > "$1"\n'
    )
    editor.chmod(0o755)
    (repo / "f.txt").write_text("change\n")
    git(repo, "add", "f.txt")
    env = {**os.environ, "GIT_EDITOR": str(editor)}
    proc = subprocess.Popen(
        ["git", "commit", "-a"], cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 10
    while not started.exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    try:
        yield proc, release
    finally:
        release.touch()
        proc.wait(timeout=10)
        assert proc.stderr is not None
        proc.stderr.close()


def test_lock_held_by_a_live_git_commit_is_never_removed(
    repo: Path, live_commit: tuple[subprocess.Popen[bytes], Path]
) -> None:
    proc, release = live_commit
    lock = repo / ".git" / "index.lock"
    assert lock.exists()
    age(lock, 3600)  # even an old-looking lock stays while its git is alive
    report = remove_stale_locks(repo, min_age=0)
    assert report.refused and not report.changed
    assert lock.exists()
    assert any(f"pid {proc.pid}" in d for d in report.details)
    assert proc.pid in {p.pid for p in processes_using(locate(repo))}
    release.touch()
    assert proc.wait(timeout=10) == 0
    assert git(repo, "log", "-1", "--format=%s").strip() == "from editor"
    assert not lock.exists()


def test_lock_held_open_by_any_process_is_never_removed(repo: Path, tmp_path: Path) -> None:
    lock = repo / ".git" / "index.lock"
    code = "import sys, time; f = open(sys.argv[1], 'w'); print('open', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code, str(lock)], cwd="/", stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        age(lock, 3600)
        report = remove_stale_locks(repo, min_age=0)
        assert report.refused and lock.exists()
        assert any(f"pid {holder.pid}" in d and "open" in d for d in report.details)
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout:
            holder.stdout.close()
    assert remove_stale_locks(repo, min_age=0).changed
    assert not lock.exists()


def _diverge(repo: Path) -> None:
    """Two branches that change the same line: every replay of one onto the other conflicts."""
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "f.txt").write_text("side\n")
    git(repo, "commit", "-q", "-am", "side")
    git(repo, "checkout", "-q", "main")
    (repo / "f.txt").write_text("main\n")
    git(repo, "commit", "-q", "-am", "main")


def _assert_clean_abort(repo: Path, op: str, head: str) -> None:
    assert operation_in_progress(repo) == op
    report = abort_in_progress(repo)
    assert report.changed and report.ok, report
    assert f"git {op} --abort" in report.details[0]
    assert operation_in_progress(repo) is None
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    again = abort_in_progress(repo)
    assert not again.changed and again.ok


def test_abort_merge(repo: Path) -> None:
    _diverge(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "merge", "side", check=False)
    assert (repo / ".git" / "MERGE_HEAD").exists()
    _assert_clean_abort(repo, "merge", head)


def test_abort_rebase(repo: Path) -> None:
    _diverge(repo)
    git(repo, "checkout", "-q", "side")
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "rebase", "main", check=False)
    assert (repo / ".git" / "rebase-merge").is_dir()
    _assert_clean_abort(repo, "rebase", head)
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/side"


def test_abort_cherry_pick(repo: Path) -> None:
    _diverge(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "cherry-pick", "side", check=False)
    assert (repo / ".git" / "CHERRY_PICK_HEAD").exists()
    _assert_clean_abort(repo, "cherry-pick", head)


def test_abort_revert(repo: Path) -> None:
    (repo / "f.txt").write_text("one\n")
    git(repo, "commit", "-q", "-am", "one")
    target = git(repo, "rev-parse", "HEAD").strip()
    (repo / "f.txt").write_text("two\n")
    git(repo, "commit", "-q", "-am", "two")
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "revert", "--no-edit", target, check=False)
    assert (repo / ".git" / "REVERT_HEAD").exists()
    _assert_clean_abort(repo, "revert", head)


def test_abort_am(repo: Path, tmp_path: Path) -> None:
    _diverge(repo)
    patches = tmp_path / "patches"
    git(repo, "format-patch", "-q", "-o", str(patches), "main..side")
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "am", *map(str, sorted(patches.iterdir())), check=False)
    assert (repo / ".git" / "rebase-apply" / "applying").exists()
    _assert_clean_abort(repo, "am", head)


def test_abort_refuses_while_index_is_locked(repo: Path) -> None:
    _diverge(repo)
    git(repo, "merge", "side", check=False)
    (repo / ".git" / "index.lock").write_text("")
    report = abort_in_progress(repo)
    assert report.refused and not report.changed
    assert operation_in_progress(repo) == "merge"


def test_abort_leaves_submodule_and_nested_repository_intact(tmp_path: Path) -> None:
    upstream = make_repo(tmp_path / "upstream")
    repo = make_repo(tmp_path / "super")
    git(repo, "submodule", "add", "-q", str(upstream), "sub")
    git(repo, "commit", "-q", "-m", "add submodule")
    nested = make_repo(repo / "nested")
    (nested / "wip.txt").write_text("nested work in progress\n")
    (repo / "sub" / "f.txt").write_text("edited in the submodule\n")
    sub_head = git(repo / "sub", "rev-parse", "HEAD")
    _diverge(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "merge", "side", check=False)
    report = abort_in_progress(repo)
    assert report.changed and git(repo, "rev-parse", "HEAD").strip() == head
    assert (repo / "sub" / "f.txt").read_text() == "edited in the submodule\n"
    assert git(repo / "sub", "rev-parse", "HEAD") == sub_head
    assert (nested / "wip.txt").exists()
    for r in (repo, repo / "sub", nested):
        git(r, "fsck", "--no-dangling")
