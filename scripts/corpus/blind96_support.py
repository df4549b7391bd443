"""Fakes of observability backends for batch 96, each a small HTTP server on a free 127.0.0.1 port that speaks the
backend's API and answers its errors the way the real one does: a Loki push endpoint (basic auth per tenant,
streams whose entries must arrive in order), the Grafana HTTP API (service-account tokens, a viewer token,
dashboards that need a title), a Zipkin collector (lower-hex trace ids), an Elastic APM Server intake (secret
token, gzip ND-JSON that must start with metadata), Honeycomb's batch endpoint (team keys), a Splunk HTTP Event
Collector (HEC tokens, events that need an `event` field) and a Prometheus remote-write receiver (snappy
protobuf, bearer token, samples that must not go back in time).

One fake runs in one of three modes: `ok` (the backend's own checks decide), `busy` (every request is refused by
its rate limiter) and `down` (the backend is unavailable), so one client can be pointed at each. Also here: a
Graphite plaintext listener that drops connections with a reset after the first bytes, and the runner for the
grafana-client cases, whose library lives in its own virtualenv (its urllib3-future would replace the project's
urllib3)."""

from __future__ import annotations

import base64
import contextlib
import gzip
import http.server
import json
import re
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

from common import Env, Record
from servers import accept_loop

LOKI_TENANTS = {"ops": "loki-pass-96"}
GRAFANA_TOKENS = {"glsa_editor_96": "Editor", "glsa_viewer_96": "Viewer"}
APM_SECRET = "apm-secret-96"
HONEYCOMB_KEY = "hcaik_96_team_key"
HEC_TOKEN = "5d1e7c1a-96aa-4b0e-9c3e-0f9f6d2a9696"
REMOTE_WRITE_TOKEN = "rw-token-96"

#: the grafana-client virtualenv (its own, see the module doc)
GRAFANA_VENV = Path("/tmp/recoup-corpus-96")

_HEX_ID = re.compile(r"^[0-9a-f]{16}([0-9a-f]{16})?$")


