"""Hundred-and-seventeenth batch of blind provokers: Go libraries the corpus had not seen, all in one program (opsctl,
blind117_support) built from Debian's packaged Go sources and run against servers on 127.0.0.1. gorilla/websocket
dialing a refused port, a peer that never answers, handshakes answered 401, 403 and 503, servers closing with 1011
and 1008, concurrent writers, a write after the close frame and an Upgrader refusing the origin; gin's Logger and
Recovery reporting handler panics (a nil map, an index out of range, a failed type assertion), malformed and
invalid JSON bodies, a missing template directory and uploads onto a full or read-only tmpfs;
echo's Logger and Recover middleware on a nil dereference, a malformed webhook body, a missing export, an expired
JWT, wrong basic-auth credentials, the rate limiter and a proxy to a refused upstream; minio-go v6 against a fake
S3 answering AccessDenied, SignatureDoesNotMatch, ServiceUnavailable and XMinioStorageFull, a refused port and a
silent one, a missing local file, downloads onto read-only and full mounts and an invalid bucket name; nats.go
against a private nats-server (a refused port, a stale password, a publish outside the user's permissions, the
server's connection limit, no responders, a slow consumer, a closed connection); logrus and zap with file outputs
on read-only, missing and full paths, unmarshalable fields and bad level/encoder settings; afero (read-only fs,
missing file in a MemMapFs, full disk, a file used as a directory); go-toml parse, duplicate-table, type and
missing-file errors and a non-pointer target; validator v10 (field errors, a var check, a nil struct, an undefined
tag); and armon/consul-api against a refused port and a fake agent answering 403, 500 and 429."""

from __future__ import annotations

from blind117_support import Fixtures, build_program, private_nats, write_fixtures
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND117_SOURCES = frozenset({"gorilla-websocket117", "gin117", "echo117", "minio-go117", "nats-go117", "logrus117",
                              "zap117", "afero117", "go-toml117", "go-validator117", "consul-api117"})


def _ws_cases(env: Env) -> list[ToolCase]:
    def dial(port: int, path: str = "/v2/quotes") -> list[str]:
        return ["OPS", "ws", "dial", f"ws://127.0.0.1:{port}{path}"]

    return [
        ("ws_refused", "network", "connection refused", dial(env.closed_port)),
        ("ws_handshake_timeout", "network", "timeout", dial(env.hang_port)),
        ("ws_handshake_401", "auth", "401", dial(env.http_port, "/status/401")),
        ("ws_handshake_403", "auth", "403", dial(env.http_port, "/status/403")),
        ("ws_handshake_503", "service", "503", dial(env.http_port, "/status/503")),
        ("ws_close_1011", "service", "1011", ["OPS", "ws", "close-1011"]),
        ("ws_close_1008_token_expired", "auth", "1008", ["OPS", "ws", "close-1008"]),
        ("ws_concurrent_write", "programming", "concurrent write", ["OPS", "ws", "concurrent-write"]),
        ("ws_write_after_close", "programming", "close sent", ["OPS", "ws", "write-after-close"]),
        ("ws_origin_refused", "auth", "origin not allowed", ["OPS", "ws", "origin"]),
    ]


def _gin_cases(fx: Fixtures) -> list[ToolCase]:
    return [
        ("gin_nil_map_panic", "programming", "nil map", ["OPS", "gin", "nil-map"]),
        ("gin_index_panic", "programming", "index out of range", ["OPS", "gin", "index"]),
        ("gin_type_assertion_panic", "programming", "interface conversion", ["OPS", "gin", "type-assert"]),
        ("gin_malformed_json", "validation", "invalid character", ["OPS", "gin", "bad-json"]),
        ("gin_binding_validation", "validation", "failed on the", ["OPS", "gin", "binding"]),
        ("gin_templates_missing", "filesystem", "pattern matches no files",
         ["OPS", "gin", "templates", "/srv/storefront/templates"]),
        ("gin_upload_full_disk", "resource", "no space left", ["OPS", "gin", "upload", str(fx.full)]),
        ("gin_upload_read_only", "filesystem", "read-only file system", ["OPS", "gin", "upload", str(fx.ro)]),
    ]


