"""Hundred-and-twenty-fifth batch of blind provokers: logging and monitoring agents from Debian, each failing for a
cause provoked here (blind125_support). rsyslog (`rsyslogd -N1` config checks with malformed parameters, an
unclosed template, an unknown ruleset and a missing include; running daemons forwarding with omfwd and omrelp
to a refused port and over TLS to a self-signed server, omelasticsearch to fake clusters answering 401 and
503, ompgsql to a password-protected and a standby PostgreSQL, omfile and a disk queue on a full and a
read-only tmpfs); syslog-ng (`--syntax-only` checks, network destinations refused or TLS-untrusted, http
destinations answering 401/403/503, file destinations and a disk-buffer on full or read-only mounts, a socket
in a missing directory); collectd (`collectd -T` with broken configs, write_http to 401/503/refused/hanging
collectors, write_graphite refused, csv on full and read-only mounts, the postgresql and redis plugins with
wrong passwords); prometheus-node-exporter (malformed textfile collector files, unreadable ones, web config
and flag errors); prometheus-blackbox-exporter (probes against refused, hanging, self-signed, 401/403/503
targets, an unknown module, `--config.check` on broken configs)."""

from __future__ import annotations

from blind125_support import Agents, prepare_agents, syslog_ng, window, workdir
from checked import ToolCase, tool_records
from common import Env, Record, free_port, write_batch

BLIND125_SOURCES = frozenset({"rsyslog125", "syslogng125", "collectd125", "nodeexporter125", "blackbox125"})


# --------------------------------------------------------------------------- rsyslog

def _rsyslog_check(a: Agents, name: str, conf: str) -> str:
    work = workdir(a, name)
    path = work / "rsyslog.conf"
    path.write_text(conf)
    return f"cd {work} && rsyslogd -N1 -f {path}"


def _rsyslog_run(a: Agents, name: str, actions: str, lines: int = 3, secs: float = 4, drop: str = "") -> str:
    work = workdir(a, name)
    sock = work / "app.sock"
    conf = work / "rsyslog.conf"
    conf.write_text(f'global(workDirectory="{work}")\nmodule(load="imuxsock" SysSock.Use="off")\n'
                    f'input(type="imuxsock" Socket="{sock}")\n{actions}\n')
    feed = "\n".join(f'logger -u {sock} -t checkout-api "order {8810 + i} settled amount=42.{i}0 EUR"'
                     for i in range(lines))
    return window(f"rsyslogd -n -iNONE -f {conf}", feed, secs, drop)