class _Fake(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "ok"
    state: ClassVar[dict[str, Any]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        return

    # ----------------------------------------------------------------- plumbing
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any = b"", ctype: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> None:
        body = self._body()
        path = self.path.split("?")[0]
        for prefix, handler in (("/loki/", self._loki), ("/api/v2/spans", self._zipkin), ("/api/v1/write", self._rw),
                                ("/api/", self._grafana), ("/intake/v2/", self._apm), ("/1/batch/", self._honeycomb),
                                ("/services/collector", self._hec)):
            if path.startswith(prefix):
                handler(path, body)
                return
        self._send(404, {"message": "Not found"})

    do_GET = _route
    do_POST = _route
    do_PUT = _route

    # ----------------------------------------------------------------- Loki
    def _loki(self, path: str, body: bytes) -> None:
        if self.mode == "down":
            self._send(503, "Ingester not ready: waiting for 15s after being ready\n", "text/plain")
            return
        auth = self.headers.get("Authorization", "")
        user, password = "", ""
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        if LOKI_TENANTS.get(user) != password:
            self._send(401, "no org id\n" if not user else "unauthorized\n", "text/plain")
            return
        if self.mode == "busy":
            self._send(429, f"Ingestion rate limit exceeded for user {user} (limit: 4194304 bytes/sec) while "
                            f"attempting to ingest '1' lines totaling '{len(body)}' bytes, reduce log volume or "
                            "contact your Loki administrator to see if the limit can be increased\n", "text/plain")
            return
        try:
            streams = json.loads(body)["streams"]
        except (ValueError, KeyError):
            self._send(400, "loghttp.PushRequest.Streams: ReadArray: expect [ or n\n", "text/plain")
            return
        last = self.state.setdefault("loki", {})
        for stream in streams:
            for name, value in stream["stream"].items():
                if not isinstance(value, str):
                    self._send(400, "loghttp.PushRequest.Streams: []*loghttp.Stream: unmarshalerDecoder: "
                                    f"ReadString: expects \" or n, but found {json.dumps(value)[0]}, error found in "
                                    f"label {name!r} of stream {json.dumps(stream['stream'])}\n", "text/plain")
                    return
            key = json.dumps(stream["stream"], sort_keys=True)
            for ts, _line in stream["values"]:
                if int(ts) < last.get(key, 0):
                    labels = "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(stream["stream"].items())) + "}"
                    self._send(400, f"entry with timestamp {ts} ignored, reason: 'entry too far behind, oldest "
                                    f"acceptable timestamp is: {last[key]}' for stream: {labels},\n"
                                    "user 'ops', total ignored: 1 out of 1\n", "text/plain")
                    return
                last[key] = int(ts)
        self._send(204)

    # ----------------------------------------------------------------- Grafana
    def _grafana(self, path: str, body: bytes) -> None:
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        role = GRAFANA_TOKENS.get(token)
        if role is None:
            self._send(401, {"message": "invalid API key", "traceID": ""})
            return
        if self.mode == "down":
            self._send(500, {"message": "Internal Server Error", "traceID": ""})
            return
        if path == "/api/dashboards/db" and self.command == "POST":
            if role != "Editor":
                self._send(403, {"message": "Access denied to save dashboard", "traceID": ""})
                return
            dashboard = json.loads(body or b"{}").get("dashboard", {})
            if not str(dashboard.get("title", "")).strip():
                self._send(400, {"message": "Dashboard title cannot be empty", "traceID": ""})
                return
            uid = dashboard.get("uid") or "b96dash"
            self._send(200, {"id": 96, "uid": uid, "status": "success", "version": 1,
                             "url": f"/d/{uid}/{dashboard['title'].lower()}"})
            return
        if path.startswith("/api/search"):
            self._send(200, [])
            return
        self._send(404, {"message": "Not found"})

    # ----------------------------------------------------------------- Zipkin
    def _zipkin(self, path: str, body: bytes) -> None:
        if self.mode == "down":
            self._send(503, "Service Unavailable", "text/plain")
            return
        try:
            spans = json.loads(body)
        except ValueError as exc:
            self._send(400, f"Expected a JSON_V2 encoded list\n{exc}", "text/plain")
            return
        for span in spans:
            for field in ("traceId", "id", "parentId"):
                value = span.get(field)
                if value is not None and not _HEX_ID.match(value):
                    self._send(400, f"Expected a JSON_V2 encoded list\njava.lang.IllegalArgumentException: {field}"
                                    f"={value} should be lower-hex encoded with no prefix", "text/plain")
                    return
        self._send(202)

    # ----------------------------------------------------------------- Elastic APM
    def _apm(self, path: str, body: bytes) -> None:
        if self.mode == "down":
            self._send(503, {"error": "server is shutting down"})
            return
        if self.headers.get("Authorization") != f"Bearer {APM_SECRET}":
            self._send(401, {"error": "authentication failed: missing or improperly formatted Authorization header"})
            return
        if self.mode == "busy":
            self._send(429, {"accepted": 0, "errors": [{"message": "rate limit exceeded"}]})
            return
        try:
            raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
            lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
        except (OSError, ValueError) as exc:
            self._send(400, {"accepted": 0, "errors": [{"message": f"decode error: data read error: {exc}"}]})
            return
        if not lines or "metadata" not in lines[0]:
            first = json.dumps(lines[0])[:80] if lines else ""
            self._send(400, {"accepted": 0, "errors": [{"message": "did not recognize object type: metadata "
                                                                   "missing", "document": first}]})
            return
        self._send(202)

    # ----------------------------------------------------------------- Honeycomb
    def _honeycomb(self, path: str, body: bytes) -> None:
        if self.mode == "down":
            self._send(503, {"error": "service unavailable"})
            return
        if self.headers.get("X-Honeycomb-Team") != HONEYCOMB_KEY:
            self._send(401, {"error": "unknown API key - check your credentials"})
            return
        if self.mode == "busy":
            self._send(429, {"error": "request dropped due to rate limiting"})
            return
        events = json.loads(body)
        self._send(200, [{"status": 202} for _ in events])

    # ----------------------------------------------------------------- Splunk HEC
    def _hec(self, path: str, body: bytes) -> None:
        if self.mode == "down":
            self._send(503, {"text": "Server is busy", "code": 9})
            return
        auth = self.headers.get("Authorization", "")
        if not auth:
            self._send(401, {"text": "Token is required", "code": 2})
            return
        if auth.split(" ", 1)[-1] != HEC_TOKEN:
            self._send(403, {"text": "Invalid token", "code": 4})
            return
        decoder = json.JSONDecoder()
        text, pos, number = body.decode("utf-8", "replace"), 0, 0
        while pos < len(text.rstrip()):
            while text[pos].isspace():
                pos += 1
            try:
                event, pos = decoder.raw_decode(text, pos)
            except ValueError:
                self._send(400, {"text": "Invalid data format", "code": 6, "invalid-event-number": number})
                return
            if not isinstance(event, dict) or "event" not in event:
                self._send(400, {"text": "Event field is required", "code": 12, "invalid-event-number": number})
                return
            number += 1
        self._send(200, {"text": "Success", "code": 0})

    # ----------------------------------------------------------------- Prometheus remote write
    def _rw(self, path: str, body: bytes) -> None:
        import snappy
        from prometheus_remote_writer.proto.remote_pb2 import WriteRequest

        if self.headers.get("Authorization") != f"Bearer {REMOTE_WRITE_TOKEN}":
            self._send(401, "authentication required\n", "text/plain")
            return
        if self.mode == "busy":
            self._send(429, "the request has been rejected because the tenant exceeded the ingestion rate limit, "
                            "set to 10000 items/s with a maximum allowed burst of 200000\n", "text/plain")
            return
        if self.mode == "down":
            self._send(500, "failed pushing to ingester: rpc error: code = Unavailable desc = connection error\n",
                       "text/plain")
            return
        try:
            request = WriteRequest()
            request.ParseFromString(snappy.uncompress(body))
        except Exception as exc:  # what the receiver says about a body it cannot read
            self._send(400, f"snappy: corrupt input: {exc}\n", "text/plain")
            return
        last = self.state.setdefault("rw", {})
        for series in request.timeseries:
            labels = {lab.name: lab.value for lab in series.labels}
            key = json.dumps(labels, sort_keys=True)
            for sample in series.samples:
                if sample.timestamp < last.get(key, 0):
                    series_text = labels.get("__name__", "") + "{" + ", ".join(
                        f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__") + "}"
                    self._send(400, f"out of order sample. timestamp={sample.timestamp}, series={series_text}\n",
                               "text/plain")
                    return
                last[key] = sample.timestamp
        self._send(204)


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def observability_fake(env: Env, mode: str = "ok") -> str:
    """Start the fake backends in `mode` on a free port; return its base URL (stopped with `env`)."""
    handler = type(f"Fake_{mode}", (_Fake,), {"mode": mode, "state": {}})
    server = _QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}"


