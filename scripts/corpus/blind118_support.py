"""Fixtures of the hundred-and-eighteenth batch, all on 127.0.0.1 and stopped with the batch: an smbd with a
writable share, a share reserved to another account, a read-only share and a share on a 64k tmpfs; an SSH server
written with paramiko (password and public-key logins, a shell that prints a router prompt); a UDP DNS server that
answers NXDOMAIN, and one that never answers; an aioquic HTTP/3 server with a self-signed certificate and one that
only speaks another ALPN; a read-only tmpfs; and the argv of Python scripts run in this interpreter."""

from __future__ import annotations

import contextlib
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port, run
from servers import accept_loop, mount_tmpfs, smb_conf

PY = sys.executable
PASSWORD = "Fleet-Ops-2026"
SMB_USER = "backup"  # the Debian system account, as the share's only login

_SMB_GLOBAL_EXTRA = " server min protocol = SMB2_10\n"
_SMB_SHARES = """[backups]
 path = ROOT/backups
 read only = no
 force user = root
[hr-records]
 path = ROOT/hr
 valid users = hr-archive
[archive]
 path = ROOT/backups
 read only = yes
[reports]
 path = ROOT/backups
 max connections = 1
[scratch]
 path = SCRATCH
 read only = no
 force user = root
"""


def _stop(env: Env, proc: subprocess.Popen[bytes]) -> None:
    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    env._closers.append(stop)