def _rsyslog_cases(env: Env, a: Agents) -> list[ToolCase]:
    return [
        ("rsyslog_flushinterval_not_number", "validation", "not a proper number", _rsyslog_check(a, "rs-flush", (
            'module(load="imuxsock" SysSock.Use="off")\n'
            'action(type="omfile" file="/var/log/edge/haproxy.log" fileCreateMode="0640" flushInterval="1s"\n'
            '       asyncWriting="on" ioBufferSize="64k")\n'))),
        ("rsyslog_template_unclosed", "validation", "syntax error|invalid character", _rsyslog_check(a, "rs-tpl", (
            'template(name="EdgeJson" type="list") {\n'
            '  constant(value="{\\"ts\\":\\"")\n'
            '  property(name="timereported" dateFormat="rfc3339"\n'
            '  constant(value="\\"}\\n")\n'
            '}\n'
            '*.* action(type="omfwd" target="logs.corp.internal" port="514" template="EdgeJson")\n'))),
        ("rsyslog_param_typo", "validation", "not known", _rsyslog_check(a, "rs-typo", (
            'action(type="omfwd" target="logs.corp.internal" port="6514" protocol="tcp"\n'
            '       keepalive="on" keepalive.intrval="60")\n'))),
        ("rsyslog_ruleset_undefined", "validation", "cannot be found", _rsyslog_check(a, "rs-ruleset", (
            'module(load="imuxsock" SysSock.Use="off")\n'
            'if $programname == "haproxy" then call edge_haproxy\n'
            'action(type="omfile" file="/var/log/edge/all.log")\n'))),
        ("rsyslog_include_missing", "filesystem", "No such file", _rsyslog_check(a, "rs-include", (
            'include(file="/etc/rsyslog.d/50-edge-forwarders.conf" mode="required")\n'
            'action(type="omfile" file="/var/log/edge/all.log")\n'))),
        ("rsyslog_config_missing", "filesystem", "No such file",
         "rsyslogd -N1 -f /etc/rsyslog-edge/rsyslog.conf"),
        ("rsyslog_omfwd_refused", "network", "Connection refused", _rsyslog_run(a, "rs-fwd", (
            f'action(type="omfwd" target="127.0.0.1" port="{env.closed_port}" protocol="tcp"\n'
            '       action.resumeRetryCount="2" action.resumeInterval="1")'))),
        ("rsyslog_omrelp_refused", "network", "refused|connect", _rsyslog_run(a, "rs-relp", (
            'module(load="omrelp")\n'
            f'action(type="omrelp" target="127.0.0.1" port="{env.closed_port}" timeout="2"\n'
            '       action.resumeRetryCount="2" action.resumeInterval="1")'))),
        ("rsyslog_tls_untrusted", "network", "certificate|verify|tls|ssl", _rsyslog_run(a, "rs-tls", (
            f'global(DefaultNetstreamDriver="ossl" DefaultNetstreamDriverCAFile="/etc/ssl/certs/ca-certificates.crt")\n'
            f'action(type="omfwd" target="logs.corp.internal" address="127.0.0.1" port="{a.tls_port}"\n'
            '       protocol="tcp" StreamDriver="ossl" StreamDriverMode="1" StreamDriverAuthMode="x509/name"\n'
            '       StreamDriverPermittedPeers="logs.corp.internal" action.resumeRetryCount="1")'))),
        ("rsyslog_es_unauthenticated", "auth", "401|security_exception", _rsyslog_run(a, "rs-es401", (
            'module(load="omelasticsearch")\n'
            f'action(type="omelasticsearch" server="127.0.0.1" serverport="{a.es401}" searchIndex="logs-edge"\n'
            '       bulkmode="on" action.resumeRetryCount="1")'))),
        ("rsyslog_es_unavailable", "service", "503|SERVICE_UNAVAILABLE", _rsyslog_run(a, "rs-es503", (
            'module(load="omelasticsearch")\n'
            f'action(type="omelasticsearch" server="127.0.0.1" serverport="{a.es503}" searchIndex="logs-edge"\n'
            '       bulkmode="on" action.resumeRetryCount="1")'))),
        ("rsyslog_es_forbidden", "auth", "403|unauthorized for user", _rsyslog_run(a, "rs-es403", (
            'module(load="omelasticsearch")\n'
            f'action(type="omelasticsearch" server="127.0.0.1" serverport="{a.es403}" searchIndex="logs-edge"\n'
            '       uid="rsyslog_writer" pwd="Wr1ter-2025" bulkmode="on" action.resumeRetryCount="1")'))),
        ("rsyslog_omfile_dir_missing", "filesystem", "No such file", _rsyslog_run(a, "rs-nodir", (
            'action(type="omfile" file="/var/log/edge-payments/checkout-api.log" createDirs="off")'))),
        ("rsyslog_omfile_full_disk", "resource", "No space left", _rsyslog_run(a, "rs-full", (
            f'action(type="omfile" file="{a.full}/checkout-api.log" ioBufferSize="4k" flushOnTXEnd="on")'),
            lines=5)),
        ("rsyslog_omfile_read_only", "filesystem", "Read-only", _rsyslog_run(a, "rs-ro", (
            f'action(type="omfile" file="{a.ro}/rsyslog/checkout-api.log")'))),
        ("rsyslog_disk_queue_full", "resource", "No space left", _rsyslog_run(a, "rs-dq", (
            f'action(type="omfile" file="{workdir(a, "rs-dq")}/spool.log"\n'
            f'       queue.type="Disk" queue.filename="edge-fwd" queue.spoolDirectory="{a.full}"\n'
            '       queue.maxFileSize="1m" queue.saveOnShutdown="on")'), lines=12)),
    ]


# --------------------------------------------------------------------------- syslog-ng

_SNG_HEAD = "@version: 3.38\n"


