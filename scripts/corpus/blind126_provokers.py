"""Hundred-and-twenty-sixth batch of blind provokers: Debian mail tools, each failing for a cause provoked here
(blind126_support). exim4 with private configurations (an unknown main option, a missing config file, a malformed
address and an unknown option at -bt/-bP, a missing lsearch file at routing) and deliveries through a smarthost on
127.0.0.1 (a refused port, a postgrey greylisting reply, a 421 banner, a full mailbox, a store out of space, a
refused AUTH, a self-signed certificate under tls_verify_hosts) and onto a full or read-only spool; dovecot (the
LDA over quota, on a full or read-only mail store, doveadm auth test with a wrong password, an unknown setting, a
missing config, an unknown password scheme); fetchmail against that dovecot (wrong passwords over POP3 and IMAP,
the per-user connection limit, a self-signed certificate, TLS on a plain port), a refused port, IMAP/POP3 servers
that only answer "unavailable", and a broken rc file; opendkim (testkey with a missing, truncated or mismatched
key against a DNS server on 127.0.1.26, a dead nameserver; opendkim -n on bad and incomplete configurations;
opendkim-genkey into a missing directory); s-nail, neomutt and bsd-mailx sending through aiosmtpd servers that
answer real MTA replies, a private exim daemon (relay denied, too many connections) and dovecot (POP3/IMAP logins),
plus missing attachments, bad addresses, bad rc files and a missing sendmail program."""

from __future__ import annotations

import shlex

from blind126_support import (
    Dkim,
    Dovecot,
    Exim,
    SmtpFakes,
    banner_port,
    dkim_fixtures,
    exim_daemon,
    private_dovecot,
    private_exim,
    smtp_fakes,
)
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND126_SOURCES = frozenset({"exim126", "dovecot126", "fetchmail126", "opendkim126", "snail126", "neomutt126",
                              "bsdmailx126"})

q = shlex.quote

_NOTICE = ("From: deploy-bot@corp-mail.internal\\nTo: billing@partner.example\\nSubject: Invoice batch 2026-11 ready"
           "\\n\\nThe November invoice batch (1,284 invoices) is ready for review.\\n")


# --------------------------------------------------------------------------- exim


def _exim_send(conf: str) -> str:
    """Deliver one message through the smarthost in the foreground; exim exits 0 when it only defers, so the
    script fails when the verbose log shows a deferral or a bounce (as a cron wrapper would)."""
    return (f"out=$(printf {q(_NOTICE)} | exim -C {q(conf)} -odi -v -f deploy-bot@corp-mail.internal "
            "billing@partner.example 2>&1); printf '%s\\n' \"$out\" >&2; ! grep -qE ' defer |\\*\\* ' <<<\"$out\"")


def _exim_submit(conf: str) -> str:
    return ("{ printf 'To: billing@partner.example\\nSubject: Ledger export 2026-11\\n\\n'; "
            "head -c 24000 /dev/urandom | base64; } | "
            f"exim -C {q(conf)} -odq -f deploy-bot@corp-mail.internal -t")


