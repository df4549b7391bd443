"""Sixty-eighth batch of blind provokers: the monitoring stack's own errors. Private Prometheus and Alertmanager
instances (Debian's packages; own configs, data dirs and free loopback ports, never the system services) log scrape
targets that refuse, reset, hang past the scrape timeout, answer 401/403/429/500/503, speak plain HTTP to an HTTPS
scrape or serve a body that is not the exposition format; remote_write queues to a local endpoint answering
401/429/500/503 or a closed port; alert notifications to Alertmanagers that refuse or answer 401/503; Alertmanager
webhook receivers that refuse or answer 401/429/500/503; servers that will not start (a data dir on a read-only
mount, a WAL on a full tmpfs, a config that does not parse, a missing config, a rule with a bad PromQL expression).
promtool and amtool check configs, rule files, web configs and exposition text that do not parse, that point at
missing files, or rules whose expression is not valid PromQL, and query local servers that refuse or answer
401/429/503. Only 127.0.0.1."""

from __future__ import annotations

import re
import time

from blind68_support import (
    ALERTMANAGER,
    PROMETHEUS,
    Daemon,
    exit_log,
    installed,
    post_alerts,
    start_alertmanager,
    start_prometheus,
)
from checked import ToolCase, problem
from common import Env, Record, free_port, record, run, write_batch
from servers import mount_tmpfs

BLIND68_SOURCES = frozenset({"prometheus68", "alertmanager68", "promtool68"})

#: scrape job -> (category, expected token, target, extra job settings); HTTP targets use the local status server
SCRAPES: dict[str, tuple[str, str, str, str]] = {
    "billing_refused": ("network", "refused", "127.0.0.1:CLOSED", ""),
    "billing_reset": ("network", "reset|EOF", "127.0.0.1:RESET", ""),
    "billing_empty": ("network", "EOF", "127.0.0.1:EMPTY", ""),
    "billing_timeout": ("network", "deadline|timeout", "127.0.0.1:HANG", "  scrape_timeout: 1s\n"),
    "billing_tls": ("network", "HTTPS|tls", "127.0.0.1:HTTP", "  scheme: https\n"),
    "billing_401": ("auth", "401", "127.0.0.1:HTTP", "  metrics_path: /status/401\n"),
    "billing_403": ("auth", "403", "127.0.0.1:HTTP", "  metrics_path: /status/403\n"),
    "billing_429": ("resource", "429", "127.0.0.1:HTTP", "  metrics_path: /status/429\n"),
    "billing_500": ("service", "500", "127.0.0.1:HTTP", "  metrics_path: /status/500\n"),
    "billing_503": ("service", "503", "127.0.0.1:HTTP", "  metrics_path: /status/503\n"),
    "billing_not_metrics": ("validation", "token|pars|expected", "127.0.0.1:HTTP", "  metrics_path: /ok\n"),
}

#: remote_write queue name -> (category, expected token, url)
REMOTE_WRITES: dict[str, tuple[str, str, str]] = {
    "thanos_401": ("auth", "401", "HTTPURL/status/401/api/v1/receive"),
    "thanos_429": ("resource", "429", "HTTPURL/status/429/api/v1/receive"),
    "thanos_500": ("service", "500", "HTTPURL/status/500/api/v1/receive"),
    "thanos_503": ("service", "503", "HTTPURL/status/503/api/v1/receive"),
    "thanos_refused": ("network", "refused", "http://127.0.0.1:CLOSED/api/v1/receive"),
}

#: Alertmanager target of Prometheus's notifier -> (category, expected token, target, path prefix)
NOTIFIERS: dict[str, tuple[str, str, str, str]] = {
    "notify_refused": ("network", "refused", "127.0.0.1:CLOSED", "/"),
    "notify_401": ("auth", "401", "127.0.0.1:HTTP", "/status/401"),
    "notify_503": ("service", "503", "127.0.0.1:HTTP", "/status/503"),
}

#: Alertmanager webhook receiver -> (category, expected token, url)
WEBHOOKS: dict[str, tuple[str, str, str]] = {
    "pager_refused": ("network", "refused", "http://127.0.0.1:CLOSED/hook"),
    "pager_401": ("auth", "401", "HTTPURL/status/401/hook"),
    "pager_429": ("resource", "429", "HTTPURL/status/429/hook"),
    "pager_500": ("service", "500", "HTTPURL/status/500/hook"),
    "pager_503": ("service", "503", "HTTPURL/status/503/hook"),
}