def _sng(a: Agents, name: str, conf: str, *, mode: str = "window", lines: int = 3, drop: str = "") -> str:
    work = workdir(a, name)
    sock = work / "app.sock"
    path = work / "syslog-ng.conf"
    path.write_text(_SNG_HEAD + conf.replace("@SOCK@", str(sock)))
    if mode == "check":
        return syslog_ng(work, path, "--syntax-only")
    if mode == "start":  # fails at startup, before it would serve
        return syslog_ng(work, path, "-F", "-e")
    feed = "\n".join(f'logger -u {sock} -t billing-api "invoice INV-{22310 + i} generated customer=4471"'
                     for i in range(lines))
    return window(syslog_ng(work, path, "-F", "-e"), feed, 4, drop)


def _syslog_ng_cases(env: Env, a: Agents) -> list[ToolCase]:
    src = 'source s_app { unix-stream("@SOCK@"); };\n'
    return [
        ("syslogng_missing_semicolon", "validation", "syntax error", _sng(a, "sng-semi", (
            'source s_app { unix-stream("/run/syslog-ng/app.sock") };\n'
            'destination d_local { file("/var/log/edge/${PROGRAM}.log" create-dirs(yes)); };\n'
            'log { source(s_app); destination(d_local); };\n'), mode="check")),
        ("syslogng_undefined_destination", "validation", "d_centrl|not defined|undefined|reference",
         _sng(a, "sng-undef", (
             'source s_app { unix-stream("/run/syslog-ng/app.sock"); };\n'
             'destination d_central { network("logs.corp.internal" port(514) transport("tcp")); };\n'
             'log { source(s_app); destination(d_centrl); };\n'), mode="start")),
        ("syslogng_unknown_option", "validation", "syntax error|unexpected", _sng(a, "sng-opt", (
            'source s_app { unix-stream("/run/syslog-ng/app.sock"); };\n'
            'destination d_central { network("logs.corp.internal" port(6514) transport("tcp")\n'
            '    keep-alive-interval(60)); };\n'
            'log { source(s_app); destination(d_central); };\n'), mode="check")),
        ("syslogng_config_missing", "filesystem", "No such file|not found|Error opening",
         syslog_ng(workdir(a, "sng-missing"), a.root / "etc-syslog-ng" / "syslog-ng.conf", "--syntax-only")),
        ("syslogng_tcp_refused", "network", "Connection refused", _sng(a, "sng-tcp", src + (
            f'destination d_central {{ network("127.0.0.1" port({env.closed_port}) transport("tcp")); }};\n'
            'log { source(s_app); destination(d_central); };\n'))),
        ("syslogng_tls_untrusted", "network", "certificate|verify|tls|ssl", _sng(a, "sng-tls", src + (
            f'destination d_central {{ network("127.0.0.1" port({a.tls_port}) transport("tls")\n'
            '    tls(peer-verify(required-trusted) ca-file("/etc/ssl/certs/ca-certificates.crt"))); };\n'
            'log { source(s_app); destination(d_central); };\n'))),
        ("syslogng_http_401", "auth", "401", _sng(a, "sng-401", src + (
            f'destination d_es {{ http(url("http://127.0.0.1:{a.es401}/_bulk") method("POST")\n'
            '    body("{\\"index\\":{\\"_index\\":\\"logs-billing\\"}}\\n$(format-json --scope rfc5424)\\n")); };\n'
            'log { source(s_app); destination(d_es); };\n'))),
        ("syslogng_http_403", "auth", "403", _sng(a, "sng-403", src + (
            f'destination d_es {{ http(url("http://127.0.0.1:{a.es403}/_bulk") method("POST")\n'
            '    user("syslog_ng_writer") password("Wr1ter-2025")\n'
            '    body("{\\"index\\":{\\"_index\\":\\"logs-billing\\"}}\\n$(format-json --scope rfc5424)\\n")); };\n'
            'log { source(s_app); destination(d_es); };\n'))),
        ("syslogng_http_503", "service", "503|5XX", _sng(a, "sng-503", src + (
            f'destination d_es {{ http(url("http://127.0.0.1:{a.es503}/_bulk") method("POST")\n'
            '    body("{\\"index\\":{\\"_index\\":\\"logs-billing\\"}}\\n$(format-json --scope rfc5424)\\n")); };\n'
            'log { source(s_app); destination(d_es); };\n'))),
        ("syslogng_file_read_only", "filesystem", "Read-only", _sng(a, "sng-ro", src + (
            f'destination d_local {{ file("{a.ro}/syslog-ng/${{HOST}}/${{PROGRAM}}.log" create-dirs(yes)); }};\n'
            'log { source(s_app); destination(d_local); };\n'))),
        ("syslogng_file_full_disk", "resource", "No space left", _sng(a, "sng-full", src + (
            f'destination d_local {{ file("{a.full}/${{PROGRAM}}.log" flush-lines(1)); }};\n'
            'log { source(s_app); destination(d_local); };\n'), lines=60)),
        ("syslogng_disk_buffer_full", "resource", "No space left", _sng(a, "sng-dbuf", src + (
            f'destination d_central {{ network("127.0.0.1" port({env.closed_port}) transport("tcp")\n'
            f'    disk-buffer(reliable(no) dir("{a.full}") disk-buf-size(1048576))); }};\n'
            'log { source(s_app); destination(d_central); };\n'), lines=60, drop="Syslog connection failed")),
        ("syslogng_socket_dir_missing", "filesystem", "No such file", _sng(a, "sng-sock", (
            'source s_app { unix-stream("/run/edge-agent/missing/app.sock"); };\n'
            'destination d_local { file("/dev/null"); };\n'
            'log { source(s_app); destination(d_local); };\n'))),
    ]


