"""Hundred-and-twenty-fourth batch of blind provokers: Python packaging and environment tools not seen before, each
failing for a cause provoked here (blind124_support). setuptools building projects with a bug in setup.py, a
malformed setup.cfg or [project] table, an invalid version, a missing package directory or README, onto a full or
read-only tmpfs; wheel and installer on missing, non-zip, tampered wheels and full or read-only targets; pkginfo
on a missing wheel; pipx with a bad spec, a missing interpreter and a full or read-only PIPX_HOME; pypi-simple
against a real pypiserver that wants a password (none, a wrong one), a 502/503 from the local status server, a
refused port, an index of a future repository version and a file whose digest does not match; pip-audit on
malformed requirements and pyproject files and a refused index; pipdeptree with a missing interpreter and
conflicting arguments; validate-pyproject on invalid tables and a missing file; check-manifest outside version
control, with files missing from the sdist, a bug in setup.py and a missing directory; setuptools-scm without git
metadata and with an unknown version scheme; flit (no docstring, an import error, a non-PEP 440 version, a full
disk); maturin (no Cargo.toml, an unknown bindings value, Rust that does not compile, read-only and full output
directories); scikit-build-core (no CMakeLists.txt, C that does not compile, an unknown option, a bad minimum
version); pypiserver started on a missing directory or htpasswd file, or with a bad -a value.

Run with the batch's own venv: /tmp/recoup-corpus-124/bin/python blind124_provokers.py OUT."""

from __future__ import annotations

from typing import Any

from blind124_support import BUILD_WHEEL, INDEX_PASSWORD, INDEX_USER, PY, VENV_BIN, Fixtures, prepare
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND124_SOURCES = frozenset({"setuptools124", "wheel124", "installer124", "pkginfo124", "pipx124", "pypi-simple124",
                              "pip-audit124", "pipdeptree124", "validate-pyproject124", "check-manifest124",
                              "setuptools-scm124", "flit124", "maturin124", "scikit-build-core124", "pypiserver124"})


def _bin(tool: str) -> str:
    return str(VENV_BIN / tool)


def _in(f: Fixtures, project: str, *argv: str) -> str:
    """A bash line running argv inside one of the batch's projects."""
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in argv)
    return f"cd {f.root / project} && {quoted}"


def _setuptools(f: Fixtures) -> list[ToolCase]:
    build = BUILD_WHEEL["setuptools"]
    return [
        ("setuptools_project_name", "validation", "project.name", _in(f, "orders-api", PY, "-c", build)),
        ("setuptools_setup_cfg_section", "validation", "ParsingError",
         _in(f, "billing-worker", PY, "setup.py", "bdist_wheel")),
        ("setuptools_setup_py_nameerror", "programming", "NameError",
         _in(f, "ledger-sync", PY, "setup.py", "bdist_wheel")),
        ("setuptools_package_dir_missing", "filesystem", "does not exist",
         _in(f, "inventory-client", PY, "setup.py", "bdist_wheel")),
        ("setuptools_readme_missing", "filesystem", "No such file or directory",
         _in(f, "shipping-rates", PY, "setup.py", "sdist")),
        ("setuptools_invalid_version", "validation", "InvalidVersion",
         _in(f, "notify-hub", PY, "setup.py", "bdist_wheel")),
        ("setuptools_setup_py_attribute", "programming", "AttributeError",
         _in(f, "search-indexer", PY, "setup.py", "bdist_wheel")),
        ("setuptools_bdist_full_disk", "resource", "No space left",
         _in(f, "telemetry-agent", PY, "setup.py", "bdist_wheel", "-d", str(f.full / "dist"))),
        ("setuptools_sdist_read_only", "filesystem", "Read-only file system",
         _in(f, "telemetry-agent", PY, "setup.py", "sdist", "-d", str(f.ro / "dist"))),
    ]


def _wheel(f: Fixtures) -> list[ToolCase]:
    wheel = _bin("wheel")
    return [
        ("wheel_unpack_missing", "filesystem", "No such file",
         [wheel, "unpack", str(f.root / "wheels" / "ledger_sync-1.0.0-py3-none-any.whl")]),
        ("wheel_unpack_not_zip", "validation", "not a zip file", [wheel, "unpack", str(f.not_a_zip)]),
        ("wheel_unpack_full_disk", "resource", "No space left", [wheel, "unpack", "-d", str(f.full), str(f.wheel)]),
    ]


def _installer(f: Fixtures) -> list[ToolCase]:
    install = [PY, "-m", "installer"]
    return [
        ("installer_record_mismatch", "validation", "didn't match RECORD",
         [*install, "--validate-record", "all", "--destdir", str(f.root / "stage-a"), str(f.tampered)]),
        ("installer_full_disk", "resource", "No space left",
         [*install, "--destdir", str(f.full / "stage"), str(f.wheel)]),
        ("installer_read_only", "filesystem", "Read-only file system",
         [*install, "--destdir", str(f.ro / "stage"), str(f.wheel)]),
    ]


