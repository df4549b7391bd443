"""A local HTTP server that fails the way hosted APIs do: a status code with the provider's own error body.

`/<name>/...` answers the status and body registered under `name` for every method and sub-path, so a client
that appends its own path (kubectl's `/api`, a registry's package path, a Terraform state URL) still gets it.
Bodies imitate the shapes real APIs use (GitHub-style `message`, Google-style `error.status`, S3-style XML,
Kubernetes `Status`, Stripe-style `error.type`, FastAPI `detail`); the status is what we provoke, so the label
comes from the status we chose, not from the body."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any

from common import Env

#: name -> (status, content type, body)
ANSWERS: dict[str, tuple[int, str, str]] = {
    "gh401": (401, "application/json", json.dumps({"message": "Bad credentials",
                                                    "documentation_url": "https://docs.example.org/rest"})),
    "gcp403": (403, "application/json", json.dumps({"error": {"code": 403, "status": "PERMISSION_DENIED",
                                                              "message": "The caller does not have permission"}})),
    "gcp429": (429, "application/json", json.dumps({"error": {
        "code": 429, "status": "RESOURCE_EXHAUSTED",
        "message": "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'"}})),
    "gcp503": (503, "application/json", json.dumps({"error": {"code": 503, "status": "UNAVAILABLE",
                                                              "message": "The service is currently unavailable."}})),
    "s3slow": (503, "application/xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
               "<Message>Please reduce your request rate.</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>"),
    "s3denied": (403, "application/xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied"
                 "</Code><Message>Access Denied</Message><RequestId>9A1B2C3D</RequestId></Error>"),
    "k8s401": (401, "application/json", json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                                     "message": "Unauthorized", "reason": "Unauthorized",
                                                     "code": 401})),
    "k8s403": (403, "application/json", json.dumps({
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403,
        "message": "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" "
                   "in the namespace \"default\""})),
    "k8s503": (503, "application/json", json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                                     "message": "service unavailable", "reason":
                                                     "ServiceUnavailable", "code": 503})),
    "stripe400": (400, "application/json", json.dumps({"error": {"type": "invalid_request_error", "param": "amount",
                                                                 "message": "Invalid integer: ten"}})),
    "fastapi422": (422, "application/json", json.dumps({"detail": [{
        "type": "int_parsing", "loc": ["query", "limit"], "msg": "Input should be a valid integer, unable to parse "
        "string as an integer", "input": "ten"}]})),
    "nginx502": (502, "text/html", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>"
                 "502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"),
    "plain500": (500, "text/plain", "Internal Server Error"),
    "stripe401": (401, "application/json", json.dumps({"error": {
        "type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****wxyz"}})),
    "stripe429": (429, "application/json", json.dumps({"error": {
        "type": "invalid_request_error", "code": "rate_limit",
        "message": "Request rate limit exceeded. Learn more about rate limits here https://docs.example.org/limits."}})),
    "slackauth": (200, "application/json", json.dumps({"ok": False, "error": "invalid_auth"})),
    "slackrate": (429, "application/json", json.dumps({"ok": False, "error": "ratelimited"})),
    "vault403": (403, "application/json", json.dumps({"errors": ["permission denied"]})),
    "vault503": (503, "application/json", json.dumps({"errors": ["Vault is sealed"]})),
    "openai401": (401, "application/json", json.dumps({"error": {
        "message": "Incorrect API key provided: sk-b30****. You can find your API key in your account settings.",
        "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}})),
    "openai429": (429, "application/json", json.dumps({"error": {
        "message": "Rate limit reached for requests per min. Please try again in 20s.", "type": "requests",
        "param": None, "code": "rate_limit_exceeded"}})),
    "openai500": (500, "application/json", json.dumps({"error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error", "param": None, "code": None}})),
    "openai400": (400, "application/json", json.dumps({"error": {
        "message": "'messages' must contain at least one message.", "type": "invalid_request_error",
        "param": "messages", "code": None}})),
    "reg401": (401, "application/json", json.dumps({"error": "authentication required"})),
    "reg503": (503, "text/plain", "upstream connect error or disconnect/reset before headers"),
}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self) -> None:
        name = self.path.lstrip("/").split("/")[0].split("?")[0]
        status, ctype, body = ANSWERS.get(name, (200, "application/json", "{}"))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        data = body.encode()
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="corpus"')
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


def cloud_api(env: Env) -> str:
    """Start the server for the batch; returns its base URL (`http://127.0.0.1:PORT`)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}"


__all__ = ["ANSWERS", "cloud_api"]