# --------------------------------------------------------------------------- collectd

_CD_LOG = 'LoadPlugin logfile\n<Plugin logfile>\n  LogLevel "{level}"\n  File STDERR\n  Timestamp true\n</Plugin>\n'


def _collectd(a: Agents, name: str, conf: str, *, test: bool = False, secs: float = 4, level: str = "warning") -> str:
    work = workdir(a, name)
    path = work / "collectd.conf"
    path.write_text(f'Hostname "edge-web-03"\nBaseDir "{work}"\nPIDFile "{work}/collectd.pid"\nInterval 1\n'
                    + _CD_LOG.format(level=level) + conf)
    if test:
        return f"timeout 10 collectd -T -C {path}"
    return window(f"collectd -f -C {path}", "", secs)


def _write_http(url: str, extra: str = "") -> str:
    return ('LoadPlugin memory\nLoadPlugin load\nLoadPlugin write_http\n<Plugin write_http>\n'
            f'  <Node "metrics-gw">\n    URL "{url}"\n    Format "JSON"\n    BufferSize 4096\n'
            f'    LogHttpError true\n{extra}'
            '  </Node>\n</Plugin>\n')


def _collectd_cases(env: Env, a: Agents) -> list[ToolCase]:
    return [
        ("collectd_python_read_attribute", "programming", "AttributeError", _collectd_python(
            a, "cd-pyread", "edge_queue", _PY_READ)),
        ("collectd_python_config_type", "programming", "TypeError", _collectd_python(
            a, "cd-pyconf", "edge_limits", _PY_CONFIG,
            '  <Module edge_limits>\n    MaxQueueDepth 5000\n    MaxLagSeconds 30\n  </Module>\n')),
        ("collectd_unclosed_block", "validation", "syntax error|Parse error", _collectd(a, "cd-block", (
            'LoadPlugin df\n<Plugin df>\n  MountPoint "/var/lib/postgresql"\n  ReportInodes true\n'
            'LoadPlugin memory\n'), test=True)),
        ("collectd_config_missing", "filesystem", "No such file",
         "timeout 10 collectd -T -C /etc/collectd/collectd.conf.d/edge-web.conf"),
        ("collectd_tail_bad_regex", "validation", "regular expression", _collectd(a, "cd-regex", (
            'LoadPlugin tail\n<Plugin tail>\n  <File "/var/log/nginx/access.log">\n    Instance "nginx"\n'
            '    <Match>\n      Regex "HTTP/1\\\\.[01]\\" ([0-9]{3}"\n      DSType "CounterInc"\n'
            '      Type "http_response_codes"\n    </Match>\n  </File>\n</Plugin>\n'
            f'LoadPlugin csv\n<Plugin csv>\n  DataDir "{workdir(a, "cd-regex")}/csv"\n</Plugin>\n'))),
        ("collectd_bool_option", "validation", "boolean", _collectd(a, "cd-bool", (
            'LoadPlugin memory\n<Plugin memory>\n  ValuesAbsolute "maybe"\n  ValuesPercentage true\n</Plugin>\n'
            f'LoadPlugin csv\n<Plugin csv>\n  DataDir "{workdir(a, "cd-bool")}/csv"\n</Plugin>\n'))),
        ("collectd_write_http_503", "service", "503", _collectd(a, "cd-503", _write_http(
            f"http://127.0.0.1:{a.es503}/api/v1/collectd"), level="info")),
        ("collectd_write_http_401", "auth", "401", _collectd(a, "cd-401", _write_http(
            f"http://127.0.0.1:{a.es401}/api/v1/collectd"), level="info")),
        ("collectd_write_http_403", "auth", "403", _collectd(a, "cd-403", _write_http(
            f"http://127.0.0.1:{a.es403}/api/v1/collectd", '    User "collectd"\n    Password "edge-web"\n'),
            level="info")),
        ("collectd_write_http_refused", "network", "connect|refused", _collectd(a, "cd-refused", _write_http(
            f"http://127.0.0.1:{env.closed_port}/api/v1/collectd"))),
        ("collectd_write_http_timeout", "network", "timed out|timeout", _collectd(a, "cd-timeout", _write_http(
            f"http://127.0.0.1:{env.hang_port}/api/v1/collectd", "    Timeout 1500\n"), secs=6)),
        ("collectd_graphite_refused", "network", "refused", _collectd(a, "cd-graphite", (
            'LoadPlugin memory\nLoadPlugin write_graphite\n<Plugin write_graphite>\n  <Node "graphite">\n'
            f'    Host "127.0.0.1"\n    Port "{env.closed_port}"\n    Protocol "tcp"\n    Prefix "collectd."\n'
            '  </Node>\n</Plugin>\n'))),
        ("collectd_csv_read_only", "filesystem", "Read-only", _collectd(a, "cd-ro", (
            f'LoadPlugin memory\nLoadPlugin csv\n<Plugin csv>\n  DataDir "{a.ro}/collectd/csv"\n</Plugin>\n'))),
        ("collectd_csv_full_disk", "resource", "No space left", _collectd(a, "cd-full", (
            'LoadPlugin memory\nLoadPlugin load\n'
            f'LoadPlugin csv\n<Plugin csv>\n  DataDir "{a.inodes}/csv"\n</Plugin>\n'))),
        ("collectd_postgresql_password", "auth", "password authentication failed", _collectd(a, "cd-pg", (
            'LoadPlugin postgresql\n<Plugin postgresql>\n  <Database "billing">\n    Host "127.0.0.1"\n'
            f'    Port "{a.pg_port}"\n    User "collectd"\n    Password "collectd-ro"\n'
            '    Query backends\n  </Database>\n</Plugin>\n'))),
        ("collectd_redis_password", "auth", "auth|password|WRONGPASS", _collectd(a, "cd-redis", (
            'LoadPlugin redis\n<Plugin redis>\n  <Node "sessions">\n    Host "127.0.0.1"\n'
            f'    Port "{a.redis_port}"\n    Password "metrics-2024"\n    Timeout 2000\n  </Node>\n</Plugin>\n'))),
    ]


