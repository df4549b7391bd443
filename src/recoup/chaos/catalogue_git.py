"""Git faults: the real `subprocess.CalledProcessError` (with git's own stderr) of a repository in a state
that blocks the command. Provoked in throw-away folders with the user's and system git config ignored."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

from recoup.chaos.catalogue import Fault, ProvocationError, caught
from recoup.chaos.catalogue_local import scratch
from recoup.errors.taxonomy import Category

__all__ = ["GIT_FAULTS"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C", LANGUAGE="C", GIT_TERMINAL_PROMPT="0")
    return env


def _git(cwd: str, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=_env())
    except FileNotFoundError as exc:
        raise ProvocationError("the git faults need the `git` command, which is not installed") from exc


def _repo(folder: str) -> str:
    path = os.path.join(folder, "repo")
    _git(folder, "init", "--quiet", path)
    return path


def _provoke(setup_and_fail: Callable[[str], object]) -> Callable[[], BaseException]:
    def provoke() -> BaseException:
        with scratch() as folder:
            return caught(lambda: setup_and_fail(folder))

    return provoke


def _index_locked(folder: str) -> None:
    repo = _repo(folder)
    with open(os.path.join(repo, "notes.txt"), "w", encoding="utf-8") as handle:
        handle.write("draft\n")
    with open(os.path.join(repo, ".git", "index.lock"), "w", encoding="utf-8"):
        pass  # what a crashed or concurrent git leaves behind
    _git(repo, "add", "notes.txt")


G = Category.GIT
_ERROR = subprocess.CalledProcessError

GIT_FAULTS: tuple[Fault, ...] = (
    Fault("git.not-a-repository", G, False, _ERROR, "git rev-parse HEAD outside any repository",
          _provoke(lambda d: _git(d, "rev-parse", "HEAD"))),
    Fault("git.unknown-revision", G, False, _ERROR, "git log of a revision that does not exist",
          _provoke(lambda d: _git(_repo(d), "log", "release-2.4"))),
    Fault("git.pathspec-no-match", G, False, _ERROR, "git add of a path that matches no file",
          _provoke(lambda d: _git(_repo(d), "add", "missing.txt"))),
    Fault("git.index-locked", G, False, _ERROR, "git add while .git/index.lock exists",
          _provoke(_index_locked)),
)
