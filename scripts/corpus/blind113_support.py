"""Fixtures of the hundred-and-thirteenth batch: workflow projects written here for Prefect (flows run against a
private `prefect server` on a free port), Dagster (asset modules for `dagster asset materialize`, a DAGSTER_HOME with
telemetry off), Kedro (a small project whose catalog, parameters and nodes each case replaces), Hamilton (a dataflow
module and a driver script) and Metaflow (one flow file per case); plus what they fail against: a private
PostgreSQL with a password-only role and three connection slots, a standby cluster that refuses connections, a
password-protected Redis, a full and a read-only tmpfs. The interpreter is the batch's own venv
(/tmp/recoup-corpus-113), which the provokers run under."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port
from servers import mount_tmpfs, private_postgres, private_redis

PY = sys.executable
BIN = Path(PY).parent


@dataclass
class Pipelines:
    """Where the batch's projects live and what they fail against."""

    root: Path
    full: Path
    ro: Path
    pg_port: int
    standby_port: int
    redis_port: int
    prefect_api: str
    dagster_home: Path
    orders_csv: Path

    def shell_env(self) -> str:
        """Exports every case's script starts with (no telemetry, a wide terminal, the batch's venv first)."""
        return (f"export PATH={BIN}:$PATH PREFECT_HOME={self.root / '.prefect'} "
                "PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_API_URL=" + self.prefect_api +
                f" DAGSTER_HOME={self.dagster_home} DO_NOT_TRACK=1 KEDRO_DISABLE_TELEMETRY=true COLUMNS=140 "
                "PYTHONWARNINGS=ignore USERNAME=etl METAFLOW_USER=etl; ")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def _prefect_server(env: Env, root: Path) -> str:
    port = free_port()
    home = root / ".prefect"
    home.mkdir()
    environment = dict(os.environ, PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)
    env._closers.append(proc.wait)
    env._closers.append(proc.terminate)
    api = f"http://127.0.0.1:{port}/api"
    for _ in range(240):
        try:
            with urllib.request.urlopen(api + "/health", timeout=1):
                return api
        except OSError:
            time.sleep(0.25)
    raise RuntimeError("prefect server did not start")


def prepare(env: Env) -> Pipelines:
    root = env.tmp / "srv113"
    root.mkdir()
    full = mount_tmpfs(env, "exports113", "size=64k")
    (full / ".reserved").write_bytes(b"\0" * 60 * 1024)
    ro = mount_tmpfs(env, "warehouse113", "size=256k")
    (ro / "marts").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    pg = private_postgres(env, max_connections=4, reserved=1)
    standby = private_postgres(env, standby=True)
    redis_port = private_redis(env, "--requirepass", "feature-store-7Qx")
    dagster_home = root / ".dagster"
    _write(dagster_home / "dagster.yaml", "telemetry:\n  enabled: false\n")
    orders = _write(root / "landing" / "orders_2026_q4.csv",
                    "order_id,ordered_at,region,quantity,unit_price\n"
                    "10001,2026-11-02,emea,3,19.90\n10002,2026-11-10,amer,5,4.50\n10003,2026-11-17,apac,1,120.00\n")
    return Pipelines(root, full, ro, pg.port, standby.port, redis_port, _prefect_server(env, root), dagster_home,
                     orders)


def copy_project(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


__all__ = ["BIN", "PY", "Pipelines", "copy_project", "prepare"]
