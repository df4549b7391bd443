"""Hundred-and-twenty-ninth batch of blind provokers: Rust crates not seen before, inside `fleetsync`, a small
command-line program built offline against Debian's packaged crates (blind129_support), each failing for a cause
provoked here, with RUST_BACKTRACE=0. ureq (a refused port, a reset peer, a read timeout, an empty reply, a
truncated body, an untrusted TLS certificate, 400/401/403/429/502/503/504 from the local status server, a
malformed JSON body, a relative URL and an unknown scheme, a download onto a full, read-only or missing directory,
connections past RLIMIT_NOFILE); clap (an unknown subcommand or flag, a missing required flag, a non-number, a
value out of range, an unknown enum value); toml (a syntax error, a missing or unknown key, a wrong type, a
duplicate key, a negative unsigned value, non-UTF-8 input, a missing file, a directory); serde_json (a syntax
error, a truncated export, a wrong type, a missing field, a value out of range, a file under RLIMIT_AS) and panics
of the program's own code on parsed data (unwrap on None, an index out of bounds, an add overflow, a division by
zero); rusqlite (a missing directory, a file that is not a database, a full tmpfs, a read-only mount, a lock held
by another process, UNIQUE and NOT NULL constraints, a wrong parameter count, an SQL syntax error in the program,
a column index out of range, a wrong column type).

Run once with the project venv: ../../.venv/bin/python blind129_provokers.py OUT (builds fleetsync first)."""

from __future__ import annotations

import os
import subprocess

from blind129_support import Fixtures, build_fleetsync, prepare
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND129_SOURCES = frozenset({"ureq129", "clap129", "toml-rs129", "serde-json129", "rusqlite129"})


def _ureq_cases(env: Env, f: Fixtures) -> list[ToolCase]:
    api = "/api/v2/devices?site=ams3"
    fetch = "FS fetch --url "
    return [
        ("ureq_refused", "network", "refused", f"{fetch}http://127.0.0.1:{env.closed_port}{api}"),
        ("ureq_reset", "network", "reset|os error 104", f"{fetch}http://127.0.0.1:{env.reset_port}{api}"),
        ("ureq_read_timeout", "network", "timed out|timeout|WouldBlock",
         f"{fetch}http://127.0.0.1:{env.hang_port}{api} --timeout-ms 800"),
        ("ureq_empty_reply", "network", "EOF|closed|empty|BadStatus|status line",
         f"{fetch}http://127.0.0.1:{env.empty_port}{api} --report-style"),
        ("ureq_truncated_body", "network", "EOF|unexpected|incomplete|closed",
         f"{fetch}http://127.0.0.1:{env.close_port}{api}"),
        ("ureq_tls_untrusted", "network", "certificate|UnknownIssuer|invalid peer",
         f"{fetch}https://localhost:{f.tls_port}/api/v2/health --report-style"),
        ("ureq_401_basic", "auth", "401", f"{fetch}{env.url(401)}?site=ams3 --user deploy-bot:wrong-password"),
        ("ureq_403_token", "auth", "403",
         f"{fetch}{env.url(403)}?site=fra1 --token fsk_live_3f9a1c0e77 --report-style"),
        ("ureq_400", "validation", "400", f"{fetch}'{env.url(400)}?site=ams3&since=yesterday'"),
        ("ureq_429", "resource", "429", f"{fetch}{env.url(429)}?page=17 --report-style"),
        ("ureq_502", "service", "502", f"{fetch}{env.url(502)}?site=lon2 --report-style"),
        ("ureq_503", "service", "503", f"{fetch}{env.url(503)}?site=ams3"),
        ("ureq_504", "service", "504", f"{fetch}{env.url(504)}?site=fra1 --json"),
        ("ureq_bad_json", "validation", "json|expected|trailing|EOF",
         f"{fetch}http://127.0.0.1:{f.bad_json_port}{api} --json"),
        ("ureq_relative_url", "validation", "url|relative|BadUrl", f"{fetch}fleet-api.ops.internal{api}"),
        ("ureq_unknown_scheme", "validation", "scheme", f"{fetch}ftp://127.0.0.1:{env.http_port}/exports/devices.csv"),
        ("ureq_save_full", "resource", "os error 28|No space", f"{fetch}http://127.0.0.1:{env.http_port}/ok "
         f"--save {f.full}/inventory.json"),
        ("ureq_save_read_only", "filesystem", "os error 30|Read-only",
         f"{fetch}http://127.0.0.1:{env.http_port}/ok --save {f.ro}/cache/inventory.json"),
        ("ureq_save_missing_dir", "filesystem", "os error 2|No such file",
         f"{fetch}http://127.0.0.1:{env.http_port}/ok --save {f.root}/var/lib/fleetsync/downloads/inventory.json"),
        ("ureq_fd_limit", "resource", "os error 24|Too many open files",
         f"ulimit -n 24; FS prefetch --url http://127.0.0.1:{env.http_port}/api/v2/devices --count 60"),
    ]


