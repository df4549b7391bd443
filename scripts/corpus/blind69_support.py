"""Private mail servers on 127.0.0.1 for batch 69: aiosmtpd SMTP servers (a password-checking one with a size
limit and recipients answered 451/452, one that insists on STARTTLS with a self-signed certificate, one that
greets with 421) and small IMAP and POP3 stubs that answer real protocol replies (tagged NO/BAD, -ERR, BYE),
optionally behind TLS with the same self-signed certificate. Everything stops when the batch's Env closes."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Env, free_port

USER, PASSWORD = "ops", "right-b69"
#: recipients (local part) the SMTP handler refuses, with the reply it gives
RCPT_REPLIES = {
    "busy": "451 4.3.0 Temporary local problem - please try later",
    "full": "452 4.3.1 Insufficient system storage",
}


@dataclass
class MailServers:
    smtp_auth: int
    smtp_tls: int
    smtp_421: int
    imap: int
    imap_bye: int
    imaps: int
    pop: int
    pops: int
    cert: Path


def self_signed(env: Env) -> tuple[Path, Path]:
    cert, key = env.tmp / "mail69.pem", env.tmp / "mail69.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=mail.b69.test", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class _Handler:
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        reply = RCPT_REPLIES.get(address.split("@")[0])
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 Message accepted for delivery"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


# --------------------------------------------------------------------------- line-protocol stubs

Reply = Callable[[str, "_Conn"], list[str] | None]


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.file = sock.makefile("rb")
        self.user = ""

    def send(self, lines: list[str]) -> None:
        self.sock.sendall("".join(line + "\r\n" for line in lines).encode())


def _serve_lines(sock: socket.socket, greeting: list[str], reply: Reply, ctx: ssl.SSLContext | None,
                 stop: threading.Event) -> None:
    sock.settimeout(0.2)

    def talk(raw: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError, ValueError):
            raw.settimeout(10)
            conn_sock = ctx.wrap_socket(raw, server_side=True) if ctx else raw
            conn = _Conn(conn_sock)
            conn.send(greeting)
            while not stop.is_set():
                line = conn.file.readline()
                if not line:
                    break
                answer = reply(line.decode(errors="replace").rstrip("\r\n"), conn)
                if answer is None:
                    break
                conn.send(answer)
        with contextlib.suppress(OSError):
            raw.close()

    while not stop.is_set():
        try:
            raw, _ = sock.accept()
        except (TimeoutError, OSError):
            continue
        threading.Thread(target=talk, args=(raw,), daemon=True).start()


def _imap_reply(line: str, conn: _Conn) -> list[str] | None:
    tag, _, rest = line.partition(" ")
    command, _, args = rest.partition(" ")
    command = command.upper()
    if command == "CAPABILITY":
        return ["* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN QUOTA", f"{tag} OK Capability completed."]
    if command == "LOGIN":
        user, _, password = args.partition(" ")
        conn.user = user.strip('"')
        if conn.user == "tempfail":
            return [f"{tag} NO [UNAVAILABLE] Temporary authentication failure."]
        if conn.user == "crowded":
            conn.send(["* BYE Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)"])
            return None
        if password.strip('"') != PASSWORD:
            return [f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed."]
        return [f"{tag} OK [CAPABILITY IMAP4rev1 QUOTA] Logged in"]
    if command == "SELECT":
        return ["* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)", "* 3 EXISTS", "* 0 RECENT",
                f"{tag} OK [READ-WRITE] Select completed."]
    if command == "SEARCH":
        return [f"{tag} BAD Error in IMAP command SEARCH: Invalid search date parameter"]
    if command == "LOGOUT":
        conn.send(["* BYE Logging out", f"{tag} OK Logout completed."])
        return None
    return [f"{tag} BAD Error in IMAP command {command}: Unknown command."]


def _pop_reply(line: str, conn: _Conn) -> list[str] | None:
    command, _, args = line.partition(" ")
    command = command.upper()
    if command == "USER":
        conn.user = args
        return ["+OK"]
    if command == "PASS":
        if conn.user == "locked":
            return ["-ERR [IN-USE] Unable to lock maildrop: mailbox is locked by another POP3 session"]
        if conn.user == "tempfail":
            return ["-ERR [SYS/TEMP] Temporary server failure, try again later."]
        if args != PASSWORD:
            return ["-ERR [AUTH] Authentication failed."]
        return ["+OK Logged in."]
    if command == "STAT":
        return ["+OK 2 640"]
    if command == "QUIT":
        conn.send(["+OK Logging out."])
        return None
    return ["-ERR Unknown command: " + command]


def _listen(env: Env, greeting: list[str], reply: Reply, ctx: ssl.SSLContext | None = None) -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(32)
    threading.Thread(target=_serve_lines, args=(sock, greeting, reply, ctx, env._stop), daemon=True).start()
    env._closers.append(sock.close)
    port: int = sock.getsockname()[1]
    return port


def start_mail_servers(env: Env) -> MailServers:
    from aiosmtpd.controller import Controller

    cert, key = self_signed(env)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(cert), str(key))

    ports: list[int] = []
    for kwargs in ({"authenticator": _authenticator, "auth_required": True, "auth_require_tls": False,
                    "data_size_limit": 4096},
                   {"tls_context": tls, "require_starttls": True}):
        port = free_port()
        controller = Controller(_Handler(), hostname="127.0.0.1", port=port, server_hostname="mail.b69.test",
                                **kwargs)
        controller.start()
        env._closers.append(controller.stop)
        ports.append(port)

    return MailServers(
        smtp_auth=ports[0],
        smtp_tls=ports[1],
        smtp_421=_listen(env, ["421 4.3.2 Service not available, closing transmission channel"],
                         lambda line, conn: None),
        imap=_listen(env, ["* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] IMAP stub ready."], _imap_reply),
        imap_bye=_listen(env, ["* BYE Server shutting down for maintenance, try again later."],
                         lambda line, conn: None),
        imaps=_listen(env, ["* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] IMAP stub ready."], _imap_reply, tls),
        pop=_listen(env, ["+OK POP3 stub ready."], _pop_reply),
        pops=_listen(env, ["+OK POP3 stub ready."], _pop_reply, tls),
        cert=cert,
    )


__all__ = ["PASSWORD", "RCPT_REPLIES", "USER", "MailServers", "start_mail_servers"]
