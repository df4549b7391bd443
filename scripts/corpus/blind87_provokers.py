"""Eighty-seventh batch of blind provokers: Go libraries, all in one program (b87ctl, blind87_support) built from
Debian's packaged Go sources and run against servers on 127.0.0.1. pgx v4 and pgxpool against private PostgreSQL
clusters (wrong password, a closed port, a standby refusing connections, a missing table, a unique violation, a
table the role may not read, a text column scanned into an int, a pool whose connections are all held, a cluster
with three slots); jinzhu/gorm over lib/pq (the same kinds of failure, with gorm's own logging); sqlx over a
private MariaDB (access denied, too many connections, a missing destination field, a named parameter missing from
the map, a scalar destination for two columns, a duplicate entry, a missing table); viper and koanf loading
missing, malformed and mistyped configs and writing to a read-only tmpfs; cobra usage errors; grpc-go against
b87ctl's own health server answering UNAVAILABLE, INTERNAL, PERMISSION_DENIED, RESOURCE_EXHAUSTED and
INVALID_ARGUMENT, a slow method past the deadline, a method never registered, a message over the server's limit,
TLS against a plaintext server and a closed port; resty and go-retryablehttp against status servers (429, 503,
401, giving up after retries), a closed port, a resetting peer, a slow server and a self-signed certificate;
encoding/json and yaml.v3 decode errors; runtime panics and a fatal error; and os errors under a low open-files
limit, on a full tmpfs and through a file used as a directory."""

from __future__ import annotations

from pathlib import Path

from blind87_support import (
    build_program,
    grpc_server,
    ledger_postgres,
    shop_mariadb,
    standby_postgres,
    tiny_postgres,
    write_inputs,
)
from checked import ToolCase, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs, self_signed_https

BLIND87_SOURCES = frozenset({"pgx87", "gorm87", "sqlx87", "viper87", "koanf87", "cobra87", "grpc-go87", "resty87",
                             "retryablehttp87", "go-json87", "yaml-v3-87", "go-runtime87", "go-os87"})


def _pg_url(port: int, password: str = "right-password") -> str:
    return f"postgres://app:{password}@127.0.0.1:{port}/postgres?sslmode=disable"


def _pq_dsn(port: int, password: str = "right-password") -> str:
    return f"host=127.0.0.1 port={port} user=app password={password} dbname=postgres sslmode=disable"


def _pgx_cases(ledger: int, tiny: int, standby: int, closed: int) -> list[ToolCase]:
    url = _pg_url(ledger)
    return [
        ("pgx_wrong_password", "auth", "password authentication failed",
         ["B87", "pgx-connect", _pg_url(ledger, "wrong-password")]),
        ("pgx_closed_port", "network", "refused", ["B87", "pgx-connect", _pg_url(closed)]),
        ("pgx_standby_refuses", "service", "starting up|not accepting|not yet accepting|recovery|standby",
         ["B87", "pgx-connect", f"postgres://postgres@127.0.0.1:{standby}/postgres?sslmode=disable"]),
        ("pgx_missing_table", "programming", "does not exist",
         ["B87", "pgx-exec", url, "UPDATE invoices SET paid = true WHERE id = $1", "7"]),
        ("pgx_unique_violation", "validation", "duplicate key",
         ["B87", "pgx-exec", url, "INSERT INTO accounts (email, balance) VALUES ($1, 10)", "ada@example.org"]),
        ("pgx_table_permission", "auth", "permission denied",
         ["B87", "pgx-exec", url, "SELECT count(*) FROM payroll"]),
        ("pgx_scan_text_into_int", "programming", "scan", ["B87", "pgx-scan", url]),
        ("pgx_pool_all_held", "resource", "deadline", ["B87", "pgx-pool", url]),
        ("pgx_too_many_clients", "resource", "remaining connection slots|too many clients",
         ["B87", "pgx-too-many", _pg_url(tiny)]),
    ]


def _gorm_cases(ledger: int, tiny: int, closed: int) -> list[ToolCase]:
    dsn = _pq_dsn(ledger)
    return [
        ("gorm_wrong_password", "auth", "password authentication failed",
         ["B87", "gorm-open", _pq_dsn(ledger, "wrong-password")]),
        ("gorm_closed_port", "network", "refused", ["B87", "gorm-open", _pq_dsn(closed)]),
        ("gorm_missing_table", "programming", "does not exist", ["B87", "gorm", dsn, "missing-table"]),
        ("gorm_unique_violation", "validation", "duplicate key", ["B87", "gorm", dsn, "unique"]),
        ("gorm_unknown_column", "programming", "does not exist", ["B87", "gorm", dsn, "unknown-column"]),
        ("gorm_too_many_clients", "resource", "remaining connection slots|too many clients",
         ["B87", "gorm", _pq_dsn(tiny), "hold"]),
    ]


