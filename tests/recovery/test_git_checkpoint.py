"""Git checkpoint / restore against real repositories made with the real git binary."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from recoup.recovery.actions.git_checkpoint import (
    REF_PREFIX,
    checkpoint,
    discard,
    guarded,
    list_checkpoints,
    restore,
    sweep_leftovers,
)


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the machine's git configuration out; give commits an identity."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(var, "Test")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "test@example.com")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def make_repo(path: Path, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    (path / ".gitignore").write_text("*.log\nbuild/\n")
    (path / "a.txt").write_text("a\n")
    (path / "b.txt").write_text("b\n")
    (path / "dir").mkdir()
    (path / "dir" / "c.txt").write_text("c\n")
    if commit:
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "initial")
    return path


def snapshot(repo: Path) -> dict[str, tuple[str, bytes, int]]:
    """Every file outside .git: kind, content (or link target), executable bit."""
    result: dict[str, tuple[str, bytes, int]] = {}
    for root, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, repo)
            if os.path.islink(full):
                result[rel] = ("link", os.readlink(full).encode(), 0)
            else:
                result[rel] = ("file", Path(full).read_bytes(), os.stat(full).st_mode & 0o100)
    return result


def index_bytes(repo: Path) -> bytes:
    return (repo / ".git" / "index").read_bytes()


def user_state(repo: Path) -> tuple[object, ...]:
    """What a restore must bring back: files, staged entries, stash."""
    return snapshot(repo), git(repo, "ls-files", "-s", "-z"), git(repo, "stash", "list")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "repo")
    # The user has a stash, staged and unstaged changes, an untracked file and ignored files.
    (r / "a.txt").write_text("stashed change\n")
    git(r, "stash", "push", "-q", "-m", "user stash")
    (r / "a.txt").write_text("staged\n")
    git(r, "add", "a.txt")
    (r / "a.txt").write_text("staged then edited\n")
    (r / "b.txt").write_text("unstaged\n")
    (r / "notes.txt").write_text("untracked user notes\n")
    (r / "debug.log").write_text("ignored log\n")
    (r / "build").mkdir()
    (r / "build" / "out.bin").write_bytes(b"\0ignored")
    git(r, "status")  # let git refresh the index's stat cache, as it would for a user
    return r


def test_checkpoint_leaves_index_stash_and_ignored_files_untouched(repo: Path) -> None:
    before_index, before_stash, before = index_bytes(repo), git(repo, "stash", "list"), snapshot(repo)
    index_mtime = os.stat(repo / ".git" / "index").st_mtime_ns
    cp = checkpoint(repo)
    assert index_bytes(repo) == before_index
    assert os.stat(repo / ".git" / "index").st_mtime_ns == index_mtime
    assert git(repo, "stash", "list") == before_stash
    assert snapshot(repo) == before
    assert cp.ref.startswith(REF_PREFIX)
    assert cp.report().changed and cp.ref in cp.report().details[0]
    assert git(repo, "rev-parse", cp.ref).strip() == cp.commit
    assert sorted(cp.protected) == ["build/", "debug.log"]
    assert not list((repo / ".git").glob("recoup-tmp-*"))
    # The snapshot holds tracked, staged and untracked files but no ignored ones.
    names = git(repo, "ls-tree", "-r", "--name-only", cp.files_tree).split()
    assert names == [".gitignore", "a.txt", "b.txt", "dir/c.txt", "notes.txt"]
    assert git(repo, "show", f"{cp.index_tree}:a.txt") == "staged\n"


def test_restore_brings_back_files_index_and_removes_only_new_files(repo: Path) -> None:
    before = user_state(repo)
    cp = checkpoint(repo)
    # The risky step breaks things: edits, deletes, stages, creates, and touches ignored files.
    (repo / "a.txt").write_text("broken\n")
    (repo / "dir" / "c.txt").unlink()
    (repo / "notes.txt").write_text("overwritten notes\n")
    (repo / "new.txt").write_text("created by the step\n")
    (repo / "newdir").mkdir()
    (repo / "newdir" / "x.txt").write_text("x\n")
    git(repo, "add", "-A")
    (repo / "debug.log").write_text("step's log\n")
    (repo / "build" / "step.bin").write_text("ignored output\n")

    report = restore(cp)

    assert report.ok and report.changed
    files, staged, stash = before
    now = snapshot(repo)
    assert now.pop("debug.log") == ("file", b"step's log\n", 0)  # ignored: left alone
    assert now.pop("build/step.bin") == ("file", b"ignored output\n", 0)
    assert files.pop("debug.log") and now == files
    assert git(repo, "ls-files", "-s", "-z") == staged
    assert git(repo, "stash", "list") == stash
    text = str(report)
    assert f"removed {repo / 'new.txt'} (created after the checkpoint)" in text
    assert f"removed {repo / 'newdir' / 'x.txt'}" in text
    assert f"restored {repo / 'dir' / 'c.txt'}" in text
    assert "restored the index" in text
    assert git(repo, "for-each-ref", REF_PREFIX) == ""  # discarded
    git(repo, "fsck", "--no-dangling")


def test_restore_twice_is_a_no_op_the_second_time(repo: Path) -> None:
    cp = checkpoint(repo)
    (repo / "b.txt").write_text("broken\n")
    (repo / "new.txt").write_text("new\n")
    first = restore(cp)
    state, index = user_state(repo), index_bytes(repo)
    second = restore(cp)
    assert first.changed and not second.changed
    assert user_state(repo) == state and index_bytes(repo) == index
    assert discard(cp).changed is False


def test_restore_with_nothing_changed_does_not_touch_the_index(repo: Path) -> None:
    before = index_bytes(repo)
    cp = checkpoint(repo)
    report = restore(cp)
    assert not report.changed
    assert index_bytes(repo) == before


def test_untracked_user_files_are_never_deleted(repo: Path) -> None:
    (repo / "secret.log").write_text("user's ignored secret\n")
    cp = checkpoint(repo)
    # The step un-ignores *.log and edits the user's ignored file: it now looks like a new untracked file.
    (repo / ".gitignore").write_text("build/\n")
    (repo / "secret.log").write_text("user's ignored secret, edited\n")
    (repo / "fresh.txt").write_text("new\n")
    report = restore(cp)
    assert (repo / "secret.log").exists()
    assert (repo / "debug.log").exists()
    assert (repo / "notes.txt").read_text() == "untracked user notes\n"
    assert not (repo / "fresh.txt").exists()
    assert f"kept {repo / 'secret.log'}: it existed (ignored) at the checkpoint" in report.details
    assert (repo / ".gitignore").read_text() == "*.log\nbuild/\n"


def test_remove_new_files_false_keeps_them(repo: Path) -> None:
    cp = checkpoint(repo)
    (repo / "fresh.txt").write_text("new\n")
    report = restore(cp, remove_new_files=False)
    assert (repo / "fresh.txt").exists()
    assert any("remove_new_files=False" in d for d in report.details)


def test_repository_without_any_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "fresh", commit=False)
    git(repo, "add", "a.txt")
    staged = git(repo, "ls-files", "-s")
    before = snapshot(repo)
    cp = checkpoint(repo)
    assert cp.head is None and cp.branch == "refs/heads/main"
    (repo / "a.txt").write_text("broken\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the failed step committed")
    report = restore(cp, move_head=True)
    assert snapshot(repo) == before
    assert git(repo, "ls-files", "-s") == staged
    assert subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo, check=False).returncode != 0
    assert any("moved it back" in d for d in report.details)


def test_detached_head_and_head_moved_by_the_step(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    start = git(repo, "rev-parse", "HEAD").strip()
    before = user_state(repo)
    cp = checkpoint(repo)
    assert cp.branch is None and cp.head == start
    (repo / "b.txt").write_text("committed by the step\n")
    git(repo, "commit", "-q", "-am", "step")
    moved = git(repo, "rev-parse", "HEAD").strip()

    report = restore(cp, keep=True)
    assert user_state(repo)[0] == before[0]
    assert git(repo, "rev-parse", "HEAD").strip() == moved  # not asked to move HEAD
    assert any("HEAD moved since the checkpoint" in d and "left it" in d for d in report.details)

    report = restore(cp, move_head=True)
    assert git(repo, "rev-parse", "HEAD").strip() == start
    assert user_state(repo) == before
    assert any("moved it back" in d for d in report.details)


def test_branch_moved_back_only_when_asked(repo: Path) -> None:
    start = git(repo, "rev-parse", "HEAD").strip()
    cp = checkpoint(repo)
    git(repo, "commit", "-q", "-m", "step commits the staged file")
    git(repo, "checkout", "-q", "-b", "other")
    report = restore(cp, move_head=True)
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(repo, "rev-parse", "main").strip() == start
    assert report.changed


def test_odd_names_symlinks_and_executable_bits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "odd")
    names = ["with space.txt", "ünïcødé.txt", "new\nline.txt", 'quote"d.txt', "-dash.txt"]
    for n in names:
        (repo / n).write_text(n + "\n")
    (repo / "run.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(repo / "run.sh", 0o755)
    os.symlink("a.txt", repo / "link")
    os.symlink("dir", repo / "dirlink")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "odd")
    (repo / "untracked\nnewline ü.txt").write_text("u\n")
    before = user_state(repo)
    cp = checkpoint(repo)
    for n in names:
        (repo / n).unlink()
    os.chmod(repo / "run.sh", 0o644)
    (repo / "link").unlink()
    os.symlink("b.txt", repo / "link")
    (repo / "dirlink").unlink()
    (repo / "dirlink").mkdir()
    (repo / "dirlink" / "inside.txt").write_text("x\n")
    (repo / "untracked\nnewline ü.txt").write_text("changed\n")
    (repo / "another\nnew file").write_text("n\n")
    report = restore(cp)
    assert report.ok
    assert user_state(repo) == before
    assert os.readlink(repo / "link") == "a.txt"
    assert os.stat(repo / "run.sh").st_mode & 0o100


def test_type_change_file_to_folder_with_ignored_content_is_refused_not_deleted(repo: Path) -> None:
    cp = checkpoint(repo)
    (repo / "b.txt").unlink()
    (repo / "b.txt").mkdir()
    (repo / "b.txt" / "keep.log").write_text("ignored, must survive\n")
    report = restore(cp)
    assert (repo / "b.txt" / "keep.log").read_text() == "ignored, must survive\n"
    assert any("in the way" in d for d in report.details)
    assert list_checkpoints(repo) == [cp]  # kept so it can be retried once the folder is dealt with


def test_nested_repository_and_submodule_are_left_intact(tmp_path: Path) -> None:
    upstream = make_repo(tmp_path / "upstream")
    repo = make_repo(tmp_path / "super")
    git(repo, "submodule", "add", "-q", str(upstream), "sub")
    git(repo, "commit", "-q", "-m", "add submodule")
    nested = make_repo(repo / "nested")  # an untracked nested repository with a commit
    empty_nested = repo / "empty_nested"
    empty_nested.mkdir()
    git(empty_nested, "init", "-q")  # a nested repository without any commit
    (empty_nested / "wip.txt").write_text("wip\n")
    inodes = {p: os.stat(p / ".git").st_ino for p in (repo, nested, empty_nested)}
    cp = checkpoint(repo)
    # The step works inside the nested repo and the submodule.
    (nested / "n.txt").write_text("n\n")
    git(nested, "add", "n.txt")
    git(nested, "commit", "-q", "-m", "nested work")
    nested_head = git(nested, "rev-parse", "HEAD")
    (repo / "sub" / "a.txt").write_text("edited in submodule\n")
    (repo / "a.txt").write_text("broken\n")
    report = restore(cp)
    assert (repo / "a.txt").read_text() == "a\n"
    assert git(nested, "rev-parse", "HEAD") == nested_head
    assert (nested / "n.txt").exists()
    assert (repo / "sub" / "a.txt").read_text() == "edited in submodule\n"
    assert (empty_nested / "wip.txt").exists()
    assert {p: os.stat(p / ".git").st_ino for p in inodes} == inodes  # no .git was renamed or replaced
    for r in (repo, nested, repo / "sub"):
        git(r, "fsck", "--no-dangling")
    assert report.ok


def test_dot_git_is_never_renamed(repo: Path) -> None:
    git_inode = os.stat(repo / ".git").st_ino
    entries = set(os.listdir(repo))
    cp = checkpoint(repo)
    (repo / "a.txt").write_text("broken\n")
    restore(cp)
    assert os.stat(repo / ".git").st_ino == git_inode
    assert set(os.listdir(repo)) == entries


def test_checkpoint_in_the_middle_of_a_conflicted_merge(repo: Path) -> None:
    git(repo, "stash", "push", "-q", "--include-untracked")
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "b.txt").write_text("side\n")
    git(repo, "commit", "-q", "-am", "side")
    git(repo, "checkout", "-q", "main")
    (repo / "b.txt").write_text("main\n")
    git(repo, "commit", "-q", "-am", "main")
    subprocess.run(["git", "merge", "-q", "side"], cwd=repo, capture_output=True, check=False)
    (repo / "b.txt").write_text("half resolved by the user\n")
    unmerged = git(repo, "ls-files", "-u")
    assert unmerged
    before, before_index = user_state(repo), index_bytes(repo)
    cp = checkpoint(repo)
    assert cp.index_file is not None and index_bytes(repo) == before_index
    assert list_checkpoints(repo) == [cp]
    # The step resolves everything the wrong way and stages it.
    (repo / "b.txt").write_text("wrong resolution\n")
    git(repo, "add", "-A")
    report = restore(cp)
    assert report.changed
    assert user_state(repo) == before
    assert git(repo, "ls-files", "-u") == unmerged
    assert index_bytes(repo) == before_index
    assert not restore(cp).changed


def test_a_leftover_index_lock_never_blocks_checkpoints(repo: Path) -> None:
    """A crashed git's index.lock: checkpoints still work; restore waits for the lock to be proven stale."""
    from recoup.recovery.actions.git_repair import remove_stale_locks

    lock = repo / ".git" / "index.lock"
    lock.write_bytes(b"someone else's lock")
    before_index = index_bytes(repo)
    cp = checkpoint(repo)  # reads the index only: no lock needed
    assert index_bytes(repo) == before_index
    (repo / "a.txt").write_text("broken\n")
    report = restore(cp)
    assert report.refused and not report.changed
    assert (repo / "a.txt").read_text() == "broken\n"
    assert lock.read_bytes() == b"someone else's lock"
    assert remove_stale_locks(repo, min_age=0).changed  # no process holds it
    assert restore(cp).changed
    assert (repo / "a.txt").read_text() == "staged then edited\n"


