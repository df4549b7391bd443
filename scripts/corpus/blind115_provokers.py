"""Hundred-and-fifteenth batch of blind provokers: Unix data and network command-line tools not seen before, each
failing for a cause provoked here (fixtures and private servers in blind115_support). xmlstarlet (a mismatched tag,
a missing feed, an XSD violation, a broken XPath in a script, an in-place edit on a read-only mount); Miller (ragged
CSV, malformed JSON, a missing export, a DSL syntax error and a wrong function arity); GNU datamash (a non-numeric
field); yq (broken YAML, a missing manifest, jq filter bugs); 7-Zip (a corrupt or non-archive file, a wrong
password, extraction onto a full or read-only tmpfs); zstd and xz (foreign data, truncated and corrupt streams, a
decoder memory limit, full and read-only outputs, a missing input to zstd); aria2c (401, 403, 503 from the status
server, a refused port, a read timeout, a bad option, a download onto a full tmpfs or into a read-only directory);
host, nslookup, dig and nsupdate against a private DNS responder (NXDOMAIN, SERVFAIL, an update refused, a silent
server, a refused port, missing files); iperf3 (a refused port, a busy server, a failed RSA user authorization, a
connect timeout, a missing input file); ldapsearch and ldapadd against a private slapd (wrong password, anonymous
and unprivileged writes, a refused port, a connect timeout, a bad filter, schema violations, a missing LDIF file,
the server's size limit); netcat-openbsd (refused, timed out)."""

from __future__ import annotations

from blind115_support import ADMIN_DN, ADMIN_PW, BASE_DN, ZONE, Fixtures, prepare
from checked import ToolCase, tool_records
from common import Env, Record, write_batch
from servers import full_backlog_port

BLIND115_SOURCES = frozenset({"xmlstarlet115", "mlr115", "datamash115", "yq115", "7z115", "zstd115", "xz115",
                              "aria2c115", "host115", "nslookup115", "dig115", "nsupdate115", "iperf3115",
                              "ldapsearch115", "ldapadd115", "nc115"})


def _xmlstarlet(f: Fixtures) -> list[ToolCase]:
    feeds = f.root / "feeds"
    return [
        ("xmlstarlet_tag_mismatch", "validation", "mismatch|parser error",
         ["xmlstarlet", "sel", "-t", "-v", "//product/@sku", "-n", str(feeds / "catalog.xml")]),
        ("xmlstarlet_missing_feed", "filesystem", "failed to load|No such file",
         ["xmlstarlet", "sel", "-t", "-v", "count(//order)", str(f.root / "incoming" / "orders-2026-11-29.xml")]),
        ("xmlstarlet_xsd_violation", "validation", "invalid|not a valid value",
         ["xmlstarlet", "val", "-e", "-s", str(feeds / "orders.xsd"), str(feeds / "orders.xml")]),
        ("xmlstarlet_xpath_typo", "programming", "Invalid expression|XPath|compil",
         f"set -e\ntotal=$(xmlstarlet sel -t -v 'sum(//order/total[)' {feeds / 'orders.xml'})\n"
         'echo "daily total: $total"'),
        ("xmlstarlet_edit_read_only", "filesystem", "Read-only",
         f"errors=$(xmlstarlet ed -L -u \"//order[@id='10249']/total\" -v 11.00 {f.ro / 'feeds' / 'orders.xml'} 2>&1)\n"
         'if [ -n "$errors" ]; then echo "$errors" >&2; exit 1; fi'),
    ]


def _mlr(f: Fixtures) -> list[ToolCase]:
    ex = f.root / "exports"
    return [
        ("mlr_ragged_csv", "validation", "mismatch|length",
         ["mlr", "--icsv", "--ojson", "stats1", "-a", "sum", "-f", "cost_eur", "-g", "carrier",
          str(ex / "shipments-2026-11.csv")]),
        ("mlr_bad_json", "validation", "invalid character|json|parse",
         ["mlr", "--ijson", "--ocsv", "cat", str(ex / "sessions.json")]),
        ("mlr_missing_export", "filesystem", "no such file",
         ["mlr", "--icsv", "--opprint", "sort", "-nr", "cost_eur", str(ex / "shipments-2026-12.csv")]),
        ("mlr_dsl_syntax", "programming", "parse|syntax",
         ["mlr", "--icsv", "--ojson", "put", "$cost_per_kg = $cost_eur / $weight_kg;; if ($carrier == \"DHL\" {"
          " $priority = 1 }", str(ex / "latency-by-region.tsv")]),
        ("mlr_function_arity", "programming", "arity|argument",
         ["mlr", "-n", "put", "end { print strlen(\"S-88121\", 7) }"]),
    ]


