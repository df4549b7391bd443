"""Seventy-ninth batch of blind provokers: observability exporters and runtime type/config checking in Python.

OpenTelemetry's OTLP exporters (HTTP and gRPC, traces and metrics) export a real batch against collector fakes
started here (blind79_support) that answer 401/403/429/502/503/400 or UNAUTHENTICATED/PERMISSION_DENIED/
RESOURCE_EXHAUSTED/UNAVAILABLE/INVALID_ARGUMENT, a closed port and a listener that never answers; what they log is
the record. statsd's TCP client against a closed port and with too few file descriptors, the Datadog API client
against a closed port, a 503 and a revoked key; structlog and loguru output of caught exceptions (a defect, a
refused connection, a missing spool directory, a broken handler format, a full tmpfs, a corrupt rules file, a read-
only log mount). beartype and typeguard violations and a broken fastjsonschema schema and protobuf field assignment
in the code's own calls (programming); dacite/cattrs conversion, pydantic-settings, dynaconf, omegaconf, python-
decouple and environs configuration values, fastjsonschema / jsonschema-rs validation and protobuf json_format
parsing of bad input (validation); a missing omegaconf file and a missing hydra primary config (filesystem)."""

from __future__ import annotations

import json
import os
import resource
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attrs
from blind79_support import collector_grpc, collector_http
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND79_SOURCES = frozenset({
    "otlphttp79", "otlpgrpc79", "statsd79", "datadog79", "structlog79", "loguru79", "beartype79", "typeguard79",
    "dacite79", "cattrs79", "pydantic-settings79", "dynaconf79", "omegaconf79", "hydra79", "decouple79",
    "environs79", "fastjsonschema79", "jsonschemars79", "protobuf79"})

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------- OTLP exporters (subprocess output)


def _otlp_tools(base: str, grpc_port: int, env: Env) -> tuple[list[ToolCase], list[ToolCase]]:
    def otlp(protocol: str, signal: str, endpoint: str, answer: str = "-") -> list[str]:
        return [sys.executable, str(HERE / "blind79_support.py"), "otlp", protocol, signal, endpoint, answer, "3"]

    closed, hang = env.closed_port, env.hang_port
    grpc = f"127.0.0.1:{grpc_port}"
    http_cases: list[ToolCase] = [
        ("otlp_http_traces_401", "auth", "401|Unauthorized", otlp("http", "traces", f"{base}/401/v1/traces")),
        ("otlp_http_metrics_429", "resource", "Too Many Requests", otlp("http", "metrics", f"{base}/429/v1/metrics")),
        ("otlp_http_traces_503", "service", "Service Unavailable", otlp("http", "traces", f"{base}/503/v1/traces")),
        ("otlp_http_traces_403", "auth", "403|Forbidden", otlp("http", "traces", f"{base}/403/v1/traces")),
        ("otlp_http_metrics_502", "service", "Bad Gateway", otlp("http", "metrics", f"{base}/502/v1/metrics")),
        ("otlp_http_traces_400", "validation", "400|Bad Request", otlp("http", "traces", f"{base}/400/v1/traces")),
        ("otlp_http_traces_refused", "network", "Connection refused|NewConnectionError",
         otlp("http", "traces", f"http://127.0.0.1:{closed}/v1/traces")),
        ("otlp_http_metrics_no_answer", "network", "timeout|timed out",
         otlp("http", "metrics", f"http://127.0.0.1:{hang}/v1/metrics")),
    ]
    grpc_cases: list[ToolCase] = [
        ("otlp_grpc_traces_unauthenticated", "auth", "UNAUTHENTICATED",
         otlp("grpc", "traces", grpc, "UNAUTHENTICATED")),
        ("otlp_grpc_metrics_resource_exhausted", "resource", "RESOURCE_EXHAUSTED",
         otlp("grpc", "metrics", grpc, "RESOURCE_EXHAUSTED")),
        ("otlp_grpc_traces_unavailable", "service", "UNAVAILABLE", otlp("grpc", "traces", grpc, "UNAVAILABLE")),
        ("otlp_grpc_metrics_permission_denied", "auth", "PERMISSION_DENIED",
         otlp("grpc", "metrics", grpc, "PERMISSION_DENIED")),
        ("otlp_grpc_metrics_invalid_argument", "validation", "INVALID_ARGUMENT",
         otlp("grpc", "metrics", grpc, "INVALID_ARGUMENT")),
        ("otlp_grpc_traces_refused", "network", "Connection refused|failed to connect",
         otlp("grpc", "traces", f"127.0.0.1:{closed}")),
        ("otlp_grpc_traces_no_answer", "network", "DEADLINE_EXCEEDED", otlp("grpc", "traces", f"127.0.0.1:{hang}")),
    ]
    return http_cases, grpc_cases