_PY_READ = """import collectd


class QueueStats:
    def __init__(self, spool):
        self.spool = spool

    def depth(self):
        return len(self.spool.pending)


STATS = QueueStats(None)


def read():
    collectd.Values(plugin="edge_queue", type="queue_length").dispatch(values=[STATS.depth()])


collectd.register_read(read)
"""

_PY_CONFIG = """import collectd

LIMITS = {}


def configure(conf):
    for node in conf.children:
        collectd.info("edge_limits: " + node.key + " = " + node.values[0])
        LIMITS[node.key] = node.values[0]


collectd.register_config(configure)
"""


def _collectd_python(a: Agents, name: str, module: str, body: str, block: str = "") -> str:
    work = workdir(a, name)
    (work / f"{module}.py").write_text(body)
    return _collectd(a, name, (
        f'<LoadPlugin python>\n  Globals true\n</LoadPlugin>\n<Plugin python>\n  ModulePath "{work}"\n'
        f'  Import "{module}"\n{block}</Plugin>\n'
        f'LoadPlugin csv\n<Plugin csv>\n  DataDir "{work}/csv"\n</Plugin>\n'))


# --------------------------------------------------------------------------- node exporter

def _node_exporter(a: Agents, name: str, files: dict[str, str], flags: str = "", *, scrape: bool = True,
                   chmod: str = "", user: str = "") -> str:
    work = workdir(a, name)
    textdir = work / "textfile_collector"
    textdir.mkdir(exist_ok=True)
    for fname, body in files.items():
        (textdir / fname).write_text(body)
    port = free_port()
    prefix = f"runuser -u {user} -- " if user else ""
    cmd = (f"{prefix}prometheus-node-exporter --collector.disable-defaults --collector.textfile "
           f"--collector.textfile.directory={textdir} --web.listen-address=127.0.0.1:{port} {flags}")
    pre = f"chmod 755 {work}; {chmod}\n" if (chmod or user) else ""
    if not scrape:
        return pre + cmd
    return pre + window(cmd, f"curl -s -o /dev/null http://127.0.0.1:{port}/metrics", 3,
                        "level=info|running as root")


