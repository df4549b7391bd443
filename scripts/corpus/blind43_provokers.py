"""Forty-third batch of blind provokers: Python SDKs of SaaS and infrastructure services reading the error
answers of a loopback fake (blind43_support) that imitates each provider's error body. Elasticsearch 8 and
OpenSearch clients (security, rejected-execution, circuit-breaker, master-not-discovered, parsing and mapping
errors, refused, reset and silent peers), Twilio (authenticate, invalid phone number, too many requests),
SendGrid (invalid address, 503), python-gitlab (unauthorized, invalid variable key, rate limit, 502 page, a
missing config file), PagerDuty through pdpyras, influxdb-client, py-consul (ACL denial, no cluster leader,
refused) and the apprise CLI posting to webhook receivers (401, 503, refused, a missing attachment); plus
client-side misuse of those SDKs. The label is the status the fake was told to answer (401/403 auth, 429
resource, 5xx service, 400 validation) or the transport fault provoked (refused, reset, no answer: network).
Only 127.0.0.1."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from typing import Any

from blind43_support import saas_api
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND43_SOURCES = frozenset({"elasticsearch43", "opensearch43", "twilio43", "sendgrid43", "gitlab43",
                             "pagerduty43", "influxdb43", "consul43", "apprise43"})


def _elasticsearch_cases(api: str, env: Env) -> list[PyCase]:
    def client(base: str, **kw: Any) -> Any:
        from elasticsearch import Elasticsearch

        return Elasticsearch(base, basic_auth=("ci-indexer", "b43-wrong"), max_retries=0, retry_on_status=(),
                             retry_on_timeout=False, request_timeout=kw.pop("request_timeout", 5), **kw)

    def search(name: str) -> Callable[[], Any]:
        return lambda: client(f"{api}/{name}").search(index="logs-2026",
                                                      query={"match": {"service": "api", "level": "error"}})

    def bulk_rejected() -> None:
        ops: list[dict[str, Any]] = []
        for i in range(3):
            ops += [{"index": {"_index": "metrics-2026"}}, {"run": i, "took_ms": 12 * i}]
        client(f"{api}/es429").bulk(operations=ops)

    def health_503() -> None:
        client(f"{api}/es503").cluster.health(wait_for_status="yellow", timeout="5s")

    def refused() -> None:
        client(f"http://127.0.0.1:{env.closed_port}").index(index="deploys", document={"sha": "b43", "ok": True})

    def no_answer() -> None:
        client(f"http://127.0.0.1:{env.hang_port}", request_timeout=1).count(index="logs-2026")

    def positional() -> None:
        client(f"{api}/ok").search("logs-2026", {"query": {"match_all": {}}})  # type: ignore[misc]

    return [
        ("es_search_401", "auth", "elasticsearch43", "AuthenticationException", search("es401")),
        ("es_bulk_429", "resource", "elasticsearch43", "ApiError", bulk_rejected),
        ("es_health_503", "service", "elasticsearch43", "ApiError", health_503),
        ("es_search_400", "validation", "elasticsearch43", "BadRequestError", search("es400")),
        ("es_index_refused", "network", "elasticsearch43", "ConnectionError", refused),
        ("es_count_no_answer", "network", "elasticsearch43", "ConnectionTimeout|ConnectionError", no_answer),
        ("es_search_positional", "programming", "elasticsearch43", "TypeError", positional),
    ]


def _opensearch_cases(port: int, env: Env) -> list[PyCase]:
    def client(prefix: str, at: int = port) -> Any:
        from opensearchpy import OpenSearch

        return OpenSearch(hosts=[{"host": "127.0.0.1", "port": at, "url_prefix": prefix}],
                          http_auth=("ci-shipper", "b43-wrong"), max_retries=0, timeout=3)

    def bulk(prefix: str) -> Callable[[], Any]:
        body = '{"index": {"_index": "ci-runs"}}\n{"run": "run-7", "took_ms": "fast"}\n'
        return lambda: client(prefix).bulk(body=body)

    def index_400() -> None:
        client("os400").index(index="ci-runs", id="run-7", body={"run": "run-7", "took_ms": "fast"})

    def reset() -> None:
        client("", env.reset_port).search(index="ci-runs", body={"query": {"match_all": {}}})

    return [
        ("os_bulk_403", "auth", "opensearch43", "AuthorizationException|TransportError", bulk("os403")),
        ("os_bulk_429", "resource", "opensearch43", "TransportError", bulk("os429")),
        ("os_index_400", "validation", "opensearch43", "RequestError|TransportError", index_400),
        ("os_search_reset", "network", "opensearch43", "ConnectionError", reset),
    ]


def _twilio_cases(api: str) -> list[PyCase]:
    def sms(name: str, to: str = "+15550100123") -> Callable[[], Any]:
        def send() -> Any:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            class Loopback(TwilioHttpClient):
                def request(self, method: str, url: str, *args: Any, **kw: Any) -> Any:
                    host = url.split("/", 3)[2]
                    return super().request(method, url.replace(f"https://{host}", f"{api}/{name}"), *args, **kw)

            twilio = Client("AC" + "b43" * 10 + "00", "b43-wrong-token", http_client=Loopback(timeout=3))
            return twilio.messages.create(to=to, from_="+15550100999", body="deploy b43 finished")
        return send

    def missing_to() -> None:
        from twilio.rest import Client

        Client("AC" + "b43" * 10 + "00", "tok").messages.create(from_="+15550100999",  # type: ignore[call-arg]
                                                                body="deploy b43 finished")

    return [
        ("twilio_sms_401", "auth", "twilio43", "TwilioRestException", sms("tw401")),
        ("twilio_sms_400", "validation", "twilio43", "TwilioRestException", sms("tw400", "+1555012")),
        ("twilio_sms_429", "resource", "twilio43", "TwilioRestException", sms("tw429")),
        ("twilio_create_no_to", "programming", "twilio43", "TypeError", missing_to),
    ]


def _sendgrid_cases(api: str) -> list[PyCase]:
    def send(name: str, to: str = "ops@example.org") -> Callable[[], Any]:
        def go() -> Any:
            from sendgrid import SendGridAPIClient
            from sendgrid.helpers.mail import Mail

            mail = Mail(from_email="ci@example.org", to_emails=to, subject="nightly b43",
                        plain_text_content="build finished")
            return SendGridAPIClient("SG.b43-wrong", host=f"{api}/{name}").send(mail)
        return go

    return [
        ("sendgrid_send_400", "validation", "sendgrid43", "BadRequestsError", send("sg400", "ops@example")),
        ("sendgrid_send_503", "service", "sendgrid43", "ServiceUnavailableError|HTTPError", send("sg503")),
    ]


def _gitlab_cases(api: str, env: Env) -> list[PyCase]:
    def gl(name: str) -> Any:
        import gitlab

        return gitlab.Gitlab(f"{api}/{name}", private_token="glpat-b43-wrong", retry_transient_errors=False,
                             timeout=3)

    def auth_401() -> None:
        gl("gl401").auth()

    def variable_400() -> None:
        project = gl("gl400").projects.get(42, lazy=True)
        project.variables.create({"key": "DEPLOY-TOKEN", "value": "x", "masked": True})

    def pipelines_429() -> None:
        gl("gl429").projects.get(42, lazy=True).pipelines.list(status="failed", get_all=False,
                                                                   obey_rate_limit=False)

    def project_502() -> None:
        gl("gl502").projects.get("infra/deploy")

    def get_without_id() -> None:
        gl("ok").projects.get(lazy=True)  # type: ignore[call-arg]

    def config_missing() -> None:
        import gitlab

        gitlab.Gitlab.from_config("ci", config_files=[str(env.tmp / "python-gitlab.cfg")])

    return [
        ("gitlab_auth_401", "auth", "gitlab43", "GitlabAuthenticationError", auth_401),
        ("gitlab_variable_400", "validation", "gitlab43", "GitlabCreateError", variable_400),
        ("gitlab_pipelines_429", "resource", "gitlab43", "GitlabListError|GitlabHttpError", pipelines_429),
        ("gitlab_project_502", "service", "gitlab43", "GitlabGetError|GitlabHttpError", project_502),
        ("gitlab_get_without_id", "programming", "gitlab43", "TypeError", get_without_id),
        ("gitlab_config_missing", "filesystem", "gitlab43", "GitlabConfigMissingError", config_missing),
    ]


def _pagerduty_cases(api: str) -> list[PyCase]:
    warnings.filterwarnings("ignore", message=".*pdpyras.*deprecated")  # the package warns on import
    logging.getLogger("pdpyras").addHandler(logging.NullHandler())  # its retry notes are not the batch's output

    def incidents(name: str) -> Callable[[], Any]:
        def go() -> Any:
            import pdpyras

            session = pdpyras.APISession("u+b43wrongkey", default_from="ci@example.org")
            session.url = f"{api}/{name}"
            session.sleep_timer = 0.05
            session.retry[429] = 1
            return session.rget("/incidents", params={"statuses[]": ["triggered"]})
        return go

    return [
        ("pagerduty_incidents_401", "auth", "pagerduty43", "PDClientError", incidents("pd401")),
        ("pagerduty_incidents_429", "resource", "pagerduty43", "PDClientError", incidents("pd429")),
        ("pagerduty_incidents_500", "service", "pagerduty43", "PDClientError", incidents("pd500")),
    ]


def _influx_cases(api: str, env: Env) -> list[PyCase]:
    def write(url: str) -> Callable[[], Any]:
        def go() -> Any:
            from influxdb_client.client.influxdb_client import InfluxDBClient
            from influxdb_client.client.write_api import SYNCHRONOUS

            with InfluxDBClient(url=url, token="b43-wrong", org="ci", timeout=3000) as client:
                client.write_api(write_options=SYNCHRONOUS).write(bucket="deploys",
                                                                  record="deploys,env=prod duration=")
        return go

    def query(url: str) -> Callable[[], Any]:
        def go() -> Any:
            from influxdb_client.client.influxdb_client import InfluxDBClient

            with InfluxDBClient(url=url, token="b43-wrong", org="ci", timeout=3000) as client:
                return client.query_api().query('from(bucket: "deploys") |> range(start: -1h)')
        return go

    return [
        ("influx_write_401", "auth", "influxdb43", "ApiException", write(f"{api}/ifx401")),
        ("influx_query_503", "service", "influxdb43", "ApiException", query(f"{api}/ifx503")),
        ("influx_write_400", "validation", "influxdb43", "ApiException", write(f"{api}/ifx400")),
        ("influx_write_refused", "network", "influxdb43", "NewConnectionError|MaxRetryError|OSError",
         write(f"http://127.0.0.1:{env.closed_port}")),
    ]


def _consul_cases(port: int, env: Env) -> list[PyCase]:
    def kv_get(key: str, at: int = port) -> Callable[[], Any]:
        def go() -> Any:
            import consul

            return consul.Consul(host="127.0.0.1", port=at, token="b43-wrong", connections_timeout=3).kv.get(key)
        return go

    return [
        ("consul_kv_acl_403", "auth", "consul43", "ACLPermissionDenied", kv_get("c43acl/db-password")),
        ("consul_kv_500", "service", "consul43", "ConsulException", kv_get("c43err/feature-flags")),
        ("consul_kv_refused", "network", "consul43", "ConnectionError|OSError",
         kv_get("app/feature-flags", env.closed_port)),
    ]


APPRISE: list[ToolCase] = [
    ("apprise_json_401", "auth", "401", ["apprise", "-v", "-t", "deploy", "-b", "b43 finished", "json://HOST/hook401"]),
    ("apprise_json_503", "service", "503", ["apprise", "-v", "-t", "deploy", "-b", "b43 finished",
                                            "json://HOST/hook503"]),
    ("apprise_json_refused", "network", "refused|connect", ["apprise", "-v", "-b", "b43 finished",
                                                            "json://127.0.0.1:CLOSED/notify"]),
    ("apprise_attach_missing", "filesystem", "attach", ["apprise", "-v", "-b", "b43 report", "-a",
                                                        "TMP/reports/b43-summary.pdf", "json://HOST/ok"]),
]


def blind43_records(env: Env) -> list[Record]:
    import shutil
    import sys
    from pathlib import Path

    api, port = saas_api(env)
    cases = (_elasticsearch_cases(api, env) + _opensearch_cases(port, env) + _twilio_cases(api)
             + _sendgrid_cases(api) + _gitlab_cases(api, env) + _pagerduty_cases(api) + _influx_cases(api, env)
             + _consul_cases(port, env))
    out = python_records(cases)
    time.sleep(0.2)
    beside = Path(sys.executable).with_name("apprise")  # the CLI of the venv that runs the batch
    apprise = str(beside) if beside.exists() else shutil.which("apprise") or "apprise"

    def fill(text: str) -> str:
        return text.replace("HOST", f"127.0.0.1:{port}").replace("CLOSED", str(env.closed_port)).replace(
            "TMP", str(env.tmp))

    out += tool_records([(n, c, t, [apprise, *argv[1:]]) for n, c, t, argv in APPRISE], "apprise43", env.tmp, fill)
    return out


if __name__ == "__main__":
    write_batch(blind43_records)


__all__ = ["BLIND43_SOURCES", "blind43_records"]
