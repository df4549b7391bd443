"""Thirty-seventh batch of blind provokers: CI and developer tools as a CI job prints them (stdout and stderr
together). ansible-playbook on a local inventory (missing copy/template sources, a playbook with a YAML error,
an undefined variable, a command on a missing path, `uri`/`get_url` against local servers answering 401/403/
429/502/503, refusing, resetting, hanging or speaking plain HTTP to TLS, an ssh host on a closed port, unknown
module parameters, a full and a read-only tmpfs, vars files with bad YAML or a wrong vault password, bad JSON
in a filter, the git module asked for a missing version); uv (an index answering 401/403/429/503, refusing or
hanging, bad requirement syntax, broken pyproject.toml and inline script metadata, missing files, scripts
that raise, a wheel bigger than a tmpfs, a venv on a read-only mount); tox (a broken tox.ini, test commands
failing on a missing file, a defect or a smoke test answered 503, deps from an index that refuses); pytest (collection
errors, fixtures hitting closed, hanging, 401 and 503 endpoints, a password-protected Redis, a missing file, a
full disk, a broken pyproject.toml); pre-commit (invalid configs, hook repositories refused or answering
401/503, missing hook files, a directory that is not a git repository). Only 127.0.0.1."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from blind37_support import GIT_ENV, build_wheel, git_repo, tool_environment, write_playbook, write_tree
from checked import ToolCase, tool_records
from cloudapi import cloud_api
from common import Env, Record, run, write_batch
from servers import mount_tmpfs, private_redis

BLIND37_SOURCES = frozenset({"ansible37", "uv37", "tox37", "pytest37", "precommit37"})
_REDIS_PW = "ci37-redis-secret"

# --------------------------------------------------------------------------- ansible

_INVENTORY = """[local]
box37 ansible_connection=local ansible_python_interpreter=PYTHON

[web]
web37 ansible_host=127.0.0.1 ansible_port=CLOSED ansible_connection=ssh ansible_user=deploy
"""

#: name, category, expected token, task list (four-space indent), hosts
_PLAYS: list[tuple[str, str, str, str, str]] = [
    ("copy_src_missing", "filesystem", "Could not find or access",
     "    - name: install nginx config\n      ansible.builtin.copy:\n        src: files/nginx37.conf\n"
     "        dest: TMP/ansible37/out/nginx.conf\n", "local"),
    ("template_src_missing", "filesystem", "Could not find or access",
     "    - name: render app env\n      ansible.builtin.template:\n        src: templates/app37.env.j2\n"
     "        dest: TMP/ansible37/out/app.env\n", "local"),
    ("undefined_variable", "programming", "is undefined",
     "    - name: create release dir\n      ansible.builtin.file:\n"
     "        path: \"TMP/ansible37/out/{{ release_tag }}\"\n        state: directory\n", "local"),
    ("command_missing_path", "filesystem", "No such file",
     "    - name: list current release\n      ansible.builtin.command: ls TMP/ansible37/releases/current\n", "local"),
    ("unsupported_parameter", "programming", "Unsupported parameters",
     "    - name: fix release dir ownership\n      ansible.builtin.file:\n        path: TMP/ansible37/out\n"
     "        state: directory\n        recursive: true\n", "local"),
    ("copy_disk_full", "resource", "No space left",
     "    - name: ship artifact\n      ansible.builtin.copy:\n        src: TMP/ansible37/artifact37.bin\n"
     "        dest: DISK/artifact37.bin\n", "local"),
    ("file_read_only", "filesystem", "Read-only",
     "    - name: create releases dir\n      ansible.builtin.file:\n        path: RODIR/releases\n"
     "        state: directory\n", "local"),
    ("wait_for_closed_port", "network", "Timeout when waiting",
     "    - name: wait for api\n      ansible.builtin.wait_for:\n        host: 127.0.0.1\n        port: CLOSED\n"
     "        timeout: 2\n", "local"),
    ("include_vars_bad_yaml", "validation", "while parsing|Syntax Error",
     "    - name: load prod vars\n      ansible.builtin.include_vars:\n        file: vars/prod37.yml\n", "local"),
    ("vault_wrong_password", "auth", "Decryption failed",
     "    - name: load secrets\n      ansible.builtin.include_vars:\n        file: vars/secrets37.yml\n", "local"),
    ("from_json_bad", "validation", "Expecting",
     "    - name: parse release manifest\n      ansible.builtin.set_fact:\n"
     "        manifest: \"{{ '{\\\"replicas\\\": 3,}' | from_json }}\"\n", "local"),
    ("git_missing_version", "git", "Failed to checkout|did not match|unknown revision",
     "    - name: checkout app\n      ansible.builtin.git:\n        repo: file://TMP/ansible37/app37.git\n"
     "        dest: TMP/ansible37/checkout\n        version: release-9.9\n", "local"),
    ("ssh_unreachable", "network", "UNREACHABLE",
     "    - name: ping web\n      ansible.builtin.ping:\n", "web"),
]

_URI = "    - name: call api\n      ansible.builtin.uri:\n        url: {url}\n        timeout: 3\n"
_GET_URL = ("    - name: fetch artifact\n      ansible.builtin.get_url:\n        url: {url}\n"
            "        dest: TMP/ansible37/out/app37.tar.gz\n        timeout: 3\n")
_HTTP_PLAYS: list[tuple[str, str, str, str, str]] = [
    ("uri_401", "auth", "Unauthorized", _URI, "API/gh401/user"),
    ("uri_403", "auth", "Forbidden", _URI, "API/gcp403/v1/projects/ci37"),
    ("uri_429", "resource", "Too Many Requests", _URI, "API/gcp429/v1/projects/ci37/releases"),
    ("uri_503", "service", "Service Unavailable", _URI, "API/gcp503/v1/status"),
    ("uri_502", "service", "Bad Gateway", _URI, "API/nginx502/healthz"),
    ("uri_refused", "network", "refused", _URI, "http://127.0.0.1:CLOSED/healthz"),
    ("uri_reset", "network", "reset|Remote end closed|Connection aborted", _URI, "http://127.0.0.1:RESET/healthz"),
    ("uri_timeout", "network", "timed out", _URI, "http://127.0.0.1:HANG/healthz"),
    ("uri_tls_to_plain", "network", "SSL|wrong version", _URI, "https://127.0.0.1:HTTPPORT/status/200"),
    ("get_url_403", "auth", "Forbidden", _GET_URL, "API/s3denied/releases/app37.tar.gz"),
    ("get_url_503", "service", "Service Unavailable", _GET_URL, "API/reg503/releases/app37.tar.gz"),
]

_SYNTAX_PLAYBOOK = """- name: ci37 deploy
  hosts: local
  gather_facts: false
  tasks:
    - name: restart app
      ansible.builtin.command: systemctl restart app37
     notify: reload proxy