def _sqlx_cases(port: int) -> list[ToolCase]:
    dsn = f"app:right-password@tcp(127.0.0.1:{port})/shop87"
    return [
        ("sqlx_access_denied", "auth", "Access denied",
         ["B87", "sqlx", f"app:wrong-password@tcp(127.0.0.1:{port})/shop87", "ping"]),
        ("sqlx_too_many_connections", "resource", "Too many connections", ["B87", "sqlx", dsn, "hold"]),
        ("sqlx_missing_destination", "programming", "missing destination", ["B87", "sqlx", dsn, "missing-destination"]),
        ("sqlx_named_param_missing", "programming", "could not find name", ["B87", "sqlx", dsn, "named-missing"]),
        ("sqlx_scannable_two_columns", "programming", "scannable dest type", ["B87", "sqlx", dsn, "scannable"]),
        ("sqlx_duplicate_entry", "validation", "Duplicate entry", ["B87", "sqlx", dsn, "duplicate"]),
        ("sqlx_missing_table", "programming", "doesn't exist", ["B87", "sqlx", dsn, "missing-table"]),
    ]


def _config_cases(inputs: Path, readonly: Path) -> tuple[list[ToolCase], list[ToolCase], list[ToolCase]]:
    viper: list[ToolCase] = [
        ("viper_config_file_missing", "filesystem", "no such file",
         ["B87", "viper", "file", str(inputs / "config-yaml" / "billing.yaml")]),
        ("viper_config_not_found_in_paths", "filesystem", "Not Found",
         ["B87", "viper", "by-name", str(inputs / "by-name")]),
        ("viper_malformed_yaml", "validation", "yaml:",
         ["B87", "viper", "file", str(inputs / "config-yaml" / "app.yaml")]),
        ("viper_malformed_toml", "validation", "While parsing config|unexpected token",
         ["B87", "viper", "file", str(inputs / "config-toml" / "app.toml")]),
        ("viper_port_not_int", "validation", "cannot parse|expected type|invalid syntax",
         ["B87", "viper", "file", str(inputs / "config-type" / "app.yaml")]),
        ("viper_write_read_only", "filesystem", "read-only file system",
         ["B87", "viper", "write", str(readonly / "billing.yaml")]),
    ]
    koanf: list[ToolCase] = [
        ("koanf_config_missing", "filesystem", "no such file",
         ["B87", "koanf", str(inputs / "koanf-yaml" / "prod.yaml")]),
        ("koanf_malformed_yaml", "validation", "yaml:", ["B87", "koanf", str(inputs / "koanf-yaml" / "app.yaml")]),
        ("koanf_malformed_toml", "validation", "two dots|unexpected token",
         ["B87", "koanf", str(inputs / "koanf-toml" / "app.toml")]),
    ]
    cobra: list[ToolCase] = [
        ("cobra_unknown_command", "validation", "unknown command", ["B87", "cli", "deplyo", "api"]),
        ("cobra_required_flag", "validation", "required flag", ["B87", "cli", "deploy", "api"]),
        ("cobra_flag_not_int", "validation", "invalid argument",
         ["B87", "cli", "deploy", "api", "--env", "prod", "--replicas", "three"]),
    ]
    return viper, koanf, cobra


def _grpc_cases(port: int, closed: int) -> list[ToolCase]:
    addr = f"127.0.0.1:{port}"
    return [
        ("grpc_closed_port", "network", "refused", ["B87", "grpc", f"127.0.0.1:{closed}", "ledger"]),
        ("grpc_deadline_exceeded", "network", "DeadlineExceeded", ["B87", "grpc", addr, "ledger.slow"]),
        ("grpc_tls_to_plaintext", "network", "handshake|tls", ["B87", "grpc", addr, "ledger", "tls"]),
        ("grpc_unavailable", "service", "Unavailable", ["B87", "grpc", addr, "ledger.unavailable"]),
        ("grpc_internal", "service", "Internal", ["B87", "grpc", addr, "ledger.internal"]),
        ("grpc_permission_denied", "auth", "PermissionDenied", ["B87", "grpc", addr, "ledger.denied"]),
        ("grpc_resource_exhausted", "resource", "ResourceExhausted", ["B87", "grpc", addr, "ledger.quota"]),
        ("grpc_message_too_large", "resource", "larger than max", ["B87", "grpc", addr, "large"]),
        ("grpc_invalid_argument", "validation", "InvalidArgument", ["B87", "grpc", addr, "ledger.invalid"]),
        ("grpc_unimplemented", "programming", "Unimplemented", ["B87", "grpc", addr, "unimplemented"]),
    ]


