"""Ninety-sixth batch of blind provokers: observability backends' clients, each against a fake of its backend
on 127.0.0.1 (blind96_support) or a misbehaving port. python-logging-loki pushing to Loki (a closed port, a
wrong tenant password, the ingestion rate limit, an entry replayed out of order, an ingester not ready, and the
handler's own report of a rate-limited push); grafana-client against the Grafana HTTP API (an invalid API key, a
viewer token saving a dashboard, a dashboard without a title, a 500, a dashboard file that is missing, a
mistyped API attribute); py_zipkin's HTTP transport (a collector resetting the connection, a 503, a trace id
taken from a request header that is not lower-hex, a root span without a transport); the Elastic APM agent's
HTTP transport (the intake's rate limit, the agent's log of a refused secret token, a server certificate path
that does not exist); graphyte's plaintext protocol (a listener resetting a large flush, too many open files, a
metric name with a space, a value of the wrong type); libhoney's responses queue (an unknown team key, a rate
limit, fields given as a list); Splunk HEC through requests and splunk-handler (an invalid token, a raw body
that is not an event, a busy server, an untrusted certificate, a CA bundle path that does not exist); and
Prometheus remote write through prometheus-remote-writer (a sample out of order, a 500 from the ingesters, a
receiver that never answers, a write-ahead directory on a read-only mount). Only 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import logging
import time
from pathlib import Path
from typing import Any

from blind85_support import expect, few_open_files
from blind96_support import (
    APM_SECRET,
    HEC_TOKEN,
    HONEYCOMB_KEY,
    LOKI_TENANTS,
    REMOTE_WRITE_TOKEN,
    grafana_records,
    observability_fake,
    resetting_listener,
    run_python,
)
from checked import PyCase, has_token, python_records
from common import Env, Record, record, write_batch
from servers import mount_tmpfs, self_signed_https

BLIND96_SOURCES = frozenset({"logging-loki96", "grafana-client96", "py-zipkin96", "elastic-apm96", "graphyte96",
                             "libhoney96", "splunk-hec96", "remote-writer96"})

# --------------------------------------------------------------------------- Loki


def _loki_cases(ok: str, busy: str, down: str, env: Env) -> list[PyCase]:
    from logging_loki.emitter import LokiEmitterV1

    def ship(base: str, auth: tuple[str, str] | None = ("ops", LOKI_TENANTS["ops"]),
             tags: dict[str, Any] | None = None) -> None:
        emitter = LokiEmitterV1(f"{base}/loki/api/v1/push", tags={"app": "checkout", "env": "prod"}, auth=auth)
        rec = logging.LogRecord("checkout.payments", logging.ERROR, "payments.py", 118, "payment %s declined",
                                ("pi_3Nq96",), None)
        if tags is not None:
            rec.tags = tags  # what `extra={"tags": ...}` sets
        emitter(rec, "payment pi_3Nq96 declined: card_expired")

    def order_id_label() -> None:
        order = {"id": 96412, "customer": "c_2207"}  # straight from the order row
        ship(ok, tags={"order_id": order["id"]})

    return [
        ("loki_push_refused", "network", "logging-loki96", "ConnectionError",
         lambda: ship(f"http://127.0.0.1:{env.closed_port}")),
        ("loki_push_unauthorized", "auth", "logging-loki96", "ValueError",
         expect("401", lambda: ship(ok, auth=("ops", "loki-pass-69")))),
        ("loki_push_rate_limited", "resource", "logging-loki96", "ValueError", expect("429", lambda: ship(busy))),
        ("loki_push_label_not_string", "validation", "logging-loki96", "ValueError", expect("400", order_id_label)),
        ("loki_push_ingester_not_ready", "service", "logging-loki96", "ValueError", expect("503", lambda: ship(down))),
    ]


_LOKI_HANDLER = """
import logging, logging_loki
handler = logging_loki.LokiHandler(url="BUSY/loki/api/v1/push", tags={"app": "billing"},
                                   auth=("ops", "loki-pass-96"), version="1")
log = logging.getLogger("billing.invoices")
log.addHandler(handler)
log.setLevel(logging.INFO)
log.info("invoice run finished: %d invoices", 412)
"""

# --------------------------------------------------------------------------- Grafana (its own virtualenv)

_GRAFANA_HEAD = "from grafana_client import GrafanaApi\n\n"

GRAFANA_PROGRAMS: list[tuple[str, str, str, str, str]] = [
    ("grafana_invalid_api_key", "auth", "grafana-client96", "GrafanaUnauthorizedError", _GRAFANA_HEAD + """
