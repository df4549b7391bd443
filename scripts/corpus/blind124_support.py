"""Fixtures of the hundred-and-twenty-fourth batch: small Python projects each broken in one way (a setup.py with a
bug, a malformed setup.cfg or pyproject.toml, a missing package directory or README, a flit module without a
docstring, a maturin crate that does not compile, a scikit-build-core project whose C does not compile), real
wheels built here (one tampered after its RECORD was written, one that is not a zip), git repositories for
check-manifest, a real pypiserver that demands a password, a small PEP 503 index of our own (a repository version
from the future, a file whose digest does not match), a full and a read-only tmpfs. The packaging tools live in
the batch's own venv (/tmp/recoup-corpus-124: setuptools, wheel, installer, pkginfo, pipx, pip-audit, pipdeptree,
validate-pyproject, check-manifest, setuptools-scm, flit, maturin, scikit-build-core, pypi-simple, pypiserver)."""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port, git_env, run
from servers import mount_tmpfs, serve_http

#: the batch's own venv: installing these into the project venv would change its setuptools and friends
VENV_BIN = Path("/tmp/recoup-corpus-124/bin")
PY = str(VENV_BIN / "python")
INDEX_USER, INDEX_PASSWORD = "ci-deploy", "wh33l-upload-2026"
BUILD_WHEEL = {
    "setuptools": "from setuptools import build_meta as backend; backend.build_wheel('dist')",
    "flit": "from flit_core import buildapi as backend; backend.build_wheel({out!r})",
    "skbuild": "from scikit_build_core.build import build_wheel; build_wheel('dist')",
}

SETUPTOOLS_SYSTEM = '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
FLIT_SYSTEM = '[build-system]\nrequires = ["flit_core>=3.9,<5"]\nbuild-backend = "flit_core.buildapi"\n\n'
MATURIN_SYSTEM = '[build-system]\nrequires = ["maturin>=1.5,<2.0"]\nbuild-backend = "maturin"\n\n'
SKBUILD_SYSTEM = '[build-system]\nrequires = ["scikit-build-core>=0.10"]\nbuild-backend = "scikit_build_core.build"\n\n'

