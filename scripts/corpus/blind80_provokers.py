"""Eightieth batch of blind provokers: Python packaging and developer tooling, and HTTP load tools, each against
files, mounts and servers made here on 127.0.0.1 (blind80_support). `python -m build` and the backend hook
caller on setuptools projects (a pyproject field of the wrong type, broken TOML, a misspelt backend, a setup.py
syntax error, a data file missing, an output directory read-only or full); pip-compile (a malformed requirement,
a missing input); poetry against a private index answering 401/403/429/503 or a closed port, and on an invalid
or missing pyproject; hatch (version file missing, a field of the wrong type); pdm (no lock file, broken TOML);
Cython compile errors; mypy and pyright (type errors in the code); black, flake8 and pylint (syntax errors and
undefined names, missing or read-only paths); virtualenv and venv on a read-only or full tmpfs; packaging parsing
requirement and version strings from input; and the load tools ab, wrk, hey, siege, h2load and socat against
closed ports, resets, TLS mismatches, a SYN that is never answered, servers answering 5xx/429/401, and their own
broken scripts or missing input files."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

from blind80_support import (
    HATCH_HEADER,
    PYRIGHT,
    SETUPTOOLS_HEADER,
    VENV_BIN,
    gated,
    project,
    read_only_mount,
    tool_env,
)
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import full_backlog_port, mount_tmpfs, self_signed_https

BLIND80_SOURCES = frozenset({"build80", "piptools80", "poetry80", "hatch80", "pdm80", "cython80", "mypy80",
                             "pyright80", "black80", "flake8-80", "pylint80", "virtualenv80", "venv80", "packaging80",
                             "ab80", "wrk80", "hey80", "siege80", "h2load80", "socat80"})

BUILD = "cd @P@/{0} && @VENV@/python -m build --no-isolation"

# --------------------------------------------------------------------------- projects


def _projects(root: Path) -> None:
    pkg = {"src/pkg80/__init__.py": "__version__ = '0.1'\n"}
    project(root, "version_int", {**pkg, "pyproject.toml": SETUPTOOLS_HEADER
                                  + '[project]\nname = "pkg80"\nversion = 1\n'})
    project(root, "bad_toml", {**pkg, "pyproject.toml": SETUPTOOLS_HEADER
                               + '[project\nname = "pkg80"\nversion = "0.1"\n'})
    project(root, "backend_typo", {**pkg, "pyproject.toml": SETUPTOOLS_HEADER.replace("build_meta", "buildmeta")
                                   + '[project]\nname = "pkg80"\nversion = "0.1"\n'})
    project(root, "setup_syntax", {**pkg, "setup.py": 'from setuptools import setup\n\nsetup(name="pkg80", '
                                   'version="0.1",\n      packages=["pkg80"] package_dir={"": "src"})\n'})
    project(root, "data_missing", {**pkg, "setup.py": 'from setuptools import setup\n\nsetup(name="pkg80", '
                                   'version="0.1", packages=["pkg80"], package_dir={"": "src"},\n'
                                   '      data_files=[("share/pkg80", ["conf/pkg80.ini"])])\n'})
    project(root, "plain", {**pkg, "pyproject.toml": SETUPTOOLS_HEADER
                            + '[project]\nname = "pkg80"\nversion = "0.1"\n'})
    project(root, "big", {**pkg, "src/pkg80/model.bin": os.urandom(400_000),
                          "pyproject.toml": SETUPTOOLS_HEADER + '[project]\nname = "pkg80"\nversion = "0.1"\n'
                          '[tool.setuptools.package-data]\npkg80 = ["*.bin"]\n'})
    project(root, "compile", {"bad.in": "requests>>2.0\n", "empty.in": "\n"})
    for name in ("po_closed", "po_401", "po_403", "po_429", "po_503", "po_empty"):
        project(root, name, {})
    project(root, "po_check", {"pyproject.toml": '[project]\nname = "app80"\nversion = "0.1.0"\n'
                               'dependencies = ["requests>=2"]\nauthors = "ops team"\n'})
    project(root, "hatch_version", {"src/lib80/__init__.py": "", "pyproject.toml": HATCH_HEADER
                                    + '[project]\nname = "lib80"\ndynamic = ["version"]\n'
                                    '[tool.hatch.version]\npath = "src/lib80/__about__.py"\n'})
    project(root, "hatch_deps", {"src/lib80/__init__.py": "", "pyproject.toml": HATCH_HEADER
                                 + '[project]\nname = "lib80"\nversion = "0.1"\ndependencies = "requests>=2"\n'})
    project(root, "pdm_nolock", {"pyproject.toml": '[project]\nname = "svc80"\nversion = "0.1.0"\n'
                                 'requires-python = ">=3.11"\ndependencies = ["requests==2.32.3"]\n'
                                 '[tool.pdm]\ndistribution = false\n'})
    project(root, "pdm_toml", {"pyproject.toml": '[project]\nname = "svc80"\nversion = 0.1.0\n'})
    project(root, "cy", {"conv.pyx": 'cdef int retries = "ten"\n',
                         "parse.pyx": "def mean(values:\n    return sum(values) / len(values)\n"})
    project(root, "code", {
        "types_a.py": "def total(prices: list[float]) -> float:\n    return sum(prices)\n\n\nlabel: str = "
                      "total([1.5, 2.0])\n",
        "types_b.py": "import pathlib\n\n\ndef load(p: pathlib.Path) -> str:\n    return p.read_txt()\n",
        "types_c.py": "def connect(host: str, port: int) -> None: ...\n\n\nconnect(\"db\", port=5432, timeout=3)\n",
        "broken.py": "def handler(event:\n    return event['body']\n",
        "undef.py": "def report(rows):\n    for row in rows:\n        totl += row\n    return total\n",
        "bad80.lua": 'wrk.method = "POST"\nrequest = function()\n  return wrk.format(nil, "/ok" ..\nend\n',
        "siegerc": "color = off\nverbose = true\njson_output = false\nshow-logfile = false\nlogging = false\n",
    })


def _poetry_pyproject(root: Path, name: str, url: str) -> None:
    (root / name / "pyproject.toml").write_text(
        '[project]\nname = "app80"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["requests (==2.32.3)"]\n[tool.poetry]\npackage-mode = false\n'
        f'[[tool.poetry.source]]\nname = "corp"\nurl = "{url}"\npriority = "primary"\n', encoding="utf-8")


# --------------------------------------------------------------------------- packaging tools


def _packaging_tools() -> list[tuple[str, list[ToolCase]]]:
    build: list[ToolCase] = [
        ("build_pyproject_field_type", "validation", "must be string", BUILD.format("version_int") + " --wheel ."),
        ("build_pyproject_bad_toml", "validation", "Failed to parse", BUILD.format("bad_toml") + " --wheel ."),
        ("build_backend_typo", "programming", "not available|ModuleNotFoundError",
         BUILD.format("backend_typo") + " --wheel ."),
        ("build_setup_py_syntax", "programming", "SyntaxError", BUILD.format("setup_syntax") + " --wheel ."),
        ("build_data_file_missing", "filesystem", "doesn't exist", BUILD.format("data_missing") + " --wheel ."),
        ("build_outdir_read_only", "filesystem", "Read-only", BUILD.format("plain") + " --wheel --outdir @RO@/dist ."),
        ("build_outdir_full", "resource", "No space left", BUILD.format("big") + " --sdist --outdir @FULL@/dist ."),
    ]
    piptools: list[ToolCase] = [
        ("pip_compile_bad_requirement", "validation", "Invalid requirement",
         "cd @P@/compile && @VENV@/pip-compile --no-strip-extras -o requirements.txt bad.in"),
        ("pip_compile_input_missing", "filesystem", "does not exist",
         "cd @P@/compile && @VENV@/pip-compile --no-strip-extras -o requirements.txt requirements/base.in"),
    ]
    poetry: list[ToolCase] = [
        ("poetry_lock_index_refused", "network", "failed|refused", "cd @P@/po_closed && @VENV@/poetry lock"),
        ("poetry_lock_index_503", "service", "503", "cd @P@/po_503 && @VENV@/poetry lock"),
        ("poetry_lock_index_401", "auth", "Authorization error", "cd @P@/po_401 && @VENV@/poetry lock"),
        ("poetry_lock_index_403", "auth", "Authorization error", "cd @P@/po_403 && @VENV@/poetry lock"),
        ("poetry_lock_index_429", "resource", "429", "cd @P@/po_429 && @VENV@/poetry lock"),
        ("poetry_check_invalid", "validation", "invalid", "cd @P@/po_check && @VENV@/poetry check"),
        ("poetry_no_pyproject", "filesystem", "could not find", "cd @P@/po_empty && @VENV@/poetry install"),
    ]
    hatch: list[ToolCase] = [
        ("hatch_version_file_missing", "filesystem", "does not exist", "cd @P@/hatch_version && @VENV@/hatch version"),
        ("hatch_dependencies_not_array", "validation", "must be an array",
         "cd @P@/hatch_deps && @VENV@/hatch build -t wheel"),
    ]
    pdm: list[ToolCase] = [
        ("pdm_sync_no_lockfile", "filesystem", "Lockfile does not exist", "cd @P@/pdm_nolock && @VENV@/pdm sync"),
        ("pdm_pyproject_bad_toml", "validation", "TOMLDecodeError", "cd @P@/pdm_toml && @VENV@/pdm lock"),
    ]
    cython: list[ToolCase] = [
        ("cython_bad_coercion", "programming", "coerced", "cd @P@/cy && @VENV@/cython -3 conv.pyx"),
        ("cython_syntax_error", "programming", "Expected", "cd @P@/cy && @VENV@/cython -3 parse.pyx"),
    ]
    return [("build80", build), ("piptools80", piptools), ("poetry80", poetry), ("hatch80", hatch), ("pdm80", pdm),
            ("cython80", cython)]


def _checker_tools() -> list[tuple[str, list[ToolCase]]]:
    code = "cd @P@/code && "
    mypy: list[ToolCase] = [
        ("mypy_incompatible_assignment", "programming", "Incompatible types",
         code + "@VENV@/mypy --no-incremental --cache-dir=/dev/null types_a.py"),
        ("mypy_attr_defined", "programming", "has no attribute",
         code + "@VENV@/mypy --no-incremental --cache-dir=/dev/null types_b.py"),
    ]
    pyright: list[ToolCase] = [
        ("pyright_attribute_access", "programming", "reportAttributeAccessIssue", code + "@PYRIGHT@ types_b.py"),
        ("pyright_call_issue", "programming", "reportCallIssue", code + "@PYRIGHT@ types_c.py"),
    ]
    black: list[ToolCase] = [
        ("black_cannot_parse", "programming", "cannot parse", code + "@VENV@/black --check broken.py"),
        ("black_read_only_file", "filesystem", "Read-only", code + "@VENV@/black @RO@/settings80.py"),
    ]
    flake8: list[ToolCase] = [
        ("flake8_syntax_error", "programming", "E999", code + "@VENV@/flake8 broken.py"),
        ("flake8_undefined_name", "programming", "F821", code + "@VENV@/flake8 undef.py"),
        ("flake8_path_missing", "filesystem", "E902", code + "@VENV@/flake8 src/jobs80.py"),
    ]
    pylint: list[ToolCase] = [
        ("pylint_syntax_error", "programming", "syntax-error", code + "@VENV@/pylint broken.py"),
        ("pylint_undefined_variable", "programming", "undefined-variable",
         code + "@VENV@/pylint --disable=C,W undef.py"),
    ]
    virtualenv: list[ToolCase] = [
        ("virtualenv_dest_read_only", "filesystem", "not write-able", "@VENV@/virtualenv @RO@/env80"),
        ("virtualenv_tmpfs_full", "resource", "No space left", "@VENV@/virtualenv --no-periodic-update @FULL@/env80"),
    ]
    return [("mypy80", mypy), ("pyright80", pyright), ("black80", black), ("flake8-80", flake8),
            ("pylint80", pylint), ("virtualenv80", virtualenv)]


# --------------------------------------------------------------------------- load tools


def _load_tools() -> list[tuple[str, list[ToolCase]]]:
    ab: list[ToolCase] = [
        ("ab_refused", "network", "Connection refused", "ab -n 1 http://127.0.0.1:@CLOSED@/"),
        ("ab_tls_to_plain_port", "network", "SSL",
         gated("ab -n 1 https://127.0.0.1:@HTTPPORT@/ok", "handshake failed")),
        ("ab_invalid_url", "validation", "invalid URL", "ab -n 1 127.0.0.1:@HTTPPORT@"),
        ("ab_post_file_missing", "filesystem", "No such file",
         "ab -n 1 -p @P@/code/payload80.json -T application/json @HTTP@/ok"),
        ("ab_503", "service", "503", gated("ab -v 2 -n 1 @HTTP@/status/503", "HTTP/1.1 5[0-9][0-9]")),
        ("ab_401", "auth", "401", gated("ab -v 2 -n 1 @HTTP@/status/401", "HTTP/1.1 401")),
    ]
    wrk: list[ToolCase] = [
        ("wrk_refused", "network", "Connection refused", "wrk -t1 -c1 -d1s http://127.0.0.1:@CLOSED@/"),
        ("wrk_lua_syntax_error", "programming", "unexpected symbol",
         gated("wrk -t1 -c1 -d1s -s @P@/code/bad80.lua @HTTP@/ok", "bad80.lua:[0-9]+:")),
        ("wrk_lua_script_missing", "filesystem", "No such file",
         gated("wrk -t1 -c1 -d1s -s @P@/code/scripts/load80.lua @HTTP@/ok", "cannot open")),
    ]
    hey: list[ToolCase] = [
        ("hey_refused", "network", "connection refused",
         gated("hey -n 2 -c 1 http://127.0.0.1:@CLOSED@/", "Error distribution")),
        ("hey_reset", "network", "reset by peer",
         gated("hey -n 2 -c 1 http://127.0.0.1:@RESET@/", "Error distribution")),
        ("hey_429", "resource", "[429]", gated("hey -n 2 -c 1 @HTTP@/status/429", "\\[429\\]")),
        ("hey_401", "auth", "[401]", gated("hey -n 2 -c 1 @HTTP@/status/401", "\\[401\\]")),
    ]
    siege: list[ToolCase] = [
        ("siege_refused", "network", "Connection refused",
         gated("siege -R @P@/code/siegerc -r1 -c1 http://127.0.0.1:@CLOSED@/", "unable to connect")),
        ("siege_503", "service", "503", gated("siege -R @P@/code/siegerc -g @HTTP@/status/503", "HTTP/1.1 503")),
        ("siege_401", "auth", "401", gated("siege -R @P@/code/siegerc -g @HTTP@/status/401", "HTTP/1.1 401")),
        ("siege_429", "resource", "429",
         gated("siege -R @P@/code/siegerc -r1 -c1 @HTTP@/status/429", "HTTP/1.1 429")),
    ]
    h2load: list[ToolCase] = [
        ("h2load_h1_503", "service", "5xx", gated("h2load --h1 -n 2 -c 1 @HTTP@/status/503", " [1-9][0-9]* 5xx")),
    ]
    socat: list[ToolCase] = [
        ("socat_refused", "network", "Connection refused", "socat - TCP:127.0.0.1:@CLOSED@ </dev/null"),
        ("socat_tls_verify_failed", "network", "certificate verify failed",
         "socat - OPENSSL:127.0.0.1:@TLS@ </dev/null"),
        ("socat_tls_to_plain_port", "network", "wrong version number",
         "socat - OPENSSL:127.0.0.1:@HTTPPORT@,verify=0 </dev/null"),
        ("socat_connect_timeout", "network", "timed out",
         "socat - TCP:127.0.0.1:@BACKLOG@,connect-timeout=2 </dev/null"),
    ]
    return [("ab80", ab), ("wrk80", wrk), ("hey80", hey), ("siege80", siege), ("h2load80", h2load),
            ("socat80", socat)]


# --------------------------------------------------------------------------- Python APIs


def _python_cases(root: Path, ro: Path, full: Path) -> list[PyCase]:
    def build_backend_missing() -> None:
        # the build frontend's hook caller (`import build` here would find this folder's build.py)
        import pyproject_hooks

        src = root / "backend_typo"
        caller = pyproject_hooks.BuildBackendHookCaller(str(src), "setuptools.buildmeta",
                                                        runner=pyproject_hooks.quiet_subprocess_runner)
        caller.get_requires_for_build_wheel()

    def cythonize_undeclared() -> None:
        import Cython.Build

        source = root / "cy" / "agg80.pyx"
        source.write_text("def total(values):\n    cdef double acc = 0\n    for v in values:\n        acc += v\n"
                          "    return acc_total\n", encoding="utf-8")
        with contextlib.redirect_stderr(io.StringIO()):  # the compiler echoes its error; the exception has it
            Cython.Build.cythonize([str(source)], quiet=True, language_level=3)  # type: ignore[no-untyped-call]

    def venv_read_only() -> None:
        import venv

        venv.EnvBuilder(with_pip=False).create(ro / "venv81")

    def virtualenv_full() -> None:
        import virtualenv

        virtualenv.cli_run([str(full / "env81"), "--no-periodic-update", "--quiet"])

    def requirement_from_input() -> None:
        from packaging.requirements import Requirement

        line = "django>>4.2  # pasted from a ticket"
        Requirement(line)

    def version_from_tag() -> None:
        from packaging.version import Version

        tag = "release-2026.11-rc"
        Version(tag)

    return [
        ("build_api_backend_unavailable", "programming", "build80", "BackendUnavailable", build_backend_missing),
        ("cythonize_undeclared_name", "programming", "cython80", "CompileError", cythonize_undeclared),
        ("venv_create_read_only", "filesystem", "venv80", "OSError", venv_read_only),
        ("virtualenv_api_tmpfs_full", "resource", "virtualenv80", "OSError", virtualenv_full),
        ("packaging_invalid_requirement", "validation", "packaging80", "InvalidRequirement", requirement_from_input),
        ("packaging_invalid_version", "validation", "packaging80", "InvalidVersion", version_from_tag),
    ]


def blind80_records(env: Env) -> list[Record]:
    root = env.tmp / "p80"
    _projects(root)
    for name, status in (("po_401", 401), ("po_403", 403), ("po_429", 429), ("po_503", 503)):
        _poetry_pyproject(root, name, f"{env.url(status)}/simple/")
    _poetry_pyproject(root, "po_closed", f"http://127.0.0.1:{env.closed_port}/simple/")
    ro = read_only_mount(env, "ro80", {"settings80.py": "import os,sys\nDEBUG = {'a':1,'b':2}\n"})
    full = mount_tmpfs(env, "full80", "size=1m")
    full_small = mount_tmpfs(env, "fullb80", "size=64k")
    tls_port = self_signed_https(env)
    backlog = full_backlog_port(env)
    prefix = tool_env(env)
    values: dict[str, Any] = {"@VENV@": VENV_BIN, "@PYRIGHT@": PYRIGHT, "@P@": root, "@RO@": ro,
                              "@HTTPPORT@": env.http_port, "@HTTP@": env.http, "@CLOSED@": env.closed_port,
                              "@RESET@": env.reset_port, "@TLS@": tls_port, "@BACKLOG@": backlog}

    def fill(text: str, full_dir: Path = full) -> str:
        for key, value in {**values, "@FULL@": full_dir}.items():
            text = text.replace(key, str(value))
        return prefix + text

    out: list[Record] = []
    for source, cases in _packaging_tools() + _checker_tools() + _load_tools():
        if source == "build80":  # the sdist with its 400 kB of data overflows the 64 kB mount
            out += tool_records(cases, source, env.tmp, lambda t: fill(t, full_small), timeout=180)
        else:
            out += tool_records(cases, source, env.tmp, fill, timeout=180)
    out += python_records(_python_cases(root, ro, full))
    return out


if __name__ == "__main__":
    write_batch(blind80_records)


__all__ = ["BLIND80_SOURCES", "blind80_records"]
