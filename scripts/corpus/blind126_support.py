"""Fixtures of the hundred-and-twenty-sixth batch (mail tools): SMTP servers on 127.0.0.1 built on aiosmtpd that
answer the way a real MTA does (a postgrey greylisting reply, AUTH required or refused, a full mailbox, a store
out of space, a sender rejected by policy, a self-signed STARTTLS), a POP3/IMAP/SMTP greeter that only answers a
"service unavailable" banner, a private dovecot instance (IMAP, POP3 and IMAPS on free ports, a passwd-file with
one user, a tiny quota and a mail store on a full or read-only tmpfs) and exim configuration files for a private
exim. Everything listens on 127.0.0.1 and stops with the batch."""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import ssl
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import Env, free_port, run
from servers import accept_loop, mount_tmpfs, tls_server

#: SMTP mode -> (SMTP stage, reply) of the fake servers
SMTP_REPLIES = {
    "greylist": ("RCPT", "450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted, see "
                         "http://postgrey.schweikert.ch/help/corp-mail.internal.html"),
    "mailbox_full": ("RCPT", "552 5.2.2 <{rcpt}>: Recipient address rejected: Mailbox full"),
    "no_storage": ("MAIL", "452 4.3.1 Insufficient system storage"),
    "sender_policy": ("MAIL", "553 5.7.1 <{sender}>: Sender address rejected: not owned by user "
                              "deploy-bot@corp-mail.internal"),
    "rate_limit": ("RCPT", "450 4.7.1 <{rcpt}>: Recipient address rejected: Rate limit exceeded for "
                           "sasl_username=billing-notify (120 messages/hour)"),
    "bad_rcpt": ("RCPT", "501 5.1.3 <{rcpt}>: Recipient address rejected: Bad recipient address syntax"),
    "unknown_user": ("RCPT", "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox "
                             "table"),
}


@dataclass
class SmtpFakes:
    """Ports of the fake SMTP servers by mode, plus `auth` (AUTH PLAIN/LOGIN refused with 535), `auth_required`
    (530 before AUTH), `starttls` (a self-signed certificate), `accept` (takes everything) and `down` (421
    banner)."""

    ports: dict[str, int] = field(default_factory=dict)
    cafile: Path = Path()


def _handler(mode: str) -> Any:
    stage, reply = SMTP_REPLIES.get(mode, ("", ""))

    class Handler:
        async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                              mail_options: list[str]) -> str:
            if stage == "MAIL":
                return reply.format(sender=address)
            envelope.mail_from = address
            return "250 2.1.0 Ok"

        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                              rcpt_options: list[str]) -> str:
            if stage == "RCPT":
                return reply.format(rcpt=address)
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 Ok"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 2.0.0 Ok: queued as 4Q7ZxL2kJmz1xv"

    return Handler()


