"""Fourteenth batch of blind provokers, written after the learned classifier (src/recoup/analytics) had been
trained on batches 1-13, and scored once, blind, by rules, model and combined before anyone read its texts:
h11, httpcore, oauthlib, rich, Pygments, jsonpickle, Mako, sentry-sdk, uvloop, an aiosmtpd SMTP server that
refuses logins, mail and storage, stdlib corners (zoneinfo, ipaddress, ftplib, imaplib, minidom, queue), rlimit
exhaustion, Node.js, Java, git and CLI tools (numfmt, base64, openssl s_client, sqlite3, psql, mv). Everything
talks to 127.0.0.1 only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common import (
    Env,
    Record,
    free_port,
    git_env,
    git_failure_records,
    node_script_records,
    python_case_records,
    run,
    shell_failure_records,
    write_batch,
)
from runtime_provokers import java_records

BLIND14_SOURCES = frozenset({"h11", "httpcore", "oauthlib", "rich", "pygments", "jsonpickle", "mako",
                             "sentry-sdk", "uvloop", "aiosmtpd", "py-extra12", "node-extra12", "java-extra12",
                             "git-extra11", "shell-extra11"})
_GIT_ENV = git_env("blind14")


def _smtp_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    """A real aiosmtpd server on 127.0.0.1 that refuses logins, a recipient for lack of storage, and data
    with a local error."""
    import smtplib

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Handler:
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
            if address.startswith("full@"):
                return "452 4.3.1 Insufficient system storage"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "451 4.3.0 Requested action aborted: local error in processing"

    def refuse(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=refuse,
                            auth_require_tls=False)
    controller.start()
    env._closers.append(controller.stop)

    def smtp_login() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            smtp.login("ops", "wrong-password")

    def smtp_storage() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            smtp.sendmail("a@example.org", ["full@example.org"], "Subject: x\n\nbody")

    def smtp_data() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            smtp.sendmail("a@example.org", ["b@example.org"], "Subject: x\n\nbody")

    return [
        ("smtp_login_refused", "auth", "aiosmtpd", smtp_login),
        ("smtp_insufficient_storage", "resource", "aiosmtpd", smtp_storage),
        ("smtp_data_local_error", "service", "aiosmtpd", smtp_data),
    ]


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def h11_client_sends_response() -> None:
        import h11

        h11.Connection(h11.CLIENT).send(h11.Response(status_code=200, headers=[]))

    def httpcore_refused() -> None:
        import httpcore

        httpcore.request("GET", f"http://127.0.0.1:{env.closed_port}/")

    def httpcore_read_timeout() -> None:
        import httpcore

        httpcore.request("GET", f"http://127.0.0.1:{env.hang_port}/", extensions={"timeout": {"read": 0.5}})

    def oauth_access_denied() -> None:
        from oauthlib.oauth2 import WebApplicationClient

        WebApplicationClient("cid").parse_request_uri_response(
            "https://app.example.org/cb?error=access_denied&state=s", state="s")

    def oauth_invalid_grant() -> None:
        from oauthlib.oauth2 import WebApplicationClient

        WebApplicationClient("cid").parse_request_body_response('{"error": "invalid_grant"}')

    def rich_markup() -> None:
        from rich.console import Console

        Console(file=open("/dev/null", "w")).print("[bold]deploy done[/italic]")  # noqa: SIM115

    def pygments_lexer() -> None:
        from pygments.lexers import get_lexer_by_name

        get_lexer_by_name("no-such-language-blind14")

    def jsonpickle_bad() -> None:
        import jsonpickle

        jsonpickle.decode('{"py/object": "x", "a": [1, 2')

    def mako_undefined() -> None:
        from mako.template import Template

        Template("${user.name}").render()

    def sentry_bad_dsn() -> None:
        import sentry_sdk.utils

        sentry_sdk.utils.Dsn("not-a-dsn")

    def uvloop_refused() -> None:
        import asyncio

        import uvloop

        async def connect() -> None:
            await asyncio.open_connection("127.0.0.1", env.closed_port)

        uvloop.run(connect())

    def zone_missing() -> None:
        import zoneinfo

        zoneinfo.ZoneInfo("Mars/Olympus_Mons")

    def ip_bad() -> None:
        import ipaddress

        ipaddress.ip_address("300.1.2.3")

    def ftp_refused() -> None:
        import ftplib

        ftplib.FTP().connect("127.0.0.1", env.closed_port, timeout=2)

    def imap_reset() -> None:
        import imaplib

        imaplib.IMAP4("127.0.0.1", env.reset_port, timeout=2)

    def minidom_bad() -> None:
        from xml.dom import minidom

        minidom.parseString("<config><port>80</config>")

    def queue_full() -> None:
        import queue

        q: queue.Queue[int] = queue.Queue(maxsize=1)
        q.put_nowait(1)
        q.put_nowait(2)

    def disk_usage_missing() -> None:
        import shutil

        shutil.disk_usage("/srv/blind14/volume")

    def bytes_concat() -> None:
        b"header:" + "value"  # type: ignore[operator]  # noqa: B018

    return [
        ("h11_client_sends_response", "programming", "h11", h11_client_sends_response),
        ("httpcore_refused", "network", "httpcore", httpcore_refused),
        ("httpcore_read_timeout", "network", "httpcore", httpcore_read_timeout),
        ("oauth_access_denied", "auth", "oauthlib", oauth_access_denied),
        ("oauth_invalid_grant", "auth", "oauthlib", oauth_invalid_grant),
        ("rich_markup", "validation", "rich", rich_markup),
        ("pygments_lexer", "validation", "pygments", pygments_lexer),
        ("jsonpickle_bad", "validation", "jsonpickle", jsonpickle_bad),
        ("mako_undefined", "programming", "mako", mako_undefined),
        ("sentry_bad_dsn", "validation", "sentry-sdk", sentry_bad_dsn),
        ("uvloop_refused", "network", "uvloop", uvloop_refused),
        ("zone_missing", "validation", "py-extra12", zone_missing),
        ("ip_bad", "validation", "py-extra12", ip_bad),
        ("ftp_refused", "network", "py-extra12", ftp_refused),
        ("imap_reset", "network", "py-extra12", imap_reset),
        ("minidom_bad", "validation", "py-extra12", minidom_bad),
        ("queue_full", "resource", "py-extra12", queue_full),
        ("disk_usage_missing", "filesystem", "py-extra12", disk_usage_missing),
        ("bytes_concat", "programming", "py-extra12", bytes_concat),
        *_smtp_cases(env),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_rmdir_not_empty", "filesystem",
     "const fs = require('fs'); fs.mkdirSync('/tmp/blind14-d/x', {recursive: true}); fs.rmdirSync('/tmp/blind14-d')"),
    ("node_json_truncated", "validation", "JSON.parse('{\"replicas\": ')"),
    ("node_net_refused", "network",
     "require('net').connect(CLOSED, '127.0.0.1').on('error', e => { throw e })"),
    ("node_undefined_prop", "programming", "const cfg = {}; console.log(cfg.db.host)"),
    ("node_fetch_401", "auth",
     "const r = await fetch('HTTPURL/status/401'); if (!r.ok) throw new Error(`token check: ${r.status} "
     "${r.statusText}`)"),
    ("node_bad_url", "validation", "new URL('ht!tp:/broken url')"),
]

JAVA: dict[str, tuple[str, str]] = {
    "parse_int": ("validation", 'Integer.parseInt("12a");'),
    "file_missing": ("filesystem", 'new java.io.FileReader("/srv/blind14/app.properties");'),
    "socket_refused": ("network", 'new java.net.Socket("127.0.0.1", CLOSED);'),
    "null_pointer": ("programming", 'String s = args.length > 5 ? "x" : null; s.trim();'),
}


def _git(env: Env) -> list[tuple[str, list[str]]]:
    return [
        ("git_delete_current_branch", ["branch", "-D", "main"]),
        ("git_tag_exists", ["tag", "v1"]),
        ("git_cherry_pick_missing", ["cherry-pick", "nope-blind14"]),
        ("git_rebase_continue_none", ["rebase", "--continue"]),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_mv_missing", "filesystem", "mv /srv/blind14/a.txt /tmp/blind14-b.txt"),
    ("shell_numfmt_bad", "validation", "numfmt --from=iec 12XB"),
    ("shell_base64_bad", "validation", "echo '!!!not base64!!!' | base64 -d"),
    ("shell_openssl_refused", "network", "openssl s_client -connect 127.0.0.1:CLOSED </dev/null"),
    ("shell_sqlite_no_dir", "filesystem", "sqlite3 /srv/blind14/none/app.db 'select 1'"),
    ("shell_psql_no_role", "auth", "psql -h 127.0.0.1 -U blind14_nobody -d test -c 'select 1'"),
    ("shell_python_memory", "resource", "ulimit -v 400000; python3 -c 'x = bytearray(2 * 1024 ** 3)'"),
    ("shell_python_nofile", "resource",
     "ulimit -n 24; python3 -c \"handles = [open('/dev/null') for _ in range(64)]\""),
]


def blind14_records(env: Env) -> list[Record]:
    out: list[Record] = python_case_records(_py_cases(env))
    out.extend(node_script_records(env, NODE, "node-extra12"))
    java = {k: (c, b.replace("CLOSED", str(env.closed_port))) for k, (c, b) in JAVA.items()}
    out.extend(java_records(env, java, "java-extra12"))
    repo = env.tmp / "blind14-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)
    run(["git", "commit", "-q", "--allow-empty", "-m", "one"], cwd=repo, env=_GIT_ENV)
    run(["git", "tag", "v1"], cwd=repo, env=_GIT_ENV)
    out.extend(git_failure_records(_git(env), repo, "git-extra11", _GIT_ENV))
    out.extend(shell_failure_records(SHELL, env.tmp, "shell-extra11",
                                     prepare=lambda s: s.replace("CLOSED", str(env.closed_port))))
    return out


if __name__ == "__main__":
    write_batch(blind14_records)


__all__ = ["BLIND14_SOURCES", "blind14_records"]