def _datamash(f: Fixtures) -> list[ToolCase]:
    ex = f.root / "exports"
    return [
        ("datamash_non_numeric", "validation", "invalid numeric",
         f"datamash -g 1 mean 2 < {ex / 'latency-by-region.tsv'}"),
    ]


def _yq(f: Fixtures) -> list[ToolCase]:
    dep = f.root / "deploy"
    return [
        ("yq_bad_yaml", "validation", "yaml|mapping|expected",
         ["yq", "-r", ".image.tag", str(dep / "values-prod.yaml")]),
        ("yq_missing_manifest", "filesystem", "No such file",
         ["yq", "-r", ".replicaCount", str(dep / "values-staging.yaml")]),
        ("yq_filter_syntax", "programming", "syntax error|compile",
         ["yq", "-r", ".ingress.hosts[] | select(. | endswith(\"internal\")", str(dep / "values-ok.yaml")]),
        ("yq_index_string", "programming", "Cannot index",
         ["yq", "-r", ".image.tag.major", str(dep / "values-ok.yaml")]),
    ]


def _7z(f: Fixtures) -> list[ToolCase]:
    b = f.root / "backups"
    out = f.root / "restore"
    return [
        ("7z_not_archive", "validation", "Can not open|not archive",
         ["7z", "x", "-bd", "-y", f"-o{out}", str(b / "export-2026-11.7z")]),
        ("7z_corrupt_data", "validation", "Data Error|CRC",
         ["7z", "t", "-bd", str(b / "ledger-2026-09.7z")]),
        ("7z_wrong_password", "auth", "Wrong password",
         ["7z", "x", "-bd", "-y", "-pQuarterEnd2026", f"-o{out}", str(b / "payroll-2026-11.7z")]),
        ("7z_missing_archive", "filesystem", "cannot find|No such file",
         ["7z", "l", str(b / "ledger-2026-12.7z")]),
        ("7z_extract_full_disk", "resource", "space",
         ["7z", "x", "-bd", "-y", f"-o{f.full / 'restore'}", str(b / "ledger-2026-11.7z")]),
        ("7z_extract_read_only", "filesystem", "Read-only|Can not open output|cannot",
         ["7z", "x", "-bd", "-y", f"-o{f.ro / 'downloads'}", str(b / "ledger-2026-11.7z")]),
    ]


def _zstd(f: Fixtures) -> list[ToolCase]:
    b = f.root / "backups"
    return [
        ("zstd_unknown_format", "validation", "unknown header|unsupported format|not in zstd format",
         ["zstd", "-d", "-f", str(b / "metrics-2026-11.zst"), "-o", str(f.root / "metrics-2026-11.json")]),
        ("zstd_truncated", "validation", "truncated|premature|unexpected end",
         ["zstd", "-d", "-f", "--long=27", str(b / "pg-dump-billing-partial.sql.zst"), "-o",
          str(f.root / "restore-partial.sql")]),
        ("zstd_memory_limit", "resource", "memory|window",
         ["zstd", "-d", "-f", "--memory=8MB", str(b / "pg-dump-billing.sql.zst"), "-o",
          str(f.root / "restore.sql")]),
        ("zstd_full_disk", "resource", "No space",
         ["zstd", "-d", "-f", "--long=27", str(b / "pg-dump-billing.sql.zst"), "-o",
          str(f.full / "pg-dump-billing.sql")]),
        ("zstd_read_only", "filesystem", "Read-only",
         ["zstd", "-q", "-f", str(b / "pg-dump-billing.sql"), "-o", str(f.ro / "downloads" / "dump.sql.zst")]),
        ("zstd_missing_input", "filesystem", "No such file",
         ["zstd", "-d", str(b / "pg-dump-billing-2026-11-28.sql.zst")]),
    ]