def _exim_cases(env: Env, x: Exim, f: SmtpFakes) -> list[ToolCase]:
    bad = x.conf("bad-option", extra_main="smtp_accept_max_per_hots = 10\n")
    plain = x.conf("exim4")
    tls = "  hosts_require_tls = *\n  tls_verify_hosts = *\n  tls_verify_certificates = system\n"
    return [
        ("exim_config_unknown_option", "validation", "unknown", ["exim", "-C", str(bad), "-bV"]),
        ("exim_config_missing", "filesystem", "non-existent configuration",
         ["exim", "-C", "/etc/exim4/exim4.conf.d/main/02_corp-mail_options", "-bV"]),
        ("exim_bt_malformed_address", "validation", "malformed",
         ["exim", "-C", str(plain), "-bt", "billing@@partner.example"]),
        ("exim_bp_unknown_option", "validation", "not a known option|unknown",
         ["exim", "-C", str(plain), "-bP", "tls_certifcate"]),
        ("exim_bt_alias_file_missing", "filesystem", "No such file",
         ["exim", "-C", str(plain), "-bt", "finance@corp-mail.internal"]),
        ("exim_smarthost_refused", "network", "refused", _exim_send(str(x.conf("refused", env.closed_port)))),
        ("exim_smarthost_greylisted", "service", "Greylisted",
         _exim_send(str(x.conf("greylist", f.ports["greylist"])))),
        ("exim_smarthost_421", "service", "not available", _exim_send(str(x.conf("down", f.ports["down"])))),
        ("exim_smarthost_mailbox_full", "resource", "Mailbox full",
         _exim_send(str(x.conf("full-mailbox", f.ports["mailbox_full"])))),
        ("exim_smarthost_no_storage", "resource", "Insufficient system storage",
         _exim_send(str(x.conf("storage", f.ports["no_storage"])))),
        ("exim_smarthost_auth_refused", "auth", "535",
         _exim_send(str(x.conf("auth", f.ports["auth"], extra_transport="  hosts_require_auth = *\n")))),
        ("exim_smarthost_untrusted_cert", "network", "certif|verif",
         _exim_send(str(x.conf("tls", f.ports["starttls"], extra_transport=tls)))),
        ("exim_spool_full", "resource", "disk space", _exim_submit(str(x.conf("spool-full", spool=x.full)))),
        ("exim_spool_read_only", "filesystem", "read-only", _exim_submit(str(x.conf("spool-ro", spool=x.ro)))),
    ]


# --------------------------------------------------------------------------- dovecot


def _dovecot_cases(env: Env, d: Dovecot) -> list[ToolCase]:
    conf = str(d.conf)
    bad = d.root / "etc" / "dovecot-tuning.conf"
    bad.write_text(d.conf.read_text().replace("auth_failure_delay = 0\n",
                                              "auth_failure_delay = 0\nmail_max_userip_conections = 20\n"))

    def lda(user: str) -> str:
        return (f"printf 'From: alerts@corp-mail.internal\\nTo: {user}\\nSubject: Disk usage warning db-07\\n"
                "Message-ID: <20261129.%s@corp-mail.internal>\\n\\n' $RANDOM | "
                "cat - <(head -c 4000 /dev/urandom | base64) | "
                f"/usr/lib/dovecot/dovecot-lda -c {q(conf)} -o log_path=/dev/stderr -o info_log_path=/dev/stderr "
                f"-e -d {user} -f alerts@corp-mail.internal")

    return [
        ("dovecot_lda_over_quota", "resource", "Quota exceeded",
         f"{lda('billing@corp-mail.internal')} && {lda('billing@corp-mail.internal')}"),
        ("dovecot_lda_store_full", "resource", "space", lda("archive@corp-mail.internal")),
        ("dovecot_lda_store_read_only", "filesystem", "read-only", lda("legal-hold@corp-mail.internal")),
        ("doveadm_auth_test_wrong_password", "auth", "auth failed|failed",
         ["doveadm", "-c", conf, "auth", "test", "ops@corp-mail.internal", "Corr3ct-Horse-25"]),
        ("doveconf_unknown_setting", "validation", "Unknown setting", ["doveconf", "-c", str(bad), "-n"]),
        ("doveadm_config_missing", "filesystem", "No such file",
         ["doveadm", "-c", "/etc/dovecot/corp-mail/dovecot.conf", "mailbox", "list", "-u", "ops@corp-mail.internal"]),
        ("doveadm_pw_unknown_scheme", "validation", "scheme",
         ["doveadm", "-c", conf, "pw", "-s", "BCRYPT-SHA3", "-p", "Corr3ct-Horse-26"]),
    ]


# --------------------------------------------------------------------------- fetchmail