grafana = GrafanaApi.from_url("OK", credential="glsa_rotated_2025")
for hit in grafana.search.search_dashboards(query="checkout", tag="prod"):
    print(hit["uid"], hit["title"])
"""),
    ("grafana_viewer_saves_dashboard", "auth", "grafana-client96", "GrafanaClientError", _GRAFANA_HEAD + """
grafana = GrafanaApi.from_url("OK", credential="glsa_viewer_96")
dashboard = {"uid": "checkout-latency", "title": "Checkout latency", "panels": [], "schemaVersion": 39}
grafana.dashboard.update_dashboard({"dashboard": dashboard, "folderUid": "payments", "overwrite": True})
"""),
    ("grafana_dashboard_without_title", "validation", "grafana-client96", "GrafanaBadInputError", _GRAFANA_HEAD + """
import json

grafana = GrafanaApi.from_url("OK", credential="glsa_editor_96")
with open("exported-dashboard.json", encoding="utf-8") as f:
    dashboard = json.load(f)
grafana.dashboard.update_dashboard({"dashboard": dashboard, "message": "sync from git", "overwrite": True})
"""),
    ("grafana_server_error", "service", "grafana-client96", "GrafanaServerError", _GRAFANA_HEAD + """
grafana = GrafanaApi.from_url("DOWN", credential="glsa_editor_96")
print(len(grafana.search.search_dashboards(type_="dash-db")))
"""),
    ("grafana_dashboard_file_missing", "filesystem", "grafana-client96", "FileNotFoundError", _GRAFANA_HEAD + """
import json
from pathlib import Path

grafana = GrafanaApi.from_url("OK", credential="glsa_editor_96")
for name in ["checkout.json", "payments.json"]:
    dashboard = json.loads((Path("provisioning") / "dashboards" / name).read_text(encoding="utf-8"))
    grafana.dashboard.update_dashboard({"dashboard": dashboard, "overwrite": True})
"""),
    ("grafana_mistyped_api", "programming", "grafana-client96", "AttributeError", _GRAFANA_HEAD + """
grafana = GrafanaApi.from_url("OK", credential="glsa_editor_96")
board = grafana.dashboards.get_dashboard("checkout-latency")
print(board["meta"]["version"])
"""),
]

# --------------------------------------------------------------------------- Zipkin


def _zipkin_cases(down: str, env: Env) -> list[PyCase]:
    from py_zipkin.transport import SimpleHTTPTransport
    from py_zipkin.zipkin import zipkin_span

    def relay_buffered_spans() -> None:
        # a sidecar forwards the spans its agents buffered on disk, one V2 JSON list per file
        spool = env.tmp / "zipkin96-spans.json"
        spool.write_text(json.dumps([{"traceId": "5af7183fb1d4cf5f", "id": "6b221d5bc9e6496c", "name": "get /cart",
                                      "timestamp": int(time.time() * 1e6), "duration": 41200, "kind": "SERVER",
                                      "localEndpoint": {"serviceName": "checkout"}}]), encoding="utf-8")
        transport = SimpleHTTPTransport("127.0.0.1", int(down.rsplit(":", 1)[1]))
        transport(spool.read_bytes())

    def root_without_transport() -> None:
        with zipkin_span(service_name="checkout", span_name="GET /cart", sample_rate=10.0):
            pass

    return [
        ("zipkin_relay_collector_503", "service", "py-zipkin96", "HTTPError", relay_buffered_spans),
        ("zipkin_root_span_no_transport", "programming", "py-zipkin96", "ZipkinError", root_without_transport),
    ]


#: a request handler traced with py_zipkin, whose span is reported to the collector on PORT when it ends
_ZIPKIN_TRACED = """
import logging, time
from py_zipkin import Encoding
from py_zipkin.transport import SimpleHTTPTransport
from py_zipkin.zipkin import ZipkinAttrs, zipkin_span
logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
headers = {"X-B3-TraceId": "TRACEID", "X-B3-SpanId": "a2fb4a1d1a96d312", "X-B3-Sampled": "1"}
attrs = ZipkinAttrs(trace_id=headers["X-B3-TraceId"], span_id=headers["X-B3-SpanId"], parent_span_id=None,
                    flags="0", is_sampled=True)
