"""Private servers the later batches fail against, each started on a free 127.0.0.1 port and stopped with the
batch: a PostgreSQL cluster we can fill, shut down and password-protect (the shared one is not ours to break),
a password-only MQTT broker, a TLS server that demands a client certificate, and a Redis whose scripts can
block it. Each returns what a client needs and registers its own cleanup on the `Env`."""

from __future__ import annotations

import contextlib
import http.server
import shutil
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port, run

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), Path("/usr/lib/postgresql/bin"))


@dataclass
class PrivatePostgres:
    """A throwaway cluster: `app` logs in with a password (scram), `postgres` is trusted; few connection slots."""

    port: int
    datadir: Path

    def pg_ctl(self, *args: str, wait: bool = True) -> subprocess.Popen[str]:
        proc = subprocess.Popen(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.datadir),
                                 *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        if wait:
            proc.wait(timeout=60)
        return proc


def private_postgres(env: Env, max_connections: int = 4, reserved: int = 1, *, standby: bool = False,
                     extra_hba: str = "", settings: str = "") -> PrivatePostgres:
    """initdb + start a cluster owned by the `postgres` user in a temporary directory. `standby` starts it as a
    standby with hot standby off (it refuses every connection); `extra_hba` lines go first in pg_hba.conf;
    `settings` are more `-c name=value` options."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-pg-"))
    shutil.chown(root, "postgres", "postgres")
    datadir = root / "data"
    port = free_port()
    subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(datadir), "-A", "trust",
                    "-U", "postgres", "--no-sync"], check=True, capture_output=True)
    (datadir / "pg_hba.conf").write_text(f"local all all trust\n{extra_hba}host all app 127.0.0.1/32 scram-sha-256\n"
                                         "host all all 127.0.0.1/32 trust\n")
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections={max_connections} "
               f"-c superuser_reserved_connections={reserved} -c fsync=off {settings}")
    if standby:
        (datadir / "standby.signal").touch()
        shutil.chown(datadir / "standby.signal", "postgres", "postgres")
        options += " -c hot_standby=off"
    pg = PrivatePostgres(port, datadir)
    subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(datadir), "-o", options,
                    "-l", str(root / "log"), "-W" if standby else "-w", "start"], check=True, capture_output=True)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    env._closers.append(lambda: pg.pg_ctl("-m", "immediate", "stop"))
    if standby:
        _wait_port(port)
        return pg
    proc = run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                "-c", "CREATE ROLE app LOGIN PASSWORD 'right-password'"])
    if proc.returncode:
        raise RuntimeError(f"private postgres setup failed: {proc.stderr.strip()}")
    return pg


def private_mosquitto(env: Env, acl: str = "") -> int:
    """A mosquitto broker that admits only user `app` with password `right-password` (and, with `acl`, lets it
    use only the topics that ACL file text grants)."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-mqtt-"))
    shutil.chown(root, "mosquitto", "mosquitto")
    port = free_port()
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(root / "passwd"), "app", "right-password"], check=True,
                   capture_output=True)
    shutil.chown(root / "passwd", "mosquitto", "mosquitto")
    conf = f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {root / 'passwd'}\npersistence false\n"
    if acl:
        (root / "acl").write_text(acl)
        shutil.chown(root / "acl", "mosquitto", "mosquitto")
        conf += f"acl_file {root / 'acl'}\n"
    (root / "mosquitto.conf").write_text(conf)
    proc = subprocess.Popen(["mosquitto", "-c", str(root / "mosquitto.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    env._closers.append(proc.wait)
    env._closers.append(proc.terminate)
    _wait_port(port)
    return port


@dataclass
class ClientCertServer:
    """A TLS server that requires a client certificate signed by its own CA; `cafile` lets clients trust it."""

    port: int
    cafile: Path


def accept_loop(env: Env, handle: Callable[[socket.socket], None], *, backlog: int = 16) -> int:
    """Accept connections on a free loopback port and hand each to `handle` (on the accepting thread: handlers are
    short, or start their own thread) until `env` closes; return the port."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            handle(conn)

    threading.Thread(target=serve, daemon=True).start()
    env._closers.append(sock.close)
    env._closers.append(stop.set)
    port: int = sock.getsockname()[1]
    return port


def client_cert_server(env: Env) -> ClientCertServer:
    """Serve TLS on a free port and refuse every client that presents no certificate."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-tls-"))
    cert, key = root / "server.pem", root / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cert)

    def refuse(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1024)
        conn.close()

    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    return ClientCertServer(accept_loop(env, refuse), cert)


