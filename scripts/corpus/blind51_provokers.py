"""Fifty-first batch of blind provokers: C# on Mono. Three small programs are compiled with `mcs` into a temporary
directory and run with `mono`, so every record is Mono's own print of an uncaught exception (`Unhandled Exception:`
with its `--->` chain of inner exceptions) or a compiler diagnostic, plus a few Python `subprocess` wrappers of
those programs (as CI and deploy scripts call them). See `blind51_support.py` for the programs.

* `mono-net51`: `relctl`, a client of release and deploy APIs on 127.0.0.1: HttpClient (`EnsureSuccessStatusCode`,
  awaited or through `.Result`), WebClient, HttpWebRequest and SmtpClient against local API servers answering
  400/401/403/422/429/500/502/503/504, a closed port (also inside a retry loop that wraps the last error), a
  server that never answers (HttpClient's and HttpWebRequest's timeouts), resets or closes mid-body, a `.invalid`
  host, a TLS server with a self-signed certificate, and a download into a directory that does not exist.
* `mono51`: `opsctl` (System.IO errors: missing file and directory, access denied as `nobody` via runuser, a
  read-only tmpfs, a directory not empty, a file that exists, a name too long, a full tmpfs, too many open files
  under `ulimit -n`, OutOfMemoryException under `ulimit -v`; FormatException / OverflowException of user input,
  DataContractJsonSerializer, JavaScriptSerializer and XmlDocument on bad documents, a hand-rolled config parser)
  and `worker` (defects: null reference, array index, invalid cast, a missing key of the program's own
  dictionary, division by zero, stack overflow, a collection modified while enumerated, `First` on an empty
  sequence, NotImplementedException, checked overflow, faults inside a Task and a Thread).
* `mcs51`: compile errors of broken sources (CS0103, CS0029, CS1002, CS0246, CS1061, CS0161).

Only 127.0.0.1. The label is the cause provoked; the cause check of `checked.py` drops a case whose output lacks
the provoked cause's token."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from blind51_support import build, tls_server
from checked import PyCase, ToolCase, python_records, tool_records
from cloudapi import ANSWERS, cloud_api
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND51_SOURCES = frozenset({"mono51", "mono-net51", "mcs51"})

ANSWERS.update({
    "rel51": (401, "application/json", json.dumps({"error": "invalid_token",
                                                   "error_description": "The access token expired"})),
    "art51": (403, "application/json", json.dumps({"errors": [{
        "status": 403, "message": "Forbidden: the token lacks the 'deploy' scope"}]})),
    "nuget51": (401, "text/plain", "Unauthorized"),
    "hook51": (429, "application/json", json.dumps({"message": "Too many requests, retry in 30 seconds"})),
    "quota51": (429, "text/plain", "Rate limit exceeded"),
    "inv51": (500, "application/json", json.dumps({"type": "https://tools.ietf.org/html/rfc7231#section-6.6.1",
                                                   "title": "An error occurred while processing your request.",
                                                   "status": 500, "traceId": "00-5f1a-51"})),
    "gw51": (502, "text/html", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>"
             "502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n"),
    "pay51": (503, "text/html", "<html><body><h1>Service Unavailable</h1><p>The server is temporarily unable to "
              "service your request.</p></body></html>"),
    "rep51": (504, "text/plain", "upstream request timeout"),
    "bad51": (400, "application/json", json.dumps({"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
                                                   "title": "One or more validation errors occurred.", "status": 400,
                                                   "errors": {"Replicas": ["The field Replicas must be between 1 "
                                                                           "and 10."]}})),
    "ord51": (422, "application/json", json.dumps({"errors": {"build": ["is not a known build"]}})),
})

_R = "@MONO@ @BIN@/relctl.exe"
RELCTL: list[ToolCase] = [
    ("relctl_401_get", "auth", "401", f"RELCTL_TOKEN=b51-expired {_R} get @API@/rel51/v1/releases/latest"),
    ("relctl_403_download", "auth", "403", f"{_R} download @API@/art51/v2/team/app/manifests/51.0.3"),
    ("relctl_401_request", "auth", "401", f"{_R} request @API@/nuget51/v3/index.json"),
    ("relctl_429_post", "resource", "429", f"{_R} post @API@/hook51/v1/notify"),
    ("relctl_429_download", "resource", "429", f"{_R} download @API@/quota51/v1/builds?page=7"),
    ("relctl_500_download", "service", "500", f"{_R} download @API@/inv51/v1/stock/sku-5151"),
    ("relctl_502_result", "service", "502", f"{_R} get-result @API@/gw51/healthz"),
    ("relctl_503_request", "service", "503", f"{_R} request @API@/pay51/v1/charges"),
    ("relctl_504_get", "service", "504", f"{_R} get @API@/rep51/v1/reports/daily"),
    ("relctl_400_post", "validation", "400", f"{_R} post @API@/bad51/v1/deployments"),
    ("relctl_422_upload", "validation", "422", f"{_R} upload @API@/ord51/v1/deployments/5108/status"),
    ("relctl_refused_get", "network", "refused", f"{_R} get http://127.0.0.1:@CLOSED@/v1/ready"),
    ("relctl_refused_retry", "network", "refused", f"{_R} retry http://127.0.0.1:@CLOSED@/healthz 3"),
    ("relctl_timeout_httpclient", "network", "TaskCanceled|canceled|timed out",
     f"{_R} get http://127.0.0.1:@HANG@/v1/status"),
    ("relctl_timeout_request", "network", "timed out|Timeout", f"{_R} request http://127.0.0.1:@HANG@/v1/status"),
    ("relctl_dns_invalid", "network", "resolve|NameResolution|No such host|name or service",
     f"{_R} get http://releases.build51.invalid/v1/index"),
    ("relctl_tls_self_signed", "network", "SSL|TLS|certificate|TrustFailure|Authentication",
     f"{_R} get https://127.0.0.1:@TLS@/v1/releases"),
    ("relctl_tls_webclient", "network", "SSL|TLS|certificate|TrustFailure|Authentication",
     f"{_R} download https://127.0.0.1:@TLS@/v1/artifacts/index.json"),
    ("relctl_reset", "network", "reset", f"{_R} get http://127.0.0.1:@RESET@/v1/status"),
    ("relctl_short_body", "network", "premature|closed|EOF|end of stream|content-length|partial|transport|"
     "Unable to read", f"{_R} get http://127.0.0.1:@CLOSE@/v1/export"),
    ("relctl_smtp_refused", "network", "refused", f"{_R} mail @CLOSED@"),
    ("relctl_download_missing_dir", "filesystem", "part of the path|DirectoryNotFound",
     f"{_R} download-file @HTTP@/ok @TMP@/artifacts/51.0.3/app.tar"),
]

_O = "@MONO@ @BIN@/opsctl.exe"
OPSCTL: list[ToolCase] = [
    ("opsctl_show_missing", "filesystem", "FileNotFound|Could not find file",
     f"{_O} show @TMP@/appsettings.Production.json"),
    ("opsctl_list_missing_dir", "filesystem", "DirectoryNotFound|part of the path",
     f"{_O} list @TMP@/releases/51.0.3/bin"),
    ("opsctl_show_as_nobody", "filesystem", "UnauthorizedAccess|denied",
     f"runuser -u nobody -- {_O} show @TMP@/secrets/registry-token"),
    ("opsctl_mkdir_as_nobody", "filesystem", "UnauthorizedAccess|denied",
     f"runuser -u nobody -- {_O} mkdir @TMP@/reports/nightly"),
    ("opsctl_stamp_read_only", "filesystem", "Read-only|denied|UnauthorizedAccess", f"{_O} stamp @RO@/deployed-at"),
    ("opsctl_clean_not_empty", "filesystem", "not empty", f"{_O} clean @TMP@/cache"),
    ("opsctl_move_exists", "filesystem", "exists", f"{_O} move @TMP@/staging.tar @TMP@/current.tar"),
    ("opsctl_name_too_long", "filesystem", "too long|PathTooLong", f"{_O} show @TMP@/{'build-cache-' * 24}.json"),
    ("opsctl_write_full_disk", "resource", "Disk full|No space", f"{_O} write @DISK1@/bundle.tar 400000"),
    ("opsctl_copy_full_disk", "resource", "Disk full|No space", f"{_O} copy @TMP@/image.bin @DISK2@/image.bin"),
    ("opsctl_open_all_emfile", "resource", "Too many open files", f"ulimit -n 64; {_O} open-all @TMP@/shards"),
    ("opsctl_load_oom", "resource", "OutOfMemory|out of memory", f"ulimit -v 1200000; {_O} load-index 64"),
    ("opsctl_port_format", "validation", "FormatException|format", f"{_O} port 80a0"),
    ("opsctl_port_overflow", "validation", "Overflow|too large", f"{_O} listen-port 70000"),
    ("opsctl_since_date", "validation", "FormatException|not recognized|valid DateTime", f"{_O} since 2026-13-45"),
    ("opsctl_timeout_span", "validation", "FormatException|OverflowException", f"{_O} timeout 30s"),
    ("opsctl_allow_ip", "validation", "invalid IP|FormatException", f"{_O} allow 10.0.0.300"),
    ("opsctl_log_level", "validation", "Requested value|not found", f"{_O} log-level verbose"),
    ("opsctl_manifest_json", "validation", "Serialization|XmlException|JSON", f"{_O} manifest @TMP@/manifest.json"),
    ("opsctl_settings_json", "validation", "JSON|ArgumentException", f"{_O} settings @TMP@/appsettings.json"),
    ("opsctl_pipeline_xml", "validation", "XmlException", f"{_O} pipeline @TMP@/pipeline.xml"),
    ("opsctl_config_line", "validation", "expected 'key = value'", f"{_O} check-config @TMP@/agent.conf"),
    ("opsctl_config_value", "validation", "FormatException|format", f"{_O} check-config @TMP@/workers.conf"),
]

_W = "@MONO@ @BIN@/worker.exe"
_WD = "@MONO@ --debug @BIN@/worker.exe"
WORKER: list[ToolCase] = [
    ("worker_null_reference", "programming", "NullReference", f"{_W} null"),
    ("worker_array_index", "programming", "IndexOutOfRange", f"{_WD} index"),
    ("worker_invalid_cast", "programming", "InvalidCast", f"{_W} cast"),
    ("worker_own_key", "programming", "KeyNotFound", f"{_WD} key"),
    ("worker_divide_zero", "programming", "DivideByZero", f"{_W} divide"),
    ("worker_stack_overflow", "programming", "Stack overflow|StackOverflow", f"{_W} stack"),
    ("worker_collection_modified", "programming", "Collection was modified", f"{_WD} modified"),
    ("worker_first_empty", "programming", "Sequence contains no", f"{_W} first"),
    ("worker_not_implemented", "programming", "NotImplemented", f"{_W} todo"),
    ("worker_checked_overflow", "programming", "Overflow", f"{_W} overflow"),
    ("worker_task_fault", "programming", "NullReference", f"{_W} task"),
    ("worker_thread_key", "programming", "KeyNotFound", f"{_WD} thread"),
]

#: the diagnostic each broken source must draw from mcs
_MCS_TOKENS = {"mcs_unknown_name": "CS0103", "mcs_type_mismatch": "CS0029", "mcs_missing_semicolon": "CS1525|CS1002",
               "mcs_unknown_type": "CS0246", "mcs_no_member": "CS1061", "mcs_unassigned_local": "CS0165",
               "mcs_not_all_paths": "CS0161"}
MCS: list[ToolCase] = [(name, "programming", token, f"cd @TMP@/{name} && mcs -out:deploy.exe Program.cs")
                       for name, token in _MCS_TOKENS.items()]


def _fixtures(env: Env) -> None:
    """The files and directories the opsctl cases fail on (as root; the `nobody` cases cannot reach them)."""
    tmp = env.tmp
    secrets = tmp / "secrets"
    secrets.mkdir(mode=0o755)
    (secrets / "registry-token").write_text("b51-token\n")
    os.chmod(secrets / "registry-token", 0o600)
    (tmp / "reports").mkdir(mode=0o755)
    (tmp / "cache").mkdir()
    (tmp / "cache" / "layer-01.tar").write_bytes(b"\0" * 512)
    (tmp / "staging.tar").write_bytes(b"\0" * 1024)
    (tmp / "current.tar").write_bytes(b"\0" * 1024)
    (tmp / "image.bin").write_bytes(os.urandom(400_000))
    (tmp / "shards").mkdir()
    for i in range(120):
        (tmp / "shards" / f"part-{i:05d}.parquet").write_bytes(b"PAR1")
    (tmp / "manifest.json").write_text('{"name": "billing-api", "replicas": "three",\n')
    (tmp / "appsettings.json").write_text('{\n  "Logging": { "LogLevel": { "Default": Information } }\n}\n')
    (tmp / "pipeline.xml").write_text('<?xml version="1.0"?>\n<pipeline name="release">\n  <stage name="build">\n'
                                      '  <stage name="test"/>\n</pipeline>\n')
    (tmp / "agent.conf").write_text("# agent settings\nurl = http://127.0.0.1:8080\nworkers 8\n")
    (tmp / "workers.conf").write_text("url = http://127.0.0.1:8080\nworkers = eight\n")


def _step(argv: list[str], token: str, what: str) -> Callable[[], None]:
    """A deploy-script step: run the program with `check=True`; on failure raise with the child's stderr (only
    when it carries the provoked cause's token; otherwise an AssertionError that the type check drops)."""

    def step() -> None:
        try:
            subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, LC_ALL="C.UTF-8"))
        except subprocess.CalledProcessError as exc:
            output = (exc.stderr or "") + (exc.stdout or "")
            if not any(t.lower() in output.lower() for t in token.split("|")):
                raise AssertionError("harness: the provoked cause is missing") from None
            raise RuntimeError(f"{what} failed (exit status {exc.returncode}): {output.strip()}") from exc

    return step