# --------------------------------------------------------------------------- structlog / loguru (subprocess output)


def _logging_tools(env: Env, full: Path) -> tuple[list[ToolCase], list[ToolCase]]:
    def prog(*args: str) -> list[str]:
        return [sys.executable, str(HERE / "blind79_support.py"), *args]

    rules = env.tmp / "pricing79_rules.json"
    rules.write_text('{"currency": "EUR", "rules": [{"sku": "KB-01", "discount": 0.1},\n', encoding="utf-8")
    structlog_cases: list[ToolCase] = [
        ("structlog_zero_division", "programming", "ZeroDivisionError", prog("structlog", "programming", "-")),
        ("structlog_statsd_refused", "network", "ConnectionRefusedError|Connection refused",
         prog("structlog", "network", str(env.closed_port))),
        ("structlog_spool_dir_missing", "filesystem", "FileNotFoundError",
         prog("structlog", "filesystem", str(env.tmp / "spool79" / "metrics.spool"))),
    ]
    loguru_cases: list[ToolCase] = [
        ("loguru_handler_format_key", "programming", "KeyError", prog("loguru", "format", "-")),
        ("loguru_sink_disk_full", "resource", "No space left", prog("loguru", "full", str(full))),
        ("loguru_rules_file_corrupt", "validation", "JSONDecodeError", prog("loguru", "json", str(rules))),
    ]
    return structlog_cases, loguru_cases


def _loguru_cases(ro: Path) -> list[PyCase]:
    def read_only_sink() -> None:
        from loguru import logger

        logger.remove()
        logger.add(ro / "logs" / "service.log", rotation="10 MB")

    return [("loguru_sink_read_only", "filesystem", "loguru79", "OSError", read_only_sink)]


# --------------------------------------------------------------------------- statsd / Datadog


def _metrics_client_cases(base: str, env: Env) -> list[PyCase]:
    def statsd_refused() -> None:
        import statsd

        client = statsd.TCPStatsClient("127.0.0.1", env.closed_port, prefix="checkout", timeout=2)
        client.incr("orders.placed")

    def statsd_out_of_fds() -> None:
        import statsd

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        clients: list[Any] = []
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 8, hard))
        try:
            # one client (and socket) per worker, never closed
            clients.extend(statsd.StatsClient("127.0.0.1", 8125, prefix="worker") for _ in range(64))
        finally:
            for client in clients:
                client.close()
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    def datadog_send(host: str) -> None:
        from datadog import api, initialize

        initialize(api_key="b79-api-key", app_key="b79-app-key", api_host=host, mute=False)
        api.Metric.send(metric="checkout.orders", points=[(1_700_000_000, 5)], tags=["env:staging"])

    return [
        ("statsd_tcp_refused", "network", "statsd79", "ConnectionRefusedError", statsd_refused),
        ("statsd_too_many_open_files", "resource", "statsd79", "OSError", statsd_out_of_fds),
        ("datadog_api_refused", "network", "datadog79", "ClientError",
         lambda: datadog_send(f"http://127.0.0.1:{env.closed_port}")),
        ("datadog_api_503", "service", "datadog79", "HTTPError|ApiError", lambda: datadog_send(f"{base}/503")),
        ("datadog_api_key_forbidden", "auth", "datadog79", "ApiError", lambda: datadog_send(f"{base}/dd403")),
    ]


# --------------------------------------------------------------------------- beartype / typeguard (programming)


