"""Fixtures of the hundred-and-twenty-third batch: a small C/C++ source tree laid out like a real service
(telemetry agent, ingest daemon, firmware packager), CMake and Meson projects that are broken in one way each,
autoconf inputs, pkg-config .pc files, linker scripts, prebuilt buggy programs for valgrind and gdb, and tiny
tmpfs mounts (one full, one read-only) that the build tools write into."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from common import Env
from servers import mount_tmpfs

#: relative path -> content of every source file the batch builds from
SOURCES: dict[str, str] = {
    # ---------------------------------------------------------------- plain C programs with defects
    "agent/src/parse_header.c": """#include <stdio.h>
#include <string.h>

struct frame_header { char *device_id; int payload_len; };

static int parse_header(const struct frame_header *h)
{
    return (int)strlen(h->device_id) + h->payload_len;
}

int main(void)
{
    struct frame_header *h = NULL;
    printf("%d\\n", parse_header(h));
    return 0;
}
""",
    "agent/src/rate.c": """#include <stdio.h>
#include <stdlib.h>

static int samples_per_window(int total, int windows) { return total / windows; }

int main(int argc, char **argv)
{
    int windows = argc > 5 ? atoi(argv[1]) : 0;
    printf("%d\\n", samples_per_window(4096, windows));
    return 0;
}
""",
    "agent/src/topic_sum.c": """#include <stdlib.h>
#include <string.h>
#include <stdio.h>

int main(void)
{
    char *topic = malloc(16);
    strcpy(topic, "sensors/");
    int total = 0;
    for (int i = 0; i <= 16; i++)
        total += topic[i + 4];
    printf("%d\\n", total);
    free(topic);
    return 0;
}
""",
    "agent/src/session_close.c": """#include <stdlib.h>
#include <stdio.h>

struct session { int fd; int retries; };

int main(void)
{
    struct session *s = malloc(sizeof *s);
    s->fd = 7;
    s->retries = 0;
    free(s);
    s->retries++;
    printf("%d\\n", s->fd);
    return 0;
}
""",
    "agent/src/labels.c": """#include <stdlib.h>
#include <string.h>
#include <stdio.h>

static char *copy_label(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    strcpy(out, s);
    return out;
}

int main(void)
{
    for (int i = 0; i < 5; i++) {
        char *label = copy_label("edge-gateway-03");
        label = NULL;
        (void)label;
    }
    puts("done");
    return 0;
}
""",
    "agent/src/preload_index.cpp": """#include <cstdio>
#include <vector>

int main()
{
    std::vector<double> index;
    index.reserve(400ULL * 1024 * 1024);
    std::printf("%zu\\n", index.capacity());
    return 0;
}
""",
    # ---------------------------------------------------------------- linker inputs
    "ingest/include/metrics.h": """#pragma once
void metrics_flush(int fd);
int metrics_register(const char *name);
""",
    "ingest/src/main.c": """#include "metrics.h"

int main(void)
{
    metrics_register("ingest.frames");
    metrics_flush(1);
    return 0;
}
""",
    "ingest/src/metrics.c": """#include "metrics.h"