def _refuse_auth(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult

    return AuthResult(success=False, handled=False, message="535 5.7.8 Error: authentication failed: "
                      "UGFzc3dvcmQ6")


def _banner_server(env: Env, banner: bytes) -> int:
    def answer(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(1)
            conn.sendall(banner)
            conn.recv(1024)
        conn.close()

    return accept_loop(env, answer)


def smtp_fakes(env: Env) -> SmtpFakes:
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", category=UserWarning, module="aiosmtpd")
    fakes = SmtpFakes()
    tls = tls_server(env, "smtp.corp-mail.internal")
    fakes.cafile = tls.cafile
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cafile, tls.cafile.with_name("server.key"))
    specs: dict[str, dict[str, Any]] = {mode: {} for mode in SMTP_REPLIES}
    specs["accept"] = {}
    specs["starttls"] = {"tls_context": context, "require_starttls": True}
    specs["auth"] = {"authenticator": _refuse_auth, "auth_require_tls": False}
    specs["auth_required"] = {"authenticator": _refuse_auth, "auth_required": True, "auth_require_tls": False}
    for mode, kw in specs.items():
        port = free_port()
        controller = Controller(_handler(mode), hostname="127.0.0.1", port=port,
                                server_hostname="mx1.corp-mail.internal", **kw)
        controller.start()
        env._closers.append(controller.stop)
        fakes.ports[mode] = port
    fakes.ports["down"] = _banner_server(
        env, b"421 4.3.2 mx1.corp-mail.internal Service not available, closing transmission channel\r\n")
    return fakes


def banner_port(env: Env, banner: str) -> int:
    """A server that greets with `banner` (CRLF added) and closes the connection."""
    return _banner_server(env, banner.encode() + b"\r\n")




# --------------------------------------------------------------------------- a private dovecot

MAIL_USER = "nobody"
MAIL_GROUP = "nogroup"


@dataclass
class Dovecot:
    """A private dovecot: its config file, ports, users and mail stores."""

    root: Path
    conf: Path
    imap: int
    imaps: int
    pop3: int
    pop3s: int
    cafile: Path
    full: Path
    ro: Path


_DOVECOT_CONF = """\
protocols = imap pop3
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/log/dovecot.log
info_log_path = {root}/log/dovecot-info.log
instance_name = dovecot-corp126
ssl = yes
ssl_cert = <{root}/tls/mail.corp-mail.internal.pem
ssl_key = <{root}/tls/mail.corp-mail.internal.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:{root}/vmail/%d/%n/Maildir
mail_plugins = quota
mail_max_userip_connections = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/etc/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/etc/users
  default_fields = uid={user} gid={group} home={root}/vmail/%d/%n
}}
plugin {{
  quota = maildir:User quota
  quota_rule = *:storage=512M
}}
protocol imap {{
  mail_plugins = $mail_plugins imap_quota
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
"""

#: passwd-file users of the private dovecot (password, extra userdb fields)
DOVECOT_USERS = {
    "ops@corp-mail.internal": ("Corr3ct-Horse-26", ""),
    "billing@corp-mail.internal": ("Ledger#2026", "userdb_quota_rule=*:storage=2K"),
    "archive@corp-mail.internal": ("Arch1ve-26", "userdb_mail=maildir:{full}/archive/Maildir"),
    "legal-hold@corp-mail.internal": ("H0ld-26", "userdb_mail=maildir:{ro}/legal-hold/Maildir"),
}


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def private_dovecot(env: Env) -> Dovecot:
    root = env.tmp / "dovecot126"
    env.tmp.chmod(0o755)  # dovecot's auth and mail processes run as other users
    for sub in ("run", "state", "log", "etc", "vmail"):
        (root / sub).mkdir(parents=True)
    shutil.chown(root / "vmail", MAIL_USER, MAIL_GROUP)
    cert, _key = _self_signed(root / "tls", "mail.corp-mail.internal")
    full = mount_tmpfs(env, "vmail-full126", "size=64k")
    ro = mount_tmpfs(env, "vmail-ro126", "size=256k")
    for store in (full, ro):
        shutil.chown(store, MAIL_USER, MAIL_GROUP)
    run(["runuser", "-u", MAIL_USER, "--", "mkdir", "-p", str(ro / "legal-hold/Maildir/cur"),
         str(ro / "legal-hold/Maildir/new"), str(ro / "legal-hold/Maildir/tmp")])
    run(["runuser", "-u", MAIL_USER, "--", "dd", "if=/dev/zero", f"of={full / 'filler'}", "bs=1k", "count=64"])
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    ports = {name: free_port() for name in ("imap", "imaps", "pop3", "pop3s")}
    conf = root / "etc" / "dovecot.conf"
    conf.write_text(_DOVECOT_CONF.format(root=root, user=MAIL_USER, group=MAIL_GROUP, **ports))
    lines = [f"{user}:{{PLAIN}}{password}::::::{extra.format(full=full, ro=ro)}"
             for user, (password, extra) in DOVECOT_USERS.items()]
    (root / "etc" / "users").write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen(["dovecot", "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    env._closers.append(lambda: proc.wait(timeout=30))
    env._closers.append(proc.terminate)
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", ports["imap"]), timeout=0.2):
            break
        if proc.poll() is not None:
            raise RuntimeError("private dovecot did not start")
        time.sleep(0.05)
    return Dovecot(root, conf, ports["imap"], ports["imaps"], ports["pop3"], ports["pop3s"], cert, full, ro)


# --------------------------------------------------------------------------- a private exim

_EXIM_CONF = """\
primary_hostname = mx1.corp-mail.internal
spool_directory = {spool}
log_file_path = {root}/log/%slog
exim_user = Debian-exim
exim_group = Debian-exim
keep_environment =
domainlist local_domains = corp-mail.internal
acl_smtp_rcpt = acl_check_rcpt
smtp_accept_max = 1
smtp_accept_queue = 0
{extra_main}
begin acl
acl_check_rcpt:
  accept hosts = :
  deny message = relay not permitted
       !domains = +local_domains
  accept

begin routers
virtual_aliases:
  driver = redirect
  domains = +local_domains
  data = ${{lookup{{$local_part}}lsearch{{/etc/exim4/virtual/corp-mail.internal}}}}

smarthost:
  driver = manualroute
  domains = ! +local_domains
  transport = remote_smtp
  route_list = * 127.0.0.1::{smarthost}
  self = send
  no_more

begin authenticators
plain_client:
  driver = plaintext
  public_name = PLAIN
  client_send = ^billing-notify^Wr0ngPass-2026

begin transports
remote_smtp:
  driver = smtp
  allow_localhost
{extra_transport}
"""


@dataclass
class Exim:
    """Directories of the private exim: its config files are written by `conf`."""

    root: Path
    spool: Path
    full: Path
    ro: Path

    def conf(self, name: str, smarthost: int = 25, *, spool: Path | None = None, extra_main: str = "",
             extra_transport: str = "") -> Path:
        path = self.root / f"{name}.conf"
        path.write_text(_EXIM_CONF.format(root=self.root, spool=spool or self.spool, smarthost=smarthost,
                                          extra_main=extra_main, extra_transport=extra_transport))
        return path


def _exim_spool(path: Path) -> None:
    for sub in ("input", "db", "msglog"):
        (path / sub).mkdir(exist_ok=True)
    subprocess.run(["chown", "-R", "Debian-exim:Debian-exim", str(path)], check=True)


def private_exim(env: Env) -> Exim:
    root = env.tmp / "exim126"
    (root / "log").mkdir(parents=True)
    env.tmp.chmod(0o755)
    root.chmod(0o755)
    spool = root / "spool"
    spool.mkdir()
    _exim_spool(spool)
    shutil.chown(root / "log", "Debian-exim", "Debian-exim")
    full = mount_tmpfs(env, "exim-spool-full126", "size=64k")
    ro = mount_tmpfs(env, "exim-spool-ro126", "size=32m")  # over exim's 10M check_spool_space, never written
    _exim_spool(full)
    _exim_spool(ro)
    run(["runuser", "-u", "Debian-exim", "--", "dd", "if=/dev/zero", f"of={full / 'filler'}", "bs=1k", "count=64"])
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    return Exim(root, spool, full, ro)


def exim_daemon(env: Env, exim: Exim) -> int:
    """An exim daemon on a free port (one SMTP connection at a time, no relaying); returns the port."""
    port = free_port()
    conf = exim.conf("daemon", port)
    proc = subprocess.Popen(["exim", "-C", str(conf), "-bdf", "-oX", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    env._closers.append(lambda: proc.wait(timeout=30))
    env._closers.append(proc.terminate)
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2) as probe:
            probe.settimeout(2)
            probe.recv(512)
            probe.sendall(b"QUIT\r\n")
            return port
        time.sleep(0.05)
    raise RuntimeError("private exim did not start")


# --------------------------------------------------------------------------- DKIM keys and a DNS server

DNS_ADDRESS = "127.0.1.26"  # a loopback address of its own: the fake DNS listens on port 53


@dataclass
class Dkim:
    keys: Path
    private: Path
    truncated: Path
    good_dns_conf: Path
    dead_dns_conf: Path


def _txt_value(txt_file: Path) -> str:
    text = txt_file.read_text()
    return "".join(part.split('"')[1] for part in text.split("\n") if '"' in part)


def _serve_dns(env: Env, txt: str) -> None:
    import threading

    import dns.message
    import dns.rcode
    import dns.rrset

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((DNS_ADDRESS, 53))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except OSError:
                continue
            query = dns.message.from_wire(data)
            answer = dns.message.make_response(query)
            qname = query.question[0].name
            if qname.to_text().startswith("mail2026._domainkey."):
                chunks = " ".join(f'"{txt[i:i + 200]}"' for i in range(0, len(txt), 200))
                answer.answer.append(dns.rrset.from_text(qname, 300, "IN", "TXT", chunks))
            else:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            with contextlib.suppress(OSError):
                sock.sendto(answer.to_wire(), peer)

    threading.Thread(target=serve, daemon=True).start()
    env._closers.append(sock.close)
    env._closers.append(stop.set)


def dkim_fixtures(env: Env) -> Dkim:
    """A signing key for mail2026._domainkey.corp-mail.internal, a truncated copy, and a DNS server that
    publishes the public half of ANOTHER key for that selector (a rotation gone wrong)."""
    keys = env.tmp / "dkimkeys126"
    keys.mkdir()
    subprocess.run(["opendkim-genkey", "-D", str(keys), "-d", "corp-mail.internal", "-s", "mail2026", "-b", "1024"],
                   check=True, capture_output=True)
    subprocess.run(["opendkim-genkey", "-D", str(keys), "-d", "corp-mail.internal", "-s", "mail2025", "-b", "1024"],
                   check=True, capture_output=True)
    private = keys / "mail2026.private"
    truncated = keys / "mail2026-restored.private"
    truncated.write_bytes(private.read_bytes()[:300])
    for key in keys.iterdir():
        key.chmod(0o600)
    _serve_dns(env, _txt_value(keys / "mail2025.txt"))
    good = keys.parent / "opendkim-testkey.conf"
    good.write_text(f"Nameservers {DNS_ADDRESS}\n")
    dead = keys.parent / "opendkim-testkey-dr.conf"
    dead.write_text("Nameservers 127.0.1.27\n")  # nothing answers DNS there
    return Dkim(keys, private, truncated, good, dead)


__all__ = ["DNS_ADDRESS", "DOVECOT_USERS", "SMTP_REPLIES", "Dkim", "Dovecot", "Exim", "SmtpFakes", "banner_port",
           "dkim_fixtures", "exim_daemon", "private_dovecot", "private_exim", "smtp_fakes"]
