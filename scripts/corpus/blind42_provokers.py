"""Forty-second batch of blind provokers: Rust programs with the standard library only, compiled with plain
`rustc` (debug mode) into a temporary directory and run, plus `rustc` itself on broken sources and a few Python
`subprocess` wrappers of those binaries (as CI and deploy scripts call them: `check=True`, the child's stderr
carried into the raised error). See `blind42_support.py` for the programs.

* `rust-net42`: a hand-rolled HTTP/1.1 client over `std::net::TcpStream` against 127.0.0.1: a closed port
  (with a retry loop), a listener whose accept queue is full (`connect_timeout`), a server that never answers
  (read timeout), resets, closes mid-body or drops an upload, a `.invalid` host through `ToSocketAddrs`, too many
  sockets under `ulimit -n`, and local API servers answering 401/403/422/429/500/502/503/504 (the program
  returns `Err(format!(...))` with the status line, as clients written by hand do).
* `rust42`: `std::fs` errors (not found, permission denied as `nobody` via runuser, a full tmpfs, a read-only
  tmpfs, already exists, directory not empty, is/not a directory), too many open files, allocation failures
  under `ulimit -v`, `str::parse` errors, a hand-rolled config parser returning `Err`, and panics of defects
  (index out of bounds, `unwrap` on `None`, arithmetic overflow, `RefCell` double borrow, division by zero,
  stack overflow, bad slices, `todo!`, a poisoned mutex).
* `rustc42`: compile errors of broken sources (type mismatch, unknown names, use after move, unresolved
  import, `?` in `main`, a syntax error).

Only 127.0.0.1. The label is the cause provoked; the cause check of `checked.py` drops a case whose output lacks
the provoked cause's token."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from blind42_support import BROKEN, RUSTC, build
from checked import PyCase, ToolCase, python_records, tool_records
from cloudapi import ANSWERS, cloud_api
from common import Env, Record, write_batch
from servers import full_backlog_port as full_backlog
from servers import mount_tmpfs

BLIND42_SOURCES = frozenset({"rust42", "rust-net42", "rustc42"})

ANSWERS.update({
    "rel42": (401, "application/json", json.dumps({"error": "unauthorized", "message": "token is expired"})),
    "art42": (403, "application/json", json.dumps({"errors": [{
        "code": "DENIED", "message": "requested access to the resource is denied"}]})),
    "hook42": (429, "application/json", json.dumps({"message": "API rate limit exceeded for installation"})),
    "inv42": (500, "application/json", json.dumps({"error": "internal error", "request_id": "req_7f3a9c"})),
    "gw42": (502, "text/html", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>"
             "502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n"),
    "pay42": (503, "application/json", json.dumps({"status": "unavailable",
                                                   "message": "upstream is in maintenance, try again later"})),
    "rep42": (504, "text/plain", "upstream request timeout"),
    "ord42": (422, "application/json", json.dumps({"errors": {"quantity": ["must be greater than 0"]}})),
})

FETCHD: list[ToolCase] = [
    ("fetchd_401_expired_token", "auth", "401",
     "FETCHD_TOKEN=ghs_b42expired @BIN@/fetchd get @API@/rel42/v2/releases/latest"),
    ("fetchd_403_registry_push", "auth", "403", "@BIN@/fetchd post @API@/art42/v2/team/app/blobs/uploads/"),
    ("fetchd_422_order", "validation", "422", "@BIN@/fetchd post @API@/ord42/v1/orders"),
    ("fetchd_429_webhook", "resource", "429", "@BIN@/fetchd post @API@/hook42/v1/notify"),
    ("fetchd_500_inventory", "service", "500", "@BIN@/fetchd get @API@/inv42/v1/stock/sku-991"),
    ("fetchd_502_retry", "service", "502", "@BIN@/fetchd retry @API@/gw42/healthz 2"),
    ("fetchd_503_body", "service", "503", "@BIN@/fetchd get-body @API@/pay42/v1/charges"),
    ("fetchd_504_reports", "service", "504", "@BIN@/fetchd get @API@/rep42/v1/reports/daily"),
    ("fetchd_refused_retry", "network", "refused", "@BIN@/fetchd retry http://127.0.0.1:@CLOSED@/v1/health 3"),
    ("fetchd_connect_timeout", "network", "timed out", "@BIN@/fetchd get http://127.0.0.1:@BACKLOG@/metrics"),
    ("fetchd_read_timeout", "network", "os error 11|timed out|temporarily unavailable",
     "@BIN@/fetchd get http://127.0.0.1:@HANG@/v1/status"),
    ("fetchd_reset", "network", "reset", "@BIN@/fetchd get http://127.0.0.1:@RESET@/v1/status"),
    ("fetchd_short_body", "network", "fill whole buffer|eof", "@BIN@/fetchd get http://127.0.0.1:@CLOSE@/v1/export"),
    ("fetchd_dns_invalid", "network", "failed to lookup address|name or service not known|name resolution",
     "@BIN@/fetchd get http://artifacts.build42.invalid:8080/v1/index"),
    ("fetchd_upload_dropped", "network", "broken pipe|reset by peer",
     "@BIN@/fetchd upload http://127.0.0.1:@EMPTY@/v1/artifacts/app.tar 64"),
    ("fetchd_fanout_emfile", "resource", "too many open files",
     "ulimit -n 20; @BIN@/fetchd fan-out http://127.0.0.1:@HANG@/ 64"),
]

OPSCTL: list[ToolCase] = [
    ("opsctl_show_missing", "filesystem", "NotFound|No such file", "@BIN@/opsctl show @TMP@/deploy/config/app.toml"),
    ("opsctl_read_as_nobody", "filesystem", "Permission denied|PermissionDenied",
     "runuser -u nobody -- @BIN@/opsctl show @TMP@/secrets/registry-token"),
    ("opsctl_emit_as_nobody", "filesystem", "Permission denied|PermissionDenied",
     "runuser -u nobody -- @BIN@/opsctl emit @TMP@/reports/nightly"),
    ("opsctl_release_read_only", "filesystem", "Read-only|ReadOnlyFilesystem",
     "@BIN@/opsctl init-release @RO@/release-2026-11-29 v42.1.0"),
    ("opsctl_release_exists", "filesystem", "File exists|AlreadyExists",
     "@BIN@/opsctl init-release @TMP@/releases/v42.0.0 v42.0.0"),
    ("opsctl_clean_not_empty", "filesystem", "not empty|DirectoryNotEmpty", "@BIN@/opsctl clean @TMP@/cache"),
    ("opsctl_config_is_dir", "filesystem", "Is a directory|IsADirectory", "@BIN@/opsctl check-config @TMP@/conf.d"),
    ("opsctl_not_a_dir", "filesystem", "Not a directory|NotADirectory",
     "@BIN@/opsctl show @TMP@/settings.json/overrides.json"),
    ("opsctl_write_full_disk", "resource", "No space left|StorageFull",
     "@BIN@/opsctl write-artifact @DISK1@/bundle.tar 400000"),
    ("opsctl_stage_full_disk", "resource", "No space left|StorageFull",
     "@BIN@/opsctl stage @TMP@/image.bin @DISK2@/image.bin"),
    ("opsctl_open_all_emfile", "resource", "too many open files", "ulimit -n 24; @BIN@/opsctl open-all @TMP@/shards"),
    ("opsctl_alloc_abort", "resource", "memory allocation", "ulimit -v 300000; @BIN@/opsctl load-index 2048"),
    ("opsctl_try_reserve", "resource", "allocator returned an error",
     "ulimit -v 300000; @BIN@/opsctl reserve 100000000"),
    ("opsctl_port_digit", "validation", "InvalidDigit", "@BIN@/opsctl set-port 80a0"),
    ("opsctl_port_too_large", "validation", "too large", "@BIN@/opsctl set-listen-port 70000"),
    ("opsctl_ip_syntax", "validation", "invalid IP address", "@BIN@/opsctl allow 10.0.0.300"),
    ("opsctl_bool_flag", "validation", "ParseBoolError", "@BIN@/opsctl flag yes"),
    ("opsctl_config_line", "validation", "expected `key = value`", "@BIN@/opsctl check-config @TMP@/pipeline.conf"),
    ("opsctl_config_value", "validation", "invalid digit", "@BIN@/opsctl check-config @TMP@/timeouts.conf"),
    ("opsctl_config_utf8", "validation", "valid UTF-8", "@BIN@/opsctl check-config @TMP@/legacy.conf"),
]

WORKER: list[ToolCase] = [
    ("worker_index_oob", "programming", "index out of bounds", "RUST_BACKTRACE=1 @BIN@/worker route"),
    ("worker_unwrap_none", "programming", "Option::unwrap()", "@BIN@/worker region"),
    ("worker_map_index", "programming", "panicked", "@BIN@/worker lookup"),
    ("worker_add_overflow", "programming", "overflow", "@BIN@/worker retries"),
    ("worker_refcell", "programming", "borrow", "RUST_BACKTRACE=1 @BIN@/worker ledger"),
    ("worker_divide_zero", "programming", "divide by zero", "@BIN@/worker average"),
    ("worker_stack_overflow", "programming", "overflowed its stack", "@BIN@/worker tree"),
    ("worker_slice_range", "programming", "out of range", "@BIN@/worker header"),
    ("worker_char_boundary", "programming", "char boundary", "@BIN@/worker initials"),
    ("worker_todo", "programming", "not yet implemented", "@BIN@/worker export parquet"),
    ("worker_poisoned", "programming", "PoisonError", "@BIN@/worker pool"),
    ("worker_env_not_number", "validation", "InvalidDigit", "WORKERS=four @BIN@/worker workers"),
]

#: the diagnostic each broken source must draw from rustc
_RUSTC_TOKENS = {"rustc_mismatched_types": "E0308", "rustc_unresolved_name": "E0425", "rustc_use_after_move": "E0382",
                 "rustc_no_method": "E0599", "rustc_unresolved_import": "E0432", "rustc_question_in_main": "E0277",
                 "rustc_syntax": "error: expected"}
RUSTC_CASES: list[ToolCase] = [
    (name, "programming", _RUSTC_TOKENS[name],
     f"cd @TMP@/{name} && @RUSTC@ --edition 2021 src/main.rs -o @TMP@/{name}/app")
    for name in BROKEN
]


def _fixtures(env: Env) -> None:
    """The files and directories the opsctl cases fail on (as root; the `nobody` cases cannot reach them)."""
    tmp = env.tmp
    secrets = tmp / "secrets"
    secrets.mkdir(mode=0o755)
    (secrets / "registry-token").write_text("b42-token\n")
    os.chmod(secrets / "registry-token", 0o600)
    (tmp / "reports").mkdir(mode=0o755)
    (tmp / "releases" / "v42.0.0").mkdir(parents=True)
    (tmp / "cache").mkdir()
    (tmp / "cache" / "layer-01.tar").write_bytes(b"\0" * 512)
    (tmp / "conf.d").mkdir()
    (tmp / "settings.json").write_text("{}\n")
    (tmp / "image.bin").write_bytes(os.urandom(400_000))
    (tmp / "shards").mkdir()
    for i in range(80):
        (tmp / "shards" / f"part-{i:05d}.parquet").write_bytes(b"PAR1")
    (tmp / "pipeline.conf").write_text("# pipeline settings\nlisten = \"0.0.0.0:8080\"\nworkers 8\ntimeout_secs = 30\n")
    (tmp / "timeouts.conf").write_text("listen = \"0.0.0.0:8080\"\nworkers = 4\ntimeout_secs = 30s\n")
    (tmp / "legacy.conf").write_bytes(b"# Betreiber: M\xfcller GmbH\nlisten = \"0.0.0.0:8080\"\nworkers = 2\n")
    (tmp / "worker.conf").write_text("listen: 0.0.0.0:9090\nworkers: 8\n")


def _step(argv: list[str], token: str, what: str, extra_env: dict[str, str] | None = None) -> Callable[[], None]:
    """A deploy-script step: run the binary with `check=True`; on failure raise with the child's stderr (only
    when it carries the provoked cause's token; otherwise an AssertionError that the type check drops)."""

    def step() -> None:
        try:
            subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, LC_ALL="C.UTF-8", **(extra_env or {})))
        except subprocess.CalledProcessError as exc:
            if not any(t.lower() in (exc.stderr or "").lower() for t in token.split("|")):
                raise AssertionError("harness: the provoked cause is missing") from None
            raise RuntimeError(f"{what} failed (exit status {exc.returncode}): {exc.stderr.strip()}") from exc

    return step


