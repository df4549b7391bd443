"""Fixtures of the hundred-and-fourteenth batch: chat servers on loopback. Two private ngIRCd instances (an
open one with a TLS port and predefined banned, keyed, invite-only and one-seat channels; one with a server
password), a private Prosody (TLS with its own certificate, in-band registration off, one admin), a fake
homeserver and fake Zulip and Mattermost servers answering in those servers' real JSON error formats, and the
client scripts (an IRC deploy notifier, an XMPP notifier, a Matrix notifier) the batch runs as subprocesses."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Env, free_port, run
from servers import _wait_port, serve_http

PY = sys.executable
IRC_HOST = "irc.ops.internal"
XMPP_HOST = "chat.ops.internal"
MATRIX_HOST = "matrix.ops.internal"


@dataclass
class Chat:
    """Ports, paths and scripts of the batch's chat servers."""

    root: Path
    irc: int
    irc_tls: int
    irc_locked: int
    xmpp: int
    xmpp_ca: Path
    prosody_cfg: Path
    api: int
    irc_bot: Path
    xmpp_bot: Path
    matrix_bot: Path


def _cert(root: Path, name: str, *alt: str) -> tuple[Path, Path]:
    cert, key = root / f"{name}.crt", root / f"{name}.key"
    sans = ",".join(f"DNS:{n}" for n in (name, *alt))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName={sans}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    cert.chmod(0o644)
    key.chmod(0o644)
    return cert, key


_IRC_CHANNELS = """
[Channel]
	Name = #deploys
	Topic = deploy notices
	Modes = +tnb relbot!*@*
[Channel]
	Name = #secops
	Modes = +k ShieldWall77
[Channel]
	Name = #incident
	Modes = +i
[Channel]
	Name = #oncall
	Modes = +l 1
"""