int metrics_register(const char *name) { return name[0]; }
""",
    "ingest/src/config_a.c": "const char *config_path = \"/etc/ingestd/ingestd.conf\";\n"
                             "int cfg_a(void) { return 1; }\n",
    "ingest/src/config_b.c": "const char *config_path = \"/etc/ingestd/defaults.conf\";\n"
                             "int cfg_b(void) { return 2; }\n",
    "ingest/src/ingestd_main.c": "int main(void) { return 0; }\n",
    "ingest/src/ingestd_main.cpp": "#include <cstdio>\nint main() { std::puts(\"ingestd\"); return 0; }\n",
    "ingest/link/sections.ld": """SECTIONS
{
  .text : { *(.text*) }
  .rodata : { *(.rodata*)
  .data : { *(.data*) }
}
""",
    "ingest/link/stm32-flash.ld": """SECTIONS
{
  .isr_vector : { KEEP(*(.isr_vector)) } > FLASH
  .text : { *(.text*) *(.rodata*) } > FLASH
  .data : { *(.data*) } > RAM AT > FLASH
}
""",
    # ---------------------------------------------------------------- clang diagnostics
    "gateway/src/router.c": """#include <stddef.h>

struct route { const char *prefix; int upstream; };

int pick_upstream(const struct route *table, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (path[0] == table[i].prefix[0])
            return table[i].upstream;
    return default_upstream;
}
""",
    "gateway/src/handlers.cpp": """#include <string>
#include <vector>

struct Handler { std::string name; int priority; };

void register_handler(std::vector<Handler> &handlers, const Handler &h) { handlers.push_back(h); }

int main()
{
    std::vector<Handler> handlers;
    register_handler(handlers, "healthz", 10);
    return 0;
}
""",
    "gateway/src/wire.cpp": """#include <cstdint>

struct WireHeader { std::uint32_t magic; std::uint16_t version; std::uint8_t flags; };

static_assert(sizeof(WireHeader) == 7, "WireHeader must be packed to 7 bytes");

int main() { return 0; }
""",
    "gateway/src/tls.c": """#include <openssl/evp_kdf_ext.h>

int tls_init(void) { return 0; }
""",
    "gateway/src/route_match.cpp": """#include <iostream>
#include <map>
#include <regex>
#include <string>
#include <vector>

int main()
{
    std::map<std::string, std::vector<std::regex>> routes;
    routes["/api"].emplace_back("^/api/v[0-9]+/devices/[a-f0-9-]{36}$");
    std::cout << std::regex_match("/api/v2/devices/x", routes["/api"][0]) << routes.size() << std::endl;
    return 0;
}
""",
    # ---------------------------------------------------------------- pkg-config
    "pkgconfig/libfirmware-sign.pc": """prefix=/opt/fwsign
libdir=${prefix}/lib

Name: libfirmware-sign
Description: Firmware image signing
Version: 2.4.1
Requires: libhsm-pkcs11 >= 1.2
Libs: -L${libdir} -lfwsign
""",
    "pkgconfig/libedge-rpc.pc": """prefix=/opt/edge-rpc
libdir=${prefix}/lib

Name: libedge-rpc
Description: Edge RPC client
Version: 0.9.3
Libs: -L${libdir} -ledgerpc
Cflags: -I${prefix}/include
""",
}

#: CMake projects, one broken way each: directory -> CMakeLists.txt
CMAKE_PROJECTS: dict[str, str] = {
    "cmake/telemetry-agent": """cmake_minimum_required(VERSION 3.20)
project(telemetry_agent C)
add_executable(telemetry-agent src/main.c src/uplink.c)
""",
    "cmake/edge-bridge": """cmake_minimum_required(VERSION 3.20)
project(telemetry_agent C)
include(cmake/Toolchain-armhf.cmake)
""",
    "cmake/frame-codec": """cmake_minimum_required(VERSION 3.20)
project(telemetry_agent CXX)
add_executable(telemetry-agent main.cpp)
set_target_properties(telemetry-agent PROPERTIES CXX_STANDARD 31)
""",
    "cmake/uplink-proxy": """cmake_minimum_required(VERSION 3.20)
project(telemetry_agent C)
add_executable(telemetry-agent main.c
target_compile_definitions(telemetry-agent PRIVATE AGENT_VERSION="1.4.2")
""",
    "cmake/config-sync": """cmake_minimum_required(VERSION 3.20)
project(telemetry_agent C)
include(FetchContent)
FetchContent_Declare(cjson URL http://127.0.0.1:@CLOSED@/mirror/cJSON-1.7.17.tar.gz)
FetchContent_MakeAvailable(cjson)
""",
    "cmake/ota-updater": """cmake_minimum_required(VERSION 3.20)
project(telemetry_agent C)
include(FetchContent)
FetchContent_Declare(cjson URL @URL503@/mirror/cJSON-1.7.17.tar.gz)
FetchContent_MakeAvailable(cjson)
""",
    "cmake/log-shipper": """cmake_minimum_required(VERSION 3.20)
project(telemetry_agent C)
include(FetchContent)
FetchContent_Declare(cjson URL http://127.0.0.1:@RESET@/mirror/cJSON-1.7.17.tar.gz)
FetchContent_MakeAvailable(cjson)
""",
    "cmake/metrics-relay": """cmake_minimum_required(VERSION 3.20)
project(telemetry_agent C)
include(FetchContent)
FetchContent_Declare(cjson URL http://127.0.0.1:@HANG@/mirror/cJSON-1.7.17.tar.gz TIMEOUT 4)
FetchContent_MakeAvailable(cjson)
""",
    "cmake/gateway": """cmake_minimum_required(VERSION 3.20)
project(gateway C)
add_library(router STATIC router.c)
""",
    "cmake/ingestd": """cmake_minimum_required(VERSION 3.20)
project(ingestd C)
add_executable(ingestd main.c)
""",
}

#: Meson projects: directory -> {file: content}
MESON_PROJECTS: dict[str, dict[str, str]] = {
    "meson/sensor-hub": {"meson.build": "project('ingestd', 'c', version : '0.8.1'\nexecutable('ingestd', 'main.c')\n"},
    "meson/ingest-queue": {"meson.build": "project('ingestd', 'c')\nzmq = dependency('libzmq-edge', version : '>=4.3')"
                                         "\nexecutable('ingestd', 'main.c', dependencies : zmq)\n"},
    "meson/ingestd": {"meson.build": "project('ingestd', 'c')\nexecutable('ingestd', 'main.c')\n",
                 "main.c": "int main(void) { return 0; }\n"},
    "meson/gateway": {"meson.build": "project('gateway', 'c')\nstatic_library('router', 'router.c')\n"},
    "meson/archive-svc": {"meson.build": "project('ingestd', 'c')\nsubproject('zstd')\n",
                           "subprojects/zstd.wrap": "[wrap-file]\ndirectory = zstd-1.5.5\n"
                           "source_url = http://127.0.0.1:@CLOSED@/wraps/zstd-1.5.5.tar.gz\n"
                           "source_filename = zstd-1.5.5.tar.gz\nsource_hash = "
                           "9c4396cc829cfae319a6e2615202e82aad41372073482fce286fac78646d3ee4\n"},
    "meson/blob-store": {"meson.build": "project('ingestd', 'c')\nsubproject('zstd')\n",
                       "subprojects/zstd.wrap": "[wrap-file]\ndirectory = zstd-1.5.5\n"
                       "source_url = @URL503@/wraps/zstd-1.5.5.tar.gz\n"
                       "source_filename = zstd-1.5.5.tar.gz\nsource_hash = "
                       "9c4396cc829cfae319a6e2615202e82aad41372073482fce286fac78646d3ee4\n"},
}

#: autoconf inputs: directory -> configure.ac
AUTOCONF_PROJECTS: dict[str, str] = {
    "autoconf/fwpack": """AC_INIT([fwpack], [3.2.0])
AC_PROG_CC
AC_CHECK_HEADER([lzma_edge.h], [], [AC_MSG_ERROR([lzma_edge.h not found; install liblzma-edge-dev])])
AC_OUTPUT
""",
    "autoconf/fwtools": """AC_INIT([fwpack], [3.2.0])
AC_PROG_CC
AC_OUTPUT
""",
    "autoconf/fwsign-tool": """AC_INIT([fwpack], [3.2.0])
AC_PROG_CC
PKG_CHECK_MODULES([FWSIGN], [libfirmware-sign >= 2.0])
AC_OUTPUT
""",
}


@dataclass
class Tree:
    """Paths of the batch's build fixtures."""

    root: Path
    full: Path
    ro: Path
    bins: Path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _fill(text: str, env: Env) -> str:
    return (text.replace("@CLOSED@", str(env.closed_port)).replace("@URL503@", env.url(503))
            .replace("@RESET@", str(env.reset_port)).replace("@HANG@", str(env.hang_port)))


def _build_programs(root: Path, bins: Path) -> None:
    """The buggy programs valgrind and gdb run, built with debug info."""
    bins.mkdir()
    for name in ("parse_header", "rate", "topic_sum", "session_close", "labels"):
        subprocess.run(["gcc", "-g", "-O0", "-o", str(bins / name), str(root / "agent/src" / f"{name}.c")],
                       check=True, capture_output=True)
    subprocess.run(["g++", "-g", "-O0", "-o", str(bins / "preload_index"), str(root / "agent/src/preload_index.cpp")],
                   check=True, capture_output=True)


def _autoconf(root: Path) -> None:
    """Generate each project's ./configure (autoconf, plus aclocal where pkg.m4 is used)."""
    for rel, text in AUTOCONF_PROJECTS.items():
        d = root / rel
        _write(d / "configure.ac", text)
        if "PKG_CHECK" in text:
            subprocess.run(["aclocal"], cwd=d, check=True, capture_output=True)
        subprocess.run(["autoconf"], cwd=d, check=True, capture_output=True)


def prepare_tree(env: Env) -> Tree:
    root = env.tmp / "work123"
    for rel, text in SOURCES.items():
        _write(root / rel, text)
    for rel, text in CMAKE_PROJECTS.items():
        _write(root / rel / "CMakeLists.txt", _fill(text, env))
    for name in ("main.c", "main.cpp"):
        for rel in CMAKE_PROJECTS:
            _write(root / rel / name, "int main(void) { return 0; }\n" if name != "main.cpp" else
                   "int main() { return 0; }\n")
    _write(root / "cmake/gateway/router.c", SOURCES["gateway/src/router.c"])
    for rel, files in MESON_PROJECTS.items():
        for name, text in files.items():
            _write(root / rel / name, _fill(text, env))
        if not (root / rel / "main.c").exists():
            _write(root / rel / "main.c", "int main(void) { return 0; }\n")
    _write(root / "meson/gateway/router.c", SOURCES["gateway/src/router.c"])
    _autoconf(root)
    _build_programs(root, root / "bin")
    full = mount_tmpfs(env, "buildcache123", "size=96k")
    (full / "filler.bin").write_bytes(b"\0" * 92 * 1024)
    ro = mount_tmpfs(env, "artifacts123", "size=256k")
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    return Tree(root, full, ro, root / "bin")


__all__ = ["Tree", "prepare_tree"]
