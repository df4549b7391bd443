"""Sixty-ninth batch of blind provokers: mail clients against PRIVATE mail servers on loopback. swaks and msmtp
send through aiosmtpd servers started here (a wrong or missing password, a message over the size limit,
recipients answered 451 and 452, a server greeting 421, a STARTTLS server with a self-signed certificate, TLS
spoken to a plain port, a malformed recipient address, a closed and a silent port, missing attachment,
configuration and trust files, a configuration syntax error); Python's imaplib and poplib talk to IMAP and POP3
stubs answering real protocol replies (NO [AUTHENTICATIONFAILED], [UNAVAILABLE], BAD, a BYE for too many
connections, a BYE greeting, -ERR [AUTH], [IN-USE], [SYS/TEMP]), their TLS variants with the self-signed
certificate, a closed and a silent port, and calling code that misuses imaplib. Only 127.0.0.1."""

from __future__ import annotations

import imaplib
import logging
import poplib
import ssl
import warnings
from collections.abc import Callable
from typing import Any

from blind69_support import PASSWORD, USER, MailServers, start_mail_servers
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND69_SOURCES = frozenset({"swaks69", "msmtp69", "imap69", "pop69"})

_SWAKS = "swaks --server 127.0.0.1 --from ci@b69.test --timeout 4 --header 'Subject: nightly report' "
_SWAKS_AUTH = _SWAKS + f"--auth LOGIN --auth-user {USER} --auth-password {PASSWORD} --port SMTP_AUTH "
_MSMTP = "printf 'Subject: nightly report\\n\\nbuild 69 passed\\n' | msmtp --host=127.0.0.1 --from=ci@b69.test " \
         "--timeout=4 "
_MSMTP_AUTH = _MSMTP + f"--port=SMTP_AUTH --tls=off --auth=plain --user={USER} --passwordeval='echo {PASSWORD}' "

SWAKS: list[ToolCase] = [
    ("swaks_wrong_password", "auth", "535", _SWAKS + f"--port SMTP_AUTH --auth LOGIN --auth-user {USER} "
     "--auth-password wrong-b69 --to release@b69.test"),
    ("swaks_auth_required", "auth", "530", _SWAKS + "--port SMTP_AUTH --to release@b69.test"),
    ("swaks_size_limit", "resource", "552", _SWAKS_AUTH + "--suppress-data --to release@b69.test "
     "--body \"$(head -c 9000 /dev/zero | tr '\\0' x | fold -w 70)\""),
    ("swaks_rcpt_451", "service", "451", _SWAKS_AUTH + "--to busy@b69.test"),
    ("swaks_rcpt_452", "resource", "452", _SWAKS_AUTH + "--to full@b69.test"),
    ("swaks_greeting_421", "service", "421", _SWAKS + "--port SMTP_421 --to release@b69.test"),
    ("swaks_refused", "network", "refused|connect", _SWAKS + "--port CLOSED --to release@b69.test"),
    ("swaks_silent_port", "network", "timed out|timeout", _SWAKS.replace("--timeout 4", "--timeout 2")
     + "--port HANG --to release@b69.test"),
    ("swaks_tls_on_plain_port", "network", "startup failed", _SWAKS + "--port SMTP_AUTH --tlsc --to release@b69.test"),
    ("swaks_malformed_rcpt", "validation", "553", _SWAKS_AUTH + "--to 'release@@b69.test'"),
    ("swaks_attach_missing", "filesystem", "not openable|no such file", _SWAKS_AUTH + "--to release@b69.test "
     "--attach @TMP/artifacts69/report.pdf"),
]

MSMTP: list[ToolCase] = [
    ("msmtp_wrong_password", "auth", "535|authentication failed", _MSMTP + f"--port=SMTP_AUTH --tls=off --auth=plain "
     f"--user={USER} --passwordeval='echo wrong-b69' release@b69.test"),
    ("msmtp_auth_required", "auth", "530|authentication required", _MSMTP + "--port=SMTP_AUTH --tls=off --auth=off "
     "release@b69.test"),
    ("msmtp_size_limit", "resource", "552", "head -c 9000 /dev/zero | tr '\\0' y | fold -w 70 | "
     + _MSMTP_AUTH.split("| ", 1)[1] + "release@b69.test"),
    ("msmtp_rcpt_451", "service", "451", _MSMTP_AUTH + "busy@b69.test"),
    ("msmtp_rcpt_452", "resource", "452", _MSMTP_AUTH + "full@b69.test"),
    ("msmtp_greeting_421", "service", "421", _MSMTP + "--port=SMTP_421 --tls=off release@b69.test"),
    ("msmtp_refused", "network", "refused", _MSMTP + "--port=CLOSED --tls=off release@b69.test"),
    ("msmtp_silent_port", "network", "timed out|timeout", _MSMTP.replace("--timeout=4", "--timeout=2")
     + "--port=HANG --tls=off release@b69.test"),
    ("msmtp_starttls_untrusted", "network", "certificate", _MSMTP + "--port=SMTP_TLS --tls=on --tls-starttls=on "
     "--tls-trust-file=system release@b69.test"),
    ("msmtp_malformed_rcpt", "validation", "553", _MSMTP_AUTH + "'release@@b69.test'"),
    ("msmtp_trust_file_missing", "filesystem", "trust file", _MSMTP + "--port=SMTP_TLS --tls=on "
     "--tls-starttls=on --tls-trust-file=TMP/certs69/internal-ca.crt release@b69.test"),
    ("msmtp_config_missing", "filesystem", "no such file", "printf 'Subject: x\\n\\nbody\\n' | "
     "msmtp -C TMP/etc69/msmtprc -a default release@b69.test"),
    ("msmtp_config_syntax", "validation", "line 2", "mkdir -p TMP/conf69 && printf 'defaults\\n"
     "tls maybe\\naccount default\\nhost 127.0.0.1\\nport SMTP_AUTH\\nfrom ci@b69.test\\n' > TMP/conf69/msmtprc && "
     "chmod 600 TMP/conf69/msmtprc && printf 'Subject: x\\n\\nbody\\n' | msmtp -C TMP/conf69/msmtprc "
     "release@b69.test"),
]