def _ngircd(env: Env, root: Path, name: str, *, password: str = "", tls: tuple[Path, Path] | None
            = None) -> tuple[int, int]:
    port, tls_port = free_port(), free_port()
    conf = root / f"{name}.conf"
    ssl_section = (f"[SSL]\n\tCertFile = {tls[0]}\n\tKeyFile = {tls[1]}\n\tPorts = {tls_port}\n" if tls else "")
    conf.write_text(f"""[Global]
	Name = {IRC_HOST}
	Info = ops chat ({name})
	AdminInfo1 = platform team
	AdminInfo2 = ops
	AdminEMail = irc-admin@ops.internal
	Listen = 127.0.0.1
	Ports = {port}
	{"Password = " + password if password else ""}
	PidFile = {root / name}.pid
	MotdPhrase = "authorised use only"
	ServerUID = nobody
	ServerGID = nogroup
[Limits]
	MaxConnections = 50
	MaxConnectionsIP = 10
	MaxJoins = 2
	MaxNickLength = 9
[Options]
	DNS = no
	Ident = no
	PAM = no
{ssl_section}{_IRC_CHANNELS}""")
    proc = subprocess.Popen(["ngircd", "-n", "-f", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(lambda: proc.wait(timeout=10))
    env._closers.append(proc.terminate)
    _wait_port(port)
    return port, tls_port


def _irc_squatter(env: Env, port: int, nick: str, channel: str = "") -> None:
    """A client that registers, joins `channel` and stays until the batch ends (retried while the server still
    counts the readiness probe's connection)."""
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n".encode())
        buf = b""
        with contextlib.suppress(OSError):
            while b" 001 " not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buf += chunk
        if b" 001 " in buf:
            break
        sock.close()
        time.sleep(0.3)
    if channel:
        sock.sendall(f"JOIN {channel}\r\n".encode())
        time.sleep(0.3)
    env._closers.append(sock.close)


_PROSODY_CFG = """pidfile = "{root}/prosody.pid"
data_path = "{root}/data"
daemonize = false
run_as_root = true
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
s2s_ports = {{ }}
component_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
certificates = "{root}/certs"
modules_enabled = {{ "roster"; "tls"; "saslauth"; "disco"; "ping"; "register"; "vcard_legacy"; "adhoc";
  "admin_adhoc"; "private"; "blocklist" }}
modules_disabled = {{ "s2s" }}
allow_registration = false
c2s_require_encryption = true
authentication = "internal_hashed"
admins = {{ "oncall@{host}" }}
log = {{ error = "{root}/prosody.err" }}
ssl = {{ certificate = "{cert}"; key = "{key}" }}
VirtualHost "{host}"
Component "conference.{host}" "muc"
"""


def _prosody(env: Env, root: Path) -> tuple[int, Path, Path]:
    pros = root / "prosody"
    (pros / "data").mkdir(parents=True)
    (pros / "certs").mkdir()
    cert, key = _cert(pros / "certs", XMPP_HOST, f"conference.{XMPP_HOST}")
    port = free_port()
    cfg = pros / "prosody.cfg.lua"
    cfg.write_text(_PROSODY_CFG.format(root=pros, port=port, host=XMPP_HOST, cert=cert, key=key))
    for user, password in (("deploybot", "S3cure-Relay"), ("oncall", "Pager-Duty-9")):
        run(["prosodyctl", "--config", str(cfg), "register", user, XMPP_HOST, password])
    proc = subprocess.Popen(["prosody", "--config", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(lambda: proc.wait(timeout=10))
    env._closers.append(proc.terminate)
    _wait_port(port)
    return port, cert, cfg


# --------------------------------------------------------------------------- fake chat HTTP APIs


def _matrix(method: str, path: str, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
    if path.endswith("/login"):
        user = str(body.get("identifier", {}).get("user", body.get("user", "")))
        if "ratelimited" in user or "ci-runner" in user:
            return 429, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 300}
        if "former" in user:
            return 403, {"errcode": "M_USER_DEACTIVATED", "error": "This account has been deactivated"}
        if body.get("password") != "Hunter-2026":
            return 403, {"errcode": "M_FORBIDDEN", "error": "Invalid username or password"}
        return 200, {"user_id": f"@deploybot:{MATRIX_HOST}", "access_token": "syt_ZGVwbG95Ym90_good",
                     "device_id": "DEPLOYCI"}
    if token != "syt_ZGVwbG95Ym90_good":
        return 401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed.", "soft_logout": False}
    if "/join/" in path:
        room = path.split("/join/")[1]
        if not room.startswith(("%21", "!", "%23", "#")):
            return 400, {"errcode": "M_UNKNOWN", "error": f"{room} was not legal room ID or room alias"}
        return 403, {"errcode": "M_RESOURCE_LIMIT_EXCEEDED", "error": "Monthly Active User limit exceeded",
                     "limit_type": "monthly_active_user", "admin_contact": "mailto:matrix-admin@ops.internal"}
    if "/send/" in path and "readonly" in path:
        return 403, {"errcode": "M_FORBIDDEN", "error": "You don't have permission to post that to the room. "
                     "user_level (0) < send_level (50)"}
    if "/send/" in path:
        return 429, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 200}
    if "/sync" in path:
        return 502, {}
    return 404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}


def _zulip(path: str, form: dict[str, str], auth: str) -> tuple[int, dict[str, Any]]:
    import base64

    if path.endswith("/server_settings"):
        return 200, {"result": "success", "msg": "", "zulip_version": "9.2", "zulip_feature_level": 237,
                     "realm_uri": "https://zulip.ops.internal", "realm_name": "Ops"}
    email, _, key = base64.b64decode(auth.split(" ", 1)[-1] or b"").decode().partition(":")
    if email.startswith("former-"):
        return 401, {"result": "error", "msg": "Account is deactivated", "code": "USER_DEACTIVATED"}
    if key != "zK3vR9yLq2BwT7eXn4Jd8sFh6UaGc1Mo":
        return 401, {"result": "error", "msg": "Invalid API key", "code": "INVALID_API_KEY"}
    if email.startswith("alerts-"):
        return 429, {"result": "error", "msg": "API usage exceeded rate limit", "retry-after": 0.8,
                     "code": "RATE_LIMIT_HIT"}
    if path.endswith("/messages") and not form.get("content", "").strip():
        return 400, {"result": "error", "msg": "Message must not be empty", "code": "BAD_REQUEST"}
    return 200, {"result": "success", "msg": "", "id": 4211}


def _mattermost(method: str, path: str, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any] | str]:
    def err(status: int, ident: str, message: str) -> tuple[int, dict[str, Any]]:
        return status, {"id": ident, "message": message, "detailed_error": "", "request_id": "x8n3mz5kqjfbdk7wu1p6",
                        "status_code": status}

    if path.endswith("/users/login"):
        if body.get("password") != "Mm-Deploy-2026":
            return err(401, "api.user.login.invalid_credentials_email_username",
                       "Enter a valid email or username and/or password.")
        return 200, {"id": "u1deploybot", "username": "deploybot", "token": "mmtok-4f9c2e7a1b"}
    if token == "expired":
        return err(401, "api.context.session_expired.app_error", "Invalid or expired session, please login again.")
    if path.endswith("/posts"):
        channel = str(body.get("channel_id", ""))
        if channel == "announcements0000000000000":
            return err(403, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
        if channel == "ratelimited000000000000000":
            return 429, "limit exceeded\n"
        if channel == "maintenance000000000000000":
            return 503, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n"
        if len(str(body.get("message", ""))) > 16383:
            return err(400, "model.post.is_valid.msg.app_error", "Invalid Message: id=, message=, ")
    return 200, {"id": "p9x", "create_at": 1795990000000}


class _ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        auth = self.headers.get("Authorization", "")
        token = auth.split(" ", 1)[-1] if auth.startswith("Bearer") else ""
        status: int
        payload: dict[str, Any] | str
        if path.startswith("/_matrix/"):
            body = json.loads(raw or b"{}")
            status, payload = _matrix(self.command, path, body, token)
        elif path.startswith("/api/v1/"):
            import urllib.parse

            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
            status, payload = _zulip(path, form, auth)
        else:
            body = json.loads(raw or b"{}") if raw.startswith(b"{") else {}
            status, payload = _mattermost(self.command, path, body, token)
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        if isinstance(payload, dict) and "token" in payload:
            self.send_header("Token", str(payload.pop("token")))
        self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
        if status == 429:
            self.send_header("Retry-After", "1")
            self.send_header("X-Ratelimit-Limit", "10")
            self.send_header("X-Ratelimit-Remaining", "0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


def _api_server(env: Env) -> int:
    return serve_http(env, _ApiHandler)


# --------------------------------------------------------------------------- client scripts

IRC_BOT = '''"""Relay deploy notifications to IRC channels."""
import argparse
import logging
import ssl

import irc.client
import irc.connection

log = logging.getLogger("deploy-notify")
FATAL = ("error", "nicknameinuse", "erroneusnickname", "passwdmismatch", "bannedfromchan", "badchannelkey",
         "inviteonlychan", "channelisfull", "toomanychannels", "cannotsendtochan", "yourebannedcreep")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--server", default="127.0.0.1")
    p.add_argument("--port", type=int, default=6667)
    p.add_argument("--nick", default="deploybot")
    p.add_argument("--password")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--channel", action="append", default=[])
    p.add_argument("--message", default="billing-api 2026.11.3 deployed to prod-eu-1")
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    reactor = irc.client.Reactor()
    factory = irc.connection.Factory()
    if a.tls:
        context = ssl.create_default_context()
        factory = irc.connection.Factory(wrapper=lambda s: context.wrap_socket(s, server_hostname=a.server))
    log.info("connecting to %s:%s as %s", a.server, a.port, a.nick)
    conn = reactor.server().connect(a.server, a.port, a.nick, password=a.password, connect_factory=factory)
    state = {"quitting": False}

    def on_welcome(c, e):
        for channel in a.channel:
            c.join(channel)
            c.privmsg(channel, a.message)
        state["quitting"] = True
        c.quit("notification sent")

    def on_disconnect(c, e):
        if not state["quitting"]:
            raise irc.client.ServerConnectionError(f"disconnected before registration: {' '.join(e.arguments)}")

    def on_error(c, e):
        if e.type == "error" and state["quitting"]:
            return
        raise irc.client.IRCError(f"{e.type} from {e.source}: {' '.join(e.arguments) or e.target}")

    reactor.add_global_handler("welcome", on_welcome)
    reactor.add_global_handler("disconnect", on_disconnect)
    for name in FATAL:
        reactor.add_global_handler(name, on_error)
    for _ in range(40):
        reactor.process_once(0.2)
        if state["quitting"] and not conn.is_connected():
            break
    log.info("notification delivered")


if __name__ == "__main__":
    main()
'''

XMPP_BOT = '''"""Post release notes to an XMPP contact or room."""
import argparse
import asyncio
import logging
import sys

import slixmpp

log = logging.getLogger("xmpp-notify")


class Notifier(slixmpp.ClientXMPP):
    def __init__(self, a):
        super().__init__(a.jid, a.password)
        self.a = a
        self.failed = False
        self.started = False
        self.done = asyncio.get_event_loop().create_future()
        self.enable_direct_tls = False
        self.enable_plaintext = False
        self.ca_certs = a.ca
        for plugin in ("xep_0030", "xep_0045", "xep_0050", "xep_0199"):
            self.register_plugin(plugin)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda stanza: log.warning("SASL authentication rejected: %s", stanza))
        self.add_event_handler("failed_all_auth", self.fail)
        self.add_event_handler("connection_failed", self.fail)
        self.add_event_handler("disconnected", lambda _: self.done.done() or self.done.set_result(None))

    def fail(self, why):
        log.error("giving up on %s: %s", self.a.jid, why)
        self.failed = True
        self.disconnect()
        if not self.done.done():
            self.done.set_result(None)

    async def start(self, _):
        self.started = True
        try:
            if self.a.room:
                await self.plugin["xep_0045"].join_muc_wait(self.a.room, "deploybot", maxstanzas=0, timeout=10)
            elif self.a.adduser:
                await self.plugin["xep_0050"].send_command(self.a.jid.split("@")[1].split("/")[0],
                                                           "http://jabber.org/protocol/admin#add-user")
            else:
                self.send_message(mto=self.a.to, mbody=self.a.message, mtype="chat")
        except Exception:
            self.failed = True
            raise
        finally:
            self.disconnect()


async def amain() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5222)
    p.add_argument("--ca")
    p.add_argument("--to", default="oncall@chat.ops.internal")
    p.add_argument("--room")
    p.add_argument("--adduser", action="store_true")
    p.add_argument("--message", default="release 2026.11.3 of ledger-sync is live")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)-8s %(name)s %(message)s")
    bot = Notifier(a)
    bot.connect(a.host, a.port)
    await asyncio.wait_for(bot.done, 20)
    return 1 if bot.failed or not bot.started else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(amain()))
'''

MATRIX_BOT = '''"""Announce a finished deploy in a Matrix room."""
import argparse
import asyncio
import logging
import sys

from nio import AsyncClient, AsyncClientConfig, ErrorResponse

log = logging.getLogger("matrix-notify")


def check(what, resp):
    if isinstance(resp, ErrorResponse):
        log.error("%s failed: %s", what, resp)
        sys.exit(1)
    return resp


async def amain() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--homeserver", required=True)
    p.add_argument("--user", default="@deploybot:matrix.ops.internal")
    p.add_argument("--password")
    p.add_argument("--token")
    p.add_argument("--room", default="!uKjHzYvQwLpNeRsTaB:matrix.ops.internal")
    p.add_argument("--join")
    p.add_argument("--sync", action="store_true")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = AsyncClientConfig(max_limit_exceeded=1, max_timeouts=0, request_timeout=10)
    client = AsyncClient(a.homeserver, a.user, device_id="DEPLOYCI", config=config)
    try:
        if a.token:
            client.access_token = a.token
            client.user_id = a.user
        else:
            check("login", await client.login(a.password, device_name="deploy-ci"))
        if a.join:
            check("join " + a.join, await client.join(a.join))
        if a.sync:
            check("sync", await client.sync(timeout=1000))
        content = {"msgtype": "m.notice", "body": "ledger-sync 2026.11.3 deployed to prod-eu-1"}
        check("send", await client.room_send(a.room, "m.room.message", content))
    finally:
        await client.close()


if __name__ == "__main__":
    asyncio.run(amain())
'''


def prepare_chat(env: Env) -> Chat:
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-chat114-"))
    root.chmod(0o755)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    irc_cert = _cert(root, IRC_HOST)
    irc, irc_tls = _ngircd(env, root, "ops", tls=irc_cert)
    irc_locked, _ = _ngircd(env, root, "staff", password="Relay-Gate-41")
    _irc_squatter(env, irc, "pager", "#oncall")
    with contextlib.suppress(OSError):
        _wait_port(irc_tls)
    xmpp, xmpp_ca, prosody_cfg = _prosody(env, root)
    bots = []
    for name, text in (("irc_notify.py", IRC_BOT), ("xmpp_notify.py", XMPP_BOT), ("matrix_notify.py", MATRIX_BOT)):
        (root / name).write_text(text)
        bots.append(root / name)
    return Chat(root, irc, irc_tls, irc_locked, xmpp, xmpp_ca, prosody_cfg, _api_server(env), *bots)


__all__ = ["IRC_HOST", "MATRIX_HOST", "PY", "XMPP_HOST", "Chat", "prepare_chat"]
