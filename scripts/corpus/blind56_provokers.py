"""Fifty-sixth batch of blind provokers: process managers and job runners, as their CLIs and captured logs print
failures. A private supervisord (own config, unix socket, password-protected inet server, log directory) is asked
to start programs whose command or working directory is missing and programs that die on an import, a refused
database or HTTP dependency, a 503 or 401 from an upstream, a memory or open-files rlimit, a full tmpfs, a bad
JSON settings file or a type error (read back with `supervisorctl tail`); supervisorctl meets a closed inet port,
wrong credentials and a killed supervisord's stale socket; supervisord rejects broken configs; a Python client
talks XML-RPC to it. A private pm2 daemon (own PM2_HOME) refuses a missing script or interpreter and runs Node.js
apps that crash (read back with `pm2 logs --nostream`). honcho runs Procfiles whose processes fail the same ways.
Only 127.0.0.1."""

from __future__ import annotations

import sys
import xmlrpc.client
from pathlib import Path

from blind56_support import (
    HONCHO,
    SUPERVISORCTL,
    SUPERVISORD,
    Pm2,
    Supervisor,
    kill_supervisor,
    start_pm2,
    start_supervisor,
    write_apps,
)
from checked import PyCase, ToolCase, has_token, problem, python_records, tool_records
from cloudapi import cloud_api
from common import Env, Record, record, run, write_batch
from servers import mount_tmpfs

BLIND56_SOURCES = frozenset({"supervisor56", "pm2-56", "honcho56"})

PY = sys.executable
MEM = "prlimit --as=268435456 --"
NOFILE = "prlimit --nofile=24 --"

#: supervisor program -> (category, expected token in its stderr log, command)
SV_TAILS: dict[str, tuple[str, str, str]] = {
    "billing_import": ("programming", "ModuleNotFoundError", f"{PY} APPS/import_error.py"),
    "orders_db": ("network", "refused", f"{PY} APPS/db_refused.py"),
    "health_probe": ("network", "refused", f"{PY} APPS/http_refused.py"),
    "jobs_sync": ("service", "503", f"{PY} APPS/upstream_503.py"),
    "release_sync": ("auth", "401", f"{PY} APPS/upstream_401.py"),
    "image_resizer": ("resource", "MemoryError", f"{MEM} {PY} APPS/memory.py"),
    "log_shipper": ("resource", "Too many open files", f"{NOFILE} {PY} APPS/open_files.py"),
    "exporter": ("resource", "No space left", f"{PY} APPS/disk_full.py"),
    "settings_loader": ("validation", "JSONDecodeError", f"{PY} APPS/bad_json.py"),
    "totals": ("programming", "TypeError", f"{PY} APPS/type_error.py"),
    "queue_worker": ("filesystem", "ENOENT", "/bin/true\ndirectory=/srv/b56/queue-worker"),
}

#: broken supervisord configs: name -> (category, expected token, config text)
SV_CONFS: dict[str, tuple[str, str, str]] = {
    "sv_conf_parse_error": ("validation", "pars", "[supervisord]\nlogfile=LOG\n\n[program:web]\ncommand "
                            "gunicorn app:wsgi\n"),
    "sv_conf_bad_autorestart": ("validation", "autorestart", "[supervisord]\nlogfile=LOG\n\n[program:web]\n"
                                "command=/bin/true\nautorestart=sometimes\n"),
    "sv_conf_bad_numprocs": ("validation", "numprocs|int()", "[supervisord]\nlogfile=LOG\n\n[program:worker]\n"
                             "command=/bin/true\nprocess_name=%(program_name)s_%(process_num)02d\nnumprocs=four\n"),
    "sv_conf_unclosed_quote": ("validation", "quotation", "[supervisord]\nlogfile=LOG\n\n[program:web]\n"
                               "command=/bin/true\nenvironment=DATABASE_URL=\"postgres://db/app,MODE=prod\n"),
    "sv_conf_log_dir_missing": ("filesystem", "does not exist", "[supervisord]\nlogfile=LOG\n\n[program:web]\n"
                                "command=/bin/true\nstdout_logfile=/var/log/b56-missing/web.log\n"),
}