def _clap_cases(env: Env, f: Fixtures) -> list[ToolCase]:
    return [
        ("clap_unknown_subcommand", "validation", "unrecognized subcommand|wasn't recognized", "FS synch --site ams3"),
        ("clap_unknown_flag", "validation", "unexpected argument|wasn't expected",
         f"FS fetch --url {env.http}/ok --retries 3"),
        ("clap_missing_required", "validation", "required", f"FS cache --db {f.root}/cache.sqlite3"),
        ("clap_not_a_number", "validation", "invalid value", f"FS fetch --url {env.http}/ok --timeout-ms 5s"),
        ("clap_out_of_range", "validation", "invalid value|range",
         f"FS rotate --keep 1000 --state-dir {f.root}/var/lib/fleetsync"),
        ("clap_bad_enum", "validation", "invalid value|possible values",
         f"FS rotate --keep 7 --compress brotli --state-dir {f.root}/var/lib/fleetsync"),
    ]


def _toml_cases(env: Env, f: Fixtures) -> list[ToolCase]:
    etc = f"{f.root}/etc/fleetsync"
    return [
        ("toml_syntax", "validation", "newline|string|expected", f"FS config --file {etc}/syntax.toml"),
        ("toml_missing_key", "validation", "missing field", f"FS config --file {etc}/missing-field.toml"),
        ("toml_unknown_key", "validation", "unknown field", f"FS config --file {etc}/unknown-key.toml"),
        ("toml_wrong_type", "validation", "invalid type|expected", f"FS config --file {etc}/wrong-type.toml"),
        ("toml_duplicate_key", "validation", "duplicate", f"FS config --file {etc}/duplicate.toml"),
        ("toml_negative_unsigned", "validation", "invalid value|expected", f"FS config --file {etc}/negative.toml"),
        ("toml_not_utf8", "validation", "UTF-8|utf8", f"FS config --file {etc}/latin1.toml"),
        ("toml_missing_file", "filesystem", "os error 2|NotFound", f"FS config --file {etc}/fleetsync.toml"),
        ("toml_directory", "filesystem", "os error 21|directory", f"FS config --file {etc}/conf.d"),
    ]