def _xz(f: Fixtures) -> list[ToolCase]:
    b = f.root / "backups"
    return [
        ("xz_format_not_recognized", "validation", "format not recognized",
         ["xz", "-t", str(b / "app-logs-2026-11.tar.xz")]),
        ("xz_corrupt", "validation", "corrupt",
         ["xz", "-t", str(b / "pg-dump-billing-bitrot.sql.xz")]),
        ("xz_memlimit", "resource", "Memory usage limit",
         ["xz", "-d", "-c", "--memlimit-decompress=32MiB", "--no-adjust", str(b / "notes-bigdict.txt.xz")]),
        ("xz_full_disk", "resource", "No space",
         f"xz -d -k --stdout {b / 'pg-dump-billing.sql.xz'} > {f.full / 'pg-dump-billing.sql'}"),
        ("xz_read_only", "filesystem", "Read-only", ["xz", "-k", "-6", str(f.ro / "feeds" / "orders.xml")]),
    ]


def _aria2c(env: Env, f: Fixtures) -> list[ToolCase]:
    base = ["aria2c", "--max-tries=1", "--retry-wait=0", "--console-log-level=error", "--summary-interval=0",
            "--allow-overwrite=true", f"--dir={f.root / 'downloads'}"]
    files = f"http://127.0.0.1:{f.files_port}/releases/billing-api-4.12.1.tar.gz"
    return [
        ("aria2c_http_401", "auth", "401|Authorization",
         [*base, env.url(401) + "?artifact=billing-api-4.12.1.tar.gz"]),
        ("aria2c_http_403", "auth", "403",
         [*base, "--http-user=deploy", "--http-passwd=expired-token", env.url(403) + "?artifact=billing.tgz"]),
        ("aria2c_http_503", "service", "503",
         [*base, "--max-tries=1", env.url(503) + "?artifact=billing-api-4.12.1.tar.gz"]),
        ("aria2c_refused", "network", "Connection refused|refused",
         [*base, f"http://127.0.0.1:{env.closed_port}/releases/billing-api-4.12.1.tar.gz"]),
        ("aria2c_read_timeout", "network", "Timeout|timed out",
         [*base, "--timeout=2", "--connect-timeout=2", f"http://127.0.0.1:{env.hang_port}/releases/billing.tgz"]),
        ("aria2c_bad_option", "validation", "must be|between|range|Bad",
         [*base, "--max-connection-per-server=64", files]),
        ("aria2c_full_disk", "resource", "space",
         [*base[:-1], f"--dir={f.full}", "--file-allocation=none", files]),
        ("aria2c_read_only_dir", "filesystem", "Read-only|Failed to open|permission",
         [*base[:-1], f"--dir={f.ro / 'downloads'}", files]),
    ]