def _keep(out: list[Record], name: str, category: str, source: str, text: str, token: str) -> None:
    if not text.strip():
        problem(name, "nothing printed")
    elif has_token(name, text, token):
        out.append(record(text.strip(), category, source, "stderr", name))


# --------------------------------------------------------------------------- supervisor


def _supervisor_records(env: Env, apps: Path) -> list[Record]:
    programs = {name: "command=" + cmd.replace("APPS", str(apps)) for name, (_, _, cmd) in SV_TAILS.items()}
    programs["scheduler"] = "command=/opt/b56/bin/scheduler --queue nightly"
    sv = start_supervisor(env, programs)
    out: list[Record] = []

    code, text = sv.ctl("start", "scheduler")
    _keep(out, "sv_start_missing_command", "filesystem", "supervisor56", text if code else "", "no such file")
    for name, (category, token, _) in SV_TAILS.items():
        sv.ctl("start", name)
        sv.settle(name)
        _, text = sv.ctl("tail", "-16000", name, "stderr")
        _keep(out, f"sv_tail_{name}", category, "supervisor56", text, token)

    proc = run([str(SUPERVISORCTL), "-s", f"http://127.0.0.1:{sv.port}", "-u", "ops", "-p", "wrong-password",
                "status"])
    _keep(out, "sv_ctl_bad_credentials", "auth", "supervisor56", proc.stdout + proc.stderr if proc.returncode else "",
          "authentication|401")
    proc = run([str(SUPERVISORCTL), "-s", f"http://127.0.0.1:{env.closed_port}", "status"])
    _keep(out, "sv_ctl_inet_refused", "network", "supervisor56", proc.stdout + proc.stderr if proc.returncode else "",
          "refused")

    out += python_records(_xmlrpc_cases(env, sv))

    kill_supervisor(sv)  # its socket file stays behind
    code, text = sv.ctl("status")
    _keep(out, "sv_ctl_stale_socket", "network", "supervisor56", text if code else "", "refused")

    for name, (category, token, conf) in SV_CONFS.items():
        path = env.tmp / f"{name}.conf"
        path.write_text(conf.replace("LOG", str(env.tmp / f"{name}.log")))
        proc = run([str(SUPERVISORD), "-n", "-c", str(path)], timeout=10)
        _keep(out, name, category, "supervisor56", proc.stderr if proc.returncode else "", token)
    proc = run([str(SUPERVISORD), "-n", "-c", "/etc/b56/supervisord.conf"], timeout=10)
    _keep(out, "sv_conf_missing", "filesystem", "supervisor56", proc.stderr if proc.returncode else "",
          "could not find")
    return out


def _xmlrpc_cases(env: Env, sv: Supervisor) -> list[PyCase]:
    def wrong_password() -> None:
        proxy = xmlrpc.client.ServerProxy(f"http://ops:hunter2@127.0.0.1:{sv.port}/RPC2")
        proxy.supervisor.getAllProcessInfo()

    def missing_command() -> None:
        proxy = xmlrpc.client.ServerProxy(f"http://ops:right-password@127.0.0.1:{sv.port}/RPC2")
        proxy.supervisor.startProcess("scheduler")

    def refused() -> None:
        proxy = xmlrpc.client.ServerProxy(f"http://ops:right-password@127.0.0.1:{env.closed_port}/RPC2")
        proxy.supervisor.getState()

    return [
        ("sv_xmlrpc_unauthorized", "auth", "supervisor56", "ProtocolError", wrong_password),
        ("sv_xmlrpc_no_file", "filesystem", "supervisor56", "Fault", missing_command),
        ("sv_xmlrpc_refused", "network", "supervisor56", "ConnectionRefusedError", refused),
    ]


# --------------------------------------------------------------------------- pm2

#: app -> (category, expected token, extra pm2 start arguments)
PM2_APPS: dict[str, tuple[str, str, list[str]]] = {
    "crash_type": ("programming", "TypeError", []),
    "refused": ("network", "ECONNREFUSED", []),
    "upstream_503": ("service", "503", []),
    "upstream_401": ("auth", "401", []),
    "heap": ("resource", "heap out of memory|heap limit", ["--node-args=--max-old-space-size=24"]),
    "missing_file": ("filesystem", "ENOENT", []),
    "bad_json": ("validation", "JSON", []),
    "disk_full": ("resource", "ENOSPC", []),
}


