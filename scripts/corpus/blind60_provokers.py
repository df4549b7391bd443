"""Sixtieth batch of blind provokers: command-line clients of network protocols, as deploy scripts and CI jobs call
them, against PRIVATE servers on loopback. lftp meets a pyftpdlib server with a wrong password, an unknown user,
missing remote files and directories, a user without write or delete rights, a one-client limit and an endpoint that
answers `421` to everyone, plus missing local files, a closed port, a hanging and a resetting peer. ldapsearch,
ldapadd, ldapmodify and ldapwhoami meet a private slapd with wrong credentials, a read-only user writing, a
read-only database, a malformed filter, DN and LDIF, schema violations, and a closed, resetting or non-TLS port.
smbclient meets a private smbd (wrong password, a share reserved to another user, missing remote paths, a full
share, a one-connection share, missing local files) and closed, hanging and resetting ports. ncat meets a
self-signed TLS server, a certificate for another host, a closed port, a proxy that is down, an idle peer and a bad
port number. snmpget, snmpwalk and snmpset meet a private snmpd (v3 wrong password, unknown user, too low a security
level, writing with a read-only community, values of the wrong type) and a UDP port nobody answers. Only
127.0.0.1."""

from __future__ import annotations

from blind60_support import PASSWORD, ftp_servers, other_host_tls, private_slapd, private_smbd, private_snmpd
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND60_SOURCES = frozenset({"lftp60", "ldap60", "smbclient60", "ncat60", "snmp60"})

_LFTP_SETTINGS = "set net:max-retries 1; set net:reconnect-interval-base 1; set net:timeout 8; set xfer:clobber on"


def _lftp(user: str, port: str, commands: str) -> list[str]:
    """lftp running `commands` at the FTP endpoint `port` (HOME in the batch directory: lftp keeps history there)."""
    return ["env", "HOME=TMP", "lftp", "-u", user, "-e", f"{_LFTP_SETTINGS}; {commands}; bye", f"ftp://127.0.0.1:{port}"]


DEPLOY = f"deploy,{PASSWORD}"
READER = f"reader,{PASSWORD}"

LFTP: list[ToolCase] = [
    ("lftp_wrong_password", "auth", "530", _lftp("deploy,wrong-password", "FTP", "ls pub")),
    ("lftp_unknown_user", "auth", "530", _lftp(f"ci-bot,{PASSWORD}", "FTP", "cd pub")),
    ("lftp_get_missing", "filesystem", "550", _lftp(DEPLOY, "FTP", "get pub/app-1.4.2.tar.gz -o TMP/app.tar.gz")),
    ("lftp_mirror_missing_dir", "filesystem", "550|No such", _lftp(DEPLOY, "FTP", "mirror releases/v9 TMP/mirror")),
    ("lftp_cd_missing_dir", "filesystem", "550|No such", _lftp(DEPLOY, "FTP", "cd /builds/nightly && ls")),
    ("lftp_put_local_missing", "filesystem", "No such file",
     _lftp(DEPLOY, "FTP", "put TMP/dist/app-1.4.2.whl -o pub/")),
    ("lftp_get_local_dir_missing", "filesystem", "No such file", _lftp(DEPLOY, "FTP", "get pub/report.csv -o "
                                                                       "/nonexistent-b60/exports/report.csv")),
    ("lftp_put_no_write_right", "auth", "privileges|550", _lftp(READER, "FTP", "put /etc/hostname -o pub/host.txt")),
    ("lftp_rm_no_delete_right", "auth", "privileges|550", _lftp(READER, "FTP", "rm pub/app-1.4.1.tar.gz")),
    ("lftp_too_many_connections", "resource", "Too many|421", _lftp(DEPLOY, "BUSY", "ls")),
    ("lftp_service_unavailable", "service", "421", _lftp(DEPLOY, "DOWN", "ls pub")),
    ("lftp_mirror_service_unavailable", "service", "421", "mkdir -p TMP/site60 && echo ok > TMP/site60/index.html && "
     f"HOME=TMP lftp -u {DEPLOY} -e '{_LFTP_SETTINGS}; mirror -R TMP/site60 /www; bye' ftp://127.0.0.1:DOWN"),
    ("lftp_refused", "network", "refused", _lftp(DEPLOY, "CLOSED", "ls")),
    ("lftp_hanging_server", "network", "max-retries|timeout|timed out", _lftp(DEPLOY, "HANG", "set net:timeout 2; ls")),
    ("lftp_reset", "network", "max-retries|reset|closed", _lftp(DEPLOY, "RESET", "ls")),
]

