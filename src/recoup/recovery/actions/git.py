"""Running the real ``git`` binary for the repair actions: one place for environment and errors.

Every call strips the variables that would redirect git to another repository or index, pins the
locale (so messages are parseable), disables optional locks (so a read never takes ``index.lock``)
and gives ``commit-tree`` a fixed identity (a checkpoint must not fail on a machine without one).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_REDIRECTING = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)

_IDENTITY = {
    "GIT_AUTHOR_NAME": "recoup",
    "GIT_AUTHOR_EMAIL": "recoup@localhost",
    "GIT_COMMITTER_NAME": "recoup",
    "GIT_COMMITTER_EMAIL": "recoup@localhost",
}

# Never recurse into submodules, never pop up an editor or a pager, never print advice.
_CONFIG = ("-c", "submodule.recurse=false", "-c", "core.pager=cat", "-c", "advice.addEmbeddedRepo=false")


class GitError(RuntimeError):
    """A git command failed; carries the command, exit status and stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.args_ = tuple(args)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"git {' '.join(args)} exited {returncode}: {stderr.strip()}")


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a git subprocess (see module docstring)."""
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTING}
    env.update(_IDENTITY)
    env.update({"LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "GIT_EDITOR": "true"})
    if extra:
        env.update(extra)
    return env


def run_git(
    cwd: Path,
    *args: str,
    index: Path | None = None,
    stdin: bytes | None = None,
    ok_codes: Sequence[int] = (0,),
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git args`` in ``cwd``; ``index`` points git at a private index file instead of the user's."""
    extra = {"GIT_INDEX_FILE": str(index)} if index is not None else None
    proc = subprocess.run(
        ["git", *_CONFIG, *args],
        cwd=cwd,
        env=git_env(extra),
        input=stdin,
        capture_output=True,
        check=False,
    )
    if proc.returncode not in ok_codes:
        raise GitError(args, proc.returncode, proc.stderr.decode(errors="replace"))
    return proc


def git_out(cwd: Path, *args: str, index: Path | None = None, stdin: bytes | None = None) -> str:
    """Run git and return its stdout as text, stripped of the trailing newline."""
    return run_git(cwd, *args, index=index, stdin=stdin).stdout.decode(errors="surrogateescape").strip()


@dataclass(frozen=True)
class RepoPaths:
    """Where a repository's work tree and (per-worktree) git directory are."""

    worktree: Path
    git_dir: Path


def locate(repo: str | os.PathLike[str]) -> RepoPaths:
    """Find the top of the work tree and the absolute git directory for ``repo`` (any path inside it)."""
    out = git_out(Path(repo), "rev-parse", "--show-toplevel", "--absolute-git-dir").splitlines()
    if len(out) != 2:
        raise GitError(("rev-parse",), 0, f"not a work tree: {repo}")
    return RepoPaths(Path(out[0]), Path(out[1]))


def head_commit(paths: RepoPaths) -> str | None:
    """The commit HEAD points at, or None in a repository without any commit yet."""
    proc = run_git(paths.worktree, "rev-parse", "-q", "--verify", "HEAD^{commit}", ok_codes=(0, 1, 128))
    out = proc.stdout.decode().strip()
    return out if proc.returncode == 0 and out else None


def head_branch(paths: RepoPaths) -> str | None:
    """The full ref name HEAD is attached to (``refs/heads/main``), or None when HEAD is detached."""
    try:
        text = (paths.git_dir / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text[5:].strip() if text.startswith("ref: ") else None