def _type_check_cases() -> list[PyCase]:
    def beartype_param() -> None:
        from beartype import beartype

        @beartype
        def schedule_retry(job_id: str, delay_s: float, attempts: int) -> None:
            return None

        schedule_retry("flush-metrics", 1.5, "3")  # type: ignore[arg-type]

    def beartype_return() -> None:
        from beartype import beartype

        @beartype
        def collector_port(endpoint: str) -> int:
            return endpoint.rsplit(":", 1)[1]  # type: ignore[return-value]

        collector_port("127.0.0.1:4317")

    def typeguard_param() -> None:
        from typeguard import typechecked

        @typechecked
        def tag_span(name: str, attributes: dict[str, str]) -> None:
            return None

        tag_span("POST /cart/checkout", {"cart.items": 3})  # type: ignore[dict-item]

    return [
        ("beartype_param_violation", "programming", "beartype79", "BeartypeCallHintParamViolation", beartype_param),
        ("beartype_return_violation", "programming", "beartype79", "BeartypeCallHintReturnViolation",
         beartype_return),
        ("typeguard_param_violation", "programming", "typeguard79", "TypeCheckError", typeguard_param),
    ]


# --------------------------------------------------------------------------- conversion of input (validation)


@dataclass
class Exporter79:
    endpoint: str
    timeout_s: float
    headers: dict[str, str]


@attrs.define
class Sampler79:
    name: str
    ratio: float


@attrs.define
class Pipeline79:
    exporter: str
    batch_size: int
    sampler: Sampler79


def _conversion_cases(env: Env) -> list[PyCase]:
    payload = env.tmp / "exporter79.json"
    payload.write_text(json.dumps({"endpoint": "http://127.0.0.1:4318", "timeout_s": "ten", "headers": {}}),
                       encoding="utf-8")

    def dacite_wrong_type() -> None:
        import dacite

        dacite.from_dict(Exporter79, json.loads(payload.read_text(encoding="utf-8")))

    def cattrs_bad_input() -> None:
        import cattrs

        raw = {"exporter": "otlp", "batch_size": "512 spans", "sampler": {"name": "parentbased", "ratio": "half"}}
        cattrs.Converter(detailed_validation=True).structure(raw, Pipeline79)

    return [
        ("dacite_wrong_type", "validation", "dacite79", "WrongTypeError", dacite_wrong_type),
        ("cattrs_structure_bad_input", "validation", "cattrs79", "ClassValidationError|ExceptionGroup",
         cattrs_bad_input),
    ]


# --------------------------------------------------------------------------- configuration libraries


def _config_cases(env: Env) -> list[PyCase]:
    conf = env.tmp / "conf79"
    conf.mkdir()

    def pydantic_settings(environ: dict[str, str]) -> None:
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class CollectorSettings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="B79_")
            otlp_endpoint: str
            export_timeout_ms: int = 10000
            sample_ratio: float = 1.0

        saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("B79_")}
        os.environ.update(environ)
        try:
            CollectorSettings()
        finally:
            for key in environ:
                os.environ.pop(key, None)
            os.environ.update(saved)

    def dynaconf_validator() -> None:
        from dynaconf import Dynaconf, Validator

        (conf / "settings.toml").write_text('[default]\nexporter = "otlp"\nbatch_size = 0\n', encoding="utf-8")
        settings = Dynaconf(settings_files=[str(conf / "settings.toml")], environments=True, envvar_prefix="B79DYN",
                            validators=[Validator("BATCH_SIZE", gte=1, lte=4096),
                                        Validator("EXPORTER", is_in=["otlp", "zipkin"])])
        settings.validators.validate()

    def omegaconf_missing_value() -> None:
        from omegaconf import OmegaConf

        (conf / "exporter.yaml").write_text("exporter:\n  endpoint: ???\n  timeout_s: 10\n", encoding="utf-8")
        cfg = OmegaConf.load(conf / "exporter.yaml")
        print(cfg.exporter.endpoint)

    def omegaconf_missing_file() -> None:
        from omegaconf import OmegaConf

        OmegaConf.load(conf / "overrides" / "production.yaml")

    def hydra_missing_primary() -> None:
        from hydra import compose, initialize_config_dir

        (conf / "hydra").mkdir()
        with initialize_config_dir(config_dir=str(conf / "hydra"), version_base=None):
            compose(config_name="collector")

    def decouple_cast() -> None:
        from decouple import Config, RepositoryEnv

        (conf / ".env").write_text("STATSD_HOST=127.0.0.1\nSTATSD_PORT=8125/udp\n", encoding="utf-8")
        Config(RepositoryEnv(str(conf / ".env")))("STATSD_PORT", cast=int)

    def environs_int() -> None:
        from environs import Env as Environs

        environs = Environs()
        os.environ["B79_FLUSH_INTERVAL"] = "10s"
        try:
            environs.int("B79_FLUSH_INTERVAL")
        finally:
            os.environ.pop("B79_FLUSH_INTERVAL", None)

    return [
        ("pydantic_settings_missing", "validation", "pydantic-settings79", "ValidationError",
         lambda: pydantic_settings({})),
        ("pydantic_settings_malformed", "validation", "pydantic-settings79", "ValidationError",
         lambda: pydantic_settings({"B79_OTLP_ENDPOINT": "http://127.0.0.1:4318", "B79_EXPORT_TIMEOUT_MS": "10s"})),
        ("dynaconf_validator", "validation", "dynaconf79", "ValidationError", dynaconf_validator),
        ("omegaconf_missing_mandatory", "validation", "omegaconf79", "MissingMandatoryValue",
         omegaconf_missing_value),
        ("omegaconf_file_missing", "filesystem", "omegaconf79", "FileNotFoundError", omegaconf_missing_file),
        ("hydra_primary_config_missing", "filesystem", "hydra79", "MissingConfigException", hydra_missing_primary),
        ("decouple_cast_int", "validation", "decouple79", "ValueError", decouple_cast),
        ("environs_int_malformed", "validation", "environs79", "EnvValidationError|EnvError", environs_int),
    ]