_ADMIN = ["-D", "cn=admin,dc=corp,dc=test"]
_ALICE = ["-D", "uid=alice,ou=people,dc=corp,dc=test", "-w", "alice-password"]


def _ldap(tool: str, *args: str) -> list[str]:
    return [tool, "-x", "-H", "ldap://127.0.0.1:LDAP", *args]


def _ldif(text: str, tool: str, *args: str) -> str:
    """A bash script feeding `text` as LDIF to `tool`."""
    quoted = text.replace("'", "'\\''")
    return f"printf '%s' '{quoted}' | {tool} -x -H ldap://127.0.0.1:LDAP {' '.join(args)}"


_ADMIN_BIND = f"-D cn=admin,dc=corp,dc=test -w {PASSWORD}"
_ALICE_BIND = "-D uid=alice,ou=people,dc=corp,dc=test -w alice-password"

LDAP: list[ToolCase] = [
    ("ldapsearch_invalid_credentials", "auth", "49|Invalid credentials",
     _ldap("ldapsearch", *_ADMIN, "-w", "wrong-password", "-b", "ou=people,dc=corp,dc=test", "(uid=alice)")),
    ("ldapwhoami_wrong_password", "auth", "49|Invalid credentials",
     _ldap("ldapwhoami", "-D", "uid=alice,ou=people,dc=corp,dc=test", "-w", "expired-password")),
    ("ldapadd_insufficient_access", "auth", "50|Insufficient",
     _ldif("dn: uid=bob,ou=people,dc=corp,dc=test\nobjectClass: inetOrgPerson\nuid: bob\ncn: Bob\nsn: B\n",
           "ldapadd", _ALICE_BIND)),
    ("ldapmodify_insufficient_access", "auth", "50|Insufficient",
     _ldif("dn: ou=people,dc=corp,dc=test\nchangetype: modify\nreplace: description\ndescription: synced by ci\n",
           "ldapmodify", _ALICE_BIND)),
    ("ldapadd_read_only_database", "service", "53|unwilling",
     _ldif("dn: dc=archive,dc=test\nobjectClass: dcObject\nobjectClass: organization\no: Archive\ndc: archive\n",
           "ldapadd", f"-D cn=admin,dc=archive,dc=test -w {PASSWORD}")),
    ("ldapsearch_bad_filter", "validation", "filter",
     _ldap("ldapsearch", *_ALICE, "-b", "ou=people,dc=corp,dc=test", "(&(uid=alice)(mail=*@corp.test)")),
    ("ldapsearch_invalid_dn", "validation", "34|Invalid DN",
     _ldap("ldapsearch", *_ALICE, "-b", "people/corp.test", "(uid=alice)")),
    ("ldapadd_objectclass_violation", "validation", "65|violation",
     _ldif("dn: uid=carol,ou=people,dc=corp,dc=test\nobjectClass: inetOrgPerson\nuid: carol\ncn: Carol\n",
           "ldapadd", _ADMIN_BIND)),
    ("ldapadd_undefined_attribute", "validation", "17|undefined",
     _ldif("dn: uid=dave,ou=people,dc=corp,dc=test\nobjectClass: inetOrgPerson\nuid: dave\ncn: Dave\nsn: D\n"
           "shoeSize: 44\n", "ldapadd", _ADMIN_BIND)),
    ("ldapadd_ldif_format", "validation", "format",
     _ldif("dn uid=erin,ou=people,dc=corp,dc=test\nobjectClass inetOrgPerson\n", "ldapadd", _ADMIN_BIND)),
    ("ldapsearch_refused", "network", "contact",
     ["ldapsearch", "-x", "-H", "ldap://127.0.0.1:CLOSED", "-b", "dc=corp,dc=test", "(uid=alice)"]),
    ("ldapsearch_reset", "network", "contact|-1",
     ["ldapsearch", "-x", "-H", "ldap://127.0.0.1:RESET", "-b", "dc=corp,dc=test", "(uid=alice)"]),
    ("ldapsearch_ldaps_plain_port", "network", "contact|-1",
     ["ldapsearch", "-x", "-H", "ldaps://127.0.0.1:LDAP", "-b", "dc=corp,dc=test", "(uid=alice)"]),
]