def test_leftovers_of_a_killed_process_are_swept(repo: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    pid = int(dead.stdout)
    gd = repo / ".git"
    (gd / f"recoup-tmp-{pid}-abc.index").write_bytes(b"junk")
    (gd / f"recoup-tmp-{pid}-abc.index.lock").write_bytes(b"junk")
    (gd / "index.lock").write_bytes(f"recoup-lock pid={pid}\n".encode())
    (gd / "refs" / "recoup" / "checkpoints").mkdir(parents=True)
    (gd / "refs" / "recoup" / "checkpoints" / f"20260101T000000Z-{pid}-abcd.lock").write_text("x")
    mine = gd / f"recoup-tmp-{os.getpid()}-live.index"
    mine.write_bytes(b"a live process's file")
    cp = checkpoint(repo)
    (repo / "a.txt").write_text("broken\n")
    assert restore(cp).changed
    assert sorted(p.name for p in gd.glob("recoup-tmp-*")) == [mine.name]
    assert not (gd / "index.lock").exists()
    assert not list((gd / "refs" / "recoup").rglob("*.lock"))
    assert not sweep_leftovers(repo).changed


def test_list_checkpoints_reloads_everything(repo: Path) -> None:
    cp = checkpoint(repo)
    assert list_checkpoints(repo) == [cp]
    discard(cp)
    assert list_checkpoints(repo) == []


_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from recoup.recovery.actions.git_checkpoint import checkpoint, restore
    repo = Path(sys.argv[1])
    announced = False
    while True:
        cp = checkpoint(repo)
        if not announced:  # after the first checkpoint: on a loaded machine that one alone can outlast every delay
            print("ready", flush=True)
            announced = True
        (repo / "b.txt").write_text("broken by the child\\n")
        (repo / "child-new.txt").write_text("new\\n")
        (repo / "dir" / "c.txt").unlink()
        restore(cp)
    """
)


def test_sigkill_in_the_middle_leaves_a_working_repository(repo: Path) -> None:
    before = user_state(repo)
    before_index = index_bytes(repo)
    gd = repo / ".git"
    interrupted = 0
    for delay in (0.0, 0.013, 0.029, 0.041, 0.057, 0.083, 0.11, 0.17, 0.23, 0.31):
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(repo)], stdout=subprocess.PIPE,
                                 start_new_session=True)
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        time.sleep(delay)
        os.killpg(child.pid, signal.SIGKILL)  # the whole group: the child and any git it is running
        child.wait()
        child.stdout.close()
        # Whatever phase it died in, the user's index is intact and nothing holds the repository locked.
        assert index_bytes(repo) == before_index
        leftovers = list(gd.glob("recoup-tmp-*"))
        pending = list_checkpoints(repo)
        interrupted += bool(leftovers or pending or user_state(repo) != before)
        for cp in pending:
            assert restore(cp).ok
        assert user_state(repo) == before
        cp = checkpoint(repo)
        (repo / "a.txt").write_text("after the kill\n")
        assert restore(cp).ok
        assert user_state(repo) == before
        assert index_bytes(repo) == before_index
        assert not (gd / "index.lock").exists()
        assert not list(gd.glob("recoup-tmp-*"))
        assert not list(gd.rglob("*.lock"))
        assert git(repo, "for-each-ref", REF_PREFIX) == ""
    git(repo, "fsck", "--strict", "--no-dangling")
    # The child does nothing but checkpoint and restore, so every kill lands inside one; at least one kill must
    # also have left visible traces (temp files, a pending checkpoint or a broken tree) that were then healed.
    assert interrupted >= 1, interrupted


def test_linked_worktree(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked), "-b", "feature")
    (linked / "wip.txt").write_text("work in the linked tree\n")
    before = user_state(linked)
    main_index = index_bytes(repo)
    cp = checkpoint(linked)
    (linked / "a.txt").write_text("broken\n")
    (linked / "junk.txt").write_text("junk\n")
    assert restore(cp).changed
    assert user_state(linked) == before
    assert index_bytes(repo) == main_index
    assert git(repo, "for-each-ref", REF_PREFIX) == ""


_STAGING_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from recoup.recovery.actions.git import run_git
    from recoup.recovery.actions.git_checkpoint import checkpoint, restore
    repo = Path(sys.argv[1])
    print("ready", flush=True)
    while True:
        cp = checkpoint(repo)
        (repo / "b.txt").write_text("broken and staged by the child\\n")
        run_git(repo, "add", "-A")  # the failed step stages: restore must rewrite the index
        restore(cp)
    """
)