def _echo_cases(env: Env) -> list[ToolCase]:
    return [
        ("echo_recover_nil_pointer", "programming", "nil pointer", ["OPS", "echo", "nil-pointer"]),
        ("echo_bind_malformed_json", "validation", "syntax error", ["OPS", "echo", "bad-json"]),
        ("echo_export_missing", "filesystem", "no such file", ["OPS", "echo", "missing-file", "/srv/crm"]),
        ("echo_jwt_expired", "auth", "expired", ["OPS", "echo", "jwt-expired"]),
        ("echo_basic_auth_wrong", "auth", "401", ["OPS", "echo", "basic-auth"]),
        ("echo_rate_limited", "resource", "rate limit exceeded", ["OPS", "echo", "rate-limit"]),
        ("echo_proxy_upstream_refused", "network", "connection refused",
         ["OPS", "echo", "proxy", f"http://127.0.0.1:{env.closed_port}"]),
    ]


def _s3_cases(env: Env, fx: Fixtures) -> list[ToolCase]:
    def error(status: int, code: str, message: str) -> list[str]:
        return ["OPS", "s3", "error", str(status), f"{code}:{message}"]

    return [
        ("minio_access_denied", "auth", "AccessDenied", error(403, "AccessDenied", "Access Denied.")),
        ("minio_signature_mismatch", "auth", "SignatureDoesNotMatch",
         error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you "
                                             "provided. Check your key and signing method.")),
        ("minio_service_unavailable", "service", "ServiceUnavailable",
         error(503, "ServiceUnavailable", "The service is unavailable. Please retry.")),
        ("minio_storage_full", "resource", "XMinioStorageFull",
         error(507, "XMinioStorageFull", "Storage backend has reached its minimum free drive threshold. "
                                         "Please delete a few objects to proceed.")),
        ("minio_refused", "network", "connection refused",
         ["OPS", "s3", "endpoint", f"127.0.0.1:{env.closed_port}"]),
        ("minio_header_timeout", "network", "timeout", ["OPS", "s3", "endpoint", f"127.0.0.1:{env.hang_port}"]),
        ("minio_local_file_missing", "filesystem", "no such file",
         ["OPS", "s3", "missing-local", "/srv/pg-backups/ledger/2026-11-29T0300Z.dump.gz"]),
        ("minio_download_read_only", "filesystem", "read-only file system",
         ["OPS", "s3", "download", str(fx.ro / "checkout-2026-11-28.csv")]),
        ("minio_download_full_disk", "resource", "no space left",
         ["OPS", "s3", "download", str(fx.full / "checkout-2026-11-28.csv")]),
        ("minio_invalid_bucket_name", "validation", "invalid characters", ["OPS", "s3", "bad-bucket"]),
    ]


def _nats_cases(env: Env, port: int) -> list[ToolCase]:
    url = f"nats://127.0.0.1:{port}"
    return [
        ("nats_refused", "network", "no servers available",
         ["OPS", "nats", "connect", f"nats://127.0.0.1:{env.closed_port}"]),
        ("nats_wrong_password", "auth", "authorization violation", ["OPS", "nats", "wrong-password", url]),
        ("nats_publish_permission", "auth", "permissions violation", ["OPS", "nats", "permission", url]),
        ("nats_max_connections", "resource", "maximum connections", ["OPS", "nats", "max-connections", url]),
        ("nats_no_responders", "service", "no responders", ["OPS", "nats", "no-responders", url]),
        ("nats_slow_consumer", "resource", "slow consumer", ["OPS", "nats", "slow-consumer", url]),
        ("nats_publish_after_close", "programming", "connection closed", ["OPS", "nats", "closed", url]),
    ]


def _logging_cases(fx: Fixtures) -> tuple[list[ToolCase], list[ToolCase]]:
    logrus: list[ToolCase] = [
        ("logrus_log_file_read_only", "filesystem", "read-only file system",
         ["OPS", "logrus", "open", str(fx.ro / "audit.log")]),
        ("logrus_write_full_disk", "resource", "no space left", ["OPS", "logrus", "full", str(fx.full / "orders.log")]),
        ("logrus_unmarshalable_field", "programming", "unsupported type", ["OPS", "logrus", "marshal"]),
        ("logrus_bad_level", "validation", "not a valid logrus level", ["OPS", "logrus", "level", "verbose"]),
    ]
    zap: list[ToolCase] = [
        ("zap_sink_dir_missing", "filesystem", "no such file",
         ["OPS", "zap", "sink", "/var/log/inventory-sync/app.json"]),
        ("zap_sink_read_only", "filesystem", "read-only file system",
         ["OPS", "zap", "sink", str(fx.ro / "inventory-sync.json")]),
        ("zap_sink_unknown_scheme", "validation", "no sink found", ["OPS", "zap", "sink", "kafka://127.0.0.1:9092/logs"]),
        ("zap_write_full_disk", "resource", "no space left", ["OPS", "zap", "full", str(fx.full / "inventory.json")]),
        ("zap_config_bad_level", "validation", "unrecognized level",
         ["OPS", "zap", "config", '{"level": "verbose", "encoding": "json", "outputPaths": ["stdout"]}']),
        ("zap_config_unknown_encoder", "validation", "no encoder registered",
         ["OPS", "zap", "config", '{"level": "info", "encoding": "logfmt", "outputPaths": ["stdout"], '
                                  '"encoderConfig": {"messageKey": "msg"}}']),
    ]
    return logrus, zap