def _fetchmail_cases(env: Env, d: Dovecot) -> list[ToolCase]:
    home = env.tmp / "fetchmail-home126"
    home.mkdir()

    def rc(name: str, body: str) -> str:
        path = home / f"{name}.fetchmailrc"
        path.write_text(body)
        path.chmod(0o600)
        return str(path)

    def fetch(name: str, body: str, *extra: str) -> str:
        merge = " 2>&1" if "-v" in extra else ""  # the verbose transcript goes to stdout
        return (f"HOME={q(str(home))} fetchmail --nosyslog -N --mda /bin/true {' '.join(extra)} "
                f"-f {q(rc(name, body))}{merge}")

    ops = "user 'ops@corp-mail.internal' there with password '{pw}' is root here"
    busy_imap = banner_port(env, "* BYE [UNAVAILABLE] Server shutting down for maintenance, try again later")
    busy_pop = banner_port(env, "-ERR [SYS/TEMP] Mail store temporarily unavailable, try again later")
    hold = (f"python3 -c 'import imaplib,time; c=imaplib.IMAP4(\"127.0.0.1\",{d.imap}); "
            "c.login(\"ops@corp-mail.internal\",\"Corr3ct-Horse-26\"); c.select(\"INBOX\"); time.sleep(8)' & "
            "sleep 1; ")
    return [
        ("fetchmail_pop3_wrong_password", "auth", "Authorization failure|AUTHFAIL",
         fetch("pop3", f"poll 127.0.0.1 service {d.pop3} protocol pop3 {ops.format(pw='Corr3ct-Horse-25')} "
                       "sslproto ''\n")),
        ("fetchmail_imap_wrong_password", "auth", "Authentication failed|AUTHFAIL",
         fetch("imap", f"poll 127.0.0.1 service {d.imap} protocol imap {ops.format(pw='Corr3ct-Horse-25')} "
                       "sslproto ''\n", "-v")),
        ("fetchmail_imap_connection_limit", "resource", "Maximum number of connections",
         hold + fetch("limit", f"poll 127.0.0.1 service {d.imap} protocol imap "
                               f"{ops.format(pw='Corr3ct-Horse-26')} sslproto '' keep\n", "-v")),
        ("fetchmail_refused", "network", "refused",
         fetch("refused", f"poll 127.0.0.1 service {env.closed_port} protocol imap {ops.format(pw='x')}\n")),
        ("fetchmail_ssl_on_plain_port", "network", "SSL|TLS",
         fetch("sslplain", f"poll 127.0.0.1 service {d.pop3} protocol pop3 {ops.format(pw='x')} ssl\n")),
        ("fetchmail_self_signed", "network", "certif|verif",
         fetch("certck", f"poll mail.corp-mail.internal via 127.0.0.1 service {d.imaps} protocol imap "
                         f"{ops.format(pw='Corr3ct-Horse-26')} ssl sslcertck\n")),
        ("fetchmail_imap_shutting_down", "service", "UNAVAILABLE|shutting down",
         fetch("bye", f"poll 127.0.0.1 service {busy_imap} protocol imap {ops.format(pw='Corr3ct-Horse-26')} "
                      "sslproto ''\n", "-v")),
        ("fetchmail_pop3_temporarily_unavailable", "service", "temporarily unavailable|SYS/TEMP",
         fetch("busy", f"poll 127.0.0.1 service {busy_pop} protocol pop3 {ops.format(pw='Corr3ct-Horse-26')} "
                       "sslproto ''\n", "-v")),
        ("fetchmail_rc_syntax", "validation", "syntax",
         fetch("syntax", "set daemon 300\npoll mail.corp-mail.internal protocol imap\n"
                         "  user 'ops@corp-mail.internal' there with password 'x' is 'ops' here\n"
                         "  sslproto TLS1.2+ sslcertck\n  fetchlimit fifty\n")),
    ]


# --------------------------------------------------------------------------- opendkim


