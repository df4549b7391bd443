"""Hundred-and-twenty-seventh batch of blind provokers: web servers and proxies from Debian, each failing for a cause
provoked here against private instances on loopback (blind127_support). lighttpd (a config syntax error, a value
of the wrong type, a bad conditional regex, a missing error-log directory or certificate, a busy port, and from a
running server: a proxy backend that refuses, a missing document root, a rejected basic-auth password); Varnish
(VCL compile errors, missing VCL and secret files, a file storage bigger than its tmpfs; backends that refuse, hang,
reset or fail their health probe as varnishlog shows them, the 503 a client receives; varnishadm against a closed
port and with a parameter below its minimum); h2o (YAML, directive and value errors, a missing certificate and
error-log directory, proxied backends that refuse or hang); uWSGI (apps that fail to import or compile, a missing
wsgi file, a TypeError and a str response in a handler, harakiri, a full listen queue, MemoryError under
--limit-as, an unknown option, a missing socket directory, a busy port, the HTTP router facing a closed port);
stunnel4 (a missing certificate, a bad option, verifyChain without CA, an upstream that refuses, a plain-text,
untrusted, misnamed or resetting TLS peer); tinyproxy (ACL denial, proxy auth, a filtered URL, a refused upstream,
client slots used up, a config syntax error, a missing config or log directory); privoxy (a blocked URL, an ACL
drop, a refused upstream, bad config values, an unknown directive, a missing actions file, a busy port)."""

from __future__ import annotations

from blind127_support import Deploy, prepare
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND127_SOURCES = frozenset({"lighttpd127", "varnish127", "h2o127", "uwsgi127", "stunnel127", "tinyproxy127",
                              "privoxy127"})


def _after(log: str, action: str, settle: float = 0.5, keep: str = "") -> str:
    """Bash: run `action` quietly, then print what `log` gained meanwhile (optionally only lines matching
    `keep`) and fail, as an operator tailing the server's log would see it."""
    select = f" | grep -E '{keep}'" if keep else ""
    return (f"n=$(wc -l < {log}); ( {action} ) >/dev/null 2>&1; sleep {settle}; "
            f"tail -n +$((n+1)) {log}{select}; exit 1")


def _lighttpd() -> list[ToolCase]:
    lt = "lighttpd -tt -f @T@/etc/lighttpd"
    log = "@T@/log/lighttpd/error.log"
    url = "http://127.0.0.1:@LIGHTTPD@"
    return [
        ("lighttpd_config_syntax", "validation", "parser failed", f"{lt}/syntax.conf"),
        ("lighttpd_port_type", "validation", "expected a short", f"{lt}/port-type.conf"),
        ("lighttpd_bad_regex", "validation", "pcre2_compile", f"{lt}/regex.conf"),
        ("lighttpd_errorlog_dir_missing", "filesystem", "No such file",
         "timeout 5 lighttpd -D -f @T@/etc/lighttpd/errorlog.conf"),
        ("lighttpd_pemfile_missing", "filesystem", "No such file", f"{lt}/tls.conf"),
        ("lighttpd_port_busy", "resource", "Address already in use",
         "timeout 5 lighttpd -D -f @T@/etc/lighttpd/busy.conf"),
        ("lighttpd_proxy_refused", "network", "Connection refused",
         _after(log, f"curl -s {url}/api/cart/7731")),
        ("lighttpd_docroot_missing", "filesystem", "No such file",
         _after(log, f"curl -s {url}/promo/black-friday.html")),
        ("lighttpd_auth_wrong_password", "auth", "password doesn't match",
         _after(log, f"curl -s -u ops:Summer2026 {url}/admin/deploys")),
    ]


