"""Seventy-fifth batch of blind provokers: languages and runtimes the corpus had not seen, each program failing for
real on this machine (sources in blind75_support). Haskell compiled with ghc (a socket client against a closed
port, a resetting peer and an unresolvable name; Network.HTTP against 503/401 answers; a missing, read-only or
full file; too many open files; a heap limit; `read` and Parsec rejecting input; `head []`, a non-exhaustive
pattern, `div` by zero; a type error at compile time); Tcl (a refused socket, tls against a
self-signed certificate, the http package against 503/403, Redis refusing without AUTH or over maxmemory, file
errors, a non-numeric operand from input, tcllib json rejecting a document, an unknown command, an unset
variable, a division by zero); Guile and Racket Scheme (unbound identifiers, wrong-type and contract errors,
files, reads of broken data, refused connections, an untrusted certificate, HTTP answers, PostgreSQL refusing a
password, a standby and a full server); gfortran with -fcheck=all (array bounds, open/read/namelist errors, a
file that exists, too many open units, an allocation over the memory limit, a double DEALLOCATE); gawk and
mawk; bc and dc."""

from __future__ import annotations

from blind75_support import FORTRAN_RUN, HASKELL_RUN, write_sources
from checked import ToolCase, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs, private_postgres, private_redis, self_signed_https

BLIND75_SOURCES = frozenset({"haskell75", "tcl75", "guile75", "racket75", "gfortran75", "gawk75", "mawk75", "bc75",
                             "dc75"})


def _hs(name: str, args: str = "") -> str:
    return f"{HASKELL_RUN.format(name=name)} {args}".strip()


def _f(stem: str, args: str = "") -> str:
    return f"{FORTRAN_RUN.format(stem=stem)} {args}".strip()


def _haskell_cases() -> list[ToolCase]:
    status = "http://127.0.0.1:HTTPPORT/status/"
    return [
        ("hs_connect_refused", "network", "Connection refused", _hs("SockClient", "127.0.0.1 CLOSED")),
        ("hs_connection_reset", "network", "reset by peer", _hs("SockClient", "127.0.0.1 RESET")),
        ("hs_dns_failure", "network", "Name or service not known|No address associated",
         _hs("SockClient", "billing-db.corp.invalid 5432")),
        ("hs_http_503", "service", "Service Unavailable", _hs("HttpFetch", f"{status}503")),
        ("hs_http_401", "auth", "Unauthorized", _hs("HttpFetch", f"{status}401")),
        ("hs_config_missing", "filesystem", "does not exist", _hs("ReadConfig", "TMP/etc/app75/settings.conf")),
        ("hs_write_read_only", "filesystem", "read-only", _hs("WriteReport", "RODIR/report.txt 4")),
        ("hs_disk_full", "resource", "no space", _hs("WriteReport", "FULLDIR/report-hs.txt 1024")),
        ("hs_too_many_files", "resource", "too many open files",
         f"{HASKELL_RUN.format(name='OpenMany').split(' && ')[0]} && (ulimit -n 24; TMP/hs/OpenMany)"),
        ("hs_heap_exhausted", "resource", "heap exhausted|heap overflow", _hs("BuildIndex", "+RTS -M32m -RTS")),
        ("hs_read_no_parse", "validation", "no parse", _hs("ParsePort", "TMP/data/port.conf")),
        ("hs_parsec_csv", "validation", "unexpected", _hs("ParseCsv", "TMP/data/stock.csv")),
        ("hs_head_empty", "programming", "empty list", _hs("HeadEmpty")),
        ("hs_non_exhaustive", "programming", "Non-exhaustive", _hs("Patterns")),
        ("hs_div_zero", "programming", "divide by zero", _hs("DivZero")),
        ("hs_type_error", "programming", "Couldn't match", _hs("TypeError")),
    ]


def _tcl_cases() -> list[ToolCase]:
    status = "http://127.0.0.1:HTTPPORT/status/"
    return [
        ("tcl_socket_refused", "network", "connection refused", "tclsh TMP/tcl/sock.tcl CLOSED"),
        ("tcl_tls_verify", "network", "certificate verify failed|handshake", "tclsh TMP/tcl/tls.tcl TLSPORT"),
        ("tcl_http_503", "service", "Service Unavailable", f"tclsh TMP/tcl/fetch.tcl {status}503"),
        ("tcl_http_403", "auth", "Forbidden", f"tclsh TMP/tcl/fetch.tcl {status}403"),
        ("tcl_http_429", "resource", "Too Many Requests", f"tclsh TMP/tcl/fetch.tcl {status}429"),
        ("tcl_redis_noauth", "auth", "NOAUTH", "tclsh TMP/tcl/redis.tcl REDISAUTH"),
        ("tcl_redis_oom", "resource", "OOM", "tclsh TMP/tcl/redis.tcl REDISOOM"),
        ("tcl_config_missing", "filesystem", "no such file", "tclsh TMP/tcl/readconf.tcl TMP/etc/app75/queue.conf"),
        ("tcl_write_read_only", "filesystem", "read-only", "tclsh TMP/tcl/writerep.tcl RODIR/report.txt 4"),
        ("tcl_disk_full", "resource", "no space", "tclsh TMP/tcl/writerep.tcl FULLDIR/report-tcl.txt 1024"),
        ("tcl_expr_non_numeric", "validation", "non-numeric|expected", "tclsh TMP/tcl/qty.tcl KB-01,2x,49"),
        ("tcl_json_invalid", "validation", "unexpected token", "tclsh TMP/tcl/json.tcl TMP/data/customer.json"),
        ("tcl_unknown_command", "programming", "invalid command name", "tclsh TMP/tcl/unknown.tcl"),
        ("tcl_no_such_variable", "programming", "no such variable", "tclsh TMP/tcl/novar.tcl"),
        ("tcl_divide_by_zero", "programming", "divide by zero", "tclsh TMP/tcl/divzero.tcl"),
    ]


