"""Private web servers and proxies of batch 53, each with its own root in a temp dir and a free loopback port:
Apache httpd (own ServerRoot, DocumentRoot and htpasswd), HAProxy (logging to stderr, health checks against the
local corpus servers), Squid (a forward proxy with basic auth and a deny list) and Caddy (admin endpoint off,
storage in the temp dir). The system services of these packages are never touched; everything is stopped and
removed by ``Env.close()``."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from blind50_support import LogTail, open_dir, spawn, wait_port
from checked import problem
from common import Env, free_port, run

APACHE_MODULES = Path("/usr/lib/apache2/modules")


def get(port: int, path: str, auth: tuple[str, str] | None = None) -> int:
    """One GET to a local server; the status, or 0 when the request itself failed."""
    import base64

    headers = {}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()


# --------------------------------------------------------------------------- Apache httpd

APACHE_BASE = """ServerRoot {root}
ServerName shop53.internal
PidFile {root}/logs/httpd.pid
Mutex file:{root}/logs
User www-data
Group www-data
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule authz_host_module {mods}/mod_authz_host.so
LoadModule authz_user_module {mods}/mod_authz_user.so
LoadModule authn_core_module {mods}/mod_authn_core.so
LoadModule authn_file_module {mods}/mod_authn_file.so
LoadModule auth_basic_module {mods}/mod_auth_basic.so
LoadModule proxy_module {mods}/mod_proxy.so
LoadModule proxy_http_module {mods}/mod_proxy_http.so
LoadModule mime_module {mods}/mod_mime.so
TypesConfig /etc/mime.types
"""

APACHE_SITE = """Listen 127.0.0.1:{port}
ErrorLog {root}/logs/error.log
LogLevel warn core:info authz_core:info
DocumentRoot {root}/htdocs
<Directory {root}/htdocs>
    Require all granted
</Directory>
ProxyPass /api/ http://127.0.0.1:{closed}/
ProxyPass /reports/ http://127.0.0.1:{hang}/ timeout=1
ProxyPass /events/ http://127.0.0.1:{reset}/
<Location /admin/>
    Require ip 10.0.0.0/8
</Location>
<Location /ops/>
    AuthType Basic
    AuthName "ops"
    AuthUserFile {root}/conf/htpasswd
    Require valid-user
</Location>
<Location /billing/>
    AuthType Basic
    AuthName "billing"
    AuthUserFile {root}/conf/billing.htpasswd
    Require valid-user
</Location>
"""

#: config-test cases: name -> lines appended to the base config
APACHE_BROKEN = {
    "apache_config_typo": "Listen 127.0.0.1:{port}\nProxyPas /api/ http://127.0.0.1:8080/\n",
    "apache_config_listen_port": "Listen 127.0.0.1:80a\n",
    "apache_config_include_missing": "Listen 127.0.0.1:{port}\nInclude {root}/conf/sites-enabled/shop53.conf\n",
    "apache_config_ssl_cert_missing": ("LoadModule ssl_module {mods}/mod_ssl.so\nLoadModule socache_shmcb_module "
                                       "{mods}/mod_socache_shmcb.so\nListen 127.0.0.1:{port}\n"
                                       "<VirtualHost 127.0.0.1:{port}>\n    SSLEngine on\n"
                                       "    SSLCertificateFile {root}/conf/tls/shop53.crt\n"
                                       "    SSLCertificateKeyFile {root}/conf/tls/shop53.key\n</VirtualHost>\n"),
}


@dataclass
class Apache:
    root: Path
    port: int
    log: LogTail

    def conf(self, name: str) -> Path:
        return self.root / "conf" / f"{name}.conf"


def apache_root(env: Env) -> Apache:
    """The private ServerRoot: config files for the running site and for each broken config test."""
    root = open_dir("recoup-b53-apache-", env)
    for sub in ("conf", "logs", "htdocs"):
        (root / sub).mkdir()
        (root / sub).chmod(0o755)
    port = free_port()
    fields = {"root": str(root), "mods": str(APACHE_MODULES), "port": str(port), "closed": str(env.closed_port),
              "hang": str(env.hang_port), "reset": str(env.reset_port)}
    base = APACHE_BASE.format(**fields)
    (root / "conf" / "httpd.conf").write_text(base + APACHE_SITE.format(**fields))
    for name, extra in APACHE_BROKEN.items():
        (root / "conf" / f"{name}.conf").write_text(base + extra.format(**fields))
    run(["htpasswd", "-bc", str(root / "conf" / "htpasswd"), "ops", "right-password"])
    (root / "conf" / "htpasswd").chmod(0o644)
    secret = root / "htdocs" / "payroll.html"
    secret.write_text("<h1>payroll</h1>\n")
    secret.chmod(0o600)
    (root / "htdocs" / "index.html").write_text("ok\n")
    return Apache(root, port, LogTail(root / "logs" / "error.log"))


def start_apache(env: Env, apache: Apache) -> bool:
    spawn(env, ["apache2", "-f", str(apache.root / "conf" / "httpd.conf"), "-D", "FOREGROUND"],
          log=apache.root / "logs" / "stdout.log")
    if not wait_port(apache.port):
        problem("apache", "private httpd did not start")
        return False
    return True


# --------------------------------------------------------------------------- HAProxy

HAPROXY_CONF = """global
    log stderr format raw local0 info
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 1s
frontend shop53
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 60s store http_req_rate(10s)
    http-request track-sc0 src if {{ path_beg /search }}
    http-request deny deny_status 429 if {{ path_beg /search }} {{ sc_http_req_rate(0) gt 1 }}
    use_backend orders53 if {{ path_beg /orders }}
    use_backend inventory53 if {{ path_beg /inventory }}
    use_backend reports53 if {{ path_beg /reports }}
    default_backend web53