def _varnish() -> list[ToolCase]:
    vcc = "varnishd -n @T@/var/varnish/compile -C -f @T@/etc/varnish"
    vrun = "timeout 10 varnishd -F -n @T@/var/varnish/spare -a 127.0.0.1:@FREE1@ -f @T@/etc/varnish/shop.vcl"
    vlog = ("varnishlog -n @T@/var/varnish/shop -d -b -i BereqMethod,BereqURL,FetchError,BerespStatus,BerespReason "
            "-q 'BereqURL eq \"{url}\"'")
    adm = "varnishadm -T 127.0.0.1:@VADMIN@ -S @T@/etc/varnish/secret"

    def fetch_then_log(url: str) -> str:
        return (f"curl -s -o /dev/null http://127.0.0.1:@VARNISH@{url}; sleep 0.5; "
                f"{vlog.format(url=url)}; exit 1")

    return [
        ("varnish_vcl_missing_semicolon", "validation", "VCL compilation failed",
         f"{vcc}/missing-semicolon.vcl >/dev/null"),
        ("varnish_vcl_undefined_backend", "validation", "Undefined backend", f"{vcc}/undefined-backend.vcl >/dev/null"),
        ("varnish_vcl_duration_unit", "validation", "duration unit", f"{vcc}/ttl-units.vcl >/dev/null"),
        ("varnish_vcl_no_version", "validation", "version declaration", f"{vcc}/no-version.vcl >/dev/null"),
        ("varnish_vcl_file_missing", "filesystem", "No such file", f"{vcc}/shop-prod.vcl >/dev/null"),
        ("varnish_secret_missing", "filesystem", "No such file",
         f"{vrun} -S /etc/varnish/secret.d/shop -T 127.0.0.1:@FREE1@"),
        ("varnish_storage_too_big", "resource", "larger than file system",
         f"{vrun} -s file,@FULL@/varnish_storage.bin,256M"),
        ("varnish_backend_refused", "network", "Connection refused", fetch_then_log("/api/v2/products?page=3")),
        ("varnish_backend_first_byte_timeout", "network", "first byte timeout", fetch_then_log("/prices/sku-88412")),
        ("varnish_backend_reset", "network", "eof", fetch_then_log("/reviews/sku-88412")),
        ("varnish_backend_sick", "service", "unhealthy", "sleep 3; " + fetch_then_log("/recommendations/u-5521")),
        ("varnish_client_503", "service", "503 Backend fetch failed",
         "curl -s -i --fail-with-body http://127.0.0.1:@VARNISH@/api/v2/categories/shoes"),
        ("varnishadm_closed_port", "network", "Connection refused",
         "varnishadm -T 127.0.0.1:@CLOSED@ -S @T@/etc/varnish/secret ping 2>&1"),
        ("varnishadm_param_too_small", "validation", "Must be at least",
         f"{adm} param.set thread_pool_max 3 2>&1"),
    ]


def _h2o() -> list[ToolCase]:
    t = "h2o -t -c @T@/etc/h2o"
    log = "@T@/log/h2o/error.log"
    return [
        ("h2o_yaml_indent", "validation", "did not find expected key", f"{t}/yaml.conf"),
        ("h2o_unknown_directive", "validation", "unknown command", f"{t}/unknown.conf"),
        ("h2o_bad_threads", "validation", "argument must match", f"{t}/threads.conf"),
        ("h2o_cert_missing", "filesystem", "No such file", f"{t}/tls.conf"),
        ("h2o_errorlog_dir_missing", "filesystem", "No such file",
         "timeout 5 h2o -m worker -c @T@/etc/h2o/errorlog.conf"),
        ("h2o_proxy_refused", "network", "connection failed",
         _after(log, "curl -s -H 'Host: shop.example.com' http://127.0.0.1:@H2O@/api/orders/1042")),
        ("h2o_proxy_io_timeout", "network", "I/O timeout",
         _after(log, "curl -s -H 'Host: shop.example.com' 'http://127.0.0.1:@H2O@/search?q=trail+boots'")),
    ]


