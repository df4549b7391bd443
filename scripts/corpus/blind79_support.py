"""Local collectors for batch 79, all on 127.0.0.1, and the small programs whose output the batch records.

`collector_http` is an OTLP/HTTP collector fake: `POST /<status>/v1/<signal>` answers that status (no Retry-After,
so the exporter's own backoff decides), `/ok/...` accepts; `/dd403/...` refuses a Datadog API key. `collector_grpc`
serves the three OTLP gRPC export services and aborts each call with the status code named by the caller's
`x-b79-answer` metadata.

Run as a program (`python blind79_support.py MODE ...`) it is the application side of a case, as a separate process
whose stderr is the record: `otlp` exports one batch through the real OTLP exporter with logging on stderr and exits
1 when the export failed; `structlog` / `loguru` log a caught exception the way a service would and exit 1."""

from __future__ import annotations

import contextlib
import http.server
import sys
import threading
from typing import Any

from common import Env

# --------------------------------------------------------------------------- OTLP/HTTP collector fake


class _CollectorHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        head = self.path.strip("/").split("/")[0]
        if head.startswith("dd"):  # the Datadog API's answer to a revoked API key
            body = b'{"errors": ["Forbidden"]}'
            self.send_response(int(head[2:]))
            self.send_header("Content-Type", "application/json")
        else:
            body = b""
            self.send_response(200 if head == "ok" else int(head))
            self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _QuietThreadingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def collector_http(env: Env) -> str:
    """Start the OTLP/HTTP collector fake; return its base URL (stopped with `env`)."""
    server = _QuietThreadingServer(("127.0.0.1", 0), _CollectorHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}"


# --------------------------------------------------------------------------- OTLP/gRPC collector fake


def collector_grpc(env: Env) -> int:
    """Serve the OTLP trace/metrics/logs services; each call is aborted with the code its metadata asks for."""
    from concurrent import futures

    import grpc

    services = {
        "opentelemetry.proto.collector.trace.v1.TraceService": "trace",
        "opentelemetry.proto.collector.metrics.v1.MetricsService": "metrics",
        "opentelemetry.proto.collector.logs.v1.LogsService": "logs",
    }
    details = {
        "UNAUTHENTICATED": "invalid or missing bearer token",
        "RESOURCE_EXHAUSTED": "ingestion rate limit exceeded for tenant b79",
        "UNAVAILABLE": "collector pipeline is shutting down",
        "INVALID_ARGUMENT": "resource attribute service.name must be a non-empty string",
        "PERMISSION_DENIED": "tenant b79 may not write to this pipeline",
    }

    def export(request: bytes, context: grpc.ServicerContext) -> bytes:
        answer = dict(context.invocation_metadata()).get("x-b79-answer", "OK")
        if answer != "OK":
            context.abort(getattr(grpc.StatusCode, answer), details[answer])
        return b""

    handlers = [grpc.method_handlers_generic_handler(name, {"Export": grpc.unary_unary_rpc_method_handler(export)})
                for name in services]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=handlers)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    env._closers.append(lambda: server.stop(0))
    return port


# --------------------------------------------------------------------------- the application side (subprocess)


def _otlp(protocol: str, signal: str, endpoint: str, answer: str, timeout: float) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
    from opentelemetry.sdk.resources import Resource

    resource = Resource.create({"service.name": "checkout-b79", "deployment.environment": "staging"})
    headers = {"x-b79-answer": answer} if answer else None
    if signal == "traces":
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        memory = InMemorySpanExporter()
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(SimpleSpanProcessor(memory))
        with provider.get_tracer("b79.checkout").start_as_current_span("POST /cart/checkout") as span:
            span.set_attribute("cart.items", 3)
        batch: Any = memory.get_finished_spans()
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans

            exporter: Any = GrpcSpans(endpoint=endpoint, insecure=True, headers=headers, timeout=timeout)
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans

            exporter = HttpSpans(endpoint=endpoint, timeout=timeout)
    else:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        reader = InMemoryMetricReader()
        meter = MeterProvider(resource=resource, metric_readers=[reader]).get_meter("b79.checkout")
        meter.create_counter("orders_placed").add(5, {"region": "eu-west"})
        batch = reader.get_metrics_data()
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetrics

            exporter = GrpcMetrics(endpoint=endpoint, insecure=True, headers=headers, timeout=timeout)
        else:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetrics

            exporter = HttpMetrics(endpoint=endpoint, timeout=timeout)
    result = exporter.export(batch)
    with contextlib.suppress(Exception):
        exporter.shutdown()
    return 0 if result.name == "SUCCESS" else 1


def _structlog(case: str, arg: str) -> int:
    import json
    import socket

    import structlog

    renderer: Any = structlog.processors.JSONRenderer() if case == "network" else structlog.dev.ConsoleRenderer(
        colors=False)
    structlog.configure(processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso"),
                                    structlog.processors.dict_tracebacks if case == "network"
                                    else structlog.processors.format_exc_info, renderer],
                        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    log = structlog.get_logger("b79.worker")
    try:
        if case == "programming":
            totals = {"eu-west": 120.0, "us-east": 0}
            shares = {region: totals["eu-west"] / value for region, value in totals.items()}
            print(json.dumps(shares))
        elif case == "network":
            with socket.create_connection(("127.0.0.1", int(arg)), timeout=3) as conn:
                conn.sendall(b"orders.placed:1|c\n")
        else:  # filesystem
            with open(arg, "a", encoding="utf-8") as spool:
                spool.write("orders.placed:1|c\n")
    except Exception:
        log.exception("job_failed", job="flush-metrics", attempt=1)
        return 1
    return 0


def _loguru(case: str, arg: str) -> int:
    import json

    from loguru import logger

    logger.remove()
    if case == "format":
        # the handler's format names a field the records never bind: loguru reports its own handler error
        logger.add(sys.stderr, format="{time} {level} {extra[request_id]} {message}", catch=True)
        logger.info("checkout completed for cart {}", 42)
        return 1
    if case == "full":
        # another process's spool has already taken the whole log volume
        with contextlib.suppress(OSError), open(f"{arg}/spool.bin", "wb", buffering=0) as spool:
            while True:
                spool.write(b"\0" * 4096)
        logger.add(f"{arg}/app.log", format="{time} {level} {message}", catch=True, buffering=1)
        logger.info("order {} placed", 1042)
        return 1
    logger.add(sys.stderr, backtrace=True, diagnose=False)
    try:
        with open(arg, encoding="utf-8") as fh:
            json.load(fh)
    except Exception:
        logger.exception("could not load the pricing rules")
        return 1
    return 0


def main(argv: list[str]) -> int:
    mode, *rest = argv
    if mode == "otlp":
        protocol, signal, endpoint, answer, timeout = rest
        return _otlp(protocol, signal, endpoint, answer if answer != "-" else "", float(timeout))
    if mode == "structlog":
        return _structlog(*rest)
    if mode == "loguru":
        return _loguru(*rest)
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


__all__ = ["collector_grpc", "collector_http", "main"]
