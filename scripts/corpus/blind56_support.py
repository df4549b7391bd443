"""Helpers of batch 56: the small applications the process managers run, a private supervisord, and a private pm2
daemon, each in the batch's temporary directory and stopped with the batch."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port, run

VENV_BIN = Path(sys.executable).parent
SUPERVISORD = VENV_BIN / "supervisord"
SUPERVISORCTL = VENV_BIN / "supervisorctl"
HONCHO = VENV_BIN / "honcho"
#: pm2 lives in its own npm prefix (`npm install --prefix /tmp/recoup-pm2-56 pm2@5`)
PM2 = Path("/tmp/recoup-pm2-56/node_modules/.bin/pm2")

#: Python applications (name -> source); URL, CLOSED, DISK are filled in by `write_apps`
PY_APPS: dict[str, str] = {
    "import_error": "from billing_b56.client import InvoiceClient\n\nInvoiceClient().sync()\n",
    "db_refused": "import psycopg\n\npsycopg.connect('host=127.0.0.1 port=CLOSED user=app dbname=orders "
                  "connect_timeout=3')\n",
    "http_refused": "import urllib.request\n\nurllib.request.urlopen('http://127.0.0.1:CLOSED/healthz', timeout=3)\n",
    "upstream_503": "import urllib.request\n\nurllib.request.urlopen('URL/gcp503/v1/projects/b56/jobs', timeout=3)\n",
    "upstream_401": "import urllib.request\n\nreq = urllib.request.Request('URL/gh401/repos/acme/deploy/releases',\n"
                    "                             headers={'Authorization': 'token ghp_b56expired'})\n"
                    "urllib.request.urlopen(req, timeout=3)\n",
    "memory": "chunks = []\nfor _ in range(64):\n    chunks.append(bytearray(64 * 1024 * 1024))\n",
    "open_files": "handles = [open('/dev/null') for _ in range(200)]\n",
    "bad_json": "import json\nimport pathlib\n\n"
                "settings = json.loads(pathlib.Path('APPDIR/settings.json').read_text())\n",
    "missing_config": "import tomllib\n\nwith open('/etc/b56/worker.toml', 'rb') as fh:\n    tomllib.load(fh)\n",
    "disk_full": "with open('DISK/export.csv', 'w') as fh:\n    for i in range(200000):\n"
                 "        fh.write(f'{i},order,{i * 3}\\n')\n",
    "type_error": "def total(items):\n    return sum(item['qty'] for item in items)\n\n\nprint(total([{'qty': 2}, "
                  "{'qty': '3'}]))\n",
}

#: Node.js applications for pm2
NODE_APPS: dict[str, str] = {
    "crash_type": "const settings = require('./settings-b56.js');\nsettings.queue.connect();\n",
    "refused": "const http = require('http');\nhttp.get('http://127.0.0.1:CLOSED/api/v1/orders', (res) => "
               "res.resume());\n",
    "upstream_503": "(async () => {\n  const res = await fetch('URL/gcp503/v1/projects/b56/topics');\n"
                    "  if (!res.ok) {\n    console.error(`GET /v1/projects/b56/topics -> ${res.status} "
                    "${res.statusText}`, await res.text());\n    process.exit(1);\n  }\n})();\n",
    "upstream_401": "(async () => {\n  const res = await fetch('URL/gh401/user', { headers: { authorization: "
                    "'token ghp_b56' } });\n  if (!res.ok) {\n    console.error(`GET /user -> ${res.status} "
                    "${res.statusText}`, await res.text());\n    process.exit(1);\n  }\n})();\n",
    "heap": "const kept = [];\nwhile (true) { kept.push(new Array(100000).fill('leak-b56')); }\n",
    "missing_file": "const fs = require('fs');\nconst cfg = fs.readFileSync('/etc/b56/app.config.json', 'utf8');\n"
                    "console.log(cfg.length);\n",
    "bad_json": "const cfg = JSON.parse('{\"port\": 8080, \"workers\": 4,, \"queue\": \"jobs\"}');\n"
                "console.log(cfg.port);\n",
    "disk_full": "const fs = require('fs');\nfs.writeFileSync('DISK/bundle.js', Buffer.alloc(2 * 1024 * 1024, 97));\n",
}


def write_apps(env: Env, api: str, disk: Path) -> Path:
    """Write every application to `<tmp>/apps56` and return that directory."""
    apps = env.tmp / "apps56"
    apps.mkdir()
    (apps / "settings.json").write_text('{"workers": 4, "queue": "jobs",}\n')
    (apps / "settings-b56.js").write_text("module.exports = { region: 'eu' };\n")

    def fill(text: str) -> str:
        return (text.replace("URL", api).replace("CLOSED", str(env.closed_port)).replace("DISK", str(disk))
                .replace("APPDIR", str(apps)))

    for name, source in PY_APPS.items():
        (apps / f"{name}.py").write_text(fill(source))
    for name, source in NODE_APPS.items():
        (apps / f"{name}.js").write_text(fill(source))
    return apps


# --------------------------------------------------------------------------- supervisord


@dataclass
class Supervisor:
    root: Path
    port: int

    @property
    def conf(self) -> Path:
        return self.root / "supervisord.conf"

    def ctl(self, *args: str, timeout: float = 30) -> tuple[int, str]:
        proc = run([str(SUPERVISORCTL), "-c", str(self.conf), *args], timeout=timeout)
        return proc.returncode, (proc.stdout + proc.stderr).strip()

    def settle(self, program: str, wait: float = 10) -> None:
        """Wait until the program has left STARTING/RUNNING."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _, text = self.ctl("status", program)
            if "RUNNING" not in text and "STARTING" not in text:
                return
            time.sleep(0.2)

    def pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int((self.root / "supervisord.pid").read_text().strip())
        return None