"""

_PROD_VARS_BAD = "app_port: 8080\nreplicas: [1, 2\nimage: registry.local/app37:1.4\n"


def _ansible_cases() -> list[ToolCase]:
    cases: list[ToolCase] = []
    for name, category, token, _tasks, _hosts in _PLAYS:
        extra = " --vault-password-file vault-wrong.txt" if name == "vault_wrong_password" else ""
        cases.append((f"ansible_{name}", category, token,
                      f"cd TMP/ansible37 && ansible-playbook -i inventory.ini{extra} {name}.yml 2>&1"))
    for name, category, token, _tasks, _url in _HTTP_PLAYS:
        cases.append((f"ansible_{name}", category, token,
                      f"cd TMP/ansible37 && ansible-playbook -i inventory.ini {name}.yml 2>&1"))
    cases.append(("ansible_playbook_yaml_error", "validation", "while parsing|Syntax Error",
                  "cd TMP/ansible37 && ansible-playbook -i inventory.ini deploy37.yml 2>&1"))
    return cases


def _prepare_ansible(tmp: Path, fill_: Callable[[str], str]) -> None:
    root = tmp / "ansible37"
    (root / "out").mkdir(parents=True)
    (root / "inventory.ini").write_text(fill_(_INVENTORY))
    for name, _category, _token, tasks, hosts in _PLAYS:
        write_playbook(root, name, fill_(tasks), hosts)
    for name, _category, _token, template, url in _HTTP_PLAYS:
        write_playbook(root, name, fill_(template.format(url=url)))
    (root / "deploy37.yml").write_text(_SYNTAX_PLAYBOOK)
    (root / "artifact37.bin").write_bytes(os.urandom(600_000))
    write_tree(root, {"vars/prod37.yml": _PROD_VARS_BAD, "vault-right.txt": "ci37-vault-right\n",
                      "vault-wrong.txt": "ci37-vault-wrong\n",
                      "vars/secrets37.yml": "db_password: s3cr3t-ci37\napi_token: tok-ci37\n"})
    run(["ansible-vault", "encrypt", "--vault-password-file", "vault-right.txt", "vars/secrets37.yml"], cwd=root)
    git_repo(tmp / "app37-src", {"README.md": "app37\n"}, bare_clone=root / "app37.git")


# --------------------------------------------------------------------------- uv

_UV_INSTALL = "cd TMP/uv37 && uv pip install --python TMP/uv37/venv --index-url {index} {req} 2>&1"
_UV: list[ToolCase] = [
    ("uv_index_401", "auth", "Unauthorized", _UV_INSTALL.format(index="API/reg401/simple", req="httpx")),
    ("uv_index_403", "auth", "Forbidden", _UV_INSTALL.format(index="API/s3denied/simple", req="boto3")),
    ("uv_index_429", "resource", "Too Many Requests", _UV_INSTALL.format(index="API/gcp429/simple", req="numpy")),
    ("uv_index_503", "service", "Service Unavailable", _UV_INSTALL.format(index="API/gcp503/simple", req="django")),
    ("uv_index_refused", "network", "refused", _UV_INSTALL.format(index="http://127.0.0.1:CLOSED/simple",
                                                                           req="requests")),
    ("uv_index_timeout", "network", "timed out", _UV_INSTALL.format(index="http://127.0.0.1:HANG/simple",
                                                                           req="flask")),
    ("uv_requirement_syntax", "validation", "Couldn't parse|Expected",
     _UV_INSTALL.format(index="http://127.0.0.1:CLOSED/simple", req="-r requirements-bad.txt")),
    ("uv_requirements_missing", "filesystem", "not found|No such file",
     _UV_INSTALL.format(index="http://127.0.0.1:CLOSED/simple", req="-r requirements-ci.txt")),
    ("uv_pyproject_toml", "validation", "TOML parse error", "cd TMP/uvproj37 && uv lock 2>&1"),
    ("uv_script_metadata", "validation", "TOML parse error", "cd TMP/uv37 && uv run --no-project "
     "inline37.py 2>&1"),
    ("uv_run_raises", "programming", "KeyError", "cd TMP/uv37 && uv run --no-project report37.py 2>&1"),
    ("uv_run_missing_script", "filesystem", "No such file", "cd TMP/uv37 && uv run --no-project "
     "scripts/migrate37.py 2>&1"),
    ("uv_target_disk_full", "resource", "No space left", "cd TMP/uv37 && uv pip install --no-index --find-links "
     "TMP/uv37/wheels --target DISK/site assets37 2>&1"),
    ("uv_venv_read_only", "filesystem", "Read-only", "cd TMP/uv37 && uv venv RODIR/venv 2>&1"),
]

_REPORT_SCRIPT = """import json

