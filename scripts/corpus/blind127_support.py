"""Fixtures of the hundred-and-twenty-seventh batch: a deployment tree of web-server and proxy configuration files
(lighttpd, Varnish VCL, h2o YAML, uWSGI apps, stunnel, tinyproxy, privoxy), some broken on purpose, and private
instances of those servers on free loopback ports, started here in the foreground and stopped with the batch:
Varnish with backends that refuse, hang, reset or answer 503 to the health probe; lighttpd proxying to closed
ports with a missing document root and basic auth; h2o proxying to a closed and a hanging port; uWSGI workers
with defective handlers, a harakiri limit, a tiny listen queue and an address-space limit; tinyproxy with an ACL,
basic auth, a URL filter and two client slots; privoxy with a block rule and an ACL."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import Env, free_port
from servers import mount_tmpfs, tls_server


@dataclass
class Deploy:
    """Root of the batch's tree and the placeholders its cases fill in."""

    root: Path
    subs: dict[str, str] = field(default_factory=dict)


def _wait(port: int) -> None:
    for _ in range(150):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def _daemon(env: Env, argv: list[str], log: Path, port: int, stop: int = signal.SIGTERM) -> None:
    """Run a server in the foreground with its output in `log`; stop it (by its own pid) with the batch."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("ab")
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def close() -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(stop)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()

    env._closers.append(close)
    try:
        _wait(port)
    except RuntimeError as exc:
        raise RuntimeError(f"{argv[0]} did not start, see {log}") from exc


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- Varnish

_VCL_RUN = """vcl 4.1;

backend catalog_api { .host = "127.0.0.1"; .port = "@CLOSED@"; .connect_timeout = 2s; }
backend pricing { .host = "127.0.0.1"; .port = "@HANG@"; .first_byte_timeout = 2s; }
backend reviews { .host = "127.0.0.1"; .port = "@RESET@"; }
backend recommender {
    .host = "127.0.0.1";
    .port = "@HTTPPORT@";
    .probe = { .url = "/status/503"; .interval = 1s; .timeout = 1s; .window = 3; .threshold = 2; .initial = 0; }
}

sub vcl_recv {
    if (req.url ~ "^/prices/") {
        set req.backend_hint = pricing;
    } elsif (req.url ~ "^/reviews/") {
        set req.backend_hint = reviews;
    } elsif (req.url ~ "^/recommendations/") {
        set req.backend_hint = recommender;
    } else {
        set req.backend_hint = catalog_api;
    }
    return (pass);
}
"""

_VCL_BROKEN = {
    "missing-semicolon.vcl": """vcl 4.1;

backend shop_api {
    .host = "10.20.4.11";
    .port = "8081"
}

sub vcl_recv {
    set req.backend_hint = shop_api;
}
""",
    "undefined-backend.vcl": """vcl 4.1;

backend shop_api { .host = "10.20.4.11"; .port = "8081"; }

sub vcl_recv {
    if (req.url ~ "^/checkout") {
        set req.backend_hint = checkout_api;
    }
}
""",
    "ttl-units.vcl": """vcl 4.1;

backend shop_api { .host = "10.20.4.11"; .port = "8081"; }

sub vcl_backend_response {
    if (bereq.url ~ "^/static/") {
        set beresp.ttl = 5 minutes;
    }
}
""",
    "no-version.vcl": """backend shop_api { .host = "10.20.4.11"; .port = "8081"; }

sub vcl_recv {
    unset req.http.Cookie;
}
""",
    "wrong-scope.vcl": """vcl 4.1;

backend shop_api { .host = "10.20.4.11"; .port = "8081"; }

sub vcl_backend_response {
    set req.http.X-Cache-Tag = "catalog";
}
""",
}


def _varnish(env: Env, d: Deploy) -> None:
    vdir = d.root / "etc" / "varnish"
    for name, text in _VCL_BROKEN.items():
        _write(vdir / name, text)
    vcl = _write(vdir / "shop.vcl", _fill(_VCL_RUN, d.subs))
    secret = _write(vdir / "secret", "6f1c0e4e-2b7f-4f55-9d0c-8a3d51f0c2aa\n")
    (d.root / "var" / "varnish").mkdir(parents=True)
    port, admin = free_port(), free_port()
    d.subs.update({"@VARNISH@": str(port), "@VADMIN@": str(admin)})
    _daemon(env, ["varnishd", "-F", "-n", str(d.root / "var" / "varnish" / "shop"), "-a", f"127.0.0.1:{port}",
                  "-T", f"127.0.0.1:{admin}", "-S", str(secret), "-f", str(vcl), "-s", "malloc,32m"],
            d.root / "log" / "varnishd.log", port)


# --------------------------------------------------------------------------- lighttpd

_LIGHTTPD_RUN = """server.document-root = "/srv/www/shop.example.com/public"
server.bind = "127.0.0.1"
server.port = @LIGHTTPD@
server.errorlog = "@T@/log/lighttpd/error.log"
server.modules += ( "mod_proxy", "mod_fastcgi", "mod_auth", "mod_authn_file" )
debug.log-file-not-found = "enable"