_SMB_AUTH = f"-U nobody%{PASSWORD}"

SMB: list[ToolCase] = [
    ("smbclient_logon_failure", "auth", "LOGON_FAILURE",
     "smbclient //127.0.0.1/releases -p SMB -U nobody%wrong-password -c 'ls'"),
    ("smbclient_share_other_user", "auth", "ACCESS_DENIED",
     f"smbclient //127.0.0.1/payroll -p SMB {_SMB_AUTH} -c 'ls'"),
    ("smbclient_get_missing", "filesystem", "NOT_FOUND",
     f"smbclient //127.0.0.1/releases -p SMB {_SMB_AUTH} -c 'get app-1.4.2.tar.gz TMP/app-smb.tar.gz'"),
    ("smbclient_cd_missing", "filesystem", "NOT_FOUND",
     f"smbclient //127.0.0.1/releases -p SMB {_SMB_AUTH} -c 'cd builds/nightly'"),
    ("smbclient_put_local_missing", "filesystem", "No such file|does not exist|NOT_FOUND",
     f"smbclient //127.0.0.1/releases -p SMB {_SMB_AUTH} -c 'put TMP/dist/app-1.4.2.tar.gz app-1.4.2.tar.gz'"),
    ("smbclient_get_local_dir_missing", "filesystem", "No such file|Error opening|NOT_FOUND",
     f"smbclient //127.0.0.1/releases -p SMB {_SMB_AUTH} -c 'get app-1.4.1.tar.gz "
     "/nonexistent-b60/cache/app-1.4.1.tar.gz'"),
    ("smbclient_share_max_connections", "resource", "INSUFFICIENT|RESOURCES|TOO_MANY|LIMIT",
     f"(sleep 4 | smbclient //127.0.0.1/reports -p SMB {_SMB_AUTH} >/dev/null 2>&1 &) ; sleep 1.5; "
     f"smbclient //127.0.0.1/reports -p SMB {_SMB_AUTH} -c 'ls'"),
    ("smbclient_share_full", "resource", "DISK_FULL|space",
     f"head -c 400000 /dev/urandom > TMP/backup60.bin && smbclient //127.0.0.1/scratch -p SMB {_SMB_AUTH} "
     "-c 'put TMP/backup60.bin backup60.bin'"),
    ("smbclient_refused", "network", "REFUSED", f"smbclient //127.0.0.1/releases -p CLOSED {_SMB_AUTH} -c 'ls'"),
    ("smbclient_hanging", "network", "TIMEOUT", f"smbclient //127.0.0.1/releases -p HANG -t 2 {_SMB_AUTH} -c 'ls'"),
    ("smbclient_reset", "network", "RESET|DISCONNECTED|CONNECTION",
     f"smbclient //127.0.0.1/releases -p RESET {_SMB_AUTH} -c 'ls'"),
]

NCAT: list[ToolCase] = [
    ("ncat_refused", "network", "refused", "echo PING | ncat 127.0.0.1 CLOSED"),
    ("ncat_ssl_self_signed", "network", "certif|verif|SSL", "echo PING | ncat -v --ssl --ssl-verify 127.0.0.1 TLS"),
    ("ncat_ssl_other_host", "network", "certif|verif|SSL|name",
     "echo PING | ncat -v --ssl --ssl-verify --ssl-trustfile CAFILE 127.0.0.1 TLS"),
    ("ncat_idle_peer", "network", "timeout|timed out|expired", "sleep 5 | ncat -i 1 127.0.0.1 HANG"),
    ("ncat_proxy_down", "network", "refused|proxy", "echo PING | ncat --proxy 127.0.0.1:CLOSED --proxy-type http "
     "127.0.0.1 HTTP"),
    ("ncat_bad_port", "validation", "port", "echo PING | ncat 127.0.0.1 70000"),
]