def _opendkim_cases(env: Env, k: Dkim) -> list[ToolCase]:
    bad = env.tmp / "opendkim-signing.conf"
    base = (f"Syslog no\nDomain corp-mail.internal\nSelector mail2026\nKeyFile {k.private}\n"
            "Socket inet:8891@127.0.0.1\nCanonicalization relaxed/simple\nMode sv\nOversignHeaders From\n")
    bad.write_text(base + "SignatureAlgorithm rsa-sha257\n")
    missing = env.tmp / "opendkim-new-host.conf"
    missing.write_text(base.replace(str(k.private), "/etc/dkimkeys/corp-mail.internal/mail2026.private"))
    def testkey(conf: str, key: str, *verbose: str) -> str:  # it prints "keys do not match" on stdout
        return f"opendkim-testkey -d corp-mail.internal -s mail2026 -x {q(conf)} -k {q(key)} {' '.join(verbose)} 2>&1"

    return [
        ("opendkim_testkey_key_missing", "filesystem", "No such file",
         testkey(str(k.good_dns_conf), "/etc/dkimkeys/corp-mail.internal/mail2026.private", "-vvv")),
        ("opendkim_testkey_key_truncated", "validation", "PEM_read|DECODER",
         testkey(str(k.good_dns_conf), str(k.truncated))),
        ("opendkim_testkey_keys_mismatch", "validation", "do not match",
         testkey(str(k.good_dns_conf), str(k.private), "-vvv")),
        ("opendkim_testkey_dns_timeout", "network", "timed out",
         testkey(str(k.dead_dns_conf), str(k.private))),
        ("opendkim_config_bad_algorithm", "validation", "signing algorithm", ["opendkim", "-n", "-x", str(bad)]),
        ("opendkim_config_key_missing", "filesystem", "No such file", ["opendkim", "-n", "-x", str(missing)]),
        ("opendkim_genkey_dir_missing", "filesystem", "No such",
         ["opendkim-genkey", "-D", "/etc/dkimkeys/corp-mail.internal", "-d", "corp-mail.internal", "-s", "mail2026"]),
    ]


# --------------------------------------------------------------------------- s-nail, neomutt, bsd-mailx


def _snail(*args: str, body: str = "Nightly backup of pg-main-01 finished in 41m (212 GiB).") -> str:
    return (f"printf '%s\\n' {q(body)} | s-nail -:/ -Sv15-compat -Snosave -Sfrom=deploy-bot@corp-mail.internal "
            f"-Ssendwait {' '.join(q(a) for a in args)}")


