"""Helpers of batch 60: private protocol servers on free 127.0.0.1 ports, each in the batch's temporary directory
and stopped with the batch. A pyftpdlib process serving three FTP endpoints (a normal one with a read-write and a
read-only user, one limited to a single client, one that answers every client `421` and hangs up), a slapd with a
read-write and a read-only database, an snmpd with v2c communities and a v3 user, an smbd with a writable, a
restricted, a one-connection and a tiny share, and a TLS server whose certificate is self-signed for another host
name."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port, run
from servers import TlsServer, mount_tmpfs, smb_conf, tls_server

PASSWORD = "right-password"

_FTPD = '''
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

root, main_port, busy_port, down_port = sys.argv[1:5]
users = DummyAuthorizer()
users.add_user("deploy", "PASSWORD", root, perm="elradfmwMT")
users.add_user("reader", "PASSWORD", root, perm="elr")


class Main(FTPHandler):
    authorizer = users


class Down(FTPHandler):
    authorizer = users

    def on_connect(self):
        self.respond("421 Service not available, closing control connection.")
        self.close_when_done()


servers = [FTPServer(("127.0.0.1", int(main_port)), Main), FTPServer(("127.0.0.1", int(busy_port)), Main),
           FTPServer(("127.0.0.1", int(down_port)), Down)]
servers[1].max_cons = 1
servers[0].serve_forever()
'''


def wait_port(port: int) -> None:
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def _stop(env: Env, proc: subprocess.Popen[bytes]) -> None:
    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    env._closers.append(stop)


@dataclass
class Ftp:
    """Ports of the FTP endpoints; `root` is what `deploy` and `reader` see on `main`."""

    root: Path
    main: int
    busy: int
    down: int


def ftp_servers(env: Env) -> Ftp:
    root = env.tmp / "ftproot60"
    (root / "pub").mkdir(parents=True)
    (root / "pub" / "app-1.4.1.tar.gz").write_bytes(b"\0" * 2048)
    (root / "pub" / "report.csv").write_text("id,total\n1,3\n")
    ftp = Ftp(root, free_port(), free_port(), free_port())
    script = env.tmp / "ftpd60.py"
    script.write_text(_FTPD.replace("PASSWORD", PASSWORD))
    proc = subprocess.Popen([sys.executable, str(script), str(root), str(ftp.main), str(ftp.busy),
                             str(ftp.down)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _stop(env, proc)
    for port in (ftp.main, ftp.down):
        wait_port(port)
    holder = socket.create_connection(("127.0.0.1", ftp.busy), timeout=5)  # the busy endpoint's one client
    holder.recv(256)
    env._closers.append(holder.close)
    return ftp


_SLAPD_CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile ROOT/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "dc=corp,dc=test"
rootdn "cn=admin,dc=corp,dc=test"
rootpw PASSWORD
directory ROOT/corp
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by anonymous auth
database mdb
maxsize 10485760
suffix "dc=archive,dc=test"
rootdn "cn=admin,dc=archive,dc=test"
rootpw PASSWORD
directory ROOT/archive
readonly on
"""

_SLAPD_SEED = """dn: dc=corp,dc=test
objectClass: dcObject
objectClass: organization
o: Corp
dc: corp

dn: ou=people,dc=corp,dc=test
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,dc=corp,dc=test
objectClass: inetOrgPerson
uid: alice
cn: Alice Example
sn: Example
userPassword: alice-password
"""


def private_slapd(env: Env) -> int:
    """slapd with `dc=corp,dc=test` (admin and the user alice, who may only read) and a read-only
    `dc=archive,dc=test`."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-ldap-"))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    (root / "corp").mkdir()
    (root / "archive").mkdir()
    (root / "slapd.conf").write_text(_SLAPD_CONF.replace("ROOT", str(root)).replace("PASSWORD", PASSWORD))
    port = free_port()
    proc = subprocess.Popen(["slapd", "-f", str(root / "slapd.conf"), "-h", f"ldap://127.0.0.1:{port}/", "-d", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _stop(env, proc)
    wait_port(port)
    seed = run(["ldapadd", "-x", "-H", f"ldap://127.0.0.1:{port}", "-D", "cn=admin,dc=corp,dc=test", "-w", PASSWORD],
               input=_SLAPD_SEED)
    if seed.returncode:
        raise RuntimeError("private slapd could not be seeded")
    return port


def private_snmpd(env: Env) -> int:
    """snmpd on a free UDP port: community `public-b60` reads, `private-b60` writes, v3 user `opsuser` needs
    authPriv."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-snmp-"))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    (root / "snmpd.conf").write_text(
        f"rocommunity public-b60 127.0.0.1\nrwcommunity private-b60 127.0.0.1\n"
        f'createUser opsuser SHA "{PASSWORD}" AES "{PASSWORD}"\nrouser opsuser priv\n')
    port = free_port()
    proc = subprocess.Popen(["snmpd", "-f", "-Lo", "-C", "-c", str(root / "snmpd.conf"), "-m", "",
                             f"--persistentDir={root / 'persist'}", "-I", "-smux", f"udp:127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _stop(env, proc)
    for _ in range(100):
        probe = run(["snmpget", "-m", "", "-v2c", "-c", "public-b60", "-t", "0.3", "-r", "0", f"127.0.0.1:{port}",
                     ".1.3.6.1.2.1.1.1.0"])
        if probe.returncode == 0:
            return port
        time.sleep(0.1)
    raise RuntimeError("private snmpd did not answer")


_SMB_SHARES = """[releases]
 path = ROOT/releases
 read only = no
[payroll]
 path = ROOT/payroll
 valid users = finance-b60
[reports]
 path = ROOT/releases
 max connections = 1
[scratch]
 path = SCRATCH
 read only = no
"""


def private_smbd(env: Env) -> int:
    """smbd whose only account is `nobody`: a writable `releases`, a `payroll` share only another user may use,
    and a `scratch` share on a 64k tmpfs."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-smb-"))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    for sub in ("lock", "state", "cache", "private", "run", "ncalrpc", "releases", "payroll"):
        (root / sub).mkdir()
    scratch = mount_tmpfs(env, "smbscratch60", "size=64k,mode=1777")
    root.chmod(0o711)  # smbd serves the shares as `nobody`, who must reach them
    env.tmp.chmod(0o711)
    (root / "releases").chmod(0o777)
    (root / "releases" / "app-1.4.1.tar.gz").write_bytes(b"\0" * 2048)
    port = free_port()
    conf = root / "smb.conf"
    conf.write_text(smb_conf(port, root, scratch, _SMB_SHARES))
    user = run(["pdbedit", "-s", str(conf), "-a", "-u", "nobody", "-t"], input=f"{PASSWORD}\n{PASSWORD}\n")
    if user.returncode:
        raise RuntimeError("private smbd account could not be created")
    # its own session: smbd signals its whole process group when it stops
    proc = subprocess.Popen(["smbd", "-F", "--no-process-group", "-s", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    _stop(env, proc)
    wait_port(port)
    return port


def other_host_tls(env: Env) -> TlsServer:
    """A TLS server whose self-signed certificate names `build.internal`; `cafile` is that certificate."""
    return tls_server(env, "build.internal")


__all__ = ["PASSWORD", "Ftp", "ftp_servers", "other_host_tls", "private_slapd", "private_smbd",
           "private_snmpd", "wait_port"]