auth.backend = "plain"
auth.backend.plain.userfile = "@T@/etc/lighttpd/ops.users"
auth.require = ( "/admin/" => ( "method" => "basic", "realm" => "ops console", "require" => "valid-user" ) )

$HTTP["url"] =~ "^/api/" {
    proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => @CLOSED@ ) ) )
}
$HTTP["url"] =~ "\\.php$" {
    fastcgi.server = ( ".php" => ( ( "host" => "127.0.0.1", "port" => @CLOSED2@, "check-local" => "disable" ) ) )
}
"""

_LIGHTTPD_BROKEN = {
    "syntax.conf": """server.document-root = "/srv/www/shop.example.com/public"
server.port = 8080
server.modules += ( "mod_proxy"
proxy.server = ( "" => ( ( "host" => "10.20.4.11", "port" => 9000 ) ) )
""",
    "port-type.conf": """server.document-root = "/srv/www/shop.example.com/public"
server.port = "http-alt"
""",
    "regex.conf": """server.document-root = "/srv/www/shop.example.com/public"
server.port = 8080
$HTTP["url"] =~ "^/api/(v1|v2" {
    server.max-request-size = 1024
}
""",
    "errorlog.conf": """server.document-root = "@T@/srv/static"
server.bind = "127.0.0.1"
server.port = @FREE1@
server.errorlog = "/var/log/lighttpd-shop/error.log"
""",
    "tls.conf": """server.document-root = "@T@/srv/static"
server.bind = "127.0.0.1"
server.port = @FREE1@
server.modules += ( "mod_openssl" )
ssl.engine = "enable"
ssl.pemfile = "/etc/lighttpd/certs/shop.example.com.pem"
""",
    "busy.conf": """server.document-root = "@T@/srv/static"
server.bind = "127.0.0.1"
server.port = @BUSY@
""",
}


def _lighttpd(env: Env, d: Deploy) -> None:
    ldir = d.root / "etc" / "lighttpd"
    for name, text in _LIGHTTPD_BROKEN.items():
        _write(ldir / name, _fill(text, d.subs))
    _write(ldir / "ops.users", "ops:Wint3r-Deploy!\nrelease:9f2-Kq7-ploy\n")
    (d.root / "log" / "lighttpd").mkdir(parents=True, exist_ok=True)
    port = free_port()
    d.subs["@LIGHTTPD@"] = str(port)
    conf = _write(ldir / "lighttpd.conf", _fill(_LIGHTTPD_RUN, d.subs))
    _daemon(env, ["lighttpd", "-D", "-f", str(conf)], d.root / "log" / "lighttpd" / "stdout.log", port)


# --------------------------------------------------------------------------- h2o

_H2O_RUN = """listen:
  host: 127.0.0.1
  port: @H2O@
error-log: @T@/log/h2o/error.log
hosts:
  "shop.example.com":
    paths:
      /api:
        proxy.reverse.url: http://127.0.0.1:@CLOSED@/
      /search:
        proxy.reverse.url: http://127.0.0.1:@HANG@/
        proxy.timeout.io: 1500
      /:
        file.dir: @T@/srv/static
"""

_H2O_BROKEN = {
    "yaml.conf": """listen: 8080
hosts:
  "shop.example.com":
    paths:
      /:
        file.dir: /srv/shop/public
       /api:
        proxy.reverse.url: http://10.20.4.11:8081/
""",
    "unknown.conf": """listen: 8080
hosts:
  "shop.example.com":
    paths:
      /assets:
        file.dirs: /srv/shop/public/assets
""",
    "threads.conf": """listen: 8080
num-threads: auto
hosts:
  "shop.example.com":
    paths:
      /:
        file.dir: /srv/shop/public
""",
    "tls.conf": """listen:
  port: 8443
  ssl:
    certificate-file: /etc/h2o/certs/shop.example.com.crt
    key-file: /etc/h2o/certs/shop.example.com.key
hosts:
  "shop.example.com":
    paths:
      /:
        file.dir: /srv/shop/public
""",
    "errorlog.conf": """listen:
  host: 127.0.0.1
  port: @FREE1@
error-log: /var/log/h2o-shop/error.log
hosts:
  "shop.example.com":
    paths:
      /:
        file.dir: @T@/srv/static
""",
    "busy.conf": """listen:
  host: 127.0.0.1
  port: @BUSY@
pid-file: @T@/run/h2o-busy.pid
hosts:
  "shop.example.com":
    paths:
      /:
        file.dir: @T@/srv/static
""",
}


def _h2o(env: Env, d: Deploy) -> None:
    hdir = d.root / "etc" / "h2o"
    for name, text in _H2O_BROKEN.items():
        _write(hdir / name, _fill(text, d.subs))
    (d.root / "log" / "h2o").mkdir(parents=True, exist_ok=True)
    port = free_port()
    d.subs["@H2O@"] = str(port)
    conf = _write(hdir / "h2o.conf", _fill(_H2O_RUN, d.subs))
    _daemon(env, ["h2o", "-m", "worker", "-c", str(conf)], d.root / "log" / "h2o" / "stdout.log", port)


# --------------------------------------------------------------------------- uWSGI

_APPS = {
    "orders_api.py": '''"""Order service WSGI entry point."""
import time


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path.startswith("/reports/"):
        time.sleep(30)  # builds the quarterly export inline
    if path.startswith("/orders/total"):
        amounts = environ.get("QUERY_STRING", "").split("=")[-1].split(",")
        total = sum(amounts)
        body = b"%d" % total
    elif path.startswith("/orders/owner"):
        return environ.get("HTTP_X_USER", "anonymous").upper()
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
''',
    "shop_api.py": '''"""Storefront WSGI entry point."""
import stripe_billing
from shop.wsgi import application as django_app

application = django_app
''',
    "billing_api.py": '''"""Billing WSGI entry point."""


def application(environ, start_response)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"billing ok"]
''',
    "exports_api.py": '''"""CSV export worker."""
import time


def application(environ, start_response):
    time.sleep(4)
    start_response("200 OK", [("Content-Type", "text/csv")])
    return [b"id,total\\n"]
''',
    "thumbs_api.py": '''"""Thumbnail renderer."""


def application(environ, start_response):
    frames = [bytearray(64 * 1024 * 1024) for _ in range(12)]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d" % len(frames)]
''',
}


def _uwsgi(env: Env, d: Deploy) -> None:
    apps = d.root / "srv" / "apps"
    for name, text in _APPS.items():
        _write(apps / name, text)
    logs = d.root / "log" / "uwsgi"
    logs.mkdir(parents=True, exist_ok=True)
    base = ["uwsgi", "--plugin", "python3", "--chdir", str(apps), "--master", "--processes", "1"]
    ports = {"@UW_ORDERS@": free_port(), "@UW_EXPORTS@": free_port(), "@UW_THUMBS@": free_port(),
             "@UW_ROUTER@": free_port()}
    d.subs.update({k: str(v) for k, v in ports.items()})
    _daemon(env, [*base, "--http-socket", f"127.0.0.1:{ports['@UW_ORDERS@']}", "--module", "orders_api",
                  "--harakiri", "3", "--logto", str(logs / "orders.log")],
            logs / "orders.out", ports["@UW_ORDERS@"], signal.SIGINT)
    _daemon(env, [*base, "--http-socket", f"127.0.0.1:{ports['@UW_EXPORTS@']}", "--module", "exports_api",
                  "--listen", "3", "--logto", str(logs / "exports.log")],
            logs / "exports.out", ports["@UW_EXPORTS@"], signal.SIGINT)
    _daemon(env, [*base, "--http-socket", f"127.0.0.1:{ports['@UW_THUMBS@']}", "--module", "thumbs_api",
                  "--limit-as", "256", "--logto", str(logs / "thumbs.log")],
            logs / "thumbs.out", ports["@UW_THUMBS@"], signal.SIGINT)
    _daemon(env, ["uwsgi", "--plugin", "http", "--master", "--http", f"127.0.0.1:{ports['@UW_ROUTER@']}",
                  "--http-to", f"127.0.0.1:{d.subs['@CLOSED@']}", "--logto", str(logs / "router.log")],
            logs / "router.out", ports["@UW_ROUTER@"], signal.SIGINT)
    _write(d.root / "etc" / "uwsgi" / "billing.ini",
           f"[uwsgi]\nplugin = python3\nchdir = {apps}\nmodule = billing_api\nhttp-socket = 127.0.0.1:@FREE1@\n"
           "need-app = true\nmaster = true\nprocesses = 2\n".replace("@FREE1@", d.subs["@FREE1@"]))


# --------------------------------------------------------------------------- stunnel

_STUNNEL = {
    "missing-cert.conf": """foreground = yes
pid =
[redis-tls]
accept = 127.0.0.1:@FREE1@
connect = 127.0.0.1:6379
cert = /etc/stunnel/certs/redis.example.internal.pem
key = /etc/stunnel/certs/redis.example.internal.key
""",
    "bad-option.conf": """foreground = yes
pid =
[redis-tls]
accept = 127.0.0.1:@FREE1@
conect = 127.0.0.1:6379
cert = @T@/etc/stunnel/server.pem
key = @T@/etc/stunnel/server.key
""",
    "verify-no-ca.conf": """foreground = yes
pid =
[redis-tls]
accept = 127.0.0.1:@FREE1@
connect = 127.0.0.1:6379
cert = @T@/etc/stunnel/server.pem
key = @T@/etc/stunnel/server.key
verifyChain = yes
""",
    "busy.conf": """foreground = yes
pid =
debug = 5
[postgres-tls]
accept = 127.0.0.1:@BUSY@
connect = 127.0.0.1:5432
cert = @T@/etc/stunnel/server.pem
key = @T@/etc/stunnel/server.key
""",
    "refused.conf": """foreground = yes
pid =
debug = 5
[postgres-tls]
accept = 127.0.0.1:@ST_PORT@
connect = 127.0.0.1:@CLOSED@
cert = @T@/etc/stunnel/server.pem
key = @T@/etc/stunnel/server.key
""",
    "plain-peer.conf": """foreground = yes
pid =
debug = 5
[ldaps-client]
client = yes
accept = 127.0.0.1:@ST_PORT@
connect = 127.0.0.1:@HTTPPORT@
""",
    "untrusted.conf": """foreground = yes
pid =
debug = 5
[metrics-tls]
client = yes
accept = 127.0.0.1:@ST_PORT@
connect = 127.0.0.1:@TLSPORT@
verifyChain = yes
CAfile = /etc/ssl/certs/ca-certificates.crt
checkHost = metrics.example.internal
""",
    "wrong-host.conf": """foreground = yes
pid =
debug = 5
[metrics-tls]
client = yes
accept = 127.0.0.1:@ST_PORT@
connect = 127.0.0.1:@TLSPORT@
verifyChain = yes
CAfile = @TLSCA@
checkHost = metrics.example.internal
""",
    "reset.conf": """foreground = yes
pid =
debug = 5
[amqps-client]
client = yes
accept = 127.0.0.1:@ST_PORT@
connect = 127.0.0.1:@RESET@
""",
}


def _stunnel(env: Env, d: Deploy) -> None:
    sdir = d.root / "etc" / "stunnel"
    sdir.mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=pg.example.internal", "-keyout", str(sdir / "server.key"), "-out", str(sdir / "server.pem")],
                   check=True, capture_output=True)
    tls = tls_server(env)
    d.subs.update({"@TLSPORT@": str(tls.port), "@TLSCA@": str(tls.cafile), "@ST_PORT@": str(free_port())})
    for name, text in _STUNNEL.items():
        _write(sdir / name, _fill(text, d.subs))


# --------------------------------------------------------------------------- tinyproxy and privoxy

def _tinyproxy(env: Env, d: Deploy) -> None:
    tdir = d.root / "etc" / "tinyproxy"
    logs = d.root / "log" / "tinyproxy"
    logs.mkdir(parents=True, exist_ok=True)
    _write(tdir / "blocklist.txt", "pastebin\nwetransfer\n")
    ports = {"@TP_ACL@": free_port(), "@TP_AUTH@": free_port(), "@TP_MAX@": free_port()}
    d.subs.update({k: str(v) for k, v in ports.items()})
    confs = {
        "@TP_ACL@": "Allow 10.20.0.0/16\n",
        "@TP_AUTH@": (f'Allow 127.0.0.1\nFilter "{tdir / "blocklist.txt"}"\nFilterURLs On\nFilterDefaultDeny No\n'
                      "BasicAuth deploy s3cret-Proxy\n"),
        "@TP_MAX@": "MaxClients 2\n",
    }
    for key, extra in confs.items():
        name = key.strip("@").lower()
        conf = _write(tdir / f"{name}.conf",
                      f"Port {ports[key]}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{logs / name}.log\"\n"
                      f"LogLevel Info\n{extra}")
        _daemon(env, ["tinyproxy", "-d", "-c", str(conf)], logs / f"{name}.out", ports[key])
    _write(tdir / "syntax.conf", "Port 8888\nListen 127.0.0.1\nTimout 600\nMaxClients 100\n")
    _write(tdir / "logdir.conf", f'Port {d.subs["@FREE1@"]}\nListen 127.0.0.1\n'
                                 'LogFile "/var/log/tinyproxy-edge/tinyproxy.log"\n')
    _write(tdir / "filter.conf", f'Port {d.subs["@FREE1@"]}\nListen 127.0.0.1\n'
                                 'Filter "/etc/tinyproxy/blocklist-corp.txt"\n')


def _privoxy(env: Env, d: Deploy) -> None:
    pdir = d.root / "etc" / "privoxy"
    pdir.mkdir(parents=True)
    for name in ("match-all.action", "default.action", "default.filter"):
        shutil.copy(Path("/etc/privoxy") / name, pdir / name)
    _write(pdir / "user.action", "{+block{Blocked by corporate policy: file sharing}}\n.wetransfer.example\n")
    logs = d.root / "log" / "privoxy"
    logs.mkdir(parents=True, exist_ok=True)
    ports = {"@PV@": free_port(), "@PV_ACL@": free_port()}
    d.subs.update({k: str(v) for k, v in ports.items()})
    head = (f"confdir {pdir}\ntempldir /etc/privoxy/templates\nactionsfile match-all.action\n"
            "actionsfile default.action\nactionsfile user.action\nfilterfile default.filter\ntoggle 1\n"
            "enable-remote-toggle 0\ndebug 1\ndebug 2\ndebug 1024\ndebug 4096\ndebug 8192\nsocket-timeout 3\n")
    acls = {"@PV@": "permit-access 127.0.0.1\n", "@PV_ACL@": "permit-access 10.40.0.0/16\n"}
    for key, acl in acls.items():
        name = key.strip("@").lower()
        conf = _write(pdir / f"{name}.config", f"{head}listen-address 127.0.0.1:{ports[key]}\n{acl}")
        _daemon(env, ["privoxy", "--no-daemon", str(conf)], logs / f"{name}.log", ports[key])
    short = f"confdir {pdir}\ntempldir /etc/privoxy/templates\n"
    _write(pdir / "missing-actions.config", f"{short}actionsfile corp-blocklist.action\n"
                                            f"listen-address 127.0.0.1:{d.subs['@FREE1@']}\n")
    _write(pdir / "bad-port.config", f"{short}listen-address 127.0.0.1:privoxy\n")
    _write(pdir / "bad-timeout.config", f"{short}listen-address 127.0.0.1:{d.subs['@FREE1@']}\n"
                                        "socket-timeout 30s\n")
    _write(pdir / "busy.config", f"{short}listen-address 127.0.0.1:{d.subs['@BUSY@']}\n")
    _write(pdir / "typo.config", f"{short}listen-address 127.0.0.1:{d.subs['@FREE1@']}\n"
                                 "forward-socks5 / 127.0.0.1:9050 .\nforwarded-connect-retrys 2\n")


# --------------------------------------------------------------------------- the tree


def _fill(text: str, subs: dict[str, str]) -> str:
    for key, value in subs.items():
        text = text.replace(key, value)
    return text


def prepare(env: Env) -> Deploy:
    root = env.tmp / "deploy127"
    d = Deploy(root)
    env.tmp.chmod(0o755)  # varnishd's child drops to the vcache user and must reach its -n directory
    (root / "srv" / "static").mkdir(parents=True)
    (root / "run").mkdir()
    (root / "srv" / "static" / "index.html").write_text("<h1>shop</h1>\n", encoding="utf-8")
    full = mount_tmpfs(env, "full127", "size=64k")
    d.subs.update({"@T@": str(root), "@CLOSED@": str(env.closed_port), "@CLOSED2@": str(free_port()),
                   "@HANG@": str(env.hang_port), "@RESET@": str(env.reset_port), "@HTTPPORT@": str(env.http_port),
                   "@BUSY@": str(env.http_port), "@FREE1@": str(free_port()), "@FULL@": str(full)})
    for step in (_varnish, _lighttpd, _h2o, _uwsgi, _stunnel, _tinyproxy, _privoxy):
        step(env, d)
    return d


__all__ = ["Deploy", "prepare"]