def _snail_cases(env: Env, f: SmtpFakes, d: Dovecot, exim_port: int) -> list[ToolCase]:
    def mta(port: int, *args: str) -> str:
        return _snail("-Ssmtp-auth=none", f"-Smta=smtp://127.0.0.1:{port}", *args, "-s", "Nightly backup report",
                      "ops-oncall@corp-mail.internal")

    hold = (f"(exec 3<>/dev/tcp/127.0.0.1/{exim_port}; sleep 6) & sleep 1; ")
    imap_hold = (f"python3 -c 'import imaplib,time; c=imaplib.IMAP4(\"127.0.0.1\",{d.imap}); "
                 "c.login(\"billing@corp-mail.internal\",\"Ledger#2026\"); time.sleep(8)' & sleep 1; ")
    return [
        ("snail_rate_limited", "resource", "Rate limit", mta(f.ports["rate_limit"])),
        ("snail_insufficient_storage", "resource", "Insufficient", mta(f.ports["no_storage"])),
        ("snail_auth_required", "auth", "Authentication required", mta(f.ports["auth_required"])),
        ("snail_auth_plain_refused", "auth", "535|authentication failed",
         _snail(f"-Smta=smtp://billing-notify:Wr0ngPass-2026@127.0.0.1:{f.ports['auth']}", "-Ssmtp-auth=plain",
                "-s", "Invoice run", "finance@corp-mail.internal")),
        ("snail_starttls_self_signed", "network", "certif|verif",
         mta(f.ports["starttls"], "-Ssmtp-use-starttls")),
        ("snail_starttls_wrong_name", "network", "does not match",
         _snail("-Ssmtp-auth=none", f"-Smta=smtp://localhost:{f.ports['starttls']}", "-Ssmtp-use-starttls",
                f"-Stls-ca-file={f.cafile}", "-s", "Invoice run", "finance@corp-mail.internal")),
        ("snail_smtps_to_plain_port", "network", "SSL|TLS", _snail(
            "-Ssmtp-auth=none", f"-Smta=smtps://127.0.0.1:{f.ports['accept']}", "-s", "Invoice run",
            "finance@corp-mail.internal")),
        ("snail_refused", "network", "refused", mta(env.closed_port)),
        ("snail_attachment_missing", "filesystem", "No such file|access attachment",
         mta(f.ports["accept"], "-a", "/srv/reports/2026-11/ledger-export.csv")),
        ("snail_bad_recipient", "validation", "invalid|address", _snail(
            "-Ssmtp-auth=none", f"-Smta=smtp://127.0.0.1:{f.ports['accept']}", "-s", "Invoice run",
            "finance@@corp-mail..internal")),
        ("snail_bad_mta_scheme", "validation", "mta|unknown|invalid",
         _snail("-Ssmtp-auth=none", "-Smta=smtq://mx1.corp-mail.internal:25", "-s", "Invoice run",
                "finance@corp-mail.internal")),
        ("snail_exim_relay_denied", "auth", "relay not permitted", _snail(
            "-Ssmtp-auth=none", f"-Smta=smtp://127.0.0.1:{exim_port}", "-s", "Invoice run",
            "finance@partner.example")),
        ("snail_exim_too_many_connections", "resource", "Too many|concurrent", hold + mta(exim_port)),
        ("snail_pop3_wrong_password", "auth", "Authentication failed",
         "s-nail -:/ -Sv15-compat -Spassword=Wr0ng-Pass-26 -e "
         f"-f pop3://ops%40corp-mail.internal@127.0.0.1:{d.pop3} </dev/null"),
        ("snail_imap_connection_limit", "resource", "Maximum number of connections",
         imap_hold + "s-nail -:/ -Sv15-compat -Spassword='Ledger#2026' -e "
         f"-f imap://billing%40corp-mail.internal@127.0.0.1:{d.imap} </dev/null"),
    ]


def _neomutt_cases(env: Env, f: SmtpFakes) -> list[ToolCase]:
    rc = env.tmp / "neomuttrc-deploy"
    rc.write_text('set from = "deploy-bot@corp-mail.internal"\nset realname = "Deploy Bot"\nset copy = no\n'
                  "set ssl_starttls = no\nset ssl_force_tls = no\n")
    bad = env.tmp / "neomuttrc-ops"
    bad.write_text('set from = "ops@corp-mail.internal"\nset smtp_url = "smtp://mx1.corp-mail.internal:587"\n'
                   'set send_charset = "utf-8"\nset smtp_authenticators = "gssapi:cram-md5:login"\n'
                   "set imap_keepalive = ten_minutes\nset sidebar_widht = 30\n")

    def send(*args: str, muttrc: str = str(rc)) -> str:
        return (f"echo 'Release 4.12.0 rolled out to eu-west-1 (canary 10%).' | neomutt -n -F {q(muttrc)} "
                f"{' '.join(q(a) for a in args)} -s 'Release 4.12.0' -- sre@corp-mail.internal")

    def smtp(port: int, *extra: str) -> str:
        return send("-e", f"set smtp_url=smtp://127.0.0.1:{port}", *extra)

    return [
        ("neomutt_mailbox_full", "resource", "Mailbox full", smtp(f.ports["mailbox_full"])),
        ("neomutt_sender_rejected", "auth", "not owned", smtp(f.ports["sender_policy"])),
        ("neomutt_service_unavailable", "service", "not available", smtp(f.ports["down"])),
        ("neomutt_sasl_failed", "auth", "SASL authentication failed|authentication",
         send("-e", f"set smtp_url=smtp://billing-notify@127.0.0.1:{f.ports['auth']}", "-e",
              "set smtp_pass=Wr0ngPass-2026")),
        ("neomutt_refused", "network", "refused", smtp(env.closed_port)),
        ("neomutt_attachment_missing", "filesystem", "No such file",
         smtp(f.ports["accept"], "-a", "/srv/reports/2026-11/ledger-export.csv")),
        ("neomutt_bad_muttrc", "validation", "unknown variable|Invalid number", send(muttrc=str(bad))),
        ("neomutt_muttrc_missing", "filesystem", "No such file",
         send(muttrc="/etc/neomutt/accounts/ops.muttrc")),
    ]