def _dns(env: Env, f: Fixtures) -> list[tuple[str, ToolCase]]:
    srv, port = "127.0.0.1", str(f.dns_port)
    missing = f"billing-db-replica.{ZONE}".rstrip(".")
    legacy = f"ldap01.legacy.{ZONE}".rstrip(".")
    nsup = f.root / "dns"
    nsup.mkdir(exist_ok=True)
    (nsup / "add-canary.txt").write_text(
        f"server 127.0.0.1 {f.dns_port}\nzone {ZONE}\nupdate add canary.{ZONE} 300 A 10.20.4.17\nsend\n")
    (nsup / "mute.txt").write_text(
        f"server 127.0.0.1 {f.mute_dns_port}\nzone {ZONE}\nupdate delete old-canary.{ZONE} A\nsend\n")
    return [
        ("host115", ("host_nxdomain", "network", "NXDOMAIN|not found",
                     ["host", "-p", port, missing, srv])),
        ("host115", ("host_servfail", "service", "SERVFAIL", ["host", "-p", port, legacy, srv])),
        ("host115", ("host_no_servers", "network", "timed out|no servers",
                     ["host", "-W", "1", "-R", "1", "-p", str(f.mute_dns_port), missing, srv])),
        ("nslookup115", ("nslookup_nxdomain", "network", "NXDOMAIN|can't find",
                         ["nslookup", f"-port={port}", missing, srv])),
        ("nslookup115", ("nslookup_servfail", "service", "SERVFAIL", ["nslookup", f"-port={port}", legacy, srv])),
        ("nslookup115", ("nslookup_timeout", "network", "timed out|no servers",
                         ["nslookup", "-timeout=1", "-retry=1", f"-port={f.mute_dns_port}", missing, srv])),
        ("dig115", ("dig_timeout", "network", "timed out|no servers",
                    ["dig", "+time=1", "+tries=1", "-p", str(f.mute_dns_port), "@127.0.0.1", missing])),
        ("dig115", ("dig_tcp_refused", "network", "refused",
                    ["dig", "+tcp", "+time=1", "+tries=1", "-p", str(env.closed_port), "@127.0.0.1", missing])),
        ("dig115", ("dig_missing_batch", "filesystem", "couldn't open|No such file",
                    ["dig", "-p", port, "@127.0.0.1", "-f", str(nsup / "hosts-to-check.txt")])),
        ("nsupdate115", ("nsupdate_refused", "auth", "REFUSED", ["nsupdate", str(nsup / "add-canary.txt")])),
        ("nsupdate115", ("nsupdate_timeout", "network", "timed out|communication",
                         ["nsupdate", "-t", "2", "-u", "1", "-r", "0", str(nsup / "mute.txt")])),
        ("nsupdate115", ("nsupdate_missing_key", "filesystem", "No such file|not found|could not",
                         ["nsupdate", "-k", "/etc/bind/keys/Kcorp-ddns.+165+40211.key",
                          str(nsup / "add-canary.txt")])),
    ]


def _iperf3(env: Env, f: Fixtures) -> list[ToolCase]:
    slow = full_backlog_port(env)
    return [
        ("iperf3_refused", "network", "Connection refused",
         ["iperf3", "-c", "127.0.0.1", "-p", str(env.closed_port), "-t", "5"]),
        ("iperf3_busy", "service", "busy", ["iperf3", "-c", "127.0.0.1", "-p", str(f.iperf_busy_port), "-t", "5"]),
        ("iperf3_auth_failed", "auth", "authorization failed",
         f"IPERF3_PASSWORD='Perf-Lab-2025' iperf3 -c 127.0.0.1 -p {f.iperf_auth_port} -t 2 --username ci-runner "
         f"--rsa-public-key-path {f.iperf_pub}"),
        ("iperf3_connect_timeout", "network", "timed out|timeout",
         ["iperf3", "-c", "127.0.0.1", "-p", str(slow), "--connect-timeout", "2000", "-t", "5"]),
        ("iperf3_missing_file", "filesystem", "No such file|unable to open",
         ["iperf3", "-c", "127.0.0.1", "-p", str(f.iperf_plain_port), "-F",
          str(f.root / "payloads" / "firmware-3.2.bin")]),
    ]