def _http_cases(env: Env, tls_port: int) -> tuple[list[ToolCase], list[ToolCase]]:
    closed = f"http://127.0.0.1:{env.closed_port}/v1/invoices"
    resty: list[ToolCase] = [
        ("resty_429_after_retries", "resource", "429 Too Many Requests", ["B87", "resty", env.url(429), "plain"]),
        ("resty_503_after_retries", "service", "503 Service Unavailable", ["B87", "resty", env.url(503), "plain"]),
        ("resty_401", "auth", "401 Unauthorized", ["B87", "resty", env.url(401), "auth"]),
        ("resty_closed_port", "network", "refused", ["B87", "resty", closed, "plain"]),
        ("resty_client_timeout", "network", "timeout|deadline", ["B87", "resty", f"{env.http}/slow", "timeout"]),
        ("resty_self_signed", "network", "x509|certificate",
         ["B87", "resty", f"https://127.0.0.1:{tls_port}/v1/invoices", "plain"]),
    ]
    retry: list[ToolCase] = [
        ("retryablehttp_503_giving_up", "service", "status: 503", ["B87", "retry", env.url(503)]),
        ("retryablehttp_429_giving_up", "resource", "status: 429", ["B87", "retry", env.url(429)]),
        ("retryablehttp_closed_port", "network", "refused", ["B87", "retry", closed]),
        ("retryablehttp_reset", "network", "reset|EOF", ["B87", "retry", f"http://127.0.0.1:{env.reset_port}/rates"]),
    ]
    return resty, retry


def _decode_cases(inputs: Path) -> tuple[list[ToolCase], list[ToolCase]]:
    orders, deploy = inputs / "orders", inputs / "deploy"
    json_cases: list[ToolCase] = [
        ("json_syntax_error", "validation", "invalid character", ["B87", "json", "plain", str(orders / "syntax.json")]),
        ("json_type_mismatch", "validation", "cannot unmarshal", ["B87", "json", "plain", str(orders / "type.json")]),
        ("json_unknown_field", "validation", "unknown field", ["B87", "json", "strict", str(orders / "unknown.json")]),
        ("json_marshal_channel", "programming", "unsupported type",
         ["B87", "json", "marshal", str(orders / "ok.json")]),
    ]
    yaml_cases: list[ToolCase] = [
        ("yaml_syntax_error", "validation", "yaml:", ["B87", "yaml", "plain", str(deploy / "syntax.yaml")]),
        ("yaml_known_fields", "validation", "not found in type",
         ["B87", "yaml", "strict", str(deploy / "unknown.yaml")]),
    ]
    return json_cases, yaml_cases


_RUNTIME_CASES: list[ToolCase] = [
    ("go_panic_nil_map", "programming", "nil map", ["B87", "runtime", "nil-map"]),
    ("go_panic_index_in_goroutine", "programming", "index out of range", ["B87", "runtime", "index-goroutine"]),
    ("go_panic_nil_pointer", "programming", "nil pointer", ["B87", "runtime", "nil-pointer"]),
    ("go_panic_type_assertion", "programming", "interface conversion", ["B87", "runtime", "type-assertion"]),
    ("go_panic_divide_by_zero", "programming", "divide by zero", ["B87", "runtime", "divide"]),
    ("go_fatal_concurrent_map_writes", "programming", "concurrent map", ["B87", "runtime", "concurrent-map"]),
]


def _os_cases(env: Env, inputs: Path, full: Path) -> list[ToolCase]:
    logs = env.tmp / "logs87"
    logs.mkdir()
    return [
        ("go_os_too_many_open_files", "resource", "too many open files", f"ulimit -n 64; B87 os open-many {logs}"),
        ("go_os_no_space", "resource", "no space left", ["B87", "os", "fill", str(full)]),
        ("go_os_not_a_directory", "filesystem", "not a directory",
         ["B87", "os", "notdir", str(inputs / "notdir" / "config.json")]),
    ]


def blind87_records(env: Env) -> list[Record]:
    binary = build_program(env)
    ledger, tiny, standby = ledger_postgres(env), tiny_postgres(env), standby_postgres(env)
    mariadb = shop_mariadb(env)
    grpc_port = grpc_server(env, binary)
    tls_port = self_signed_https(env)
    inputs = write_inputs(env)
    readonly = mount_tmpfs(env, "ro87", "size=64k,ro")
    full = mount_tmpfs(env, "full87", "size=64k")

    def fill(text: str) -> str:
        return text.replace("B87", str(binary))

    viper, koanf, cobra = _config_cases(inputs, readonly)
    resty, retry = _http_cases(env, tls_port)
    json_cases, yaml_cases = _decode_cases(inputs)
    groups: list[tuple[str, list[ToolCase]]] = [
        ("pgx87", _pgx_cases(ledger, tiny, standby, env.closed_port)),
        ("gorm87", _gorm_cases(ledger, tiny, env.closed_port)),
        ("sqlx87", _sqlx_cases(mariadb)),
        ("viper87", viper),
        ("koanf87", koanf),
        ("cobra87", cobra),
        ("grpc-go87", _grpc_cases(grpc_port, env.closed_port)),
        ("resty87", resty),
        ("retryablehttp87", retry),
        ("go-json87", json_cases),
        ("yaml-v3-87", yaml_cases),
        ("go-runtime87", _RUNTIME_CASES),
        ("go-os87", _os_cases(env, inputs, full)),
    ]
    out: list[Record] = []
    for source, cases in groups:
        out.extend(tool_records(cases, source, env.tmp, fill=fill, timeout=60))
    return out


if __name__ == "__main__":
    write_batch(blind87_records)