with zipkin_span(service_name="checkout", span_name="POST /cart/checkout", zipkin_attrs=attrs,
                 transport_handler=SimpleHTTPTransport("127.0.0.1", PORT), encoding=Encoding.V2_JSON):
    time.sleep(0.01)
"""


# --------------------------------------------------------------------------- Elastic APM


def _apm_cases(busy: str) -> list[PyCase]:
    import elasticapm
    from elasticapm.transport.http import Transport

    def rate_limited() -> None:
        client = elasticapm.Client(service_name="checkout", server_url=busy, secret_token=APM_SECRET,
                                   central_config=False, cloud_provider="none", metrics_interval="0ms")
        try:
            transport = Transport(f"{busy}/intake/v2/events", client=client, timeout=5)
            events = [{"metadata": {"service": {"name": "checkout", "agent": {"name": "python", "version": "6"}}}},
                      {"transaction": {"id": "a96f0e5b2c1d3e4f", "trace_id": "0af7651916cd43dd8448eb211c80319c",
                                       "name": "POST /cart/checkout", "type": "request", "duration": 41.2,
                                       "span_count": {"started": 3}}}]
            transport.send(gzip.compress("".join(json.dumps(e) + "\n" for e in events).encode()))
        finally:
            client.close()

    return [("apm_intake_rate_limited", "resource", "elastic-apm96", "TransportException",
             expect("rate limit", rate_limited))]


_APM_AGENT = """
import logging, elasticapm
logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
client = elasticapm.Client(service_name="billing", server_url="OK", secret_token="apm-secret-2025",
                           central_config=False, cloud_provider="none", metrics_interval="0ms")
client.capture_message("invoice run finished with 3 failures")
client.close()
"""

_APM_CERT = """
import logging, elasticapm
logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
client = elasticapm.Client(service_name="billing", server_url="OK", secret_token="apm-secret-96",
                           server_cert="/etc/elastic/apm-server/certs/apm-server.crt", central_config=False,
                           cloud_provider="none", metrics_interval="0ms")
