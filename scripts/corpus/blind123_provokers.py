"""Hundred-and-twenty-third batch of blind provokers: the C/C++ build toolchain, each tool failing for a cause
provoked here (blind123_support). CMake (a missing source file and include, an invalid CXX_STANDARD, a parse error,
an unknown generator, FetchContent against a refused port, a reset peer, a silent peer and a 503, a build dir on a
full tmpfs, a compile error through cmake --build); Meson (a syntax error, a missing dependency, a bad buildtype,
wraps downloaded from a refused port and a 503, full and read-only build dirs, a compile error); ninja (a missing
build.ninja or input, an unknown target, a dependency cycle, an object onto a full tmpfs); autoconf-generated
./configure (a missing header and pkg-config module, a relative --prefix, an invalid feature name, broken CFLAGS,
read-only and full build dirs); pkg-config (a missing module or requirement, an unknown option); the linkers
ld.bfd, gold and lld (undefined and duplicate symbols, a missing -l library, a broken linker script, undeclared
memory regions, an unknown option, outputs on full and read-only mounts); ccache (a bad size, an invalid config
value, a read-only cache dir, a compile error); clang/clang++ (code defects, a missing header, an invalid -std, a
full disk, an RLIMIT_AS limit); valgrind memcheck on buggy programs (invalid read, use after free, leak) plus a
missing program and an unknown tool; gdb in batch mode on crashing programs, a missing program, a bogus core file
and a memory limit."""

from __future__ import annotations

from blind123_support import Tree, prepare_tree
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND123_SOURCES = frozenset({"cmake123", "meson123", "ninja123", "configure123", "pkgconfig123", "ldbfd123",
                              "gold123", "lld123", "ccache123", "clang123", "valgrind123", "gdb123"})

CMAKE: list[ToolCase] = [
    ("cmake_source_file_missing", "filesystem", "Cannot find source file",
     "cmake -S @R@/cmake/telemetry-agent -B @R@/build/telemetry-agent"),
    ("cmake_include_missing", "filesystem", "include could not find",
     "cmake -S @R@/cmake/edge-bridge -B @R@/build/edge-bridge"),
    ("cmake_cxx_standard_invalid", "validation", "CXX_STANDARD",
     "cmake -S @R@/cmake/frame-codec -B @R@/build/frame-codec"),
    ("cmake_parse_error", "validation", "Parse error",
     "cmake -S @R@/cmake/uplink-proxy -B @R@/build/uplink-proxy"),
    ("cmake_unknown_generator", "validation", "generator",
     "cmake -G 'Ninja Multi' -S @R@/cmake/ingestd -B @R@/build/ingestd"),
    ("cmake_fetch_refused", "network", "connect",
     "cmake -S @R@/cmake/config-sync -B @R@/build/config-sync"),
    ("cmake_fetch_reset", "network", "reset|Recv failure",
     "cmake -S @R@/cmake/log-shipper -B @R@/build/log-shipper"),
    ("cmake_fetch_timeout", "network", "timed out|timeout was reached",
     "cmake -S @R@/cmake/metrics-relay -B @R@/build/metrics-relay"),
    ("cmake_fetch_503", "service", "503",
     "cmake -S @R@/cmake/ota-updater -B @R@/build/ota-updater"),
    ("cmake_build_compile_error", "programming", "default_upstream",
     "cmake -S @R@/cmake/gateway -B @R@/build/gateway >/dev/null && "
     "cmake --build @R@/build/gateway"),
    ("cmake_build_dir_full", "resource", "No space|space left",
     "mkdir -p @FULL@/build-ingestd && cmake -S @R@/cmake/ingestd -B @FULL@/build-ingestd"),
]