def resetting_listener(env: Env) -> int:
    """A Graphite-like plaintext listener that reads the first bytes of each connection, then resets it."""

    def reset(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(1)
            conn.recv(1024)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    return accept_loop(env, reset)


def grafana_records(cases: list[tuple[str, str, str, str, str]], workdir: Path, fill: Any) -> list[Record]:
    """Run each (name, category, source, expected exception types, program) with grafana-client's interpreter;
    the program's uncaught exception becomes the two records `python_records` makes (checked the same way)."""
    from checked import problem

    python = GRAFANA_VENV / "bin" / "python"
    if not python.exists():
        problem("grafana", "grafana-client virtualenv missing, grafana cases skipped")
        return []
    corpus = str(Path(__file__).resolve().parent)
    out: list[Record] = []
    for name, category, source, expected, program in cases:
        script = workdir / f"{name}.py"
        script.write_text(fill(program), encoding="utf-8")
        wrapper = ("import json, sys, traceback\n"
                   f"sys.path.insert(0, {corpus!r})\n"
                   "from common import exception_records\n"
                   f"path = {str(script)!r}\n"
                   "code = compile(open(path).read(), path, 'exec')\n"
                   "try:\n"
                   "    exec(code, {'__name__': '__main__'})\n"
                   "except BaseException as exc:\n"
                   "    names = [k.__name__ for k in type(exc).__mro__]\n"
                   f"    recs = exception_records(exc, {category!r}, {source!r}, {name!r})\n"
                   "    print(json.dumps({'names': names, 'records': recs}))\n"
                   "else:\n"
                   "    print(json.dumps({'names': None}))\n")
        proc = subprocess.run([str(python), "-c", wrapper], cwd=workdir, capture_output=True, text=True, timeout=60,
                              check=False)
        try:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            problem(name, "runner printed nothing")
            continue
        if result["names"] is None:
            problem(name, "no failure")
        elif not set(expected.split("|")) & set(result["names"]):
            problem(name, f"not the provoked cause (expected {expected})")
        else:
            out.extend(result["records"])
    return out


def run_python(code: str, cwd: Path, python: str = sys.executable, timeout: float = 60) -> str:
    """Run a small program with this interpreter; what it printed on stderr and stdout (a library that reports
    a failed delivery by logging or printing it, and carries on)."""
    proc = subprocess.run([python, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
                          env={"PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "ignore", "LC_ALL": "C.UTF-8"})
    return (proc.stderr.strip() + "\n" + proc.stdout.strip()).strip()


__all__ = ["APM_SECRET", "GRAFANA_TOKENS", "GRAFANA_VENV", "HEC_TOKEN", "HONEYCOMB_KEY", "LOKI_TENANTS",
           "REMOTE_WRITE_TOKEN", "grafana_records", "observability_fake", "resetting_listener", "run_python"]
