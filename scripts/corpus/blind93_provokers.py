"""Ninety-third batch of blind provokers: languages and runtimes from Debian not seen before, each program
written here the way an application in that language would do the job (blind93_support) and failing for real:
D through gdc (an undefined field and a type mismatch at compile time, an array index past the end, a violated
`in` contract, std.conv and std.json given bad input, std.file on a missing, unreadable, read-only or full
path, the GC out of memory under ulimit -v, std.socket against a closed port, std.net.curl answered 503 or
401 by a local status server); Free Pascal (an unknown identifier, a range check error, a nil object
dereferenced, StrToInt and fpjson given bad input, TFileStream on a missing, unreadable or read-only path, a
disk full under BlockWrite, SetLength under ulimit -v, ssockets against a closed port, fphttpclient answered
503 or 401); Ada through GNAT (an undefined name and a type mismatch, index and access checks, 'Value given
bad input, Text_IO on a missing, read-only or full path, the heap exhausted under ulimit -v, GNAT.Sockets
against a closed port); GnuCOBOL (an undefined data name and a syntax error, a subscript out of bounds,
a CALL of a missing module, non-numeric data in a numeric field, file status 35/37/34 on a
missing, read-only, unreadable or full path, a file size limit); SWI-Prolog (an unknown procedure, a syntax
error while loading, an instantiation error, number_codes and json_read_dict given bad input, open/3 on a
missing, unreadable, read-only or full path, the stack limit, tcp_connect against a closed port, http_open
answered 503 or 401); GNU Octave (an undefined function, a parse error, an index out of bound, nonconformant
operands, jsondecode and validatestring given bad input, load on a missing file, fopen on a read-only path,
zeros under ulimit -v, urlread against a closed port). Files are real paths in a temporary directory, on tmpfs
mounts (read-only, 64 KiB) or mode 0600 files read as `nobody`; the network targets are on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

from blind93_support import (
    ADA_SOURCES,
    COBOL_SOURCES,
    D_SOURCES,
    OCTAVE_SOURCES,
    PASCAL_SOURCES,
    PROLOG_SOURCES,
    build,
    write_sources,
)
from checked import ToolCase, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND93_SOURCES = frozenset({"gdc93", "fpc93", "gnat93", "cobol93", "swipl93", "octave93"})

NOBODY = "runuser -u nobody --"
OCTAVE = "octave-cli --no-gui --norc --quiet --no-window-system"

# --------------------------------------------------------------------------- D


def _d_cases(cwd: Path) -> list[ToolCase]:
    for name in ("d_index", "d_contract", "d_conv", "d_json", "d_read", "d_write", "d_oom", "d_socket", "d_curl"):
        build(name, ["gdc", "-o", name, f"{name}.d"], cwd)
    return [
        ("gdc_undefined_field", "programming", "totl", "gdc -c d_undefined.d -o /dev/null"),
        ("gdc_type_mismatch", "programming", "cannot implicitly convert|incompatible", "gdc -c d_types.d -o /dev/null"),
        ("gdc_array_index", "programming", "ArrayIndexError|out of bounds", "./d_index"),
        ("gdc_in_contract", "programming", "AssertError", "./d_contract"),
        ("gdc_conv_input", "validation", "ConvException", "./d_conv 80x8"),
        ("gdc_json_truncated", "validation", "JSONException", "./d_json DATA/orders_cut.json"),
        ("gdc_read_missing", "filesystem", "No such file", "./d_read NOSUCH/app.conf"),
        ("gdc_read_denied", "filesystem", "Permission denied", f"{NOBODY} ./d_read LOCKED"),
        ("gdc_write_read_only", "filesystem", "Read-only", "./d_write RO/report.csv"),
        ("gdc_write_full", "resource", "No space left", "rm -f FULL/*; ./d_write FULL/report.csv"),
        ("gdc_out_of_memory", "resource", "OutOfMemoryError|Memory allocation failed", "ulimit -v 300000; ./d_oom"),
        ("gdc_socket_refused", "network", "Connection refused", "./d_socket CLOSED"),
        ("gdc_curl_503", "service", "503", "./d_curl STATUS/503"),
        ("gdc_curl_401", "auth", "401", "./d_curl STATUS/401"),
    ]


# --------------------------------------------------------------------------- Free Pascal


def _pascal_cases(cwd: Path) -> list[ToolCase]:
    for name in ("p_range", "p_nil", "p_conv", "p_json", "p_read", "p_create", "p_full", "p_oom", "p_socket",
                 "p_http"):
        build(name, ["fpc", "-v0", f"{name}.pas"], cwd)
    return [
        ("fpc_identifier_not_found", "programming", "Identifier not found", "fpc p_undefined.pas"),
        ("fpc_range_check", "programming", "Range check", "./p_range"),
        ("fpc_access_violation", "programming", "Access violation", "./p_nil"),
        ("fpc_strtoint_input", "validation", "EConvertError|not a valid integer", "./p_conv 12x"),
        ("fpc_json_truncated", "validation", "EJSON|EScannerError", "./p_json DATA/orders_cut.json"),
        ("fpc_open_missing", "filesystem", "No such file|EFOpenError", "./p_read NOSUCH/ledger.dat"),
        ("fpc_open_denied", "filesystem", "Permission denied|EFOpenError", f"{NOBODY} ./p_read LOCKED"),
        ("fpc_create_read_only", "filesystem", "Read-only", "./p_create RO/export.bin"),
        ("fpc_disk_full", "resource", "Disk Full", "rm -f FULL/*; ./p_full FULL/export.bin"),
        ("fpc_out_of_memory", "resource", "Out of memory", "ulimit -v 200000; ./p_oom"),
        ("fpc_socket_closed", "network", "Connect", "./p_socket CLOSED"),
        ("fpc_http_503", "service", "503", "./p_http STATUS/503"),
        ("fpc_http_401", "auth", "401", "./p_http STATUS/401"),
    ]


# --------------------------------------------------------------------------- Ada


def _ada_cases(cwd: Path) -> list[ToolCase]:
    for name in ("a_index", "a_null", "a_value", "a_open", "a_create", "a_heap", "a_socket"):
        build(name, ["gnatmake", "-q", f"{name}.adb"], cwd)
    return [
        ("gnat_undefined_name", "programming", "undefined", "gnatmake -q a_undefined.adb"),
        ("gnat_type_mismatch", "programming", "expected", "gnatmake -q a_types.adb"),
        ("gnat_index_check", "programming", "index check", "./a_index"),
        ("gnat_access_check", "programming", "access check", "./a_null"),
        ("gnat_value_input", "validation", "bad input", "./a_value 12x"),
        ("gnat_open_missing", "filesystem", "NAME_ERROR", "./a_open NOSUCH/ledger.txt"),
        ("gnat_create_read_only", "filesystem", "Read-only|NAME_ERROR|USE_ERROR", "./a_create RO/ledger.txt"),
        ("gnat_device_full", "resource", "No space left", "rm -f FULL/*; ./a_create FULL/ledger.txt"),
        ("gnat_heap_exhausted", "resource", "heap exhausted", "ulimit -v 300000; ./a_heap"),
        ("gnat_socket_refused", "network", "Connection refused", "./a_socket CLOSED"),
    ]


# --------------------------------------------------------------------------- GnuCOBOL


def _cobol_cases(cwd: Path) -> list[ToolCase]:
    for name in ("c_subscript", "c_call", "c_numeric", "c_ledger"):
        build(name, ["cobc", "-x", "-debug", f"{name}.cob"], cwd)
    return [
        ("cobc_not_defined", "programming", "is not defined", "cobc -x c_undefined.cob"),
        ("cobc_syntax_error", "programming", "error", "cobc -x c_syntax.cob"),
        ("cobc_subscript_bounds", "programming", "out of bounds", "./c_subscript"),
        ("cobc_module_not_found", "programming", "not found", "./c_call"),
        ("cobc_not_numeric_input", "validation", "not numeric", "./c_numeric 12x4"),
        ("cobc_file_missing", "filesystem", "status = 35", "./c_ledger READ NOSUCH/ledger.dat"),
        ("cobc_open_read_only", "filesystem", "status = 37", "./c_ledger WRITE RO/ledger.dat"),
        ("cobc_open_denied", "filesystem", "status = 37", f"{NOBODY} ./c_ledger READ LOCKED"),
        ("cobc_write_full", "resource", "status = 34", "rm -f FULL/*; ./c_ledger WRITE FULL/ledger.dat"),
        ("cobc_file_size_limit", "resource", "File size limit",
         "ulimit -f 16; ./c_ledger WRITE OUT/ledger_cobol.dat; exit $?"),
    ]


# --------------------------------------------------------------------------- SWI-Prolog


def _prolog_cases() -> list[ToolCase]:
    return [
        ("swipl_unknown_procedure", "programming", "Unknown procedure", "swipl undefined.pl"),
        ("swipl_syntax_error", "programming", "Syntax error", "swipl --on-error=halt syntax.pl < /dev/null"),
        ("swipl_instantiation", "programming", "instantiated", "swipl instantiation.pl"),
        ("swipl_illegal_number", "validation", "illegal_number|Illegal number", "swipl number.pl 12x"),
        ("swipl_json_truncated", "validation", "json|Syntax error", "swipl json.pl DATA/orders_cut.json"),
        ("swipl_open_missing", "filesystem", "does not exist", "swipl read.pl NOSUCH/facts.txt"),
        ("swipl_open_denied", "filesystem", "Permission denied|No permission",
         f"{NOBODY} env HOME=/tmp swipl read.pl LOCKED"),
        ("swipl_write_read_only", "filesystem", "Read-only", "swipl write.pl RO/facts.txt"),
        ("swipl_write_full", "resource", "No space left", "rm -f FULL/*; swipl write.pl FULL/facts.txt"),
        ("swipl_stack_limit", "resource", "Stack limit", "swipl stack.pl"),
        ("swipl_tcp_refused", "network", "Connection refused", "swipl tcp.pl CLOSED"),
        ("swipl_http_503", "service", "503", "swipl http.pl STATUS/503"),
        ("swipl_http_401", "auth", "401", "swipl http.pl STATUS/401"),
    ]


# --------------------------------------------------------------------------- Octave


def _octave_cases() -> list[ToolCase]:
    return [
        ("octave_undefined_function", "programming", "undefined", f"{OCTAVE} undefined_fn.m"),
        ("octave_parse_error", "programming", "parse error", f"{OCTAVE} parse_error.m"),
        ("octave_index_out_of_bound", "programming", "out of bound", f"{OCTAVE} out_of_bound.m"),
        ("octave_nonconformant", "programming", "nonconformant", f"{OCTAVE} nonconformant.m"),
        ("octave_jsondecode_input", "validation", "parse error", f"{OCTAVE} json_input.m DATA/orders_cut.json"),
        ("octave_validatestring_input", "validation", "does not match", f"{OCTAVE} choose_unit.m kelvin"),
        ("octave_load_missing", "filesystem", "unable to find", f"{OCTAVE} load_missing.m NOSUCH/prices.mat"),
        ("octave_export_read_only", "filesystem", "Read-only", f"{OCTAVE} export_csv.m RO/prices.csv"),
        ("octave_out_of_memory", "resource", "out of memory", f"ulimit -v 900000; {OCTAVE} big_matrix.m"),
        ("octave_urlread_refused", "network", "connect", f"{OCTAVE} fetch.m http://127.0.0.1:CLOSED/prices.csv"),
    ]


# --------------------------------------------------------------------------- batch


def make_records(env: Env) -> list[Record]:
    env.tmp.chmod(0o755)  # the `nobody` cases run programs from here
    data = env.tmp / "data"
    data.mkdir()
    data.chmod(0o755)
    (data / "orders_cut.json").write_text('{"batch": 93, "orders": [{"id": 1, "sku": "KB-01", "qty": 2}, {"id": 2, "sk',
                                          encoding="utf-8")  # an export cut off mid-write
    locked = env.tmp / "locked"
    locked.mkdir()
    locked.chmod(0o755)
    secret = locked / "ledger.dat"
    secret.write_text("LEDGER 93 0000120050\n", encoding="utf-8")
    secret.chmod(0o600)  # owned by root, read by `nobody`
    out = env.tmp / "out"
    out.mkdir()
    read_only = mount_tmpfs(env, "ro", "ro,size=64k")
    full = mount_tmpfs(env, "full", "size=64k")

    def fill(command: str) -> str:
        return (command.replace("STATUS", f"{env.http}/status").replace("CLOSED", str(env.closed_port))
                .replace("NOSUCH", str(env.tmp / "nosuch")).replace("LOCKED", str(secret))
                .replace("DATA", str(data)).replace("RO/", f"{read_only}/").replace("FULL/", f"{full}/")
                .replace("OUT/", f"{out}/"))

    only = set(filter(None, os.environ.get("BLIND93_ONLY", "").split(",")))  # dev runs: some languages only
    languages = [
        ("gdc93", D_SOURCES, _d_cases),
        ("fpc93", PASCAL_SOURCES, _pascal_cases),
        ("gnat93", ADA_SOURCES, _ada_cases),
        ("cobol93", COBOL_SOURCES, _cobol_cases),
        ("swipl93", PROLOG_SOURCES, lambda cwd: _prolog_cases()),
        ("octave93", OCTAVE_SOURCES, lambda cwd: _octave_cases()),
    ]
    records: list[Record] = []
    for source, sources, cases in languages:
        if only and source not in only:
            continue
        cwd = write_sources(env.tmp / source, sources)
        records.extend(tool_records(cases(cwd), source, cwd, fill, timeout=120))
    return records


if __name__ == "__main__":
    write_batch(make_records)