def _py_cases(env: Env, bindir: Path, api: str, disk: Path) -> list[PyCase]:
    fetchd, opsctl, worker = (str(bindir / n) for n in ("fetchd", "opsctl", "worker"))
    tmp = env.tmp
    return [
        ("py_fetchd_refused", "network", "rust-net42", "RuntimeError",
         _step([fetchd, "get", f"http://127.0.0.1:{env.closed_port}/v1/ready"], "refused", "readiness check")),
        ("py_fetchd_503", "service", "rust-net42", "RuntimeError",
         _step([fetchd, "get-body", f"{api}/pay42/v1/charges/ch_42/capture"], "503", "capture payment")),
        ("py_fetchd_403", "auth", "rust-net42", "RuntimeError",
         _step([fetchd, "get", f"{api}/art42/v2/team/app/manifests/v42"], "403", "pull manifest",
               {"FETCHD_TOKEN": "b42-readonly"})),
        ("py_opsctl_full_disk", "resource", "rust42", "RuntimeError",
         _step([opsctl, "write-artifact", str(disk / "dist.tar"), "400000"], "No space left", "package artifact")),
        ("py_opsctl_missing_config", "filesystem", "rust42", "RuntimeError",
         _step([opsctl, "check-config", str(tmp / "etc" / "pipeline.conf")], "No such file", "validate config")),
        ("py_opsctl_bad_config", "validation", "rust42", "RuntimeError",
         _step([opsctl, "check-config", str(tmp / "worker.conf")], "expected `key = value`", "validate config")),
        ("py_worker_stack_overflow", "programming", "rust42", "RuntimeError",
         _step([worker, "tree"], "overflowed its stack", "compute dependency depth")),
    ]