_SNMP = "-m '' -t 1 -r 0"
_SYS_DESCR = ".1.3.6.1.2.1.1.1.0"
_SYS_CONTACT = ".1.3.6.1.2.1.1.4.0"

SNMP: list[ToolCase] = [
    ("snmpget_no_answer", "network", "Timeout", f"snmpget -v2c -c public-b60 {_SNMP} 127.0.0.1:SILENT {_SYS_DESCR}"),
    ("snmpwalk_no_answer", "network", "Timeout",
     f"snmpwalk -v2c -c public-b60 {_SNMP} 127.0.0.1:SILENT .1.3.6.1.2.1.2"),
    ("snmpget_v3_wrong_password", "auth", "Authentication",
     f"snmpget -v3 -l authPriv -u opsuser -a SHA -A wrong-password -x AES -X wrong-password {_SNMP} 127.0.0.1:SNMP "
     f"{_SYS_DESCR}"),
    ("snmpget_v3_unknown_user", "auth", "Unknown user",
     f"snmpget -v3 -l authPriv -u monitor-b60 -a SHA -A {PASSWORD} -x AES -X {PASSWORD} {_SNMP} 127.0.0.1:SNMP "
     f"{_SYS_DESCR}"),
    ("snmpget_v3_security_level", "auth", "authorization",
     f"snmpget -v3 -l authNoPriv -u opsuser -a SHA -A {PASSWORD} {_SNMP} 127.0.0.1:SNMP {_SYS_DESCR}"),
    ("snmpset_read_only_community", "auth", "noAccess",
     f"snmpset -v2c -c public-b60 {_SNMP} 127.0.0.1:SNMP {_SYS_CONTACT} s ops@corp.test"),
    ("snmpset_wrong_type", "validation", "wrongType",
     f"snmpset -v2c -c private-b60 {_SNMP} 127.0.0.1:SNMP {_SYS_CONTACT} i 5"),
    ("snmpset_bad_value", "validation", "value|notanumber",
     f"snmpset -v2c -c private-b60 {_SNMP} 127.0.0.1:SNMP {_SYS_CONTACT} i notanumber"),
    ("snmpget_short_passphrase", "validation", "passphrase",
     f"snmpget -v3 -l authPriv -u opsuser -a SHA -A short -x AES -X short {_SNMP} 127.0.0.1:SNMP {_SYS_DESCR}"),
    ("snmpget_malformed_oid", "validation", "Object|OID",
     f"snmpget -v2c -c public-b60 {_SNMP} 127.0.0.1:SNMP .1.3.6.x.1"),
]


def blind60_records(env: Env) -> list[Record]:
    ftp = ftp_servers(env)
    ldap = private_slapd(env)
    smb = private_smbd(env)
    snmp = private_snmpd(env)
    tls = other_host_tls(env)
    ports = {"FTP": ftp.main, "BUSY": ftp.busy, "DOWN": ftp.down, "LDAP": ldap, "SMB": smb,
             "SNMP": snmp, "TLS": tls.port, "SILENT": env.closed_port, "CLOSED": env.closed_port,
             "HANG": env.hang_port, "RESET": env.reset_port, "HTTP": env.http_port}

    def fill(text: str) -> str:
        text = text.replace("TMP", str(env.tmp)).replace("CAFILE", str(tls.cafile))
        for name, port in ports.items():
            text = text.replace(name, str(port))
        return text

    out: list[Record] = []
    for cases, source in ((LFTP, "lftp60"), (LDAP, "ldap60"), (SMB, "smbclient60"), (NCAT, "ncat60"),
                          (SNMP, "snmp60")):
        out += tool_records(cases, source, env.tmp, fill, timeout=40)
    return out


if __name__ == "__main__":
    write_batch(blind60_records)


__all__ = ["BLIND60_SOURCES", "blind60_records"]