_BACKUP = ("# HELP backup_last_success_timestamp_seconds Unix time of the last successful backup.\n"
           "# TYPE backup_last_success_timestamp_seconds gauge\n")


def _node_exporter_cases(env: Env, a: Agents) -> list[ToolCase]:
    return [
        ("nodeexp_textfile_unclosed_label", "validation", "parsing error|parse", _node_exporter(a, "ne-label", {
            "pg_backup.prom": _BACKUP + 'backup_last_success_timestamp_seconds{job="pg-nightly",db="billing} '
                                        "1.764374e+09\n"})),
        ("nodeexp_textfile_bad_value", "validation", "parsing error|parse|float", _node_exporter(a, "ne-value", {
            "raid.prom": "# TYPE node_md_disks_degraded gauge\nnode_md_disks_degraded{device=\"md0\"} two\n"})),
        ("nodeexp_textfile_second_type", "validation", "second TYPE|TYPE", _node_exporter(a, "ne-type", {
            "apt.prom": "# TYPE apt_upgrades_pending gauge\napt_upgrades_pending{origin=\"Debian\"} 4\n"
                        "# TYPE apt_upgrades_pending counter\napt_upgrades_pending{origin=\"Debian-Security\"} 1\n"})),
        ("nodeexp_textfile_unreadable", "filesystem", "permission denied", _node_exporter(a, "ne-perm", {
            "smartmon.prom": "# TYPE smartmon_device_active gauge\nsmartmon_device_active{disk=\"/dev/sda\"} 1\n"},
            chmod=f"chmod 755 {workdir(a, 'ne-perm')}/textfile_collector; "
                  f"chmod 600 {workdir(a, 'ne-perm')}/textfile_collector/smartmon.prom",
            user="nobody")),
        ("nodeexp_web_config_missing", "filesystem", "no such file", _node_exporter(a, "ne-webcfg", {},
            "--web.config.file=/etc/prometheus/node-exporter-web.yml")),
        ("nodeexp_web_config_malformed", "validation", "yaml|unmarshal|field", _node_exporter(a, "ne-webyaml", {},
            f"--web.config.file={_write(a, 'ne-webyaml', 'web.yml', _WEB_YAML)}")),
        ("nodeexp_log_level", "validation", "log level|unrecognized|level", _node_exporter(a, "ne-loglevel", {},
            "--log.level=verbose", scrape=False)),
        ("nodeexp_mount_regex", "validation", "regexp|missing closing", _node_exporter(a, "ne-regex", {},
            "--collector.filesystem --collector.filesystem.mount-points-exclude='^/(dev|proc|sys|run/k3s'",
            scrape=False)),
    ]