def _fill(env: Env, text: str) -> str:
    return (text.replace("HTTPURL", env.http).replace("CLOSED", str(env.closed_port))
            .replace("RESET", str(env.reset_port)).replace("EMPTY", str(env.empty_port))
            .replace("HANG", str(env.hang_port)).replace("HTTP", str(env.http_port)).replace("TMP", str(env.tmp)))


def _prometheus_config(env: Env) -> str:
    parts = ["global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n  scrape_timeout: 1s\n",
             f"rule_files:\n  - {env.tmp}/always.rules.yml\n", "alerting:\n  alertmanagers:\n"]
    for (_, _, target, prefix) in NOTIFIERS.values():
        parts.append(f"  - path_prefix: {prefix}\n    timeout: 2s\n    static_configs:\n    - targets: ['{target}']\n")
    parts.append("remote_write:\n")
    for name, (_, _, url) in REMOTE_WRITES.items():
        parts.append(f"- name: {name}\n  url: {url}\n  remote_timeout: 2s\n  queue_config:\n"
                     "    batch_send_deadline: 500ms\n    min_backoff: 200ms\n    max_backoff: 1s\n")
    parts.append("scrape_configs:\n- job_name: self\n  static_configs:\n  - targets: ['127.0.0.1:PORT']\n")
    for job, (_, _, target, extra) in SCRAPES.items():
        parts.append(f"- job_name: {job}\n{extra}  static_configs:\n  - targets: ['{target}']\n")
    return _fill(env, "".join(parts))


def prometheus_records(env: Env) -> list[Record]:
    """One private Prometheus: its debug log for each failing scrape, remote_write queue and notifier target."""
    (env.tmp / "always.rules.yml").write_text(
        "groups:\n- name: capacity\n  rules:\n  - alert: QueueBacklog\n    expr: vector(1)\n"
        "    labels:\n      severity: page\n")
    prom = start_prometheus(env, _prometheus_config(env), None, "--rules.alert.resend-delay=1s")
    if prom is None:
        return []
    out: list[Record] = []
    try:
        time.sleep(7)
        for job, (category, token, _, _) in SCRAPES.items():
            line = prom.first(f"scrape_pool={job} ", ' failed" err=', level=re.compile(r"level="))
            _keep(out, f"prometheus68_scrape_{job}", line, token, category, "prometheus68")
        for name, (category, token, _) in REMOTE_WRITES.items():
            _keep(out, f"prometheus68_remote_write_{name}", prom.first(f"remote_name={name} ", "err="), token,
                  category, "prometheus68")
        for name, (category, token, target, prefix) in NOTIFIERS.items():
            url = f"http://{_fill(env, target)}{prefix.rstrip('/')}/api/v2/alerts"
            _keep(out, f"prometheus68_{name}", prom.first(f"alertmanager={url} ", "err="), token, category,
                  "prometheus68")
    finally:
        prom.stop()
    return out


def _caused(name: str, text: str, token: str) -> bool:
    """The cause check of ``checked.has_token``, except that a status code token counts only as a number of its
    own: not inside a port, a timestamp, a ``/status/NNN`` path of the local server or a job name like
    ``billing_401`` (those name the status we chose, they are no evidence that it was met)."""
    for alt in token.split("|"):
        if alt.isdigit():
            if re.search(rf"(?<![\d:_.=/-]){alt}(?!\d)", text):
                return True
        elif alt.lower() in text.lower():
            return True
    problem(name, f"not the provoked cause (no {token!r})")
    return False


def _keep(out: list[Record], name: str, text: str, token: str, category: str, source: str) -> None:
    if not text:
        problem(name, "no failure logged")
    elif _caused(name, text, token):
        out.append(record(text, category, source, "stderr", name))


def _tool_records(env: Env, cases: list[ToolCase], source: str) -> list[Record]:
    """Each bash script's output when it failed and carries the token (checked as in ``_keep``)."""
    out: list[Record] = []
    for name, category, token, script in cases:
        try:
            proc = run(["bash", "-c", _fill(env, str(script))], cwd=env.tmp, timeout=30)
        except Exception as harness:  # a hang is the harness's problem, not a record
            problem(name, type(harness).__name__)
            continue
        text = (proc.stderr.strip() or proc.stdout.strip()) if proc.returncode else ""
        _keep(out, name, text, token, category, source)
    return out