def _pipx(f: Fixtures) -> list[ToolCase]:
    pipx = _bin("pipx")
    return [
        ("pipx_bad_spec", "validation", "Unable to parse", [pipx, "install", "ledger-sync>=1.0,,<2"]),
        ("pipx_python_missing", "filesystem", "no executable was found",
         [pipx, "install", "--python", "/opt/python3.13/bin/python3.13", str(f.wheel)]),
        ("pipx_home_full", "resource", "No space left",
         f"PIPX_HOME={f.full / 'pipx'} {pipx} install {f.wheel}"),
        ("pipx_home_read_only", "filesystem", "Read-only file system",
         f"PIPX_HOME={f.ro / 'pipx'} {pipx} install {f.wheel}"),
    ]


def _pip_audit(env: Env, f: Fixtures) -> list[ToolCase]:
    audit = _bin("pip-audit")
    reqs = f.root / "audit"
    return [
        ("pip_audit_bad_requirement", "validation", "invalid specifier",
         [audit, "-r", str(reqs / "requirements-web.txt")]),
        ("pip_audit_pyproject_toml", "validation", "TOMLDecodeError", [audit, str(reqs)]),
        ("pip_audit_index_refused", "network", "Connection refused",
         [audit, "-r", str(reqs / "requirements.txt"), "--index-url", f"http://127.0.0.1:{env.closed_port}/simple/"]),
    ]


def _pipdeptree(f: Fixtures) -> list[ToolCase]:
    tree = _bin("pipdeptree")
    return [
        ("pipdeptree_python_missing", "filesystem", "Failed to query", [tree, "--python", "/srv/app/.venv/bin/python"]),
        ("pipdeptree_packages_excluded", "validation", "Cannot have",
         [tree, "-p", "requests,urllib3", "-e", "urllib3"]),
    ]


def _validate_pyproject(f: Fixtures) -> list[ToolCase]:
    vp = _bin("validate-pyproject")
    root = f.root / "inventory-sync"
    return [
        ("validate_pyproject_authors", "validation", "must not contain", [vp, str(root / "pyproject-authors.toml")]),
        ("validate_pyproject_entrypoint", "validation", "python-entrypoint-reference",
         [vp, str(root / "pyproject-scripts.toml")]),
        ("validate_pyproject_missing", "filesystem", "No such file", [vp, "services/inventory/pyproject.toml"]),
    ]


def _check_manifest(f: Fixtures) -> list[ToolCase]:
    cm = _bin("check-manifest")
    return [
        ("check_manifest_no_vcs", "git", "version control", [cm, str(f.root / "orders-api")]),
        ("check_manifest_missing_from_sdist", "validation", "missing from sdist",
         [cm, "--no-build-isolation", str(f.root / "billing-core")]),
        ("check_manifest_setup_py_bug", "programming", "NameError",
         [cm, "--no-build-isolation", str(f.root / "billing-legacy")]),
        ("check_manifest_dir_missing", "filesystem", "No such file", [cm, "services/billing"]),
    ]


def _setuptools_scm(f: Fixtures) -> list[ToolCase]:
    return [
        ("setuptools_scm_no_git_build", "git", "unable to detect version",
         _in(f, "edge-gateway", PY, "-c", BUILD_WHEEL["setuptools"])),
        ("setuptools_scm_unknown_scheme", "validation", "calver-by-week",
         _in(f, "edge-gateway-calver", _bin("setuptools-scm"))),
    ]


def _flit(f: Fixtures) -> list[ToolCase]:
    flit = [_bin("flit"), "build", "--no-use-vcs", "--format", "wheel"]
    return [
        ("flit_no_docstring", "validation", "docstring", _in(f, "quota-client-nodoc", *flit)),
        ("flit_import_error", "programming", "ModuleNotFoundError", _in(f, "quota-client-import", *flit)),
        ("flit_version_pep440", "validation", "PEP 440", _in(f, "quota-client-version", *flit)),
        ("flit_wheel_full_disk", "resource", "No space left",
         _in(f, "quota-client", PY, "-c", BUILD_WHEEL["flit"].format(out=str(f.full)))),
    ]


def _maturin(f: Fixtures) -> list[ToolCase]:
    maturin = [_bin("maturin"), "build", "--offline"]
    return [
        ("maturin_no_cargo_toml", "filesystem", "Can't find", _in(f, "fastcsv", *maturin)),
        ("maturin_unknown_bindings", "validation", "unknown variant", _in(f, "logscan-bindings", *maturin)),
        ("maturin_rust_compile_error", "programming", "could not compile", _in(f, "ratelimit", *maturin)),
        ("maturin_output_read_only", "filesystem", "Read-only file system",
         _in(f, "logscan", *maturin, "-o", str(f.ro / "wheels"))),
        ("maturin_output_full", "resource", "No space left", _in(f, "logscan", *maturin, "-o", str(f.full / "wheels"))),
    ]