PROJECTS: dict[str, dict[str, str]] = {
    "orders-api": {
        "pyproject.toml": SETUPTOOLS_SYSTEM + '[project]\nname = "orders api"\nversion = "2.3.0"\n'
                          'requires-python = ">=3.9"\ndependencies = ["httpx>=0.27", "pydantic>=2,<3"]\n',
        "src/orders_api/__init__.py": '__version__ = "2.3.0"\n',
    },
    "billing-worker": {
        "setup.cfg": "[metadata]\nname = billing-worker\nversion = 1.4.2\n\n[options\npackages = find:\n"
                     "install_requires =\n    celery>=5.3\n",
        "setup.py": "from setuptools import setup\n\nsetup()\n",
        "billing/__init__.py": "",
    },
    "ledger-sync": {
        "setup.py": 'from setuptools import setup, find_packages\n\nwith open("requirements.txt") as fh:\n'
                    "    requirements = [line.strip() for line in fh if line.strip()]\n\n"
                    'setup(name="ledger-sync", version=VERSION, packages=find_packages(), '
                    "install_requires=requirements)\n",
        "requirements.txt": "requests>=2.31\nsqlalchemy>=2.0\n",
        "ledger/__init__.py": "",
    },
    "inventory-client": {
        "setup.py": 'from setuptools import setup\n\nsetup(name="inventory-client", version="0.9.1",\n'
                    '      packages=["inventory_client", "inventory_client.adapters"])\n',
    },
    "shipping-rates": {
        "setup.py": "from pathlib import Path\n\nfrom setuptools import find_packages, setup\n\n"
                    'setup(name="shipping-rates", version="3.1.0",\n'
                    '      long_description=Path("README.rst").read_text(encoding="utf-8"),\n'
                    "      packages=find_packages())\n",
        "shipping/__init__.py": "",
    },
    "notify-hub": {
        "setup.py": 'from setuptools import setup\n\nsetup(name="notify-hub", version="2.0 final", '
                    'packages=["notify"])\n',
        "notify/__init__.py": "",
    },
    "search-indexer": {
        "setup.py": "from setuptools import setup\n\nimport search\n\n"
                    'setup(name="search-indexer", version=search.__version__, packages=["search"])\n',
        "search/__init__.py": '"""Search indexer."""\n',
    },
    "telemetry-agent": {
        "setup.py": 'from setuptools import setup\n\nsetup(name="telemetry-agent", version="1.8.0", '
                    'packages=["telemetry"])\n',
        "telemetry/__init__.py": '"""Telemetry agent."""\n',
    },
    "billing-core": {
        "pyproject.toml": SETUPTOOLS_SYSTEM + '[project]\nname = "billing-core"\nversion = "2.0.1"\n',
        "src/billing/__init__.py": "",
        "src/billing/templates/invoice.html": "<p>{{ total }}</p>\n",
        "CHANGELOG.md": "# Changelog\n\n## 2.0.1\n- fix rounding of VAT\n",
    },
    "billing-legacy": {
        "setup.py": "from setuptools import setup\n\nsetup(name='billing-legacy', version=read_version(), "
                    "packages=['billing'])\n",
        "billing/__init__.py": "",
    },
    "edge-gateway": {
        "pyproject.toml": SETUPTOOLS_SYSTEM.replace('"setuptools>=68"', '"setuptools>=68", "setuptools-scm>=8"')
                          + '[project]\nname = "edge-gateway"\ndynamic = ["version"]\n\n'
                          '[tool.setuptools_scm]\nversion_file = "src/gateway/_version.py"\n',
        "src/gateway/__init__.py": "",
    },
    "edge-gateway-calver": {
        "pyproject.toml": SETUPTOOLS_SYSTEM.replace('"setuptools>=68"', '"setuptools>=68", "setuptools-scm>=8"')
                          + '[project]\nname = "edge-gateway"\ndynamic = ["version"]\n\n'
                          '[tool.setuptools_scm]\nversion_scheme = "calver-by-week"\n',
        "src/gateway/__init__.py": "",
    },
    "quota-client-nodoc": {
        "pyproject.toml": FLIT_SYSTEM + '[project]\nname = "quota_client"\ndynamic = ["version", "description"]\n',
        "quota_client/__init__.py": 'VERSION = "1.0"\n__version__ = VERSION\n',
    },
    "quota-client-import": {
        "pyproject.toml": FLIT_SYSTEM + '[project]\nname = "quota_client"\ndynamic = ["version", "description"]\n',
        "quota_client/__init__.py": '"""Client for the quota service."""\nfrom .http import Session\n\n'
                                    "__version__ = Session.VERSION\n",
    },
    "quota-client-version": {
        "pyproject.toml": FLIT_SYSTEM + '[project]\nname = "quota_client"\ndynamic = ["version", "description"]\n',
        "quota_client/__init__.py": '"""Client for the quota service."""\n__version__ = "2.0-beta.x"\n',
    },
    "quota-client": {
        "pyproject.toml": FLIT_SYSTEM + '[project]\nname = "quota_client"\nversion = "1.0.0"\n'
                          'description = "Client for the quota service"\n',
        "quota_client/__init__.py": '"""Client for the quota service."""\n',
        "quota_client/tables.py": "RATES = " + repr([f"tier-{i:05d}" for i in range(6000)]) + "\n",
    },
    "fastcsv": {
        "pyproject.toml": MATURIN_SYSTEM + '[project]\nname = "fastcsv"\nversion = "0.4.0"\n',
    },
    "logscan": {
        "Cargo.toml": '[package]\nname = "logscan"\nversion = "0.3.2"\nedition = "2021"\n\n[dependencies]\n',
        "pyproject.toml": MATURIN_SYSTEM + '[project]\nname = "logscan"\nrequires-python = ">=3.9"\n'
                          'dynamic = ["version"]\n\n[tool.maturin]\nbindings = "bin"\n',
        "src/main.rs": "use std::env;\n\nfn main() {\n    let args: Vec<String> = env::args().collect();\n"
                       "    let limit: usize = args.get(1).map(|s| s.parse().unwrap_or(100)).unwrap_or(100);\n"
                       '    println!("{}", count_logs(&args[1..], limit));\n}\n\n'
                       "fn count_logs(paths: &[String], limit: usize) -> usize {\n"
                       '    paths.iter().filter(|p| p.ends_with(".log")).count().min(limit)\n}\n',
    },
    "ratelimit": {
        "Cargo.toml": '[package]\nname = "ratelimit"\nversion = "0.2.0"\nedition = "2021"\n\n[dependencies]\n',
        "pyproject.toml": MATURIN_SYSTEM + '[project]\nname = "ratelimit-cli"\nrequires-python = ">=3.9"\n'
                          'dynamic = ["version"]\n\n[tool.maturin]\nbindings = "bin"\n',
        "src/main.rs": "use std::env;\n\nfn main() {\n    let args: Vec<String> = env::args().collect();\n"
                       "    let burst: u32 = args.get(1).map(|s| s.parse().unwrap_or(10)).unwrap_or(10);\n"
                       '    println!("{}", tokens(&args[2..], burst));\n}\n\n'
                       "fn tokens(keys: &[String], burst: u32) -> usize {\n"
                       "    keys.len() * burst\n}\n",
    },
    "logscan-bindings": {
        "Cargo.toml": '[package]\nname = "logscan"\nversion = "0.3.2"\nedition = "2021"\n\n[dependencies]\n',
        "pyproject.toml": MATURIN_SYSTEM + '[project]\nname = "logscan"\nrequires-python = ">=3.9"\n'
                          'dynamic = ["version"]\n\n[tool.maturin]\nbindings = "pyo4"\n',
        "src/main.rs": "fn main() {}\n",
    },
    "geohash-fast": {
        "pyproject.toml": SKBUILD_SYSTEM + '[project]\nname = "geohash-fast"\nversion = "0.6.1"\n\n'
                          '[tool.scikit-build]\nwheel.packages = ["src/geohash_fast"]\n',
        "src/geohash_fast/__init__.py": "",
    },
    "geohash-fast-c": {
        "pyproject.toml": SKBUILD_SYSTEM + '[project]\nname = "geohash-fast"\nversion = "0.6.1"\n\n'
                          '[tool.scikit-build]\nwheel.packages = ["src/geohash_fast"]\n',
        "src/geohash_fast/__init__.py": "",
        "CMakeLists.txt": "cmake_minimum_required(VERSION 3.15)\nproject(${SKBUILD_PROJECT_NAME} LANGUAGES C)\n"
                          "add_library(_core MODULE src/core.c)\nset_target_properties(_core PROPERTIES PREFIX \"\")\n"
                          "install(TARGETS _core DESTINATION geohash_fast)\n",
        "src/core.c": '#include <stddef.h>\n\nstatic const char BASE32[] = "0123456789bcdefghjkmnpqrstuvwxyz";\n\n'
                      "int geohash_encode(double lat, double lon, char *out, size_t precision) {\n"
                      "    for (size_t i = 0; i < precision; i++) {\n"
                      "        out[i] = BASE32[(int)(lat * lon) % 32]\n    }\n"
                      "    out[precision] = '\\0';\n    return 0;\n}\n",
    },
    "geohash-fast-typo": {
        "pyproject.toml": SKBUILD_SYSTEM + '[project]\nname = "geohash-fast"\nversion = "0.6.1"\n\n'
                          '[tool.scikit-build.cmake]\nbuild-typ = "Release"\n',
        "CMakeLists.txt": "cmake_minimum_required(VERSION 3.15)\nproject(${SKBUILD_PROJECT_NAME} LANGUAGES C)\n",
    },
    "geohash-fast-minver": {
        "pyproject.toml": SKBUILD_SYSTEM + '[project]\nname = "geohash-fast"\nversion = "0.6.1"\n\n'
                          '[tool.scikit-build]\nminimum-version = "latest-stable"\n',
        "CMakeLists.txt": "cmake_minimum_required(VERSION 3.15)\nproject(${SKBUILD_PROJECT_NAME} LANGUAGES C)\n",
    },
    "audit": {
        "requirements.txt": "telemetry-agent==1.8.0\n",
        "requirements-web.txt": "requests>=2.31\nflask[async]>=3.0,,\ngunicorn>=22\n",
        "pyproject.toml": '[project]\nname = "warehouse-portal"\nversion = "5.2.0"\n'
                          'dependencies = ["requests>=2", "urllib3 ~= 2"]\nlicense =\n',
    },
    "inventory-sync": {
        "pyproject-authors.toml": SETUPTOOLS_SYSTEM + '[project]\nname = "inventory-sync"\nversion = "1.4.0"\n'
                                  'requires-python = ">=3.10"\n'
                                  'authors = [{name = "Platform Team", mail = "platform@acme-logistics.io"}]\n',
        "pyproject-scripts.toml": '[project]\nname = "inventory-sync"\nversion = "1.4.0"\n\n[project.scripts]\n'
                                  'inventory-sync = "inventory_sync.cli:main()"\n',
    },
}