def _bsdmailx_cases(env: Env, x: Exim) -> list[ToolCase]:
    wrapper = env.tmp / "sendmail-exim-spool-full"
    wrapper.write_text(f"#!/bin/sh\nexec exim -C {x.conf('mailx-full', spool=x.full)} \"$@\"\n")
    wrapper.chmod(0o755)
    plain = env.tmp / "sendmail-exim"
    plain.write_text(f"#!/bin/sh\nexec exim -C {x.conf('mailx')} -odq \"$@\"\n")
    plain.chmod(0o755)
    secret = env.tmp / "payroll-2026-11.mbox"
    secret.write_text("From hr@corp-mail.internal Sun Nov 29 08:00:00 2026\nSubject: payroll\n\nconfidential\n")
    secret.chmod(0o600)

    def mailrc(name: str, sendmail: str) -> str:
        path = env.tmp / f"mailrc-{name}"
        path.write_text(f"set sendmail={sendmail}\n")
        return str(path)

    def send(rc: str, rcpt: str = "ops@corp-mail.internal") -> str:
        return (f"echo 'pg-backup finished with warnings' | MAILRC={q(rc)} bsd-mailx -s 'Cron: nightly pg-backup' "
                f"{q(rcpt)}")

    return [
        ("bsdmailx_mbox_missing", "filesystem", "No such file", ["bsd-mailx", "-f", "/var/mail/archive/2025-11.mbox"]),
        ("bsdmailx_mbox_unreadable", "filesystem", "Permission denied",
         ["runuser", "-u", "nobody", "--", "bsd-mailx", "-f", str(secret)]),
        ("bsdmailx_sendmail_missing", "filesystem", "No such file",
         send(mailrc("relay", "/opt/corp/bin/sendmail-relay"))),
        ("bsdmailx_exim_spool_full", "resource", "disk space", send(mailrc("full", str(wrapper)))),
        ("bsdmailx_exim_malformed_rcpt", "validation", "bad addresses",
         send(mailrc("plain", str(plain)), "ops@@corp-mail.internal")),
    ]


def blind126_records(env: Env) -> list[Record]:
    fakes = smtp_fakes(env)
    dovecot = private_dovecot(env)
    exim = private_exim(env)
    exim_port = exim_daemon(env, exim)
    dkim = dkim_fixtures(env)
    out: list[Record] = []
    out += tool_records(_exim_cases(env, exim, fakes), "exim126", env.tmp, timeout=90)
    out += tool_records(_dovecot_cases(env, dovecot), "dovecot126", env.tmp)
    out += tool_records(_fetchmail_cases(env, dovecot), "fetchmail126", env.tmp, timeout=90)
    out += tool_records(_opendkim_cases(env, dkim), "opendkim126", env.tmp, timeout=90)
    out += tool_records(_snail_cases(env, fakes, dovecot, exim_port), "snail126", env.tmp)
    out += tool_records(_neomutt_cases(env, fakes), "neomutt126", env.tmp)
    out += tool_records(_bsdmailx_cases(env, exim), "bsdmailx126", env.tmp)
    return out


if __name__ == "__main__":
    write_batch(blind126_records)


__all__ = ["BLIND126_SOURCES", "blind126_records"]