def test_sigkill_while_the_index_is_being_restored(repo: Path) -> None:
    """Kills land in the step's own `git add` too: a lock git leaves is then stale, and repair removes it."""
    from recoup.recovery.actions.git_repair import remove_stale_locks

    before = user_state(repo)
    gd = repo / ".git"
    for delay in (0.0, 0.017, 0.037, 0.061, 0.089, 0.13, 0.19, 0.27):
        child = subprocess.Popen([sys.executable, "-c", _STAGING_CHILD, str(repo)], stdout=subprocess.PIPE,
                                 start_new_session=True)
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        time.sleep(delay)
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        assert remove_stale_locks(repo, min_age=0).ok  # a lock from the killed `git add`, if any, is stale
        for cp in list_checkpoints(repo):
            assert restore(cp).ok
        assert user_state(repo) == before
        assert discard(checkpoint(repo)).changed  # the next checkpoint works and sweeps the dead child's files
        assert not list(gd.rglob("*.lock")) and not list(gd.glob("recoup-tmp-*"))
        git(repo, "fsck", "--strict", "--no-dangling")


def test_guarded_restores_on_failure_and_discards_on_success(repo: Path) -> None:
    before = user_state(repo)
    with pytest.raises(RuntimeError), guarded(repo):
        (repo / "a.txt").write_text("broken\n")
        (repo / "half-written.txt").write_text("partial\n")
        raise RuntimeError("the risky step failed")
    assert user_state(repo) == before
    with guarded(repo):
        (repo / "b.txt").write_text("good change\n")
    assert (repo / "b.txt").read_text() == "good change\n"
    assert git(repo, "for-each-ref", REF_PREFIX) == ""