# --------------------------------------------------------------------------- schema validators and protobuf


def _schema_cases(env: Env) -> list[PyCase]:
    schema = {"type": "object", "required": ["service", "sample_ratio"],
              "properties": {"service": {"type": "string", "minLength": 1},
                             "sample_ratio": {"type": "number", "minimum": 0, "maximum": 1}}}
    uploaded = {"service": "checkout", "sample_ratio": 1.5}

    def fastjsonschema_value() -> None:
        import fastjsonschema

        fastjsonschema.compile(schema)(uploaded)

    def fastjsonschema_definition() -> None:
        import fastjsonschema

        fastjsonschema.compile({"type": "object", "properties": {"sample_ratio": {"type": "numbr"}}})

    def jsonschema_rs_value() -> None:
        import jsonschema_rs

        jsonschema_rs.validator_for(schema).validate({"service": "", "sample_ratio": 0.5})

    def protobuf_parse() -> None:
        from google.protobuf import json_format
        from opentelemetry.proto.trace.v1.trace_pb2 import Span

        body = '{"name": "POST /cart/checkout", "kind": "SPAN_KIND_SERVR", "startTimeUnixNano": "1700000000"}'
        json_format.Parse(body, Span())

    def protobuf_field_type() -> None:
        from opentelemetry.proto.trace.v1.trace_pb2 import Span

        span = Span(name="POST /cart/checkout")
        span.start_time_unix_nano = "1700000000000000000"  # type: ignore[assignment]

    return [
        ("fastjsonschema_value", "validation", "fastjsonschema79", "JsonSchemaValueException", fastjsonschema_value),
        ("fastjsonschema_bad_definition", "programming", "fastjsonschema79", "JsonSchemaDefinitionException",
         fastjsonschema_definition),
        ("jsonschema_rs_value", "validation", "jsonschemars79", "ValidationError", jsonschema_rs_value),
        ("protobuf_json_parse", "validation", "protobuf79", "ParseError", protobuf_parse),
        ("protobuf_field_type", "programming", "protobuf79", "TypeError", protobuf_field_type),
    ]


def blind79_records(env: Env) -> list[Record]:
    base = collector_http(env)
    grpc_port = collector_grpc(env)
    full = mount_tmpfs(env, "full79", "size=64k")
    ro = mount_tmpfs(env, "ro79", "size=64k,ro")
    http_tools, grpc_tools = _otlp_tools(base, grpc_port, env)
    structlog_tools, loguru_tools = _logging_tools(env, full)

    out = tool_records(http_tools, "otlphttp79", env.tmp)
    out += tool_records(grpc_tools, "otlpgrpc79", env.tmp)
    out += tool_records(structlog_tools, "structlog79", env.tmp)
    out += tool_records(loguru_tools, "loguru79", env.tmp)
    out += python_records(_loguru_cases(ro))
    out += python_records(_metrics_client_cases(base, env))
    out += python_records(_type_check_cases())
    out += python_records(_conversion_cases(env))
    out += python_records(_config_cases(env))
    out += python_records(_schema_cases(env))
    return out


if __name__ == "__main__":
    write_batch(blind79_records)


__all__ = ["BLIND79_SOURCES", "blind79_records"]