def wait_port(port: int) -> None:
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def private_smbd(env: Env) -> int:
    """smbd whose only account is SMB_USER: `backups` (writable, holding nightly/ with a few dumps), `hr-records`
    (only for another account), `archive` (read-only view of backups), `reports` (one connection at a time) and
    `scratch` (a 64k tmpfs)."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-smb118-"))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    for sub in ("lock", "state", "cache", "private", "run", "ncalrpc", "backups", "hr"):
        (root / sub).mkdir()
    scratch = mount_tmpfs(env, "smbscratch118", "size=64k,mode=1777")
    root.chmod(0o711)
    env.tmp.chmod(0o711)
    nightly = root / "backups" / "nightly"
    nightly.mkdir()
    (nightly / "pg-orders-2026-11-28.dump").write_bytes(b"PGDMP" + b"\0" * 4096)
    (nightly / "pg-orders-2026-11-29.dump").write_bytes(b"PGDMP" + b"\0" * 4096)
    port = free_port()
    conf = root / "smb.conf"
    conf.write_text(smb_conf(port, root, scratch, _SMB_SHARES, _SMB_GLOBAL_EXTRA))
    user = run(["pdbedit", "-s", str(conf), "-a", "-u", SMB_USER, "-t"], input=f"{PASSWORD}\n{PASSWORD}\n")
    if user.returncode:
        raise RuntimeError("private smbd account could not be created")
    proc = subprocess.Popen(["smbd", "-F", "--no-process-group", "-s", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    _stop(env, proc)
    wait_port(port)
    return port


# --------------------------------------------------------------------------- SSH (paramiko server)


@dataclass
class Ssh:
    """Port of the SSH server, the key it accepts (`key`, private, OpenSSH format) and one it does not."""

    port: int
    key: Path
    other_key: Path


_MODES = {b"configure terminal": b"(config)", b"interface": b"(config-if)", b"end": b"", b"exit": b""}


def _router_shell(chan: object) -> None:
    """A Cisco-like CLI: `show`/`terminal` commands in exec mode, `configure terminal` and `interface` switch the
    prompt, anything else is answered with the IOS invalid-input marker."""
    mode = b""
    chan.sendall(b"\r\ncore-sw1#")  # type: ignore[attr-defined]
    while True:
        data = chan.recv(1024)  # type: ignore[attr-defined]
        if not data:
            return
        for line in data.replace(b"\r", b"\n").split(b"\n"):
            line = line.strip()
            reply = b""
            if line:
                known = [m for m in _MODES if line.startswith(m)]
                if known:
                    mode = _MODES[known[0]]
                elif not (line.startswith((b"show", b"terminal", b"no ", b"description", b"ip ")) or
                          line.startswith(b"config")):
                    reply = b"                ^\r\n% Invalid input detected at '^' marker.\r\n\r\n"
                if line.startswith(b"show"):
                    reply = b"Cisco IOS XE Software, Version 17.9.4a\r\ncore-sw1 uptime is 41 weeks\r\n"
            chan.sendall(line + b"\r\n" + reply + b"core-sw1" + mode + b"#")  # type: ignore[attr-defined]


def _ssh_session(conn: socket.socket, host_key: object, allowed: str) -> None:
    import paramiko

    class Server(paramiko.ServerInterface):
        def get_allowed_auths(self, username: str) -> str:
            return "publickey,password"

        def check_auth_password(self, username: str, password: str) -> int:
            ok = username == "netops" and password == PASSWORD
            return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

        def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
            ok = username == "netops" and key.get_base64() == allowed
            return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

        def check_channel_request(self, kind: str, chanid: int) -> int:
            return paramiko.OPEN_SUCCEEDED

        def check_channel_pty_request(self, *args: object) -> bool:
            return True

        def check_channel_shell_request(self, channel: object) -> bool:
            return True

    transport = paramiko.Transport(conn)
    transport.add_server_key(host_key)  # type: ignore[arg-type]
    with contextlib.suppress(Exception):
        transport.start_server(server=Server())
        chan = transport.accept(20)
        if chan is None:
            return
        chan.settimeout(30)
        _router_shell(chan)
    transport.close()


def ssh_server(env: Env) -> Ssh:
    import paramiko

    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-ssh118-"))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    host_key = paramiko.RSAKey.generate(2048)
    keys = []
    for name in ("id_ed25519_netops", "id_ed25519_old"):
        path = root / name
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@jump01", "-f", str(path)],
                       check=True, capture_output=True)
        keys.append(path)
    allowed = paramiko.Ed25519Key.from_private_key_file(str(keys[0])).get_base64()

    def handle(conn: socket.socket) -> None:
        threading.Thread(target=_ssh_session, args=(conn, host_key, allowed), daemon=True).start()

    return Ssh(accept_loop(env, handle), keys[0], keys[1])


# --------------------------------------------------------------------------- DNS over UDP


def _dns_answer(query: bytes, rcode: int) -> bytes:
    """The header of `query` turned into a response with `rcode` and no answers (the question echoed)."""
    ident, flags = struct.unpack("!HH", query[:4])
    flags = 0x8000 | (flags & 0x0100) | 0x0080 | rcode
    return struct.pack("!HHHHHH", ident, flags, 1, 0, 0, 0) + query[12:]


def dns_server(env: Env, rcode: int | None) -> int:
    """A UDP DNS server answering every query with `rcode` (3 = NXDOMAIN), or never answering (`None`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except OSError:
                continue
            if rcode is not None and len(data) > 12:
                sock.sendto(_dns_answer(data, rcode), peer)

    threading.Thread(target=serve, daemon=True).start()
    env._closers.append(sock.close)
    env._closers.append(stop.set)
    port: int = sock.getsockname()[1]
    return port


def closed_udp_port() -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


# --------------------------------------------------------------------------- HTTP/3 (aioquic)

_QUIC_SERVER = """
import asyncio, sys
from aioquic.asyncio import serve
from aioquic.quic.configuration import QuicConfiguration

cert, key, h3_port, hq_port = sys.argv[1:5]

async def main():
    for port, alpn in ((h3_port, ["h3"]), (hq_port, ["hq-interop"])):
        cfg = QuicConfiguration(is_client=False, alpn_protocols=alpn)
        cfg.load_cert_chain(cert, key)
        await serve("127.0.0.1", int(port), configuration=cfg)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@dataclass
class Quic:
    """An HTTP/3 server (`h3`), one that only speaks `hq-interop` (`hq`); `cafile` is their self-signed cert for
    edge.internal; `garbled` is a corrupt PEM file."""

    h3: int
    hq: int
    cafile: Path
    garbled: Path


def quic_servers(env: Env) -> Quic:
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-quic118-"))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    cert, key = root / "edge.pem", root / "edge.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=edge.internal", "-addext", "subjectAltName=DNS:edge.internal", "-keyout", str(key), "-out",
                    str(cert)], check=True, capture_output=True)
    garbled = root / "client-bundle.pem"
    garbled.write_text("-----BEGIN CERTIFICATE-----\nMIIDazCCAlOgAwIBAgIUb3Jk\nZXJzLWFwaQ==\n"
                       "-----END CERTIFICATE-----\n")
    h3, hq = closed_udp_port(), closed_udp_port()
    script = root / "quic_server.py"
    script.write_text(_QUIC_SERVER)
    proc = subprocess.Popen([PY, str(script), str(cert), str(key), str(h3), str(hq)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _stop(env, proc)
    time.sleep(1.5)
    return Quic(h3, hq, cert, garbled)


def read_only_dir(env: Env, name: str, files: dict[str, str]) -> Path:
    """A small tmpfs holding `files`, then remounted read-only."""
    mount = mount_tmpfs(env, name, "size=256k")
    for rel, text in files.items():
        (mount / rel).parent.mkdir(parents=True, exist_ok=True)
        (mount / rel).write_text(text)
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True, capture_output=True)
    return mount


def script(code: str) -> list[str]:
    """argv running `code` in this interpreter."""
    return [PY, "-c", code]


__all__ = ["PASSWORD", "PY", "SMB_USER", "Quic", "Ssh", "closed_udp_port", "dns_server", "private_smbd",
           "quic_servers", "read_only_dir", "script", "ssh_server", "wait_port"]
