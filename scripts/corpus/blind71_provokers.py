"""Seventy-first batch of blind provokers: OCaml (Debian's 4.13 with ocamlfind, unix, ocurl, postgresql-ocaml,
yojson and csv) and Nim (1.6), compiled tools of the kind a CI job or a deploy step runs. OCaml: uncaught exceptions
as the runtime prints them (some with OCAMLRUNPARAM=b backtraces) and the messages a program prints for the errors
it catches: Unix.connect to a closed port and a read from a server that resets; ocurl against a closed port, a
server that never answers, an empty reply, a truncated body and local servers answering 401/429/502/503
(failonerror); a raw socket client raising Failure with the status line of 401/403/422/429/500/503;
postgresql-ocaml refused, denied a table, given bad input and bad SQL; a file missing, denied as nobody, written on
a full and on a read-only tmpfs; mkdir of an existing and rmdir of a non-empty directory; too many open files and a
heap too small; int_of_string, Scanf, Yojson (syntax and a field of the wrong type) and Csv on bad input; Not_found
on the program's own table, an array index, List.nth, assert false, Division_by_zero, Stack_overflow; compile
errors from ocamlfind ocamlopt (a type error, an unbound module, a syntax error, a missing package) and
scripts run with `ocaml`. Nim: IndexDefect, KeyError on its own table, DivByZeroDefect, a failed doAssert, a nil
dereference and compile errors; parseInt, parseJson, parsecsv and times.parse on bad input; a missing file, a
directory denied as nobody, a read-only and a full tmpfs; httpclient against 401/403/429/500/503, a closed port and
a server that never answers; db_postgres refused and denied a table. The label is the cause we provoked. Only
127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

from blind71_support import NIM_BROKEN, OCAML_BROKEN, Build
from checked import ToolCase, problem, tool_records
from common import Env, Record, run, write_batch
from servers import mount_tmpfs

BLIND71_SOURCES = frozenset({"ocaml71", "nim71"})

_PG = "host=127.0.0.1 port=5432 user=postgres dbname=test"
_PG_READER = "host=127.0.0.1 port=5432 user=b71_reader dbname=test"
_PG_CLOSED = "host=127.0.0.1 port=@CLOSED@ user=postgres dbname=test connect_timeout=3"
_BT = "OCAMLRUNPARAM=b "

OCAML: list[ToolCase] = [
    # network
    ("connect_refused", "network", "ECONNREFUSED", _BT + "@O@ connect @CLOSED@"),
    ("read_reset", "network", "ECONNRESET", "@O@ reset @RESET@"),
    ("curl_refused", "network", "connect|COULDNT", "@O@ curl http://127.0.0.1:@CLOSED@/v1/health"),
    ("curl_timeout", "network", "Timeout|timed out", "@O@ curl http://127.0.0.1:@HANG@/v1/jobs"),
    ("curl_empty_reply", "network", "nothing|Empty", "@O@ curl http://127.0.0.1:@EMPTY@/v1/jobs"),
    ("curl_partial", "network", "partial|transfer closed", "@O@ curl http://127.0.0.1:@CLOSE@/artifacts/app.tar"),
    ("pg_refused", "network", "refused", f"@O@ pg '{_PG_CLOSED}' 'SELECT 1'"),
    # service
    ("raw_500", "service", "500", "@O@ raw @HP@ /status/500"),
    ("raw_503", "service", "503", _BT + "@O@ raw @HP@ /status/503"),
    ("curl_502", "service", "HTTP status 502", "@O@ curl @HTTP@/status/502"),
    ("curl_503", "service", "HTTP status 503", "@O@ curl @HTTP@/status/503"),
    # resource
    ("raw_429", "resource", "429", "@O@ raw @HP@ /status/429"),
    ("curl_429", "resource", "HTTP status 429", "@O@ curl @HTTP@/status/429"),
    ("write_disk_full", "resource", "No space", "@O@ write @DISK@/bundle.tar 600000"),
    ("open_many_emfile", "resource", "EMFILE", "ulimit -n 40; @O@ open_many @B@/deployctl.ml"),
    ("alloc_out_of_memory", "resource", "Out of memory", "ulimit -v 300000; @O@ alloc 200000000"),
    # filesystem
    ("read_missing", "filesystem", "No such file", _BT + "@O@ read config/release.json"),
    ("read_denied_nobody", "filesystem", "Permission denied", "runuser -u nobody -- @O@ read @B@/data/secrets.env"),
    ("write_read_only", "filesystem", "Read-only", "@O@ write @RO@/stamp 10"),
    ("mkdir_exists", "filesystem", "EEXIST", "@O@ mkdir @B@/data"),
    ("rmdir_not_empty", "filesystem", "ENOTEMPTY", "@O@ rmdir @B@/data"),
    ("toplevel_missing", "filesystem", "No such file", "ocaml @B@/toplevel_missing.ml"),
    # validation
    ("int_of_string", "validation", "int_of_string", _BT + "@O@ int 8x"),
    ("yojson_syntax", "validation", "Json_error", _BT + "@O@ json @B@/data/release.json"),
    ("yojson_field_type", "validation", "Type_error", "@O@ json_field @B@/data/replicas.json"),
    ("csv_bad_quote", "validation", "Csv|Failure", "@O@ csv @B@/data/hosts.csv"),
    ("scanf_date", "validation", "Scan_failure", "@O@ scanf 2026/11/29"),
    ("raw_422", "validation", "422", "@O@ raw @HP@ /status/422"),
    ("pg_invalid_input", "validation", "invalid input syntax", f"@O@ pg '{_PG}' \"SELECT 'twelve'::int\""),
    # auth
    ("raw_401", "auth", "401", "@O@ raw @HP@ /status/401"),
    ("raw_403", "auth", "403", _BT + "@O@ raw @HP@ /status/403"),
    ("curl_401", "auth", "HTTP status 401", "@O@ curl @HTTP@/status/401"),
    ("pg_table_denied", "auth", "permission denied", f"@O@ pg '{_PG_READER}' 'SELECT * FROM b71_payroll'"),
    # programming
    ("hashtbl_not_found", "programming", "Not_found", _BT + "@O@ hashtbl"),
    ("array_index", "programming", "index out of bounds", _BT + "@O@ array"),
    ("list_nth", "programming", "nth", "@O@ nth"),
    ("assert_false", "programming", "Assertion failed", _BT + "@O@ assert v1.4.0"),
    ("division_by_zero", "programming", "Division_by_zero", "@O@ div"),
    ("stack_overflow", "programming", "Stack overflow", "ulimit -s 8192; @O@ stack"),
    ("pg_syntax", "programming", "syntax error", f"@O@ pg '{_PG}' 'SELECT id, FROM b71_jobs'"),
    ("toplevel_not_found", "programming", "Not_found", "ocaml @B@/toplevel_not_found.ml"),
]
_COMPILE_TOKENS = {"type_error": "has type", "unbound_module": "Unbound module",
                   "syntax_error": "Syntax error", "missing_package": "not found"}
OCAML += [(f"compile_{name}", "programming", _COMPILE_TOKENS[name],
           f"cd @B@ && ocamlfind ocamlopt -package {packages} -linkpkg {name}.ml -o @TMP@/{name}")
          for name, (_, packages) in OCAML_BROKEN.items()]

NIM: list[ToolCase] = [
    ("http_refused", "network", "refused", "@N@ http http://127.0.0.1:@CLOSED@/api/builds"),
    ("http_timeout", "network", "Timeout|timed out", "@N@ http http://127.0.0.1:@HANG@/api/builds"),
    ("pg_refused", "network", "refused", f"@N@ pg '{_PG_CLOSED}' 'SELECT 1'"),
    ("http_500", "service", "500", "@N@ http @HTTP@/status/500"),
    ("http_503", "service", "503", "@N@ http @HTTP@/status/503"),
    ("http_429", "resource", "429", "@N@ http @HTTP@/status/429"),
    ("write_disk_full", "resource", "No space", "@N@ write @DISK@/report.bin 600000"),
    ("read_missing", "filesystem", "cannot open", "@N@ read config/pipeline.toml"),
    ("write_read_only", "filesystem", "cannot open|Read-only", "@N@ write @RO@/stamp 10"),
    ("mkdir_denied_nobody", "filesystem", "Permission denied", "runuser -u nobody -- @N@ mkdir @B@/releases/v2"),
    ("copy_missing", "filesystem", "No such file", "@N@ copy @B@/data/app-1.4.tar @TMP@/app.tar"),
    ("parseint", "validation", "ValueError", "@N@ parseint 12x"),
    ("json_syntax", "validation", "JsonParsingError", "@N@ json @B@/data/release.json"),
    ("csv_bad_quote", "validation", "CsvError", "@N@ csv @B@/data/hosts.csv"),
    ("date_parse", "validation", "TimeParseError", "@N@ date 29/11/2026"),
    ("http_401", "auth", "401", "@N@ http @HTTP@/status/401"),
    ("http_403", "auth", "403", "@N@ http @HTTP@/status/403"),
    ("pg_table_denied", "auth", "permission denied", f"@N@ pg '{_PG_READER}' 'SELECT count(*) FROM b71_payroll'"),
    ("index_defect", "programming", "IndexDefect", "@N@ index"),
    ("key_error", "programming", "KeyError", "@N@ key"),
    ("div_by_zero", "programming", "DivByZeroDefect", "@N@ div"),
    ("assertion", "programming", "AssertionDefect", "@N@ assert prod"),
    ("nil_access", "programming", "nil|SIGSEGV", "@N@ nil"),
]
NIM += [(f"compile_{name}", "programming", token, f"cd @B@ && nim c --hints:off --nimcache:@B@/nc-{name} "
         f"--out:@TMP@/{name} {name}.nim")
        for name, token in (("type_mismatch", "type mismatch"), ("undeclared", "undeclared identifier"))
        if name in NIM_BROKEN]

_PG_SETUP = ("DROP TABLE IF EXISTS b71_payroll; CREATE TABLE b71_payroll (amount int); "
             "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'b71_reader') THEN "
             "CREATE ROLE b71_reader LOGIN; END IF; END $$;")
_PG_TEARDOWN = "DROP TABLE IF EXISTS b71_payroll; DROP ROLE IF EXISTS b71_reader;"


def _psql(sql: str) -> None:
    run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-c", sql])


def _inputs(data: Path) -> None:
    """The input files the programs are handed: bad JSON and CSV, a private file, a non-empty directory."""
    data.mkdir()
    (data / "release.json").write_text('{"version": "1.4.0", "replicas": 3,, "region": "eu-west"}\n')
    (data / "replicas.json").write_text('{"version": "1.4.0", "replicas": "three"}\n')
    (data / "hosts.csv").write_text('host,port\n"db1.internal,5432\ndb2.internal,5432\n')
    secrets = data / "secrets.env"
    secrets.write_text("API_TOKEN=redacted\n")
    secrets.chmod(0o600)
    data.chmod(0o755)


def blind71_records(env: Env) -> list[Record]:
    build = Build(env)
    failed = build.build()
    for name in failed:
        problem(name, "build failed, its cases skipped")
    _inputs(build.dir / "data")
    disk = mount_tmpfs(env, "disk71", "size=256k")
    ro = mount_tmpfs(env, "ro71", "size=64k,ro")
    places = {"@O@": str(build.ocaml), "@N@": str(build.nim), "@B@": str(build.dir), "@HTTP@": env.http,
              "@HP@": str(env.http_port), "@CLOSED@": str(env.closed_port), "@RESET@": str(env.reset_port),
              "@CLOSE@": str(env.close_port), "@EMPTY@": str(env.empty_port), "@HANG@": str(env.hang_port),
              "@TMP@": str(env.tmp), "@DISK@": str(disk), "@RO@": str(ro)}

    def fill(text: str) -> str:
        for key, value in places.items():
            text = text.replace(key, value)
        return text

    os.environ.pop("OCAMLRUNPARAM", None)
    _psql(_PG_SETUP)
    out: list[Record] = []
    try:
        if "ocaml" not in failed:
            out += tool_records([(f"ocaml71_{n}", c, t, s) for n, c, t, s in OCAML], "ocaml71", env.tmp, fill, 30)
        if "nim" not in failed:
            out += tool_records([(f"nim71_{n}", c, t, s) for n, c, t, s in NIM], "nim71", env.tmp, fill, 60)
    finally:
        _psql(_PG_TEARDOWN)
    return out


if __name__ == "__main__":
    write_batch(blind71_records)


__all__ = ["BLIND71_SOURCES", "blind71_records"]
