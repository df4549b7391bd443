"""Fixtures of the hundred-and-twenty-fifth batch: the logging and monitoring agents' working directories, a
full and a read-only tmpfs, fake Elasticsearch and HTTP collectors that answer with a fixed status in the real
service's error format, private PostgreSQL clusters (password-protected, standby), a Redis that wants a
password, a blackbox exporter to probe with, and the bash wrapper that runs a daemon for a few seconds, feeds
it log lines and prints what it logged (a daemon that keeps retrying never exits on its own).

syslog-ng conflicts with rsyslog as a Debian package (both provide system-log-daemon), so its .deb (and the
http module's) is unpacked into SYSLOG_NG_ROOT by `apt-get download` + `dpkg -x` and run from there."""

from __future__ import annotations

import contextlib
import http.server
import json
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port
from servers import _wait_port, mount_tmpfs, private_postgres, private_redis, serve_http, tls_server

SYSLOG_NG_ROOT = Path("/tmp/syslogng125/root")
_SNG_LIB = SYSLOG_NG_ROOT / "usr/lib/syslog-ng"

_ES_BODIES = {
    401: {"error": {"root_cause": [{"type": "security_exception",
                                    "reason": "missing authentication credentials for REST request [/_bulk]",
                                    "header": {"WWW-Authenticate": ['Basic realm="security" charset="UTF-8"']}}],
                    "type": "security_exception",
                    "reason": "missing authentication credentials for REST request [/_bulk]"}, "status": 401},
    403: {"error": {"root_cause": [{"type": "security_exception",
                                    "reason": "action [indices:data/write/bulk] is unauthorized for user "
                                              "[rsyslog_writer] with roles [logs_reader]"}],
                    "type": "security_exception",
                    "reason": "action [indices:data/write/bulk] is unauthorized for user [rsyslog_writer] with "
                              "roles [logs_reader]"}, "status": 403},
    503: {"error": {"root_cause": [{"type": "cluster_block_exception",
                                    "reason": "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / "
                                              "initialized];"}],
                    "type": "cluster_block_exception",
                    "reason": "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"},
          "status": 503},
}


def fixed_status_server(env: Env, status: int) -> int:
    """An HTTP server on a free loopback port that answers every request with `status` and an
    Elasticsearch-style JSON error body (with WWW-Authenticate on 401, Retry-After on 503)."""
    body = json.dumps(_ES_BODIES.get(status, {"error": f"status {status}", "status": status})).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="security" charset="UTF-8"')
            if status == 503:
                self.send_header("Retry-After", "30")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = _answer

    return serve_http(env, Handler)


@dataclass
class Agents:
    """Paths and ports of the batch's fixtures."""

    root: Path
    full: Path
    inodes: Path
    ro: Path
    es401: int
    es403: int
    es503: int
    tls_port: int
    tls_ca: Path
    pg_port: int
    pg_standby_port: int
    redis_port: int
    blackbox_port: int


def _blackbox(env: Env, root: Path) -> int:
    cfg = root / "blackbox.yml"
    cfg.write_text("""modules:
  http_2xx:
    prober: http
    timeout: 3s
    http:
      preferred_ip_protocol: ip4
      valid_status_codes: []
  https_internal_ca:
    prober: http
    timeout: 3s
    http:
      preferred_ip_protocol: ip4
      fail_if_not_ssl: true
  tcp_connect:
    prober: tcp
    timeout: 3s
    tcp:
      preferred_ip_protocol: ip4
  dns_internal:
    prober: dns
    timeout: 3s
    dns:
      preferred_ip_protocol: ip4
      transport_protocol: tcp
      query_name: api.corp.internal
      query_type: A
""")
    port = free_port()
    proc = subprocess.Popen(["prometheus-blackbox-exporter", f"--config.file={cfg}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(proc.wait)
    env._closers.append(proc.terminate)
    _wait_port(port)
    return port


def prepare_agents(env: Env) -> Agents:
    root = env.tmp / "agents125"
    root.mkdir()
    full = mount_tmpfs(env, "full125", "size=64k")
    with contextlib.suppress(OSError), (full / "filler.bin").open("wb") as filler:  # fill it to the last block
        filler.write(b"\0" * 128 * 1024)
    inodes = mount_tmpfs(env, "inodes125", "size=1m,nr_inodes=6")
    ro = mount_tmpfs(env, "ro125", "size=256k")
    for sub in ("rsyslog", "syslog-ng", "collectd"):
        (ro / sub).mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    tls = tls_server(env, "logs.corp.internal")
    hba = ("host all rsyslog 127.0.0.1/32 scram-sha-256\nhost all collectd 127.0.0.1/32 scram-sha-256\n")
    pg = private_postgres(env, max_connections=8, extra_hba=hba)
    standby = private_postgres(env, standby=True)
    redis = private_redis(env, "--requirepass", "s3cr3t-metrics")
    return Agents(root, full, inodes, ro, fixed_status_server(env, 401), fixed_status_server(env, 403),
                  fixed_status_server(env, 503), tls.port, tls.cafile, pg.port, standby.port, redis,
                  _blackbox(env, root))


def workdir(a: Agents, name: str) -> Path:
    """A fresh per-case working directory (state, sockets, spool) under the batch root."""
    path = a.root / name
    path.mkdir(exist_ok=True)
    return path


def window(cmd: str, feed: str = "", secs: float = 4, drop: str = "") -> str:
    """A bash script that runs the daemon `cmd` for `secs` seconds (its output into a log), runs `feed` after it
    has started, then prints the log (less the lines matching the regex `drop`) on stderr and fails: the
    daemon keeps retrying, so what it logged is its error output."""
    filt = f"grep -Ev {shlex.quote(drop)}" if drop else "cat"
    return (f"log=$(mktemp)\n(timeout -s TERM {secs} {cmd}) >>\"$log\" 2>&1 &\nsleep 1.2\n{feed}\nwait\n"
            f"{filt} \"$log\" >&2\nrm -f \"$log\"\nexit 1\n")


def syslog_ng(work: Path, conf: Path, *args: str) -> str:
    """The command line of the unpacked syslog-ng with its state files under `work`."""
    return (f"env LD_LIBRARY_PATH={_SNG_LIB} {SYSLOG_NG_ROOT}/usr/sbin/syslog-ng "
            f"--module-path={_SNG_LIB}/3.38 --persist-file={work}/syslog-ng.persist --pidfile={work}/syslog-ng.pid "
            f"--control={work}/syslog-ng.ctl -f {conf} " + " ".join(args))


__all__ = ["SYSLOG_NG_ROOT", "Agents", "fixed_status_server", "prepare_agents", "syslog_ng", "window", "workdir"]
