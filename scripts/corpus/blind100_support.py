"""Fakes for batch 100: one HTTP server on 127.0.0.1 answering in several cloud providers' own error formats.

Paths `/hetzner/MODE/...`, `/do/MODE/...`, `/linode/MODE/...`, `/ovh/MODE/...`, `/keystone/MODE/v3/...` and
`/nova/MODE/v2.1/...` pick a provider and the failure it answers with. Clients that cannot take a path prefix
(libcloud's DigitalOcean and MinIO drivers) pick it with their key: the bearer token or the S3 access key id."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from typing import Any

from common import Env, _QuietServer

#: (status, body) per provider and mode
HETZNER = {
    "unauthorized": (401, ("unauthorized", "unable to authenticate")),
    "forbidden": (403, ("forbidden", "insufficient permissions for this request")),
    "invalid": (400, ("invalid_input", "invalid input in field 'name'")),
    "ratelimit": (429, ("rate_limit_exceeded", "limit of 3600 requests per hour reached")),
    "unavailable": (503, ("unavailable", "service unavailable")),
}
DIGITALOCEAN = {
    "unauthorized": (401, ("unauthorized", "Unable to authenticate you")),
    "unprocessable": (422, ("unprocessable_entity", "You specified an invalid size for Droplet creation.")),
    "toomany": (429, ("too_many_requests", "API Rate limit exceeded.")),
    "servererror": (500, ("server_error", "Server was unable to give you a response.")),
    "unavailable": (503, ("service_unavailable", "The service is temporarily unavailable.")),
}
LINODE = {
    "unauthorized": (401, [{"reason": "Invalid Token"}]),
    "forbidden": (403, [{"reason": "Your OAuth token is not authorized to use this endpoint."}]),
    "invalid": (400, [{"field": "label", "reason": "Label must contain between 3 and 64 characters."},
                      {"field": "region", "reason": "region is not valid"}]),
    "ratelimit": (429, [{"reason": "Too many requests"}]),
    "maintenance": (503, [{"reason": "Service Unavailable"}]),
}
OVH = {
    "credential": (403, {"errorCode": "INVALID_CREDENTIAL", "message": "This credential is not valid"}),
    "notgranted": (403, {"errorCode": "NOT_GRANTED_CALL",
                         "message": "This call has not been granted"}),
    "badparam": (400, {"message": "Invalid value for property 'ipAddress': '10.0.0.300' is not a valid IPv4"}),
    "unavailable": (503, {"message": "Service temporarily unavailable, please retry later"}),
}
NOVA = {
    "forbidden": (403, {"forbidden": {"code": 403, "message":
                                      "Policy doesn't allow os_compute_api:servers:create to be performed."}}),
    "overlimit": (413, {"overLimit": {"code": 413, "message": "Quota exceeded for instances: Requested 1, but "
                                      "already used 10 of 10 instances", "retryAfter": "0"}}),
    "badrequest": (400, {"badRequest": {"code": 400, "message": "Invalid flavorRef provided."}}),
    "unavailable": (503, {"computeFault": {"code": 503, "message": "Service Unavailable"}}),
    "expired": (401, {"error": {"code": 401, "title": "Unauthorized",
                                "message": "The request you have made requires authentication."}}),
}
S3_ERRORS = {
    "denied": (403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
               "you provided. Check your key and signing method."),
    "internal": (500, "InternalError", "We encountered an internal error. Please try again."),
    "unavailable": (503, "ServiceUnavailable", "Reduce your request rate."),
}
BIG_OBJECT = 256 * 1024


class _CloudHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    base = ""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, ctype: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any, **headers: str) -> None:
        self._send(status, json.dumps(data).encode(), **headers)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = self.path.split("?")[0].strip("/").split("/")
        provider, mode = [*parts, "", ""][:2]
        auth = self.headers.get("Authorization", "")
        if provider == "hetzner":
            status, (code, msg) = HETZNER[mode]
            self._json(status, {"error": {"code": code, "message": msg, "details": {}}})
        elif provider == "do":
            status, (ident, msg) = DIGITALOCEAN[mode]
            self._json(status, {"id": ident, "message": msg, "request_id": "4d9d8375-3c56-4925-a3e7-eb137fed17e9"})
        elif provider == "linode":
            status, errors = LINODE[mode]
            self._json(status, {"errors": errors})
        elif provider == "ovh":
            if parts[2:] == ["auth", "time"]:
                self._send(200, str(int(time.time())).encode())
                return
            status, data = OVH[mode]
            self._json(status, data)
        elif provider == "keystone":
            self._keystone(mode)
        elif provider == "nova":
            self._nova(mode, parts[2:])
        elif provider == "v2":  # libcloud's DigitalOcean driver: the bearer token is the mode
            status, (ident, msg) = DIGITALOCEAN[auth.removeprefix("Bearer ").strip()]
            self._json(status, {"id": ident, "message": msg})
        else:  # an S3 API (libcloud's MinIO driver): the access key id is the mode
            match = re.search(r"Credential=([^/]+)/", auth) or re.search(r"AWS ([^:]+):", auth)
            key = match.group(1) if match else ""
            if key == "bigobject":
                self._send(200, b"x" * BIG_OBJECT, "application/octet-stream", ETag='"0"')
                return
            status, code, msg = S3_ERRORS[key]
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{msg}</Message>'
                    f"<Resource>{self.path}</Resource><RequestId>17A6C0F1B2D3E4F5</RequestId></Error>")
            self._send(status, body.encode(), "application/xml")

    def _keystone(self, mode: str) -> None:
        if mode == "badpass":
            self._json(401, {"error": {"code": 401, "title": "Unauthorized",
                                       "message": "The request you have made requires authentication."}})
            return
        if mode == "unavailable":
            self._send(503, b"<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle "
                       b"this request.\n</body></html>", "text/html")
            return
        if not self.path.rstrip("/").endswith("/auth/tokens"):  # version discovery
            self._json(300, {"versions": {"values": [{"id": "v3.14", "status": "stable", "links": [
                {"rel": "self", "href": f"{self.base}/keystone/{mode}/v3/"}]}]}})
            return
        nova = f"{self.base}/nova/{mode}/v2.1"
        token = {"token": {
            "methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z", "issued_at": "2026-01-01T00:00:00Z",
            "user": {"id": "u1", "name": "deployer", "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "p1", "name": "web", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r1", "name": "member"}],
            "catalog": [{"type": "compute", "name": "nova", "id": "c1", "endpoints": [
                {"id": "e1", "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": nova}]}],
        }}
        self._json(201, token, X_Subject_Token="gAAAAABcorpus100token")

    def _nova(self, mode: str, rest: list[str]) -> None:
        if rest in (["v2.1"], []):
            href = f"{self.base}/nova/{mode}/v2.1/"
            self._json(200, {"version": {"id": "v2.1", "status": "CURRENT", "version": "2.90", "min_version": "2.1",
                                         "links": [{"rel": "self", "href": href}]}})
            return
        status, data = NOVA[mode]
        self._json(status, data)

    do_GET = _answer
    do_POST = _answer
    do_PUT = _answer
    do_DELETE = _answer
    do_HEAD = _answer


def cloud_server(env: Env) -> str:
    """Start the fake providers' API on a free loopback port; return its base URL."""
    handler = type("Handler100", (_CloudHandler,), {})
    server = _QuietServer(("127.0.0.1", 0), handler)
    handler.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.shutdown)
    env._closers.append(server.server_close)
    return handler.base