@dataclass
class Fixtures:
    """Paths and ports of the batch."""

    root: Path
    full: Path
    ro: Path
    wheel: Path
    not_a_zip: Path
    tampered: Path
    index: str
    fake_index: str
    fake_wheel: str


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _commit(repo: Path) -> None:
    genv = git_env("124")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "Release prep"]):
        run(["git", *args], cwd=repo, env=genv)


def _build_wheel(root: Path) -> Path:
    project = root / "telemetry-agent"
    (project / "telemetry" / "geo_table.py").write_text(
        "CELLS = " + repr([hashlib.sha256(str(i).encode()).hexdigest() for i in range(3000)]) + "\n")
    run([PY, "setup.py", "-q", "bdist_wheel", "-d", str(root / "wheels")], cwd=project, timeout=120)
    return next((root / "wheels").glob("telemetry_agent-*.whl"))


def _tamper(wheel: Path, target: Path) -> None:
    """The same wheel with one module changed after RECORD was written."""
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(target, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "telemetry/__init__.py":
                data = b'"""Telemetry agent."""\n__version__ = "1.8.1"\n'
            out.writestr(info, data)


class _FakeIndex(http.server.BaseHTTPRequestHandler):
    """`/v2/simple/P/`: a page of a repository version we do not support; `/mirror/simple/P/`: a link whose sha256
    fragment does not match the file served at `/mirror/files/`."""

    wheel: bytes = b""
    name: str = ""

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path.startswith("/v2/simple/"):
            body = ('<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="2.0">'
                    f'</head><body><a href="/files/{self.name}">{self.name}</a></body></html>').encode()
            kind = "text/html"
        elif self.path.startswith("/mirror/simple/"):
            wrong = hashlib.sha256(b"stale mirror copy").hexdigest()
            body = ('<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.0"></head><body>'
                    f'<a href="/mirror/files/{self.name}#sha256={wrong}">{self.name}</a></body></html>').encode()
            kind = "text/html"
        else:
            body, kind = self.wheel, "application/octet-stream"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _fake_index(env: Env, wheel: Path) -> str:
    handler = type("FakeIndex124", (_FakeIndex,), {"wheel": wheel.read_bytes(), "name": wheel.name})
    return f"http://127.0.0.1:{serve_http(env, handler)}"


def _pypiserver(env: Env, packages: Path) -> str:
    """A real pypiserver that wants a password for listing and downloads."""
    from passlib.apache import HtpasswdFile

    htpasswd = env.tmp / "htpasswd-124"
    users = HtpasswdFile(str(htpasswd), new=True)
    users.set_password(INDEX_USER, INDEX_PASSWORD)
    users.save()
    port = free_port()
    proc = subprocess.Popen([str(VENV_BIN / "pypi-server"), "run", "-p", str(port), "-i", "127.0.0.1", "-P",
                             str(htpasswd), "-a", "update,download,list", str(packages)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(proc.wait)
    env._closers.append(proc.terminate)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return f"http://127.0.0.1:{port}"


def _strip_pip_config() -> None:
    """The tools' pip must see only the indexes named on their command line, and retry once."""
    for name in ("PIP_FIND_LINKS", "PIP_CERT", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_CONSTRAINT"):
        os.environ.pop(name, None)
    os.environ["PIP_CONFIG_FILE"] = os.devnull
    os.environ["PIP_RETRIES"] = "1"


def prepare(env: Env) -> Fixtures:
    root = env.tmp / "pkg124"
    root.mkdir()
    for name, files in PROJECTS.items():
        _tree(root / name, files)
    for name in ("billing-core", "billing-legacy", "edge-gateway-calver"):
        _commit(root / name)
    wheel = _build_wheel(root)
    not_a_zip = root / "wheels" / "billing_worker-2.1.0-py3-none-any.whl"
    not_a_zip.write_bytes(b"<html><body><h1>502 Bad Gateway</h1></body></html>\n" * 60)
    tampered = root / "tampered" / wheel.name
    tampered.parent.mkdir()
    _tamper(wheel, tampered)
    packages = root / "index-packages"
    packages.mkdir()
    (packages / wheel.name).write_bytes(wheel.read_bytes())
    full = mount_tmpfs(env, "build-cache124", "size=64k")
    (full / "filler.bin").write_bytes(b"\0" * 60 * 1024)
    ro = mount_tmpfs(env, "release-share124", "size=256k")
    (ro / "dist").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    _strip_pip_config()
    os.environ["PIPX_HOME"] = str(root / "pipx-home")
    os.environ["PIPX_BIN_DIR"] = str(root / "pipx-bin")
    os.environ["CARGO_TARGET_DIR"] = str(root / "cargo-target")
    return Fixtures(root, full, ro, wheel, not_a_zip, tampered, _pypiserver(env, packages), _fake_index(env, wheel),
                    wheel.name)


__all__ = ["BUILD_WHEEL", "INDEX_PASSWORD", "INDEX_USER", "PY", "VENV_BIN", "Fixtures", "prepare"]