totals = {"eu-west": 12, "us-east": 30}
regions = json.loads('["eu-west", "ap-south"]')
for region in regions:
    print(region, totals[region])
"""

_INLINE_SCRIPT = """# /// script
# requires-python = ">=3.9"
# dependencies = [
#   "requests<3"
#   "rich",
# ]
# ///
print("sync")
"""


def _prepare_uv(tmp: Path) -> None:
    root = tmp / "uv37"
    write_tree(root, {"requirements-bad.txt": "requests>=2.31,<<3\nrich==13.*\n", "report37.py": _REPORT_SCRIPT,
                      "inline37.py": _INLINE_SCRIPT})
    build_wheel(root / "wheels", "assets37", "1.0", 600_000)
    run(["uv", "venv", "-q", str(root / "venv")], cwd=root)
    write_tree(tmp / "uvproj37", {"pyproject.toml": '[project]\nname = "svc37"\nversion = "0.1.0"\n'
                                  'dependencies = ["httpx>=0.27", "pydantic>=2"\nrequires-python = ">=3.10"\n'})


# --------------------------------------------------------------------------- tox

_TOX_BASE = "[tox]\nenv_list = py\nno_package = true\n\n[testenv]\n"
_TOX: dict[str, tuple[str, str, str]] = {
    "tox_ini_broken": ("validation", "File contains|parsing errors",
                       "[tox\nenv_list = py, lint\n\n[testenv]\ncommands = pytest\n"),
    "tox_missing_fixture": ("filesystem", "No such file",
                            _TOX_BASE + "commands = python -c \"open('fixtures/seed37.json').read()\"\n"),
    "tox_command_defect": ("programming", "AttributeError",
                           _TOX_BASE + "commands = python -c \"cfg = None; print(cfg.endpoint)\"\n"),
    "tox_smoke_503": ("service", "Service Unavailable",
                      _TOX_BASE + "commands = python -c \"import urllib.request; urllib.request.urlopen("
                      "'API/gcp503/v1/status', timeout=3)\"\n"),
    "tox_deps_refused": ("network", "refused", _TOX_BASE + "deps = requests37-client\n"
                         "commands = python -V\nset_env = PIP_INDEX_URL=http://127.0.0.1:CLOSED/simple\n"),
}


# --------------------------------------------------------------------------- pytest

_PYTEST: dict[str, tuple[str, str, dict[str, str]]] = {
    "pytest_import_error": ("programming", "ImportError|ModuleNotFoundError", {
        "test_orders.py": "from orders37.pricing import compute_total\n\n\ndef test_total():\n"
                          "    assert compute_total([1, 2]) == 3\n"}),
    "pytest_syntax_error": ("programming", "SyntaxError", {
        "test_parse.py": "def test_parse(:\n    assert True\n"}),
    "pytest_conftest_name_error": ("programming", "NameError", {
        "conftest.py": "import pytest\n\n\n@pytest.fixture\ndef settings():\n    return Settings(env='ci')\n",
        "test_settings.py": "def test_env(settings):\n    assert settings.env == 'ci'\n"}),
    "pytest_fixture_refused": ("network", "refused", {
        "test_api.py": "import socket\n\nimport pytest\n\n\n@pytest.fixture\ndef api():\n"
                       "    return socket.create_connection(('127.0.0.1', CLOSED), timeout=3)\n\n\n"
                       "def test_health(api):\n    api.sendall(b'GET /healthz HTTP/1.0\\r\\n\\r\\n')\n"}),
    "pytest_fixture_timeout": ("network", "timed out|timeout", {
        "test_feed.py": "import urllib.request\n\n\ndef test_feed():\n"
                        "    urllib.request.urlopen('http://127.0.0.1:HANG/feed', timeout=1).read()\n"}),
    "pytest_fixture_503": ("service", "Service Unavailable", {
        "test_status.py": "import urllib.request\n\nimport pytest\n\n\n@pytest.fixture(scope='session')\n"
                          "def status():\n    return urllib.request.urlopen('API/gcp503/v1/status', timeout=3).read()"
                          "\n\n\ndef test_ready(status):\n    assert b'ready' in status\n"}),
    "pytest_fixture_401": ("auth", "Unauthorized", {
        "test_repos.py": "import urllib.request\n\n\ndef test_list_repos():\n    req = urllib.request.Request("
                         "'API/gh401/user/repos', headers={'Authorization': 'token ghp_ci37'})\n"
                         "    urllib.request.urlopen(req, timeout=3).read()\n"}),
    "pytest_redis_noauth": ("auth", "NOAUTH|Authentication|AuthenticationError", {
        "test_cache.py": "import redis\n\n\ndef test_cache_roundtrip():\n    r = redis.Redis(host='127.0.0.1', "
                         "port=REDISPORT, socket_timeout=3)\n    r.set('ci37:key', 'v')\n"}),
    "pytest_fixture_missing_file": ("filesystem", "No such file", {
        "test_seed.py": "import json\nfrom pathlib import Path\n\n\ndef test_seed():\n"
                        "    data = json.loads(Path('fixtures/seed37.json').read_text())\n    assert data\n"}),
    "pytest_disk_full": ("resource", "No space left", {
        "test_export.py": "def test_export():\n    with open('DISK/export37.csv', 'wb') as out:\n"
                          "        for _ in range(64):\n            out.write(b'x' * 65536)\n"}),
    "pytest_pyproject_invalid": ("validation", "Invalid|Unterminated|Expected|Illegal", {
        "pyproject.toml": "[tool.pytest.ini_options]\naddopts = \"-q\ntestpaths = [\"tests\"]\n",
        "test_ok.py": "def test_ok():\n    assert True\n"}),
}


# --------------------------------------------------------------------------- pre-commit

_PC_LOCAL = ("repos:\n  - repo: local\n    hooks:\n      - id: {id}\n        name: {id}\n        entry: {entry}\n"
             "        language: system\n        pass_filenames: false\n        always_run: true\n")
_PC_REMOTE = "repos:\n  - repo: {url}\n    rev: v1.2.0\n    hooks:\n      - id: check-yaml\n"
_PRECOMMIT: dict[str, tuple[str, str, str, bool]] = {
    "precommit_config_yaml": ("validation", "while parsing|could not find expected",
                              "repos:\n  - repo: local\n    hooks:\n    - id: lint\n      entry: [ruff\n", True),
    "precommit_config_schema": ("validation", "Missing required key",
                                "repos:\n  - repo: local\n    hooks:\n      - id: lint37\n        entry: ruff\n",
                                True),
    "precommit_hook_missing_script": ("filesystem", "No such file|can't open",
                                      _PC_LOCAL.format(id="check-migrations", entry="python scripts/check37.py"),
                                      True),
    "precommit_hook_missing_executable": ("filesystem", "Executable|not found",
                                          _PC_LOCAL.format(id="lint37", entry="lint37-ci --strict"), True),
    "precommit_repo_refused": ("network", "refused|Failed to connect",
                               _PC_REMOTE.format(url="http://127.0.0.1:CLOSED/hooks37.git"), True),
    "precommit_repo_401": ("auth", "Authentication failed|could not read Username",
                           _PC_REMOTE.format(url="API/gh401/org/hooks37.git"), True),
    "precommit_repo_503": ("service", "error: 503", _PC_REMOTE.format(url="API/gcp503/org/hooks37.git"), True),
    "precommit_not_git_repo": ("git", "git failed|not a git repository",
                               _PC_LOCAL.format(id="lint37", entry="true"), False),
}


# --------------------------------------------------------------------------- batch

def blind37_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    disk = mount_tmpfs(env, "disk37", "size=256k")
    ro = mount_tmpfs(env, "ro37", "size=64k,ro")
    redis_port = private_redis(env, "--requirepass", _REDIS_PW)
    tmp = env.tmp
    (tmp / "home").mkdir()
    os.environ.update(tool_environment(tmp))
    os.environ["HOME"] = str(tmp / "home")

    def fill(text: str) -> str:
        return (text.replace("API", api).replace("CLOSED", str(env.closed_port)).replace("HANG", str(env.hang_port))
                .replace("RESET", str(env.reset_port)).replace("HTTPPORT", str(env.http_port))
                .replace("REDISPORT", str(redis_port)).replace("DISK", str(disk)).replace("RODIR", str(ro))
                .replace("PYTHON", sys.executable).replace("TMP", str(tmp)))

    _prepare_ansible(tmp, fill)
    _prepare_uv(tmp)
    out = tool_records(_ansible_cases(), "ansible37", tmp, fill, timeout=60)
    out += tool_records(_UV, "uv37", tmp, fill, timeout=60)

    tox_cases: list[ToolCase] = []
    for name, (category, token, ini) in _TOX.items():
        write_tree(tmp / name, {"tox.ini": ini}, fill)
        tox_cases.append((name, category, token, f"cd TMP/{name} && tox -q 2>&1"))
    out += tool_records(tox_cases, "tox37", tmp, fill, timeout=90)

    pytest_cases: list[ToolCase] = []
    for name, (category, token, files) in _PYTEST.items():
        write_tree(tmp / name, files, fill)
        pytest_cases.append((name, category, token, f"cd TMP/{name} && pytest -p no:cacheprovider 2>&1"))
    out += tool_records(pytest_cases, "pytest37", tmp, fill, timeout=60)

    pc_cases: list[ToolCase] = []
    for name, (category, token, config, in_git) in _PRECOMMIT.items():
        files = {".pre-commit-config.yaml": config, "app.py": "print('ci37')\n"}
        if in_git:
            git_repo(tmp / name, {k: fill(v) for k, v in files.items()})
        else:
            write_tree(tmp / name, files, fill)
        pc_cases.append((name, category, token, f"cd TMP/{name} && pre-commit run --all-files 2>&1"))
    out += tool_records(pc_cases, "precommit37", tmp, fill, timeout=60)
    time.sleep(0.1)
    return out


if __name__ == "__main__":
    write_batch(blind37_records)


__all__ = ["BLIND37_SOURCES", "GIT_ENV", "blind37_records"]