def _ldap(env: Env, f: Fixtures) -> list[tuple[str, ToolCase]]:
    uri = f"ldap://127.0.0.1:{f.ldap_port}"
    ldif = f.root / "ldap"
    ldif.mkdir(exist_ok=True)
    (ldif / "new-hire.ldif").write_text(
        f"dn: uid=ndavolio,ou=people,{BASE_DN}\nobjectClass: inetOrgPerson\nuid: ndavolio\ncn: Nancy Davolio\n"
        "sn: Davolio\nmail: ndavolio@northwind.internal\n")
    (ldif / "contractor.ldif").write_text(
        f"dn: uid=rking,ou=people,{BASE_DN}\nobjectClass: inetOrgPerson\nuid: rking\ncn: Robert King\n"
        "mail: rking@northwind.internal\n")
    (ldif / "badattr.ldif").write_text(
        f"dn: uid=lcallahan,ou=people,{BASE_DN}\nobjectClass: inetOrgPerson\nuid: lcallahan\ncn: Laura Callahan\n"
        "sn: Callahan\nemployeeStartDate: 2026-12-01\n")
    (ldif / "broken.ldif").write_text(
        f"dn: uid=adodsworth,ou=people,{BASE_DN}\nobjectClass inetOrgPerson\nuid: adodsworth\n")
    admin = ["-x", "-H", uri, "-D", ADMIN_DN, "-w", ADMIN_PW]
    user = ["-x", "-H", uri, "-D", f"uid=jleverling,ou=people,{BASE_DN}", "-w", "jleverling-pw-2026"]
    return [
        ("ldapsearch115", ("ldapsearch_invalid_credentials", "auth", "Invalid credentials",
                           ["ldapsearch", "-x", "-H", uri, "-D", f"uid=afuller,ou=people,{BASE_DN}", "-w",
                            "afuller-pw-2025", "-b", BASE_DN, "(uid=afuller)"])),
        ("ldapsearch115", ("ldapsearch_refused", "network", "Can't contact",
                           ["ldapsearch", "-x", "-H", f"ldap://127.0.0.1:{env.closed_port}", "-b", BASE_DN,
                            "(mail=*)"])),
        ("ldapsearch115", ("ldapsearch_timeout", "network", "Can't contact|timeout|timed out",
                           ["ldapsearch", "-x", "-o", "nettimeout=2", "-H", f"ldap://127.0.0.1:{full_backlog_port(env)}",
                            "-b", BASE_DN, "(uid=afuller)"])),
        ("ldapsearch115", ("ldapsearch_bad_filter", "validation", "Bad search filter",
                           ["ldapsearch", *admin, "-b", f"ou=people,{BASE_DN}", "(&(objectClass=inetOrgPerson)"
                            "(mail=*@northwind.internal)"])),
        ("ldapsearch115", ("ldapsearch_size_limit", "resource", "Size limit exceeded",
                           ["ldapsearch", *user, "-b", f"ou=people,{BASE_DN}", "(objectClass=inetOrgPerson)", "mail"])),
        ("ldapadd115", ("ldapadd_anonymous", "auth", "authentication required|Insufficient access",
                        ["ldapadd", "-x", "-H", uri, "-f", str(ldif / "new-hire.ldif")])),
        ("ldapadd115", ("ldapadd_insufficient_access", "auth", "Insufficient access",
                        ["ldapadd", *user, "-f", str(ldif / "new-hire.ldif")])),
        ("ldapadd115", ("ldapadd_missing_sn", "validation", "Object class violation",
                        ["ldapadd", *admin, "-f", str(ldif / "contractor.ldif")])),
        ("ldapadd115", ("ldapadd_undefined_attribute", "validation", "Undefined attribute|attribute type undefined",
                        ["ldapadd", *admin, "-f", str(ldif / "badattr.ldif")])),
        ("ldapadd115", ("ldapadd_missing_ldif", "filesystem", "No such file",
                        ["ldapadd", *admin, "-f", str(ldif / "batch-2026-12.ldif")])),
    ]


def _nc(env: Env) -> list[ToolCase]:
    slow = full_backlog_port(env)
    return [
        ("nc_refused", "network", "refused", ["nc", "-z", "-v", "-w", "2", "127.0.0.1", str(env.closed_port)]),
        ("nc_timeout", "network", "timed out|in progress", ["nc", "-z", "-v", "-w", "2", "127.0.0.1", str(slow)]),
    ]


def blind115_records(env: Env) -> list[Record]:
    f = prepare(env)
    out: list[Record] = []
    for source, cases in [("xmlstarlet115", _xmlstarlet(f)), ("mlr115", _mlr(f)), ("datamash115", _datamash(f)),
                          ("yq115", _yq(f)), ("7z115", _7z(f)), ("zstd115", _zstd(f)), ("xz115", _xz(f)),
                          ("aria2c115", _aria2c(env, f)), ("iperf3115", _iperf3(env, f)), ("nc115", _nc(env))]:
        out += tool_records(cases, source, f.root, timeout=60)
    for source, case in _dns(env, f) + _ldap(env, f):
        out += tool_records([case], source, f.root, timeout=60)
    return out


if __name__ == "__main__":
    write_batch(blind115_records)


__all__ = ["BLIND115_SOURCES", "blind115_records"]
