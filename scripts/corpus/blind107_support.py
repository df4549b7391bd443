"""Fixtures of the hundred-and-seventh batch: a small deployment tree (`/srv/ledger-*`) readable by `nobody` with
a root-only secrets file and root-owned spool and log directories, bad input data (a CSV with a non-numeric
quantity, a truncated JSON settings file, a truncated s-expression rates file), a full and a read-only tmpfs
mounted inside the tree, the program files of every runtime the batch drives, and the placeholders (`@ROOT@`,
`@FULL@`, `@RO@`, `@CLOSED@`, `@HTTP@`, `@COFFEE@`, `@NOBODY@`) its commands use."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from common import Env

#: Where `npm install --prefix /tmp/recoup-corpus-107-node coffeescript` put the CoffeeScript compiler.
COFFEE = Path("/tmp/recoup-corpus-107-node/node_modules/.bin/coffee")
#: Runs the rest of a command line as `nobody` (no capabilities, so permissions and process limits apply).
NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups"


@dataclass
class Site:
    """Paths of the batch's deployment tree and mounts."""

    root: Path
    full: Path
    ro: Path


def _tree(root: Path) -> None:
    for sub in ("app", "etc/ledger", "var/spool/ledger", "var/log/ledger", "var/lib/ledger", "data/imports"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    secrets = root / "etc/ledger/secrets.env"
    secrets.write_text("LEDGER_DB_PASSWORD=s3cr3t-ledger\nSTRIPE_KEY=sk_live_xxx\n")
    secrets.chmod(0o600)
    (root / "etc/ledger/settings.json").write_text(
        '{\n  "database": {"host": "db-ledger-01.internal", "port": 5432,\n  "pool": {"min": 2, "max": 20\n')
    (root / "etc/ledger/rates.sexp").write_text("(:currency \"EUR\" :rates ((:usd . 1.08) (:gbp . 0.86)\n")
    (root / "etc/ledger/rates-ok.sexp").write_text("(:currency \"EUR\" :port \"5432\" :rates ((:usd . 1.08)))\n")
    (root / "data/imports/orders-2026-11-29.csv").write_text(
        "sku,qty,unit_price\nLED-1042,3,19.90\nLED-2210,12x,4.50\nLED-0007,1,249.00\n")
    (root / "var/spool/ledger/invoice-88412.lock").write_text("pid=4121\n")
    for sub in ("var/spool/ledger", "var/log/ledger", "var/lib/ledger"):
        (root / sub).chmod(0o755)
    for dirpath, dirnames, _ in os.walk(root):
        for d in dirnames:
            (Path(dirpath) / d).chmod(0o755)
    root.chmod(0o755)


def _mount(env: Env, target: Path, options: str) -> Path:
    """A tiny tmpfs at `target` inside the tree, unmounted (before the tree is removed) at the end."""
    target.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True, capture_output=True)
    env._closers.append(lambda: subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True))
    return target


def prepare_site(env: Env, programs: Mapping[str, str]) -> Site:
    """The tree, the mounts and every program file (`programs`: path under `app/` -> source with placeholders)."""
    root = Path(tempfile.mkdtemp(prefix="ledger-", dir="/srv"))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    _tree(root)
    full = _mount(env, root / "mnt/exports", "size=64k")
    (full / "filler.bin").write_bytes(b"\0" * 60 * 1024)
    ro = _mount(env, root / "mnt/archive", "size=128k")
    (ro / "reports").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    site = Site(root, full, ro)
    fill = filler(env, site)
    for rel, text in programs.items():
        path = root / "app" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fill(text))
        path.parent.chmod(0o755)
        path.chmod(0o755)
    return site


def filler(env: Env, site: Site) -> Callable[[str], str]:
    """Replace the batch's placeholders in a command or a program."""
    values = {"@ROOT@": str(site.root), "@FULL@": str(site.full), "@RO@": str(site.ro),
              "@CLOSED@": str(env.closed_port), "@HTTP@": env.http, "@COFFEE@": str(COFFEE), "@NOBODY@": NOBODY}

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    return fill


__all__ = ["COFFEE", "NOBODY", "Site", "filler", "prepare_site"]