def blind42_records(env: Env) -> list[Record]:
    bindir = build(env)
    _fixtures(env)
    api = cloud_api(env)
    backlog = full_backlog(env)
    disks = [mount_tmpfs(env, f"disk42{i}", "size=64k") for i in (1, 2, 3)]
    ro = mount_tmpfs(env, "ro42", "size=64k,ro")
    places = {"@BIN@": str(bindir), "@TMP@": str(env.tmp), "@API@": api, "@CLOSED@": str(env.closed_port),
              "@HANG@": str(env.hang_port), "@RESET@": str(env.reset_port), "@CLOSE@": str(env.close_port),
              "@EMPTY@": str(env.empty_port), "@BACKLOG@": str(backlog), "@DISK1@": str(disks[0]),
              "@DISK2@": str(disks[1]), "@RO@": str(ro), "@RUSTC@": RUSTC}

    def fill(text: str) -> str:
        for key, value in places.items():
            text = text.replace(key, value)
        return text

    out = tool_records(FETCHD, "rust-net42", env.tmp, fill)
    out += tool_records(OPSCTL, "rust42", env.tmp, fill)
    out += tool_records(WORKER, "rust42", env.tmp, fill)
    out += tool_records(RUSTC_CASES, "rustc42", env.tmp, fill)
    out += python_records(_py_cases(env, bindir, api, disks[2]))
    return out


if __name__ == "__main__":
    write_batch(blind42_records)


__all__ = ["BLIND42_SOURCES", "blind42_records"]