client.close()
"""

# --------------------------------------------------------------------------- graphyte


def _graphyte_cases(reset_port: int) -> list[PyCase]:
    import graphyte

    def flush_large_batch() -> None:
        sender = graphyte.Sender("127.0.0.1", port=reset_port, prefix="web96", timeout=5, raise_send_errors=True)
        now = time.time()
        batch = b"".join(sender.build_message(f"requests.{route}.{i}", i * 0.5, now)
                         for i in range(300_000) for route in ("cart", "checkout"))
        sender.send_message(batch)

    def emfile() -> None:
        sender = graphyte.Sender("127.0.0.1", port=2003, prefix="worker96", timeout=3, raise_send_errors=True)
        leaked: list[Any] = []  # a worker that opens a report per job and never closes it
        with few_open_files(16):
            try:
                while True:
                    leaked.append(open("/dev/null", encoding="utf-8"))  # noqa: SIM115
            except OSError:
                pass
            try:
                sender.send("jobs.completed", 1)
            finally:
                for f in leaked:
                    f.close()

    def name_from_inventory() -> None:
        hosts = ["web-01", "web 02", "web-03"]  # read from the inventory sheet
        sender = graphyte.Sender("127.0.0.1", port=2003, prefix="hosts", raise_send_errors=True)
        for host in hosts:
            sender.build_message(f"{host}.disk.used_pct", 71.5, time.time())

    def value_as_text() -> None:
        sender = graphyte.Sender("127.0.0.1", port=2003, prefix="queue96", raise_send_errors=True)
        depth = {"queue": "mailers", "depth": "128"}
        sender.build_message(f"{depth['queue']}.depth", depth["depth"], time.time())

    return [
        ("graphyte_flush_reset", "network", "graphyte96", "ConnectionResetError|BrokenPipeError", flush_large_batch),
        ("graphyte_too_many_open_files", "resource", "graphyte96", "OSError",
         expect("Too many open files", emfile)),
        ("graphyte_metric_name_space", "validation", "graphyte96", "ValueError", name_from_inventory),
        ("graphyte_value_wrong_type", "programming", "graphyte96", "TypeError", value_as_text),
    ]


# --------------------------------------------------------------------------- libhoney


def _libhoney_cases(ok: str, busy: str) -> list[PyCase]:
    import libhoney

    def send_and_check(host: str, writekey: str) -> None:
        client = libhoney.Client(writekey=writekey, dataset="checkout-prod", api_host=host, block_on_response=True,
                                 max_batch_size=1, send_frequency=0.05)
        try:
            ev = client.new_event()
            ev.add({"route": "/cart/checkout", "status": 200, "duration_ms": 41.2})
            ev.send()
            response = client.responses().get(timeout=10)
        finally:
            client.close()
        if response["error"]:
            raise response["error"]

    def fields_as_list() -> None:
        client = libhoney.Client(writekey=HONEYCOMB_KEY, dataset="checkout-prod", api_host=ok)
        try:
            ev = client.new_event()
            ev.add([("route", "/cart/checkout"), ("status", 200)])
        finally:
            client.close()

    return [
        ("libhoney_unknown_team_key", "auth", "libhoney96", "HTTPError",
         expect("401", lambda: send_and_check(ok, "hcaik_96_old_key"))),
        ("libhoney_rate_limited", "resource", "libhoney96", "HTTPError|RetryError",
         expect("429", lambda: send_and_check(busy, HONEYCOMB_KEY))),
        ("libhoney_fields_as_list", "programming", "libhoney96", "TypeError", fields_as_list),
    ]


# --------------------------------------------------------------------------- Splunk HEC


def _splunk_cases(ok: str, tls_port: int) -> list[PyCase]:
    import requests

    def post(url: str, body: str, token: str = HEC_TOKEN, verify: Any = True) -> None:
        resp = requests.post(url, data=body.encode(), headers={"Authorization": f"Splunk {token}"}, timeout=5,
                             verify=verify)
        resp.raise_for_status()

    event = json.dumps({"time": time.time(), "host": "web-01", "sourcetype": "_json", "index": "checkout",
                        "event": {"msg": "payment declined", "order": 96412}})
    hec = f"{ok}/services/collector/event"
    raw_line = '2026-11-04T10:12:01Z web-01 checkout[412]: payment declined order=96412'
    return [
        ("splunk_hec_invalid_token", "auth", "splunk-hec96", "HTTPError",
         expect("403", lambda: post(hec, event, token="5d1e7c1a-0000-4b0e-9c3e-0f9f6d2a9696"))),
        ("splunk_hec_invalid_data", "validation", "splunk-hec96", "HTTPError",
         expect("400", lambda: post(hec, raw_line))),
        ("splunk_hec_untrusted_cert", "network", "splunk-hec96", "SSLError",
         lambda: post(f"https://127.0.0.1:{tls_port}/services/collector/event", event)),
        ("splunk_hec_ca_bundle_missing", "filesystem", "splunk-hec96", "OSError",
         expect("invalid path", lambda: post(f"https://127.0.0.1:{tls_port}/services/collector/event", event,
                                             verify="/etc/splunk/hec/ca-bundle.pem"))),
    ]


_SPLUNK_HANDLER = """
import logging
from splunk_handler import SplunkHandler
handler = SplunkHandler(host="127.0.0.1", port=PORT, token="TOKEN", index="billing", protocol="http",
                        verify=False, flush_interval=0, retry_count=1, retry_backoff=0.1, timeout=5)