def start_supervisor(env: Env, programs: dict[str, str]) -> Supervisor:
    """A supervisord with its own socket, inet server (user `ops`), logs and the given programs (name -> extra
    config lines), none started automatically."""
    root = env.tmp / "supervisor56"
    root.mkdir()
    port = free_port()
    sections = "".join(f"[program:{name}]\n{body}\nautostart=false\nautorestart=false\nstartretries=0\n"
                       "startsecs=1\n\n" for name, body in programs.items())
    conf = (f"[unix_http_server]\nfile={root}/supervisor.sock\n\n[inet_http_server]\nport=127.0.0.1:{port}\n"
            f"username=ops\npassword=right-password\n\n[supervisord]\nlogfile={root}/supervisord.log\n"
            f"pidfile={root}/supervisord.pid\nchildlogdir={root}\nuser=root\n\n[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
            f"[supervisorctl]\nserverurl=unix://{root}/supervisor.sock\n\n{sections}")
    sv = Supervisor(root, port)
    sv.conf.write_text(conf)
    env._closers.append(lambda: kill_supervisor(sv))
    proc = run([str(SUPERVISORD), "-c", str(sv.conf)])
    if proc.returncode:
        raise RuntimeError(f"supervisord did not start: {proc.stderr.strip()[:200]}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sv.ctl("pid")[0] != 0:
        time.sleep(0.1)
    return sv


def kill_supervisor(sv: Supervisor) -> None:
    """SIGKILL our own supervisord (by its pidfile) and wait for it to be gone; leaves its socket file behind."""
    pid = sv.pid()
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


# --------------------------------------------------------------------------- pm2


@dataclass
class Pm2:
    home: Path

    def __call__(self, *args: str, timeout: float = 30) -> tuple[int, str, str]:
        proc = run([str(PM2), *args], timeout=timeout, env={"PM2_HOME": str(self.home)})
        return proc.returncode, proc.stdout, proc.stderr

    def settle(self, name: str, wait: float = 15) -> None:
        """Wait until the app is no longer online (it crashed, or was stopped)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _, out, _ = self("jlist")
            with contextlib.suppress(ValueError):
                states = [a.get("pm2_env", {}).get("status") for a in json.loads(out) if a.get("name") == name]
                if states and all(s not in ("online", "launching") for s in states):
                    time.sleep(0.3)  # let the log writer flush
                    return
            time.sleep(0.3)

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self("kill", timeout=20)
        with contextlib.suppress(OSError, ValueError, ProcessLookupError):
            os.kill(int((self.home / "pm2.pid").read_text().strip()), signal.SIGKILL)


def start_pm2(env: Env) -> Pm2 | None:
    if not PM2.exists():
        return None
    pm2 = Pm2(env.tmp / "pm2home56")
    env._closers.append(pm2.kill)
    pm2("ping")
    return pm2


__all__ = ["HONCHO", "NODE_APPS", "PM2", "PY_APPS", "SUPERVISORCTL", "SUPERVISORD", "Pm2", "Supervisor",
           "kill_supervisor", "start_pm2", "start_supervisor", "write_apps"]