def _guile_cases() -> list[ToolCase]:
    status = "http://127.0.0.1:HTTPPORT/status/"
    g = "guile --no-auto-compile -s TMP/scm/"
    return [
        ("guile_unbound_variable", "programming", "Unbound variable", f"{g}unbound.scm"),
        ("guile_wrong_type", "programming", "Wrong type", f"{g}wrongtype.scm"),
        ("guile_config_missing", "filesystem", "No such file", f"{g}readconf.scm TMP/etc/app75/rules.scm"),
        ("guile_read_broken_data", "validation", "end of input|missing close paren",
         f"{g}readdata.scm TMP/data/orders.scm"),
        ("guile_connect_refused", "network", "Connection refused", f"{g}connect.scm CLOSED"),
        ("guile_http_403", "auth", "Forbidden", f"{g}http.scm {status}403"),
        ("guile_http_502", "service", "Bad Gateway", f"{g}http.scm {status}502"),
        ("guile_disk_full", "resource", "No space", f"{g}write.scm FULLDIR/report-guile.txt"),
    ]


def _racket_cases() -> list[ToolCase]:
    r = "racket TMP/rkt/"
    return [
        ("racket_unbound_identifier", "programming", "unbound identifier", f"{r}unbound.rkt"),
        ("racket_contract_violation", "programming", "contract violation", f"{r}contract.rkt"),
        ("racket_config_missing", "filesystem", "No such file", f"{r}readconf.rkt TMP/etc/app75/limits.rktd"),
        ("racket_tcp_refused", "network", "Connection refused|connection failed", f"{r}tcp.rkt CLOSED"),
        ("racket_ssl_verify", "network", "certificate verify failed", f"{r}ssl.rkt TLSPORT"),
        ("racket_http_503", "service", "Service Unavailable", f"{r}http.rkt HTTPPORT /status/503"),
        ("racket_json_invalid", "validation", "bad input", f"{r}json.rkt TMP/data/customer.json"),
        ("racket_too_many_files", "resource", "Too many open files",
         "ulimit -n 48; racket TMP/rkt/openmany.rkt"),
        ("racket_pg_password", "auth", "password authentication failed", f"{r}pg.rkt PGPORT app wrong-password 1"),
        ("racket_pg_standby", "service", "not accepting connections|starting up|shutting down|standby",
         f"{r}pg.rkt PGSTANDBY postgres none 1"),
        ("racket_pg_too_many_clients", "resource", "too many clients|connection slots",
         f"{r}pg.rkt PGFULL postgres none 8"),
    ]


def _fortran_cases() -> list[ToolCase]:
    return [
        ("gfortran_array_bounds", "programming", "above upper bound", _f("bounds")),
        ("gfortran_open_missing", "filesystem", "No such file", _f("openold", "TMP/etc/app75/mesh.dat")),
        ("gfortran_file_exists", "filesystem", "exists", _f("opennew", "TMP/data/grid.txt")),
        ("gfortran_bad_integer", "validation", "Bad integer", _f("readint", "TMP/data/stations.txt")),
        ("gfortran_short_read", "validation", "End of file", _f("readeof", "TMP/data/grid.txt")),
        ("gfortran_namelist", "validation", "namelist", _f("namelist", "TMP/data/run.nml")),
        ("gfortran_too_many_files", "resource", "Too many open files",
         f"{FORTRAN_RUN.format(stem='openmany').split(' && ')[0]} && (ulimit -n 32; TMP/f/openmany)"),
        ("gfortran_allocate_limit", "resource", "Allocation would exceed|Cannot allocate memory",
         f"{FORTRAN_RUN.format(stem='alloc').split(' && ')[0]} && (ulimit -v 1000000; TMP/f/alloc)"),
        ("gfortran_double_deallocate", "programming", "DEALLOCATE", _f("dealloc")),
    ]