def _pm2_records(env: Env, apps: Path) -> list[Record]:
    pm2 = start_pm2(env)
    if pm2 is None:
        problem("pm2", "pm2 not installed, pm2 cases skipped")
        return []
    out: list[Record] = []

    def cli(name: str, category: str, token: str, *args: str) -> None:
        code, stdout, stderr = pm2(*args)
        _keep(out, name, category, "pm2-56", (stderr.strip() or stdout.strip()) if code else "", token)

    cli("pm2_script_missing", "filesystem", "not found", "start", str(apps / "report-worker.js"), "--name", "reports")
    cli("pm2_interpreter_missing", "filesystem", "NOT AVAILABLE", "start", str(apps / "crash_type.js"),
        "--interpreter", "/opt/b56/node-v22/bin/node", "--name", "interp")
    eco = apps / "ecosystem.config.json"
    eco.write_text('{"apps": [{"name": "api", "script": "server.js" "instances": 2}]}\n')
    cli("pm2_ecosystem_json", "validation", "JSON|Unexpected|parse|malformat", "start", str(eco))

    for app, (category, token, extra) in PM2_APPS.items():
        _pm2_app(out, pm2, apps, app, category, token, extra)
    return out


def _pm2_app(out: list[Record], pm2: Pm2, apps: Path, app: str, category: str, token: str, extra: list[str]) -> None:
    name = app.replace("_", "-")
    code, _, _ = pm2("start", str(apps / f"{app}.js"), "--name", name, "--no-autorestart", *extra)
    if code:
        problem(f"pm2_logs_{app}", "pm2 start failed")
        return
    pm2.settle(name)
    _, stdout, _ = pm2("logs", name, "--err", "--nostream", "--lines", "40")
    _keep(out, f"pm2_logs_{app}", category, "pm2-56", stdout, token)
    pm2("delete", name)


# --------------------------------------------------------------------------- honcho

#: Procfile process -> (category, expected token, command)
HONCHO_PROCS: dict[str, tuple[str, str, str]] = {
    "web": ("programming", "ModuleNotFoundError", f"{PY} APPS/import_error.py"),
    "api": ("network", "refused", f"{PY} APPS/http_refused.py"),
    "sync": ("service", "503", f"{PY} APPS/upstream_503.py"),
    "releases": ("auth", "401", f"{PY} APPS/upstream_401.py"),
    "thumbs": ("resource", "MemoryError", f"{MEM} {PY} APPS/memory.py"),
    "config": ("validation", "JSONDecodeError", f"{PY} APPS/bad_json.py"),
    "worker": ("filesystem", "No such file", f"{PY} APPS/missing_config.py"),
    "beat": ("filesystem", "not found", "celery-beat-b56 --schedule /tmp/beat.db"),
    "orders": ("network", "refused", f"{PY} APPS/db_refused.py"),
    "totals": ("programming", "TypeError", f"{PY} APPS/type_error.py"),
    "shipper": ("resource", "Too many open files", f"{NOFILE} {PY} APPS/open_files.py"),
}


def _honcho_records(env: Env, apps: Path) -> list[Record]:
    root = env.tmp / "honcho56"
    root.mkdir()
    cases: list[ToolCase] = []
    for proc, (category, token, command) in HONCHO_PROCS.items():
        procfile = root / f"Procfile.{proc}"
        procfile.write_text(f"{proc}: {command.replace('APPS', str(apps))}\nclock: sleep 20\n")
        cases.append((f"honcho_{proc}", category, token, [str(HONCHO), "-f", str(procfile), "-d", str(root),
                                                          "start"]))
    cases.append(("honcho_procfile_missing", "filesystem", "does not exist",
                  [str(HONCHO), "-f", str(root / "deploy" / "Procfile"), "start"]))
    return tool_records(cases, "honcho56", root, timeout=40)


def blind56_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    disk = mount_tmpfs(env, "disk56", "size=256k")
    apps = write_apps(env, api, disk)
    out = _supervisor_records(env, apps)
    out += _pm2_records(env, apps)
    out += _honcho_records(env, apps)
    return out


if __name__ == "__main__":
    write_batch(blind56_records)


__all__ = ["BLIND56_SOURCES", "blind56_records"]