log = logging.getLogger("billing")
log.addHandler(handler)
log.setLevel(logging.INFO)
log.warning("invoice run finished with %d failures", 3)
"""

# --------------------------------------------------------------------------- Prometheus remote write


def _remote_write_cases(ok: str, down: str, env: Env, ro: Path) -> list[PyCase]:
    from prometheus_remote_writer import RemoteWriter

    def writer(base: str, timeout: float = 5) -> RemoteWriter:
        return RemoteWriter(url=f"{base}/api/v1/write", auth={"bearer_token": REMOTE_WRITE_TOKEN}, retries=0,
                            timeout=timeout)

    def series(ts_ms: int, value: float = 42.0) -> list[Any]:
        return [{"metric": {"__name__": "checkout_orders_total", "job": "checkout", "instance": "web-01:9100"},
                 "values": [value], "timestamps": [ts_ms]}]

    def backfill_out_of_order() -> None:
        now = int(time.time() * 1000)
        w = writer(ok)
        w.send(series(now, 96.0))
        w.send(series(now - 120_000, 95.0))  # a late batch from the on-disk buffer

    def with_wal() -> None:
        wal = ro / "remote-write-wal"
        wal.mkdir(parents=True, exist_ok=True)
        (wal / "00000096").write_text(json.dumps(series(int(time.time() * 1000))), encoding="utf-8")
        writer(ok).send(series(int(time.time() * 1000)))

    return [
        ("remote_write_out_of_order", "validation", "remote-writer96", "RuntimeError",
         expect("400", backfill_out_of_order)),
        ("remote_write_ingester_500", "service", "remote-writer96", "RuntimeError",
         expect("500", lambda: writer(down).send(series(int(time.time() * 1000))))),
        ("remote_write_read_timeout", "network", "remote-writer96", "RuntimeError",
         expect("timed out|timeout", lambda: writer(f"http://127.0.0.1:{env.hang_port}", timeout=2).send(
             series(int(time.time() * 1000))))),
        ("remote_write_wal_read_only", "filesystem", "remote-writer96", "OSError",
         expect("Read-only", with_wal)),
    ]


# --------------------------------------------------------------------------- batch


def _printed_records(cases: list[tuple[str, str, str, str, str]], cwd: Path) -> list[Record]:
    """(name, category, source, token, program): what the library logged or printed when its delivery failed."""
    out: list[Record] = []
    for name, category, source, token, program in cases:
        text = run_python(program, cwd)
        if not text:
            from checked import problem

            problem(name, "no failure")
        elif has_token(name, text, token):
            out.append(record(text, category, source, "stderr", name))
    return out


def blind96_records(env: Env) -> list[Record]:
    ok, busy, down = (observability_fake(env, mode) for mode in ("ok", "busy", "down"))
    tls_port = self_signed_https(env)
    reset_port = resetting_listener(env)
    ro = mount_tmpfs(env, "ro96", "size=64k,ro")
    work = env.tmp / "grafana96"
    work.mkdir()
    (work / "exported-dashboard.json").write_text(json.dumps(
        {"uid": "checkout-latency", "title": "", "tags": ["checkout"], "panels": [], "schemaVersion": 39}),
        encoding="utf-8")

    out = python_records(_loki_cases(ok, busy, down, env))
    out += grafana_records(GRAFANA_PROGRAMS, work, lambda p: p.replace('"OK"', f'"{ok}"').replace('"DOWN"',
                                                                                                 f'"{down}"'))
    out += python_records(_zipkin_cases(down, env))
    out += python_records(_apm_cases(busy))
    out += python_records(_graphyte_cases(reset_port))
    out += python_records(_libhoney_cases(ok, busy))
    out += python_records(_splunk_cases(ok, tls_port))
    out += python_records(_remote_write_cases(ok, down, env, ro))
    down_port = down.rsplit(":", 1)[1]
    ok_port = ok.rsplit(":", 1)[1]
    out += _printed_records([
        ("zipkin_collector_reset", "network", "py-zipkin96", "reset",
         _ZIPKIN_TRACED.replace("PORT", str(env.reset_port)).replace("TRACEID", "0af7651916cd43dd8448eb211c80319c")),
        ("zipkin_trace_id_not_hex", "validation", "py-zipkin96", "400",
         _ZIPKIN_TRACED.replace("PORT", ok_port).replace("TRACEID", "req-7f3a9c1e-checkout")),
        ("loki_handler_rate_limited", "resource", "logging-loki96", "429", _LOKI_HANDLER.replace("BUSY", busy)),
        ("apm_agent_secret_token_refused", "auth", "elastic-apm96", "401", _APM_AGENT.replace("OK", ok)),
        ("apm_server_cert_missing", "filesystem", "elastic-apm96", "does not exist", _APM_CERT.replace("OK", ok)),
        ("splunk_handler_server_busy", "service", "splunk-hec96", "503|too many",
         _SPLUNK_HANDLER.replace("PORT", down_port).replace("TOKEN", HEC_TOKEN)),
    ], env.tmp)
    return out


if __name__ == "__main__":
    write_batch(blind96_records)


__all__ = ["BLIND96_SOURCES", "GRAFANA_PROGRAMS", "blind96_records"]
