"""Local fixtures of batch 44: a private sshd on a loopback port (own host key, own authorized_keys, run in the
foreground and stopped at the end), a tiny DNS server on 127.0.0.1 that answers NXDOMAIN or SERVFAIL, a UDP port
that never answers, and the broken input files (XML, images, media, archives) the tools are fed. Only 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import struct
import subprocess
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port, run


@dataclass
class SshServer:
    """A running private sshd: its port, the authorized and the unauthorized client key, and known_hosts files."""

    port: int
    good_key: Path
    bad_key: Path
    known_hosts: Path
    changed_known_hosts: Path

    def client(self, key: Path | None = None, known_hosts: Path | None = None, port: int | None = None,
               port_flag: str = "-p") -> str:
        """The ssh/scp/sftp options of a deploy script, as one shell fragment (no user config, no agent)."""
        options = ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                   "-o", "ConnectTimeout=5", "-o", "StrictHostKeyChecking=yes",
                   "-o", f"UserKnownHostsFile={known_hosts or self.known_hosts}", "-i", str(key or self.good_key),
                   port_flag, str(port or self.port)]
        return shlex.join(options)


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "b44", "-f", str(path)], check=True,
                   capture_output=True)
    return path.with_suffix(".pub").read_text().split()[1]


def start_sshd(env: Env) -> SshServer:
    """Start ``sshd -D -f CONFIG`` on a free loopback port with keys in a temp dir; stopped by env.close()."""
    home = env.tmp / "sshd44"
    home.mkdir()
    host_key = _keygen(home / "host_ed25519")
    other_host_key = _keygen(home / "other_host_ed25519")
    _keygen(home / "deploy_ed25519")
    _keygen(home / "stranger_ed25519")
    (home / "authorized_keys").write_text((home / "deploy_ed25519.pub").read_text())
    changed = home / "known_hosts_changed"
    hosts = home / "known_hosts"
    for _attempt in range(3):
        port = free_port()
        config = home / "sshd_config"
        config.write_text("\n".join([
            f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {home / 'host_ed25519'}",
            f"PidFile {home / 'sshd.pid'}", f"AuthorizedKeysFile {home / 'authorized_keys'}", "StrictModes no",
            "UsePAM no", "PermitRootLogin prohibit-password", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PubkeyAuthentication yes", "Subsystem sftp internal-sftp",
            "LogLevel QUIET", "",
        ]))
        hosts.write_text(f"[127.0.0.1]:{port} ssh-ed25519 {host_key}\n")
        changed.write_text(f"[127.0.0.1]:{port} ssh-ed25519 {other_host_key}\n")
        server = SshServer(port, home / "deploy_ed25519", home / "stranger_ed25519", hosts, changed)
        ensure_privsep()
        proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(config)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        env._closers.append(lambda proc=proc: _stop(proc))  # type: ignore[misc]
        if _logs_in(server, proc):
            return server
        _stop(proc)
    raise RuntimeError("private sshd did not accept the authorized key")


def ensure_privsep() -> None:
    """sshd's privilege-separation directory (normally made at boot); created if missing, never removed, since
    other sshd instances on the machine may rely on it."""
    Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


def _logs_in(server: SshServer, proc: subprocess.Popen[bytes]) -> bool:
    """True once our own sshd (still running) lets the authorized key in."""
    for _ in range(50):
        if proc.poll() is not None:
            return False
        probe = run(["bash", "-c", f"ssh {server.client()} root@127.0.0.1 true"], timeout=15)
        if probe.returncode == 0:
            return True
        time.sleep(0.1)
    return False


# --------------------------------------------------------------------------- DNS on loopback


def _dns_answer(query: bytes) -> bytes:
    """Answer a query with no records: SERVFAIL for names starting with `servfail`, NXDOMAIN otherwise."""
    ident, flags = struct.unpack("!HH", query[:4])
    end = 12
    while query[end] != 0:
        end += query[end] + 1
    question = query[12:end + 5]
    first_label = query[13:13 + query[12]].decode("ascii", "replace").lower()
    rcode = 2 if first_label.startswith("servfail") else 3
    reply_flags = 0x8000 | (flags & 0x0100) | 0x0080 | rcode
    return struct.pack("!HHHHHH", ident, reply_flags, 1, 0, 0, 0) + question


def start_dns(env: Env) -> tuple[int, int]:
    """A DNS server on 127.0.0.1 (NXDOMAIN / SERVFAIL) and a bound UDP port that never answers; their ports."""
    answering = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    answering.bind(("127.0.0.1", 0))
    answering.settimeout(0.2)
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = answering.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            with contextlib.suppress(Exception):
                answering.sendto(_dns_answer(data), peer)

    threading.Thread(target=serve, daemon=True).start()
    env._closers.append(answering.close)
    env._closers.append(silent.close)
    env._closers.append(stop.set)
    return answering.getsockname()[1], silent.getsockname()[1]


# --------------------------------------------------------------------------- input files


def make_inputs(work: Path) -> None:
    """The files the cases feed to the tools: broken XML and schemas, corrupt images and media, archives."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "artifact.bin").write_bytes(os.urandom(600_000))
    (work / "sitemap.xml").write_text('<?xml version="1.0"?>\n<urlset>\n  <url><loc>https://example.org/</loc>'
                                      '</urlset>\n')
    (work / "service.xsd").write_text(
        '<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n'
        '  <xs:element name="service">\n    <xs:complexType>\n      <xs:sequence>\n'
        '        <xs:element name="name" type="xs:string"/>\n'
        '        <xs:element name="port" type="xs:unsignedShort"/>\n'
        '      </xs:sequence>\n    </xs:complexType>\n  </xs:element>\n</xs:schema>\n')
    (work / "service.xml").write_text('<?xml version="1.0"?>\n<service>\n  <name>billing</name>\n'
                                      '  <port>eighty</port>\n</service>\n')
    (work / "pom-like.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE project [\n  <!ELEMENT project (version)>\n'
        '  <!ELEMENT version (#PCDATA)>\n]>\n<project>\n  <version>1.4.2</version>\n  <packaging>jar</packaging>\n'
        '</project>\n')
    (work / "job.rng").write_text(
        '<element name="job" xmlns="http://relaxng.org/ns/structure/1.0">\n  <attribute name="id"/>\n'
        '  <element name="schedule"><text/></element>\n</element>\n')
    (work / "job.xml").write_text('<?xml version="1.0"?>\n<job><schedule>hourly</schedule></job>\n')
    (work / "hosts.xml").write_text('<?xml version="1.0"?>\n<hosts><host port="22">a</host></hosts>\n')
    run(["/usr/bin/convert", "-size", "160x90", "plasma:fractal", str(work / "banner-full.gif")])
    gif = (work / "banner-full.gif").read_bytes()
    (work / "banner.gif").write_bytes(gif[:len(gif) // 3])
    (work / "avatar.jpg").write_bytes(b"GIF89a" + os.urandom(1024))
    (work / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096))
    (work / "notes.txt").write_text("release notes\n" * 200)
    with zipfile.ZipFile(work / "bundle.zip", "w", zipfile.ZIP_STORED) as bundle:
        bundle.write(work / "artifact.bin", "artifact.bin")
    data = (work / "bundle.zip").read_bytes()
    (work / "truncated.zip").write_bytes(data[:len(data) // 2])
    with zipfile.ZipFile(work / "docs.zip", "w", zipfile.ZIP_STORED) as docs:
        docs.write(work / "notes.txt", "notes.txt")
    flipped = bytearray((work / "docs.zip").read_bytes())
    flipped[30 + len("notes.txt") + 100] ^= 0xFF
    (work / "docs-bad-crc.zip").write_bytes(bytes(flipped))
    run(["zip", "-q", "-P", "right-b44", str(work / "secrets.zip"), "notes.txt"], cwd=work)
    run(["7z", "a", "-bd", "-y", "-pright-b44", str(work / "secrets.7z"), "notes.txt"], cwd=work)
    run(["7z", "a", "-bd", "-y", "-mx=0", str(work / "release.7z"), "artifact.bin"], cwd=work)
    seven = (work / "release.7z").read_bytes()
    (work / "release-partial.7z").write_bytes(seven[:len(seven) // 3])
    remote = work / "remote"
    remote.mkdir()
    (remote / "deploy.sh").write_text('#!/bin/bash\nset -e\nif [ -d /srv/app ]; then\n  echo "switching release"\n')
    (remote / "settings.json").write_text('{"replicas": 3, "image": "registry.local/app:1.4",}\n')
    (remote / "migrate.py").write_text("import sys\n\n\ndef main():\n    return apply_migrations(sys.argv[1:])\n\n\n"
                                       "main()\n")


__all__ = ["SshServer", "ensure_privsep", "make_inputs", "start_dns", "start_sshd"]