def _serde_json_cases(env: Env, f: Fixtures) -> list[ToolCase]:
    ex = f"{f.root}/exports"
    return [
        ("serde_json_syntax", "validation", "expected|line", f"FS inventory --file {ex}/inventory-syntax.json"),
        ("serde_json_truncated", "validation", "EOF|end of", f"FS inventory --file {ex}/inventory-truncated.json"),
        ("serde_json_wrong_type", "validation", "invalid type", f"FS inventory --file {ex}/inventory-type.json"),
        ("serde_json_missing_field", "validation", "missing field",
         f"FS inventory --file {ex}/inventory-missing.json"),
        ("serde_json_out_of_range", "validation", "invalid value|expected u8",
         f"FS inventory --file {ex}/inventory-range.json"),
        ("serde_json_not_json", "validation", "expected value|line", f"FS inventory --file {ex}/index.html"),
        ("serde_json_memory_limit", "resource", "memory allocation|allocate|out of memory",
         f"ulimit -v 45000; FS inventory --file {ex}/inventory-full-2026.json"),
        ("panic_unwrap_none", "programming", "unwrap|None",
         f"FS inventory --file {ex}/inventory-good.json --mode value"),
        ("panic_index_out_of_bounds", "programming", "index out of bounds",
         f"FS inventory --file {ex}/inventory-good.json --mode pick"),
        ("panic_add_overflow", "programming", "overflow",
         f"FS inventory --file {ex}/inventory-good.json --mode uptime"),
        ("panic_divide_by_zero", "programming", "divide by zero",
         f"FS inventory --file {ex}/inventory-empty.json --mode average"),
    ]


def _rusqlite_cases(env: Env, f: Fixtures) -> list[ToolCase]:
    db = f"{f.root}/cache.sqlite3"
    ready = f"{f.root}/lock.ready"
    lock = (f"python3 -c \"import sqlite3,time; c=sqlite3.connect('{db}', isolation_level=None); "
            f"c.execute('BEGIN EXCLUSIVE'); open('{ready}','w').close(); time.sleep(4)\" & "
            f"for i in $(seq 50); do [ -e {ready} ] && break; sleep 0.1; done; ")
    return [
        ("rusqlite_missing_dir", "filesystem", "unable to open|CannotOpen",
         f"FS cache --db {f.root}/var/cache/fleetsync/devices.sqlite3 --op init"),
        ("rusqlite_not_a_database", "validation", "not a database|NotADatabase",
         f"FS cache --db {f.root}/exports/inventory-good.json --op count"),
        ("rusqlite_full_disk", "resource", "full|DiskFull",
         f"FS cache --db {f.nearly_full}/devices.sqlite3 --op fill --rows 400"),
        ("rusqlite_read_only", "filesystem", "readonly|read-only|ReadOnly",
         f"FS cache --db {f.ro}/cache/devices.sqlite3 --op insert"),
        ("rusqlite_locked", "resource", "locked|DatabaseBusy",
         lock + f"FS cache --db {db} --op busy; rc=$?; wait; exit $rc"),
        ("rusqlite_unique", "validation", "UNIQUE", f"FS cache --db {db} --op insert; FS cache --db {db} --op insert"),
        ("rusqlite_not_null", "validation", "NOT NULL", f"FS cache --db {db} --op insert-null"),
        ("rusqlite_param_count", "programming", "parameter|InvalidParameterCount", f"FS cache --db {db} --op params"),
        ("rusqlite_sql_syntax", "programming", "syntax error", f"FS cache --db {db} --op syntax"),
        ("rusqlite_column_index", "programming", "InvalidColumnIndex|column index", f"FS cache --db {db} --op column"),
        ("rusqlite_column_type", "programming", "InvalidColumnType|type", f"FS cache --db {db} --op type"),
    ]


def blind129_records(env: Env) -> list[Record]:
    binary = build_fleetsync()
    f = prepare(env)
    os.environ["RUST_BACKTRACE"] = "0"
    # the shared cache the rusqlite cases fail against
    subprocess.run([str(binary), "cache", "--db", str(f.root / "cache.sqlite3"), "--op", "fill", "--rows", "5"],
                   check=True, capture_output=True)

    def fill(command: str) -> str:
        return command.replace("FS ", f"{binary} ")

    out: list[Record] = []
    for make, source in ((_ureq_cases, "ureq129"), (_clap_cases, "clap129"), (_toml_cases, "toml-rs129"),
                         (_serde_json_cases, "serde-json129"), (_rusqlite_cases, "rusqlite129")):
        out.extend(tool_records(make(env, f), source, f.root, fill, timeout=30))
    return out


if __name__ == "__main__":
    write_batch(blind129_records)
