"""Time recoup's git checkpoint and restore on a 2,000-file repository (min / median of several runs).

Run: .venv/bin/python benchmarks/git_checkpoint.py [--files 2000] [--runs 15]
Each restore run first dirties the tree (edits, a deleted file, a new untracked file), so restore has work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from recoup.recovery.actions.git_checkpoint import checkpoint, discard, restore


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent)}
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", *args],
                   cwd=repo, env=env, check=True, capture_output=True)


def build_repo(root: Path, files: int) -> Path:
    repo = root / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    for i in range(files):
        d = repo / f"pkg{i % 40:02d}"
        d.mkdir(exist_ok=True)
        (d / f"mod{i:05d}.py").write_text(f"value = {i}\n" * 20)
    (repo / ".gitignore").write_text("build/\n")
    (repo / "build").mkdir()
    (repo / "build" / "artifact.bin").write_bytes(b"x" * 1000)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "initial")
    _git(repo, "status")  # refresh the index's stat cache, as a user's repo would have
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = build_repo(Path(tmp), args.files)
        (repo / "pkg00" / "mod00000.py").write_text("staged\n")
        _git(repo, "add", "pkg00/mod00000.py")
        (repo / "scratch.txt").write_text("untracked user file\n")
        cp_times, restore_times = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            cp = checkpoint(repo)
            cp_times.append(time.perf_counter() - t0)
            (repo / "pkg01" / "mod00001.py").write_text("broken\n")
            (repo / "pkg02" / "mod00002.py").unlink()
            (repo / "new_file.txt").write_text("created by the failed step\n")
            t0 = time.perf_counter()
            report = restore(cp)
            restore_times.append(time.perf_counter() - t0)
            assert report.ok and report.changed, report
            discard(cp)
        print(f"git checkpoint/restore, {args.files} tracked files, {args.runs} runs, git {_git_version()}")
        print(f"{'operation':<12}{'min ms':>10}{'median ms':>12}")
        for name, times in (("checkpoint", cp_times), ("restore", restore_times)):
            print(f"{name:<12}{min(times) * 1000:>10.1f}{statistics.median(times) * 1000:>12.1f}")


def _git_version() -> str:
    return subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout.split()[-1]


if __name__ == "__main__":
    main()