backend orders53
    server orders1 127.0.0.1:{closed} check inter 500 fall 1
backend inventory53
    option httpchk GET /status/503
    server inventory1 127.0.0.1:{http} check inter 500 fall 1
backend reports53
    option httpchk GET /health
    server reports1 127.0.0.1:{hang} check inter 500 fall 1
backend web53
    server web1 127.0.0.1:{http}
"""

HAPROXY_BROKEN = {
    "haproxy_config_keyword_typo": ("frontend shop53\n    mode http\n    bind 127.0.0.1:{port}\n"
                                    "    defualt_backend web53\nbackend web53\n    mode http\n"
                                    "    server web1 127.0.0.1:{http}\n"),
    "haproxy_config_timeout_unit": ("defaults\n    mode http\n    timeout client 30x\nfrontend shop53\n"
                                    "    bind 127.0.0.1:{port}\n    default_backend web53\nbackend web53\n"
                                    "    server web1 127.0.0.1:{http}\n"),
    "haproxy_config_cert_missing": ("frontend shop53\n    mode http\n    bind 127.0.0.1:{port} ssl crt "
                                    "{root}/certs/shop53.pem\n    default_backend web53\nbackend web53\n"
                                    "    mode http\n    server web1 127.0.0.1:{http}\n"),
    "haproxy_config_errorfile_missing": ("frontend shop53\n    mode http\n    bind 127.0.0.1:{port}\n"
                                         "    default_backend web53\nbackend web53\n    mode http\n"
                                         "    errorfile 503 {root}/errors/503.http\n"
                                         "    server web1 127.0.0.1:{http}\n"),
}


@dataclass
class HAProxy:
    root: Path
    port: int
    log: LogTail


def haproxy_root(env: Env) -> HAProxy:
    root = open_dir("recoup-b53-haproxy-", env)
    port = free_port()
    fields = {"root": str(root), "port": str(port), "closed": str(env.closed_port), "http": str(env.http_port),
              "hang": str(env.hang_port)}
    (root / "haproxy.cfg").write_text(HAPROXY_CONF.format(**fields))
    for name, text in HAPROXY_BROKEN.items():
        (root / f"{name}.cfg").write_text(text.format(**fields))
    return HAProxy(root, port, LogTail(root / "haproxy.log"))


def start_haproxy(env: Env, haproxy: HAProxy) -> bool:
    spawn(env, ["haproxy", "-db", "-f", str(haproxy.root / "haproxy.cfg")], log=haproxy.root / "haproxy.log")
    if not wait_port(haproxy.port):
        problem("haproxy", "private haproxy did not start")
        return False
    return True


# --------------------------------------------------------------------------- Squid

SQUID_CONF = """http_port 127.0.0.1:{port}
pid_filename {root}/squid.pid
cache_log {root}/cache.log
access_log stdio:{root}/access.log
coredump_dir {root}
cache deny all
shutdown_lifetime 0 seconds
acl blocked dstdomain .pastebin53.invalid
acl ssl_ports port 443
acl CONNECT method CONNECT
http_access deny blocked
auth_param basic program /usr/lib/squid/basic_ncsa_auth {root}/passwd
auth_param basic realm egress53
acl authed proxy_auth REQUIRED
acl vendor dstdomain .vendor53.invalid
http_access allow vendor authed
http_access deny vendor
http_access deny CONNECT !ssl_ports
http_access allow localhost
http_access deny all
"""

SQUID_BROKEN = {
    "squid_parse_directive_typo": "http_acess allow localhost\n",
    "squid_parse_bad_acl": "acl office src 10.0.0.300/8\n",
    "squid_parse_include_missing": "include {root}/conf.d/egress-allowlist.conf\n",
    "squid_parse_tls_cert_missing": "https_port 127.0.0.1:{tls_port} tls-cert={root}/tls/proxy53.pem\n",
}


@dataclass
class Squid:
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def squid_root(env: Env) -> Squid:
    root = open_dir("recoup-b53-squid-", env)
    shutil.chown(root, "proxy", "proxy")
    port = free_port()
    fields = {"root": str(root), "port": str(port), "tls_port": str(free_port())}
    conf = SQUID_CONF.format(**fields)
    (root / "squid.conf").write_text(conf)
    for name, extra in SQUID_BROKEN.items():
        (root / f"{name}.conf").write_text(conf + extra.format(**fields))
    hashed = run(["openssl", "passwd", "-apr1", "right-password"]).stdout.strip()
    (root / "passwd").write_text(f"ci:{hashed}\n")
    (root / "passwd").chmod(0o644)
    return Squid(root, port)


def start_squid(env: Env, squid: Squid) -> bool:
    spawn(env, ["squid", "-N", "-f", str(squid.root / "squid.conf"), "-n", "recoup53"],
          log=squid.root / "stdout.log")
    if not wait_port(squid.port, timeout=20):
        problem("squid", "private squid did not start")
        return False
    return True


# --------------------------------------------------------------------------- Caddy

CADDYFILE = """{{
\tadmin off
\tauto_https off
}}
http://127.0.0.1:{port} {{
\thandle /api/* {{
\t\treverse_proxy 127.0.0.1:{closed}
\t}}
\thandle /reports/* {{
\t\treverse_proxy 127.0.0.1:{hang} {{
\t\t\ttransport http {{
\t\t\t\tresponse_header_timeout 1s
\t\t\t}}
\t\t}}
\t}}
\thandle /events/* {{
\t\treverse_proxy 127.0.0.1:{reset}
\t}}
\thandle /inventory/* {{
\t\treverse_proxy 127.0.0.1:{http} {{
\t\t\thealth_uri /status/503
\t\t\thealth_interval 300ms
\t\t}}
\t}}
\thandle {{
\t\trespond "ok"
\t}}
}}
"""

CADDY_BROKEN = {
    "caddy_validate_subdirective": ("{{\n\tadmin off\n}}\nhttp://127.0.0.1:{port} {{\n\treverse_proxy /api/* "
                                    "127.0.0.1:{http} {{\n\t\tlb_policy round_robin\n\t\n\tfile_server\n}}\n"),
    "caddy_validate_duration": ("{{\n\tadmin off\n}}\nhttp://127.0.0.1:{port} {{\n\treverse_proxy 127.0.0.1:{http} "
                                "{{\n\t\thealth_interval 5\n\t}}\n}}\n"),
    "caddy_validate_import_missing": ("{{\n\tadmin off\n}}\nhttp://127.0.0.1:{port} {{\n\timport "
                                      "{root}/snippets/security-headers.caddy\n\trespond \"ok\"\n}}\n"),
    "caddy_validate_cert_missing": ("{{\n\tadmin off\n}}\nhttps://127.0.0.1:{port} {{\n\ttls {root}/tls/shop53.crt "
                                    "{root}/tls/shop53.key\n\trespond \"ok\"\n}}\n"),
}

CADDY_JSON_TYPE = ('{{"admin": {{"disabled": true}}, "apps": {{"http": {{"servers": {{"shop53": {{"listen": '
                   '["127.0.0.1:{port}"], "routes": [{{"handle": [{{"handler": "reverse_proxy", "upstreams": '
                   '"127.0.0.1:{http}"}}]}}]}}}}}}}}}}\n')


@dataclass
class Caddy:
    root: Path
    port: int
    log: LogTail

    @property
    def env(self) -> dict[str, str]:
        return {"HOME": str(self.root), "XDG_DATA_HOME": str(self.root / "data"),
                "XDG_CONFIG_HOME": str(self.root / "config")}


def caddy_root(env: Env) -> Caddy:
    root = open_dir("recoup-b53-caddy-", env)
    port = free_port()
    fields = {"root": str(root), "port": str(port), "closed": str(env.closed_port), "hang": str(env.hang_port),
              "reset": str(env.reset_port), "http": str(env.http_port)}
    (root / "Caddyfile").write_text(CADDYFILE.format(**fields))
    for name, text in CADDY_BROKEN.items():
        (root / name).write_text(text.format(**fields))
    (root / "caddy53.json").write_text(CADDY_JSON_TYPE.format(**fields))
    return Caddy(root, port, LogTail(root / "caddy.log"))


def start_caddy(env: Env, caddy: Caddy) -> bool:
    spawn(env, ["caddy", "run", "--config", str(caddy.root / "Caddyfile"), "--adapter", "caddyfile"],
          log=caddy.root / "caddy.log", cwd=caddy.root, extra_env=caddy.env)
    if not wait_port(caddy.port):
        problem("caddy", "private caddy did not start")
        return False
    return True


def caddy_validate(caddy: Caddy, config: str, adapter: bool = True) -> subprocess.CompletedProcess[str]:
    argv = ["caddy", "validate", "--config", str(caddy.root / config)]
    if adapter:
        argv += ["--adapter", "caddyfile"]
    return run(argv, cwd=caddy.root, env=caddy.env, timeout=30)


def installed(tool: str) -> bool:
    if shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}"):
        return True
    problem(tool, "not installed, its cases skipped")
    return False


__all__ = ["APACHE_BROKEN", "CADDY_BROKEN", "HAPROXY_BROKEN", "SQUID_BROKEN", "Apache", "Caddy", "HAProxy", "Squid",
           "apache_root", "caddy_root", "caddy_validate", "get", "haproxy_root", "installed", "squid_root",
           "start_apache", "start_caddy", "start_haproxy", "start_squid"]