def _afero_cases(fx: Fixtures) -> list[ToolCase]:
    return [
        ("afero_read_only_fs", "filesystem", "not permitted", ["OPS", "afero", "readonly", str(fx.site)]),
        ("afero_memmap_missing", "filesystem", "does not exist", ["OPS", "afero", "memmap-missing"]),
        ("afero_full_disk", "resource", "no space left", ["OPS", "afero", "full", str(fx.full)]),
        ("afero_file_as_dir", "filesystem", "not a directory", ["OPS", "afero", "notdir", str(fx.site)]),
    ]


def _toml_cases(fx: Fixtures) -> list[ToolCase]:
    return [
        ("toml_unterminated_string", "validation", "(5,", ["OPS", "toml", "load", str(fx.cfg / "syntax.toml")]),
        ("toml_duplicate_table", "validation", "duplicated tables",
         ["OPS", "toml", "load", str(fx.cfg / "duplicate.toml")]),
        ("toml_type_mismatch", "validation", "convert", ["OPS", "toml", "unmarshal", str(fx.cfg / "mistyped.toml")]),
        ("toml_file_missing", "filesystem", "no such file", ["OPS", "toml", "load", str(fx.cfg / "prod.toml")]),
        ("toml_non_pointer_target", "programming", "only a pointer",
         ["OPS", "toml", "non-pointer", str(fx.cfg / "mistyped.toml")]),
    ]


_VALIDATOR_CASES: list[ToolCase] = [
    ("validator_struct_fields", "validation", "failed on the", ["OPS", "validator", "struct"]),
    ("validator_var_oneof", "validation", "oneof", ["OPS", "validator", "var"]),
    ("validator_nil_struct", "programming", "nil *main.customer", ["OPS", "validator", "nil"]),
    ("validator_undefined_tag", "programming", "undefined validation function", ["OPS", "validator", "undefined-tag"]),
]


def _consul_cases(env: Env) -> list[ToolCase]:
    return [
        ("consul_refused", "network", "connection refused", ["OPS", "consul", "real", f"127.0.0.1:{env.closed_port}"]),
        ("consul_acl_not_found", "auth", "403", ["OPS", "consul", "fake", "", "403", "ACL not found"]),
        ("consul_permission_denied", "auth", "permission denied", ["OPS", "consul", "fake", "", "403",
                                                                   "Permission denied"]),
        ("consul_no_leader", "service", "no cluster leader", ["OPS", "consul", "fake", "", "500", "No cluster leader"]),
        ("consul_rate_limited", "resource", "429", ["OPS", "consul", "fake", "", "429", "rate limit exceeded"]),
    ]


def blind117_records(env: Env) -> list[Record]:
    binary = build_program(env)
    nats_port = private_nats(env)
    fx = write_fixtures(env)

    def fill(text: str) -> str:
        return str(binary) if text == "OPS" else text

    logrus, zap = _logging_cases(fx)
    groups: list[tuple[str, list[ToolCase]]] = [
        ("gorilla-websocket117", _ws_cases(env)),
        ("gin117", _gin_cases(fx)),
        ("echo117", _echo_cases(env)),
        ("minio-go117", _s3_cases(env, fx)),
        ("nats-go117", _nats_cases(env, nats_port)),
        ("logrus117", logrus),
        ("zap117", zap),
        ("afero117", _afero_cases(fx)),
        ("go-toml117", _toml_cases(fx)),
        ("go-validator117", _VALIDATOR_CASES),
        ("consul-api117", _consul_cases(env)),
    ]
    out: list[Record] = []
    for source, cases in groups:
        out.extend(tool_records(cases, source, env.tmp, fill=fill, timeout=60))
    return out


if __name__ == "__main__":
    write_batch(blind117_records)


__all__ = ["BLIND117_SOURCES", "blind117_records"]
