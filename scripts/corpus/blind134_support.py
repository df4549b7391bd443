"""Fixtures of the hundred-and-thirty-fourth batch: the Bun and Deno runtimes (npm packages `bun` and `deno`
installed under /tmp/recoup-corpus-134-node) and Node's built-in test runner, each running small programs that a
real deployment would have (an orders API, a billing worker, a test suite), written into a project directory next
to their data files (a malformed JSON/TOML/YAML config), a full and a read-only tmpfs, and a private PostgreSQL
(password login for `app`, three connection slots) for Bun.sql."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from common import Env
from servers import mount_tmpfs, private_postgres

NODE_PREFIX = Path("/tmp/recoup-corpus-134-node")
BUN = NODE_PREFIX / "node_modules" / ".bin" / "bun"
DENO = NODE_PREFIX / "node_modules" / ".bin" / "deno"
QUIET = "NO_COLOR=1 FORCE_COLOR=0 DENO_NO_UPDATE_CHECK=1"


@dataclass
class Project:
    """Where the batch's programs live and what they fail against."""

    root: Path
    full: Path
    ro: Path
    pg_port: int
    placeholders: dict[str, str]

    def fill(self, text: str) -> str:
        for key, value in self.placeholders.items():
            text = text.replace(f"@{key}@", value)
        return text

    def script(self, name: str, code: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.fill(code), encoding="utf-8")
        return path


def prepare_project(env: Env, *, postgres: bool = True) -> Project:
    root = env.tmp / "orders-service"
    (root / "config").mkdir(parents=True)
    (root / "fixtures").mkdir()
    (root / "config" / "feature-flags.json").write_text(
        '{\n  "checkout_v2": true,\n  "invoice_pdf": false,\n  "regions": ["eu-west-1", "us-east-2",]\n}\n')
    (root / "config" / "deploy.toml").write_text(
        '[service]\nname = "orders-api"\nreplicas = 3\n\n[database]\nurl = "postgres://orders@db-primary:5432/orders"\n'
        'pool_size = 12\nhosts = ["db-primary", "db-replica-1"\nread_timeout = "5s"\n')
    (root / "config" / "queues.yaml").write_text(
        "queues:\n  billing:\n    concurrency: 4\n    retry: {max: 5, backoff: exponential\n  emails:\n"
        "    concurrency: 2\n")
    (root / "fixtures" / "invoice-2026-11.json").write_text(
        '{"invoice": "INV-2026-11-0042", "lines": [{"sku": "PRO-ANNUAL", "qty": 1, "amount": 199.00}\n')
    full = mount_tmpfs(env, "full134", "size=64k")
    (full / "spool.bin").write_bytes(b"\0" * 60 * 1024)
    ro = mount_tmpfs(env, "ro134", "size=256k")
    (ro / "exports").mkdir()
    (ro / "exports" / "orders-2026-11-28.csv").write_text("order_id,total\n1001,42.50\n")
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    pg_port = private_postgres(env, max_connections=4, reserved=1).port if postgres else 0
    placeholders = {"HTTP": env.http, "CLOSED": str(env.closed_port), "HANG": str(env.hang_port),
                    "RESET": str(env.reset_port), "FULL": str(full), "RO": str(ro), "ROOT": str(root),
                    "PG": str(pg_port)}
    return Project(root, full, ro, pg_port, placeholders)


__all__ = ["BUN", "DENO", "NODE_PREFIX", "QUIET", "Project", "prepare_project"]
