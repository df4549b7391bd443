"""Helpers of batch 62: where its Node.js toolchain lives, a throwaway project directory per case (the case's
files, written with its `@NAME@` placeholders filled, and a link to the shared node_modules), and a runner that
starts the cases a few at a time and keeps what each printed, stdout and stderr interleaved as a CI log shows
them, when it failed with the token of the cause we provoked."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from checked import has_token, problem
from common import Env, Record, record, run
from servers import mount_tmpfs, private_postgres

#: `npm install --prefix /tmp/recoup-corpus-node62 typescript vite jest express supertest pg`
NODE62 = Path("/tmp/recoup-corpus-node62")
NODE62_MODULES = NODE62 / "node_modules"

#: name, category, expected output token (`A|B`), the case's files (relative path -> text), bash command
NodeCase = tuple[str, str, str, Mapping[str, str], str]

#: what a CI runner sets: no colours, no prompts, no update check against the public registry
_CI_ENV = {"CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "0", "npm_config_update_notifier": "false",
           "npm_config_fund": "false", "npm_config_audit": "false", "npm_config_offline": "true"}


def node62_ready() -> bool:
    """True when the batch's toolchain is installed (tsc, vite, jest, express, supertest, pg)."""
    return all((NODE62_MODULES / name).is_dir() for name in ("typescript", "vite", "jest", "express", "pg"))


def placeholders(env: Env) -> Callable[[str], str]:
    """Mount a full and a read-only tmpfs, start a private PostgreSQL cluster (few connection slots, `app` logs in
    with a password) and return the function that fills the `@NAME@` placeholders."""
    disk = mount_tmpfs(env, "disk62", "size=64k")
    run(["bash", "-c", f"head -c 1000000 /dev/zero > {disk}/filler; mkdir -p {disk}/tsc-out {disk}/vite-dist "
         f"{disk}/reports"])
    ro = mount_tmpfs(env, "ro62", "size=64k,ro")
    pg = private_postgres(env, max_connections=4, reserved=1)
    values = {"@HTTP@": env.http, "@CLOSED@": str(env.closed_port), "@RESET@": str(env.reset_port),
              "@HANG@": str(env.hang_port), "@EMPTY@": str(env.empty_port), "@DISK@": str(disk), "@RO@": str(ro),
              "@TMP@": str(env.tmp), "@PGPORT@": str(pg.port)}

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    return fill


def _project(root: Path, files: Mapping[str, str], fill: Callable[[str], str]) -> Path:
    root.mkdir(parents=True)
    (root / "node_modules").symlink_to(NODE62_MODULES)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fill(text), encoding="utf-8")
    return root


def node_case_records(env: Env, cases: Iterable[NodeCase], source: str, fill: Callable[[str], str],
                      workers: int = 6) -> list[Record]:
    """Run each case in its own project directory (in parallel) and record the log of the ones that failed with
    their token; a case that did not fail, or hung, is reported and skipped."""
    todo = list(cases)
    bin_path = f"{NODE62_MODULES / '.bin'}:{os.environ.get('PATH', '')}"
    extra = dict(_CI_ENV, PATH=bin_path, npm_config_cache=str(env.tmp / "npm-cache"))

    def one(case: NodeCase) -> tuple[NodeCase, str | None]:
        name, _category, _token, files, command = case
        cwd = _project(env.tmp / source / name, files, fill)
        try:
            proc = run(["bash", "-c", f"{fill(command)} 2>&1"], cwd=cwd, timeout=60, env=extra)
        except Exception as harness:  # a hang is the harness's problem, not a record
            problem(name, type(harness).__name__)
            return case, None
        return case, (proc.stdout.strip() if proc.returncode else "")

    out: list[Record] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for (name, category, token, _files, _command), text in pool.map(one, todo):
            if text is None:
                continue
            if not text:
                problem(name, "no failure")
            elif has_token(name, text, token):
                out.append(record(text, category, source, "stderr", name))
    return out


__all__ = ["NODE62", "NODE62_MODULES", "NodeCase", "node62_ready", "node_case_records", "placeholders"]