def _uwsgi() -> list[ToolCase]:
    app = "uwsgi --plugin python3 --chdir @T@/srv/apps --http-socket 127.0.0.1:@FREE1@"
    logs = "@T@/log/uwsgi"

    def startup(args: str) -> str:
        return f"timeout 10 {app} {args} 2>&1 | tail -n 12; exit ${{PIPESTATUS[0]}}"

    return [
        ("uwsgi_app_import_error", "programming", "No module named", startup("--module shop_api --need-app")),
        ("uwsgi_app_syntax_error", "programming", "SyntaxError",
         "timeout 10 uwsgi --ini @T@/etc/uwsgi/billing.ini 2>&1 | tail -n 12; exit ${PIPESTATUS[0]}"),
        ("uwsgi_wsgi_file_missing", "filesystem", "failed to open python file",
         startup("--wsgi-file /srv/shop/current/wsgi.py --need-app")),
        ("uwsgi_unknown_option", "validation", "unrecognized option", f"{app} --module orders_api --harakri 30"),
        ("uwsgi_socket_dir_missing", "filesystem", "No such file",
         "timeout 10 uwsgi --plugin python3 --chdir @T@/srv/apps --socket /run/uwsgi/app/storefront/socket "
         "--module orders_api 2>&1 | tail -n 4; exit ${PIPESTATUS[0]}"),
        ("uwsgi_port_busy", "resource", "Address already in use",
         "timeout 10 uwsgi --plugin python3 --chdir @T@/srv/apps --http-socket 127.0.0.1:@BUSY@ --module orders_api "
         "2>&1 | tail -n 4; exit ${PIPESTATUS[0]}"),
        ("uwsgi_handler_type_error", "programming", "TypeError",
         _after(f"{logs}/orders.log", "curl -s 'http://127.0.0.1:@UW_ORDERS@/orders/total?amounts=1299,450,75'")),
        ("uwsgi_handler_returns_str", "programming", "Unhandled object",
         _after(f"{logs}/orders.log", "curl -s -H 'X-User: maria.k' http://127.0.0.1:@UW_ORDERS@/orders/owner/77")),
        ("uwsgi_harakiri", "resource", "HARAKIRI",
         _after(f"{logs}/orders.log", "curl -s -m 10 http://127.0.0.1:@UW_ORDERS@/reports/2026-q3.csv", 1)),
        ("uwsgi_listen_queue_full", "resource", "listen queue",
         _after(f"{logs}/exports.log",
                "for i in $(seq 1 12); do curl -s -m 6 http://127.0.0.1:@UW_EXPORTS@/exports/$i.csv & done; "
                "sleep 3.5; kill $(jobs -p)", 0.2, "listen queue")),
        ("uwsgi_memory_limit", "resource", "MemoryError",
         _after(f"{logs}/thumbs.log", "curl -s http://127.0.0.1:@UW_THUMBS@/thumbs/catalog-4412.jpg")),
        ("uwsgi_router_refused", "network", "Connection refused",
         _after(f"{logs}/router.log", "curl -s http://127.0.0.1:@UW_ROUTER@/checkout/session")),
    ]


def _stunnel() -> list[ToolCase]:
    conf = "@T@/etc/stunnel"

    def live(name: str, client: str) -> str:
        """Start stunnel with `name`, connect a client through it, stop it, print its log after startup."""
        log = f"@T@/log/stunnel-{name}.log"
        return (f"stunnel4 {conf}/{name}.conf > {log} 2>&1 & pid=$!; trap 'kill $pid 2>/dev/null' EXIT; "
                f"for i in $(seq 50); do grep -q 'Configuration successful' {log} && break; sleep 0.1; done; "
                "sleep 0.3; "
                f"( {client} ) >/dev/null 2>&1; sleep 0.5; kill $pid; wait $pid; "
                f"sed -n '/Configuration successful/,$p' {log} | tail -n +2 | grep -v 'Terminated'; exit 1")

    nc = "printf 'x' | timeout 3 nc 127.0.0.1 @ST_PORT@"
    return [
        ("stunnel_cert_missing", "filesystem", "No such file", f"stunnel4 {conf}/missing-cert.conf"),
        ("stunnel_bad_option", "validation", "not valid here", f"stunnel4 {conf}/bad-option.conf"),
        ("stunnel_verify_without_ca", "validation", "has to be configured", f"stunnel4 {conf}/verify-no-ca.conf"),
        ("stunnel_upstream_refused", "network", "Connection refused",
         live("refused", "echo | timeout 3 openssl s_client -connect 127.0.0.1:@ST_PORT@ -quiet")),
        ("stunnel_plain_peer", "network", "SSL_connect", live("plain-peer", nc)),
        ("stunnel_untrusted_peer", "network", "certificate verify failed", live("untrusted", nc)),
        ("stunnel_peer_name_mismatch", "network", "CERT", live("wrong-host", nc)),
        ("stunnel_peer_reset", "network", "reset", live("reset", nc)),
    ]


