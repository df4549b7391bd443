"""Hundred-and-fourteenth batch of blind provokers: chat and messaging protocols against real servers on loopback
(blind114_support). The jaraco `irc` library (a deploy notifier bot against private ngIRCd instances: a banned
nick, a wrong channel key, an invite-only and a full channel, too many channels, a bad nickname, a wrong server
password, a refused port, an untrusted TLS certificate; and in-process a message with
line breaks, sending before connecting); pydle (a refused port, an untrusted TLS
certificate, a CTCP to a channel it is not in); the `ii` client (a refused port, an unwritable IRC directory);
ngIRCd itself (a missing and an invalid configuration); slixmpp against a private Prosody (a wrong password, an
untrusted certificate, a refused port, an admin command as a plain user, a malformed
JID, a plugin never registered); prosodyctl (a config syntax error, a missing config, an unknown host, a JID
without host); matrix-nio against a fake homeserver (M_FORBIDDEN, M_USER_DEACTIVATED, M_UNKNOWN_TOKEN,
M_LIMIT_EXCEEDED, M_RESOURCE_LIMIT_EXCEEDED, an illegal room id, a refused port, sending before login); the
Zulip client and zulip-send against a fake Zulip (an invalid API key, a deactivated account, RATE_LIMIT_HIT, an
empty message, a missing zuliprc, a zuliprc without site, a refused port, an untrusted certificate); and
mattermostdriver against a fake Mattermost (bad credentials, a read-only channel, an overlong
message, 429, 503, a refused port, an untrusted certificate, a wrong call signature)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from blind114_support import IRC_HOST, PY, XMPP_HOST, Chat, prepare_chat
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import tls_server

BLIND114_SOURCES = frozenset({"irc114", "pydle114", "ii114", "ngircd114", "slixmpp114", "prosody114",
                              "matrixnio114", "zulip114", "mattermost114"})


def _irc_tool_cases(env: Env, c: Chat) -> list[ToolCase]:
    bot = f"{PY} {c.irc_bot} --server 127.0.0.1"
    return [
        ("irc_banned_from_channel", "auth", "(+b)", f"{bot} --port {c.irc} --nick relbot --channel '#deploys'"),
        ("irc_wrong_channel_key", "auth", "(+k)", f"{bot} --port {c.irc} --nick secbot --channel '#secops'"),
        ("irc_invite_only", "auth", "(+i)", f"{bot} --port {c.irc} --nick incbot --channel '#incident'"),
        ("irc_channel_full", "resource", "(+l)", f"{bot} --port {c.irc} --nick pagebot --channel '#oncall'"),
        ("irc_too_many_channels", "resource", "toomanychannels",
         f"{bot} --port {c.irc} --nick buildbot --channel '#releases' --channel '#builds' --channel '#alerts'"),
        ("irc_erroneous_nick", "validation", "erroneusnickname", f"{bot} --port {c.irc} --nick '#ci-bot'"),
        ("irc_wrong_server_password", "auth", "passwdmismatch|password",
         f"{bot} --port {c.irc_locked} --nick staffbot --password relay-gate-41 --channel '#deploys'"),
        ("irc_refused", "network", "Connection refused", f"{bot} --port {env.closed_port} --channel '#deploys'"),
        ("irc_tls_untrusted", "network", "CERTIFICATE_VERIFY_FAILED|certificate verify failed",
         f"{bot} --port {c.irc_tls} --tls --channel '#deploys'"),
    ]


def _irc_py_cases(env: Env, c: Chat) -> list[PyCase]:
    import irc.client

    def connected() -> Any:
        return irc.client.Reactor().server().connect("127.0.0.1", c.irc, "webhook")

    def send_multiline() -> None:
        conn = connected()
        try:
            conn.privmsg("#deploys", "deploy failed:\r\nQUIT :pwned")
        finally:
            conn.disconnect()

    def send_unconnected() -> None:
        irc.client.Reactor().server().privmsg("#deploys", "billing-api 2026.11.3 deployed")

    return [
        ("irc_message_line_break", "validation", "irc114", "InvalidCharacters", send_multiline),
        ("irc_send_not_connected", "programming", "irc114", "ServerNotConnectedError", send_unconnected),
    ]


def _pydle_cases(env: Env, c: Chat) -> list[PyCase]:
    import pydle

    def session(port: int, action: str = "", **kw: Any) -> Any:
        async def go() -> None:
            client = pydle.Client("ci-relay", realname="CI relay")
            try:
                await client.connect("127.0.0.1", port, **kw)
                if action == "ctcp":
                    for _ in range(30):
                        if client.registered:
                            break
                        await asyncio.sleep(0.1)
                    await client.ctcp("#deploys", "VERSION")
            finally:
                await client.disconnect(expected=True)

        return lambda: asyncio.run(asyncio.wait_for(go(), 15))

    return [
        ("pydle_refused", "network", "pydle114", "ConnectionRefusedError|OSError", session(env.closed_port)),
        ("pydle_tls_untrusted", "network", "pydle114", "SSLCertVerificationError|SSLError",
         session(c.irc_tls, tls=True, tls_verify=True)),
        ("pydle_ctcp_not_in_channel", "programming", "pydle114", "NotInChannel", session(c.irc, "ctcp")),
    ]


def _ii_ngircd_cases(env: Env, c: Chat) -> tuple[list[ToolCase], list[ToolCase]]:
    bad = c.root / "ngircd-prod.conf"
    bad.write_text(f"[Global]\n\tName = {IRC_HOST}\n\tAdminEMail = irc-admin@ops.internal\n\tListen = 127.0.0.1\n"
                   "\tPorts = 66670, 66697\n\tPidFile = /tmp/ngircd-prod.pid\n[Limits]\n\tMaxConnections = lots\n"
                   "\tMaxNickLength = 200\n")
    ii_cases: list[ToolCase] = [
        ("ii_refused", "network", "could not connect",
         f"ii -s 127.0.0.1 -p {env.closed_port} -n deploybot -i {c.root}/ii"),
        ("ii_unwritable_dir", "filesystem", "mkdir|permission|no such|read-only",
         f"timeout 10 ii -s 127.0.0.1 -p {c.irc} -n iibot -i /proc/irc/{IRC_HOST}"),
    ]
    ngircd_cases: list[ToolCase] = [
        ("ngircd_missing_config", "filesystem", "No such file",
         "ngircd --configtest -f /etc/ngircd/ngircd-prod.conf"),
        ("ngircd_invalid_config", "validation", "Illegal port|not a number",
         f"timeout 10 ngircd -n -f {bad}"),
    ]
    return ii_cases, ngircd_cases


def _xmpp_cases(env: Env, c: Chat) -> list[ToolCase]:
    bot = f"{PY} {c.xmpp_bot} --host 127.0.0.1"
    good = f"--jid deploybot@{XMPP_HOST}/ci --password S3cure-Relay"
    return [
        ("xmpp_wrong_password", "auth", "not-authorized",
         f"{bot} --port {c.xmpp} --ca {c.xmpp_ca} --jid deploybot@{XMPP_HOST}/ci --password s3cure-relay"),
        ("xmpp_untrusted_cert", "network", "certificate|CERT", f"{bot} --port {c.xmpp} {good}"),
        ("xmpp_refused", "network", "Connect call failed|refused",
         f"{bot} --port {env.closed_port} --ca {c.xmpp_ca} {good}"),
        ("xmpp_admin_command_forbidden", "auth", "forbidden",
         f"{bot} --port {c.xmpp} --ca {c.xmpp_ca} {good} --adduser"),
    ]


def _slixmpp_py_cases(env: Env, c: Chat) -> list[PyCase]:
    import slixmpp

    def unregistered_plugin() -> None:
        client = slixmpp.ClientXMPP(f"deploybot@{XMPP_HOST}", "S3cure-Relay")
        client.plugin["xep_0045"].join_muc(f"ops@conference.{XMPP_HOST}", "deploybot")

    return [
        ("slixmpp_invalid_jid", "validation", "slixmpp114", "InvalidJID",
         lambda: slixmpp.JID("deploy bot@@chat.ops.internal/ci")),
        ("slixmpp_plugin_not_registered", "programming", "slixmpp114", "PluginNotFound|KeyError",
         unregistered_plugin),
    ]


def _prosodyctl_cases(env: Env, c: Chat) -> list[ToolCase]:
    broken = c.prosody_cfg.with_name("prosody-staging.cfg.lua")
    broken.write_text(c.prosody_cfg.read_text().replace("allow_registration = false",
                                                        "allow_registration = flase,,"))
    cfg = f"prosodyctl --config {c.prosody_cfg}"
    return [
        ("prosodyctl_config_syntax", "validation", "unexpected symbol", f"prosodyctl --config {broken} check config"),
        ("prosodyctl_missing_config", "filesystem", "unable to find the configuration",
         "prosodyctl --config /etc/prosody/conf.d/chat.ops.internal.cfg.lua check config"),
        ("prosodyctl_unknown_host", "validation", "does not exist in the config",
         f"{cfg} register release chat.example.org Rel-2026 </dev/null"),
        ("prosodyctl_jid_without_host", "validation", "understand JID", f"{cfg} adduser release-bot </dev/null"),
    ]


def _matrix_cases(env: Env, c: Chat) -> list[ToolCase]:
    bot = f"{PY} {c.matrix_bot} --homeserver http://127.0.0.1:{c.api}"
    return [
        ("matrix_login_forbidden", "auth", "M_FORBIDDEN", f"{bot} --password hunter-2026"),
        ("matrix_user_deactivated", "auth", "M_USER_DEACTIVATED",
         f"{bot} --user @former-ops:matrix.ops.internal --password Hunter-2026"),
        ("matrix_unknown_token", "auth", "M_UNKNOWN_TOKEN", f"{bot} --token syt_ZGVwbG95Ym90_revoked --sync"),
        ("matrix_send_rate_limited", "resource", "M_LIMIT_EXCEEDED", f"{bot} --password Hunter-2026"),
        ("matrix_send_power_level", "auth", "M_FORBIDDEN",
         f"{bot} --password Hunter-2026 --room '!readonlyAnnouncements:matrix.ops.internal'"),
        ("matrix_mau_limit", "resource", "M_RESOURCE_LIMIT_EXCEEDED",
         f"{bot} --password Hunter-2026 --join '#releases:matrix.ops.internal'"),
        ("matrix_illegal_room_id", "validation", "not legal room ID", f"{bot} --password Hunter-2026 --join releases"),
        ("matrix_refused", "network", "Connect call failed|Cannot connect|refused",
         f"{PY} {c.matrix_bot} --homeserver http://127.0.0.1:{env.closed_port} --password Hunter-2026"),
    ]


def _nio_py_cases(env: Env, c: Chat) -> list[PyCase]:
    from nio import AsyncClient

    async def send_without_login() -> None:
        client = AsyncClient(f"http://127.0.0.1:{c.api}", "@deploybot:matrix.ops.internal")
        try:
            await client.room_send("!uKjHzYvQwLpNeRsTaB:matrix.ops.internal", "m.room.message",
                                   {"msgtype": "m.text", "body": "deploy finished"})
        finally:
            await client.close()

    return [("nio_send_not_logged_in", "programming", "matrixnio114", "LocalProtocolError",
             lambda: asyncio.run(send_without_login()))]


def _zulip_cases(env: Env, c: Chat) -> list[ToolCase]:
    key = "zK3vR9yLq2BwT7eXn4Jd8sFh6UaGc1Mo"
    zsend = Path(PY).parent / "zulip-send"
    send = f"{zsend} --site http://127.0.0.1:{c.api} --stream deployments --subject ledger-sync"
    norc = c.root / "zuliprc-nosite"
    norc.write_text(f"[api]\nemail=deploy-bot@zulip.ops.internal\nkey={key}\n")
    tls = tls_server(env, "127.0.0.1")
    return [
        ("zulip_invalid_api_key", "auth", "Invalid API key",
         f"{send} --user deploy-bot@zulip.ops.internal --api-key zK3vR9yLq2BwT7eXn4Jd8sFh6UaGc1mO -m 'deployed'"),
        ("zulip_user_deactivated", "auth", "deactivated",
         f"{send} --user former-ops-bot@zulip.ops.internal --api-key {key} -m 'deployed'"),
        ("zulip_rate_limited", "resource", "rate limit",
         f"{send} --user alerts-bot@zulip.ops.internal --api-key {key} -m 'disk at 91% on db-3'"),
        ("zulip_empty_message", "validation", "must not be empty",
         f"{send} --user deploy-bot@zulip.ops.internal --api-key {key} -m ' '"),
        ("zulip_missing_zuliprc", "filesystem", "ConfigNotFound|not exist|No such",
         f"{zsend} --config-file /etc/zulip/deploy-bot.zuliprc --stream deployments --subject x -m hi"),
        ("zulip_zuliprc_without_site", "validation", "MissingURLError|Missing Zulip server URL",
         f"{zsend} --config-file {norc} --stream deployments --subject x -m hi"),
        ("zulip_refused", "network", "cannot connect to server",
         f"{zsend} --site http://127.0.0.1:{env.closed_port} --user deploy-bot@zulip.ops.internal "
         f"--api-key {key} --stream deployments --subject x -m hi"),
        ("zulip_untrusted_cert", "network", "SSL",
         f"{zsend} --site https://127.0.0.1:{tls.port} --user deploy-bot@zulip.ops.internal "
         f"--api-key {key} --stream deployments --subject x -m hi"),
    ]


def _mattermost_cases(env: Env, c: Chat) -> list[PyCase]:
    from mattermostdriver import Driver

    tls = tls_server(env, "127.0.0.1")

    def driver(port: int = c.api, scheme: str = "http", **kw: Any) -> Any:
        options = {"url": "127.0.0.1", "port": port, "scheme": scheme, "login_id": "deploybot",
                   "password": "Mm-Deploy-2026", "timeout": 10, **kw}
        return Driver(options)

    def login(**kw: Any) -> Any:
        return lambda: driver(**kw).login()

    def post(channel: str, message: str = "ledger-sync 2026.11.3 deployed", token: str = "") -> Any:
        def fn() -> None:
            d = driver(token=token) if token else driver()
            d.login()
            d.posts.create_post(options={"channel_id": channel, "message": message})
        return fn

    def wrong_signature() -> None:
        d = driver()
        d.login()
        d.posts.create_post("town-square", "deployed")

    return [
        ("mattermost_bad_credentials", "auth", "mattermost114", "NoAccessTokenProvided",
         login(password="mm-deploy-2026")),
        ("mattermost_no_permission", "auth", "mattermost114", "NotEnoughPermissions",
         post("announcements0000000000000")),
        ("mattermost_message_too_long", "validation", "mattermost114", "InvalidOrMissingParameters",
         post("deployments000000000000000", "x" * 17000)),
        ("mattermost_rate_limited", "resource", "mattermost114", "HTTPError", post("ratelimited000000000000000")),
        ("mattermost_unavailable", "service", "mattermost114", "HTTPError", post("maintenance000000000000000")),
        ("mattermost_refused", "network", "mattermost114", "ConnectionError", login(port=env.closed_port)),
        ("mattermost_untrusted_cert", "network", "mattermost114", "SSLError", login(port=tls.port, scheme="https")),
        ("mattermost_wrong_signature", "programming", "mattermost114", "TypeError", wrong_signature),
    ]


def blind114_records(env: Env) -> list[Record]:
    c = prepare_chat(env)
    out = tool_records(_irc_tool_cases(env, c), "irc114", c.root, timeout=60)
    ii_cases, ngircd_cases = _ii_ngircd_cases(env, c)
    out += tool_records(ii_cases, "ii114", c.root, timeout=30)
    out += tool_records(ngircd_cases, "ngircd114", c.root, timeout=30)
    out += tool_records(_xmpp_cases(env, c), "slixmpp114", c.root, timeout=60)
    out += tool_records(_prosodyctl_cases(env, c), "prosody114", c.root, timeout=60)
    out += tool_records(_matrix_cases(env, c), "matrixnio114", c.root, timeout=60)
    out += tool_records(_zulip_cases(env, c), "zulip114", c.root, timeout=60)
    cases: list[PyCase] = []
    for make in (_irc_py_cases, _pydle_cases, _slixmpp_py_cases, _nio_py_cases, _mattermost_cases):
        cases += make(env, c)
    out += python_records(cases)
    return out


if __name__ == "__main__":
    write_batch(blind114_records)


__all__ = ["BLIND114_SOURCES", "blind114_records"]