MESON: list[ToolCase] = [
    ("meson_syntax_error", "validation", "Expecting",
     "cd @R@/meson/sensor-hub && meson setup @R@/mbuild/sensor-hub"),
    ("meson_missing_dependency", "filesystem", "libzmq-edge",
     "cd @R@/meson/ingest-queue && meson setup @R@/mbuild/ingest-queue"),
    ("meson_cli_bad_buildtype", "validation", "fastest",
     "cd @R@/meson/ingestd && meson setup -Dbuildtype=fastest @R@/mbuild/ingestd"),
    ("meson_wrap_refused", "network", "refused",
     "cd @R@/meson/archive-svc && meson setup @R@/mbuild/archive-svc"),
    ("meson_wrap_503", "service", "503|Service Unavailable",
     "cd @R@/meson/blob-store && meson setup @R@/mbuild/blob-store"),
    ("meson_builddir_read_only", "filesystem", "Read-only",
     "cd @R@/meson/ingestd && meson setup @RO@/mbuild-ingestd"),
    ("meson_builddir_full", "resource", "No space|space left",
     "cd @R@/meson/ingestd && meson setup @FULL@/mbuild-ingestd"),
    ("meson_compile_error", "programming", "default_upstream",
     "cd @R@/meson/gateway && meson setup @R@/mbuild/gateway >/dev/null && "
     "meson compile -C @R@/mbuild/gateway"),
]

NINJA: list[ToolCase] = [
    ("ninja_no_manifest", "filesystem", "build.ninja",
     "mkdir -p @R@/nbuild/ingestd-release && ninja -C @R@/nbuild/ingestd-release"),
    ("ninja_unknown_target", "validation", "unknown target",
     "cd @R@/meson/ingestd && meson setup @R@/nbuild/ingestd >/dev/null && ninja -C @R@/nbuild/ingestd instal"),
    ("ninja_missing_input", "filesystem", "missing and no known rule",
     "mkdir -p @R@/nbuild/journal && cd @R@/nbuild/journal && "
     "printf 'rule cc\\n  command = gcc -c $in -o $out\\nbuild obj/journal.o: cc ../../ingest/src/journal.c\\n' "
     "> build.ninja && ninja"),
    ("ninja_dependency_cycle", "validation", "dependency cycle",
     "mkdir -p @R@/nbuild/schema-gen && cd @R@/nbuild/schema-gen && "
     "printf 'rule gen\\n  command = touch $out\\nbuild schema.h: gen config.h\\nbuild config.h: gen schema.h\\n' "
     "> build.ninja && ninja schema.h"),
    ("ninja_object_full_disk", "resource", "No space|space left",
     "mkdir -p @R@/nbuild/agent-debug && cd @R@/nbuild/agent-debug && "
     "printf 'rule cc\\n  command = gcc -g -O0 -c $in -o $out\\n"
     "build @FULL@/obj/preload_index.o: cc @R@/agent/src/preload_index.cpp\\n' > build.ninja && ninja"),
]

CONFIGURE: list[ToolCase] = [
    ("configure_missing_header", "filesystem", "lzma_edge.h",
     "cd @R@/autoconf/fwpack && ./configure"),
    ("configure_pkg_requirement_missing", "filesystem", "libhsm-pkcs11",
     "cd @R@/autoconf/fwsign-tool && PKG_CONFIG_PATH=@R@/pkgconfig ./configure"),
    ("configure_relative_prefix", "validation", "absolute directory",
     "cd @R@/autoconf/fwtools && ./configure --prefix=opt/fwpack"),
    ("configure_invalid_feature", "validation", "invalid feature name",
     "cd @R@/autoconf/fwtools && ./configure --enable-lto --enable-sse4/avx2"),
    ("configure_bad_cflags", "validation", "cannot create executables",
     "cd @R@/autoconf/fwtools && CFLAGS='-O2 -march=skylake-avx1024' ./configure"),
    ("configure_build_dir_read_only", "filesystem", "Read-only",
     "cd @RO@ && @R@/autoconf/fwtools/configure"),
    ("configure_build_dir_full", "resource", "No space|space left",
     "mkdir -p @FULL@/fwpack-build && cd @FULL@/fwpack-build && @R@/autoconf/fwtools/configure"),
]

