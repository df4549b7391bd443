"""Private Prometheus and Alertmanager instances of batch 68: each with its own config, data directory and free
loopback port in a temp dir (never the system services of the Debian packages), logging to a file that the
provokers read back. Everything is stopped and removed by ``Env.close()``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from blind50_support import LogTail, open_dir, spawn, wait_port
from checked import has_token, problem
from common import Env, Record, free_port, record

PROMETHEUS = "prometheus"
ALERTMANAGER = "prometheus-alertmanager"  # Debian's name for the alertmanager binary

_LEVEL = re.compile(r"level=(warn|error)")


def installed() -> bool:
    return all(shutil.which(tool) for tool in (PROMETHEUS, ALERTMANAGER, "promtool", "amtool"))


@dataclass
class Daemon:
    """A private server: its root (config and data), port and log."""

    root: Path
    port: int
    log: LogTail
    proc: subprocess.Popen[bytes]

    def lines(self) -> list[str]:
        return self.log.new().splitlines()

    def first(self, *needles: str, level: re.Pattern[str] = _LEVEL) -> str:
        """The first logged line holding every needle (at warn or error unless told)."""
        return next((ln for ln in self.lines() if level.search(ln) and all(n in ln for n in needles)), "")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_prometheus(env: Env, config: str, data: Path | None = None, *flags: str) -> Daemon | None:
    """Prometheus on a free port with ``config`` (``PORT`` in it stands for its own port), debug logging."""
    root = open_dir("recoup-corpus-prom68-", env)
    port = free_port()
    (root / "prometheus.yml").write_text(config.replace("PORT", str(port)))
    log = LogTail(root / "prometheus.log")
    proc = spawn(env, [PROMETHEUS, f"--config.file={root / 'prometheus.yml'}",
                       f"--storage.tsdb.path={data or root / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                       "--log.level=debug", *flags], log=log.path, cwd=root)
    if not wait_port(port, 20):
        problem("prometheus", "private instance did not start")
        return None
    return Daemon(root, port, log, proc)


def start_alertmanager(env: Env, config: str) -> Daemon | None:
    root = open_dir("recoup-corpus-am68-", env)
    port = free_port()
    (root / "alertmanager.yml").write_text(config)
    log = LogTail(root / "alertmanager.log")
    proc = spawn(env, [ALERTMANAGER, f"--config.file={root / 'alertmanager.yml'}", f"--storage.path={root / 'data'}",
                       f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=debug"],
                 log=log.path, cwd=root)
    if not wait_port(port, 20):
        problem("alertmanager", "private instance did not start")
        return None
    return Daemon(root, port, log, proc)


def post_alerts(port: int, alerts: list[dict[str, dict[str, str]]]) -> None:
    """Fire alerts at a private Alertmanager through its v2 API (the way Prometheus does)."""
    body = json.dumps(alerts).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/alerts", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def exit_log(env: Env, name: str, argv: list[str], token: str, category: str, source: str, run_for: float = 0,
             cwd: Path | None = None) -> list[Record]:
    """Run a server that is meant to fail (at start, or when stopped after ``run_for`` seconds) and record the
    warn/error lines and any Go panic it printed, when they carry the token."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd or env.tmp)
    try:
        if run_for:
            time.sleep(run_for)
            proc.terminate()
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        problem(name, "server did not exit")
        return []
    lines = out.decode("utf-8", "replace").splitlines()
    at = next((i for i, ln in enumerate(lines) if ln.startswith(("panic:", "fatal error:"))), None)
    picked = [ln for ln in lines[:at] if re.search(r"level=error", ln)]
    if at is not None:
        picked += lines[at:at + 12]
    text = "\n".join(picked).strip()
    if not text:
        problem(name, "no failure")
        return []
    return [record(text, category, source, "stderr", name)] if has_token(name, text, token) else []


__all__ = ["ALERTMANAGER", "PROMETHEUS", "Daemon", "exit_log", "installed", "post_alerts", "start_alertmanager",
           "start_prometheus"]
