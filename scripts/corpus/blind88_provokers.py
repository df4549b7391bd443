"""Eighty-eighth batch of blind provokers: configuration checkers and admin tools that validate files before a
deploy, every file in the batch directory (blind88_support), never the system's own configuration. visudo -c on
a syntax error, a misspelt Defaults entry, an undefined alias, a missing @include and a file root alone may read;
sudo -n refusing a user without a password, a -D the policy does not permit, a command that is not there; sshd -t
on a misspelt option and a bad port, a missing and a world-readable host key, no privilege separation directory,
then a real sshd on a taken port, and ssh refused a key, a closed port and a silent one; nginx -t on an unknown
directive, a syntax error, a missing include, an unresolvable upstream and an error log on a read-only mount,
then real nginx on a taken port and behind it a refused, a hanging and an unavailable upstream, basic auth and
limit_req; haproxy -c on an unknown keyword, a missing certificate, an unresolvable server and Lua code with a
syntax and a runtime error, then real haproxy on a taken port, with no server up and with http auth;
named-checkconf and named-checkzone on syntax, a bad address, CNAME and other data, a missing include and a full
output mount, rndc to a closed port; postconf, postmap; systemd-analyze verify; nft -c; apache2 -t and a real
start on a taken port; monit -t and monit status; and crossplane (nginx configuration parsing in Python) with
the calling code's own errors."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from blind80_support import project, read_only_mount
from blind88_support import (
    HAPROXY_HEAD,
    PRIVATE_RUN,
    full_mount_with,
    host_key,
    nginx_conf,
    rndc_conf,
    serve_haproxy,
    serve_nginx,
    serve_sshd,
    stop,
)
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND88_SOURCES = frozenset({"visudo88", "sudo88", "sshd88", "nginx88", "haproxy88", "bind88", "postfix88",
                             "systemd88", "nft88", "apache88", "monit88", "crossplane88"})

AS_NOBODY = "runuser -u nobody --"

# --------------------------------------------------------------------------- sudo / visudo

SUDOERS = {
    "syntax": "root ALL=(ALL:ALL) ALL\ndeploy ALL=(ALL) NOPASSWD /usr/bin/systemctl restart app88\n",
    "defaults": 'Defaults env_reset\nDefaults secure_pathh="/usr/local/bin:/usr/bin:/bin"\nroot ALL=(ALL:ALL) ALL\n',
    "alias": "root ALL=(ALL:ALL) ALL\n%ops ALL=(ALL) NOPASSWD: OPS_CMDS\n",
    "include": "root ALL=(ALL:ALL) ALL\n@include @T@/sudo/sudoers.d/deploy88\n",
    "private": "root ALL=(ALL:ALL) ALL\n",
}


def _sudo_tools() -> list[ToolCase]:
    return [
        ("visudo_syntax_error", "validation", "syntax error", "visudo -c -f @T@/sudo/syntax"),
        ("visudo_unknown_defaults", "validation", "unknown defaults", "visudo -c -f @T@/sudo/defaults"),
        ("visudo_alias_undefined", "validation", "not defined", "visudo -c -s -f @T@/sudo/alias"),
        ("visudo_include_missing", "filesystem", "No such file", "visudo -c -f @T@/sudo/include"),
        ("visudo_unreadable", "filesystem", "Permission denied", f"{AS_NOBODY} visudo -c -f @T@/sudo/private"),
    ]


def _sudo_run_tools() -> list[ToolCase]:
    return [
        ("sudo_password_required", "auth", "password is required", f"{AS_NOBODY} sudo -n /usr/bin/true"),
        ("sudo_chdir_not_permitted", "auth", "not permitted", "sudo -n -D @T@/sudo -u postgres /usr/bin/true"),
        ("sudo_command_not_found", "filesystem", "command not found",
         "sudo -n -u postgres /opt/deploy88/bin/migrate --check"),
    ]


# --------------------------------------------------------------------------- sshd / ssh

SSHD = "HostKey @T@/ssh/host_ed25519\n"
SSHD_FILES = {
    "sshd_option": SSHD + "PermitRootLogn no\n",
    "sshd_port": "Port 22x\n" + SSHD,
    "sshd_nokey": "HostKey @T@/ssh/keys/ssh_host_ed25519_key\n",
    "sshd_openkey": "HostKey @T@/ssh/open_ed25519\n",
    "sshd_plain": SSHD,
}
SSH = ("ssh -F none -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
       "-o IdentitiesOnly=yes -o ConnectTimeout=3 -i @T@/ssh/client_ed25519")
PRIV = " ".join(PRIVATE_RUN[:4]) + " '" + PRIVATE_RUN[4] + "' sh"


def _sshd_tools() -> list[ToolCase]:
    return [
        ("sshd_bad_option", "validation", "Bad configuration option", f"{PRIV} sshd -t -f @T@/ssh/sshd_option"),
        ("sshd_bad_port", "validation", "port", f"{PRIV} sshd -t -f @T@/ssh/sshd_port"),
        ("sshd_host_key_missing", "filesystem", "no hostkeys", f"{PRIV} sshd -t -f @T@/ssh/sshd_nokey"),
        ("sshd_host_key_too_open", "filesystem", "too open", f"{PRIV} sshd -t -f @T@/ssh/sshd_openkey"),
        ("sshd_privsep_dir_missing", "filesystem", "privilege separation directory",
         "unshare -m sh -c 'mount -t tmpfs tmpfs /run && exec sshd -t -f @T@/ssh/sshd_plain'"),
        ("sshd_port_in_use", "resource", "Address already in use",
         f"timeout 10 {PRIV} /usr/sbin/sshd -D -e -f @T@/ssh/sshd_plain -o ListenAddress=127.0.0.1:@HTTPPORT@"),
        ("ssh_publickey_denied", "auth", "Permission denied", f"{SSH} -p @SSHPORT@ root@127.0.0.1 true"),
        ("ssh_connection_refused", "network", "refused", f"{SSH} -p @CLOSED@ root@127.0.0.1 true"),
        ("ssh_banner_timeout", "network", "timed out", f"{SSH} -p @HANG@ root@127.0.0.1 true"),
    ]


# --------------------------------------------------------------------------- nginx

NGINX_BODIES = {
    "unknown.conf": "server { listen 127.0.0.1:18088; location / { proxy_pas http://127.0.0.1:9; } }",
    "syntax.conf": "server { listen 127.0.0.1:18088; location /health { return 200 } }",
    "include.conf": "include conf.d/*.conf;\ninclude sites-enabled/app88.conf;",
    "upstream.conf": "server { listen 127.0.0.1:18088; location / { proxy_pass http://backend88.invalid:8080; } }",
}
NGINX_T = "nginx -t -p @T@/nginx/ -e @T@/nginx/logs/error.log -c @T@/nginx/{0}"
CURL = "curl -sS --max-time 10 --fail-with-body {0} 2>&1"

NGINX_SERVE = """    limit_req_zone $binary_remote_addr zone=search88:1m rate=1r/m;
    server {
        listen LISTEN;
        location /api/ { proxy_pass http://127.0.0.1:@CLOSED@; }
        location /billing/ { proxy_pass http://127.0.0.1:@HTTPPORT@/status/503; }
        location /reports/ { proxy_pass http://127.0.0.1:@HANG@; proxy_read_timeout 1s; }
        location /admin/ { auth_basic "ops88"; auth_basic_user_file @T@/nginx/htpasswd; root @T@/www; }
        location /search { limit_req zone=search88; limit_req_status 429; root @T@/www; try_files /index.html =404; }
    }"""


def _nginx_tools() -> list[ToolCase]:
    return [
        ("nginx_unknown_directive", "validation", "unknown directive", NGINX_T.format("unknown.conf")),
        ("nginx_syntax_error", "validation", "unexpected", NGINX_T.format("syntax.conf")),
        ("nginx_include_missing", "filesystem", "No such file", NGINX_T.format("include.conf")),
        ("nginx_upstream_unresolvable", "network", "host not found", NGINX_T.format("upstream.conf")),
        ("nginx_error_log_read_only", "filesystem", "Read-only",
         "nginx -t -p @T@/nginx/ -e @T@/nginx/logs/error.log -c @T@/nginx/rolog.conf"),
        ("nginx_port_in_use", "resource", "Address already in use",
         "timeout 20 nginx -p @T@/nginx/ -e @T@/nginx/logs/error.log -c @T@/nginx/inuse.conf "
         "-g 'daemon off; master_process off;'"),
        ("nginx_bad_gateway", "service", "502", CURL.format("http://127.0.0.1:@NGINX@/api/orders")),
        ("nginx_gateway_timeout", "service", "504", CURL.format("http://127.0.0.1:@NGINX@/reports/q3")),
        ("nginx_upstream_unavailable", "service", "503", CURL.format("http://127.0.0.1:@NGINX@/billing/")),
        ("nginx_basic_auth", "auth", "401", CURL.format("-u ops:wrong88 http://127.0.0.1:@NGINX@/admin/")),
        ("nginx_rate_limited", "resource", "429",
         "curl -sS -o /dev/null http://127.0.0.1:@NGINX@/search?q=a; " + CURL.format("http://127.0.0.1:@NGINX@/search?q=b")),
    ]


# --------------------------------------------------------------------------- haproxy

BACKEND = "backend be\n    server s1 127.0.0.1:9\n"
HAPROXY_FILES = {
    "unknown.cfg": "frontend fe\n    bind 127.0.0.1:18089\n    default_backnd be\n" + BACKEND,
    "crt.cfg": ("frontend fe\n    bind 127.0.0.1:18443 ssl crt @T@/haproxy/certs/site88.pem\n    default_backend be\n"
                "backend be\n    server s1 127.0.0.1:9\n"),
    "dns.cfg": "frontend fe\n    bind 127.0.0.1:18089\n    default_backend be\nbackend be\n"
               "    server s1 api88.invalid:8080\n",
    "luasyntax.cfg": "global\n    lua-load @T@/haproxy/tag88.lua\n",
    "luanil.cfg": "global\n    lua-load @T@/haproxy/route88.lua\n",
    "inuse.cfg": "frontend fe\n    bind 127.0.0.1:@HTTPPORT@\n    default_backend be\n" + BACKEND,
}
HAPROXY_LUA: dict[str, str | bytes] = {
    "tag88.lua": ('core.register_action("tag88", { "http-req" }, function(txn)\n'
                  '  txn.set_var(txn, "req.tag", "x")\nend\n'),
    "route88.lua": 'core.regster_action("route88", { "http-req" }, function(txn) end)\n',
}
HAPROXY_SERVE = """userlist ops88
    user admin insecure-password secret88
frontend fe
    bind LISTEN
    http-request auth realm ops88 if { path_beg /admin } !{ http_auth(ops88) }
    default_backend app
backend app
    server a1 127.0.0.1:@CLOSED@ check inter 500ms fall 1
"""


def _haproxy_tools() -> list[ToolCase]:
    check = "haproxy -c -f @T@/haproxy/{0}"
    return [
        ("haproxy_unknown_keyword", "validation", "unknown keyword", check.format("unknown.cfg")),
        ("haproxy_certificate_missing", "filesystem", "No such file", check.format("crt.cfg")),
        ("haproxy_server_unresolvable", "network", "could not resolve", check.format("dns.cfg")),
        ("haproxy_lua_syntax_error", "programming", "expected", check.format("luasyntax.cfg")),
        ("haproxy_lua_nil_call", "programming", "nil value", check.format("luanil.cfg")),
        ("haproxy_port_in_use", "resource", "Address already in use",
         "timeout 10 haproxy -db -f @T@/haproxy/inuse.cfg"),
        ("haproxy_no_server", "service", "503", CURL.format("http://127.0.0.1:@HAPROXY@/orders")),
        ("haproxy_http_auth", "auth", "401", CURL.format("-u admin:wrong88 http://127.0.0.1:@HAPROXY@/admin/stats")),
    ]


# --------------------------------------------------------------------------- BIND

ZONE = """$TTL 3600
@   IN SOA ns1.example88.test. hostmaster.example88.test. ( 2026112901 7200 3600 1209600 300 )
@   IN NS  ns1.example88.test.
ns1 IN A   127.0.0.1
"""
BIND_FILES = {
    "syntax.conf": 'options {\n    directory "@T@/bind";\n    recursion no\n};\n',
    "include.conf": 'include "@T@/bind/keys/tsig88.key";\noptions {\n    directory "@T@/bind";\n};\n',
    "address.zone": ZONE + "www IN A   10.0.0.300\n",
    "cname.zone": ZONE + "www IN CNAME web\nwww IN A   127.0.0.2\n",
    "ok.zone": ZONE + "www IN A   127.0.0.2\n",
}


def _bind_tools() -> list[ToolCase]:
    return [
        ("named_checkconf_syntax", "validation", "missing ';'", "named-checkconf @T@/bind/syntax.conf"),
        ("named_checkconf_include_missing", "filesystem", "file not found", "named-checkconf @T@/bind/include.conf"),
        ("named_checkzone_bad_address", "validation", "bad dotted quad",
         "named-checkzone example88.test @T@/bind/address.zone"),
        ("named_checkzone_cname_other_data", "validation", "CNAME and other data",
         "named-checkzone example88.test @T@/bind/cname.zone"),
        ("named_compilezone_full", "resource", "disc full|no space",
         "named-compilezone -o @FULL@/example88.test.db example88.test @T@/bind/ok.zone"),
        ("rndc_connection_refused", "network", "connection refused", "rndc -c @T@/rndc/rndc88.conf status"),
    ]


# --------------------------------------------------------------------------- postfix, systemd, nft, apache, monit


def _postfix_tools() -> list[ToolCase]:
    return [
        ("postconf_missing_equals", "validation", "missing '='", "postconf -c @T@/postfix -n"),
        ("postmap_source_missing", "filesystem", "No such file", "postmap hash:@T@/postfix/transport"),
        ("postmap_unsupported_type", "validation", "unsupported dictionary type",
         "postmap -q alice@example88.test cdb88:@T@/postfix/virtual"),
        ("postmap_disk_full", "resource", "space", "postmap hash:@FULL@/virtual"),
    ]


UNITS: dict[str, str | bytes] = {
    "app88.service": "[Unit]\nDescription=App 88\n[Service]\nExecStart=/opt/app88/bin/server --port 8088\n"
                     "[Install]\nWantedBy=multi-user.target\n",
    "worker88.service": "[Unit]\nDescription=Worker 88\n[Service]\nType=simple\nUser=nobody\n",
    "backup88.timer": "[Unit]\nDescription=Backup 88\n[Timer]\nOnCalendar=Mon..Fri 25:00\n",
}


def _systemd_tools() -> list[ToolCase]:
    return [
        ("systemd_verify_exec_missing", "filesystem", "No such file",
         "systemd-analyze verify @T@/systemd/app88.service"),
        ("systemd_verify_no_exec_start", "validation", "has no ExecStart",
         "systemd-analyze verify @T@/systemd/worker88.service"),
        ("systemd_calendar_invalid", "validation", "Failed to parse calendar",
         "systemd-analyze verify @T@/systemd/backup88.timer"),
    ]


NFT_FILES = {
    "syntax.nft": "table inet filter88 {\n  chain input {\n    type filter hook input priority 0;\n"
                  "    tcp dport { 22, 443 accept\n  }\n}\n",
    "include.nft": 'include "@T@/nft/rules.d/blocklist88.nft"\n',
    "ok.nft": "table inet filter88 {\n  chain input {\n    type filter hook input priority 0;\n"
              "    tcp dport 22 accept;\n"
              "  }\n}\n",
}


def _nft_tools() -> list[ToolCase]:
    return [
        ("nft_syntax_error", "validation", "syntax error", "nft -c -f @T@/nft/syntax.nft"),
        ("nft_include_missing", "filesystem", "not found", "nft -c -f @T@/nft/include.nft"),
        ("nft_unprivileged", "auth", "Operation not permitted", f"{AS_NOBODY} nft -c -f @T@/nft/ok.nft"),
    ]


APACHE_HEAD = """ServerRoot @T@/apache
ServerName localhost
PidFile @T@/apache/logs/httpd.pid
ErrorLog @T@/apache/logs/error.log
Mutex file:@T@/apache/logs
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
DocumentRoot @T@/apache/www
"""
APACHE_FILES = {
    "unknown.conf": APACHE_HEAD + "Listen 127.0.0.1:18090\nRewriteEngine On\n"
                                  "RewriteRule ^/old/(.*)$ /new/$1 [R=301,L]\n",
    "include.conf": APACHE_HEAD + "Listen 127.0.0.1:18090\nIncludeOptional conf.d/*.conf\n"
                                  "Include @T@/apache/sites-enabled/app88.conf\n",
    "cert.conf": APACHE_HEAD + "Listen 127.0.0.1:18090\n"
                               "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n"
                               "LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so\n"
                               "SSLEngine on\nSSLCertificateFile @T@/apache/certs/app88.pem\n",
    "inuse.conf": APACHE_HEAD + "Listen 127.0.0.1:@HTTPPORT@\n",
}


def _apache_tools() -> list[ToolCase]:
    return [
        ("apache_invalid_command", "validation", "Invalid command", "apache2 -t -f @T@/apache/unknown.conf"),
        ("apache_include_missing", "filesystem", "No such file", "apache2 -t -f @T@/apache/include.conf"),
        ("apache_certificate_missing", "filesystem", "does not exist", "apache2 -t -f @T@/apache/cert.conf"),
        ("apache_port_in_use", "resource", "Address already in use",
         "timeout 20 apache2 -X -f @T@/apache/inuse.conf"),
    ]


MONIT_HEAD = "set daemon 30\nset idfile @T@/monit/id\nset statefile @T@/monit/state\n"
MONIT_FILES = {
    "open.rc": MONIT_HEAD + "check process app88 with pidfile @T@/monit/app88.pid\n  start program = \"/bin/true\"\n",
    "syntax.rc": MONIT_HEAD + "check process app88 with pidfile @T@/monit/app88.pid\n"
                              "  if cpu > 80% for 5 cyles then restart\n",
    "client.rc": MONIT_HEAD + "set pidfile @T@/monit/live.pid\n"
                              "set httpd port @CLOSED@ and use address 127.0.0.1 allow admin:secret88\n",
    "daemon.rc": MONIT_HEAD + "set pidfile @T@/monit/daemon.pid\n"
                              "set httpd port @MONIT@ and use address 127.0.0.1 allow admin:secret88\n",
    "wrong.rc": MONIT_HEAD + "set pidfile @T@/monit/daemon.pid\n"
                             "set httpd port @MONIT@ and use address 127.0.0.1 allow admin:wrong88\n",
}


def _monit_tools() -> list[ToolCase]:
    return [
        ("monit_control_file_permissions", "filesystem", "permission", "monit -t -c @T@/monit/open.rc"),
        ("monit_syntax_error", "validation", "syntax error", "monit -t -c @T@/monit/syntax.rc"),
        ("monit_status_refused", "network", "refused", "monit -c @T@/monit/client.rc status"),
        ("monit_not_authorized", "auth", "not authorized", "monit -c @T@/monit/wrong.rc status"),
    ]


# --------------------------------------------------------------------------- crossplane (Python)


def _crossplane_cases(root: Path) -> list[PyCase]:
    import crossplane  # type: ignore[import-untyped]

    def reraise(exc: Exception) -> None:
        raise exc

    def parse(name: str, **kw: Any) -> Any:
        return crossplane.parse(str(root / name), onerror=reraise, catch_errors=False, **kw)

    def build_from_code() -> None:
        payload = [{"directive": "events", "args": [], "block": [{"directive": "worker_connections", "line": 2}]}]
        crossplane.build(payload)

    def subprocess_misuse() -> None:
        subprocess.run(["nginx", "-t", "-c", str(root / "syntax.conf")], capture_output=True,
                       stderr=subprocess.STDOUT, check=False)

    return [
        ("crossplane_syntax_error", "validation", "crossplane88", "NgxParserSyntaxError", lambda: parse("syntax.conf")),
        ("crossplane_unknown_directive", "validation", "crossplane88", "NgxParserDirectiveUnknownError",
         lambda: parse("unknown.conf", strict=True)),
        ("crossplane_include_missing", "filesystem", "crossplane88", "FileNotFoundError",
         lambda: parse("include.conf")),
        ("crossplane_build_missing_args", "programming", "crossplane88", "KeyError", build_from_code),
        ("crossplane_subprocess_misuse", "programming", "crossplane88", "ValueError", subprocess_misuse),
    ]


# --------------------------------------------------------------------------- batch


def _files(env: Env, fill: Any) -> None:
    root = env.tmp
    os.chmod(root, 0o711)  # nobody may reach the files it is meant to be refused, not list the directory
    project(root, "www", {"index.html": "ok\n", "admin/index.html": "ok\n"})
    project(root, "sudo", {k: fill(v) for k, v in SUDOERS.items()})
    for path in (root / "sudo").iterdir():
        path.chmod(0o600 if path.name == "private" else 0o644)
    (root / "sudo").chmod(0o755)
    ssh = project(root, "ssh", {k: fill(v) for k, v in SSHD_FILES.items()})
    host_key(ssh / "host_ed25519")
    host_key(ssh / "open_ed25519").chmod(0o644)
    host_key(ssh / "client_ed25519")
    host_key(ssh / "deploy_ed25519")
    (ssh / "authorized_keys").write_text((ssh / "deploy_ed25519.pub").read_text())
    ngx = root / "nginx"
    for name, body in NGINX_BODIES.items():
        nginx_conf(ngx, name, body)
    nginx_conf(ngx, "rolog.conf", "server { listen 127.0.0.1:18088; error_log " + fill("@RO@") + "/error.log; }")
    nginx_conf(ngx, "inuse.conf", fill("server { listen 127.0.0.1:@HTTPPORT@; location / { return 200; } }"))
    htpasswd = subprocess.run(["openssl", "passwd", "-apr1", "secret88"], capture_output=True, text=True, check=True)
    (ngx / "htpasswd").write_text(f"ops:{htpasswd.stdout.strip()}\n")
    (ngx / "htpasswd").chmod(0o644)
    project(root, "haproxy", {**{k: fill(HAPROXY_HEAD + v) for k, v in HAPROXY_FILES.items()}, **HAPROXY_LUA})
    project(root, "bind", {k: fill(v) for k, v in BIND_FILES.items()})
    project(root, "postfix", {"main.cf": "myhostname mx.example88.test\ninet_interfaces = loopback-only\n",
                              "master.cf": "", "virtual": "alice@example88.test alice\n"})
    project(root, "systemd", UNITS)
    project(root, "nft", {k: fill(v) for k, v in NFT_FILES.items()})
    (root / "nft" / "ok.nft").chmod(0o644)
    (root / "nft").chmod(0o755)
    project(root, "apache", {**{k: fill(v) for k, v in APACHE_FILES.items()}, "www/index.html": "ok\n"})
    (root / "apache" / "logs").mkdir()
    monit = project(root, "monit", {k: fill(v) for k, v in MONIT_FILES.items()})
    for path in monit.iterdir():
        path.chmod(0o644 if path.name == "open.rc" else 0o600)
    project(root, "crossplane", {
        "syntax.conf": "events {}\nhttp {\n    server {\n        listen 8088;\n    }\n",
        "unknown.conf": "events {}\nhttp {\n    server {\n        listn 8088;\n    }\n}\n",
        "include.conf": "events {}\nhttp {\n    include sites-enabled/app88.conf;\n}\n",
    })


def blind88_records(env: Env) -> list[Record]:
    marks: dict[str, str] = {"@T@": str(env.tmp), "@HTTPPORT@": str(env.http_port), "@CLOSED@": str(env.closed_port),
                             "@HANG@": str(env.hang_port)}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        marks["@MONIT@"] = str(probe.getsockname()[1])
    marks["@RO@"] = str(read_only_mount(env, "ro88", {"README": "read-only\n"}))

    def fill(text: str) -> str:
        for mark, value in marks.items():
            text = text.replace(mark, value)
        return text

    _files(env, fill)
    rndc_conf(env.tmp / "rndc", env.closed_port)
    marks["@FULL@"] = str(full_mount_with(env, "full88", {"virtual": "alice@example88.test alice\n"}))
    marks["@SSHPORT@"] = str(serve_sshd(env, env.tmp / "ssh"))
    marks["@NGINX@"] = str(serve_nginx(env, env.tmp / "nginx-serve", fill(NGINX_SERVE)))
    marks["@HAPROXY@"] = str(serve_haproxy(env, env.tmp / "haproxy-serve", fill(HAPROXY_SERVE)))
    (env.tmp / "monit" / "live.pid").write_text(f"{os.getpid()}\n")
    daemon = subprocess.Popen(["monit", "-I", "-c", str(env.tmp / "monit" / "daemon.rc")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    env._closers.append(lambda: stop(daemon))
    time.sleep(1.5)  # monit's http interface and the haproxy health check settle

    out: list[Record] = []
    for source, cases in (("visudo88", _sudo_tools()), ("sudo88", _sudo_run_tools()), ("sshd88", _sshd_tools()),
                          ("nginx88", _nginx_tools()), ("haproxy88", _haproxy_tools()), ("bind88", _bind_tools()),
                          ("postfix88", _postfix_tools()), ("systemd88", _systemd_tools()), ("nft88", _nft_tools()),
                          ("apache88", _apache_tools()), ("monit88", _monit_tools())):
        out += tool_records(cases, source, env.tmp, fill, timeout=40)
    out += python_records(_crossplane_cases(env.tmp / "crossplane"))
    return out


if __name__ == "__main__":
    write_batch(blind88_records)


__all__ = ["BLIND88_SOURCES", "blind88_records"]