PKGCONFIG: list[ToolCase] = [
    ("pkgconfig_module_missing", "filesystem", "was not found",
     "PKG_CONFIG_PATH=@R@/pkgconfig pkg-config --cflags --libs libmosquitto-edge"),
    ("pkgconfig_requirement_missing", "filesystem", "libhsm-pkcs11",
     "PKG_CONFIG_PATH=@R@/pkgconfig pkg-config --libs libfirmware-sign"),
    ("pkgconfig_unknown_option", "validation", "Unknown option",
     "PKG_CONFIG_PATH=@R@/pkgconfig pkg-config --cflagz libedge-rpc"),
]


def _link(ld: str, kind: str, token: str) -> ToolCase:
    """One link failure of `kind` through `gcc -fuse-ld=LD` (clang for lld)."""
    cc = f"{'clang' if ld == 'lld' else 'gcc'} -fuse-ld={ld} -I@R@/ingest/include"
    label, command = {
        "undefined_symbol": ("programming", "-o ingestd src/main.c src/metrics.c"),
        "missing_library": ("filesystem", "-o ingestd src/ingestd_main.c -lprotobuf-edge"),
        "duplicate_symbol": ("programming", "-o ingestd src/ingestd_main.c src/config_a.c src/config_b.c"),
        "missing_object": ("filesystem", "-o ingestd src/ingestd_main.c build/obj/journal.o"),
        "output_read_only": ("filesystem", "-o @RO@/ingestd src/ingestd_main.c"),
        "output_full": ("resource", f"-g -o @FULL@/ingestd-{ld} src/ingestd_main.cpp -lstdc++"),
        "unknown_option": ("validation", "-Wl,--gc-sectionz -o ingestd src/ingestd_main.c"),
        "linker_script_syntax": ("validation", "-o ingestd src/ingestd_main.c -Wl,-T,link/sections.ld"),
        "memory_region_undeclared": ("validation", "-o firmware.elf src/ingestd_main.c -Wl,-T,link/stm32-flash.ld"),
    }[kind]
    return (f"{ld}_{kind}", label, token, f"cd @R@/ingest && {cc} {command}")


LD_BFD: list[ToolCase] = [
    _link("bfd", "undefined_symbol", "undefined reference"),
    _link("bfd", "missing_library", "protobuf-edge"),
    _link("bfd", "duplicate_symbol", "multiple definition"),
    _link("bfd", "output_full", "No space|space left"),
    _link("bfd", "linker_script_syntax", "syntax error"),
]
GOLD: list[ToolCase] = [
    _link("gold", "undefined_symbol", "undefined reference"),
    _link("gold", "output_read_only", "Read-only"),
    _link("gold", "memory_region_undeclared", "not declared"),
]
LLD: list[ToolCase] = [
    _link("lld", "undefined_symbol", "undefined symbol"),
    _link("lld", "duplicate_symbol", "duplicate symbol"),
    _link("lld", "missing_library", "protobuf-edge"),
    _link("lld", "unknown_option", "gc-sectionz"),
]

CCACHE: list[ToolCase] = [
    ("ccache_bad_max_size", "validation", "invalid",
     "CCACHE_DIR=@R@/ccache ccache -M 5Q"),
    ("ccache_dir_read_only", "filesystem", "Read-only",
     "cd @R@/ingest && CCACHE_DIR=@RO@/ccache ccache gcc -c src/ingestd_main.c -o /dev/null"),
    ("ccache_config_invalid", "validation", "ccache.conf",
     "mkdir -p @R@/ccache-conf && printf 'max_size = 20G\\ncompression_level = loud\\n' > @R@/ccache-conf/ccache.conf"
     " && cd @R@/ingest && CCACHE_CONFIGPATH=@R@/ccache-conf/ccache.conf CCACHE_DIR=@R@/ccache "
     "ccache gcc -c src/ingestd_main.c -o /dev/null"),
    ("ccache_compile_error", "programming", "default_upstream",
     "cd @R@/gateway && CCACHE_DIR=@R@/ccache ccache gcc -c src/router.c -o router.o"),
]