def _tinyproxy() -> list[ToolCase]:
    log = "@T@/log/tinyproxy"
    auth = "http://deploy:s3cret-Proxy@127.0.0.1:@TP_AUTH@"
    return [
        ("tinyproxy_acl_denied", "auth", "403 Access denied",
         "curl -s -i --fail-with-body -x http://127.0.0.1:@TP_ACL@ http://10.20.3.14:8080/health"),
        ("tinyproxy_auth_required", "auth", "407",
         "curl -s -i --fail-with-body -x http://127.0.0.1:@TP_AUTH@ http://inventory.internal:8080/api/v1/stock"),
        ("tinyproxy_filtered", "auth", "403 Filtered",
         f"curl -s -i --fail-with-body -x {auth} http://pastebin.example.com/raw/9xQ2"),
        ("tinyproxy_upstream_refused", "network", "Could not establish a connection",
         _after(f"{log}/tp_auth.log", f"curl -s -x {auth} http://127.0.0.1:@CLOSED@/api/v1/orders")),
        ("tinyproxy_max_clients", "resource", "Maximum number of connections",
         _after(f"{log}/tp_max.log",
                "for i in 1 2; do curl -s -m 8 -x http://127.0.0.1:@TP_MAX@ http://127.0.0.1:@HANG@/feed/$i & done; "
                "sleep 1; curl -s -m 3 -x http://127.0.0.1:@TP_MAX@ http://127.0.0.1:@HANG@/feed/3; kill $(jobs -p)",
                0.3, "Maximum|Refusing|connections")),
        ("tinyproxy_config_syntax", "validation", "Syntax error",
         "timeout 5 tinyproxy -d -c @T@/etc/tinyproxy/syntax.conf"),
        ("tinyproxy_config_missing", "filesystem", "Could not open config file",
         "timeout 5 tinyproxy -d -c /etc/tinyproxy/edge-proxy.conf"),
        ("tinyproxy_logfile_dir_missing", "filesystem", "No such file",
         "timeout 3 tinyproxy -d -c @T@/etc/tinyproxy/logdir.conf; exit 1"),
    ]


def _privoxy() -> list[ToolCase]:
    pdir = "@T@/etc/privoxy"
    log = "@T@/log/privoxy"
    return [
        ("privoxy_blocked", "auth", "Request blocked",
         "curl -s -f -D - -o /dev/null -x http://127.0.0.1:@PV@ http://files.wetransfer.example/upload"),
        ("privoxy_acl_drop", "auth", "dropped due to ACL",
         _after(f"{log}/pv_acl.log", "curl -s -x http://127.0.0.1:@PV_ACL@ http://intranet.example.com/", 0.3,
                "ACL")),
        ("privoxy_upstream_refused", "network", "Connection refused",
         _after(f"{log}/pv.log", "curl -s -x http://127.0.0.1:@PV@ http://127.0.0.1:@CLOSED@/api/inventory", 0.3,
                "Request|Could not connect|Connection failure")),
        ("privoxy_actions_missing", "filesystem", "No such file",
         f"timeout 5 privoxy --no-daemon {pdir}/missing-actions.config"),
        ("privoxy_bad_port", "validation", "invalid bind port",
         f"timeout 5 privoxy --no-daemon {pdir}/bad-port.config"),
        ("privoxy_bad_timeout", "validation", "non-numerical",
         f"timeout 5 privoxy --no-daemon {pdir}/bad-timeout.config"),
        ("privoxy_port_busy", "resource", "can't bind", f"timeout 5 privoxy --no-daemon {pdir}/busy.config"),
        ("privoxy_unknown_directive", "validation", "unrecognized directive",
         f"privoxy --config-test {pdir}/typo.config 2>&1 | grep -v ' Info: '; exit 1"),
    ]


def blind127_records(env: Env) -> list[Record]:
    d: Deploy = prepare(env)

    def fill(text: str) -> str:
        for key in sorted(d.subs, key=len, reverse=True):
            text = text.replace(key, d.subs[key])
        return text

    out: list[Record] = []
    for source, cases in (("lighttpd127", _lighttpd()), ("varnish127", _varnish()), ("h2o127", _h2o()),
                          ("uwsgi127", _uwsgi()), ("stunnel127", _stunnel()), ("tinyproxy127", _tinyproxy()),
                          ("privoxy127", _privoxy())):
        out += tool_records(cases, source, d.root, fill=fill, timeout=60)
    return out


if __name__ == "__main__":
    write_batch(blind127_records)


__all__ = ["BLIND127_SOURCES", "blind127_records"]