def _scikit_build(f: Fixtures) -> list[ToolCase]:
    build = BUILD_WHEEL["skbuild"]
    return [
        ("skbuild_no_cmakelists", "filesystem", "CMakeLists.txt", _in(f, "geohash-fast", PY, "-c", build)),
        ("skbuild_c_compile_error", "programming", "CMake build failed", _in(f, "geohash-fast-c", PY, "-c", build)),
        ("skbuild_unknown_option", "validation", "Unrecognized options", _in(f, "geohash-fast-typo", PY, "-c", build)),
        ("skbuild_minimum_version", "validation", "InvalidVersion", _in(f, "geohash-fast-minver", PY, "-c", build)),
    ]


def _pypiserver(f: Fixtures) -> list[ToolCase]:
    server = [_bin("pypi-server"), "run", "-p", "0", "-i", "127.0.0.1"]
    return [
        ("pypiserver_dir_missing", "filesystem", "No such file", [*server, "/srv/pypi/packages"]),
        ("pypiserver_htpasswd_missing", "filesystem", "No such file",
         [*server, "-P", "/etc/pypiserver/htpasswd.users", "-a", "update,download", str(f.root / "index-packages")]),
        ("pypiserver_bad_authenticate", "validation", "invalid auth_arg",
         [*server, "-a", "upload,delete", str(f.root / "index-packages")]),
    ]


def _python_cases(env: Env, f: Fixtures) -> list[PyCase]:
    import pkginfo
    from pypi_simple import PyPISimple
    from setuptools_scm import get_version

    def page(endpoint: str, auth: Any = None, project: str = "telemetry-agent") -> Any:
        def fn() -> None:
            with PyPISimple(endpoint, auth=auth) as client:
                client.get_project_page(project)
        return fn

    def mirror_download() -> None:
        with PyPISimple(f.fake_index + "/mirror/simple/") as client:
            pkg = client.get_project_page("telemetry-agent").packages[0]
            client.download_package(pkg, f.root / "downloads" / f.fake_wheel)

    index = f.index + "/simple/"
    return [
        ("pypi_simple_no_credentials", "auth", "pypi-simple124", "HTTPError", page(index)),
        ("pypi_simple_wrong_password", "auth", "pypi-simple124", "HTTPError",
         page(index, (INDEX_USER, INDEX_PASSWORD[::-1]))),
        ("pypi_simple_503", "service", "pypi-simple124", "HTTPError", page(env.url(503) + "/simple/")),
        ("pypi_simple_502", "service", "pypi-simple124", "HTTPError",
         page(env.url(502) + "/simple/", None, "quota-client")),
        ("pypi_simple_refused", "network", "pypi-simple124", "ConnectionError",
         page(f"http://127.0.0.1:{env.closed_port}/simple/")),
        ("pypi_simple_repo_version", "validation", "pypi-simple124", "UnsupportedRepoVersionError",
         page(f.fake_index + "/v2/simple/")),
        ("pypi_simple_digest_mismatch", "validation", "pypi-simple124", "DigestMismatchError", mirror_download),
        ("pkginfo_wheel_missing", "filesystem", "pkginfo124", "ValueError",
         lambda: pkginfo.Wheel(str(f.root / "dist" / "ledger_sync-1.0.0-py3-none-any.whl"))),
        ("setuptools_scm_get_version_no_git", "git", "setuptools-scm124", "LookupError",
         lambda: get_version(root=str(f.root / "edge-gateway"))),
    ]


def blind124_records(env: Env) -> list[Record]:
    f = prepare(env)
    out = python_records(_python_cases(env, f))
    for source, cases in (("setuptools124", _setuptools(f)), ("wheel124", _wheel(f)),
                          ("installer124", _installer(f)), ("pipx124", _pipx(f)),
                          ("pip-audit124", _pip_audit(env, f)), ("pipdeptree124", _pipdeptree(f)),
                          ("validate-pyproject124", _validate_pyproject(f)),
                          ("check-manifest124", _check_manifest(f)), ("setuptools-scm124", _setuptools_scm(f)),
                          ("flit124", _flit(f)), ("maturin124", _maturin(f)),
                          ("scikit-build-core124", _scikit_build(f)), ("pypiserver124", _pypiserver(f))):
        out += tool_records(cases, source, env.tmp, timeout=180)
    return out


if __name__ == "__main__":
    write_batch(blind124_records)


__all__ = ["BLIND124_SOURCES", "blind124_records"]