def _py_cases(env: Env, bindir: Path, api: str, disk: Path) -> list[PyCase]:
    relctl, opsctl = (str(bindir / f"{n}.exe") for n in ("relctl", "opsctl"))
    return [
        ("py_relctl_refused", "network", "mono-net51", "RuntimeError",
         _step(["mono", relctl, "get", f"http://127.0.0.1:{env.closed_port}/v1/ready"], "refused",
               "readiness check")),
        ("py_relctl_503", "service", "mono-net51", "RuntimeError",
         _step(["mono", relctl, "request", f"{api}/pay51/v1/charges/ch_51/capture"], "503", "capture payment")),
        ("py_opsctl_full_disk", "resource", "mono51", "RuntimeError",
         _step(["mono", opsctl, "write", str(disk / "dist.tar"), "400000"], "Disk full|No space",
               "package artifact")),
    ]


def blind51_records(env: Env) -> list[Record]:
    bindir = build(env)
    _fixtures(env)
    api = cloud_api(env)
    tls = tls_server(env)
    disks = [mount_tmpfs(env, f"disk51{i}", "size=128k") for i in (1, 2, 3)]
    ro = mount_tmpfs(env, "ro51", "size=64k,ro")

    def fill(text: str) -> str:
        for key, value in (("@MONO@", "mono"), ("@BIN@", str(bindir)), ("@API@", api), ("@HTTP@", env.http),
                           ("@TMP@", str(env.tmp)),
                           ("@CLOSED@", str(env.closed_port)), ("@HANG@", str(env.hang_port)),
                           ("@RESET@", str(env.reset_port)), ("@CLOSE@", str(env.close_port)),
                           ("@TLS@", str(tls)), ("@DISK1@", str(disks[0])), ("@DISK2@", str(disks[1])),
                           ("@RO@", str(ro))):
            text = text.replace(key, value)
        return text

    out = tool_records(RELCTL, "mono-net51", env.tmp, fill, timeout=30)
    out += tool_records(OPSCTL, "mono51", env.tmp, fill, timeout=30)
    out += tool_records(WORKER, "mono51", env.tmp, fill, timeout=30)
    out += tool_records(MCS, "mcs51", env.tmp, fill, timeout=60)
    out += python_records(_py_cases(env, bindir, api, disks[2]))
    return out


if __name__ == "__main__":
    write_batch(blind51_records)


__all__ = ["BLIND51_SOURCES", "blind51_records"]