_WEB_YAML = ("tls_server_config:\n  cert_file: /etc/prometheus/node-exporter.crt\n  key_file: "
             "/etc/prometheus/node-exporter.key\nbasic_auth_users:\n  prometheus: [\"$2y$10$abc\"]\n"
             "  bad_indent:\n   - x\n")


def _write(a: Agents, case: str, fname: str, body: str) -> str:
    path = workdir(a, case) / fname
    path.write_text(body)
    return str(path)


# --------------------------------------------------------------------------- blackbox exporter

def _probe(a: Agents, module: str, target: str) -> str:
    url = f"http://127.0.0.1:{a.blackbox_port}/probe?module={module}&target={target}&debug=true"
    return (f"out=$(curl -s --max-time 15 '{url}')\n"
            "printf '%s\\n' \"$out\" | sed -n '/^Logs for the probe:/,/^$/p' >&2\n"
            "printf '%s\\n' \"$out\" | grep -q '^probe_success 1' && exit 0\nexit 1\n")


def _bb_check(a: Agents, name: str, conf: str) -> str:
    return f"prometheus-blackbox-exporter --config.check --config.file={_write(a, name, 'blackbox.yml', conf)}"


def _blackbox_cases(env: Env, a: Agents) -> list[ToolCase]:
    closed, hang, reset = env.closed_port, env.hang_port, env.reset_port
    return [
        ("blackbox_http_refused", "network", "connection refused",
         _probe(a, "http_2xx", f"http://127.0.0.1:{closed}/healthz")),
        ("blackbox_http_timeout", "network", "deadline exceeded|timeout",
         _probe(a, "http_2xx", f"http://127.0.0.1:{hang}/healthz")),
        ("blackbox_http_reset", "network", "reset|EOF", _probe(a, "http_2xx", f"http://127.0.0.1:{reset}/healthz")),
        ("blackbox_https_untrusted", "network", "x509|certificate",
         _probe(a, "https_internal_ca", f"https://127.0.0.1:{a.tls_port}/status")),
        ("blackbox_http_503", "service", "503", _probe(a, "http_2xx", f"http://127.0.0.1:{a.es503}/_cluster/health")),
        ("blackbox_http_401", "auth", "401", _probe(a, "http_2xx", f"http://127.0.0.1:{a.es401}/_cluster/health")),
        ("blackbox_http_403", "auth", "403", _probe(a, "http_2xx", f"http://127.0.0.1:{a.es403}/_cluster/health")),
        ("blackbox_tcp_refused", "network", "connection refused", _probe(a, "tcp_connect", f"127.0.0.1:{closed}")),
        ("blackbox_dns_refused", "network", "connection refused|refused",
         _probe(a, "dns_internal", f"127.0.0.1:{closed}")),
        ("blackbox_unknown_module", "validation", "Unknown module",
         f"out=$(curl -s 'http://127.0.0.1:{a.blackbox_port}/probe?module=icmp_v4&target=10.20.0.1')\n"
         "printf '%s\\n' \"$out\" >&2; exit 1"),
        ("blackbox_config_unknown_field", "validation", "field|unmarshal", _bb_check(a, "bb-field", (
            "modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n    http:\n      valid_status_code: [200]\n"
            "      method: GET\n"))),
        ("blackbox_config_bad_duration", "validation", "duration|unmarshal|time", _bb_check(a, "bb-dur", (
            "modules:\n  tcp_connect:\n    prober: tcp\n    timeout: 5 seconds\n"))),
        ("blackbox_config_missing", "filesystem", "no such file",
         "prometheus-blackbox-exporter --config.check --config.file=/etc/prometheus/blackbox-edge.yml"),
    ]


def blind125_records(env: Env) -> list[Record]:
    a = prepare_agents(env)
    out: list[Record] = []
    for source, make in (("rsyslog125", _rsyslog_cases), ("syslogng125", _syslog_ng_cases),
                         ("collectd125", _collectd_cases), ("nodeexporter125", _node_exporter_cases),
                         ("blackbox125", _blackbox_cases)):
        out += tool_records(make(env, a), source, a.root, timeout=40)
    return out


if __name__ == "__main__":
    write_batch(blind125_records)


__all__ = ["BLIND125_SOURCES", "blind125_records"]