def alertmanager_records(env: Env) -> list[Record]:
    """One private Alertmanager routing one alert to each failing webhook receiver; its log for each."""
    routes = "".join(f"  - matchers: ['receiver=\"{name}\"']\n    receiver: {name}\n" for name in WEBHOOKS)
    receivers = "".join(f"- name: {name}\n  webhook_configs:\n  - url: {_fill(env, url)}\n    send_resolved: false\n"
                        for name, (_, _, url) in WEBHOOKS.items())
    config = ("route:\n  receiver: blackhole\n  group_by: [alertname, receiver]\n  group_wait: 0s\n"
              "  group_interval: 5s\n  repeat_interval: 1h\n  routes:\n" + routes
              + "receivers:\n- name: blackhole\n" + receivers)
    am = start_alertmanager(env, config)
    if am is None:
        return []
    out: list[Record] = []
    try:
        post_alerts(am.port, [{"labels": {"alertname": "DiskWillFillIn4h", "receiver": name, "severity": "page"}}
                              for name in WEBHOOKS])
        time.sleep(4)
        for name, (category, token, _) in WEBHOOKS.items():
            line = am.first(f"receiver={name} ", "err=") or am.first("err=", f"{name}/webhook")
            _keep(out, f"alertmanager68_webhook_{name}", line, token, category, "alertmanager68")
    finally:
        am.stop()
    return out


def startup_records(env: Env) -> list[Record]:
    """Servers that will not start, or fail as they stop: their warn/error lines and any Go panic."""
    ro = mount_tmpfs(env, "prom68-ro", "ro,size=64k")
    full = mount_tmpfs(env, "prom68-full", "size=256k")
    with (full / "backfill.bin").open("wb") as fh:  # leave 32k: the query log fits, the WAL's first page does not
        fh.write(b"\0" * (224 * 1024))
    conf = env.tmp / "prom68"
    conf.mkdir()
    (conf / "ok.yml").write_text("global:\n  scrape_interval: 1s\nscrape_configs:\n- job_name: self\n"
                                 "  static_configs:\n  - targets: ['127.0.0.1:9']\n")
    (conf / "broken.yml").write_text("global:\n  scrape_interval: 15s\nscrape_configs:\n- job_name: node\n"
                                     "  static_configs:\n    - targets: ['127.0.0.1:9100'\n")
    (conf / "badrule.yml").write_text(f"rule_files:\n  - {conf}/latency.rules.yml\nscrape_configs: []\n")
    (conf / "latency.rules.yml").write_text(
        "groups:\n- name: latency\n  rules:\n  - record: job:http_latency_seconds:p99\n"
        "    expr: histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m]))\n")
    (conf / "am-ok.yml").write_text("route:\n  receiver: pager\nreceivers:\n- name: pager\n")
    (conf / "am-broken.yml").write_text("route:\n  receiver: pager\n  group_wait: 30\nreceivers:\n- name: pager\n"
                                        "  webhook_configs:\n  - url: http://127.0.0.1:9/hook\n")

    def prom(config: str, data: str, port: int = 0) -> list[str]:
        return [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port or free_port()}"]

    busy = free_port()  # the full disk's instance scrapes itself: hundreds of series fill the WAL's first page
    (conf / "self.yml").write_text(f"global:\n  scrape_interval: 500ms\nscrape_configs:\n- job_name: self\n"
                                   f"  static_configs:\n  - targets: ['127.0.0.1:{busy}']\n")

    out = exit_log(env, "prometheus68_data_read_only", prom(f"{conf}/ok.yml", str(ro)), "read-only", "filesystem",
                   "prometheus68")
    out += exit_log(env, "prometheus68_wal_disk_full", prom(f"{conf}/self.yml", str(full), busy), "no space",
                    "resource", "prometheus68", run_for=8)
    out += exit_log(env, "prometheus68_config_unparsable", prom(f"{conf}/broken.yml", f"{conf}/d1"), "yaml",
                    "validation", "prometheus68")
    out += exit_log(env, "prometheus68_config_missing", prom(f"{conf}/prometheus.yml", f"{conf}/d2"),
                    "no such file", "filesystem", "prometheus68")
    out += exit_log(env, "prometheus68_rule_bad_promql", prom(f"{conf}/badrule.yml", f"{conf}/d3"), "parse",
                    "programming", "prometheus68")
    out += exit_log(env, "alertmanager68_config_invalid",
                    [ALERTMANAGER, f"--config.file={conf}/am-broken.yml", f"--storage.path={conf}/am1",
                     f"--web.listen-address=127.0.0.1:{free_port()}", "--cluster.listen-address="],
                    "group_wait|unmarshal|duration", "validation", "alertmanager68")
    out += exit_log(env, "alertmanager68_storage_read_only",
                    [ALERTMANAGER, f"--config.file={conf}/am-ok.yml", f"--storage.path={ro}/alertmanager",
                     f"--web.listen-address=127.0.0.1:{free_port()}", "--cluster.listen-address="],
                    "read-only", "filesystem", "alertmanager68")
    return out