def _awk_cases() -> list[tuple[str, list[ToolCase]]]:
    gawk: list[ToolCase] = [
        ("gawk_division_by_zero", "programming", "division by zero", "gawk -f TMP/awk/avg.awk TMP/data/sales.txt"),
        ("gawk_missing_input", "filesystem", "No such file", "gawk -f TMP/awk/avg.awk TMP/data/sales-2026-11.txt"),
        ("gawk_inet_refused", "network", "Connection refused",
         "gawk -v port=CLOSED -v path=/inventory -f TMP/awk/inet.awk"),
        ("gawk_inet_503", "service", "Service Unavailable",
         "gawk -v port=HTTPPORT -v path=/status/503 -f TMP/awk/inet.awk"),
        ("gawk_disk_full", "resource", "No space",
         "gawk -v out=FULLDIR/report-awk.txt -f TMP/awk/report.awk TMP/data/lines.txt"),
    ]
    mawk: list[ToolCase] = [
        ("mawk_syntax_error", "programming", "syntax error|missing", "mawk -f TMP/awk/syntax.awk TMP/data/sales.txt"),
        ("mawk_missing_input", "filesystem", "No such file", "mawk -f TMP/awk/avg.awk TMP/data/sales-2026-12.txt"),
    ]
    return [("gawk75", gawk), ("mawk75", mawk)]


#: bc and dc report a runtime or parse error on stderr and still exit 0: a script treats any stderr as a failure
_STDERR_FAILS = 'err=$({cmd} 2>&1 >/dev/null); [ -z "$err" ] || {{ printf "%s\\n" "$err" >&2; exit 1; }}'


def _calc_cases() -> list[tuple[str, list[ToolCase]]]:
    bc: list[ToolCase] = [
        ("bc_divide_by_zero", "programming", "Divide by zero", _STDERR_FAILS.format(cmd="bc -q TMP/bc/ratio.bc")),
        ("bc_missing_file", "filesystem", "unavailable", "bc -q TMP/bc/rates-2026.bc </dev/null"),
    ]
    dc: list[ToolCase] = [
        ("dc_stack_empty", "programming", "stack empty",
         _STDERR_FAILS.format(cmd="dc -e '2 k 3 4 + + p'")),
    ]
    return [("bc75", bc), ("dc75", dc)]


_DATA = {
    "port.conf": "port=8O80\nworkers=4\n",
    "stock.csv": "KB-01,2,49.00\nMS-02,three,19.50\n",
    "customer.json": '{"name": "ACME Tools", "tags": ["b2b", "eu",], "since": 2019\n',
    "orders.scm": '(order (id 7) (sku "KB-01") (qty 2))\n(order (id 8) (sku "MS-02") (qty 1)\n',
    "stations.txt": "101 4 2.5\n102 four 3.1\n",
    "grid.txt": "1.0 2.0 3.0 4.0\n5.0 6.0 7.0 8.0\n",
    "run.nml": "&run\n  nsteps = 200\n  timestep = 0.05\n/\n",
    "sales.txt": "north 3 120.0\nsouth 0 0.0\n",
    "lines.txt": "".join(f"row {i} {'y' * 200}\n" for i in range(200)),
}


def blind75_records(env: Env) -> list[Record]:
    write_sources(env.tmp)
    (env.tmp / "data").mkdir(exist_ok=True)
    for name, text in _DATA.items():
        (env.tmp / "data" / name).write_text(text, encoding="utf-8")
    (env.tmp / "etc").mkdir()
    ro = mount_tmpfs(env, "ro75", "size=64k,ro")
    full = mount_tmpfs(env, "full75", "size=64k")
    tls_port = self_signed_https(env)
    redis_auth = private_redis(env, "--requirepass", "s3cret-75-redis")
    redis_oom = private_redis(env, "--maxmemory", "1", "--maxmemory-policy", "noeviction")
    pg = private_postgres(env, extra_hba="host all app 127.0.0.1/32 password\n")
    pg_standby = private_postgres(env, standby=True)
    pg_full = private_postgres(env, max_connections=4, reserved=1)
    ports = {"HTTPPORT": env.http_port, "CLOSED": env.closed_port, "RESET": env.reset_port, "TLSPORT": tls_port,
             "REDISAUTH": redis_auth, "REDISOOM": redis_oom, "PGPORT": pg.port, "PGSTANDBY": pg_standby.port,
             "PGFULL": pg_full.port}

    def fill(text: str) -> str:
        for key, value in ports.items():
            text = text.replace(key, str(value))
        return text.replace("RODIR", str(ro)).replace("FULLDIR", str(full)).replace("TMP", str(env.tmp))

    def empty_full_mount() -> None:  # emptied between writers so each one fills it itself
        for leftover in full.iterdir():
            leftover.unlink()

    out: list[Record] = []
    for source, cases in (("haskell75", _haskell_cases()), ("tcl75", _tcl_cases()), ("guile75", _guile_cases()),
                          ("racket75", _racket_cases()), ("gfortran75", _fortran_cases()), *_awk_cases(),
                          *_calc_cases()):
        for case in cases:
            empty_full_mount()
            out += tool_records([case], source, env.tmp, fill, timeout=180)
    return out


if __name__ == "__main__":
    write_batch(blind75_records)


__all__ = ["BLIND75_SOURCES", "blind75_records"]