CLANG: list[ToolCase] = [
    ("clang_undeclared_identifier", "programming", "undeclared identifier",
     "cd @R@/gateway && clang -c src/router.c -o router.o"),
    ("clang_no_matching_call", "programming", "no matching function",
     "cd @R@/gateway && clang++ -std=c++17 -c src/handlers.cpp -o handlers.o"),
    ("clang_static_assert", "programming", "static_assert|static assertion",
     "cd @R@/gateway && clang++ -std=c++17 -c src/wire.cpp -o wire.o"),
    ("clang_header_missing", "filesystem", "file not found",
     "cd @R@/gateway && clang -c src/tls.c -o tls.o"),
    ("clang_invalid_std", "validation", "c++29",
     "cd @R@/gateway && clang++ -std=c++29 -c src/wire.cpp -o wire.o"),
    ("clang_output_full", "resource", "No space|space left",
     "cd @R@/agent && clang++ -g -c src/preload_index.cpp -o @FULL@/preload_index.o"),
    ("clang_memory_limit", "resource", "out of memory",
     "cd @R@/gateway && ulimit -v 260000 && clang++ -O2 -c src/route_match.cpp -o route_match.o"),
]

MEMCHECK = "valgrind --tool=memcheck --error-exitcode=3"
VALGRIND: list[ToolCase] = [
    ("valgrind_invalid_read", "programming", "Invalid read",
     f"{MEMCHECK} @BIN@/topic_sum"),
    ("valgrind_session_close", "programming", "free",
     f"{MEMCHECK} @BIN@/session_close"),
    ("valgrind_definite_leak", "programming", "definitely lost",
     f"{MEMCHECK} --leak-check=full --errors-for-leak-kinds=definite @BIN@/labels"),
    ("valgrind_program_missing", "filesystem", "No such file",
     f"{MEMCHECK} @BIN@/telemetry-agent --config /etc/telemetry/agent.toml"),
    ("valgrind_unknown_tool", "validation", "memchek",
     "valgrind --tool=memchek @BIN@/labels"),
]

GDB = "gdb -q -batch -return-child-result -ex run -ex bt"
GDB_CASES: list[ToolCase] = [
    ("gdb_segfault", "programming", "SIGSEGV", f"{GDB} @BIN@/parse_header 2>&1"),
    ("gdb_divide_by_zero", "programming", "SIGFPE", f"{GDB} @BIN@/rate 2>&1"),
    ("gdb_program_missing", "filesystem", "No such file",
     "gdb -q -batch -ex run -ex bt @BIN@/ingestd-debug 2>&1; exit 1"),
    ("gdb_bogus_core", "validation", "not a core",
     "printf 'core dumped by systemd-coredump: see journal\\n' > @R@/core.4411 && "
     "gdb -q -batch -ex bt @BIN@/rate @R@/core.4411 2>&1; exit 1"),
    ("gdb_bad_alloc_memory_limit", "resource", "bad_alloc",
     f"ulimit -v 1200000 && {GDB} @BIN@/preload_index 2>&1"),
]


def blind123_records(env: Env) -> list[Record]:
    tree: Tree = prepare_tree(env)

    def fill(text: str) -> str:
        return (text.replace("@RO@", str(tree.ro)).replace("@FULL@", str(tree.full)).replace("@BIN@", str(tree.bins))
                .replace("@R@", str(tree.root)))

    out: list[Record] = []
    groups: list[tuple[str, list[ToolCase]]] = [
        ("cmake123", CMAKE), ("meson123", MESON), ("ninja123", NINJA), ("configure123", CONFIGURE),
        ("pkgconfig123", PKGCONFIG), ("ldbfd123", LD_BFD), ("gold123", GOLD), ("lld123", LLD),
        ("ccache123", CCACHE), ("clang123", CLANG), ("valgrind123", VALGRIND), ("gdb123", GDB_CASES),
    ]
    for source, cases in groups:
        out += tool_records(cases, source, tree.root, fill=fill, timeout=180)
    return out


if __name__ == "__main__":
    write_batch(blind123_records)


__all__ = ["BLIND123_SOURCES", "blind123_records"]