def _imap_cases(env: Env, mail: MailServers) -> list[PyCase]:
    def imap(port: int) -> imaplib.IMAP4:
        return imaplib.IMAP4("127.0.0.1", port, timeout=4)

    def login(user: str, password: str) -> Callable[[], None]:
        def fn() -> None:
            client = imap(mail.imap)
            try:
                client.login(user, password)
            finally:
                client.shutdown()
        return fn

    def logged_in(action: Callable[[imaplib.IMAP4], Any]) -> Callable[[], None]:
        def fn() -> None:
            client = imap(mail.imap)
            try:
                client.login(USER, PASSWORD)
                client.select("INBOX")
                action(client)
            finally:
                client.shutdown()
        return fn

    def bye_greeting() -> None:
        imap(mail.imap_bye)

    def ssl_self_signed() -> None:
        imaplib.IMAP4_SSL("127.0.0.1", mail.imaps, ssl_context=ssl.create_default_context(), timeout=4)

    def select_before_login() -> None:
        client = imap(mail.imap)
        try:
            client.select("INBOX")
        finally:
            client.shutdown()

    def uid_unknown(client: imaplib.IMAP4) -> None:
        client.uid("ARCHIVE", "1:*", "Archive")

    return [
        ("imap_login_failed", "auth", "imap69", "error", login(USER, "wrong-b69")),
        ("imap_temporary_auth_failure", "service", "imap69", "error", login("tempfail", PASSWORD)),
        ("imap_bye_greeting", "service", "imap69", "error", bye_greeting),
        ("imap_search_bad_date", "validation", "imap69", "error",
         logged_in(lambda c: c.search(None, "SINCE", "31-Feb-2026x"))),
        ("imap_connection_limit", "resource", "imap69", "abort", login("crowded", PASSWORD)),
        ("imap_refused", "network", "imap69", "ConnectionRefusedError", lambda: imap(env.closed_port)),
        ("imap_silent_port", "network", "imap69", "TimeoutError", lambda: imap(env.hang_port)),
        ("imap_ssl_self_signed", "network", "imap69", "SSLCertVerificationError", ssl_self_signed),
        ("imap_select_before_login", "programming", "imap69", "error", select_before_login),
        ("imap_unknown_uid_command", "programming", "imap69", "error", logged_in(uid_unknown)),
    ]


def _pop_cases(env: Env, mail: MailServers) -> list[PyCase]:
    def pop_login(user: str, password: str) -> Callable[[], None]:
        def fn() -> None:
            client = poplib.POP3("127.0.0.1", mail.pop, timeout=4)
            try:
                client.user(user)
                client.pass_(password)
                client.stat()
            finally:
                client.close()
        return fn

    def ssl_self_signed() -> None:
        poplib.POP3_SSL("127.0.0.1", mail.pops, timeout=4, context=ssl.create_default_context())

    return [
        ("pop_login_failed", "auth", "pop69", "error_proto", pop_login(USER, "wrong-b69")),
        ("pop_maildrop_locked", "resource", "pop69", "error_proto", pop_login("locked", PASSWORD)),
        ("pop_temporary_failure", "service", "pop69", "error_proto", pop_login("tempfail", PASSWORD)),
        ("pop_refused", "network", "pop69", "ConnectionRefusedError",
         lambda: poplib.POP3("127.0.0.1", env.closed_port, timeout=4)),
        ("pop_silent_port", "network", "pop69", "TimeoutError",
         lambda: poplib.POP3("127.0.0.1", env.hang_port, timeout=2)),
        ("pop_ssl_self_signed", "network", "pop69", "SSLCertVerificationError", ssl_self_signed),
    ]


def blind69_records(env: Env) -> list[Record]:
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    mail = start_mail_servers(env)
    ports = {"SMTP_AUTH": mail.smtp_auth, "SMTP_TLS": mail.smtp_tls, "SMTP_421": mail.smtp_421,
             "CLOSED": env.closed_port, "HANG": env.hang_port}

    def fill(text: str) -> str:
        for name, port in ports.items():
            text = text.replace(name, str(port))
        return text.replace("TMP", str(env.tmp))

    home = env.tmp / "home69"
    home.mkdir()
    out = tool_records([(n, c, t, f"{s} 2>&1") for n, c, t, s in SWAKS], "swaks69", env.tmp, fill, timeout=30)
    out += tool_records([(n, c, t, f"export HOME={home}; {s}") for n, c, t, s in MSMTP], "msmtp69", env.tmp, fill,
                        timeout=30)
    out += python_records(_imap_cases(env, mail))
    out += python_records(_pop_cases(env, mail))
    return out


if __name__ == "__main__":
    write_batch(blind69_records)


__all__ = ["BLIND69_SOURCES", "blind69_records"]
