"""The loopback fake batch 43 fails against: one HTTP server that answers, for any path containing a registered
name as one of its segments, that name's status with the error body the imitated provider sends (Elasticsearch
and OpenSearch `error.root_cause`, Twilio `code`/`more_info`, SendGrid `errors[]`, GitLab `message`, PagerDuty
`error.code`, InfluxDB 2 `code`/`message`, Consul plain text, a generic webhook receiver). Matching any segment,
not only the first, lets SDKs that build their own paths from a fixed root (Consul's `/v1/kv/<key>`) reach an
answer through the name of the key they ask for. The status is what we provoke; the label comes from it."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any

from common import Env

JSON = "application/json"


def _es(kind: str, reason: str, status: int) -> str:
    cause = {"type": kind, "reason": reason}
    return json.dumps({"error": {"root_cause": [cause], **cause}, "status": status})


#: name -> (status, content type, body)
ANSWERS: dict[str, tuple[int, str, str]] = {
    # Elasticsearch 8
    "es401": (401, JSON, _es("security_exception", "unable to authenticate user [ci-indexer] for REST request "
                                                   "[/logs-2026/_search]", 401)),
    "es429": (429, JSON, _es("es_rejected_execution_exception", "rejected execution of coordinating operation "
                             "[coordinating_and_primary_bytes=104857600, replica_bytes=0, all_bytes=104857600, "
                             "coordinating_operation_bytes=5242880, max_coordinating_and_primary_bytes=107374182]",
                             429)),
    "es503": (503, JSON, _es("master_not_discovered_exception", "master not discovered yet, this node has not "
                                                                "previously joined a bootstrapped cluster", 503)),
    "es400": (400, JSON, _es("parsing_exception", "[match] query doesn't support multiple fields, found [service] "
                                                  "and [level]", 400)),
    # OpenSearch
    "os429": (429, JSON, _es("circuit_breaking_exception", "[parent] Data too large, data for [<http_request>] would "
                             "be [1031798784/984mb], which is larger than the limit of [1020054732/972.7mb]", 429)),
    "os400": (400, JSON, _es("mapper_parsing_exception", "failed to parse field [took_ms] of type [long] in document "
                                                         "with id 'run-7'. Preview of field's value: 'fast'", 400)),
    "os403": (403, JSON, _es("security_exception", "no permissions for [indices:data/write/bulk] and User "
                                                   "[name=ci-shipper, backend_roles=[], requestedTenant=null]", 403)),
    # Twilio
    "tw401": (401, JSON, json.dumps({"code": 20003, "message": "Authenticate", "more_info":
                                     "https://www.twilio.com/docs/errors/20003", "status": 401})),
    "tw400": (400, JSON, json.dumps({"code": 21211, "message": "Invalid 'To' Phone Number: +1555012", "more_info":
                                     "https://www.twilio.com/docs/errors/21211", "status": 400})),
    "tw429": (429, JSON, json.dumps({"code": 20429, "message": "Too Many Requests", "more_info":
                                     "https://www.twilio.com/docs/errors/20429", "status": 429})),
    "sg400": (400, JSON, json.dumps({"errors": [{"field": "personalizations.0.to.0.email", "help": None,
                                                 "message": "Does not contain a valid address."}]})),
    "sg503": (503, "text/html", "<html><body><h1>503 Service Unavailable</h1>No server is available to handle "
                                "this request.</body></html>"),
    # GitLab
    "gl401": (401, JSON, json.dumps({"message": "401 Unauthorized"})),
    "gl400": (400, JSON, json.dumps({"message": {"key": ["can contain only letters, digits and '_'."]}})),
    "gl429": (429, "text/plain", "Retry later\n"),
    "gl502": (502, "text/html", "<!DOCTYPE html>\n<html><head><title>GitLab is not responding (502)</title></head>"
                                "<body><h1>502</h1><h3>Whoops, GitLab is taking too much time to respond.</h3>"
                                "</body></html>"),
    # PagerDuty
    "pd401": (401, JSON, json.dumps({"error": {"message": "Invalid Credentials", "code": 2006}})),
    "pd429": (429, JSON, json.dumps({"error": {"message": "Rate Limit Exceeded", "code": 2020}})),
    "pd500": (500, JSON, json.dumps({"error": {"message": "Internal Server Error", "code": 2001}})),
    # InfluxDB 2
    "ifx401": (401, JSON, json.dumps({"code": "unauthorized", "message": "unauthorized access"})),
    "ifx503": (503, JSON, json.dumps({"code": "unavailable", "message": "service temporarily unavailable, "
                                                                        "retry after the storage engine recovers"})),
    "ifx400": (400, JSON, json.dumps({"code": "invalid", "message": "unable to parse 'deploys,env=prod "
                                                                    "duration=': missing field value"})),
    # Consul
    "c43acl": (403, "text/plain", "Permission denied: token with AccessorID '3f1b9c2e-7a4d-4e1b-9d2a-5c6e8f0a1b2c' "
                                  "lacks permission 'key:read' on \"c43acl/db-password\""),
    "c43err": (500, "text/plain", "rpc error making call: No cluster leader"),
    # generic webhook receivers the notification tools post to
    "hook401": (401, JSON, json.dumps({"error": "invalid webhook token"})),
    "hook503": (503, JSON, json.dumps({"error": "receiver is in maintenance"})),
}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self) -> None:
        segments = self.path.split("?")[0].split("/")
        name = next((s for s in segments if s in ANSWERS), "")
        status, ctype, body = ANSWERS.get(name, (200, JSON, "{}"))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        data = body.encode()
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="security" charset="UTF-8"')
        if status in (429, 503):
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _answer


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def saas_api(env: Env) -> tuple[str, int]:
    """Start the fake for the batch; returns its base URL and port (closed with the batch's Env)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    port: int = server.server_address[1]
    return f"http://127.0.0.1:{port}", port


__all__ = ["ANSWERS", "saas_api"]