PROMTOOL_FILES: dict[str, str] = {
    "prometheus-staging.yml": "global:\n  scrape_interval: 15s\n scrape_configs:\n  - job_name: api\n",
    "prometheus-edge.yml": "global:\n  scrape_intervall: 15s\nscrape_configs: []\n",
    "prometheus-batch.yml": "global:\n  scrape_interval: 15 seconds\nscrape_configs: []\n",
    "prometheus-canary.yml": "global:\n  scrape_interval: 10s\n  scrape_timeout: 30s\nscrape_configs: []\n",
    "prometheus-api.yml": "scrape_configs:\n- job_name: api\n  relabel_configs:\n  - source_labels: [__address__]\n"
                       "    regex: '(.+:[0-9]+'\n    target_label: instance\n  static_configs:\n"
                       "  - targets: ['127.0.0.1:9']\n",
    "prometheus-slo.yml": "rule_files:\n  - TMP/promtool68/rules/slo.rules.yml\nscrape_configs: []\n",
    "prometheus-mtls.yml": "scrape_configs:\n- job_name: api\n  scheme: https\n  tls_config:\n"
                        "    cert_file: TMP/promtool68/tls/client.crt\n    key_file: TMP/promtool68/tls/client.key\n"
                        "  static_configs:\n  - targets: ['127.0.0.1:9']\n",
    "api-alerts.rules.yml": "groups:\n- name: api\n  rules:\n  - alert: HighErrorRate\n    expr: up == 0\n   for: 5m\n",
    "api-errors.rules.yml": "groups:\n- name: api\n  rules:\n  - alert: HighErrorRate\n"
                        "    expr: sum(rate(http_requests_total{code=~\"5..\"}[5m]))"
                        " / sum(rate(http_requests_total[5m]) > 0.05\n",
    "api-requests.rules.yml": "groups:\n- name: api\n  rules:\n  - record: job:requests:rate5m\n"
                             "    expr: sum by (job) (rates(http_requests_total[5m]))\n",
    "node-cpu.rules.yml": "groups:\n- name: api\n  rules:\n  - record: job:cpu:avg\n"
                              "    expr: avg_over_time(sum by (job) (node_cpu_seconds_total))\n",
    "instance.rules.yml": "groups:\n- name: api\n  rules:\n  - alert: InstanceDown\n    expr: up == 0\n"
                               "    severity: page\n",
    "web-tls.yml": "tls_server_config:\n  cert_file: TMP/promtool68/tls/server.crt\n"
                            "  key_file: TMP/promtool68/tls/server.key\n",
    "web-auth.yml": "basic_auth_users:\n  admin: $2y$10$abc\n bad\n",
}

PROMTOOL: list[ToolCase] = [
    ("promtool68_config_yaml", "validation", "yaml", "promtool check config TMP/promtool68/prometheus-staging.yml"),
    ("promtool68_config_unknown_field", "validation", "not found|field", "promtool check config "
     "TMP/promtool68/prometheus-edge.yml"),
    ("promtool68_config_bad_duration", "validation", "duration|unmarshal", "promtool check config "
     "TMP/promtool68/prometheus-batch.yml"),
    ("promtool68_config_timeout", "validation", "timeout", "promtool check config "
     "TMP/promtool68/prometheus-canary.yml"),
    ("promtool68_config_relabel_regex", "validation", "regex|regexp", "promtool check config "
     "TMP/promtool68/prometheus-api.yml"),
    ("promtool68_config_missing_rule_file", "filesystem", "existing file|no such file", "promtool check config "
     "TMP/promtool68/prometheus-slo.yml"),
    ("promtool68_config_missing_cert", "filesystem", "no such file", "promtool check config "
     "TMP/promtool68/prometheus-mtls.yml"),
    ("promtool68_config_file_missing", "filesystem", "does not exist", "promtool check config "
     "TMP/promtool68/prometheus.yml"),
    ("promtool68_rules_yaml", "validation", "yaml", "promtool check rules TMP/promtool68/api-alerts.rules.yml"),
    ("promtool68_rules_unknown_field", "validation", "not found|field", "promtool check rules "
     "TMP/promtool68/instance.rules.yml"),
    ("promtool68_rules_promql_paren", "programming", "parse error", "promtool check rules "
     "TMP/promtool68/api-errors.rules.yml"),
    ("promtool68_rules_promql_function", "programming", "unknown function|parse error", "promtool check rules "
     "TMP/promtool68/api-requests.rules.yml"),
    ("promtool68_rules_promql_range", "programming", "range vector|expected type", "promtool check rules "
     "TMP/promtool68/node-cpu.rules.yml"),
    ("promtool68_rules_missing", "filesystem", "does not exist", "promtool check rules TMP/promtool68/alerts.yml"),
    ("promtool68_web_config_missing_cert", "filesystem", "no such file", "promtool check web-config "
     "TMP/promtool68/web-tls.yml"),
    ("promtool68_web_config_yaml", "validation", "yaml", "promtool check web-config TMP/promtool68/web-auth.yml"),
    ("promtool68_metrics_unparsable", "validation", "pars", "printf '# TYPE jobs_total counter\\n"
     "jobs_total{queue=\"mail\" 3\\n' | promtool check metrics"),
    ("promtool68_tsdb_missing_dir", "filesystem", "no such file", "promtool tsdb analyze TMP/promtool68/data"),
    ("promtool68_query_refused", "network", "refused", "promtool query instant http://127.0.0.1:CLOSED up"),
    ("promtool68_query_401", "auth", "401", "promtool query instant HTTPURL/status/401 up"),
    ("promtool68_query_429", "resource", "429", "promtool query instant HTTPURL/status/429 up"),
    ("promtool68_query_503", "service", "503", "promtool query instant HTTPURL/status/503 up"),
]