def private_redis(env: Env, *args: str) -> int:
    """A redis-server on a free port with extra config `args` (`--name value` pairs)."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                             "no", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(proc.wait)
    env._closers.append(proc.terminate)
    _wait_port(port)  # a replica that may not serve (MASTERDOWN) still listens
    return port


def _wait_port(port: int) -> None:
    for _ in range(100):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def mount_tmpfs(env: Env, name: str, options: str) -> Path:
    """A tiny tmpfs (e.g. `size=64k` or `nr_inodes=8`) mounted under the batch directory, unmounted at the end."""
    target = env.tmp / name
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True, capture_output=True)
    env._closers.append(lambda: subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True))
    return target




def read_only_sqlite(env: Env, name: str, schema: str, filename: str = "app.sqlite3") -> Path:
    """A SQLite file with `schema` on a tmpfs that is then remounted read-only."""
    mount = mount_tmpfs(env, name, "size=512k")
    db = mount / filename
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.executescript(schema)
        conn.commit()
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True, capture_output=True)
    return db


def private_mariadb(env: Env, max_connections: int = 3) -> tuple[int, subprocess.Popen[bytes]]:
    """A throwaway MariaDB server (root without password over TCP, few connection slots); returns its port and
    process so a batch can shut it down while clients use it."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-mariadb-"))
    shutil.chown(root, "mysql", "mysql")
    datadir = root / "data"
    port = free_port()
    subprocess.run(["mariadb-install-db", f"--datadir={datadir}", "--user=mysql", "--skip-test-db",
                    "--auth-root-authentication-method=normal"], check=True, capture_output=True)
    proc = subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={datadir}", f"--port={port}",
                             "--bind-address=127.0.0.1", f"--socket={root / 'sock'}", "--user=mysql",
                             f"--max-connections={max_connections}", "--skip-log-bin", "--innodb-buffer-pool-size=8M"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    env._closers.append(lambda: proc.wait(timeout=30))
    env._closers.append(proc.terminate)
    for _ in range(200):
        if run(["mariadb", "-h", "127.0.0.1", "-P", str(port), "-u", "root", "-e", "select 1"]).returncode == 0:
            return port, proc
        time.sleep(0.1)
    raise RuntimeError("private mariadb did not start")


def full_backlog_port(env: Env) -> int:
    """A listener that never accepts, its accept queue filled: a new connection's SYN goes unanswered, so a
    client's connect times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.2)

    def close() -> None:
        for s in fillers:
            s.close()
        listener.close()

    env._closers.append(close)
    return port


@dataclass
class TlsServer:
    """A TLS server on 127.0.0.1 with a fresh self-signed certificate; `cafile` is that certificate."""

    port: int
    cafile: Path


def serve_tls(env: Env, cert: Path, key: Path) -> int:
    """Accept TLS on a free loopback port with this certificate and answer `HTTP/1.1 200` to whoever completes the
    handshake; return the port (stopped with `env`)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    def answer(conn: socket.socket) -> None:
        conn.settimeout(2)
        with contextlib.suppress(OSError), ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(4096)
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        conn.close()

    return accept_loop(env, answer)


def tls_server(env: Env, name: str = "127.0.0.1") -> TlsServer:
    """Serve TLS with a self-signed certificate for `name` (an IP address or a host name): no client trusts it,
    and one that trusts `cafile` still refuses it for any other name."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-tls-"))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    cert, key = root / "server.pem", root / "server.key"
    alt = f"IP:{name}" if name.replace(".", "").isdigit() else f"DNS:{name}"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName={alt}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return TlsServer(serve_tls(env, cert, key), cert)


def self_signed_https(env: Env) -> int:
    """The port of a `tls_server` for 127.0.0.1: only the trust check fails, never the name."""
    return tls_server(env).port


#: smbd's [global] section for a private instance on 127.0.0.1: every state directory under ROOT, no printing, no
#: NetBIOS, logins from its own tdbsam database (batches 60 and 118)
_SMB_GLOBAL = """[global]
 smb ports = PORT
 interfaces = 127.0.0.1
 bind interfaces only = yes
 lock directory = ROOT/lock
 state directory = ROOT/state
 cache directory = ROOT/cache
 private dir = ROOT/private
 pid directory = ROOT/run
 ncalrpc dir = ROOT/ncalrpc
 log file = ROOT/log.%m
 disable spoolss = yes
 load printers = no
 printcap name = /dev/null
 server role = standalone server
 map to guest = never
 passdb backend = tdbsam
 disable netbios = yes
"""


def smb_conf(port: int, root: Path, scratch: Path, shares: str, global_extra: str = "") -> str:
    """A private smbd's configuration: the shared [global] section (plus `global_extra` lines), then `shares`,
    where ROOT and SCRATCH stand for the state directory and a scratch mount."""
    text = _SMB_GLOBAL + global_extra + shares
    return text.replace("PORT", str(port)).replace("ROOT", str(root)).replace("SCRATCH", str(scratch))


#: Debian's Go libraries (golang-*-dev) live in this GOPATH; the module proxy does not resolve here
DEBIAN_GOPATH = Path("/usr/share/gocode")


def go_env(root: Path) -> dict[str, str]:
    """Environment for `go build` in GOPATH mode against Debian's Go libraries, with a writable overlay GOPATH
    (`root/gopath`, for import paths Debian spells differently) and the build cache under `root` (batches 87, 117)."""
    return {"GO111MODULE": "off", "GOPATH": f"{root / 'gopath'}:{DEBIAN_GOPATH}", "GOPROXY": "off", "GOFLAGS": "",
            "GOCACHE": str(root / "cache"), "GOTRACEBACK": "single"}


def serve_http(env: Env, handler: type[http.server.BaseHTTPRequestHandler], **attributes: object) -> int:
    """Serve `handler` on a free 127.0.0.1 port in daemon threads until `env` closes; `attributes` are set on the
    server (a handler reads them as `self.server.NAME`). Returns the port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    for name, value in attributes.items():
        setattr(server, name, value)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return int(server.server_address[1])


__all__ = [
    "DEBIAN_GOPATH",
    "ClientCertServer",
    "PrivatePostgres",
    "TlsServer",
    "accept_loop",
    "client_cert_server",
    "full_backlog_port",
    "go_env",
    "mount_tmpfs",
    "private_mariadb",
    "private_mosquitto",
    "private_postgres",
    "private_redis",
    "read_only_sqlite",
    "self_signed_https",
    "serve_http",
    "serve_tls",
    "smb_conf",
    "tls_server",
]