AMTOOL_FILES: dict[str, str] = {
    "alertmanager-eu.yml": "route:\n  receiver: pager\n group_by: [alertname]\nreceivers:\n- name: pager\n",
    "alertmanager-us.yml": "route:\n  receiver: oncall\nreceivers:\n- name: pager\n",
    "alertmanager-ops.yml": "route:\n  receiver: pager\nreceivers:\n- name: pager\n  webhook_configs:\n"
                      "  - url: '127.0.0.1 9/hook'\n",
    "alertmanager-dev.yml": "route:\n  receiver: pager\nreceivers:\n- name: pager\n- name: pager\n",
}

AMTOOL: list[ToolCase] = [
    ("amtool68_check_config_yaml", "validation", "yaml", "amtool check-config TMP/promtool68/alertmanager-eu.yml 2>&1"),
    ("amtool68_check_config_undefined_receiver", "validation", "undefined receiver", "amtool check-config "
     "TMP/promtool68/alertmanager-us.yml 2>&1"),
    ("amtool68_check_config_bad_url", "validation", "url|scheme", "amtool check-config "
     "TMP/promtool68/alertmanager-ops.yml 2>&1"),
    ("amtool68_check_config_duplicate", "validation", "not unique|duplicate", "amtool check-config "
     "TMP/promtool68/alertmanager-dev.yml 2>&1"),
    ("amtool68_check_config_missing", "filesystem", "does not exist|no such file", "amtool check-config "
     "TMP/promtool68/alertmanager.yml 2>&1"),
    ("amtool68_query_refused", "network", "refused", "amtool alert query --alertmanager.url=http://127.0.0.1:CLOSED"),
    ("amtool68_query_401", "auth", "401|unauthorized", "amtool alert query --alertmanager.url=HTTPURL/status/401"),
    ("amtool68_silence_503", "service", "503|unavailable", "amtool silence add --alertmanager.url=HTTPURL/status/503 "
     "--comment=maintenance --duration=2h alertname=DiskWillFillIn4h"),
    ("amtool68_alert_add_429", "resource", "429|too many", "amtool alert add --alertmanager.url=HTTPURL/status/429 "
     "DiskWillFillIn4h severity=page"),
    ("amtool68_silence_bad_duration", "validation", "duration|unknown unit", "amtool silence add "
     "--alertmanager.url=http://127.0.0.1:CLOSED --comment=maintenance --duration=2hours alertname=Disk"),
]


def tool_side_records(env: Env) -> list[Record]:
    folder = env.tmp / "promtool68"
    folder.mkdir()
    for name, text in {**PROMTOOL_FILES, **AMTOOL_FILES}.items():
        (folder / name).write_text(_fill(env, text))
    out = _tool_records(env, PROMTOOL, "promtool68")
    out += _tool_records(env, AMTOOL, "alertmanager68")
    return out


def blind68_records(env: Env) -> list[Record]:
    if not installed():
        problem("blind68", "prometheus, prometheus-alertmanager, promtool or amtool missing")
        return []
    out = tool_side_records(env)
    out += prometheus_records(env)
    out += alertmanager_records(env)
    out += startup_records(env)
    return out


if __name__ == "__main__":
    write_batch(blind68_records)


__all__ = ["BLIND68_SOURCES", "Daemon", "blind68_records"]
